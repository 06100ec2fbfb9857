"""Predictive customer lifetime value: BG/NBD and Gamma-Gamma by maximum likelihood, and LTV:CAC.

``rfm_summary`` turns revenue orders into the (frequency, recency, T, monetary value) summary the
models need; ``fit_bgnbd`` and ``fit_gamma_gamma`` estimate the models with plain maximum
likelihood (no priors, so the published CDNOW estimates are reproduced); ``build_clv`` writes
``mart_clv`` and ``mart_clv_model`` and ``build_ltv_cac`` writes ``mart_ltv_cac``.

Money rules
    - ``net_revenue_eur`` already has discounts and refunds netted (see ``fct_orders``); only
      ``is_revenue`` orders with a customer_id and a EUR amount count (an order whose currency has
      no rate, NULL ``net_revenue_eur``, is left out).
    - A purchase is a customer's day, not an order: orders on the same ``order_date`` are summed
      into one daily total, as lifetimes' ``summary_data_from_transaction_data`` does.
    - A day whose net total is <= 0 (fully refunded, free or negative) is not a purchase: it counts
      neither in frequency nor as the first purchase, but it does count in
      ``historical_value_eur``. A customer with no positive day has no row.
    - ``monetary_value`` is the mean daily total of the repeat purchase days (the first purchase
      day excluded, as in Fader & Hardie's Gamma-Gamma note); it is 0 without repeat purchases.
    - Customers without repeat purchases (frequency 0) are left out of the Gamma-Gamma fit; their
      expected spend is the population mean ``p * gamma / (q - 1)``.

Models
    BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science
    24(2); log-likelihood eq. (6), conditional expectation eq. (10), P(alive) from Fader, Hardie &
    Lee (2008), note 021. Gamma-Gamma: Fader & Hardie (2013), note 025, eq. (1a) and (5). Both are
    fitted with L-BFGS-B on the log-parameters with an analytic gradient, on the distinct data rows
    weighted by their counts (same optimum as one row per customer, far fewer rows), with time
    (BG/NBD) or money (Gamma-Gamma) rescaled so the optimiser sees values near 1; the parameters
    and log-likelihood are reported in the caller's units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1
from threadpoolctl import threadpool_limits

from pipeline.entities import MONEY
from pipeline.transforms.customer_orders import CustomerOrders, customer_orders
from pipeline.transforms.measures import customer_hash

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

DAYS_PER_MONTH = 365.25 / 12
WEEK_DAYS = 7.0
WEEKS_PER_MONTH = DAYS_PER_MONTH / WEEK_DAYS
# fewer customers with a repeat purchase than this and the models are not fitted
MIN_REPEAT_CUSTOMERS = 20
# log-parameters are kept in [-LOG_BOUND, LOG_BOUND]: a parameter the data push to 0 or infinity stops there
LOG_BOUND = 20.0
# largest absolute gradient of the mean log-likelihood (per log-parameter) accepted as converged
GRADIENT_TOLERANCE = 1e-5

MART_CLV_SCHEMA = pl.Schema({
    "as_of_date": pl.Date(),
    "customer_id": pl.Utf8(),
    "frequency": pl.Int64(),
    "recency_weeks": pl.Float64(),
    "t_weeks": pl.Float64(),
    "historical_value_eur": MONEY,
    "expected_purchases_12m": pl.Float64(),
    "p_alive": pl.Float64(),
    "expected_spend_eur": MONEY,
    "predicted_clv_12m_eur": MONEY,
})
MART_CLV_MODEL_SCHEMA = pl.Schema({
    "as_of_date": pl.Date(),
    "model": pl.Utf8(),
    "parameter": pl.Utf8(),
    "value": pl.Float64(),
    "time_unit": pl.Utf8(),
    "note": pl.Utf8(),
})
MART_LTV_CAC_SCHEMA = pl.Schema({
    "as_of_date": pl.Date(),
    "dimension": pl.Utf8(),
    "value": pl.Utf8(),
    "customers": pl.Int64(),
    "ltv_eur": MONEY,
    "cac_eur": MONEY,
    "ltv_cac_ratio": pl.Float64(),
    "meets_3_to_1": pl.Boolean(),
})
# the unit of every mart_clv_model row of a model: BG/NBD is fitted in weeks, Gamma-Gamma in EUR
MODEL_UNITS: dict[str, str] = {"bgnbd": "weeks", "gamma_gamma": "EUR"}


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters (alpha in the time unit of the data) and the fit's log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (gamma in the money unit of the data) and the log-likelihood."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    converged: bool


def rfm_summary(
    fct_orders: pl.LazyFrame,
    calibration_end: date,
    *,
    time_unit_days: float = WEEK_DAYS,
    calibration_start: date | None = None,
) -> pl.LazyFrame:
    """One row per customer with a revenue order up to calibration_end: frequency, recency, T, money.

    Orders count with ``order_date`` in ``[calibration_start, calibration_end]`` (no lower bound
    when ``calibration_start`` is None), under the money rules of the module docstring. Columns:
    ``frequency`` = purchase days - 1; ``recency`` = last - first purchase day and ``T`` =
    calibration_end - first purchase day, both in units of ``time_unit_days`` days (default weeks);
    ``monetary_value`` (Float64) = mean daily total of the repeat purchase days (their decimal sum / their
    number, so it does not depend on the order of the rows), 0 without any;
    ``historical_value_eur`` (Decimal) = sum of ``net_revenue_eur`` of all the customer's counted
    orders. It is ``summary_of`` the orders grouped by customer (``customer_orders``).
    """
    # the columns the summary reads (the grouping's price tier is not among them)
    orders = fct_orders.select("customer_id", "order_date", "net_revenue_eur", "is_revenue",
                               pl.lit(None, pl.Utf8).alias("price_tier"))
    if calibration_start is not None:
        orders = orders.filter(pl.col("order_date") >= calibration_start)
    rows = customer_orders(orders, calibration_end, 1).rows
    return summary_of(rows, calibration_end, time_unit_days=time_unit_days)


def summary_of(rows: pl.LazyFrame, calibration_end: date, *, time_unit_days: float = WEEK_DAYS) -> pl.LazyFrame:
    """``rfm_summary`` from ``customer_orders``' rows as of calibration_end: its purchase-day columns, in their order."""
    purchases = pl.col("purchase_days")
    first_day = pl.col("first_purchase_date")
    return rows.filter(purchases > 0).select(
        "customer_id",
        (purchases - 1).alias("frequency"),
        ((pl.col("last_purchase_date") - first_day).dt.total_days() / time_unit_days).alias("recency"),
        ((pl.lit(calibration_end) - first_day).dt.total_days() / time_unit_days).alias("T"),
        # monetary value = repeat purchase days' total / their number
        pl.when(purchases > 1)
        .then(pl.col("repeat_purchase_eur").cast(pl.Float64) / (purchases - 1))
        .otherwise(0.0)
        .alias("monetary_value"),
        pl.col("net_revenue_eur").alias("historical_value_eur"),
    )


