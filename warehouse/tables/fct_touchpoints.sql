-- One row per touchpoint.
-- Marketing touches (ad clicks and impressions, email, webinars, site visits) on the customers, the input of attribution.
CREATE TABLE IF NOT EXISTS fct_touchpoints (
    touchpoint_id TEXT NOT NULL,  -- The source id of the touch, or a sha256 of customer, ts, channel, campaign and type.
    customer_id TEXT,  -- Pseudonymous customer id (see dim_customer).
    ts TIMESTAMPTZ,  -- When the touch happened, UTC.
    touch_date DATE,  -- UTC day of ts.
    channel TEXT,  -- paid_search | paid_social | linkedin | display_retargeting | email | webinar | organic_search | referral | direct.
    platform TEXT,  -- Where the touch was recorded: google_ads, meta_ads, linkedin_ads, adroll, hubspot, website ...
    campaign_id TEXT,  -- The ad platform's campaign id when the touch came from a paid campaign.
    touch_type TEXT,  -- impression | click | email_open | email_click | webinar | trial | demo_request | pricing_visit | visit.
    PRIMARY KEY (touchpoint_id)
);
