//! Every analytic gradient of `optverify::problems` against central finite differences, plus
//! structural checks of the quadratic (spectrum, orthogonality) and of mini-batch sampling.
//!
//! # The tolerance
//! `finite_difference_gradient` uses $h_i = u^{1/3}\max(1,|x_i|)$ and divides
//! $\hat f(x+h e_i) - \hat f(x - h e_i)$ by the step actually taken. If every computed value
//! satisfies $|\hat f - f| \le E$ near $x$, $|\partial_i^3 f| \le M_i$ on $[x_i-h, x_i+h]$, and
//! the analytic gradient's own rounding error is at most $G$, then
//! $$|\hat g_i - \mathrm{FD}_i| \le \underbrace{E/h_i}_{\text{rounding of } f} +
//!   \underbrace{h_i^2 M_i/6}_{\text{truncation}} + G + 4u|\mathrm{FD}_i|,$$
//! the last term for the rounding of the difference and of the division. $E$ and $G$ are
//! running-error bounds (Higham, *Accuracy and Stability*, §3.1: a length-$k$ sum or dot
//! product errs by at most $\gamma_k$ times the sum of absolute values of its terms), written
//! per problem below from the absolute values $|\theta_j| + h_j$ of the parameters (so they
//! hold at both FD points). Every tolerance in this file is this bound, nothing more: a wrong
//! factor, a missing term or a transposed block moves the gradient by far more.
//!
//! Non-smooth points: the MLP is piecewise polynomial in θ; along one coordinate with the
//! ReLU pattern fixed it is a quadratic (each $z_{kj}$ is affine in each single parameter and
//! the loss is quadratic in the output), so $M_i = 0$, provided no pre-activation crosses 0
//! between the two FD points. Changing one parameter by $h$ moves a pre-activation by at most
//! $h\max(1,\|X\|_\infty)$; cases with $\min|z_{kj}|$ below twice that are rejected with
//! `prop_assume!` (rare: the pre-activations are continuous random variables). The Lessard
//! function is $C^1$ with $f''\in[1, 25]$ piecewise; where the FD points straddle a breakpoint
//! the truncation error is at most $\frac1{2h}\int_{-h}^{h}12|s|\,ds = 6h$ (write
//! $f'' = 13 + e$, $|e|\le 12$; the constant part cancels by symmetry), used instead of $M_i$.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use optverify::prec::{gamma, UNIT_ROUNDOFF as U};
use optverify::problems::stochastic::batch_gradient_into;
use optverify::problems::*;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The FD step of coordinate value `v` (as in `finite_difference_gradient`).
fn step(v: f64) -> f64 {
    U.cbrt() * v.abs().max(1.0)
}

/// |θ_j| + h_j: bounds |θ_j| at both FD points of every coordinate.
fn abs_plus_step(x: &DVector<f64>) -> DVector<f64> {
    x.map(|v| v.abs() + step(v))
}

fn gaussian_vector(n: usize, seed: u64) -> DVector<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    DVector::from_fn(n, |_, _| StandardNormal.sample(&mut rng))
}

/// Error bounds of one problem at one point (see the module doc).
struct Bounds {
    /// E: bound on |f̂ − f| at the FD points.
    f_err: f64,
    /// G: bound on the rounding error of each analytic gradient entry.
    g_err: f64,
    /// M_i: bound on |∂³f/∂x_i³| between the FD points.
    m3: Vec<f64>,
    /// Extra truncation bound per coordinate (non-smooth points), 0 elsewhere.
    extra: Vec<f64>,
}

impl Bounds {
    fn smooth(f_err: f64, g_err: f64, m3: Vec<f64>) -> Self {
        let n = m3.len();
        Bounds {
            f_err,
            g_err,
            m3,
            extra: vec![0.0; n],
        }
    }
}

fn check_gradient<P: Objective + ?Sized>(
    what: &str,
    p: &P,
    x: &DVector<f64>,
    b: &Bounds,
) -> Result<(), TestCaseError> {
    let fd = finite_difference_gradient(p, x);
    let g = p.gradient(x);
    prop_assert_eq!(g.len(), p.dim());
    for i in 0..x.len() {
        let h = step(x[i]);
        let tol = b.f_err / h + h * h * b.m3[i] / 6.0 + b.extra[i] + b.g_err + 4.0 * U * fd[i].abs();
        prop_assert!(
            (g[i] - fd[i]).abs() <= tol,
            "{what}: coordinate {i}: analytic {} vs FD {} (|diff| {:e} > tol {:e})",
            g[i],
            fd[i],
            (g[i] - fd[i]).abs(),
            tol
        );
    }
    Ok(())
}

