//! Themes: k-means (linfa, k-means++ and a fixed seed: the same input gives the same themes),
//! an automatic choice of k by silhouette (`choose_k`), and the digest's themes with class-based
//! TF-IDF keywords (`themes`).
//!
//! Where the time goes, and why the code looks the way it does (3,080 MiniLM vectors, k = 77):
//! linfa's distance is a scalar loop, about 40 ms per Lloyd iteration on 384 dimensions, and its
//! own k-means++ recomputes every point's distance to every centre chosen so far for each new
//! centre (n·k²/2 distances, some 38 iterations' worth at k = 77, worse for larger k). So k-means
//! runs on the data's top principal components ([`DIMS`]), the k-means++ seeding keeps each
//! point's nearest-centre distance between picks (n·k distances) and hands the centres to linfa,
//! and the restarts run in parallel on rayon's global pool (sized, like candle's, by
//! `semantic::threads`). Lloyd's iterations, convergence and inertia stay linfa's.

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

mod choose_k;
mod themes;
pub use choose_k::{candidate_ks, kmeans_auto, silhouette};
pub use themes::{Bar, EMBEDDING_BAR, MIN_THEME_SIZE, Theme, ThemeInput, Tightness, WORDS_BAR, coherence, idf, keywords, themes, word_coherence};

/// The seed every clustering uses.
pub const SEED: u64 = 42;
/// Random restarts of k-means; the best (lowest inertia) wins.
const RUNS: usize = 10;
/// Points the silhouette is estimated on: exact silhouette is quadratic in the number of texts.
const SILHOUETTE_SAMPLE: usize = 1_000;
/// The dimensions k-means works in: wider vectors are projected on their top principal
/// components first. Each Lloyd iteration costs n·k·dimensions.
pub const DIMS: usize = 64;
/// Subspace iterations for the principal components: enough for the projection to keep nearly
/// all the variance the exact top components keep.
const PCA_ITERATIONS: usize = 12;
/// Convergence: the centres' total squared move, relative to the data's mean per-dimension
/// variance (scikit-learn's rule, so the threshold does not depend on the scale of the vectors).
const RELATIVE_TOLERANCE: f64 = 1e-4;

/// The outcome of clustering n points.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// The cluster of each point, in input order.
    pub labels: Vec<usize>,
    /// The centres, in the input's space.
    pub centroids: Array2<f64>,
}

impl Clustering {
    pub fn k(&self) -> usize {
        self.centroids.nrows()
    }

    /// Indices of cluster `c`'s points, nearest to its centre first.
    pub fn nearest_to_centre(&self, x: &Array2<f64>, c: usize) -> Vec<usize> {
        let centre = self.centroids.row(c);
        let mut members: Vec<(usize, f64)> = (0..x.nrows()).filter(|&i| self.labels[i] == c).map(|i| (i, distance2(x.row(i), centre))).collect();
        members.sort_by(|a, b| a.1.total_cmp(&b.1));
        members.into_iter().map(|(i, _)| i).collect()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("clustering failed: {0}")]
pub struct ClusterError(String);

fn distance2(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    match (a.as_slice(), b.as_slice()) {
        (Some(a), Some(b)) => squared_distance(a, b),
        _ => a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum(),
    }
}

/// Squared Euclidean distance with eight independent sums, which the compiler turns into SIMD
/// (a single running sum is one long dependency chain).
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            sums[l] += d * d;
        }
    }
    sums.iter().sum::<f64>() + tail
}

/// A uniform draw in [0, 1).
fn uniform(rng: &mut Xoshiro256Plus) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The random stream of restart `run`: the seed's stream moved on by `run` jumps of 2^128
/// draws, so each restart's draws are independent of the others' and of the order they run in.
fn run_rng(run: usize) -> Xoshiro256Plus {
    let mut rng = Xoshiro256Plus::seed_from_u64(SEED);
    for _ in 0..run {
        rng.jump();
    }
    rng
}

/// One k-means run: only the winning run's centres are mapped back to the input space.
struct Run {
    inertia: f64,
    labels: Vec<usize>,
    /// Centres in the projected space.
    centres: Array2<f64>,
}

