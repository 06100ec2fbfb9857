-- One row per month.
-- Sales costs against the customers and revenue they bought: CPA, the sales-cost share of revenue and the fully loaded CAC.
CREATE TABLE IF NOT EXISTS mart_sales_costs (
    month DATE NOT NULL,  -- First day of the month.
    fixed_eur DECIMAL(18,4),  -- Fixed sales costs in EUR at the month's first-day rate; NULL if the month has no cost rows or a cost has no rate.
    variable_eur DECIMAL(18,4),  -- Variable sales costs in EUR at the month's first-day rate; NULL as fixed_eur.
    total_sales_costs_eur DECIMAL(18,4),  -- fixed_eur + variable_eur.
    new_customers BIGINT,  -- First orders (is_first_order) placed in the month.
    revenue_eur DECIMAL(18,4),  -- Net revenue in EUR of the month's revenue orders.
    cpa_eur DECIMAL(18,4),  -- total_sales_costs_eur / new_customers; NULL without new customers.
    sales_cost_share_pct DOUBLE PRECISION,  -- total_sales_costs_eur / revenue_eur x 100; NULL without revenue.
    marketing_spend_eur DECIMAL(18,4),  -- Ad spend of the month (fct_ad_spend_daily), 0 without spend rows, NULL if a day has no EUR amount.
    cac_eur DECIMAL(18,4),  -- (marketing_spend_eur + total_sales_costs_eur) / new_customers: the fully loaded acquisition cost; NULL without new customers.
    PRIMARY KEY (month)
);
