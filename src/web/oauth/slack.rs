//! Sign in with Slack: OpenID Connect (scopes `openid profile`). The ID token's nonce and
//! audience are checked (it comes straight from Slack over TLS, so its signature need not be),
//! the workspace must be `[web.slack] team` when that is set, and the member must be in
//! `[slack] moderators`. The session is named by the Slack user id, as the chat names them.

use super::{
    Callback, Refused, call, callback_url, encode, http_client, new_state, not_set_up, required_secret, spend_state, to_provider, with_query,
};
use crate::config::Settings;
use crate::store::WebUser;
use crate::web::security::PeerAddr;
use crate::web::{Console, token};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;

const PROVIDER: &str = "slack";
const NAME: &str = "Slack";

/// `[web.slack]`, checked and ready.
pub struct SlackSignIn {
    client_id: String,
    client_secret: SecretString,
    team: Option<String>,
    authorize_url: String,
    api_url: String,
    http: reqwest::Client,
}

impl SlackSignIn {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Option<Self>> {
        let Some(web) = s.web.as_ref().and_then(|w| w.slack.as_ref()) else { return Ok(None) };
        let client_secret =
            required_secret(web.client_secret.as_ref(), "[web.slack] client_secret", "api.slack.com, your app, Basic Information, Client Secret")?;
        if s.slack.as_ref().is_none_or(|sl| sl.moderators.is_empty()) {
            tracing::warn!("[web.slack] is set, but [slack] moderators is empty or [slack] is not set: nobody can sign in with Slack");
        }
        Ok(Some(SlackSignIn {
            client_id: web.client_id.trim().to_string(),
            client_secret,
            team: web.team.as_ref().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            authorize_url: web.authorize_url.trim().to_string(),
            api_url: web.api_url.trim_end_matches('/').to_string(),
            http: http_client()?,
        }))
    }

    fn authorize(&self, state: &str, redirect_uri: &str) -> String {
        let mut query = format!(
            "response_type=code&scope=openid%20profile&client_id={}&state={}&nonce={}&redirect_uri={}",
            encode(&self.client_id),
            encode(state),
            encode(&nonce_for(state)),
            encode(redirect_uri)
        );
        if let Some(team) = &self.team {
            query.push_str(&format!("&team={}", encode(team)));
        }
        with_query(&self.authorize_url, &query)
    }

    /// The code exchanged, the ID token and the member checked: who signs in (the moderator
    /// rule is the caller's).
    async fn sign_in(&self, code: &str, state: &str, redirect_uri: &str) -> Result<WebUser, Refused> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        let token: TokenAnswer = call(PROVIDER, "token", self.http.post(format!("{}/openid.connect.token", self.api_url)).form(&form))
            .await
            .map_err(|_| unreachable_slack())?;
        if !token.ok {
            return Err(slack_error("token", token.error.as_deref()));
        }
        let (Some(access), Some(id_token)) = (token.access_token.filter(|t| !t.is_empty()), token.id_token) else {
            tracing::warn!(provider = PROVIDER, "Slack's token answer has no access or ID token");
            return Err(unreachable_slack());
        };
        let claims = id_claims(&id_token).ok_or_else(|| {
            tracing::warn!(provider = PROVIDER, "Slack's ID token cannot be read");
            unreachable_slack()
        })?;
        if claims.nonce.as_deref() != Some(nonce_for(state).as_str()) || !claims.aud.names(&self.client_id) {
            tracing::warn!(provider = PROVIDER, "Slack's ID token is not for this sign-in (nonce or audience)");
            return Err(Refused::upstream("Slack's answer was not for this sign-in: start again from this page."));
        }
        let me: UserInfo = call(PROVIDER, "userInfo", self.http.get(format!("{}/openid.connect.userInfo", self.api_url)).bearer_auth(&access))
            .await
            .map_err(|_| unreachable_slack())?;
        if !me.ok {
            return Err(slack_error("userInfo", me.error.as_deref()));
        }
        if let (Some(signed), Some(asked)) = (&claims.sub, &me.sub)
            && signed != asked
        {
            tracing::warn!(provider = PROVIDER, "Slack's userInfo names another member than its ID token");
            return Err(unreachable_slack());
        }
        let user_id = me.user_id.or(me.sub).unwrap_or_default();
        if user_id.is_empty() {
            tracing::warn!(provider = PROVIDER, "Slack's userInfo names no user");
            return Err(unreachable_slack());
        }
        if let Some(team) = &self.team
            && me.team_id.as_deref() != Some(team.as_str())
        {
            tracing::info!(provider = PROVIDER, user = %user_id, team = me.team_id.as_deref().unwrap_or("none"), "console sign-in from another Slack workspace refused");
            return Err(Refused::forbidden("You signed in to another Slack workspace than this community's: sign in with your account there."));
        }
        Ok(WebUser { platform: PROVIDER.into(), user_id: user_id.clone(), user_name: user_id })
    }
}

/// The nonce sent with `state`: derived from it, so the ID token can be checked against the
/// sign-in it answers without keeping anything more.
fn nonce_for(state: &str) -> String {
    token::hash(&format!("slack nonce {state}"))
}

