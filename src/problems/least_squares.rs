//! # Least squares
//!
//! $$f(\theta) = \frac{1}{2m}\Vert X\theta - y\Vert^2 = \frac1m\sum_{k=1}^m \tfrac12 (x_k^\top\theta - y_k)^2,
//!   \qquad \nabla f(\theta) = \frac1m X^\top (X\theta - y),$$
//! with $X \in \mathbb R^{m\times d}$ (one example per row) and $y \in \mathbb R^m$.
//!
//! ## Constants
//! | symbol | value | how it is known |
//! |---|---|---|
//! | $L$ | $\lambda_{\max}(X^\top X)/m$ | the Hessian is the constant $X^\top X/m$; nalgebra's symmetric eigensolver (backward stable: error $O(u\\,\lambda_{\max})$) |
//! | $\mu$ | $\lambda_{\min}(X^\top X)/m$ | same; $0$ up to that rounding when $X$ is rank deficient |
//! | $\theta^\star$ | least-squares solution | SVD of $X$ (solves the normal equations $X^\top X\theta = X^\top y$ without squaring the condition number; the minimum-norm solution when rank deficient) |
//! | $f^\star$ | $f(\theta^\star)$ | computed, so known to rounding only |
//!
//! As a [`FiniteSum`], $f_k(\theta) = \tfrac12 (x_k^\top\theta - y_k)^2$.
//!
//! ## References
//! 1. G. Golub, C. Van Loan, *Matrix Computations*, 4th ed. (2013), §5.3 (least squares).

use super::{check_range, Constants, FiniteSum, Objective, ProblemError};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// (2m)⁻¹‖Xθ − y‖² with its spectral constants (see the module doc).
#[derive(Debug, Clone)]
pub struct LeastSquares {
    x: DMatrix<f64>,
    y: DVector<f64>,
    mu: f64,
    l: f64,
    minimizer: DVector<f64>,
    f_star: f64,
}

impl LeastSquares {
    /// From data. Computes L, μ (eigenvalues of XᵀX/m) and θ* (SVD least squares).
    ///
    /// # Errors
    /// Empty X, `y.len() != X.nrows()`, or non-finite entries.
    pub fn new(x: DMatrix<f64>, y: DVector<f64>) -> Result<Self, ProblemError> {
        let (m, d) = x.shape();
        if m == 0 || d == 0 || y.len() != m {
            return Err(ProblemError::Invalid {
                problem: "least_squares",
                reason: format!(
                    "X is {m}x{d} and y has length {}; need m, d >= 1 and len(y) = m",
                    y.len()
                ),
            });
        }
        for &v in x.iter().chain(y.iter()) {
            check_range("least_squares", "data entry", v, v.is_finite(), "finite")?;
        }
        let mf = m as f64;
        let gram = x.tr_mul(&x) / mf;
        let eig = SymmetricEigen::new(gram);
        // Negative values are rounding of a PSD matrix's zero eigenvalues.
        let mu = eig.eigenvalues.min().max(0.0);
        let l = eig.eigenvalues.max();
        let svd = x.clone().svd(true, true);
        let max_sv = svd.singular_values.max();
        // Singular values below n·u·σ_max are indistinguishable from 0 (LAPACK's rcond default).
        let eps = (m.max(d) as f64) * crate::prec::UNIT_ROUNDOFF * max_sv;
        let minimizer = svd.solve(&y, eps).map_err(|e| ProblemError::Invalid {
            problem: "least_squares",
            reason: e.to_string(),
        })?;
        let mut p = LeastSquares {
            x,
            y,
            mu,
            l,
            minimizer,
            f_star: 0.0,
        };
        p.f_star = p.value(&p.minimizer);
        Ok(p)
    }

