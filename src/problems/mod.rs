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
//! | [`stochastic`] | mini-batch sampler, finite-sum oracle, additive-noise oracle |
//! | [`data`] | the vendored UCI digits data set |

pub mod data;
pub mod least_squares;
pub mod lessard;
pub mod logistic;
pub mod mlp;
pub mod quadratic;
pub mod rosenbrock;
pub mod smooth;
pub mod stochastic;

use nalgebra::DVector;

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
