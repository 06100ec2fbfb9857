"""The incremental nightly run: the current truth of the big event entities, kept in the lake between runs.

A full rebuild reads and versions every extraction of every entity. For the event entities that
make up most of the history (touchpoints, ad days, orders) a nightly run instead starts from the truth
the previous run left in the lake's gold zone and rebuilds only the event dates its new files can
have changed. The result is the same table, row for row (``tests/test_incremental.py`` holds it to
that): only the cost differs.

Why it is exact. Every extracted row has an event date (``EVENT_DATE``) and an extract date. The
*lead* of an entity is the largest ``event date - extract date`` over every row ever extracted
(0 when no event is extracted before it happens; a US account's evening touch has a UTC date one
day after its export, a lead of 1). The state records it and each run raises it with its new rows.
So every version of an event dated on or after a day ``W`` lies in the extractions dated on or
after ``W - lead``, and the newest version of a key is always in the newest of its extractions:
reading only those partitions gives the exact truth of every event dated ``>= W``, at any as-of
date. A run then takes

- ``W``: the earliest event date among the rows of the clean files the state does not cover, and
  among the previous truths of their keys (a row whose date moved leaves its old date too);
- the truth: the state's rows dated ``< W`` (no new file touched them) and the rows dated ``>= W``
  of the partial read (``Silver`` does this with an ``Increment``).

The CRM records (contacts, deals) have no event date: their truth is the newest extraction of
each business key. The state keeps it as of its date (``RECORD_ENTITIES``), and a run whose new
files are all extracted after that date takes the held records whose keys no new file has, and
the newest new row of every other key: the same truth, without reading every extraction of three
years. Deals keep with it the stages each deal was ever seen in (``deal_stage_depth`` reads the
furthest). Both are kept in layers (``RecordState``): a night writes only its own rows. A new
file extracted on or before the state's date, or a run that needs these records as of an earlier
date (the segments of 30 days before, when neither their labels nor an earlier state to compute
them on are kept: ``GoldState.as_base``), reads every extraction instead.

The state is written after the warehouse transaction commits, last the state file itself, so a
run that fails or is killed leaves the previous state, whose files are still there: the next run
sees the same new files again. Any doubt means a full rebuild (``plan_increment`` says why).

Layout::

    lake/gold/state.json                                         the state: files covered, leads, parts (and its base's)
    lake/gold/truth/<entity>/<state id>/<YYYY-MM>.parquet        the truth, one part per event month
    lake/gold/derived/<state id>/...                             fct_attribution's rule-based rows and inputs
    lake/gold/labels/<state id>/<YYYY-MM-DD>.parquet             segment labels of the last 31 as-of dates
    lake/gold/loaded/<state id>/<table>.parquet                  a table loaded by key: its keys and row hashes
    lake/gold/records/<state id>/<entity>.parquet                contacts' and deals' truth (and deal stages seen)

A part is written once and read by later states until a run rebuilds its month.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Final, cast

import polars as pl

from pipeline import __version__
from pipeline.entities import BUSINESS_KEYS, ENTITIES
from pipeline.lake import Lake, LakePath, ParquetCompression, partition_date
from pipeline.transforms.customer_orders import CustomerOrders

STATE_FORMAT = 3
# the state's files are rewritten every night and read by the next: lz4 writes them at half zstd's CPU and
# reads them faster, for files about 1.8x larger (1M contacts: 2.2 CPU s instead of 4.2 s, 230 MB instead of 124 MB)
STATE_COMPRESSION: Final[ParquetCompression] = "lz4"
# the event date of each entity kept incrementally: the date fct_touchpoints and fct_ad_spend_daily report
EVENT_DATE: dict[str, pl.Expr] = {
    "touchpoint": pl.col("ts").dt.convert_time_zone("UTC").dt.date(),
    "ad_daily": pl.col("day"),
    "order": pl.col("order_date"),  # never NULL in the clean zone (quarantined)
}
INCREMENTAL_ENTITIES: tuple[str, ...] = tuple(EVENT_DATE)


def event_since(entity: str, day: date) -> pl.Expr:
    """``EVENT_DATE[entity] >= day`` on the stored column itself, so a Parquet scan skips the row groups before ``day``.

    A filter on the derived touch date reads and converts every row of every part; this one is
    answered from each row group's statistics (the parts are sorted by month). NULLs are dropped by both.
    """
    if entity == "touchpoint":
        return pl.col("ts") >= datetime.combine(day, time(), tzinfo=UTC)
    return EVENT_DATE[entity] >= day
# the CRM records kept by business key (see the module docstring); deals also keep the stages they were seen in
RECORD_ENTITIES: tuple[str, ...] = ("contact", "deal")
# of every extraction of a deal, what the segments' deal_stage_depth reads (``Silver.history``)
DEAL_STAGE_COLUMNS: tuple[str, ...] = ("customer_id", "created_date", "stage")
# nightly layers on a record entity's base truth before the whole truth is written again (``RecordState``)
RECORD_LAYERS = 30
# an ``exact_from`` that asks for every event: the whole history of the entity is read
EVERY_EVENT = date(1900, 1, 1)
_EVENT = "_event_date"
_MONTH = "_event_month"


@dataclass(frozen=True)
class EntityState:
    """What the state holds of one entity: the clean files its truth covers, the lead, the parts by event month."""

    files: tuple[str, ...]
    lead_days: int
    parts: dict[str, str]  # "YYYY-MM" -> path of the part under the lake root


@dataclass(frozen=True)
class DerivedState:
    """What gold derived from the truth, kept for the next night: fct_attribution's rule-based rows and their inputs."""

    settings: str                # the settings they were computed with (``gold.fact_settings``)
    attribution: dict[str, str]  # "YYYY-MM" of order_date -> part of the rule-based order rows
    conversions: str             # one row per revenue order: what its credit was computed from
    milestones: str | None       # per customer: lead creation and deal dates (when a milestone model is chosen)
    # likewise of the won deals ("YYYY-MM" of the close date); None: not kept (a state of an earlier kohde)
    won_attribution: dict[str, str] = field(default_factory=dict)
    won_conversions: str | None = None  # one row per won deal (``won_deal_conversions``)
    # the orders grouped by customer (``customer_orders``) as of the state's date over an RFM window of this many days;
    # None: not kept (a state step's, or an earlier kohde's)
    customer_orders: str | None = None
    customer_orders_window: int | None = None

    def paths(self) -> set[str]:
        """Every file of the lake it reads."""
        return {*self.attribution.values(), self.conversions, *([self.milestones] if self.milestones else []),
                *self.won_attribution.values(), *([self.won_conversions] if self.won_conversions else []),
                *([self.customer_orders] if self.customer_orders else [])}


