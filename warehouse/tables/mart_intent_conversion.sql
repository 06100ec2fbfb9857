-- One row per as_of_date and intent_signal.
-- Which intent converts: customers who showed each intent signal in the signal window and how many of them ordered or won a deal within conversion_days after it, against customers with no signal.
CREATE TABLE IF NOT EXISTS mart_intent_conversion (
    as_of_date DATE NOT NULL,  -- The snapshot date; nothing after it is read.
    intent_signal TEXT NOT NULL,  -- demo_request, trial, webinar, pricing_visit (touch types), or none (known customers without any of them in the window); a customer can be in several signal groups.
    signal_window_start DATE NOT NULL,  -- First UTC day of the signals counted: signal_window_end - 89 days (90-day window).
    signal_window_end DATE NOT NULL,  -- Last UTC day of the signals counted: as_of_date - conversion_days, so every signal had its full conversion window.
    conversion_days INTEGER NOT NULL,  -- Days after the signal in which an order or a won deal counts as a conversion (default 30).
    customers BIGINT NOT NULL,  -- Customers with the signal in the window (their first one counts); for none, customers known at signal_window_end without any signal.
    converted_customers BIGINT NOT NULL,  -- Of them, customers with a revenue order after the signal (none: after signal_window_end) or a deal won from the signal's day, within conversion_days.
    conversion_rate_pct DOUBLE PRECISION,  -- converted_customers / customers x 100; NULL without customers.
    lift_vs_none DOUBLE PRECISION,  -- conversion_rate_pct / the none row's conversion_rate_pct; NULL when that rate is 0 or NULL.
    avg_days_to_convert DOUBLE PRECISION,  -- Mean whole UTC days from the signal to the first order or won deal of the converted customers; NULL for none and without conversions.
    converted_revenue_eur DECIMAL(18,4) NOT NULL,  -- Net revenue in EUR of the revenue orders inside the customers' conversion windows.
    PRIMARY KEY (as_of_date, intent_signal)
);
