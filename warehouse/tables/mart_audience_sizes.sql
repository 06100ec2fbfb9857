-- One row per as_of_date, audience and platform.
-- Size of every retargeting audience file kohde wrote (kohde audiences --date D), who was left out and why, and whether the platform can serve it.
CREATE TABLE IF NOT EXISTS mart_audience_sizes (
    as_of_date DATE NOT NULL,  -- The audience date: segments, touches and orders up to it; consent and objections as known at export.
    audience TEXT NOT NULL,  -- engaged_no_order_30d | at_risk_high_value | webinar_not_converted | champions_lookalike_seed (rules in pipeline/audiences.py).
    platform TEXT NOT NULL,  -- google_ads (Customer Match) | meta_ads (custom audience).
    candidates BIGINT,  -- Customers matching the audience rule before consent and suppression.
    excluded_forgotten BIGINT,  -- Candidates erased with kohde forget.
    excluded_objected BIGINT,  -- Candidates who objected to direct marketing (GDPR Art 21), whatever their consent.
    excluded_suppressed BIGINT,  -- Candidates on the suppression list (kohde suppress or inbox/plan/suppression*.csv).
    excluded_no_consent BIGINT,  -- Candidates without marketing consent on every CRM contact (NULL counts as no consent).
    excluded_no_identifier BIGINT,  -- Candidates with neither an email nor a phone hash to match by.
    members BIGINT,  -- Rows in the platform file.
    minimum_members BIGINT,  -- The platform's minimum of matched members before a list can serve (see DECISIONLOG.md).
    below_minimum BOOLEAN,  -- members < minimum_members: the platform cannot serve this audience (matching only lowers the count).
    file_name TEXT,  -- The file under KOHDE_HOME/audiences/<as_of_date>/.
    PRIMARY KEY (as_of_date, audience, platform)
);