def _distinct_rows(columns: dict[str, FloatArray], weights: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """The distinct rows of the columns, sorted (so fits are deterministic), and each one's summed weight."""
    grouped = (
        pl.DataFrame({**columns, "weight": weights})
        .group_by(list(columns))
        .agg(pl.col("weight").sum())
        .filter(pl.col("weight") > 0)
        .sort(list(columns))
    )
    return [grouped[name].to_numpy().astype(np.float64) for name in columns], grouped["weight"].to_numpy()


def _as_weights(weights: ArrayLike | None, size: int) -> FloatArray:
    """The weights as floats, all 1 when not given."""
    return np.ones(size) if weights is None else np.asarray(weights, dtype=np.float64)


def _minimise(
    objective: Callable[[FloatArray], tuple[float, FloatArray]], start: FloatArray
) -> tuple[FloatArray, float, bool]:
    """Minimise a (value, gradient) function of the log-parameters: (optimum, value, converged).

    Converged means a finite optimum whose projected gradient is below ``GRADIENT_TOLERANCE``,
    however L-BFGS-B reported its stop (a line-search stop at a flat optimum is still an optimum).
    A parameter on its bound is one the data push to 0 or infinity (no dropout, no heterogeneity):
    the fit is then the limiting model, which still predicts.
    """
    # L-BFGS-B's BLAS calls on 2-4 parameters gain nothing from threads; OpenBLAS worker threads
    # waiting for a busy core made each small fit 20x slower (docs/benchmarks.md, CLV fit).
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * start.size,
            options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-9},
        )
    value, gradient = objective(result.x)
    # on a bound only the gradient pointing back inside counts (the projected gradient)
    pushing_out = ((result.x <= -LOG_BOUND + 1e-6) & (gradient > 0)) | ((result.x >= LOG_BOUND - 1e-6) & (gradient < 0))
    projected = np.where(pushing_out, 0.0, gradient)
    converged = bool(
        np.all(np.isfinite(result.x)) and np.isfinite(value) and np.max(np.abs(projected)) < GRADIENT_TOLERANCE
    )
    return result.x, float(value), converged


@dataclass(frozen=True)
class _FitRows:
    """Distinct data rows with their weights: x, the other columns, and x's distinct values.

    The special functions of both likelihoods depend on x only, and x takes few values: they are
    evaluated once per distinct x (``x_levels``, each weighted by ``level_weights``).
    """

    x: FloatArray
    columns: tuple[FloatArray, ...]
    weights: FloatArray
    x_levels: FloatArray
    level_weights: FloatArray

    @classmethod
    def of(cls, x: FloatArray, columns: tuple[FloatArray, ...], weights: FloatArray) -> _FitRows:
        """The rows with their x levels worked out."""
        levels, index = np.unique(x, return_inverse=True)
        level_weights = np.asarray(np.bincount(index, weights=weights, minlength=levels.size), dtype=np.float64)
        return cls(x, columns, weights, levels, level_weights)


def _log_sum_exp(first: FloatArray, second: FloatArray) -> FloatArray:
    """ln(e^first + e^second), stable, with second = -inf allowed (np.logaddexp is several times slower)."""
    high = np.maximum(first, second)
    return np.asarray(high + np.log1p(np.exp(-np.abs(first - second))), dtype=np.float64)


