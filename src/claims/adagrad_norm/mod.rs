//! # Checkers of Ward, Wu & Bottou's AdaGrad-Norm theory (claims.md items 14–20)
//!
//! One file per card (`theorems/<id>.md` ↔ `<id with underscores>.rs`), in registry order:
//!
//! | card | file |
//! |---|---|
//! | adagrad-norm-update-rule | [`adagrad_norm_update_rule`] |
//! | adagrad-norm-batch-complexity | [`adagrad_norm_batch_complexity`] |
//! | constant-step-divergence | [`constant_step_divergence`] |
//! | adagrad-norm-summation-lemmas | [`adagrad_norm_summation_lemmas`] |
//! | adagrad-norm-n-lemma | [`adagrad_norm_n_lemma`] |
//! | adagrad-norm-k0-lemma | [`adagrad_norm_k0_lemma`] |
//! | adagrad-norm-b-limit | [`adagrad_norm_b_limit`] |
//! | adagrad-norm-stochastic-growth | [`adagrad_norm_stochastic_growth`] |
//! | adagrad-norm-stochastic-rate | [`adagrad_norm_stochastic_rate`] |
//! | adagrad-norm-b0-robustness | [`adagrad_norm_b0_robustness`] |
//!
//! This module holds what several of them share: the deterministic runner and the test
//! instances, the stochastic runner (additive noise, i.i.d. mini-batches of the digits
//! logistic regression) and a per-process cache of simulations, so that a card's mutants are
//! judged on the same runs as its statement (the statement, not the data, is perturbed).
//!
//! Every run uses the crate's [`AdaGradNorm`] (η = 1, the lecture's form) and [`Sgd`] for the
//! constant step; iteration counts come from [`crate::theory::adagrad_norm`] (exact ceilings).
//!
//! **𝓛(θ⁽⁰⁾)** (theorems/README.md §2): on every AdaGrad-Norm card the printed symbol is the
//! raw loss value F(θ₀) (checked as printed, a witness where inf F < 0); the gap
//! Δ = F(θ₀) − F* of Ward et al.'s proofs is the corrected statement.

pub mod adagrad_norm_b0_robustness;
pub mod adagrad_norm_b_limit;
pub mod adagrad_norm_batch_complexity;
pub mod adagrad_norm_k0_lemma;
pub mod adagrad_norm_n_lemma;
pub mod adagrad_norm_stochastic_growth;
pub mod adagrad_norm_stochastic_rate;
pub mod adagrad_norm_summation_lemmas;
pub mod adagrad_norm_update_rule;
pub mod constant_step_divergence;

pub(crate) use super::other;
use super::{CheckError, Checker, Series, Style};
use crate::optim::adagrad_norm::{AdaGradNorm, AdaGradNormConfig};
use crate::optim::sgd::Sgd;
use crate::optim::Optimizer;
use crate::problems::{
    logistic_moments, AdditiveNoiseOracle, BinaryLogistic, BinaryTask, GradientOracle, IidBatchOracle,
    Objective, OneMinusCos, Quadratic, RationalBump, ShiftedQuadratic, Spectrum,
};
use nalgebra::DVector;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The checkers of this area, one file each, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        adagrad_norm_update_rule::CHECKER,
        adagrad_norm_batch_complexity::CHECKER,
        constant_step_divergence::CHECKER,
        adagrad_norm_summation_lemmas::CHECKER,
        adagrad_norm_n_lemma::CHECKER,
        adagrad_norm_k0_lemma::CHECKER,
        adagrad_norm_b_limit::CHECKER,
        adagrad_norm_stochastic_growth::CHECKER,
        adagrad_norm_stochastic_rate::CHECKER,
        adagrad_norm_b0_robustness::CHECKER,
    ]
}

