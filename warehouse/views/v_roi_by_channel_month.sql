-- One row per month, channel and attribution model: the channel roll-up of mart_channel_roi by calendar month.
CREATE OR REPLACE VIEW v_roi_by_channel_month AS
SELECT
    period_start AS "month",
    channel,
    model,
    spend_eur,
    attributed_revenue_eur,
    conversions,
    new_customers,
    roi,
    roas,
    cpa_eur,
    cac_eur
FROM mart_channel_roi
WHERE period_grain = 'month'
  AND campaign_id = '(all)';
