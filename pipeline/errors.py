"""One error tree for kohde. Every message is one line a user can act on.

Terminal errors mean bad input or configuration: retrying will not help (Airflow fails the task
without retries). Transient errors mean the world was briefly in the way (a locked DuckDB file, a
lost connection): Airflow may retry.
"""

from __future__ import annotations


class KohdeError(Exception):
    """Base class for every error kohde raises on purpose."""

    transient: bool = False

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.file = file
        self.row = row
        self.column = column
        prefix = f"{file}: " if file else ""
        super().__init__(prefix + message)


class ConfigError(KohdeError):
    """Raised when a setting or a command-line argument is invalid."""


class InputFileError(KohdeError):
    """Raised when a whole input file cannot be used (empty, truncated, unknown format)."""


class ValidationFailed(KohdeError):
    """Raised when a critical expectation fails, so nothing of the run may be loaded."""


class AccountingError(KohdeError):
    """Raised when rows in != rows loaded + rows quarantined + exact duplicates dropped."""


class PlanError(KohdeError):
    """Raised when a plan row (goal, budget, sales cost) cannot be used, e.g. a goal that is not SMART."""


class WarehouseError(KohdeError):
    """Raised when the warehouse refuses a load for a reason retrying will not fix."""


class WarehouseBusy(KohdeError):
    """Raised when the warehouse is locked by another writer or the connection dropped."""

    transient = True
