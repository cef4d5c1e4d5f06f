//! The automatic choice of k: the mean silhouette, on a sample of the points, of a few k-means
//! runs per candidate k, among k values that make themes of roughly 15 to 80 texts; the
//! smallest k within one standard error of the best wins.

use super::{ClusterError, Clustering, RUNS, SILHOUETTE_SAMPLE, Space, distance2};
use ndarray::Array2;
use rayon::prelude::*;

/// Pairwise distances within a deterministic sample of the points, for silhouettes.
struct Sample {
    points: Vec<usize>,
    /// Row-major, points × points.
    distances: Vec<f64>,
}

impl Sample {
    fn new(x: &Array2<f64>) -> Self {
        let n = x.nrows();
        let step = (n / SILHOUETTE_SAMPLE).max(1);
        let points: Vec<usize> = (0..n).step_by(step).collect();
        let s = points.len();
        let mut distances = vec![0.0; s * s];
        for a in 0..s {
            for b in a + 1..s {
                let d = distance2(x.row(points[a]), x.row(points[b])).sqrt();
                distances[a * s + b] = d;
                distances[b * s + a] = d;
            }
        }
        Sample { points, distances }
    }

    /// Mean silhouette of the sample under `labels`.
    fn silhouette(&self, labels: &[usize], k: usize) -> f64 {
        let s = self.points.len();
        let mut total = 0.0;
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for a in 0..s {
            sums.fill(0.0);
            counts.fill(0);
            for b in 0..s {
                if a != b {
                    let l = labels[self.points[b]];
                    sums[l] += self.distances[a * s + b];
                    counts[l] += 1;
                }
            }
            let own = labels[self.points[a]];
            if counts[own] == 0 {
                continue; // a singleton scores 0
            }
            let within = sums[own] / counts[own] as f64;
            let between = (0..k).filter(|&c| c != own && counts[c] > 0).map(|c| sums[c] / counts[c] as f64).fold(f64::INFINITY, f64::min);
            if between.is_finite() {
                total += (between - within) / within.max(between);
            }
        }
        total / s.max(1) as f64
    }
}

/// Mean silhouette of a deterministic sample of the points (cosine-free: squared-Euclidean
/// distances rooted, as k-means sees the space).
pub fn silhouette(x: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    Sample::new(x).silhouette(labels, k)
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

/// Single k-means runs scored per candidate k: one run's silhouette varies by about as much as
/// neighbouring candidates differ on real text (flat curves), so a lone run picks k by chance.
const CANDIDATE_RUNS: usize = 3;

/// A candidate k's silhouette over its runs: the mean and its standard error.
#[derive(Debug, Clone, Copy)]
struct Score {
    mean: f64,
    error: f64,
}

impl Score {
    fn of(runs: &[f64]) -> Score {
        let n = runs.len().max(1) as f64;
        let mean = runs.iter().sum::<f64>() / n;
        let variance = runs.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Score { mean, error: (variance / n).sqrt() }
    }
}

/// The one-standard-error rule: the smallest k whose mean silhouette is within one standard
/// error of the best one. Where the curve is flat, the fewer (larger) themes are as good a
/// reading of the data, and a digest of fewer themes is easier to read. The error is the
/// median over the candidates: three runs estimate one candidate's error poorly, and a best
/// candidate with one stray run would otherwise lower the bar far.
fn choose(ks: &[usize], scores: &[Score]) -> Option<usize> {
    let best = scores.iter().max_by(|a, b| a.mean.total_cmp(&b.mean))?;
    let mut errors: Vec<f64> = scores.iter().map(|s| s.error).collect();
    errors.sort_by(f64::total_cmp);
    let bar = best.mean - errors[errors.len() / 2];
    ks.iter().zip(scores).filter(|(_, s)| s.mean >= bar).map(|(&k, _)| k).min()
}

/// Clusters with the k chosen by [`choose`] among [`candidate_ks`] (each candidate scored on
/// [`CANDIDATE_RUNS`] single k-means runs, all in parallel; the chosen k then gets the full
/// restarts).
pub fn kmeans_auto(x: &Array2<f64>) -> Result<Clustering, ClusterError> {
    let space = Space::new(x);
    let sample = Sample::new(x);
    let ks: Vec<usize> = candidate_ks(x.nrows()).into_iter().filter(|&k| k <= x.nrows()).collect();
    let silhouettes = (0..ks.len() * CANDIDATE_RUNS)
        .into_par_iter()
        .map(|i| {
            let (k, run) = (ks[i / CANDIDATE_RUNS], i % CANDIDATE_RUNS);
            Ok(sample.silhouette(&space.kmeans_run(k, run)?.labels, k))
        })
        .collect::<Result<Vec<f64>, ClusterError>>()?;
    let scores: Vec<Score> = silhouettes.chunks(CANDIDATE_RUNS).map(Score::of).collect();
    for (k, s) in ks.iter().zip(&scores) {
        tracing::debug!(k, silhouette = s.mean, error = s.error, "k candidate");
    }
    let k = choose(&ks, &scores).ok_or_else(|| ClusterError("no texts to cluster".into()))?;
    space.kmeans(k, RUNS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(means: &[f64], error: f64) -> Vec<Score> {
        means.iter().map(|&mean| Score { mean, error }).collect()
    }

    #[test]
    fn a_clear_peak_wins() {
        let ks = [10, 20, 30, 40];
        assert_eq!(choose(&ks, &scores(&[0.10, 0.20, 0.12, 0.11], 0.002)), Some(20));
    }

    #[test]
    fn on_a_flat_curve_the_smallest_k_within_one_error_of_the_best_wins() {
        let ks = [10, 20, 30, 40];
        // 30 is best by less than the error; 20 is as good a reading, 10 is clearly worse.
        assert_eq!(choose(&ks, &scores(&[0.100, 0.1235, 0.1240, 0.1238], 0.001)), Some(20));
        assert_eq!(choose(&ks, &scores(&[0.100, 0.1235, 0.1240, 0.1238], 0.0001)), Some(30));
        assert_eq!(choose(&[], &[]), None);
    }

    #[test]
    fn one_stray_run_of_the_best_candidate_does_not_lower_the_bar() {
        let ks = [10, 20, 30, 40];
        let mut s = scores(&[0.100, 0.110, 0.1240, 0.1238], 0.001);
        s[2].error = 0.02; // its three runs disagree: its own error would admit even k = 10
        assert_eq!(choose(&ks, &s), Some(30));
    }

    #[test]
    fn a_score_is_the_mean_and_standard_error_of_its_runs() {
        let s = Score::of(&[0.1, 0.2, 0.3]);
        assert!((s.mean - 0.2).abs() < 1e-12);
        assert!((s.error - (0.01f64 / 3.0).sqrt()).abs() < 1e-12, "{s:?}");
        assert_eq!(Score::of(&[0.5]).error, 0.0);
    }
}
