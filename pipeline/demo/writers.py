"""One writer per vendor export format of the demo (``docs/HELPER_DEMO_FORMATS.md``), byte for byte.

Each writer takes the world's frame for its source, formats every cell as text with polars
expressions (numbers from integer cents, so no float ever reaches a file), and writes one file per
demo day to ``<inbox>/<source>/<YYYY-MM-DD>/<file>`` (an empty day still gets its file with the
header). Files are overwritten; nothing is ever deleted. No clock is read: every date in a file,
``Date Generated`` included, derives from the day it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipeline.demo.world import ACCOUNTS, ERP_CATEGORY_FI, LANGUAGE, Period

HELSINKI = "Europe/Helsinki"
NBSP = "\u00a0"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
MONTH_ABBR = tuple(m[:3] for m in MONTHS)
META_RESULT_INDICATOR = "actions:offsite_conversion.fb_pixel_purchase"


# ---------------------------------------------------------------------------------------------
# formatting helpers


def _grouped(units: pl.Expr, separator: str) -> pl.Expr:
    """A non-negative integer with a thousands separator: 1234567 -> '1,234,567'."""

    def part(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.Utf8).str.zfill(3)

    sep = pl.lit(separator)
    return (
        pl.when(units >= 1_000_000_000)
        .then(pl.concat_str([(units // 1_000_000_000).cast(pl.Utf8), sep, part((units // 1_000_000) % 1000), sep,
                             part((units // 1000) % 1000), sep, part(units % 1000)]))
        .when(units >= 1_000_000)
        .then(pl.concat_str([(units // 1_000_000).cast(pl.Utf8), sep, part((units // 1000) % 1000), sep,
                             part(units % 1000)]))
        .when(units >= 1000)
        .then(pl.concat_str([(units // 1000).cast(pl.Utf8), sep, part(units % 1000)]))
        .otherwise(units.cast(pl.Utf8))
    )


def amount(cents: pl.Expr, decimal: str = ".", thousands: str | None = None) -> pl.Expr:
    """Integer hundredths as text with two decimals: 123450 -> '1234.50' (or '1,234.50', '1 234,50')."""
    units = cents // 100
    whole = units.cast(pl.Utf8) if thousands is None else _grouped(units, thousands)
    return pl.concat_str([whole, pl.lit(decimal), (cents % 100).cast(pl.Utf8).str.zfill(2)])


def count(value: pl.Expr, thousands: str | None = None) -> pl.Expr:
    """An integer as text, optionally with a thousands separator."""
    return value.cast(pl.Utf8) if thousands is None else _grouped(value, thousands)


def _blank_zero(text: pl.Expr, value: pl.Expr) -> pl.Expr:
    """NULL (an empty cell) where the value is zero, as Meta leaves empty metrics."""
    return pl.when(value == 0).then(None).otherwise(text)


def _csv(frame: pl.DataFrame, separator: str = ",", line_terminator: str = "\n") -> str:
    """RFC-4180 text of a frame of text columns (quotes only where needed; NULL is an empty cell)."""
    return frame.write_csv(None, separator=separator, line_terminator=line_terminator, quote_style="necessary")


def _write(path: Path, data: bytes) -> None:
    """Write (or overwrite) one export file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _by_day(frame: pl.DataFrame, day_column: str) -> dict[date, pl.DataFrame]:
    """The frame split by a date column (days without rows are absent)."""
    if frame.is_empty():
        return {}
    return {key[0]: part for key, part in frame.partition_by(day_column, as_dict=True, maintain_order=True).items()}


def _days(period: Period) -> list[date]:
    """Every day of the period."""
    return [period.day(offset) for offset in range(period.days)]


