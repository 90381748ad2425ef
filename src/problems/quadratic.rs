//! # Quadratic with a prescribed spectrum
//!
//! $$f(\theta) = \tfrac12 (\theta-\theta^\star)^\top A (\theta-\theta^\star), \qquad
//!   A = Q \Lambda Q^\top,\quad \Lambda = \operatorname{diag}(\lambda_1 \le \dots \le \lambda_n),$$
//! $$\nabla f(\theta) = A(\theta - \theta^\star).$$
//!
//! ## Constants (exact)
//! | symbol | value | why |
//! |---|---|---|
//! | $\mu$ | $\lambda_1$ | smallest eigenvalue of the Hessian $A$ |
//! | $L$ | $\lambda_n$ | largest eigenvalue of $A$ |
//! | $\theta^\star$ | the seeded/prescribed centre | $\nabla f(\theta^\star) = 0$ |
//! | $f^\star$ | $0$ | $A \succeq 0$ |
//!
//! The eigenvalues are prescribed, not computed, so $\mu$ and $L$ are exact by construction;
//! the rotated form only perturbs $A$ by rounding ($\Vert\hat A - A\Vert \lesssim \gamma_n L$, tested).
//! $\mu = 0$ is allowed (convex, not strongly convex; then $\theta^\star$ is one minimiser).
//!
//! ## Spectra ([`Spectrum`]) between $\mu$ and $L$, extremes always included
//! * `TwoPoint`: $\lambda_i = \mu$ for $i \le \lfloor n/2 \rfloor$, $\lambda_i = L$ otherwise.
//! * `Uniform`: $\lambda_1 = \mu$, $\lambda_n = L$, the others i.i.d. uniform on $[\mu, L]$.
//! * `LogUniform`: $\lambda_1 = \mu$, $\lambda_n = L$, the others $\mu (L/\mu)^{U}$ with
//!   $U \sim \mathcal U(0,1)$ (needs $\mu > 0$).
//!
//! Eigenvalues are sorted ascending and column $i$ of $Q$ is the eigenvector of $\lambda_i$, so
//! a check can start on the extreme eigenvectors ([`Quadratic::eigenvector`]).
//!
//! ## The rotation
//! $Q$ is Haar distributed: the QR factorisation $G = QR$ of a seeded $n\times n$ standard
//! Gaussian matrix (ChaCha8), with the columns of $Q$ multiplied by $\operatorname{sign}(R_{ii})$
//! so the factorisation is unique and $Q$ is Haar (Mezzadri 2007, §5).
//!
//! [`Quadratic::diagonal`] stores only $\Lambda$ ($Q = I$): value and gradient cost $O(n)$, no
//! $n\times n$ matrix, usable at $n = 10^6$.
//!
//! ## References
//! 1. F. Mezzadri, *How to generate random matrices from the classical compact groups*,
//!    Notices AMS 54 (2007), <https://arxiv.org/abs/math-ph/0609050>.
//! 2. Y. Nesterov, *Lectures on Convex Optimization* (2018), §2.1 (the class
//!    $\mathcal S^{1,1}_{\mu,L}$ and quadratics as its worst case).

use super::{check_range, Constants, Objective, ProblemError};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// How the eigenvalues are placed between μ and L (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spectrum {
    /// Half the eigenvalues at μ, the other half at L.
    TwoPoint,
    /// μ, L and n − 2 i.i.d. uniform draws in between.
    Uniform,
    /// μ, L and n − 2 i.i.d. log-uniform draws in between (μ > 0).
    LogUniform,
}

