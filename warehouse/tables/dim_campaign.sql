-- One row per platform and campaign.
-- Every campaign seen in the ad reports or in touchpoints, with its latest name, channel and objective.
CREATE TABLE IF NOT EXISTS dim_campaign (
    platform TEXT NOT NULL,  -- google_ads | meta_ads | linkedin_ads | adroll, or the touch source (e.g. hubspot).
    campaign_id TEXT NOT NULL,  -- The platform's campaign id.
    campaign_name TEXT,  -- Name on the latest ad-report day with a name, NULL for a campaign seen only in touchpoints.
    channel TEXT,  -- Channel of the platform, or the most frequent channel of the touches for a campaign seen only in touchpoints.
    objective TEXT,  -- From the name, first match wins: retarget = retargeting, brand = awareness, webinar or lead = lead_generation, else conversion. NULL without a name.
    first_day DATE,  -- First ad-report day of the campaign, NULL if seen only in touchpoints.
    last_day DATE,  -- Last ad-report day of the campaign, NULL if seen only in touchpoints.
    PRIMARY KEY (platform, campaign_id)
);
