"""One typed settings object, read from the environment in one place, with embedded defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from upath import UPath


@dataclass(frozen=True)
class Settings:
    """Where kohde reads and writes, and the few business defaults a user may change."""

    home: Path
    inbox: Path
    lake: Path | UPath  # a local path, or s3://bucket/prefix as a universal-pathlib UPath
    warehouse_url: str
    reporting_currency: str = "EUR"
    rfm_window_days: int = 365
    attribution_lookback_days: int = 90
    segment_clusters: int = 4
    attribution_markov_order: int = 1
    attribution_half_life_days: int = 7
    channel_rules: Path | None = None  # a channel-rules TOML file (see pipeline/channel_rules.toml)
    segment_rules: Path | None = None  # a persona / psychographic rules TOML file (see pipeline/segment_rules.py)
    clv_annual_discount_rate: float = 0.10  # the 12-month CLV's discount rate per year
    ingest_chunk_mb: int = 48  # inbox files bigger than this are read in chunks of about this size (pipeline.ingest.stream)
    attribution_models: tuple[str, ...] | None = None  # the models fct_attribution gets; None: every one (gold.attribution_models)
    incremental: bool = True  # nightly runs start from the truth the previous run left in the lake (pipeline.incremental)
    # a first nightly run (no state in the lake) builds the state this many months of history at a time; 0: all at once
    first_run_months: int = 3

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read KOHDE_* variables; everything has a default so nothing is needed to start."""
        env = os.environ if env is None else env
        home = Path(env.get("KOHDE_HOME", "./data")).expanduser().resolve()
        inbox = Path(env.get("KOHDE_INBOX", str(home / "inbox"))).expanduser().resolve()
        lake = _lake(env.get("KOHDE_LAKE", str(home / "lake")), env)
        url = env.get("KOHDE_WAREHOUSE_URL", f"duckdb:///{home / 'warehouse.duckdb'}")
        if not (url.startswith("duckdb:///") or url.startswith("postgresql")):
            raise ConfigError(f"KOHDE_WAREHOUSE_URL must start with duckdb:/// or postgresql+psycopg://, got {_redact(url)!r}")
        return cls(
            home=home,
            inbox=inbox,
            lake=lake,
            warehouse_url=url,
            reporting_currency=env.get("KOHDE_REPORTING_CURRENCY", "EUR").upper(),
            rfm_window_days=_int(env, "KOHDE_RFM_WINDOW_DAYS", 365),
            attribution_lookback_days=_int(env, "KOHDE_ATTRIBUTION_LOOKBACK_DAYS", 90),
            segment_clusters=_int(env, "KOHDE_SEGMENT_CLUSTERS", 4),
            attribution_markov_order=_int(env, "KOHDE_ATTRIBUTION_MARKOV_ORDER", 1),
            attribution_half_life_days=_int(env, "KOHDE_ATTRIBUTION_HALF_LIFE_DAYS", 7),
            channel_rules=Path(env["KOHDE_CHANNEL_RULES"]).expanduser().resolve() if env.get("KOHDE_CHANNEL_RULES") else None,
            segment_rules=Path(env["KOHDE_SEGMENT_RULES"]).expanduser().resolve() if env.get("KOHDE_SEGMENT_RULES") else None,
            clv_annual_discount_rate=_rate(env, "KOHDE_CLV_DISCOUNT_RATE", 0.10),
            ingest_chunk_mb=_int(env, "KOHDE_INGEST_CHUNK_MB", 48),
            attribution_models=_models(env, "KOHDE_ATTRIBUTION_MODELS"),
            incremental=_switch(env, "KOHDE_INCREMENTAL", True),
            first_run_months=0 if env.get("KOHDE_FIRST_RUN_MONTHS", "").strip().lower() in ("0", "off")
            else _int(env, "KOHDE_FIRST_RUN_MONTHS", 3),
        )

    @property
    def audiences_dir(self) -> Path:
        """Where ``kohde audiences`` writes the platform upload files: ``<home>/audiences/<date>/``."""
        return self.home / "audiences"

    @property
    def warehouse_url_redacted(self) -> str:
        """The warehouse URL with any password replaced, safe for logs and ops tables."""
        return _redact(self.warehouse_url)


def _lake(value: str, env: Mapping[str, str]) -> Path | UPath:
    """A local lake path (plain or ``file://``), or an S3 lake ``s3://bucket/prefix``.

    S3 credentials and region come from the standard AWS variables; ``KOHDE_S3_ENDPOINT_URL`` (or
    ``AWS_ENDPOINT_URL``) points at an S3-compatible server (MinIO, Ceph, moto, ...).
    """
    if value.startswith("s3://"):
        bucket = value.removeprefix("s3://").split("/", 1)[0]
        if not bucket:
            raise ConfigError(f"KOHDE_LAKE={value!r}: an S3 lake needs a bucket, as in s3://bucket/prefix")
        from upath import UPath

        endpoint = env.get("KOHDE_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL")
        return UPath(value.rstrip("/"), **({"endpoint_url": endpoint} if endpoint else {}))
    if "://" in value and not value.startswith("file://"):
        raise ConfigError(f"KOHDE_LAKE={value!r}: the lake is a local path, file://path or s3://bucket/prefix")
    return Path(value.removeprefix("file://")).expanduser().resolve()


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be positive")
    return value


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off setting: 1, true, yes, on or 0, false, no, off (any case)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} must be on or off (1/0, true/false, yes/no)")


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    """A yearly rate as a fraction (0.10 = 10 %), between 0 and 1."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number (write 10 % as 0.10)") from None
    if not 0 <= value < 1:
        raise ConfigError(f"{name}={raw!r} must be a yearly rate between 0 and 1 (10 % is 0.10)")
    return value


def _models(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """A comma-separated list of attribution model names, checked against the models kohde knows."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    from pipeline.transforms.attribution import DATA_DRIVEN_MODELS, RULE_BASED_MODELS

    known = (*RULE_BASED_MODELS, *DATA_DRIVEN_MODELS)
    names = [part.strip().lower() for part in raw.split(",") if part.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"{name}: unknown attribution model {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return tuple(dict.fromkeys(names))


def _redact(url: str) -> str:
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
