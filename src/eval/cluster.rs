//! Protocol 3: cluster every row of a `text<TAB>label` file and score against the labels.

use super::{Row, round4};
use crate::domain::cluster::{kmeans, kmeans_auto, matrix};
use crate::semantic::Embedder;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// Names an `.npy` file of the embedding matrix (a development aid, not a setting): read from it
/// when it exists, written to it otherwise. It lets the clustering be timed and tuned without
/// re-embedding, and compared with other k-means implementations on the very same matrix
/// (`scripts/kmeans-vs-sklearn.py`).
// (Not `SUPPORTBOT_…`: that prefix is the configuration's.)
const MATRIX_CACHE: &str = "EVAL_CLUSTER_MATRIX";

/// A contingency table: how many points of each label fell in each cluster.
struct Contingency {
    counts: Vec<Vec<f64>>, // [cluster][label]
    n: f64,
}

impl Contingency {
    fn new(clusters: &[usize], labels: &[usize]) -> Self {
        let k = clusters.iter().max().map_or(0, |m| m + 1);
        let l = labels.iter().max().map_or(0, |m| m + 1);
        let mut counts = vec![vec![0.0; l]; k];
        for (&c, &y) in clusters.iter().zip(labels) {
            counts[c][y] += 1.0;
        }
        Contingency { counts, n: clusters.len() as f64 }
    }

    fn row_sums(&self) -> Vec<f64> {
        self.counts.iter().map(|r| r.iter().sum()).collect()
    }

    fn col_sums(&self) -> Vec<f64> {
        let l = self.counts.first().map_or(0, Vec::len);
        (0..l).map(|j| self.counts.iter().map(|r| r[j]).sum()).collect()
    }
}

fn entropy(sums: &[f64], n: f64) -> f64 {
    sums.iter().filter(|&&s| s > 0.0).map(|&s| -(s / n) * (s / n).ln()).sum()
}

/// Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default).
pub fn nmi(clusters: &[usize], labels: &[usize]) -> f64 {
    let t = Contingency::new(clusters, labels);
    let (rows, cols) = (t.row_sums(), t.col_sums());
    let mut mi = 0.0;
    for (i, r) in t.counts.iter().enumerate() {
        for (j, &nij) in r.iter().enumerate() {
            if nij > 0.0 {
                mi += (nij / t.n) * ((t.n * nij) / (rows[i] * cols[j])).ln();
            }
        }
    }
    let (hc, hl) = (entropy(&rows, t.n), entropy(&cols, t.n));
    if hc + hl == 0.0 { 1.0 } else { (2.0 * mi / (hc + hl)).clamp(0.0, 1.0) }
}

/// Adjusted Rand index.
pub fn ari(clusters: &[usize], labels: &[usize]) -> f64 {
    let t = Contingency::new(clusters, labels);
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = t.counts.iter().flatten().map(|&x| pairs(x)).sum();
    let (a, b): (f64, f64) = (t.row_sums().iter().map(|&x| pairs(x)).sum(), t.col_sums().iter().map(|&x| pairs(x)).sum());
    let expected = a * b / pairs(t.n);
    let max = (a + b) / 2.0;
    if max == expected { 1.0 } else { (index - expected) / (max - expected) }
}

/// Accuracy after the best one-to-one matching of clusters to labels (Hungarian algorithm).
pub fn accuracy(clusters: &[usize], labels: &[usize]) -> f64 {
    let t = Contingency::new(clusters, labels);
    let size = t.counts.len().max(t.col_sums().len());
    // kuhn_munkres needs rows <= columns: pad to a square matrix of counts.
    let mut weights = pathfinding::matrix::Matrix::new(size, size, 0i64);
    for (i, r) in t.counts.iter().enumerate() {
        for (j, &x) in r.iter().enumerate() {
            weights[(i, j)] = x as i64;
        }
    }
    let (matched, _) = pathfinding::kuhn_munkres::kuhn_munkres(&weights);
    matched as f64 / t.n
}

/// Runs the protocol: embeds every text, clusters (with `k`, or the bot's own choice), scores.
/// Without a model the features are TF-IDF vectors, as the digest's themes use then.
pub fn evaluate(rows: &[Row], k: Option<usize>, model: Option<&Embedder>) -> anyhow::Result<Value> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let labels: Vec<usize> = rows
        .iter()
        .map(|r| {
            let next = ids.len();
            *ids.entry(r.label.as_str()).or_insert(next)
        })
        .collect();
    let started = Instant::now();
    let cache = std::env::var_os(MATRIX_CACHE).map(std::path::PathBuf::from);
    let vectors = match (&cache, model) {
        (Some(path), _) if path.exists() => read_npy(path)?,
        (_, Some(model)) => model.embed(&rows.iter().map(|r| r.text.as_str()).collect::<Vec<_>>())?,
        (_, None) => crate::domain::tfidf::tfidf_for_texts(rows.iter().map(|r| r.text.as_str()))
            .ok_or_else(|| anyhow::anyhow!("the texts share no word: nothing to cluster on"))?,
    };
    if let Some(path) = cache.as_deref().filter(|p| !p.exists()) {
        write_npy(path, &vectors)?;
    }
    anyhow::ensure!(vectors.len() == rows.len(), "{} vectors for {} rows", vectors.len(), rows.len());
    let x = matrix(&vectors);
    let features_s = started.elapsed().as_secs_f64();
    let clustering_started = Instant::now();
    let c = match k {
        Some(k) => kmeans(&x, k)?,
        None => kmeans_auto(&x)?,
    };
    let clustering_s = clustering_started.elapsed().as_secs_f64();
    Ok(json!({
        "nmi": round4(nmi(&c.labels, &labels)),
        "ari": round4(ari(&c.labels, &labels)),
        "acc": round4(accuracy(&c.labels, &labels)),
        "k": c.k(),
        "labels": ids.len(),
        "rows": rows.len(),
        "seconds": round4(started.elapsed().as_secs_f64()),
        "features_seconds": round4(features_s),
        "clustering_seconds": round4(clustering_s),
        "features": match (&cache, model) {
            (Some(path), _) => format!("embeddings cached in {}", path.display()),
            (None, Some(model)) => format!("{} embeddings", model.id()),
            (None, None) => "TF-IDF (linfa-preprocessing)".to_string(),
        },
    }))
}

