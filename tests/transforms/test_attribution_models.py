from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from mam.core import MAM
from polars.testing import assert_frame_equal

from pipeline.errors import ConfigError
from pipeline.transforms import attribution_models
from pipeline.transforms.attribution_models import (
    _shapley_by_enumeration,
    group_paths,
    markov_credits,
    markov_removal_effects,
    shapley_credits,
    shapley_values,
)

CHANNELS = ["affiliate", "direct", "email", "google", "meta", "tiktok"]


def journeys(rows: list[tuple[list[str], bool, float]]) -> pl.LazyFrame:
    return pl.DataFrame(
        {"path": [r[0] for r in rows], "converted": [r[1] for r in rows], "value": [r[2] for r in rows]},
        schema={"path": pl.List(pl.String), "converted": pl.Boolean, "value": pl.Float64},
    ).lazy()


def hand_paths() -> pl.DataFrame:
    # A>B converts twice (values 10 and 20), A fails once, B>C converts once (value 5), C fails once.
    return group_paths(
        journeys(
            [
                (["A", "B"], True, 10.0),
                (["A", "B"], True, 20.0),
                (["A"], False, 0.0),
                (["B", "C"], True, 5.0),
                (["C"], False, 0.0),
            ]
        )
    ).collect()


def random_journeys(seed: int, n: int, channels: list[str], conversion_rate: float) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 7, n)
    weights = np.linspace(2.0, 1.0, len(channels))
    flat = rng.choice(channels, lengths.sum(), p=weights / weights.sum())
    paths = np.split(flat, np.cumsum(lengths)[:-1])
    converted = rng.random(n) < conversion_rate
    value = np.where(converted, rng.integers(10, 200, n), 0).astype(float)
    return pl.DataFrame(
        {"path": [list(p) for p in paths], "converted": converted, "value": value},
        schema={"path": pl.List(pl.String), "converted": pl.Boolean, "value": pl.Float64},
    )


def mam_from_grouped(paths: pl.DataFrame) -> MAM:
    """MAM's grouped-journey input: one row per path and outcome with its journey count."""
    joined = pl.col("path").list.join(" > ").alias("journey")
    rows = pl.concat(
        [
            paths.filter(pl.col("conversions") > 0).select(
                joined, pl.lit(True).alias("converted"), pl.col("conversions").alias("occurrences")
            ),
            paths.filter(pl.col("non_conversions") > 0).select(
                joined, pl.lit(False).alias("converted"), pl.col("non_conversions").alias("occurrences")
            ),
        ]
    )
    return MAM(
        rows,
        format_type="grouped_journey",
        channels_colname="journey",
        journey_with_conv_colname="converted",
        occurrences_colname="occurrences",
    )


def mam_from_journeys(frame: pl.DataFrame) -> MAM:
    """MAM's one-journey-per-row input (it needs a time column; zeros, unused by Markov)."""
    rows = frame.with_row_index("journey_id").select(
        pl.col("journey_id").cast(pl.String),
        pl.col("path").list.join(" > ").alias("journey"),
        pl.col("path").list.eval(pl.lit("0")).list.join(" > ").alias("time_till_end"),
        "converted",
    )
    return MAM(rows, format_type="journey", channels_colname="journey", journey_with_conv_colname="converted")


def credits_per_channel(credits: pl.DataFrame, paths: pl.DataFrame, by: str = "conversions") -> dict[str, float]:
    totals = (
        credits.join(paths.select("path", by), on="path")
        .group_by("channel")
        .agg((pl.col("credit") * pl.col(by)).sum().alias("total"))
    )
    return dict(totals.iter_rows())


def test_group_paths_counts_conversions_failures_and_value_per_distinct_path() -> None:
    grouped = group_paths(
        journeys(
            [
                (["A", "B"], True, 10.0),
                (["A", "B"], False, 0.0),
                (["A", "B"], True, 2.5),
                (["B"], False, 0.0),
                ([], True, 7.0),
            ]
        )
    ).collect()
    expected = pl.DataFrame(
        {
            "path": [[], ["A", "B"], ["B"]],
            "conversions": [1, 2, 0],
            "non_conversions": [0, 1, 1],
            # A>B: 10 + 0 + 2.5
            "value": [7.0, 12.5, 0.0],
        },
        schema={"path": pl.List(pl.String), "conversions": pl.Int64, "non_conversions": pl.Int64, "value": pl.Float64},
    )
    assert_frame_equal(grouped, expected)