def _bgnbd_mean_negative_log_likelihood(log_params: FloatArray, data: _FitRows) -> tuple[float, FloatArray]:
    """Weighted mean negative BG/NBD log-likelihood (FHL 2005, eq. 6) and its gradient in the log-parameters.

    ln L = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
           + ln[(alpha+T)^-(r+x) + [x > 0] a/(b+x-1) (alpha+t_x)^-(r+x)]
    """
    r, alpha, a, b = np.exp(log_params)
    x, levels, level_weights, weights = data.x, data.x_levels, data.level_weights, data.weights
    t_x, t_cal = data.columns
    total = weights.sum()
    # terms in x only, once per distinct x; ln B(a, b+x) - ln B(a, b) = ln G(b+x) - ln G(a+b+x) + ln G(a+b) - ln G(b)
    psi_r_x, psi_b_x, psi_ab_x = digamma(r + levels), digamma(b + levels), digamma(a + b + levels)
    psi_ab = digamma(a + b)
    x_part = float(np.sum(level_weights * (gammaln(r + levels) + gammaln(b + levels) - gammaln(a + b + levels))))
    x_part += total * (gammaln(a + b) - gammaln(b) - gammaln(r) + r * np.log(alpha))
    d_r = float(np.sum(level_weights * (psi_r_x - digamma(r)))) + total * np.log(alpha)
    d_a = float(np.sum(level_weights * (psi_ab - psi_ab_x)))
    d_b = float(np.sum(level_weights * (psi_b_x - digamma(b) + psi_ab - psi_ab_x)))
    # the terms per history: still alive at T, or dropped out right after the last purchase at t_x
    b_x = b + np.maximum(x, 1.0) - 1.0
    log_alive_at = np.log(alpha + t_cal)
    log_dropped_at = np.log(alpha + t_x)
    alive = -(r + x) * log_alive_at
    dropped = np.where(x > 0, np.log(a) - np.log(b_x) - (r + x) * log_dropped_at, -np.inf)
    both = _log_sum_exp(alive, dropped)
    share_dropped = np.exp(dropped - both)
    share_alive = 1.0 - share_dropped
    log_likelihood = x_part + np.sum(weights * both)
    d_r -= np.sum(weights * (share_alive * log_alive_at + share_dropped * log_dropped_at))
    d_alpha = total * r / alpha - np.sum(
        weights * (r + x) * (share_alive / (alpha + t_cal) + share_dropped / (alpha + t_x))
    )
    d_a += np.sum(weights * share_dropped) / a
    d_b -= np.sum(weights * share_dropped / b_x)
    gradient = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])
    return -float(log_likelihood) / total, -gradient / total


def fit_bgnbd(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None  # noqa: N803
) -> BgNbdParams:
    """BG/NBD parameters by maximum likelihood (Fader, Hardie & Lee 2005, eq. 6).

    ``frequency`` is the number of repeat purchases x, ``recency`` the time of the last one t_x and
    ``T`` the time since the first purchase, all per customer; ``weights`` counts customers per row
    (default 1). ``alpha`` and the log-likelihood are in the time unit of ``recency`` and ``T``.
    Time is divided by max(T) for the optimiser, which changes the log-likelihood by
    sum(x) * ln(max T); that is added back. Without any repeat purchase the model is not
    identified: every value is NaN and ``converged`` is False.
    """
    x = np.asarray(frequency, dtype=np.float64)
    (x, t_x, t_cal), counts = _distinct_rows(
        {"x": x, "t_x": np.asarray(recency, dtype=np.float64), "t_cal": np.asarray(T, dtype=np.float64)},
        _as_weights(weights, x.size),
    )
    if not np.any(x > 0):
        # without a repeat purchase nothing identifies the dropout process (a, b)
        return BgNbdParams(np.nan, np.nan, np.nan, np.nan, np.nan, converged=False)
    scale = float(t_cal.max())

    rows = _FitRows.of(x, (t_x / scale, t_cal / scale), counts)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        return _bgnbd_mean_negative_log_likelihood(log_params, rows)

    log_params, mean_negative, converged = _minimise(objective, np.zeros(4))
    r, alpha, a, b = np.exp(log_params)
    log_likelihood = -mean_negative * counts.sum() - float(np.sum(x * counts)) * np.log(scale)
    return BgNbdParams(float(r), float(alpha * scale), float(a), float(b), float(log_likelihood), converged)


# from this argument on, ln G(a + q) - ln G(a) and psi(a + q) - psi(a) are taken from their asymptotic series
# (their error there is below 1e-20): differences of two values of size a ln a lose every digit at a ~ 1e9
_ASYMPTOTIC_FROM = 1e4


def _stable_difference(a: FloatArray, q: float, function: Callable[[FloatArray], FloatArray],
                       series: Callable[[FloatArray, FloatArray], FloatArray]) -> FloatArray:
    """function(a + q) - function(a), from ``series(b, c)`` (b = a, c = a + q) where a >= 1e4."""
    out = function(a + q) - function(a)
    large = a >= _ASYMPTOTIC_FROM
    if large.any():
        b = a[large]
        out[large] = series(b, b + q)
    return out


