//! Checker of `theorems/l1-sparsity-linf-equal.md`: "ℓ² norm weight decay encourages weight
//! parameters to generally be of a similar size; note different from ℓ¹ which induces sparsity
//! and ℓ^∞ which encourages equal values such as for quantization".
//!
//! On seeded least-squares problems f(θ) = (2m)⁻¹‖Xθ − y‖² (`problems::least_squares`, Gaussian
//! X, dense θ_true), the minimiser of f + λ‖θ‖₁ and of f + λ‖θ‖∞ is computed by proximal gradient
//! (FISTA with adaptive restart, the exact prox of `theory::prox`), that of f + (λ₂/2)‖θ‖² by plain
//! GD, for λ = ρ·λ_max (λ_max = ‖∇f(0)‖∞ for ℓ¹, ‖∇f(0)‖₁ for ℓ∞: the smallest λ with θ* = 0;
//! λ₂ = ρ/(1−ρ)·L for ℓ²) over a grid of ρ ∈ (0, 1).
//!
//! Each ℓ¹/ℓ∞ solution is then *certified*: on the support (ℓ¹) or the set below the maximum
//! (ℓ∞) that the iterate identified, the KKT equations are solved exactly (a small linear
//! system), the residual of the true gradient at that point bounds its distance to the exact
//! solution of the system, and the KKT inequalities (signs, |∇f_i| < λ off the support; |θ_i|
//! below the maximum, non-negative subgradient weights on the maximum set) must hold with a
//! margin larger than that distance. Then the exact minimiser has the counted zeros / ties.
//!
//! * **Checks** (the precise statement): for m < d, at every ρ, the `sparse_penalty` minimiser
//!   has ≥ d − m + `zeros_offset` exact zeros and the `equal_penalty` minimiser ≥ d − m + 1 +
//!   `ties_offset` coordinates at the maximum magnitude; the ℓ² minimiser has no zero and one
//!   maximum; plus convergence (fixed-point residual), certification margins, the prox against
//!   Moreau's form, GD against ridge's closed form.
//! * **Context**: the overdetermined sweep (m > d), where the counts depend on λ.

use super::normal_vec;
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::prec::{gamma, UNIT_ROUNDOFF};
use crate::problems::least_squares::LeastSquares;
use crate::problems::Objective;
use crate::theory::preconditioning::sorted_eigen;
use crate::theory::prox;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The checker of `l1-sparsity-linf-equal`.
pub const CHECKER: Checker = Checker {
    id: "l1-sparsity-linf-equal",
    run: check_l1_linf,
};

const ID: &str = "l1-sparsity-linf-equal";

/// A proximal operator v, step·λ ↦ prox(v).
type ProxOp = dyn Fn(&DVector<f64>, f64) -> DVector<f64>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Penalty {
    L1,
    Linf,
    L2,
}

impl Penalty {
    fn parse(key: &str, s: &str) -> Result<Self, CheckError> {
        match s {
            "l1" => Ok(Penalty::L1),
            "linf" => Ok(Penalty::Linf),
            "l2" => Ok(Penalty::L2),
            found => Err(crate::claims::bad_statement(
                ID,
                key,
                found,
                "\"l1\", \"linf\" or \"l2\"",
            )),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Penalty::L1 => "ℓ¹",
            Penalty::Linf => "ℓ∞",
            Penalty::L2 => "ℓ²",
        }
    }
}

/// A least-squares instance with the quantities the solvers need.
struct Problem {
    label: String,
    x: DMatrix<f64>,
    y: DVector<f64>,
    m: usize,
    d: usize,
    l: f64,
    /// ∇f(0) = −Xᵀy/m.
    g0: DVector<f64>,
}

impl Problem {
    fn grad(&self, theta: &DVector<f64>) -> DVector<f64> {
        let r = &self.x * theta - &self.y;
        self.x.tr_mul(&r) / self.m as f64
    }
    /// Componentwise rounding bound of [`Problem::grad`]: γ_{m+d+2}|X|ᵀ(|X||θ| + |y|)/m.
    fn grad_err(&self, theta: &DVector<f64>) -> DVector<f64> {
        let ax = self.x.abs();
        let inner = &ax * theta.abs() + self.y.abs();
        ax.tr_mul(&inner) * (gamma(self.m + self.d + 2) / self.m as f64)
    }
}

