-- One row per as_of_date and customer_id.
-- Every known customer's RFM scores and segments as of a date: audiences, targeting and segment migration.
CREATE TABLE IF NOT EXISTS mart_customer_segments (
    as_of_date DATE NOT NULL,  -- The snapshot date; nothing after it is read.
    customer_id TEXT NOT NULL,  -- Pseudonymous customer id (see dim_customer).
    recency_days BIGINT,  -- Days from the last revenue order in the RFM window to as_of_date; NULL without one.
    frequency BIGINT,  -- Revenue orders in the RFM window (as_of_date - window_days, as_of_date]; NULL without one.
    monetary_eur DECIMAL(18,4),  -- Net revenue in EUR of the revenue orders in the RFM window; NULL without one.
    r_score INTEGER,  -- Recency score 1..5, ceil(5 x min rank / customers), more recent scores higher.
    f_score INTEGER,  -- Frequency score 1..5, ceil(5 x min rank / customers), more orders scores higher.
    m_score INTEGER,  -- Monetary score 1..5, ceil(5 x min rank / customers), more revenue scores higher.
    rfm_segment TEXT NOT NULL,  -- Named RFM segment (11 names, rules in pipeline/transforms/segments.py), Prospects (never bought) or Lost (no order in the window).
    value_tier TEXT NOT NULL,  -- top (smallest set carrying 80 % of historical net revenue), middle (up to 95 %), low, none (no value).
    engagement_segment TEXT NOT NULL,  -- highly_engaged (>= 5 touches in 30 days), engaged (1-4), cooling (none in 30, some in 90), dormant.
    intent_segment TEXT NOT NULL,  -- Strongest intent touch in 90 days: demo_request, trial, webinar, pricing_visit, or none.
    demographic_segment TEXT NOT NULL,  -- Age band and gender, e.g. '35-44 female'; 'unknown' for a missing part.
    psychographic_segment TEXT NOT NULL,  -- Purchase motive / values orientation, e.g. 'value/price'; 'unknown' for a missing part.
    persona TEXT NOT NULL,  -- First matching persona rule: B2B account, Luxury buyer, Tech professional, Price-sensitive occasional, General.
    PRIMARY KEY (as_of_date, customer_id)
);
