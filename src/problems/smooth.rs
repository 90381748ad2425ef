//! # Smooth non-convex test functions with exact L
//!
//! Separable functions $f(x) = a\sum_i \psi(x_i)$ whose Hessian is diagonal, so the smallest
//! Lipschitz constant of $\nabla f$ is exactly $L = a\\,\sup_t|\psi''(t)|$. The AdaGrad-Norm
//! claims need such functions: smooth, bounded below, not convex, with $L$ known exactly.
//!
//! | type | $\psi(t)$ | $\psi''(t)$ | $L$ | $\inf f$ |
//! |---|---|---|---|---|
//! | [`OneMinusCos`] | $1 - \cos t$ | $\cos t$ | $a$ (at $t = 0$) | $0$ at $2\pi\mathbb Z^n$ |
//! | [`RationalBump`] | $\dfrac{t^2}{1+t^2}$ | $\dfrac{2(1-3t^2)}{(1+t^2)^3}$ | $2a$ (at $t = 0$) | $0$ at $0$ |
//! | [`ShiftedQuadratic`] | $\tfrac12 \sum_i a_i t_i^2 + c$ | $a_i$ | $\max a_i$ | $c$ at $0$ |
//!
//! **Why $\sup|\psi''| = 2$ for the rational bump.** Write $s = t^2 \ge 0$ and
//! $h(s) = 2(1-3s)/(1+s)^3$. Then $h'(s) = -12(1-s)/(1+s)^4$: $h$ decreases on $0 \le s \le 1$ from
//! $h(0) = 2$ to $h(1) = -\tfrac12$ and increases towards $0$ for $s > 1$. Hence
//! $\psi'' \in [-\tfrac12, 2]$ and $\sup|\psi''| = 2$, attained at $t = 0$ (checked on a grid
//! in the tests). Neither $1-\cos$ ($\psi''(\pi) = -1$) nor the bump ($\psi''(1) = -\tfrac12$) is
//! convex.
//!
//! ## A tanh neuron ([`TanhNeuron`])
//! $f(w) = \frac1m\sum_k \tfrac12(\tanh(w^\top x_k) - y_k)^2$ with targets $|y_k|\le 1$: smooth,
//! non-convex, $\inf f \ge 0$. With $t = \tanh z$, $\varphi(z) = \tfrac12(t - y)^2$ has
//! $\varphi''(z) = (1-t^2)(1 - 3t^2 + 2ty)$, affine in $y$, so its extremes over $|y|\le1$ are at
//! $y = \pm1$; by the symmetry $(t, y)\mapsto(-t,-y)$ it suffices to take $y = 1$:
//! $g(t) = (1-t)^2(1+t)(1+3t) = 1 + 2t - 4t^2 - 2t^3 + 3t^4$ on $(-1, 1)$. $g' = 2 - 8t - 6t^2 + 12t^3
//! = 2(t-1)(6t^2 + 3t - 1)$ has the roots $t^\star = (\sqrt{33} - 3)/12 \approx 0.2287$ (the
//! maximum, $g(t^\star) = c^\star \approx 1.2325$) and $-(\sqrt{33}+3)/12 \approx -0.7287$ (the
//! minimum, $g \approx -0.957$) in $(-1, 1)$. Hence $|\varphi''| \le c^\star$ and
//! $\nabla^2 f = m^{-1}\sum_k\varphi_k''x_kx_k^\top$ gives
//! $L \le c^\star\lambda_{\max}(X^\top X)/m$ — an upper bound, attained for $m = d = 1$,
//! $x = 1$, $y = \pm 1$ (then it is the exact $L$). [`tanh_curvature_sup`] evaluates $c^\star = g(t^\star)$.
//!
//! ## References
//! 1. R. Ward, X. Wu, L. Bottou, *AdaGrad stepsizes: sharp convergence over nonconvex
//!    landscapes*, JMLR 21 (2020), <https://arxiv.org/abs/1806.01811> (the setting: $L$-smooth,
//!    bounded below).

