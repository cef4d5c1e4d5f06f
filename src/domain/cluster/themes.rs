//! Themes for the digest: each cluster's keywords (class-based TF-IDF), size, trend against the
//! previous period and examples, behind a privacy floor.

use super::{ClusterError, distance2, kmeans, kmeans_auto, matrix};
use ndarray::Axis;
use std::collections::HashMap;

/// Each cluster's most distinctive terms by class-based TF-IDF: a term's frequency in the
/// cluster, weighted by how rare it is across clusters.
pub fn keywords(tokens: &[Vec<String>], labels: &[usize], k: usize, top: usize) -> Vec<Vec<String>> {
    let mut per_class: Vec<HashMap<&str, f64>> = vec![HashMap::new(); k];
    let mut totals = HashMap::<&str, f64>::new();
    for (doc, &c) in tokens.iter().zip(labels) {
        for t in doc {
            *per_class[c].entry(t).or_default() += 1.0;
            *totals.entry(t).or_default() += 1.0;
        }
    }
    let words: f64 = per_class.iter().map(|m| m.values().sum::<f64>()).sum();
    let average = words / k.max(1) as f64;
    per_class
        .iter()
        .map(|class| {
            let size: f64 = class.values().sum::<f64>().max(1.0);
            let mut scored: Vec<(&str, f64)> =
                class.iter().map(|(t, n)| (*t, (n / size) * (1.0 + average / totals[t]).ln())).collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            scored.into_iter().take(top).map(|(t, _)| t.to_string()).collect()
        })
        .collect()
}

/// One theme of a period's messages, as the digest shows it.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Theme {
    pub keywords: Vec<String>,
    pub size: usize,
    /// How many of the previous period's messages fall in this theme (nearest centre).
    pub previous_size: usize,
    /// The messages nearest the theme's centre; empty when fewer than `min_users` people wrote
    /// the theme's messages (the privacy floor).
    pub examples: Vec<String>,
    pub people: usize,
}

/// A period's messages to theme: their texts, analyzed tokens, embeddings and authors.
pub struct ThemeInput<'a> {
    pub texts: &'a [String],
    pub tokens: &'a [Vec<String>],
    pub vectors: &'a [Vec<f32>],
    pub authors: &'a [String],
    /// The previous period's embeddings, for each theme's trend.
    pub previous: &'a [Vec<f32>],
}

/// Clusters the messages into `k` groups (None: chosen by silhouette; a fixed k larger than the
/// number of messages is cut down to it) and describes the `top` largest themes.
pub fn themes(input: &ThemeInput<'_>, k: Option<usize>, min_users: usize, top: usize) -> Result<Vec<Theme>, ClusterError> {
    let n = input.texts.len();
    if n < 2 {
        return Ok(Vec::new());
    }
    let x = matrix(input.vectors);
    let c = match k {
        Some(k) => kmeans(&x, k.clamp(1, n))?,
        None => kmeans_auto(&x)?,
    };
    let words = keywords(input.tokens, &c.labels, c.k(), 4);
    let mut previous_sizes = vec![0usize; c.k()];
    for v in matrix(input.previous).axis_iter(Axis(0)) {
        let nearest = (0..c.k()).min_by(|&a, &b| distance2(v, c.centroids.row(a)).total_cmp(&distance2(v, c.centroids.row(b))));
        if let Some(t) = nearest {
            previous_sizes[t] += 1;
        }
    }
    let mut out: Vec<Theme> = (0..c.k())
        .map(|t| {
            let members = c.nearest_to_centre(&x, t);
            let people: std::collections::HashSet<&str> = members.iter().map(|&i| input.authors[i].as_str()).collect();
            let mut examples: Vec<String> = Vec::new();
            if people.len() >= min_users {
                for &i in &members {
                    let example = crate::domain::text::truncate_chars(&input.texts[i], 140);
                    if !examples.iter().any(|e| e.eq_ignore_ascii_case(&example)) {
                        examples.push(example);
                    }
                    if examples.len() == 2 {
                        break;
                    }
                }
            }
            Theme { keywords: words[t].clone(), size: members.len(), previous_size: previous_sizes[t], examples, people: people.len() }
        })
        .filter(|t| t.size > 0)
        .collect();
    out.sort_by(|a, b| b.size.cmp(&a.size).then(a.keywords.cmp(&b.keywords)));
    out.truncate(top);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_what_sets_a_cluster_apart() {
        let docs: Vec<Vec<String>> = [
            "card arrive late card", "card never arrive", "refund money back", "refund pending money",
        ]
        .iter()
        .map(|d| d.split(' ').map(String::from).collect())
        .collect();
        let kw = keywords(&docs, &[0, 0, 1, 1], 2, 2);
        assert_eq!(kw[0][0], "card");
        assert!(kw[1].contains(&"refund".to_string()) && kw[1].contains(&"money".to_string()), "{kw:?}");
    }

    #[test]
    fn themes_have_keywords_trends_and_a_privacy_floor() {
        // Two topics on two axes; the card topic from 3 people, the refund topic from 1.
        let texts: Vec<String> = ["card late", "card missing", "card not here", "refund please", "refund now", "refund when"].map(String::from).to_vec();
        let tokens: Vec<Vec<String>> = texts.iter().map(|t| t.split(' ').map(String::from).collect()).collect();
        let vectors = vec![vec![1.0, 0.0], vec![0.99, 0.01], vec![0.98, 0.02], vec![0.0, 1.0], vec![0.01, 0.99], vec![0.02, 0.98]];
        let authors: Vec<String> = ["ann", "ben", "cat", "dan", "dan", "dan"].map(String::from).to_vec();
        let previous = vec![vec![0.0, 1.0]];
        let input = ThemeInput { texts: &texts, tokens: &tokens, vectors: &vectors, authors: &authors, previous: &previous };
        let found = themes(&input, None, 3, 5).unwrap();
        assert_eq!(found.len(), 2);
        let card = found.iter().find(|t| t.keywords[0] == "card").unwrap();
        let refund = found.iter().find(|t| t.keywords[0] == "refund").unwrap();
        assert_eq!((card.size, card.previous_size, card.people), (3, 0, 3));
        assert_eq!(card.examples.len(), 2, "three people: examples shown");
        assert_eq!((refund.size, refund.previous_size, refund.people), (3, 1, 1));
        assert!(refund.examples.is_empty(), "one person: counted, never quoted");
    }
}