def test_group_paths_treats_null_path_as_empty_and_null_outcome_as_failure() -> None:
    frame = pl.DataFrame(
        {"path": [None, []], "converted": [True, None], "value": [3.0, None]},
        schema={"path": pl.List(pl.String), "converted": pl.Boolean, "value": pl.Float64},
    )
    grouped = group_paths(frame.lazy()).collect()
    assert grouped.to_dicts() == [{"path": [], "conversions": 1, "non_conversions": 1, "value": 3.0}]


def test_markov_removal_effects_on_a_hand_worked_chain() -> None:
    # Transition counts (journeys through each edge):
    #   START -> A 3, START -> B 1, START -> C 1
    #   A -> B 2, A -> NULL 1;  B -> CONV 2, B -> C 1;  C -> CONV 1, C -> NULL 1
    # Transition matrix (rows START, A, B, C; columns A, B, C, CONV, NULL):
    #   START [3/5, 1/5, 1/5,   0,   0]
    #   A     [  0, 2/3,   0,   0, 1/3]
    #   B     [  0,   0, 1/3, 2/3,   0]
    #   C     [  0,   0,   0, 1/2, 1/2]
    # Absorption in CONV: x_C = 1/2; x_B = 2/3 + 1/3 * 1/2 = 5/6; x_A = 2/3 * 5/6 = 5/9;
    #   P = 3/5 * 5/9 + 1/5 * 5/6 + 1/5 * 1/2 = 1/3 + 1/6 + 1/10 = 3/5.
    # Without A (START -> A goes to NULL): 1/5 * 5/6 + 1/5 * 1/2 = 4/15; RE_A = 1 - (4/15)/(3/5) = 5/9.
    # Without B (A -> B and START -> B go to NULL): 1/5 * 1/2 = 1/10; RE_B = 1 - (1/10)/(3/5) = 5/6.
    # Without C (B -> C and START -> C go to NULL): x_B = 2/3, x_A = 4/9,
    #   P = 3/5 * 4/9 + 1/5 * 2/3 = 2/5; RE_C = 1 - (2/5)/(3/5) = 1/3.
    # Sum of effects 5/9 + 5/6 + 1/3 = 31/18, so shares 10/31, 15/31, 6/31.
    expected = pl.DataFrame(
        {
            "channel": ["A", "B", "C"],
            "removal_effect": [5 / 9, 5 / 6, 1 / 3],
            "share": [10 / 31, 15 / 31, 6 / 31],
        }
    )
    assert_frame_equal(markov_removal_effects(hand_paths()), expected, abs_tol=1e-12)


def test_second_order_markov_on_the_hand_worked_paths() -> None:
    # States are (A), (A,B), (B), (B,C), (C):
    #   START -> (A) 3/5 -> (A,B) 2/3 -> CONV;  (A) -> NULL 1/3
    #   START -> (B) 1/5 -> (B,C) 1 -> CONV
    #   START -> (C) 1/5 -> NULL
    # P = 3/5 * 2/3 + 1/5 = 3/5.
    # Without A ((A), (A,B) gone): 1/5, RE_A = 1 - (1/5)/(3/5) = 2/3.
    # Without B ((A,B), (B), (B,C) gone): 0, RE_B = 1.
    # Without C ((B,C), (C) gone): 2/5, RE_C = 1 - (2/5)/(3/5) = 1/3.
    # Sum 2, shares 1/3, 1/2, 1/6.
    expected = pl.DataFrame(
        {"channel": ["A", "B", "C"], "removal_effect": [2 / 3, 1.0, 1 / 3], "share": [1 / 3, 1 / 2, 1 / 6]}
    )
    assert_frame_equal(markov_removal_effects(hand_paths(), order=2), expected, abs_tol=1e-12)


def test_markov_credits_split_each_path_by_removal_effects() -> None:
    # A>B: RE_A / (RE_A + RE_B) = (5/9) / (5/9 + 5/6) = 2/5, B 3/5.
    # B>C: (5/6) / (5/6 + 1/3) = 5/7, C 2/7. Failing paths A and C get no rows.
    expected = pl.DataFrame(
        {
            "path": [["A", "B"], ["A", "B"], ["B", "C"], ["B", "C"]],
            "channel": ["A", "B", "B", "C"],
            "credit": [2 / 5, 3 / 5, 5 / 7, 2 / 7],
        }
    )
    assert_frame_equal(markov_credits(hand_paths()), expected, abs_tol=1e-12)


