//! # Lessard–Recht–Packard piecewise quadratic
//!
//! The one-dimensional function of Lessard, Recht & Packard (2016, §4.6) on which the heavy-ball
//! method with the parameters that are optimal for quadratics cycles instead of converging:
//! $$\varphi(x) = \begin{cases}
//!   \tfrac{25}{2}x^2 & x < 1,\\
//!   \tfrac12 x^2 + 24x - 12 & 1 \le x < 2,\\
//!   \tfrac{25}{2}x^2 - 24x + 36 & x \ge 2,
//! \end{cases}\qquad
//! \varphi'(x) = \begin{cases} 25x & x<1\\ x + 24 & 1\le x<2\\ 25x - 24 & x\ge 2.\end{cases}$$
//! In $d$ dimensions the separable sum $f(x) = \sum_i \varphi(x_i)$.
//!
//! ## Constants (exact)
//! $\varphi$ is $C^1$ (values 12.5 and 38, slopes 25 and 26 agree at the breakpoints 1 and 2) and
//! $\varphi''\in\\{25, 1, 25\\}$ piecewise, so $\varphi'$ is monotone with slopes in $[1, 25]$:
//! $\mu = 1$, $L = 25$, both attained. $x^\star = 0$ (where $\varphi' = 0$), $f^\star = 0$.
//!
//! ## References
//! 1. L. Lessard, B. Recht, A. Packard, *Analysis and design of optimization algorithms via
//!    integral quadratic constraints*, SIAM J. Optim. 26(1) (2016), §4.6,
//!    <https://arxiv.org/abs/1408.3595>.

use super::{Constants, Objective, ProblemError};
use nalgebra::DVector;

/// Strong-convexity modulus of φ.
pub const LESSARD_MU: f64 = 1.0;
/// Lipschitz constant of φ'.
pub const LESSARD_L: f64 = 25.0;

/// φ(x) (see the module doc).
pub fn phi(x: f64) -> f64 {
    if x < 1.0 {
        12.5 * x * x
    } else if x < 2.0 {
        0.5 * x * x + 24.0 * x - 12.0
    } else {
        12.5 * x * x - 24.0 * x + 36.0
    }
}

/// φ'(x).
pub fn phi_prime(x: f64) -> f64 {
    if x < 1.0 {
        25.0 * x
    } else if x < 2.0 {
        x + 24.0
    } else {
        25.0 * x - 24.0
    }
}

/// Separable f(x) = Σ φ(x_i) in `dim` dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lessard {
    dim: usize,
}

impl Lessard {
    /// The d-dimensional separable version (d = 1 is the paper's function).
    pub fn new(dim: usize) -> Result<Self, ProblemError> {
        if dim == 0 {
            return Err(ProblemError::OutOfRange {
                problem: "lessard",
                field: "dim",
                value: 0.0,
                range: "dim >= 1",
            });
        }
        Ok(Lessard { dim })
    }
}

impl Objective for Lessard {
    fn name(&self) -> String {
        "lessard".into()
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        x.iter().map(|&v| phi(v)).sum()
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        for i in 0..self.dim {
            g[i] = phi_prime(x[i]);
        }
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: Some(LESSARD_MU),
            l: Some(LESSARD_L),
            minimizer: Some(DVector::zeros(self.dim)),
            f_star: Some(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three pieces as separate polynomials, to compare their one-sided limits.
    fn pieces(x: f64) -> [(f64, f64); 3] {
        [
            (12.5 * x * x, 25.0 * x),
            (0.5 * x * x + 24.0 * x - 12.0, x + 24.0),
            (12.5 * x * x - 24.0 * x + 36.0, 25.0 * x - 24.0),
        ]
    }

    #[test]
    fn test_c1_continuity_at_breakpoints() {
        // At the integers 1 and 2 every polynomial is evaluated exactly in f64 (small integers
        // and halves), so value and slope must agree exactly, not just approximately.
        for (bp, left, right) in [(1.0, 0, 1), (2.0, 1, 2)] {
            let p = pieces(bp);
            assert_eq!(p[left].0, p[right].0, "value at {bp}");
            assert_eq!(p[left].1, p[right].1, "slope at {bp}");
            assert_eq!(phi(bp), p[right].0);
        }
        assert_eq!(phi(1.0), 12.5);
        assert_eq!(phi(2.0), 38.0);
        assert_eq!(phi_prime(2.0), 26.0);
    }

    #[test]
    fn test_second_derivative_between_mu_and_l() {
        // Divided differences of φ' over a grid that straddles both breakpoints lie in [1, 25].
        let xs: Vec<f64> = (-40..=120).map(|k| k as f64 * 0.03125).collect();
        for w in xs.windows(2) {
            let slope = (phi_prime(w[1]) - phi_prime(w[0])) / (w[1] - w[0]);
            assert!(
                (LESSARD_MU..=LESSARD_L).contains(&slope),
                "slope {slope} on {w:?}"
            );
        }
        // Both extremes are attained (on x < 1 and on 1 < x < 2).
        assert_eq!((phi_prime(0.5) - phi_prime(0.25)) / 0.25, 25.0);
        assert_eq!((phi_prime(1.5) - phi_prime(1.25)) / 0.25, 1.0);
    }

    #[test]
    fn test_minimum_at_zero() {
        let f = Lessard::new(3).unwrap();
        let z = DVector::zeros(3);
        assert_eq!(f.value(&z), 0.0);
        assert_eq!(f.gradient(&z), z);
        assert!(Lessard::new(0).is_err());
    }
}
