//! The automatic choice of k: the best mean silhouette, on a sample of the points, among k
//! values that make themes of roughly 15 to 80 texts.

use super::*;

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

/// Clusters with the k of the best silhouette among [`candidate_ks`] (each candidate scored on a
/// single k-means run, candidates in parallel; the chosen k then gets the full restarts).
pub fn kmeans_auto(x: &Array2<f64>) -> Result<Clustering, ClusterError> {
    let space = Space::new(x);
    let sample = Sample::new(x);
    let ks: Vec<usize> = candidate_ks(x.nrows()).into_iter().filter(|&k| k <= x.nrows()).collect();
    let scores = parallel_map(ks.len(), cores(), |i| {
        let c = space.kmeans(ks[i], 1, 1)?;
        Ok::<_, ClusterError>(sample.silhouette(&c.labels, ks[i]))
    });
    let mut best: Option<(f64, usize)> = None;
    for (&k, score) in ks.iter().zip(scores) {
        let score = score?;
        tracing::debug!(k, silhouette = score, "k candidate");
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, k));
        }
    }
    let (_, k) = best.ok_or_else(|| ClusterError("no texts to cluster".into()))?;
    space.kmeans(k, RUNS, cores())
}