def test_repeated_channels_are_collapsed_like_mam() -> None:
    repeated = group_paths(journeys([(["A", "A", "B"], True, 1.0), (["A"], False, 0.0), (["B", "B"], False, 0.0)]))
    plain = group_paths(journeys([(["A", "B"], True, 1.0), (["A"], False, 0.0), (["B"], False, 0.0)]))
    collapsed = markov_removal_effects(repeated.collect())
    assert_frame_equal(collapsed, markov_removal_effects(plain.collect()))
    # Keeping self-loops only delays absorption, so order-1 effects do not move.
    kept = markov_removal_effects(repeated.collect(), transition_to_same_state=True)
    assert_frame_equal(kept, collapsed, abs_tol=1e-12)
    # After collapsing: START -> A 2/3, START -> B 1/3; A -> B 1/2, A -> NULL 1/2; B -> CONV 1/2,
    # B -> NULL 1/2. P = 2/3 * 1/2 * 1/2 + 1/3 * 1/2 = 1/3; without A 1/6 (RE_A = 1/2); without B 0
    # (RE_B = 1). Credits count A once: A 0.5 / 1.5 = 1/3, B 2/3; touchpoint-weighted (as MAM) A
    # counts twice on A>A>B: 2 * 0.5 / (2 * 0.5 + 1) = 1/2, B 1/2.
    assert markov_credits(repeated.collect())["credit"].to_list() == pytest.approx([1 / 3, 2 / 3], abs=1e-12)
    weighted = markov_credits(repeated.collect(), touchpoint_weighted=True)["credit"].to_list()
    assert weighted == pytest.approx([1 / 2, 1 / 2], abs=1e-12)


def test_higher_order_collapses_repeats_unless_asked_to_keep_them() -> None:
    frame = random_journeys(8, 800, CHANNELS[:4], conversion_rate=0.3)
    collapsed_by_hand = frame.with_columns(
        pl.col("path").list.eval(pl.element().filter(pl.element() != pl.element().shift(1).fill_null(""))).alias("path")
    )
    paths = group_paths(frame.lazy()).collect()
    assert paths.filter(pl.col("path").list.len() > pl.col("path").list.unique().list.len()).height > 0
    by_hand = markov_removal_effects(group_paths(collapsed_by_hand.lazy()).collect(), order=2)
    assert_frame_equal(markov_removal_effects(paths, order=2), by_hand, abs_tol=1e-12)
    # At order 2 a repeat is a state of its own, (A, A), so keeping repeats changes the chain.
    kept = markov_removal_effects(paths, order=2, transition_to_same_state=True)
    assert (kept["removal_effect"] - by_hand["removal_effect"]).abs().max() > 1e-6


def test_converting_journeys_without_touchpoints_are_start_to_conversion() -> None:
    # START -> CONV 1/2, START -> A 1/2, A -> CONV 1: P = 1. Without A: P = 1/2, RE_A = 1/2, share 1.
    paths = group_paths(journeys([([], True, 1.0), (["A"], True, 1.0)])).collect()
    expected = pl.DataFrame({"channel": ["A"], "removal_effect": [0.5], "share": [1.0]})
    assert_frame_equal(markov_removal_effects(paths), expected, abs_tol=1e-12)
    # The empty path has no channel to credit.
    assert markov_credits(paths).to_dicts() == [{"path": ["A"], "channel": "A", "credit": 1.0}]
    assert shapley_values(paths)["shapley_value"].to_list() == [1.0]


def test_nothing_converted_gives_null_effects_and_shares() -> None:
    paths = group_paths(journeys([(["A", "B"], False, 0.0), (["B"], False, 0.0)])).collect()
    effects = markov_removal_effects(paths)
    assert effects["channel"].to_list() == ["A", "B"]
    assert effects["removal_effect"].null_count() == 2
    assert effects["share"].null_count() == 2
    assert markov_credits(paths).height == 0
    assert shapley_values(paths)["share"].null_count() == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("same_state", [False, True])
