"""The DAGs' shared defaults: the base retry delay and its KOHDE_RETRY_DELAY_SECONDS override."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.dag_defaults import retry_delay


def test_retry_delay_is_two_minutes_unless_set() -> None:
    assert retry_delay({}) == timedelta(minutes=2)
    assert retry_delay({"KOHDE_RETRY_DELAY_SECONDS": " "}) == timedelta(minutes=2)
    assert retry_delay({"KOHDE_RETRY_DELAY_SECONDS": "1"}) == timedelta(seconds=1)
    assert retry_delay({"KOHDE_RETRY_DELAY_SECONDS": "0.5"}) == timedelta(milliseconds=500)
    assert retry_delay({"KOHDE_RETRY_DELAY_SECONDS": "3600"}) == timedelta(hours=1)


@pytest.mark.parametrize("text", ["0", "-5", "3601", "2m", "nan", "inf"])
def test_retry_delay_refuses_what_is_not_a_sane_number_of_seconds(text: str) -> None:
    with pytest.raises(ValueError, match=f"^KOHDE_RETRY_DELAY_SECONDS must be a number of seconds above 0 and at most 3600, got '{text}'$"):
        retry_delay({"KOHDE_RETRY_DELAY_SECONDS": text})