/// The simulations of a card, computed once per process for each key (the card id and its
/// mode parameters — never statement parameters) and shared by the card's statement and its
/// mutants, which the engine judges after the statement.
pub(crate) fn cached<T: Send + Sync + 'static>(
    key: String,
    compute: impl FnOnce() -> Result<T, CheckError>,
) -> Result<Arc<T>, CheckError> {
    type Store = Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>;
    static STORE: OnceLock<Store> = OnceLock::new();
    let store = STORE.get_or_init(Default::default);
    if let Some(hit) = store.lock().map_err(other)?.get(&key).cloned() {
        if let Ok(v) = hit.downcast::<T>() {
            return Ok(v);
        }
    }
    let value = Arc::new(compute()?);
    store
        .lock()
        .map_err(other)?
        .insert(key, value.clone() as Arc<dyn Any + Send + Sync>);
    Ok(value)
}

/// The cache key of a card in a mode: its id and its mode table (what the simulations depend on).
pub(crate) fn cache_key(ctx: &super::CheckContext) -> String {
    let table = match ctx.mode {
        super::Mode::Quick => &ctx.card.quick,
        super::Mode::Full => &ctx.card.full,
    };
    format!("{}:{:?}:{table}", ctx.card.id, ctx.mode)
}

/// A deterministic AdaGrad-Norm run: ‖∇F(x_k)‖², b_k and F(x_k) for k = 0..=steps.
pub struct BatchRun {
    pub grad_sq: Vec<f64>,
    pub b: Vec<f64>,
    pub f: Vec<f64>,
}

impl BatchRun {
    /// First k ≥ `from` with ‖∇F(x_k)‖² ≤ ε.
    pub fn first_hit(&self, eps: f64, from: usize) -> Option<usize> {
        (from..self.grad_sq.len()).find(|&k| self.grad_sq[k] <= eps)
    }
}

/// Run AdaGrad-Norm (η = 1) from `x0`; stops after `max_steps` or, if `stop_eps` is given, at
/// the first k ≥ 1 with ‖∇F(x_k)‖² ≤ ε.
pub fn run_adagrad_norm(
    obj: &dyn Objective,
    x0: &DVector<f64>,
    b0: f64,
    max_steps: usize,
    stop_eps: Option<f64>,
) -> Result<BatchRun, CheckError> {
    let mut opt: AdaGradNorm = AdaGradNormConfig::lecture(b0).build()?;
    let mut x = x0.clone();
    let mut g = obj.gradient(&x);
    let mut run = BatchRun {
        grad_sq: vec![g.norm_squared()],
        b: vec![b0],
        f: vec![obj.value(&x)],
    };
    for k in 1..=max_steps {
        opt.step(&mut x, &g)?;
        obj.gradient_into(&x, &mut g);
        let gs = g.norm_squared();
        run.grad_sq.push(gs);
        run.b.push(opt.b());
        run.f.push(obj.value(&x));
        if !gs.is_finite() {
            return Err(other(format!("non-finite gradient at step {k}")));
        }
        if stop_eps.is_some_and(|e| gs <= e) {
            break;
        }
    }
    Ok(run)
}

pub(crate) fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![lo];
    }
    (0..n)
        .map(|i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
        .collect()
}

/// A test instance: objective, start, L, the gap F(x₀) − F* (or a lower estimate of F* made
/// conservative, see `logistic_instance`) and the raw value F(x₀).
pub(crate) struct Instance {
    pub name: String,
    pub obj: Box<dyn Objective>,
    pub x0: DVector<f64>,
    pub l: f64,
    pub gap: f64,
    pub raw: f64,
}

pub(crate) fn uniform_vec(n: usize, half_width: f64, rng: &mut ChaCha8Rng) -> DVector<f64> {
    DVector::from_fn(n, |_, _| rng.random_range(-half_width..half_width))
}

/// Regularised logistic regression: F* is not known in closed form. We run GD (step 1/L) to
/// ‖∇F‖² ≤ 1e-20 and use F(x̂) ≥ F* in place of F*: the gap F(x₀) − F(x̂) is then *smaller*
/// than the true gap, so the bound we test is stricter than the theorem's, never looser.
fn logistic_instance(d: usize, seed: u64) -> Result<Instance, CheckError> {
    let p = BinaryLogistic::random(100, d, true, 1e-2, seed).map_err(other)?;
    let l = p.constants().l.ok_or_else(|| other("logistic L"))?;
    let mut x = DVector::zeros(p.dim());
    let mut g = p.gradient(&x);
    for _ in 0..200_000 {
        if g.norm_squared() <= 1e-20 {
            break;
        }
        x.axpy(-1.0 / l, &g, 1.0);
        p.gradient_into(&x, &mut g);
    }
    let f_hat = p.value(&x);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let x0 = uniform_vec(p.dim(), 2.0, &mut rng);
    let raw = p.value(&x0);
    Ok(Instance {
        name: format!("logistic m=100 d={d} λ=1e-2 seed={seed}"),
        x0,
        l,
        gap: raw - f_hat,
        raw,
        obj: Box::new(p),
    })
}

