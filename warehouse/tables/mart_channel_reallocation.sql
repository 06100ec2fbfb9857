-- One row per channel with ad spend in the window.
-- Where to move budget: each channel's average and marginal CPA and ROI over the last 12 weeks (last touch), ranked, with a hint.
CREATE TABLE IF NOT EXISTS mart_channel_reallocation (
    as_of_date DATE NOT NULL,  -- The run's last date; the window ends on it.
    channel TEXT NOT NULL,  -- Channel with ad spend in the window.
    window_start DATE,  -- First day of the window (12 weeks of 7-day buckets counted back from as_of_date).
    weeks_with_spend BIGINT,  -- 7-day buckets of the window with spend > 0 (the points of the response curve).
    spend_eur DECIMAL(18,4),  -- Ad spend in the window.
    attributed_revenue_eur DECIMAL(18,4),  -- Last-touch attributed revenue in the window.
    conversions DOUBLE PRECISION,  -- Last-touch attributed orders in the window.
    new_customers DOUBLE PRECISION,  -- Last-touch attributed first orders in the window.
    cpa_eur DECIMAL(18,4),  -- spend_eur / conversions, NULL without conversions.
    cac_eur DECIMAL(18,4),  -- spend_eur / new_customers, NULL without new customers.
    roi DOUBLE PRECISION,  -- (attributed_revenue_eur - spend_eur) / spend_eur.
    weekly_spend_eur DECIMAL(18,4),  -- Current weekly spend: mean of the last 4 buckets.
    response_slope DOUBLE PRECISION,  -- b of conversions = a + b x ln(weekly spend), least squares over the buckets with spend; NULL under 20 conversions, 4 buckets or 15 % spend variation (sd of ln spend).
    response_t_stat DOUBLE PRECISION,  -- response_slope / its standard error; the marginal figures need |t| >= 2 (infinite for an exact fit).
    marginal_cpa_eur DECIMAL(18,4),  -- weekly_spend_eur / response_slope: the cost of one more conversion at the current spend; NULL when the slope is not clearly positive.
    marginal_roi DOUBLE PRECISION,  -- response_slope / weekly_spend_eur x revenue per conversion - 1: what the next euro returns.
    rank INTEGER,  -- 1 = best marginal ROI (then average ROI); channels without a marginal ROI last.
    hint TEXT NOT NULL,  -- increase (marginal ROI > +0.10), hold, decrease (marginal ROI < -0.10 or a clearly negative slope) or insufficient_data (no fit, or |t| < 2).
    hint_reason TEXT,  -- Why, in words.
    PRIMARY KEY (channel)
);