/// The points as k-means sees them: projected on their top [`DIMS`] principal components when
/// they are wider than that (distances between points are kept up to the variance the dropped
/// components carry), as they are otherwise.
struct Space<'a> {
    x: &'a Array2<f64>,
    y: Array2<f64>,
    /// The projection: the mean and an orthonormal basis of the kept components (d × DIMS).
    projection: Option<(Array1<f64>, Array2<f64>)>,
    /// linfa's threshold on the centres' move, the same for every run on these points.
    tolerance: f64,
}

impl<'a> Space<'a> {
    fn new(x: &'a Array2<f64>) -> Self {
        let (y, projection) = if x.ncols() <= DIMS || x.nrows() == 0 {
            (x.as_standard_layout().into_owned(), None)
        } else {
            let mean = x.mean_axis(Axis(0)).expect("rows");
            let centred = x - &mean;
            let basis = principal_basis(&centred, DIMS);
            (centred.dot(&basis), Some((mean, basis)))
        };
        Space { x, tolerance: tolerance(&y), y, projection }
    }

    /// One k-means per restart (in parallel), the lowest inertia winning; ties go to the
    /// earlier restart, so the outcome does not depend on the number of threads.
    fn kmeans(&self, k: usize, runs: usize) -> Result<Clustering, ClusterError> {
        let fits: Vec<_> = (0..runs.max(1)).into_par_iter().map(|run| self.kmeans_run(k, run)).collect();
        let mut best: Option<Run> = None;
        for fit in fits {
            let fit = fit?;
            if best.as_ref().is_none_or(|b| fit.inertia < b.inertia) {
                best = Some(fit);
            }
        }
        let best = best.ok_or_else(|| ClusterError("no run".into()))?;
        Ok(Clustering { centroids: self.centres_in_input_space(&best.labels, &best.centres), labels: best.labels })
    }

    /// The single k-means run number `run` (its own seed), in the projected space.
    fn kmeans_run(&self, k: usize, run: usize) -> Result<Run, ClusterError> {
        let n = self.y.nrows();
        if k == 0 || k > n {
            return Err(ClusterError(format!("k = {k} for {n} points")));
        }
        let mut rng = run_rng(run);
        let centres = kmeans_plus_plus(&self.y, k, &mut rng);
        let model = KMeans::params_with_rng(k, rng)
            .init_method(KMeansInit::Precomputed(centres))
            .n_runs(1)
            .max_n_iterations(300)
            .tolerance(self.tolerance)
            .fit(&DatasetBase::from(self.y.view()))
            .map_err(|e| ClusterError(e.to_string()))?;
        let labels = model.predict(&self.y).to_vec();
        Ok(Run { inertia: model.inertia(), labels, centres: model.centroids().clone() })
    }

    /// The mean of each cluster's points in the input space; an empty cluster keeps its
    /// k-means centre, mapped back.
    fn centres_in_input_space(&self, labels: &[usize], centres: &Array2<f64>) -> Array2<f64> {
        let mut sums = Array2::<f64>::zeros((centres.nrows(), self.x.ncols()));
        let mut counts = vec![0usize; centres.nrows()];
        for (row, &c) in self.x.axis_iter(Axis(0)).zip(labels) {
            let mut sum = sums.row_mut(c);
            sum += &row;
            counts[c] += 1;
        }
        for (c, mut sum) in sums.axis_iter_mut(Axis(0)).enumerate() {
            if counts[c] > 0 {
                sum /= counts[c] as f64;
            } else {
                match &self.projection {
                    Some((mean, basis)) => sum.assign(&(mean + &basis.dot(&centres.row(c)))),
                    None => sum.assign(&centres.row(c)),
                }
            }
        }
        sums
    }
}

/// linfa's threshold on the centres' move (Frobenius norm, not squared) for points `y`.
fn tolerance(y: &Array2<f64>) -> f64 {
    let variance = y.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0);
    (RELATIVE_TOLERANCE * variance).sqrt().max(1e-12)
}