use super::{check_range, Constants, FiniteSum, Objective, ProblemError};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn check_scale(problem: &'static str, scale: f64, dim: usize) -> Result<(), ProblemError> {
    check_range(
        problem,
        "scale",
        scale,
        scale.is_finite() && scale > 0.0,
        "(0, inf), finite",
    )?;
    check_range(problem, "dim", dim as f64, dim >= 1, "dim >= 1")
}

/// $f(x) = a\sum_i (1 - \cos x_i)$: $L = a$, $\inf f = 0$.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneMinusCos {
    dim: usize,
    scale: f64,
}

impl OneMinusCos {
    /// `scale` = a > 0, `dim` ≥ 1.
    pub fn new(dim: usize, scale: f64) -> Result<Self, ProblemError> {
        check_scale("one_minus_cos", scale, dim)?;
        Ok(OneMinusCos { dim, scale })
    }
}

impl Objective for OneMinusCos {
    fn name(&self) -> String {
        "one_minus_cos".into()
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        // 1 − cos t = 2 sin²(t/2) avoids the cancellation of 1 − cos t near t = 0.
        self.scale * x.iter().map(|&t| 2.0 * (0.5 * t).sin().powi(2)).sum::<f64>()
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        for i in 0..self.dim {
            g[i] = self.scale * x[i].sin();
        }
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: None,
            l: Some(self.scale),
            minimizer: Some(DVector::zeros(self.dim)),
            f_star: Some(0.0),
        }
    }
}

/// $f(x) = a\sum_i x_i^2/(1+x_i^2)$: $L = 2a$, $\inf f = 0$.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RationalBump {
    dim: usize,
    scale: f64,
}

/// $\sup_t |\psi''(t)|$ for $\psi(t) = t^2/(1+t^2)$ (module doc).
pub const RATIONAL_BUMP_L0: f64 = 2.0;

impl RationalBump {
    /// `scale` = a > 0, `dim` ≥ 1.
    pub fn new(dim: usize, scale: f64) -> Result<Self, ProblemError> {
        check_scale("rational_bump", scale, dim)?;
        Ok(RationalBump { dim, scale })
    }
}

impl Objective for RationalBump {
    fn name(&self) -> String {
        "rational_bump".into()
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        self.scale * x.iter().map(|&t| t * t / (1.0 + t * t)).sum::<f64>()
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        for i in 0..self.dim {
            let t = x[i];
            let d = 1.0 + t * t;
            g[i] = self.scale * 2.0 * t / (d * d);
        }
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: None,
            l: Some(RATIONAL_BUMP_L0 * self.scale),
            minimizer: Some(DVector::zeros(self.dim)),
            f_star: Some(0.0),
        }
    }
}

/// $f(x) = \tfrac12\sum_i a_i x_i^2 + c$ with $a_i \ge 0$: a quadratic whose infimum $c$ is not 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftedQuadratic {
    diag: DVector<f64>,
    offset: f64,
}

impl ShiftedQuadratic {
    /// `diag` = (a_i) ≥ 0 (not empty), `offset` = c finite.
    pub fn new(diag: Vec<f64>, offset: f64) -> Result<Self, ProblemError> {
        check_range(
            "shifted_quadratic",
            "dim",
            diag.len() as f64,
            !diag.is_empty(),
            "dim >= 1",
        )?;
        for &a in &diag {
            check_range(
                "shifted_quadratic",
                "a_i",
                a,
                a.is_finite() && a >= 0.0,
                "[0, inf), finite",
            )?;
        }
        check_range(
            "shifted_quadratic",
            "offset",
            offset,
            offset.is_finite(),
            "finite",
        )?;
        Ok(ShiftedQuadratic {
            diag: DVector::from_vec(diag),
            offset,
        })
    }
}

