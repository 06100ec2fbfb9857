"""The demo generator: determinism, the file set, each format's bytes, data invariants and the story."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.channels import CHANNELS
from pipeline.demo import CHANNEL_LIFT, generate_demo
from pipeline.demo.world import build_world
from pipeline.demo.writers import amount, count, is_finnish_google_day, meta_file_name

START = date(2026, 8, 3)
DAILY_SOURCES = ("google_ads", "meta_ads", "linkedin_ads", "adroll", "crm_contacts", "crm_deals", "crm_touchpoints")
SOURCES = (*DAILY_SOURCES, "orders", "plan")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(data: bytes, encoding: str = "utf-8", delimiter: str = ",", skip: int = 0) -> list[dict[str, str]]:
    text = data.decode(encoding).lstrip("\ufeff")
    lines = text.splitlines()[skip:]
    return list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter))


def _number(text: str, decimal: str = ".") -> Decimal:
    """A vendor number back to a Decimal: '1,234.50' (EN) or '1 234,50' with NBSP (FI)."""
    if decimal == ",":
        return Decimal(text.replace("\u00a0", "").replace(",", "."))
    return Decimal(text.replace(",", ""))


@pytest.fixture(scope="module")
def ten_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    inbox = tmp_path_factory.mktemp("ten") / "inbox"
    return inbox, generate_demo(inbox, START, 10, 300, 7)


@pytest.fixture(scope="module")
def thirty_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = tmp_path_factory.mktemp("thirty") / "inbox"
    generate_demo(inbox, START, 30, 1000, 11)
    return inbox


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    inbox = tmp_path_factory.mktemp("default") / "inbox"
    return inbox, generate_demo(inbox, START, 90, 2000, 7)


# ------------------------------------------------------------------------------------------------
# formatting helpers


def test_amount_and_count_formatting() -> None:
    frame = pl.DataFrame({"v": [0, 5, 123456, 123456789012]})
    got = frame.select(
        amount(pl.col("v")).alias("plain"),
        amount(pl.col("v"), ".", ",").alias("en"),
        amount(pl.col("v"), ",", "\u00a0").alias("fi"),
        count(pl.col("v"), ",").alias("count"),
    )
    # 123456 hundredths = 1234.56; 123456789012 hundredths = 1,234,567,890.12
    assert got["plain"].to_list() == ["0.00", "0.05", "1234.56", "1234567890.12"]
    assert got["en"].to_list() == ["0.00", "0.05", "1,234.56", "1,234,567,890.12"]
    assert got["fi"].to_list() == ["0,00", "0,05", "1\u00a0234,56", "1\u00a0234\u00a0567\u00a0890,12"]
    assert got["count"].to_list() == ["0", "5", "123,456", "123,456,789,012"]


def test_meta_file_name_and_finnish_google_days() -> None:
    assert meta_file_name(date(2026, 11, 1)) == "Kohde-Demo-Campaigns-Nov-1-2026-Nov-1-2026.csv"
    period = build_world(START, 14, 50, 1).period
    finnish = [d for d in range(14) if is_finnish_google_day(period, START + timedelta(days=d))]
    assert finnish == [6, 13]  # the 7th and 14th demo days


# ------------------------------------------------------------------------------------------------
# determinism and the file set


def test_same_seed_writes_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", START, 10, 300, 7)
    generate_demo(tmp_path / "b", START, 10, 300, 7)
    generate_demo(tmp_path / "c", START, 10, 300, 8)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys()
    differing = [name for name in a if a[name] != c[name]]
    assert any(name.startswith("crm_contacts/") for name in differing)
    assert any(name.startswith("orders/") for name in differing)
    assert any(name.startswith("google_ads/") for name in differing)


def test_file_set_of_a_ten_day_run(ten_days: tuple[Path, object]) -> None:
    inbox, summary = ten_days
    days = [(START + timedelta(days=k)).isoformat() for k in range(10)]
    assert sorted(p.name for p in inbox.iterdir()) == sorted(SOURCES)
    expected_name = {
        "google_ads": "campaign_report_{d}.csv",
        "linkedin_ads": "campaign_performance_report_{d}.csv",
        "adroll": "adroll_campaigns_{d}.csv",
        "crm_contacts": "hubspot-crm-exports-all-contacts-{d}.csv",
        "crm_deals": "hubspot-crm-exports-all-deals-{d}.csv",
        "crm_touchpoints": "marketing_events_{d}.csv",
    }
    for source in DAILY_SOURCES:
        assert sorted(p.name for p in (inbox / source).iterdir()) == days, source
        for d in days:
            files = [p.name for p in (inbox / source / d).iterdir()]
            assert len(files) == 1, (source, d)
            if source in expected_name:
                assert files == [expected_name[source].format(d=d)]
    for d in days:
        assert sorted(p.name for p in (inbox / "orders" / d).iterdir()) == sorted(
            ["orders_export_1.csv", f"unified_payments_{d}.csv", f"myyntitilaukset_{d}.csv"])
    assert [p.name for p in (inbox / "plan").iterdir()] == [days[0]]
    assert sorted(p.name for p in (inbox / "plan" / days[0]).iterdir()) == [
        "budgets.csv", "fx_rates.csv", "goals.csv", "sales_costs.csv"]
    assert summary.files == {"google_ads": 10, "meta_ads": 10, "linkedin_ads": 10, "adroll": 10,
                             "crm_contacts": 10, "crm_deals": 10, "crm_touchpoints": 10, "orders": 30, "plan": 4}
    assert (summary.start, summary.end, summary.days) == (START, START + timedelta(days=9), 10)
    assert summary.rows["crm_contacts"] == 300  # every contact exactly once


def test_rerun_overwrites_its_files_and_deletes_nothing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    generate_demo(inbox, START, 3, 100, 7)
    clean = _files(inbox)
    foreign = inbox / "google_ads" / START.isoformat() / "my_own_export.csv"
    foreign.write_bytes(b"keep me")
    other = inbox / "salesforce_dump" / "x.csv"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"keep me too")
    (inbox / "meta_ads" / START.isoformat() / meta_file_name(START)).write_bytes(b"stale")
    generate_demo(inbox, START, 3, 100, 7)
    after = _files(inbox)
    assert foreign.read_bytes() == b"keep me" and other.read_bytes() == b"keep me too"
    assert {k: v for k, v in after.items() if k in clean} == clean


def test_summary_carries_the_truth(ten_days: tuple[Path, object]) -> None:
    _, summary = ten_days
    assert summary.channel_lift == CHANNEL_LIFT
    assert set(summary.channel_lift) == set(CHANNELS)
    assert summary.channel_lift["display_retargeting"] == 1.0  # retargeting doubles conversion
    assert set(summary.incremental_conversions) == set(CHANNELS)
    assert summary.incremental_conversions["direct"] == 0.0  # no lift, nothing incremental
    assert set(summary.goal_expected_status) == {"G1", "G2", "G3", "G4", "G5"}


# ------------------------------------------------------------------------------------------------
# formats, byte for byte


def test_google_english_file_layout_and_totals(ten_days: tuple[Path, object]) -> None:
    inbox, _ = ten_days
    day3 = START + timedelta(days=2)
    data = (inbox / "google_ads" / day3.isoformat() / f"campaign_report_{day3.isoformat()}.csv").read_bytes()
    assert data.startswith(b'Campaign report\r\n"August 3, 2026 - August 5, 2026"\r\n'
                           b"Day,Account name,Customer ID,Campaign,Campaign ID,Campaign type,Currency code,Cost,"
                           b"Impr.,Clicks,Conversions,Conv. value\r\n")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\n") == data.count(b"\r\n")
    rows = _rows(data, skip=2)
    body = [r for r in rows if not r["Day"].startswith("Total:")]
    totals = [r for r in rows if r["Day"].startswith("Total:")]
    assert [r["Day"] for r in totals] == ["Total: Account", "Total: Campaigns"]
    assert rows[-2:] == totals
    assert {r["Day"] for r in body} == {"2026-08-03", "2026-08-04", "2026-08-05"}
    assert totals[0]["Campaign"] == "--" and totals[0]["Currency code"] == "EUR"
    for column in ("Cost", "Impr.", "Clicks", "Conversions", "Conv. value"):
        assert sum(_number(r[column]) for r in body) == _number(totals[0][column]) == _number(totals[1][column])


def test_google_finnish_variant_every_seventh_day_with_the_same_numbers(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    generate_demo(inbox, START, 8, 200, 7)
    day7 = START + timedelta(days=6)
    data = (inbox / "google_ads" / day7.isoformat() / f"campaign_report_{day7.isoformat()}.csv").read_bytes()
    assert data.startswith(b"\xff\xfe")
    text = data.decode("utf-16")
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == "Kampanjaraportti"
    assert lines[1] == '"7.8.2026 - 9.8.2026"'
    assert lines[2].split("\t") == ["Päivä", "Tilin nimi", "Asiakastunnus", "Kampanja", "Kampanjan tunnus",
                                    "Kampanjatyyppi", "Valuuttakoodi", "Kustannus", "Näyttökerrat",
                                    "Napsautukset", "Konversiot", "Konv. arvo"]
    assert lines[-1] == ""  # CRLF after the last row
    assert lines[-3].startswith("Yhteensä: tili\t--") and lines[-2].startswith("Yhteensä: kampanjat\t--")
    assert "\u00a0" in text  # thousands separated with NBSP
    fi = _rows(data, "utf-16", "\t", skip=2)
    fi = [r for r in fi if not r["Päivä"].startswith("Yhteensä")]
    # the neighbouring English exports report the same cost, impressions and clicks for those days,
    # and conversions only grow as Google restates them
    for other_day in (START + timedelta(days=5), START + timedelta(days=7)):
        en_data = (inbox / "google_ads" / other_day.isoformat()
                   / f"campaign_report_{other_day.isoformat()}.csv").read_bytes()
        assert en_data.startswith(b"Campaign report\r\n")
        en = {(r["Day"], r["Campaign ID"]): r for r in _rows(en_data, skip=2) if not r["Day"].startswith("Total")}
        shared = 0
        for r in fi:
            d, m, y = (int(x) for x in r["Päivä"].split("."))
            key = (date(y, m, d).isoformat(), r["Kampanjan tunnus"])
            if key not in en:
                continue
            shared += 1
            assert _number(r["Kustannus"], ",") == _number(en[key]["Cost"])
            assert _number(r["Näyttökerrat"], ",") == _number(en[key]["Impr."])
            assert _number(r["Napsautukset"], ",") == _number(en[key]["Clicks"])
            fi_conv, en_conv = _number(r["Konversiot"], ","), _number(en[key]["Conversions"])
            assert en_conv <= fi_conv if other_day < day7 else fi_conv <= en_conv
        assert shared >= 8  # two shared days x four always-on campaigns


def test_meta_linkedin_adroll_layouts(ten_days: tuple[Path, object]) -> None:
    inbox, _ = ten_days
    day = START + timedelta(days=4)
    meta = (inbox / "meta_ads" / day.isoformat() / meta_file_name(day)).read_bytes()
    assert meta.startswith(b"\xef\xbb\xbfReporting starts,Reporting ends,Account ID,Campaign name,Campaign ID,"
                           b"Delivery,Results,Result indicator,Reach,Impressions,Link clicks,Amount spent (EUR),"
                           b"Purchases,Purchases conversion value\n")
    meta_rows = _rows(meta)
    assert meta_rows and all(r["Reporting starts"] == r["Reporting ends"] == day.isoformat() for r in meta_rows)
    assert all(r["Account ID"] == "act_1029384756" for r in meta_rows)

    linkedin = (inbox / "linkedin_ads" / day.isoformat()
                / f"campaign_performance_report_{day.isoformat()}.csv").read_bytes().decode("utf-8")
    lines = linkedin.split("\n")
    assert lines[:4] == ["Campaign Performance Report (in UTC)", "Report Start: 8/7/2026", "Report End: 8/7/2026",
                         lines[3]]
    assert lines[3].startswith("Date Generated: 8/8/2026 3:") and lines[3].endswith(" AM")
    assert lines[4] == "Account: Kohde Demo Oy (508123456)"
    assert lines[5].startswith("Start Date (in UTC),Account Name,Campaign Name,Campaign ID,")
    assert all(r["Start Date (in UTC)"] == "8/7/2026" for r in _rows(linkedin.encode(), skip=5))

    adroll = (inbox / "adroll" / day.isoformat() / f"adroll_campaigns_{day.isoformat()}.csv").read_bytes()
    assert adroll.startswith(b"Date,Advertisable,Campaign,Campaign ID,Currency,Spend,Impressions,Clicks,"
                             b"Click-through conversions,View-through conversions,Attributed revenue\n")
    assert {r["Campaign ID"] for r in _rows(adroll)} == {"RTG7H2K9Q1", "RTG7H2K9Q2"}


def test_crm_and_plan_headers(ten_days: tuple[Path, object]) -> None:
    inbox, _ = ten_days
    d = START.isoformat()
    contacts = (inbox / "crm_contacts" / d / f"hubspot-crm-exports-all-contacts-{d}.csv").read_bytes()
    assert contacts.split(b"\n")[0].decode() == (
        "Record ID,First Name,Last Name,Email,Phone Number,Create Date,Last Modified Date,Lifecycle Stage,"
        "Original Source,Birth Year,Gender,Income Band,Education,City,Postal Code,Country/Region,Preferred language,"
        "Values,Brand Loyalty,Purchase Motive,Lifestyle,Satisfaction Score,Company Name,Industry,Number of Employees,"
        "Annual Revenue,Marketing consent,Unsubscribed from all email")
    deals = (inbox / "crm_deals" / d / f"hubspot-crm-exports-all-deals-{d}.csv").read_bytes()
    assert deals.split(b"\n")[0] == (b"Record ID,Deal Name,Deal Stage,Pipeline,Amount,Currency,Create Date,"
                                     b"Close Date,Deal owner,Associated Company,Associated Contact")
    events = (inbox / "crm_touchpoints" / d / f"marketing_events_{d}.csv").read_bytes()
    assert events.split(b"\n")[0] == (b"Event ID,Contact Email,Timestamp (UTC),Event Type,Channel,Platform,"
                                      b"Campaign ID,UTM Source,UTM Medium,UTM Campaign")
    plan = inbox / "plan" / d
    assert (plan / "goals.csv").read_bytes().split(b"\n")[0] == (
        b"goal_id,description,metric,target,target_kind,period_start,period_end,baseline_start,baseline_end,"
        b"owner,channel,segment")
    assert (plan / "budgets.csv").read_bytes().split(b"\n")[0] == b"month,channel,currency,amount"
    assert (plan / "sales_costs.csv").read_bytes().split(b"\n")[0] == b"month,kind,category,currency,amount"
    assert (plan / "fx_rates.csv").read_bytes().split(b"\n")[0] == b"date,currency,eur_per_unit"
    fx = _rows((plan / "fx_rates.csv").read_bytes())
    assert {r["currency"] for r in fx} == {"USD", "SEK"}
    assert {r["date"] for r in fx} == {"2026-08-01"}


def test_order_formats(thirty_days: Path) -> None:
    shopify_seen = erp_seen = 0
    for folder in sorted((thirty_days / "orders").iterdir()):
        d = folder.name
        erp = (folder / f"myyntitilaukset_{d}.csv").read_bytes()
        assert erp.startswith(b"sep=;\r\nTilausnumero;Asiakasnumero;S\xe4hk\xf6posti;Tilausp\xe4iv\xe4;Valuutta;"
                              b"Brutto;Alennus;Hyvitys;Netto;Tila;Tuoteryhm\xe4\r\n")
        with pytest.raises(UnicodeDecodeError):
            erp.decode("utf-8")  # really cp1252, as Finnish Excel saves it
        assert erp.count(b"\n") == erp.count(b"\r\n")
        for r in _rows(erp, "cp1252", ";", skip=1):
            erp_seen += 1
            assert len(r["Tilausnumero"]) == 6 and len(r["Asiakasnumero"]) == 7
            assert r["Tilauspäivä"] == f"{d[8:10]}.{d[5:7]}.{d[0:4]}"
            brutto, alennus, hyvitys, netto = (_number(r[k], ",") for k in ("Brutto", "Alennus", "Hyvitys", "Netto"))
            assert brutto - alennus - hyvitys == netto
            if brutto >= 1000:
                assert "\u00a0" in r["Brutto"]
        shop = (folder / "orders_export_1.csv").read_bytes()
        assert shop.startswith(b"Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,"
                               b"Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,"
                               b"Lineitem price,Lineitem sku,Refunded Amount,Billing Name,Id,Tags,Source\n")
        current = None
        for r in _rows(shop):
            shopify_seen += 1
            if r["Name"] != current:  # first line of an order: order fields filled
                current = r["Name"]
                assert r["Financial Status"] in {"paid", "pending", "refunded", "partially_refunded", "voided"}
                assert r["Created at"].startswith(d) and r["Created at"][-5:] in {"+0300", "+0200"}
                assert r["Tags"].startswith("category:")
                assert _number(r["Subtotal"]) + _number(r["Shipping"]) + _number(r["Taxes"]) == _number(r["Total"])
            else:  # following line items: order fields blank
                assert r["Financial Status"] == r["Total"] == r["Created at"] == r["Id"] == ""
        stripe = (folder / f"unified_payments_{d}.csv").read_bytes()
        assert stripe.startswith(b"id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Mode,"
                                 b"Customer ID,Customer Email,Description,Fee\n")
        for r in _rows(stripe):
            assert r["Currency"] in {"eur", "usd"} and r["Mode"] == "Live"
            assert r["Status"] in {"Paid", "Refunded", "Failed"}
            assert r["Created date (UTC)"].startswith(d)
            assert "(category:" in r["Description"]
    assert shopify_seen > 20 and erp_seen > 5


# ------------------------------------------------------------------------------------------------
# invariants of the data (a clean demo)


def _read_all(inbox: Path, source: str, pattern: str, **kwargs: object) -> pl.DataFrame:
    frames = []
    for path in sorted((inbox / source).glob(f"*/{pattern}")):
        frame = pl.read_csv(path, infer_schema=False, **kwargs)  # type: ignore[arg-type]
        frames.append(frame.with_columns(pl.lit(path.parent.name).alias("_folder")))
    return pl.concat(frames, how="diagonal")


def test_invariants_of_a_thirty_day_run(thirty_days: Path) -> None:
    inbox = thirty_days
    contacts = _read_all(inbox, "crm_contacts", "*.csv")
    emails = set(contacts["Email"].to_list())
    assert len(emails) == contacts.height  # e-mails are unique
    created = dict(zip(contacts["Email"].to_list(), contacts["Create Date"].str.slice(0, 10).to_list(), strict=True))
    unsubscribed = contacts["Unsubscribed from all email"].value_counts()
    assert set(unsubscribed["Unsubscribed from all email"].to_list()) == {"true", "false"}

    # clicks <= impressions, nothing negative, on every platform
    google = pl.concat([
        pl.DataFrame([r for r in _rows(p.read_bytes(), skip=2) if not r["Day"].startswith("Total")])
        for p in sorted((inbox / "google_ads").glob("*/*.csv")) if not p.read_bytes().startswith(b"\xff\xfe")
    ])
    clicks = google["Clicks"].str.replace_all(",", "").cast(pl.Int64)
    assert (clicks <= google["Impr."].str.replace_all(",", "").cast(pl.Int64)).all()
    assert not google["Cost"].str.starts_with("-").any()
    meta = _read_all(inbox, "meta_ads", "*.csv")
    assert (meta["Link clicks"].cast(pl.Int64) <= meta["Impressions"].cast(pl.Int64)).all()
    assert (meta["Reach"].cast(pl.Int64) <= meta["Impressions"].cast(pl.Int64)).all()
    linkedin = _read_all(inbox, "linkedin_ads", "*.csv", skip_rows=5)
    assert (linkedin["Clicks"].cast(pl.Int64) <= linkedin["Impressions"].cast(pl.Int64)).all()
    adroll = _read_all(inbox, "adroll", "*.csv")
    assert (adroll["Clicks"].cast(pl.Int64) <= adroll["Impressions"].cast(pl.Int64)).all()
    for frame, spend in ((meta, "Amount spent (EUR)"), (linkedin, "Total Spent"), (adroll, "Spend")):
        assert (frame[spend].cast(pl.Float64) > 0).all()

    # every paid touch's campaign id is in its platform's file of that day
    platform_days = {
        "google_ads": set(zip(google["Day"].to_list(), google["Campaign ID"].to_list(), strict=True)),
        "meta_ads": set(zip(meta["_folder"].to_list(), meta["Campaign ID"].to_list(), strict=True)),
        "linkedin_ads": set(zip(linkedin["_folder"].to_list(), linkedin["Campaign ID"].to_list(), strict=True)),
        "adroll": set(zip(adroll["_folder"].to_list(), adroll["Campaign ID"].to_list(), strict=True)),
    }
    touches = _read_all(inbox, "crm_touchpoints", "*.csv")
    paid = touches.filter(pl.col("Channel").is_in(["paid_search", "paid_social", "linkedin", "display_retargeting"]))
    assert paid.height > 100
    for row in paid.select("_folder", "Platform", "Campaign ID").unique().iter_rows():
        assert (row[0], row[2]) in platform_days[row[1]], row
    assert touches.filter(~pl.col("Channel").is_in(["paid_search", "paid_social", "linkedin",
                                                    "display_retargeting"]))["Campaign ID"].null_count() == (
        touches.height - paid.height)
    assert (touches["Timestamp (UTC)"].str.slice(0, 10) == touches["_folder"]).all()
    assert set(touches["Contact Email"].to_list()) <= emails
    # a contact is in the CRM export by the day of its first touch
    first_touch = touches.group_by("Contact Email").agg(pl.col("_folder").min())
    contact_day = contacts.select("Email", "_folder")
    joined = first_touch.join(contact_day, left_on="Contact Email", right_on="Email", suffix="_contact")
    assert (joined["_folder_contact"] <= joined["_folder"]).all()
    # objections are honoured: nobody who unsubscribed from all e-mail gets a newsletter during the period
    objected = set(contacts.filter(pl.col("Unsubscribed from all email") == "true")["Email"].to_list())
    mailed = touches.filter(pl.col("Event Type") == "email_open")
    assert not objected & set(mailed["Contact Email"].to_list())

    # orders: every e-mail is a contact, never before the contact was created
    shop = _read_all(inbox, "orders", "orders_export_1.csv")
    stripe = _read_all(inbox, "orders", "unified_payments_*.csv")
    erp = pl.DataFrame([
        {**r, "_folder": p.parent.name}
        for p in sorted((inbox / "orders").glob("*/myyntitilaukset_*.csv"))
        for r in _rows(p.read_bytes(), "cp1252", ";", skip=1)
    ])
    order_emails = [("shopify", shop), ("stripe", stripe.rename({"Customer Email": "Email"})),
                    ("erp", erp.rename({"Sähköposti": "Email"}))]
    for name, frame in order_emails:
        assert frame.height > 0, name
        for email, folder in frame.select("Email", "_folder").iter_rows():
            assert email in emails, (name, email)
            assert created[email] <= folder, (name, email, created[email], folder)
    assert set(stripe["Currency"].to_list()) <= {"eur", "usd"}
    assert "SEK" in set(shop["Currency"].drop_nulls().to_list())

    # deals belong to contacts; won deals are 20k-80k
    deals = _read_all(inbox, "crm_deals", "*.csv")
    assert set(deals["Associated Contact"].to_list()) <= emails
    won = deals.filter(pl.col("Deal Stage") == "Closed won")
    assert ((won["Amount"].cast(pl.Int64) >= 18000) & (won["Amount"].cast(pl.Int64) <= 80000)).all()


def test_retargeted_visitors_convert_more_often() -> None:
    world = build_world(START, 60, 3000, 5)
    truth = world.truth
    assert truth.retargeted_visitors > 300 and truth.other_visitors > 300
    assert truth.retargeted_conversion_rate > 1.5 * truth.other_visitor_conversion_rate
    # the same in the exported touchpoints: visitors with an AdRoll touch buy more often
    touches = world.touchpoints
    visitors = touches.filter(pl.col("touch_type").is_in(["click", "visit", "pricing_visit", "email_click"]))[
        "contact_idx"].unique()
    retargeted = touches.filter(pl.col("channel") == "display_retargeting")["contact_idx"].unique()
    buyers = world.orders["contact_idx"].unique()
    frame = pl.DataFrame({"contact_idx": visitors}).with_columns(
        pl.col("contact_idx").is_in(retargeted.implode()).alias("retargeted"),
        pl.col("contact_idx").is_in(buyers.implode()).alias("bought"),
    )
    rates = dict(frame.group_by("retargeted").agg(pl.col("bought").mean()).iter_rows())
    assert rates[True] > 1.3 * rates[False]


# ------------------------------------------------------------------------------------------------
# the story at the default size


def _spend_by_month(inbox: Path) -> dict[tuple[str, str], Decimal]:
    spend: dict[tuple[str, str], Decimal] = {}

    def add(month: str, channel: str, value: Decimal) -> None:
        spend[(month, channel)] = spend.get((month, channel), Decimal(0)) + value

    for path in sorted((inbox / "meta_ads").glob("*/*.csv")):
        for r in _rows(path.read_bytes()):
            add(r["Reporting starts"][:7], "paid_social", Decimal(r["Amount spent (EUR)"]))
    for path in sorted((inbox / "linkedin_ads").glob("*/*.csv")):
        for r in _rows(path.read_bytes(), skip=5):
            m, _, y = r["Start Date (in UTC)"].split("/")
            add(f"{y}-{int(m):02d}", "linkedin", Decimal(r["Total Spent"]))
    for path in sorted((inbox / "adroll").glob("*/*.csv")):
        for r in _rows(path.read_bytes()):
            add(r["Date"][:7], "display_retargeting", Decimal(r["Spend"]))
    for path in sorted((inbox / "google_ads").glob("*/*.csv")):
        data = path.read_bytes()
        folder = path.parent.name
        if data.startswith(b"\xff\xfe"):
            rows = [r for r in _rows(data, "utf-16", "\t", skip=2) if not r["Päivä"].startswith("Yhteensä")]
            for r in rows:
                d, m, y = (int(x) for x in r["Päivä"].split("."))
                if date(y, m, d).isoformat() == folder:  # count each day once, from its own export
                    add(folder[:7], "paid_search", _number(r["Kustannus"], ","))
        else:
            for r in _rows(data, skip=2):
                if r["Day"] == folder:
                    add(folder[:7], "paid_search", _number(r["Cost"]))
    return spend


def test_default_story_spend_budgets_and_goals(default_run: tuple[Path, object]) -> None:
    inbox, summary = default_run
    spend = _spend_by_month(inbox)
    per_day = {ch: sum(v for (_, c), v in spend.items() if c == ch) / 90 for ch in
               ("paid_search", "paid_social", "linkedin", "display_retargeting")}
    assert 300 <= per_day["paid_search"] <= 900
    assert 200 <= per_day["paid_social"] <= 500
    assert 150 <= per_day["linkedin"] <= 400
    assert 50 <= per_day["display_retargeting"] <= 150
    budgets = _rows((inbox / "plan" / START.isoformat() / "budgets.csv").read_bytes())
    for r in budgets:
        actual = spend[(r["month"], r["channel"])]
        if r["month"] in ("2026-09", "2026-10"):  # full months
            if r["channel"] == "paid_social":
                assert actual > Decimal(r["amount"]) * Decimal("1.1"), r  # clearly over budget
            else:
                assert actual < Decimal(r["amount"]), r
    assert summary.goal_expected_status == {"G1": "achieved", "G2": "achieved", "G3": "off_track",
                                            "G4": "missed", "G5": "on_track"}
    assert summary.launch_campaign == "Autumn launch"
    assert 0.15 < summary.other_visitor_conversion_rate < summary.retargeted_conversion_rate


def test_default_story_launch_lifts_revenue_and_new_customers() -> None:
    world = build_world(START, 90, 2000, 7)
    period = world.period
    revenue = world.orders.filter(pl.col("status").is_in(["paid", "partially_refunded"])).with_columns(
        (pl.col("day") - pl.lit(START)).dt.total_days().alias("d"))
    launch = (pl.col("d") >= period.launch_start) & (pl.col("d") < period.launch_end)
    before = (pl.col("d") >= period.launch_start - 28) & (pl.col("d") < period.launch_start)
    launch_days = period.launch_end - period.launch_start
    per_day = revenue.select(
        (pl.col("net_eur").filter(launch).sum() / launch_days).alias("launch"),
        (pl.col("net_eur").filter(before).sum() / 28).alias("before"),
        (pl.col("is_first").filter(launch).sum() / launch_days).alias("new_launch"),
        (pl.col("is_first").filter(before).sum() / 28).alias("new_before"),
    ).row(0, named=True)
    assert per_day["launch"] > 1.3 * per_day["before"]
    assert per_day["new_launch"] > 1.5 * per_day["new_before"]
    # the launch campaigns spend only during the launch
    launch_ids = {c.campaign_id for c in world.campaigns if c.launch}
    days = world.ad_daily.filter(pl.col("campaign_id").is_in(list(launch_ids)))["day_pos"]
    assert days.min() == period.launch_start and days.max() == period.launch_end - 1


def test_groups_have_their_profiles() -> None:
    world = build_world(START, 90, 2000, 7)
    orders = world.orders.join(world.contacts.select("contact_idx", "group"), on="contact_idx")
    aov = dict(orders.filter(pl.col("kind") != "deal").group_by("group").agg(pl.col("value_eur").mean()).iter_rows())
    assert aov["luxury"] > 4000 and aov["price_sensitive"] < 1200 and aov["luxury"] > aov["tech"] > aov[
        "price_sensitive"]
    contacts = world.contacts
    motive = dict(contacts.group_by("group").agg(pl.col("purchase_motive").drop_nulls().mode().first()).iter_rows())
    assert motive == {"luxury": "Status", "tech": "Performance", "price_sensitive": "Value", "b2b": "Performance"}
    b2b = contacts.filter(pl.col("group") == "b2b")
    assert b2b["company"].null_count() == 0 and b2b["employees"].min() >= 10
    # price-sensitive buyers order once, from the webshop, mostly with a discount code
    price = orders.filter(pl.col("group") == "price_sensitive")
    assert price["contact_idx"].n_unique() == price.height
    assert set(price["source_system"].to_list()) == {"shopify"}
    assert price["discount_code"].is_not_null().mean() > 0.5
    assert 0.01 <= contacts["unsubscribed"].mean() <= 0.03
