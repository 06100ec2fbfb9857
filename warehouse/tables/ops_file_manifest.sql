-- One row per file (file_sha256).
-- Every inbox file ingested, by the SHA-256 of its bytes: the same bytes delivered twice are ingested once.
CREATE TABLE IF NOT EXISTS ops_file_manifest (
    file_sha256 TEXT NOT NULL,  -- SHA-256 of the file's bytes, lower-case hex.
    source TEXT,  -- Inbox folder, e.g. google_ads.
    source_format TEXT,  -- Format recognised from the header, e.g. google_ads_ui_en.
    original_name TEXT,  -- File name as delivered.
    size_bytes BIGINT,  -- File size in bytes.
    extract_date DATE,  -- Inbox date folder the file was first read from.
    encoding TEXT,  -- Encoding the file was decoded with.
    encoding_fallback BOOLEAN,  -- True when the file was not valid in its detected encoding and was read as Windows-1252.
    rows_read BIGINT,  -- Data rows in the file (report totals and footers excluded).
    rows_loaded BIGINT,  -- Rows written to the clean zone.
    rows_quarantined BIGINT,  -- Rows quarantined.
    rows_duplicate BIGINT,  -- Exact duplicate rows dropped.
    furniture_rows BIGINT,  -- Report title, total and footer rows stripped (kept for reconciliation).
    first_run_id TEXT,  -- run_id of the run that first ingested the file (see ops_runs).
    ingested_at TIMESTAMPTZ,  -- When the file was first ingested, UTC.
    PRIMARY KEY (file_sha256)
);
