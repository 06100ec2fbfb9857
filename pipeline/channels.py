"""The channel taxonomy and the default mapping from platforms and UTM fields to channels."""

from __future__ import annotations

CHANNELS: tuple[str, ...] = (
    "paid_search",       # Google Ads search
    "paid_social",       # Meta (Facebook / Instagram)
    "linkedin",          # LinkedIn Campaign Manager
    "display_retargeting",  # AdRoll and other retargeting / display
    "email",
    "webinar",
    "organic_search",
    "referral",
    "direct",            # also "unknown": a conversion with no touchpoint
)

PLATFORM_CHANNEL: dict[str, str] = {
    "google_ads": "paid_search",
    "meta_ads": "paid_social",
    "linkedin_ads": "linkedin",
    "adroll": "display_retargeting",
}

PAID_CHANNELS: frozenset[str] = frozenset(PLATFORM_CHANNEL.values())
