"""Data-driven customer clusters: k-means on standardised log RFM and engagement features.

Features of a scored customer (one with a revenue order in the RFM window): ``log1p`` of recency
days, frequency, monetary EUR (negative values as 0) and non-passive touches in 90 days, each
standardised to mean 0 and standard deviation 1 over the scored customers (a constant feature stays
0). The log tames the long tails that would otherwise make the biggest spenders clusters of their own.

k-means: k-means++ seeding from ``numpy.random.default_rng(seed)``, Lloyd iterations until no
customer changes cluster (at most ``max_iter``), ``n_init`` seedings and the lowest inertia wins; an
empty cluster takes the point farthest from its centroid. Above 50,000 scored customers the centres are
fitted on a seeded sample of 50,000 and every customer is then assigned to the nearest one. The input is sorted by customer_id first,
so the same data and seed always give the same clusters. Clusters are numbered 1..k by descending
mean monetary value (cluster 1 spends most), ties by descending mean frequency, and described in
plain words from their centroid: a standardised centroid coordinate >= 0.5 or <= -0.5 names the
feature (recent / lapsed, frequent / infrequent, high spend / low spend, engaged / unengaged), and
the raw means follow in brackets.
"""

from __future__ import annotations

import numpy as np
import polars as pl

DEFAULT_CLUSTERS = 4
DEFAULT_SEED = 0
FIT_SAMPLE = 50_000  # centres are fitted on at most this many customers, then everyone is assigned
FEATURES: tuple[str, ...] = ("recency_days", "frequency", "monetary_eur", "touches_90d")
# (low word, high word) of each standardised feature; recency is inverted (more days = lapsed)
_WORDS: tuple[tuple[str, str], ...] = (
    ("recent", "lapsed"),
    ("infrequent", "frequent"),
    ("low spend", "high spend"),
    ("unengaged", "engaged"),
)
_DESCRIBE_AT = 0.5
CLUSTER_SCHEMA = pl.Struct({"cluster": pl.Int32, "cluster_description": pl.Utf8})


