#!/usr/bin/env python3
"""Times scikit-learn's KMeans on the exact matrix `supportbot eval cluster` clusters.

Usage:
  EVAL_CLUSTER_MATRIX=/tmp/m.npy supportbot eval cluster --input TSV --k 77 --model DIR
      (embeds once and writes the matrix; later runs read it back and time only the clustering)
  scripts/kmeans-vs-sklearn.py /tmp/m.npy TSV 77 [THREADS] [RUNS] [PCA_DIMS]

Prints one JSON line: scikit-learn's seconds (median of RUNS timings, default 3) for
KMeans(n_clusters=k, n_init=10, init="k-means++", random_state=0) with THREADS (default 2) BLAS
and OpenMP threads, and its NMI/ARI against the labels. With PCA_DIMS, each timing is PCA to
that many components (as supportbot's k-means does, see src/domain/cluster.rs) plus KMeans on
them. Needs `pip install scikit-learn numpy`.
"""
import csv, json, statistics, sys, time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from threadpoolctl import threadpool_limits

matrix, tsv, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
pca = int(sys.argv[6]) if len(sys.argv) > 6 else None

x = np.load(matrix)
with open(tsv, newline="") as f:
    labels = [row[1] for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)][1:]
assert len(labels) == len(x), (len(labels), x.shape)

times = []
with threadpool_limits(limits=threads):
    for _ in range(runs):
        started = time.perf_counter()
        y = PCA(n_components=pca, random_state=0).fit_transform(x) if pca else x
        km = KMeans(n_clusters=k, n_init=10, init="k-means++", random_state=0).fit(y)
        times.append(time.perf_counter() - started)
print(json.dumps({
    "sklearn_seconds": round(statistics.median(times), 4),
    "all_seconds": [round(t, 4) for t in times],
    "nmi": round(normalized_mutual_info_score(labels, km.labels_), 4),
    "ari": round(adjusted_rand_score(labels, km.labels_), 4),
    "k": k, "threads": threads, "pca": pca, "dtype": str(x.dtype), "shape": list(x.shape),
    "iterations": int(km.n_iter_),
}))
