-- One row per goal of the latest mart_goal_tracking snapshot (as_of_date): where each goal stands today.
CREATE OR REPLACE VIEW v_goal_status_today AS
SELECT
    as_of_date,
    goal_id,
    description,
    metric,
    owner,
    target_abs,
    actual_to_date,
    expected_to_date,
    attainment_pct,
    forecast_end,
    status
FROM mart_goal_tracking
WHERE as_of_date = (SELECT MAX(as_of_date) FROM mart_goal_tracking);
