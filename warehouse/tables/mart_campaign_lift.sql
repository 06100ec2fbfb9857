-- One row per platform and campaign.
-- Business revenue and new customers while a campaign ran against the same number of days before it (not attributed).
CREATE TABLE IF NOT EXISTS mart_campaign_lift (
    platform TEXT NOT NULL,  -- Ad platform, e.g. google_ads.
    campaign_id TEXT NOT NULL,  -- The platform's campaign id.
    campaign_name TEXT,  -- Campaign name on the run's latest day.
    channel TEXT,  -- Marketing channel of the platform, on the run's latest day.
    period_start DATE,  -- First day with spend > 0.
    period_end DATE,  -- Last day with spend > 0, up to the as-of date.
    days BIGINT,  -- Days in the run, both ends included.
    before_start DATE,  -- First day of the before window: period_start - days.
    before_end DATE,  -- Last day of the before window: period_start - 1 day.
    before_complete BOOLEAN,  -- before_start is on or after the first order date in the data; False means a partial baseline.
    spend_eur DECIMAL(18,4),  -- Spend in EUR during the run; NULL if a day has no EUR amount.
    revenue_before_eur DECIMAL(18,4),  -- Net revenue in EUR of all revenue orders in the before window (business-level, not attributed).
    revenue_during_eur DECIMAL(18,4),  -- Net revenue in EUR of all revenue orders during the run (business-level, not attributed).
    growth_pct DOUBLE PRECISION,  -- (revenue_during_eur - revenue_before_eur) / revenue_before_eur x 100; NULL without revenue before.
    new_customers_before BIGINT,  -- First orders (is_first_order) in the before window.
    new_customers_during BIGINT,  -- First orders (is_first_order) during the run.
    new_customers_growth_pct DOUBLE PRECISION,  -- (new_customers_during - new_customers_before) / new_customers_before x 100; NULL without new customers before.
    incremental_revenue_eur DECIMAL(18,4),  -- revenue_during_eur - revenue_before_eur.
    incremental_roas DOUBLE PRECISION,  -- incremental_revenue_eur / spend_eur; NULL without spend.
    PRIMARY KEY (platform, campaign_id)
);
