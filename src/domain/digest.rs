//! The weekly digest's numbers, from the period's questions, votes and tickets.

use super::queueing::{forecast_next, responders_needed};
use super::ticket::Ticket;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// One question seen in the period.
#[derive(Debug, Clone)]
pub struct QuestionRecord {
    pub asked_at: DateTime<Utc>,
    pub asker_id: String,
    pub text: String,
    /// The bot answered it from the FAQ.
    pub bot_answered: bool,
    /// The member whose reply answered it, if a member did.
    pub community_answer_by: Option<String>,
}

/// Everything the digest is computed from.
#[derive(Debug, Clone)]
pub struct DigestInput {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub questions: Vec<QuestionRecord>,
    /// Votes on the bot's answers in the period: true = helpful.
    pub votes: Vec<bool>,
    pub tickets_opened: Vec<Ticket>,
    pub tickets_resolved: usize,
    pub open_tickets: Vec<Ticket>,
    /// Questions per period for the periods before this one, oldest first.
    pub history: Vec<f64>,
}

/// The staffing assumptions behind the responders estimate.
#[derive(Debug, Clone)]
pub struct Staffing {
    pub handling: Duration,
    pub first_response_target: Duration,
    /// Share of questions that should meet the target.
    pub service_level: f64,
    /// When responders work (`[tickets.hours]`): questions arrive per working hour, and the
    /// estimate is of responders on duty then.
    pub hours: crate::domain::hours::BusinessHours,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Helper {
    pub user: String,
    pub answers: usize,
}

/// The digest's numbers, ready for the template.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DigestNumbers {
    pub from: String,
    pub to: String,
    pub questions: usize,
    pub bot_answered: usize,
    pub helpful_votes: usize,
    pub votes: usize,
    /// Helpful votes / votes, when there were votes.
    pub helpful_rate: Option<f64>,
    pub community_answered: usize,
    pub unanswered: usize,
    pub tickets_opened: usize,
    pub tickets_resolved: usize,
    pub tickets_open: usize,
    pub oldest_open_hours: Option<f64>,
    pub median_first_response_hours: Option<f64>,
    pub median_resolution_hours: Option<f64>,
    pub top_helpers: Vec<Helper>,
    pub arrivals_per_hour: f64,
    /// The rate and the staffing estimate count working hours only (`[tickets.hours]` is set).
    pub working_hours_only: bool,
    pub responders_needed: Option<u32>,
    pub first_response_target_hours: f64,
    pub forecast_next_period: Option<f64>,
    /// Questions per day by outcome: the chart's bars.
    pub days: Vec<DayOutcomes>,
    /// Messages the bot gave up delivering in the period (a permanent error, or too many
    /// failed attempts); filled in from the outbox, not from the questions.
    pub undelivered: i64,
    /// Moderators' "not a question" and escalations the detector learned, in the period and
    /// in all; filled in from the store.
    pub corrections: i64,
    pub corrections_total: i64,
    /// Pieces of feedback given in the period (themed with the questions); filled in from the
    /// store.
    pub feedback: usize,
    /// Groups of the period's questions the FAQ could not answer; filled in with the themes.
    pub gaps: Vec<KnowledgeGap>,
    /// The people's ticket work, set by the digest job from the tickets' histories.
    pub responders: Vec<super::responders::ResponderFigures>,
    /// How each priority's SLA held (priorities with targets only).
    pub sla: Vec<super::responders::SlaAttainment>,
    /// What the bot keeps and for how long (`[privacy]`), for the digest's one line on it.
    pub privacy: Option<super::privacy::PolicyWords>,
    /// Members forgotten in the period (at their request, a moderator's or the operator's).
    pub forgotten: usize,
}

/// A group of alike questions nobody could answer from the FAQ, and the one command that
/// turns it into an entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KnowledgeGap {
    pub keywords: Vec<String>,
    pub size: usize,
    pub people: usize,
    /// The questions nearest the group's centre; empty under the privacy floor.
    pub examples: Vec<String>,
    /// The accepted answer, when one of its questions got one: a moderator's ticket
    /// resolution, else a member's reply.
    pub answer: Option<String>,
    /// The ticket that answer resolved (None for a member's reply).
    pub ticket_id: Option<i64>,
    pub command: String,
}

/// Where a gap's accepted answer came from.
#[derive(Debug, Clone, PartialEq)]
pub enum GapAnswer {
    /// A moderator resolved this ticket with this text.
    Ticket(i64, String),
    /// A member's reply answered one of the questions.
    Community(String),
}

