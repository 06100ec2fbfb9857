-- One row per month, segmentation, segment, channel and attribution model.
-- Which channels bring which customers: attributed conversions, new customers and revenue per customer segment (segments as of the run date; spend is not split by segment).
CREATE TABLE IF NOT EXISTS mart_segment_economics (
    month DATE NOT NULL,  -- First day of the month of order_date.
    segmentation TEXT NOT NULL,  -- rfm_segment | value_tier | persona (columns of mart_customer_segments).
    segment TEXT NOT NULL,  -- The customer's segment as of the run date; unknown for customers outside the segment snapshot.
    channel TEXT NOT NULL,  -- Channel credited (see fct_attribution).
    model TEXT NOT NULL,  -- Attribution model (see fct_attribution).
    conversions DOUBLE PRECISION,  -- Sum of credit (fractional orders).
    new_customers DOUBLE PRECISION,  -- Sum of credit of first orders.
    customers BIGINT,  -- Distinct customers with credit > 0.
    attributed_revenue_eur DECIMAL(18,4),  -- Sum of revenue_eur credited.
    avg_order_eur DECIMAL(18,4),  -- attributed_revenue_eur / conversions, NULL without conversions.
    channel_share_pct DOUBLE PRECISION,  -- conversions / the channel's conversions in the month, segmentation and model x 100.
    PRIMARY KEY (month, segmentation, segment, channel, model)
);
