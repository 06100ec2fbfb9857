"""The simulated business behind ``kohde demo``: customers, campaigns, journeys, orders and ad stats.

A high-ticket Finnish business (watches, jewellery, travel packages, B2B services) with four
customer groups, seven marketing channels and a seasonal launch campaign. Everything is drawn from
one ``numpy.random.Generator`` seeded by the caller, column by column (no row loops), so the same
arguments always give the same world.

Causal model (the "truth" an analyst can compare attribution against): every contact with a
journey in the period converts with probability
``min(0.9, base[group] x prod(1 + CHANNEL_LIFT[c] for each channel c the contact was exposed to)
x launch boost)``, at the end of a journey of several weeks. Exposure to display retargeting is
drawn at random for half of the site visitors, independently of everything else, so retargeted
visitors convert at about twice the rate of the others.

Time model: a contact's timeline is a real number ``t`` of days since the demo start. The
integer part is the day; the fraction maps linearly onto 05:00-20:00 UTC of that day, so every
event falls on the same date in UTC and in Helsinki time and the order of events is preserved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipeline.channels import CHANNELS, PLATFORM_CHANNEL

DAY_START_S = 5 * 3600          # events happen between 05:00 and 20:00 UTC (08-23 Helsinki in summer)
DAY_SPAN_S = 15 * 3600

GROUPS: tuple[str, ...] = ("luxury", "tech", "price_sensitive", "b2b")
LUXURY, TECH, PRICE, B2B = range(4)
GROUP_SHARE = np.array([0.24, 0.30, 0.39, 0.07])

CH = {name: i for i, name in enumerate(CHANNELS)}
PS, SOC, LI, RTG = CH["paid_search"], CH["paid_social"], CH["linkedin"], CH["display_retargeting"]
EMAIL, WEBINAR, ORG, REF, DIRECT = CH["email"], CH["webinar"], CH["organic_search"], CH["referral"], CH["direct"]
OFFLINE = len(CHANNELS)  # acquisition only: in-store and phone customers, no touchpoint

# Relative increase in a contact's conversion probability when exposed to the channel (the truth).
CHANNEL_LIFT: dict[str, float] = {
    "paid_search": 0.5,
    "paid_social": 0.15,
    "linkedin": 0.6,
    "display_retargeting": 1.0,
    "email": 0.3,
    "webinar": 0.9,
    "organic_search": 0.0,
    "referral": 0.2,
    "direct": 0.0,
}
LIFT = np.array([CHANNEL_LIFT[c] for c in CHANNELS])
BASE_CONVERSION = np.array([0.09, 0.06, 0.07, 0.05])
LAUNCH_BOOST = 2.0               # launch-acquired contacts convert twice as often (offer + urgency)
LAUNCH_INFLOW = 1.5              # extra new contacts per day during the launch, relative to normal
LAUNCH_PULL_FORWARD = 0.4        # share of decisions due soon after the launch that it pulls into it
MAX_CONVERSION = 0.9
RETARGET_SHARE = 0.5             # AdRoll reaches half of the site visitors, at random
OLD_SHARE = 0.2                  # contacts created long before the demo (up to two years)
OLD_ACTIVE = 0.55                # of them, the share that starts a new buying journey in the period
RECENT_DAYS = 60                 # contacts created this many days before the start are mid-journey
JOURNEY_MEAN_DAYS = np.array([30.0, 24.0, 10.0, 55.0])
LAUNCH_JOURNEY_MEAN_DAYS = 7.0

# Acquisition channel (original source) per group, columns CHANNELS + offline.
ACQUISITION = np.array([
    # ps    soc   li    rtg  email web   org   ref   dir   offline
    [0.25, 0.05, 0.00, 0.0, 0.05, 0.00, 0.25, 0.12, 0.13, 0.15],
    [0.25, 0.08, 0.17, 0.0, 0.10, 0.15, 0.17, 0.03, 0.05, 0.00],
    [0.14, 0.55, 0.00, 0.0, 0.06, 0.00, 0.14, 0.03, 0.08, 0.00],
    [0.20, 0.00, 0.40, 0.0, 0.05, 0.10, 0.10, 0.10, 0.05, 0.00],
])
# Probability of being exposed to each channel during a journey (retargeting is drawn separately).
EXPOSURE = np.array([
    # ps    soc   li    rtg  email web   org   ref   dir
    [0.55, 0.06, 0.00, 0.0, 0.45, 0.02, 0.35, 0.10, 0.35],
    [0.50, 0.08, 0.35, 0.0, 0.55, 0.40, 0.35, 0.05, 0.30],
    [0.25, 0.55, 0.00, 0.0, 0.35, 0.00, 0.30, 0.05, 0.30],
    [0.45, 0.02, 0.55, 0.0, 0.40, 0.30, 0.25, 0.12, 0.35],
])
ORIGINAL_SOURCE: tuple[str, ...] = (
    "Paid Search", "Paid Social", "Paid Social", "Other Campaigns", "Email Marketing", "Other Campaigns",
    "Organic Search", "Referrals", "Direct Traffic", "Offline Sources",
)
PLATFORM_OF_CHANNEL: dict[int, str] = {CH[channel]: platform for platform, channel in PLATFORM_CHANNEL.items()}

# Repeat purchases per day: prior customers (backlog) and new converters after their first order.
REPEAT_RATE_PRIOR = np.array([1 / 160, 1 / 200, 0.0, 1 / 90])
REPEAT_RATE_NEW = np.array([1 / 70, 1 / 160, 0.0, 0.0])
PRIOR_CUSTOMER_SHARE = np.array([0.45, 0.20, 0.10, 0.30])

SHOPIFY, STRIPE, ERP = "shopify", "stripe", "erp"
VAT = {"Finland": 0.255, "Sweden": 0.25, "Germany": 0.19, "United States": 0.0}

ACCOUNTS: dict[str, dict[str, str]] = {
    "google_ads": {"account_id": "123-456-7890", "account_name": "Kohde Demo Oy"},
    "meta_ads": {"account_id": "act_1029384756", "account_name": "Kohde Demo"},
    "linkedin_ads": {"account_id": "508123456", "account_name": "Kohde Demo Oy"},
    "adroll": {"account_id": "Kohde Demo", "account_name": "Kohde Demo"},
}


@dataclass(frozen=True)
class Campaign:
    """One ad campaign: where it runs, what it costs, and which customer groups it reaches."""

    platform: str
    campaign_id: str
    name: str
    campaign_type: str
    objective: str
    daily_spend_eur: float          # at the default size (2,000 contacts over 90 days)
    cpc_eur: float
    ctr: float
    group_weight: tuple[float, float, float, float]
    launch: bool = False

    @property
    def channel(self) -> str:
        """The kohde channel of the campaign's platform."""
        return PLATFORM_CHANNEL[self.platform]


@dataclass(frozen=True)
class Product:
    """One catalogue item, priced in EUR before VAT, with how often each group picks it."""

    sku: str
    name: str
    category: str
    price_eur: int
    group_weight: tuple[float, float, float, float]


CATALOGUE: tuple[Product, ...] = (
    Product("TND-FW-03", "Tundra Field Watch", "watches", 690, (0.0, 0.2, 0.6, 0.0)),
    Product("NRD-DV-02", "Nordic Diver", "watches", 1290, (0.05, 0.35, 0.25, 0.0)),
    Product("AUR-CH-01", "Aurora Chronograph", "watches", 2450, (0.2, 0.3, 0.0, 0.0)),
    Product("LUM-DW-05", "Lumi Dress Watch", "watches", 3900, (0.3, 0.1, 0.0, 0.0)),
    Product("KAA-GM-06", "Kaamos GMT", "watches", 6800, (0.25, 0.05, 0.0, 0.0)),
    Product("RVT-TB-04", "Revontuli Tourbillon", "watches", 14800, (0.2, 0.0, 0.0, 0.0)),
    Product("SAI-PN-11", "Saimaa Pearl Necklace", "jewellery", 480, (0.0, 0.2, 0.6, 0.0)),
    Product("AAL-GR-12", "Aalto Gold Ring", "jewellery", 1150, (0.05, 0.4, 0.3, 0.0)),
    Product("KID-DP-13", "Kide Diamond Pendant", "jewellery", 3200, (0.3, 0.3, 0.0, 0.0)),
    Product("LAP-SE-14", "Lapland Sapphire Earrings", "jewellery", 6400, (0.35, 0.1, 0.0, 0.0)),
    Product("TAH-TB-15", "Tähti Tennis Bracelet", "jewellery", 11200, (0.3, 0.0, 0.0, 0.0)),
    Product("HEL-DW-21", "Helsinki Design Weekend", "travel", 890, (0.0, 0.25, 0.6, 0.0)),
    Product("ARC-SW-22", "Archipelago Sailing Weekend", "travel", 1450, (0.1, 0.3, 0.25, 0.0)),
    Product("ARC-HS-23", "Arctic Husky Safari", "travel", 2300, (0.2, 0.3, 0.0, 0.0)),
    Product("LAP-AW-24", "Lapland Aurora Week", "travel", 4200, (0.4, 0.15, 0.0, 0.0)),
    Product("PRV-IR-25", "Private Island Retreat", "travel", 9800, (0.3, 0.0, 0.0, 0.0)),
    Product("SRV-AP-31", "Annual service plan", "services", 1200, (0.2, 0.5, 0.0, 0.3)),
    Product("SRV-CT-32", "Concierge travel planning", "services", 1800, (0.5, 0.3, 0.0, 0.2)),
    Product("SRV-WI-33", "Watch care & insurance", "services", 950, (0.3, 0.2, 0.0, 0.0)),
    Product("SRV-CG-34", "Corporate gifting programme", "services", 6500, (0.0, 0.0, 0.0, 0.5)),
    Product("SRV-RT-35", "Support retainer", "services", 3500, (0.0, 0.0, 0.0, 0.4)),
)
CATEGORIES: tuple[str, ...] = ("watches", "jewellery", "travel", "services")
# Category of a webshop / ERP order per group (watches, jewellery, travel).
SHOP_CATEGORY = np.array([[0.45, 0.40, 0.15], [0.50, 0.15, 0.35], [0.40, 0.40, 0.20], [0.4, 0.4, 0.2]])
ERP_CATEGORY = np.array([[0.50, 0.40, 0.10], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]])
ERP_CATEGORY_FI = {"watches": "Kellot", "jewellery": "Korut", "travel": "Matkat", "services": "Palvelut"}


@dataclass(frozen=True)
class Period:
    """The demo period and the windows the story is told in, as day offsets from ``start``."""

    start: date
    days: int
    launch_start: int               # first day of the launch campaign
    launch_end: int                 # day after its last day
    launch_label: str               # e.g. "Autumn launch"
    growth_start: int               # the "sell more" period is [growth_start, days), baseline before it

    @property
    def end(self) -> date:
        """The last demo day (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    def day(self, offset: int) -> date:
        """The date ``offset`` days after the start."""
        return self.start + timedelta(days=offset)


@dataclass(frozen=True)
class Truth:
    """What really happened in the simulation, to compare the pipeline's answers against."""

    channel_lift: dict[str, float]                 # CHANNEL_LIFT
    incremental_conversions: dict[str, float]      # conversions each channel's exposure added (expected)
    incremental_revenue_eur: dict[str, float]      # first-order (or won deal) value caused by each channel
    retargeted_visitors: int                       # site visitors AdRoll reached, journey decided in the period
    retargeted_conversion_rate: float
    other_visitors: int                            # site visitors it did not reach
    other_visitor_conversion_rate: float
    goal_expected_status: dict[str, str]           # goal_id -> status at the end of the demo


