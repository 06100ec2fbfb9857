-- One row per as_of_date, segmentation and segment.
-- Size, revenue and quality of every segment of every segmentation in the mart_customer_segments snapshot.
CREATE TABLE IF NOT EXISTS mart_segment_summary (
    as_of_date DATE NOT NULL,  -- The snapshot date of mart_customer_segments.
    segmentation TEXT NOT NULL,  -- The mart_customer_segments column: rfm_segment, value_tier, engagement_segment, intent_segment, demographic_segment, psychographic_segment, persona, cluster, age_band, gender, income_band, education, country_code, language, industry, company_size_band, revenue_band, deal_stage_depth.
    segment TEXT NOT NULL,  -- The segment's value in that column (cluster as text; unscored for customers without a cluster).
    customers BIGINT,  -- Customers in the segment.
    share_pct DOUBLE PRECISION,  -- Customers in the segment / all customers in the snapshot x 100.
    buyers BIGINT,  -- Customers in the segment with at least one revenue order up to as_of_date.
    revenue_eur DECIMAL(18,4),  -- Net revenue in EUR of the segment's revenue orders up to as_of_date.
    orders BIGINT,  -- The segment's revenue orders up to as_of_date.
    avg_order_eur DECIMAL(18,4),  -- revenue_eur / orders; NULL without orders.
    orders_per_customer DOUBLE PRECISION,  -- orders / customers.
    conversion_rate_pct DOUBLE PRECISION,  -- buyers / customers x 100.
    value_cv DOUBLE PRECISION,  -- Coefficient of variation of per-customer revenue (population std / mean); NULL when the mean is 0.
    size_ok BOOLEAN,  -- Big enough to act on: customers >= min_customers (default 30) and share >= min_share (default 2 %).
    clv_eur DECIMAL(18,4),  -- Mean predicted 12-month CLV (mart_clv.predicted_clv_12m_eur) of the segment's customers with one; NULL when the CLV model was not fitted.
    cac_eur DECIMAL(18,4),  -- Mean acquisition cost: each customer's first-touch acquisition channel's CAC (as in mart_ltv_cac), over the customers acquired through a channel with ad spend; NULL when none was.
    PRIMARY KEY (as_of_date, segmentation, segment)
);
