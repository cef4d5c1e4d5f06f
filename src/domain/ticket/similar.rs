//! Is a new question one an active ticket already asks? Compared on words, so that a repeat links
//! to the ticket instead of opening another.

use crate::domain::text;

/// The candidate whose question is most like `asked` (cosine of their token bags, every term
/// weighing the same), if it is at least `threshold` alike. On a tie the earlier candidate wins.
/// Questions come already tokenised (see `text::Analyzer::tokens`), so that callers can cache them.
pub fn most_similar<'a, Id>(asked: &[String], candidates: impl IntoIterator<Item = (Id, &'a [String])>, threshold: f32) -> Option<Id> {
    let mut best: Option<(f32, Id)> = None;
    for (id, theirs) in candidates {
        let similarity = text::weighted_cosine(asked, theirs, |_| 1.0);
        if similarity >= threshold && best.as_ref().is_none_or(|(s, _)| similarity > *s) {
            best = Some((similarity, id));
        }
    }
    best.map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn search(asked: &str, candidates: &[(i64, &str)], threshold: f32) -> Option<i64> {
        let tokenised: Vec<(i64, Vec<String>)> = candidates.iter().map(|(id, q)| (*id, words(q))).collect();
        most_similar(&words(asked), tokenised.iter().map(|(id, t)| (*id, t.as_slice())), threshold)
    }

    #[test]
    fn the_most_similar_question_above_the_threshold_wins() {
        let candidates = [(1, "crash on arm board"), (2, "crash on arm"), (3, "login page slow")];
        assert_eq!(search("crash on arm", &candidates, 0.7), Some(2));
    }

    #[test]
    fn nothing_is_similar_enough_below_the_threshold() {
        assert_eq!(search("crash on arm", &[(1, "login page slow"), (2, "crash at login")], 0.7), None);
        assert_eq!(search("crash on arm", &[], 0.0), None);
    }

    #[test]
    fn the_threshold_itself_is_similar_enough() {
        assert_eq!(search("arm", &[(1, "arm")], 1.0), Some(1));
    }

    #[test]
    fn on_a_tie_the_earlier_candidate_wins() {
        assert_eq!(search("crash on arm", &[(9, "crash on arm"), (4, "crash on arm")], 0.7), Some(9));
    }

    #[test]
    fn an_empty_question_is_like_nothing() {
        assert_eq!(search("", &[(1, ""), (2, "crash")], 0.1), None);
    }
}
