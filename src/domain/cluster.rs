//! Themes: k-means (linfa, k-means++ and a fixed seed: the same input gives the same themes),
//! an automatic choice of k by silhouette, and class-based TF-IDF keywords per theme.

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array2, ArrayView1, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;
use std::collections::HashMap;

/// The seed every clustering uses.
pub const SEED: u64 = 42;
/// Random restarts of k-means; the best (lowest inertia) wins.
const RUNS: usize = 10;
/// Points the silhouette is estimated on: exact silhouette is quadratic in the number of texts.
const SILHOUETTE_SAMPLE: usize = 1_000;

/// The outcome of clustering n points.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// The cluster of each point, in input order.
    pub labels: Vec<usize>,
    pub centroids: Array2<f64>,
}

impl Clustering {
    pub fn k(&self) -> usize {
        self.centroids.nrows()
    }

    /// Indices of cluster `c`'s points, nearest to its centre first.
    pub fn nearest_to_centre(&self, x: &Array2<f64>, c: usize) -> Vec<usize> {
        let centre = self.centroids.row(c);
        let mut members: Vec<(usize, f64)> =
            (0..x.nrows()).filter(|&i| self.labels[i] == c).map(|i| (i, distance2(x.row(i), centre))).collect();
        members.sort_by(|a, b| a.1.total_cmp(&b.1));
        members.into_iter().map(|(i, _)| i).collect()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("clustering failed: {0}")]
pub struct ClusterError(String);

fn distance2(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means with k-means++ seeding, `RUNS` restarts and a fixed seed.
pub fn kmeans(x: &Array2<f64>, k: usize) -> Result<Clustering, ClusterError> {
    kmeans_runs(x, k, RUNS)
}

fn kmeans_runs(x: &Array2<f64>, k: usize, runs: usize) -> Result<Clustering, ClusterError> {
    if k == 0 || k > x.nrows() {
        return Err(ClusterError(format!("k = {k} for {} points", x.nrows())));
    }
    let dataset = DatasetBase::from(x.clone());
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(SEED))
        .init_method(KMeansInit::KMeansPlusPlus)
        .n_runs(runs)
        .max_n_iterations(300)
        .tolerance(1e-4)
        .fit(&dataset)
        .map_err(|e| ClusterError(e.to_string()))?;
    let labels = model.predict(x).to_vec();
    Ok(Clustering { labels, centroids: model.centroids().clone() })
}

/// Mean silhouette of a deterministic sample of the points (cosine-free: squared-Euclidean
/// distances rooted, as k-means sees the space).
pub fn silhouette(x: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    let n = x.nrows();
    let step = (n / SILHOUETTE_SAMPLE).max(1);
    let sample: Vec<usize> = (0..n).step_by(step).collect();
    let mut total = 0.0;
    for &i in &sample {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for &j in &sample {
            if i != j {
                sums[labels[j]] += distance2(x.row(i), x.row(j)).sqrt();
                counts[labels[j]] += 1;
            }
        }
        let own = labels[i];
        if counts[own] == 0 {
            continue; // a singleton scores 0
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k).filter(|&c| c != own && counts[c] > 0).map(|c| sums[c] / counts[c] as f64).fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
        }
    }
    total / sample.len() as f64
}

/// The candidate k values for n texts: themes of roughly 15 to 80 texts each, on a
/// geometric grid, at least 2.
pub fn candidate_ks(n: usize) -> Vec<usize> {
    let (lo, hi) = ((n / 80).max(2), (n / 15).max(2).min(n.saturating_sub(1)).max(2));
    let mut ks = Vec::new();
    let mut k = lo as f64;
    while (k as usize) <= hi {
        let kk = k.round() as usize;
        if ks.last() != Some(&kk) {
            ks.push(kk);
        }
        k *= 1.15;
    }
    if ks.is_empty() {
        ks.push(lo.min(n.max(1)));
    }
    ks
}

/// Clusters with the k of the best silhouette among [`candidate_ks`] (each candidate scored on a
/// single k-means run; the chosen k then gets the full restarts).
pub fn kmeans_auto(x: &Array2<f64>) -> Result<Clustering, ClusterError> {
    let mut best: Option<(f64, usize)> = None;
    for k in candidate_ks(x.nrows()).into_iter().filter(|&k| k <= x.nrows()) {
        let c = kmeans_runs(x, k, 1)?;
        let score = silhouette(x, &c.labels, k);
        tracing::debug!(k, silhouette = score, "k candidate");
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, k));
        }
    }
    let (_, k) = best.ok_or_else(|| ClusterError("no texts to cluster".into()))?;
    kmeans(x, k)
}

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

