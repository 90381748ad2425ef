//! # Checkers for the deterministic linear rates (claims.md items 1–4)
//!
//! The lecture's slide *Improved convergence rate: minimizing over larger subspaces* prints
//! the rates GD $\frac{\kappa-1}{\kappa+1}$, Polyak $\frac{\sqrt\kappa-1}{\sqrt\kappa+1}$ and NAG
//! $\sqrt{\frac{\sqrt\kappa-1}{\sqrt\kappa}}$, "for convex problems". Each card is checked three
//! ways where they apply:
//!
//! 1. **closed form**: the exact spectral radius of the iteration matrix, maximised over the
//!    spectrum $[\mu, L]$ ([`crate::theory::iteration_matrix`]), against the printed rate;
//! 2. **trajectories**: long runs on random rotated quadratics (κ from 1.01 to 10⁴, two-point /
//!    uniform / log-uniform spectra, starts on the extreme eigenvectors and random, with
//!    θ₋₁ = θ₀ and θ₋₁ ≠ θ₀); the rate is fitted ([`fit_rate`]) and compared with the spectral
//!    radius of the instance, and on the extreme-eigenvector starts the whole trajectory is
//!    compared with the exact mode $(e_0 + k(e_0 - r e_{-1}))r^k$;
//! 3. **per-step bounds** at every step where a theorem promises one (GD: constant 1; NAG: the
//!    function-value bound and its distance form with constant $\sqrt{\kappa+1}$), on quadratics
//!    and on regularised logistic regression (smooth, strongly convex, not quadratic).
//!
//! The iterations are run twice: by the crate's optimizers through the runner (the object under
//! test) and by the short reference recursions below ([`run_reference`]); the two must agree to
//! rounding, so a rate check never rests on one implementation only.

mod acceleration_convex;
mod gd_rate;
mod heavy_ball_rate;
mod nag_rate;
mod preconditioning_line_search;

use super::{
    bad_statement, other, CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series,
    Style,
};
use crate::optim::heavy_ball::HeavyBallConfig;
use crate::optim::nesterov::NesterovConfig;
use crate::optim::runner::{self, Control};
use crate::optim::sgd::Sgd;
use crate::optim::Optimizer;
use crate::prec::{gamma, STEP_REL, UNIT_ROUNDOFF};
use crate::problems::lessard::{Lessard, LESSARD_L, LESSARD_MU};
use crate::problems::logistic::BinaryLogistic;
use crate::problems::quadratic::{gaussian_vector, spectrum_eigenvalues, Quadratic, Spectrum};
use crate::problems::{Exact, Objective};
use crate::theory::iteration_matrix as im;
use crate::theory::rates as th;
use nalgebra::{DMatrix, DVector};

/// The checkers of this area, one file each, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        gd_rate::CHECKER,
        heavy_ball_rate::CHECKER,
        nag_rate::CHECKER,
        acceleration_convex::CHECKER,
        preconditioning_line_search::CHECKER,
    ]
}

// ---------------------------------------------------------------------------------------------
// Methods and reference recursions
// ---------------------------------------------------------------------------------------------

/// A deterministic first-order method of the slide, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// x_{k+1} = x_k − α∇f(x_k).
    Gd { alpha: f64 },
    /// x_{k+1} = x_k + β(x_k − x_{k−1}) − α∇f(x_k).
    HeavyBall { alpha: f64, beta: f64 },
    /// y_k = x_k + β(x_k − x_{k−1}); x_{k+1} = y_k − α∇f(y_k) (the lecture's NAG).
    Nag { alpha: f64, beta: f64 },
    /// The lecture's NAG with Beck–Teboulle's β_k = (t_k − 1)/t_{k+1} (for μ = 0).
    Fista { alpha: f64 },
}

impl Method {
    /// GD with Nesterov's step 2/(μ+L).
    pub fn gd_tuned(mu: f64, l: f64) -> Self {
        Method::Gd {
            alpha: th::gd_tuned_step(mu, l),
        }
    }
    /// Polyak's tuned heavy-ball.
    pub fn heavy_ball_tuned(mu: f64, l: f64) -> Self {
        let (alpha, beta) = th::heavy_ball_tuned(mu, l);
        Method::HeavyBall { alpha, beta }
    }
    /// NAG with α = 1/L, β = (√κ−1)/(√κ+1).
    pub fn nag_tuned(mu: f64, l: f64) -> Self {
        let (alpha, beta) = th::nag_tuned(mu, l);
        Method::Nag { alpha, beta }
    }

    /// Closed-form spectral radius of this method's block for Hessian eigenvalue λ.
    pub fn block_radius(&self, lambda: f64) -> f64 {
        match *self {
            Method::Gd { alpha } => im::gd_block_radius(alpha, lambda),
            Method::HeavyBall { alpha, beta } => im::heavy_ball_block_roots(alpha, beta, lambda).radius,
            Method::Nag { alpha, beta } => im::nag_block_roots(alpha, beta, lambda).radius,
            Method::Fista { .. } => 1.0,
        }
    }

    /// The scalar recursion of one eigen-mode: e_{k+1} = b e_k − c₀ e_{k−1}.
    pub fn mode_coefficients(&self, lambda: f64) -> (f64, f64) {
        match *self {
            Method::Gd { alpha } => (1.0 - alpha * lambda, 0.0),
            Method::HeavyBall { alpha, beta } => (1.0 + beta - alpha * lambda, beta),
            Method::Nag { alpha, beta } => {
                let c = 1.0 - alpha * lambda;
                ((1.0 + beta) * c, beta * c)
            }
            Method::Fista { .. } => (f64::NAN, f64::NAN),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Method::Gd { .. } => "GD",
            Method::HeavyBall { .. } => "heavy-ball",
            Method::Nag { .. } => "NAG",
            Method::Fista { .. } => "NAG (FISTA momentum)",
        }
    }
}