/// A computed minimiser with its certification.
struct Solution {
    /// The certified point (the polished KKT solution for ℓ¹/ℓ∞, the closed form for ℓ²).
    theta: DVector<f64>,
    /// Bound on ‖θ − θ*‖∞ (θ* the exact minimiser), from the KKT residual.
    eps: f64,
    /// Smallest KKT margin minus its uncertainty, relative (> 0: certified).
    margin: f64,
    /// Fixed-point residual of the solver's last iterate, relative to ‖∇f(0)‖∞.
    residual: f64,
    /// Exact zeros and exact ties at the maximum magnitude of the solver's iterate.
    iter_zeros: usize,
    iter_ties: usize,
    iters: usize,
}

impl Solution {
    /// Coordinates that may be 0 at θ*: |θ_i| ≤ ε (an upper bound on the exact zeros; the exact
    /// count when the margin is positive for ℓ¹).
    fn zeros(&self) -> usize {
        self.theta.iter().filter(|v| v.abs() <= self.eps).count()
    }
    /// Coordinates that may be at the maximum magnitude of θ*: |θ_i| ≥ max − 2ε.
    fn ties(&self) -> usize {
        let mx = self.theta.amax();
        self.theta
            .iter()
            .filter(|v| v.abs() >= mx - 2.0 * self.eps)
            .count()
    }
}

fn exact_zeros(v: &DVector<f64>) -> usize {
    v.iter().filter(|x| **x == 0.0).count()
}

fn exact_ties(v: &DVector<f64>) -> usize {
    let mx = v.amax();
    if mx == 0.0 {
        return 0;
    }
    v.iter().filter(|x| x.abs() == mx).count()
}

/// FISTA (Beck & Teboulle 2009) with the gradient restart of O'Donoghue & Candès (2015), step
/// 1/L̂, L̂ = L(1 + 10⁻⁶) (above the eigensolver's error ≤ (8d+3)u‖XᵀX/m‖_F on L), until the
/// fixed-point residual L̂‖θ − prox(θ − ∇f(θ)/L̂)‖∞ ≤ `tol`·‖∇f(0)‖∞ or `max_iter`.
fn fista(
    p: &Problem,
    prox_op: &ProxOp,
    lambda: f64,
    tol: f64,
    max_iter: usize,
) -> (DVector<f64>, f64, usize) {
    let lh = p.l * (1.0 + 1e-6);
    let scale = p.g0.amax();
    let mut x = DVector::zeros(p.d);
    let mut yv = x.clone();
    let mut t = 1.0f64;
    let residual = |x: &DVector<f64>| {
        let z = prox_op(&(x - p.grad(x) / lh), lambda / lh);
        (x - z).amax() * lh / scale
    };
    let mut it = 0;
    while it < max_iter {
        let xn = prox_op(&(&yv - p.grad(&yv) / lh), lambda / lh);
        it += 1;
        if (&yv - &xn).dot(&(&xn - &x)) > 0.0 {
            t = 1.0;
            yv = xn.clone();
        } else {
            let tn = 0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt());
            yv = &xn + (&xn - &x) * ((t - 1.0) / tn);
            t = tn;
        }
        x = xn;
        if it % 25 == 0 && residual(&x) <= tol {
            break;
        }
    }
    let r = residual(&x);
    (x, r, it)
}

/// Smallest eigenvalue of a computed Gram matrix minus its uncertainty: the eigensolver's
/// (8k+3)u‖G‖_F and `extra` (the rounding of the matrix itself).
fn lambda_min_lower(g: &DMatrix<f64>, extra: f64) -> (f64, f64) {
    let (vals, _) = sorted_eigen(g);
    let k = g.nrows();
    let err = (8 * k + 3) as f64 * UNIT_ROUNDOFF * g.norm() + extra;
    (vals[0] - err, vals[k - 1] + err)
}

