//! Plain-Rust rules: no I/O, no clock, no SQL. Time and inputs come in as arguments.

pub mod bm25;
pub mod calibration;
pub mod cluster;
pub mod command;
pub mod decision;
pub mod digest;
pub mod faq;
pub mod faq_index;
pub mod github;
pub mod hours;
pub mod inert;
pub mod intake;
pub mod learning;
pub mod message;
pub mod privacy;
pub mod question;
pub mod queueing;
pub mod ranking;
pub mod responders;
pub mod schedule;
pub mod text;
pub mod tfidf;
pub mod ticket;
