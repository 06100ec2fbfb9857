-- One row per month and channel.
-- Channel budgets against actual ad spend, with the current month projected at its run rate.
CREATE TABLE IF NOT EXISTS mart_budget_vs_actual (
    month DATE NOT NULL,  -- First day of the month; months up to the as-of month.
    channel TEXT NOT NULL,  -- Marketing channel (pipeline.channels.CHANNELS).
    budget_eur DECIMAL(18,4),  -- Budget in EUR at the month's first-day rate; NULL if the channel has no budget that month.
    actual_eur DECIMAL(18,4),  -- Ad spend in EUR of the month's days up to the as-of date; 0 if none.
    variance_eur DECIMAL(18,4),  -- actual_eur - budget_eur (positive = over budget).
    variance_pct DOUBLE PRECISION,  -- variance_eur / budget_eur x 100; NULL without a budget.
    days_elapsed INTEGER,  -- Days of the month seen: the as-of day of month for the as-of month, else all.
    days_in_month INTEGER,  -- Days in the month.
    projected_eur DECIMAL(18,4),  -- actual_eur / days_elapsed x days_in_month for the as-of month; actual_eur for past months.
    PRIMARY KEY (month, channel)
);