pub(crate) fn instances(dims: &[usize], seeds: u64) -> Result<Vec<Instance>, CheckError> {
    let mut out = Vec::new();
    for &n in dims {
        for seed in 0..seeds {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 * n as u64 + seed);
            for (mu, spec) in [(0.0, Spectrum::Uniform), (1e-2, Spectrum::LogUniform)] {
                let l = 10f64.powf(rng.random_range(-1.0..1.0));
                let q = if n > 1 {
                    Quadratic::random(n, mu * l, l, spec, seed).map_err(other)?
                } else {
                    Quadratic::diagonal(vec![l], DVector::zeros(1)).map_err(other)?
                };
                let x0 = q.theta_star() + uniform_vec(n, 3.0, &mut rng);
                let raw = q.value(&x0);
                out.push(Instance {
                    name: format!("quadratic n={n} L={l:.3} μ={:.1e} seed={seed}", mu * l),
                    x0,
                    l,
                    gap: raw,
                    raw,
                    obj: Box::new(q),
                });
            }
            // inf F = c ≠ 0: a positive offset (raw value > gap).
            let diag: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..2.0)).collect();
            let l = diag.iter().cloned().fold(0.0, f64::max);
            let sq = ShiftedQuadratic::new(diag, 5.0).map_err(other)?;
            let x0 = uniform_vec(n, 3.0, &mut rng);
            let raw = sq.value(&x0);
            out.push(Instance {
                name: format!("shifted quadratic n={n} c=5 seed={seed}"),
                x0,
                l,
                gap: raw - 5.0,
                raw,
                obj: Box::new(sq),
            });
            let a = 10f64.powf(rng.random_range(-1.0..1.0));
            let omc = OneMinusCos::new(n, a).map_err(other)?;
            let x0 = uniform_vec(n, 3.0, &mut rng);
            let raw = omc.value(&x0);
            out.push(Instance {
                name: format!("1-cos n={n} a={a:.3} seed={seed}"),
                x0,
                l: a,
                gap: raw,
                raw,
                obj: Box::new(omc),
            });
            let bump = RationalBump::new(n, a).map_err(other)?;
            let x0 = uniform_vec(n, 1.5, &mut rng);
            let raw = bump.value(&x0);
            out.push(Instance {
                name: format!("x²/(1+x²) n={n} a={a:.3} seed={seed}"),
                x0,
                l: 2.0 * a,
                gap: raw,
                raw,
                obj: Box::new(bump),
            });
            out.push(logistic_instance(n.min(50), seed)?);
        }
    }
    Ok(out)
}

pub(crate) fn pt(label: &str, style: Style, x: Vec<f64>, y: Vec<f64>) -> Series {
    Series {
        label: label.into(),
        style,
        x,
        y,
    }
}

// ---------------------------------------------------------------------------------------
// Stochastic runs.
//
// Two families of unbiased oracles with E‖g‖² known exactly at every point:
// * additive Gaussian noise (`AdditiveNoiseOracle`): E‖g − ∇F‖² = σ² everywhere;
// * i.i.d. mini-batches of the digits logistic regression (`IidBatchOracle`): each step draws
//   a fresh uniform B-subset, so E[g | past] = ∇F(θ) exactly and E‖g − ∇F(θ)‖² =
//   σ²_pop(θ)/B·(m − B)/(m − 1) (`logistic_moments`). The epoch sampler is not used: within an
//   epoch the next batch depends on the previous ones, so E[g_k | past] ≠ ∇F(θ_k).