def _long_date(day: date) -> str:
    """'August 3, 2026' without relying on the process locale."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def _fi_date(day: date) -> str:
    """Finnish short date d.m.yyyy."""
    return f"{day.day}.{day.month}.{day.year}"


def _local(column: str, fmt: str) -> pl.Expr:
    """A UTC timestamp column as Helsinki local time text."""
    return pl.col(column).dt.convert_time_zone(HELSINKI).dt.strftime(fmt)


# ---------------------------------------------------------------------------------------------
# ad platforms

GOOGLE_EN = ("Day", "Account name", "Customer ID", "Campaign", "Campaign ID", "Campaign type", "Currency code",
             "Cost", "Impr.", "Clicks", "Conversions", "Conv. value")
GOOGLE_TYPE_FI = {"Search": "Haku", "Display": "Display-verkosto", "Performance Max": "Performance Max"}
GOOGLE_FI = ("Päivä", "Tilin nimi", "Asiakastunnus", "Kampanja", "Kampanjan tunnus", "Kampanjatyyppi",
             "Valuuttakoodi", "Kustannus", "Näyttökerrat", "Napsautukset", "Konversiot", "Konv. arvo")


def is_finnish_google_day(period: Period, day: date) -> bool:
    """Every 7th demo day's Google export is the Finnish-UI UTF-16 variant."""
    return ((day - period.start).days + 1) % 7 == 0