/// One example f_i of a finite sum as an objective, so it can be finite-differenced.
struct Example<'a, P: FiniteSum>(&'a P, usize);

impl<P: FiniteSum> Objective for Example<'_, P> {
    fn name(&self) -> String {
        format!("{}[{}]", self.0.name(), self.1)
    }
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        self.0.example_value(self.1, x)
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        self.0.example_gradient_into(self.1, x, g)
    }
}

// ---------- per-problem bounds ----------

fn quadratic_bounds(q: &Quadratic, x: &DVector<f64>) -> Bounds {
    let n = x.len();
    let e = (x - q.theta_star()).abs() + x.map(step);
    let l = q.eigenvalues().max();
    let (e1, e2) = (e.sum(), e.norm());
    if q.is_diagonal() {
        // Terms λe² (≤ 4 roundings each) summed: γ_{n+4}·Σ; gradient λ(x−θ*): 2 roundings.
        let f_abs = 0.5
            * q.eigenvalues()
                .iter()
                .zip(e.iter())
                .map(|(l, e)| l * e * e)
                .sum::<f64>();
        Bounds::smooth(gamma(n + 4) * f_abs, gamma(2) * l * e.amax(), vec![0.0; n])
    } else {
        // c = Q̂ᵀe errs by δ ≤ γ_{n+1}‖e‖₁ per entry (|Q_ij| ≤ 1); ½Σλ_j((c_j+δ)² − c_j²) ≤
        // Lδ√n‖c‖ (+δ² terms: factor 1.01), ‖c‖ ≤ ‖e‖(1+γ); plus the sum's γ_{n+3}·½L‖e‖².
        let f_err = 1.01 * gamma(n + 1) * l * (n as f64).sqrt() * e2 * e1 + gamma(n + 3) * 0.5 * l * e2 * e2;
        // The stored A differs from Q̂ΛQ̂ᵀ by ≤ γ_{n+3}L per entry (product + symmetrisation), so
        // (δA e)_i ≤ γ_{n+3}L‖e‖₁; the product A e adds γ_n‖A_i‖‖e‖ ≤ γ_n L‖e‖₂.
        let g_err = 1.01 * gamma(n + 4) * l * (e1 + e2);
        Bounds::smooth(f_err, g_err, vec![0.0; n])
    }
}

/// ρ_k = Σ_j |x_kj| |θ_j| + |y_k| bounds every partial sum of the residual r_k.
fn least_squares_bounds(p: &LeastSquares, theta: &DVector<f64>, rows: &[usize]) -> Bounds {
    let (x, y) = (p.design(), p.targets());
    let (m, d) = (rows.len() as f64, x.ncols());
    let ta = abs_plus_step(theta);
    let rho: Vec<f64> = rows
        .iter()
        .map(|&k| x.row(k).abs().transpose().dot(&ta) + y[k].abs())
        .collect();
    let k = d + rows.len() + 5;
    // r_k errs by γ_{d+1}ρ_k and |r_k| ≤ ρ_k, so Σr²/(2m) errs by ≤ γ_k m⁻¹Σρ_k² (1.01 for δ²).
    let f_err = 1.01 * gamma(k) * rho.iter().map(|r| r * r).sum::<f64>() / m;
    // g_j = m⁻¹Σ x_kj r_k errs by ≤ γ_{d+m+2} m⁻¹Σ|x_kj|ρ_k.
    let g_err = (0..d)
        .map(|j| {
            rows.iter()
                .zip(&rho)
                .map(|(&kk, r)| x[(kk, j)].abs() * r)
                .sum::<f64>()
                / m
        })
        .fold(0.0, f64::max)
        * 1.01
        * gamma(k);
    Bounds::smooth(f_err, g_err, vec![0.0; d])
}

/// Third derivative of softplus / log-sum-exp along one logit: |p(1−p)(1−2p)| ≤ 1/(6√3) < 0.1.
const SOFTPLUS_M3: f64 = 0.1;