def _log_rising(a: FloatArray, q: float) -> FloatArray:
    """The difference ln G(a + q) - ln G(a), exact to rounding also where both are huge (Stirling's series)."""
    # (c - 1/2) ln c - (b - 1/2) ln b - q + 1/(12c) - 1/(12b) - 1/(360c^3) + 1/(360b^3)
    return _stable_difference(a, q, gammaln, lambda b, c: (
        (b - 0.5) * np.log1p(q / b) + q * np.log(c) - q
        + (1.0 / c - 1.0 / b) / 12.0 - (1.0 / c**3 - 1.0 / b**3) / 360.0))


def _digamma_step(a: FloatArray, q: float) -> FloatArray:
    """The difference psi(a + q) - psi(a), exact to rounding also where both are large (its asymptotic series)."""
    # psi(z) = ln z - 1/(2z) - 1/(12z^2) + 1/(120z^4) - ...
    return _stable_difference(a, q, digamma, lambda b, c: (
        np.log1p(q / b) - (1.0 / c - 1.0 / b) / 2.0 - (1.0 / c**2 - 1.0 / b**2) / 12.0
        + (1.0 / c**4 - 1.0 / b**4) / 120.0))


def _gamma_gamma_mean_negative_log_likelihood(log_params: FloatArray, data: _FitRows) -> tuple[float, FloatArray]:
    """Weighted mean negative Gamma-Gamma log-likelihood (note 025, eq. 1a) and its gradient in the log-parameters.

    ln L = ln G(px+q) - ln G(px) - ln G(q) + q ln gamma + (px-1) ln m + px ln x - (px+q) ln(xm + gamma),
    computed as ln G(px+q) - ln G(px) - ln G(q) + q ln gamma - ln m - px ln(1 + gamma/(xm)) - q ln(xm + gamma):
    the same sum, but without terms of size px ln x that cancel between the rows. Near the p -> infinity
    limit (customers whose order values barely vary; px ~ 1e9 at the large scale) those left the mean
    wrong by 1e-7, more than the fit's steps, and the fit stopped short of its bound, "not converged".
    """
    p, q, gamma = np.exp(log_params)
    x, levels, level_weights, weights = data.x, data.x_levels, data.level_weights, data.weights
    (m,) = data.columns
    total = weights.sum()
    # terms in x only, once per distinct x
    x_part = np.sum(level_weights * _log_rising(p * levels, q))
    d_p = np.sum(level_weights * levels * _digamma_step(p * levels, q))
    d_q = np.sum(level_weights * digamma(p * levels + q)) + total * (np.log(gamma) - digamma(q))
    # terms per row
    log_total = np.log(x * m + gamma)
    spread = np.log1p(gamma / (x * m))  # ln(xm + gamma) - ln(xm)
    log_likelihood = x_part + total * (q * np.log(gamma) - gammaln(q)) + np.sum(
        weights * (-np.log(m) - p * x * spread - q * log_total)
    )
    d_p -= np.sum(weights * x * spread)
    d_q -= np.sum(weights * log_total)
    d_gamma = total * q / gamma - np.sum(weights * (p * x + q) / (x * m + gamma))
    gradient = np.array([d_p, d_q, d_gamma]) * np.array([p, q, gamma])
    return -float(log_likelihood) / total, -gradient / total


def fit_gamma_gamma(
    frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
) -> GammaGammaParams:
    """Gamma-Gamma parameters by maximum likelihood (Fader & Hardie 2013, note 025, eq. 1a).

    Only rows with frequency > 0 and monetary_value > 0 are used (the money rules); ``gamma`` and
    the log-likelihood are in the money unit of ``monetary_value``. Money is divided by its mean
    for the optimiser, which changes the log-likelihood by ln(mean) per customer; that is added back.
    Without any usable row every value is NaN and ``converged`` is False.
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    used = (x > 0) & (m > 0)
    (x, m), counts = _distinct_rows({"x": x[used], "m": m[used]}, _as_weights(weights, used.size)[used])
    if counts.size == 0:
        return GammaGammaParams(np.nan, np.nan, np.nan, np.nan, converged=False)
    scale = float(np.sum(m * counts) / counts.sum())

    rows = _FitRows.of(x, (m / scale,), counts)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        return _gamma_gamma_mean_negative_log_likelihood(log_params, rows)

    log_params, mean_negative, converged = _minimise(objective, np.zeros(3))
    p, q, gamma = np.exp(log_params)
    log_likelihood = -mean_negative * counts.sum() - counts.sum() * np.log(scale)
    return GammaGammaParams(float(p), float(q), float(gamma * scale), float(log_likelihood), converged)


def expected_purchases(
    params: BgNbdParams, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike  # noqa: N803
) -> FloatArray:
    """Expected repeat purchases in the next ``t`` time units given (x, t_x, T): FHL 2005 eq. (10).

    E = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
    / (1 + [x > 0] * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)). Where 2F1(a', b'; c; z) overflows
    (large x), its Euler transform (1-z)^(c-a'-b') * 2F1(c-a', c-b'; c; z) is used.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t, x, t_x, t_cal = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, frequency, recency, T)))
    hyp_a, hyp_b, hyp_c = r + x, b + x, a + b + x - 1.0
    z = t / (alpha + t_cal + t)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_hyp = np.atleast_1d(np.log(hyp2f1(hyp_a, hyp_b, hyp_c, z)))
        overflow = ~np.isfinite(log_hyp)
        if overflow.any():
            ha, hb, hc, hz = (np.atleast_1d(v)[overflow] for v in (hyp_a, hyp_b, hyp_c, z))
            log_hyp[overflow] = np.log(hyp2f1(hc - ha, hc - hb, hc, hz)) + (hc - ha - hb) * np.log1p(-hz)
    log_hyp = log_hyp.reshape(np.shape(z))
    log_survivor = log_hyp + (r + x) * np.log((alpha + t_cal) / (alpha + t_cal + t))
    numerator = (a + b + x - 1.0) / (a - 1.0) * -np.expm1(log_survivor)
    denominator = 1.0 + (x > 0) * (a / (b + np.maximum(x, 1.0) - 1.0)) * ((alpha + t_cal) / (alpha + t_x)) ** (r + x)
    # for a customer almost surely gone the difference above is rounding noise around 0
    return np.asarray(np.maximum(numerator / denominator, 0.0), dtype=np.float64)


