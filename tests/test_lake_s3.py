"""An S3 lake (``KOHDE_LAKE=s3://bucket/prefix``) against an S3-compatible server on loopback (moto).

The same run with a local lake and with an S3 lake must load the same warehouse; the Parquet, the
landed bytes and the manifest must be objects in the bucket; a re-run is a no-op; forget works.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.demo import generate_demo
from pipeline.errors import ConfigError
from pipeline.lake import Lake
from pipeline.privacy import forget, tombstones
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse
from tests.test_run import assert_same, snapshot

START = date(2026, 8, 3)
DAYS = 3
END = START + timedelta(days=DAYS - 1)
BUCKET = "kohde-lake-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port with one empty bucket; stopped after the module."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    with pytest.MonkeyPatch.context() as env:
        # fake credentials for moto; also keeps botocore and polars from probing for real ones
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_REGION", "us-east-1")
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            server.stop()


def objects(endpoint: str) -> dict[str, str]:
    """Every object in the bucket: key -> ETag."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    found: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        found |= {o["Key"]: o["ETag"] for o in page.get("Contents", [])}
    return found


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("s3demo") / "inbox"
    generate_demo(inbox, START, DAYS, 100, 7)
    return inbox


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, inbox) -> Settings:
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path_factory.mktemp("local")), "KOHDE_INBOX": str(inbox)})
    run_range(settings, START, END, command="backfill")
    return settings


@pytest.fixture(scope="module")
def s3_run(tmp_path_factory, inbox, s3_endpoint) -> Settings:
    settings = Settings.from_env({"KOHDE_HOME": str(tmp_path_factory.mktemp("s3")), "KOHDE_INBOX": str(inbox),
                                  "KOHDE_LAKE": f"s3://{BUCKET}/lake/", "KOHDE_S3_ENDPOINT_URL": s3_endpoint})
    run_range(settings, START, END, command="backfill")
    return settings


def test_s3_lake_loads_the_same_warehouse_as_a_local_lake(local_run, s3_run, s3_endpoint) -> None:
    assert str(s3_run.lake) == f"s3://{BUCKET}/lake" and not isinstance(s3_run.lake, Path)
    assert_same(snapshot(local_run), snapshot(s3_run))
    with Warehouse.connect(s3_run.warehouse_url) as warehouse:  # the comparison is not of empty tables
        for table in ("dim_customer", "fct_touchpoints", "fct_ad_spend_daily", "ops_file_manifest"):
            assert warehouse.query(f"SELECT COUNT(*) AS n FROM {table}")["n"].item() > 0, table

    keys = objects(s3_endpoint)
    local = {p.relative_to(local_run.lake).as_posix() for p in local_run.lake.rglob("*") if p.is_file()}
    def layout(paths: set[str]) -> set[str]:  # each run names its incremental state at random
        return {re.sub(r"(gold/(?:truth/\w+|derived|labels|loaded|records))/[\w-]+/", r"\1/<state>/", path) for path in paths}

    assert layout({k.removeprefix("lake/") for k in keys}) == layout(local)  # the same layout, object for file
    assert any(k.startswith("lake/gold/truth/touchpoint/") for k in keys) and "lake/gold/state.json" in keys
    clean = [k for k in keys if k.startswith("lake/clean/") and k.endswith(".parquet")]
    assert {k.split("/")[3] for k in clean} == {f"extract_date={START + timedelta(days=i)}" for i in range(DAYS)}
    assert any(k.startswith("lake/landing/") for k in keys) and any(k.startswith("lake/manifest/") for k in keys)
    assert not [k for k in keys if k.endswith(".tmp")]

    # the Parquet objects hold what the local files hold
    lake = Lake(s3_run.lake)
    for entity in ("contact", "touchpoint", "ad_daily"):
        remote, here = lake.clean(entity, END).collect(), Lake(local_run.lake).clean(entity, END).collect()
        assert remote.height > 0
        assert remote.sort(remote.columns, nulls_last=True).equals(here.sort(here.columns, nulls_last=True))
    assert lake.latest_extract_date() == END
    assert len(lake.manifest()) == len(Lake(local_run.lake).manifest())


def test_rerun_on_an_s3_lake_is_a_no_op(s3_run, s3_endpoint) -> None:
    before_objects, before_tables = objects(s3_endpoint), snapshot(s3_run)
    report = run_range(s3_run, END, END)
    assert report.files and all(f.skipped for f in report.files)  # the manifest on S3 says they were read
    def ingested(found: dict) -> dict:  # the gold state is the run's own: written again, its parts reused
        return {key: tag for key, tag in found.items() if not key.startswith("lake/gold/")}

    after_objects = objects(s3_endpoint)
    assert ingested(after_objects) == ingested(before_objects)  # nothing rewritten: same keys, same ETags
    truth = {key: tag for key, tag in before_objects.items() if key.startswith("lake/gold/truth/")}
    assert truth and {key: after_objects.get(key) for key in truth} == truth  # no touch changed: the same parts
    assert_same(before_tables, snapshot(s3_run))


