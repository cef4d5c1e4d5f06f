//! Secrets the console hands out (session cookies, sign-in links, OAuth states, CSRF tokens):
//! 256 random bits from the OS, as URL-safe text; only their SHA-256 is ever stored.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A fresh unguessable token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equality that takes as long whatever the first difference (for the CSRF token).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_hashes_hide_them() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash(&a).len(), 64);
        assert!(!hash(&a).contains(&a));
        assert!(same(&a, &a.clone()) && !same(&a, &b) && !same(&a, &a[..42]));
    }
}
