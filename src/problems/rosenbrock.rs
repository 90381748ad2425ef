//! # Rosenbrock
//!
//! The $d$-dimensional Rosenbrock function ($a = 1$, $b = 100$, $d \ge 2$):
//! $$f(x) = \sum_{i=1}^{d-1} \Big[ b\\,(x_{i+1} - x_i^2)^2 + (a - x_i)^2 \Big],$$
//! $$\frac{\partial f}{\partial x_i} = -4b\\,x_i (x_{i+1} - x_i^2) - 2(a - x_i)\\,\mathbb 1_{i<d} +
//!   2b\\,(x_i - x_{i-1}^2)\\,\mathbb 1_{i>1}.$$
//!
//! ## Constants
//! $x^\star = (1,\dots,1)$ and $f^\star = 0$ exactly (a sum of squares that vanishes there).
//! Not convex and not globally $L$-smooth ($\nabla^2 f$ grows like $12 b x_i^2$), so $\mu$ and
//! $L$ are `None`.
//!
//! ## References
//! 1. H. H. Rosenbrock, *An automatic method for finding the greatest or least value of a
//!    function*, The Computer Journal 3(3) (1960), <https://doi.org/10.1093/comjnl/3.3.175>.

use super::{Constants, Objective, ProblemError};
use nalgebra::DVector;

/// Rosenbrock's a.
pub const ROSENBROCK_A: f64 = 1.0;
/// Rosenbrock's b.
pub const ROSENBROCK_B: f64 = 100.0;

/// d-dimensional Rosenbrock function (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rosenbrock {
    dim: usize,
}

impl Rosenbrock {
    /// `dim` ≥ 2.
    pub fn new(dim: usize) -> Result<Self, ProblemError> {
        if dim < 2 {
            return Err(ProblemError::OutOfRange {
                problem: "rosenbrock",
                field: "dim",
                value: dim as f64,
                range: "dim >= 2",
            });
        }
        Ok(Rosenbrock { dim })
    }
}

impl Objective for Rosenbrock {
    fn name(&self) -> String {
        "rosenbrock".into()
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        (0..self.dim - 1)
            .map(|i| ROSENBROCK_B * (x[i + 1] - x[i] * x[i]).powi(2) + (ROSENBROCK_A - x[i]).powi(2))
            .sum()
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        g.fill(0.0);
        for i in 0..self.dim - 1 {
            let u = x[i + 1] - x[i] * x[i];
            g[i] += -4.0 * ROSENBROCK_B * x[i] * u - 2.0 * (ROSENBROCK_A - x[i]);
            g[i + 1] += 2.0 * ROSENBROCK_B * u;
        }
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: None,
            l: None,
            minimizer: Some(DVector::from_element(self.dim, 1.0)),
            f_star: Some(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_minimum_at_ones() {
        let f = Rosenbrock::new(5).unwrap();
        let ones = DVector::from_element(5, 1.0);
        assert_eq!(f.value(&ones), 0.0);
        assert!(f.gradient(&ones).iter().all(|&g| g == 0.0));
        assert!(Rosenbrock::new(1).is_err());
    }

    #[test]
    fn test_hand_computed_point() {
        // d = 2 at (0, 0): f = 100·0 + 1 = 1, ∇f = (−2, 0). At (−1, 1): f = 4, ∇f = (−4, 0).
        let f = Rosenbrock::new(2).unwrap();
        let x = DVector::from_vec(vec![0.0, 0.0]);
        assert_eq!(f.value(&x), 1.0);
        assert_eq!(f.gradient(&x), DVector::from_vec(vec![-2.0, 0.0]));
        let x = DVector::from_vec(vec![-1.0, 1.0]);
        assert_eq!(f.value(&x), 4.0);
        assert_eq!(f.gradient(&x), DVector::from_vec(vec![-4.0, 0.0]));
    }
}
