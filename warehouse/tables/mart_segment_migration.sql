-- One row per as_of_date, segmentation, from_segment and to_segment.
-- Migration matrix: how many customers moved from each segment of the snapshot 30 days earlier (compared_to_date) to each segment of this one; only cells with customers have rows.
CREATE TABLE IF NOT EXISTS mart_segment_migration (
    as_of_date DATE NOT NULL,  -- The snapshot date; nothing after it is read.
    segmentation TEXT NOT NULL,  -- The mart_customer_segments column, as in mart_segment_summary.
    from_segment TEXT NOT NULL,  -- The customer's segment as of compared_to_date; (new) if not a customer then.
    to_segment TEXT NOT NULL,  -- The customer's segment as of as_of_date; (gone) if no longer a customer (a deleted contact).
    compared_to_date DATE NOT NULL,  -- The earlier snapshot: as_of_date - 30 days, computed from silver as of that date.
    customers BIGINT NOT NULL,  -- Customers who moved from from_segment to to_segment (stayed when the two are equal).
    share_of_from_pct DOUBLE PRECISION NOT NULL,  -- customers / customers of from_segment x 100: each from_segment's rows add up to 100.
    PRIMARY KEY (as_of_date, segmentation, from_segment, to_segment)
);
