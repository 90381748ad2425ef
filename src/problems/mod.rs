//! # Test problems
//!
//! Objectives with exact gradients and, where known, their constants (μ, L, minimiser, f*),
//! plus stochastic gradient oracles.
//!
//! | file | problem |
//! |---|---|
//! | [`quadratic`] | ½(θ−θ*)ᵀA(θ−θ*) with a prescribed spectrum, rotated or diagonal |
//! | [`least_squares`] | ½m⁻¹‖Xθ − y‖² |
//! | [`logistic`] | binary and multinomial logistic regression, optional L2 |
//! | [`mlp`] | two-layer ReLU network, squared loss, backprop by hand, optional dropout |
//! | [`rosenbrock`] | Rosenbrock's banana |
//! | [`lessard`] | Lessard–Recht–Packard piecewise quadratic (heavy-ball counterexample) |
//! | [`smooth`] | one-dimensional smooth non-convex test functions (1 − cos, x²/(1+x²)) |
//! | [`stochastic`] | mini-batch sampler, finite-sum oracle, i.i.d. mini-batch oracle, additive-noise oracle |
//! | [`data`] | the vendored UCI digits data set |

pub mod curvature;
pub mod data;
pub mod least_squares;
pub mod lessard;
pub mod linear;
pub mod logistic;
pub mod mlp;
pub mod quadratic;
pub mod rosenbrock;
pub mod smooth;
pub mod stochastic;

pub use data::{digits, Digits};
pub use least_squares::LeastSquares;
pub use lessard::Lessard;
pub use linear::LinearNet;
pub use logistic::{logistic_moments, BinaryLogistic, BinaryTask, Multinomial};
pub use mlp::{DropoutOracle, Mlp};
pub use quadratic::{Quadratic, Spectrum};
pub use rosenbrock::Rosenbrock;
pub use smooth::{OneMinusCos, RationalBump, ShiftedQuadratic, TanhNeuron};
pub use stochastic::{AdditiveNoiseOracle, BatchSampler, IidBatchOracle, LastBatch, MiniBatchOracle};

use nalgebra::DVector;
use thiserror::Error;

/// Bad input to a problem constructor (a dimension, a spectrum, a data file).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ProblemError {
    /// `field` of `problem` is `value`, which is outside `range`.
    #[error("{problem}: {field} = {value} is invalid; valid range: {range}")]
    OutOfRange {
        problem: &'static str,
        field: &'static str,
        value: f64,
        range: &'static str,
    },
    /// Inconsistent shapes or settings.
    #[error("{problem}: {reason}")]
    Invalid { problem: &'static str, reason: String },
    /// A malformed line of a data file (1-based line number).
    #[error("data line {line}: {reason}")]
    Data { line: usize, reason: String },
}

pub(crate) fn check_range(
    problem: &'static str,
    field: &'static str,
    value: f64,
    ok: bool,
    range: &'static str,
) -> Result<(), ProblemError> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(ProblemError::OutOfRange {
            problem,
            field,
            value,
            range,
        })
    }
}

/// Known constants of an objective; `None` where unknown or not applicable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constants {
    /// Strong-convexity modulus μ (0 for convex but not strongly convex).
    pub mu: Option<f64>,
    /// Lipschitz constant L of the gradient (the smallest one, where known exactly).
    pub l: Option<f64>,
    /// A minimiser θ*.
    pub minimizer: Option<DVector<f64>>,
    /// The infimum f* = inf f.
    pub f_star: Option<f64>,
}

/// A deterministic differentiable objective f: ℝⁿ → ℝ with its exact gradient.
pub trait Objective: Sync {
    /// Short name, e.g. `"quadratic"`.
    fn name(&self) -> String;
    /// Dimension n.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&self, x: &DVector<f64>) -> f64;
    /// ∇f(x) written into `g` (which has length n).
    fn gradient_into(&self, x: &DVector<f64>, g: &mut DVector<f64>);
    /// ∇f(x), allocated.
    fn gradient(&self, x: &DVector<f64>) -> DVector<f64> {
        let mut g = DVector::zeros(self.dim());
        self.gradient_into(x, &mut g);
        g
    }
    /// Known constants.
    fn constants(&self) -> Constants {
        Constants::default()
    }
}

