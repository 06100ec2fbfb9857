-- One row per lake state the fact tables were loaded with: at most one, the last (none after a run that wrote no state).
-- Lets the next nightly run replace only the changed date ranges of fct_touchpoints and fct_attribution: it does so only when the warehouse holds exactly what the lake's incremental state says (pipeline/incremental.py); otherwise it replaces the tables whole.
CREATE TABLE IF NOT EXISTS ops_gold_state (
    state_id TEXT NOT NULL,  -- The lake's gold state written after this load (<as-of date>-<random suffix>).
    as_of_date DATE,  -- The date the state's truth is as of: the newest extract date of the run.
    run_id TEXT,  -- The run that loaded it (see ops_runs).
    PRIMARY KEY (state_id)
);