fn unreachable_slack() -> Refused {
    Refused::upstream("Slack did not answer the sign-in as expected: try again in a moment, and tell the operator if it keeps failing.")
}

/// Slack said `ok: false`: its error code said (a short word), the cause logged.
fn slack_error(step: &str, error: Option<&str>) -> Refused {
    let error: String = error.unwrap_or("unknown").chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
    tracing::warn!(provider = PROVIDER, step, error = %error, "Slack refused a sign-in step");
    match error.as_str() {
        "invalid_code" | "code_already_used" | "code_expired" => {
            Refused::upstream("Slack did not accept this sign-in (the code was used or expired): start again from this page.")
        }
        "invalid_client_id" | "bad_client_secret" | "bad_redirect_uri" => {
            Refused::upstream("Slack refused the console's app settings (client id, secret or redirect address): tell the operator.")
        }
        _ => Refused::upstream(format!("Slack did not sign you in ({error}): try again, and tell the operator if it keeps failing.")),
    }
}

/// The claims of an ID token this sign-in reads (the middle of its three parts).
fn id_claims(jwt: &str) -> Option<IdClaims> {
    let mut parts = jwt.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[derive(Deserialize)]
struct TokenAnswer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct IdClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    aud: Audience,
}

/// `aud`: one client id, or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names(&self, client_id: &str) -> bool {
        match self {
            Audience::One(a) => a == client_id,
            Audience::Many(all) => all.iter().any(|a| a == client_id),
        }
    }
}

#[derive(Deserialize)]
struct UserInfo {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default, rename = "https://slack.com/user_id")]
    user_id: Option<String>,
    #[serde(default, rename = "https://slack.com/team_id")]
    team_id: Option<String>,
}

/// `GET /console/auth/slack`: off to Slack.
pub async fn begin(State(console): State<Arc<Console>>, peer: PeerAddr, headers: HeaderMap) -> Response {
    let Some(slack) = &console.slack else { return not_set_up(&console, NAME) };
    match new_state(&console, PROVIDER, &headers, peer).await {
        Ok(state) => to_provider(slack.authorize(&state, &callback_url(&console, PROVIDER))),
        Err(refused) => refused,
    }
}

/// `GET /console/auth/slack/callback`: back from Slack.
pub async fn callback(State(console): State<Arc<Console>>, peer: PeerAddr, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let Some(slack) = &console.slack else { return not_set_up(&console, NAME) };
    let q = Callback::parse(q.as_deref());
    let (code, state) = match spend_state(&console, PROVIDER, NAME, &headers, peer, q).await {
        Ok(got) => got,
        Err(refused) => return refused,
    };
    let user = match slack.sign_in(&code, &state, &callback_url(&console, PROVIDER)).await {
        Ok(user) => user,
        Err(refused) => return refused.page(&console),
    };
    if !console.moderators.allows(&user) {
        tracing::info!(provider = PROVIDER, user = %user.user_id, "console sign-in of a Slack member who is not a moderator refused");
        return Refused::forbidden("Your Slack account is not one of this community's moderators, so it cannot sign in to the console.")
            .page(&console);
    }
    crate::web::session::start(&console, user, PROVIDER).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!("{}.{}.{}", b64(br#"{"alg":"RS256"}"#), b64(claims.to_string().as_bytes()), b64(b"sig"))
    }

    #[test]
    fn id_tokens_are_read_and_their_audience_checked() {
        let c = id_claims(&jwt(serde_json::json!({"sub": "U1", "nonce": "n", "aud": "123.456"}))).unwrap();
        assert_eq!((c.sub.as_deref(), c.nonce.as_deref()), (Some("U1"), Some("n")));
        assert!(c.aud.names("123.456") && !c.aud.names("other"));
        let many = id_claims(&jwt(serde_json::json!({"aud": ["a", "123.456"]}))).unwrap();
        assert!(many.aud.names("123.456"));
        assert!(id_claims("not a token").is_none());
        assert!(id_claims("a.!!!.c").is_none());
        assert!(id_claims(&jwt(serde_json::json!({"sub": "U1"}))).is_none(), "no audience");
    }

    #[test]
    fn the_authorize_address_carries_state_nonce_and_team() {
        let s = SlackSignIn {
            client_id: "1.2".into(),
            client_secret: "x".to_string().into(),
            team: Some("T1".into()),
            authorize_url: "https://slack.com/openid/connect/authorize".into(),
            api_url: "https://slack.com/api".into(),
            http: reqwest::Client::new(),
        };
        let url = s.authorize("st", "https://h/console/auth/slack/callback");
        let expected = format!(
            "https://slack.com/openid/connect/authorize?response_type=code&scope=openid%20profile&client_id=1.2&state=st&nonce={}&redirect_uri=https%3A%2F%2Fh%2Fconsole%2Fauth%2Fslack%2Fcallback&team=T1",
            nonce_for("st")
        );
        assert_eq!(url, expected);
        assert_ne!(nonce_for("st"), nonce_for("su"));
    }
}
