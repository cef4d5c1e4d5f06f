//! supportbot: a self-hosted support bot for open-source communities.
//!
//! A map of the crate:
//! - [`domain`]: the rules, in plain Rust (question detection, FAQ ranking, tickets, commands).
//! - [`bot`]: [`bot::Bot`], the one door every channel goes through, and its use cases: the FAQ,
//!   tickets, commands, the digest and the scheduler of periodic jobs.
//! - [`store`]: the only place that speaks SQL (SQLite or PostgreSQL).
//! - [`chat`]: adapters that turn channels into events and send the bot's actions.
//! - [`semantic`]: the sentence-embedding model (no store, no FAQ).
//! - [`prompts`]: every sentence the bot says, as editable templates.
//! - [`chart`]: the digest's chart, drawn.
//! - [`eval`]: the measurement protocols (`supportbot eval`).
//! - [`config`], [`telemetry`], [`metrics`] (Prometheus), [`app`] (wiring), [`server`] (HTTP), [`cli`].
//! - [`faults`]: crash points for the fault-injection tests.

pub mod app;
pub mod bot;
pub mod chart;
pub mod chat;
pub mod cli;
pub mod config;
pub mod domain;
pub mod eval;
pub mod faults;
pub mod github;
pub mod metrics;
pub mod prompts;
pub mod semantic;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod web;