/// What a stochastic run records.
pub(crate) struct StochRun {
    /// b_k for k = 0..=steps (+∞ after a divergence).
    pub b: Vec<f64>,
    /// ‖∇F(θ_k)‖² at the recorded k (NaN at unrecorded k, +∞ after a divergence).
    pub grad_sq: Vec<f64>,
    /// With every step recorded: A_k = b₀² + Σ_{j<k}(‖∇F(θ_j)‖² + E‖g_j − ∇F(θ_j)‖²), the
    /// compensator of b_k² (E[b_k² − A_k] = 0: b_k² − A_k is a martingale). Empty otherwise.
    pub compensator: Vec<f64>,
    /// Σ_{j<steps} ‖∇F(θ_j)‖² (every step recorded).
    pub sum_grad_sq: f64,
    /// max_k ‖θ_k‖.
    pub max_norm: f64,
}

/// The exact moments of an oracle at θ: (‖∇F(θ)‖², E‖g − ∇F(θ)‖²).
pub(crate) type Moments<'a> = dyn Fn(&DVector<f64>) -> (f64, f64) + 'a;

/// Run AdaGrad-Norm (η = 1, `adagrad`) or SGD with step 1/b₀ on `oracle` for `steps` steps.
/// `grid[k]` says where to evaluate the exact moments; `None` evaluates them at every step and
/// accumulates the compensator.
pub(crate) fn run_stochastic_oracle(
    oracle: &mut dyn GradientOracle,
    moments: &Moments,
    x0: &DVector<f64>,
    b0: f64,
    steps: usize,
    adagrad: bool,
    grid: Option<&[bool]>,
) -> Result<StochRun, CheckError> {
    let mut opt: Box<dyn Optimizer> = if adagrad {
        Box::new(AdaGradNormConfig::lecture(b0).build()?)
    } else {
        Box::new(Sgd::gd(1.0 / b0)?)
    };
    let every = grid.is_none();
    let mut x = x0.clone();
    let mut g = DVector::zeros(x.len());
    let mut b_sq = b0 * b0;
    let mut compensator = b0 * b0;
    let mut out = StochRun {
        b: Vec::with_capacity(steps + 1),
        grad_sq: vec![f64::NAN; steps + 1],
        compensator: Vec::with_capacity(if every { steps + 1 } else { 0 }),
        sum_grad_sq: 0.0,
        max_norm: 0.0,
    };
    for k in 0..=steps {
        out.max_norm = out.max_norm.max(x.norm());
        out.b.push(b_sq.sqrt());
        if every || grid.is_some_and(|gr| gr[k]) {
            let (gs, v) = moments(&x);
            out.grad_sq[k] = if gs.is_finite() { gs } else { f64::INFINITY };
            if every {
                out.compensator.push(compensator);
                if k < steps {
                    out.sum_grad_sq += gs;
                    compensator += gs + v;
                }
            }
        }
        if k == steps {
            break;
        }
        oracle.gradient_into(&x, &mut g);
        if !g.iter().all(|v| v.is_finite() && v.abs() < 1e150) {
            // Diverged (SGD with a step above 2/L): +∞ for the rest of the run.
            for j in k + 1..=steps {
                out.b.push(f64::INFINITY);
                out.grad_sq[j] = f64::INFINITY;
                if every {
                    out.compensator.push(f64::INFINITY);
                }
            }
            break;
        }
        b_sq += g.norm_squared();
        opt.step(&mut x, &g)?;
    }
    Ok(out)
}

/// Additive-noise run (every step recorded): the oracle ∇F + N(0, σ²/n I) from `seed`.
pub(crate) fn run_stochastic(
    obj: &dyn Objective,
    x0: &DVector<f64>,
    b0: f64,
    sigma: f64,
    seed: u64,
    steps: usize,
    adagrad: bool,
) -> Result<StochRun, CheckError> {
    let mut oracle = AdditiveNoiseOracle::new(obj, sigma, seed).map_err(other)?;
    let moments = |x: &DVector<f64>| (obj.gradient(x).norm_squared(), sigma * sigma);
    run_stochastic_oracle(&mut oracle, &moments, x0, b0, steps, adagrad, None)
}

