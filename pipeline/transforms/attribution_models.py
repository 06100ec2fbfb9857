"""Data-driven attribution on grouped paths: Markov chain removal effects and Shapley values.

Both models work on distinct paths (``group_paths``): a million journeys over a handful of
channels collapse to tens of thousands of paths, and every count below is weighted by how many
journeys took the path.

Markov chain (``markov_removal_effects``, ``markov_credits``)
    States are START, the channel states, CONVERSION and NULL (both absorbing). With ``order=1`` a
    channel state is one channel; with ``order=k`` it is the tuple of the last ``k`` channels, and
    the first ``k - 1`` states of a path are its shorter prefixes (``A > B > C`` at order 2 walks
    START, (A), (A, B), (B, C), then CONVERSION or NULL), so paths shorter than ``k`` still count.
    Transition probabilities are transition counts weighted by path counts, divided by the state's
    total outgoing count; converting paths end in CONVERSION, the others in NULL; a converting path
    without touchpoints is a START -> CONVERSION transition (as in MAM). The conversion
    probability P is the absorption probability in CONVERSION from START, found by solving
    ``(I - Q) x = R[:, CONVERSION]`` (never an explicit inverse). Removing channel c sends every
    transition into a state that contains c to NULL; removal effect
    ``RE_c = 1 - P(c removed) / P`` and ``share_c = RE_c / sum(RE)``.

    Repeated channels: by default (``transition_to_same_state=False``, MAM's default) consecutive
    repeats are collapsed before the states are built (``A > A > B`` is ``A > B``). At order 1 this
    drops exactly the self-transitions MAM drops; it cannot change order-1 results anyway, because
    a self-loop only delays absorption and never changes where the chain is absorbed.

    Removal effects lie in [0, 1] by construction: redirecting transitions to NULL can only lower
    the absorption probability in CONVERSION, and (I - Q) is non-singular because every state was
    seen on a path that was absorbed. The solve can leave a last-bit error, so effects are
    clipped to [0, 1]. No conversions at all (P = 0) gives NULL effects and shares, not 0.

Shapley value (``shapley_values``, ``shapley_credits``)
    The "simplified Shapley value" of Zhao et al. (2018): the characteristic function of a
    coalition S is ``v(S) = sum of c(T) over channel sets T that are subsets of S``, where ``c(T)``
    is the conversions (or conversion value) of journeys whose SET of channels is exactly T.
    Journeys without touchpoints belong to no channel and are left out (v(empty set) = 0), so the
    values sum to the conversions of journeys with at least one touchpoint. This game is a sum of
    unanimity games, so its Shapley value has the closed form ``sum over T containing i of
    c(T) / |T|``: each path's conversions are split equally over its distinct channels. The exact
    computation enumerates all 2^n coalitions with bitmasks (vectorised numpy); beyond
    ``max_exact_channels`` it samples permutations and reports the standard error.

Where MAM (marketing-attribution-models 2.1.1) differs
    - Markov: identical definition at order 1 (MAM has no higher order). MAM inverts (I - Q) with
      ``np.linalg.inv``; kohde solves. MAM does not clip; MAM gives 0 instead of NULL when nothing
      converts. MAM's per-journey split counts every touchpoint (``A > B > A`` gives A two shares
      of the split); kohde's ``markov_credits`` counts each channel once per path unless
      ``touchpoint_weighted=True``, which reproduces MAM's split.
    - Shapley: MAM's game is not this one. For each channel set T that converted, MAM computes the
      Shapley value of a game on the subsets of T whose worth is the value of journeys whose set
      is EXACTLY S (not "a subset of S"), and adds these per-set values up. By default it uses
      the conversion RATE of S as worth and rescales each set's values to sum to T's conversions,
      and (``max_size=4``) it keeps only the alphabetically last four channels of a set. Per-set
      values can be negative (a channel whose sub-coalitions convert better than the set with it).
      kohde's values equal MAM's ``run_linear`` on journeys reduced to their distinct channels.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import polars as pl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pipeline.errors import ConfigError

# Up to this many transient states (I - Q) is solved as a dense matrix, beyond iteratively.
_DENSE_SOLVE_MAX_STATES = 500
# Largest residual max|(I - Q) x - r| accepted from the iterative solver.
_SOLVE_RESIDUAL = 1e-12
# 2^24 coalitions take about 130 MB per float array; beyond that, sample permutations.
MAX_ENUMERATED_CHANNELS = 24
# Elements per block of the permutation sampler (permutations x channel sets x set size).
_SAMPLER_BLOCK_ELEMENTS = 4_000_000

_START, _CONVERSION, _NULL = 0, -1, -2

Worth = Literal["conversions", "value"]


def group_paths(journeys: pl.LazyFrame) -> pl.LazyFrame:
    """One row per distinct path: conversions, non_conversions and the summed conversion value.

    Input: one row per journey with ``path`` (List[str], channels in time order), ``converted``
    (Boolean) and ``value`` (Float64, 0 for non-converting journeys). A NULL path counts as the
    empty path, a NULL ``converted`` as not converted and a NULL ``value`` as 0. Rows are sorted by
    path so downstream floating-point sums are reproducible.
    """
    converted = pl.col("converted").fill_null(False)
    return (
        journeys.with_columns(pl.col("path").fill_null([]).alias("path"))
        .group_by("path")
        .agg(
            converted.sum().cast(pl.Int64).alias("conversions"),
            (~converted).sum().cast(pl.Int64).alias("non_conversions"),
            pl.col("value").fill_null(0.0).sum().cast(pl.Float64).alias("value"),
        )
        .sort("path")
    )


def _touchpoints(paths: pl.DataFrame, collapse_repeats: bool) -> pl.DataFrame:
    """One row per touchpoint of ``paths`` in path order: path_id (row number) and channel."""
    touch = (
        paths.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("path_id"), pl.col("path").alias("channel"))
        .explode("channel")
        .drop_nulls("channel")
    )
    if collapse_repeats:
        same_path = pl.col("path_id") == pl.col("path_id").shift(1)
        touch = touch.filter(~(same_path & (pl.col("channel") == pl.col("channel").shift(1))).fill_null(False))
    return touch


def _check_order(order: int) -> None:
    if not isinstance(order, int) or order < 1:
        raise ConfigError(f"Markov order must be a positive integer, got {order!r}")


def _markov_chain(
    paths: pl.DataFrame, order: int, transition_to_same_state: bool
) -> tuple[list[str], np.ndarray, sp.csr_matrix, np.ndarray]:
    """The absorbing chain of ``paths``.

    Returns the channels (sorted), a (states x order) array of channel codes per transient state
    (1-based, 0 for an empty slot of a prefix state), the transient-to-transient probability
    matrix Q with START at index 0 and the vector of probabilities into CONVERSION.
    """
    weighted = paths.select(
        "path",
        pl.col("conversions").cast(pl.Float64).alias("conversions"),
        pl.col("non_conversions").cast(pl.Float64).alias("non_conversions"),
    ).filter((pl.col("conversions") + pl.col("non_conversions")) > 0)
    touch = _touchpoints(weighted, collapse_repeats=not transition_to_same_state)
    channels = sorted(touch.get_column("channel").unique().to_list())
    base = len(channels) + 1
    if base**order >= 2**62:
        raise ConfigError(f"Markov order {order} over {len(channels)} channels has too many states to encode")

    path_weights = weighted.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("path_id"),
        (pl.col("conversions") + pl.col("non_conversions")).alias("journeys"),
        "conversions",
        "non_conversions",
    )
    code = pl.col("channel").replace_strict(channels, list(range(1, base)), return_dtype=pl.Int64)
    # State id = sum over j < order of code(t - j) * base^j; 0 where the path has no channel t - j.
    state = pl.sum_horizontal(
        [
            pl.when(pl.col("path_id").shift(j) == pl.col("path_id")).then(pl.col("code").shift(j)).otherwise(0)
            * base**j
            for j in range(order)
        ]
    )
    states = (
        touch.with_columns(code.alias("code"))
        .with_columns(state.alias("state"))
        .with_columns(
            pl.col("state").shift(-1).alias("next_state"),
            (pl.col("path_id") != pl.col("path_id").shift(1)).fill_null(True).alias("is_first"),
            (pl.col("path_id") != pl.col("path_id").shift(-1)).fill_null(True).alias("is_last"),
        )
        .join(path_weights, on="path_id", how="left")
    )
    empty_paths = path_weights.join(touch.select("path_id").unique(), on="path_id", how="anti")
    start, conversion, null = (pl.lit(state_id, pl.Int64) for state_id in (_START, _CONVERSION, _NULL))
    edges = (
        (states.filter("is_first"), start, pl.col("state"), "journeys"),
        (states.filter(~pl.col("is_last")), pl.col("state"), pl.col("next_state"), "journeys"),
        (states.filter("is_last"), pl.col("state"), conversion, "conversions"),
        (states.filter("is_last"), pl.col("state"), null, "non_conversions"),
        (empty_paths, start, conversion, "conversions"),
        (empty_paths, start, null, "non_conversions"),
    )
    transitions = (
        pl.concat(
            [
                frame.select(from_state.alias("from_state"), to_state.alias("to_state"), pl.col(weight).alias("weight"))
                for frame, from_state, to_state, weight in edges
            ]
        )
        .group_by("from_state", "to_state")
        .agg(pl.col("weight").sum())
        .filter(pl.col("weight") > 0)
        .with_columns((pl.col("weight") / pl.col("weight").sum().over("from_state")).alias("probability"))
    )

    state_ids = np.unique(transitions.filter(pl.col("from_state") != _START).get_column("from_state").to_numpy())
    # Index 0 is START, channel states follow in id order.
    index_of = np.concatenate(([_START], state_ids))
    from_state = transitions.get_column("from_state").to_numpy()
    to_state = transitions.get_column("to_state").to_numpy()
    probability = transitions.get_column("probability").to_numpy()
    rows = np.searchsorted(index_of, from_state)
    size = len(index_of)
    into_state = to_state > 0
    q = sp.csr_matrix(
        (probability[into_state], (rows[into_state], np.searchsorted(index_of, to_state[into_state]))),
        shape=(size, size),
    )
    into_conversion = to_state == _CONVERSION
    r_conversion = np.bincount(rows[into_conversion], weights=probability[into_conversion], minlength=size)
    digits = np.stack([(state_ids // base**j) % base for j in range(order)], axis=1).reshape(-1, order)
    return channels, digits, q, r_conversion


def _conversion_probability(q: sp.csr_matrix, r_conversion: np.ndarray, keep: np.ndarray) -> float:
    """Absorption probability in CONVERSION from START over the kept states (START is index 0).

    Dropped states are the removed ones: a transition into them counts as a transition to NULL,
    so it simply disappears from the system ``(I - Q_kept) x = r_kept``. Small systems are solved
    densely (LU). Large ones, where a sparse LU fills in (higher-order chains are de Bruijn-like
    graphs), go to GMRES, which converges fast because (I - Q) is a diagonally dominant M-matrix;
    should its residual stay above _SOLVE_RESIDUAL, the sparse LU solves it instead.
    """
    kept = np.flatnonzero(keep)
    system = sp.identity(len(kept), format="csr") - q[kept][:, kept]
    r_kept = r_conversion[kept]
    if len(kept) <= _DENSE_SOLVE_MAX_STATES:
        return float(np.linalg.solve(system.toarray(), r_kept)[0])
    absorbed, info = spla.gmres(system, r_kept, rtol=_SOLVE_RESIDUAL / 10, atol=0.0, restart=100, maxiter=1000)
    if info != 0 or np.abs(system @ absorbed - r_kept).max() > _SOLVE_RESIDUAL:
        absorbed = spla.spsolve(system.tocsc(), r_kept)
    return float(absorbed[0])


def markov_removal_effects(
    paths: pl.DataFrame, order: int = 1, *, transition_to_same_state: bool = False
) -> pl.DataFrame:
    """One row per channel: removal_effect and share of a Markov chain of the given order.

    ``paths`` is ``group_paths`` output (path, conversions, non_conversions). ``removal_effect``
    = 1 - P(conversion | channel removed) / P(conversion), in [0, 1]; ``share`` = removal_effect /
    sum of removal effects. Both are NULL when nothing converted. See the module docstring for the
    states, the removal rule and repeated channels.
    """
    _check_order(order)
    channels, digits, q, r_conversion = _markov_chain(paths, order, transition_to_same_state)
    everything = np.ones(q.shape[0], dtype=bool)
    conversion_probability = _conversion_probability(q, r_conversion, everything)
    removal_effects: list[float | None] = []
    for code in range(1, len(channels) + 1):
        if conversion_probability <= 0.0:
            removal_effects.append(None)
            continue
        # Removing a channel removes every state that contains it (START is never removed).
        keep = np.concatenate(([True], ~(digits == code).any(axis=1)))
        without = _conversion_probability(q, r_conversion, keep)
        # Mathematically in [0, 1]; the clip only removes the solver's last-bit error.
        removal_effects.append(float(np.clip(1.0 - without / conversion_probability, 0.0, 1.0)))
    return pl.DataFrame(
        {"channel": channels, "removal_effect": removal_effects},
        schema={"channel": pl.String, "removal_effect": pl.Float64},
    ).with_columns(
        # share = removal effect / sum of removal effects
        (
            pl.col("removal_effect") / pl.when(pl.col("removal_effect").sum() > 0).then(pl.col("removal_effect").sum())
        ).alias("share")
    )


def _split_over_path_channels(paths: pl.DataFrame, weights: pl.DataFrame, touchpoint_weighted: bool) -> pl.DataFrame:
    """Credit of each converting path's channels in proportion to ``weights`` (channel, weight).

    A path whose channels all weigh 0 is split equally, so credits always sum to 1 per path.
    """
    converting = paths.filter(pl.col("conversions") > 0).select("path")
    touch = _touchpoints(converting, collapse_repeats=False)
    per_channel = (
        touch.group_by("path_id", "channel")
        .agg(pl.len().cast(pl.Float64).alias("touches"))
        .join(weights, on="channel", how="left")
        .with_columns(
            (pl.col("weight").fill_null(0.0) * (pl.col("touches") if touchpoint_weighted else 1.0)).alias("weight")
        )
    )
    total = pl.col("weight").sum().over("path_id")
    return (
        per_channel.with_columns(
            pl.when(total > 0).then(pl.col("weight") / total).otherwise(1.0 / pl.len().over("path_id")).alias("credit")
        )
        .join(converting.with_row_index("path_id").with_columns(pl.col("path_id").cast(pl.Int64)), on="path_id")
        .sort("path_id", "channel")
        .select("path", "channel", "credit")
    )


def markov_credits(
    paths: pl.DataFrame,
    order: int = 1,
    *,
    transition_to_same_state: bool = False,
    touchpoint_weighted: bool = False,
) -> pl.DataFrame:
    """One row per converting path and channel on it: the channel's credit (sums to 1 per path).

    A converting path's conversions are split over its distinct channels in proportion to their
    removal effects: ``credit = RE_c / sum of RE over the path's channels``. This is MAM's
    per-journey split except that MAM weighs a channel by its touchpoints on the path
    (``A > B > A``: A gets 2 RE_A / (2 RE_A + RE_B)); ``touchpoint_weighted=True`` does the same.
    ChannelAttribution's ``markov_model`` returns channel totals only (no per-path split). Every
    channel of a converting path has a positive removal effect (removing it removes that path),
    so the split is well defined; should they all round to 0, the path is split equally. Paths
    without conversions or without touchpoints get no rows.
    """
    effects = markov_removal_effects(paths, order, transition_to_same_state=transition_to_same_state)
    weights = effects.select("channel", pl.col("removal_effect").alias("weight"))
    return _split_over_path_channels(paths, weights, touchpoint_weighted)


def _channel_sets(paths: pl.DataFrame, by: Worth) -> tuple[list[str], pl.DataFrame]:
    """All channels (sorted) and one row per distinct channel set with a non-zero worth.

    Columns: ``members`` (sorted 0-based codes into the channel list) and ``worth`` (summed ``by``
    of the journeys whose set of channels is exactly ``members``).
    """
    if by not in ("conversions", "value"):
        raise ConfigError(f"Shapley worth must be 'conversions' or 'value', got {by!r}")
    touch = _touchpoints(paths.select("path"), collapse_repeats=False)
    channels = sorted(touch.get_column("channel").unique().to_list())
    worth = paths.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("path_id"), pl.col(by).cast(pl.Float64))
    sets = (
        touch.with_columns(
            pl.col("channel").replace_strict(channels, list(range(len(channels))), return_dtype=pl.Int64).alias("code")
        )
        .group_by("path_id")
        .agg(pl.col("code").unique().sort().alias("members"))
        .join(worth, on="path_id")
        .group_by("members")
        .agg(pl.col(by).sum().alias("worth"))
        .filter(pl.col("worth") != 0)
        .sort("members")
    )
    return channels, sets


def _zeta(worth: np.ndarray) -> np.ndarray:
    """v(S) = sum of worth(T) over T subset of S, for every bitmask S (the subset-sum transform)."""
    v = worth.copy()
    n = int(len(v)).bit_length() - 1
    for i in range(n):
        halves = v.reshape(-1, 2, 1 << i)
        halves[:, 1, :] += halves[:, 0, :]
    return v


def _shapley_by_enumeration(v: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the game ``v`` given on all 2^n bitmask coalitions (v[0] = 0).

    phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)).
    """
    n = int(len(v)).bit_length() - 1
    size = np.zeros(len(v), dtype=np.int64)
    for i in range(n):
        size.reshape(-1, 2, 1 << i)[:, 1, :] += 1
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    values = np.empty(n)
    for i in range(n):
        halves = v.reshape(-1, 2, 1 << i)
        without_i = size.reshape(-1, 2, 1 << i)[:, 0, :]
        values[i] = np.sum(weight[without_i] * (halves[:, 1, :] - halves[:, 0, :]))
    return values


