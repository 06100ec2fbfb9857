-- One row per customer.
-- Who each customer is (pseudonymous), their consent, order history up to the run date and current segments: the join target for every customer-level report.
CREATE TABLE IF NOT EXISTS dim_customer (
    customer_id TEXT NOT NULL,  -- Pseudonymous customer id: c_ + the first 16 hex digits of the email sha256 (or of a source key without email).
    email_sha256 TEXT,  -- sha256 of the trimmed, lower-cased email (the ad platforms matching rule), NULL without a contact email.
    contact_id TEXT,  -- CRM record id of the customer's newest contact, NULL for a customer known only from orders.
    source_system TEXT,  -- CRM of that contact: hubspot | salesforce | generic.
    created_at TIMESTAMPTZ,  -- When that contact was created in the CRM, UTC.
    lifecycle_stage TEXT,  -- subscriber | lead | mql | sql | opportunity | customer | evangelist | other.
    original_source TEXT,  -- The CRM original source, e.g. Paid Search, Organic Search, Email Marketing.
    birth_year INTEGER,  -- Year of birth as given.
    age_band TEXT NOT NULL,  -- 18-24 | 25-34 | 35-44 | 45-54 | 55-64 | 65+ by age = run year - birth_year, else unknown.
    gender TEXT,  -- female | male | other, NULL when unknown.
    income_band TEXT,  -- Income band as given in the CRM.
    education TEXT,  -- Education level as given in the CRM.
    city TEXT,  -- City.
    country_code TEXT,  -- ISO 3166 alpha-2 country, upper case.
    language TEXT,  -- ISO 639-1 language, lower case.
    values_orientation TEXT,  -- Survey: quality | status | sustainability | innovation | price.
    brand_loyalty TEXT,  -- Survey: high | medium | low.
    purchase_motive TEXT,  -- Survey: status | performance | value | convenience.
    lifestyle TEXT,  -- Survey: lifestyle answer.
    satisfaction_score DOUBLE PRECISION,  -- Survey: satisfaction 0..10.
    company TEXT,  -- B2B: company name.
    industry TEXT,  -- B2B: industry.
    employees BIGINT,  -- B2B: number of employees.
    revenue_band TEXT,  -- B2B: company revenue band.
    consent_marketing BOOLEAN,  -- Marketing consent, NULL = unknown and treated as no consent.
    objected_marketing BOOLEAN,  -- GDPR Art 21 objection to direct marketing, absolute.
    first_order_date DATE,  -- order_date of the first revenue order up to the run date, NULL without one.
    last_order_date DATE,  -- order_date of the last revenue order up to the run date, NULL without one.
    orders BIGINT NOT NULL,  -- Revenue orders (is_revenue) up to the run date.
    net_revenue_eur DECIMAL(18,4),  -- Net revenue in EUR of those orders, 0 without one, NULL if one has no EUR amount.
    rfm_segment TEXT,  -- Current RFM segment (see mart_customer_segments).
    value_tier TEXT,  -- Current value tier (see mart_customer_segments).
    PRIMARY KEY (customer_id)
);
