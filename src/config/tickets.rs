//! `[tickets]`' timers: the SLA per priority, the business hours it counts in, and when a
//! ticket waiting on its asker is nudged and closed.

use crate::domain::hours::BusinessHours;
use crate::domain::ticket::Priority;
use crate::domain::ticket::assign::Responder;
use crate::domain::ticket::timers::{SlaTarget, TicketPolicy};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `[tickets.hours]`: when the community works. Unset: always (every minute counts).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HoursSettings {
    /// An IANA time zone, like "Europe/Berlin".
    pub timezone: String,
    /// Working weekdays: "mon" … "sun".
    pub days: Vec<String>,
    /// The working day, local time: "09:00" to "17:00" ("24:00" ends at midnight).
    pub open: String,
    pub close: String,
    /// Days off, like "2026-12-25".
    pub holidays: Vec<String>,
}

impl Default for HoursSettings {
    fn default() -> Self {
        HoursSettings {
            timezone: "UTC".into(),
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| d.to_string()).collect(),
            open: "00:00".into(),
            close: "24:00".into(),
            holidays: Vec::new(),
        }
    }
}

/// `[tickets.sla.<priority>]`: the targets of one priority, in working time.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaSettings {
    #[serde(with = "super::humantime_option")]
    pub first_response: Option<Duration>,
    #[serde(with = "super::humantime_option")]
    pub resolution: Option<Duration>,
}

/// `[[tickets.responders]]`: someone `ticket assign <id> auto` may pick.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponderSettings {
    /// As `ticket assign` names them.
    pub name: String,
    /// FAQ tags they know.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Active tickets they take at most.
    #[serde(default = "default_capacity")]
    pub capacity: usize,
    /// Their working hours (default: `[tickets.hours]`).
    pub hours: Option<HoursSettings>,
}

fn default_capacity() -> usize {
    5
}

fn hours_of(h: &HoursSettings, section: &str) -> Result<BusinessHours, String> {
    BusinessHours::parse(&h.timezone, &h.days, &h.open, &h.close, &h.holidays).map_err(|e| format!("{section} {e}"))
}

/// The ticket settings the rules read, as written.
pub struct Written<'a> {
    pub nudge_after: Option<Duration>,
    pub close_after: Option<Duration>,
    pub hours: &'a HoursSettings,
    pub sla: &'a BTreeMap<String, SlaSettings>,
    pub warn_at: f64,
    pub responders: &'a [ResponderSettings],
    pub handling: Duration,
    pub auto_assign: bool,
    pub on_call: &'a [String],
}

/// Reads the settings into the rules' terms, or says in one sentence what is wrong.
pub fn policy(w: Written<'_>) -> Result<TicketPolicy, String> {
    let Written { nudge_after, close_after, hours, sla, warn_at, responders, handling, auto_assign, on_call } = w;
    let hours = hours_of(hours, "[tickets.hours]")?;
    let span = |d: Option<Duration>| d.filter(|d| !d.is_zero()).and_then(|d| chrono::Duration::from_std(d).ok());
    let mut targets = BTreeMap::new();
    for (name, target) in sla {
        let priority: Priority = name.parse().map_err(|e| format!("[tickets.sla.{name}]: {e}; use low, normal, high or urgent"))?;
        targets.insert(priority, SlaTarget { first_response: span(target.first_response), resolution: span(target.resolution) });
    }
    if !(0.0..1.0).contains(&warn_at) {
        return Err(format!("[tickets] sla_warn_at must be at least 0 and below 1 (got {warn_at})"));
    }
    let mut people = Vec::new();
    for r in responders {
        let section = format!("[[tickets.responders]] {:?}:", r.name);
        if r.name.trim().is_empty() {
            return Err("[[tickets.responders]]: a responder needs a name, as `ticket assign` names them".into());
        }
        let own = match &r.hours {
            Some(h) => hours_of(h, &format!("{section} hours"))?,
            None => hours.clone(),
        };
        people.push(Responder { name: r.name.trim().to_string(), skills: r.skills.clone(), capacity: r.capacity, hours: own });
    }
    let handling = span(Some(handling)).unwrap_or(chrono::Duration::minutes(15));
    Ok(TicketPolicy {
        nudge_after: span(nudge_after),
        close_after: span(close_after),
        hours,
        sla: targets,
        warn_at,
        responders: people,
        handling,
        auto_assign,
        on_call: on_call.to_vec(),
    })
}