impl KnowledgeGap {
    /// `faq learn <ticket>` when a ticket of the group was resolved (its question and
    /// resolution become the entry); else an `faq add` named after the keywords, filled with a
    /// central question (when the privacy floor lets one be shown) and a member's answer (when
    /// there is one).
    pub fn new(keywords: Vec<String>, size: usize, people: usize, examples: Vec<String>, answer: Option<GapAnswer>) -> KnowledgeGap {
        let short = |a: &str| super::text::truncate_chars(a.trim(), 300);
        let id = super::faq::slugify(&keywords.iter().take(3).cloned().collect::<Vec<_>>().join(" "));
        let question = examples.first().map(|q| one_line(q)).unwrap_or_else(|| "<the question>".into());
        let (command, ticket_id, answer) = match answer {
            Some(GapAnswer::Ticket(ticket, text)) => (format!("faq learn {ticket}"), Some(ticket), Some(short(&text))),
            Some(GapAnswer::Community(text)) => (format!("faq add {id} | {question} | {}", one_line(&short(&text))), None, Some(short(&text))),
            None => (format!("faq add {id} | {question} | <the answer>"), None, None),
        };
        KnowledgeGap { keywords, size, people, examples, answer, ticket_id, command }
    }
}

/// A text for one command line: its line breaks and `|` (the field separator) as spaces.
fn one_line(text: &str) -> String {
    text.replace('|', "/").split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

pub(crate) fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let mid = xs.len() / 2;
    Some(if xs.len().is_multiple_of(2) { (xs[mid - 1] + xs[mid]) / 2.0 } else { xs[mid] })
}

/// Computes the digest's numbers as of `now`.
pub fn compose(input: &DigestInput, staffing: Staffing, now: DateTime<Utc>) -> DigestNumbers {
    let questions = input.questions.len();
    let bot_answered = input.questions.iter().filter(|q| q.bot_answered).count();
    let community_answered = input.questions.iter().filter(|q| q.community_answer_by.is_some()).count();
    let helpful_votes = input.votes.iter().filter(|v| **v).count();
    let mut helpers: HashMap<&str, usize> = HashMap::new();
    // A forgotten member's answers still count as the community's, but thank nobody.
    for by in input.questions.iter().filter_map(|q| q.community_answer_by.as_deref()).filter(|by| !by.is_empty()) {
        *helpers.entry(by).or_default() += 1;
    }
    let mut top_helpers: Vec<Helper> = helpers.into_iter().map(|(user, answers)| Helper { user: user.into(), answers }).collect();
    top_helpers.sort_by(|a, b| b.answers.cmp(&a.answers).then(a.user.cmp(&b.user)));
    top_helpers.truncate(5);
    let period_hours = hours(staffing.hours.between(input.from, input.to)).max(1.0 / 60.0);
    let arrivals_per_hour = questions as f64 / period_hours;
    DigestNumbers {
        undelivered: 0,
        corrections: 0,
        corrections_total: 0,
        feedback: 0,
        gaps: Vec::new(),
        responders: Vec::new(),
        sla: Vec::new(),
        privacy: None,
        forgotten: 0,
        from: input.from.format("%Y-%m-%d").to_string(),
        to: input.to.format("%Y-%m-%d").to_string(),
        questions,
        bot_answered,
        helpful_votes,
        votes: input.votes.len(),
        helpful_rate: (!input.votes.is_empty()).then(|| helpful_votes as f64 / input.votes.len() as f64),
        community_answered,
        unanswered: questions.saturating_sub(bot_answered + community_answered),
        tickets_opened: input.tickets_opened.len(),
        tickets_resolved: input.tickets_resolved,
        tickets_open: input.open_tickets.len(),
        oldest_open_hours: input.open_tickets.iter().map(|t| hours(now - t.created_at)).reduce(f64::max),
        median_first_response_hours: median(input.tickets_opened.iter().filter_map(|t| t.first_response_time()).map(hours).collect()),
        median_resolution_hours: median(input.tickets_opened.iter().filter_map(|t| t.resolution_time()).map(hours).collect()),
        top_helpers,
        arrivals_per_hour,
        working_hours_only: !staffing.hours.is_always(),
        responders_needed: responders_needed(
            arrivals_per_hour,
            hours(staffing.handling),
            hours(staffing.first_response_target),
            staffing.service_level,
        ),
        first_response_target_hours: hours(staffing.first_response_target),
        forecast_next_period: forecast_next(&[input.history.clone(), vec![questions as f64]].concat()),
        days: daily_outcomes(&input.questions, input.from, input.to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::{Origin, Priority, Status};
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
    }

    fn question(h: i64, bot: bool, by: Option<&str>) -> QuestionRecord {
        QuestionRecord {
            asked_at: t0() + Duration::hours(h),
            asker_id: "u".into(),
            text: "q".into(),
            bot_answered: bot,
            community_answer_by: by.map(String::from),
        }
    }

    fn ticket(id: i64, created_h: i64, first_response_h: Option<i64>, resolved_h: Option<i64>, status: Status) -> Ticket {
        let at = |h: i64| t0() + Duration::hours(h);
        Ticket {
            id,
            platform: "p".into(),
            channel: "c".into(),
            question_message_id: None,
            asker_id: "u".into(),
            asker_name: "u".into(),
            question: "q".into(),
            origin: Origin::Unanswered,
            status,
            priority: Priority::Normal,
            assignee: None,
            resolution: None,
            created_at: at(created_h),
            first_response_at: first_response_h.map(at),
            resolved_at: resolved_h.map(at),
            closed_at: None,
            private: false,
        }
    }

    /// A small known week: 6 questions, 3 answered by the bot (2 votes, 1 helpful), 2 by members.
    fn week() -> DigestInput {
        DigestInput {
            from: t0(),
            to: t0() + Duration::days(7),
            questions: vec![
                question(1, true, None),
                question(2, true, None),
                question(3, true, None),
                question(4, false, Some("ben")),
                question(5, false, Some("ben")),
                question(6, false, None),
            ],
            votes: vec![true, false],
            tickets_opened: vec![ticket(1, 10, Some(12), Some(14), Status::Resolved), ticket(2, 20, Some(21), None, Status::Assigned)],
            tickets_resolved: 1,
            open_tickets: vec![ticket(2, 20, Some(21), None, Status::Assigned)],
            history: vec![4.0, 5.0],
        }
    }

    fn staffing() -> Staffing {
        Staffing {
            handling: Duration::minutes(15),
            first_response_target: Duration::hours(1),
            service_level: 0.8,
            hours: crate::domain::hours::BusinessHours::always(),
        }
    }

    #[test]
    fn a_known_week_gives_known_numbers() {
        let d = compose(&week(), staffing(), t0() + Duration::days(7));
        assert_eq!((d.questions, d.bot_answered, d.community_answered, d.unanswered), (6, 3, 2, 1));
        assert_eq!((d.votes, d.helpful_votes, d.helpful_rate), (2, 1, Some(0.5)));
        assert_eq!((d.tickets_opened, d.tickets_resolved, d.tickets_open), (2, 1, 1));
        assert_eq!(d.oldest_open_hours, Some(7.0 * 24.0 - 20.0));
        assert_eq!(d.median_first_response_hours, Some(1.5));
        assert_eq!(d.median_resolution_hours, Some(4.0));
        assert_eq!(d.top_helpers, vec![Helper { user: "ben".into(), answers: 2 }]);
        assert!((d.arrivals_per_hour - 6.0 / 168.0).abs() < 1e-9);
        assert_eq!(d.responders_needed, Some(1));
        assert!(d.forecast_next_period.unwrap() > 5.0);
    }

    #[test]
    fn the_staffing_estimate_counts_the_working_hours_only() {
        // 40 working hours in the week instead of 168: the same six questions arrive four
        // times as fast while someone is on duty.
        let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect();
        let office = crate::domain::hours::BusinessHours::parse("UTC", &days, "09:00", "17:00", &[]).unwrap();
        let d = compose(&week(), Staffing { hours: office, ..staffing() }, t0() + Duration::days(7));
        assert!((d.arrivals_per_hour - 6.0 / 40.0).abs() < 1e-9, "{}", d.arrivals_per_hour);
        assert!(d.working_hours_only && !compose(&week(), staffing(), t0()).working_hours_only);
    }

    #[test]
    fn a_quiet_week_has_no_rates_to_report() {
        let empty = DigestInput {
            questions: vec![],
            votes: vec![],
            tickets_opened: vec![],
            tickets_resolved: 0,
            open_tickets: vec![],
            history: vec![],
            ..week()
        };
        let d = compose(&empty, staffing(), t0());
        assert_eq!((d.questions, d.helpful_rate, d.responders_needed, d.oldest_open_hours), (0, None, None, None));
        assert_eq!(d.forecast_next_period, Some(0.0));
    }
}

/// One day's questions by outcome, for the digest's chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayOutcomes {
    pub day: chrono::NaiveDate,
    pub bot: u32,
    pub community: u32,
    pub unanswered: u32,
}