/// Certify an ℓ¹ iterate: polish on its support E with signs s, then check the KKT conditions.
fn certify_l1(p: &Problem, it: &DVector<f64>, lambda: f64) -> (DVector<f64>, f64, f64) {
    let m = p.m as f64;
    let e: Vec<usize> = (0..p.d).filter(|&i| it[i] != 0.0).collect();
    if e.is_empty() || e.len() > p.m {
        return (it.clone(), f64::INFINITY, f64::NEG_INFINITY);
    }
    let xe = DMatrix::from_fn(p.m, e.len(), |r, c| p.x[(r, e[c])]);
    let s = DVector::from_fn(e.len(), |i, _| it[e[i]].signum());
    let g = xe.tr_mul(&xe) / m;
    let b = xe.tr_mul(&p.y) / m - &s * lambda;
    let Some(sol) = g.clone().cholesky().map(|c| c.solve(&b)) else {
        return (it.clone(), f64::INFINITY, f64::NEG_INFINITY);
    };
    let mut theta = DVector::zeros(p.d);
    for (k, &i) in e.iter().enumerate() {
        theta[i] = sol[k];
    }
    // Exact residual of the KKT equations on E at θ: ∇f_E(θ) + λs (X_Eθ_E = Xθ exactly).
    let grad = p.grad(&theta);
    let gerr = p.grad_err(&theta);
    let res: f64 = e
        .iter()
        .enumerate()
        .map(|(k, &i)| (grad[i] + lambda * s[k]).abs() + gerr[i])
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    let (lmin, lmax) = lambda_min_lower(&g, gamma(p.m + 2) * xe.abs().norm_squared() / m);
    if lmin <= 0.0 {
        return (theta, f64::INFINITY, f64::NEG_INFINITY);
    }
    // ‖θ_E − θ*_E‖₂ ≤ ‖res‖/λ_min(G_E); the gradient off E moves by ≤ ‖X_i‖‖X_E δ‖/m ≤
    // ‖X_i‖√(m λ_max(G_E))‖δ‖/m.
    let delta = res / lmin;
    let scale = theta.amax();
    let mut margin = f64::INFINITY;
    for (k, &i) in e.iter().enumerate() {
        margin = margin.min((s[k] * theta[i] - delta) / scale);
    }
    for i in (0..p.d).filter(|i| !e.contains(i)) {
        let xi = p.x.column(i).norm();
        let shift = xi * (m * lmax).sqrt() * delta / m;
        margin = margin.min((lambda - grad[i].abs() - gerr[i] - shift) / lambda);
    }
    (theta, delta, margin)
}

/// Certify an ℓ∞ iterate: S = the coordinates at its maximum magnitude (signs σ), N the rest;
/// solve the KKT equations ∇f_N = 0, Σ_S σ_i∇f_i = −λ for (θ_N, t); check |θ_N| < t and the
/// subgradient weights −σ_i∇f_i/λ ≥ 0 on S.
fn certify_linf(p: &Problem, it: &DVector<f64>, lambda: f64) -> (DVector<f64>, f64, f64) {
    let m = p.m as f64;
    let mx = it.amax();
    let sset: Vec<usize> = (0..p.d).filter(|&i| mx > 0.0 && it[i].abs() == mx).collect();
    let nset: Vec<usize> = (0..p.d).filter(|i| !sset.contains(i)).collect();
    if sset.is_empty() || nset.len() + 1 > p.m {
        return (it.clone(), f64::INFINITY, f64::NEG_INFINITY);
    }
    let sigma: Vec<f64> = sset.iter().map(|&i| it[i].signum()).collect();
    let k = nset.len() + 1;
    let mut z = DMatrix::zeros(p.m, k);
    for (c, &i) in nset.iter().enumerate() {
        z.set_column(c, &p.x.column(i));
    }
    let mut col = DVector::zeros(p.m);
    for (j, &i) in sset.iter().enumerate() {
        col += p.x.column(i) * sigma[j];
    }
    z.set_column(k - 1, &col);
    let g = z.tr_mul(&z) / m;
    let mut b = z.tr_mul(&p.y) / m;
    b[k - 1] -= lambda;
    let Some(u) = g.clone().cholesky().map(|c| c.solve(&b)) else {
        return (it.clone(), f64::INFINITY, f64::NEG_INFINITY);
    };
    let t = u[k - 1];
    let mut theta = DVector::zeros(p.d);
    for (c, &i) in nset.iter().enumerate() {
        theta[i] = u[c];
    }
    for (j, &i) in sset.iter().enumerate() {
        theta[i] = t * sigma[j];
    }
    // Exact residual: (∇f_N(θ), Σ_S σ_i∇f_i(θ) + λ), since Zu − y = Xθ − y exactly.
    let grad = p.grad(&theta);
    let gerr = p.grad_err(&theta);
    let mut res2: f64 = nset.iter().map(|&i| (grad[i].abs() + gerr[i]).powi(2)).sum();
    let last: f64 = sset.iter().zip(&sigma).map(|(&i, s)| s * grad[i]).sum::<f64>() + lambda;
    let last_err: f64 = sset.iter().map(|&i| gerr[i]).sum::<f64>() * (1.0 + gamma(sset.len()));
    res2 += (last.abs() + last_err).powi(2);
    // The column Σσ_iX_i carries γ_|S| relative rounding: G moves by ≤ 2γ_{|S|+m}‖|Z|‖²_F/m.
    let (lmin, lmax) = lambda_min_lower(&g, 2.0 * gamma(sset.len() + p.m) * z.abs().norm_squared() / m);
    if lmin <= 0.0 {
        return (theta, f64::INFINITY, f64::NEG_INFINITY);
    }
    let delta = res2.sqrt() / lmin;
    let scale = t.abs();
    let mut margin = (t - delta) / scale;
    for &i in &nset {
        margin = margin.min((t - theta[i].abs() - 2.0 * delta) / scale);
    }
    for (j, &i) in sset.iter().enumerate() {
        let xi = p.x.column(i).norm();
        let shift = xi * (m * lmax).sqrt() * delta / m;
        margin = margin.min((-sigma[j] * grad[i] - gerr[i] - shift) / lambda);
    }
    (theta, 2.0 * delta, margin)
}