def write_google_ads(inbox: Path, exports: pl.DataFrame, period: Period) -> tuple[int, int]:
    """google_ads/D/campaign_report_D.csv: days D-2..D with restated conversions; (files, data rows)."""
    account = ACCOUNTS["google_ads"]
    parts = _by_day(exports, "export_day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, exports.clear())
        finnish = is_finnish_google_day(period, day)
        first = max(day - timedelta(days=2), period.start)
        decimal, thousands = (",", NBSP) if finnish else (".", ",")
        day_text = pl.col("day").dt.strftime("%-d.%-m.%Y" if finnish else "%Y-%m-%d")
        body = part.select(
            day_text.alias("c0"),
            pl.lit(account["account_name"]).alias("c1"),
            pl.lit(account["account_id"]).alias("c2"),
            pl.col("campaign_name").alias("c3"),
            pl.col("campaign_id").alias("c4"),
            (pl.col("campaign_type").replace(GOOGLE_TYPE_FI) if finnish else pl.col("campaign_type")).alias("c5"),
            pl.lit("EUR").alias("c6"),
            amount(pl.col("spend_cents"), decimal, thousands).alias("c7"),
            count(pl.col("impressions"), thousands).alias("c8"),
            count(pl.col("clicks"), thousands).alias("c9"),
            amount(pl.col("conv_hundredths"), decimal, thousands).alias("c10"),
            amount(pl.col("value_cents"), decimal, thousands).alias("c11"),
        )
        totals = part.select(
            pl.col("spend_cents").sum(), pl.col("impressions").sum(), pl.col("clicks").sum(),
            pl.col("conv_hundredths").sum(), pl.col("value_cents").sum(),
        ).select(
            amount(pl.col("spend_cents").fill_null(0), decimal, thousands).alias("c7"),
            count(pl.col("impressions").fill_null(0), thousands).alias("c8"),
            count(pl.col("clicks").fill_null(0), thousands).alias("c9"),
            amount(pl.col("conv_hundredths").fill_null(0), decimal, thousands).alias("c10"),
            amount(pl.col("value_cents").fill_null(0), decimal, thousands).alias("c11"),
        )
        labels = ("Yhteensä: tili", "Yhteensä: kampanjat") if finnish else ("Total: Account", "Total: Campaigns")
        total_rows = [
            totals.select(pl.lit(label).alias("c0"), *[pl.lit("--").alias(f"c{k}") for k in range(1, 6)],
                          pl.lit("EUR").alias("c6"), pl.all())
            for label in labels
        ]
        table = pl.concat([body, *total_rows]).rename(
            dict(zip([f"c{k}" for k in range(12)], GOOGLE_FI if finnish else GOOGLE_EN, strict=True)))
        if finnish:
            title = f'Kampanjaraportti\r\n"{_fi_date(first)} - {_fi_date(day)}"\r\n'
            text = title + _csv(table, separator="\t", line_terminator="\r\n")
            data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
        else:
            title = f'Campaign report\r\n"{_long_date(first)} - {_long_date(day)}"\r\n'
            data = (title + _csv(table, line_terminator="\r\n")).encode("utf-8")
        _write(inbox / "google_ads" / day.isoformat() / f"campaign_report_{day.isoformat()}.csv", data)
        rows += body.height
    return period.days, rows


META_HEADER = ("Reporting starts", "Reporting ends", "Account ID", "Campaign name", "Campaign ID", "Delivery",
               "Results", "Result indicator", "Reach", "Impressions", "Link clicks", "Amount spent (EUR)",
               "Purchases", "Purchases conversion value")


def meta_file_name(day: date) -> str:
    """Kohde-Demo-Campaigns-Aug-3-2026-Aug-3-2026.csv: Ads Manager names the file after the range."""
    stamp = f"{MONTH_ABBR[day.month - 1]}-{day.day}-{day.year}"
    return f"Kohde-Demo-Campaigns-{stamp}-{stamp}.csv"


def write_meta_ads(inbox: Path, ad_daily: pl.DataFrame, period: Period) -> tuple[int, int]:
    """meta_ads/D/Kohde-Demo-Campaigns-<range>.csv: one row per campaign for day D (UTF-8 with BOM)."""
    meta = ad_daily.filter(pl.col("platform") == "meta_ads")
    purchases = pl.col("conversions").round(0).cast(pl.Int64)
    value_cents = (pl.col("conversion_value_eur") * 100).round(0).cast(pl.Int64)
    table = meta.select(
        pl.col("day"),
        pl.col("day").dt.strftime("%Y-%m-%d").alias("Reporting starts"),
        pl.col("day").dt.strftime("%Y-%m-%d").alias("Reporting ends"),
        pl.lit(ACCOUNTS["meta_ads"]["account_id"]).alias("Account ID"),
        pl.col("campaign_name").alias("Campaign name"),
        pl.col("campaign_id").alias("Campaign ID"),
        pl.lit("active").alias("Delivery"),
        _blank_zero(count(purchases), purchases).alias("Results"),
        pl.lit(META_RESULT_INDICATOR).alias("Result indicator"),
        count(pl.col("reach")).alias("Reach"),
        count(pl.col("impressions")).alias("Impressions"),
        count(pl.col("clicks")).alias("Link clicks"),
        amount(pl.col("spend_cents")).alias("Amount spent (EUR)"),
        _blank_zero(count(purchases), purchases).alias("Purchases"),
        _blank_zero(amount(value_cents), value_cents).alias("Purchases conversion value"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        _write(inbox / "meta_ads" / day.isoformat() / meta_file_name(day), ("\ufeff" + _csv(part)).encode("utf-8"))
        rows += part.height
    return period.days, rows


def _us_date(day: date) -> str:
    """LinkedIn's m/d/yyyy."""
    return f"{day.month}/{day.day}/{day.year}"


def write_linkedin_ads(inbox: Path, ad_daily: pl.DataFrame, period: Period) -> tuple[int, int]:
    """linkedin_ads/D/campaign_performance_report_D.csv: five metadata lines, then one row per campaign."""
    account = ACCOUNTS["linkedin_ads"]
    table = ad_daily.filter(pl.col("platform") == "linkedin_ads").select(
        pl.col("day"),
        pl.col("day").dt.strftime("%-m/%-d/%Y").alias("Start Date (in UTC)"),
        pl.lit(account["account_name"]).alias("Account Name"),
        pl.col("campaign_name").alias("Campaign Name"),
        pl.col("campaign_id").alias("Campaign ID"),
        pl.col("campaign_type").alias("Campaign Type"),
        pl.col("objective").alias("Campaign Objective"),
        pl.lit("EUR").alias("Currency"),
        amount(pl.col("spend_cents")).alias("Total Spent"),
        count(pl.col("impressions")).alias("Impressions"),
        count(pl.col("clicks")).alias("Clicks"),
        count(pl.col("leads")).alias("Leads"),
        count(pl.col("conversions").round(0).cast(pl.Int64)).alias("Conversions"),
        amount((pl.col("conversion_value_eur") * 100).round(0).cast(pl.Int64)).alias("Conversion Value"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        generated = day + timedelta(days=1)
        minute = (day.toordinal() * 7) % 60
        head = (
            "Campaign Performance Report (in UTC)\n"
            f"Report Start: {_us_date(day)}\n"
            f"Report End: {_us_date(day)}\n"
            f"Date Generated: {_us_date(generated)} 3:{minute:02d} AM\n"
            f"Account: {account['account_name']} ({account['account_id']})\n"
        )
        _write(inbox / "linkedin_ads" / day.isoformat() / f"campaign_performance_report_{day.isoformat()}.csv",
               (head + _csv(part)).encode("utf-8"))
        rows += part.height
    return period.days, rows


def write_adroll(inbox: Path, ad_daily: pl.DataFrame, period: Period) -> tuple[int, int]:
    """adroll/D/adroll_campaigns_D.csv: one row per campaign with click- and view-through conversions."""
    clicks_conv = pl.col("click_conversions").round(0).cast(pl.Int64)
    table = ad_daily.filter(pl.col("platform") == "adroll").select(
        pl.col("day"),
        pl.col("day").dt.strftime("%Y-%m-%d").alias("Date"),
        pl.lit(ACCOUNTS["adroll"]["account_name"]).alias("Advertisable"),
        pl.col("campaign_name").alias("Campaign"),
        pl.col("campaign_id").alias("Campaign ID"),
        pl.lit("EUR").alias("Currency"),
        amount(pl.col("spend_cents")).alias("Spend"),
        count(pl.col("impressions")).alias("Impressions"),
        count(pl.col("clicks")).alias("Clicks"),
        count(clicks_conv).alias("Click-through conversions"),
        count(pl.col("conversions").round(0).cast(pl.Int64) - clicks_conv).alias("View-through conversions"),
        amount((pl.col("conversion_value_eur") * 100).round(0).cast(pl.Int64)).alias("Attributed revenue"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        _write(inbox / "adroll" / day.isoformat() / f"adroll_campaigns_{day.isoformat()}.csv",
               _csv(part).encode("utf-8"))
        rows += part.height
    return period.days, rows


# ---------------------------------------------------------------------------------------------
# CRM


def write_hubspot_contacts(inbox: Path, contacts: pl.DataFrame, period: Period) -> tuple[int, int]:
    """crm_contacts/D/hubspot-crm-exports-all-contacts-D.csv: contacts created on D (backlog on day 1)."""
    satisfaction = pl.col("satisfaction_tenths")
    table = contacts.sort("created_at", "record_id", maintain_order=True).select(
        pl.col("file_day"),
        pl.col("record_id").alias("Record ID"),
        pl.col("first_name").alias("First Name"),
        pl.col("last_name").alias("Last Name"),
        pl.col("email").alias("Email"),
        pl.col("phone").alias("Phone Number"),
        _local("created_at", "%Y-%m-%d %H:%M").alias("Create Date"),
        _local("modified_at", "%Y-%m-%d %H:%M").alias("Last Modified Date"),
        pl.col("lifecycle_stage").alias("Lifecycle Stage"),
        pl.col("original_source").alias("Original Source"),
        pl.col("birth_year").cast(pl.Utf8).alias("Birth Year"),
        pl.col("gender").alias("Gender"),
        pl.col("income_band").alias("Income Band"),
        pl.col("education").alias("Education"),
        pl.col("city").alias("City"),
        pl.col("postal_code").alias("Postal Code"),
        pl.col("country").alias("Country/Region"),
        pl.col("country").replace_strict(LANGUAGE, default=None).alias("Preferred language"),
        pl.col("values").alias("Values"),
        pl.col("brand_loyalty").alias("Brand Loyalty"),
        pl.col("purchase_motive").alias("Purchase Motive"),
        pl.col("lifestyle").alias("Lifestyle"),
        pl.concat_str([(satisfaction // 10).cast(pl.Utf8), pl.lit("."), (satisfaction % 10).cast(pl.Utf8)]).alias(
            "Satisfaction Score"),
        pl.col("company").alias("Company Name"),
        pl.col("industry").alias("Industry"),
        pl.col("employees").cast(pl.Utf8).alias("Number of Employees"),
        pl.col("annual_revenue").alias("Annual Revenue"),
        pl.col("marketing_consent").alias("Marketing consent"),
        pl.when(pl.col("unsubscribed")).then(pl.lit("true")).otherwise(pl.lit("false")).alias(
            "Unsubscribed from all email"),
    )
    parts = _by_day(table, "file_day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("file_day")
        _write(inbox / "crm_contacts" / day.isoformat() / f"hubspot-crm-exports-all-contacts-{day.isoformat()}.csv",
               _csv(part).encode("utf-8"))
        rows += part.height
    return period.days, rows


def write_hubspot_deals(inbox: Path, deals: pl.DataFrame, period: Period) -> tuple[int, int]:
    """crm_deals/D/hubspot-crm-exports-all-deals-D.csv: each deal created or changed on D, as it stood."""
    table = deals.sort("day", "deal_id", maintain_order=True).select(
        pl.col("day"),
        pl.col("deal_id").alias("Record ID"),
        pl.col("deal_name").alias("Deal Name"),
        pl.col("stage").alias("Deal Stage"),
        pl.lit("Sales Pipeline").alias("Pipeline"),
        pl.col("amount").round(0).cast(pl.Int64).cast(pl.Utf8).alias("Amount"),
        pl.col("currency").alias("Currency"),
        _local("created_at", "%Y-%m-%d %H:%M").alias("Create Date"),
        _local("close_at", "%Y-%m-%d %H:%M").alias("Close Date"),
        pl.col("owner").alias("Deal owner"),
        pl.col("company").alias("Associated Company"),
        pl.col("email").alias("Associated Contact"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        _write(inbox / "crm_deals" / day.isoformat() / f"hubspot-crm-exports-all-deals-{day.isoformat()}.csv",
               _csv(part).encode("utf-8"))
        rows += part.height
    return period.days, rows


def write_touchpoints(inbox: Path, touchpoints: pl.DataFrame, period: Period) -> tuple[int, int]:
    """crm_touchpoints/D/marketing_events_D.csv: the touches that happened on D (UTC)."""
    table = touchpoints.select(
        pl.col("day"),
        pl.col("event_id").alias("Event ID"),
        pl.col("email").alias("Contact Email"),
        pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("Timestamp (UTC)"),
        pl.col("touch_type").alias("Event Type"),
        pl.col("channel").alias("Channel"),
        pl.col("platform").alias("Platform"),
        pl.col("campaign_id").alias("Campaign ID"),
        pl.col("utm_source").alias("UTM Source"),
        pl.col("utm_medium").alias("UTM Medium"),
        pl.col("utm_campaign").alias("UTM Campaign"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        _write(inbox / "crm_touchpoints" / day.isoformat() / f"marketing_events_{day.isoformat()}.csv",
               _csv(part).encode("utf-8"))
        rows += part.height
    return period.days, rows


# ---------------------------------------------------------------------------------------------
# orders

SHOPIFY_STATUS = {"paid": "paid", "pending": "pending", "refunded": "refunded",
                  "partially_refunded": "partially_refunded", "cancelled": "voided"}
STRIPE_STATUS = {"paid": "Paid", "pending": "Paid", "refunded": "Refunded", "partially_refunded": "Paid",
                 "cancelled": "Failed"}
ERP_STATUS = {"paid": "Maksettu", "pending": "Avoin", "refunded": "Hyvitetty",
              "partially_refunded": "Osittain hyvitetty", "cancelled": "Peruttu"}


def write_shopify_orders(inbox: Path, orders: pl.DataFrame, lines: pl.DataFrame, period: Period) -> tuple[int, int]:
    """orders/D/orders_export_1.csv: one row per line item, order fields on the order's first row only."""
    shop = orders.filter(pl.col("source_system") == "shopify")
    first = pl.col("_line") == 0
    was_paid = pl.col("status").is_in(["paid", "refunded", "partially_refunded"])
    stamp = "%Y-%m-%d %H:%M:%S %z"

    def head(expr: pl.Expr) -> pl.Expr:
        return pl.when(first).then(expr).otherwise(None)

    table = (
        lines.join(shop, on="order_pos", how="inner", maintain_order="left")
        .sort("ordered_at", "order_pos", maintain_order=True)
        .with_columns(pl.int_range(pl.len()).over("order_pos").alias("_line"))
        .select(
            pl.col("day"),
            pl.col("shopify_name").alias("Name"),
            pl.col("email").alias("Email"),
            head(pl.col("status").replace_strict(SHOPIFY_STATUS)).alias("Financial Status"),
            head(pl.when(was_paid).then(_local("paid_at", stamp))).alias("Paid at"),
            head(pl.col("currency")).alias("Currency"),
            head(amount(pl.col("subtotal_cents"))).alias("Subtotal"),
            head(amount(pl.col("shipping_cents"))).alias("Shipping"),
            head(amount(pl.col("tax_cents"))).alias("Taxes"),
            head(amount(pl.col("total_cents"))).alias("Total"),
            head(pl.col("discount_code")).alias("Discount Code"),
            head(amount(pl.col("discount_cents"))).alias("Discount Amount"),
            head(_local("ordered_at", stamp)).alias("Created at"),
            pl.col("quantity").cast(pl.Utf8).alias("Lineitem quantity"),
            pl.col("name").alias("Lineitem name"),
            amount(pl.col("unit_cents")).alias("Lineitem price"),
            pl.col("sku").alias("Lineitem sku"),
            head(amount(pl.col("refund_cents"))).alias("Refunded Amount"),
            head(pl.col("first_name") + pl.lit(" ") + pl.col("last_name")).alias("Billing Name"),
            head(pl.col("shopify_id")).alias("Id"),
            head(pl.lit("category:") + pl.col("category")).alias("Tags"),
            head(pl.lit("web")).alias("Source"),
        )
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        _write(inbox / "orders" / day.isoformat() / "orders_export_1.csv", _csv(part).encode("utf-8"))
        rows += part.height
    return period.days, rows


def write_stripe_payments(inbox: Path, orders: pl.DataFrame, period: Period) -> tuple[int, int]:
    """orders/D/unified_payments_D.csv: one row per charge (UTC), amounts in the charge currency."""
    table = orders.filter(pl.col("source_system") == "stripe").select(
        pl.col("day"),
        pl.col("stripe_id").alias("id"),
        pl.col("ordered_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("Created date (UTC)"),
        amount(pl.col("subtotal_cents")).alias("Amount"),
        amount(pl.col("refund_cents")).alias("Amount Refunded"),
        pl.col("currency").str.to_lowercase().alias("Currency"),
        pl.when(pl.col("status") == "cancelled").then(pl.lit("false")).otherwise(pl.lit("true")).alias("Captured"),
        pl.col("status").replace_strict(STRIPE_STATUS).alias("Status"),
        pl.lit("Live").alias("Mode"),
        pl.col("stripe_customer_id").alias("Customer ID"),
        pl.col("email").alias("Customer Email"),
        pl.col("description").alias("Description"),
        amount(pl.col("fee_cents")).alias("Fee"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        _write(inbox / "orders" / day.isoformat() / f"unified_payments_{day.isoformat()}.csv",
               _csv(part).encode("utf-8"))
        rows += part.height
    return period.days, rows


def write_erp_orders(inbox: Path, orders: pl.DataFrame, period: Period) -> tuple[int, int]:
    """orders/D/myyntitilaukset_D.csv: Finnish Excel CSV (cp1252, sep=; line, decimal comma, NBSP, CRLF)."""
    net = pl.col("lines_cents") - pl.col("discount_cents") - pl.col("refund_cents")
    table = orders.filter(pl.col("source_system") == "erp").select(
        pl.col("day"),
        pl.col("erp_number").alias("Tilausnumero"),
        pl.col("erp_customer_no").alias("Asiakasnumero"),
        pl.col("email").alias("Sähköposti"),
        _local("ordered_at", "%d.%m.%Y").alias("Tilauspäivä"),
        pl.col("currency").alias("Valuutta"),
        amount(pl.col("lines_cents"), ",", NBSP).alias("Brutto"),
        amount(pl.col("discount_cents"), ",", NBSP).alias("Alennus"),
        amount(pl.col("refund_cents"), ",", NBSP).alias("Hyvitys"),
        amount(net, ",", NBSP).alias("Netto"),
        pl.col("status").replace_strict(ERP_STATUS).alias("Tila"),
        pl.col("category").replace_strict(ERP_CATEGORY_FI).alias("Tuoteryhmä"),
    )
    parts = _by_day(table, "day")
    rows = 0
    for day in _days(period):
        part = parts.get(day, table.clear()).drop("day")
        text = "sep=;\r\n" + _csv(part, separator=";", line_terminator="\r\n")
        _write(inbox / "orders" / day.isoformat() / f"myyntitilaukset_{day.isoformat()}.csv", text.encode("cp1252"))
        rows += part.height
    return period.days, rows


# ---------------------------------------------------------------------------------------------
# plan


def _number(value: pl.Expr) -> pl.Expr:
    """A plan number as people type it: whole numbers without decimals, others with two."""
    whole = (value.round(0) == value)
    return pl.when(whole).then(value.round(0).cast(pl.Int64).cast(pl.Utf8)).otherwise(
        amount((value * 100).round(0).cast(pl.Int64)))


def write_plan(inbox: Path, goals: pl.DataFrame, budgets: pl.DataFrame, sales_costs: pl.DataFrame,
               fx_rates: pl.DataFrame, period: Period) -> tuple[int, int]:
    """plan/<first day>/goals.csv, budgets.csv, sales_costs.csv and fx_rates.csv, written once."""
    folder = inbox / "plan" / period.start.isoformat()
    iso = "%Y-%m-%d"
    goal_table = goals.select(
        "goal_id", "description", "metric", _number(pl.col("target")).alias("target"), "target_kind",
        *[pl.col(c).dt.strftime(iso).alias(c) for c in ("period_start", "period_end", "baseline_start",
                                                        "baseline_end")],
        "owner", "channel", "segment",
    )
    budget_table = budgets.select(
        pl.col("month").dt.strftime("%Y-%m").alias("month"), "channel", "currency",
        amount((pl.col("amount") * 100).round(0).cast(pl.Int64)).alias("amount"),
    )
    cost_table = sales_costs.select(
        pl.col("month").dt.strftime("%Y-%m").alias("month"), "kind", "category", "currency",
        amount((pl.col("amount") * 100).round(0).cast(pl.Int64)).alias("amount"),
    )
    fx_table = fx_rates.select(
        pl.col("date").dt.strftime(iso).alias("date"), "currency",
        pl.col("eur_per_unit").map_elements(lambda v: f"{v:.5f}", return_dtype=pl.Utf8).alias("eur_per_unit"),
    )
    tables: Sequence[tuple[str, pl.DataFrame]] = (
        ("goals.csv", goal_table), ("budgets.csv", budget_table), ("sales_costs.csv", cost_table),
        ("fx_rates.csv", fx_table),
    )
    for name, table in tables:
        _write(folder / name, _csv(table).encode("utf-8"))
    return len(tables), sum(table.height for _, table in tables)
