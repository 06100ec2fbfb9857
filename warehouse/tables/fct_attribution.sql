-- One row per order, attribution model, channel and campaign.
-- Which channels and campaigns earned each revenue order, under each model: the input of channel ROI.
CREATE TABLE IF NOT EXISTS fct_attribution (
    order_id TEXT NOT NULL,  -- The revenue order (see fct_orders).
    model TEXT NOT NULL,  -- last_touch | last_non_direct_touch | first_touch | linear | position_based (40/20/40) | time_decay | w_shaped | full_path | markov | shapley; all click-based (impressions ignored), see DECISIONLOG.
    channel TEXT NOT NULL,  -- Channel credited, direct for an order with no touch in the lookback window.
    campaign_id TEXT NOT NULL,  -- Campaign credited, (none) for a touch without a campaign and for direct.
    customer_id TEXT,  -- Pseudonymous customer id of the order.
    order_date DATE,  -- order_date of the order.
    is_first_order BOOLEAN,  -- is_first_order of the order.
    credit DOUBLE PRECISION NOT NULL,  -- Share of the order credited, 0..1, summing to 1 per order and model.
    revenue_eur DECIMAL(18,4),  -- credit x net_revenue_eur, the rounding remainder on the largest-credit row so it sums to net_revenue_eur exactly.
    PRIMARY KEY (order_id, model, channel, campaign_id)
);
