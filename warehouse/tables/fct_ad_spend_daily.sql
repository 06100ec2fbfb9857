-- One row per day, platform, account and campaign.
-- Ad spend, delivery and platform-reported conversions from every ad platform in one currency-aware shape.
CREATE TABLE IF NOT EXISTS fct_ad_spend_daily (
    day DATE NOT NULL,  -- Reporting day in the ad account's time zone.
    platform TEXT NOT NULL,  -- google_ads | meta_ads | linkedin_ads | adroll.
    account_id TEXT NOT NULL,  -- The platform's ad account id.
    campaign_id TEXT NOT NULL,  -- The platform's campaign id.
    campaign_name TEXT,  -- Campaign name as reported on that day.
    channel TEXT NOT NULL,  -- Channel of the platform: paid_search, paid_social, linkedin, display_retargeting (an unmapped platform keeps its own name).
    currency_code TEXT,  -- ISO 4217 currency of the ad account.
    spend DECIMAL(18,4),  -- Spend in the account currency (currency_code).
    spend_eur DECIMAL(18,4),  -- spend in EUR at the rate valid on day, NULL without a rate.
    impressions BIGINT,  -- Impressions served.
    clicks BIGINT,  -- Clicks as the platform counts them.
    platform_conversions DECIMAL(18,4),  -- Conversions as the platform attributes them (fractional under data-driven attribution).
    platform_conversion_value DECIMAL(18,4),  -- Value of platform_conversions in currency_code.
    platform_conversion_value_eur DECIMAL(18,4),  -- platform_conversion_value in EUR at the rate valid on day, NULL without a rate.
    PRIMARY KEY (day, platform, account_id, campaign_id)
);