/// Ridge: GD on f + (λ₂/2)‖θ‖² (step 1/(L̂+λ₂)) until ‖∇F‖∞ ≤ tol·‖∇f(0)‖∞, certified against
/// the closed form (XᵀX/m + λ₂I)⁻¹Xᵀy/m: ‖θ − θ*‖₂ ≤ ‖∇F(θ)‖₂/λ₂ (strong convexity).
fn solve_l2(p: &Problem, lambda2: f64, tol: f64, max_iter: usize) -> (Solution, f64) {
    let lh = p.l * (1.0 + 1e-6) + lambda2;
    let scale = p.g0.amax();
    let mut x = DVector::zeros(p.d);
    let mut it = 0;
    let mut gnorm = f64::INFINITY;
    while it < max_iter {
        let g = p.grad(&x) + &x * lambda2;
        gnorm = g.amax() / scale;
        if gnorm <= tol {
            break;
        }
        x -= g / lh;
        it += 1;
    }
    let a = p.x.tr_mul(&p.x) / p.m as f64 + DMatrix::identity(p.d, p.d) * lambda2;
    let rhs = p.x.tr_mul(&p.y) / p.m as f64;
    let closed = a.cholesky().map(|c| c.solve(&rhs)).unwrap_or_else(|| x.clone());
    let gc = p.grad(&closed) + &closed * lambda2;
    let gerr = p.grad_err(&closed);
    let eps = (gc.abs() + gerr).norm() / lambda2;
    let gd_eps = ((p.grad(&x) + &x * lambda2).abs() + p.grad_err(&x)).norm() / lambda2;
    let gap = (&x - &closed).amax() / (eps + gd_eps);
    (
        Solution {
            iter_zeros: exact_zeros(&x),
            iter_ties: exact_ties(&x),
            theta: closed,
            eps,
            margin: f64::INFINITY,
            residual: gnorm,
            iters: it,
        },
        gap,
    )
}

fn solve(p: &Problem, pen: Penalty, rho: f64, tol: f64, max_iter: usize) -> (Solution, f64) {
    match pen {
        Penalty::L1 | Penalty::Linf => {
            let (lambda, op): (f64, &ProxOp) = if pen == Penalty::L1 {
                (rho * p.g0.amax(), &prox::soft_threshold)
            } else {
                (rho * p.g0.abs().sum(), &prox::prox_linf)
            };
            let (it, residual, iters) = fista(p, op, lambda, tol, max_iter);
            let (theta, eps, margin) = if pen == Penalty::L1 {
                certify_l1(p, &it, lambda)
            } else {
                certify_linf(p, &it, lambda)
            };
            (
                Solution {
                    iter_zeros: exact_zeros(&it),
                    iter_ties: exact_ties(&it),
                    theta,
                    eps,
                    margin,
                    residual,
                    iters,
                },
                0.0,
            )
        }
        Penalty::L2 => solve_l2(p, rho / (1.0 - rho) * p.l, tol, max_iter),
    }
}

