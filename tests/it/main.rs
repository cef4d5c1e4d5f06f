//! One integration-test binary: each file is one behaviour, `helpers` builds bots and databases.

mod cli;
mod commands;
mod console;
mod conversation;
mod digest;
mod discord;
mod fake_discord;
mod fake_hub;
mod fake_slack;
mod helpers;
mod metrics;
mod replay;
mod restart;
mod semantic;
mod slack;
mod slack_ask;
mod storage;