@dataclass(frozen=True)
class LabelState:
    """The segment labels of one as-of date (``segment_labels_of`` its snapshot) and what they were computed from."""

    path: str
    fingerprint: str  # the settings and the clean files up to that date (``gold.SegmentLabels``)


@dataclass(frozen=True)
class RecordState:
    """What the state holds of a CRM record entity: the clean files its truth covers, the truth, the stages seen.

    The truth is kept in layers: a base (the whole truth as of some night, sorted by business key),
    then each later night's newest rows of the keys its new files had. A key's truth is its row in
    the newest layer that has it. A night writes only its own layer; every ``RECORD_LAYERS`` nights,
    or sooner when the layers would hold more rows than the base, the whole truth is written as a
    new base (``gold.Silver._record_layers``).
    """

    files: tuple[str, ...]
    layers: tuple[str, ...]   # base first, then one per night (each sorted by business key)
    history: tuple[str, ...]  # deals: the ``DEAL_STAGE_COLUMNS`` of every extraction up to the state's date, in layers


@dataclass(frozen=True)
class RowHashes:
    """What a table loaded by key holds: its primary keys and row hashes (``row_hashes``) in a file."""

    path: str
    polars: str  # the polars version that hashed them: its row hash is stable only within a version


@dataclass(frozen=True)
class GoldState:
    """The truth a run left: as of which date, written by which kohde, of which files; and what gold derived from it."""

    state_id: str
    as_of: date
    code: str
    entities: dict[str, EntityState]
    derived: DerivedState | None = None
    labels: dict[str, LabelState] = field(default_factory=dict)  # "YYYY-MM-DD" -> segment labels of that date
    # per warehouse table loaded by month when it can be: "YYYY-MM" (or "null") -> digest of the rows (``month_digests``)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    loaded: dict[str, RowHashes] = field(default_factory=dict)  # per warehouse table loaded by key
    records: dict[str, RecordState] = field(default_factory=dict)  # per CRM record entity (``RECORD_ENTITIES``)
    # the truth of an earlier date, kept while the next nights lack segment labels they compare with (``as_base``)
    base: GoldState | None = None

    def paths(self) -> set[str]:
        """Every file of the lake the state reads."""
        return ({path for e in self.entities.values() for path in e.parts.values()}
                | (self.derived.paths() if self.derived else set())
                | {label.path for label in self.labels.values()}
                | {hashes.path for hashes in self.loaded.values()}
                | {path for r in self.records.values() for path in (*r.layers, *r.history)}
                | (self.base.paths() if self.base else set()))

    def as_base(self) -> GoldState:
        """The state as a later one keeps it for the segments of its date and after: its truth and CRM records only.

        A night compares its segments with those of 30 days before. When their labels are not kept
        (the 30 nights after a first run, whose steps keep the labels of one date only; a night after
        a gap), that earlier snapshot is computed on such a state with the files since as its
        increment (``gold.open_silver``), not from every extraction of the history.
        """
        return GoldState(self.state_id, self.as_of, self.code, self.entities, records=self.records)

    def to_json(self) -> str:
        """The state file's text."""
        return json.dumps(self._raw(), sort_keys=True)

    def _raw(self) -> dict[str, object]:
        derived = None if self.derived is None else {
            "settings": self.derived.settings, "attribution": self.derived.attribution,
            "conversions": self.derived.conversions, "milestones": self.derived.milestones,
            "won_attribution": self.derived.won_attribution, "won_conversions": self.derived.won_conversions,
            "customer_orders": self.derived.customer_orders,
            "customer_orders_window": self.derived.customer_orders_window}
        return {
            "format": STATE_FORMAT, "state_id": self.state_id, "as_of": self.as_of.isoformat(), "code": self.code,
            "entities": {name: {"files": list(e.files), "lead_days": e.lead_days, "parts": e.parts}
                         for name, e in self.entities.items()},
            "derived": derived,
            "labels": {day: {"path": label.path, "fingerprint": label.fingerprint} for day, label in self.labels.items()},
            "digests": self.digests,
            "loaded": {table: {"path": hashes.path, "polars": hashes.polars} for table, hashes in self.loaded.items()},
            "records": {name: {"files": list(r.files), "layers": list(r.layers), "history": list(r.history)}
                        for name, r in self.records.items()},
            "base": None if self.base is None else self.base._raw(),
        }

    @classmethod
    def from_json(cls, text: str) -> GoldState:
        """A state from its file's text (ValueError / KeyError when it is not one of this format)."""
        return cls._from_raw(json.loads(text))

    @classmethod
    def _from_raw(cls, raw: dict) -> GoldState:
        if raw.get("format") != STATE_FORMAT:
            raise ValueError(f"state format {raw.get('format')!r}, this kohde writes {STATE_FORMAT}")
        derived = raw.get("derived")
        return cls(state_id=raw["state_id"], as_of=date.fromisoformat(raw["as_of"]), code=raw["code"],
                   entities={name: EntityState(tuple(e["files"]), int(e["lead_days"]), dict(e["parts"]))
                             for name, e in raw["entities"].items()},
                   derived=None if derived is None else DerivedState(
                       derived["settings"], dict(derived["attribution"]), derived["conversions"], derived["milestones"],
                       dict(derived.get("won_attribution", {})), derived.get("won_conversions"),
                       derived.get("customer_orders"), derived.get("customer_orders_window")),
                   labels={day: LabelState(label["path"], label["fingerprint"]) for day, label in raw["labels"].items()},
                   digests={table: dict(months) for table, months in raw["digests"].items()},
                   loaded={table: RowHashes(hashes["path"], hashes["polars"])
                           for table, hashes in raw.get("loaded", {}).items()},
                   records={name: RecordState(tuple(r["files"]), tuple(r["layers"]), tuple(r["history"]))
                            for name, r in raw.get("records", {}).items()},
                   base=None if raw.get("base") is None else cls._from_raw(raw["base"]))