impl Objective for ShiftedQuadratic {
    fn name(&self) -> String {
        "shifted_quadratic".into()
    }
    fn dim(&self) -> usize {
        self.diag.len()
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        0.5 * self
            .diag
            .iter()
            .zip(x.iter())
            .map(|(a, t)| a * t * t)
            .sum::<f64>()
            + self.offset
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        for i in 0..x.len() {
            g[i] = self.diag[i] * x[i];
        }
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: Some(self.diag.min()),
            l: Some(self.diag.max()),
            minimizer: Some(DVector::zeros(self.dim())),
            f_star: Some(self.offset),
        }
    }
}

/// $c^\star = \sup_{|t|<1, |y|\le1} |(1-t^2)(1-3t^2+2ty)| = g(t^\star)$ with
/// $g(t) = 1 + 2t - 4t^2 - 2t^3 + 3t^4$ and $t^\star = (\sqrt{33} - 3)/12$ (module doc).
pub fn tanh_curvature_sup() -> f64 {
    let t = (33f64.sqrt() - 3.0) / 12.0;
    1.0 + 2.0 * t - 4.0 * t * t - 2.0 * t * t * t + 3.0 * t.powi(4)
}

/// $f(w) = m^{-1}\sum_k \tfrac12(\tanh(w^\top x_k) - y_k)^2$ (module doc).
#[derive(Debug, Clone)]
pub struct TanhNeuron {
    x: DMatrix<f64>,
    y: DVector<f64>,
    l_bound: f64,
}

impl TanhNeuron {
    /// Inputs `x` (m × d), targets `y` in [−1, 1].
    ///
    /// # Errors
    /// Shape mismatch, empty data, non-finite inputs, a target outside [−1, 1].
    pub fn new(x: DMatrix<f64>, y: DVector<f64>) -> Result<Self, ProblemError> {
        if x.nrows() == 0 || x.ncols() == 0 || y.len() != x.nrows() {
            return Err(ProblemError::Invalid {
                problem: "tanh_neuron",
                reason: format!("X is {}x{}, y has length {}", x.nrows(), x.ncols(), y.len()),
            });
        }
        for &v in x.iter() {
            check_range("tanh_neuron", "input", v, v.is_finite(), "finite")?;
        }
        for &v in y.iter() {
            check_range("tanh_neuron", "target", v, (-1.0..=1.0).contains(&v), "[-1, 1]")?;
        }
        let lmax = SymmetricEigen::new(x.tr_mul(&x)).eigenvalues.max().max(0.0);
        let l_bound = tanh_curvature_sup() * lmax / x.nrows() as f64;
        Ok(TanhNeuron { x, y, l_bound })
    }

    /// Gaussian inputs, targets ±1 from the sign of a random teacher's output, from `seed`.
    pub fn random(m: usize, d: usize, seed: u64) -> Result<Self, ProblemError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: DMatrix<f64> = DMatrix::from_fn(m, d, |_, _| StandardNormal.sample(&mut rng));
        let w: DVector<f64> = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
        let y = (&x * w).map(|z| if z >= 0.0 { 1.0 } else { -1.0 });
        Self::new(x, y)
    }

    /// Inputs X (m × d).
    pub fn inputs(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// Targets y.
    pub fn targets(&self) -> &DVector<f64> {
        &self.y
    }
}

impl Objective for TanhNeuron {
    fn name(&self) -> String {
        "tanh_neuron".into()
    }
    fn dim(&self) -> usize {
        self.x.ncols()
    }
    fn value(&self, w: &DVector<f64>) -> f64 {
        let r = (&self.x * w).map(f64::tanh) - &self.y;
        0.5 * r.norm_squared() / self.y.len() as f64
    }
    fn gradient_into(&self, w: &DVector<f64>, g: &mut DVector<f64>) {
        let t = (&self.x * w).map(f64::tanh);
        let s = DVector::from_fn(t.len(), |k, _| (t[k] - self.y[k]) * (1.0 - t[k] * t[k]));
        g.gemv_tr(1.0 / self.y.len() as f64, &self.x, &s, 0.0);
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: None,
            l: Some(self.l_bound),
            minimizer: None,
            f_star: None,
        }
    }
}

