//! Checker of `theorems/preconditioning-line-search.md`: "Preconditioning improves convergence
//! rate of line-search methods".
//!
//! The line-search method is steepest descent with exact line search on f(x) = ½xᵀAx, the
//! preconditioner the slide's (diagonal, as AdaGrad's B) Jacobi scaling P = diag(A); the rate is
//! the worst case over starts of the per-step A-norm contraction, which the Kantorovich
//! inequality gives as (κ̂−1)/(κ̂+1), κ̂ = κ(P^{-1/2}AP^{-1/2}), and which is attained
//! ([`th::worst_start`]).
//!
//! * **Witness** (as printed, read as "the diagonal preconditioner never makes the worst-case
//!   rate worse"): on A₀ = [[2,1,1],[1,3,2],[1,2,3]] — the first counterexample of an exhaustive
//!   search over integer symmetric 3×3 matrices by largest entry, none with entries ≤ 2 and none
//!   at all for n = 2 — the measured worst-case rate of Jacobi-preconditioned steepest descent
//!   exceeds the unpreconditioned one: κ goes from (7+√17)/2 ≈ 5.56 to 6.
//! * **Checks** (the corrected statement, on instances admitted by its hypothesis
//!   `hypothesis`): every step of both methods contracts ‖x‖_A by at most
//!   `rate_scale`·((κ−1)/(κ+1))^`rate_exponent` (Kantorovich) plus an argued rounding slack, on
//!   worst and random starts; the bound is attained from the worst start; Jacobi's measured
//!   worst-case rate is below the unpreconditioned one on every admitted instance; Gershgorin's
//!   bound for the badly scaled diagonally dominant family; van der Sluis' factor n; the
//!   closed forms of A₀; the searches that make A₀ minimal.
//! * **Context**: how often Jacobi worsens κ on random Gram matrices; rates from random starts.

use super::*;
use crate::claims::Counterexample;
use crate::theory::preconditioning as th;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The checker of `preconditioning-line-search`.
pub const CHECKER: Checker = Checker {
    id: "preconditioning-line-search",
    run: check_preconditioning,
};

const ID: &str = "preconditioning-line-search";

/// One run of (preconditioned) exact-line-search steepest descent on ½xᵀAx from x₀.
struct SdRun {
    /// ln ‖x_k‖_A for k = 0..=K (the iterate is rescaled by powers of two, exactly, to stay
    /// far from underflow; the log keeps the true scale).
    log_norms: Vec<f64>,
    /// Per step: (‖x_{k+1}‖_A/‖x_k‖_A, rounding slack on that ratio).
    ratios: Vec<(f64, f64)>,
}

impl SdRun {
    /// Geometric mean of the per-step ratios over all steps: (‖x_K‖_A/‖x_0‖_A)^{1/K}.
    fn mean_rate(&self) -> f64 {
        let k = self.log_norms.len() - 1;
        ((self.log_norms[k] - self.log_norms[0]) / k as f64).exp()
    }
    /// (lower, upper) bounds on the geometric mean of the per-step ratios of the exact steps:
    /// exp(mean_k ln(ratio_k ∓ slack_k)). Each exact ratio lies within its slack of the computed
    /// one and the geometric mean is increasing in every ratio, so these bound it. (Subtracting
    /// the largest slack from the geometric mean of the computed ratios would not: by Minkowski's
    /// inequality G(r − s) ≤ G(r) − s, so G(r) − s is no lower bound.)
    fn rate_bounds(&self) -> (f64, f64) {
        let k = self.ratios.len() as f64;
        let gm = |sign: f64| {
            let sum: f64 = self
                .ratios
                .iter()
                .map(|&(r, s)| (r + sign * s).max(0.0).ln())
                .sum();
            (sum / k).exp()
        };
        (gm(-1.0), gm(1.0))
    }
    /// Geometric mean over the second half of the steps (the asymptotic regime).
    fn tail_rate(&self) -> f64 {
        let k = self.log_norms.len() - 1;
        let h = k / 2;
        ((self.log_norms[k] - self.log_norms[h]) / (k - h) as f64).exp()
    }
}

