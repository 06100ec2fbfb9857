-- One row per as_of_date and goal_id.
-- Each started SMART goal's actual to date against linear pacing, its forecast and its status.
CREATE TABLE IF NOT EXISTS mart_goal_tracking (
    as_of_date DATE NOT NULL,  -- The snapshot date; goals whose period started on or before it.
    goal_id TEXT NOT NULL,  -- The goal's id in the plan's goals sheet.
    description TEXT,  -- The goal as written in the plan.
    metric TEXT,  -- revenue, new_customers, customers, sales_growth, avg_order or satisfaction.
    owner TEXT,  -- Who owns the goal.
    target_value DOUBLE PRECISION,  -- The target as written: an amount, or a growth percentage for pct_vs_baseline.
    target_kind TEXT,  -- absolute or pct_vs_baseline.
    period_start DATE,  -- First day of the goal's period.
    period_end DATE,  -- Last day of the goal's period.
    target_abs DECIMAL(18,4),  -- The target in the metric's unit: target_value, or baseline_value x (1 + target_value / 100).
    baseline_value DECIMAL(18,4),  -- The metric over the baseline period (pct_vs_baseline goals only).
    actual_to_date DECIMAL(18,4),  -- The metric from period_start to the earlier of as_of_date and period_end.
    expected_to_date DECIMAL(18,4),  -- target_abs x elapsed days / period days for additive metrics; target_abs for levels.
    attainment_pct DOUBLE PRECISION,  -- actual_to_date / expected_to_date x 100.
    forecast_end DECIMAL(18,4),  -- actual_to_date / elapsed days x period days for additive metrics; actual_to_date for levels.
    status TEXT NOT NULL,  -- achieved, missed, on_track (>= 99 %), at_risk (>= 85 %), off_track or insufficient_data.
    PRIMARY KEY (as_of_date, goal_id)
);
