-- One row per period grain, period start, channel, campaign and attribution model.
-- What each channel and campaign cost and returned, per day, ISO week, month and quarter: ROI, ROAS, CPA and CAC.
CREATE TABLE IF NOT EXISTS mart_channel_roi (
    period_grain TEXT NOT NULL,  -- day | week | month | quarter.
    period_start DATE NOT NULL,  -- First day of the period, weeks start on Monday (ISO 8601), quarters on 1 January, April, July and October.
    channel TEXT NOT NULL,  -- Channel (see fct_attribution).
    campaign_id TEXT NOT NULL,  -- Campaign, (none) for touches without a campaign and direct, (all) for the channel roll-up.
    model TEXT NOT NULL,  -- Attribution model (see fct_attribution).
    spend_eur DECIMAL(18,4),  -- Ad spend in EUR by the ad account day, 0 without reported spend, NULL if a day has no EUR amount.
    impressions BIGINT,  -- Impressions reported by the ad platforms, NULL for a campaign with no ad data (email, direct).
    clicks BIGINT,  -- Clicks reported by the ad platforms, NULL as impressions.
    attributed_revenue_eur DECIMAL(18,4),  -- Sum of revenue_eur credited by the model to orders, by order_date.
    conversions DOUBLE PRECISION NOT NULL,  -- Sum of credit (fractional orders).
    new_customers DOUBLE PRECISION NOT NULL,  -- Sum of credit of first orders (is_first_order).
    roi DOUBLE PRECISION,  -- (attributed_revenue_eur - spend_eur) / spend_eur, NULL without spend.
    roas DOUBLE PRECISION,  -- attributed_revenue_eur / spend_eur, NULL without spend.
    ctr_pct DOUBLE PRECISION,  -- clicks / impressions x 100, NULL without impressions.
    conversion_rate_pct DOUBLE PRECISION,  -- conversions / clicks x 100 (attributed orders per platform click), NULL without clicks.
    cpa_eur DECIMAL(18,4),  -- spend_eur / conversions, NULL without conversions or without spend (unreported cost is not free).
    cac_eur DECIMAL(18,4),  -- spend_eur / new_customers, NULL without new customers or without spend.
    won_deals DOUBLE PRECISION,  -- Sum of credit of closed-won B2B deals (fct_attribution conversion_type won_deal), by close date. Not in conversions, revenue or ROI: deals are paid through orders.
    won_deal_value_eur DECIMAL(18,4),  -- Sum of revenue_eur credited for won deals (deal amounts in EUR), by close date; NULL if a deal has no EUR amount. Not in attributed_revenue_eur.
    PRIMARY KEY (period_grain, period_start, channel, campaign_id, model)
);
