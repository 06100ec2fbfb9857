"""Scale data for ``bench/scale.py``: years of history written straight into the lake's clean zone.

The demo generator (``pipeline.demo``) writes vendor exports that the ingest path parses, which
takes minutes for ten thousand customers; years of history for a million customers that way
would take days. This module writes the clean (silver) zone directly, in the layout and schema the
ingest path writes (``lake/clean/<entity>/extract_date=<D>/<sha256>.parquet``: the entity's typed
columns plus the lineage columns, zstd Parquet, one file per source format and extract date, and a
manifest entry per file), so ``Lake.clean`` / ``Silver`` cannot tell the difference.

History shape: one extraction per day, as nightly runs leave it. A contact is exported on the day
it was created (contacts created before the history all in the first day's file) and again with
lifecycle stage ``customer`` on the day of its first order; an order on its day and again, for a
share of orders, as refunded days later; a deal at each stage change; Google Ads restates the last
three days in each export, the other platforms one day; plan files (budgets, sales costs, FX
rates) on the first day of each month and goals on the first day of each quarter. Raw and landing
zones are not written (nothing after ingest reads them).

Realism follows the demo world (``pipeline.demo.world``): the same channels, platforms, campaign
ids and names, ad accounts, customer groups and their shares, demographics, catalogue prices,
order systems and currencies, B2B deals for the B2B group, and spend scaled to the customer inflow
as the demo scales it. It is drawn vectorised (numpy, polars) in blocks of days; events that fall
after a block (an order at the end of a journey, a refund, a deal closing) are carried forward to
the block they fall in, so memory holds one block of events and the customer table, never the
history.

Journeys: every new customer starts one at creation (the acquisition journey); further journeys
start at a rate proportional to the customers already there, each picking an existing customer in
proportion to a gamma-distributed activity weight (a few heavy buyers, many one-off ones). A
journey has 1 + Poisson touches over a gamma-distributed length and converts with a probability
that makes the orders come out at the requested count; the order follows the last touch.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipeline.channels import CHANNELS, PLATFORM_CHANNEL
from pipeline.demo import world as demo
from pipeline.entities import BUSINESS_KEYS, ENTITIES, LINEAGE, conform
from pipeline.ingest.files import FileResult
from pipeline.lake import Lake

HISTORY_DAYS = 3 * 365


@dataclass(frozen=True)
class Scale:
    """A named size: customers, touchpoints and orders over ``days`` of history."""

    customers: int
    touchpoints: int
    orders: int
    days: int = HISTORY_DAYS


SCALES: dict[str, Scale] = {
    "small": Scale(10_000, 200_000, 30_000),
    "intermediate": Scale(100_000, 2_000_000, 300_000),
    "medium": Scale(1_000_000, 20_000_000, 3_000_000),
    "large": Scale(10_000_000, 200_000_000, 30_000_000),
}

BLOCK_DAYS = 28               # up to a million customers; fewer days per block above (``block_days``)
BACKLOG_SHARE = 0.10          # customers created before the history starts (exported on its first day)
REFUND_SHARE = 0.03           # orders exported again days later as refunded
DEAL_SHARE = 0.6              # B2B journeys with a deal in the CRM
ACTIVITY_SHAPE = 1.5          # gamma shape of a customer's activity weight (lower: more skewed)
JOURNEY_MEAN_DAYS = np.array([12.0, 10.0, 6.0, 30.0])   # luxury, tech, price-sensitive, B2B
HOURS = (5 * 3600, 15 * 3600)  # events between 05:00 and 20:00 UTC, as in the demo (same day in Helsinki)

ACCOUNTS = {  # platform: (account id, account time zone, source format), as the demo exports ingest
    "google_ads": ("123-456-7890", "Europe/Helsinki", "google_ads_ui_en"),
    "meta_ads": ("act_1029384756", "Europe/Helsinki", "meta_ads_manager_en"),
    "linkedin_ads": ("508123456", "UTC", "linkedin_campaign_manager"),
    "adroll": ("Kohde Demo", "Europe/Helsinki", "adroll_campaigns"),
}
ORDER_FORMATS = {"shopify": "shopify_orders", "stripe": "stripe_payments", "erp": "erp_fi"}
SOURCE_OF = {"contact": ("crm_contacts", "hubspot_contacts"), "deal": ("crm_deals", "hubspot_deals"),
             "touchpoint": ("crm_touchpoints", "marketing_events"), "goal": ("plan", "plan_goals"),
             "budget": ("plan", "plan_budgets"), "sales_cost": ("plan", "plan_sales_costs"),
             "fx_rate": ("plan", "plan_fx_rates")}
TOUCH_TYPE_BY_CHANNEL = {  # channel: ((touch types), (probabilities)) of a journey touch
    "paid_search": (("click",), (1.0,)),
    "paid_social": (("impression", "click"), (0.65, 0.35)),
    "linkedin": (("impression", "click"), (0.7, 0.3)),
    "display_retargeting": (("impression", "click"), (0.85, 0.15)),
    "email": (("email_open", "email_click"), (0.7, 0.3)),
    "webinar": (("webinar",), (1.0,)),
    "organic_search": (("visit", "pricing_visit"), (0.8, 0.2)),
    "referral": (("visit",), (1.0,)),
    "direct": (("visit", "pricing_visit", "trial", "demo_request"), (0.72, 0.2, 0.05, 0.03)),
}
UNPAID_PLATFORM = {"email": "hubspot", "webinar": "hubspot"}
LIFECYCLE_AT_CREATION = np.array(["lead", "subscriber", "mql", "sql", "other"], dtype=object)
DEAL_PROGRAMMES = demo.DEAL_PROGRAMMES
COUNTRY_CODE = {"Finland": "FI", "Sweden": "SE", "Germany": "DE", "United States": "US"}


@dataclass
class Written:
    """What the generator wrote: rows and files per entity."""

    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)

    def add(self, entity: str, rows: int) -> None:
        """Count one written file."""
        self.rows[entity] = self.rows.get(entity, 0) + rows
        self.files[entity] = self.files.get(entity, 0) + 1


def _cat(names: tuple[str, ...] | list[str] | np.ndarray, index: np.ndarray, name: str,
         dtype: type[pl.DataType] = pl.Utf8) -> pl.Series:
    """Text column from category indices; index == len(names) gives NULL."""
    return pl.Series(name, [*list(names), None], dtype=pl.Utf8).cast(dtype).gather(pl.Series(index.astype(np.int64)))


def block_days(scale: Scale) -> int:
    """Days of history drawn at once: ``BLOCK_DAYS`` up to a million customers, fewer above, at least 7.

    A block's events are held until written: at 10M customers a 28-day block would be 5M touches.
    """
    return max(7, min(BLOCK_DAYS, BLOCK_DAYS * 1_000_000 // scale.customers))


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` that holds only its own rows' bytes.

    A filtered polars frame's text columns still point into the whole buffers of the frame they
    were filtered from: the few rows a block carries forward would keep the block's every string
    alive (the history's memory grew with each block, to 20 GB at the large scale). An Arrow IPC
    round trip writes the rows out and reads them back into buffers of their own.
    """
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    buffer.seek(0)
    return pl.read_ipc(buffer)


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random((probs.shape[0], 1)) * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def _pick_fixed(rng: np.random.Generator, n: int, probs: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """``n`` draws from one categorical distribution."""
    cum = np.cumsum(np.asarray(probs, dtype=float))
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def _ids(name: str, prefix: str, seq: np.ndarray, width: int) -> pl.Series:
    """Text ids ``prefix`` + the zero-padded sequence number."""
    return (prefix + pl.Series(name, seq.astype(np.int64)).cast(pl.Utf8).str.zfill(width)).alias(name)


def _hex(rng: np.random.Generator, n: int, chars: int) -> pl.Series:
    """``n`` random lower-case hex strings of ``chars`` characters (stand-ins for hashes of data we do not have)."""
    raw = rng.bytes(n * chars // 2).hex().encode()
    return pl.Series(np.frombuffer(raw, dtype=f"S{chars}")).cast(pl.Utf8)


def _micros(t: np.ndarray, start: date) -> np.ndarray:
    """Virtual times (days since start; fraction = time between 05:00 and 20:00 UTC) as epoch microseconds."""
    day = np.floor(t)
    seconds = day * 86400 + HOURS[0] + np.floor((t - day) * HOURS[1])
    return (seconds.astype(np.int64) + (start - date(1970, 1, 1)).days * 86400) * 1_000_000


def _ts(name: str, t: np.ndarray, start: date) -> pl.Series:
    return pl.Series(name, _micros(t, start)).cast(pl.Datetime("us", "UTC"))


def _dates(name: str, day: np.ndarray, start: date) -> pl.Series:
    return pl.Series(name, (day + (start - date(1970, 1, 1)).days).astype(np.int32)).cast(pl.Date)


def _money(name: str, cents: np.ndarray) -> pl.Series:
    """Cents as DECIMAL(18,4), exactly."""
    return pl.Series(name, cents.astype(np.int64)).cast(pl.Decimal(18, 4)) / 100


class HistoryWriter:
    """Writes one file per (entity, source format, extract date) into the clean zone, and its manifest entry."""

    def __init__(self, lake_root: Path, seed: int, start: date) -> None:
        self.root = lake_root
        self.seed = seed
        self.start = start
        self.written = Written()

    def write(self, entity: str, frame: pl.DataFrame) -> None:
        """Write a frame with ``_day`` (extract day offset), ``source`` and ``source_format`` columns."""
        if frame.height == 0:
            return
        for (day, source, source_format), part in frame.partition_by(
                ["_day", "source", "source_format"], as_dict=True, maintain_order=True).items():
            # one export shows a record once, in its state at export time (the last of the day's changes)
            part = part.unique(subset=list(BUSINESS_KEYS[entity]), keep="last", maintain_order=True)
            extract_date = self.start + timedelta(days=int(day))
            sha = hashlib.sha256(f"kohde-scale:{self.seed}:{entity}:{source_format}:{extract_date}".encode()).hexdigest()
            rows = part.height
            clean = conform(part.with_columns(
                pl.lit(extract_date, pl.Date).alias("extract_date"),
                pl.lit(sha).alias("file_sha256"),
                pl.int_range(2, rows + 2, dtype=pl.Int64).alias("row_number"),  # line 1 is the header
            ), entity).select([*ENTITIES[entity], *LINEAGE])
            path = self.root / "clean" / entity / f"extract_date={extract_date.isoformat()}" / f"{sha}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            clean.write_parquet(path, compression="zstd", statistics=True)
            result = FileResult(source=str(source), original_name=f"{source_format}_{extract_date.isoformat()}.csv",
                                file_sha256=sha, size_bytes=rows * 160, extract_date=extract_date,
                                source_format=str(source_format), entity=entity, encoding="utf-8",
                                rows_read=rows, rows_loaded=rows)
            manifest = self.root / "manifest" / f"{sha}.json"
            manifest.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(result.to_json(), encoding="utf-8")
            self.written.add(entity, rows)


@dataclass
class Customers:
    """The customer table (in creation order) and what the journeys need of it.

    ``contacts`` holds its low-cardinality text columns as categoricals (4 bytes a row instead of
    a 16-byte string view: 10M customers are 2 GB smaller); ``rows`` gives contact rows as the
    entity has them. E-mail addresses are not held: ``customer_email`` gives them.
    """

    contacts: pl.DataFrame        # the contact entity's columns, one row per customer
    created: np.ndarray           # virtual creation time (days since start; negative: before the history)
    group: np.ndarray
    country: np.ndarray
    cum_weight: np.ndarray        # cumulative activity weights, in creation order
    offline: np.ndarray           # acquired offline (original source "Offline Sources")
    seed: int

    def rows(self, index: np.ndarray) -> pl.DataFrame:
        """The contact rows of customers ``index``, every text column as text."""
        return self.contacts[index].with_columns(pl.col(pl.Categorical).cast(pl.Utf8))

    def emails(self, index: np.ndarray) -> np.ndarray:
        """The e-mail addresses of customers ``index`` (object array)."""
        return np.array([customer_email(int(i), self.seed) for i in index], dtype=object)


def customer_email(index: int, seed: int) -> str:
    """The e-mail address of history customer ``index`` (its sha256 gives the customer_id)."""
    return f"customer{index:08d}.s{seed}@scale.example"


def make_customers(rng: np.random.Generator, scale: Scale, seed: int, start: date) -> Customers:
    """Every customer of the history with the demo's groups, demographics and acquisition channels."""
    n, days = scale.customers, scale.days
    backlog = rng.random(n) < BACKLOG_SHARE
    # inflow grows by half over the history (u -> t with density 1 + 0.5 t / days)
    u = rng.random(n)
    grown = days * (-1 + np.sqrt(1 + 2 * 0.5 * u * 1.25)) / 0.5
    created = np.sort(np.where(backlog, -rng.uniform(1, 720, n), np.minimum(grown, days - 1e-6)))
    group = _pick_fixed(rng, n, demo.GROUP_SHARE)
    country = demo._pick_by_group(rng, group, demo.COUNTRY_BY_GROUP)
    acquisition = demo._pick_by_group(rng, group, demo.ACQUISITION)
    email_sha = pl.Series([hashlib.sha256(customer_email(i, seed).encode()).hexdigest() for i in range(n)], dtype=pl.Utf8)
    b2b = group == demo.B2B
    employees = np.clip(np.exp(rng.normal(math.log(120), 1.0, n)), 10, 5000).astype(np.int64)
    revenue_band = np.select([employees < 50, employees < 250, employees < 1000], [0, 1, 2], 3)
    prefix = rng.integers(0, len(demo.COMPANY_PREFIX), n)
    core = rng.integers(0, len(demo.COMPANY_CORE), n)
    suffix = rng.integers(0, len(demo.COMPANY_SUFFIX), n)
    company = (pl.Series([*demo.COMPANY_PREFIX]).gather(prefix) + " "
               + pl.Series([c[0] for c in demo.COMPANY_CORE]).gather(core) + " "
               + pl.Series([*demo.COMPANY_SUFFIX]).gather(suffix))
    city_index = np.zeros(n, dtype=np.int64)
    all_places = [(name, place) for name in demo.COUNTRIES for place in demo.CITIES[name]]
    offsets = np.cumsum([0] + [len(demo.CITIES[name]) for name in demo.COUNTRIES])
    for k, name in enumerate(demo.COUNTRIES):
        rows = country == k
        city_index[rows] = offsets[k] + rng.integers(0, len(demo.CITIES[name]), int(rows.sum()))
    birth = np.clip(np.round(rng.normal(demo.BIRTH_YEAR[group, 0], demo.BIRTH_YEAR[group, 1])),
                    demo.BIRTH_YEAR_BOUNDS[group, 0], demo.BIRTH_YEAR_BOUNDS[group, 1]).astype(np.int32)
    surveyed = rng.random(n) >= 0.12
    null = np.int64(-1)

    def survey(names: tuple[str, ...], table: np.ndarray) -> np.ndarray:
        return np.where(surveyed, demo._pick_by_group(rng, group, table), len(names))

    satisfaction = np.clip(np.round(demo.SATISFACTION_MEAN[group] + rng.normal(0, 0.9, n), 1), 0, 10)
    consent = _pick_fixed(rng, n, (0.80, 0.12, 0.08))
    gender = _pick_fixed(rng, n, (0.48, 0.47, 0.01, 0.04))
    contacts = pl.DataFrame([
        pl.Series("contact_id", (60_000_000 + np.arange(n) * 3).astype(str)),
        pl.Series("source_system", ["hubspot"] * n),
        ("c_" + email_sha.str.slice(0, 16)).alias("customer_id"),
        email_sha.alias("email_sha256"),
        pl.Series("phone_sha256", _hex(rng, n, 64)).set(pl.Series(rng.random(n) < 0.12), None),
        _ts("created_at", created, start),
        _cat(LIFECYCLE_AT_CREATION, _pick_fixed(rng, n, (0.55, 0.25, 0.12, 0.04, 0.04)), "lifecycle_stage", pl.Categorical),
        _cat(demo.ORIGINAL_SOURCE, acquisition, "original_source", pl.Categorical),
        pl.Series("birth_year", birth).set(pl.Series(rng.random(n) < 0.05), None),
        _cat(("female", "male", "other"), gender, "gender", pl.Categorical),
        _cat(demo.INCOME_BANDS, np.where(rng.random(n) < 0.1, len(demo.INCOME_BANDS),
                                         demo._pick_by_group(rng, group, demo.INCOME)), "income_band"),
        _cat(demo.EDUCATIONS, np.where(rng.random(n) < 0.15, len(demo.EDUCATIONS),
                                       demo._pick_by_group(rng, group, demo.EDUCATION)), "education"),
        _cat([p[1][0] for p in all_places], city_index, "city", pl.Categorical),
        _cat([p[1][1] for p in all_places], city_index, "postcode", pl.Categorical),
        _cat([COUNTRY_CODE[c] for c in demo.COUNTRIES], country, "country_code", pl.Categorical),
        _cat([demo.LANGUAGE[c] for c in demo.COUNTRIES], country, "language", pl.Categorical),
        _cat([v.lower() for v in demo.VALUES], survey(demo.VALUES, demo.VALUE), "values_orientation", pl.Categorical),
        _cat([v.lower() for v in demo.LOYALTIES], survey(demo.LOYALTIES, demo.LOYALTY), "brand_loyalty", pl.Categorical),
        _cat([v.lower() for v in demo.MOTIVES], survey(demo.MOTIVES, demo.MOTIVE), "purchase_motive", pl.Categorical),
        _cat(demo.LIFESTYLES, survey(demo.LIFESTYLES, demo.LIFESTYLE), "lifestyle", pl.Categorical),
        pl.Series("satisfaction_score", satisfaction).set(pl.Series(rng.random(n) < 0.35), None),
        company.set(pl.Series(~b2b), None).alias("company"),
        _cat([c[1] for c in demo.COMPANY_CORE], np.where(b2b, core, len(demo.COMPANY_CORE)), "industry", pl.Categorical),
        pl.Series("employees", np.where(b2b, employees, null)).set(pl.Series(~b2b), None),
        _cat(("1-10M", "10-50M", "50-250M", "250M+"), np.where(b2b, revenue_band, 4), "revenue_band", pl.Categorical),
        pl.Series("consent_marketing", consent == 0).set(pl.Series(consent == 2), None),
        pl.Series("objected_marketing", rng.random(n) < 0.01),
        pl.Series("phone_sha256_meta", _hex(rng, n, 64)),
    ])
    weight = rng.gamma(ACTIVITY_SHAPE, 1 / ACTIVITY_SHAPE, n)
    offline = acquisition == demo.ORIGINAL_SOURCE.index("Offline Sources")
    return Customers(contacts, created, group, country, np.cumsum(weight), offline, seed)


def _campaign_tables(campaigns: tuple[demo.Campaign, ...]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per platform: campaign positions, group weights (campaigns x groups) and launch flags."""
    tables = {}
    for platform in ACCOUNTS:
        members = np.array([k for k, c in enumerate(campaigns) if c.platform == platform])
        tables[platform] = (members, np.array([campaigns[k].group_weight for k in members]),
                            np.array([campaigns[k].launch for k in members]))
    return tables


def _in_launch(day: np.ndarray, start: date) -> np.ndarray:
    """The yearly launch window: October 1-28 (the launch campaigns run only then)."""
    ordinal = day.astype(np.int64) + start.toordinal()
    month_day = np.array([(date.fromordinal(o).month, date.fromordinal(o).day) for o in np.unique(ordinal)])
    lookup = dict(zip(np.unique(ordinal).tolist(), ((month_day[:, 0] == 10) & (month_day[:, 1] <= 28)).tolist(),
                      strict=True))
    return np.array([lookup[o] for o in ordinal.tolist()], dtype=bool) if len(ordinal) else np.zeros(0, bool)


class HistoryGenerator:
    """Draws the history block by block and hands each entity's rows to a ``HistoryWriter``."""

    def __init__(self, scale: Scale, start: date, seed: int) -> None:
        self.scale = scale
        self.start = start
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.period = demo.make_period(start, scale.days)
        self.campaigns = demo.make_campaigns(self.period)
        self.camp_tables = _campaign_tables(self.campaigns)
        self.customers = make_customers(self.rng, scale, seed, start)
        n = scale.customers
        new_customers = int((self.customers.created >= 0).sum())
        self.touches_per_journey = 3.4
        # journeys: one per new customer plus repeat journeys; conversion makes the orders come out right
        self.journeys = max(int(scale.touchpoints / self.touches_per_journey), new_customers)
        self.conversion = min(0.95, scale.orders / (self.journeys * (1 + REFUND_SHARE * 0)))
        self.repeat_journeys = self.journeys - new_customers
        self.has_ordered = np.zeros(n, dtype=bool)
        self.touch_seq = 0
        self.order_seq = {"shopify": 0, "stripe": 0, "erp": 0}
        self.deal_seq = 0
        self.channel_probs = demo.EXPOSURE.copy()
        self.channel_probs[:, demo.RTG] = 0.35
        self.spend_scale = (n / scale.days) / (2000 / 90)

    # -- blocks ---------------------------------------------------------------------------------

    def blocks(self) -> Iterator[tuple[int, int]]:
        """[a, b) day offsets of each block."""
        days = block_days(self.scale)
        for a in range(0, self.scale.days, days):
            yield a, min(a + days, self.scale.days)

    def run(self, writer: HistoryWriter) -> Written:
        """Write the whole history: each entity's rows of a block once the block is complete."""
        pending: dict[str, list[pl.DataFrame]] = {}
        c = self.customers
        created_day = np.maximum(np.floor(c.created), 0).astype(np.int64)
        for a, b in self.blocks():
            produced: dict[str, list[pl.DataFrame]] = {name: frames for name, frames in pending.items()}
            pending = {}

            def add(entity: str, frame: pl.DataFrame, produced: dict[str, list[pl.DataFrame]] = produced) -> None:
                produced.setdefault(entity, []).append(frame)

            new = np.nonzero((created_day >= a) & (created_day < b))[0]
            add("contact", c.rows(new).with_columns(
                pl.Series("_day", created_day[new]), pl.lit("crm_contacts").alias("source"),
                pl.lit("hubspot_contacts").alias("source_format")))
            for entity, frame in self._journeys(a, b).items():
                add(entity, frame)
            for entity, frame in self._plan(a, b).items():
                add(entity, frame)
            add("ad_daily", self._ad_daily(a, b))
            for entity, frames in produced.items():
                non_empty = [f for f in frames if f.height]
                if not non_empty:  # e.g. no deal in a block at a tiny scale
                    continue
                frame = pl.concat(non_empty, how="vertical_relaxed")
                now = frame.filter(pl.col("_day") < b)
                later = frame.filter((pl.col("_day") >= b) & (pl.col("_day") < self.scale.days))
                writer.write(entity, now.sort("_day", maintain_order=True))
                if later.height:
                    pending[entity] = [_compact(later)]
        return writer.written

    # -- journeys: touchpoints, orders, deals, contact updates ------------------------------------

    def _journeys(self, a: int, b: int) -> dict[str, pl.DataFrame]:
        rng, c = self.rng, self.customers
        # acquisition journeys of the customers created in the block
        acq = np.nonzero((c.created >= a) & (c.created < b))[0]
        # repeat journeys: a rate proportional to the customers already there
        total_exist = np.searchsorted(c.created, np.arange(self.scale.days) + 0.5)
        share = total_exist[a:b].sum() / total_exist.sum()
        n_rep = rng.poisson(self.repeat_journeys * share)
        t_rep = a + rng.random(n_rep) * (b - a)
        exist = np.maximum(np.searchsorted(c.created, t_rep), 1)
        rep = np.searchsorted(c.cum_weight, rng.random(n_rep) * c.cum_weight[exist - 1])
        rep = np.minimum(rep, exist - 1)
        cust = np.concatenate([acq, rep])
        t0 = np.concatenate([c.created[acq], t_rep])
        first = np.concatenate([np.ones(len(acq), bool), np.zeros(n_rep, bool)])
        group = c.group[cust]
        n = len(cust)
        length = rng.gamma(2.0, JOURNEY_MEAN_DAYS[group] / 2.0)
        converts = rng.random(n) < self.conversion * demo.BASE_CONVERSION[group] / 0.0697
        t_end = t0 + length
        # touches: the first at the journey start, the rest spread over the journey
        counts = 1 + rng.poisson(self.touches_per_journey - 1, n)
        j = np.repeat(np.arange(n), counts)
        pos = demo._position_in_run(counts)
        t = np.where(pos == 0, t0[j], t0[j] + rng.random(len(j)) * length[j])
        acquisition = np.where(c.offline[cust], demo.DIRECT, 0)
        ch = _pick(rng, self.channel_probs[group[j]])
        acq_channel = demo._pick_by_group(rng, group[j], demo.ACQUISITION[:, :len(CHANNELS)])
        ch = np.where((pos == 0) & first[j], np.where(acquisition[j] == demo.DIRECT, demo.DIRECT, acq_channel), ch)
        touches = self._touch_frame(cust[j], t, ch, group[j])
        # orders: at the end of converting journeys (B2B: a deal payment through Stripe)
        conv = np.nonzero(converts & (group != demo.B2B))[0]
        t_order = t_end[conv] + rng.uniform(0.001, 0.3, len(conv))
        orders, refunds = self._orders(cust[conv], t_order)
        # deals of B2B journeys: created a quarter into the journey, closed at its end; won ones paid via Stripe
        b2b = np.nonzero((group == demo.B2B) & (rng.random(n) < DEAL_SHARE))[0]
        deals, deal_orders = self._deals(cust[b2b], t0[b2b] + 0.25 * length[b2b], t_end[b2b], converts[b2b])
        # first orders turn the contact into a customer (a new export of the contact that day)
        order_cust = np.concatenate([cust[conv], deal_orders["_cust"].to_numpy()])
        t_order = np.concatenate([t_order, deal_orders["_t"].to_numpy()])
        order_day = np.floor(t_order).astype(np.int64)
        by_time = np.argsort(t_order, kind="stable")
        seen_cust, first_idx = np.unique(order_cust[by_time], return_index=True)
        first_orders = by_time[first_idx]
        new_buyers = first_orders[~self.has_ordered[seen_cust]]
        self.has_ordered[order_cust] = True
        updates = c.rows(order_cust[new_buyers]).with_columns(
            pl.lit("customer").alias("lifecycle_stage"), pl.Series("_day", order_day[new_buyers]),
            pl.lit("crm_contacts").alias("source"), pl.lit("hubspot_contacts").alias("source_format"))
        deal_orders = deal_orders.drop("_cust", "_t")
        frames = {"touchpoint": touches, "order": pl.concat([orders, refunds, deal_orders], how="vertical_relaxed"),
                  "deal": deals, "contact": updates}
        return frames

    def _touch_frame(self, cust: np.ndarray, t: np.ndarray, ch: np.ndarray, group: np.ndarray) -> pl.DataFrame:
        rng, start = self.rng, self.start
        order = np.argsort(t, kind="stable")
        cust, t, ch, group = cust[order], t[order], ch[order], group[order]
        n = len(t)
        channel_names = np.array(CHANNELS)[ch]
        type_names = [t for types, _ in TOUCH_TYPE_BY_CHANNEL.values() for t in types]
        type_names = list(dict.fromkeys(type_names))
        touch_type = np.zeros(n, dtype=np.int64)
        for name, (types, probs) in TOUCH_TYPE_BY_CHANNEL.items():
            rows = channel_names == name
            picks = _pick_fixed(rng, int(rows.sum()), probs)
            touch_type[rows] = np.array([type_names.index(t) for t in types])[picks]
        platforms = [*ACCOUNTS, "hubspot", "website"]
        platform = np.full(n, platforms.index("website"), dtype=np.int64)
        campaign = np.full(n, len(self.campaigns), dtype=np.int64)
        launch_now = _in_launch(np.floor(t), start)
        for plat, channel in PLATFORM_CHANNEL.items():
            rows = np.nonzero(channel_names == channel)[0]
            platform[rows] = platforms.index(plat)
            if len(rows) == 0:
                continue
            members, weights, launch = self.camp_tables[plat]
            w = weights[:, group[rows]].T
            w = np.where(launch[None, :] & ~launch_now[rows, None], 0.0, w)
            w = np.where(w.sum(axis=1, keepdims=True) <= 0, 1.0, w)
            campaign[rows] = members[_pick(rng, w)]
        for channel, plat in UNPAID_PLATFORM.items():
            platform[channel_names == channel] = platforms.index(plat)
        ids = self.touch_seq + np.arange(n)
        self.touch_seq += n
        frame = pl.DataFrame([
            ("ev_h" + pl.Series("touchpoint_id", ids).cast(pl.Utf8).str.zfill(10)).alias("touchpoint_id"),
            self.customers.contacts["customer_id"].gather(pl.Series(cust)),
            self.customers.contacts["email_sha256"].gather(pl.Series(cust)),
            _ts("ts", t, start),
            _cat(CHANNELS, ch, "channel"),
            _cat(platforms, platform, "platform"),
            _cat([cp.campaign_id for cp in self.campaigns], campaign, "campaign_id"),
            _cat(type_names, touch_type, "touch_type"),
            _cat([cp.name for cp in self.campaigns], campaign, "_campaign_name"),
            pl.Series("_day", np.floor(t).astype(np.int64)),
        ])
        month = pl.col("ts").dt.strftime("%Y_%m")
        return frame.with_columns(
            demo.utm_source_expr().alias("utm_source"),
            demo.utm_medium_expr().alias("utm_medium"),
            pl.when(pl.col("campaign_id").is_not_null())
            .then(pl.col("_campaign_name").str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_").str.strip_chars("_"))
            .when(pl.col("channel") == "email").then(pl.lit("newsletter_") + month)
            .when(pl.col("channel") == "webinar").then(pl.lit("webinar_") + month)
            .alias("utm_campaign"),
            pl.lit("crm_touchpoints").alias("source"),
            pl.lit("marketing_events").alias("source_format"),
        ).drop("_campaign_name")

    def _orders(self, cust: np.ndarray, t: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """Shop, ERP and Stripe orders of consumers; B2B orders are deal payments (see ``_deals``)."""
        rng, c = self.rng, self.customers
        g = c.group[cust]
        consumer = g != demo.B2B
        cust, t, g = cust[consumer], t[consumer], g[consumer]
        m = len(cust)
        system = np.where(g == demo.PRICE, 0, np.where(g == demo.LUXURY, np.where(rng.random(m) < 0.45, 2, 0),
                                                          np.where(rng.random(m) < 0.4, 1, 0)))
        prod_weight = np.array([p.group_weight for p in demo.CATALOGUE]).T
        product = _pick(rng, prod_weight[g] + 1e-9)
        price = np.array([p.price_eur for p in demo.CATALOGUE], dtype=float)[product]
        quantity = np.where((price < 1000) & (rng.random(m) < 0.08), 2, 1)
        country = c.country[cust]
        sek = (system == 0) & (country == demo.COUNTRIES.index("Sweden"))
        usd = (system == 1) & (country == demo.COUNTRIES.index("United States"))
        native = np.where(sek, np.round(price / 0.087, -1), np.where(usd, np.round(price / 0.92), price)) * quantity
        gross = np.round(native * 100).astype(np.int64)
        pct = np.where((system == 0) & (g == demo.PRICE) & (rng.random(m) < 0.65), 10,
                       np.where((system == 0) & (rng.random(m) < 0.04), 5, 0))
        discounts = np.where(system == 2, np.where(rng.random(m) < 0.3, np.round(gross * rng.uniform(0.03, 0.08, m), -3), 0),
                             np.round(gross * pct / 100)).astype(np.int64)
        status = _pick_fixed(rng, m, (0.92, 0.03, 0.0, 0.02, 0.03))   # paid pending refunded partially cancelled
        refunds = np.where(status == 3, np.round((gross - discounts) * rng.uniform(0.1, 0.4, m)), 0).astype(np.int64)
        names = ("shopify", "stripe", "erp")
        seq = np.zeros(m, dtype=np.int64)
        for k, name in enumerate(names):
            rows = np.nonzero(system == k)[0]
            seq[rows] = self.order_seq[name] + np.arange(len(rows))
            self.order_seq[name] += len(rows)
        prefix = pl.Series(["#H", "ch_h", "9"]).gather(pl.Series(system.astype(np.int64)))
        width = pl.Series([1, 20, 8]).gather(pl.Series(system.astype(np.int64)))
        order_ids = pl.select(
            (prefix + pl.Series(seq).cast(pl.Utf8).str.zfill(width)).alias("order_id")).to_series() if m else pl.Series(
            "order_id", [], dtype=pl.Utf8)
        categories = np.array([p.category for p in demo.CATALOGUE], dtype=object)[product]
        base = pl.DataFrame([
            order_ids,
            _cat(names, system, "source_system"),
            c.contacts["customer_id"].gather(pl.Series(cust)),
            c.contacts["email_sha256"].gather(pl.Series(cust)),
            _ts("ordered_at", t, self.start),
            _dates("order_date", np.floor(t), self.start),
            pl.Series("currency_code", np.where(sek, "SEK", np.where(usd, "USD", "EUR")), dtype=pl.Utf8),
            pl.Series("_gross", gross), pl.Series("_discounts", discounts), pl.Series("_refunds", refunds),
            _cat(("paid", "pending", "refunded", "partially_refunded", "cancelled"), status, "status"),
            pl.Series("product_category", categories, dtype=pl.Utf8),
            pl.Series("_day", np.floor(t).astype(np.int64)),
        ])
        orders = self._order_amounts(base.with_columns(
            pl.col("source_system").replace_strict(ORDER_FORMATS).alias("source_format")))
        # a share of paid orders is refunded later: a new export of the order
        late = np.nonzero((status == 0) & (rng.random(m) < REFUND_SHARE))[0]
        refunded = base[late].with_columns(
            pl.lit("refunded").alias("status"), (pl.col("_gross") - pl.col("_discounts")).alias("_refunds"),
            (pl.col("_day") + pl.Series(rng.integers(3, 30, len(late)))).alias("_day"))
        refunded = self._order_amounts(refunded.with_columns(
            pl.col("source_system").replace_strict(ORDER_FORMATS).alias("source_format")))
        return orders, refunded

    @staticmethod
    def _order_amounts(frame: pl.DataFrame) -> pl.DataFrame:
        net = pl.col("_gross") - pl.col("_discounts") - pl.col("_refunds")
        return frame.with_columns(
            (pl.col("_gross").cast(pl.Decimal(18, 4)) / 100).alias("gross"),
            (pl.col("_discounts").cast(pl.Decimal(18, 4)) / 100).alias("discounts"),
            (pl.col("_refunds").cast(pl.Decimal(18, 4)) / 100).alias("refunds"),
            (net.cast(pl.Decimal(18, 4)) / 100).alias("net_revenue"),
            pl.when(pl.col("_gross") < 50_000).then(pl.lit("entry")).when(pl.col("_gross") < 200_000).then(pl.lit("mid"))
            .when(pl.col("_gross") < 1_000_000).then(pl.lit("premium")).otherwise(pl.lit("luxury")).alias("price_tier"),
            pl.lit("orders").alias("source"),
        ).drop("_gross", "_discounts", "_refunds")

    def _deals(self, cust: np.ndarray, t_created: np.ndarray, t_close: np.ndarray, won: np.ndarray
               ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """One row per deal and stage change (created, presentation, closed); won deals paid through Stripe."""
        rng, c = self.rng, self.customers
        m = len(cust)
        ids = _ids("deal_id", "", 9_900_000_000 + self.deal_seq + np.arange(m), 10)
        self.deal_seq += m
        amount = np.round(np.clip(np.exp(rng.normal(math.log(36000), 0.4, m)), 20000, 80000), -3)
        usd = c.country[cust] == demo.COUNTRIES.index("United States")
        company = c.contacts["company"].gather(pl.Series(cust)).cast(pl.Utf8)
        base = pl.DataFrame([
            ids, pl.Series("source_system", ["hubspot"] * m, dtype=pl.Utf8),
            c.contacts["customer_id"].gather(pl.Series(cust)), company.alias("company"),
            (company.str.replace(r" (Oy|Ab|Group Oy|Solutions Oy|Partners Oy)$", "") + " - "
             + _cat(DEAL_PROGRAMMES, rng.integers(0, len(DEAL_PROGRAMMES), m), "p")).alias("deal_name"),
            pl.Series("pipeline", ["default"] * m, dtype=pl.Utf8),
            _money("amount", (amount * 100).astype(np.int64)),
            pl.Series("currency_code", np.where(usd, "USD", "EUR"), dtype=pl.Utf8),
            _dates("created_date", np.floor(t_created), self.start),
            _dates("close_date", np.floor(t_close), self.start),
            _cat(demo.DEAL_OWNERS, rng.integers(0, len(demo.DEAL_OWNERS), m), "owner"),
        ])
        mid = t_created + 0.5 * (t_close - t_created)
        stages = []
        for stage, when, closed in (("appointment", t_created, False), ("presentation", mid, False),
                                    (None, t_close, True)):
            stage_expr = (pl.Series("stage", np.where(won, "closed_won", "closed_lost"), dtype=pl.Utf8) if stage is None
                          else pl.Series("stage", [stage] * m, dtype=pl.Utf8))
            stages.append(base.with_columns(
                stage_expr, pl.lit(closed).alias("is_closed"),
                (pl.lit(closed) & pl.Series(won)).alias("is_won"),
                pl.Series("_day", np.floor(when).astype(np.int64))))
        deals = pl.concat(stages).with_columns(pl.lit("crm_deals").alias("source"),
                                              pl.lit("hubspot_deals").alias("source_format"))
        # won deals are invoiced through Stripe a few days after closing
        paid = np.nonzero(won)[0]
        t_pay = t_close[paid] + rng.uniform(1, 10, len(paid))
        seq = self.order_seq["stripe"] + np.arange(len(paid))
        self.order_seq["stripe"] += len(paid)
        cents = (amount[paid] * 100).astype(np.int64)
        payments = self._order_amounts(pl.DataFrame([
            _ids("order_id", "ch_h", seq, 20),
            pl.Series("source_system", ["stripe"] * len(paid), dtype=pl.Utf8),
            c.contacts["customer_id"].gather(pl.Series(cust[paid])),
            c.contacts["email_sha256"].gather(pl.Series(cust[paid])),
            _ts("ordered_at", t_pay, self.start), _dates("order_date", np.floor(t_pay), self.start),
            pl.Series("currency_code", np.where(usd[paid], "USD", "EUR"), dtype=pl.Utf8),
            pl.Series("_gross", cents), pl.Series("_discounts", np.zeros(len(paid), np.int64)),
            pl.Series("_refunds", np.zeros(len(paid), np.int64)),
            pl.Series("status", ["paid"] * len(paid), dtype=pl.Utf8),
            pl.Series("product_category", ["services"] * len(paid), dtype=pl.Utf8),
            pl.Series("_day", np.floor(t_pay).astype(np.int64)),
            pl.Series("source_format", ["stripe_payments"] * len(paid), dtype=pl.Utf8),
        ])).with_columns(pl.Series("_cust", cust[paid]), pl.Series("_t", t_pay))
        return deals, payments

    # -- ad platforms and plan files ---------------------------------------------------------------

    def _ad_daily(self, a: int, b: int) -> pl.DataFrame:
        """One row per campaign and day with delivery; Google's export restates the two days before."""
        rng, start = self.rng, self.start
        days = np.arange(a, b)
        launch = _in_launch(days, start)
        growth = 1 + 0.5 * days / self.scale.days
        rows = []
        for camp in self.campaigns:
            active = launch if camp.launch else np.ones(len(days), bool)
            d = days[active]
            if len(d) == 0:
                continue
            spend = camp.daily_spend_eur * self.spend_scale * growth[active] * rng.uniform(0.8, 1.2, len(d))
            clicks = np.maximum(np.round(spend / camp.cpc_eur), 0).astype(np.int64)
            impressions = np.round(clicks / camp.ctr).astype(np.int64)
            conversions = np.round(clicks * rng.uniform(0.005, 0.02, len(d)), 0)
            account, tz, source_format = ACCOUNTS[camp.platform]
            restated = (0, 1, 2) if camp.platform == "google_ads" else (0,)
            for lag in restated:
                rows.append(pl.DataFrame([
                    pl.Series("platform", [camp.platform] * len(d)), pl.Series("account_id", [account] * len(d)),
                    pl.Series("account_timezone", [tz] * len(d)), _dates("day", d, start),
                    pl.Series("campaign_id", [camp.campaign_id] * len(d)),
                    pl.Series("campaign_name", [camp.name] * len(d)), pl.Series("currency_code", ["EUR"] * len(d)),
                    _money("spend", np.round(spend * 100).astype(np.int64)),
                    pl.Series("impressions", impressions), pl.Series("clicks", clicks),
                    pl.Series("platform_conversions", conversions).cast(pl.Decimal(18, 4)),
                    _money("platform_conversion_value", np.round(conversions * 250000).astype(np.int64)),
                    pl.Series("_day", d + lag), pl.Series("source", [camp.platform] * len(d)),
                    pl.Series("source_format", [source_format] * len(d)),
                ]))
        frame = pl.concat(rows)
        if "meta_ads" in ACCOUNTS:  # Meta exports no conversion columns in the demo's format
            meta = pl.col("platform") == "meta_ads"
            frame = frame.with_columns(pl.when(~meta).then(pl.col(c)).alias(c)
                                       for c in ("platform_conversions", "platform_conversion_value"))
        return frame

    def _plan(self, a: int, b: int) -> dict[str, pl.DataFrame]:
        """Budgets, sales costs and FX rates on each month's first day; goals on each quarter's first day."""
        frames: dict[str, list[dict[str, object]]] = {"budget": [], "sales_cost": [], "fx_rate": [], "goal": []}
        monthly_spend: dict[str, float] = {}
        for camp in self.campaigns:
            channel = camp.channel
            monthly_spend[channel] = monthly_spend.get(channel, 0.0) + camp.daily_spend_eur * self.spend_scale * 30
        for offset in range(a, b):
            day = self.start + timedelta(days=offset)
            if day.day != 1 and offset != 0:
                continue
            month = day.replace(day=1)
            growth = 1 + 0.5 * offset / self.scale.days
            for channel, spend in monthly_spend.items():
                frames["budget"].append({"month": month, "channel": channel, "currency_code": "EUR",
                                         "amount": demo._nice(spend * growth * 1.1), "_day": offset})
            for kind, category, amount in (("fixed", "salaries", 24000), ("fixed", "tools", 1800),
                                           ("variable", "commissions", 9000), ("variable", "events", 1000)):
                frames["sales_cost"].append({"month": month, "kind": kind, "category": category,
                                             "currency_code": "EUR", "amount": demo._nice(amount * self.spend_scale),
                                             "_day": offset})
            noise = self.rng.normal(0, 0.01, 2)
            frames["fx_rate"] += [{"valid_from": month, "currency_code": "USD", "eur_per_unit": round(0.92 * (1 + noise[0]), 4),
                                   "_day": offset},
                                  {"valid_from": month, "currency_code": "SEK", "eur_per_unit": round(0.087 * (1 + noise[1]), 5),
                                   "_day": offset}]
            if month.month in (1, 4, 7, 10) or offset == 0:
                quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
                q_end = (quarter + timedelta(days=93)).replace(day=1) - timedelta(days=1)
                revenue = self.scale.orders / self.scale.days * 91 * 2500 * growth
                new = self.scale.customers / self.scale.days * 91 * 0.4 * growth
                tag = quarter.strftime("%Y_Q") + str((quarter.month - 1) // 3 + 1)
                frames["goal"] += [
                    {"goal_id": f"REV_{tag}", "description": f"Revenue {tag}", "metric": "revenue",
                     "target_value": demo._nice(revenue), "target_kind": "absolute", "period_start": quarter,
                     "period_end": q_end, "owner": "CEO", "_day": offset},
                    {"goal_id": f"NEW_{tag}", "description": f"New customers {tag}", "metric": "new_customers",
                     "target_value": demo._nice(new), "target_kind": "absolute", "period_start": quarter,
                     "period_end": q_end, "owner": "CMO", "_day": offset},
                    {"goal_id": f"GROW_{tag}", "description": f"Sell 10% more in {tag} than the quarter before",
                     "metric": "sales_growth", "target_value": 10.0, "target_kind": "pct_vs_baseline",
                     "period_start": quarter, "period_end": q_end,
                     "baseline_start": (quarter - timedelta(days=1)).replace(day=1).replace(
                         month=((quarter - timedelta(days=1)).month - 1) // 3 * 3 + 1),
                     "baseline_end": quarter - timedelta(days=1), "owner": "Head of Sales", "_day": offset},
                    {"goal_id": f"SAT_{tag}", "description": f"Raise satisfaction 5% in {tag}", "metric": "satisfaction",
                     "target_value": 5.0, "target_kind": "pct_vs_baseline", "period_start": quarter, "period_end": q_end,
                     "baseline_start": quarter - timedelta(days=91), "baseline_end": quarter - timedelta(days=1),
                     "owner": "Customer Success", "_day": offset},
                    {"goal_id": f"CPA_{tag}", "description": f"Paid search CPA under 150 EUR in {tag}", "metric": "cpa",
                     "target_value": 150.0, "target_kind": "absolute", "period_start": quarter, "period_end": q_end,
                     "owner": "CMO", "channel": "paid_search", "_day": offset},
                ]
        result = {}
        for entity, rows in frames.items():
            if not rows:
                continue
            source, source_format = SOURCE_OF[entity]
            schema = {**ENTITIES[entity], "_day": pl.Int64}
            frame = pl.DataFrame(rows, schema={k: (pl.Float64 if v == pl.Decimal(18, 4) or v == pl.Decimal(18, 8) else v)
                                               for k, v in schema.items()})
            result[entity] = frame.with_columns(
                *[pl.col(k).cast(v) for k, v in ENTITIES[entity].items() if isinstance(v, pl.Decimal)],
                pl.lit(source).alias("source"), pl.lit(source_format).alias("source_format"))
        return result


def write_history(lake_root: Path, scale: Scale, start: date, seed: int) -> tuple[Written, HistoryGenerator]:
    """Write ``scale.days`` days of history from ``start`` into ``lake_root``'s clean zone and manifest (and its index)."""
    generator = HistoryGenerator(scale, start, seed)
    writer = HistoryWriter(lake_root, seed, start)
    written = generator.run(writer)
    Lake(lake_root).manifest_index()  # built from the entries once, as an ingest would have kept it
    return written, generator


def write_new_day(inbox: Path, generator: HistoryGenerator, day: date, seed: int, lead_days: int = 14) -> dict[str, int]:
    """The vendor files of one new day at the scale's daily volume, written with the demo writers.

    A demo world of ``lead_days`` days ending on ``day`` is sized so that its last day has the
    history's daily touchpoints (``scale.touchpoints / days``); only that day's files are written.
    Its contacts created before ``day`` are mapped onto existing history customers (their e-mail
    addresses), so the new day's touches and orders belong to customers with a history; contacts
    created that day are new customers.
    """
    import shutil
    import tempfile

    from pipeline.demo import _write_world

    scale = generator.scale
    target = scale.touchpoints / scale.days
    probe = demo.build_world(day - timedelta(days=lead_days - 1), lead_days, 2000, seed)
    per_customer = max(probe.touchpoints.filter(pl.col("day") == day).height, 1) / 2000
    customers = max(200, int(target / per_customer))
    world = demo.build_world(day - timedelta(days=lead_days - 1), lead_days, customers, seed)
    rng = np.random.default_rng(seed + 1)
    contacts = world.contacts
    existing = (contacts["file_day"] < day).to_numpy()
    mapped = rng.integers(0, scale.customers, contacts.height)
    emails = np.where(existing, generator.customers.emails(mapped),
                      contacts["email"].to_numpy())
    remap = pl.DataFrame({"contact_idx": contacts["contact_idx"], "_email": pl.Series(emails, dtype=pl.Utf8)})

    def swap(frame: pl.DataFrame) -> pl.DataFrame:
        return (frame.join(remap, on="contact_idx", how="left", maintain_order="left")
                .with_columns(pl.coalesce("_email", "email").alias("email")).drop("_email"))

    world.contacts = swap(contacts)
    world.touchpoints = swap(world.touchpoints)
    world.orders = swap(world.orders)
    world.deals = swap(world.deals)
    with tempfile.TemporaryDirectory() as tmp:
        summary = _write_world(Path(tmp), world, customers, seed)
        del summary
        rows: dict[str, int] = {}
        for folder in sorted(Path(tmp).glob(f"*/{day.isoformat()}")):
            dest = inbox / folder.parent.name / day.isoformat()
            dest.mkdir(parents=True, exist_ok=True)
            for file in folder.iterdir():
                shutil.copyfile(file, dest / file.name)
                rows[folder.parent.name] = rows.get(folder.parent.name, 0) + max(
                    sum(1 for _ in file.open("rb")) - 1, 0)
    return rows