/// Eigenvalues `λ_1 ≤ … ≤ λ_n` with λ_1 = μ and λ_n = L exactly, drawn from `seed`.
///
/// # Errors
/// μ < 0, L < μ, non-finite values, n = 0, n = 1 with μ ≠ L, or `LogUniform` with μ = 0.
pub fn spectrum_eigenvalues(
    n: usize,
    mu: f64,
    l: f64,
    spectrum: Spectrum,
    seed: u64,
) -> Result<Vec<f64>, ProblemError> {
    check_range(
        "quadratic",
        "mu",
        mu,
        mu.is_finite() && mu >= 0.0,
        "[0, inf), finite",
    )?;
    check_range("quadratic", "L", l, l.is_finite() && l >= mu, "[mu, inf), finite")?;
    check_range(
        "quadratic",
        "n",
        n as f64,
        n >= 1,
        "n >= 1 (n >= 2 unless mu = L)",
    )?;
    if n == 1 && mu != l {
        return Err(ProblemError::Invalid {
            problem: "quadratic",
            reason: format!("n = 1 cannot hold both extremes mu = {mu} and L = {l}"),
        });
    }
    if spectrum == Spectrum::LogUniform && mu == 0.0 && l > 0.0 {
        return Err(ProblemError::OutOfRange {
            problem: "quadratic",
            field: "mu",
            value: mu,
            range: "(0, inf) for a log-uniform spectrum",
        });
    }
    if mu == l {
        // Also avoids 0·(0/0) for a log-uniform spectrum with μ = L = 0.
        return Ok(vec![mu; n]);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut eigs: Vec<f64> = (0..n)
        .map(|i| match spectrum {
            Spectrum::TwoPoint => {
                if i < n / 2 {
                    mu
                } else {
                    l
                }
            }
            _ if i == 0 => mu,
            _ if i == n - 1 => l,
            Spectrum::Uniform => mu + (l - mu) * rng.random::<f64>(),
            Spectrum::LogUniform => mu * (l / mu).powf(rng.random::<f64>()),
        })
        .collect();
    // Interior draws lie in [μ, L] up to one rounding of the affine/power map; clamp so the
    // extremes stay exact.
    for e in eigs.iter_mut() {
        *e = e.clamp(mu, l);
    }
    eigs.sort_by(f64::total_cmp);
    Ok(eigs)
}

/// A Haar-distributed n×n orthogonal matrix from `seed` (QR of a Gaussian matrix with the
/// sign fix; see the module doc).
pub fn haar_orthogonal(n: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let g = DMatrix::from_fn(n, n, |_, _| StandardNormal.sample(&mut rng));
    let qr = g.qr();
    let r = qr.r();
    let mut q = qr.q();
    for j in 0..n {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

#[derive(Debug, Clone)]
enum Form {
    /// A = diag(λ); nothing else stored.
    Diagonal,
    /// A = Q Λ Qᵀ, stored (symmetrised) with Q.
    Rotated { q: DMatrix<f64>, a: DMatrix<f64> },
}

/// ½(θ−θ*)ᵀA(θ−θ*) with known eigen-decomposition (see the module doc).
///
/// # Examples
/// ```
/// use optverify::problems::{Objective, Quadratic, Spectrum};
/// let q = Quadratic::random(5, 1.0, 100.0, Spectrum::LogUniform, 7).unwrap();
/// let c = q.constants();
/// assert_eq!((c.mu, c.l, c.f_star), (Some(1.0), Some(100.0), Some(0.0)));
/// // Start on the eigenvector of L: the gradient points along it, scaled by L.
/// let x = q.theta_star() + q.eigenvector(4);
/// let g = q.gradient(&x);
/// // Only A's rounding separates them: ≤ γ_{n+4}·L·(‖v‖₁ + ‖v‖₂) per entry, ‖v‖₁ ≤ √n.
/// let tol = optverify::prec::gamma(9) * 100.0 * (5f64.sqrt() + 1.0) * 5f64.sqrt();
/// assert!((g - q.eigenvector(4) * 100.0).norm() <= tol);
/// ```
#[derive(Debug, Clone)]
pub struct Quadratic {
    eigenvalues: DVector<f64>,
    theta_star: DVector<f64>,
    form: Form,
}

impl Quadratic {
    fn check(eigs: &[f64], theta_star: &DVector<f64>) -> Result<(), ProblemError> {
        if eigs.is_empty() || eigs.len() != theta_star.len() {
            return Err(ProblemError::Invalid {
                problem: "quadratic",
                reason: format!(
                    "{} eigenvalues for a minimiser of length {} (need equal, >= 1)",
                    eigs.len(),
                    theta_star.len()
                ),
            });
        }
        for &e in eigs {
            check_range(
                "quadratic",
                "eigenvalue",
                e,
                e.is_finite() && e >= 0.0,
                "[0, inf), finite",
            )?;
        }
        for &t in theta_star.iter() {
            check_range("quadratic", "theta_star", t, t.is_finite(), "finite")?;
        }
        Ok(())
    }

    /// A = diag(`eigs`) (in the given order; not sorted), centre `theta_star`. O(n) storage.
    pub fn diagonal(eigs: Vec<f64>, theta_star: DVector<f64>) -> Result<Self, ProblemError> {
        Self::check(&eigs, &theta_star)?;
        Ok(Quadratic {
            eigenvalues: DVector::from_vec(eigs),
            theta_star,
            form: Form::Diagonal,
        })
    }

    /// A = Q diag(`eigs`) Qᵀ with Q Haar from `rotation_seed` (column i of Q belongs to `eigs[i]`).
    pub fn rotated(
        eigs: Vec<f64>,
        theta_star: DVector<f64>,
        rotation_seed: u64,
    ) -> Result<Self, ProblemError> {
        Self::check(&eigs, &theta_star)?;
        let n = eigs.len();
        let q = haar_orthogonal(n, rotation_seed);
        let mut qd = q.clone();
        for (j, &e) in eigs.iter().enumerate() {
            qd.column_mut(j).scale_mut(e);
        }
        let a_raw = &qd * q.transpose();
        // Symmetrise so that ½eᵀAe and Ae are exactly a function and its gradient.
        let a = (&a_raw + a_raw.transpose()) * 0.5;
        Ok(Quadratic {
            eigenvalues: DVector::from_vec(eigs),
            theta_star,
            form: Form::Rotated { q, a },
        })
    }

    /// n-dimensional rotated quadratic with `spectrum` in [μ, L], θ* ~ N(0, I), all from `seed`.
    pub fn random(n: usize, mu: f64, l: f64, spectrum: Spectrum, seed: u64) -> Result<Self, ProblemError> {
        let eigs = spectrum_eigenvalues(n, mu, l, spectrum, seed)?;
        let theta_star = gaussian_vector(n, seed.wrapping_add(1));
        Self::rotated(eigs, theta_star, seed.wrapping_add(2))
    }

    /// As [`Quadratic::random`] but diagonal (Q = I): scales to n = 10⁶.
    pub fn random_diagonal(
        n: usize,
        mu: f64,
        l: f64,
        spectrum: Spectrum,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        let eigs = spectrum_eigenvalues(n, mu, l, spectrum, seed)?;
        let theta_star = gaussian_vector(n, seed.wrapping_add(1));
        Self::diagonal(eigs, theta_star)
    }

    /// Eigenvalues in storage order (ascending for the `random*` constructors).
    pub fn eigenvalues(&self) -> &DVector<f64> {
        &self.eigenvalues
    }

    /// The eigenvectors as the columns of Q; `None` for the diagonal form (Q = I is not stored).
    pub fn eigenvectors(&self) -> Option<&DMatrix<f64>> {
        match &self.form {
            Form::Diagonal => None,
            Form::Rotated { q, .. } => Some(q),
        }
    }

    /// Unit eigenvector of `eigenvalues()[i]`.
    pub fn eigenvector(&self, i: usize) -> DVector<f64> {
        match &self.form {
            Form::Diagonal => {
                let mut e = DVector::zeros(self.dim());
                e[i] = 1.0;
                e
            }
            Form::Rotated { q, .. } => q.column(i).into_owned(),
        }
    }

    /// The Hessian A as a dense matrix (allocates n×n for the diagonal form).
    pub fn hessian(&self) -> DMatrix<f64> {
        match &self.form {
            Form::Diagonal => DMatrix::from_diagonal(&self.eigenvalues),
            Form::Rotated { a, .. } => a.clone(),
        }
    }

    /// The centre θ*.
    pub fn theta_star(&self) -> &DVector<f64> {
        &self.theta_star
    }

    /// True for the O(n) diagonal form.
    pub fn is_diagonal(&self) -> bool {
        matches!(self.form, Form::Diagonal)
    }
}

/// A seeded standard normal vector.
pub fn gaussian_vector(n: usize, seed: u64) -> DVector<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    DVector::from_fn(n, |_, _| StandardNormal.sample(&mut rng))
}

impl Objective for Quadratic {
    fn name(&self) -> String {
        if self.is_diagonal() {
            "quadratic-diagonal".into()
        } else {
            "quadratic".into()
        }
    }
    fn dim(&self) -> usize {
        self.theta_star.len()
    }
    fn value(&self, x: &DVector<f64>) -> f64 {
        let e = x - &self.theta_star;
        match &self.form {
            Form::Diagonal => {
                0.5 * self
                    .eigenvalues
                    .iter()
                    .zip(e.iter())
                    .map(|(l, e)| l * e * e)
                    .sum::<f64>()
            }
            // ½ Σ λ_i (q_iᵀe)²: a sum of non-negative terms, so f ≥ 0 = f* holds in floating point.
            Form::Rotated { q, .. } => {
                let c = q.tr_mul(&e);
                0.5 * self
                    .eigenvalues
                    .iter()
                    .zip(c.iter())
                    .map(|(l, c)| l * c * c)
                    .sum::<f64>()
            }
        }
    }
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>) {
        match &self.form {
            Form::Diagonal => {
                for i in 0..x.len() {
                    g[i] = self.eigenvalues[i] * (x[i] - self.theta_star[i]);
                }
            }
            Form::Rotated { a, .. } => {
                let e = x - &self.theta_star;
                g.gemv(1.0, a, &e, 0.0);
            }
        }
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: Some(self.eigenvalues.min()),
            l: Some(self.eigenvalues.max()),
            minimizer: Some(self.theta_star.clone()),
            f_star: Some(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::gamma;

    #[test]
    fn test_spectrum_extremes_exact() {
        for spectrum in [Spectrum::TwoPoint, Spectrum::Uniform, Spectrum::LogUniform] {
            let e = spectrum_eigenvalues(7, 0.01, 100.0, spectrum, 3).unwrap();
            assert_eq!(e[0], 0.01);
            assert_eq!(e[6], 100.0);
            assert!(e.windows(2).all(|w| w[0] <= w[1]));
        }
        let two = spectrum_eigenvalues(5, 1.0, 9.0, Spectrum::TwoPoint, 0).unwrap();
        assert_eq!(two, vec![1.0, 1.0, 9.0, 9.0, 9.0]);
        // μ = 0 is allowed for the uniform spectra, not for the log-uniform one.
        assert_eq!(
            spectrum_eigenvalues(4, 0.0, 1.0, Spectrum::Uniform, 0).unwrap()[0],
            0.0
        );
        assert!(spectrum_eigenvalues(4, 0.0, 1.0, Spectrum::LogUniform, 0).is_err());
    }

    #[test]
    fn test_spectrum_rejects_bad_input() {
        assert!(spectrum_eigenvalues(4, -1.0, 1.0, Spectrum::Uniform, 0).is_err());
        assert!(spectrum_eigenvalues(4, 2.0, 1.0, Spectrum::Uniform, 0).is_err());
        assert!(spectrum_eigenvalues(4, f64::NAN, 1.0, Spectrum::Uniform, 0).is_err());
        assert!(spectrum_eigenvalues(0, 1.0, 1.0, Spectrum::Uniform, 0).is_err());
        assert!(spectrum_eigenvalues(1, 1.0, 2.0, Spectrum::Uniform, 0).is_err());
        assert!(spectrum_eigenvalues(1, 2.0, 2.0, Spectrum::Uniform, 0).is_ok());
        assert_eq!(
            spectrum_eigenvalues(3, 0.0, 0.0, Spectrum::LogUniform, 0).unwrap(),
            vec![0.0; 3]
        );
        assert!(Quadratic::diagonal(vec![1.0], DVector::zeros(2)).is_err());
        assert!(Quadratic::diagonal(vec![-1.0], DVector::zeros(1)).is_err());
    }

    #[test]
    fn test_constants_and_minimum() {
        let q = Quadratic::random(6, 0.5, 50.0, Spectrum::LogUniform, 11).unwrap();
        let c = q.constants();
        assert_eq!(c.mu, Some(0.5));
        assert_eq!(c.l, Some(50.0));
        assert_eq!(c.f_star, Some(0.0));
        let star = c.minimizer.unwrap();
        assert_eq!(q.value(&star), 0.0);
        assert!(q.gradient(&star).iter().all(|&g| g == 0.0));
    }

    #[test]
    fn test_eigenvector_is_eigenvector() {
        let q = Quadratic::random(8, 1.0, 10.0, Spectrum::Uniform, 5).unwrap();
        let a = q.hessian();
        for i in [0, 7] {
            let v = q.eigenvector(i);
            let r = &a * &v - q.eigenvalues()[i] * &v;
            // A is QΛQᵀ rounded: each entry a length-n dot product, error ≤ γ_n L per row·‖v‖;
            // the residual of an exact eigenpair is that error, n entries of it.
            assert!(r.norm() <= 8.0 * gamma(8) * 10.0 * 8.0_f64.sqrt(), "{}", r.norm());
        }
    }

    #[test]
    fn test_diagonal_large_dimension_is_linear_time() {
        // n = 10⁶: would need 8 TB as a dense matrix; the diagonal form stores 2n numbers.
        let n = 1_000_000;
        let q = Quadratic::random_diagonal(n, 1.0, 1000.0, Spectrum::LogUniform, 1).unwrap();
        let x = DVector::zeros(n);
        let g = q.gradient(&x);
        assert_eq!(g[n - 1], -1000.0 * q.theta_star()[n - 1]);
        assert_eq!(q.eigenvector(n - 1)[n - 1], 1.0);
        assert!(q.eigenvectors().is_none());
    }
}
