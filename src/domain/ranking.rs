//! How evidence about one query and one FAQ entry becomes a score, and scores a confidence.
//! Pure arithmetic on similarities, so it is the same for every FAQ and every channel.

/// Closest phrasings averaged into an entry's semantic score. The best single phrasing alone
/// overrates entries with one lucky alternative; the average of a few is steadier (a k-NN vote).
const NEIGHBOURS: usize = 3;
/// How much the full-text evidence adds to the semantic score.
const LEXICAL_WEIGHT: f32 = 0.2;
/// The hybrid score at which a match, with no rival close by, is a coin toss. MiniLM puts
/// paraphrases of one question mostly above 0.75 and unrelated questions below 0.5.
const MIDPOINT: f32 = 0.75;
/// How fast confidence grows with the score, and with the lead over the best rival entry.
const SCORE_SLOPE: f32 = 12.0;
const LEAD_SLOPE: f32 = 10.0;

/// An entry's semantic score from the cosine similarities of the query to each of its phrasings:
/// half the best one, half the mean of the best few.
pub fn semantic_score(cosines: &mut [f32]) -> f32 {
    if cosines.is_empty() {
        return 0.0;
    }
    cosines.sort_by(|a, b| b.total_cmp(a));
    let top = &cosines[..cosines.len().min(NEIGHBOURS)];
    0.5 * cosines[0] + 0.5 * top.iter().sum::<f32>() / top.len() as f32
}

/// Semantic score plus a share of the full-text confidence (both roughly in [0, 1]).
pub fn hybrid_score(semantic: f32, lexical: f32) -> f32 {
    semantic + LEXICAL_WEIGHT * lexical
}

/// The confidence in [0, 1] that an entry with hybrid score `score` answers the query, when
/// the best other entry scores `rival`. Near-ties lower it: two entries that fit equally well
/// mean the bot cannot tell which one was asked.
pub fn confidence(score: f32, rival: f32) -> f32 {
    let z = SCORE_SLOPE * (score - MIDPOINT) + LEAD_SLOPE * (score - rival);
    1.0 / (1.0 + (-z).exp())
}

/// Dot product; for unit vectors, the cosine similarity.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_scores_by_its_best_and_its_few_closest_phrasings() {
        assert_eq!(semantic_score(&mut []), 0.0);
        assert!((semantic_score(&mut [0.9]) - 0.9).abs() < 1e-6);
        // One lucky phrasing counts for less than three good ones.
        let lucky = semantic_score(&mut [0.9, 0.2, 0.1, 0.1]);
        let steady = semantic_score(&mut [0.85, 0.8, 0.8]);
        assert!(steady > lucky);
    }

    #[test]
    fn confidence_grows_with_the_score_and_the_lead() {
        assert!((confidence(MIDPOINT, MIDPOINT) - 0.5).abs() < 1e-6);
        assert!(confidence(0.95, 0.5) > 0.95);
        assert!(confidence(0.9, 0.89) < confidence(0.9, 0.6), "a near-tie is less sure");
        assert!(confidence(0.3, 0.1) < 0.1, "a weak match stays weak even alone");
        for (s, r) in [(-1.0, 1.0), (2.0, -1.0), (0.0, 0.0)] {
            assert!((0.0..=1.0).contains(&confidence(s, r)));
        }
    }
}
