"""The inbox folders kohde reads and the vendor modules that may appear in each (no heavy imports).

Kept import-free so Airflow can map one task per source at DAG parse time.
"""

from __future__ import annotations

SOURCE_MODULES: dict[str, tuple[str, ...]] = {
    "google_ads": ("google_ads",),
    "meta_ads": ("meta_ads",),
    "linkedin_ads": ("linkedin_ads",),
    "adroll": ("adroll",),
    "crm_contacts": ("hubspot", "salesforce", "generic_crm"),
    "crm_deals": ("hubspot", "salesforce", "generic_crm"),
    "crm_touchpoints": ("touchpoints",),
    "orders": ("shopify", "stripe", "erp"),
    "plan": ("plan",),
}

SOURCES: tuple[str, ...] = tuple(SOURCE_MODULES)
