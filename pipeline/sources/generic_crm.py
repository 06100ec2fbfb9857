"""Generic CRM CSV (contacts and deals) and the CRM vocabulary every CRM adapter maps onto.

Users of a CRM kohde has no adapter for export (or reshape) their data into this documented CSV.

Contacts, in ``crm_contacts/<D>/`` (any file name; UTF-8, comma, one header line)::

    contact_id,email,phone,created_at,lifecycle_stage,original_source,birth_year,gender,...
    C-0042,aino.virtanen@example.fi,040 123 4567,2026-11-01T12:05:00Z,lead,Paid Search,1984,female,...

The header cells are the ``contact`` entity's column names (``pipeline.entities.CONTACT``), except that
the person is given by ``email`` and ``phone`` in clear (kohde hashes them at once and keeps only the
hashes) or, for a CRM that hashes itself, by ``email_sha256`` / ``phone_sha256`` (hex SHA-256 of the
trimmed, lower-cased email and of the E.164 phone with ``+``). ``contact_id`` and ``created_at`` are
required; every other column is optional. An optional ``source_system`` column names the CRM
(lower case; default ``generic``): it is part of the contact's business key.

Deals, in ``crm_deals/<D>/``: the ``deal`` entity's column names (``pipeline.entities.DEAL``) with the
associated contact as ``contact_email`` (or ``contact_email_sha256``); ``deal_id`` and ``stage`` are
required. ``is_closed`` / ``is_won`` are derived from the stage; a missing ``pipeline`` is ``default``.

Formats: ISO dates (``2026-11-01``), ISO timestamps with ``Z`` or an offset (a timestamp without one
is UTC), ``.`` decimals without group separators, booleans ``true``/``false`` (also yes/no, 1/0).
Values: lifecycle stages and deal stages as the canonical words below (vendor labels such as
``Marketing Qualified Lead`` or ``Closed Won`` are accepted too), gender ``female``/``male``/``other``,
countries as ISO-3166 alpha-2 codes (common names accepted), languages as ISO-639-1 codes, phones in
E.164 (``+358401234567``; a national number is read in the contact's country, FI if none; an
invalid number is NULL).

Names, addresses and notes are never read (data minimisation): leave them out of the file.

The vocabulary helpers here (``map_labels``, ``conform_contacts``, ``conform_deals``, the prepare
helpers) are shared by the HubSpot and Salesforce adapters.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping, Sequence

import polars as pl

from pipeline.errors import InputFileError
from pipeline.identity import customer_id_expr
from pipeline.ingest.read import RawTable
from pipeline.sources.base import Field, Locale, ParseContext, SourceFormat, add_errors, clean_text, money

SOURCE_SYSTEM = "generic"
DEFAULT_PIPELINE = "default"
LIFECYCLE_STAGE_VALUES: tuple[str, ...] = (
    "subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other",
)
DEAL_STAGE_VALUES: tuple[str, ...] = (
    "appointment", "qualified", "presentation", "decision", "contract", "closed_won", "closed_lost",
)
CLOSED_STAGES: tuple[str, ...] = ("closed_won", "closed_lost")

# ISO-3166-1 alpha-2 (the 249 assigned codes) plus XK (Kosovo), which CRMs and phone data use.
ISO_COUNTRIES: frozenset[str] = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
""".split())

# ISO-639-1 (two-letter language codes).
ISO_LANGUAGES: frozenset[str] = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia
id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo
lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl
ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())

_CURRENCY_SYMBOLS: dict[str, str] = {"€": "EUR", "$": "USD", "£": "GBP"}  # '$' is read as USD (documented)