fn binary_bounds(p: &BinaryLogistic, theta: &DVector<f64>, rows: &[usize]) -> Bounds {
    let x = p.features();
    let (d, n, m) = (x.ncols(), theta.len(), rows.len() as f64);
    let ta = abs_plus_step(theta);
    let bias = if p.has_bias() { ta[d] } else { 0.0 };
    let rho: Vec<f64> = rows
        .iter()
        .map(|&k| x.row(k).abs().transpose().dot(&ta.rows(0, d)) + bias)
        .collect();
    let k = d + rows.len() + n + 8;
    let lam = p.lambda();
    // Per example: z errs by γ_{d+1}ρ; softplus and y·z are 1-Lipschitz in z (2γρ), softplus's
    // own evaluation ≤ 4u(ρ+1), the sum over examples γ_m(2ρ+1): in all ≤ γ_k(5ρ+2).
    let f_err =
        1.01 * gamma(k) * (rho.iter().map(|r| 5.0 * r + 2.0).sum::<f64>() / m + lam * ta.norm_squared());
    let xmax = x.amax().max(if p.has_bias() { 1.0 } else { 0.0 });
    // σ is ¼-Lipschitz: residual errs by γ(ρ/4 + 1); times |x| and summed (+γ_m|x|).
    let g_err =
        1.01 * gamma(k) * (xmax * rho.iter().map(|r| r / 4.0 + 2.0).sum::<f64>() / m + lam * ta.amax());
    let m3 = (0..n)
        .map(|j| {
            let c = if j < d {
                rows.iter().map(|&kk| x[(kk, j)].abs()).fold(0.0, f64::max)
            } else {
                1.0
            };
            SOFTPLUS_M3 * c.powi(3)
        })
        .collect();
    Bounds::smooth(f_err, g_err, m3)
}

fn multinomial_bounds(p: &Multinomial, theta: &DVector<f64>, rows: &[usize]) -> Bounds {
    let x = p.features();
    let (d, c, n, m) = (x.ncols(), p.classes(), theta.len(), rows.len() as f64);
    let ta = abs_plus_step(theta);
    let rho: Vec<f64> = rows
        .iter()
        .map(|&k| {
            (0..c)
                .map(|cls| {
                    let w: f64 = (0..d).map(|j| ta[cls * d + j] * x[(k, j)].abs()).sum();
                    w + if p.has_bias() { ta[c * d + cls] } else { 0.0 }
                })
                .fold(0.0, f64::max)
        })
        .collect();
    let k = d + rows.len() + n + c + 8;
    let lam = p.lambda();
    // lse is 1-Lipschitz in max-norm: lse − z_y errs by 2γρ from the logits; lse's evaluation
    // ≤ γ_{C+4}(ρ + ln C + 1); the sum over examples γ_m(2ρ + ln C): ≤ γ_k(5ρ + ln C + 2).
    let lnc = (c as f64).ln();
    let f_err = 1.01
        * gamma(k)
        * (rho.iter().map(|r| 5.0 * r + lnc + 2.0).sum::<f64>() / m + lam * ta.norm_squared());
    let xmax = x.amax().max(if p.has_bias() { 1.0 } else { 0.0 });
    // p = exp(z − lse) errs by p·(|δz| + |δlse|) ≤ 2γρ + 4u; then as in the binary case.
    let g_err =
        1.01 * gamma(k) * (xmax * rho.iter().map(|r| 2.0 * r + 2.0).sum::<f64>() / m + lam * ta.amax());
    let m3 = (0..n)
        .map(|i| {
            let col = if i < c * d {
                rows.iter().map(|&kk| x[(kk, i % d)].abs()).fold(0.0, f64::max)
            } else {
                1.0
            };
            SOFTPLUS_M3 * col.powi(3)
        })
        .collect();
    Bounds::smooth(f_err, g_err, m3)
}