def test_markov_equals_mam_on_grouped_and_raw_journeys(seed: int, same_state: bool) -> None:
    frame = random_journeys(seed, 600, CHANNELS[: 4 + seed % 3], conversion_rate=0.3)
    paths = group_paths(frame.lazy()).collect()
    ours = markov_removal_effects(paths, transition_to_same_state=same_state)
    for peer in (mam_from_grouped(paths), mam_from_journeys(frame)):
        result = peer.run_markov(transition_to_same_state=same_state)
        removal = result.metadata["removal_effect"]["removal_effect"]
        theirs = pl.DataFrame({"channel": list(removal.index), "removal_effect": removal.to_numpy()}).with_columns(
            (pl.col("removal_effect") / pl.col("removal_effect").sum()).alias("share")
        )
        assert_frame_equal(ours, theirs.sort("channel"), abs_tol=1e-6, rel_tol=0)
        # MAM splits each journey by touchpoint-weighted removal effects.
        totals = credits_per_channel(markov_credits(paths, touchpoint_weighted=True), paths)
        for channel, attributed in result.to_polars().iter_rows():
            assert totals[channel] == pytest.approx(attributed, abs=1e-6)


def test_removal_effects_are_in_range_and_credits_sum_to_one() -> None:
    paths = group_paths(random_journeys(11, 800, CHANNELS, conversion_rate=0.1).lazy()).collect()
    converting = paths.filter(pl.col("conversions") > 0).height
    for order in (1, 2, 3):
        effects = markov_removal_effects(paths, order=order)
        assert effects["removal_effect"].is_between(0.0, 1.0).all()
        assert effects["share"].sum() == pytest.approx(1.0, abs=1e-12)
        sums = markov_credits(paths, order=order).group_by("path").agg(pl.col("credit").sum())
        assert sums.height == converting
        assert sums["credit"].to_numpy() == pytest.approx(np.ones(converting), abs=1e-12)
    for split in ("game", "proportional"):
        credits = shapley_credits(paths, split)
        assert credits["credit"].min() > 0
        sums = credits.group_by("path").agg(pl.col("credit").sum())
        assert sums["credit"].to_numpy() == pytest.approx(np.ones(converting), abs=1e-12)


@pytest.mark.parametrize("gmres_fails", [False, True])
def test_large_systems_solved_iteratively_or_by_sparse_lu_give_the_dense_answer(
    monkeypatch: pytest.MonkeyPatch, gmres_fails: bool
) -> None:
    paths = group_paths(random_journeys(13, 800, CHANNELS, conversion_rate=0.2).lazy()).collect()
    dense = markov_removal_effects(paths, order=2)
    monkeypatch.setattr(attribution_models, "_DENSE_SOLVE_MAX_STATES", 0)
    if gmres_fails:
        monkeypatch.setattr(attribution_models.spla, "gmres", lambda system, r, **_: (np.zeros_like(r), 1))
    assert_frame_equal(markov_removal_effects(paths, order=2), dense, abs_tol=1e-10)


def test_higher_order_differs_from_first_order_when_history_matters() -> None:
    # B converts only after A: order 1 cannot tell A>B from C>B, order 2 can, so C's effect drops.
    paths = group_paths(
        journeys(
            [(["A", "B"], True, 1.0)] * 4
            + [(["C", "B"], False, 0.0)] * 4
            + [(["C"], True, 1.0)] * 1
            + [(["C"], False, 0.0)] * 3
        )
    ).collect()
    first = dict(markov_removal_effects(paths, order=1).select("channel", "removal_effect").iter_rows())
    second = dict(markov_removal_effects(paths, order=2).select("channel", "removal_effect").iter_rows())
    # Order 2 memorises these short paths: RE_c = share of conversions through c = 4/5, 4/5, 1/5.
    assert second == pytest.approx({"A": 0.8, "B": 0.8, "C": 0.2}, abs=1e-12)
    assert first["C"] > second["C"]