/// Steepest descent with exact line search, preconditioned by P = diag(1/`pinv`), `steps`
/// steps. The method is homogeneous (x* = 0, α invariant to scaling x), so whenever ‖x‖_A falls
/// below 2⁻²⁰⁰ the iterate is multiplied by a power of two — exactly, no rounding — and the
/// run continues without ever reaching subnormal numbers (xᵀAx would underflow near 10⁻¹⁵⁴).
///
/// Rounding slack of each step's ratio (argued once here): let x⁺ be the *exact* step from the
/// computed x_k. Kantorovich bounds ‖x⁺‖_A ≤ q‖x_k‖_A, and ‖x_{k+1}‖_A ≤ ‖x⁺‖_A + ‖δ‖_A with
/// δ = x_{k+1} − x⁺ (triangle inequality in the A-norm). Componentwise (Higham's bounds for
/// dot products and one axpy): g = Ax carries γ_n|A||x|, p = P⁻¹g one more rounding, the
/// update 2u(|x| + α|p|); the step length's relative error θ ≤ γ_{n+2}(|g|ᵀ|p|/gᵀp +
/// |p|ᵀ|A||p|/pᵀAp) moves x⁺ by θα|p|. So |δ| ≤ b = γ_{n+3}(|x| + α P⁻¹|A||x|) + θα|p| and
/// ‖δ‖_A ≤ √λ_max‖b‖₂. The computed ‖x‖_A = √(xᵀg) has relative error ≤ ½γ_{2n+1}|x|ᵀ|A||x|/xᵀAx
/// at both ends. The slack on the ratio is the sum of the three, relative to ‖x_k‖_A.
fn run_sd(
    a: &DMatrix<f64>,
    abs_a: &DMatrix<f64>,
    pinv: &DVector<f64>,
    lmax: f64,
    x0: &DVector<f64>,
    steps: usize,
) -> SdRun {
    let n = a.nrows();
    let g_n3 = gamma(n + 3);
    let g_n2 = gamma(n + 2);
    let g_2n = gamma(2 * n + 1);
    let mut x = x0.clone();
    let mut g = a * &x;
    let energy_err = |x: &DVector<f64>, g: &DVector<f64>| -> (f64, f64) {
        let e = x.dot(g).max(0.0);
        let abs = x.abs().dot(&(abs_a * x.abs()));
        (
            e.sqrt(),
            if e > 0.0 {
                0.5 * g_2n * abs / e
            } else {
                f64::INFINITY
            },
        )
    };
    let (mut norm, mut err) = energy_err(&x, &g);
    let mut log_offset = 0.0f64;
    let mut run = SdRun {
        log_norms: vec![norm.ln()],
        ratios: Vec::with_capacity(steps),
    };
    for _ in 0..steps {
        if !norm.is_finite() || norm <= 0.0 {
            break;
        }
        if norm < 2f64.powi(-200) {
            let e = -norm.log2().round() as i32;
            let s = 2f64.powi(e);
            x *= s;
            g = a * &x;
            let (n2, e2) = energy_err(&x, &g);
            norm = n2;
            err = e2;
            log_offset -= e as f64 * std::f64::consts::LN_2;
        }
        let p = g.component_mul(pinv);
        let ap = a * &p;
        let gp = g.dot(&p);
        let pap = p.dot(&ap);
        let alpha = gp / pap;
        let abs_ax = abs_a * x.abs();
        let abs_p = p.abs();
        let theta = g_n2 * (g.abs().dot(&abs_p) / gp.abs() + abs_p.dot(&(abs_a * &abs_p)) / pap);
        let b = (x.abs() + abs_ax.component_mul(pinv) * alpha) * g_n3 + &abs_p * (theta * alpha);
        let delta_a = lmax.sqrt() * b.norm();
        x -= &p * alpha;
        g = a * &x;
        let (next, next_err) = energy_err(&x, &g);
        let slack = delta_a / norm + err + next_err;
        run.ratios.push((next / norm, slack));
        run.log_norms.push(next.ln() + log_offset);
        norm = next;
        err = next_err;
    }
    run
}

/// An instance: A, its Jacobi scaling, their spectra and worst starts.
struct Inst {
    label: String,
    family: Family,
    a: DMatrix<f64>,
    abs_a: DMatrix<f64>,
    kappa: f64,
    kappa_j: f64,
    /// Relative uncertainty of the computed κ_J, and the uncertainty of the computed
    /// (κ−1)/(κ+1) and (κ_J−1)/(κ_J+1), from eigenvalue errors.
    kappa_j_rel: f64,
    q_err: f64,
    q_j_err: f64,
    lmax: f64,
    /// P⁻¹ of the two methods: ones, 1/diag(A).
    ones: DVector<f64>,
    dinv: DVector<f64>,
    /// Worst starts of SD on A and of Jacobi-SD (x = D^{-1/2}y, y the worst start of Â).
    worst: DVector<f64>,
    worst_j: DVector<f64>,
    /// Rounding uncertainty of the worst start (eigenvector angle): its effect on the first
    /// ratio is second order, 2κ·angle².
    eta: f64,
    eta_j: f64,
    /// Gershgorin bound (1+r)/(1−r) of the unit-diagonal factor, for the diagonally dominant family.
    gershgorin: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    /// S B S, B unit-diagonal strictly diagonally dominant.
    BadlyScaled,
    /// A₀ of the integer search.
    Counterexample,
    /// M Mᵀ + I/100, M Gaussian.
    Gram,
}

/// Relative uncertainty of a computed κ: a backward-stable symmetric eigensolver moves each
/// eigenvalue by ≤ 8n·u·‖|A|‖_F, plus 3u‖|A|‖_F for the rounding of a scaled matrix:
/// dκ/κ ≤ dλ/λ_max + dλ/λ_min.
fn kappa_uncertainty(vals: &DVector<f64>, abs_fro: f64) -> f64 {
    let n = vals.len();
    let dl = (8 * n + 3) as f64 * UNIT_ROUNDOFF * abs_fro;
    dl / vals[n - 1] + dl / vals[0]
}