def label_key_text(label: str) -> str:
    """The comparison key of a label: NFKC, lower case, letters and digits only ('Closed-Won' -> 'closedwon')."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", label).lower() if ch.isalnum())


def label_key(text: pl.Expr) -> pl.Expr:
    """``label_key_text`` as an expression, so case, spaces, dashes and underscores never matter."""
    return text.str.normalize("NFKC").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")


def vocabulary(labels: Mapping[str, str | None]) -> dict[str, str | None]:
    """A label -> canonical dict keyed by ``label_key_text``; two labels with one key must agree."""
    keyed: dict[str, str | None] = {}
    for label, canonical in labels.items():
        key = label_key_text(label)
        if key in keyed and keyed[key] != canonical:
            raise ValueError(f"labels with key {key!r} map to both {keyed[key]!r} and {canonical!r}")
        keyed[key] = canonical
    return keyed


LIFECYCLE_STAGES: dict[str, str | None] = vocabulary({
    **{value: value for value in LIFECYCLE_STAGE_VALUES},
    "Marketing Qualified Lead": "mql",
    "Sales Qualified Lead": "sql",
})

# The canonical words and the English labels of HubSpot's default pipeline (the de facto names).
DEAL_STAGES: dict[str, str | None] = vocabulary({
    **{value: value for value in DEAL_STAGE_VALUES},
    "Appointment scheduled": "appointment", "Qualified to buy": "qualified",
    "Presentation scheduled": "presentation", "Decision maker bought-in": "decision",
    "Contract sent": "contract", "won": "closed_won", "lost": "closed_lost",
})

# Unknown / not given answers are NULL, not an error; anything else unmapped is quarantined.
GENDERS: dict[str, str | None] = vocabulary({
    "female": "female", "f": "female", "woman": "female", "nainen": "female", "kvinna": "female",
    "frau": "female", "weiblich": "female",
    "male": "male", "m": "male", "man": "male", "mies": "male", "mann": "male", "männlich": "male",
    "other": "other", "muu": "other", "annat": "other", "divers": "other", "non-binary": "other",
    "unknown": None, "prefer not to say": None, "not specified": None, "ei tiedossa": None,
})

COUNTRY_NAMES: dict[str, str | None] = vocabulary({
    # name in English, Finnish, Swedish, German; ISO alpha-3
    "Finland": "FI", "Suomi": "FI", "Finnland": "FI", "FIN": "FI",
    "Sweden": "SE", "Ruotsi": "SE", "Sverige": "SE", "Schweden": "SE", "SWE": "SE",
    "Norway": "NO", "Norja": "NO", "Norge": "NO", "Norwegen": "NO", "NOR": "NO",
    "Denmark": "DK", "Tanska": "DK", "Danmark": "DK", "Dänemark": "DK", "DNK": "DK",
    "Iceland": "IS", "Islanti": "IS", "Island": "IS", "ISL": "IS",
    "Estonia": "EE", "Viro": "EE", "Eesti": "EE", "Estland": "EE", "EST": "EE",
    "Latvia": "LV", "Latvija": "LV", "Lettland": "LV", "LVA": "LV",
    "Lithuania": "LT", "Liettua": "LT", "Lietuva": "LT", "Litauen": "LT", "LTU": "LT",
    "Germany": "DE", "Saksa": "DE", "Tyskland": "DE", "Deutschland": "DE", "DEU": "DE",
    "United States": "US", "United States of America": "US", "USA": "US", "Yhdysvallat": "US",
    "Amerikan yhdysvallat": "US", "USA (United States)": "US", "Vereinigte Staaten": "US",
    "United Kingdom": "GB", "UK": "GB", "Great Britain": "GB", "Iso-Britannia": "GB", "Storbritannien": "GB",
    "Vereinigtes Königreich": "GB", "GBR": "GB",
    "France": "FR", "Ranska": "FR", "Frankrike": "FR", "Frankreich": "FR", "FRA": "FR",
    "Netherlands": "NL", "The Netherlands": "NL", "Alankomaat": "NL", "Hollanti": "NL", "Nederländerna": "NL",
    "Niederlande": "NL", "NLD": "NL",
    "Belgium": "BE", "Belgia": "BE", "Belgien": "BE", "BEL": "BE",
    "Spain": "ES", "Espanja": "ES", "Spanien": "ES", "ESP": "ES",
    "Italy": "IT", "Italia": "IT", "Italien": "IT", "ITA": "IT",
    "Poland": "PL", "Puola": "PL", "Polen": "PL", "POL": "PL",
    "Austria": "AT", "Itävalta": "AT", "Österrike": "AT", "Österreich": "AT", "AUT": "AT",
    "Switzerland": "CH", "Sveitsi": "CH", "Schweiz": "CH", "CHE": "CH",
    "Ireland": "IE", "Irlanti": "IE", "Irland": "IE", "IRL": "IE",
    "Portugal": "PT", "Portugali": "PT", "PRT": "PT",
    "Russia": "RU", "Venäjä": "RU", "Ryssland": "RU", "Russland": "RU", "RUS": "RU",
    "Canada": "CA", "Kanada": "CA", "CAN": "CA",
    "Japan": "JP", "Japani": "JP", "JPN": "JP",
    "China": "CN", "Kiina": "CN", "Kina": "CN", "CHN": "CN",
    "India": "IN", "Intia": "IN", "Indien": "IN", "IND": "IN",
    "Australia": "AU", "Australien": "AU", "AUS": "AU",
})

LANGUAGE_NAMES: dict[str, str | None] = vocabulary({
    "Finnish": "fi", "suomi": "fi", "finska": "fi", "Finnisch": "fi",
    "Swedish": "sv", "ruotsi": "sv", "svenska": "sv", "Schwedisch": "sv",
    "English": "en", "englanti": "en", "engelska": "en", "Englisch": "en",
    "German": "de", "saksa": "de", "tyska": "de", "Deutsch": "de",
    "Norwegian": "no", "norja": "no", "norska": "no", "norsk": "no",
    "Danish": "da", "tanska": "da", "danska": "da", "dansk": "da",
    "Estonian": "et", "viro": "et", "eesti": "et",
    "Russian": "ru", "venäjä": "ru", "ryska": "ru", "Russisch": "ru",
    "French": "fr", "ranska": "fr", "franska": "fr", "français": "fr",
    "Spanish": "es", "espanja": "es", "spanska": "es", "español": "es",
    "Italian": "it", "italia": "it", "Dutch": "nl", "hollanti": "nl", "Polish": "pl", "puola": "pl",
    "Portuguese": "pt", "Chinese": "zh", "Japanese": "ja", "Arabic": "ar",
})

SURVEY_LOWER: tuple[str, ...] = ("values_orientation", "brand_loyalty", "purchase_motive")


# ---------------------------------------------------------------------------------------------
# Mapping labels onto the vocabulary (in ``derive``)

def shown(value: pl.Expr) -> pl.Expr:
    """A value as echoed in a reason: '(masked)' if it looks like an email or a phone number."""
    personal = value.str.contains(r"@|^\s*(\+|0)[\d\s().\-/]{6,}$")
    return pl.when(personal).then(pl.lit("(masked)")).otherwise(value.str.slice(0, 40)).fill_null("")


def map_labels(frame: pl.DataFrame, column: str, labels: Mapping[str, str | None]) -> pl.DataFrame:
    """Replace ``column``'s labels by canonical values; an unmapped label quarantines the row (``map:``)."""
    if column not in frame.columns:
        return frame
    value = pl.col(column)
    key = label_key(value)
    frame = add_errors(frame, value.is_not_null() & ~key.is_in(list(labels)),
                       pl.format("map:{}: unknown value '{}'", pl.lit(column), shown(value)))
    return frame.with_columns(key.replace_strict(dict(labels), default=None, return_dtype=pl.Utf8).alias(column))