def test_shapley_values_on_the_hand_worked_paths() -> None:
    # Converting channel sets: {A,B} worth 2 conversions (value 30), {B,C} worth 1 (value 5).
    # v(S) = worth of sets inside S: v(AB) = 2, v(BC) = 1, v(ABC) = 3, every other v = 0.
    # phi_A = 1/6 (v(AB) - v(B)) + 1/3 (v(ABC) - v(BC)) = 2/6 + 2/3 = 1, and by the closed form
    # (each set split equally) A 2/2 = 1, B 2/2 + 1/2 = 1.5, C 1/2 = 0.5; by value 15, 17.5, 2.5.
    expected = pl.DataFrame(
        {
            "channel": ["A", "B", "C"],
            "shapley_value": [1.0, 1.5, 0.5],
            "share": [1 / 3, 1 / 2, 1 / 6],
            "stderr": [0.0, 0.0, 0.0],
        }
    )
    assert_frame_equal(shapley_values(hand_paths()), expected, abs_tol=1e-12)
    by_value = shapley_values(hand_paths(), by="value")
    assert by_value["shapley_value"].to_list() == pytest.approx([15.0, 17.5, 2.5], abs=1e-12)
    # Game split: 1/2 each on both paths. Proportional by value: A>B 15/32.5, B>C 17.5/20.
    assert shapley_credits(hand_paths())["credit"].to_list() == [0.5, 0.5, 0.5, 0.5]
    proportional = shapley_credits(hand_paths(), "proportional", by="value")["credit"].to_list()
    assert proportional == pytest.approx([15 / 32.5, 17.5 / 32.5, 17.5 / 20, 2.5 / 20], abs=1e-12)


def test_shapley_game_credits_add_back_up_to_the_shapley_values() -> None:
    paths = group_paths(random_journeys(5, 500, CHANNELS, conversion_rate=0.2).lazy()).collect()
    for by in ("conversions", "value"):
        values = dict(shapley_values(paths, by=by).select("channel", "shapley_value").iter_rows())
        assert credits_per_channel(shapley_credits(paths), paths, by) == pytest.approx(values, abs=1e-9)


def test_shapley_equals_mam_linear_on_journeys_reduced_to_their_channel_sets() -> None:
    """kohde's game is a sum of unanimity games (one per converting channel set), so its Shapley
    value is MAM's linear model on journeys whose paths list each channel once."""
    frame = random_journeys(21, 700, CHANNELS, conversion_rate=0.25)
    paths = group_paths(frame.lazy()).collect()
    distinct = group_paths(frame.with_columns(pl.col("path").list.unique().list.sort()).lazy()).collect()
    linear = dict(mam_from_grouped(distinct).run_linear().to_polars().iter_rows())
    ours = dict(shapley_values(paths).select("channel", "shapley_value").iter_rows())
    assert ours == pytest.approx(linear, abs=1e-6)


def test_mam_shapley_is_the_sum_of_per_set_exact_worth_games() -> None:
    """MAM's Shapley (value_column="conversions", max_size=None) is a different game.

    For each channel set T that converted, MAM takes the game on the subsets S of T with worth
    c(S) = conversions of journeys whose channel set is exactly S, and adds up those games'
    Shapley values per channel. Rebuilt here with kohde's enumeration, it matches MAM to 1e-6;
    both models hand out all conversions, but MAM's values can be negative while kohde's cannot.
    """
    frame = random_journeys(31, 700, CHANNELS[:5], conversion_rate=0.25)
    paths = group_paths(frame.lazy()).collect()
    sets = (
        paths.with_columns(pl.col("path").list.unique().list.sort().alias("members"))
        .group_by("members")
        .agg(pl.col("conversions").sum())
        .filter(pl.col("conversions") > 0)
    )
    exact_worth = {tuple(m): float(c) for m, c in sets.iter_rows()}
    rebuilt: dict[str, float] = {}
    for members in exact_worth:
        k = len(members)
        # Worth of each sub-coalition of T, coalition as a bitmask over T's members.
        v = np.array(
            [exact_worth.get(tuple(c for i, c in enumerate(members) if mask >> i & 1), 0.0) for mask in range(1 << k)]
        )
        for channel, phi in zip(members, _shapley_by_enumeration(v), strict=True):
            rebuilt[channel] = rebuilt.get(channel, 0.0) + float(phi)
    result = mam_from_grouped(paths).run_shapley(max_size=None, value_column="conversions")
    theirs = dict(result.to_polars().iter_rows())
    assert theirs == pytest.approx(rebuilt, abs=1e-6)
    ours = shapley_values(paths)
    total_conversions = paths["conversions"].sum()
    assert sum(theirs.values()) == pytest.approx(total_conversions, abs=1e-6)
    assert ours["shapley_value"].sum() == pytest.approx(total_conversions, abs=1e-9)
    assert ours["shapley_value"].min() >= 0
    assert min(theirs.values()) < 0  # the case kohde's definition rules out


