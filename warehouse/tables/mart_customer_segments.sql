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
    age_band TEXT NOT NULL,  -- Age as of the as-of year: 18-24, 25-34, 35-44, 45-54, 55-64, 65+, or unknown.
    gender TEXT NOT NULL,  -- female, male, other, or unknown.
    income_band TEXT NOT NULL,  -- Income band as recorded in the CRM, or unknown.
    education TEXT NOT NULL,  -- Education as recorded in the CRM (lower case), or unknown.
    country_code TEXT NOT NULL,  -- ISO-3166 alpha-2 country of the contact, or unknown.
    language TEXT NOT NULL,  -- ISO-639-1 language of the contact, or unknown.
    industry TEXT NOT NULL,  -- Company industry (lower case, underscores as spaces), or unknown.
    company_size_band TEXT NOT NULL,  -- Company employees: 1-9, 10-49, 50-249, 250-999, 1000+, or unknown.
    revenue_band TEXT NOT NULL,  -- Company revenue band as recorded in the CRM, or unknown.
    deal_stage_depth TEXT NOT NULL,  -- Furthest stage any of the customer's deals created up to as_of_date was seen in, over every CRM export up to as_of_date (closed_lost < appointment < qualified < presentation < decision < contract < closed_won), no deal, or unknown.
    cluster INTEGER,  -- k-means cluster 1..k (default 4) on standardised log recency, frequency, monetary and 90-day touches; 1 has the highest mean monetary value; NULL without RFM scores.
    cluster_description TEXT,  -- The cluster's centroid in words with its mean figures, e.g. '1: recent, frequent, high spend (avg 12 days since last order, ...)'; NULL without a cluster.
    PRIMARY KEY (as_of_date, customer_id)
);