/// Run `method` on `f` from x₀ with previous iterate x₋₁ for at most `steps` steps, calling
/// `observe(k, x_k)` for k = 0, 1, …; stops when `observe` returns false. A transcription of
/// the slide's formulas, independent of `crate::optim`.
pub fn run_reference(
    method: Method,
    f: &dyn Objective,
    x0: &DVector<f64>,
    x_minus1: &DVector<f64>,
    steps: usize,
    observe: &mut dyn FnMut(usize, &DVector<f64>) -> bool,
) {
    let n = x0.len();
    let mut x = x0.clone();
    let mut prev = x_minus1.clone();
    let mut g = DVector::zeros(n);
    let mut t = 1.0_f64; // Beck–Teboulle's t_1
    if !observe(0, &x) {
        return;
    }
    for k in 0..steps {
        let next = match method {
            Method::Gd { alpha } => {
                f.gradient_into(&x, &mut g);
                &x - alpha * &g
            }
            Method::HeavyBall { alpha, beta } => {
                f.gradient_into(&x, &mut g);
                &x + beta * (&x - &prev) - alpha * &g
            }
            Method::Nag { alpha, beta } => {
                let y = &x + beta * (&x - &prev);
                f.gradient_into(&y, &mut g);
                y - alpha * &g
            }
            Method::Fista { alpha } => {
                let beta = if k == 0 {
                    0.0
                } else {
                    let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
                    let b = (t - 1.0) / t_next;
                    t = t_next;
                    b
                };
                let y = &x + beta * (&x - &prev);
                f.gradient_into(&y, &mut g);
                y - alpha * &g
            }
        };
        prev = std::mem::replace(&mut x, next);
        if !observe(k + 1, &x) {
            return;
        }
    }
}

/// ‖x_k − x*‖ for k = 0.. until the error falls below `floor_rel`·‖e₀‖ (inclusive of the
/// first such k), becomes non-finite, or `steps` is reached.
pub fn error_trajectory(
    method: Method,
    f: &dyn Objective,
    x_star: &DVector<f64>,
    x0: &DVector<f64>,
    x_minus1: &DVector<f64>,
    steps: usize,
    floor_rel: f64,
) -> Vec<f64> {
    let mut errs = Vec::new();
    let mut e0 = 0.0;
    run_reference(method, f, x0, x_minus1, steps, &mut |k, x| {
        let e = (x - x_star).norm();
        if k == 0 {
            e0 = e;
        }
        errs.push(e);
        e.is_finite() && e >= floor_rel * e0
    });
    errs
}

/// The crate's optimizer for `method` (the object under test), started from θ₋₁: GD is
/// `Sgd::gd(α)`, heavy-ball `HeavyBallConfig::new(α, β)`, NAG `NesterovConfig::look_ahead(α, β)`
/// (the lecture's form). `None` for the FISTA momentum schedule, which no constant-β optimizer
/// implements (the μ = 0 experiment uses the reference recursion).
pub fn crate_optimizer(
    method: Method,
    x_minus1: &DVector<f64>,
) -> Result<Option<Box<dyn Optimizer>>, CheckError> {
    let prev: Vec<f64> = x_minus1.iter().copied().collect();
    Ok(match method {
        Method::Gd { alpha } => Some(Box::new(Sgd::gd(alpha)?)),
        Method::HeavyBall { alpha, beta } => Some(Box::new(
            HeavyBallConfig::new(alpha, beta).with_theta_prev(prev).build()?,
        )),
        Method::Nag { alpha, beta } => Some(Box::new(
            NesterovConfig::look_ahead(alpha, beta)
                .with_theta_prev(prev)
                .build()?,
        )),
        Method::Fista { .. } => None,
    })
}

/// Run the crate's optimizer for `method` through `optim::runner::run` (the reference recursion
/// for FISTA), calling `observe(k, x_k)` until it returns false.
pub fn run_crate(
    method: Method,
    f: &dyn Objective,
    x0: &DVector<f64>,
    x_minus1: &DVector<f64>,
    steps: usize,
    observe: &mut dyn FnMut(usize, &DVector<f64>) -> bool,
) -> Result<(), CheckError> {
    match crate_optimizer(method, x_minus1)? {
        None => {
            run_reference(method, f, x0, x_minus1, steps, observe);
            Ok(())
        }
        Some(mut opt) => {
            let mut oracle = Exact(f);
            runner::run(opt.as_mut(), &mut oracle, x0.clone(), steps, &mut |k, x| {
                if observe(k, x) {
                    Control::Continue
                } else {
                    Control::Stop
                }
            })?;
            Ok(())
        }
    }
}

/// As [`error_trajectory`], stepping the crate's optimizer (the object under test).
pub fn crate_error_trajectory(
    method: Method,
    f: &dyn Objective,
    x_star: &DVector<f64>,
    x0: &DVector<f64>,
    x_minus1: &DVector<f64>,
    steps: usize,
    floor_rel: f64,
) -> Result<Vec<f64>, CheckError> {
    let mut errs = Vec::new();
    let mut e0 = 0.0;
    run_crate(method, f, x0, x_minus1, steps, &mut |k, x| {
        let e = (x - x_star).norm();
        if k == 0 {
            e0 = e;
        }
        errs.push(e);
        e.is_finite() && e >= floor_rel * e0
    })?;
    Ok(errs)
}

