//! # Smooth non-convex test functions with exact L
//!
//! Separable functions $f(x) = a\sum_i \psi(x_i)$ whose Hessian is diagonal, so the smallest
//! Lipschitz constant of $\nabla f$ is exactly $L = a\,\sup_t|\psi''(t)|$. The AdaGrad-Norm
//! claims need such functions: smooth, bounded below, not convex, with $L$ known exactly.
//!
//! | type | $\psi(t)$ | $\psi''(t)$ | $L$ | $\inf f$ |
//! |---|---|---|---|---|
//! | [`OneMinusCos`] | $1 - \cos t$ | $\cos t$ | $a$ (at $t = 0$) | $0$ at $2\pi\mathbb Z^n$ |
//! | [`RationalBump`] | $\dfrac{t^2}{1+t^2}$ | $\dfrac{2(1-3t^2)}{(1+t^2)^3}$ | $2a$ (at $t = 0$) | $0$ at $0$ |
//! | [`ShiftedQuadratic`] | $\tfrac12 \sum_i a_i t_i^2 + c$ | $a_i$ | $\max a_i$ | $c$ at $0$ |
//!
//! **Why $\sup|\psi''| = 2$ for the rational bump.** Write $s = t^2 \ge 0$ and
//! $h(s) = 2(1-3s)/(1+s)^3$. Then $h'(s) = -12(1-s)/(1+s)^4$: $h$ decreases on $[0,1]$ from
//! $h(0) = 2$ to $h(1) = -\tfrac12$ and increases towards $0$ for $s > 1$. Hence
//! $\psi'' \in [-\tfrac12, 2]$ and $\sup|\psi''| = 2$, attained at $t = 0$ (checked on a grid
//! in the tests). Neither $1-\cos$ ($\psi''(\pi) = -1$) nor the bump ($\psi''(1) = -\tfrac12$) is
//! convex.
//!
//! ## References
//! 1. R. Ward, X. Wu, L. Bottou, *AdaGrad stepsizes: sharp convergence over nonconvex
//!    landscapes*, JMLR 21 (2020), <https://arxiv.org/abs/1806.01811> (the setting: $L$-smooth,
//!    bounded below).

use super::{check_range, Constants, Objective, ProblemError};
use nalgebra::DVector;

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
        // [−½, 2]; with δ = 2⁻¹⁰ and |ψ'''| ≤ 7 (bounded in tests/gradients.rs) the grid
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
    fn test_bad_input_rejected() {
        assert!(OneMinusCos::new(0, 1.0).is_err());
        assert!(OneMinusCos::new(1, 0.0).is_err());
        assert!(RationalBump::new(1, f64::NAN).is_err());
        assert!(ShiftedQuadratic::new(vec![], 0.0).is_err());
        assert!(ShiftedQuadratic::new(vec![-1.0], 0.0).is_err());
        assert!(ShiftedQuadratic::new(vec![1.0], f64::INFINITY).is_err());
    }
}