/// Bounds for the MLP, or `None` if some pre-activation is within the FD reach of the kink.
fn mlp_bounds(p: &Mlp, theta: &DVector<f64>, rows: &[usize]) -> Option<Bounds> {
    let (x, y) = (p.inputs_matrix(), p.targets());
    let (d, h, o, n, m) = (
        p.inputs(),
        p.hidden(),
        p.outputs(),
        theta.len(),
        rows.len() as f64,
    );
    let (w1, b1, w2, b2) = p.unpack(&abs_plus_step(theta));
    let x_inf = x.amax().max(1.0);
    let h_max = theta.iter().map(|&v| step(v)).fold(0.0, f64::max);
    let mut sum_f = 0.0;
    let mut sum_g = 0.0;
    let mut rho1_max: f64 = 0.0;
    for &k in rows {
        let xk = x.row(k).abs().transpose();
        let rho1 = &w1 * &xk + &b1;
        rho1_max = rho1_max.max(rho1.amax());
        let rho = &w2 * &rho1 + &b2 + y.row(k).abs().transpose();
        sum_f += rho.norm_squared();
        let r_k = rho.amax();
        sum_g += r_k * (rho1.amax().max(1.0) + o as f64 * w2.amax() * x_inf);
    }
    // Kink margin: one parameter moves z by ≤ h·max(1, |x|∞); twice that, plus z's rounding.
    let margin = 2.0 * h_max * x_inf + gamma(d + 1) * rho1_max;
    if p.min_abs_preactivation(theta) <= margin {
        return None;
    }
    let k = d + h + rows.len() * o + n + 8;
    let lam = p.lambda();
    let ta = abs_plus_step(theta);
    // Output H errs by γ_{d+h+2}ρ_kc (ρ propagated through |W₂|, |W₁|, |x|), |r_kc| ≤ ρ_kc.
    let f_err = 1.01 * gamma(k) * (sum_f / m + lam * ta.norm_squared());
    // ∇W₂ = m⁻¹Σ r aᵀ: 3 error sources ≤ γρ·ρ₁; ∇W₁ = m⁻¹Σ δxᵀ, δ = W₂ᵀr: ≤ 2γ·o·ρ·|W₂|·|x|.
    let g_err = 3.03 * gamma(k) * (sum_g / m + lam * ta.amax());
    let _ = h;
    Some(Bounds::smooth(f_err, g_err, vec![0.0; n]))
}

fn check_finite_sum<P: FiniteSum>(
    what: &str,
    p: &P,
    theta: &DVector<f64>,
    bounds: impl Fn(&[usize]) -> Option<Bounds>,
) -> Result<(), TestCaseError> {
    let all: Vec<usize> = (0..p.num_examples()).collect();
    let b = bounds(&all);
    prop_assume!(b.is_some());
    check_gradient(what, p, theta, &b.unwrap())?;
    for i in 0..p.num_examples() {
        let b = bounds(&[i]).expect("the full-data margin covers every example");
        check_gradient(&format!("{what} example {i}"), &Example(p, i), theta, &b)?;
    }
    Ok(())
}

// ---------- strategies (structure generated, data from a seed) ----------