/// Largest ‖x_k^crate − x_k^reference‖ / tol_k over the first `limit` instances and `steps`
/// steps, with its instance. Both compute the same formulas, possibly in another order: each
/// step differs by ≤ 4·STEP_REL·max_j‖x_j‖ (a few element-wise operations on vectors of that
/// size), and a difference is propagated by the method's linear recursion with growth ≤ 1 + 2k
/// (Jordan blocks of radius ≤ 1), so tol_k = (k+1)(2k+1)·4·STEP_REL·max_j‖x_j‖.
fn implementation_agreement(
    insts: &[Instance],
    make_method: &dyn Fn(f64, f64) -> Method,
    limit: usize,
    steps: usize,
) -> Result<(f64, f64, String), CheckError> {
    let mut worst = (0.0_f64, 0.0_f64, String::new());
    for inst in insts.iter().take(limit) {
        let method = make_method(1.0, inst.kappa);
        let mut reference = Vec::new();
        run_reference(method, &inst.q, &inst.x0, &inst.x_minus1, steps, &mut |_, x| {
            reference.push(x.clone());
            true
        });
        let scale = reference.iter().map(|x| x.norm()).fold(0.0, f64::max);
        let mut k_worst = (0.0_f64, 0.0_f64);
        run_crate(method, &inst.q, &inst.x0, &inst.x_minus1, steps, &mut |k, x| {
            let kf = k as f64;
            let tol = (kf + 1.0) * (2.0 * kf + 1.0) * 4.0 * STEP_REL * scale;
            let dev = (x - &reference[k]).norm();
            if dev / tol > k_worst.0 / k_worst.1.max(f64::MIN_POSITIVE) || k_worst.1 == 0.0 {
                k_worst = (dev, tol);
            }
            true
        })?;
        if k_worst.0 / k_worst.1 >= worst.0 / worst.1.max(f64::MIN_POSITIVE) || worst.1 == 0.0 {
            worst = (k_worst.0, k_worst.1, inst.label.clone());
        }
    }
    Ok(worst)
}

/// Push the implementation cross-check measurement.
fn push_agreement(
    ev: &mut Evidence,
    name: &str,
    insts: &[Instance],
    make_method: &dyn Fn(f64, f64) -> Method,
) -> Result<(), CheckError> {
    let (dev, tol, label) = implementation_agreement(insts, make_method, 12, 2000)?;
    let m = Measurement::new(
        format!("{name}: crate optimizer vs reference recursion, ‖x_k − x_k^ref‖ (worst step)"),
        dev,
        tol,
        Relation::AtMost,
    )
    .with_note(format!(
        "{label}; first 12 instances, 2000 steps; tolerance (k+1)(2k+1)·4·STEP_REL·max‖x‖ \
         (reordered rounding propagated by the recursion)"
    ));
    ev.push(m);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rate fit
// ---------------------------------------------------------------------------------------------

/// A fitted asymptotic rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFit {
    /// exp of the fitted coefficient of k.
    pub q: f64,
    /// Fitted coefficient of ln k (≈ 1 on a Jordan block, 0 on a simple dominant root).
    pub power: f64,
    /// Estimated error bound on ln q (see [`fit_rate`]).
    pub log_tol: f64,
    /// First and last k of the fitting window.
    pub window: (usize, usize),
}

