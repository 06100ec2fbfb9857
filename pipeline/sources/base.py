"""The adapter framework: one declarative spec per vendor format, parsed by one engine.

A vendor module declares a ``SourceFormat``: the headers that recognise it, the locale of its
numbers and dates, and ``Field``s mapping its columns onto a canonical entity (Fivetran's small
mapping dict, with types). ``parse_table`` turns a ``RawTable`` (all text) into the entity's
typed columns plus ``_errors``: a list of quarantine reasons per row, empty when the row is good.
Vendor logic that a mapping cannot express goes in the format's ``prepare`` (on raw text, e.g.
Shopify's forward fill) and ``derive`` (on typed columns, e.g. Meta's currency from the header).

Reasons are ``"<check>:<column>: <detail>"``, e.g. ``"parse:spend: not a number '12,3x'"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import polars as pl

from pipeline.entities import ENTITIES, MONEY, UTC_TS
from pipeline.errors import InputFileError
from pipeline.identity import email_sha256_expr
from pipeline.ingest.read import RawTable, normalise_header

RECONCILE_COLUMNS = ("spend", "day")  # what reconcile hooks may read of the typed rows, besides row_number
NULL_TOKENS: tuple[str, ...] = ("", "--", "-", "\u2014", "\u2013", "n/a", "N/A", "#N/A", "(not set)", "null",
                                "NULL", "None")

FieldKind = str  # text | id | int | decimal | date | datetime | bool | email_sha256 | phone_sha256 | phone_sha256_meta | percent


@dataclass(frozen=True)
class Field:
    """One canonical column and the vendor headers (any language) it may come from."""

    target: str
    headers: tuple[str, ...]
    kind: FieldKind = "text"
    required: bool = False      # the header must exist, else the whole file fails (breaking schema change)
    not_null: bool = False      # each row must have a value, else the row is quarantined
    pii: bool = False           # masked in quarantine rows and never echoed in reasons


@dataclass(frozen=True)
class Locale:
    """How a format writes numbers and dates."""

    decimal: str = "."
    group: tuple[str, ...] = (",",)
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    datetime_formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%SZ",
                                         "%Y-%m-%d %H:%M")
    timezone: str = "UTC"       # zone of naive timestamps; offsets in the text win
    true_tokens: tuple[str, ...] = ("true", "yes", "1", "kyllä", "y", "opted in", "granted")
    false_tokens: tuple[str, ...] = ("false", "no", "0", "ei", "n", "opted out", "not granted")


EN = Locale()
# Finnish times are written with '.' (the standard separator, Excel's under fi-FI: '2.11.2026 0.15') or ':'.
FI = Locale(decimal=",", group=(" ", "\u00a0", "\u202f", "."), date_formats=("%d.%m.%Y", "%Y-%m-%d"),
            datetime_formats=("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H.%M.%S", "%d.%m.%Y %H.%M",
                              "%Y-%m-%d %H:%M:%S"),
            timezone="Europe/Helsinki")


@dataclass
class ParseContext:
    """What a format may need to know about the file it parses."""

    source: str
    extract_date: date
    file_name: str
    file_sha256: str


@dataclass(frozen=True)
class SourceFormat:
    """A vendor export format: how to recognise it and map it onto a canonical entity."""

    name: str
    source: str                       # inbox folder, e.g. "google_ads"
    entity: str                       # canonical entity, e.g. "ad_daily"
    signature: tuple[tuple[str, ...], ...]   # each inner tuple: aliases of one header that must be present
    fields: tuple[Field, ...]
    locale: Locale = EN
    constants: dict[str, object] = field(default_factory=dict)   # canonical columns with a fixed value
    furniture: tuple[str, ...] = ()   # regexes for total/footer rows (matched on the first non-empty cell)
    null_tokens: tuple[str, ...] = NULL_TOKENS
    prepare: Callable[[RawTable, ParseContext], RawTable] | None = None
    derive: Callable[[pl.DataFrame, RawTable, ParseContext], pl.DataFrame] | None = None
    signature_any: tuple[str, ...] = ()  # optional: at least one of these headers must be present
    # optional: compare the stripped report totals with the parsed rows; returns warnings (WARN, not FAIL).
    # A file read in chunks passes only ``row_number`` and the RECONCILE_COLUMNS its entity has.
    reconcile: Callable[[RawTable, pl.DataFrame], list[str]] | None = None
    # False when ``prepare``/``derive`` look across rows (Shopify folds line items into orders): such a
    # format is always read whole; others are read in chunks when the file is big (pipeline.ingest.stream)
    chunkable: bool = True

    def recognise(self, header: Sequence[str]) -> bool:
        """True when every signature header (any alias) is in the normalised header cells."""
        cells = set(header)
        if not all(any(normalise_header(a) in cells for a in aliases) for aliases in self.signature):
            return False
        return not self.signature_any or any(normalise_header(a) in cells for a in self.signature_any)

    @property
    def furniture_patterns(self) -> list[re.Pattern[str]]:
        """Compiled furniture patterns."""
        return [re.compile(p) for p in self.furniture]


# ---------------------------------------------------------------------------------------------
# Text -> typed expressions. Each returns an expression over one raw text column.

def clean_text(column: str, null_tokens: Sequence[str] = NULL_TOKENS) -> pl.Expr:
    """Trimmed text with the null tokens turned into NULL."""
    stripped = pl.col(column).str.strip_chars().str.replace_all("[\u200b\u200c\u200d\ufeff]", "")
    return stripped.replace(list(null_tokens), pl.lit(None, dtype=pl.Utf8))


def decimal_expr(text: pl.Expr, locale: Locale, scale: int = 4) -> pl.Expr:
    """Parse locale-formatted numbers: group separators, decimal comma, currency, (neg), 12-, U+2212.

    Built so each intermediate expression is referenced once or twice: a ``when`` over a value used
    in both branches doubles the expression tree at every step, and polars then evaluates each copy.
    """
    # ASCII word boundaries and digits: Unicode ones push the regex engine off its fast path.
    value = text.str.replace_all(r"(?i)(?-u:\b)[A-Z]{3}(?-u:\b)|[€$£¥%]", "").str.strip_chars()
    # A group separator must sit every three digits left of the decimal mark: '12,50' under an
    # English locale is a decimal comma (the UI locale changed), not 1250; '12.5' under a Finnish
    # locale is a decimal point, not 125. Such cells are NULL (a parse error, quarantined).
    groups = [g for g in locale.group if g != locale.decimal]
    grouping_ok: pl.Expr = pl.lit(True)
    chars = "".join(f"\\x{{{ord(c):04X}}}" for c in groups)
    if groups:
        d = f"\\x{{{ord(locale.decimal):04X}}}"
        grouping_ok = value.str.contains(
            rf"^(?:[^{chars}]*|[(+\-\x{{2212}}]?[0-9]{{1,3}}(?:[{chars}][0-9]{{3}})+(?:{d}[0-9]*)?\)?-?)$")
    value = value.str.replace_all(rf"[{chars}\s]", "")
    if locale.decimal != ".":
        value = value.str.replace_all(locale.decimal, ".", literal=True)
    value = (value.str.replace_all("\u2212", "-", literal=True)
             # (1 234,56) accounting negative, 1234,56- trailing minus
             .str.replace(r"^\((.*)\)$|^([0-9.]+)-$", "-${1}${2}")
             .str.extract(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))$", 1))
    return pl.when(grouping_ok).then(value).otherwise(None).cast(pl.Decimal(18, scale), strict=False)


def int_expr(text: pl.Expr, locale: Locale) -> pl.Expr:
    """Whole numbers with group separators; '12.0' is accepted, '12.5' is not."""
    # One reference to the parsed decimal (see decimal_expr): its text form ends in '.0000' when whole.
    return decimal_expr(text, locale).cast(pl.Utf8).str.extract(r"^(-?\d+)(?:\.0*)?$", 1).cast(pl.Int64, strict=False)


def date_expr(text: pl.Expr, locale: Locale) -> pl.Expr:
    """Dates in the format list of the locale, never guessed."""
    attempts = [text.str.strptime(pl.Date, fmt, strict=False, exact=True) for fmt in locale.date_formats]
    # Also accept the date part of a timestamp written in one of the date formats.
    attempts += [text.str.slice(0, 10).str.strptime(pl.Date, fmt, strict=False, exact=True)
                 for fmt in locale.date_formats if fmt == "%Y-%m-%d"]
    return pl.coalesce(attempts)


def datetime_expr(text: pl.Expr, locale: Locale) -> pl.Expr:
    """Instants as UTC: an explicit offset wins, else the locale's zone (DST gaps -> NULL, folds -> earliest)."""
    with_offset = [
        text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True)
        for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z",
                    "%Y-%m-%d %H:%M:%S%z")
    ]
    naive = [text.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in locale.datetime_formats]
    naive += [text.str.strptime(pl.Date, fmt, strict=False, exact=True).cast(pl.Datetime("us"))
              for fmt in locale.date_formats]
    local = pl.coalesce(naive).dt.replace_time_zone(locale.timezone, ambiguous="earliest", non_existent="null")
    return pl.coalesce([*with_offset, local.dt.convert_time_zone("UTC")]).cast(UTC_TS)


