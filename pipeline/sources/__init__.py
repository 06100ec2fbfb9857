"""Vendor export formats, one module each; ``formats_for(source)`` lists a source folder's formats."""

from __future__ import annotations

import importlib

from pipeline.source_folders import SOURCE_MODULES
from pipeline.sources.base import SourceFormat


def formats_for(source: str) -> list[SourceFormat]:
    """Every format that may be found in the given inbox folder (recognised by header, not name)."""
    formats: list[SourceFormat] = []
    for module_name in SOURCE_MODULES.get(source, ()):
        module = importlib.import_module(f"pipeline.sources.{module_name}")
        formats.extend(f for f in module.FORMATS if f.source == source)
    return formats


def sources() -> list[str]:
    """The inbox folders kohde knows."""
    return list(SOURCE_MODULES)