/// The uncertainty of q = (κ−1)/(κ+1) from [`kappa_uncertainty`]: dq = 2dκ/(κ+1)².
fn q_uncertainty(vals: &DVector<f64>, abs_fro: f64) -> f64 {
    let kappa = vals[vals.len() - 1] / vals[0];
    2.0 * kappa * kappa_uncertainty(vals, abs_fro) / (kappa + 1.0).powi(2)
}

/// Second-order effect of the worst start's eigenvector error on the contraction ratio:
/// angle ≤ (8n+3)u‖|A|‖_F/gap (Davis–Kahan with the solver's residual), effect ≤ 2κ·angle².
fn start_uncertainty(vals: &DVector<f64>, abs_fro: f64) -> f64 {
    let n = vals.len();
    let gap = (vals[1] - vals[0])
        .min(vals[n - 1] - vals[n - 2])
        .max(f64::MIN_POSITIVE);
    let angle = ((8 * n + 3) as f64 * UNIT_ROUNDOFF * abs_fro / gap).min(1.0);
    2.0 * (vals[n - 1] / vals[0]) * angle * angle
}

fn make_inst(label: String, family: Family, a: DMatrix<f64>, gershgorin: Option<f64>) -> Inst {
    let n = a.nrows();
    let abs_a = a.abs();
    let (worst, vals) = th::worst_start(&a);
    let aj = th::jacobi_scaled(&a);
    let (y, vals_j) = th::worst_start(&aj);
    let dinv = DVector::from_fn(n, |i, _| 1.0 / a[(i, i)]);
    let worst_j = DVector::from_fn(n, |i, _| y[i] / a[(i, i)].sqrt());
    let fro = abs_a.norm();
    let fro_j = aj.abs().norm();
    Inst {
        label,
        family,
        kappa: vals[n - 1] / vals[0],
        kappa_j: vals_j[n - 1] / vals_j[0],
        kappa_j_rel: kappa_uncertainty(&vals_j, fro_j),
        q_err: q_uncertainty(&vals, fro),
        q_j_err: q_uncertainty(&vals_j, fro_j),
        lmax: vals[n - 1],
        eta: start_uncertainty(&vals, fro),
        eta_j: start_uncertainty(&vals_j, fro_j),
        ones: DVector::from_element(n, 1.0),
        dinv,
        worst,
        worst_j,
        abs_a,
        a,
        gershgorin,
    }
}

