//! Logging. Readable lines by default, JSON with `--log-format json`. The bot logs ids, counts
//! and decisions; never message bodies or tokens.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (logs go to stderr, so stdout stays the bot's output).
pub fn init(format: LogFormat, level: &str) {
    // serenity wraps its REST calls in info-level spans whose fields hold the request, message
    // text included: below warn they stay off, so they never reach the log.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("{level},serenity=warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// An error with its causes, "outer: inner: root", for a log field (`%e` shows only the outer).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}
