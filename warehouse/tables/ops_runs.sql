-- One row per run (run_id).
-- The run log: every nightly run and backfill with its row accounting, written in its own transaction so a failed run is recorded too.
CREATE TABLE IF NOT EXISTS ops_runs (
    run_id TEXT NOT NULL,  -- <command>_<start>_<end>_<random suffix>.
    command TEXT,  -- run | backfill | airflow (a failed Airflow task recorded by its callback).
    start_date DATE,  -- First logical date of the run.
    end_date DATE,  -- Last logical date of the run (= start_date for a nightly run).
    started_at TIMESTAMPTZ,  -- When the run started, UTC.
    ended_at TIMESTAMPTZ,  -- When the run ended, UTC; NULL while running.
    status TEXT,  -- running | succeeded | failed | interrupted (it never ended: killed; a later run of the same dates closed it).
    files_read BIGINT,  -- Inbox files parsed by this run.
    files_skipped BIGINT,  -- Inbox files whose identical bytes were already ingested (no-op).
    rows_read BIGINT,  -- Data rows read from the parsed files (report totals and footers excluded).
    rows_loaded BIGINT,  -- Rows written to the clean zone.
    rows_quarantined BIGINT,  -- Rows sent to quarantine; rows_read = rows_loaded + rows_quarantined + rows_duplicate.
    rows_duplicate BIGINT,  -- Exact duplicate rows dropped.
    rows_warned BIGINT,  -- Rows loaded with a warning-level expectation failure.
    error TEXT,  -- One-line reason when status = failed, else NULL.
    steps_json TEXT,  -- Rows in and out per step and per file, as JSON.
    PRIMARY KEY (run_id)
);