def test_shapley_enumeration_sampling_and_closed_form_agree() -> None:
    channels = [f"c{i:02d}" for i in range(17)]
    paths = group_paths(random_journeys(41, 3000, channels, conversion_rate=0.2).lazy()).collect()
    # Closed form: every converting journey's conversion split equally over its distinct channels.
    closed = (
        paths.filter(pl.col("conversions") > 0)
        .select(pl.col("path").list.unique().alias("channel"), pl.col("conversions"))
        .with_columns((pl.col("conversions") / pl.col("channel").list.len()).alias("share_of_path"))
        .explode("channel")
        .group_by("channel")
        .agg(pl.col("share_of_path").sum())
    )
    closed_form = dict(closed.iter_rows())
    exact = shapley_values(paths, max_exact_channels=17)
    assert dict(exact.select("channel", "shapley_value").iter_rows()) == pytest.approx(closed_form, abs=1e-9)
    assert exact["stderr"].to_list() == [0.0] * 17

    sampled = shapley_values(paths, max_exact_channels=15, samples=4000, seed=3)
    assert_frame_equal(sampled, shapley_values(paths, max_exact_channels=15, samples=4000, seed=3))
    z = (
        sampled.with_columns(pl.col("channel").replace_strict(closed_form, return_dtype=pl.Float64).alias("truth"))
        .select(((pl.col("shapley_value") - pl.col("truth")) / pl.col("stderr")).abs().max())
        .item()
    )
    assert z < 5
    # stderr <= a_i / (2 sqrt(samples)), a_i = conversions of journeys containing channel i.
    touched = (
        paths.select(pl.col("path").list.unique().alias("channel"), "conversions")
        .explode("channel")
        .group_by("channel")
        .agg(pl.col("conversions").sum())
    )
    bound = dict(touched.iter_rows())
    for channel, stderr in sampled.select("channel", "stderr").iter_rows():
        assert 0 < stderr <= bound[channel] / (2 * math.sqrt(4000))


def test_known_truth_ranks_x_over_y_over_noise() -> None:
    # X lifts the conversion probability by 12 points, Y by 5, Z by nothing; each shows up in a
    # journey with probability 1/2, in random order and sometimes twice.
    rng = np.random.default_rng(2026)
    n = 40_000
    has = rng.random((n, 3)) < 0.5
    has = has[has.any(axis=1)]
    probability = 0.02 + 0.12 * has[:, 0] + 0.05 * has[:, 1]
    converted = rng.random(len(has)) < probability
    touches = has * rng.integers(1, 3, has.shape)
    flat = pl.DataFrame(
        {
            "journey": np.repeat(np.arange(len(has)), touches.sum(axis=1)),
            "channel": np.repeat(np.tile(["X", "Y", "Z"], len(has)), touches.ravel()),
            "order": rng.random(int(touches.sum())),
        }
    )
    frame = (
        flat.sort("journey", "order")
        .group_by("journey", maintain_order=True)
        .agg(pl.col("channel").alias("path"))
        .with_columns(pl.Series("converted", converted), pl.Series("value", converted.astype(float)))
    )
    paths = group_paths(frame.lazy()).collect()
    rankings = [
        markov_removal_effects(paths, order=1).sort("share", descending=True)["channel"].to_list(),
        markov_removal_effects(paths, order=2).sort("share", descending=True)["channel"].to_list(),
        shapley_values(paths).sort("share", descending=True)["channel"].to_list(),
    ]
    assert rankings == [["X", "Y", "Z"]] * 3


def test_invalid_parameters_raise_config_errors() -> None:
    paths = hand_paths()
    with pytest.raises(ConfigError, match="order"):
        markov_removal_effects(paths, order=0)
    with pytest.raises(ConfigError, match="worth"):
        shapley_values(paths, by="revenue")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_exact_channels"):
        shapley_values(paths, max_exact_channels=40)
    with pytest.raises(ConfigError, match="split"):
        shapley_credits(paths, "equal")  # type: ignore[arg-type]
