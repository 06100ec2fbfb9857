-- One row per segmentation and segment of the latest mart_segment_summary snapshot (as_of_date).
CREATE OR REPLACE VIEW v_segment_overview AS
SELECT
    as_of_date,
    segmentation,
    segment,
    customers,
    share_pct,
    revenue_eur,
    avg_order_eur,
    size_ok
FROM mart_segment_summary
WHERE as_of_date = (SELECT MAX(as_of_date) FROM mart_segment_summary);
