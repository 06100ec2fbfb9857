-- One row per conversion (revenue order or won deal), attribution model, channel and campaign.
-- Which channels and campaigns earned each revenue order and each closed-won B2B deal, under each model: the input of channel ROI.
CREATE TABLE IF NOT EXISTS fct_attribution (
    order_id TEXT NOT NULL,  -- The conversion: the revenue order (see fct_orders), or the deal_id of a won deal.
    model TEXT NOT NULL,  -- last_touch | last_non_direct_touch | first_touch | linear | position_based (40/20/40) | time_decay | w_shaped | full_path | markov | shapley; all click-based (impressions ignored), see DECISIONLOG.
    channel TEXT NOT NULL,  -- Channel credited, direct for a conversion with no touch in the lookback window.
    campaign_id TEXT NOT NULL,  -- Campaign credited, (none) for a touch without a campaign and for direct.
    customer_id TEXT,  -- Pseudonymous customer id of the order or of the deal's contact.
    order_date DATE,  -- order_date of the order; close_date of a won deal.
    is_first_order BOOLEAN,  -- is_first_order of the order; NULL for a won deal.
    credit DOUBLE PRECISION NOT NULL,  -- Share of the conversion credited, 0..1, summing to 1 per conversion and model.
    revenue_eur DECIMAL(18,4),  -- credit x net_revenue_eur (a won deal: its amount in EUR at the close date's rate), the rounding remainder on the largest-credit row so it sums to that exactly.
    conversion_type TEXT NOT NULL,  -- order | won_deal. A won deal's contact usually pays it through orders too: sum revenue over one type, never both (mart_channel_roi revenue is orders only).
    PRIMARY KEY (conversion_type, order_id, model, channel, campaign_id)
);
