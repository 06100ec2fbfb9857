"""Assemble the gold tables of a run from silver: which builder feeds which warehouse table.

Two kinds of gold table:
- *current* tables (facts, dimensions, period marts) describe the business as of the run's last
  date and replace the table's content;
- *snapshot* tables (segments, segment summary, goal tracking, retargeting, ...) have one snapshot per as-of date;
  a run writes the snapshot of every date in its range and replaces exactly those snapshots.

``mart_audience_sizes`` is not built here: ``kohde audiences`` (``pipeline.audiences``) loads it
when it writes the audience files.

A nightly run is the range [D, D]; a backfill over [D1, D2] computes the current tables once, as
of D2, and one snapshot per date, which is what nightly runs over the same dates leave behind.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import polars as pl

from pipeline.channels import ChannelRule, load_channel_rules
from pipeline.entities import BUSINESS_KEYS
from pipeline.incremental import (
    DEAL_STAGE_COLUMNS,
    EVENT_DATE,
    EVERY_EVENT,
    INCREMENTAL_ENTITIES,
    MILESTONE_MODELS,
    RECORD_ENTITIES,
    RECORD_LAYERS,
    Derived,
    EntityPlan,
    GoldState,
    Increment,
    LabelState,
    Rebuilt,
    RecordLayers,
    RecordPlan,
    assemble,
    attribution_changes,
    changed_since,
    conversions_of,
    extract_date_of,
    lead_days,
    milestones_of,
    month_digests,
    parts_scan,
    plan_increment,
    publish_state,
    read_state,
    scan_parts,
    touched_customers,
    truth_order,
    won_deal_changes,
    write_parts,
)
from pipeline.lake import Lake
from pipeline.segment_rules import SegmentRules, load_segment_rules
from pipeline.settings import Settings
from pipeline.silver import VALID_FROM, fx_rates, versions
from pipeline.silver import as_of as silver_as_of
from pipeline.transforms.ad_spend import build_fct_ad_spend_daily
from pipeline.transforms.attribution import (
    ATTRIBUTION_ORDER,
    ORDER,
    RULE_BASED_MODELS,
    WON_DEAL,
    build_fct_attribution,
    won_deal_conversions,
)
from pipeline.transforms.budget_vs_actual import build_budget_vs_actual
from pipeline.transforms.campaign_lift import build_campaign_lift
from pipeline.transforms.campaigns import build_dim_campaign
from pipeline.transforms.channel_reallocation import build_channel_reallocation
from pipeline.transforms.channel_roi import build_channel_roi
from pipeline.transforms.clv import acquisition, build_clv, build_ltv_cac, customer_value_and_cost
from pipeline.transforms.customer_orders import PURCHASE_COLUMNS, CustomerOrders, customer_orders, regrouped
from pipeline.transforms.customers import build_dim_customer
from pipeline.transforms.goal_tracking import GOAL_ATTRIBUTION_MODEL, build_goal_tracking
from pipeline.transforms.intent_conversion import build_intent_conversion
from pipeline.transforms.orders import build_fct_orders
from pipeline.transforms.retargeting import build_retargeting
from pipeline.transforms.sales_costs import build_sales_costs
from pipeline.transforms.segment_economics import build_segment_economics
from pipeline.transforms.segment_migration import MIGRATION_LAG_DAYS, build_segment_migration, segment_labels_of
from pipeline.transforms.segment_quality import build_segment_quality
from pipeline.transforms.segments import INTENT_WINDOW_DAYS, build_customer_segments, build_segment_summary
from pipeline.transforms.touchpoints import build_fct_touchpoints

SNAPSHOT_TABLES = ("mart_customer_segments", "mart_segment_summary", "mart_goal_tracking", "mart_clv",
                   "mart_clv_model", "mart_ltv_cac", "mart_intent_conversion", "mart_segment_migration",
                   "mart_segment_quality", "mart_retargeting")
ATTRIBUTION_MODELS = ("last_touch", "last_non_direct_touch", "first_touch", "linear", "position_based", "time_decay",
                      "w_shaped", "full_path", "markov", "shapley")
# what a snapshot reads of attribution: first touch (LTV:CAC, customer cost) and the goal model
SNAPSHOT_ATTRIBUTION_MODELS = ("first_touch", GOAL_ATTRIBUTION_MODEL)
# of their rows, those a snapshot reads: first touch on first orders (acquisition channel and CAC), every goal-model row
SNAPSHOT_CREDIT = ((pl.col("model") == GOAL_ATTRIBUTION_MODEL)
                   | ((pl.col("model") == "first_touch") & pl.col("is_first_order").fill_null(False)))
# what the snapshots read of those rows (customer_value_and_cost, build_ltv_cac, build_goal_tracking)
SNAPSHOT_CREDIT_COLUMNS = ("model", "channel", "customer_id", "order_date", "is_first_order", "credit", "revenue_eur")
# models fct_attribution always gets: the snapshots' two, and last touch for `kohde report`
REQUIRED_ATTRIBUTION_MODELS = (*SNAPSHOT_ATTRIBUTION_MODELS, "last_touch")


def attribution_models(settings: Settings) -> tuple[str, ...]:
    """The models fct_attribution gets: ``KOHDE_ATTRIBUTION_MODELS`` (every model when unset) plus the required ones.

    Fewer models mean fewer fct_attribution rows (one per conversion, model, channel and campaign:
    about 27 per order with all ten), which is most of the run's memory and load at scale.
    """
    chosen = set(settings.attribution_models or ATTRIBUTION_MODELS) | set(REQUIRED_ATTRIBUTION_MODELS)
    return tuple(model for model in ATTRIBUTION_MODELS if model in chosen)


# columns of silver that no gold table reads: not held in memory by ``Silver`` (the lake keeps them)
UNREAD_COLUMNS: dict[str, tuple[str, ...]] = {"touchpoint": ("email_sha256",)}
UNREAD_LINEAGE = ("source", "source_format")


class Silver:
    """Every extraction of every entity up to the run's last date, read once and versioned once.

    An entity's extractions are held until its versions are computed, then only the versions
    (which hold the same rows): the history up to a date is a filter on them too.

    With an ``Increment`` (``pipeline.incremental``) the event entities it covers are read only
    from its ``since`` extract dates: their truth as of ``up_to`` is the state's rows before the
    change window and the partial read's from it on, and their truth as of an earlier date holds
    the events from ``exact_from`` on (exact there; the segments of 30 days earlier read no older).
    """

    ENTITIES = ("contact", "deal", "touchpoint", "ad_daily", "order", "goal", "budget", "sales_cost", "fx_rate")
    # read when versioned and versioned into the work folder; the plan files (goals, budgets, costs, rates) are held
    LARGE = (*INCREMENTAL_ENTITIES, *RECORD_ENTITIES)

    def __init__(self, lake: Lake, up_to: date, increment: Increment | None = None,
                 labels: SegmentLabels | None = None) -> None:
        self.lake, self.up_to, self.increment, self.labels = lake, up_to, increment, labels
        self._files: dict[str, tuple[str, ...]] = {}
        # each entity's extractions: a scan of its files, read when its versions are computed (``_versioned``)
        self._frames: dict[str, pl.DataFrame | pl.LazyFrame] = {}
        for entity in self.ENTITIES:
            plan = None if increment is None else increment.entities.get(entity)
            records = None if increment is None else increment.records.get(entity)
            if plan is not None:  # the files the plan saw, from its first extract date on
                files = [] if plan.since is None else [name for name in plan.files if extract_date_of(name) >= plan.since]
            elif records is not None:  # the state's truth, with the rows of the files it does not cover
                files = list(records.new_files)
            else:
                files = lake.clean_files(entity, up_to)
            self._files[entity] = plan.files if plan else records.files if records else tuple(files)
            scan = self._slim(lake.scan_clean(entity, files), entity)
            self._frames[entity] = scan if entity in self.LARGE else scan.collect()
        self._versions: dict[str, pl.DataFrame | pl.LazyFrame] = {}
        self._truths: dict[str, pl.LazyFrame] = {}
        self._held: dict[str, pl.LazyFrame] = {}  # the truth of each entity the increment keeps (``current``)
        self._new_records: dict[str, pl.DataFrame] = {}  # the night's layer of each CRM record entity from the state
        self.work: Path | None = None  # where ``keep`` writes what the run reads again (None: held in memory)
        # the segments of 30 days before, when their labels are not kept: on the state's base (``open_silver``)
        self.earlier: Increment | None = None

    @staticmethod
    def _slim(extractions: pl.LazyFrame, entity: str) -> pl.LazyFrame:
        return extractions.drop(*UNREAD_LINEAGE, *UNREAD_COLUMNS.get(entity, ()))

    @staticmethod
    def read(lake: Lake, entity: str, up_to: date) -> pl.DataFrame:
        """An entity's extractions up to a date as Silver holds them: without the columns no gold table reads."""
        return Silver._slim(lake.clean(entity, up_to), entity).collect()

    @classmethod
    def from_frames(cls, frames: dict[str, pl.DataFrame]) -> Silver:
        """A Silver over given extractions (every entity of ``ENTITIES``, lineage columns included)."""
        silver = cls.__new__(cls)
        silver.lake, silver.up_to, silver.increment, silver.labels = None, None, None, None
        silver._frames = dict(frames)
        silver._files = {}
        silver._versions = {}
        silver._truths = {}
        silver._held = {}
        silver._new_records = {}
        silver.work = None
        silver.earlier = None
        return silver

    def keep(self, name: str, frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        """A table the run built and reads again, written to the run's ``work`` folder and read back lazily.

        Each reader then reads only the columns and rows it asks for, and the per-customer and
        per-order tables (fct_orders, the segments, the CRM records, dim_customer: 10M rows or more
        at the large scale) are not held in memory between their readers. The file is not compressed:
        it lives only as long as the run, and lz4 cost 30-40 % more CPU to write (1M contacts: 2.8
        CPU s instead of 1.7) for files half the size. Without a work folder (a Silver of given
        frames, a test) the frame is collected once and held.
        """
        if self.work is None:
            return (frame.collect() if isinstance(frame, pl.LazyFrame) else frame).lazy()
        self.work.mkdir(parents=True, exist_ok=True)
        path = self.work / f"{name}-{uuid.uuid4().hex[:8]}.parquet"
        frame.lazy().sink_parquet(path, compression="uncompressed", statistics=True)
        return pl.scan_parquet(path)

    def _versioned(self, entity: str) -> pl.DataFrame | pl.LazyFrame:
        """An entity's versions (``silver.versions``), computed on first use; in the work folder when the run has one.

        Its extractions are read only then, and let go once versioned; the versions are written to
        the work folder (``keep``) and read back by each reader, the rows and columns it asks for:
        a run does not hold every entity's extractions at once, nor the touches' versions while it
        builds everything after the facts (a month's step at the large scale held 2-3 GB of them).
        """
        if entity not in self._versions:
            extractions = self._frames.pop(entity)
            # the unsorted frame is let go before the facts are built
            versioned = entity_versions(extractions.collect() if isinstance(extractions, pl.LazyFrame) else extractions,
                                        entity)
            large = self.work is not None and entity in self.LARGE
            self._versions[entity] = self.keep(f"versions-{entity}", versioned) if large else versioned
        return self._versions[entity]

    def _plan(self, entity: str) -> EntityPlan | None:
        return None if self.increment is None else self.increment.entities.get(entity)

    def _records(self, entity: str) -> RecordPlan | None:
        return None if self.increment is None else self.increment.records.get(entity)

    def truth(self, entity: str) -> pl.DataFrame:
        """The current truth of an entity as of ``up_to`` (assembled from the state when incremental)."""
        if self._plan(entity) is not None:
            return self.current(entity).collect()
        if self._records(entity) is None:
            return silver_as_of(self._versioned(entity), entity, self.up_to).collect()
        return self._record_truth(entity).collect()

    def assembled(self, entity: str, as_of: date) -> bool:
        """Whether the truth as of a date is read from the state's parts and the months rebuilt (cheap to read again)."""
        return as_of == self.up_to and self._plan(entity) is not None

    def current(self, entity: str) -> pl.LazyFrame:
        """``truth`` as a LazyFrame; for an entity the increment keeps, its months before W stay in the lake.

        Those are read by each reader that collects it, only the months and columns it asks for
        (``incremental.assemble``): the night holds the months it rebuilt, not the history.
        """
        if self._records(entity) is not None:
            return self._record_truth(entity)
        if self._plan(entity) is None:
            return self.truth(entity).lazy()
        if entity not in self._held:
            partial = silver_as_of(self._versioned(entity), entity, self.up_to)
            self._held[entity] = assemble(self.lake, self.increment, entity, partial)
        return self._held[entity]

    def _record_truth(self, entity: str) -> pl.LazyFrame:
        """A CRM record entity's truth from the state's layers and the night's: each key's newest row (``keep``-ed).

        Every new row is newer than every held one, and a later layer than an earlier one. Each
        layer keeps the keys no later layer has; all are sorted by key, so the base's rows and the
        few later ones are merged, not sorted.
        """
        if entity in self._truths:
            return self._truths[entity]
        new = self._new_records[entity] = silver_as_of(self._versioned(entity), entity, self.up_to).collect()
        key = list(BUSINESS_KEYS[entity])
        base, *nightly = self.increment.state.records[entity].layers
        later, newer = [new], new.select(key)
        for layer in map(self.lake.read, (self.lake.root / path for path in reversed(nightly))):
            later.append(layer.join(newer, on=key, how="anti", nulls_equal=True))
            newer = pl.concat([newer, layer.select(key)])
        rows = pl.concat(later, how="vertical_relaxed").sort(key).with_columns(pl.struct(key).alias("_key"))
        # the base (every record, 10M contacts at the large scale) is streamed through, not read whole
        kept = self.lake.scan(base).join(newer.lazy(), on=key, how="anti", nulls_equal=True, maintain_order="left")
        truth = kept.with_columns(pl.struct(key).alias("_key")).merge_sorted(rows.lazy(), key="_key").drop("_key")
        self._truths[entity] = self.keep(entity, truth)
        return self._truths[entity]

    def as_of(self, entity: str, as_of: date) -> pl.LazyFrame:
        """The current truth of an entity as of a date (a filter on its versions, see silver.versions)."""
        if self._records(entity) is not None:
            if as_of != self.up_to:
                raise ValueError(f"an incremental run holds {entity} records as of {self.up_to} only, not {as_of}")
            return self._record_truth(entity)
        plan = self._plan(entity)
        if plan is None:
            return silver_as_of(self._versioned(entity), entity, as_of)
        if as_of == self.up_to:
            return self.current(entity)
        if plan.exact_from is None:
            raise ValueError(f"an incremental run read no {entity} extractions for dates before {self.up_to}")
        return silver_as_of(self._versioned(entity), entity, as_of).filter(EVENT_DATE[entity] >= plan.exact_from)

    def history(self, entity: str, as_of: date) -> pl.LazyFrame:
        """Every extraction of an entity up to a date (e.g. each stage a deal was seen in), in no particular order.

        For deals taken from the state: the distinct ``DEAL_STAGE_COLUMNS`` of every extraction up to ``up_to``.
        """
        records = self._records(entity)
        stages = () if records is None else self.increment.state.records[entity].history
        if records is not None and stages and as_of == self.up_to:
            return pl.concat([*map(self.lake.scan, stages), self._versioned(entity).lazy().select(DEAL_STAGE_COLUMNS)],
                             how="vertical_relaxed")
        if self._plan(entity) is not None or records is not None:
            raise ValueError(f"an incremental run holds no full history of {entity}")
        return self._versioned(entity).lazy().filter(pl.col("extract_date") <= as_of)

    def fx(self, as_of: date) -> pl.LazyFrame:
        """Rates known as of a date (plan files + shipped defaults)."""
        return fx_rates(self._frames["fx_rate"].lazy(), as_of)

    def on(self, as_of: date) -> Silver:
        """Where the truth as of an earlier date is read: this Silver, or one on the state's base (``earlier``)."""
        if self.earlier is None or self.earlier.as_of != as_of:
            return self
        silver = Silver(self.lake, as_of, self.earlier)
        silver.work = self.work
        return silver

    def new_state(self, state_id: str, derived: Derived | None, digests: dict[str, dict[str, str]] | None = None,
                  hashes: dict[str, pl.DataFrame] | None = None, *, base: bool = True) -> GoldState:
        """Write the truth of the incremental entities as of ``up_to`` and ``derived`` to the lake's gold zone, and publish it.

        Called after the warehouse commit; ``state_id`` is what the warehouse's ops_gold_state got,
        ``digests`` the ``month_digests`` and ``hashes`` the ``row_hashes`` of the tables it loaded.
        ``base``: keep an earlier state for the next nights' segments when they need one (``migration_base``).
        """
        state = self.state_parts(state_id, derived, digests, hashes, base=base)
        publish_state(self.lake, state)
        return state

    def state_parts(self, state_id: str, derived: Derived | None, digests: dict[str, dict[str, str]] | None = None,
                    hashes: dict[str, pl.DataFrame] | None = None, *, base: bool = True) -> GoldState:
        """``new_state``'s parts only (``write_parts``): a run writes them while the warehouse loads, publishes after."""
        truths = {entity: self.current(entity) for entity in INCREMENTAL_ENTITIES}
        if self.increment is None:
            leads = {entity: lead_days(self._versioned(entity), entity) for entity in INCREMENTAL_ENTITIES}
        else:
            leads = {entity: plan.lead_days for entity, plan in self.increment.entities.items()}
        labels = None if self.labels is None else self.labels.to_keep()
        records = {entity: self._record_layers(entity) for entity in RECORD_ENTITIES}
        earlier = None
        if base and labels is not None and self.increment is not None:
            earlier = migration_base(self.increment.state, self.up_to, labels)
        return write_parts(self.lake, state_id, self.up_to, truths, {e: self._files[e] for e in INCREMENTAL_ENTITIES},
                           leads, self.increment, derived, labels, digests, hashes, records, earlier)

    def _record_layers(self, entity: str) -> RecordLayers:
        """What the next state keeps of a CRM record entity: the night's layer on the state's, or a new base.

        A new base every ``RECORD_LAYERS`` layers, or sooner when the layers after the base would hold
        more rows than the base: the next run reads those layers whole, the base it streams through
        (a first run's steps each add a month of records, not a night's).
        """
        truth = self.current(entity)  # for an entity taken from the state, this also sets the night's layer
        held = None if self._records(entity) is None else self.increment.state.records[entity]
        if held is not None and len(held.layers) < RECORD_LAYERS and not self._layers_outgrow_base(entity, held.layers):
            stages = self._versioned(entity).lazy().select(DEAL_STAGE_COLUMNS).unique().collect() if entity == "deal" else None
            return RecordLayers(self._files[entity], held.layers, self._new_records[entity], held.history, stages)
        stages = self.history(entity, self.up_to).select(DEAL_STAGE_COLUMNS).unique().collect() if entity == "deal" else None
        return RecordLayers(self._files[entity], (), truth, (), stages)

    def _layers_outgrow_base(self, entity: str, layers: tuple[str, ...]) -> bool:
        """Whether the layers after the base, with the night's, hold more rows than the base (from file metadata)."""
        base, *later = (self.lake.scan(path).select(pl.len()).collect().item() for path in layers)
        return sum(later) + self._new_records[entity].height > base


def _file_digest(path: Path | None) -> str | None:
    """The sha256 of a settings file (channel or segment rules), None when the setting is unset."""
    return None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()


def segment_settings(settings: Settings) -> str:
    """What the segment snapshot depends on besides the lake and the code: kept labels are reused only under the same."""
    return json.dumps({"rfm_window": settings.rfm_window_days, "clusters": settings.segment_clusters,
                       "segment_rules": _file_digest(settings.segment_rules),
                       "channel_rules": _file_digest(settings.channel_rules)}, sort_keys=True)


class SegmentLabels:
    """The segment labels of as-of dates (``segment_labels_of`` their snapshots), kept in the lake's state between runs.

    Migration compares a date's segments with those of 30 days earlier. The segments as of a date
    depend only on the extractions up to that date, so the labels the run of D - 30 computed are
    the ones a later run would compute again, as long as the clean files up to D - 30, the segment
    settings and the kohde are the same: the fingerprint holds the first two, the state the third.
    The nightly run of D reads them instead of segmenting the customers as of D - 30 from silver.
    """

    def __init__(self, lake: Lake, settings: Settings, stored: dict[str, LabelState], as_of: date) -> None:
        self.lake, self._stored, self._as_of = lake, stored, as_of
        self._files: dict[str, list[str]] | None = None  # every clean file up to as_of, listed once
        # what the state of as_of keeps: the labels the next nights (and a re-run of as_of) compare with
        self._keep_from = as_of - timedelta(days=MIGRATION_LAG_DAYS)
        self._settings = segment_settings(settings)
        self._fingerprints: dict[date, str] = {}
        self._new: dict[date, pl.LazyFrame] = {}

    def fingerprint(self, day: date) -> str:
        """The settings and every clean file up to ``day``: equal fingerprints, equal segments as of ``day``."""
        if day not in self._fingerprints:
            if day > self._as_of:
                files = {entity: self.lake.clean_files(entity, day) for entity in Silver.ENTITIES}
            else:
                if self._files is None:
                    self._files = {entity: self.lake.clean_files(entity, self._as_of) for entity in Silver.ENTITIES}
                files = {entity: [name for name in names if extract_date_of(name) <= day]
                         for entity, names in self._files.items()}
            text = json.dumps({"settings": self._settings, "files": files}, sort_keys=True)
            self._fingerprints[day] = hashlib.sha256(text.encode()).hexdigest()
        return self._fingerprints[day]

    def holds(self, day: date) -> bool:
        """Whether labels of ``day`` are at hand: computed by this run, or stored and still exact."""
        stored = self._stored.get(day.isoformat())
        return day in self._new or (stored is not None and stored.fingerprint == self.fingerprint(day))

    def get(self, day: date) -> pl.LazyFrame | None:
        """The labels of ``day`` when ``holds``, else None."""
        if day in self._new:
            return self._new[day]
        if not self.holds(day):
            return None
        return self.lake.scan(self._stored[day.isoformat()].path)

    def add(self, day: date, labels: pl.LazyFrame) -> None:
        """Labels this run computed (a backfill holds those its later dates compare with and the state keeps).

        Kept in the run's work folder (``Silver.keep``), not in memory: 10M customers' labels are
        2-3 GB, held from the night's segments until its state is written.
        """
        self._new[day] = labels
        for held in [d for d in self._new if d < day - timedelta(days=MIGRATION_LAG_DAYS) and d < self._keep_from]:
            del self._new[held]

    def to_keep(self) -> dict[date, LabelState | tuple[str, pl.LazyFrame]]:
        """What the new state keeps: the labels of its as-of date - 30 and later."""
        kept: dict[date, LabelState | tuple[str, pl.LazyFrame]] = {
            day: (self.fingerprint(day), frame) for day, frame in self._new.items() if day >= self._keep_from}
        for text, label in self._stored.items():
            day = date.fromisoformat(text)
            if day >= self._keep_from and day not in kept and label.fingerprint == self.fingerprint(day):
                kept[day] = label
        return kept


def migration_base(previous: GoldState, as_of: date, labelled: Iterable[date]) -> GoldState | None:
    """The earlier state the state of ``as_of`` keeps for the next 30 nights' segments, None when they need none.

    The night of D + n compares with the segments of D + n - 30: the state of D keeps the labels of
    D - 30 and later that it has (``SegmentLabels.to_keep``), and for the dates among D - 29 .. D
    without them, a state of one of those dates or earlier: the previous state itself (after a first
    run, its last step, of D - 30; after a gap, the night before it) or the base it kept. Of those,
    the one that serves the most of these dates, the nearer on a tie: the fewer files each night
    reads on top of it.
    """
    held = set(labelled)
    missing = [day for day in (as_of - timedelta(days=n) for n in range(MIGRATION_LAG_DAYS)) if day not in held]
    served = [(sum(day >= candidate.as_of for day in missing), candidate.as_of, candidate)
              for candidate in (previous, previous.base) if candidate is not None]
    count, _, best = max(served, key=lambda item: item[:2])
    return best.as_base() if count else None


def open_silver(lake: Lake, up_to: date, dates: list[date], settings: Settings) -> tuple[Silver, str]:
    """Silver for a run as of ``up_to`` with snapshot ``dates``: incremental when it can be, and how it was opened.

    Incremental only for a nightly run of the lake's newest date (snapshots of earlier dates read
    the whole history), with a readable state written by this kohde from files that are all still
    in the lake, and ``KOHDE_INCREMENTAL`` not off. The state's segment labels (``SegmentLabels``)
    are used by any run while they are exact; a night without those of 30 days before computes
    them on the state's base when it has one (``migration_base``), else from the whole history.
    """
    if not settings.incremental:
        return Silver(lake, up_to), "full: KOHDE_INCREMENTAL is off"
    state, why = read_state(lake)
    labels = SegmentLabels(lake, settings, {} if state is None else state.labels, up_to)
    if dates != [up_to]:
        return Silver(lake, up_to, labels=labels), "full: a backfill or a run of a date before the lake's newest"
    if state is None:
        return Silver(lake, up_to, labels=labels), f"full: {why}"
    compared_to = up_to - timedelta(days=MIGRATION_LAG_DAYS)
    earlier: Increment | str | None = None
    kept = ""
    if labels.holds(compared_to):
        kept = f"; the segments of {compared_to} from the state"
    elif state.base is not None and state.base.as_of <= compared_to:
        # the segments of 30 days earlier on an earlier state, with the files since as its increment
        earlier = plan_increment(lake, compared_to, state.base, {})
        kept = f"; the segments of {compared_to} on the state of {state.base.as_of}"
    # else their segments read the touches of the 90 days up to then and every order
    exact_from = {} if labels.holds(compared_to) or isinstance(earlier, Increment) else {
        "touchpoint": compared_to - timedelta(days=INTENT_WINDOW_DAYS + 1), "order": EVERY_EVENT}
    increment = plan_increment(lake, up_to, state, exact_from)
    if isinstance(increment, str):
        return Silver(lake, up_to, labels=labels), f"full: {increment}"
    silver = Silver(lake, up_to, increment, labels)
    silver.earlier = earlier if isinstance(earlier, Increment) else None
    return silver, increment.describe() + (kept if not exact_from else "")


def first_run_steps(lake: Lake, up_to: date, settings: Settings) -> list[date]:
    """The dates a first nightly run of ``up_to`` builds the lake's state on before its own (``advance_state``).

    A nightly run on the state reads its history from the state's parts; a run without one (the
    first, or the first after ``kohde forget`` or an upgrade) would hold the whole history at once
    (19 GB for 1M customers over three years). So it builds the state ``first_run_months`` months
    of history at a time, from the first month of the lake's extractions, each block a multi-day
    increment on the one before: the last day of every block that ends before ``up_to - 30``, then
    ``up_to - 30`` itself, whose segment labels the night's migration compares with. None when the
    lake has a state, when ``KOHDE_INCREMENTAL`` or ``KOHDE_FIRST_RUN_MONTHS`` is off, or when no
    block ends before ``up_to - 30`` (a short history, rebuilt at once).
    """
    if not settings.incremental or not settings.first_run_months or read_state(lake)[0] is not None:
        return []
    clean = lake.root / "clean"
    firsts = [days[0] for entity in INCREMENTAL_ENTITIES for days in [lake.partition_dates(clean / entity)] if days]
    if not firsts:
        return []
    last = up_to - timedelta(days=MIGRATION_LAG_DAYS)
    steps: list[date] = []
    month = min(firsts).year * 12 + min(firsts).month - 1 + settings.first_run_months  # months since year 0
    while (end := date(month // 12, month % 12 + 1, 1) - timedelta(days=1)) < last:
        steps.append(end)
        month += settings.first_run_months
    return [*steps, last] if steps else []


def advance_state(lake: Lake, as_of: date, settings: Settings, *, labels: bool = False, work: Path | None = None) -> None:
    """Move the lake's state to ``as_of`` without building anything for the warehouse.

    A step of a first run (``first_run_steps``): the state's truth and derived attribution rows as
    of ``as_of``, built on the state when there is one (with every new file since as its increment),
    else from the lake's history up to ``as_of``. No CLV or warehouse tables; the segment labels of
    ``as_of`` only with ``labels`` (kept in the state for the night 30 days later). ``work``: the
    step's work folder (``Silver.keep``).
    """
    state, _ = read_state(lake)
    increment = None if state is None else plan_increment(lake, as_of, state, {})  # a str: why it cannot be used
    kept = SegmentLabels(lake, settings, {}, as_of) if labels else None
    silver = Silver(lake, as_of, None if isinstance(increment, str) else increment, kept)
    silver.work = work
    facts = build_facts(silver, as_of, settings, state_only=True)
    if kept is not None:
        segments = segments_as_of(silver, as_of, settings, segment_rules(settings), facts.orders.lazy(),
                                  facts.touchpoints.lazy())
        kept.add(as_of, silver.keep("labels", segment_labels_of(segments)))
    # a step keeps no base: the night after the last one takes that step's state as its base (``migration_base``)
    silver.new_state(f"{as_of.isoformat()}-{uuid.uuid4().hex[:12]}", facts.derived, base=False)


def channel_rules(settings: Settings) -> tuple[ChannelRule, ...]:
    """The user's channel grouping rules (``KOHDE_CHANNEL_RULES``), none when unset."""
    return () if settings.channel_rules is None else load_channel_rules(settings.channel_rules)


def segment_rules(settings: Settings) -> SegmentRules:
    """The user's persona and psychographic rules (``KOHDE_SEGMENT_RULES``), the built-in ones when unset."""
    return SegmentRules() if settings.segment_rules is None else load_segment_rules(settings.segment_rules)


@dataclass(frozen=True)
class Facts:
    """The facts and the segment snapshot as of one date: built once, read by the current tables and that date's snapshot."""

    as_of: date
    orders: pl.LazyFrame  # fct_orders and the segments: kept in the run's work folder (Silver.keep)
    ad_spend: pl.DataFrame
    # on an incremental run the touches are lazy: the months the run did not rebuild are read from the state's parts
    # by each reader (see Silver.current), so the night does not hold the history's touches; the credit rows are
    # always lazy: those it rebuilt are kept in the work folder (Silver.keep), the others read from the state's parts
    touchpoints: pl.DataFrame | pl.LazyFrame
    attribution: pl.LazyFrame  # the models of attribution_models (the snapshots' among them); orders and won deals
    segments: pl.DataFrame | pl.LazyFrame  # an empty DataFrame when the facts were built for the state only
    derived: Derived | None = None  # for the next night's incremental run
    # built on the previous night's state: only these changed (None: nothing), so the warehouse may
    # replace just them when it holds that state (see run.build_and_load)
    on_state: str | None = None
    touch_window: date | None = None
    # build_clv of the orders grouped by customer, computed in a thread (mostly numpy) while the segments and the
    # snapshots' other tables are built (mostly polars)
    clv: Future[tuple[pl.LazyFrame, pl.DataFrame]] | None = None
    # the orders grouped by customer once, for the segments, dim_customer, segment summary and quality and the CLV
    # summary (None: state only)
    customer_orders: CustomerOrders | None = None
    # ``month_digests`` of fct_orders by order_date, when the attribution window read them (None: not computed)
    order_digests: dict[str, str] | None = None


T = TypeVar("T")


def entity_versions(extractions: pl.DataFrame, entity: str) -> pl.DataFrame:
    """``silver.versions`` as a run holds them: an incremental entity's in ``truth_order``, sorted once.

    The truth of any date then comes out in truth_order, as an incremental run gives it: one sort
    here instead of one per read. Its versions are not sorted by key first when no key repeats
    (``sort_by_key=False``): that sort is undone by this one.
    """
    if entity not in INCREMENTAL_ENTITIES:
        return versions(extractions, entity)
    return versions(extractions, entity, sort_by_key=False).sort([*truth_order(entity), VALID_FROM])


def _in_background(function: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """``function(*args, **kwargs)`` in a thread of its own; its result, or its error, when asked for."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(function, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)  # the thread ends with the function


def fact_settings(settings: Settings) -> str:
    """What fct_touchpoints and fct_attribution rows depend on besides the lake: kept state is reused only under the same."""
    return json.dumps({
        "models": attribution_models(settings), "lookback": settings.attribution_lookback_days,
        "half_life": settings.attribution_half_life_days, "markov_order": settings.attribution_markov_order,
        "channel_rules": _file_digest(settings.channel_rules),
        "row_order": ATTRIBUTION_ORDER,  # kept rows are appended to in this order: a state in another is not kept
    }, sort_keys=True)


def build_facts(silver: Silver, as_of: date, settings: Settings, *, state_only: bool = False) -> Facts:
    """fct_orders, fct_ad_spend_daily, fct_touchpoints, fct_attribution and the segments as of a date.

    ``state_only``: only what the next state needs (``advance_state``): no segments (empty), no CLV.

    On an incremental run whose state was derived under the same settings, fct_attribution's
    rule-based order rows are taken from the state except those of the conversions that
    ``attribution_changes`` names, computed anew; its rule-based won-deal rows likewise, but for the
    deals ``won_deal_changes`` names; the data-driven models
    (fitted on every journey) are computed whole.
    Either way the rows are those a full computation gives. On an incremental run fct_touchpoints
    stays lazy over the state's parts; fct_attribution is lazy either way (``Facts``). The credit
    rows, the conversions and the CLV frames are kept in the work folder (``Silver.keep``).
    """
    fx = silver.fx(as_of)
    orders = silver.keep("fct_orders", build_fct_orders(silver.as_of("order", as_of), fx,
                                                        cache=not silver.assembled("order", as_of)))
    touch_facts = build_fct_touchpoints(silver.as_of("touchpoint", as_of), channel_rules(settings))
    touchpoints = touch_facts if silver.increment is not None else touch_facts.collect()
    deals, contacts = silver.as_of("deal", as_of), silver.as_of("contact", as_of)
    models = attribution_models(settings)
    rule_based = tuple(m for m in models if m in RULE_BASED_MODELS)
    # one row per won deal: 85k at medium, compared with the previous night's to find what changed
    won_deals = won_deal_conversions(deals, fx, as_of).collect()

    def credit(orders: pl.DataFrame | pl.LazyFrame, touches: pl.DataFrame | pl.LazyFrame, chosen: tuple[str, ...],
               won: pl.DataFrame | None) -> pl.LazyFrame:
        return build_fct_attribution(
            orders.lazy(), touches.lazy(), settings.attribution_lookback_days, chosen, contacts=contacts, deals=deals,
            markov_order=settings.attribution_markov_order, time_decay_half_life_days=settings.attribution_half_life_days,
            won_deals=None if won is None else won.lazy(),
        )

    def attribute(orders: pl.DataFrame | pl.LazyFrame, touches: pl.DataFrame | pl.LazyFrame, chosen: tuple[str, ...],
                  won: pl.DataFrame | None) -> pl.LazyFrame:
        # credit rows are kept in the work folder: a first night's at the large scale (the won deals' and the
        # window's, about 3M orders) are gigabytes held to the load otherwise
        return silver.keep("attribution", credit(orders, touches, chosen, won))

    lookback = timedelta(days=settings.attribution_lookback_days)

    def touches_since(first: datetime | None) -> pl.DataFrame | pl.LazyFrame:
        """The touches that can lie on the path of a conversion at or after ``first`` (None: no conversion)."""
        return touchpoints.clear() if first is None else touchpoints.filter(pl.col("ts") >= first - lookback)

    fingerprint = fact_settings(settings)
    conversions = silver.keep("conversions", conversions_of(orders))  # every revenue order: 25M at the large scale
    milestones = milestones_of(contacts, deals).collect() if set(rule_based) & set(MILESTONE_MODELS) else None
    state = None if silver.increment is None else silver.increment.state
    previous = state.derived if state is not None and state.derived is not None else None
    if previous is not None and (previous.settings != fingerprint or (milestones is None) != (previous.milestones is None)):
        previous = None
    touch_window = None if silver.increment is None else silver.increment.entities["touchpoint"].window
    data_driven = tuple(m for m in models if m not in RULE_BASED_MODELS)
    rebuilt = won_rebuilt = None
    order_digests = None
    if previous is None:
        attribution = attribute(orders, touchpoints, models, won_deals)
    else:
        lake = silver.lake
        kept_milestones = None if previous.milestones is None else lake.scan(previous.milestones)
        # the months of orders that changed since the previous night's run loaded them (its month digests, which
        # the warehouse load reads too): the conversions of the others are the same
        order_digests = month_digests(orders, "order_date")
        loaded = state.digests.get("fct_orders") if state is not None else None
        # the customers whose touches changed since the previous night, with their first changed touch
        touched = None if touch_window is None or state is None else touched_customers(
            parts_scan(lake, "touchpoint", state.entities["touchpoint"]), silver.as_of("touchpoint", as_of),
            touch_window).collect().lazy()
        rebuilt = attribution_changes(lake.scan(previous.conversions), conversions, touched, kept_milestones,
                                      milestones, "all" if loaded is None else changed_since(loaded, order_digests))

        def kept_rows(parts: dict[str, str]) -> pl.LazyFrame:
            """The rows of the state's parts; with none, no rows (fct_attribution's columns, from no conversions)."""
            if parts:
                return scan_parts(lake, parts)
            return credit(orders.clear(), touchpoints.clear(), rule_based, won_deals.clear()).clear()

        def spliced(kept: pl.LazyFrame, changes: Rebuilt, new: pl.LazyFrame) -> list[pl.LazyFrame]:
            """In ATTRIBUTION_ORDER: the kept rows before the first rebuilt conversion's day, then the rest, new.

            The days before it are the state's parts in month order, left in the lake; from it on the other
            conversions' kept rows and the rebuilt ones' ``new`` rows are sorted together.
            """
            since = pl.col("order_date") >= changes.since
            recent = pl.concat([kept.filter(since).join(changes.order_ids.lazy(), on="order_id", how="anti"), new],
                               how="vertical_relaxed")
            return [kept.filter(~since), silver.keep("attribution", recent.sort(ATTRIBUTION_ORDER))]

        def paths_of(customers: pl.DataFrame, first: datetime | None) -> pl.LazyFrame:
            """The touches on the paths of the customers' conversions from ``first`` on: a path is its customer's."""
            return touches_since(first).lazy().join(customers.lazy().select("customer_id").unique(), on="customer_id",
                                                    how="semi")

        # the order rows, then the won deals' likewise by close day
        kept = kept_rows(previous.attribution)
        parts = [kept]
        if rebuilt is not None:
            changed = (orders.filter(pl.col("order_date") >= rebuilt.since)
                       .join(rebuilt.order_ids.lazy(), on="order_id", how="semi").collect())
            first = cast(datetime | None, changed.filter(pl.col("is_revenue"))["ordered_at"].min())
            parts = spliced(kept, rebuilt, credit(changed, paths_of(changed, first), rule_based, None))
        if previous.won_conversions is None:  # a state of an earlier kohde: the won deals computed whole
            won = [attribute(orders.clear(), touchpoints, models, won_deals)]
        else:
            won_rebuilt = won_deal_changes(lake.scan(previous.won_conversions), won_deals, touched, kept_milestones,
                                           milestones)
            kept_won = kept_rows(previous.won_attribution)
            won = [kept_won]
            if won_rebuilt is not None:
                recent = won_deals.join(won_rebuilt.order_ids.rename({"order_id": "deal_id"}), on="deal_id", how="semi")
                first_close = recent["close_date"].min()
                # the earliest a deal of then converts
                since = None if first_close is None else datetime.combine(cast(date, first_close), time(), tzinfo=UTC)
                won = spliced(kept_won, won_rebuilt, credit(orders.clear(), paths_of(recent, since), rule_based, recent))
            if data_driven:  # their rows go between the rule-based ones of each deal: sorted in
                won = [silver.keep("attribution", pl.concat(
                    [*won, credit(orders.clear(), touchpoints, data_driven, won_deals)],
                    how="vertical_relaxed").sort(ATTRIBUTION_ORDER))]
        if data_driven:  # likewise for the orders
            parts = [silver.keep("attribution", pl.concat([*parts, credit(orders, touchpoints, data_driven, None)],
                                                          how="vertical_relaxed").sort(ATTRIBUTION_ORDER))]
        attribution = pl.concat([*parts, *won], how="vertical_relaxed")
    by_customer: CustomerOrders | None = None
    clv: Future[tuple[pl.LazyFrame, pl.DataFrame]] | None = None
    if not state_only:
        grouped, order_digests = _customer_orders(silver, orders, as_of, settings.rfm_window_days, state, order_digests)
        by_customer = replace(grouped, rows=silver.keep("customer_orders", grouped.rows))

        def clv_kept() -> tuple[pl.LazyFrame, pl.DataFrame]:  # mart_clv has a row per customer: 10M at the large scale
            rows, model = build_clv(orders, as_of, annual_discount_rate=settings.clv_annual_discount_rate,
                                    customer_orders=by_customer)
            return silver.keep("mart_clv", rows), model

        clv = _in_background(clv_kept)
    is_rule_based = pl.col("model").is_in(rule_based)
    derived = Derived(
        fingerprint, attribution.filter((pl.col("conversion_type") == ORDER) & is_rule_based), conversions, milestones,
        rebuilt, rebuilt_all=previous is None,
        won_attribution=attribution.filter((pl.col("conversion_type") == WON_DEAL) & is_rule_based),
        won_conversions=won_deals, won_rebuilt=won_rebuilt,
        won_rebuilt_all=previous is None or previous.won_conversions is None, customer_orders=by_customer)
    return Facts(
        as_of=as_of, orders=orders, touchpoints=touchpoints, attribution=attribution,
        ad_spend=build_fct_ad_spend_daily(silver.as_of("ad_daily", as_of), fx).collect(),
        segments=pl.DataFrame() if state_only else silver.keep("mart_customer_segments", segments_as_of(
            silver, as_of, settings, segment_rules(settings), orders, touchpoints.lazy(), by_customer)),
        derived=derived,
        on_state=None if previous is None else state.state_id, touch_window=touch_window, clv=clv,
        customer_orders=by_customer, order_digests=order_digests,
    )


def _customer_orders(silver: Silver, orders: pl.LazyFrame, as_of: date, window_days: int, state: GoldState | None,
                     digests: dict[str, str] | None) -> tuple[CustomerOrders, dict[str, str] | None]:
    """The orders grouped by customer (``customer_orders``), and fct_orders' month digests when they were computed.

    On a night whose state kept the previous night's groups (over the same RFM window) and the
    month digests of the fct_orders it loaded, only the customers whose rows can differ are
    grouped again (``regrouped``): 10M customers' 30M orders at the large scale otherwise.
    """
    derived = None if state is None else state.derived
    loaded = None if state is None else state.digests.get("fct_orders")
    if (state is None or derived is None or derived.customer_orders is None or loaded is None
            or derived.customer_orders_window != window_days or state.as_of > as_of
            or not set(PURCHASE_COLUMNS) <= set(silver.lake.scan(derived.customer_orders).collect_schema().names())):
        # (a state kept before the groups had their purchase days is grouped anew)
        return customer_orders(orders, as_of, window_days), digests
    digests = digests if digests is not None else month_digests(orders, "order_date")
    since = changed_since(loaded, digests)
    if isinstance(since, str):  # "all": rows without an order date changed
        return customer_orders(orders, as_of, window_days), digests
    lake = silver.lake
    return regrouped(lake.scan(derived.customer_orders), state.as_of, orders, as_of, window_days, since,
                     lake.scan(derived.conversions)), digests


def build_current(silver: Silver, as_of: date, settings: Settings,
                  facts: Facts | None = None) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """Facts, dimensions and period marts as of the run's last date (``facts``: already built for that date).

    fct_touchpoints is lazy on an incremental run (``Facts``); fct_attribution, fct_orders and
    dim_customer always (kept in the run's work folder, ``Silver.keep``); every other table is a DataFrame.
    """
    if facts is None or facts.as_of != as_of:
        facts = build_facts(silver, as_of, settings)
    fx = silver.fx(as_of)
    orders, ad_spend, touchpoints, attribution = facts.orders, facts.ad_spend, facts.touchpoints, facts.attribution
    contacts = silver.as_of("contact", as_of)
    # won deals are mostly paid through orders too: revenue, ROI and CAC count the orders (cash) only
    # (mart_channel_roi splits the two itself: won deals have columns of their own)
    order_credit = attribution.lazy().filter(pl.col("conversion_type") == ORDER)
    segments = facts.segments.lazy()
    return {
        "fct_orders": orders,
        "fct_ad_spend_daily": ad_spend,
        "fct_touchpoints": touchpoints,
        "fct_attribution": attribution,
        "dim_campaign": build_dim_campaign(silver.as_of("ad_daily", as_of), silver.as_of("touchpoint", as_of)).collect(),
        "dim_customer": silver.keep("dim_customer", build_dim_customer(
            contacts, orders.lazy(), segments.select("customer_id", "rfm_segment", "value_tier"), as_of,
            facts.customer_orders)),
        "mart_channel_roi": build_channel_roi(attribution.lazy(), ad_spend.lazy()).collect(),
        "mart_sales_costs": build_sales_costs(silver.as_of("sales_cost", as_of), orders.lazy(), fx,
                                              ad_spend.lazy()).collect(),
        "mart_campaign_lift": build_campaign_lift(ad_spend.lazy(), orders.lazy(), as_of).collect(),
        "mart_channel_reallocation": build_channel_reallocation(ad_spend.lazy(), order_credit, as_of),
        "mart_segment_economics": build_segment_economics(order_credit, segments).collect(),
        "mart_budget_vs_actual": build_budget_vs_actual(silver.as_of("budget", as_of), ad_spend.lazy(), fx,
                                                        as_of).collect(),
    }


def segments_as_of(silver: Silver, as_of: date, settings: Settings, rules: SegmentRules, fct_orders: pl.LazyFrame,
                   fct_touchpoints: pl.LazyFrame, by_customer: CustomerOrders | None = None) -> pl.LazyFrame:
    """mart_customer_segments as of a date from silver and that date's orders and touches, with the run's settings.

    The one place the segment snapshot is built, so the nightly snapshot, the current tables, the
    earlier side of a migration and the audiences all segment customers the same way.
    ``by_customer``: the orders already grouped by customer (``customer_orders``), if at hand.
    """
    return build_customer_segments(fct_orders, silver.as_of("contact", as_of), fct_touchpoints, as_of,
                                   settings.rfm_window_days, deals=silver.history("deal", as_of),
                                   clusters=settings.segment_clusters, personas=rules.personas,
                                   psychographic=rules.psychographic, customer_orders=by_customer)


def _segments_from_silver(silver: Silver, as_of: date, settings: Settings, rules: SegmentRules,
                          touch_rules: tuple[ChannelRule, ...]) -> pl.LazyFrame:
    """The segment snapshot of a date outside the run's range (the earlier side of a migration)."""
    orders = build_fct_orders(silver.as_of("order", as_of), silver.fx(as_of))
    touchpoints = build_fct_touchpoints(silver.as_of("touchpoint", as_of), touch_rules)
    return segments_as_of(silver, as_of, settings, rules, orders, touchpoints)


def build_snapshots(silver: Silver, dates: Iterable[date], settings: Settings,
                    facts: Facts | None = None) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """Segments, segment summary, migration and quality, intent conversion, goal tracking, CLV, LTV:CAC and retargeting per as-of date.

    Each snapshot is computed from silver as of its own date, so a backfill leaves the snapshots
    nightly runs would have left. Migration compares with the segments 30 days earlier: taken from
    this range when it holds that date, else computed from silver as of that date. ``facts`` (of
    the run's current date) stand in for the facts, segments and attribution of their own date.
    """
    dates = list(dates)
    parts: dict[str, list[pl.DataFrame | pl.LazyFrame]] = {name: [] for name in SNAPSHOT_TABLES}
    # slim segment labels by date, so migration reuses a snapshot of the range, or one an earlier run kept, when it can
    labels = silver.labels if silver.labels is not None else SegmentLabels(silver.lake, settings, {}, max(dates))
    rules, touch_rules = segment_rules(settings), channel_rules(settings)
    if facts is not None and facts.as_of not in dates:  # a backfill's: kept for the nights that compare with them
        labels.add(facts.as_of, silver.keep("labels", segment_labels_of(facts.segments.lazy())))
    for as_of in dates:
        contacts = silver.as_of("contact", as_of)
        if facts is not None and facts.as_of == as_of:
            orders, touchpoints, segments, spend = facts.orders.lazy(), facts.touchpoints, facts.segments, facts.ad_spend
            by_customer = facts.customer_orders
            # rule-based credit of an order depends on its path alone: the current table's rows are these (the
            # columns the acquisition channel, CAC and goal tracking read: 3.6M rows at medium, written once)
            touches: pl.DataFrame | pl.LazyFrame = silver.keep(
                "snapshot_credit", facts.attribution.lazy().filter((pl.col("conversion_type") == ORDER) & SNAPSHOT_CREDIT)
                .select(SNAPSHOT_CREDIT_COLUMNS))
        else:
            fx = silver.fx(as_of)
            orders = build_fct_orders(silver.as_of("order", as_of), fx).collect().lazy()
            touchpoints = build_fct_touchpoints(silver.as_of("touchpoint", as_of), touch_rules).collect()
            segments = segments_as_of(silver, as_of, settings, rules, orders, touchpoints.lazy()).collect()
            touches = build_fct_attribution(orders, touchpoints.lazy(), settings.attribution_lookback_days,
                                            SNAPSHOT_ATTRIBUTION_MODELS).filter(SNAPSHOT_CREDIT).collect()
            spend = build_fct_ad_spend_daily(silver.as_of("ad_daily", as_of), fx).collect()
            by_customer = None
        parts["mart_customer_segments"].append(segments.lazy())  # the facts' are in the work folder (Silver.keep)
        clv: pl.DataFrame | pl.LazyFrame
        if facts is not None and facts.as_of == as_of and facts.clv is not None:
            clv, clv_model = facts.clv.result()
        else:
            clv, clv_model = build_clv(orders, as_of, annual_discount_rate=settings.clv_annual_discount_rate,
                                       customer_orders=by_customer)
        first_touch = touches.filter(pl.col("model") == "first_touch")
        # each customer's acquisition channel, read by the customer values and LTV:CAC: grouped once (10M customers
        # at the large scale), kept in the work folder between them
        found = acquisition(first_touch, spend, as_of)
        acquired = replace(found, channel=silver.keep("acquisition", found.channel), cac=found.cac.collect().lazy())
        values = customer_value_and_cost(clv, first_touch, spend, as_of, acquired)
        parts["mart_segment_summary"].append(
            build_segment_summary(segments.lazy(), orders, as_of, customer_values=values.lazy(),
                                  customer_orders=by_customer).collect()
        )
        compared_to = as_of - timedelta(days=MIGRATION_LAG_DAYS)
        labels.add(as_of, silver.keep("labels", segment_labels_of(segments.lazy())))
        previous = labels.get(compared_to)
        if previous is None:
            earlier = silver.on(compared_to)
            previous = silver.keep("labels", segment_labels_of(
                _segments_from_silver(earlier, compared_to, settings, rules, touch_rules)))
            labels.add(compared_to, previous)
        migration = build_segment_migration(segments.lazy(), previous.lazy(), as_of, compared_to).collect()
        parts["mart_segment_migration"].append(migration)
        parts["mart_segment_quality"].append(
            build_segment_quality(segments.lazy(), orders, migration.lazy(), as_of, customer_orders=by_customer).collect()
        )
        parts["mart_intent_conversion"].append(
            build_intent_conversion(touchpoints.lazy(), orders, silver.as_of("deal", as_of), contacts, as_of).collect()
        )
        parts["mart_goal_tracking"].append(
            build_goal_tracking(silver.as_of("goal", as_of), orders, contacts, as_of, ad_spend=spend.lazy(),
                                attribution=touches.lazy(), segments=segments).collect()
        )
        parts["mart_clv"].append(clv)
        parts["mart_clv_model"].append(clv_model)
        parts["mart_ltv_cac"].append(build_ltv_cac(clv, segments, first_touch, spend, as_of, acquired))
        parts["mart_retargeting"].append(build_retargeting(touchpoints.lazy(), orders, spend.lazy(), as_of,
                                                           settings.attribution_lookback_days).collect())
    return {name: _concat(frames) for name, frames in parts.items() if frames}


def _concat(frames: list[pl.DataFrame | pl.LazyFrame]) -> pl.DataFrame | pl.LazyFrame:
    """One snapshot table of a run's dates: lazy when one of them is (a table in the work folder)."""
    if any(isinstance(frame, pl.LazyFrame) for frame in frames):
        return pl.concat([frame.lazy() for frame in frames], how="vertical_relaxed")
    return pl.concat([frame for frame in frames if isinstance(frame, pl.DataFrame)], how="vertical_relaxed")