/// Questions per day of [from, to), split by who answered them.
pub fn daily_outcomes(questions: &[QuestionRecord], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DayOutcomes> {
    let first = from.date_naive();
    let days = ((to - from).num_hours() as f64 / 24.0).ceil().max(1.0) as usize;
    let mut out: Vec<DayOutcomes> =
        (0..days).map(|i| DayOutcomes { day: first + Duration::days(i as i64), bot: 0, community: 0, unanswered: 0 }).collect();
    for q in questions {
        let i = (q.asked_at.date_naive() - first).num_days();
        let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) else { continue };
        match (q.bot_answered, &q.community_answer_by) {
            (true, _) => slot.bot += 1,
            (false, Some(_)) => slot.community += 1,
            (false, None) => slot.unanswered += 1,
        }
    }
    out
}

#[cfg(test)]
mod day_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn questions_are_counted_on_their_day_by_outcome() {
        let from = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let q = |h: i64, bot: bool, by: Option<&str>| QuestionRecord {
            asked_at: from + Duration::hours(h),
            asker_id: "u".into(),
            text: "q".into(),
            bot_answered: bot,
            community_answer_by: by.map(String::from),
        };
        let days =
            daily_outcomes(&[q(1, true, None), q(2, false, Some("b")), q(30, false, None), q(200, true, None)], from, from + Duration::days(7));
        assert_eq!(days.len(), 7);
        assert_eq!((days[0].bot, days[0].community, days[0].unanswered), (1, 1, 0));
        assert_eq!(days[1].unanswered, 1);
        assert!(days.iter().skip(2).all(|d| d.bot + d.community + d.unanswered == 0), "out-of-range questions are dropped");
    }
}
