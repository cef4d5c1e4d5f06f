//! One integration-test binary: each file is one behaviour, `helpers` builds bots and databases.

mod cli;
mod commands;
mod console;
mod conversation;
mod decision;
mod delivery;
mod digest;
mod discord;
mod fake_discord;
mod fake_hub;
mod fake_slack;
mod faults;
mod helpers;
mod instances;
mod learning;
mod mentions;
mod metrics;
mod outage;
mod replay;
mod restart;
mod scheduler;
mod semantic;
mod shared_work;
mod slack;
mod slack_ask;
mod storage;