@dataclass(frozen=True)
class RecordLayers:
    """What a run hands ``write_parts`` of a CRM record entity: the files covered, the layers kept, the new ones."""

    files: tuple[str, ...]
    kept: tuple[str, ...]         # the previous state's layers this state reads too (none: ``layer`` is a base)
    layer: pl.DataFrame | pl.LazyFrame  # the night's layer (or the whole truth)
    kept_stages: tuple[str, ...]  # deals: likewise for the stages seen
    stages: pl.DataFrame | None


@dataclass
class Derived:
    """What a run derived and hands to the next night (``DerivedState`` once written)."""

    settings: str
    attribution: pl.DataFrame | pl.LazyFrame  # every rule-based order row of fct_attribution
    conversions: pl.DataFrame | pl.LazyFrame  # ``conversions_of`` the run's fct_orders
    milestones: pl.DataFrame | None  # ``milestones_of`` the run's contacts and deals
    rebuilt: Rebuilt | None         # the conversions whose rows the run rebuilt from the previous state's (None: none)
    rebuilt_all: bool               # no previous rows were used: every part is written
    won_attribution: pl.DataFrame | pl.LazyFrame  # every rule-based won-deal row of fct_attribution
    won_conversions: pl.DataFrame   # ``won_deal_conversions`` as of the run's date
    won_rebuilt: Rebuilt | None     # the won deals whose rows the run rebuilt (None: none)
    won_rebuilt_all: bool           # no previous won-deal rows were used
    customer_orders: CustomerOrders | None = None  # the night's (None: not built, a state step)

    @property
    def window(self) -> date | None:
        """The first order date of the rows the run rebuilt (None: none): the state's parts from its month on are new."""
        return None if self.rebuilt is None else self.rebuilt.since

    @property
    def won_window(self) -> date | None:
        """Likewise the first close date of the won-deal rows the run rebuilt."""
        return None if self.won_rebuilt is None else self.won_rebuilt.since


def code_version() -> str:
    """What a state must have been written by: this kohde's version and the entities' columns."""
    columns = {entity: list(ENTITIES[entity]) for entity in (*INCREMENTAL_ENTITIES, *RECORD_ENTITIES)}
    return f"{__version__}:{json.dumps(columns, sort_keys=True)}"


def state_path(lake: Lake) -> LakePath:
    """Where the state file is."""
    return lake.root / "gold" / "state.json"


def read_state(lake: Lake) -> tuple[GoldState | None, str]:
    """The state, or None and why there is none usable."""
    path = state_path(lake)
    if not path.exists():
        return None, "no incremental state in the lake yet"
    try:
        state = GoldState.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"the incremental state is unreadable ({exc})"
    if state.code != code_version():
        return None, "the incremental state was written by another kohde version"
    if set(state.entities) != set(INCREMENTAL_ENTITIES):
        return None, "the incremental state covers other entities"
    return state, ""


def drop_state(lake: Lake) -> None:
    """Delete the state and every part (``kohde forget`` rewrites the lake): the next run rebuilds in full."""
    path = state_path(lake)
    if path.exists():
        path.unlink()
    for zone in ("truth", "derived", "labels", "loaded", "records"):
        folder = lake.root / "gold" / zone
        if lake.local:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.exists():
            folder.fs.rm(folder.path, recursive=True)


@dataclass(frozen=True)
class EntityPlan:
    """How a run gets one entity's truth: which files it reads, from which event date it rebuilds."""

    files: tuple[str, ...]      # every clean file up to the run's date: what the next state covers
    new_files: tuple[str, ...]  # those the state does not cover
    window: date | None         # W: event dates from here on are rebuilt; None when no new row changed anything
    lead_days: int
    since: date | None          # the first extract date read (None: none read)

    @property
    def exact_from(self) -> date | None:
        """Event dates from here on are exact in the partial read, at any as-of date."""
        return None if self.since is None else self.since + timedelta(days=self.lead_days)


@dataclass(frozen=True)
class RecordPlan:
    """How a run gets a CRM record entity's truth: the state's, with the rows of the files it does not cover."""

    files: tuple[str, ...]      # every clean file up to the run's date: what the next state covers
    new_files: tuple[str, ...]  # those the state does not cover, all extracted after the state's date