    /// m × d standard Gaussian X, y = Xθ_true + `noise`·N(0, I), θ_true ~ N(0, I), all from `seed`.
    pub fn random(m: usize, d: usize, noise: f64, seed: u64) -> Result<Self, ProblemError> {
        check_range(
            "least_squares",
            "noise",
            noise,
            noise.is_finite() && noise >= 0.0,
            "[0, inf)",
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = DMatrix::from_fn(m, d, |_, _| StandardNormal.sample(&mut rng));
        let theta = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
        let eps = DVector::from_fn(m, |_, _| StandardNormal.sample(&mut rng));
        let y = &x * theta + eps * noise;
        Self::new(x, y)
    }

    /// The design matrix X.
    pub fn design(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// The targets y.
    pub fn targets(&self) -> &DVector<f64> {
        &self.y
    }
    fn residual(&self, k: usize, theta: &DVector<f64>) -> f64 {
        self.x.row(k).transpose().dot(theta) - self.y[k]
    }
}

impl Objective for LeastSquares {
    fn name(&self) -> String {
        "least_squares".into()
    }
    fn dim(&self) -> usize {
        self.x.ncols()
    }
    fn value(&self, theta: &DVector<f64>) -> f64 {
        let r = &self.x * theta - &self.y;
        r.norm_squared() / (2.0 * self.x.nrows() as f64)
    }
    fn gradient_into(&self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        let r = &self.x * theta - &self.y;
        g.gemv_tr(1.0 / self.x.nrows() as f64, &self.x, &r, 0.0);
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: Some(self.mu),
            l: Some(self.l),
            minimizer: Some(self.minimizer.clone()),
            f_star: Some(self.f_star),
        }
    }
}

impl FiniteSum for LeastSquares {
    fn num_examples(&self) -> usize {
        self.x.nrows()
    }
    fn example_value(&self, i: usize, theta: &DVector<f64>) -> f64 {
        0.5 * self.residual(i, theta).powi(2)
    }
    fn example_gradient_into(&self, i: usize, theta: &DVector<f64>, g: &mut DVector<f64>) {
        let r = self.residual(i, theta);
        for j in 0..g.len() {
            g[j] = r * self.x[(i, j)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::{gamma, UNIT_ROUNDOFF};

    #[test]
    fn test_constants_of_diagonal_design() {
        // X = diag(1, 2, 3) stacked over itself (m = 6): XᵀX/m = diag(2, 8, 18)/6 exactly.
        let mut x = DMatrix::zeros(6, 3);
        for i in 0..3 {
            x[(i, i)] = (i + 1) as f64;
            x[(i + 3, i)] = (i + 1) as f64;
        }
        let y = DVector::from_vec(vec![1.0, 2.0, 3.0, 3.0, 2.0, 1.0]);
        let p = LeastSquares::new(x, y).unwrap();
        let c = p.constants();
        // The eigensolver is backward stable: error ≤ a few γ_3 · λ_max.
        let tol = 4.0 * gamma(3) * 3.0;
        assert!((c.l.unwrap() - 3.0).abs() <= tol);
        assert!((c.mu.unwrap() - 2.0 / 6.0).abs() <= tol);
        // θ*_i = mean of y over the two rows that carry coordinate i, divided by (i+1).
        let star = c.minimizer.unwrap();
        let expect = [2.0, 2.0 / 2.0, 2.0 / 3.0];
        for i in 0..3 {
            assert!((star[i] - expect[i]).abs() <= 64.0 * UNIT_ROUNDOFF, "{star}");
        }
        assert!(p.gradient(&star).norm() <= 64.0 * UNIT_ROUNDOFF * 10.0);
    }

    #[test]
    fn test_mean_of_examples_is_objective() {
        let p = LeastSquares::random(9, 4, 0.3, 2).unwrap();
        let theta = DVector::from_vec(vec![0.1, -0.2, 0.3, 0.4]);
        let mean: f64 = (0..9).map(|k| p.example_value(k, &theta)).sum::<f64>() / 9.0;
        assert!((mean - p.value(&theta)).abs() <= gamma(20) * 2.0 * mean);
        let mut g = DVector::zeros(4);
        let mut total = DVector::zeros(4);
        for k in 0..9 {
            p.example_gradient_into(k, &theta, &mut g);
            total += &g;
        }
        total /= 9.0;
        assert!((total - p.gradient(&theta)).norm() <= gamma(20) * 10.0 * p.gradient(&theta).norm().max(1.0));
    }

    #[test]
    fn test_rejects_bad_shapes() {
        assert!(LeastSquares::new(DMatrix::zeros(3, 2), DVector::zeros(2)).is_err());
        assert!(LeastSquares::new(DMatrix::zeros(0, 2), DVector::zeros(0)).is_err());
        let mut x = DMatrix::zeros(2, 2);
        x[(0, 0)] = f64::NAN;
        assert!(LeastSquares::new(x, DVector::zeros(2)).is_err());
    }

    #[test]
    fn test_rank_deficient_has_mu_zero() {
        // Two identical columns: rank 1.
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
        let p = LeastSquares::new(x, DVector::from_vec(vec![1.0, 2.0, 3.0])).unwrap();
        assert!(p.constants().mu.unwrap() <= 8.0 * gamma(3) * p.constants().l.unwrap());
        // Minimum-norm solution splits the weight equally: θ* = (½, ½), f* = 0.
        // SVD solve is backward stable; for this 3×2 problem with σ_max = √28 a relative error of
        // 64u in θ* is generous, and f* is then at most ½m⁻¹(64u·σ_max·‖θ*‖)².
        let star = p.constants().minimizer.unwrap();
        let tol = 64.0 * UNIT_ROUNDOFF;
        assert!(
            (star[0] - 0.5).abs() <= tol && (star[1] - 0.5).abs() <= tol,
            "{star}"
        );
        assert!(p.constants().f_star.unwrap() <= (tol * 28f64.sqrt()).powi(2));
    }
}