/// An orthonormal basis (d × dims) of the top principal components of centred rows, by
/// subspace iteration on the covariance from a fixed random start.
fn principal_basis(centred: &Array2<f64>, dims: usize) -> Array2<f64> {
    let (n, d) = centred.dim();
    // The covariance (d × d) costs n·d² once and d²·dims an iteration; multiplying by the rows
    // twice instead costs 2·n·d·dims an iteration. The latter wins for few, wide rows (a small
    // week of TF-IDF vectors over a 2,000-word vocabulary).
    let covariance = (n * d * d + PCA_ITERATIONS * d * d * dims < PCA_ITERATIONS * 2 * n * d * dims).then(|| centred.t().dot(centred));
    let mut rng = Xoshiro256Plus::seed_from_u64(SEED);
    let mut basis = Array2::from_shape_simple_fn((d, dims), || uniform(&mut rng) - 0.5);
    orthonormalize(&mut basis);
    for _ in 0..PCA_ITERATIONS {
        basis = match &covariance {
            Some(c) => c.dot(&basis),
            None => centred.t().dot(&centred.dot(&basis)),
        };
        orthonormalize(&mut basis);
    }
    basis
}

/// Modified Gram-Schmidt on the columns; a column with nothing left becomes zero.
fn orthonormalize(m: &mut Array2<f64>) {
    for j in 0..m.ncols() {
        for i in 0..j {
            let dot = m.column(i).dot(&m.column(j));
            let previous = m.column(i).to_owned();
            m.column_mut(j).scaled_add(-dot, &previous);
        }
        let norm = m.column(j).dot(&m.column(j)).sqrt();
        let mut column = m.column_mut(j);
        if norm > 1e-12 {
            column /= norm;
        } else {
            column.fill(0.0);
        }
    }
}

/// k-means++ seeding: the first centre uniformly, each next one with probability proportional
/// to its squared distance to the nearest centre so far (kept up to date, one new centre at a
/// time).
fn kmeans_plus_plus(y: &Array2<f64>, k: usize, rng: &mut Xoshiro256Plus) -> Array2<f64> {
    let y = y.as_standard_layout();
    let rows: Vec<&[f64]> = y.axis_iter(Axis(0)).map(|r| r.to_slice().expect("standard layout")).collect();
    let n = rows.len();
    let first = ((uniform(rng) * n as f64) as usize).min(n - 1);
    let mut chosen = vec![first];
    let mut nearest: Vec<f64> = rows.iter().map(|r| squared_distance(r, rows[first])).collect();
    while chosen.len() < k {
        let total: f64 = nearest.iter().sum();
        let mut target = uniform(rng) * total;
        let mut next = None;
        for (i, &w) in nearest.iter().enumerate() {
            if target < w {
                next = Some(i);
                break;
            }
            target -= w;
        }
        // Nothing left to draw (every point sits on a centre, or rounding at the very end): the
        // first point not chosen yet.
        let next = next.or_else(|| (0..n).rev().find(|&i| nearest[i] > 0.0)).unwrap_or_else(|| (0..n).find(|i| !chosen.contains(i)).unwrap_or(0));
        chosen.push(next);
        for (d, r) in nearest.iter_mut().zip(&rows) {
            *d = d.min(squared_distance(r, rows[next]));
        }
    }
    y.select(Axis(0), &chosen)
}