@dataclass(frozen=True)
class Increment:
    """An incremental run's plan: the state it starts from and each entity's plan."""

    state: GoldState
    as_of: date
    entities: dict[str, EntityPlan]
    records: dict[str, RecordPlan] = field(default_factory=dict)  # the record entities taken from the state

    def describe(self) -> str:
        """One line for the run log: the state's date and each entity's change window."""
        parts = [f"{entity} from {plan.window}" if plan.window else f"{entity} unchanged"
                 for entity, plan in self.entities.items()]
        if self.records:
            new_files = sum(len(plan.new_files) for plan in self.records.values())
            parts.append(f"{' and '.join(self.records)} from the state with {new_files} new files")
        return f"incremental on the state of {self.state.as_of}: " + ", ".join(parts)


def extract_date_of(name: str) -> date:
    """The extract date of a clean file named as ``Lake.clean_files`` names it (``extract_date=<D>/<file>``)."""
    return partition_date(name.split("/", 1)[0])


def parts_scan(lake: Lake, entity: str, state: EntityState) -> pl.LazyFrame:
    """The state's truth of an entity (every part)."""
    return scan_parts(lake, state.parts, ENTITIES[entity])


def plan_increment(lake: Lake, as_of: date, state: GoldState, exact_from: dict[str, date]) -> Increment | str:
    """The plan of an incremental run as of ``as_of`` from ``state``, or why it cannot be one.

    ``exact_from``: per entity, the earliest event date that readers other than the truth as of
    ``as_of`` need exactly (the segments of 30 days earlier read 90 days of touches).
    """
    if state.as_of > as_of:
        return f"the incremental state is of {state.as_of}, after {as_of}"
    plans: dict[str, EntityPlan] = {}
    for entity in INCREMENTAL_ENTITIES:
        held = state.entities[entity]
        listed = _clean_files_beyond(lake, entity, as_of, held.files)
        if listed is None:
            return f"clean files of {entity} that the incremental state covers are gone"
        files, new_files = listed
        window, lead = None, held.lead_days
        if new_files:
            key = list(BUSINESS_KEYS[entity])
            rows = (lake.scan_clean(entity, list(new_files))
                    .select(*key, EVENT_DATE[entity].alias(_EVENT), "extract_date").collect())
            if rows[_EVENT].null_count():
                return f"new {entity} rows without an event date"
            if rows.height:
                lead = max(lead, int(rows.select((pl.col(_EVENT) - pl.col("extract_date")).dt.total_days().max()).item()))
                moved_from = (parts_scan(lake, entity, held).select(*key, EVENT_DATE[entity].alias(_EVENT))
                              .filter(_among(key, rows))
                              .select(pl.col(_EVENT).min()).collect().item())
                window = min(d for d in (rows[_EVENT].min(), moved_from) if d is not None)
        starts = [d for d in (window, exact_from.get(entity)) if d is not None]
        since = min(starts) - timedelta(days=lead) if window is not None or entity in exact_from else None
        plans[entity] = EntityPlan(files, new_files, window, lead, since)
    return Increment(state, as_of, plans, {} if exact_from else plan_records(lake, as_of, state))


def plan_records(lake: Lake, as_of: date, state: GoldState) -> dict[str, RecordPlan]:
    """The CRM record entities whose truth as of ``as_of`` is the state's with the new files' rows on top.

    Those the state holds, whose files are all still in the lake, and whose new files are all
    extracted after the state's date (so every new row is newer than every held one). The others
    are read in full. Only for a run that needs these records as of its own date alone.
    """
    plans: dict[str, RecordPlan] = {}
    for entity in RECORD_ENTITIES:
        held = state.records.get(entity)
        listed = None if held is None else _clean_files_beyond(lake, entity, as_of, held.files)
        if listed is not None and all(extract_date_of(name) > state.as_of for name in listed[1]):
            plans[entity] = RecordPlan(*listed)
    return plans