fn check_l1_linf(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let sparse = Penalty::parse("sparse_penalty", ctx.stmt_str("sparse_penalty")?)?;
    let equal = Penalty::parse("equal_penalty", ctx.stmt_str("equal_penalty")?)?;
    let zeros_offset = ctx.stmt_f64("zeros_offset")?;
    let ties_offset = ctx.stmt_f64("ties_offset")?;
    let shapes = ctx.usizes("shapes")?;
    let over = ctx.usizes("overdetermined")?;
    let seeds = ctx.usize("seeds")?;
    let base_seed = ctx.u64("seed")?;
    let rhos = ctx.f64s("rhos")?;
    let noise = ctx.f64("noise")?;
    let tol = ctx.f64("fp_tol")?;
    let max_iter = ctx.usize("max_iter")?;
    let prox_vectors = ctx.usize("prox_vectors")?;
    if shapes.len() % 2 != 0 || over.len() != 2 {
        return Err(CheckError::Other(format!(
            "{ID}: `shapes` lists (m, d) pairs and `overdetermined` one pair"
        )));
    }
    let mut ev = Evidence::new();

    // ---- The prox: clip form against Moreau's form, on random vectors ----------------------
    let mut rng = ChaCha8Rng::seed_from_u64(base_seed);
    let mut moreau_gap = 0.0f64;
    for j in 0..prox_vectors {
        let v = normal_vec(&mut rng, 5 + j % 20);
        let lam = 0.1 + 0.3 * (j % 7) as f64;
        let a = prox::prox_linf(&v, lam);
        let b = prox::prox_linf_moreau(&v, lam);
        // Moreau: v/λ (1 rounding), the projection's threshold (a sum of ≤ n terms, γ_n
        // relative to Σ|v|/λ), ×λ and the subtraction (2 roundings): ≤ (γ_n + 4u)(‖v‖₁ + |v_i|).
        let n = v.len();
        let bound = (gamma(n) + 4.0 * UNIT_ROUNDOFF) * (v.abs().sum() + v.amax());
        moreau_gap = moreau_gap.max((a - b).amax() / bound);
    }
    ev.push(
        Measurement::new(
            "prox of λ‖·‖∞: clip form vs Moreau's v − λΠ_{B₁}(v/λ) (Duchi et al. projection), max gap / rounding bound",
            moreau_gap,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!("{prox_vectors} Gaussian vectors; bound (γ_n + 4u)(‖v‖₁ + ‖v‖∞)")),
    );

    // ---- Instances -----------------------------------------------------------------------
    let mut probs = Vec::new();
    let mk = |m: usize, d: usize, seed: u64, label: String| -> Result<Problem, CheckError> {
        let ls = LeastSquares::random(m, d, noise, seed).map_err(|e| CheckError::Other(e.to_string()))?;
        let l = ls.constants().l.unwrap_or(f64::NAN);
        let x = ls.design().clone();
        let y = ls.targets().clone();
        let g0 = -(x.tr_mul(&y)) / m as f64;
        Ok(Problem {
            label,
            x,
            y,
            m,
            d,
            l,
            g0,
        })
    };
    for pair in shapes.chunks(2) {
        for s in 0..seeds {
            let seed = base_seed + 1000 * pair[1] as u64 + s as u64;
            probs.push(mk(
                pair[0],
                pair[1],
                seed,
                format!("m={}, d={}, seed {seed}", pair[0], pair[1]),
            )?);
        }
    }
    let n_under = probs.len();
    let over_p = mk(
        over[0],
        over[1],
        base_seed + 7,
        format!("m={}, d={}", over[0], over[1]),
    )?;
    probs.push(over_p);

    // ---- Solves --------------------------------------------------------------------------
    let pens = [Penalty::L1, Penalty::Linf, Penalty::L2];
    // sols[p][pen][rho]
    let mut sols: Vec<Vec<Vec<Solution>>> = Vec::new();
    let mut gd_gap = 0.0f64;
    for p in &probs {
        let mut per_pen = Vec::new();
        for &pen in &pens {
            let mut v = Vec::new();
            for &rho in &rhos {
                let (s, gap) = solve(p, pen, rho, tol, max_iter);
                gd_gap = gd_gap.max(gap);
                v.push(s);
            }
            per_pen.push(v);
        }
        sols.push(per_pen);
    }
    let idx = |pen: Penalty| pens.iter().position(|q| *q == pen).unwrap_or(0);

    // ---- Convergence and certification -----------------------------------------------------
    let mut worst_res = (0.0f64, String::new());
    let mut worst_margin = (f64::INFINITY, String::new());
    let mut count_mismatch = 0usize;
    let mut total_iters = 0usize;
    for (p, per_pen) in probs.iter().zip(&sols) {
        for (&pen, v) in pens.iter().zip(per_pen) {
            for (&rho, s) in rhos.iter().zip(v) {
                total_iters += s.iters;
                let what = format!("{}, {}, ρ = {rho}", p.label, pen.name());
                if s.residual > worst_res.0 {
                    worst_res = (s.residual, what.clone());
                }
                if pen != Penalty::L2 {
                    if s.margin < worst_margin.0 {
                        worst_margin = (s.margin, what.clone());
                    }
                    let agree = match pen {
                        Penalty::L1 => s.iter_zeros == s.zeros(),
                        _ => s.iter_ties == s.ties(),
                    };
                    if !agree {
                        count_mismatch += 1;
                    }
                }
            }
        }
    }
    ev.push(
        Measurement::new(
            "convergence: max fixed-point residual L‖θ − prox(θ − ∇f/L)‖∞ / ‖∇f(0)‖∞ (ℓ¹, ℓ∞; ‖∇F‖∞/‖∇f(0)‖∞ for ℓ²)",
            worst_res.0,
            tol,
            Relation::AtMost,
        )
        .with_note(format!("worst {}; {total_iters} iterations in all (FISTA with restart; GD for ℓ²)", worst_res.1)),
    );
    ev.push(
        Measurement::new(
            "certification: min KKT margin minus its uncertainty (ℓ¹: signs on the support, λ − |∇f_i| off it; ℓ∞: t − |θ_i| below the max, subgradient weights on it), relative",
            worst_margin.0,
            0.0,
            Relation::AtLeast,
        )
        .with_note(format!(
            "worst {}; > 0 ⇒ the exact minimiser has the support / maximum set the iterate found",
            worst_margin.1
        )),
    );
    ev.push(
        Measurement::new(
            "iterate vs certified minimiser: solves whose counts differ (ℓ¹ zeros, ℓ∞ ties)",
            count_mismatch as f64,
            0.0,
            Relation::Exact,
        )
        .with_note(
            "the prox iterates carry exact zeros (soft threshold) and exact ties (clip at one level t)",
        ),
    );
    ev.push(
        Measurement::new(
            "ℓ²: GD vs ridge closed form, max ‖θ_GD − θ*‖∞ / (‖∇F(θ_GD)‖₂ + ‖∇F(θ̂)‖₂)/λ₂",
            gd_gap,
            1.0,
            Relation::AtMost,
        )
        .with_note("strong convexity: ‖θ − θ*‖₂ ≤ ‖∇F(θ)‖₂/λ₂, gradient rounding included"),
    );

    // ---- The statement (underdetermined instances, every ρ) ------------------------------
    let mut zeros_margin = (i64::MAX, String::new());
    let mut ties_margin = (i64::MAX, String::new());
    let mut l2_zeros = 0usize;
    let mut l2_ties = 0usize;
    let mut attained_zeros = 0usize;
    let mut attained_ties = 0usize;
    let mut mean_counts = [[0.0f64; 2]; 3];
    for (p, per_pen) in probs.iter().zip(&sols).take(n_under) {
        let dm = p.d as i64 - p.m as i64;
        for (k, &rho) in rhos.iter().enumerate() {
            let z = per_pen[idx(sparse)][k].zeros() as i64;
            let need_z = dm + zeros_offset as i64;
            if z - need_z < zeros_margin.0 {
                zeros_margin = (
                    z - need_z,
                    format!("{}, ρ = {rho}: {z} zeros, d − m = {dm}", p.label),
                );
            }
            let t = per_pen[idx(equal)][k].ties() as i64;
            let need_t = dm + 1 + ties_offset as i64;
            if t - need_t < ties_margin.0 {
                ties_margin = (
                    t - need_t,
                    format!("{}, ρ = {rho}: {t} tied, d − m + 1 = {}", p.label, dm + 1),
                );
            }
            if per_pen[idx(Penalty::L1)][k].zeros() as i64 == dm {
                attained_zeros += 1;
            }
            if per_pen[idx(Penalty::Linf)][k].ties() as i64 == dm + 1 {
                attained_ties += 1;
            }
            for (j, counts) in mean_counts.iter_mut().enumerate() {
                let s = &per_pen[j][k];
                counts[0] += s.zeros() as f64 / p.d as f64;
                counts[1] += s.ties() as f64 / p.d as f64;
            }
        }
    }
    for per_pen in &sols {
        for s in &per_pen[idx(Penalty::L2)] {
            l2_zeros = l2_zeros.max(s.zeros());
            l2_ties = l2_ties.max(s.ties());
        }
    }
    let cases = (n_under * rhos.len()) as f64;
    ev.push(
        Measurement::new(
            format!(
                "{} minimiser, m < d, every ρ: min (exact zeros − (d − m + {zeros_offset}))",
                sparse.name()
            ),
            zeros_margin.0 as f64,
            0.0,
            Relation::AtLeast,
        )
        .with_note(format!(
            "worst {}; {} of {} cases attain exactly d − m with ℓ¹; zeros counted as |θ_i| ≤ ε (ε the certified distance to θ*)",
            zeros_margin.1, attained_zeros, cases
        ))
        .key(),
    );
    ev.push(
        Measurement::new(
            format!(
                "{} minimiser, m < d, every ρ: min (coordinates at max |θ_i| − (d − m + 1 + {ties_offset}))",
                equal.name()
            ),
            ties_margin.0 as f64,
            0.0,
            Relation::AtLeast,
        )
        .with_note(format!(
            "worst {}; {} of {} cases attain exactly d − m + 1 with ℓ∞; ties counted as |θ_i| ≥ max − 2ε",
            ties_margin.1, attained_ties, cases
        ))
        .key(),
    );
    ev.push(
        Measurement::new(
            "ℓ² (ridge) minimiser, every instance and ρ: max number of coordinates that may be 0 (|θ_i| ≤ ε)",
            l2_zeros as f64,
            0.0,
            Relation::Exact,
        )
        .with_note("generic: θ = Xᵀ(XXᵀ + mλ₂I)⁻¹y has no zero coordinate with probability 1"),
    );
    ev.push(
        Measurement::new(
            "ℓ² (ridge) minimiser: max number of coordinates that may share the maximum magnitude (≥ max − 2ε)",
            l2_ties as f64,
            1.0,
            Relation::Exact,
        )
        .with_note("generic: a unique largest coordinate"),
    );
    for (j, &pen) in pens.iter().enumerate() {
        for (what, v) in [
            ("exact zeros", mean_counts[j][0]),
            ("coordinates at the max", mean_counts[j][1]),
        ] {
            ev.push(
                Measurement::new(
                    format!(
                        "{}: mean fraction of {what} (m < d, over instances and ρ)",
                        pen.name()
                    ),
                    v / cases,
                    0.0,
                    Relation::AtLeast,
                )
                .context(),
            );
        }
    }

    // ---- Context: the overdetermined sweep ------------------------------------------------
    let op = &probs[n_under];
    let osols = &sols[n_under];
    let l1z: Vec<usize> = osols[idx(Penalty::L1)].iter().map(Solution::zeros).collect();
    let lit: Vec<usize> = osols[idx(Penalty::Linf)].iter().map(Solution::ties).collect();
    ev.push(
        Measurement::new(
            format!(
                "overdetermined {}: ℓ¹ zeros from the smallest to the largest ρ",
                op.label
            ),
            l1z.first().copied().unwrap_or(0) as f64,
            l1z.last().copied().unwrap_or(0) as f64,
            Relation::AtMost,
        )
        .with_note(format!(
            "zeros over ρ = {rhos:?}: {l1z:?}; ℓ∞ ties: {lit:?} (with m ≥ d the counts depend on λ)"
        ))
        .context(),
    );
    // ℓ² spread ("similar size"): max|θ|/mean|θ| at the smallest and largest ρ.
    let spread = |s: &Solution| s.theta.amax() / (s.theta.abs().sum() / s.theta.len() as f64);
    let l2s = &osols[idx(Penalty::L2)];
    if let (Some(a), Some(b)) = (l2s.first(), l2s.last()) {
        ev.push(
            Measurement::new(
                "ℓ², overdetermined: max|θ_i| / mean|θ_i| at the largest ρ vs the smallest",
                spread(b),
                spread(a),
                Relation::AtMost,
            )
            .with_note("the slide's 'similar size' for ℓ²: ridge shrinks every coordinate; whether the relative spread narrows depends on the design (here it need not)")
            .context(),
        );
    }
    ev.instances = (probs.len() * pens.len() * rhos.len()) as u64;

    // ---- Figures -----------------------------------------------------------------------------
    let p0 = &probs[0];
    let s0 = &sols[0];
    let mut zs = Vec::new();
    let mut ts = Vec::new();
    for (j, &pen) in pens.iter().enumerate() {
        for (ss, style, tag) in [
            (s0, Style::Line, format!("m={}, d={}", p0.m, p0.d)),
            (osols, Style::Points, format!("m={}, d={}", op.m, op.d)),
        ] {
            zs.push(Series {
                label: format!("{} ({tag})", pen.name()),
                style,
                x: rhos.clone(),
                y: ss[j].iter().map(|s| s.zeros() as f64).collect(),
            });
            ts.push(Series {
                label: format!("{} ({tag})", pen.name()),
                style,
                x: rhos.clone(),
                y: ss[j].iter().map(|s| s.ties() as f64).collect(),
            });
        }
    }
    zs.push(Series {
        label: format!("d − m = {}", p0.d - p0.m),
        style: Style::Predicted,
        x: rhos.clone(),
        y: vec![(p0.d - p0.m) as f64; rhos.len()],
    });
    ts.push(Series {
        label: format!("d − m + 1 = {}", p0.d - p0.m + 1),
        style: Style::Predicted,
        x: rhos.clone(),
        y: vec![(p0.d - p0.m + 1) as f64; rhos.len()],
    });
    ev.figures.push(Figure {
        id: "zeros-vs-lambda".into(),
        title: "Exact zeros of the penalised least-squares minimiser".into(),
        x_label: "ρ = λ/λ_max".into(),
        y_label: "number of exact zeros".into(),
        log_x: true,
        log_y: false,
        series: zs,
        caption: "ℓ¹ gives exact zeros — at least d − m of them at every λ when m < d, and more as λ grows; ℓ∞ and ℓ² give none.".into(),
    });
    ev.figures.push(Figure {
        id: "ties-vs-lambda".into(),
        title: "Coordinates at the maximum magnitude".into(),
        x_label: "ρ = λ/λ_max".into(),
        y_label: "number of i with |θ_i| = max_j |θ_j|".into(),
        log_x: true,
        log_y: false,
        series: ts,
        caption: "ℓ∞ puts many coordinates at one common magnitude — at least d − m + 1 when m < d, all d as λ → λ_max; ℓ¹ and ℓ² have a single largest coordinate.".into(),
    });
    let mid = rhos.len() / 2;
    let mut prof = Vec::new();
    for (j, &pen) in pens.iter().enumerate() {
        let th = &s0[j][mid].theta;
        let mx = th.amax();
        let mut mags: Vec<f64> = th.iter().map(|v| v.abs() / mx).collect();
        mags.sort_by(|a, b| b.total_cmp(a));
        prof.push(Series {
            label: pen.name().into(),
            style: Style::Line,
            x: (1..=mags.len()).map(|i| i as f64).collect(),
            y: mags,
        });
    }
    ev.figures.push(Figure {
        id: "profiles".into(),
        title: format!("Sorted magnitudes |θ_i|/max|θ| at ρ = {} (m={}, d={})", rhos[mid], p0.m, p0.d),
        x_label: "rank".into(),
        y_label: "|θ_i| / max_j |θ_j|".into(),
        log_x: false,
        log_y: false,
        series: prof,
        caption: "ℓ∞: a plateau at 1 (equal values); ℓ¹: a tail of exact zeros (sparsity); ℓ²: a smooth decay with neither.".into(),
    });
    Ok(ev)
}