@dataclass
class World:
    """Everything the writers need, as typed frames, plus the truth behind them."""

    period: Period
    scale: float                      # spend and cost scale relative to the default size
    campaigns: tuple[Campaign, ...]
    contacts: pl.DataFrame            # one row per contact (file_day = the export it appears in)
    touchpoints: pl.DataFrame         # one row per touch inside the period
    orders: pl.DataFrame              # one row per order (all three systems)
    order_lines: pl.DataFrame         # one row per Shopify line item
    deals: pl.DataFrame               # one row per deal and day it was created or changed
    ad_daily: pl.DataFrame            # one row per campaign and day with delivery (final numbers)
    google_exports: pl.DataFrame      # one row per Google export day, reported day and campaign
    goals: pl.DataFrame
    budgets: pl.DataFrame
    sales_costs: pl.DataFrame
    fx_rates: pl.DataFrame
    truth: Truth


# ---------------------------------------------------------------------------------------------
# helpers


NULL = np.array(None, dtype=object)  # an empty text cell inside np.where


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    total = cum[:, -1:]
    u = rng.random((probs.shape[0], 1)) * total
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def _pick_by_group(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """One categorical draw per contact from the row of ``table`` for the contact's group."""
    return _pick(rng, np.asarray(table, dtype=float)[group])


def _frame(columns: dict[str, np.ndarray]) -> pl.DataFrame:
    """A frame from numpy columns; object arrays (text with None) become String, never Object."""
    return pl.DataFrame([
        pl.Series(name, values.tolist(), dtype=pl.Utf8) if isinstance(values, np.ndarray) and values.dtype == object
        else pl.Series(name, values)
        for name, values in columns.items()
    ])


def _nice(value: float, down: bool = False) -> float:
    """Round to two significant digits (a number a person would type into a plan)."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return (math.floor(value / step) if down else round(value / step)) * step


def _utc_micros(t: np.ndarray, start: date) -> np.ndarray:
    """Virtual times (days since start) as UTC epoch microseconds."""
    day = np.floor(t)
    seconds = day * 86400 + DAY_START_S + np.floor((t - day) * DAY_SPAN_S)
    epoch = (start - date(1970, 1, 1)).days * 86400
    return (seconds.astype(np.int64) + epoch) * 1_000_000


def _ts(name: str, t: np.ndarray, start: date) -> pl.Series:
    """A UTC datetime column from virtual times."""
    return pl.Series(name, _utc_micros(t, start)).cast(pl.Datetime("us", "UTC"))


def _random_codes(rng: np.random.Generator, n: int, length: int, alphabet: str) -> np.ndarray:
    """Random strings: ``n`` of ``length`` characters from ``alphabet`` (vectorised)."""
    chars = np.array(list(alphabet), dtype="<U1")[rng.integers(0, len(alphabet), size=(n, length))]
    return np.ascontiguousarray(chars).view(f"<U{length}").reshape(n)


def _position_in_run(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each run of ``np.repeat(x, counts)``: [2, 3] -> [0, 1, 0, 1, 2]."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts


def _ids(rng: np.random.Generator, n: int, first: int, max_gap: int) -> np.ndarray:
    """Increasing integer ids from ``first`` with random gaps, as a real id sequence looks."""
    return first + np.cumsum(rng.integers(1, max_gap + 1, size=n)) - 1


def _season(month: int) -> str:
    """The launch campaign's name for a start month."""
    if month == 11:
        return "Black Friday"
    return {12: "Winter", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring", 5: "Spring",
            6: "Summer", 7: "Summer", 8: "Summer"}.get(month, "Autumn") + " launch"


def discount_code(label: str) -> str:
    """The discount code of the launch campaign, e.g. AUTUMN15 or BLACKFRIDAY20."""
    return "BLACKFRIDAY20" if label == "Black Friday" else label.split()[0].upper() + "15"


def make_period(start: date, days: int) -> Period:
    """The period and its story windows: the launch starts soon after the growth period begins."""
    growth_len = min(days // 2, 122)
    growth_start = days - growth_len
    launch_start = growth_start + max(1, growth_len // 10)
    launch_len = min(max(days // 4, 7), 28)
    label = _season((start + timedelta(days=launch_start)).month)
    return Period(start, days, launch_start, launch_start + launch_len, label, growth_start)


def make_campaigns(period: Period) -> tuple[Campaign, ...]:
    """The campaigns of the four ad platforms; the two launch campaigns run only in the launch window."""
    label = period.launch_label
    return (
        Campaign("google_ads", "20456789012", "Search - Brand", "Search", "Sales", 140, 0.9, 0.09,
                 (0.4, 0.3, 0.3, 0.3)),
        Campaign("google_ads", "20456789013", "Search - Watches & Jewellery", "Search", "Sales", 180, 1.8, 0.05,
                 (0.45, 0.2, 0.5, 0.02)),
        Campaign("google_ads", "20456789014", "Search - Travel packages", "Search", "Sales", 110, 1.5, 0.05,
                 (0.15, 0.3, 0.2, 0.05)),
        Campaign("google_ads", "20456789015", "Search - B2B services", "Search", "Leads", 90, 3.2, 0.04,
                 (0.0, 0.2, 0.0, 0.65)),
        Campaign("google_ads", "20456789020", f"{label} - Search", "Search", "Sales", 210, 1.6, 0.06,
                 (0.3, 0.3, 0.4, 0.1), launch=True),
        Campaign("meta_ads", "120208765432100001", "Prospecting - Lookalike", "Conversions", "Sales", 175, 0.45,
                 0.012, (0.6, 0.7, 0.4, 0.8)),
        Campaign("meta_ads", "120208765432100002", "Entry collection - Discount", "Conversions", "Sales", 135, 0.4,
                 0.014, (0.1, 0.1, 0.6, 0.2)),
        Campaign("meta_ads", "120208765432100003", f"{label} - Meta", "Conversions", "Sales", 140, 0.42, 0.013,
                 (0.5, 0.5, 0.8, 0.2), launch=True),
        Campaign("linkedin_ads", "612345678", "B2B - Decision makers", "Sponsored Content", "Lead generation",
                 170, 7.5, 0.0075, (0.2, 0.2, 0.2, 0.85)),
        Campaign("linkedin_ads", "612345679", "Tech - Webinar promotion", "Sponsored Content", "Website visits",
                 110, 5.5, 0.009, (0.8, 0.8, 0.8, 0.15)),
        Campaign("adroll", "RTG7H2K9Q1", "Retargeting - Site visitors", "Retargeting", "Sales", 70, 1.1, 0.0022,
                 (0.7, 0.7, 0.7, 0.7)),
        Campaign("adroll", "RTG7H2K9Q2", "Retargeting - Cart & pricing", "Retargeting", "Sales", 30, 1.0, 0.0025,
                 (0.3, 0.3, 0.3, 0.3)),
    )


# ---------------------------------------------------------------------------------------------
# contacts

FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # country: (female, male)
    "Finland": (
        ("Aino", "Emma", "Sofia", "Helmi", "Aada", "Ella", "Olivia", "Lilja", "Venla", "Iida", "Maria", "Anna",
         "Johanna", "Laura", "Sanna", "Katja", "Minna", "Riikka", "Tiina", "Päivi", "Satu", "Elina", "Kaisa",
         "Noora", "Hanna"),
        ("Mikko", "Juha", "Jukka", "Antti", "Matti", "Pekka", "Timo", "Ville", "Janne", "Sami", "Eero", "Onni",
         "Leo", "Elias", "Väinö", "Oskari", "Jari", "Markku", "Heikki", "Lauri", "Tuomas", "Aleksi", "Juho",
         "Kari", "Olli"),
    ),
    "Sweden": (
        ("Elsa", "Alice", "Maja", "Astrid", "Ebba", "Wilma", "Freja", "Linnea", "Karin", "Ingrid"),
        ("Erik", "Lars", "Anders", "Johan", "Karl", "Nils", "Oskar", "Gustav", "Axel", "Lucas"),
    ),
    "Germany": (
        ("Anna", "Lena", "Julia", "Sophie", "Katharina", "Laura", "Miriam"),
        ("Lukas", "Felix", "Jonas", "Maximilian", "Tobias", "Stefan", "Markus"),
    ),
    "United States": (
        ("Emily", "Olivia", "Jessica", "Sarah", "Ashley", "Megan"),
        ("Michael", "James", "David", "Daniel", "Ryan", "Chris"),
    ),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "Finland": ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
                "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi",
                "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen", "Rantanen",
                "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen"),
    "Sweden": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
               "Svensson", "Gustafsson", "Lindberg", "Lindqvist", "Bergström", "Sjöberg", "Holm"),
    "Germany": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
                "Schäfer"),
    "United States": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
                      "Taylor"),
}
COUNTRIES: tuple[str, ...] = ("Finland", "Sweden", "Germany", "United States")
COUNTRY_BY_GROUP = np.array([[0.78, 0.12, 0.05, 0.05], [0.80, 0.10, 0.05, 0.05], [0.85, 0.12, 0.03, 0.0],
                             [0.85, 0.07, 0.03, 0.05]])
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "Finland": (("Helsinki", "00100"), ("Helsinki", "00250"), ("Helsinki", "00530"), ("Espoo", "02100"),
                ("Vantaa", "01300"), ("Tampere", "33100"), ("Turku", "20100"), ("Oulu", "90100"),
                ("Jyväskylä", "40100"), ("Kuopio", "70100"), ("Lahti", "15100"), ("Porvoo", "06100")),
    "Sweden": (("Stockholm", "111 20"), ("Göteborg", "411 06"), ("Malmö", "211 22"), ("Uppsala", "753 20")),
    "Germany": (("Berlin", "10115"), ("München", "80331"), ("Hamburg", "20095")),
    "United States": (("New York", "10001"), ("San Francisco", "94105"), ("Boston", "02108")),
}
LANGUAGE = {"Finland": "fi", "Sweden": "sv", "Germany": "en", "United States": "en"}
CONSUMER_DOMAINS = {"Finland": ("example.fi", "example.com", "example.net"), "Sweden": ("example.se", "example.com"),
                    "Germany": ("example.com", "example.org"), "United States": ("example.com", "example.net")}
INCOME_BANDS = ("<20k", "20-40k", "40-60k", "60-100k", "100-150k", "150k+")
INCOME = np.array([[0, 0, 0.02, 0.10, 0.45, 0.43], [0, 0.05, 0.37, 0.53, 0.05, 0], [0.15, 0.45, 0.30, 0.10, 0, 0],
                   [0, 0, 0.10, 0.45, 0.30, 0.15]])
EDUCATIONS = ("Basic", "Vocational", "Bachelor", "Master", "Doctorate")
EDUCATION = np.array([[0.05, 0.15, 0.30, 0.40, 0.10], [0, 0.10, 0.40, 0.42, 0.08], [0.15, 0.40, 0.35, 0.10, 0],
                      [0, 0.10, 0.40, 0.45, 0.05]])
VALUES = ("Quality", "Status", "Innovation", "Price", "Sustainability")
VALUE = np.array([[0.50, 0.42, 0.03, 0, 0.05], [0.12, 0.03, 0.75, 0.02, 0.08], [0.05, 0.02, 0.03, 0.72, 0.18],
                  [0.50, 0.05, 0.15, 0.10, 0.20]])
LOYALTIES = ("High", "Medium", "Low")
LOYALTY = np.array([[0.75, 0.20, 0.05], [0.20, 0.55, 0.25], [0.05, 0.30, 0.65], [0.40, 0.45, 0.15]])
MOTIVES = ("Status", "Performance", "Value", "Convenience")
MOTIVE = np.array([[0.80, 0.05, 0.02, 0.13], [0.05, 0.80, 0.05, 0.10], [0.02, 0.05, 0.85, 0.08],
                   [0.05, 0.45, 0.15, 0.35]])
