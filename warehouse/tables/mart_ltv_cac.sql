-- One row per as-of date, dimension and value.
-- Lifetime value against acquisition cost per RFM segment and per acquisition channel, and whether it reaches 3:1.
CREATE TABLE IF NOT EXISTS mart_ltv_cac (
    as_of_date DATE NOT NULL,  -- The snapshot date of mart_clv and mart_customer_segments.
    dimension TEXT NOT NULL,  -- segment (rfm_segment of mart_customer_segments) | acquisition_channel (first_touch channel of the customer's first order).
    value TEXT NOT NULL,  -- The segment name or the channel.
    customers BIGINT,  -- Customers of mart_clv in the segment, or acquired through the channel.
    ltv_eur DECIMAL(18,4),  -- Mean of historical_value_eur + predicted_clv_12m_eur over those customers; NULL when the CLV model was not fitted or there are none.
    cac_eur DECIMAL(18,4),  -- acquisition_channel: the channel's spend_eur up to as_of_date / its first_touch credit on first orders up to as_of_date; NULL for channels without ad spend and zero new customers. segment: the mean of its customers' acquisition-channel CAC, over those acquired through a channel with one.
    ltv_cac_ratio DOUBLE PRECISION,  -- ltv_eur / cac_eur; NULL when either is NULL or cac_eur is 0.
    meets_3_to_1 BOOLEAN,  -- ltv_cac_ratio >= 3; NULL when the ratio is NULL.
    PRIMARY KEY (as_of_date, dimension, value)
);