def _shapley_by_sampling(
    n: int, members: pl.DataFrame, worth: np.ndarray, samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo Shapley values and their standard errors from ``samples`` random permutations.

    In a permutation, channel i's marginal contribution v(before i + i) - v(before i) is the worth
    of every set T whose last member to arrive is i. The last member of T is the member with the
    largest of n i.i.d. uniform keys (the keys' order is a uniform random permutation).
    """
    flat = (
        members.with_row_index("set_id")
        .explode("members")
        .with_columns(pl.int_range(pl.len()).over("set_id").alias("slot"))
    )
    width = int(flat.get_column("slot").max()) + 1  # type: ignore[arg-type]
    # Rows are channel sets, columns their members; padding is the dummy channel n.
    padded = np.full((len(members), width), n, dtype=np.int64)
    padded[flat.get_column("set_id").to_numpy(), flat.get_column("slot").to_numpy()] = flat.get_column(
        "members"
    ).to_numpy()
    rng = np.random.default_rng(seed)
    total = np.zeros(n)
    total_squares = np.zeros(n)
    block = max(1, _SAMPLER_BLOCK_ELEMENTS // (len(members) * width))
    done = 0
    while done < samples:
        count = min(block, samples - done)
        # Key -1 for the padding column, so padding is never the last member.
        keys = np.concatenate((rng.random((count, n)), np.full((count, 1), -1.0)), axis=1)
        last_slot = keys[:, padded].argmax(axis=2)
        last_member = np.take_along_axis(padded[None, :, :], last_slot[:, :, None], axis=2)[:, :, 0]
        permutation = np.arange(count)[:, None]
        marginal = np.bincount(
            (permutation * n + last_member).ravel(),
            weights=np.broadcast_to(worth, last_member.shape).ravel(),
            minlength=count * n,
        ).reshape(count, n)
        total += marginal.sum(axis=0)
        total_squares += (marginal**2).sum(axis=0)
        done += count
    mean = total / samples
    variance = np.maximum(total_squares / samples - mean**2, 0.0) * samples / max(samples - 1, 1)
    return mean, np.sqrt(variance / samples)


def _shapley(
    paths: pl.DataFrame, by: Worth, max_exact_channels: int, samples: int, seed: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    if not 0 <= max_exact_channels <= MAX_ENUMERATED_CHANNELS:
        raise ConfigError(
            f"max_exact_channels must be between 0 and {MAX_ENUMERATED_CHANNELS}, got {max_exact_channels}"
        )
    channels, sets = _channel_sets(paths, by)
    n = len(channels)
    worth = sets.get_column("worth").to_numpy()
    if n == 0 or sets.height == 0:
        return channels, np.zeros(n), np.zeros(n)
    if n <= max_exact_channels:
        masks = (
            sets.select(pl.col("members").list.eval(pl.lit(2, pl.Int64).pow(pl.element())).list.sum())
            .to_series()
            .to_numpy()
        )
        exact_worth = np.bincount(masks, weights=worth, minlength=1 << n)
        return channels, _shapley_by_enumeration(_zeta(exact_worth)), np.zeros(n)
    if samples < 2:
        raise ConfigError(f"Shapley sampling needs at least 2 permutations, got {samples}")
    values, stderr = _shapley_by_sampling(n, sets.select("members"), worth, samples, seed)
    return channels, values, stderr


def shapley_values(
    paths: pl.DataFrame,
    max_exact_channels: int = 15,
    samples: int = 20_000,
    seed: int = 0,
    *,
    by: Worth = "conversions",
) -> pl.DataFrame:
    """One row per channel: shapley_value, share and stderr of the simplified Shapley value.

    ``paths`` is ``group_paths`` output. The worth of a coalition S is the ``by`` (conversions or
    conversion value) of the journeys whose set of channels is a subset of S (module docstring).
    Up to ``max_exact_channels`` channels the values are exact (all 2^n coalitions enumerated) and
    ``stderr`` is 0. Beyond, they are the mean marginal contribution over ``samples`` random
    permutations (seeded, so reproducible) and ``stderr`` is its standard error, sample standard
    deviation / sqrt(samples); since channel i's marginal contribution lies between 0 and a_i (the
    worth of all sets containing i), stderr <= a_i / (2 sqrt(samples)) for non-negative worths.
    ``share`` = shapley_value / sum of shapley values, NULL when that sum is 0.
    """
    channels, values, stderr = _shapley(paths, by, max_exact_channels, samples, seed)
    return pl.DataFrame(
        {"channel": channels, "shapley_value": values, "stderr": stderr},
        schema={"channel": pl.String, "shapley_value": pl.Float64, "stderr": pl.Float64},
    ).select(
        "channel",
        "shapley_value",
        # share = Shapley value / sum of Shapley values
        (
            pl.col("shapley_value") / pl.when(pl.col("shapley_value").sum() != 0).then(pl.col("shapley_value").sum())
        ).alias("share"),
        "stderr",
    )


def shapley_credits(
    paths: pl.DataFrame,
    split: Literal["game", "proportional"] = "game",
    *,
    by: Worth = "conversions",
    max_exact_channels: int = 15,
    samples: int = 20_000,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per converting path and channel on it: the channel's credit (sums to 1 per path).

    ``split="game"`` (default) gives each path the share the Shapley value itself gives it: the
    game is a sum of one unanimity game per channel set, so a path's conversions go equally to
    its k distinct channels (credit 1 / k) and ``sum over paths of credit x by`` equals
    ``shapley_value`` for every channel. ``split="proportional"`` splits instead in proportion to
    the channels' global Shapley values (as ``markov_credits`` does with removal effects; MAM
    splits each journey by the Shapley values of its own set's sub-game, see the module
    docstring); a path whose channels all have value 0 is split equally. Paths without
    conversions or without touchpoints get no rows.
    """
    if split == "game":
        weights = pl.DataFrame(schema={"channel": pl.String, "weight": pl.Float64})
    elif split == "proportional":
        channels, values, _ = _shapley(paths, by, max_exact_channels, samples, seed)
        weights = pl.DataFrame(
            {"channel": channels, "weight": np.clip(values, 0.0, None)},
            schema={"channel": pl.String, "weight": pl.Float64},
        )
    else:
        raise ConfigError(f"Shapley credit split must be 'game' or 'proportional', got {split!r}")
    return _split_over_path_channels(paths, weights, touchpoint_weighted=False)