LIFESTYLES = ("Collector", "Traveller", "Urban professional", "Family", "Outdoors")
LIFESTYLE = np.array([[0.35, 0.40, 0.15, 0.05, 0.05], [0.05, 0.20, 0.50, 0.10, 0.15], [0.02, 0.15, 0.20, 0.43, 0.20],
                      [0.05, 0.30, 0.55, 0.05, 0.05]])
SATISFACTION_MEAN = np.array([8.3, 7.6, 6.9, 7.5])
SATISFACTION_TREND = 0.5          # points gained by the end of the period (new contacts)
BIRTH_YEAR = np.array([[1964, 8], [1991, 5], [1988, 10], [1976, 8]])
BIRTH_YEAR_BOUNDS = np.array([[1945, 1985], [1982, 2001], [1960, 2006], [1958, 1996]])
COMPANY_PREFIX = ("Nordic", "Baltic", "Arctic", "Helsinki", "Suomen", "Lakeland", "Boreal", "Aurora", "Kaleva",
                  "Pohjola", "Saimaa", "Tapiola", "Botnia", "Karelia", "Lappi", "Merikoski", "Kivi", "Vesi",
                  "Tammi", "Koivu")
COMPANY_CORE: tuple[tuple[str, str], ...] = (
    ("Logistics", "Logistics and Supply Chain"), ("Software", "Computer Software"),
    ("Engineering", "Mechanical or Industrial Engineering"), ("Consulting", "Management Consulting"),
    ("Foods", "Food & Beverages"), ("Energy", "Renewables & Environment"), ("Health", "Hospital & Health Care"),
    ("Robotics", "Industrial Automation"), ("Media", "Marketing and Advertising"), ("Construction", "Construction"),
    ("Capital", "Financial Services"), ("Hotels", "Hospitality"), ("Forest", "Paper & Forest Products"),
    ("Telecom", "Telecommunications"),
)
COMPANY_SUFFIX = ("Oy", "Ab", "Group Oy", "Solutions Oy", "Partners Oy")
TECH_INDUSTRIES = ("Computer Software", "Information Technology and Services", "Internet")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
DEAL_PROGRAMMES = ("Fleet programme", "Executive retreat", "Corporate gifting", "Service agreement",
                   "Incentive travel", "Anniversary watches")
DEAL_OWNERS = ("Maria Saarinen", "Jussi Lehtonen", "Anna Berg")
DEAL_STAGES = ("Appointment scheduled", "Qualified to buy", "Presentation scheduled", "Decision maker bought-in",
               "Contract sent", "Closed won", "Closed lost")


def _ascii(expr: pl.Expr) -> pl.Expr:
    """Lower-case ASCII for e-mail addresses: ä -> a, ö -> o, ü -> u, ß -> ss, spaces removed."""
    return expr.str.to_lowercase().str.replace_many(
        ["ä", "ö", "å", "ü", "é", "ß", " ", "&"], ["a", "o", "a", "u", "e", "ss", "", ""]
    )


def _contacts(rng: np.random.Generator, period: Period, n: int) -> dict[str, np.ndarray]:
    """Who the contacts are and when and how they were acquired (arrays of length n)."""
    days = period.days
    group = _pick_by_group(rng, np.zeros(n, dtype=int), GROUP_SHARE[None, :])
    old = rng.random(n) < OLD_SHARE
    # new contacts arrive steadily from RECENT_DAYS before the start (so journeys are under way on
    # day one), faster over time, and almost twice as fast during the launch
    day_index = np.arange(-RECENT_DAYS, days)
    in_launch = (day_index >= period.launch_start) & (day_index < period.launch_end)
    inflow = (1 + 0.35 * np.clip(day_index, 0, None) / max(days, 1)) * (1 + LAUNCH_INFLOW * in_launch)
    new_day = rng.choice(len(day_index), size=n, p=inflow / inflow.sum())
    created = np.where(old, -rng.uniform(RECENT_DAYS, 720, n), day_index[new_day] + rng.random(n))
    backlog = created < 0
    launch_acquired = (~old & in_launch[new_day] & (group != B2B)
                       & (rng.random(n) < LAUNCH_INFLOW / (1 + LAUNCH_INFLOW)))
    acquisition = _pick_by_group(rng, group, ACQUISITION)
    # the launch reaches bargain hunters on Meta and gift buyers searching on Google
    via_meta = rng.random(n) < np.where(group == PRICE, 0.85, 0.3)
    acquisition = np.where(launch_acquired, np.where(via_meta, SOC, PS), acquisition)
    country = _pick_by_group(rng, group, COUNTRY_BY_GROUP)
    consent = _pick(rng, np.tile([0.80, 0.12, 0.08], (n, 1)))          # 0 Yes, 1 No, 2 unknown
    consent = np.where(acquisition == EMAIL, 0, consent)
    unsubscribed = rng.random(n) < 0.02
    can_email = (consent == 0) & ~unsubscribed
    prior_customer = old & (rng.random(n) < PRIOR_CUSTOMER_SHARE[group])
    return {
        "group": group, "old": old, "backlog": backlog, "created": created, "launch_acquired": launch_acquired,
        "acquisition": acquisition, "country": country, "consent": consent, "unsubscribed": unsubscribed,
        "can_email": can_email, "prior_customer": prior_customer,
    }