/// Fit ln‖e_k‖ ≈ a + p ln k + c₁/k + c₂/k² + k ln q on the block maxima of the error over a window that
/// excludes the first 20 % of the run (the transient) and ends at the last finite, non-zero
/// error.
///
/// Why block maxima: with complex roots ‖e_k‖ oscillates and may pass near zero; the maximum
/// over a block of w steps follows the envelope C k^p ρ^k. Why ln k: at a double root the
/// error is (A + Bk)ρ^k, and fitting [1, k] alone would bias ln q by about 1/k; the 1/k and 1/k²
/// columns absorb the next terms a/k − a²/(2k²) of ln|A + Bk| = ln|B| + ln k + ln|1 + a/k|. If p comes out negative (no Jordan growth) the
/// fit falls back to [1, k].
///
/// Tolerance (an estimate, not a proof): if the envelope deviates from the model by at most R
/// in ln, the coefficient of k moves by at most ‖row_k(X⁺)‖₁·R, X⁺ the pseudo-inverse of the
/// design. We take R = max(4 × the largest fitted residual, 10⁻³): the fitted residuals show the
/// part of the deviation the model cannot absorb, the factor 4 covers the part it can. The
/// proof-grade checks are the closed forms, the exact-mode comparisons and the per-step bounds.
/// Returns `None` with a window shorter than 100 steps or fewer than 24 usable blocks.
pub fn fit_rate(err: &[f64]) -> Option<RateFit> {
    let last = err.iter().rposition(|e| e.is_finite() && *e > 0.0)?;
    let k0 = (last / 5).max(3);
    // An asymptotic rate needs a long window: at least 100 steps after the transient (runs
    // that reach the floor sooner — fast rates, κ near 1 — are counted, not fitted).
    if last < k0 + 100 {
        return None;
    }
    let w = ((last - k0) / 80).max(1);
    let mut ks = Vec::new();
    let mut ys = Vec::new();
    let mut start = k0;
    while start + w <= last + 1 {
        let (mut kmax, mut emax) = (start, err[start]);
        for (k, &e) in err.iter().enumerate().take(start + w).skip(start) {
            if e > emax {
                kmax = k;
                emax = e;
            }
        }
        if emax > 0.0 && emax.is_finite() {
            ks.push(kmax as f64);
            ys.push(emax.ln());
        }
        start += w;
    }
    if ks.len() < 24 {
        return None;
    }
    let scale = last as f64;
    let m = ks.len();
    let y = DVector::from_vec(ys);
    // Fit with [1, ln k, k]; if the ln k coefficient comes out negative there is no Jordan
    // growth to model, and a negative power would only absorb the convexity of a mixture of
    // close simple rates (biasing the k coefficient upwards): refit on [1, k].
    let solve = |with_log: bool| -> Option<(DVector<f64>, f64, f64)> {
        // Jordan model: ln|A + Bk| = ln|B| + ln k + a/k − a²/(2k²) + O(k⁻³) with a = A/B,
        // hence the 1/k and 1/k² columns.
        let cols = if with_log { 5 } else { 2 };
        let x = DMatrix::from_fn(m, cols, |i, j| match (j, with_log) {
            (0, _) => 1.0,
            (1, true) => ks[i].ln(),
            (2, true) => k0 as f64 / ks[i],
            (3, true) => (k0 as f64 / ks[i]).powi(2),
            _ => ks[i] / scale,
        });
        let pinv = x.clone().svd(true, true).pseudo_inverse(1e-13).ok()?;
        let coef = &pinv * &y;
        let resid = &y - &x * &coef;
        let r = (4.0 * resid.amax()).max(1e-3);
        let row_l1: f64 = pinv.row(cols - 1).iter().map(|v| v.abs()).sum();
        Some((coef, r, row_l1))
    };
    let (coef, r, row_l1) = solve(true)?;
    let (slope, power, r, row_l1) = if coef[1] >= 0.0 {
        (coef[4], coef[1], r, row_l1)
    } else {
        let (c2, r2, l2) = solve(false)?;
        (c2[1], 0.0, r2, l2)
    };
    Some(RateFit {
        q: (slope / scale).exp(),
        power,
        log_tol: row_l1 * r / scale,
        window: (k0, last),
    })
}

// ---------------------------------------------------------------------------------------------
// Instances
// ---------------------------------------------------------------------------------------------

fn spectrum_from(name: &str) -> Result<Spectrum, CheckError> {
    match name {
        "two-point" => Ok(Spectrum::TwoPoint),
        "uniform" => Ok(Spectrum::Uniform),
        "log-uniform" => Ok(Spectrum::LogUniform),
        _ => Err(CheckError::Other(format!("unknown spectrum `{name}`"))),
    }
}

/// One random quadratic and one start.
struct Instance {
    q: Quadratic,
    kappa: f64,
    x0: DVector<f64>,
    x_minus1: DVector<f64>,
    /// Which eigenvector the start lies on, if any (index into the eigenvalues).
    on_eigenvector: Option<usize>,
    label: String,
}

