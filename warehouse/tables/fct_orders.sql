-- One row per order.
-- Orders from every shop, payment and ERP source with native and EUR amounts: revenue, first orders, CPA and CAC.
CREATE TABLE IF NOT EXISTS fct_orders (
    order_id TEXT NOT NULL,  -- The source system's order id, leading zeros kept.
    source_system TEXT,  -- shopify | stripe | erp.
    customer_id TEXT,  -- Pseudonymous customer id (see dim_customer).
    ordered_at TIMESTAMPTZ,  -- When the order was placed, UTC.
    order_date DATE,  -- The shop's local day of ordered_at (day boundaries in DECISIONLOG.md).
    currency_code TEXT,  -- ISO 4217 currency of the native amounts.
    gross DECIMAL(18,4),  -- Order total before discounts and refunds, incl. shipping, in currency_code.
    discounts DECIMAL(18,4),  -- Discounts in currency_code.
    refunds DECIMAL(18,4),  -- Refunds in currency_code.
    net_revenue DECIMAL(18,4),  -- gross - discounts - refunds, in currency_code.
    gross_eur DECIMAL(18,4),  -- gross in EUR at the rate valid on order_date, NULL without a rate.
    net_revenue_eur DECIMAL(18,4),  -- net_revenue in EUR at the rate valid on order_date, NULL without a rate.
    status TEXT,  -- paid | partially_refunded | refunded | pending | cancelled | failed.
    is_revenue BOOLEAN NOT NULL,  -- True for paid, partially_refunded and refunded orders (a refunded order counts with its net revenue).
    is_first_order BOOLEAN NOT NULL,  -- True for the customer's earliest revenue order by ordered_at, then order_id.
    product_category TEXT,  -- Product category of the order.
    price_tier TEXT,  -- entry | mid | premium | luxury.
    PRIMARY KEY (order_id)
);
