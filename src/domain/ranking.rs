//! How the evidence about one query and one FAQ entry becomes the entry's score (`calibration`
//! turns the best score into a confidence).

/// Closest phrasings averaged into an entry's semantic score. The best single phrasing alone
/// overrates entries with one lucky alternative; the average of a few is steadier (a k-NN vote).
const NEIGHBOURS: usize = 3;
/// How much the full-text evidence adds to the semantic score.
const LEXICAL_WEIGHT: f32 = 0.2;

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
}