/// The instance grid of the card: κ × n × spectrum × start kind × (θ₋₁ = θ₀ or not).
/// Rotated quadratics up to `rotated_max_dim`, diagonal beyond (the rate is rotation-invariant;
/// the rotated ones test the implementations in a non-axis-aligned basis).
fn instances(ctx: &CheckContext) -> Result<Vec<Instance>, CheckError> {
    let kappas = ctx.f64s("kappas")?;
    let dims = ctx.usizes("dims")?;
    let spectra = ctx.strs("spectra")?;
    let seed = ctx.u64("seed")?;
    let rotated_max = ctx.usize("rotated_max_dim")?;
    let mut out = Vec::new();
    let mut s = seed;
    for &kappa in &kappas {
        for &n in &dims {
            let n = n.max(2);
            for sp in &spectra {
                s = s.wrapping_add(1000);
                let spectrum = spectrum_from(sp)?;
                let eigs = spectrum_eigenvalues(n, 1.0, kappa, spectrum, s).map_err(other)?;
                let theta_star = gaussian_vector(n, s + 1);
                let q = if n <= rotated_max {
                    Quadratic::rotated(eigs, theta_star.clone(), s + 2).map_err(other)?
                } else {
                    Quadratic::diagonal(eigs, theta_star.clone()).map_err(other)?
                };
                let random_dir = gaussian_vector(n, s + 3);
                let kick = gaussian_vector(n, s + 4);
                let starts: [(Option<usize>, DVector<f64>); 3] = [
                    (Some(0), q.eigenvector(0)),
                    (Some(n - 1), q.eigenvector(n - 1)),
                    (None, random_dir / (n as f64).sqrt()),
                ];
                for (on, dir) in starts {
                    let x0 = &theta_star + &dir;
                    for previous_differs in [false, true] {
                        let x_minus1 = if previous_differs {
                            // θ₋₁ ≠ θ₀ along the same eigenvector (so the start stays a single
                            // mode) or along a random direction for the random start.
                            match on {
                                Some(_) => &x0 - 0.5 * &dir,
                                None => &x0 + 0.5 * &kick / (n as f64).sqrt(),
                            }
                        } else {
                            x0.clone()
                        };
                        out.push(Instance {
                            label: format!(
                                "κ={kappa}, n={n}, {sp}, start={}, θ₋₁{}θ₀",
                                match on {
                                    Some(0) => "v_min".to_string(),
                                    Some(_) => "v_max".to_string(),
                                    None => "random".to_string(),
                                },
                                if previous_differs { "≠" } else { "=" }
                            ),
                            q: q.clone(),
                            kappa,
                            x0: x0.clone(),
                            x_minus1,
                            on_eigenvector: on,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Predicted asymptotic rate of `method` for an instance: the radius of the block of the
/// start's eigenvalue, or the largest over all eigenvalues for a generic start.
fn instance_radius(method: Method, inst: &Instance) -> f64 {
    let eigs = inst.q.eigenvalues();
    match inst.on_eigenvector {
        Some(i) => method.block_radius(eigs[i]),
        None => eigs.iter().map(|&l| method.block_radius(l)).fold(0.0, f64::max),
    }
}

/// Result of the trajectory checks of one method over the instance grid.
struct TrajectoryStats {
    fits: usize,
    fit_failures: Vec<String>,
    /// (measured, predicted, log_tol, label, deviation/tolerance)
    worst_fit: Option<(f64, f64, f64, String, f64)>,
    too_fast: usize,
    mode_max_rel: f64,
    mode_tol: f64,
    mode_checked: usize,
    /// max_k ‖e_k‖ / (ρ^k ‖e_0‖) over instances, with its instance.
    max_ratio_to_rate: (f64, String),
    rate_points: Vec<(f64, f64, f64)>, // (κ, measured q, predicted)
}

/// Run `make_method(μ, L)` on every instance; fit rates, compare extreme-eigenvector starts
/// with the exact mode, and record the largest ‖e_k‖/(ρ^k‖e₀‖).
fn trajectory_checks(
    insts: &[Instance],
    make_method: &dyn Fn(f64, f64) -> Method,
    max_steps: usize,
    floor_rel: f64,
) -> Result<TrajectoryStats, CheckError> {
    let mut st = TrajectoryStats {
        fits: 0,
        fit_failures: Vec::new(),
        worst_fit: None,
        too_fast: 0,
        mode_max_rel: 0.0,
        mode_tol: 0.0,
        mode_checked: 0,
        max_ratio_to_rate: (0.0, String::new()),
        rate_points: Vec::new(),
    };
    for inst in insts {
        let method = make_method(1.0, inst.kappa);
        let rho = instance_radius(method, inst);
        let x_star = inst.q.theta_star().clone();
        // Stop above the rounding noise floor: each step adds ≲ (n+4)u(1+‖x*‖) absolutely,
        // and a stable recursion accumulates it with gain Σ_j |growth_j| ≤ 1/(1−ρ) (GD, simple
        // roots) or Σ_j (1+2j)ρ^j ≤ 2/(1−ρ)² (double roots); ×10 margin.
        let gain = match method {
            Method::Gd { .. } => 1.0 / (1.0 - rho),
            _ => 2.0 / ((1.0 - rho) * (1.0 - rho)),
        };
        let noise = 10.0 * (inst.q.dim() as f64 + 4.0) * UNIT_ROUNDOFF * (1.0 + x_star.norm()) * gain;
        let e0_norm = (&inst.x0 - &x_star).norm();
        let errs = crate_error_trajectory(
            method,
            &inst.q,
            &x_star,
            &inst.x0,
            &inst.x_minus1,
            max_steps,
            floor_rel.max(noise / e0_norm),
        )?;
        let e0 = errs[0];
        for (k, &e) in errs.iter().enumerate() {
            let ratio = e / (rho.powi(k as i32) * e0);
            if ratio.is_finite() && ratio > st.max_ratio_to_rate.0 {
                st.max_ratio_to_rate = (ratio, format!("{} at k={k}", inst.label));
            }
        }
        // Exact mode along an eigenvector: e_k = m_k · v with m from the scalar recursion.
        if let Some(i) = inst.on_eigenvector {
            let lambda = inst.q.eigenvalues()[i];
            let (b, c0) = method.mode_coefficients(lambda);
            let m0 = 1.0; // ‖x0 − x*‖ = ‖v‖ = 1 by construction
            let m_minus1 = if inst.x_minus1 == inst.x0 { 1.0 } else { 0.5 };
            let modes = im::two_step_mode(b, c0, m0, m_minus1, errs.len() - 1);
            // Rounding: each step perturbs x by ~(n+4)u(‖x*‖ + ‖e_k‖) (the product A·e in
            // the rotated basis and the update), and a perturbation is amplified by at most
            // the growth of the modes, ≤ (1 + 2k)·max(ρ,1)^k for a 2×2 block with |roots| ≤ ρ.
            // We compare only while |m_k| ≥ 1e-6 and allow (k+1)(2k+1)·4(n+4)u·(1+‖x*‖)/|m_k|.
            let n = inst.q.dim();
            let unit = 4.0 * (n as f64 + 4.0) * UNIT_ROUNDOFF * (1.0 + x_star.norm());
            // The stored rotated Â differs from QΛQᵀ by ≲ 2γ_{n+2}L√n, so along v the run sees
            // an eigenvalue λ ± δλ. Near a double root that moves the block radius by O(√δλ),
            // a relative drift of k·δρ/ρ after k steps; δρ is read off the closed form.
            let dl = if inst.q.is_diagonal() {
                0.0
            } else {
                2.0 * gamma(n + 2) * inst.kappa * (n as f64).sqrt()
            };
            let drho = (method.block_radius(lambda + dl) - rho)
                .abs()
                .max((method.block_radius((lambda - dl).max(0.0)) - rho).abs());
            for (k, (&e, &m)) in errs.iter().zip(&modes).enumerate() {
                if m.abs() < 1e-6 {
                    break;
                }
                let kf = k as f64;
                let tol = (kf + 1.0) * (2.0 * kf + 1.0) * unit * rho.max(1.0).powi(k as i32) / m.abs()
                    + kf * drho / rho;
                let rel = (e - m.abs()).abs() / m.abs();
                st.mode_checked += 1;
                if rel / tol > st.mode_max_rel / st.mode_tol.max(f64::MIN_POSITIVE) {
                    st.mode_max_rel = rel;
                    st.mode_tol = tol;
                }
            }
        }
        match fit_rate(&errs) {
            None => st.too_fast += 1,
            Some(fit) => {
                st.fits += 1;
                st.rate_points.push((inst.kappa, fit.q, rho));
                // Eigenvector starts are a single mode: two-sided. A generic start mixes modes of
                // radius ≤ ρ, whose local decay rate is a weighted mean of theirs: one-sided.
                let dev = if inst.on_eigenvector.is_some() {
                    (fit.q.ln() - rho.ln()).abs()
                } else {
                    (fit.q.ln() - rho.ln()).max(0.0)
                };
                let worse = st
                    .worst_fit
                    .as_ref()
                    .map(|w| dev / fit.log_tol > w.4)
                    .unwrap_or(true);
                if worse {
                    st.worst_fit = Some((fit.q, rho, fit.log_tol, inst.label.clone(), dev / fit.log_tol));
                }
                if dev > fit.log_tol {
                    st.fit_failures.push(format!(
                        "{}: fitted q={:.6} vs ρ={:.6} (tol {:.2e} in ln)",
                        inst.label, fit.q, rho, fit.log_tol
                    ));
                }
            }
        }
    }
    Ok(st)
}

/// Add the trajectory checks of one method to `ev`: the fitted rates agree with the instances'
/// spectral radii, every run's fit is within its tolerance, the eigenvector runs follow the
/// exact mode, and at least one run was long enough to fit (a grid where every run is too fast
/// to fit measures nothing, and must not pass silently).
fn push_trajectory_measurements(ev: &mut Evidence, name: &str, st: &TrajectoryStats) {
    ev.push(
        Measurement::new(
            format!("{name}: runs long enough to fit a rate"),
            st.fits as f64,
            1.0,
            Relation::AtLeast,
        )
        .with_note(format!("{} runs too fast to fit (κ near 1)", st.too_fast)),
    );
    if let Some((q, rho, tol, label, _)) = &st.worst_fit {
        // Eigenvector starts: |ln q̂ − ln ρ| ≤ tol. Random starts: ln q̂ − tol ≤ ln ρ.
        let m = if label.contains("random") {
            Measurement::new(
                format!(
                    "{name}: ln(fitted rate) − tol vs ln(instance spectral radius), worst of {} fits",
                    st.fits
                ),
                q.ln() - tol,
                rho.ln(),
                Relation::AtMost,
            )
        } else {
            Measurement::new(
                format!(
                    "{name}: fitted rate vs instance spectral radius, worst of {} fits",
                    st.fits
                ),
                *q,
                *rho,
                Relation::Approx {
                    rel_tol: tol.exp_m1(),
                },
            )
        }
        .with_note(format!(
            "{label}; fit of ln‖e_k‖ on [1, ln k, k] over block maxima, tolerance from the \
             fit's residuals (estimate); {} runs too fast to fit (κ near 1)",
            st.too_fast
        ));
        ev.push(m);
    }
    ev.push(
        Measurement::new(
            format!("{name}: fits outside tolerance"),
            st.fit_failures.len() as f64,
            0.0,
            Relation::AtMost,
        )
        .with_note(st.fit_failures.first().cloned().unwrap_or_default()),
    );
    if st.mode_checked > 0 {
        let m = Measurement::new(
            format!(
                "{name}: relative deviation from the exact eigen-mode, worst of {} steps",
                st.mode_checked
            ),
            st.mode_max_rel,
            st.mode_tol,
            Relation::AtMost,
        )
        .with_note(
            "starts on an extreme eigenvector: ‖e_k‖ = |m_k| with m the scalar 2-step \
             recursion; tolerance (k+1)(2k+1)·4(n+4)u(1+‖x*‖)/|m_k| from rounding amplified by \
             the mode's growth, + k·δρ/ρ for the eigenvalue error 2γ_n L√n of the rotated Hessian \
             (O(√δλ) near double roots)",
        );
        ev.push(m);
    }
}

/// One run of a log-error figure: label, ‖e_k‖, predicted rate ρ, optional (label, envelope).
type LogErrorRun = (String, Vec<f64>, f64, Option<(String, Vec<f64>)>);

/// A log-error figure: each run's ‖e_k‖/‖e_0‖ solid, its predicted rate line ρ^k dashed.
fn log_error_figure(id: &str, title: &str, runs: &[LogErrorRun], caption: &str) -> Figure {
    let mut series = Vec::new();
    for (label, errs, rho, envelope) in runs {
        let e0 = errs[0];
        let x: Vec<f64> = (0..errs.len()).map(|k| k as f64).collect();
        series.push(Series {
            label: label.clone(),
            style: Style::Line,
            x: x.clone(),
            y: errs.iter().map(|e| e / e0).collect(),
        });
        series.push(Series {
            label: format!("{label}: ρ^k, ρ = {rho:.4}"),
            style: Style::Predicted,
            x: x.clone(),
            y: x.iter().map(|&k| rho.powf(k)).collect(),
        });
        if let Some((elabel, env)) = envelope {
            series.push(Series {
                label: elabel.clone(),
                style: Style::Predicted,
                x: x.clone(),
                y: env.clone(),
            });
        }
    }
    Figure {
        id: id.into(),
        title: title.into(),
        x_label: "k".into(),
        y_label: "‖x_k − x*‖ / ‖x_0 − x*‖".into(),
        log_x: false,
        log_y: true,
        series,
        caption: caption.into(),
    }
}

/// Absolute accuracy of a closed-form block radius against its analytic value: the analytic
/// rate and the block radius are a few correctly rounded operations each, but 1 − αλ and κ − 1
/// cancel near κ = 1, so the error is absolute: ≤ 8u. At double roots the block built from
/// rounded parameters has radius within ~(1−√β)√(8u) of the analytic one
/// (theory::iteration_matrix doc): allow 8√u there.
fn radius_tol(double_roots: bool) -> f64 {
    if double_roots {
        8.0 * UNIT_ROUNDOFF.sqrt()
    } else {
        8.0 * UNIT_ROUNDOFF
    }
}

/// The κ values the closed-form witness searches: the card's grid, κ = 1 + 10⁻ʲ (j = 1…6) and
/// 10^{j/20} up to 10⁸ — a printed rate that is loose at moderate κ can still be too fast as
/// κ → ∞ (or as κ → 1), so the search covers both ends.
pub fn witness_kappas(card_kappas: &[f64]) -> Vec<f64> {
    let mut ks: Vec<f64> = card_kappas.to_vec();
    ks.extend((1..=6).map(|j| 1.0 + 10f64.powi(-j)));
    ks.extend((1..=160).map(|j| 10f64.powf(j as f64 / 20.0)));
    ks.sort_by(f64::total_cmp);
    ks.dedup();
    ks
}

/// The witness of a printed (or claimed) rate on quadratics: the worst-case asymptotic rate of
/// `make_method(μ, L)` over spectra in [μ, L] — the largest closed-form block radius, at λ = μ
/// or λ = L — may not exceed `claimed(κ)` (beyond the radius' rounding) for any κ of
/// [`witness_kappas`]. By the reading policy (theorems/README.md §2) a rate q holds iff the
/// worst-case asymptotic rate is at most q; quadratics belong to every class of the slide, so a
/// violation on one κ is a counterexample.
fn rate_witness(
    name: &str,
    card_kappas: &[f64],
    make_method: &dyn Fn(f64, f64) -> Method,
    claimed: &dyn Fn(f64) -> f64,
    double_roots: bool,
) -> (Measurement, Option<(f64, f64, f64)>) {
    let tol = radius_tol(double_roots);
    let mut worst = (f64::NEG_INFINITY, f64::NAN, f64::NAN, f64::NAN);
    for kappa in witness_kappas(card_kappas) {
        let method = make_method(1.0, kappa);
        let radius = method.block_radius(1.0).max(method.block_radius(kappa));
        let excess = radius - claimed(kappa);
        if excess > worst.0 {
            worst = (excess, kappa, radius, claimed(kappa));
        }
    }
    let m = Measurement::new(
        format!("{name}: max over κ of (worst-case asymptotic rate on quadratics − claimed rate)"),
        worst.0,
        tol,
        Relation::AtMost,
    )
    .with_note(format!(
        "at κ = {:.6}: closed-form radius {:.6} vs claimed {:.6}; κ from 1 + 10⁻⁶ to 10⁸ ({} values); tolerance: rounding of the radius",
        worst.1,
        worst.2,
        worst.3,
        witness_kappas(card_kappas).len()
    ))
    .witness();
    let found = (!m.ok).then_some((worst.1, worst.2, worst.3));
    (m, found)
}

/// Closed-form checks for one method over the κ grid: max block radius over [μ, L] vs the
/// analytic rate, and Schur eigenvalues of the blocks on a λ grid vs the closed form.
fn closed_form_checks(
    ev: &mut Evidence,
    name: &str,
    kappas: &[f64],
    make_method: &dyn Fn(f64, f64) -> Method,
    analytic: &dyn Fn(f64) -> f64,
    double_roots: bool,
) {
    let tol = radius_tol(double_roots);
    let mut worst = (0.0_f64, 0.0);
    for &kappa in kappas {
        let method = make_method(1.0, kappa);
        let over = (method.block_radius(1.0)).max(method.block_radius(kappa));
        let dev = (over - analytic(kappa)).abs();
        if dev >= worst.0 {
            worst = (dev, kappa);
        }
    }
    let m = Measurement::new(
        format!("{name}: |max over λ∈[μ,L] of the closed-form block radius − analytic rate|"),
        worst.0,
        tol,
        Relation::AtMost,
    )
    .with_note(format!(
        "worst κ = {} of {} values; the maximum is at λ = μ or L (radius quasi-convex in λ)",
        worst.1,
        kappas.len()
    ));
    ev.push(m);
    // Schur cross-check on a λ grid, away from double roots (≥ 1e-3 relative root gap).
    let mut max_dev: f64 = 0.0;
    let mut count = 0;
    for &kappa in kappas {
        let method = make_method(1.0, kappa);
        for i in 0..=64 {
            let lambda = 1.0 + (kappa - 1.0) * i as f64 / 64.0;
            let (b, c0) = method.mode_coefficients(lambda);
            let block = nalgebra::Matrix2::new(b, -c0, 1.0, 0.0);
            let gap = (b * b - 4.0 * c0).abs().sqrt();
            if gap < 1e-3 * block.norm() {
                continue;
            }
            let schur = im::eig_radius(&block);
            let closed = method.block_radius(lambda);
            max_dev = max_dev.max((schur - closed).abs() / closed.max(1e-300));
            count += 1;
        }
    }
    // Schur backward error ~ few u‖B‖, root sensitivity ≤ ‖B‖/gap ≤ 1e3: 1e3·64u.
    let m2 = Measurement::new(
        format!("{name}: closed-form radius vs nalgebra Schur eigenvalues ({count} blocks)"),
        max_dev,
        1e3 * 64.0 * UNIT_ROUNDOFF,
        Relation::AtMost,
    )
    .with_note("λ on a 65-point grid of [μ, L], blocks with root gap ≥ 1e-3‖B‖ (simple roots)");
    ev.push(m2);
}

// ---------------------------------------------------------------------------------------------
// Logistic regression (non-quadratic) instances
// ---------------------------------------------------------------------------------------------

/// A regularised logistic regression with μ = λ, L = the bound, and its minimiser computed by
/// GD at 2/(μ+L) until ‖∇f‖ ≤ 1e-13·μ, so ‖x̂ − x*‖ ≤ ‖∇f(x̂)‖/μ ≤ 1e-13 (strong convexity).
fn logistic_instance(
    m: usize,
    d: usize,
    lambda: f64,
    seed: u64,
) -> Result<(BinaryLogistic, DVector<f64>, f64, f64, f64), CheckError> {
    let f = BinaryLogistic::random(m, d, false, lambda, seed).map_err(other)?;
    let c = f.constants();
    let (mu, l) = (
        c.mu.unwrap_or(lambda),
        c.l.ok_or_else(|| other("logistic: no L"))?,
    );
    let alpha = 2.0 / (mu + l);
    let mut x = DVector::zeros(d);
    let mut g = DVector::zeros(d);
    let mut resid = f64::INFINITY;
    for _ in 0..2_000_000 {
        f.gradient_into(&x, &mut g);
        resid = g.norm() / mu;
        if resid <= 1e-13 {
            break;
        }
        x -= alpha * &g;
    }
    Ok((f, x, mu, l, resid))
}

/// Rates vs κ: printed (GD, Polyak, NAG) and exact worst-case on quadratics, plus the lower
/// bound.
fn rate_vs_kappa_figure() -> Figure {
    let ks: Vec<f64> = (0..=80)
        .map(|i| 10f64.powf(0.05 * i as f64 * 1.0) * 1.0)
        .map(|k| k.max(1.0 + 1e-3))
        .collect();
    let mk = |label: &str, style: Style, f: &dyn Fn(f64) -> f64| Series {
        label: label.into(),
        style,
        x: ks.clone(),
        y: ks.iter().map(|&k| f(k)).collect(),
    };
    Figure {
        id: "rate-vs-kappa".into(),
        title: "Linear rates vs κ: printed and exact (quadratics, tuned parameters)".into(),
        x_label: "κ".into(),
        y_label: "rate q".into(),
        log_x: true,
        log_y: false,
        series: vec![
            mk(
                "GD (κ−1)/(κ+1) (printed = exact)",
                Style::Line,
                &th::gd_tuned_rate,
            ),
            mk(
                "heavy-ball (√κ−1)/(√κ+1) (printed = exact on quadratics)",
                Style::Line,
                &th::heavy_ball_tuned_rate,
            ),
            mk("NAG exact on quadratics 1−1/√κ", Style::Line, &th::nag_tuned_rate),
            mk("NAG printed √(1−1/√κ)", Style::Predicted, &th::nag_printed_rate),
            mk(
                "lower bound for the class, Nesterov Thm 2.1.13 (= heavy-ball's)",
                Style::Predicted,
                &th::lower_bound_rate,
            ),
        ],
        caption: "The printed NAG rate lies above GD's for κ below about 11.5; the exact NAG rate \
                  on quadratics is below GD's for every κ > 1."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fit recovers a planted rate on a pure Jordan mode (A + Bk)q^k within its tolerance.
    #[test]
    fn test_fit_recovers_jordan_rate() {
        let q: f64 = 0.97;
        let errs: Vec<f64> = (0..1500).map(|k| (1.0 + 0.5 * k as f64) * q.powi(k)).collect();
        let fit = fit_rate(&errs).unwrap();
        assert!((fit.q.ln() - q.ln()).abs() <= fit.log_tol, "{fit:?}");
        assert!((fit.power - 1.0).abs() < 0.2, "{fit:?}");
    }

    /// ... and a planted simple rate with an oscillating factor.
    #[test]
    fn test_fit_recovers_oscillating_rate() {
        let q: f64 = 0.95;
        let errs: Vec<f64> = (0..600)
            .map(|k| (1.0 + 0.5 * (0.3 * k as f64).cos().abs()) * q.powi(k))
            .collect();
        let fit = fit_rate(&errs).unwrap();
        assert!((fit.q.ln() - q.ln()).abs() <= fit.log_tol, "{fit:?}");
    }

    /// A wrong rate is rejected: a run at 0.95 is not accepted as 0.96.
    #[test]
    fn test_fit_rejects_wrong_rate() {
        let errs: Vec<f64> = (0..600).map(|k| 0.95f64.powi(k)).collect();
        let fit = fit_rate(&errs).unwrap();
        assert!((fit.q.ln() - 0.96f64.ln()).abs() > fit.log_tol, "{fit:?}");
    }
}