/// The digits family: λ-regularised logistic regression (bias, λ = `lambda`) on the vendored
/// digits, 3 against 8 (m = 357, d = 65), i.i.d. mini-batches of size B, θ₀ = 0.
pub(crate) struct DigitsFamily {
    pub problem: BinaryLogistic,
    pub batch: usize,
    pub sq_norms: Vec<f64>,
    /// The minimiser (GD to ‖∇F‖² ≤ 1e-24, i.e. ‖θ − θ*‖ ≤ 1e-12/λ by strong convexity).
    pub theta_star: DVector<f64>,
    /// V* = E‖g − ∇F‖² at θ*: the limit of b_k²/k.
    pub v_star: f64,
    /// E‖g(θ₀)‖² = ‖∇F(θ₀)‖² + V(θ₀): every valid c_g² is at least this (θ₀ is visited).
    pub c_g2_at_start: f64,
    /// The radius R = 2√(2 log 2/λ) of the ball the checker verifies the iterates stay in.
    pub radius: f64,
    /// c_g² = (max_i ‖x̃_i‖ + λR)²: ‖g‖ ≤ c_g surely on that ball.
    pub c_g2: f64,
    pub x0: DVector<f64>,
}

impl DigitsFamily {
    pub(crate) fn new(batch: usize, lambda: f64) -> Result<Self, CheckError> {
        let problem = BinaryLogistic::digits(
            BinaryTask::Pair {
                negative: 3,
                positive: 8,
            },
            true,
            lambda,
        )
        .map_err(other)?;
        let x = problem.features();
        let sq_norms: Vec<f64> = x.row_iter().map(|row| row.norm_squared() + 1.0).collect();
        let l = problem.constants().l.ok_or_else(|| other("logistic without L"))?;
        let dim = problem.dim();
        // GD with step 1/L contracts by 1 − λ/L per step (κ ≈ 33 at λ = 0.1).
        let mut theta = DVector::zeros(dim);
        let mut g = DVector::zeros(dim);
        for _ in 0..200_000 {
            problem.gradient_into(&theta, &mut g);
            if g.norm_squared() <= 1e-24 {
                break;
            }
            theta.axpy(-1.0 / l, &g, 1.0);
        }
        if problem.gradient(&theta).norm_squared() > 1e-24 {
            return Err(other("digits logistic: GD did not reach ‖∇F‖² ≤ 1e-24"));
        }
        let (_, v_star) = logistic_moments(&problem, &sq_norms, batch, &theta);
        let x0 = DVector::zeros(dim);
        let (gs0, v0) = logistic_moments(&problem, &sq_norms, batch, &x0);
        // λ/2‖θ*‖² ≤ F(θ*) ≤ F(0) = log 2 (the loss is ≥ 0), so ‖θ*‖ ≤ √(2 log 2/λ); R is twice
        // that. Every example gradient r_i x̃_i + λθ has norm ≤ max‖x̃_i‖ + λR there (|r_i| < 1),
        // and so has their mean.
        let radius = 2.0 * (2.0 * std::f64::consts::LN_2 / lambda).sqrt();
        let max_x = sq_norms.iter().cloned().fold(0.0, f64::max).sqrt();
        let c_g2 = (max_x + lambda * radius).powi(2);
        Ok(DigitsFamily {
            problem,
            batch,
            sq_norms,
            theta_star: theta,
            v_star,
            c_g2_at_start: gs0 + v0,
            radius,
            c_g2,
            x0,
        })
    }

    /// One AdaGrad-Norm run from θ₀ = 0 with mini-batches from `seed`.
    pub(crate) fn run(
        &self,
        b0: f64,
        seed: u64,
        steps: usize,
        grid: Option<&[bool]>,
    ) -> Result<StochRun, CheckError> {
        let mut oracle = IidBatchOracle::new(&self.problem, self.batch, seed).map_err(other)?;
        let moments = |t: &DVector<f64>| logistic_moments(&self.problem, &self.sq_norms, self.batch, t);
        run_stochastic_oracle(&mut oracle, &moments, &self.x0, b0, steps, true, grid)
    }
}