def country_code_expr(text: pl.Expr) -> pl.Expr:
    """ISO-3166 alpha-2 (upper case) from a code or a known country name; NULL when unknown."""
    code = text.str.strip_chars().str.to_uppercase()
    named = label_key(text).replace_strict(COUNTRY_NAMES, default=None, return_dtype=pl.Utf8)
    return pl.coalesce(pl.when(code.is_in(list(ISO_COUNTRIES))).then(code), named)


def language_code_expr(text: pl.Expr) -> pl.Expr:
    """ISO-639-1 (lower case) from a code or tag (``fi``, ``fi-FI``, ``en_us``) or a known name; else NULL."""
    tag = text.str.strip_chars().str.to_lowercase()
    code = tag.str.extract(r"^([a-z]{2})(?:[-_][a-z0-9]{2,8})*$", 1)
    named = label_key(text).replace_strict(LANGUAGE_NAMES, default=None, return_dtype=pl.Utf8)
    return pl.coalesce(pl.when(code.is_in(list(ISO_LANGUAGES))).then(code), named)


def _map_with(frame: pl.DataFrame, column: str, mapped: pl.Expr) -> pl.DataFrame:
    if column not in frame.columns:
        return frame
    value = pl.col(column)
    frame = add_errors(frame, value.is_not_null() & mapped.is_null(),
                       pl.format("map:{}: unknown value '{}'", pl.lit(column), shown(value)))
    return frame.with_columns(mapped.alias(column))


