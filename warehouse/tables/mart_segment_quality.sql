-- One row per as_of_date and segmentation.
-- Whether each segmentation is good enough to act on: segment sizes, distribution adequacy, how well it separates customer value, stability since 30 days earlier, and a verdict with its reason.
CREATE TABLE IF NOT EXISTS mart_segment_quality (
    as_of_date DATE NOT NULL,  -- The snapshot date of mart_customer_segments.
    segmentation TEXT NOT NULL,  -- The mart_customer_segments column, as in mart_segment_summary.
    segments BIGINT NOT NULL,  -- Distinct segments with customers.
    addressable_segments BIGINT NOT NULL,  -- Segments big enough to address (size_ok: >= 30 customers and >= 2 % of customers).
    customers BIGINT NOT NULL,  -- Customers in the snapshot.
    largest_segment TEXT NOT NULL,  -- The segment with the most customers (ties: first by name).
    largest_share_pct DOUBLE PRECISION NOT NULL,  -- Customers in the largest segment / customers x 100.
    missing_share_pct DOUBLE PRECISION NOT NULL,  -- Customers in an unknown band ('unknown', 'unknown unknown', 'unknown/unknown') / customers x 100.
    small_segments_share_pct DOUBLE PRECISION NOT NULL,  -- Customers in segments too small to address / customers x 100.
    concentration_hhi DOUBLE PRECISION NOT NULL,  -- Sum of squared segment shares (0..1): 1 = everyone in one segment, 1/n = n equal segments.
    value_variance_explained_pct DOUBLE PRECISION,  -- Between-segment / total sum of squares of customer value (net revenue up to as_of_date, 0 without orders) x 100; NULL when all values are equal.
    compared_to_date DATE,  -- The earlier snapshot of mart_segment_migration (as_of_date - 30 days).
    customers_in_both BIGINT,  -- Customers present in both snapshots.
    stability_pct DOUBLE PRECISION,  -- Of customers_in_both, those who kept their segment x 100; NULL without any.
    is_actionable BOOLEAN NOT NULL,  -- True when >= 2 addressable segments, the largest <= 95 %, unknown <= 50 % and <= 20 % of customers in too-small segments.
    verdict_reason TEXT NOT NULL,  -- ok, or every failed check with its figure, separated by '; ', e.g. largest segment 'unknown' holds 97.0 % of customers (max 95.0 %).
    PRIMARY KEY (as_of_date, segmentation)
);