/// Row-stacks vectors into a matrix.
pub fn matrix(vectors: &[Vec<f32>]) -> Array2<f64> {
    let dim = vectors.first().map(Vec::len).unwrap_or(0);
    let mut m = Array2::zeros((vectors.len(), dim));
    for (mut row, v) in m.axis_iter_mut(Axis(0)).zip(vectors) {
        for (cell, x) in row.iter_mut().zip(v) {
            *cell = f64::from(*x);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight blobs in the plane.
    fn blobs() -> Array2<f64> {
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        let mut rows = Vec::new();
        for (cx, cy) in centres {
            for i in 0..20 {
                let d = (i as f64) * 0.01;
                rows.push(vec![(cx + d) as f32, (cy - d) as f32]);
            }
        }
        matrix(&rows)
    }

    #[test]
    fn well_separated_groups_become_one_cluster_each() {
        let c = kmeans(&blobs(), 3).unwrap();
        for g in 0..3 {
            let first = c.labels[g * 20];
            assert!(c.labels[g * 20..(g + 1) * 20].iter().all(|&l| l == first));
        }
        let distinct: std::collections::HashSet<_> = c.labels.iter().collect();
        assert_eq!(distinct.len(), 3);
    }

    #[test]
    fn the_same_input_gives_the_same_themes() {
        assert_eq!(kmeans(&blobs(), 3).unwrap().labels, kmeans(&blobs(), 3).unwrap().labels);
    }

    #[test]
    fn silhouette_prefers_the_true_number_of_groups() {
        let x = blobs();
        let good = silhouette(&x, &kmeans(&x, 3).unwrap().labels, 3);
        let worse = silhouette(&x, &kmeans(&x, 6).unwrap().labels, 6);
        assert!(good > worse, "{good} vs {worse}");
    }

    #[test]
    fn candidate_ks_scale_with_the_number_of_texts() {
        let ks = candidate_ks(3080);
        assert!(ks.first() == Some(&38) && *ks.last().unwrap() <= 205, "{ks:?}");
        assert!(candidate_ks(5).iter().all(|&k| (2..5).contains(&k)), "{:?}", candidate_ks(5));
    }

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
    fn nonsense_k_is_an_error_not_a_panic() {
        assert!(kmeans(&blobs(), 0).is_err());
        assert!(kmeans(&blobs(), 1000).is_err());
    }
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

/// Clusters the messages (k chosen by silhouette) and describes the `top` largest themes.
pub fn themes(input: &ThemeInput<'_>, min_users: usize, top: usize) -> Result<Vec<Theme>, ClusterError> {
    let n = input.texts.len();
    if n < 2 {
        return Ok(Vec::new());
    }
    let x = matrix(input.vectors);
    let c = kmeans_auto(&x)?;
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
                    let example = super::text::truncate_chars(&input.texts[i], 140);
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
mod theme_tests {
    use super::*;

    #[test]
    fn themes_have_keywords_trends_and_a_privacy_floor() {
        // Two topics on two axes; the card topic from 3 people, the refund topic from 1.
        let texts: Vec<String> = ["card late", "card missing", "card not here", "refund please", "refund now", "refund when"].map(String::from).to_vec();
        let tokens: Vec<Vec<String>> = texts.iter().map(|t| t.split(' ').map(String::from).collect()).collect();
        let vectors = vec![vec![1.0, 0.0], vec![0.99, 0.01], vec![0.98, 0.02], vec![0.0, 1.0], vec![0.01, 0.99], vec![0.02, 0.98]];
        let authors: Vec<String> = ["ann", "ben", "cat", "dan", "dan", "dan"].map(String::from).to_vec();
        let previous = vec![vec![0.0, 1.0]];
        let input = ThemeInput { texts: &texts, tokens: &tokens, vectors: &vectors, authors: &authors, previous: &previous };
        let found = themes(&input, 3, 5).unwrap();
        assert_eq!(found.len(), 2);
        let card = found.iter().find(|t| t.keywords[0] == "card").unwrap();
        let refund = found.iter().find(|t| t.keywords[0] == "refund").unwrap();
        assert_eq!((card.size, card.previous_size, card.people), (3, 0, 3));
        assert_eq!(card.examples.len(), 2, "three people: examples shown");
        assert_eq!((refund.size, refund.previous_size, refund.people), (3, 1, 1));
        assert!(refund.examples.is_empty(), "one person: counted, never quoted");
    }
}
