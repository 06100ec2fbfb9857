"""Plan sheets: SMART goals, budgets, sales costs and rates, in English and Finnish spreadsheets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest.read import RawTable, read_table
from pipeline.sources import formats_for
from pipeline.sources.base import ParseContext, parse_table
from pipeline.sources.plan import month_expr

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plan"
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


def parse(path: Path) -> tuple[RawTable, pl.DataFrame]:
    formats = formats_for("plan")
    table = read_table(path, formats, furniture=[p for f in formats for p in f.furniture_patterns])
    fmt = next(f for f in formats if f.name == table.format_name)
    return table, parse_table(table, fmt, ParseContext("plan", date(2026, 11, 1), path.name, "0" * 64))


def d(values: list[str | None]) -> list[Decimal | None]:
    return [None if v is None else Decimal(v) for v in values]


@pytest.mark.parametrize(("name", "format_name"), [
    ("goals.csv", "plan_goals"), ("tavoitteet_fi.csv", "plan_goals"), ("budgets.csv", "plan_budgets"),
    ("budjetit_fi.csv", "plan_budgets"), ("sales_costs.csv", "plan_sales_costs"),
    ("myyntikulut_fi.csv", "plan_sales_costs"), ("fx_rates.csv", "plan_fx_rates"),
    ("valuuttakurssit_fi.csv", "plan_fx_rates"),
])
def test_each_sheet_is_recognised_by_its_header(name, format_name):
    assert parse(FIXTURES / name)[0].format_name == format_name


def test_sales_costs_30000_fixed_and_20000_variable():
    _, parsed = parse(FIXTURES / "sales_costs.csv")
    assert parsed["_errors"].to_list() == [[]] * 4
    assert set(parsed["month"]) == {NOV}
    totals = dict(parsed.group_by("kind").agg(pl.col("amount").sum()).iter_rows())
    # fixed 28,200.00 + 1,800 = 30,000; variable 17,500.00 + 2,500.00 = 20,000 (CPA = 50,000 / new customers)
    assert totals == {"fixed": Decimal("30000.0000"), "variable": Decimal("20000.0000")}
    assert parsed["category"].to_list() == ["salaries", "tools", "commissions", "events"]


def test_finnish_sales_costs():
    table, parsed = parse(FIXTURES / "myyntikulut_fi.csv")
    assert table.delimiter == ";"
    # "30 000,00" kiinteä, "20 000,00" Muuttuva
    assert parsed.select("month", "kind", "category", "currency_code", "amount").rows()[:2] == [
        (DEC, "fixed", "palkat", "EUR", Decimal("30000.0000")),
        (DEC, "variable", "provisiot", "EUR", Decimal("20000.0000")),
    ]
    assert parsed["_errors"].to_list() == [
        [], [], ["map:kind: unknown sales cost kind 'satunnainen' (fixed | variable)"]]


def test_goals_one_not_smart():
    _, parsed = parse(FIXTURES / "goals.csv")
    assert parsed["goal_id"].to_list() == ["G1", "G2", "G3", "G4", "G5"]
    assert parsed["_errors"].to_list() == [[], [], ["smart:target: goal G3 has no number"], [], []]
    assert parsed["target_value"].to_list() == [120000.0, 20.0, None, 10.0, 500.0]
    assert parsed["target_kind"].to_list() == ["absolute", "pct_vs_baseline", "absolute", "pct_vs_baseline", None]
    assert parsed["metric"].to_list() == ["revenue", "sales_growth", "customers", "satisfaction", "new_customers"]
    g2 = parsed.row(1, named=True)
    assert (g2["period_start"], g2["period_end"], g2["baseline_start"], g2["baseline_end"]) == (
        date(2026, 12, 1), date(2027, 1, 31), date(2026, 10, 1), date(2026, 11, 30))
    assert parsed["channel"].to_list() == [None, None, None, None, "paid_search"]    # "Google Ads"
    assert parsed["segment"].to_list() == [None, None, None, None, "b2c"]


def test_finnish_goals_with_decimal_comma():
    table, parsed = parse(FIXTURES / "tavoitteet_fi.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    # "120 000,50" (NBSP) = 120000.5; "1 250,5" = 1250.5; "15,5 %" = 15.5
    assert parsed["target_value"].to_list() == [120000.5, 1250.5, 15.5, 300.0, 1000.0]
    assert parsed["metric"].to_list() == ["revenue", "avg_order", "sales_growth", "new_customers", "tykkäykset"]
    assert parsed["period_end"].to_list()[:3] == [date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 31)]
    assert parsed["channel"][3] == "email"                                          # "Sähköposti"
    assert parsed["_errors"].to_list() == [
        [], [],
        ["smart:baseline_start: goal T3 is a percentage target without baseline dates"],
        ["smart:period_end: goal T4 ends before it starts"],
        ["smart:metric: goal T5 measures 'tykkäykset', not one of revenue, new_customers, customers, sales_growth, "
         "avg_order, satisfaction, cpa, roi"],
    ]


def test_goal_rules(tmp_path):
    path = tmp_path / "goals.csv"
    path.write_bytes(b"goal_id,metric,target,target_kind,period_start,period_end,segment\n"
                     b"G1,revenue,1000,relative,2026-11-01,2026-11-30,\n"
                     b"G2,,1000,,2026-11-01,,\n"
                     b"G3,roi,lots,absolute,2026-11-01,2026-11-30,\n"
                     b"G4,cpa,250,absolute,2026-11-01,2026-11-30,Champions\n"
                     b"G5,revenue,1000,absolute,2026-11-01,2026-11-30,Champions\n")
    _, parsed = parse(path)
    assert parsed["_errors"].to_list() == [
        ["smart:target_kind: goal G1 has a target kind that is not absolute or pct_vs_baseline"],
        ["smart:metric: goal G2 has no metric", "smart:period_end: goal G2 has no end date"],
        ["parse:target_value: cannot read lots as a number with decimal mark '.'",
         "smart:target: goal G3 has no number"],
        ["smart:segment: goal G4 filters a spend metric by segment (ad spend is not bought per segment)"],
        [],
    ]


def test_budgets_months_in_every_shape():
    _, parsed = parse(FIXTURES / "budgets.csv")
    # 2026-11, 2026-11-01, 11/2026 are all November; "8,500.00" in a comma file = 8500
    assert parsed.select("month", "channel", "currency_code", "amount").rows() == [
        (NOV, "paid_search", "EUR", Decimal("12000.0000")),
        (NOV, "paid_social", "EUR", Decimal("8500.0000")),
        (NOV, "linkedin", "EUR", Decimal("4000.0000")),
        (NOV, "display_retargeting", "EUR", Decimal("1500.5000")),
    ]
    assert parsed["_errors"].to_list() == [[]] * 4


def test_finnish_budgets():
    _, parsed = parse(FIXTURES / "budjetit_fi.csv")
    # "11.2026"/"2026-12" months, platform names mapped to channels, empty currency = EUR, negative quarantined
    assert parsed.select("month", "channel", "currency_code", "amount").rows() == [
        (DEC, "paid_search", "EUR", Decimal("12000.0000")),
        (DEC, "paid_social", "EUR", Decimal("8500.5000")),
        (DEC, "linkedin", "EUR", Decimal("4000.0000")),
        (DEC, "display_retargeting", "EUR", Decimal("-100.0000")),
    ]
    assert parsed["_errors"].to_list() == [[], [], [], ["check:amount: negative budget"]]


def test_dot_decimal_in_a_semicolon_sheet_is_an_error(tmp_path):
    path = tmp_path / "budjetit.csv"
    path.write_bytes(b"kuukausi;kanava;summa\n2026-11;paid_search;12.50\n2026-11;linkedin;1.250,50\n")
    _, parsed = parse(path)
    assert parsed["amount"].to_list() == [None, Decimal("1250.5000")]
    assert parsed["_errors"].to_list() == [["parse:amount: cannot read 12.50 as a number with decimal mark ','"], []]
    assert parsed["currency_code"].to_list() == ["EUR", "EUR"]                      # no currency column: EUR


def test_fx_rates():
    _, parsed = parse(FIXTURES / "fx_rates.csv")
    assert parsed.select("valid_from", "currency_code", "eur_per_unit").rows() == [
        (NOV, "SEK", Decimal("0.08712000")), (NOV, "USD", Decimal("0.92150000")), (NOV, "NOK", Decimal("0E-8")),
    ]
    assert parsed["_errors"].to_list() == [[], [], ["check:eur_per_unit: rate must be positive"]]
    _, finnish = parse(FIXTURES / "valuuttakurssit_fi.csv")
    assert finnish["eur_per_unit"].to_list() == [Decimal("0.08712345"), Decimal("0.92150000")]   # 8 decimals kept


def test_month_shapes():
    frame = pl.DataFrame({"m": ["2026-11", "2026-11-01", "11/2026", "11.2026", "1.11.2026", "2026-11-15", "13/2026",
                                "Nov 2026", "1/11/2026"]})
    assert frame.select(month_expr(pl.col("m")))["m"].to_list() == [NOV] * 6 + [None, None, None]
