"""The ``kohde`` command line: the same functions the Airflow DAGs call.

Every command exits 0 on success and 1 with a one-line ``kohde: <reason>`` on failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from pipeline.errors import ConfigError, KohdeError
from pipeline.settings import Settings

DEMO_START = date(2026, 8, 3)
DEMO_DAYS = 90


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kohde", description="Marketing and sales analytics pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write realistic vendor exports into the inbox")
    demo.add_argument("--start", type=_date, default=DEMO_START)
    demo.add_argument("--days", type=_positive, default=DEMO_DAYS)
    demo.add_argument("--customers", type=_positive, default=2000)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--run", action="store_true", help="then backfill the demo period and print the summary")

    run = sub.add_parser("run", help="one nightly run for logical date D")
    run.add_argument("--date", type=_date, required=True)

    backfill = sub.add_parser("backfill", help="every date of a range, efficiently")
    backfill.add_argument("--start", type=_date, required=True)
    backfill.add_argument("--end", type=_date, required=True)

    report = sub.add_parser("report", help="print the summary as of a date")
    report.add_argument("--date", type=_date, required=True)

    quarantine = sub.add_parser("quarantine", help="what was quarantined for a date, by source and reason")
    quarantine.add_argument("--date", type=_date, required=True)

    sub.add_parser("status", help="last runs with rows in and out, each source's lag and quarantine counts")

    audiences = sub.add_parser("audiences", help="write Google and Meta audience files as of a date")
    audiences.add_argument("--date", type=_date, required=True)

    suppress = sub.add_parser("suppress", help="never target this email again (stores its hash only)")
    suppress.add_argument("--email", required=True)

    forget = sub.add_parser("forget", help="erase a person from the lake, the warehouse and audience files")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--customer-id")

    warehouse = sub.add_parser("warehouse", help="warehouse maintenance")
    warehouse.add_argument("action", choices=["upgrade", "docs", "grant-reader"])
    warehouse.add_argument("role", nargs="?", help="grant-reader: the PostgreSQL role to create or grant")
    return parser


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kohde`` console script."""
    logging.basicConfig(level=logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return _dispatch(args, settings)
    except KohdeError as exc:
        print(f"kohde: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kohde: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the contract is one line, never a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"kohde: unexpected {type(exc).__name__}: {first} (set KOHDE_DEBUG=1 for details)", file=sys.stderr)
        if os.environ.get("KOHDE_DEBUG"):
            raise
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "demo":
        return _demo(args, settings)
    if args.command == "run":
        return _run(settings, args.date, args.date, "run")
    if args.command == "backfill":
        if args.end < args.start:
            raise ConfigError(f"--end {args.end} is before --start {args.start}")
        return _run(settings, args.start, args.end, "backfill")
    if args.command == "report":
        return _report(settings, args.date)
    if args.command == "quarantine":
        from pipeline.lake import Lake
        from pipeline.report import quarantine_listing

        print(quarantine_listing(Lake(settings.lake).quarantine(on=args.date)))
        return 0
    if args.command == "status":
        return _status(settings)
    if args.command in ("audiences", "suppress", "forget"):
        return _privacy(args, settings)
    if args.command == "warehouse":
        from pipeline.warehouse import Warehouse

        if (args.action == "grant-reader") != bool(args.role):
            raise ConfigError("a ROLE goes with 'warehouse grant-reader' only, and grant-reader needs one")
        if args.action == "grant-reader":
            with Warehouse.connect(settings.warehouse_url) as warehouse:
                warehouse.upgrade()
                views = warehouse.grant_reader(args.role)
            print(f"role {args.role} may read {len(views)} view(s): {', '.join(views)}")
            return 0
        if args.action == "upgrade":
            with Warehouse.connect(settings.warehouse_url) as warehouse:
                changes = warehouse.upgrade()
            print("\n".join(changes) if changes else "warehouse is up to date")
        else:
            from pipeline.warehouse.dictionary import write_docs

            target = Path("docs/warehouse.md")
            write_docs(target)
            print(f"wrote {target}")
        return 0
    raise ConfigError(f"unknown command {args.command!r}")


def _privacy(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline import privacy
    from pipeline.lake import Lake

    if args.command == "audiences":
        from pipeline.audiences import export_audiences

        export = export_audiences(settings, args.date)
        for row in export.sizes.iter_rows(named=True):
            flag = "  below the platform minimum" if row["below_minimum"] else ""
            print(f"{row['file_name']:<48}{row['members']:>7} of {row['candidates']:>6} candidates{flag}")
        print(f"audience files in {export.folder}")
    elif args.command == "suppress":
        privacy.suppress(Lake(settings.lake), args.email)
        print("suppressed: every later audience leaves this person out")
    else:
        counts = privacy.forget(settings, email=args.email, customer_id=args.customer_id)
        print("forgotten: " + ", ".join(f"{name} {count}" for name, count in counts.items())
              + "; tombstone recorded")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.demo import generate_demo

    started = time.perf_counter()
    summary = generate_demo(settings.inbox, args.start, args.days, args.customers, args.seed)
    end = args.start + timedelta(days=args.days - 1)
    print(f"demo exports for {args.start}..{end} written to {settings.inbox} "
          f"({time.perf_counter() - started:.1f} s)")
    del summary
    if args.run:
        return _run(settings, args.start, end, "backfill")
    print(f"next: kohde backfill --start {args.start} --end {end}")
    return 0


def _run(settings: Settings, start: date, end: date, command: str) -> int:
    from pipeline.run import run_range

    started = time.perf_counter()
    report = run_range(settings, start, end, command=command, progress=_progress)
    totals = report.totals()
    print(f"{command} {start}..{end} succeeded in {time.perf_counter() - started:.1f} s: "
          f"{totals['files_read']} files read ({totals['files_skipped']} already ingested), "
          f"{totals['rows_read']} rows = {totals['rows_loaded']} loaded + {totals['rows_quarantined']} quarantined"
          f" + {totals['rows_duplicate']} duplicates; warehouse {settings.warehouse_url_redacted}")
    from pipeline.report import warnings_line

    print("warnings: " + warnings_line(totals["rows_warned"], [w for f in report.read for w in f.warnings]))
    return _report(settings, end)


def _report(settings: Settings, as_of: date) -> int:
    from pipeline.report import summary
    from pipeline.warehouse import Warehouse

    with Warehouse.connect(settings.warehouse_url) as warehouse:
        print(summary(warehouse, as_of))
    return 0


def _status(settings: Settings) -> int:
    from pipeline.report import status_report
    from pipeline.warehouse import Warehouse

    with Warehouse.connect(settings.warehouse_url) as warehouse:
        warehouse.upgrade()
        print(status_report(warehouse))
    return 0


def entry() -> None:
    """Console-script entry: run, flush, and exit without interpreter finalisation.

    duckdb's nanobind bindings print "leaked instance" reports at interpreter shutdown after Great
    Expectations has run in the same process; every file and transaction is complete by the time
    ``main`` returns, so skipping finalisation loses nothing and keeps the output clean.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