fn spectrum() -> impl Strategy<Value = Spectrum> {
    prop_oneof![
        Just(Spectrum::TwoPoint),
        Just(Spectrum::Uniform),
        Just(Spectrum::LogUniform)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_quadratic_gradient(
        n in 2usize..=12, log_kappa in 0.0f64..4.0, spectrum in spectrum(),
        rotated in any::<bool>(), scale in 0.01f64..10.0, seed in any::<u64>()
    ) {
        let (mu, l) = (1.0, 10f64.powf(log_kappa));
        let q = if rotated {
            Quadratic::random(n, mu, l, spectrum, seed)
        } else {
            Quadratic::random_diagonal(n, mu, l, spectrum, seed)
        }.unwrap();
        let x = q.theta_star() + gaussian_vector(n, seed ^ 0x5eed) * scale;
        check_gradient("quadratic", &q, &x, &quadratic_bounds(&q, &x))?;
    }

    #[test]
    fn prop_quadratic_spectrum_is_prescribed(
        n in 2usize..=16, log_kappa in 0.0f64..6.0, spectrum in spectrum(), seed in any::<u64>()
    ) {
        let l = 10f64.powf(log_kappa);
        let q = Quadratic::random(n, 1.0, l, spectrum, seed).unwrap();
        // Q orthogonal: Householder QR gives ‖Q̂ᵀQ̂ − I‖_F ≤ 2√n·γ̃_{n²} (Higham, Thm 19.4, with
        // γ̃_k = c·k·u for a small constant c; we take c = 8).
        let qm = q.eigenvectors().unwrap();
        let defect = (qm.tr_mul(qm) - DMatrix::identity(n, n)).norm();
        let orth_tol = 2.0 * (n as f64).sqrt() * gamma(8 * n * n);
        prop_assert!(defect <= orth_tol, "‖QᵀQ − I‖_F = {defect:e} > {orth_tol:e}");
        // Spectrum: the stored A is Q̂ΛQ̂ᵀ + δA with |δA_ij| ≤ γ_{n+3}L, and Q̂ΛQ̂ᵀ is similar
        // to Λ up to the orthogonality defect (‖Q̂ΛQ̂ᵀ − QΛQᵀ‖ ≤ 2L‖Q̂ − Q‖ ≤ L·orth_tol). The
        // eigensolver is backward stable (≤ γ_{8n}‖A‖_F). Weyl: each eigenvalue moves by at most
        // the sum of these.
        let eig = SymmetricEigen::new(q.hessian());
        let mut computed: Vec<f64> = eig.eigenvalues.iter().copied().collect();
        computed.sort_by(f64::total_cmp);
        let nf = n as f64;
        let tol = l * (nf * gamma(n + 3) + orth_tol + gamma(8 * n) * nf.sqrt());
        for (c, e) in computed.iter().zip(q.eigenvalues().iter()) {
            prop_assert!((c - e).abs() <= tol, "eigenvalue {c} vs prescribed {e} (tol {tol:e})");
        }
        prop_assert_eq!(q.eigenvalues()[0], 1.0);
        prop_assert_eq!(q.eigenvalues()[n - 1], l);
        // The extreme eigenvectors are eigenvectors of the stored A (residual ≤ the same tol).
        for i in [0, n - 1] {
            let v = q.eigenvector(i);
            let r = q.hessian() * &v - &v * q.eigenvalues()[i];
            prop_assert!(r.norm() <= tol * 2.0, "residual {:e}", r.norm());
        }
    }

    #[test]
    fn prop_least_squares_gradients(m in 1usize..=10, d in 1usize..=5, scale in 0.1f64..5.0, seed in any::<u64>()) {
        let p = LeastSquares::random(m, d, 0.5, seed).unwrap();
        let theta = gaussian_vector(d, seed ^ 1) * scale;
        check_finite_sum("least_squares", &p, &theta, |rows| Some(least_squares_bounds(&p, &theta, rows)))?;
    }

    #[test]
    fn prop_binary_logistic_gradients(
        m in 1usize..=8, d in 1usize..=4, bias in any::<bool>(), lambda in prop_oneof![Just(0.0), 0.001f64..1.0],
        scale in 0.1f64..5.0, seed in any::<u64>()
    ) {
        let p = BinaryLogistic::random(m, d, bias, lambda, seed).unwrap();
        let theta = gaussian_vector(p.dim(), seed ^ 2) * scale;
        check_finite_sum("logistic", &p, &theta, |rows| Some(binary_bounds(&p, &theta, rows)))?;
    }

    #[test]
    fn prop_multinomial_gradients(
        m in 1usize..=6, d in 1usize..=4, classes in 2usize..=4, bias in any::<bool>(),
        lambda in prop_oneof![Just(0.0), 0.001f64..1.0], scale in 0.1f64..5.0, seed in any::<u64>()
    ) {
        let p = Multinomial::random(m, d, classes, bias, lambda, seed).unwrap();
        let theta = gaussian_vector(p.dim(), seed ^ 3) * scale;
        check_finite_sum("multinomial", &p, &theta, |rows| Some(multinomial_bounds(&p, &theta, rows)))?;
    }

    #[test]
    fn prop_mlp_gradients(
        m in 1usize..=4, d in 1usize..=3, hidden in 1usize..=4, outputs in 1usize..=3, bias in any::<bool>(),
        lambda in prop_oneof![Just(0.0), 0.001f64..1.0], scale in 0.5f64..3.0, seed in any::<u64>()
    ) {
        let teacher = Mlp::random_teacher(m, d, hidden, outputs, bias, seed).unwrap();
        let p = Mlp::new(teacher.inputs_matrix().clone(), teacher.targets().clone(), hidden, bias, lambda).unwrap();
        let theta = p.init(seed ^ 4) * scale;
        check_finite_sum("mlp", &p, &theta, |rows| mlp_bounds(&p, &theta, rows))?;
    }

    #[test]
    fn prop_rosenbrock_gradient(n in 2usize..=6, seed in any::<u64>()) {
        use rand::RngExt;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = DVector::from_fn(n, |_, _| rng.random_range(-2.0..2.0));
        let xa = abs_plus_step(&x);
        let b = 100.0;
        let rho = |i: usize| xa[i + 1] + xa[i] * xa[i];
        // u_i = x_{i+1} − x_i² errs by γ_2ρ_i; b·u² errs by ≤ 3γ bρ²; (1 − x_i)² by γ(1+|x_i|)².
        let f_err = 1.01 * gamma(n + 8) * (0..n - 1).map(|i| 3.0 * b * rho(i).powi(2) + (1.0 + xa[i]).powi(2)).sum::<f64>();
        let g_err = 2.02 * gamma(8) * (0..n).map(|i| {
            let own = if i + 1 < n { 4.0 * b * xa[i] * rho(i) + 2.0 * (1.0 + xa[i]) } else { 0.0 };
            let prev = if i > 0 { 2.0 * b * rho(i - 1) } else { 0.0 };
            own + prev
        }).fold(0.0, f64::max);
        // ∂³/∂x_i³ of b(x_{i+1} − x_i²)² is 24b·x_i; the other terms are quadratic in x_i.
        let m3 = (0..n).map(|i| if i + 1 < n { 24.0 * b * xa[i] } else { 0.0 }).collect();
        let f = Rosenbrock::new(n).unwrap();
        check_gradient("rosenbrock", &f, &x, &Bounds::smooth(f_err, g_err, m3))?;
    }

    #[test]
    fn prop_lessard_gradient(
        xs in prop::collection::vec(prop_oneof![-3.0f64..4.0, (1.0 - 1e-5)..(1.0 + 1e-5), (2.0 - 1e-5)..(2.0 + 1e-5)], 1..=4)
    ) {
        let n = xs.len();
        let x = DVector::from_vec(xs);
        let xa = abs_plus_step(&x);
        let f_err = 1.01 * gamma(n + 5) * xa.iter().map(|v| 12.5 * v * v + 24.0 * v + 36.0).sum::<f64>();
        let g_err = gamma(2) * (25.0 * xa.amax() + 24.0);
        let extra = x.iter().map(|&v| {
            let h = step(v);
            if (v - 1.0).abs() <= h || (v - 2.0).abs() <= h { 6.0 * h } else { 0.0 }
        }).collect();
        let b = Bounds { f_err, g_err, m3: vec![0.0; n], extra };
        check_gradient("lessard", &Lessard::new(n).unwrap(), &x, &b)?;
    }

    #[test]
    fn prop_smooth_gradients(
        xs in prop::collection::vec(-6.0f64..6.0, 1..=4), log_a in -1.0f64..1.0, offset in -5.0f64..5.0
    ) {
        let n = xs.len();
        let a = 10f64.powf(log_a);
        let x = DVector::from_vec(xs);
        let xa = abs_plus_step(&x);
        // 1 − cos = 2sin²(t/2) ≤ min(2, t²/2); each term ≤ 6 roundings (sin ≤ 1 ulp).
        let f_abs = a * xa.iter().map(|t| (t * t / 2.0).min(2.0)).sum::<f64>();
        check_gradient("one_minus_cos", &OneMinusCos::new(n, a).unwrap(), &x,
            &Bounds::smooth(gamma(n + 6) * f_abs, gamma(3) * a, vec![a; n]))?;
        // t²/(1+t²) ≤ min(1, t²); |ψ'''| ≤ 5 (max ≈ 4.65, see test_rational_bump_third_derivative).
        let f_abs = a * xa.iter().map(|t| (t * t).min(1.0)).sum::<f64>();
        check_gradient("rational_bump", &RationalBump::new(n, a).unwrap(), &x,
            &Bounds::smooth(gamma(n + 6) * f_abs, gamma(6) * a, vec![5.0 * a; n]))?;
        let diag: Vec<f64> = (0..n).map(|i| a * (i + 1) as f64).collect();
        let f_abs = 0.5 * diag.iter().zip(xa.iter()).map(|(d, t)| d * t * t).sum::<f64>() + offset.abs();
        let g_err = gamma(1) * diag.iter().zip(xa.iter()).map(|(d, t)| d * t).fold(0.0, f64::max);
        check_gradient("shifted_quadratic", &ShiftedQuadratic::new(diag, offset).unwrap(), &x,
            &Bounds::smooth(gamma(n + 4) * f_abs, g_err, vec![0.0; n]))?;
    }

    #[test]
    fn prop_tanh_neuron_gradients(m in 1usize..=8, d in 1usize..=4, scale in 0.1f64..3.0, seed in any::<u64>()) {
        let p = TanhNeuron::random(m, d, seed).unwrap();
        let w = gaussian_vector(d, seed ^ 6) * scale;
        check_finite_sum("tanh_neuron", &p, &w, |rows| {
            let x = p.inputs();
            let wa = abs_plus_step(&w);
            let rho: Vec<f64> = rows.iter().map(|&k| x.row(k).abs().transpose().dot(&wa)).collect();
            let mm = rows.len() as f64;
            let k = d + rows.len() + 8;
            // z errs by γ_{d+1}ρ, tanh is 1-Lipschitz and |tanh − y| ≤ 2: ½(t − y)² errs by
            // ≤ 2γρ + 2γ per example (tanh itself ≤ 1 ulp); s = (t−y)(1−t²) has |ds/dt| =
            // |1 − 3t² + 2ty| ≤ 3, so it errs by ≤ 3γρ + 6γ.
            let f_err = 1.01 * gamma(k) * rho.iter().map(|r| 2.0 * r + 2.0).sum::<f64>() / mm;
            let xmax = rows.iter().map(|&kk| x.row(kk).amax()).fold(0.0, f64::max);
            let g_err = 1.01 * gamma(k) * xmax * rho.iter().map(|r| 3.0 * r + 6.0).sum::<f64>() / mm;
            // ∂³/∂w_j³ = m⁻¹Σ φ'''(z_k) x_kj³ with φ''' = g'(t)(1 − t²), |g'| ≤ 8 on (−1, 1).
            let m3 = (0..d)
                .map(|j| 8.0 * rows.iter().map(|&kk| x[(kk, j)].abs().powi(3)).fold(0.0, f64::max))
                .collect();
            Some(Bounds::smooth(f_err, g_err, m3))
        })?;
    }

    #[test]
    fn prop_mini_batch_unbiased_by_enumeration(m in 2usize..=7, b_frac in 0.0f64..1.0, seed in any::<u64>()) {
        // Regularised logistic: checks that the whole regulariser rides along with each example.
        let b = 1 + ((m - 1) as f64 * b_frac) as usize;
        let p = BinaryLogistic::random(m, 3, true, 0.3, seed).unwrap();
        let theta = gaussian_vector(p.dim(), seed ^ 5);
        let full = p.gradient(&theta);
        let mut subsets: Vec<Vec<usize>> = vec![vec![]];
        for i in 0..m {
            let with: Vec<Vec<usize>> = subsets.iter().filter(|s| s.len() < b).map(|s| [s.clone(), vec![i]].concat()).collect();
            subsets.extend(with);
        }
        subsets.retain(|s| s.len() == b);
        let mut mean = DVector::zeros(p.dim());
        let (mut g, mut scratch) = (DVector::zeros(p.dim()), DVector::zeros(p.dim()));
        for s in &subsets {
            batch_gradient_into(&p, s, &theta, &mut scratch, &mut g);
            mean += &g;
        }
        mean /= subsets.len() as f64;
        // Each batch mean has entries ≤ G = max|x̃|·1 + λ|θ|_∞ in size; averaging ≤ 35 of them,
        // each from ≤ d + b + 8 roundings, errs by ≤ γ_{64}·G per entry (plus the full gradient's
        // own error, the same size).
        let big_g = p.features().amax().max(1.0) + 0.3 * theta.amax();
        prop_assert!((&mean - &full).amax() <= 2.0 * gamma(64) * big_g, "{mean} vs {full}");
    }
}

#[test]
fn test_rational_bump_third_derivative() {
    // |ψ'''(t)| = 24|t||1 − t²|/(1 + t²)⁴ ≤ 5, the bound used above: on a grid of step 2⁻¹²
    // over [−4, 4] (beyond that |ψ'''| ≤ 24/t⁵ < 0.03) the maximum is < 4.7, and ψ'''' is
    // bounded by 48, so between grid points it can exceed the grid maximum by ≤ 48·2⁻¹³.
    let third = |t: f64| 24.0 * t.abs() * (1.0 - t * t).abs() / (1.0 + t * t).powi(4);
    let max = (-16384..=16384)
        .map(|k| third(k as f64 / 4096.0))
        .fold(0.0, f64::max);
    assert!(max + 48.0 / 8192.0 < 5.0, "{max}");
    assert!(max > 4.6, "{max}");
}