def test_forget_erases_a_person_from_an_s3_lake(s3_run, s3_endpoint) -> None:
    lake = Lake(s3_run.lake)
    contacts = lake.clean("contact", END).collect().filter(pl.col("email_sha256").is_not_null())
    cid = contacts["customer_id"][0]
    counts = forget(s3_run, customer_id=cid)
    assert counts["clean_rows"] > 0 and counts["raw_rows"] > 0 and counts["landing_files"] > 0

    for entity in ("contact", "touchpoint"):
        assert lake.clean(entity, END).filter(pl.col("customer_id") == cid).collect().height == 0, entity
    assert tombstones(lake)["customer_id"].to_list() == [cid]
    with Warehouse.connect(s3_run.warehouse_url) as warehouse:
        assert warehouse.query("SELECT COUNT(*) AS n FROM dim_customer WHERE customer_id = :c", {"c": cid})["n"].item() == 0
    keys = objects(s3_endpoint)
    assert "lake/privacy/tombstones.parquet" in keys and not [k for k in keys if k.endswith(".tmp")]

    again = forget(s3_run, customer_id=cid)  # nothing left to find; the audit log gains a second line
    assert again["clean_rows"] == again["raw_rows"] == again["landing_files"] == 0
    audit = [json.loads(line) for line in (s3_run.lake / "privacy" / "audit.jsonl").read_text().splitlines()]
    assert [a["action"] for a in audit] == ["forget", "forget"] and audit[0]["clean_rows"] == counts["clean_rows"]


def test_lake_setting_accepts_paths_file_urls_and_s3_only(tmp_path) -> None:
    home = {"KOHDE_HOME": str(tmp_path)}
    assert Settings.from_env(home).lake == tmp_path / "lake"
    assert Settings.from_env(home | {"KOHDE_LAKE": f"file://{tmp_path}/l"}).lake == tmp_path / "l"
    s3 = Settings.from_env(home | {"KOHDE_LAKE": "s3://b-1/a/b", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}).lake
    assert str(s3) == "s3://b-1/a/b" and s3.storage_options == {"endpoint_url": "http://127.0.0.1:9"}
    assert Settings.from_env(home | {"KOHDE_LAKE": "s3://b-1/a", "AWS_ENDPOINT_URL": "http://x:1",
                                     "KOHDE_S3_ENDPOINT_URL": "http://y:2"}).lake.storage_options["endpoint_url"] == "http://y:2"
    with pytest.raises(ConfigError, match="needs a bucket"):
        Settings.from_env(home | {"KOHDE_LAKE": "s3://"})
    with pytest.raises(ConfigError, match="s3://bucket/prefix"):
        Settings.from_env(home | {"KOHDE_LAKE": "gs://bucket/lake"})


def test_manifest_index_on_an_s3_lake(s3_run, s3_endpoint) -> None:
    """The index is an object beside the entries; a deleted index, an extra entry or one rewritten in place is seen."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    lake = Lake(s3_run.lake)

    def assert_agrees() -> None:
        entries = lake.manifest()  # every JSON entry, read one by one
        for day in (START, END, END + timedelta(days=1)):
            assert lake.manifest(extract_dates=[day]) == [e for e in entries if e.extract_date == day]
        assert lake.manifest_index()["file_sha256"].to_list() == [e.file_sha256 for e in entries]

    assert "lake/manifest/index.parquet" in objects(s3_endpoint)  # written by ingest
    before = objects(s3_endpoint)["lake/manifest/index.parquet"]
    assert_agrees()
    assert objects(s3_endpoint)["lake/manifest/index.parquet"] == before  # a matching index is not rewritten

    client.delete_object(Bucket=BUCKET, Key="lake/manifest/index.parquet")
    assert_agrees()
    assert "lake/manifest/index.parquet" in objects(s3_endpoint)

    first = lake.manifest(extract_dates=[START])[0]
    extra = json.loads(first.to_json()) | {"file_sha256": "f" * 64, "extract_date": END.isoformat()}
    client.put_object(Bucket=BUCKET, Key=f"lake/manifest/{'f' * 64}.json", Body=json.dumps(extra).encode())
    assert "f" * 64 in [e.file_sha256 for e in lake.manifest(extract_dates=[END])]
    moved = json.loads(first.to_json()) | {"extract_date": END.isoformat()}  # same size: the ETag tells
    client.put_object(Bucket=BUCKET, Key=f"lake/manifest/{first.file_sha256}.json", Body=json.dumps(moved).encode())
    assert first.file_sha256 in [e.file_sha256 for e in lake.manifest(extract_dates=[END])]
    assert first.file_sha256 not in [e.file_sha256 for e in lake.manifest(extract_dates=[START])]
    assert_agrees()