def _clean_files_beyond(lake: Lake, entity: str, as_of: date,
                        covered: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """An entity's clean files up to ``as_of`` and those of them ``covered`` lacks; None if a covered file is gone."""
    files = lake.clean_files(entity, as_of)
    known = set(covered)
    if not known <= set(files):
        return None
    return tuple(files), tuple(name for name in files if name not in known)


def _among(key: list[str], rows: pl.DataFrame) -> pl.Expr:
    """Whether a row's key is one of ``rows``' keys (NULLs equal).

    One key column is a set lookup the Parquet reader applies while it reads, so the other columns
    are decoded only for the rows kept (0.43 s instead of 0.8 s over 20M touches at medium).
    """
    if len(key) == 1:
        (name,) = key
        return pl.col(name).is_in(rows[name].unique().implode(), nulls_equal=True)
    return pl.struct(key).is_in(rows.select(pl.struct(key)).to_series().unique().implode(), nulls_equal=True)


def truth_order(entity: str) -> list[pl.Expr]:
    """The order of an entity's truth as of the run's date, either way it is read: event month, then business key.

    The state keeps one part per event month in this order, so an incremental run reads the
    unchanged months in order and sorts only the months it rebuilt.
    """
    return [_month_number(EVENT_DATE[entity]), *map(pl.col, BUSINESS_KEYS[entity])]


def _month_number(day: pl.Expr) -> pl.Expr:
    """A date's month as one integer, YYYYMM: what the state's parts are split and ordered by."""
    return day.dt.year().cast(pl.Int32) * 100 + day.dt.month().cast(pl.Int32)


def assemble(lake: Lake, increment: Increment, entity: str, partial_truth: pl.LazyFrame) -> pl.LazyFrame:
    """An entity's truth as of the run's date: the state's rows dated before W and the partial read's from W on.

    In ``truth_order``: the state's parts of the months before W's are already in it. Only the
    months from W's on are held in memory (collected here, once); the state's earlier months are
    read from the lake by whatever collects the result, each reader only the months and columns it
    asks for (a night's memory does not grow with the history before W).
    """
    plan = increment.entities[entity]
    columns = partial_truth.collect_schema().names()
    held = increment.state.entities[entity].parts
    if plan.window is None:
        return parts_scan(lake, entity, increment.state.entities[entity]).select(columns)
    first = plan.window.strftime("%Y-%m")
    before = {month: path for month, path in held.items() if month < first}
    since = {month: path for month, path in held.items() if month >= first}
    rebuilt = pl.concat([
        scan_parts(lake, since, ENTITIES[entity]).select(columns).filter(EVENT_DATE[entity] < plan.window),
        partial_truth.filter(EVENT_DATE[entity] >= plan.window),
    ], how="vertical_relaxed").sort(truth_order(entity)).collect()
    return pl.concat([scan_parts(lake, before, ENTITIES[entity]).select(columns), rebuilt.lazy()], how="vertical_relaxed")


def lead_days(versions: pl.DataFrame | pl.LazyFrame, entity: str) -> int:
    """The largest ``event date - extract date`` of an entity's rows (0 when none is later than its extraction)."""
    lead = versions.lazy().select((EVENT_DATE[entity] - pl.col("extract_date")).dt.total_days().max()).collect().item()
    return max(0, int(lead or 0))


def write_state(lake: Lake, state_id: str, as_of: date, truths: Mapping[str, pl.DataFrame | pl.LazyFrame],
                files: dict[str, tuple[str, ...]], leads: dict[str, int], increment: Increment | None,
                derived: Derived | None, labels: Mapping[date, LabelState | tuple[str, pl.DataFrame | pl.LazyFrame]] | None = None,
                digests: dict[str, dict[str, str]] | None = None,
                hashes: dict[str, pl.DataFrame] | None = None,
                records: dict[str, RecordLayers] | None = None,
                ) -> GoldState:
    """Write the parts a run changed, then the state file, then remove the files no state reads any more.

    ``write_parts`` and ``publish_state`` in one go (see them for the arguments).
    """
    state = write_parts(lake, state_id, as_of, truths, files, leads, increment, derived, labels, digests, hashes,
                        records)
    publish_state(lake, state)
    return state


def write_parts(lake: Lake, state_id: str, as_of: date, truths: Mapping[str, pl.DataFrame | pl.LazyFrame],
                files: dict[str, tuple[str, ...]], leads: dict[str, int], increment: Increment | None,
                derived: Derived | None, labels: Mapping[date, LabelState | tuple[str, pl.DataFrame | pl.LazyFrame]] | None = None,
                digests: dict[str, dict[str, str]] | None = None,
                hashes: dict[str, pl.DataFrame] | None = None,
                records: dict[str, RecordLayers] | None = None, base: GoldState | None = None,
                ) -> GoldState:
    """Write the parts a run changed under ``state_id``'s folders; the state that reads them (not yet published).

    ``increment`` None (a full rebuild): every part is written. Otherwise the months from W's on.
    ``labels``: the segment labels to keep by as-of date, a kept ``LabelState`` or (fingerprint, new labels).
    ``digests``: ``month_digests`` of the tables the run loaded, for the next run's loads;
    ``hashes``: the ``row_hashes`` of the tables it loads by key; ``records``: per CRM record entity,
    the files covered, the layers kept and the night's new one; ``base``: an earlier state the next
    nights' segments are computed on (``GoldState.as_base``). Nothing reads the parts until
    ``publish_state``; ``discard_parts`` removes them.
    """
    previous = None if increment is None else increment.state
    entities: dict[str, EntityState] = {}
    for entity, truth in truths.items():
        plan = None if increment is None else increment.entities[entity]
        parts = _write_parts(lake, f"gold/truth/{entity}/{state_id}", truth, EVENT_DATE[entity],
                             partial(event_since, entity),
                             {} if previous is None else previous.entities[entity].parts,
                             None if plan is None else plan.window, rebuilt_all=plan is None)
        entities[entity] = EntityState(files[entity], leads[entity], parts)
    derived_state = None
    if derived is not None:
        folder = f"gold/derived/{state_id}"
        before = previous.derived if previous is not None else None
        attribution = _write_parts(lake, f"{folder}/attribution", derived.attribution, pl.col("order_date"),
                                   lambda day: pl.col("order_date") >= day,
                                   {} if before is None else before.attribution, derived.window,
                                   rebuilt_all=derived.rebuilt_all or before is None)
        won = _write_parts(lake, f"{folder}/won_attribution", derived.won_attribution, pl.col("order_date"),
                           lambda day: pl.col("order_date") >= day, {} if before is None else before.won_attribution,
                           derived.won_window, rebuilt_all=derived.won_rebuilt_all or before is None)
        _write_frame(lake, f"{folder}/conversions.parquet", derived.conversions)
        lake.write(lake.root / f"{folder}/won_conversions.parquet", derived.won_conversions, STATE_COMPRESSION)
        milestones = None
        if derived.milestones is not None:
            milestones = f"{folder}/milestones.parquet"
            lake.write(lake.root / milestones, derived.milestones, STATE_COMPRESSION)
        grouped, window = None, None
        if derived.customer_orders is not None:
            grouped, window = f"{folder}/customer_orders.parquet", derived.customer_orders.window_days
            _write_frame(lake, grouped, derived.customer_orders.rows)
        derived_state = DerivedState(derived.settings, attribution, f"{folder}/conversions.parquet", milestones,
                                     won, f"{folder}/won_conversions.parquet", grouped, window)
    kept_labels: dict[str, LabelState] = {}
    for day, label in sorted((labels or {}).items()):
        if not isinstance(label, LabelState):
            fingerprint, frame = label
            label = LabelState(f"gold/labels/{state_id}/{day.isoformat()}.parquet", fingerprint)
            _write_frame(lake, label.path, frame)
        kept_labels[day.isoformat()] = label
    loaded: dict[str, RowHashes] = {}
    for table, frame in (hashes or {}).items():
        loaded[table] = RowHashes(f"gold/loaded/{state_id}/{table}.parquet", pl.__version__)
        lake.write(lake.root / loaded[table].path, frame, STATE_COMPRESSION)
    kept_records: dict[str, RecordState] = {}
    for entity, layers in (records or {}).items():
        layer = f"gold/records/{state_id}/{entity}.parquet"
        _write_frame(lake, layer, layers.layer)
        stages = layers.kept_stages
        if layers.stages is not None:
            stages = (*stages, f"gold/records/{state_id}/{entity}_stages.parquet")
            lake.write(lake.root / stages[-1], layers.stages, STATE_COMPRESSION)
        kept_records[entity] = RecordState(layers.files, (*layers.kept, layer), stages)
    return GoldState(state_id, as_of, code_version(), entities, derived_state, kept_labels, digests or {}, loaded,
                     kept_records, base)


def _write_frame(lake: Lake, path: str, frame: pl.DataFrame | pl.LazyFrame) -> None:
    """A state file: a frame written, a lazy one streamed."""
    if isinstance(frame, pl.LazyFrame):
        lake.write_lazy(lake.root / path, frame, STATE_COMPRESSION)
    else:
        lake.write(lake.root / path, frame, STATE_COMPRESSION)


def publish_state(lake: Lake, state: GoldState) -> None:
    """Make ``state`` (its parts written) the lake's state, then remove the files no state reads any more.

    On a local lake also the folders of states that never got published (a run killed between
    writing its parts and its warehouse commit).
    """
    old, _ = read_state(lake)
    lake.write_text(state_path(lake), state.to_json())
    _remove(lake, old.paths() - state.paths() if old is not None else set())
    if lake.local:
        read = {_state_folder(path) for path in state.paths()}
        for zone in ("truth/*", "derived", "labels", "loaded", "records"):
            for folder in (lake.root / "gold").glob(f"{zone}/*"):
                if folder.is_dir() and str(folder.relative_to(lake.root)) not in read:
                    shutil.rmtree(folder, ignore_errors=True)


def discard_parts(lake: Lake, state: GoldState) -> None:
    """Remove the parts ``write_parts`` wrote for a state that will not be published (its run failed)."""
    old, _ = read_state(lake)
    _remove(lake, state.paths() - (old.paths() if old is not None else set()))


def _state_folder(path: str) -> str:
    """The folder of the state that wrote a part: gold/truth/<entity>/<state id>, gold/<zone>/<state id>."""
    parts = path.split("/")
    return "/".join(parts[:4] if parts[1] == "truth" else parts[:3])


def _remove(lake: Lake, paths: set[str]) -> None:
    """Delete files of the lake, then their folders (and the folders' parents) once empty."""
    for path in paths:
        with suppress(OSError):
            (lake.root / path).unlink()
    if lake.local:  # a state's folders once none of their files is read any more
        for folder in sorted({(lake.root / path).parent for path in paths}, key=lambda f: -len(f.parts)):
            with suppress(OSError):
                folder.rmdir()
            with suppress(OSError):
                folder.parent.rmdir()


def month_digests(frame: pl.DataFrame | pl.LazyFrame, day: str) -> dict[str, str]:
    """Per month of the ``day`` column ("null" for none): the row count and the sum of polars' row hashes.

    Equal digests mean equal rows (up to a 64-bit hash collision), whatever their order; a digest
    names the polars version, whose row hash is stable only within a version. Read batch by batch
    (fct_orders has 30M rows at the large scale); the sum wraps at 2^64, as polars' own sum does.
    """
    totals: dict[str, tuple[int, int]] = {}
    for batch in frame.lazy().collect_batches(chunk_size=DIGEST_ROWS):
        sums = (batch.select(pl.col(day).dt.strftime("%Y-%m").fill_null("null").alias(_MONTH),
                             batch.hash_rows().alias("_hash"))
                .group_by(_MONTH).agg(pl.len().alias("_rows"), pl.col("_hash").sum().alias("_sum")))
        for month, rows, total in sums.iter_rows():
            held_rows, held_total = totals.get(month, (0, 0))
            totals[month] = (held_rows + rows, (held_total + total) % 2**64)
    return {month: f"{pl.__version__}:{rows}:{total}" for month, (rows, total) in sorted(totals.items())}


_ROW_HASH = "_row_hash"
DIGEST_ROWS = 1_000_000  # rows per batch of month_digests and row_hashes


def row_hashes(frame: pl.DataFrame | pl.LazyFrame, key: Sequence[str]) -> pl.DataFrame:
    """The key columns of every row and polars' hash of the whole row: what ``keyed_changes`` compares.

    Read batch by batch: only the keys and hashes are held (dim_customer has 10M rows at the large scale).
    """
    frame = frame.lazy()
    hashed = [batch.select(*key, batch.hash_rows().alias(_ROW_HASH))
              for batch in frame.collect_batches(chunk_size=DIGEST_ROWS)]
    if not hashed:
        return frame.select(*key).clear().collect().with_columns(pl.lit(None, pl.UInt64).alias(_ROW_HASH))
    return pl.concat(hashed)


def keyed_changes(before: pl.DataFrame, after: pl.DataFrame, key: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Between two ``row_hashes``: the keys of the rows new or changed, and the keys gone.

    Equal hashes mean equal rows up to a 64-bit hash collision, as in ``month_digests``.
    """
    changed = after.join(before, on=[*key, _ROW_HASH], how="anti").select(key)
    gone = before.join(after, on=list(key), how="anti").select(key)
    return changed, gone


def changed_since(before: dict[str, str], after: dict[str, str]) -> date | None | str:
    """The first day of the earliest month whose rows differ between two ``month_digests`` (None: no month).

    "all" when rows without a date differ: a date range cannot replace those.
    """
    months = {month for month in before.keys() | after.keys() if before.get(month) != after.get(month)}
    if "null" in months:
        return "all"
    return min((date.fromisoformat(f"{month}-01") for month in months), default=None)


def _write_parts(lake: Lake, folder: str, frame: pl.DataFrame | pl.LazyFrame, day: pl.Expr,
                 since: Callable[[date], pl.Expr], previous: dict[str, str], window: date | None, *,
                 rebuilt_all: bool) -> dict[str, str]:
    """Parts of ``frame`` by month of ``day``, under ``folder``.

    Every month when ``rebuilt_all``; else the previous parts of the months before ``window``'s and
    new ones from it on (the previous parts unchanged when ``window`` is None). One month's rows
    are copied at a time: a run writes these beside its warehouse load. A lazy ``frame`` is
    collected from ``window``'s month on only, by ``since(first day of that month)`` (``day >= ``
    that day, as a filter the Parquet reader answers from row-group statistics).
    """
    if window is None and not rebuilt_all:
        return dict(previous)
    start = None if window is None or rebuilt_all else window.replace(day=1)  # the first month written
    first = None if start is None else start.year * 100 + start.month
    parts = {month: path for month, path in previous.items() if start is not None and month < f"{start:%Y-%m}"}
    month_of = _month_number(day).alias(_MONTH)
    if isinstance(frame, pl.LazyFrame):
        frame = (frame if start is None else frame.filter(since(start))).collect()
    key = frame.select(month_of).to_series()
    for value in key.unique().sort(nulls_last=True):
        if first is not None and (value is None or value < first):
            continue
        month = "None" if value is None else f"{value // 100:04d}-{value % 100:02d}"
        relative = f"{folder}/{month}.parquet"
        lake.write(lake.root / relative, frame.filter(key.is_null() if value is None else key == value), STATE_COMPRESSION)
        parts[month] = relative
    return dict(sorted(parts.items()))


def scan_parts(lake: Lake, parts: dict[str, str], schema: dict[str, pl.DataType] | None = None) -> pl.LazyFrame:
    """The rows of a state's parts (``schema`` when there is none)."""
    if not parts:
        return pl.LazyFrame(schema=schema or {})
    return pl.scan_parquet([lake.source(lake.root / parts[month]) for month in sorted(parts)],
                           hive_partitioning=False, storage_options=lake.storage_options)


# the models whose credit reads the customer's milestones (lead and opportunity creation)
MILESTONE_MODELS: tuple[str, ...] = ("w_shaped", "full_path")
CONVERSION_COLUMNS = ("order_id", "customer_id", "ordered_at", "order_date", "is_first_order", "net_revenue_eur")


def conversions_of(fct_orders: pl.LazyFrame) -> pl.LazyFrame:
    """One row per revenue order, in fct_orders' order: every field of the order its attribution reads.

    Only compared as a set (``attribution_window``), so not sorted (a sort of 2.8M orders at medium).
    """
    return fct_orders.filter(pl.col("is_revenue").fill_null(False)).select(CONVERSION_COLUMNS)


def milestones_of(contacts: pl.LazyFrame, deals: pl.LazyFrame) -> pl.LazyFrame:
    """Per customer: the lead creation (earliest contact created_at) and the deals' created dates, as W-shaped reads them."""
    leads = (contacts.filter(pl.col("customer_id").is_not_null())
             .group_by("customer_id").agg(pl.col("created_at").min().alias("lead_created_at")))
    opportunities = (deals.filter(pl.col("customer_id").is_not_null() & pl.col("created_date").is_not_null())
                     .group_by("customer_id").agg(pl.col("created_date").unique().sort().alias("deal_dates")))
    return leads.join(opportunities, on="customer_id", how="full", coalesce=True).sort("customer_id")


@dataclass(frozen=True)
class Rebuilt:
    """The conversions whose rule-based credit a night computes again; every other one keeps the previous night's rows."""

    since: date              # the earliest order date among them, old or new: every row they replace lies from here on
    order_ids: pl.DataFrame  # their order_id, one row each


def touched_customers(before: pl.LazyFrame, after: pl.LazyFrame, window: date) -> pl.LazyFrame:
    """Per customer with a touch new, gone or changed from ``window`` on: the earliest such touch (``first_touch``).

    ``before`` and ``after``: two nights' touchpoint truths (rows of the ``touchpoint`` entity). Only
    the touches from ``window`` (the touch plan's W) on can differ. A touch moved from one customer to
    another touches both.
    """
    since = event_since("touchpoint", window)
    held = set(before.collect_schema().names()) & set(after.collect_schema().names())  # the parts keep no e-mail hash
    columns = [name for name in ENTITIES["touchpoint"] if name in held]
    return (_differing(before.filter(since), after.filter(since), columns)
            .group_by("customer_id").agg(pl.col("ts").min().alias("first_touch"))
            .filter(pl.col("customer_id").is_not_null()))


def attribution_changes(previous: pl.LazyFrame, conversions: pl.DataFrame | pl.LazyFrame,
                        touched: pl.LazyFrame | None, previous_milestones: pl.LazyFrame | None,
                        milestones: pl.DataFrame | None, orders_changed: date | None | str = "all") -> Rebuilt | None:
    """The conversions whose rule-based credit may differ from the previous night's (None: none).

    A conversion's credit depends on its own fields, its customer's touches in the lookback window
    before it, and (W-shaped, full path) its customer's milestones. So: every conversion new, gone
    or changed, every conversion of a ``touched`` customer (``touched_customers``) at or after their
    first changed touch, every conversion of a customer whose milestones changed. Named one by one,
    not as every conversion from the earliest of them on: a refund of a three-week-old order rebuilds
    that order's rows, not three weeks of everyone's (at the large scale, 4.8M credit rows a night).

    ``orders_changed``: the first day of the earliest month whose fct_orders rows differ from those
    the previous conversions came from (``changed_since`` of the two nights' ``month_digests``), None
    when no month's do, "all" when that is not known. The conversions are compared from that day on
    only: a conversion is a revenue order's row, so in a month whose orders are the same so are its
    conversions (medium: the last month's 80k conversions hashed instead of all 2.8M, on both sides).
    """
    now = conversions.lazy()
    found = []
    if orders_changed == "all":
        found.append(_differing(previous, now, list(CONVERSION_COLUMNS)))
    elif orders_changed is not None:
        since = pl.col("order_date") >= orders_changed
        found.append(_differing(previous.filter(since), now.filter(since), list(CONVERSION_COLUMNS)))
    if touched is not None:
        found.append(now.join(touched, on="customer_id").filter(pl.col("ordered_at") >= pl.col("first_touch")))
    moved = _moved(previous_milestones, milestones, ["customer_id", "lead_created_at", "deal_dates"])
    if moved is not None:
        found.append(now.join(moved, on="customer_id", how="semi"))
    if not found:
        return None
    return _rebuilt([frame.select("order_id", "order_date") for frame in found])


# what a won deal's rule-based credit is computed from (``attribution.won_deal_conversions``)
WON_COLUMNS = ("deal_id", "customer_id", "created_date", "close_date", "amount_eur")


def won_deal_changes(previous: pl.LazyFrame, won: pl.DataFrame | pl.LazyFrame, touched: pl.LazyFrame | None,
                     previous_milestones: pl.LazyFrame | None, milestones: pl.DataFrame | None) -> Rebuilt | None:
    """The won deals whose rule-based credit may differ from the previous night's (None: none), by deal id.

    As ``attribution_changes`` for orders, except that a won deal converts at the end of its close
    day (a touch of that day or later can be on its path) and its opportunity is its own created
    date (of the milestones, only its customer's lead creation counts). Named one by one: a contact
    whose e-mail moved to another customer re-points that contact's old won deals, which at the large
    scale put a close-day window back to the history's start (4.8M credit rows a night).
    The ids are in ``order_id`` (fct_attribution's column for a won deal's id), the dates are close dates.
    """
    now = won.lazy()
    found = [_differing(previous, now, list(WON_COLUMNS))]
    if touched is not None:
        found.append(now.join(touched, on="customer_id")
                     .filter(pl.col("close_date") >= pl.col("first_touch").dt.convert_time_zone("UTC").dt.date()))
    moved = _moved(previous_milestones, milestones, ["customer_id", "lead_created_at"])
    if moved is not None:
        found.append(now.join(moved, on="customer_id", how="semi"))
    return _rebuilt([frame.select(pl.col("deal_id").alias("order_id"), pl.col("close_date").alias("order_date"))
                     for frame in found])


def _rebuilt(found: list[pl.LazyFrame]) -> Rebuilt | None:
    """The conversions of ``found`` (``order_id``, ``order_date``; old and new rows) as one ``Rebuilt`` (None: none)."""
    rows = pl.concat(found).collect()
    first = rows["order_date"].min()
    if first is None:
        return None
    return Rebuilt(cast(date, first), rows.select("order_id").unique(maintain_order=True))


def _moved(before: pl.LazyFrame | None, after: pl.DataFrame | None, columns: list[str]) -> pl.LazyFrame | None:
    """The customers whose milestones (``columns`` of ``milestones_of``) differ between two nights (None: not kept)."""
    if before is None or after is None:
        return None
    return _differing(before, after.lazy(), columns).select("customer_id")


def _differing(before: pl.LazyFrame, after: pl.LazyFrame, columns: list[str]) -> pl.LazyFrame:
    """The rows of either frame that the other does not hold (equal on every column, NULLs equal).

    Rows are matched by one 64-bit hash of the whole row, both sides hashed in this process: an
    anti-join on one integer instead of on every column (0.7 s instead of 1.5 s for 2.9M
    conversions). A changed row is missed only if its hash equals one of the other side's, about
    n / 2^64 (1e-13 at medium scale).
    """
    row = pl.struct(columns).hash().alias("_row")
    before, after = before.select(*columns, row), after.select(*columns, row)
    return pl.concat([before.join(after.select("_row"), on="_row", how="anti"),
                      after.join(before.select("_row"), on="_row", how="anti")]).drop("_row")
