"""Pure lazy polars transforms from silver entities to the gold tables BI tools read."""
