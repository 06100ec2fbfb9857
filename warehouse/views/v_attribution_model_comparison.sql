-- One row per channel and attribution model: the channel's share of the model's attributed order revenue over all time
-- (orders only: won deals are mostly paid through orders, so adding their value would count it twice).
CREATE OR REPLACE VIEW v_attribution_model_comparison AS
WITH by_channel AS (
    SELECT
        channel,
        model,
        CAST(SUM(revenue_eur) AS DECIMAL(18,4)) AS revenue_eur
    FROM fct_attribution
    WHERE conversion_type = 'order'
    GROUP BY channel, model
)
SELECT
    channel,
    model,
    revenue_eur,
    100 * CAST(revenue_eur AS DOUBLE PRECISION)
        / NULLIF(CAST(SUM(revenue_eur) OVER (PARTITION BY model) AS DOUBLE PRECISION), 0) AS share_pct
FROM by_channel;