/// k-means with k-means++ seeding, `RUNS` restarts and a fixed seed.
pub fn kmeans(x: &Array2<f64>, k: usize) -> Result<Clustering, ClusterError> {
    Space::new(x).kmeans(k, RUNS)
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
    fn restarts_in_parallel_give_what_they_give_one_after_another() {
        // Structureless points: the restarts end in different local optima, so which one wins
        // must not depend on the order they finish in.
        let mut rng = Xoshiro256Plus::seed_from_u64(7);
        let rows: Vec<Vec<f32>> = (0..300).map(|_| (0..5).map(|_| uniform(&mut rng) as f32).collect()).collect();
        let x = matrix(&rows);
        let space = Space::new(&x);
        let on_threads = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| space.kmeans(12, RUNS)).unwrap()
        };
        let (one, many) = (on_threads(1), on_threads(4));
        assert_eq!(one.labels, many.labels);
        assert_eq!(one.centroids, many.centroids);
    }

    /// Three blobs in 100 dimensions (wider than `DIMS`), each spread over its own few axes.
    fn wide_blobs() -> Array2<f64> {
        let mut rows = Vec::new();
        for blob in 0..3 {
            for i in 0..30 {
                let mut v = vec![0.0f32; 100];
                v[blob * 10] = 5.0;
                v[blob * 10 + 1 + i % 7] = 0.3 + 0.01 * i as f32;
                v[50 + i % 40] += 0.2;
                rows.push(v);
            }
        }
        matrix(&rows)
    }

    #[test]
    fn wide_vectors_are_clustered_on_principal_components_and_centres_come_back_wide() {
        let x = wide_blobs();
        let c = kmeans(&x, 3).unwrap();
        for g in 0..3 {
            let first = c.labels[g * 30];
            assert!(c.labels[g * 30..(g + 1) * 30].iter().all(|&l| l == first), "{:?}", c.labels);
            let mean = x.slice(ndarray::s![g * 30..(g + 1) * 30, ..]).mean_axis(Axis(0)).unwrap();
            assert!(distance2(c.centroids.row(first), mean.view()) < 1e-9, "a theme's centre is its texts' mean");
        }
        assert_eq!(c.centroids.ncols(), 100);
    }

    #[test]
    fn the_principal_basis_is_orthonormal_and_finds_the_spread() {
        let x = wide_blobs();
        let centred = &x - &x.mean_axis(Axis(0)).unwrap();
        let basis = principal_basis(&centred, DIMS);
        let gram = basis.t().dot(&basis);
        let rank = (0..DIMS).filter(|&i| gram[(i, i)] > 0.5).count();
        for i in 0..DIMS {
            for j in 0..DIMS {
                let want = if i == j && gram[(i, i)] > 0.5 { 1.0 } else { 0.0 };
                assert!((gram[(i, j)] - want).abs() < 1e-9, "({i}, {j}): {}", gram[(i, j)]);
            }
        }
        // Fewer than DIMS directions carry any variance: all of them are kept, so distances are.
        assert!(rank < DIMS);
        let projected = centred.dot(&basis);
        let (a, b) = (0, 45);
        let before = distance2(x.row(a), x.row(b));
        let after = distance2(projected.row(a), projected.row(b));
        assert!((before - after).abs() < 1e-9, "{before} vs {after}");
    }

    #[test]
    fn few_wide_rows_are_projected_without_a_covariance_and_keep_their_distances() {
        // 20 rows over a 3,000-word vocabulary: fewer rows than DIMS, so the projection is exact.
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let rows: Vec<Vec<f32>> = (0..20).map(|_| (0..3000).map(|_| if uniform(&mut rng) < 0.01 { 1.0 } else { 0.0 }).collect()).collect();
        let x = matrix(&rows);
        let space = Space::new(&x);
        assert_eq!(space.y.ncols(), DIMS);
        for (a, b) in [(0, 1), (3, 17), (5, 19)] {
            let (before, after) = (distance2(x.row(a), x.row(b)), distance2(space.y.row(a), space.y.row(b)));
            assert!((before - after).abs() < 1e-6, "{before} vs {after}");
        }
    }

    #[test]
    fn identical_points_still_get_k_clusters_without_panicking() {
        let x = matrix(&vec![vec![1.0, 2.0]; 5]);
        let c = kmeans(&x, 3).unwrap();
        assert_eq!((c.labels.len(), c.k()), (5, 3));
    }

    #[test]
    fn the_fast_distance_is_the_plain_one() {
        let a: Vec<f64> = (0..19).map(|i| i as f64 * 0.37).collect();
        let b: Vec<f64> = (0..19).map(|i| (i * i) as f64 * 0.01).collect();
        let plain: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((squared_distance(&a, &b) - plain).abs() < 1e-9);
    }

    #[test]
    fn nonsense_k_is_an_error_not_a_panic() {
        assert!(kmeans(&blobs(), 0).is_err());
        assert!(kmeans(&blobs(), 1000).is_err());
    }
}
