-- One row per source, file, row number and failed check.
-- Rows that failed parsing or an expectation, with the check, the column and the reason, and the raw row with personal data masked.
CREATE TABLE IF NOT EXISTS ops_quarantine (
    source TEXT NOT NULL,  -- Inbox folder, e.g. crm_contacts.
    file_sha256 TEXT NOT NULL,  -- The file the row came from (see ops_file_manifest).
    row_number BIGINT NOT NULL,  -- 1-based data row number in the file, counted after the header.
    extract_date DATE,  -- Inbox date folder of the file.
    source_format TEXT,  -- Format recognised from the header.
    check_name TEXT NOT NULL,  -- The failed check: parse | required | map | range | future | encoding | gx | ...
    column_name TEXT,  -- Column(s) the check failed on.
    reason TEXT,  -- Full reason(s), one line each, joined by '; '.
    raw_row TEXT,  -- The raw row as JSON, personal data (emails, phones, names) masked as ***.
    PRIMARY KEY (source, file_sha256, row_number, check_name)
);