/// An objective that is a mean over `m` examples,
/// $$f(\theta) = \frac1m \sum_{i=1}^m f_i(\theta).$$
///
/// A regulariser $r(\theta)$ (e.g. $\tfrac\lambda2\Vert\theta\Vert^2$) is given **whole to every
/// example**: $f_i = \ell_i + r$, so that the mean of the $f_i$ is $f$ and a mini-batch mean
/// $|S|^{-1}\sum_{i\in S}\nabla f_i$ is an unbiased estimate of $\nabla f$ carrying the exact
/// regulariser gradient (as `loss.mean() + reg` does in PyTorch).
pub trait FiniteSum: Objective {
    /// Number of examples m.
    fn num_examples(&self) -> usize;
    /// $f_i(x)$ (including the regulariser).
    fn example_value(&self, i: usize, x: &DVector<f64>) -> f64;
    /// $\nabla f_i(x)$ (including the regulariser) written into `g`.
    fn example_gradient_into(&self, i: usize, x: &DVector<f64>, g: &mut DVector<f64>);
}

/// One entry of the problem catalogue printed by `optverify list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProblemEntry {
    /// Identifier (module name).
    pub name: &'static str,
    /// The objective.
    pub description: &'static str,
    /// Which constants are known and how.
    pub constants: &'static str,
}

/// Every problem family of this module, for `optverify list`.
pub fn catalogue() -> Vec<ProblemEntry> {
    vec![
        ProblemEntry {
            name: "quadratic",
            description: "f = 1/2 (x-x*)^T A (x-x*), A = Q diag(spectrum) Q^T (Haar Q) or diagonal; spectrum two-point, uniform or log-uniform in [mu, L]",
            constants: "mu, L (extreme eigenvalues, exact), x*, f* = 0 exact",
        },
        ProblemEntry {
            name: "least_squares",
            description: "f = (2m)^-1 ||X x - y||^2; finite sum over rows",
            constants: "mu = lambda_min(X^T X)/m, L = lambda_max(X^T X)/m (symmetric eigensolver); x* by SVD least squares, f* = f(x*) (computed)",
        },
        ProblemEntry {
            name: "logistic",
            description: "binary logistic regression (labels 0/1) with optional bias and L2; finite sum; digits 0-vs-1 or even-vs-odd",
            constants: "mu = lambda (lower bound), L <= ||X||_2^2/(4m) + lambda (upper bound)",
        },
        ProblemEntry {
            name: "multinomial",
            description: "softmax cross-entropy, C x d weights row-major + optional bias, optional L2; finite sum; digits 10 classes",
            constants: "mu = lambda (lower bound), L <= ||X||_2^2/(2m) + lambda (upper bound)",
        },
        ProblemEntry {
            name: "mlp",
            description: "two-layer ReLU network W2 relu(W1 x + b1) + b2, loss m^-1 sum 1/2 ||H(x)-y||^2 + L2; optional dropout oracle",
            constants: "none (non-convex, not globally smooth)",
        },
        ProblemEntry {
            name: "rosenbrock",
            description: "sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2",
            constants: "x* = (1,...,1), f* = 0 exact",
        },
        ProblemEntry {
            name: "lessard",
            description: "Lessard-Recht-Packard 2016 sec. 4.6 piecewise quadratic (heavy-ball counterexample), separable in d dims",
            constants: "mu = 1, L = 25, x* = 0, f* = 0 exact",
        },
        ProblemEntry {
            name: "one_minus_cos",
            description: "a sum_i (1 - cos x_i), smooth non-convex",
            constants: "L = a exact, inf f = 0",
        },
        ProblemEntry {
            name: "rational_bump",
            description: "a sum_i x_i^2/(1 + x_i^2), smooth non-convex",
            constants: "L = 2a exact, inf f = 0 at 0",
        },
        ProblemEntry {
            name: "tanh_neuron",
            description: "m^-1 sum 1/2 (tanh(w.x_k) - y_k)^2, |y| <= 1: smooth non-convex finite sum",
            constants: "L <= c* lambda_max(X^T X)/m, c* = 1.2325... (exact for m = d = 1)",
        },
        ProblemEntry {
            name: "shifted_quadratic",
            description: "1/2 sum_i a_i x_i^2 + c (inf f = c != 0)",
            constants: "mu = min a_i, L = max a_i, x* = 0, f* = c exact",
        },
    ]
}