/// Writes row vectors as a NumPy `.npy` file (version 1.0, little-endian f32, C order).
fn write_npy(path: &Path, vectors: &[Vec<f32>]) -> anyhow::Result<()> {
    let (n, d) = (vectors.len(), vectors.first().map_or(0, Vec::len));
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {d}), }}");
    // Magic, version, length, header and newline together: a multiple of 64 bytes.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in vectors {
        out.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    }
    std::fs::write(path, out).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}

/// Reads what [`write_npy`] writes (and nothing fancier).
fn read_npy(path: &Path) -> anyhow::Result<Vec<Vec<f32>>> {
    let raw = std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    anyhow::ensure!(raw.len() >= 10 && raw.starts_with(b"\x93NUMPY\x01"), "{}: not an .npy file", path.display());
    let start = 10 + usize::from(u16::from_le_bytes([raw[8], raw[9]]));
    let header = std::str::from_utf8(raw.get(10..start).unwrap_or_default())?;
    anyhow::ensure!(header.contains("'<f4'") && header.contains("False"), "{}: want little-endian f32, C order", path.display());
    let shape: Vec<usize> = header
        .split_once("'shape': (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(dims, _)| dims.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_default();
    let [n, d] = shape[..] else { anyhow::bail!("{}: want a 2-D matrix", path.display()) };
    let body = &raw[start..];
    anyhow::ensure!(body.len() == n * d * 4, "{}: {} bytes for {n} x {d}", path.display(), body.len());
    let floats: Vec<f32> = body.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(floats.chunks(d.max(1)).take(n).map(<[f32]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_clustering_scores_one_whatever_the_names() {
        let labels = [0, 0, 1, 1, 2, 2];
        let clusters = [2, 2, 0, 0, 1, 1];
        assert!((nmi(&clusters, &labels) - 1.0).abs() < 1e-9);
        assert!((ari(&clusters, &labels) - 1.0).abs() < 1e-9);
        assert!((accuracy(&clusters, &labels) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn scores_match_hand_computed_values() {
        // Worked by hand: MI = (2/3) ln 2, H(clusters) = ln 3, H(labels) = ln 2; ARI = (2 - 1.2) / (4.5 - 1.2).
        let labels = [0, 0, 0, 1, 1, 1];
        let clusters = [0, 0, 1, 1, 2, 2];
        assert!((nmi(&clusters, &labels) - 0.5158).abs() < 1e-3, "{}", nmi(&clusters, &labels));
        assert!((ari(&clusters, &labels) - 0.2424).abs() < 1e-3, "{}", ari(&clusters, &labels));
        assert!((accuracy(&clusters, &labels) - 4.0 / 6.0).abs() < 1e-9);
    }

    #[test]
    fn the_matrix_cache_reads_back_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npy");
        let vectors = vec![vec![1.0, -2.5, 3.25], vec![0.0, 1e-7, f32::MAX]];
        write_npy(&path, &vectors).unwrap();
        assert_eq!(read_npy(&path).unwrap(), vectors);
        let raw = std::fs::read(&path).unwrap();
        assert_eq!((10 + u16::from_le_bytes([raw[8], raw[9]]) as usize) % 64, 0, "NumPy aligns the header");
    }

    #[test]
    fn without_a_model_the_evaluation_clusters_tf_idf_vectors() {
        let tsv = "text\tlabel\ncard has not arrived\tcard\nmy card never arrived\tcard\nwhen will my card arrive\tcard\n\
                   reset my password\tpassword\npassword reset fails\tpassword\nforgot my password reset\tpassword\n";
        let rows = crate::eval::parse_tsv(tsv).unwrap();
        let m = evaluate(&rows, Some(2), None).unwrap();
        assert_eq!(m["features"], "TF-IDF (linfa-preprocessing)");
        assert_eq!(m["nmi"], 1.0, "{m}");
    }

    #[test]
    fn everything_in_one_cluster_carries_no_information() {
        let labels = [0, 1, 2, 0, 1, 2];
        assert!(nmi(&[0; 6], &labels).abs() < 1e-9);
        assert!(ari(&[0; 6], &labels).abs() < 1e-9);
    }
}
