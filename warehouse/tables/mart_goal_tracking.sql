-- One row per as_of_date and goal_id.
-- Each started SMART goal's actual to date against its pacing (linear, or last year's seasonal shape), its forecast and its status.
CREATE TABLE IF NOT EXISTS mart_goal_tracking (
    as_of_date DATE NOT NULL,  -- The snapshot date; goals whose period started on or before it.
    goal_id TEXT NOT NULL,  -- The goal's id in the plan's goals sheet.
    description TEXT,  -- The goal as written in the plan.
    metric TEXT,  -- revenue, new_customers, customers, sales_growth, avg_order, satisfaction, cpa (ad spend / new customers, EUR; lower is better) or roi ((revenue - ad spend) / ad spend, a ratio).
    owner TEXT,  -- Who owns the goal.
    target_value DOUBLE PRECISION,  -- The target as written: an amount, or a growth percentage for pct_vs_baseline.
    target_kind TEXT,  -- absolute or pct_vs_baseline.
    period_start DATE,  -- First day of the goal's period.
    period_end DATE,  -- Last day of the goal's period.
    channel TEXT,  -- Channel filter: the channel's last-touch attributed revenue, orders and new customers and its ad spend; NULL = the whole business.
    segment TEXT,  -- Segment filter: customers in the segment as of as_of_date (column=value, or a value of rfm_segment, persona or value_tier); NULL = everyone.
    target_abs DECIMAL(18,4),  -- The target in the metric's unit: target_value, or baseline_value x (1 + target_value / 100).
    baseline_value DECIMAL(18,4),  -- The metric over the baseline period (pct_vs_baseline goals only).
    actual_to_date DECIMAL(18,4),  -- The metric from period_start to the earlier of as_of_date and period_end.
    expected_to_date DECIMAL(18,4),  -- target_abs x elapsed days / period days for additive metrics (linear pacing), target_abs x last year's to-date share (seasonal); target_abs for levels.
    pacing TEXT,  -- linear (elapsed days / period days), or seasonal: last year's share of the same 52-week-earlier window reached by this date (revenue, sales_growth, new_customers with a year of history).
    attainment_pct DOUBLE PRECISION,  -- actual_to_date / expected_to_date x 100; expected_to_date / actual_to_date x 100 for cpa (lower is better).
    forecast_end DECIMAL(18,4),  -- actual_to_date / elapsed days x period days for additive metrics; actual_to_date for levels.
    status TEXT NOT NULL,  -- achieved, missed, on_track (>= 99 %), at_risk (>= 85 %), off_track or insufficient_data.
    PRIMARY KEY (as_of_date, goal_id)
);
