-- One row per as_of_date and retargeting campaign (platform and campaign).
-- Conversion and revenue of site visitors the campaign retargeted against comparable visitors no retargeting reached, with CTR and cost per conversion, from the data as of each date (a snapshot per date, to trend lift over time).
CREATE TABLE IF NOT EXISTS mart_retargeting (
    as_of_date DATE NOT NULL,  -- The snapshot date: every figure uses touches, orders and ad reports up to this date.
    platform TEXT NOT NULL,  -- Ad platform of the campaign, e.g. adroll.
    campaign_id TEXT NOT NULL,  -- The platform's campaign id; a campaign with channel display_retargeting.
    campaign_name TEXT,  -- Campaign name on its latest ad-report day, NULL if seen only in touchpoints.
    period_start DATE,  -- First day with spend, impressions or a touch of the campaign.
    period_end DATE,  -- Last such day, up to as_of_date.
    window_days BIGINT,  -- Days after a visitor's anchor (first qualifying engagement up to as_of_date) over which exposure and conversion count (the attribution lookback).
    retargeted_customers BIGINT,  -- Visitors with a touch (impression or click) of this campaign in the window after their anchor.
    retargeted_converters BIGINT,  -- Retargeted visitors with a revenue order in the window.
    retargeted_conversion_rate_pct DOUBLE PRECISION,  -- retargeted_converters / retargeted_customers x 100; NULL without retargeted visitors.
    retargeted_revenue_eur DECIMAL(18,4),  -- Net revenue in EUR of the retargeted visitors' revenue orders in the window.
    retargeted_revenue_per_customer_eur DECIMAL(18,4),  -- retargeted_revenue_eur / retargeted_customers; NULL without retargeted visitors.
    control_customers BIGINT,  -- Comparable visitors: a qualifying engagement on a day the campaign ran, no retargeting touch of any campaign from window_days before to window_days after the anchor.
    control_converters BIGINT,  -- Comparable visitors with a revenue order in the window.
    control_conversion_rate_pct DOUBLE PRECISION,  -- control_converters / control_customers x 100; NULL without comparable visitors.
    control_revenue_eur DECIMAL(18,4),  -- Net revenue in EUR of the comparable visitors' revenue orders in the window.
    control_revenue_per_customer_eur DECIMAL(18,4),  -- control_revenue_eur / control_customers; NULL without comparable visitors.
    conversion_lift_pct DOUBLE PRECISION,  -- (retargeted rate - control rate) / control rate x 100; NULL when the control rate is 0 or unknown.
    incremental_conversions DOUBLE PRECISION,  -- (retargeted rate - control rate) x retargeted_customers: conversions the campaign added if reach was as good as random.
    impressions BIGINT,  -- Impressions up to as_of_date, from the ad reports.
    clicks BIGINT,  -- Clicks up to as_of_date, from the ad reports.
    ctr_pct DOUBLE PRECISION,  -- clicks / impressions x 100; NULL without impressions.
    spend_eur DECIMAL(18,4),  -- Spend in EUR up to as_of_date; NULL if a day has no EUR amount or the campaign is not in the ad reports.
    cost_per_conversion_eur DECIMAL(18,4),  -- spend_eur / retargeted_converters; NULL without converters.
    cost_per_incremental_conversion_eur DECIMAL(18,4),  -- spend_eur / incremental_conversions; NULL when the campaign added no conversions.
    PRIMARY KEY (as_of_date, platform, campaign_id)
);