impl FiniteSum for TanhNeuron {
    fn num_examples(&self) -> usize {
        self.y.len()
    }
    fn example_value(&self, i: usize, w: &DVector<f64>) -> f64 {
        let t = self.x.row(i).transpose().dot(w).tanh();
        0.5 * (t - self.y[i]).powi(2)
    }
    fn example_gradient_into(&self, i: usize, w: &DVector<f64>, g: &mut DVector<f64>) {
        let t = self.x.row(i).transpose().dot(w).tanh();
        let s = (t - self.y[i]) * (1.0 - t * t);
        for j in 0..g.len() {
            g[j] = s * self.x[(i, j)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::UNIT_ROUNDOFF;

    /// Largest |second divided difference of ψ'| over a fine grid on [−8, 8] (contains the
    /// maximiser 0 and the minimiser of ψ'' at ±1 or π).
    fn max_abs_slope_of_derivative(dpsi: impl Fn(f64) -> f64) -> (f64, f64) {
        let step = 1.0 / 1024.0;
        let xs: Vec<f64> = (-8192..=8192).map(|k| k as f64 * step).collect();
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for w in xs.windows(2) {
            let s = (dpsi(w[1]) - dpsi(w[0])) / (w[1] - w[0]);
            lo = lo.min(s);
            hi = hi.max(s);
        }
        (lo, hi)
    }

    #[test]
    fn test_rational_bump_l_is_two() {
        let f = RationalBump::new(1, 1.0).unwrap();
        let d = |t: f64| f.gradient(&DVector::from_vec(vec![t]))[0];
        let (lo, hi) = max_abs_slope_of_derivative(d);
        // A divided difference over [t, t+δ] is ψ'' at an interior point, so it lies in
        // [−½, 2]; with δ = 2⁻¹⁰ and |ψ'''| ≤ 7 (≤ 5 in fact: tests/gradients.rs) the grid
        // maximum is within 7δ of the supremum.
        // Rounding: ψ' is computed with ≤ 8 roundings and |ψ'| ≤ 1, so each difference
        // quotient carries an error ≤ 2·8u/δ.
        let delta = 1.0 / 1024.0;
        let round = 16.0 * UNIT_ROUNDOFF / delta;
        assert!(
            hi <= RATIONAL_BUMP_L0 + round && hi >= RATIONAL_BUMP_L0 - 7.0 * delta,
            "{hi}"
        );
        assert!(lo >= -0.5 - round && lo <= -0.5 + 7.0 * delta, "{lo}");
        assert_eq!(f.constants().l, Some(2.0));
        assert_eq!(RationalBump::new(3, 4.0).unwrap().constants().l, Some(8.0));
    }

    #[test]
    fn test_one_minus_cos_l_and_nonconvexity() {
        let f = OneMinusCos::new(1, 3.0).unwrap();
        let d = |t: f64| f.gradient(&DVector::from_vec(vec![t]))[0];
        let (lo, hi) = max_abs_slope_of_derivative(d);
        let delta = 1.0 / 1024.0;
        // ψ'' = a cos t ∈ [−a, a], |ψ'''| ≤ a; rounding of a·sin t (|·| ≤ a, 2 roundings plus
        // sin's ≤ 1 ulp) adds ≤ 2·4u·a/δ to each quotient.
        let round = 8.0 * UNIT_ROUNDOFF * 3.0 / delta;
        assert!(hi <= 3.0 + round && hi >= 3.0 - 3.0 * delta, "{hi}");
        assert!(lo >= -3.0 - round && lo <= -3.0 + 3.0 * delta, "not convex: {lo}");
        assert_eq!(f.constants().l, Some(3.0));
        // 2 sin²(t/2) = 1 − cos t, and it is 0 at 2π·k up to the rounding of 2π.
        let two_pi = DVector::from_vec(vec![std::f64::consts::TAU]);
        assert!(f.value(&two_pi) <= 3.0 * 2.0 * (std::f64::consts::TAU * f64::EPSILON).powi(2));
    }

    #[test]
    fn test_shifted_quadratic_infimum() {
        let f = ShiftedQuadratic::new(vec![1.0, 4.0], -2.5).unwrap();
        let z = DVector::zeros(2);
        assert_eq!(f.value(&z), -2.5);
        let c = f.constants();
        assert_eq!((c.mu, c.l, c.f_star), (Some(1.0), Some(4.0), Some(-2.5)));
        assert_eq!(f.value(&DVector::from_vec(vec![2.0, 1.0])), 2.0 + 2.0 - 2.5);
    }

    #[test]
    fn test_tanh_curvature_sup_is_attained_and_not_exceeded() {
        let c = tanh_curvature_sup();
        // g(t*) lies between the grid maximum and it plus the grid's resolution effect
        // (|g''| = |−8 − 12t + 36t²| ≤ 40 on (−1, 1): between grid points g exceeds the grid
        // max by ≤ 40·δ²/8).
        let g = |t: f64, y: f64| (1.0 - t * t) * (1.0 - 3.0 * t * t + 2.0 * t * y);
        let delta = 1.0 / 4096.0;
        let grid_max = (-4095..=4095)
            .flat_map(|k| [g(k as f64 * delta, 1.0).abs(), g(k as f64 * delta, -1.0).abs()])
            .fold(0.0, f64::max);
        assert!(
            grid_max <= c + 8.0 * UNIT_ROUNDOFF
                && c <= grid_max + 40.0 * delta * delta / 8.0 + 8.0 * UNIT_ROUNDOFF,
            "{c} {grid_max}"
        );
        // For m = d = 1, x = 1, y = 1 the bound is the exact L: f''(w) = g(tanh w), maximal at
        // w = atanh t*. A second difference there recovers c to FD accuracy (h = 1e-4:
        // truncation h²|f''''|/12 with f'''' = (g''(1−t²) − 2tg')(1−t²), |g''| ≤ 40 and
        // |g'| ≤ 8 on (−1, 1), so |f''''| ≤ 56; rounding: f ≤ 1 evaluated to ≤ 4u, four
        // evaluations over h²).
        let p = TanhNeuron::new(DMatrix::from_element(1, 1, 1.0), DVector::from_element(1, 1.0)).unwrap();
        assert_eq!(p.constants().l, Some(c));
        let t_star = (33f64.sqrt() - 3.0) / 12.0;
        // t* is a root of g'(t) = 2 − 8t − 6t² + 12t³ (to rounding of the cubic's terms).
        assert!(
            (2.0 - 8.0 * t_star - 6.0 * t_star * t_star + 12.0 * t_star.powi(3)).abs()
                <= 32.0 * UNIT_ROUNDOFF
        );
        let w = f64::atanh(t_star);
        let h = 1e-4;
        let f = |v: f64| p.value(&DVector::from_element(1, v));
        let second = (f(w + h) - 2.0 * f(w) + f(w - h)) / (h * h);
        assert!(
            (second - c).abs() <= h * h * 56.0 / 12.0 + 16.0 * UNIT_ROUNDOFF / (h * h),
            "{second} vs {c}"
        );
        assert!(TanhNeuron::new(DMatrix::zeros(1, 1), DVector::from_element(1, 2.0)).is_err());
    }

    #[test]
    fn test_bad_input_rejected() {
        assert!(OneMinusCos::new(0, 1.0).is_err());
        assert!(OneMinusCos::new(1, 0.0).is_err());
        assert!(RationalBump::new(1, f64::NAN).is_err());
        assert!(ShiftedQuadratic::new(vec![], 0.0).is_err());
        assert!(ShiftedQuadratic::new(vec![-1.0], 0.0).is_err());
        assert!(ShiftedQuadratic::new(vec![1.0], f64::INFINITY).is_err());
    }
}
