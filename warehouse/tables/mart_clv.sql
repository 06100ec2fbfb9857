-- One row per as-of date and customer.
-- Predicted customer lifetime value: BG/NBD purchases and P(alive), Gamma-Gamma spend, discounted 12-month CLV (see mart_clv_model).
CREATE TABLE IF NOT EXISTS mart_clv (
    as_of_date DATE NOT NULL,  -- The snapshot date: orders up to and including it count.
    customer_id TEXT NOT NULL,  -- Pseudonymous customer id; every customer with a purchase day (net daily total > 0) up to as_of_date.
    frequency BIGINT,  -- Repeat purchase days: distinct days with a positive net total, minus 1.
    recency_weeks DOUBLE PRECISION,  -- Days between the first and the last purchase day / 7.
    t_weeks DOUBLE PRECISION,  -- Days between the first purchase day and as_of_date / 7.
    historical_value_eur DECIMAL(18,4),  -- Net revenue in EUR of the customer's revenue orders up to as_of_date.
    expected_purchases_12m DOUBLE PRECISION,  -- BG/NBD expected repeat purchases in the next 12 months (365.25 days); NULL when the model was not fitted or did not converge.
    p_alive DOUBLE PRECISION,  -- BG/NBD probability the customer is still active, 1 without repeat purchases; NULL when not fitted.
    expected_spend_eur DECIMAL(18,4),  -- Gamma-Gamma expected spend per future purchase day (the population mean without repeat purchases); NULL when not fitted.
    predicted_clv_12m_eur DECIMAL(18,4),  -- Sum over the next 12 months of expected purchases x expected_spend_eur, discounted at 10 % a year compounded monthly; NULL when not fitted.
    PRIMARY KEY (as_of_date, customer_id)
);
