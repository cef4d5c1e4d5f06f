//! Assignment by skill and load: every waiting ticket is matched to a responder's free slot at
//! once, so that the expected waiting summed over all of them (weighted by priority) is least:
//! an assignment problem, solved as one by the Hungarian method (pathfinding's Kuhn–Munkres).

use super::Priority;
use crate::domain::hours::BusinessHours;
use chrono::{DateTime, Duration, Utc};
use pathfinding::prelude::{Matrix, kuhn_munkres_min};

/// Someone who takes tickets: what they know (FAQ tags), when they work, how many at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Responder {
    pub name: String,
    pub skills: Vec<String>,
    pub capacity: usize,
    pub hours: BusinessHours,
}

/// A ticket waiting for a responder: its priority and the tags of the FAQ entry nearest it.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub ticket_id: i64,
    pub priority: Priority,
    pub tags: Vec<String>,
}

/// Where one ticket went, and why in one line's worth of facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub ticket_id: i64,
    /// None: every responder is at capacity (or none is configured).
    pub responder: Option<String>,
    pub expected_wait: Duration,
    pub skilled: bool,
    /// Tickets the responder holds already, and their capacity.
    pub load: usize,
    pub capacity: usize,
    pub on_duty: bool,
}

/// How much an hour of waiting counts, by priority.
fn weight(priority: Priority) -> i64 {
    match priority {
        Priority::Low => 1,
        Priority::Normal => 2,
        Priority::High => 4,
        Priority::Urgent => 8,
    }
}

/// A ticket left without a slot waits, as far as the sums go, a full week.
const NO_SLOT_MINUTES: i64 = 7 * 24 * 60;

fn knows(responder: &Responder, ticket: &Waiting) -> bool {
    ticket.tags.is_empty() || ticket.tags.iter().any(|t| responder.skills.iter().any(|s| s.eq_ignore_ascii_case(t)))
}

