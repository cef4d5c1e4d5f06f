//! GitHub: tickets become issues (the worker, over its REST API) and closed issues resolve their
//! tickets (the webhook). The core's side is `bot::github`.

pub mod client;
pub mod webhook;
pub mod worker;

pub use client::GithubClient;
