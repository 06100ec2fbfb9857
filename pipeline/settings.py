"""One typed settings object, read from the environment in one place, with embedded defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Where kohde reads and writes, and the few business defaults a user may change."""

    home: Path
    inbox: Path
    lake: Path
    warehouse_url: str
    reporting_currency: str = "EUR"
    rfm_window_days: int = 365
    attribution_lookback_days: int = 90
    segment_clusters: int = 4
    attribution_markov_order: int = 1
    attribution_half_life_days: int = 7
    channel_rules: Path | None = None  # a channel-rules TOML file (see pipeline/channel_rules.toml)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read KOHDE_* variables; everything has a default so nothing is needed to start."""
        env = os.environ if env is None else env
        home = Path(env.get("KOHDE_HOME", "./data")).expanduser().resolve()
        inbox = Path(env.get("KOHDE_INBOX", str(home / "inbox"))).expanduser().resolve()
        lake_value = env.get("KOHDE_LAKE", str(home / "lake"))
        if "://" in lake_value and not lake_value.startswith("file://"):
            raise ConfigError(f"KOHDE_LAKE={lake_value!r}: object-store lakes are not supported yet; use a path")
        lake = Path(lake_value.removeprefix("file://")).expanduser().resolve()
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
        )

    @property
    def audiences_dir(self) -> Path:
        """Where ``kohde audiences`` writes the platform upload files: ``<home>/audiences/<date>/``."""
        return self.home / "audiences"

    @property
    def warehouse_url_redacted(self) -> str:
        """The warehouse URL with any password replaced, safe for logs and ops tables."""
        return _redact(self.warehouse_url)


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


def _redact(url: str) -> str:
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