/// Assigns every `waiting` ticket at once. `load[i]` is how many active tickets responder `i`
/// holds; `handling` is how long one ticket takes. A responder's free slot `j` makes a ticket
/// wait for them to come on duty, then for the `load + j` tickets ahead of it; a responder
/// without the ticket's skill takes twice as long over it.
pub fn assign(waiting: &[Waiting], responders: &[Responder], load: &[usize], handling: Duration, now: DateTime<Utc>) -> Vec<Choice> {
    // Columns: each responder's free slots, then one "no slot" column per ticket, so a
    // solution always exists (Kuhn–Munkres needs no more rows than columns).
    let mut slots: Vec<(usize, usize)> = Vec::new(); // (responder, position in their queue)
    for (r, responder) in responders.iter().enumerate() {
        let held = load.get(r).copied().unwrap_or(0);
        slots.extend((held..responder.capacity.max(held)).map(|position| (r, position)));
    }
    let handling_min = handling.num_minutes().max(1);
    let on_duty_in: Vec<i64> = responders.iter().map(|r| (r.hours.add(now, Duration::minutes(1)) - now).num_minutes() - 1).collect();
    let wait = |t: &Waiting, (r, position): (usize, usize)| -> i64 {
        let skill = if knows(&responders[r], t) { 1 } else { 2 };
        on_duty_in[r].max(0) + position as i64 * handling_min + (skill - 1) * handling_min
    };
    let columns = slots.len() + waiting.len();
    let mut costs = Matrix::new(waiting.len(), columns.max(1), 0i64);
    for (i, t) in waiting.iter().enumerate() {
        for c in 0..columns {
            let minutes = slots.get(c).map(|slot| wait(t, *slot)).unwrap_or(NO_SLOT_MINUTES);
            costs[(i, c)] = minutes * weight(t.priority);
        }
    }
    if waiting.is_empty() {
        return Vec::new();
    }
    let (_, columns_of) = kuhn_munkres_min(&costs);
    waiting
        .iter()
        .zip(columns_of)
        .map(|(t, c)| match slots.get(c) {
            Some(&(r, position)) => Choice {
                ticket_id: t.ticket_id,
                responder: Some(responders[r].name.clone()),
                expected_wait: Duration::minutes(wait(t, (r, position))),
                skilled: knows(&responders[r], t),
                load: load.get(r).copied().unwrap_or(0),
                capacity: responders[r].capacity,
                on_duty: on_duty_in[r] <= 0,
            },
            None => Choice {
                ticket_id: t.ticket_id,
                responder: None,
                expected_wait: Duration::minutes(NO_SLOT_MINUTES),
                skilled: false,
                load: 0,
                capacity: 0,
                on_duty: false,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_583_200, 0).unwrap() // Monday 2025-12-01 10:00 UTC
    }

    fn responder(name: &str, skills: &[&str], capacity: usize) -> Responder {
        Responder { name: name.into(), skills: skills.iter().map(|s| s.to_string()).collect(), capacity, hours: BusinessHours::always() }
    }

    fn ticket(id: i64, priority: Priority, tags: &[&str]) -> Waiting {
        Waiting { ticket_id: id, priority, tags: tags.iter().map(|s| s.to_string()).collect() }
    }

    fn names(choices: &[Choice]) -> Vec<Option<&str>> {
        choices.iter().map(|c| c.responder.as_deref()).collect()
    }

    #[test]
    fn each_ticket_goes_to_someone_who_knows_its_topic() {
        let people = [responder("mia", &["account"], 3), responder("ben", &["install"], 3)];
        let waiting = [ticket(1, Priority::Normal, &["install"]), ticket(2, Priority::Normal, &["account"])];
        let choices = assign(&waiting, &people, &[0, 0], Duration::minutes(15), now());
        assert_eq!(names(&choices), [Some("ben"), Some("mia")]);
        assert!(choices.iter().all(|c| c.skilled && c.on_duty && c.expected_wait == Duration::zero()));
    }

    #[test]
    fn load_and_capacity_spread_the_work() {
        // Mia knows both topics but holds two tickets of her three: her last slot is 30 min
        // away. Ben is free but knows neither (15 min of extra work). The urgent ticket goes to
        // whoever gets to it sooner, ben; the normal one waits for mia.
        let people = [responder("mia", &["account", "install"], 3), responder("ben", &[], 1)];
        let waiting = [ticket(1, Priority::Normal, &["account"]), ticket(2, Priority::Urgent, &["install"])];
        let choices = assign(&waiting, &people, &[2, 0], Duration::minutes(15), now());
        assert_eq!(names(&choices), [Some("mia"), Some("ben")]);
        assert_eq!((choices[0].load, choices[0].capacity, choices[0].expected_wait, choices[0].skilled), (2, 3, Duration::minutes(30), true));
        assert_eq!((choices[1].expected_wait, choices[1].skilled), (Duration::minutes(15), false));
    }

    #[test]
    fn nobody_free_means_no_assignment() {
        let people = [responder("mia", &[], 1)];
        let choices = assign(&[ticket(1, Priority::Low, &[]), ticket(2, Priority::High, &[])], &people, &[0], Duration::minutes(15), now());
        assert_eq!(names(&choices), [None, Some("mia")], "the one slot goes to the more urgent ticket");
        assert!(assign(&[ticket(1, Priority::Low, &[])], &[], &[], Duration::minutes(15), now())[0].responder.is_none());
    }

    #[test]
    fn someone_on_duty_beats_someone_asleep() {
        let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect();
        let night = BusinessHours::parse("UTC", &days, "20:00", "24:00", &[]).unwrap();
        let people = [Responder { hours: night, ..responder("owl", &["account"], 5) }, responder("mia", &[], 5)];
        let choices = assign(&[ticket(1, Priority::Normal, &["account"])], &people, &[0, 0], Duration::minutes(15), now());
        assert_eq!(names(&choices), [Some("mia")], "15 min unskilled now beats ten hours' wait for the expert");
        assert!(choices[0].on_duty);
    }
}