def standardise(raw: np.ndarray) -> np.ndarray:
    """log1p of the non-negative raw features, then each column to mean 0 and standard deviation 1."""
    logged = np.log1p(np.clip(raw, 0.0, None))
    std = logged.std(axis=0)
    return (logged - logged.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _squared_distances(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(n, k) squared Euclidean distances, one centre at a time (exact, no BLAS threads).

    The differences go to one reused buffer and the sums straight into their column: the same
    arithmetic as a fresh ``points - center`` per centre, without allocating (n, dims) each time.
    """
    distances = np.empty((len(centers), len(points)))
    diff = np.empty_like(points)
    for j, center in enumerate(centers):
        np.subtract(points, center, out=diff)
        np.einsum("ij,ij->i", diff, diff, out=distances[j])
    return distances.T


def kmeans_plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to k initial centres: the first uniformly at random, each next with probability ~ squared distance.

    Stops early when every point coincides with a centre (fewer than k distinct points).
    """
    centers = [points[rng.integers(len(points))]]
    closest = _squared_distances(points, np.asarray(centers))[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:
            break
        index = rng.choice(len(points), p=closest / total)
        centers.append(points[index])
        closest = np.minimum(closest, _squared_distances(points, points[index : index + 1])[:, 0])
    return np.asarray(centers)


def lloyd(points: np.ndarray, centers: np.ndarray, max_iter: int = 100,
          tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd iterations from the given centres: (labels, centres, inertia = sum of squared distances).

    Stops when no point changes cluster or the centres move less than ``tol`` x the mean feature
    variance (squared, summed over centres; scikit-learn's rule), or after ``max_iter`` iterations.
    """
    centers = centers.copy()
    k, dims = centers.shape
    threshold = tol * float(points.var(axis=0).mean()) if len(points) else 0.0
    labels = np.full(len(points), -1)
    for _ in range(max_iter):
        distances = _squared_distances(points, centers)
        new_labels = distances.argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        counts = np.bincount(labels, minlength=k)
        sums = np.column_stack([np.bincount(labels, weights=points[:, d], minlength=k) for d in range(dims)])
        new_centers = centers.copy()
        filled = counts > 0
        new_centers[filled] = sums[filled] / counts[filled, None]
        for cluster in np.flatnonzero(~filled):
            # an empty cluster restarts at the point farthest from its own centre
            farthest = int(distances[np.arange(len(points)), labels].argmax())
            new_centers[cluster] = points[farthest]
            labels[farthest] = cluster
        shift = float(((new_centers - centers) ** 2).sum())
        centers = new_centers
        if shift <= threshold:
            break
    distances = _squared_distances(points, centers)
    labels = distances.argmin(axis=1)
    inertia = float(distances[np.arange(len(points)), labels].sum())
    return labels, centers, inertia


def kmeans(points: np.ndarray, k: int, seed: int = DEFAULT_SEED, n_init: int = 4, max_iter: int = 100,
           fit_sample: int = FIT_SAMPLE) -> tuple[np.ndarray, np.ndarray, float]:
    """Best of ``n_init`` k-means++ seeded Lloyd runs: (labels 0..k-1, centres, inertia over all points).

    With more than ``fit_sample`` points the centres are fitted on a seeded random sample of that
    size and every point then goes to its nearest centre.
    """
    rng = np.random.default_rng(seed)
    fit_points = points
    if len(points) > fit_sample:
        fit_points = points[np.sort(rng.choice(len(points), size=fit_sample, replace=False))]
    best = lloyd(fit_points, kmeans_plus_plus(fit_points, k, rng), max_iter)
    for _ in range(n_init - 1):
        result = lloyd(fit_points, kmeans_plus_plus(fit_points, k, rng), max_iter)
        if result[2] < best[2]:
            best = result
    centers = best[1]
    if fit_points is points:
        return best
    distances = _squared_distances(points, centers)
    labels = distances.argmin(axis=1)
    return labels, centers, float(distances[np.arange(len(points)), labels].sum())


def _describe(number: int, center: np.ndarray, means: np.ndarray) -> str:
    words = [low if z <= -_DESCRIBE_AT else high for z, (low, high) in zip(center, _WORDS, strict=True)
             if abs(z) >= _DESCRIBE_AT]
    recency, frequency, monetary, touches = means
    return (
        f"{number}: {', '.join(words) or 'average'} (avg {recency:.0f} days since last order, "
        f"{frequency:.1f} orders, {monetary:.0f} EUR, {touches:.1f} touches in 90 days)"
    )


def assign_clusters(features: pl.Series, k: int = DEFAULT_CLUSTERS, seed: int = DEFAULT_SEED) -> pl.Series:
    """Cluster number and description per row of a struct Series of ``FEATURES``; NULL for unscored rows.

    A row is scored when recency, frequency and monetary are all present; missing touches count 0.
    With fewer distinct scored customers than k, there are fewer clusters (k-means++ finds no new centre).
    """
    frame = features.struct.unnest()
    columns = [frame[name].cast(pl.Float64).to_numpy() for name in FEATURES]
    # missing touches count 0 (converted on the contiguous column, cheaper than on a strided one)
    columns[3] = np.nan_to_num(columns[3], nan=0.0)
    raw = np.column_stack(columns)
    scored = ~(np.isnan(columns[0]) | np.isnan(columns[1]) | np.isnan(columns[2]))
    numbers = np.zeros(len(raw), dtype=np.int32)
    descriptions: list[str] = []
    points = standardise(raw[scored]) if scored.any() else np.empty((0, len(FEATURES)))
    if len(points):
        labels, centers, _ = kmeans(points, k, seed)
        k = len(centers)
        scored_raw = raw[scored]
        # per-cluster means by bincount: each column summed in row order, as mean over a mask would
        counts = np.bincount(labels, minlength=k)
        means = np.column_stack([np.bincount(labels, weights=scored_raw[:, d], minlength=k)
                                 for d in range(scored_raw.shape[1])]) / counts[:, None]
        # cluster 1 spends most on average; ties by frequency, then by the centre itself
        order = sorted(range(k), key=lambda c: (-means[c, 2], -means[c, 1], tuple(centers[c])))
        number_of = np.empty(k, dtype=np.int32)
        number_of[order] = np.arange(1, k + 1, dtype=np.int32)
        numbers[scored] = number_of[labels]
        descriptions = [_describe(number, centers[c], means[c]) for number, c in enumerate(order, start=1)]
    cluster = pl.Series("cluster", numbers).set(pl.Series(~scored), None)
    return pl.DataFrame(
        {"cluster": cluster,
         "cluster_description": pl.Series([None, *descriptions], dtype=pl.Utf8).gather(cluster.fill_null(0))}
    ).to_struct(features.name)


def cluster_expr(k: int = DEFAULT_CLUSTERS, seed: int = DEFAULT_SEED) -> pl.Expr:
    """A struct (cluster, cluster_description) over the whole frame; sort by customer_id before it."""
    return pl.struct(*FEATURES).map_batches(
        lambda features: assign_clusters(features, k, seed), return_dtype=CLUSTER_SCHEMA
    )
