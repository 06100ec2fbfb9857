"""The short summary printed after a run: what each channel returned, who the customers are, goal status."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import polars as pl

from pipeline.warehouse import Warehouse


def _eur(value: object) -> str:
    if value is None:
        return "-"
    return f"{Decimal(str(value)):,.0f} EUR".replace(",", " ")


def _ratio(value: object, digits: int = 2) -> str:
    return "-" if value is None else f"{float(str(value)):.{digits}f}"


def summary(warehouse: Warehouse, as_of: date) -> str:
    """Spend, revenue, ROI and CPA per channel (last touch), RFM segment sizes, goal status."""
    lines: list[str] = []
    channels = warehouse.query(
        """
        SELECT channel,
               SUM(spend_eur) AS spend_eur,
               SUM(attributed_revenue_eur) AS revenue_eur,
               SUM(conversions) AS conversions,
               SUM(new_customers) AS new_customers
        FROM mart_channel_roi
        WHERE period_grain = 'month' AND campaign_id = '(all)' AND model = 'last_touch'
        GROUP BY channel
        ORDER BY SUM(attributed_revenue_eur) DESC NULLS LAST
        """
    )
    lines.append(f"Channels (last-touch attribution, all months up to {as_of}):")
    lines.append(f"  {'channel':<22}{'spend':>14}{'revenue':>16}{'ROI':>8}{'ROAS':>8}{'CPA':>12}")
    for row in channels.iter_rows(named=True):
        spend = Decimal(str(row["spend_eur"] or 0))
        revenue = Decimal(str(row["revenue_eur"] or 0))
        conversions = float(row["conversions"] or 0)
        # ROI = (attributed revenue - cost) / cost; CPA = spend / conversions; NULL when the cost is 0
        roi = (revenue - spend) / spend if spend else None
        roas = revenue / spend if spend else None
        cpa = spend / Decimal(str(conversions)) if spend and conversions else None
        lines.append(f"  {row['channel']:<22}{_eur(spend):>14}{_eur(revenue):>16}{_ratio(roi):>8}"
                     f"{_ratio(roas):>8}{_eur(cpa):>12}")

    hints = warehouse.query(
        "SELECT channel, hint, marginal_cpa_eur, marginal_roi FROM mart_channel_reallocation ORDER BY rank"
    )
    if hints.height:
        lines.append("Next euro (marginal, last 12 weeks): " + "; ".join(
            f"{r['channel']} {r['hint']}" + (f" (marginal CPA {_eur(r['marginal_cpa_eur'])}, ROI {_ratio(r['marginal_roi'])})"
                                              if r["marginal_cpa_eur"] is not None else "")
            for r in hints.iter_rows(named=True)))

    costs = warehouse.query(
        "SELECT SUM(total_sales_costs_eur) AS costs, SUM(new_customers) AS new_customers, "
        "SUM(revenue_eur) AS revenue FROM mart_sales_costs WHERE month <= :as_of",
        {"as_of": as_of},
    ).row(0, named=True)
    if costs["costs"] is not None:
        new_customers = int(costs["new_customers"] or 0)
        cpa = Decimal(str(costs["costs"])) / new_customers if new_customers else None
        lines.append(f"Sales costs {_eur(costs['costs'])}, new customers {new_customers}, "
                     f"CPA (sales costs / new customers) {_eur(cpa)}, revenue {_eur(costs['revenue'])}")

    segments = warehouse.query(
        "SELECT segment, customers, share_pct FROM mart_segment_summary "
        "WHERE as_of_date = :as_of AND segmentation = 'rfm_segment' ORDER BY customers DESC",
        {"as_of": as_of},
    )
    lines.append(f"RFM segments as of {as_of}: " + ", ".join(
        f"{r['segment']} {r['customers']}" for r in segments.iter_rows(named=True)))
    personas = warehouse.query(
        "SELECT segment, customers FROM mart_segment_summary "
        "WHERE as_of_date = :as_of AND segmentation = 'persona' ORDER BY customers DESC",
        {"as_of": as_of},
    )
    lines.append("Personas: " + ", ".join(f"{r['segment']} {r['customers']}" for r in personas.iter_rows(named=True)))

    goals = warehouse.query(
        "SELECT goal_id, description, status, attainment_pct FROM mart_goal_tracking "
        "WHERE as_of_date = :as_of ORDER BY goal_id",
        {"as_of": as_of},
    )
    lines.append(f"Goals as of {as_of}:")
    for row in goals.iter_rows(named=True):
        attainment = "-" if row["attainment_pct"] is None else f"{float(row['attainment_pct']):.0f}%"
        lines.append(f"  {row['goal_id']:<6}{row['status']:<18}{attainment:>6}  {row['description'] or ''}")
    return "\n".join(lines)


def quarantine_listing(frame: pl.DataFrame) -> str:
    """Quarantined rows counted by source and reason."""
    if frame.height == 0:
        return "nothing quarantined"
    counts = (frame.group_by("source", "check_name", "column_name").agg(pl.len().alias("rows"),
                                                                        pl.col("reason").first())
              .sort("source", "rows", descending=[False, True]))
    return "\n".join(f"{r['source']:<16}{r['rows']:>6}  {r['check_name']}:{r['column_name']}  e.g. {r['reason']}"
                     for r in counts.iter_rows(named=True))


def status_report(warehouse: Warehouse, runs: int = 10) -> str:
    """Last runs with their row accounting, then each source's freshness and quarantine counts.

    A source's lag is the days between the last successful run's end date and the newest inbox
    date the source delivered a file for (none for plan files, which arrive when the plan
    changes); a source that never delivered shows "no files yet".
    """
    recent = warehouse.query(
        "SELECT run_id, command, status, start_date, end_date, started_at, ended_at, files_read, files_skipped, "
        "rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_warned, error, steps_json "
        f"FROM ops_runs ORDER BY started_at DESC, run_id DESC LIMIT {int(runs)}"
    )
    if recent.height == 0:
        return "no runs yet"
    lines = ["Last runs (newest first):",
             f"  {'run':<44}{'status':<11}{'seconds':>8}{'files':>7}{'read':>9}{'loaded':>9}{'quar.':>7}{'dup.':>6}"
             f"{'warn.':>7}"]
    for row in recent.iter_rows(named=True):
        seconds = "-" if row["ended_at"] is None else f"{(row['ended_at'] - row['started_at']).total_seconds():.1f}"
        lines.append(f"  {row['run_id']:<44}{row['status']:<11}{seconds:>8}{row['files_read'] or 0:>7}"
                     f"{row['rows_read'] or 0:>9}{row['rows_loaded'] or 0:>9}{row['rows_quarantined'] or 0:>7}"
                     f"{row['rows_duplicate'] or 0:>6}{row['rows_warned'] or 0:>7}")
        if row["error"]:
            lines.append(f"    error: {row['error']}")
        file_warnings = steps_warnings(row["steps_json"])
        if row["rows_warned"] or file_warnings:
            lines.append(f"    warnings: {warnings_line(row['rows_warned'] or 0, file_warnings)}")
    last_good = warehouse.query("SELECT MAX(end_date) AS d FROM ops_runs WHERE status = 'succeeded'")["d"][0]
    sources = warehouse.query(
        "SELECT source, MAX(extract_date) AS newest, COUNT(*) AS files, SUM(rows_read) AS rows_read, "
        "SUM(rows_quarantined) AS rows_quarantined FROM ops_file_manifest GROUP BY source ORDER BY source"
    )
    from pipeline.source_folders import SOURCES

    known = {row["source"]: row for row in sources.iter_rows(named=True)}
    lines.append(f"Sources (lag = days from the last successful run's date {last_good or '-'} to the newest file):")
    lines.append(f"  {'source':<18}{'newest file':>12}{'lag':>6}{'files':>7}{'rows':>10}{'quarantined':>13}")
    for source in sorted(set(SOURCES) | set(known)):
        row = known.get(source)
        if row is None:
            lines.append(f"  {source:<18}{'no files yet':>12}")
            continue
        # plan files arrive when the plan changes, so their age is no lag
        lag = "-" if last_good is None or source == "plan" else str((last_good - row["newest"]).days)
        lines.append(f"  {source:<18}{row['newest'].isoformat():>12}{lag:>6}{row['files']:>7}{row['rows_read'] or 0:>10}"
                     f"{row['rows_quarantined'] or 0:>13}")
    return "\n".join(lines)


def warning_counts(warnings: Iterable[str]) -> dict[str, int]:
    """File warnings counted by kind (the text before the first ':'), e.g. {'totals': 1, 'duplicates': 2}."""
    counts: dict[str, int] = {}
    for warning in warnings:
        kind = warning.split(":", 1)[0].strip() or "other"
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def steps_warnings(steps_json: str | None) -> list[str]:
    """Every file warning recorded in an ``ops_runs.steps_json`` (files skipped as already ingested excluded)."""
    if not steps_json:
        return []
    files = json.loads(steps_json).get("ingest", {})
    return [w for entry in files.values() if not entry.get("skipped") for w in entry.get("warnings", [])]


def warnings_line(rows_warned: int, warnings: Iterable[str]) -> str:
    """``N rows warned, M file warnings (totals 1, duplicates 2)``: how a run summary shows its warnings."""
    counts = warning_counts(warnings)
    total = sum(counts.values())
    kinds = f" ({', '.join(f'{k} {n}' for k, n in counts.items())})" if counts else ""
    return f"{rows_warned} rows warned, {total} file warnings{kinds}"