/// S B S with B = I + E (E symmetric, zero diagonal, uniform entries rescaled so that the
/// largest off-diagonal absolute row sum is `r`) and S = diag(10^{decades·(U−½)}).
fn badly_scaled(n: usize, decades: f64, r: f64, rng: &mut ChaCha8Rng) -> (DMatrix<f64>, f64) {
    let mut b = DMatrix::<f64>::identity(n, n);
    for i in 0..n {
        for j in (i + 1)..n {
            let v: f64 = rng.random_range(-1.0..1.0);
            b[(i, j)] = v;
            b[(j, i)] = v;
        }
    }
    let rowmax = (0..n)
        .map(|i| (0..n).filter(|&j| j != i).map(|j| b[(i, j)].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    for i in 0..n {
        for j in 0..n {
            if i != j {
                b[(i, j)] *= r / rowmax;
            }
        }
    }
    let s: Vec<f64> = (0..n)
        .map(|_| 10f64.powf(decades * (rng.random::<f64>() - 0.5)))
        .collect();
    let bound = th::gershgorin_kappa_bound(&b).unwrap_or(f64::INFINITY);
    (th::diagonally_scaled(&b, &s), bound)
}

fn gram(n: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    let m = DMatrix::from_fn(n, n, |_, _| rng.random_range(-1.0..1.0));
    &m * m.transpose() + DMatrix::identity(n, n) * 0.01
}

/// κ(A), κ_J = κ(D^{-1/2}AD^{-1/2}) and whether Jacobi makes κ worse beyond the eigenvalue
/// rounding of both matrices ([`kappa_uncertainty`] of each); `None` if A is not numerically
/// positive definite.
fn jacobi_kappas(a: &DMatrix<f64>) -> Option<(f64, f64, bool)> {
    let n = a.nrows();
    let (vals, _) = th::sorted_eigen(a);
    if vals[0] <= 0.0 {
        return None;
    }
    let aj = th::jacobi_scaled(a);
    let (vals_j, _) = th::sorted_eigen(&aj);
    let k = vals[n - 1] / vals[0];
    let kj = vals_j[n - 1] / vals_j[0];
    let tol = kappa_uncertainty(&vals, a.abs().norm()) + kappa_uncertainty(&vals_j, aj.abs().norm());
    Some((k, kj, kj > k * (1.0 + tol)))
}

/// Exhaustive search over symmetric integer n×n matrices (n = 2 or 3) with diagonal entries in
/// 1..=m (sorted, since a symmetric permutation changes neither κ) and off-diagonal entries in
/// −m..=m, positive definite: the counterexamples to "Jacobi never worsens κ", ordered by
/// largest entry m, then by ratio κ_J/κ (largest first).
fn integer_search(n: usize, max_entry: i32) -> Vec<(i32, DMatrix<f64>, f64, f64)> {
    let mut found = Vec::new();
    for m in 1..=max_entry {
        let mut at_m = Vec::new();
        let diag: Vec<Vec<i32>> = if n == 2 {
            (1..=m).flat_map(|a| (a..=m).map(move |b| vec![a, b])).collect()
        } else {
            (1..=m)
                .flat_map(|a| (a..=m).flat_map(move |b| (b..=m).map(move |c| vec![a, b, c])))
                .collect()
        };
        let offs = n * (n - 1) / 2;
        let span = (2 * m + 1) as usize;
        for d in &diag {
            for code in 0..span.pow(offs as u32) {
                let mut o = Vec::with_capacity(offs);
                let mut c = code;
                for _ in 0..offs {
                    o.push((c % span) as i32 - m);
                    c /= span;
                }
                // Only matrices whose largest entry is exactly m (smaller ones were seen).
                if d.iter().chain(o.iter()).map(|v| v.abs()).max() != Some(m) {
                    continue;
                }
                let mut a = DMatrix::<f64>::zeros(n, n);
                let mut k = 0;
                for i in 0..n {
                    a[(i, i)] = d[i] as f64;
                    for j in (i + 1)..n {
                        a[(i, j)] = o[k] as f64;
                        a[(j, i)] = o[k] as f64;
                        k += 1;
                    }
                }
                if let Some((kap, kj, true)) = jacobi_kappas(&a) {
                    at_m.push((m, a, kap, kj));
                }
            }
        }
        // Largest ratio first; sign variants (D A D, D = diag(±1): same spectra, ratios equal up
        // to rounding) are ordered by their number of negative entries, so the representative
        // is the one with non-negative entries.
        let key = |c: &(i32, DMatrix<f64>, f64, f64)| {
            let negatives = c.1.iter().filter(|v| **v < 0.0).count();
            (-((c.3 / c.2) * 1e9).round() as i64, negatives)
        };
        at_m.sort_by_key(key);
        found.extend(at_m);
    }
    found
}

fn check_preconditioning(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let rate_scale = ctx.stmt_f64("rate_scale")?;
    let rate_exponent = ctx.stmt_f64("rate_exponent")?;
    let hypothesis = ctx.stmt_str("hypothesis")?.to_string();
    let any_spd = match hypothesis.as_str() {
        "kappa-decreases" => false,
        "any-spd" => true,
        found => {
            return Err(bad_statement(
                ID,
                "hypothesis",
                found,
                "\"kappa-decreases\" or \"any-spd\"",
            ))
        }
    };
    let seed = ctx.u64("seed")?;
    let dims = ctx.usizes("dims")?;
    let decades = ctx.f64s("decades")?;
    let r = ctx.f64("offdiag_r")?;
    let per = ctx.usize("instances_per")?;
    let steps = ctx.usize("steps")?;
    let grams = ctx.usize("random_gram")?;
    let gram_dims = ctx.usizes("gram_dims")?;
    let gram_runs = ctx.usize("gram_runs")?;
    let vds_n = ctx.usize("vds_instances")?;
    let search3 = ctx.usize("search3_max_entry")? as i32;
    let search2 = ctx.usize("search2_max_entry")? as i32;
    let mut ev = Evidence::new();
    let stmt_q = |kappa: f64| rate_scale * th::kantorovich_rate(kappa).powf(rate_exponent);

    // ---- Searches: the smallest counterexample; none for n = 2 ------------------------------
    let found3 = integer_search(3, search3);
    let Some((m0, a0, _, _)) = found3.first().cloned() else {
        ev.push(Measurement::new(
            format!("integer 3×3 search (entries ≤ {search3}) finds a matrix Jacobi makes worse"),
            0.0,
            1.0,
            Relation::AtLeast,
        ));
        return Ok(ev);
    };
    // The card's claim: no counterexample with entries smaller than A₀'s largest entry (3).
    // Counted against the card's A₀, not against the search's own first find (whose largest
    // entry m₀ has nothing below it by construction of the search order).
    let expected_a0 = DMatrix::from_row_slice(3, 3, &[2.0, 1.0, 1.0, 1.0, 3.0, 2.0, 1.0, 2.0, 3.0]);
    let a0_largest = expected_a0.amax() as i32;
    let below = found3.iter().filter(|c| c.0 < a0_largest).count();
    let found2 = integer_search(2, search2);
    ev.push(
        Measurement::new(
            format!("2×2 integer SPD matrices (entries ≤ {search2}) that Jacobi makes worse"),
            found2.len() as f64,
            0.0,
            Relation::Exact,
        )
        .with_note("Forsythe & Straus 1955: for n = 2 Jacobi is the best diagonal scaling; beyond κ rounding (8n+3)u‖|A|‖_F/λ"),
    );
    ev.push(
        Measurement::new(
            format!("3×3 integer SPD matrices with entries < {a0_largest} that Jacobi makes worse"),
            below as f64,
            0.0,
            Relation::Exact,
        )
        .with_note(format!(
            "exhaustive; {} counterexample(s) with entries ≤ {search3}, the first (largest κ_J/κ among entries ≤ {m0}) is A₀",
            found3.len()
        )),
    );

    // ---- Instances -------------------------------------------------------------------------
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut insts = Vec::new();
    insts.push(make_inst(
        "A₀ (integer search)".into(),
        Family::Counterexample,
        a0.clone(),
        None,
    ));
    for &n in &dims {
        for &dec in &decades {
            for j in 0..per {
                let (a, g) = badly_scaled(n, dec, r, &mut rng);
                insts.push(make_inst(
                    format!("S B S, n={n}, {dec} decades, #{j}"),
                    Family::BadlyScaled,
                    a,
                    Some(g),
                ));
            }
        }
    }
    // Random Gram matrices: frequency of "Jacobi worsens κ" (context), the first `gram_runs`
    // of each dimension also run as instances.
    let mut gram_points: Vec<(usize, f64, f64)> = Vec::new();
    let mut worse_count: Vec<(usize, usize, usize)> = Vec::new();
    let mut vds_pool: Vec<DMatrix<f64>> = vec![a0.clone()];
    for &n in &gram_dims {
        let mut worse = 0usize;
        for j in 0..grams {
            let a = gram(n, &mut rng);
            let Some((k, kj, is_worse)) = jacobi_kappas(&a) else {
                return Err(CheckError::Other(format!(
                    "{ID}: a random Gram matrix MMᵀ + I/100 (n = {n}) has a non-positive computed eigenvalue"
                )));
            };
            if is_worse {
                worse += 1;
            }
            gram_points.push((n, k, kj));
            if j < gram_runs {
                insts.push(make_inst(
                    format!("Gram n={n} #{j}"),
                    Family::Gram,
                    a.clone(),
                    None,
                ));
            }
            if n <= 4 && vds_pool.len() <= vds_n {
                vds_pool.push(a);
            }
        }
        worse_count.push((n, worse, grams));
    }

    // ---- Runs ------------------------------------------------------------------------------
    struct Runs {
        worst: SdRun,
        worst_j: SdRun,
        rand: SdRun,
        rand_j: SdRun,
    }
    let mut runs = Vec::new();
    for (i, inst) in insts.iter().enumerate() {
        let n = inst.a.nrows();
        let mut srng = ChaCha8Rng::seed_from_u64(seed ^ (0x5eed + i as u64));
        let x_rand = DVector::from_fn(n, |_, _| srng.random_range(-1.0..1.0));
        runs.push(Runs {
            worst: run_sd(&inst.a, &inst.abs_a, &inst.ones, inst.lmax, &inst.worst, steps),
            worst_j: run_sd(&inst.a, &inst.abs_a, &inst.dinv, inst.lmax, &inst.worst_j, steps),
            rand: run_sd(&inst.a, &inst.abs_a, &inst.ones, inst.lmax, &x_rand, steps),
            rand_j: run_sd(&inst.a, &inst.abs_a, &inst.dinv, inst.lmax, &x_rand, steps),
        });
    }

    // ---- Witness: the printed statement on A₀ ------------------------------------------------
    let c = &insts[0];
    let cr = &runs[0];
    // Conservative: the lower bound of Jacobi's rate over the upper bound of A's.
    let qj0 = cr.worst_j.mean_rate();
    let q0 = cr.worst.mean_rate();
    let wit = cr.worst_j.rate_bounds().0 / cr.worst.rate_bounds().1;
    ev.push(
        Measurement::new(
            "as printed on A₀: Jacobi-preconditioned worst-case rate / unpreconditioned worst-case rate (measured, A-norm per step)",
            wit,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "κ(A₀) = {:.6}, κ(D^-½A₀D^-½) = {:.6}; measured rates {:.6} vs {:.6} from each method's worst start, rounding slack removed in Jacobi's favour",
            c.kappa, c.kappa_j, qj0, q0
        ))
        .witness()
        .key(),
    );
    if wit > 1.0 {
        ev.counterexample = Some(Counterexample {
            description: format!(
                "A₀ = [[2,1,1],[1,3,2],[1,2,3]] (f = ½xᵀA₀x): κ(A₀) = (7+√17)/2 ≈ {:.4}; Jacobi scaling D = diag(2,3,3) gives eigenvalues {{1/3, 2/3, 2}}, κ = 6. Exact-line-search steepest descent contracts ‖x‖_A per step by at most {:.4} without preconditioning, but by {:.4} with it from x₀ = D^-½(v₁/λ₁ + v₃/λ₃): slower",
                c.kappa,
                th::kantorovich_rate(c.kappa),
                th::kantorovich_rate(c.kappa_j)
            ),
            values: vec![
                ("kappa_A".into(), c.kappa),
                ("kappa_jacobi".into(), c.kappa_j),
                ("rate_A".into(), q0),
                ("rate_jacobi".into(), qj0),
                ("largest_entry".into(), m0 as f64),
            ],
            found_by: format!(
                "exhaustive search over symmetric positive definite integer 3×3 matrices by largest entry (none with entries ≤ {}), none among 2×2 with entries ≤ {search2}",
                m0 - 1
            ),
        });
        ev.corrected_statement = Some(
            "For f = ½xᵀAx with A SPD, exact-line-search steepest descent preconditioned by an SPD P contracts ‖x − x*‖_A per step by at most \
             (κ′−1)/(κ′+1), κ′ = κ(P^{-1/2}AP^{-1/2}) (Kantorovich; tight: attained from x₀ = P^{-1/2}(v₁/λ₁ + v_n/λ_n)), i.e. f − f* by its square. \
             Preconditioning improves the worst-case rate exactly when κ′ < κ(A) — e.g. Jacobi P = diag(A) on a badly scaled A = SBS with B \
             diagonally dominant (off-diagonal row sums ≤ r < 1 ⇒ κ′ ≤ (1+r)/(1−r) whatever S). Jacobi is within a factor n of the best \
             diagonal scaling (van der Sluis), but can be worse than none for n ≥ 3 (A₀)."
                .into(),
        );
    }

    // ---- Checks of the corrected statement ---------------------------------------------------
    let admitted = |inst: &Inst| any_spd || inst.kappa_j < inst.kappa;
    // (1) Per-step bound, both methods, worst and random starts, every admitted instance.
    let mut worst_bound = (0.0f64, String::new());
    let mut steps_checked = 0usize;
    // (2) Tightness from the worst start.
    let mut tight = (f64::INFINITY, String::new());
    // (3) Improvement: Jacobi's measured worst-case rate below A's.
    let mut improve = (0.0f64, String::new());
    let mut admitted_count = 0usize;
    for (inst, run) in insts.iter().zip(&runs) {
        if !admitted(inst) {
            continue;
        }
        admitted_count += 1;
        let q = stmt_q(inst.kappa);
        let qj = stmt_q(inst.kappa_j);
        for (rr, qq, qerr, name) in [
            (&run.worst, q, inst.q_err, "SD, worst start"),
            (&run.rand, q, inst.q_err, "SD, random start"),
            (&run.worst_j, qj, inst.q_j_err, "Jacobi-SD, worst start"),
            (&run.rand_j, qj, inst.q_j_err, "Jacobi-SD, random start"),
        ] {
            for (k, &(ratio, slack)) in rr.ratios.iter().enumerate() {
                steps_checked += 1;
                let v = (ratio - slack - qerr) / qq;
                if v > worst_bound.0 {
                    worst_bound = (v, format!("{}, {name}, k={k}", inst.label));
                }
            }
        }
        for (rr, qq, qerr, eta, name) in [
            (&run.worst, q, inst.q_err, inst.eta, "SD"),
            (&run.worst_j, qj, inst.q_j_err, inst.eta_j, "Jacobi-SD"),
        ] {
            for (k, &(ratio, slack)) in rr.ratios.iter().enumerate() {
                let v = (ratio + slack + qerr + eta) / qq;
                if v < tight.0 {
                    tight = (v, format!("{}, {name}, k={k}", inst.label));
                }
            }
        }
        let v = (run.worst_j.rate_bounds().0 - inst.q_j_err) / (run.worst.rate_bounds().1 + inst.q_err);
        if v > improve.0 {
            improve = (v, inst.label.clone());
        }
    }
    ev.push(
        Measurement::new(
            "Kantorovich per step: max_k (‖x_{k+1}‖_A/‖x_k‖_A − slack)/bound, both methods, worst and random starts",
            worst_bound.0,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "bound = {rate_scale}·((κ−1)/(κ+1))^{rate_exponent} with κ of A or of D^-½AD^-½; worst {}; {steps_checked} steps on {admitted_count} instances; slack: see run_sd",
            worst_bound.1
        ))
        .key(),
    );
    ev.push(
        Measurement::new(
            "bound attained from the worst start: min_k (ratio + slack)/bound",
            tight.0,
            1.0,
            Relation::AtLeast,
        )
        .with_note(format!(
            "x₀ = v₁/λ₁ + v_n/λ_n (of A, or of D^-½AD^-½ mapped back): every step size is 2/(λ₁+λ_n) and the ratio is (κ−1)/(κ+1); worst {}",
            tight.1
        )),
    );
    ev.push(
        Measurement::new(
            format!("improvement on the instances the hypothesis ({hypothesis}) admits: max measured worst-case rate, Jacobi / none"),
            improve.0,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "worst {}; rates measured from each method's worst start, slack removed in Jacobi's favour",
            improve.1
        ))
        .key(),
    );

    // (4) Gershgorin for the diagonally dominant family: κ_J ≤ (1+r)/(1−r) (plus κ rounding).
    let mut gersh = 0.0f64;
    let mut kappa_gain = f64::INFINITY;
    for inst in insts.iter().filter(|i| i.family == Family::BadlyScaled) {
        if let Some(g) = inst.gershgorin {
            gersh = gersh.max(inst.kappa_j / g / (1.0 + inst.kappa_j_rel));
        }
        kappa_gain = kappa_gain.min(inst.kappa / inst.kappa_j);
    }
    ev.push(
        Measurement::new(
            format!("badly scaled S B S (off-diagonal row sums of B ≤ {r}): max κ_J / ((1+r)/(1−r))"),
            gersh,
            1.0,
            Relation::AtMost,
        )
        .with_note("Gershgorin: D^-½AD^-½ = B has its eigenvalues in [1−r, 1+r]; κ rounding allowed"),
    );
    ev.push(
        Measurement::new(
            "badly scaled S B S: min κ(A)/κ_J (Jacobi improves these)",
            kappa_gain,
            1.0,
            Relation::AtLeast,
        )
        .with_note("the hypothesis κ′ < κ holds on the family the issue names"),
    );

    // (5) van der Sluis: κ_J ≤ n·min_Δ κ(ΔAΔ) ≤ n·κ(any Δ found).
    let mut vds = 0.0f64;
    let mut a0_best = f64::NAN;
    for (i, a) in vds_pool.iter().enumerate() {
        let n = a.nrows() as f64;
        let best = th::best_diagonal_scaling_kappa(a, 12);
        let kj = th::condition_number(&th::jacobi_scaled(a));
        // Both sides are computed condition numbers of SPD matrices M: by [`kappa_uncertainty`]
        // each has relative error ≤ (8n+3)u‖|M|‖_F(1/λ_max + 1/λ_min) ≤ (8n+3)u√n(1 + κ), since
        // ‖|M|‖_F = ‖M‖_F ≤ √n·λ_max. (For the Gram matrices MMᵀ + I/100, κ ≤ 901: ≈ 10⁻¹¹.)
        let rel = |k: f64| (8.0 * n + 3.0) * UNIT_ROUNDOFF * n.sqrt() * (1.0 + k);
        vds = vds.max(kj / (n * best) / (1.0 + rel(kj) + rel(best)));
        if i == 0 {
            a0_best = best;
        }
    }
    ev.push(
        Measurement::new(
            "van der Sluis: max κ_J / (n·best diagonal κ found)",
            vds,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "{} 3×3 instances (A₀ and random Gram); any scaling found bounds the minimum from above; on A₀ the best found κ = {a0_best:.6}",
            vds_pool.len()
        )),
    );
    ev.push(
        Measurement::new(
            "A₀: κ of the best diagonal scaling found / κ(A₀)",
            a0_best / c.kappa,
            1.0,
            Relation::AtMost,
        )
        .with_note("below 1: some diagonal scaling does improve A₀ — just not Jacobi's (κ′ = 6)")
        .context(),
    );

    // (6) Closed forms of A₀: κ(A₀) = (7+√17)/2 (eigenvalues 1, (7±√17)/2), κ_J = 6
    // (eigenvalues 1/3, 2/3, 2). Computed κ agrees to its eigenvalue rounding (≤ 2(8n+3)u·κ‖|A|‖_F/λ_max).
    let a0_exact = (7.0 + 17f64.sqrt()) / 2.0;
    let tol_k = kappa_uncertainty(&th::sorted_eigen(&c.a).0, c.abs_a.norm()) + c.kappa_j_rel;
    let closed = ((c.kappa - a0_exact).abs() / a0_exact).max((c.kappa_j - 6.0).abs() / 6.0);
    ev.push(
        Measurement::new(
            "the search's first counterexample is A₀ = [[2,1,1],[1,3,2],[1,2,3]] (max entry gap)",
            (&a0 - &expected_a0).amax(),
            0.0,
            Relation::Exact,
        )
        .with_note("the card's closed forms and counterexample text are those of this matrix"),
    );
    if a0 == expected_a0 {
        ev.push(
            Measurement::new(
                "A₀ closed forms: max relative gap of κ(A₀) to (7+√17)/2 and of κ_J to 6",
                closed,
                tol_k,
                Relation::AtMost,
            )
            .with_note("eigenvalues {1, (7±√17)/2} and {1/3, 2/3, 2} by hand (antisymmetric vector (0,1,−1) and a 2×2 block)"),
        );
    }

    // ---- Context -------------------------------------------------------------------------
    for &(n, worse, total) in &worse_count {
        ev.push(
            Measurement::new(
                format!("random Gram MMᵀ + I/100, n = {n}: fraction where Jacobi worsens κ"),
                worse as f64 / total.max(1) as f64,
                0.0,
                Relation::AtLeast,
            )
            .with_note(format!("{worse} of {total}, M uniform on [−1, 1]"))
            .context(),
        );
    }
    let mut typical = (0.0f64, 0usize);
    for (inst, run) in insts.iter().zip(&runs) {
        if inst.family == Family::BadlyScaled {
            typical.0 += run.rand.tail_rate() / th::kantorovich_rate(inst.kappa);
            typical.1 += 1;
        }
    }
    ev.push(
        Measurement::new(
            "badly scaled, random start: mean tail rate / worst-case rate (SD without preconditioning)",
            typical.0 / typical.1.max(1) as f64,
            1.0,
            Relation::AtMost,
        )
        .with_note("a random start converges at most as slowly as the worst start (Akaike: it settles in the span of the extreme eigenvectors)")
        .context(),
    );
    ev.instances = (insts.len() + grams * gram_dims.len() + found3.len()) as u64;

    // ---- Figures ---------------------------------------------------------------------------
    let curve = |run: &SdRun| -> (Vec<f64>, Vec<f64>) {
        // Down to 10⁻³⁰ (the figure's range; the runs go on far below).
        let pts: Vec<(f64, f64)> = run
            .log_norms
            .iter()
            .enumerate()
            .map(|(k, l)| (k as f64, (l - run.log_norms[0]).exp()))
            .take_while(|p| p.1 >= 1e-30)
            .collect();
        (
            pts.iter().map(|p| p.0).collect(),
            pts.iter().map(|p| p.1).collect(),
        )
    };
    let line = |q: f64, len: usize| -> (Vec<f64>, Vec<f64>) {
        let ks: Vec<usize> = (0..len).take_while(|&k| q.powi(k as i32) >= 1e-30).collect();
        (
            ks.iter().map(|&k| k as f64).collect(),
            ks.iter().map(|&k| q.powi(k as i32)).collect(),
        )
    };
    let mut fig_runs = |id: &str, title: &str, idx: usize, caption: &str| {
        let inst = &insts[idx];
        let run = &runs[idx];
        let len = run.worst.log_norms.len().min(run.worst_j.log_norms.len());
        let mut series = Vec::new();
        for (label, rr, style) in [
            (
                format!("no preconditioning, worst start (κ = {:.3})", inst.kappa),
                &run.worst,
                Style::Line,
            ),
            (
                format!("Jacobi, worst start (κ′ = {:.3})", inst.kappa_j),
                &run.worst_j,
                Style::Line,
            ),
            (
                "no preconditioning, random start".to_string(),
                &run.rand,
                Style::Points,
            ),
            ("Jacobi, random start".to_string(), &run.rand_j, Style::Points),
        ] {
            let (x, y) = curve(rr);
            series.push(Series { label, style, x, y });
        }
        for (label, q) in [
            ("((κ−1)/(κ+1))^k".to_string(), th::kantorovich_rate(inst.kappa)),
            (
                "((κ′−1)/(κ′+1))^k".to_string(),
                th::kantorovich_rate(inst.kappa_j),
            ),
        ] {
            let (x, y) = line(q, len);
            series.push(Series {
                label,
                style: Style::Predicted,
                x,
                y,
            });
        }
        ev.figures.push(Figure {
            id: id.into(),
            title: title.into(),
            x_label: "step k".into(),
            y_label: "‖x_k − x*‖_A / ‖x_0 − x*‖_A".into(),
            log_x: false,
            log_y: true,
            series,
            caption: caption.into(),
        });
    };
    fig_runs(
        "counterexample",
        "A₀ = [[2,1,1],[1,3,2],[1,2,3]]: Jacobi preconditioning slows exact-line-search steepest descent",
        0,
        "From each method's worst start the error follows its Kantorovich line exactly; Jacobi's line (κ′ = 6) lies above the unpreconditioned one (κ ≈ 5.56).",
    );
    if let Some(idx) = insts
        .iter()
        .enumerate()
        .filter(|(_, i)| i.family == Family::BadlyScaled)
        .max_by(|x, y| x.1.kappa.total_cmp(&y.1.kappa))
        .map(|(i, _)| i)
    {
        let title = format!(
            "Badly scaled diagonally dominant A ({}): Jacobi restores a small κ",
            insts[idx].label
        );
        fig_runs(
            "badly-scaled",
            &title,
            idx,
            "Where diag(A) carries the bad scaling, Jacobi's κ′ ≤ (1+r)/(1−r) and the error falls by orders of magnitude in a few steps, while plain steepest descent crawls at its worst-case rate.",
        );
    }
    let mut scatter = Vec::new();
    let bs: Vec<&Inst> = insts.iter().filter(|i| i.family == Family::BadlyScaled).collect();
    scatter.push(Series {
        label: "badly scaled S B S".into(),
        style: Style::Points,
        x: bs.iter().map(|i| i.kappa).collect(),
        y: bs.iter().map(|i| i.kappa_j).collect(),
    });
    for &n in &gram_dims {
        let pts: Vec<&(usize, f64, f64)> = gram_points.iter().filter(|p| p.0 == n).take(400).collect();
        scatter.push(Series {
            label: format!("random Gram, n = {n}"),
            style: Style::Points,
            x: pts.iter().map(|p| p.1).collect(),
            y: pts.iter().map(|p| p.2).collect(),
        });
    }
    scatter.push(Series {
        label: "A₀".into(),
        style: Style::Points,
        x: vec![c.kappa],
        y: vec![c.kappa_j],
    });
    let all_k = insts
        .iter()
        .map(|i| i.kappa)
        .chain(gram_points.iter().map(|p| p.1))
        .fold(1.0f64, f64::max);
    scatter.push(Series {
        label: "κ′ = κ".into(),
        style: Style::Predicted,
        x: vec![1.0, all_k],
        y: vec![1.0, all_k],
    });
    ev.figures.push(Figure {
        id: "kappa-scatter".into(),
        title: "Condition number before (κ) and after Jacobi scaling (κ′)".into(),
        x_label: "κ(A)".into(),
        y_label: "κ(D^-½ A D^-½)".into(),
        log_x: true,
        log_y: true,
        series: scatter,
        caption: "Below the dashed diagonal Jacobi helps (all badly scaled instances, far below); above it Jacobi makes the rate worse (some random Gram matrices, and A₀).".into(),
    });
    Ok(ev)
}
