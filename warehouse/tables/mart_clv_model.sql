-- One row per as-of date, model and parameter.
-- The fitted CLV models behind mart_clv, kept compact: parameters, log-likelihood, customers fitted and convergence.
CREATE TABLE IF NOT EXISTS mart_clv_model (
    as_of_date DATE NOT NULL,  -- The snapshot date of mart_clv.
    model TEXT NOT NULL,  -- bgnbd (purchases and dropout) | gamma_gamma (spend per purchase).
    parameter TEXT NOT NULL,  -- bgnbd: r, alpha, a, b; gamma_gamma: p, q, gamma; both: log_likelihood, customers, converged.
    value DOUBLE PRECISION,  -- The parameter's value in time_unit; converged is 1 or 0, customers the number of customers fitted.
    time_unit TEXT,  -- Unit of the model's data: weeks on every bgnbd row (alpha is in weeks), EUR on every gamma_gamma row (gamma is in EUR).
    note TEXT,  -- Why the model was not fitted or its predictions are NULL (e.g. insufficient data: 12 repeat customers, need 20); NULL when all is well.
    PRIMARY KEY (as_of_date, model, parameter)
);