def _contact_frame(rng: np.random.Generator, period: Period, c: dict[str, np.ndarray], j: Journeys
                   ) -> pl.DataFrame:
    """The CRM view of the contacts: names, e-mails, demographics, survey answers, B2B firmographics."""
    n = len(c["group"])
    group, country = c["group"], c["country"]
    gender = _pick(rng, np.tile([0.48, 0.47, 0.01, 0.04], (n, 1)))      # Female, Male, Other, unknown
    female = (gender == 0) | ((gender >= 2) & (rng.random(n) < 0.5))
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    postal = np.empty(n, dtype=object)
    domain = np.empty(n, dtype=object)
    for k, name in enumerate(COUNTRIES):
        rows = country == k
        m = int(rows.sum())
        females, males = FIRST_NAMES[name]
        f_pick = np.array(females, dtype=object)[rng.integers(0, len(females), m)]
        m_pick = np.array(males, dtype=object)[rng.integers(0, len(males), m)]
        first[rows] = np.where(female[rows], f_pick, m_pick)
        last[rows] = np.array(LAST_NAMES[name], dtype=object)[rng.integers(0, len(LAST_NAMES[name]), m)]
        places = CITIES[name]
        where = rng.integers(0, len(places), m)
        city[rows] = np.array([p[0] for p in places], dtype=object)[where]
        postal[rows] = np.array([p[1] for p in places], dtype=object)[where]
        doms = CONSUMER_DOMAINS[name]
        domain[rows] = np.array(doms, dtype=object)[rng.integers(0, len(doms), m)]

    # B2B: a pool of companies, one to a few contacts each
    b2b = group == B2B
    n_b2b = int(b2b.sum())
    combos = len(COMPANY_PREFIX) * len(COMPANY_CORE) * len(COMPANY_SUFFIX)
    pool = max(1, min(combos, int(n_b2b / 1.4) + 1))
    combo = rng.permutation(combos)[:pool]
    prefix = combo // (len(COMPANY_CORE) * len(COMPANY_SUFFIX))
    core = (combo // len(COMPANY_SUFFIX)) % len(COMPANY_CORE)
    suffix = combo % len(COMPANY_SUFFIX)
    company_of = rng.integers(0, pool, n)
    company_names = np.array([f"{COMPANY_PREFIX[p]} {COMPANY_CORE[k][0]} {COMPANY_SUFFIX[s]}"
                              for p, k, s in zip(prefix, core, suffix, strict=True)], dtype=object)
    company_slug = np.array([f"{COMPANY_PREFIX[p]}{COMPANY_CORE[k][0]}{COMPANY_SUFFIX[s].replace(' Oy', '')}"
                             if s >= 2 else f"{COMPANY_PREFIX[p]}{COMPANY_CORE[k][0]}"
                             for p, k, s in zip(prefix, core, suffix, strict=True)], dtype=object)
    company_industry = np.array([COMPANY_CORE[k][1] for k in core], dtype=object)
    company_employees = np.clip(np.exp(rng.normal(math.log(120), 1.0, pool)), 10, 5000).astype(np.int64)
    employees = company_employees[company_of]
    revenue_band = np.select([employees < 50, employees < 250, employees < 1000], ["1-10M", "10-50M", "50-250M"],
                             "250M+")
    domain = np.where(b2b, np.char.add(company_slug[company_of].astype(str), ".example").astype(object), domain)

    birth = np.clip(np.round(rng.normal(BIRTH_YEAR[group, 0], BIRTH_YEAR[group, 1])), BIRTH_YEAR_BOUNDS[group, 0],
                    BIRTH_YEAR_BOUNDS[group, 1]).astype(np.int64)
    tech_birth = rng.integers(1982, 2002, n)
    birth = np.where(group == TECH, tech_birth, birth)
    surveyed = rng.random(n) >= 0.12
    created = c["created"]
    trend = np.where(c["backlog"], 0.0, SATISFACTION_TREND * np.clip(created, 0, None) / max(period.days, 1))
    satisfaction = np.clip(np.round((SATISFACTION_MEAN[group] + trend + rng.normal(0, 0.9, n)) * 10), 0, 100)
    has_satisfaction = rng.random(n) >= 0.35
    tech_industry = np.array(TECH_INDUSTRIES, dtype=object)[rng.integers(0, len(TECH_INDUSTRIES), n)]
    industry = np.where(b2b, company_industry[company_of],
                        np.where((group == TECH) & (rng.random(n) < 0.5), tech_industry, NULL))
    phone_kind = np.where(rng.random(n) < 0.12, -1, country)
    digits = rng.integers(0, 10**8, n)

    # lifecycle stage at creation
    acq = c["acquisition"]
    new_stage = np.where(acq == EMAIL, "Subscriber",
                         np.where(np.isin(acq, [WEBINAR, LI]), "Marketing Qualified Lead",
                                  np.where(b2b & (rng.random(n) < 0.3), "Sales Qualified Lead",
                                           np.where(rng.random(n) < 0.8, "Lead", "Subscriber"))))
    old_stage = np.array(["Lead", "Marketing Qualified Lead", "Subscriber", "Other", "Opportunity"],
                         dtype=object)[_pick(rng, np.tile([0.45, 0.2, 0.25, 0.05, 0.05], (n, 1)))]
    customer_stage = np.where(rng.random(n) < 0.06, "Evangelist", "Customer")
    bought_before = c["prior_customer"] | (j.converts & (j.t_end < 0))
    lifecycle = np.where(bought_before, customer_stage, np.where(c["old"], old_stage, new_stage))
    modified = np.where(c["backlog"], rng.uniform(0.0, 0.05, n),
                        np.minimum(created + rng.uniform(0, 0.1, n), np.floor(created) + 0.999))

    frame = _frame({
        "contact_idx": np.arange(n),
        "group": np.array(GROUPS, dtype=object)[group],
        "first_name": first, "last_name": last,
        "country": np.array(COUNTRIES, dtype=object)[country],
        "domain": domain, "city": city, "postal_code": postal,
        "gender": np.array(["Female", "Male", "Other", None], dtype=object)[gender],
        "birth_year": np.where(rng.random(n) < 0.05, -1, birth),
        "income_band": np.where(rng.random(n) < 0.10, NULL, np.array(INCOME_BANDS, dtype=object)[
            _pick_by_group(rng, group, INCOME)]),
        "education": np.where(rng.random(n) < 0.15, NULL, np.array(EDUCATIONS, dtype=object)[
            _pick_by_group(rng, group, EDUCATION)]),
        "values": np.where(surveyed, np.array(VALUES, dtype=object)[_pick_by_group(rng, group, VALUE)], NULL),
        "brand_loyalty": np.where(surveyed, np.array(LOYALTIES, dtype=object)[_pick_by_group(rng, group, LOYALTY)],
                                  NULL),
        "purchase_motive": np.where(surveyed, np.array(MOTIVES, dtype=object)[_pick_by_group(rng, group, MOTIVE)],
                                    NULL),
        "lifestyle": np.where(surveyed, np.array(LIFESTYLES, dtype=object)[_pick_by_group(rng, group, LIFESTYLE)],
                              NULL),
        "satisfaction_tenths": np.where(has_satisfaction, satisfaction, -1).astype(np.int64),
        "company": np.where(b2b, company_names[company_of], NULL),
        "industry": industry,
        "employees": np.where(b2b, employees, -1),
        "annual_revenue": np.where(b2b, revenue_band, NULL),
        "phone_kind": phone_kind, "phone_digits": digits,
        "lifecycle_stage": lifecycle,
        "original_source": np.array(ORIGINAL_SOURCE, dtype=object)[acq],
        "marketing_consent": np.array(["Yes", "No", None], dtype=object)[c["consent"]],
        "unsubscribed": c["unsubscribed"],
        "can_email": c["can_email"],
        "backlog": c["backlog"],
    }).with_columns(
        _ts("created_at", created, period.start),
        _ts("modified_at", modified, period.start),
        *[pl.when(pl.col(name) >= 0).then(pl.col(name)).alias(name)
          for name in ("birth_year", "satisfaction_tenths", "employees")],
    )
    # e-mail: first.last@domain, a running number for the second and later namesakes
    local = _ascii(pl.col("first_name") + pl.lit(".") + pl.col("last_name"))
    frame = frame.with_columns(local.alias("_local")).with_columns(
        pl.int_range(pl.len()).over(["_local", "domain"]).alias("_dup")
    ).with_columns(
        (pl.col("_local") + pl.when(pl.col("_dup") > 0).then(pl.col("_dup").cast(pl.Utf8)).otherwise(pl.lit(""))
         + pl.lit("@") + _ascii(pl.col("domain"))).alias("email"),
    )
    phone = pl.col("phone_digits").cast(pl.Utf8).str.zfill(8)
    frame = frame.with_columns(
        pl.when(pl.col("phone_kind") == 0)
        .then(pl.lit("04") + phone.str.slice(0, 1) + pl.lit(" ") + phone.str.slice(1, 3) + pl.lit(" ")
              + phone.str.slice(4, 4))
        .when(pl.col("phone_kind") == 1)
        .then(pl.lit("+46 70 ") + phone.str.slice(0, 3) + pl.lit(" ") + phone.str.slice(3, 2) + pl.lit(" ")
              + phone.str.slice(5, 2))
        .when(pl.col("phone_kind") == 2)
        .then(pl.lit("+49 151 ") + phone)
        .when(pl.col("phone_kind") == 3)
        .then(pl.lit("+1 212 555 ") + phone.str.slice(0, 4))
        .otherwise(None)
        .alias("phone"),
        pl.col("created_at").dt.date().clip(lower_bound=period.start).alias("file_day"),
    )
    record_ids = _ids(rng, n, 51_000_000, 40)
    order = frame.select(pl.col("created_at").rank("ordinal").cast(pl.Int64) - 1).to_series().to_numpy()
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return frame.with_columns(
        pl.Series("record_id", record_ids[order]).cast(pl.Utf8),
        pl.Series("stripe_customer_id", np.char.add("cus_", _random_codes(rng, n, 14, alnum))),
        pl.Series("erp_customer_no", np.char.zfill((12000 + order * 3).astype(str), 7)),
    ).drop(
        "_local", "_dup", "phone_kind", "phone_digits", "domain"
    )


# ---------------------------------------------------------------------------------------------
# journeys and touchpoints


@dataclass
class Journeys:
    """Per contact: the buying journey, what the contact was exposed to, and whether it converted."""

    active: np.ndarray
    t0: np.ndarray
    t_end: np.ndarray
    exposed: np.ndarray               # (n, len(CHANNELS)) bool
    soc_click: np.ndarray
    li_click: np.ndarray
    visited: np.ndarray
    p: np.ndarray
    converts: np.ndarray
    has_deal: np.ndarray
    t_deal: np.ndarray


def _journeys(rng: np.random.Generator, period: Period, c: dict[str, np.ndarray]) -> Journeys:
    """Draw each contact's journey, channel exposures and conversion from the causal model."""
    n = len(c["group"])
    group, old, created = c["group"], c["old"], c["created"]
    active = ~old | (rng.random(n) < OLD_ACTIVE)
    t0 = np.where(old, np.maximum(created, rng.uniform(-45, max(period.days - 10, 1), n)), created)
    mean_days = np.where(c["launch_acquired"], LAUNCH_JOURNEY_MEAN_DAYS, JOURNEY_MEAN_DAYS[group])
    length = rng.gamma(2.5, mean_days / 2.5)
    t_end = t0 + np.maximum(length, 0.2)
    exposed = rng.random((n, len(CHANNELS))) < EXPOSURE[group]
    exposed[:, EMAIL] &= c["can_email"]
    acq = c["acquisition"]
    acquired_now = ~old & (acq != OFFLINE)
    exposed[np.nonzero(acquired_now)[0], acq[acquired_now]] = True
    soc_click = rng.random(n) < 0.55
    li_click = rng.random(n) < 0.6
    visit_channels = exposed[:, [PS, ORG, REF, DIRECT]].any(axis=1)
    acquired_by_visit = acquired_now & np.isin(acq, [PS, SOC, LI, EMAIL, ORG, REF, DIRECT])
    visited = active & (visit_channels | (exposed[:, SOC] & soc_click) | (exposed[:, LI] & li_click)
                        | acquired_by_visit)
    exposed[:, RTG] = visited & (rng.random(n) < RETARGET_SHARE)
    exposed &= active[:, None]
    multiplier = np.prod(1 + LIFT[None, :] * exposed, axis=1)
    p = np.minimum(MAX_CONVERSION, BASE_CONVERSION[group] * multiplier * np.where(c["launch_acquired"],
                                                                                  LAUNCH_BOOST, 1.0))
    converts = active & (rng.random(n) < p)
    # the launch offer pulls decisions due in the two weeks after it into the launch window
    due_soon = (group != B2B) & (t_end >= period.launch_end) & (t_end < period.launch_end + 14)
    pulled = due_soon & (rng.random(n) < LAUNCH_PULL_FORWARD) & (t0 < period.launch_end - 1)
    in_window = np.maximum(period.launch_start, t0 + 0.5) + rng.random(n) * (
        period.launch_end - np.maximum(period.launch_start, t0 + 0.5))
    t_end = np.where(pulled, np.minimum(t_end, in_window), t_end)
    has_deal = (group == B2B) & active & (converts | (rng.random(n) < 0.55))
    t_deal = t0 + 0.25 * (t_end - t0)
    return Journeys(active, t0, t_end, exposed, soc_click, li_click, visited, p, converts, has_deal, t_deal)


def _spread(rng: np.random.Generator, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Contact index and a uniform time in [lo, hi) for every event of ``counts`` per contact."""
    idx = np.repeat(np.arange(len(counts)), counts)
    return idx, lo[idx] + rng.random(len(idx)) * (hi[idx] - lo[idx])


TOUCH_TYPES: tuple[str, ...] = ("impression", "click", "email_open", "email_click", "webinar", "trial",
                                "demo_request", "pricing_visit", "visit")
TT = {name: i for i, name in enumerate(TOUCH_TYPES)}


def _journey_events(rng: np.random.Generator, c: dict[str, np.ndarray], j: Journeys
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every touch of the journeys except retargeting: (contact, time, channel, touch type) arrays."""
    n = len(c["group"])
    group = c["group"]
    parts: list[tuple[np.ndarray, np.ndarray, int | np.ndarray, int]] = []
    lo, hi = j.t0, j.t_end - 1e-4
    length = j.t_end - j.t0

    def add(counts: np.ndarray, channel: int | np.ndarray, touch: int,
            lo_: np.ndarray = lo, hi_: np.ndarray = hi) -> None:
        idx, t = _spread(rng, counts.astype(np.int64), lo_, hi_)
        ch = channel if isinstance(channel, int) else channel[idx]
        parts.append((idx, t, ch, touch))

    # the acquisition touch, just before the contact was created (same day)
    acq = c["acquisition"]
    acquired_now = (~c["old"]) & (acq != OFFLINE)
    acq_type = np.select([np.isin(acq, [PS, SOC, LI]), acq == EMAIL, acq == WEBINAR],
                         [TT["click"], TT["email_click"], TT["webinar"]], TT["visit"])
    idx = np.nonzero(acquired_now)[0]
    created = c["created"][idx]
    day_start = np.floor(created)
    t_acq = created - rng.uniform(0.0005, 0.01, len(idx))
    t_acq = np.where(t_acq < day_start, day_start + (created - day_start) * rng.random(len(idx)), t_acq)
    for touch in np.unique(acq_type[idx]):
        sel = acq_type[idx] == touch
        parts.append((idx[sel], t_acq[sel], acq[idx][sel], int(touch)))

    e = j.exposed
    add(e[:, PS] * (1 + rng.poisson(0.7, n)), PS, TT["click"])
    # many search again (brand terms) just before they buy
    add(e[:, PS] * j.converts * (rng.random(n) < 0.6), PS, TT["click"], lo + 0.85 * length, hi)
    add(e[:, SOC] * (1 + rng.poisson(1.0, n)), SOC, TT["impression"])
    add(e[:, SOC] * j.soc_click * (1 + rng.poisson(0.3, n)), SOC, TT["click"])
    add(e[:, LI] * (1 + rng.poisson(1.5, n)), LI, TT["impression"])
    add(e[:, LI] * j.li_click * (1 + rng.poisson(0.4, n)), LI, TT["click"])
    add(e[:, EMAIL] * (1 + rng.poisson(length / 10)), EMAIL, TT["email_open"])
    add(e[:, EMAIL] * rng.poisson(0.6, n), EMAIL, TT["email_click"])
    add(e[:, WEBINAR] * (1 + rng.poisson(0.5, n)), WEBINAR, TT["webinar"])
    add(e[:, ORG] * (1 + rng.poisson(0.6, n)), ORG, TT["visit"])
    add(e[:, REF].astype(np.int64), REF, TT["visit"])
    add(e[:, DIRECT] * (1 + rng.poisson(0.8, n)), DIRECT, TT["visit"])
    pricing = j.visited & (rng.random(n) < np.array([0.5, 0.5, 0.3, 0.5])[group])
    pricing_channel = np.where(rng.random(n) < 0.4, ORG, DIRECT)
    add(pricing * (1 + rng.poisson(0.4, n)), pricing_channel, TT["pricing_visit"], lo + 0.4 * length, hi)
    trial = (group == TECH) & j.active & (rng.random(n) < 0.3)
    add(trial.astype(np.int64), DIRECT, TT["trial"], lo + 0.55 * length, lo + 0.65 * length)
    add(j.has_deal.astype(np.int64), DIRECT, TT["demo_request"], j.t_deal, j.t_deal + 1e-4)

    idx_all = np.concatenate([p[0] for p in parts])
    t_all = np.concatenate([p[1] for p in parts])
    ch_all = np.concatenate([np.broadcast_to(np.asarray(p[2]), p[0].shape) for p in parts])
    tt_all = np.concatenate([np.full(p[0].shape, p[3]) for p in parts])
    return idx_all, t_all, ch_all.astype(np.int64), tt_all.astype(np.int64)


def _retargeting_events(rng: np.random.Generator, j: Journeys, idx: np.ndarray, t: np.ndarray,
                        tt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AdRoll impressions and clicks of retargeted contacts, after their first site visit."""
    n = len(j.active)
    site = np.isin(tt, [TT["click"], TT["visit"], TT["pricing_visit"], TT["email_click"]])
    first_visit = np.full(n, np.inf)
    np.minimum.at(first_visit, idx[site], t[site])
    retargeted = j.exposed[:, RTG] & np.isfinite(first_visit)
    lo = np.where(retargeted, first_visit + 0.01, 0.0)
    hi = np.where(retargeted, np.maximum(j.t_end - 1e-4, lo), 0.0)
    parts_idx, parts_t, parts_tt = [], [], []
    for counts, touch in ((retargeted * (1 + rng.poisson(2.0, n)), TT["impression"]),
                          (retargeted * rng.poisson(0.35, n), TT["click"])):
        i, tm = _spread(rng, counts.astype(np.int64), lo, hi)
        parts_idx.append(i)
        parts_t.append(tm)
        parts_tt.append(np.full(len(i), touch))
    return np.concatenate(parts_idx), np.concatenate(parts_t), np.concatenate(parts_tt)


def _assign_campaigns(rng: np.random.Generator, campaigns: tuple[Campaign, ...], period: Period,
                      idx: np.ndarray, t: np.ndarray, ch: np.ndarray, group: np.ndarray,
                      force_launch: np.ndarray) -> np.ndarray:
    """Campaign index (into ``campaigns``) of every paid touch, -1 for unpaid touches.

    A campaign is eligible on the days it runs; among the eligible ones of the touch's platform the
    pick is weighted by the contact's group. ``force_launch`` touches go to the launch campaign.
    """
    result = np.full(len(idx), -1, dtype=np.int64)
    day = np.floor(t)
    in_launch = (day >= period.launch_start) & (day < period.launch_end)
    for channel, platform in PLATFORM_OF_CHANNEL.items():
        rows = np.nonzero(ch == channel)[0]
        if len(rows) == 0:
            continue
        members = [k for k, camp in enumerate(campaigns) if camp.platform == platform]
        weights = np.array([campaigns[k].group_weight for k in members])[:, group[idx[rows]]].T  # (rows, camps)
        launch = np.array([campaigns[k].launch for k in members])
        weights = np.where(launch[None, :] & ~in_launch[rows, None], 0.0, weights)
        forced = force_launch[rows] & in_launch[rows]
        weights = np.where(forced[:, None], np.where(launch[None, :], 1.0, 0.0), weights)
        if not launch.any():
            weights = np.where(forced[:, None], 1.0, weights)
        empty = weights.sum(axis=1, keepdims=True) <= 0
        result[rows] = np.array(members)[_pick(rng, np.where(empty, 1.0, weights))]
    return result


# ---------------------------------------------------------------------------------------------
# orders


def _fx(rng: np.random.Generator, period: Period) -> pl.DataFrame:
    """Monthly EUR-per-unit rates for USD and SEK, valid from the first day of each month."""
    months = _months(period)
    usd = np.round(0.92 * (1 + rng.normal(0, 0.01, len(months))), 4)
    sek = np.round(0.087 * (1 + rng.normal(0, 0.01, len(months))), 5)
    return pl.DataFrame({
        "date": months * 2,
        "currency": ["USD"] * len(months) + ["SEK"] * len(months),
        "eur_per_unit": np.concatenate([usd, sek]),
    })


def _months(period: Period) -> list[date]:
    """First days of the calendar months the period touches."""
    months = []
    cursor = period.start.replace(day=1)
    while cursor <= period.end:
        months.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def _month_index(period: Period, t: np.ndarray) -> np.ndarray:
    """Index into ``_months(period)`` of each virtual time inside the period."""
    months = _months(period)
    bounds = np.array([(m - period.start).days for m in months[1:]])
    return np.searchsorted(bounds, np.floor(t), side="right")


def _orders(rng: np.random.Generator, period: Period, c: dict[str, np.ndarray], j: Journeys,
            fx: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Orders of all three systems, Shopify line items and the deal stage history."""
    n = len(c["group"])
    group, days = c["group"], period.days
    decided = j.converts & (j.t_end < days)
    # first orders of consumers at the end of their journey
    first_idx = np.nonzero(decided & (group != B2B))[0]
    first_t = j.t_end[first_idx] + rng.uniform(0, 0.002, len(first_idx))
    # repeat orders: prior customers, and new converters two weeks after their first order
    prior_begin = np.maximum(c["created"], 0.0)
    prior_n = np.where(c["prior_customer"], rng.poisson(REPEAT_RATE_PRIOR[group] * np.maximum(days - prior_begin,
                                                                                              0)), 0)
    new_begin = np.where(decided, j.t_end + 14, days)
    new_n = np.where(decided & (group != B2B), rng.poisson(REPEAT_RATE_NEW[group] * np.maximum(days - new_begin,
                                                                                               0)), 0)
    rep_idx_a, rep_t_a = _spread(rng, prior_n, prior_begin, np.full(n, float(days)))
    rep_idx_b, rep_t_b = _spread(rng, new_n, np.minimum(new_begin, days), np.full(n, float(days)))
    # B2B: a deal per engaged account contact; won deals are paid through Stripe, some in two instalments
    deal_idx = np.nonzero(j.has_deal)[0]
    usd = c["country"] == COUNTRIES.index("United States")
    deal_amount = np.round(np.clip(np.exp(rng.normal(math.log(36000), 0.4, len(deal_idx))), 20000, 80000), -3)
    won = j.converts[deal_idx]
    final_amount = np.round(deal_amount * rng.uniform(0.9, 1.02, len(deal_idx)), -2)
    instalments = np.where(rng.random(len(deal_idx)) < 0.4, 2, 1)
    won_idx = np.nonzero(won)[0]
    pay_first_t = j.t_end[deal_idx[won_idx]] + rng.uniform(1, 10, len(won_idx))
    pay_rows = np.repeat(won_idx, instalments[won_idx])
    pay_no = _position_in_run(instalments[won_idx])
    pay_t = np.repeat(pay_first_t, instalments[won_idx]) + 30 * pay_no
    pay_amount = np.where(instalments[pay_rows] == 2,
                          np.where(pay_no == 0, np.round(final_amount[pay_rows] / 2, -2),
                                   final_amount[pay_rows] - np.round(final_amount[pay_rows] / 2, -2)),
                          final_amount[pay_rows])

    kinds = ("first", "repeat", "deal")
    contact = np.concatenate([first_idx, rep_idx_a, rep_idx_b, deal_idx[pay_rows]])
    t = np.concatenate([first_t, rep_t_a, rep_t_b, pay_t])
    kind = np.concatenate([np.zeros(len(first_idx), int), np.ones(len(rep_idx_a) + len(rep_idx_b), int),
                           np.full(len(pay_rows), 2)])
    deal_of = np.concatenate([np.full(len(first_idx) + len(rep_idx_a) + len(rep_idx_b), -1), pay_rows])
    deal_pay = np.concatenate([np.zeros(len(contact) - len(pay_rows)), pay_amount])
    keep = (t >= 0) & (t < days)
    contact, t, kind, deal_of, deal_pay = contact[keep], t[keep], kind[keep], deal_of[keep], deal_pay[keep]
    order_rank = np.lexsort((contact, t))
    contact, t, kind, deal_of, deal_pay = (a[order_rank] for a in (contact, t, kind, deal_of, deal_pay))
    m = len(contact)
    g = group[contact]

    # system, category and currency
    system = np.where(g == B2B, 1, np.where(g == PRICE, 0, np.where(
        g == LUXURY, np.where(rng.random(m) < 0.45, 2, 0), np.where(rng.random(m) < 0.4, 1, 0))))
    shop_cat = _pick_by_group(rng, g, SHOP_CATEGORY)
    erp_cat = _pick_by_group(rng, g, ERP_CATEGORY)
    category = np.where(system == 0, shop_cat, np.where(system == 2, erp_cat, 3))
    country = c["country"][contact]
    sweden, us = country == COUNTRIES.index("Sweden"), country == COUNTRIES.index("United States")
    currency = np.where((system == 0) & sweden, "SEK", np.where((system == 1) & us, "USD", "EUR"))
    month = _month_index(period, t)
    fx_usd = fx.filter(pl.col("currency") == "USD")["eur_per_unit"].to_numpy()
    fx_sek = fx.filter(pl.col("currency") == "SEK")["eur_per_unit"].to_numpy()
    rate = np.where(currency == "USD", fx_usd[month], np.where(currency == "SEK", fx_sek[month], 1.0))

    # products: up to three Shopify lines of the order's category, one or two ERP items, one Stripe item
    prod_cat = np.array([CATEGORIES.index(p.category) for p in CATALOGUE])
    prod_weight = np.array([p.group_weight for p in CATALOGUE]).T   # (group, product)
    prod_price = np.array([p.price_eur for p in CATALOGUE], dtype=float)
    lines_n = np.where(system == 0, _pick(rng, np.where((g == PRICE)[:, None], [0.9, 0.09, 0.01],
                                                         [0.72, 0.2, 0.08])) + 1,
                       np.where(system == 2, _pick(rng, np.tile([0.8, 0.2], (m, 1))) + 1, 1))
    line_order = np.repeat(np.arange(m), lines_n)
    weights = prod_weight[g[line_order]] * (prod_cat[None, :] == category[line_order][:, None])
    weights = np.where(weights.sum(axis=1, keepdims=True) > 0, weights,
                       (prod_cat[None, :] == category[line_order][:, None]).astype(float))
    product = _pick(rng, weights)
    quantity = np.where((prod_price[product] < 1000) & (rng.random(len(product)) < 0.08), 2, 1)
    lines = _frame({"order_pos": line_order, "product": product, "quantity": quantity}).group_by(
        ["order_pos", "product"], maintain_order=True).agg(pl.col("quantity").sum())
    line_order = lines["order_pos"].to_numpy()
    product = lines["product"].to_numpy()
    quantity = lines["quantity"].to_numpy()
    # unit prices in the order's currency: SEK rounded to 10 kronor, USD to whole dollars
    native_unit = np.where(currency[line_order] == "SEK", np.round(prod_price[product] / rate[line_order], -1),
                           np.where(currency[line_order] == "USD",
                                    np.round(prod_price[product] / rate[line_order]), prod_price[product]))
    unit_cents = (native_unit * 100).astype(np.int64)
    lines_cents = np.bincount(line_order, weights=unit_cents * quantity, minlength=m).astype(np.int64)
    # B2B deal payments are the invoiced instalment, in the deal's currency (USD for US accounts)
    lines_cents = np.where(kind == 2, np.round(deal_pay * 100).astype(np.int64), lines_cents)

    # discounts: price-sensitive buyers use codes (the launch code during the launch), a few VIP codes
    in_launch = (np.floor(t) >= period.launch_start) & (np.floor(t) < period.launch_end)
    launch_code = discount_code(period.launch_label)
    code_pct = np.where(system == 0, np.select(
        [(g == PRICE) & in_launch & (rng.random(m) < 0.9), (g == PRICE) & (rng.random(m) < 0.65),
         in_launch & (rng.random(m) < 0.5), rng.random(m) < 0.04],
        [15 if launch_code.endswith("15") else 20, 10, 15 if launch_code.endswith("15") else 20, 5], 0), 0)
    code = np.select([code_pct == 10, code_pct == 5, code_pct > 10], ["WELCOME10", "VIP5", launch_code], "")
    erp_discount = (system == 2) & (rng.random(m) < 0.3)
    discount_cents = np.where(system == 0, np.round(lines_cents * code_pct / 100),
                              np.where(erp_discount, np.round(lines_cents * rng.uniform(0.03, 0.08, m), -3), 0)
                              ).astype(np.int64)
    subtotal_cents = lines_cents - discount_cents
    subtotal_eur = subtotal_cents / 100 * rate
    free_shipping = (category == CATEGORIES.index("travel")) | (subtotal_eur >= 1000)
    shipping_cents = np.where((system == 0) & ~free_shipping, np.where(currency == "SEK", 22900, 1990), 0)
    vat = np.array([VAT[name] for name in COUNTRIES])[country]
    tax_cents = np.where(system == 0, np.round((subtotal_cents + shipping_cents) * vat), 0).astype(np.int64)
    total_cents = subtotal_cents + shipping_cents + tax_cents

    # statuses: 0 paid, 1 pending, 2 refunded, 3 partially refunded, 4 cancelled / voided / failed
    status = np.where(system == 0, _pick(rng, np.tile([0.93, 0.02, 0.02, 0.015, 0.015], (m, 1))),
                      np.where(system == 1, _pick(rng, np.tile([0.94, 0.0, 0.02, 0.01, 0.03], (m, 1))),
                               _pick(rng, np.tile([0.94, 0.02, 0.015, 0.01, 0.015], (m, 1)))))
    status = np.where(kind == 2, 0, status)
    charged = np.where(system == 0, total_cents, subtotal_cents)
    refund_cents = np.select([status == 2, status == 3],
                             [charged, np.round(charged * rng.uniform(0.1, 0.4, m), -2)], 0).astype(np.int64)
    revenue_share = np.where(np.isin(status, [0, 3]), 1 - refund_cents / np.maximum(charged, 1), 0.0)
    net_eur = np.round(subtotal_eur * revenue_share, 2)
    is_first = np.zeros(m, bool)
    _, first_pos = np.unique(contact, return_index=True)
    is_first[first_pos] = True

    sys_names = np.array([SHOPIFY, STRIPE, ERP])[system]
    shop_no = np.cumsum(system == 0) - 1
    erp_no = np.cumsum(system == 2) - 1
    paid_delay = rng.uniform(0.0002, 0.004, m)
    fee_cents = np.where((system == 1) & (status != 4), np.round(subtotal_cents * 0.015 + 25), 0).astype(np.int64)
    stripe_charge = _random_codes(rng, m, 23, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    programmes = np.array(DEAL_PROGRAMMES, dtype=object)[rng.integers(0, len(DEAL_PROGRAMMES), len(deal_idx))]
    first_line = np.searchsorted(line_order, np.arange(m))
    product_name = np.array([p.name for p in CATALOGUE], dtype=object)[product[first_line]] if m else np.zeros(0,
                                                                                                              object)
    deal_programme = np.where(deal_of >= 0, programmes[np.maximum(deal_of, 0)] if len(deal_idx) else NULL, NULL)
    orders = _frame({
        "order_pos": np.arange(m),
        "contact_idx": contact,
        "kind": np.array(kinds)[kind],
        "source_system": sys_names,
        "category": np.array(CATEGORIES)[category],
        "currency": currency,
        "lines_cents": lines_cents,
        "discount_code": np.where(code == "", NULL, code).astype(object),
        "discount_cents": discount_cents,
        "subtotal_cents": subtotal_cents,
        "shipping_cents": shipping_cents,
        "tax_cents": tax_cents,
        "total_cents": total_cents,
        "refund_cents": refund_cents,
        "fee_cents": fee_cents,
        "status": np.array(["paid", "pending", "refunded", "partially_refunded", "cancelled"])[status],
        "net_eur": net_eur,
        "value_eur": np.round(subtotal_eur, 2),
        "is_first": is_first,
        "in_launch": in_launch,
        "shop_no": 1001 + shop_no,
        "erp_no": 451 + erp_no,
        "stripe_id": np.char.add("ch_3", stripe_charge),
        "product_name": product_name,
        "deal_pos": deal_of,
        "deal_programme": deal_programme,
        "t_virtual": t,
    }).with_columns(
        pl.format("#{}", pl.col("shop_no")).alias("shopify_name"),
        pl.col("erp_no").cast(pl.Utf8).str.zfill(6).alias("erp_number"),
        _ts("ordered_at", t, period.start),
        _ts("paid_at", t + paid_delay, period.start),
        pl.Series("shopify_id", _ids(rng, m, 5_602_345_678_901, 90_000)).cast(pl.Utf8),
    ).with_columns(pl.col("ordered_at").dt.date().alias("day"))

    order_lines = _frame({
        "order_pos": line_order,
        "sku": np.array([p.sku for p in CATALOGUE])[product],
        "name": np.array([p.name for p in CATALOGUE])[product],
        "quantity": quantity,
        "unit_cents": unit_cents,
    }).join(orders.select("order_pos", "source_system"), on="order_pos", how="left", maintain_order="left").filter(
        pl.col("source_system") == SHOPIFY).drop("source_system")

    close_month = _month_index(period, np.clip(j.t_end[deal_idx], 0, days - 1))
    usd_rate = np.where(usd[deal_idx], fx_usd[close_month] if len(deal_idx) else 1.0, 1.0)
    deals = _deal_history(rng, period, j, deal_idx, programmes, deal_amount, final_amount, usd, usd_rate)
    return orders, order_lines, deals


def _deal_history(rng: np.random.Generator, period: Period, j: Journeys, deal_idx: np.ndarray,
                  programmes: np.ndarray, amount: np.ndarray, final_amount: np.ndarray, usd: np.ndarray,
                  usd_rate: np.ndarray) -> pl.DataFrame:
    """One row per deal and stage change: open stages between creation and close, then won or lost."""
    k = len(deal_idx)
    won = j.converts[deal_idx]
    reached = np.where(won, 5, rng.integers(1, 6, k))        # open stages the deal passes through
    t_create = j.t_deal[deal_idx]
    t_close = j.t_end[deal_idx]
    rows = np.repeat(np.arange(k), reached + 1)
    step = _position_in_run(reached + 1)
    final = step == reached[rows]
    stage = np.where(final, np.where(won[rows], 5, 6), step)
    t_change = np.where(final, t_close[rows], t_create[rows] + (t_close[rows] - t_create[rows]) * step
                        / (reached[rows] + 1))
    expected_close = np.floor(t_close + rng.uniform(-5, 10, k))
    deal_ids = _ids(rng, k, 9_876_500_000, 5000)
    frame = _frame({
        "deal_pos": rows,
        "contact_idx": deal_idx[rows],
        "deal_id": deal_ids[rows].astype(str),
        "programme": programmes[rows] if k else np.zeros(0, object),
        "stage": np.array(DEAL_STAGES)[stage],
        "is_closed": final,
        "amount": np.where(stage == 5, final_amount[rows], amount[rows]),
        "amount_eur": np.round(np.where(stage == 5, final_amount[rows], amount[rows]) * usd_rate[rows], 2),
        "currency": np.where(usd[deal_idx[rows]], "USD", "EUR"),
        "owner": np.array(DEAL_OWNERS)[deal_ids[rows] % len(DEAL_OWNERS)],
    }).with_columns(
        _ts("created_at", t_create[rows], period.start),
        _ts("changed_at", t_change, period.start),
        _ts("close_at", np.where(final, t_close[rows], expected_close[rows] + 0.7), period.start),
    )
    return (
        frame.filter((pl.col("changed_at").dt.date() >= period.start)
                     & (pl.col("changed_at").dt.date() <= period.end))
        .with_columns(pl.col("changed_at").dt.date().alias("day"))
        .sort("deal_pos", "changed_at", maintain_order=True)
        .unique(["deal_pos", "day"], keep="last", maintain_order=True)
        .sort("day", "deal_id", maintain_order=True)
    )


# ---------------------------------------------------------------------------------------------
# ad platforms


def _platform_claims(orders: pl.DataFrame, touches: pl.DataFrame, campaigns: tuple[Campaign, ...],
                     period: Period) -> pl.DataFrame:
    """Conversions each platform claims: (campaign index, day, credit, value_eur, kind) per claim.

    Google credits every click in the 30 days before the order equally (fractional, like data-driven
    attribution); Meta takes the last click in 7 days or impression in 1 day, LinkedIn the last click
    in 30 or impression in 7 days, AdRoll the last click in 30 days (click-through) or else the last
    impression in 7 days (view-through). Conversions are reported on the order's day, for campaigns
    that still run that day.
    """
    paid = touches.filter(pl.col("campaign_pos") >= 0).select(
        "contact_idx", pl.col("ts").alias("touch_ts"), "platform", "campaign_pos", "touch_type")
    joined = (
        orders.filter(pl.col("status") != "cancelled")
        .select("order_pos", "contact_idx", "ordered_at", "value_eur", "day")
        .join(paid, on="contact_idx", how="inner")
        .with_columns(((pl.col("ordered_at") - pl.col("touch_ts")).dt.total_seconds() / 86400).alias("age"))
        .filter(pl.col("age") > 0)
    )
    is_click = pl.col("touch_type") == "click"
    window = (
        pl.when(pl.col("platform") == "google_ads").then(pl.when(is_click).then(30.0).otherwise(-1.0))
        .when(pl.col("platform") == "meta_ads").then(pl.when(is_click).then(7.0).otherwise(1.0))
        .when(pl.col("platform") == "linkedin_ads").then(pl.when(is_click).then(30.0).otherwise(7.0))
        .otherwise(pl.when(is_click).then(30.0).otherwise(7.0))
    )
    eligible = joined.filter(pl.col("age") <= window).sort("order_pos", "platform", "touch_ts", "campaign_pos",
                                                               maintain_order=True)
    google = eligible.filter(pl.col("platform") == "google_ads").with_columns(
        (1.0 / pl.len().over("order_pos")).alias("credit"), pl.lit("click").alias("claim"))
    last = (
        eligible.filter(pl.col("platform") != "google_ads")
        .with_columns(is_click.any().over("order_pos", "platform").alias("_any_click"))
        .filter(~pl.col("_any_click") | is_click)
        .group_by("order_pos", "platform", maintain_order=True).last()
        .with_columns(pl.lit(1.0).alias("credit"),
                      pl.when(is_click).then(pl.lit("click")).otherwise(pl.lit("view")).alias("claim"))
        .drop("_any_click")
    )
    claims = pl.concat([google, last], how="diagonal").select(
        "campaign_pos", "day", "credit", (pl.col("credit") * pl.col("value_eur")).alias("value"), "claim"
    ).with_columns(((pl.col("day") - pl.lit(period.start)).dt.total_days()).alias("day_pos"))
    launch = np.array([camp.launch for camp in campaigns])
    running = (~launch[claims["campaign_pos"].to_numpy()]) | (
        (claims["day_pos"].to_numpy() >= period.launch_start) & (claims["day_pos"].to_numpy() < period.launch_end))
    return claims.filter(pl.Series(running))


def _ad_daily(rng: np.random.Generator, period: Period, campaigns: tuple[Campaign, ...], scale: float,
              touches: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """One row per campaign and day it ran: spend, impressions, clicks, leads and claimed conversions."""
    k, days = len(campaigns), period.days
    launch = np.array([camp.launch for camp in campaigns])
    day = np.arange(days)
    running = ~launch[:, None] | ((day >= period.launch_start) & (day < period.launch_end))[None, :]
    weekday = np.array([(period.day(int(d)).weekday()) for d in day])
    weekend = weekday >= 5
    dow = {"google_ads": np.where(weekend, 0.87, 1.05), "meta_ads": np.where(weekend, 1.1, 0.96),
           "linkedin_ads": np.where(weekend, 0.7, 1.08), "adroll": np.ones(days)}
    base = np.array([camp.daily_spend_eur for camp in campaigns])
    factor = np.stack([dow[camp.platform] for camp in campaigns])
    spend = base[:, None] * scale * factor * np.exp(rng.normal(0, 0.12, (k, days)))
    spend_cents = np.round(spend * 100).astype(np.int64)

    def per_cell(frame: pl.DataFrame, weight: str | None = None) -> np.ndarray:
        flat = frame["campaign_pos"].to_numpy() * days + frame["day_pos"].to_numpy()
        w = None if weight is None else frame[weight].to_numpy()
        return np.bincount(flat, weights=w, minlength=k * days).reshape(k, days)

    paid = touches.filter(pl.col("campaign_pos") >= 0).with_columns(
        (pl.col("day") - pl.lit(period.start)).dt.total_days().alias("day_pos"))
    known_clicks = per_cell(paid.filter(pl.col("touch_type") == "click")).astype(np.int64)
    known_impr = per_cell(paid.filter(pl.col("touch_type") == "impression")).astype(np.int64)
    cpc = np.array([camp.cpc_eur for camp in campaigns])[:, None] * np.exp(rng.normal(0, 0.1, (k, days)))
    clicks = np.maximum(np.round(spend / cpc).astype(np.int64), known_clicks)
    ctr = np.array([camp.ctr for camp in campaigns])[:, None] * np.exp(rng.normal(0, 0.1, (k, days)))
    impressions = np.maximum(np.round(clicks / ctr).astype(np.int64), known_impr + clicks)
    reach = np.minimum(impressions, np.round(impressions / rng.uniform(1.2, 1.9, (k, days)))).astype(np.int64)
    leads = per_cell(
        paid.filter(pl.col("is_acquisition") & (pl.col("platform") == "linkedin_ads"))).astype(np.int64)
    conv = per_cell(claims, "credit")
    conv_click = per_cell(claims.filter(pl.col("claim") == "click"), "credit")
    value = per_cell(claims, "value")
    cells = np.nonzero(running.reshape(-1))[0]
    camp_pos, day_pos = cells // days, cells % days
    return _frame({
        "campaign_pos": camp_pos,
        "day_pos": day_pos,
        "platform": np.array([camp.platform for camp in campaigns])[camp_pos],
        "campaign_id": np.array([camp.campaign_id for camp in campaigns])[camp_pos],
        "campaign_name": np.array([camp.name for camp in campaigns])[camp_pos],
        "campaign_type": np.array([camp.campaign_type for camp in campaigns])[camp_pos],
        "objective": np.array([camp.objective for camp in campaigns])[camp_pos],
        "spend_cents": spend_cents.reshape(-1)[cells],
        "impressions": impressions.reshape(-1)[cells],
        "reach": reach.reshape(-1)[cells],
        "clicks": clicks.reshape(-1)[cells],
        "leads": leads.reshape(-1)[cells],
        "conversions": conv.reshape(-1)[cells],
        "click_conversions": conv_click.reshape(-1)[cells],
        "conversion_value_eur": value.reshape(-1)[cells],
    }).with_columns(
        (pl.lit(period.start) + pl.duration(days=pl.col("day_pos"))).alias("day"),
    ).sort("day", "platform", "campaign_id")


GOOGLE_MATURITY = (0.88, 0.96, 1.0)   # share of a day's final conversions reported 0, 1 and 2 days later


def _google_exports(period: Period, ad_daily: pl.DataFrame) -> pl.DataFrame:
    """Each Google export day D with the days D-2..D it covers, conversions restated upward."""
    google = ad_daily.filter(pl.col("platform") == "google_ads")
    lagged = [
        google.with_columns(
            (pl.col("day_pos") + lag).alias("export_pos"),
            (pl.col("conversions") * GOOGLE_MATURITY[lag] * 100).round(0).cast(pl.Int64).alias("conv_hundredths"),
            (pl.col("conversion_value_eur") * GOOGLE_MATURITY[lag] * 100).round(0).cast(pl.Int64).alias(
                "value_cents"),
        )
        for lag in range(3)
    ]
    return (
        pl.concat(lagged)
        .filter(pl.col("export_pos") < period.days)
        .with_columns((pl.lit(period.start) + pl.duration(days=pl.col("export_pos"))).alias("export_day"))
        .sort("export_day", "day", "campaign_id")
    )


# ---------------------------------------------------------------------------------------------
# plan files


def _month_end(month: date) -> date:
    """The last day of the month that starts on ``month``."""
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _pacing_status(actual: float, target: float, elapsed_days: int, period_days: int) -> str:
    """The status ``build_goal_tracking`` gives an additive goal (first match of its rules wins)."""
    if target <= 0:
        return "insufficient_data"
    if actual >= target:
        return "achieved"
    if elapsed_days >= period_days:
        return "missed"
    attainment = actual / (target * elapsed_days / period_days) * 100  # actual / expected to date
    return "on_track" if attainment >= 99 else "at_risk" if attainment >= 85 else "off_track"


def _goals(period: Period, orders: pl.DataFrame, contacts: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The business's SMART goals, set so that at the end of the demo some are met and some are not.

    Returns the goals and the status each one should have in ``mart_goal_tracking`` as of the last
    demo day (revenue measured as net revenue of paid and partially refunded orders).
    """
    start, end, days = period.start, period.end, period.days
    revenue_orders = orders.filter(pl.col("status").is_in(["paid", "partially_refunded"]))

    def revenue(lo: date, hi: date) -> float:
        return float(revenue_orders.filter(pl.col("day").is_between(lo, hi))["net_eur"].sum() or 0.0)

    def satisfaction(lo: date, hi: date) -> float | None:
        scores = contacts.filter(pl.col("created_at").dt.date().is_between(lo, hi))["satisfaction_tenths"]
        return None if scores.null_count() == scores.len() else float(scores.mean())  # type: ignore[arg-type]

    goals: list[dict[str, object]] = []
    expected: dict[str, str] = {}
    # G1: revenue of the last full calendar month, a target the business beats
    full = [m for m in _months(period) if m >= start and _month_end(m) <= end]
    month_start, month_end = (full[-1], _month_end(full[-1])) if full else (start, end)
    month_revenue = revenue(month_start, month_end)
    month_target = max(_nice(0.85 * month_revenue, down=True), 1000.0)
    goals.append({"goal_id": "G1", "description": f"Reach {month_target:,.0f} EUR revenue a month "
                  f"({MONTH_NAMES[month_start.month - 1]} {month_start.year})", "metric": "revenue",
                  "target": month_target, "target_kind": "absolute", "period_start": month_start,
                  "period_end": month_end, "owner": "CEO"})
    expected["G1"] = "achieved" if month_revenue >= month_target else "missed"
    # G2: sell 20 % more in the growth period than in the equally long period before it
    g_start, g_len = period.day(period.growth_start), days - period.growth_start
    b_start, b_end = g_start - timedelta(days=g_len), g_start - timedelta(days=1)
    baseline = revenue(b_start, b_end)
    growth_pct = (revenue(g_start, end) / baseline - 1) * 100 if baseline > 0 else 0.0
    growth_target = 20.0 if growth_pct >= 25 else max(5.0, 5 * math.floor(growth_pct * 0.8 / 5))
    goals.append({"goal_id": "G2", "description": f"Sell {growth_target:.0f}% more in the next {g_len} days than in "
                  f"the {g_len} days before", "metric": "sales_growth", "target": growth_target,
                  "target_kind": "pct_vs_baseline", "period_start": g_start, "period_end": end,
                  "baseline_start": b_start, "baseline_end": b_end, "owner": "Head of Sales"})
    expected["G2"] = ("insufficient_data" if baseline <= 0 else
                      "achieved" if growth_pct >= growth_target else "missed")
    # G3: grow customers 15 % in a year; the run rate so far is well behind (three quarters of pace)
    year_days = 365
    year_end = start + timedelta(days=year_days - 1)
    elapsed = min(days, year_days)
    customers = revenue_orders.filter(pl.col("day") <= year_end)["contact_idx"].n_unique()
    customers_target = max(_nice(customers * year_days / elapsed / 0.75), 10.0)
    goals.append({"goal_id": "G3", "description": f"Grow customers 15% in a year (from "
                  f"{_nice(customers_target / 1.15):,.0f} to {customers_target:,.0f})", "metric": "customers",
                  "target": customers_target, "target_kind": "absolute", "period_start": start,
                  "period_end": year_end, "owner": "CMO"})
    expected["G3"] = _pacing_status(customers, customers_target, elapsed, year_days)
    # G4: raise satisfaction 10 % over the same windows (the survey moves a few per cent only)
    goals.append({"goal_id": "G4", "description": "Raise satisfaction 10%", "metric": "satisfaction",
                  "target": 10.0, "target_kind": "pct_vs_baseline", "period_start": g_start, "period_end": end,
                  "baseline_start": b_start, "baseline_end": b_end, "owner": "Customer Success"})
    before, after = satisfaction(b_start, b_end), satisfaction(g_start, end)
    expected["G4"] = ("insufficient_data" if before is None or after is None or before <= 0 else
                      "achieved" if after >= before * 1.1 else "missed")
    # G5: new customers in a period running a third past the demo end, paced 10 % ahead
    n_days = math.ceil(days * 4 / 3)
    n_end = start + timedelta(days=n_days - 1)
    new_customers = int(orders.filter(pl.col("is_first"))["contact_idx"].n_unique())
    new_target = max(1.0, float(round(new_customers * n_days / days / 1.1)))
    goals.append({"goal_id": "G5", "description": f"Win {new_target:.0f} new customers by {n_end.isoformat()}",
                  "metric": "new_customers", "target": new_target, "target_kind": "absolute",
                  "period_start": start, "period_end": n_end, "owner": "CMO"})
    expected["G5"] = _pacing_status(new_customers, new_target, days, n_days)
    frame = pl.DataFrame(goals, schema={
        "goal_id": pl.Utf8, "description": pl.Utf8, "metric": pl.Utf8, "target": pl.Float64,
        "target_kind": pl.Utf8, "period_start": pl.Date, "period_end": pl.Date, "baseline_start": pl.Date,
        "baseline_end": pl.Date, "owner": pl.Utf8, "channel": pl.Utf8, "segment": pl.Utf8,
    })
    return frame, expected


def _budgets_and_costs(period: Period, orders: pl.DataFrame, ad_daily: pl.DataFrame, scale: float
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Monthly budgets per paid channel (Meta clearly over budget) and sales costs, in round numbers."""
    start, end, days = period.start, period.end, period.days
    revenue_orders = orders.filter(pl.col("status").is_in(["paid", "partially_refunded"]))
    # budgets: the month's spend projected to the full month, with headroom; Meta clearly over budget
    budget_rows: list[dict[str, object]] = []
    cost_rows: list[dict[str, object]] = []
    for month in _months(period):
        next_month = (month + timedelta(days=32)).replace(day=1)
        covered = (min(next_month, end + timedelta(days=1)) - max(month, start)).days
        in_month = ad_daily.filter((pl.col("day") >= month) & (pl.col("day") < next_month))
        launch_month = any(month <= period.day(d) < next_month
                           for d in range(period.launch_start, min(period.launch_end, days)))
        month_days = (next_month - month).days
        for platform, channel in PLATFORM_CHANNEL.items():
            spent = float(in_month.filter(pl.col("platform") == platform)["spend_cents"].sum() or 0) / 100
            headroom = (0.7 if launch_month else 0.8) if channel == "paid_social" else 1.12
            budget_rows.append({"month": month, "channel": channel, "currency": "EUR",
                                "amount": _nice(spent * month_days / covered * headroom)})
        in_range = revenue_orders.filter(pl.col("day").is_between(max(month, start), min(_month_end(month), end)))
        projected = float(in_range["net_eur"].sum() or 0.0) * month_days / covered
        for kind, category, amount in (
            ("fixed", "salaries", _nice(24000 * scale)),
            ("fixed", "tools", _nice(1800 * scale)),
            ("variable", "commissions", _nice(0.03 * projected)),
            ("variable", "events", _nice((3000 if launch_month else 1000) * scale)),
        ):
            cost_rows.append({"month": month, "kind": kind, "category": category, "currency": "EUR",
                              "amount": amount})
    return pl.DataFrame(budget_rows), pl.DataFrame(cost_rows)


# ---------------------------------------------------------------------------------------------
# the world


def build_world(start: date, days: int, customers: int, seed: int) -> World:
    """Simulate the business for ``days`` days from ``start`` with ``customers`` CRM contacts."""
    if days < 1 or customers < 1:
        raise ValueError("days and customers must be positive")
    rng = np.random.default_rng(seed)
    period = make_period(start, days)
    campaigns = make_campaigns(period)
    # spend follows the daily inflow of contacts, relative to the default 2,000 contacts over 90 days
    scale = (customers / days) / (2000 / 90)
    c = _contacts(rng, period, customers)
    j = _journeys(rng, period, c)
    contacts = _contact_frame(rng, period, c, j)
    fx = _fx(rng, period)

    idx, t, ch, tt = _journey_events(rng, c, j)
    r_idx, r_t, r_tt = _retargeting_events(rng, j, idx, t, tt)
    orders, order_lines, deals = _orders(rng, period, c, j, fx)
    # what brings a customer back: a newsletter (subscribers), a brand search, or a direct visit
    repeat = orders.filter(pl.col("kind") == "repeat")
    rep_contact = repeat["contact_idx"].to_numpy()
    rep_t = repeat["t_virtual"].to_numpy()
    mailable = c["can_email"][rep_contact]
    trigger = _pick(rng, np.where(mailable[:, None], [0.45, 0.25, 0.30], [0.0, 0.45, 0.55]))
    before = np.maximum(rep_t - rng.uniform(0.02, 3.0, len(rep_contact)), c["created"][rep_contact])
    mail = trigger == 0
    idx = np.concatenate([idx, r_idx, rep_contact, rep_contact[mail]])
    t = np.concatenate([t, r_t, before, np.maximum(before[mail] - 0.01, c["created"][rep_contact[mail]])])
    ch = np.concatenate([ch, np.full(len(r_idx), RTG), np.array([EMAIL, PS, DIRECT])[trigger],
                         np.full(int(mail.sum()), EMAIL)])
    tt = np.concatenate([tt, r_tt, np.array([TT["email_click"], TT["click"], TT["visit"]])[trigger],
                         np.full(int(mail.sum()), TT["email_open"])])
    is_acq = np.zeros(len(idx), bool)
    acquired_now = (~c["old"]) & (c["acquisition"] != OFFLINE)
    n_acq = int(acquired_now.sum())
    is_acq[:n_acq] = True  # _journey_events emits the acquisition touches first
    # touches before the start are not exported, but the ad platforms still credit them
    until_end = t < days
    idx, t, ch, tt, is_acq = idx[until_end], t[until_end], ch[until_end], tt[until_end], is_acq[until_end]
    force = c["launch_acquired"][idx] & is_acq
    camp = _assign_campaigns(rng, campaigns, period, idx, t, ch, c["group"], force)
    all_touches = _touch_frame(period, campaigns, contacts, idx, t, ch, tt, camp, is_acq)
    touches = all_touches.filter(pl.col("event_id").is_not_null())

    claims = _platform_claims(orders, all_touches, campaigns, period)
    ad_daily = _ad_daily(rng, period, campaigns, scale, touches, claims)
    google_exports = _google_exports(period, ad_daily)
    goals, expected = _goals(period, orders, contacts)
    budgets, sales_costs = _budgets_and_costs(period, orders, ad_daily, scale)
    truth = _truth(period, c, j, orders, deals, expected)
    deals = deals.join(contacts.select("contact_idx", "email", "company"), on="contact_idx", how="left",
                       maintain_order="left").with_columns(
        (_company_short(pl.col("company")) + pl.lit(" - ") + pl.col("programme")).alias("deal_name"))
    orders = (
        orders.join(contacts.select("contact_idx", "email", "first_name", "last_name", "record_id",
                                    "stripe_customer_id", "erp_customer_no", "company"),
                    on="contact_idx", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("kind") == "deal")
            .then(_company_short(pl.col("company")) + pl.lit(" - ") + pl.col("deal_programme")
                  + pl.lit(" - invoice (category:services)"))
            .otherwise(pl.col("product_name") + pl.lit(" (category:") + pl.col("category") + pl.lit(")"))
            .alias("description"))
    )
    return World(period, scale, campaigns, contacts, touches, orders, order_lines, deals, ad_daily, google_exports,
                 goals, budgets, sales_costs, fx, truth)


def _company_short(company: pl.Expr) -> pl.Expr:
    """The company name without its legal form, as sales people name deals."""
    return company.str.replace(r" (Oy|Ab|Oyj|GmbH|Inc\.)$", "")


def _touch_frame(period: Period, campaigns: tuple[Campaign, ...], contacts: pl.DataFrame, idx: np.ndarray,
                 t: np.ndarray, ch: np.ndarray, tt: np.ndarray, camp: np.ndarray, is_acq: np.ndarray
                 ) -> pl.DataFrame:
    """The touches as rows, in time order, with platforms, campaign ids and UTM fields.

    Touches inside the period get an event id (``ev_00000001`` upwards, in time order); earlier ones
    have none: they are never exported, only credited by the ad platforms.
    """
    camp_platform = np.array([cp.platform for cp in campaigns] + [""])
    camp_id = np.array([cp.campaign_id for cp in campaigns] + [""])
    camp_name = np.array([cp.name for cp in campaigns] + [""])
    unpaid_platform = {EMAIL: "hubspot", WEBINAR: "hubspot", ORG: "website", REF: "website", DIRECT: "website"}
    platform = np.where(camp >= 0, camp_platform[camp], np.array(
        [unpaid_platform.get(k, "website") for k in range(len(CHANNELS))])[ch])
    frame = _frame({
        "contact_idx": idx,
        "channel": np.array(CHANNELS)[ch],
        "touch_type": np.array(TOUCH_TYPES)[tt],
        "platform": platform,
        "campaign_pos": camp,
        "campaign_id": np.where(camp >= 0, camp_id[camp], NULL).astype(object),
        "campaign_name": camp_name[camp],
        "is_acquisition": is_acq,
    }).with_columns(_ts("ts", t, period.start))
    utm_campaign = (pl.col("campaign_name").str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_")
                    .str.strip_chars("_"))
    month = pl.col("ts").dt.strftime("%Y_%m")
    inside = pl.col("ts").dt.date() >= period.start
    frame = (
        frame.sort("ts", "contact_idx", "touch_type", "channel", "campaign_pos", maintain_order=True)
        .with_columns(
            pl.col("ts").dt.date().alias("day"),
            pl.when(inside).then(pl.format("ev_{}", inside.cast(pl.Int64).cum_sum().cast(pl.Utf8).str.zfill(8)))
            .alias("event_id"),
            utm_source_expr().alias("utm_source"),
            utm_medium_expr().alias("utm_medium"),
            pl.when(pl.col("campaign_pos") >= 0).then(utm_campaign)
            .when(pl.col("channel") == "email").then(pl.lit("newsletter_") + month)
            .when(pl.col("channel") == "webinar").then(pl.lit("webinar_") + month)
            .alias("utm_campaign"),
        )
        .join(contacts.select("contact_idx", "email"), on="contact_idx", how="left", maintain_order="left")
    )
    return frame


def _truth(period: Period, c: dict[str, np.ndarray], j: Journeys, orders: pl.DataFrame, deals: pl.DataFrame,
           expected: dict[str, str]) -> Truth:
    """What really happened: lifts, incremental conversions and revenue per channel, retargeting rates."""
    days = period.days
    decided = j.active & (j.t_end < days)
    group = c["group"]
    launch = np.where(c["launch_acquired"], LAUNCH_BOOST, 1.0)
    raw = BASE_CONVERSION[group] * np.prod(1 + LIFT[None, :] * j.exposed, axis=1) * launch
    first_value = np.zeros(len(group))
    firsts = orders.filter(pl.col("kind") == "first")
    first_value[firsts["contact_idx"].to_numpy()] = firsts["value_eur"].to_numpy()
    won = deals.filter(pl.col("stage") == "Closed won")
    first_value[won["contact_idx"].to_numpy()] = won["amount_eur"].to_numpy()
    converted = j.converts & decided
    incremental_conversions: dict[str, float] = {}
    incremental_revenue: dict[str, float] = {}
    for k, channel in enumerate(CHANNELS):
        exposed = j.exposed[:, k] & decided
        without = np.minimum(MAX_CONVERSION, raw / (1 + LIFT[k]))
        incremental_conversions[channel] = round(float((j.p - without)[exposed].sum()), 2)
        share = np.where(j.p > 0, 1 - without / np.maximum(j.p, 1e-12), 0.0)
        incremental_revenue[channel] = round(float((first_value * share)[exposed & converted].sum()), 2)
    visitors = j.visited & decided
    retargeted = visitors & j.exposed[:, RTG]
    others = visitors & ~j.exposed[:, RTG]
    rt_rate = float(j.converts[retargeted].mean()) if retargeted.any() else float("nan")
    other_rate = float(j.converts[others].mean()) if others.any() else float("nan")
    return Truth(
        channel_lift=dict(CHANNEL_LIFT),
        incremental_conversions=incremental_conversions,
        incremental_revenue_eur=incremental_revenue,
        retargeted_visitors=int(retargeted.sum()),
        retargeted_conversion_rate=round(rt_rate, 4),
        other_visitors=int(others.sum()),
        other_visitor_conversion_rate=round(other_rate, 4),
        goal_expected_status=expected,
    )


def utm_source_expr() -> pl.Expr:
    """The demo's ``utm_source`` of a touch, from its platform or channel."""
    return (pl.when(pl.col("platform") == "google_ads").then(pl.lit("google"))
            .when(pl.col("platform") == "meta_ads").then(pl.lit("facebook"))
            .when(pl.col("platform") == "linkedin_ads").then(pl.lit("linkedin"))
            .when(pl.col("platform") == "adroll").then(pl.lit("adroll"))
            .when(pl.col("channel") == "email").then(pl.lit("newsletter"))
            .when(pl.col("channel") == "webinar").then(pl.lit("hubspot"))
            .when(pl.col("channel") == "organic_search").then(pl.lit("google"))
            .when(pl.col("channel") == "referral").then(pl.lit("partner-blog")))


def utm_medium_expr() -> pl.Expr:
    """The demo's ``utm_medium`` of a touch, from its platform or channel."""
    return (pl.when(pl.col("platform").is_in(["google_ads", "linkedin_ads"])).then(pl.lit("cpc"))
            .when(pl.col("platform") == "meta_ads").then(pl.lit("paid_social"))
            .when(pl.col("platform") == "adroll").then(pl.lit("retargeting"))
            .when(pl.col("channel") == "email").then(pl.lit("email"))
            .when(pl.col("channel") == "webinar").then(pl.lit("webinar"))
            .when(pl.col("channel") == "organic_search").then(pl.lit("organic"))
            .when(pl.col("channel") == "referral").then(pl.lit("referral")))