/// A source of (possibly stochastic) gradients at a query point. Stochastic oracles own their
/// seeded RNG, so a run is reproducible bit for bit.
pub trait GradientOracle {
    /// Dimension n.
    fn dim(&self) -> usize;
    /// A gradient estimate at `x`, written into `g`.
    fn gradient_into(&mut self, x: &DVector<f64>, g: &mut DVector<f64>);
}

/// The exact gradient of an [`Objective`] as a (deterministic) [`GradientOracle`].
pub struct Exact<'a, P: Objective + ?Sized>(pub &'a P);

impl<P: Objective + ?Sized> GradientOracle for Exact<'_, P> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn gradient_into(&mut self, x: &DVector<f64>, g: &mut DVector<f64>) {
        self.0.gradient_into(x, g)
    }
}

/// Central finite-difference gradient, step `h` per coordinate: used by the tests that check
/// every analytic gradient. Truncation error is O(h² f'''), rounding error O(u |f| / h); with
/// `h = u^{1/3} · max(1, |x_i|)` both are about u^{2/3} ≈ 4e-11 relative to the scale of f.
pub fn finite_difference_gradient<P: Objective + ?Sized>(f: &P, x: &DVector<f64>) -> DVector<f64> {
    let h0 = crate::prec::UNIT_ROUNDOFF.cbrt();
    let mut g = DVector::zeros(x.len());
    let mut xp = x.clone();
    for i in 0..x.len() {
        let h = h0 * x[i].abs().max(1.0);
        let xi = x[i];
        xp[i] = xi + h;
        let fp = f.value(&xp);
        xp[i] = xi - h;
        let fm = f.value(&xp);
        xp[i] = xi;
        // (xi + h) - (xi - h) is the step actually taken after rounding.
        g[i] = (fp - fm) / ((xi + h) - (xi - h));
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_catalogue_names_unique_and_described() {
        let entries = catalogue();
        let mut names: Vec<&str> = entries.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), entries.len(), "duplicate names");
        assert!(entries
            .iter()
            .all(|e| !e.description.is_empty() && !e.constants.is_empty()));
        // The catalogue names are the `Objective::name`s of the problems they describe.
        let q = Quadratic::random(2, 1.0, 2.0, Spectrum::Uniform, 0).unwrap();
        let objectives: Vec<Box<dyn Objective>> = vec![
            Box::new(q),
            Box::new(LeastSquares::random(3, 2, 0.1, 0).unwrap()),
            Box::new(BinaryLogistic::random(3, 2, true, 0.0, 0).unwrap()),
            Box::new(Multinomial::random(3, 2, 3, true, 0.0, 0).unwrap()),
            Box::new(Mlp::random_teacher(3, 2, 2, 1, true, 0).unwrap()),
            Box::new(Rosenbrock::new(2).unwrap()),
            Box::new(Lessard::new(1).unwrap()),
            Box::new(OneMinusCos::new(1, 1.0).unwrap()),
            Box::new(RationalBump::new(1, 1.0).unwrap()),
            Box::new(TanhNeuron::random(3, 2, 0).unwrap()),
            Box::new(ShiftedQuadratic::new(vec![1.0], 1.0).unwrap()),
        ];
        for o in &objectives {
            assert!(
                names.contains(&o.name().as_str()),
                "{} not in the catalogue",
                o.name()
            );
        }
        assert_eq!(objectives.len(), entries.len());
    }
}