def bool_expr(text: pl.Expr, locale: Locale) -> pl.Expr:
    """Yes/no in the locale's words; anything else is NULL (and an error)."""
    lowered = text.str.to_lowercase()
    return (pl.when(lowered.is_in(list(locale.true_tokens))).then(True)
            .when(lowered.is_in(list(locale.false_tokens))).then(False)
            .otherwise(None).cast(pl.Boolean))


def id_expr(text: pl.Expr) -> pl.Expr:
    """Identifiers stay text; Excel's scientific notation (1.20211E+17) lost digits and is rejected."""
    return pl.when(text.str.contains(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")).then(None).otherwise(text)


def phone_e164(raw: str, default_region: str = "FI") -> str | None:
    """The number in E.164 (``+358401234567``), national numbers read in ``default_region``; None if not valid.

    ``(0)`` is the national trunk prefix some people write after the country code (``+358 (0)40 ...``).
    """
    import phonenumbers

    try:
        number = phonenumbers.parse(raw.replace("(0)", ""), default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_sha256_expr(text: pl.Expr, default_region: str = "FI", *, platform: Literal["google", "meta"] = "google"
                      ) -> pl.Expr:
    """sha256 of the phone as a platform matches it; NULL when the number is not valid.

    ``google``: E.164 with ``+`` (Customer Match); ``meta``: the same digits without ``+`` (custom audiences).
    """
    import hashlib

    keep_plus = platform == "google"

    def to_hash(raw: str) -> str | None:
        e164 = phone_e164(raw, default_region)
        if e164 is None:
            return None
        return hashlib.sha256((e164 if keep_plus else e164.removeprefix("+")).encode()).hexdigest()

    return text.map_elements(to_hash, return_dtype=pl.Utf8, skip_nulls=True)


NUMBER_KINDS = ("decimal", "int", "percent")
MAX_FAST_INT = 10**14  # Decimal(18, 4) holds 14 integer digits: larger whole numbers take the full parser (NULL)


def fast_number_expr(kind: FieldKind, text: pl.Expr, locale: Locale) -> pl.Expr:
    """The value of a plainly written number (``1,234.50`` / ``1 234,50``), NULL for anything else.

    One anchored regex and literal replaces, against the dozen passes of ``decimal_expr``. A cell it
    leaves NULL while the text is not is parsed again by ``decimal_expr`` / ``int_expr`` (see
    ``parse_table``), and on the cells it accepts both give the same value, so it is only a shortcut.
    """
    groups = [g for g in locale.group if g != locale.decimal]
    chars = "".join(f"\\x{{{ord(c):04X}}}" for c in groups)
    whole = rf"(?:[0-9]{{1,3}}(?:[{chars}][0-9]{{3}})+|[0-9]+)" if groups else "[0-9]+"
    fraction = "" if kind == "int" else rf"(?:\x{{{ord(locale.decimal):04X}}}[0-9]+)?"
    plain = text.str.contains(rf"^-?{whole}{fraction}$")
    digits = text.str.replace_all(f"[{chars}]", "") if groups else text
    if kind == "int":
        value = digits.cast(pl.Int64, strict=False)
        return pl.when(plain & (value.abs() < MAX_FAST_INT)).then(value)
    if locale.decimal != ".":
        digits = digits.str.replace_all(locale.decimal, ".", literal=True)
    value = pl.when(plain).then(digits).cast(pl.Decimal(18, 4), strict=False)
    return value.cast(pl.Float64) if kind == "percent" else value


def _typed(kind: FieldKind, text: pl.Expr, locale: Locale) -> pl.Expr:
    if kind == "text":
        return text
    if kind == "id":
        return id_expr(text)
    if kind == "int":
        return int_expr(text, locale)
    if kind == "decimal":
        return decimal_expr(text, locale)
    if kind == "percent":
        return decimal_expr(text, locale).cast(pl.Float64)
    if kind == "date":
        return date_expr(text, locale)
    if kind == "datetime":
        return datetime_expr(text, locale)
    if kind == "bool":
        return bool_expr(text, locale)
    if kind == "phone_sha256":
        return phone_sha256_expr(text)
    if kind == "phone_sha256_meta":
        return phone_sha256_expr(text, platform="meta")
    raise ValueError(f"unknown field kind {kind!r}")


# ---------------------------------------------------------------------------------------------

def parse_table(table: RawTable, fmt: SourceFormat, ctx: ParseContext) -> pl.DataFrame:
    """Typed canonical columns + ``row_number`` + ``_errors`` (list of reasons) + ``_raw`` (masked JSON)."""
    if fmt.prepare is not None:
        table = fmt.prepare(table, ctx)
    rows = table.rows
    present: dict[str, str] = {}
    missing_required: list[str] = []
    for spec in fmt.fields:
        header = table.column(*spec.headers)
        if header is not None:
            present[spec.target] = header
        elif spec.required:
            missing_required.append(f"{spec.target} (one of {', '.join(repr(h) for h in spec.headers)})")
    if missing_required:
        raise InputFileError(f"{fmt.name} export lacks required column(s): {'; '.join(missing_required)}",
                             file=ctx.file_name)

    # Three stages, each column computed once: text (trimmed, null tokens), typed value, errors. An
    # expression that used the text and the typed value inline would be evaluated once per use.
    specs = [spec for spec in fmt.fields if spec.target in present]
    raw_columns = [c for c in rows.columns if c != "row_number"]
    pii_headers = {present[s.target] for s in fmt.fields if s.pii and s.target in present}
    raw_json = pl.struct([
        (pl.lit("***") if c in pii_headers or looks_personal(c) else pl.col(c)).alias(c) for c in raw_columns
    ]).struct.json_encode() if raw_columns else pl.lit("{}")
    staged = rows.select(
        pl.col("row_number"),
        raw_json.alias("_raw"),
        *[clean_text(present[spec.target], fmt.null_tokens).alias(f"__text{i}") for i, spec in enumerate(specs)],
        *[pl.col(present[spec.target]).alias(f"__cell{i}") for i, spec in enumerate(specs)
          if spec.kind == "email_sha256"],
    )
    typed_exprs: list[pl.Expr] = []
    for i, spec in enumerate(specs):
        text = pl.col(f"__text{i}")
        if spec.kind == "email_sha256":
            typed = pl.when(text.is_null()).then(None).otherwise(email_sha256_expr(f"__cell{i}"))
        elif spec.kind in NUMBER_KINDS:
            typed = fast_number_expr(spec.kind, text, fmt.locale)
        else:
            typed = _typed(spec.kind, text, fmt.locale)
        typed_exprs.append(typed.alias(f"__value{i}"))
    staged = staged.with_columns(typed_exprs)
    for i, spec in enumerate(specs):
        if spec.kind in NUMBER_KINDS:  # the few cells the shortcut left: the full parser, on those rows only
            text, value = pl.col(f"__text{i}"), pl.col(f"__value{i}")
            slow = staged.filter(text.is_not_null() & value.is_null())
            if slow.height:
                slow = slow.select("row_number", _typed(spec.kind, text, fmt.locale).alias("__slow"))
                staged = (staged.join(slow, on="row_number", how="left", maintain_order="left")
                          .with_columns(pl.coalesce(value, pl.col("__slow")).alias(f"__value{i}")).drop("__slow"))
    error_exprs: list[pl.Expr] = []
    for i, spec in enumerate(specs):
        text, typed = pl.col(f"__text{i}"), pl.col(f"__value{i}")
        shown = pl.lit("(masked)") if spec.pii else text.str.slice(0, 40)
        if spec.kind != "text":
            error_exprs.append(
                pl.when(text.is_not_null() & typed.is_null())
                .then(pl.format("parse:{}: cannot read {} as {}", pl.lit(spec.target), shown, pl.lit(spec.kind)))
            )
        if spec.not_null:
            error_exprs.append(pl.when(text.is_null()).then(pl.lit(f"required:{spec.target}: value is missing")))
    typed = staged.select(
        pl.col("row_number"),
        *[pl.col(f"__value{i}").alias(spec.target) for i, spec in enumerate(specs)],
        pl.concat_list(error_exprs).list.drop_nulls().alias("_errors") if error_exprs
        else pl.lit([], dtype=pl.List(pl.Utf8)).alias("_errors"),
        pl.col("_raw"),
    )
    for name, value in fmt.constants.items():
        typed = typed.with_columns(pl.lit(value).alias(name))
    if fmt.derive is not None:
        typed = fmt.derive(typed, table, ctx)
    if table.bad_rows:
        bad = pl.DataFrame({"row_number": list(table.bad_rows), "_bad": list(table.bad_rows.values())},
                           schema={"row_number": pl.Int64, "_bad": pl.Utf8})
        typed = (typed.join(bad, on="row_number", how="left")
                 .with_columns(pl.when(pl.col("_bad").is_not_null())
                               .then(pl.col("_errors").list.concat(pl.concat_list(pl.col("_bad"))))
                               .otherwise(pl.col("_errors")).alias("_errors"))
                 .drop("_bad"))
    schema = ENTITIES[fmt.entity]
    missing = [pl.lit(None).cast(dtype).alias(name) for name, dtype in schema.items() if name not in typed.columns]
    typed = typed.with_columns(missing).with_columns(
        [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    )
    return typed.select("row_number", *schema.keys(), "_errors", "_raw")


_PERSONAL = re.compile(r"(?i)e-?mail|phone|puhelin|name|nimi|address|osoite|street|notes|note|comment|"
                       r"billing|shipping|card|iban|birth")


def looks_personal(header: str) -> bool:
    """Raw columns that may hold personal data are masked in quarantine, whatever the format says."""
    return bool(_PERSONAL.search(header)) and not re.search(r"(?i)campaign|ad set|ad name|account name|"
                                                           r"deal name|company|product|lineitem name|"
                                                           r"stage|pipeline|owner", header)


def price_tier_expr(gross_eur_like: pl.Expr) -> pl.Expr:
    """Price tier of an order from its gross amount: entry < 500 <= mid < 2,000 <= premium < 10,000 <= luxury."""
    return (pl.when(gross_eur_like.is_null()).then(None)
            .when(gross_eur_like < 500).then(pl.lit("entry"))
            .when(gross_eur_like < 2000).then(pl.lit("mid"))
            .when(gross_eur_like < 10000).then(pl.lit("premium"))
            .otherwise(pl.lit("luxury")))


def add_errors(frame: pl.DataFrame, condition: pl.Expr, reason: str | pl.Expr) -> pl.DataFrame:
    """Append ``reason`` to ``_errors`` of the rows where ``condition`` holds (for ``derive`` hooks)."""
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    return frame.with_columns(
        pl.when(condition.fill_null(False))
        .then(pl.col("_errors").list.concat(pl.concat_list(reason_expr)))
        .otherwise(pl.col("_errors"))
        .alias("_errors")
    )


def money(target: str, *headers: str, required: bool = False, not_null: bool = False) -> Field:
    """Shorthand for a decimal money field."""
    return Field(target, headers, "decimal", required=required, not_null=not_null)


__all__ = [
    "EN", "FI", "Field", "Locale", "MONEY", "NULL_TOKENS", "ParseContext", "SourceFormat",
    "bool_expr", "clean_text", "date_expr", "datetime_expr", "decimal_expr", "id_expr", "int_expr",
    "add_errors", "looks_personal", "money", "parse_table", "phone_e164", "phone_sha256_expr", "price_tier_expr",
]