def check_years(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Quarantine dates before 1900: a two-digit year ('3/5/26') parses as year 26 under ``%Y``."""
    for column in columns:
        if column in frame.columns:
            frame = add_errors(frame, pl.col(column).dt.year() < 1900,
                               f"parse:{column}: year before 1900 (a two-digit year?)")
    return frame


def with_column(frame: pl.DataFrame, column: str, dtype: pl.DataType) -> pl.DataFrame:
    """The frame with ``column`` added as NULL when its header was not in the file."""
    if column in frame.columns:
        return frame
    return frame.with_columns(pl.lit(None, dtype=dtype).alias(column))


def conform_contacts(frame: pl.DataFrame, *, system: str | pl.Expr,
                     lifecycle: Mapping[str, str | None] = LIFECYCLE_STAGES) -> pl.DataFrame:
    """Canonical lifecycle stage, gender, country, language and survey case; ``customer_id``; ``source_system``.

    ``customer_id`` comes from the email hash, or for a contact without email from
    ``"<source_system>:<contact_id>"`` (``pipeline.identity.customer_id_expr``).
    """
    system_expr = pl.lit(system) if isinstance(system, str) else system
    frame = frame.with_columns(system_expr.alias("source_system"))
    frame = map_labels(frame, "lifecycle_stage", lifecycle)
    frame = map_labels(frame, "gender", GENDERS)
    frame = _map_with(frame, "country_code", country_code_expr(pl.col("country_code")))
    frame = _map_with(frame, "language", language_code_expr(pl.col("language")))
    frame = frame.with_columns([pl.col(c).str.to_lowercase() for c in SURVEY_LOWER if c in frame.columns])
    frame = check_years(frame, ["created_at"])
    frame = with_column(frame, "email_sha256", pl.Utf8())
    return frame.with_columns(
        customer_id_expr("email_sha256", fallback_key=pl.col("source_system") + pl.lit(":") + pl.col("contact_id"))
        .alias("customer_id")
    )


def cell_currency_expr(text: pl.Expr) -> pl.Expr:
    """The currency written in an amount cell: an upper-case ISO code or €, $, £; NULL when none."""
    code = text.str.extract(r"\b([A-Z]{3})\b", 1)
    symbol = text.str.extract("([€$£])", 1).replace_strict(_CURRENCY_SYMBOLS, default=None, return_dtype=pl.Utf8)
    return pl.coalesce(code, symbol)


def conform_deals(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext, *, system: str | pl.Expr,
                  stages: Mapping[str, str | None] = DEAL_STAGES, amount_headers: Sequence[str] = ()
                  ) -> pl.DataFrame:
    """Canonical stage with ``is_closed``/``is_won``, pipeline, currency and ``customer_id`` of a deal frame.

    - ``pipeline``: a missing column or cell is ``default`` (a view export without ``Pipeline``).
    - ``currency_code``: the currency column, else the currency written in the amount cell
      (``EUR 45,000.00``, ``€45,000``); a cell that disagrees with the column is quarantined
      (``conflict:currency_code``), an amount without any currency too (``required:currency_code``).
      A file whose amounts carry no currency at all fails.
    - ``customer_id``: from ``contact_email_sha256`` (the associated contact), NULL without one.
    - A closed-won deal with a close date after the extract date is kept (a warning, not an error).
    """
    system_expr = pl.lit(system) if isinstance(system, str) else system
    frame = frame.with_columns(system_expr.alias("source_system"))
    frame = map_labels(frame, "stage", stages)
    frame = frame.with_columns(
        pl.col("stage").is_in(list(CLOSED_STAGES)).alias("is_closed"),
        (pl.col("stage") == "closed_won").alias("is_won"),
    ).with_columns(
        pl.when(pl.col("stage").is_null()).then(None).otherwise(pl.col(c)).alias(c) for c in ("is_closed", "is_won")
    )
    frame = with_column(frame, "pipeline", pl.Utf8()).with_columns(pl.col("pipeline").fill_null(DEFAULT_PIPELINE))
    frame = _currency(frame, raw, ctx, amount_headers)
    frame = check_years(frame, ["created_date", "close_date"])
    frame = with_column(frame, "contact_email_sha256", pl.Utf8())
    return frame.with_columns(customer_id_expr("contact_email_sha256").alias("customer_id"))


def _currency(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext, amount_headers: Sequence[str]) -> pl.DataFrame:
    frame = with_column(frame, "amount", pl.Decimal(18, 4))
    has_column = "currency_code" in frame.columns
    frame = with_column(frame, "currency_code", pl.Utf8())
    header = raw.column(*amount_headers) if amount_headers else None
    if header is not None:
        cells = raw.rows.select("row_number", cell_currency_expr(clean_text(header)).alias("_cell_currency"))
        frame = frame.join(cells, on="row_number", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("_cell_currency"))
    given = pl.col("currency_code").str.strip_chars().str.to_uppercase()
    frame = add_errors(frame, given.is_not_null() & pl.col("_cell_currency").is_not_null()
                       & (given != pl.col("_cell_currency")),
                       pl.format("conflict:currency_code: the amount is in {}, the currency column says {}",
                                 pl.col("_cell_currency"), given.str.slice(0, 10)))
    frame = (frame.with_columns(pl.coalesce(given, pl.col("_cell_currency")).alias("currency_code"))
             .drop("_cell_currency"))
    with_amount = pl.col("amount").is_not_null()
    if not has_column and frame.filter(with_amount).height > 0 and frame["currency_code"].drop_nulls().is_empty():
        raise InputFileError("deal amounts carry no currency: add the currency column to the export "
                             "(HubSpot 'Currency', Salesforce 'Amount Currency')", file=ctx.file_name)
    return add_errors(frame, with_amount & pl.col("currency_code").is_null(),
                      "required:currency_code: an amount without a currency")


# ---------------------------------------------------------------------------------------------
# Raw-text rewrites (in ``prepare``)

def rewrite(table: RawTable, columns: Mapping[str, pl.Expr]) -> RawTable:
    """The table with some raw text columns replaced (only those present)."""
    present = {name: expr for name, expr in columns.items() if name in table.rows.columns}
    if not present:
        return table
    return dataclasses.replace(table, rows=table.rows.with_columns(**present))


def utc_designator(table: RawTable, *aliases: str) -> RawTable:
    """Write a trailing ``Z`` as ``+00:00`` so timestamps of a local-time format read UTC ones right."""
    header = table.column(*aliases)
    if header is None:
        return table
    pattern = r"^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*Z\s*$"
    return rewrite(table, {header: pl.col(header).str.replace(pattern, "${1}+00:00")})


def first_email(table: RawTable, *aliases: str) -> RawTable:
    """Reduce an association cell (``Name (email)``, ``a@x.fi; b@y.fi``) to its first email, else NULL."""
    header = table.column(*aliases)
    if header is None:
        return table
    email = pl.col(header).str.extract(r"([^\s<>()\[\]\"';,]+@[^\s<>()\[\]\"';,]+)", 1)
    return rewrite(table, {header: email})


def international_phones(table: RawTable, phone_aliases: Sequence[str], country_aliases: Sequence[str],
                         default_region: str = "FI") -> RawTable:
    """Write phone numbers in E.164, national ones in the contact's own country; invalid ones as NULL.

    ``040 123 4567`` of a Finnish contact and ``070-123 45 67`` of a Swedish one both become
    international (a contact without a known country uses ``default_region``). A number that is not
    valid is dropped: the contact keeps its phone hash NULL (``CONTACT``: "NULL if none or invalid")
    rather than being quarantined, so its consent and objection flags still load.
    """
    phone = table.column(*phone_aliases)
    if phone is None:
        return table
    country = table.column(*country_aliases)
    region = country_code_expr(clean_text(country)) if country is not None else pl.lit(None, dtype=pl.Utf8)
    pair = pl.struct(clean_text(phone).alias("phone"), region.fill_null(default_region).alias("region"))
    return rewrite(table, {phone: pl.when(clean_text(phone).is_null()).then(None).otherwise(
        pair.map_elements(_international, return_dtype=pl.Utf8))})


def _international(pair: dict[str, str | None]) -> str | None:
    from pipeline.sources.base import phone_e164

    phone, region = pair["phone"], pair["region"]
    if phone is None:
        return None
    return phone_e164(phone, region or "FI")


# ---------------------------------------------------------------------------------------------
# The generic CSV

ISO_LOCALE = Locale(
    decimal=".",
    group=(),
    date_formats=("%Y-%m-%d",),
    datetime_formats=("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S",
                      "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"),
    timezone="UTC",
)
_SHA256_HEX = r"^[0-9a-f]{64}$"


def _prehashed(frame: pl.DataFrame, target: str, given: str) -> pl.DataFrame:
    """Use a hash column the CRM computed itself where the file gives no clear-text value."""
    if given not in frame.columns:
        return frame
    digest = pl.col(given).str.strip_chars().str.to_lowercase()
    frame = add_errors(frame, digest.is_not_null() & ~digest.str.contains(_SHA256_HEX),
                       f"parse:{target}: not a SHA-256 hex digest")
    frame = with_column(frame, target, pl.Utf8())
    return frame.with_columns(
        pl.coalesce(pl.col(target), pl.when(digest.str.contains(_SHA256_HEX)).then(digest)).alias(target)
    )


def _system(frame: pl.DataFrame) -> pl.Expr:
    if "source_system" in frame.columns:
        return pl.col("source_system").str.strip_chars().str.to_lowercase().fill_null(SOURCE_SYSTEM)
    return pl.lit(SOURCE_SYSTEM)


def _derive_contacts(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    frame = _prehashed(frame, "email_sha256", "given_email_sha256")
    frame = _prehashed(frame, "phone_sha256", "given_phone_sha256")
    return conform_contacts(frame, system=_system(frame))


def _derive_deals(frame: pl.DataFrame, raw: RawTable, ctx: ParseContext) -> pl.DataFrame:
    frame = _prehashed(frame, "contact_email_sha256", "given_contact_email_sha256")
    return conform_deals(frame, raw, ctx, system=_system(frame), amount_headers=("amount",))


def _prepare_contacts(table: RawTable, ctx: ParseContext) -> RawTable:
    return international_phones(table, ("phone",), ("country_code",))


GENERIC_CONTACTS = SourceFormat(
    name="generic_contacts",
    source="crm_contacts",
    entity="contact",
    signature=(("contact_id",), ("created_at",)),
    fields=(
        Field("contact_id", ("contact_id",), "id", required=True, not_null=True),
        Field("source_system", ("source_system",)),
        Field("email_sha256", ("email",), "email_sha256", pii=True),
        Field("given_email_sha256", ("email_sha256",), pii=True),
        Field("phone_sha256", ("phone",), "phone_sha256", pii=True),
        Field("phone_sha256_meta", ("phone",), "phone_sha256_meta", pii=True),
        Field("given_phone_sha256", ("phone_sha256",), pii=True),
        Field("created_at", ("created_at",), "datetime", required=True),
        Field("lifecycle_stage", ("lifecycle_stage",)),
        Field("original_source", ("original_source",)),
        Field("birth_year", ("birth_year",), "int", pii=True),
        Field("gender", ("gender",)),
        Field("income_band", ("income_band",)),
        Field("education", ("education",)),
        Field("city", ("city",)),
        Field("postcode", ("postcode",)),
        Field("country_code", ("country_code",)),
        Field("language", ("language",)),
        Field("values_orientation", ("values_orientation",)),
        Field("brand_loyalty", ("brand_loyalty",)),
        Field("purchase_motive", ("purchase_motive",)),
        Field("lifestyle", ("lifestyle",)),
        Field("satisfaction_score", ("satisfaction_score",), "decimal"),
        Field("company", ("company",)),
        Field("industry", ("industry",)),
        Field("employees", ("employees",), "int"),
        Field("revenue_band", ("revenue_band",)),
        Field("consent_marketing", ("consent_marketing",), "bool"),
        Field("objected_marketing", ("objected_marketing",), "bool"),
    ),
    locale=ISO_LOCALE,
    prepare=_prepare_contacts,
    derive=_derive_contacts,
)

GENERIC_DEALS = SourceFormat(
    name="generic_deals",
    source="crm_deals",
    entity="deal",
    signature=(("deal_id",), ("stage",)),
    fields=(
        Field("deal_id", ("deal_id",), "id", required=True, not_null=True),
        Field("source_system", ("source_system",)),
        Field("contact_email_sha256", ("contact_email",), "email_sha256", pii=True),
        Field("given_contact_email_sha256", ("contact_email_sha256",), pii=True),
        Field("company", ("company",)),
        Field("deal_name", ("deal_name",)),
        Field("pipeline", ("pipeline",)),
        Field("stage", ("stage",), required=True),
        money("amount", "amount"),
        Field("currency_code", ("currency_code",)),
        Field("created_date", ("created_date",), "date"),
        Field("close_date", ("close_date",), "date"),
        Field("owner", ("owner",), pii=True),
    ),
    locale=ISO_LOCALE,
    derive=_derive_deals,
    chunkable=False,  # a file whose amounts carry no currency at all fails as a whole
)

FORMATS: tuple[SourceFormat, ...] = (GENERIC_CONTACTS, GENERIC_DEALS)


__all__ = [
    "CLOSED_STAGES", "COUNTRY_NAMES", "DEAL_STAGES", "DEAL_STAGE_VALUES", "DEFAULT_PIPELINE", "FORMATS",
    "GENDERS", "GENERIC_CONTACTS", "GENERIC_DEALS", "ISO_COUNTRIES", "ISO_LANGUAGES", "LANGUAGE_NAMES",
    "LIFECYCLE_STAGES", "LIFECYCLE_STAGE_VALUES", "SOURCE_SYSTEM", "cell_currency_expr", "check_years",
    "conform_contacts", "conform_deals", "country_code_expr", "first_email", "international_phones", "label_key",
    "label_key_text", "language_code_expr", "map_labels", "rewrite", "shown", "utc_designator", "vocabulary",
    "with_column",
]
