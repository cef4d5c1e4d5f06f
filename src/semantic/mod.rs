//! The sentence-embedding model, and only the model: loading and running it (`embedder`, `bert`,
//! `mpnet`, the `layers` they share, `int8`, `threads`), from a local directory or, opted into, from the Hugging Face hub through a
//! local cache (`hub`), or installed by hand (`install`). It knows no store and no FAQ: the bot
//! embeds and caches the FAQ's phrasings (`bot::faq`).

pub mod bert;
pub mod embedder;
pub mod hub;
pub mod install;
pub mod int8;
pub mod layers;
pub mod mpnet;
pub mod threads;

pub use embedder::Embedder;