def p_alive(params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:  # noqa: N803
    """Probability the customer is still active (FHL 2008, note 021); 1 when frequency is 0.

    P(alive) = 1 / (1 + [x > 0] * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)): in BG/NBD a customer
    can only drop out right after a repeat purchase.
    """
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    t_cal = np.asarray(T, dtype=np.float64)
    log_odds_dropped = (params.r + x) * np.log((params.alpha + t_cal) / (params.alpha + t_x)) + np.log(
        params.a / (params.b + np.maximum(x, 1.0) - 1.0)
    )
    return np.asarray(np.where(x > 0, expit(-log_odds_dropped), 1.0), dtype=np.float64)


def expected_spend(gg_params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
    """Expected mean spend per future purchase given (x, m): Fader & Hardie 2013, eq. (5).

    E(M | x, m) = w * m + (1 - w) * p*gamma/(q-1), w = p*x / (p*x + q - 1): the customer's own mean
    weighted against the population mean, which is all there is for frequency 0. NaN when q <= 1
    (the population mean does not exist).
    """
    p, q, gamma = gg_params.p, gg_params.q, gg_params.gamma
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    if q <= 1.0:
        return np.full(np.broadcast(x, m).shape, np.nan)
    individual_weight = p * x / (p * x + q - 1.0)
    population_mean = p * gamma / (q - 1.0)
    return np.asarray((1.0 - individual_weight) * population_mean + individual_weight * m, dtype=np.float64)


def discounted_purchases(
    params: BgNbdParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    *,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    time_units_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Sum over the next ``months`` months of each month's expected purchases, discounted monthly.

    sum_{k=1..months} [E(k * u) - E((k-1) * u)] / (1 + d)^k with E the conditional expected
    purchases, u = ``time_units_per_month`` and d = (1 + annual_discount_rate)^(1/12) - 1, the
    monthly rate that compounds to the annual one.
    """
    monthly_rate = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    cumulative = [
        expected_purchases(params, month * time_units_per_month, frequency, recency, T)
        for month in range(1, months + 1)
    ]
    previous = [np.zeros_like(cumulative[0]), *cumulative[:-1]]
    return np.asarray(
        sum(
            (now - before) / (1.0 + monthly_rate) ** month
            for month, (now, before) in enumerate(zip(cumulative, previous, strict=True), start=1)
        ),
        dtype=np.float64,
    )


def predicted_clv(
    params: BgNbdParams,
    gg_params: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    time_units_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Discounted value of the next ``months`` months of purchases, as lifetimes' customer_lifetime_value.

    CLV = E(M | x, m) * sum_{k=1..months} [E(k*u) - E((k-1)*u)] / (1 + d)^k, with E(M | x, m) from
    ``expected_spend``, E(t) from ``expected_purchases``, u = ``time_units_per_month`` (default
    365.25/12/7 weeks; lifetimes uses 4.345) and d = (1 + annual_discount_rate)^(1/12) - 1
    (lifetimes takes d itself as its ``discount_rate``).
    """
    return expected_spend(gg_params, frequency, monetary_value) * discounted_purchases(
        params,
        frequency,
        recency,
        T,
        months=months,
        annual_discount_rate=annual_discount_rate,
        time_units_per_month=time_units_per_month,
    )


def _model_rows(as_of: date, model: str, values: dict[str, float | None], note: str | None) -> list[dict[str, object]]:
    """mart_clv_model rows of one model."""
    return [
        {"as_of_date": as_of, "model": model, "parameter": parameter, "value": value,
         "time_unit": MODEL_UNITS[model], "note": note}
        for parameter, value in values.items()
    ]


def _fit_note(parameters: dict[str, float], converged: bool, unconverged: str) -> str | None:
    """The note of a fitted model: why it did not converge, or which parameters ended on a bound."""
    if not converged:
        return f"did not converge: {unconverged} left NULL"
    on_bound = [name for name, value in parameters.items() if abs(np.log(value)) >= LOG_BOUND - 1e-6]
    if on_bound:
        return f"limiting model: {', '.join(on_bound)} pushed to the bound exp(+-{LOG_BOUND:g})"
    return None


def _money(values: pl.Expr) -> pl.Expr:
    """Float EUR amounts as DECIMAL(18,4), NaN as NULL."""
    return values.fill_nan(None).round(4).cast(MONEY)


def build_clv(
    fct_orders: pl.LazyFrame, as_of: date, *, annual_discount_rate: float = 0.10, months: int = 12,
    customer_orders: CustomerOrders | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per customer with a purchase up to as_of (mart_clv, in no particular order), and the fitted models (mart_clv_model).

    Unlike the other transforms this one collects: fitting a model needs the data in memory.
    The summary is ``rfm_summary(fct_orders, as_of)`` in weeks over all history up to as_of, taken
    from ``customer_orders`` when given (the orders grouped by customer as of as_of);
    BG/NBD is fitted on every customer and Gamma-Gamma on the repeat customers. Predictions cover
    the next ``months`` months (the column names say 12, the default): expected purchases,
    P(alive), expected spend per purchase and the discounted CLV of ``predicted_clv``. They are
    computed once per distinct (frequency, recency, T).

    mart_clv_model holds per model the parameters (bgnbd: r, alpha, a, b; gamma_gamma: p, q,
    gamma), ``log_likelihood``, ``customers`` fitted and ``converged`` (1 or 0); ``time_unit``
    is the unit of the model's data, ``weeks`` on every bgnbd row and ``EUR`` on every
    gamma_gamma row. With fewer than ``MIN_REPEAT_CUSTOMERS`` repeat customers nothing is fitted:
    each model gets one ``customers`` row with a ``note`` saying so, and the predictions are NULL.
    A model that did not converge keeps its rows (converged 0, with a note) and its predictions
    are NULL; a model with a parameter on its bound (the limiting model, see ``_minimise``) says so
    in its note and predicts.
    """
    # in the groups' order: mart_clv's rows come in no particular order (sorting 10M customer ids took 3.5 s at large)
    summary = (rfm_summary(fct_orders, as_of) if customer_orders is None
               else summary_of(customer_orders.of(as_of), as_of)).collect()
    repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    repeat_customers = int(repeat.sum())
    mart_clv = summary.select(
        pl.lit(as_of).alias("as_of_date"),
        "customer_id",
        "frequency",
        pl.col("recency").alias("recency_weeks"),
        pl.col("T").alias("t_weeks"),
        "historical_value_eur",
    )
    if repeat_customers < MIN_REPEAT_CUSTOMERS:
        note = f"insufficient data: {repeat_customers} repeat customers, need {MIN_REPEAT_CUSTOMERS}"
        model_rows = _model_rows(as_of, "bgnbd", {"customers": float(summary.height)}, note)
        model_rows += _model_rows(as_of, "gamma_gamma", {"customers": float(repeat_customers)}, note)
        predictions = ("expected_purchases_12m", "p_alive", "expected_spend_eur", "predicted_clv_12m_eur")
        return (
            mart_clv.with_columns(pl.lit(None).alias(c) for c in predictions).cast(MART_CLV_SCHEMA),
            pl.DataFrame(model_rows, schema=MART_CLV_MODEL_SCHEMA),
        )

    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    # the BG/NBD predictions depend on (frequency, recency, T) only: compute them once per history
    histories = summary.select("frequency", "recency", "T").unique()
    x, t_x, t_cal = (histories[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T"))
    unfitted = np.full(histories.height, np.nan)
    histories = histories.with_columns(
        pl.Series(
            "expected_purchases_12m",
            expected_purchases(bgnbd, months * WEEKS_PER_MONTH, x, t_x, t_cal) if bgnbd.converged else unfitted,
        ),
        pl.Series("p_alive", p_alive(bgnbd, x, t_x, t_cal) if bgnbd.converged else unfitted),
        pl.Series(
            "discounted_purchases",
            discounted_purchases(bgnbd, x, t_x, t_cal, months=months, annual_discount_rate=annual_discount_rate)
            if bgnbd.converged
            else unfitted,
        ),
    )
    spend = (
        expected_spend(gamma_gamma, summary["frequency"], summary["monetary_value"])
        if gamma_gamma.converged
        else np.full(summary.height, np.nan)
    )
    mart_clv = (
        mart_clv.with_columns(pl.Series("spend", spend))
        # the summary's customer order kept (a second sort of 10M customer ids cost 1.5-3 s at the large scale)
        .join(histories, left_on=["frequency", "recency_weeks", "t_weeks"], right_on=["frequency", "recency", "T"],
              maintain_order="left")
        .with_columns(
            pl.col("expected_purchases_12m", "p_alive").fill_nan(None),
            _money(pl.col("spend")).alias("expected_spend_eur"),
            _money(pl.col("spend") * pl.col("discounted_purchases")).alias("predicted_clv_12m_eur"),
        )
        .select(list(MART_CLV_SCHEMA))
        .cast(MART_CLV_SCHEMA)
    )
    bgnbd_parameters = {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b}
    gamma_gamma_parameters = {"p": gamma_gamma.p, "q": gamma_gamma.q, "gamma": gamma_gamma.gamma}
    model_rows = _model_rows(
        as_of,
        "bgnbd",
        {**bgnbd_parameters, "log_likelihood": bgnbd.log_likelihood, "customers": float(summary.height),
         "converged": float(bgnbd.converged)},
        _fit_note(bgnbd_parameters, bgnbd.converged, "predictions"),
    )
    model_rows += _model_rows(
        as_of,
        "gamma_gamma",
        {**gamma_gamma_parameters, "log_likelihood": gamma_gamma.log_likelihood,
         "customers": float(repeat_customers), "converged": float(gamma_gamma.converged)},
        _fit_note(gamma_gamma_parameters, gamma_gamma.converged, "expected spend and CLV"),
    )
    return mart_clv, pl.DataFrame(model_rows, schema=MART_CLV_MODEL_SCHEMA)


@dataclass(frozen=True)
class Acquisition:
    """``acquisition``'s result: each customer's acquisition channel and each channel's CAC, as of one date."""

    as_of: date
    channel: pl.LazyFrame  # customer_id -> channel: one row per customer with first-touch credit on a first order
    cac: pl.LazyFrame      # channel -> cac_eur


def acquisition(fct_attribution: pl.DataFrame | pl.LazyFrame, fct_ad_spend_daily: pl.DataFrame | pl.LazyFrame,
                as_of: date) -> Acquisition:
    """Each customer's acquisition channel and each channel's CAC, from first-touch credit on first orders up to as_of.

    The acquisition channel has the largest ``first_touch`` credit on the customer's first order
    (ties by channel name). A channel's CAC = its spend up to as_of / its new customers (first-touch
    credit on first orders); NULL without spend rows, with a day lacking a EUR amount, or without
    new customers. Every channel with new-customer credit or spend has a row. Lazy: a caller that
    reads them twice (the snapshots: ``customer_value_and_cost`` and ``build_ltv_cac``) keeps them.
    """
    first_orders = fct_attribution.lazy().filter(
        (pl.col("model") == "first_touch") & pl.col("is_first_order").fill_null(False) & (pl.col("order_date") <= as_of)
    )
    # the channel of each customer's largest credit within the group, not a sort of every row first: 10M customers
    # at the large scale, almost all with one row (3.7 s instead of 7.1 s)
    acquisition_channel = (
        first_orders.filter(pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .agg(pl.col("channel").sort_by("credit", "channel", descending=[True, False]).first())
    )
    new_customers = first_orders.group_by("channel").agg(pl.col("credit").sum().alias("new_customers"))
    spend = (
        fct_ad_spend_daily.lazy().filter(pl.col("day") <= as_of)
        .group_by("channel")
        # a partial total of converted spend would understate CAC: NULL if any day lacks a EUR amount
        .agg(pl.when(pl.col("spend_eur").is_null().any()).then(None).otherwise(pl.col("spend_eur").sum()).alias("spend_eur"))
    )
    channel_cac = new_customers.join(spend, on="channel", how="full", coalesce=True).select(
        "channel",
        # CAC = spend / new customers (first-touch credit on first orders)
        (pl.col("spend_eur").cast(pl.Float64) / pl.when(pl.col("new_customers") > 0).then(pl.col("new_customers")))
        .round(4)
        .cast(MONEY)
        .alias("cac_eur"),
    )
    return Acquisition(as_of, acquisition_channel, channel_cac)


def _acquired(given: Acquisition | None, fct_attribution: pl.DataFrame | pl.LazyFrame,
              fct_ad_spend_daily: pl.DataFrame | pl.LazyFrame, as_of: date) -> Acquisition:
    """``given`` (refused for another date), else ``acquisition`` of the credit and spend."""
    if given is None:
        return acquisition(fct_attribution, fct_ad_spend_daily, as_of)
    if given.as_of != as_of:
        raise ValueError(f"the acquisition channels of {given.as_of}, asked for {as_of}")
    return given


def customer_value_and_cost(mart_clv: pl.DataFrame | pl.LazyFrame, fct_attribution: pl.DataFrame | pl.LazyFrame,
                            fct_ad_spend_daily: pl.DataFrame,
                            as_of: date, acquired: Acquisition | None = None) -> pl.DataFrame:
    """One row per customer of mart_clv at as_of: predicted 12-month CLV and acquisition cost.

    The acquisition cost is the CAC of the customer's acquisition channel (see ``acquisition``;
    ``acquired``: computed already): NULL for customers acquired through a channel without ad
    spend (organic, email, direct) or without a first order in the attribution.
    """
    found = _acquired(acquired, fct_attribution, fct_ad_spend_daily, as_of)
    key = customer_hash("_key")  # an integer join; the customer's own id comes out
    return (
        mart_clv.lazy().filter(pl.col("as_of_date") == as_of)
        .select("customer_id", "predicted_clv_12m_eur", key)
        .join(found.channel.select(key, "channel"), on="_key", how="left")
        .join(found.cac, on="channel", how="left")
        .select("customer_id", "predicted_clv_12m_eur", pl.col("cac_eur").alias("acquisition_cost_eur"))
        .collect()
    )


def build_ltv_cac(
    mart_clv: pl.DataFrame | pl.LazyFrame,
    customer_segments: pl.DataFrame | pl.LazyFrame,
    fct_attribution: pl.DataFrame | pl.LazyFrame,
    fct_ad_spend_daily: pl.DataFrame,
    as_of: date,
    acquired: Acquisition | None = None,
) -> pl.DataFrame:
    """One row per as_of_date, dimension and value: customers, LTV, CAC, LTV:CAC and whether it is >= 3.

    A customer's LTV is ``historical_value_eur + predicted_clv_12m_eur`` from ``mart_clv`` at
    as_of (NULL when the CLV model was not fitted); ``ltv_eur`` is its mean over the group.

    - ``segment``: the customer's ``rfm_segment`` in ``customer_segments`` at as_of (mart_clv
      customers without a segment row are left out). ``cac_eur`` is the mean, over the segment's
      customers acquired through a channel with a CAC, of that channel's CAC (below): what the
      segment's customers cost to acquire, as far as first-touch attribution can tell.
    - ``acquisition_channel``: the channel with the largest ``first_touch`` credit on the
      customer's first order (``is_first_order``; ties by channel name). ``cac_eur`` = the
      channel's ``spend_eur`` up to as_of / new customers, the sum of its ``first_touch`` credit on
      first orders up to as_of. A channel with no ad spend rows (organic, email, direct) or whose
      spend lacks a EUR amount, and a channel with no new customers, gets NULL. Every channel with
      customers, new-customer credit or spend has a row.

    ``ltv_cac_ratio`` = ltv_eur / cac_eur (NULL when either is NULL or cac_eur is 0);
    ``meets_3_to_1`` = ratio >= 3, NULL with the ratio. Inputs are the warehouse tables; the
    result is collected. ``acquired``: the channels and CAC of ``acquisition``, computed already.
    """
    customers = mart_clv.lazy().filter(pl.col("as_of_date") == as_of).select(
        "customer_id", (pl.col("historical_value_eur") + pl.col("predicted_clv_12m_eur")).alias("ltv_eur")
    )
    found = _acquired(acquired, fct_attribution, fct_ad_spend_daily, as_of)
    segments = customer_segments.lazy().filter(
        (pl.col("as_of_date") == as_of) & pl.col("rfm_segment").is_not_null()
    ).select("customer_id", "rfm_segment")
    # each customer joined with their acquisition channel, its CAC and their segment once, then grouped by channel
    # and segment pair (a few hundred rows) that both dimensions add up: the decimal sums and counts add up
    # exactly (10M customers at the large scale: two joins of every customer instead of three). Joined by the
    # customers' hash, as only sums come out
    ltv = pl.col("ltv_eur")
    key = customer_hash()
    pairs = (
        customers.select(key, "ltv_eur").join(found.channel.select(key, "channel"), on="customer_id", how="left")
        .join(found.cac, on="channel", how="left")
        .join(segments.select(key, "rfm_segment"), on="customer_id", how="left")
        .group_by("channel", "rfm_segment")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            ltv.sum().alias("_ltv_sum"),
            ltv.count().cast(pl.Int64).alias("_ltv_count"),
            pl.col("cac_eur").sum().alias("_cac_sum"),
            pl.col("cac_eur").count().cast(pl.Int64).alias("_cac_count"),
        )
        .collect()
        .lazy()
    )

    def mean_ltv() -> list[pl.Expr]:
        """Customers and the mean ltv_eur over those that have one (Decimal), from the pairs' sums."""
        valued = pl.col("_ltv_count").sum()
        return [pl.col("customers").sum(),
                (pl.col("_ltv_sum").sum() / pl.when(valued > 0).then(valued)).cast(MONEY).alias("ltv_eur")]

    by_channel = (
        pairs.filter(pl.col("channel").is_not_null())
        .group_by("channel")
        .agg(*mean_ltv())
        .join(found.cac, on="channel", how="full", coalesce=True)
        .select(
            pl.lit("acquisition_channel").alias("dimension"),
            pl.col("channel").alias("value"),
            pl.col("customers").fill_null(0),
            "ltv_eur",
            "cac_eur",
        )
    )
    with_cac = pl.col("_cac_count").sum()
    by_segment = (
        pairs.filter(pl.col("rfm_segment").is_not_null())
        .group_by("rfm_segment")
        .agg(
            *mean_ltv(),
            # a segment's CAC = mean of its customers' acquisition channel CAC, over those that have one
            (pl.col("_cac_sum").sum().cast(pl.Float64) / pl.when(with_cac > 0).then(with_cac))
            .round(4).cast(MONEY).alias("cac_eur"),
        )
        .select(
            pl.lit("segment").alias("dimension"),
            pl.col("rfm_segment").alias("value"),
            "customers",
            "ltv_eur",
            "cac_eur",
        )
    )
    cac = pl.col("cac_eur").cast(pl.Float64)
    return (
        pl.concat([by_segment, by_channel], how="vertical_relaxed")
        .with_columns(
            pl.lit(as_of).alias("as_of_date"),
            # LTV:CAC = ltv_eur / cac_eur
            (pl.col("ltv_eur").cast(pl.Float64) / pl.when(cac != 0).then(cac)).alias("ltv_cac_ratio"),
        )
        .with_columns((pl.col("ltv_cac_ratio") >= 3).alias("meets_3_to_1"))
        .select(list(MART_LTV_CAC_SCHEMA))
        .cast(MART_LTV_CAC_SCHEMA)
        .sort("dimension", "value")
        .collect()
    )
