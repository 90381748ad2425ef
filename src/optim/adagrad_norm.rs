//! # AdaGrad-Norm (scalar AdaGrad)
//!
//! Ward, Wu and Bottou (2018), Algorithm 1 "AdaGrad-Norm": one scalar step size $\eta/b$
//! for all coordinates, $b$ the root of $b_0^2$ plus the sum of past squared gradient norms.
//! In the paper's indexing, for $j = 0, 1, \dots$ with $b_0 > 0$, $\eta > 0$:
//! $$b_{j+1}^2 = b_j^2 + \Vert G(x_j)\Vert^2, \qquad x_{j+1} = x_j - \frac{\eta}{b_{j+1}}\\, G(x_j),$$
//! where $G(x_j)$ is the (stochastic) gradient at the *current* iterate $x_j$, and the step uses
//! the *updated* $b_{j+1}$ (so every step has length $\eta\Vert G\Vert/b_{j+1} < \eta$).
//!
//! | symbol | field / accessor |
//! |---|---|
//! | η | `eta` (the lecture uses η = 1) |
//! | $b_0$ | `b0`, [`AdaGradNorm::b0`] |
//! | $b_j$ | [`AdaGradNorm::b`] (after $j$ steps), $b_j^2$: [`AdaGradNorm::b_squared`] |
//! | $j$ | [`AdaGradNorm::steps`] |
//!
//! ## The lecture's indices
//! The slide "Scalar AdaGrad update algorithm" prints
//! $$b_k^2 = b_{b-1}^2 + \Vert\nabla L(\theta^{(k)})\Vert^2, \qquad
//!   \theta^{(k)} = \theta^{(k-1)} - b_k^{-1}\nabla L(\theta^{(k)}).$$
//! Read literally this is *implicit*: the gradient is taken at the point $\theta^{(k)}$ being
//! computed (a backward step), and $b_{b-1}$ is a typo for $b_{k-1}$. The paper's Algorithm
//! 1 is explicit: shifting the paper's $j + 1 \to k$, it reads
//! $b_k^2 = b_{k-1}^2 + \Vert G(\theta^{(k-1)})\Vert^2$, $\theta^{(k)} = \theta^{(k-1)} - \eta\\,
//! b_k^{-1} G(\theta^{(k-1)})$, i.e. the lecture's formula with $\nabla L(\theta^{(k)})$
//! replaced by $\nabla L(\theta^{(k-1)})$ in both lines and η = 1. This file implements the
//! paper's explicit update; the gradient it is given is the one at the current parameters.
//! (The lecture's stochastic slide prints the same two lines with $g^{(k)}$.)
//!
//! ## Conventions
//! * No framework ships AdaGrad-Norm (PyTorch, optax, Keras, burn, candle).
//! * In one dimension it is diagonal AdaGrad with $s_0 = b_0^2$, ε = 0, ε inside the root and
//!   γ = η, bit for bit: the state stored here is $b^2$ (not $b$), updated by the same
//!   operations (`tests/equivalences_momentum.rs`).
//! * A constant step $1/b$ is plain GD: `Sgd::gd(1.0 / b)`.
//! * $\Vert G\Vert^2$ is summed left to right over coordinates. If $b^2$ overflows, the step is
//!   refused ([`StepError::Invalid`]) instead of silently freezing the parameters.
//!
//! ## References
//! * R. Ward, X. Wu, L. Bottou, *AdaGrad stepsizes: sharp convergence over nonconvex
//!   landscapes*, ICML 2019 / JMLR 21 (2020); arXiv:1806.01811, Algorithm 1 (AdaGrad-Norm)
//!   — <https://arxiv.org/abs/1806.01811>

use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "adagrad-norm";

/// Hyperparameters of [`AdaGradNorm`] (serde; validate with [`AdaGradNormConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaGradNormConfig {
    /// Step scale η > 0.
    pub eta: f64,
    /// Initial b₀ > 0 (with b₀² a positive finite f64).
    pub b0: f64,
}

impl AdaGradNormConfig {
    /// η and b₀.
    pub fn new(eta: f64, b0: f64) -> Self {
        Self { eta, b0 }
    }

    /// The lecture's form: η = 1.
    pub fn lecture(b0: f64) -> Self {
        Self::new(1.0, b0)
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming `eta` or `b0`.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "eta", self.eta)?;
        check::positive(NAME, "b0", self.b0)?;
        let b0_squared = self.b0 * self.b0;
        if !(b0_squared.is_finite() && b0_squared > 0.0) {
            return Err(HyperError::OutOfRange {
                optimizer: NAME,
                field: "b0",
                value: self.b0,
                range: "(0, inf) with b0^2 a positive finite f64 (about 1.5e-154 to 1.3e154)",
            });
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`AdaGradNormConfig::validate`].
    pub fn build(self) -> Result<AdaGradNorm, HyperError> {
        self.validate()?;
        Ok(AdaGradNorm {
            b_squared: self.b0 * self.b0,
            config: self,
            steps: 0,
            len: None,
        })
    }
}

/// AdaGrad-Norm with validated hyperparameters and its state (see the module doc).
///
/// # Example
/// η = 1, b₀ = 12, x₀ = (1, 1). Step 1, G = (3, 4): b₁² = 144 + 25 = 169, b₁ = 13,
/// x₁ = x₀ − G/13 = (10/13, 9/13). Step 2, G = (16, 4): b₂² = 169 + 272 = 441, b₂ = 21,
/// x₂ = x₁ − G/21 = (10/13 − 16/21, 9/13 − 4/21). The b's are exact (integers, exact
/// square roots); each coordinate takes ≤ 4 roundings of values below 1: error < 1e-15.
/// ```
/// use optverify::prelude::*;
///
/// let mut agn = AdaGradNormConfig::new(1.0, 12.0).build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0, 1.0]);
/// agn.step(&mut x, &DVector::from_vec(vec![3.0, 4.0])).unwrap();
/// assert_eq!(agn.b(), 13.0);
/// assert!((x[0] - 10.0 / 13.0).abs() < 1e-15 && (x[1] - 9.0 / 13.0).abs() < 1e-15, "{x}");
/// agn.step(&mut x, &DVector::from_vec(vec![16.0, 4.0])).unwrap();
/// assert_eq!(agn.b(), 21.0);
/// let x2 = [10.0 / 13.0 - 16.0 / 21.0, 9.0 / 13.0 - 4.0 / 21.0];
/// assert!((x[0] - x2[0]).abs() < 1e-15 && (x[1] - x2[1]).abs() < 1e-15, "{x}");
/// ```
#[derive(Debug, Clone)]
pub struct AdaGradNorm {
    config: AdaGradNormConfig,
    /// b_j² = b₀² + Σ_{i<j} ‖G(x_i)‖².
    b_squared: f64,
    steps: u64,
    /// Parameter length, fixed by the first step.
    len: Option<usize>,
}

impl AdaGradNorm {
    /// The hyperparameters.
    pub fn config(&self) -> &AdaGradNormConfig {
        &self.config
    }

    /// The current b_j (b₀ before the first step): the next step is η/b_{j+1} with
    /// b_{j+1}² = b_j² + ‖G(x_j)‖².
    pub fn b(&self) -> f64 {
        self.b_squared.sqrt()
    }

    /// b_j², the stored state.
    pub fn b_squared(&self) -> f64 {
        self.b_squared
    }

    /// b₀.
    pub fn b0(&self) -> f64 {
        self.config.b0
    }

    /// η.
    pub fn eta(&self) -> f64 {
        self.config.eta
    }

    /// Steps taken (j).
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

impl Optimizer for AdaGradNorm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        format!(
            "Ward et al. Algorithm 1 (explicit, updated b): eta {}, b0 {}",
            self.config.eta, self.config.b0
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        crate::error::step_check::len("gradient", g, x.len())?;
        if let Some(n) = self.len {
            crate::error::step_check::len("parameters", x, n)?;
        }
        // ‖G(x_j)‖², left to right: a chain of dependent additions, so the loop runs at the
        // adder's latency if the loads run ahead of it. Over the slice (nalgebra's strided
        // iterator puts its pointer updates, through conditional moves, in the loop's
        // dependency chain: 2.5× slower at 10⁶).
        let norm_squared = g.as_slice().iter().fold(0.0, |acc, gi| acc + gi * gi);
        // ‖g‖² is finite iff every gᵢ is and the sum did not overflow: the usual input check
        // (which names the first non-finite entry) runs only then, saving a sweep over g.
        if !norm_squared.is_finite() {
            check_step_input(x, g, self.len)?;
        }
        let b_squared = self.b_squared + norm_squared;
        if !b_squared.is_finite() {
            return Err(StepError::Invalid(format!(
                "adagrad-norm: b^2 = {} + {norm_squared} overflows; parameters left unchanged",
                self.b_squared
            )));
        }
        self.len = Some(x.len());
        self.b_squared = b_squared;
        let b = b_squared.sqrt();
        let eta = self.config.eta;
        let (x, g) = (x.as_mut_slice(), g.as_slice());
        vectorised(
            #[inline(always)]
            || {
                for (xi, gi) in x.iter_mut().zip(g) {
                    // Same order as AdaGrad's η·(g/denom), which makes the 1-D equivalence exact.
                    *xi -= eta * (gi / b);
                }
            },
        );
        self.steps += 1;
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.steps
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "AdaGrad-Norm / scalar AdaGrad (Ward, Wu, Bottou 2018, arXiv:1806.01811, \
                      Algorithm 1): b_{j+1}^2 = b_j^2 + |g_j|^2, x_{j+1} = x_j - eta g_j / b_{j+1}",
        variants: vec!["paper: eta, b0 > 0", "lecture: eta = 1"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::UNIT_ROUNDOFF;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const X0: [f64; 2] = [1.0, -2.0];
    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];

    fn run(config: AdaGradNormConfig) -> (Vec<DVector<f64>>, Vec<f64>) {
        let mut opt = config.build().unwrap();
        let mut x = DVector::from_row_slice(&X0);
        let (mut xs, mut bs) = (vec![x.clone()], vec![opt.b()]);
        for g in &GRADS {
            opt.step(&mut x, &DVector::from_row_slice(g)).unwrap();
            xs.push(x.clone());
            bs.push(opt.b());
        }
        assert_eq!(opt.steps(), 3);
        (xs, bs)
    }

    /// Open loop (supplied gradients): θ_k = θ₀ − Σ Δ_j with Δ_j independent of θ, so errors
    /// of θ add without amplification. Relative error of Δ_j = η(g/b) at step j (j ≤ 3 here): ‖g‖²
    /// (2 products, 2 sums) and j more sums into b² give ≤ (4 + j)u ≤ 7u relative on b²
    /// (all terms positive), √ halves it and adds u, then division and the product with η add
    /// u each: ≤ 6.5u; we use 8u. The subtraction adds u|θ_j|. Same argument for b_j: ≤ 5u.
    fn assert_within_open_loop_bound(
        got: &[DVector<f64>],
        bs: &[f64],
        reference: &[[f64; 2]],
        b_ref: &[f64],
    ) {
        for i in 0..2 {
            let (mut bound, mut prev) = (0.0, X0[i]);
            for (k, r) in reference.iter().enumerate() {
                bound += 8.0 * UNIT_ROUNDOFF * (prev - r[i]).abs() + UNIT_ROUNDOFF * r[i].abs();
                prev = r[i];
                let err = (got[k + 1][i] - r[i]).abs();
                assert!(err <= bound, "step {} coord {i}: err {err:e} > {bound:e}", k + 1);
            }
        }
        for (k, &b) in b_ref.iter().enumerate() {
            assert!((bs[k + 1] - b).abs() <= 5.0 * UNIT_ROUNDOFF * b, "b_{}", k + 1);
        }
    }

    // References: the paper's update in 60-digit decimal arithmetic from the exact binary
    // values of the inputs (Python `decimal`), rounded once to f64.

    #[test]
    fn lecture_eta_one_three_steps_by_hand() {
        // b₀ = 1: b₁² = 1 + 9.25 = 10.25, θ₁ = θ₀ − g₁/√10.25, …
        let (xs, bs) = run(AdaGradNormConfig::lecture(1.0));
        assert_eq!(bs[0], 1.0);
        assert_eq!(bs[1], 10.25_f64.sqrt());
        assert_within_open_loop_bound(
            &xs,
            &bs,
            &[
                [0.06295742866836361, -1.843826238111394],
                [0.3602750871672301, -1.9181556527361106],
                [0.23353023706233456, -2.4251350531556928],
            ],
            &[3.2015621187164243, 3.3634060117684275, 3.944933459514875],
        );
    }

    #[test]
    fn eta_half_small_b0_three_steps_by_hand() {
        let (xs, bs) = run(AdaGradNormConfig::new(0.5, 0.1));
        assert_within_open_loop_bound(
            &xs,
            &bs,
            &[
                [0.5070694150744188, -1.9178449025124031],
                [0.6626937679580938, -1.9567509907333218],
                [0.5972040716238121, -2.2187097760704484],
            ],
            &[3.043024810940588, 3.2128647652834688, 3.817394399325278],
        );
    }

    #[test]
    fn one_dimensional_pythagorean_steps_exact_up_to_one_division() {
        // b₀ = 3, g = 4, 12, 84: b² = 25, 169, 7225, so b = 5, 13, 85 exactly and the only
        // roundings are g/b (≤ u relative) and the subtraction; with η = 1 the product is exact.
        let mut opt = AdaGradNormConfig::lecture(3.0).build().unwrap();
        let mut x = DVector::from_row_slice(&[0.0]);
        for (g, b) in [(4.0, 5.0), (12.0, 13.0), (84.0, 85.0)] {
            let before = x[0];
            opt.step(&mut x, &DVector::from_row_slice(&[g])).unwrap();
            assert_eq!(opt.b(), b);
            assert_eq!(x[0], before - g / b);
        }
        assert_eq!((opt.b0(), opt.b_squared(), opt.steps()), (3.0, 7225.0, 3));
    }

    #[test]
    fn every_step_is_shorter_than_eta() {
        // ‖x_{j+1} − x_j‖ = η‖g‖/b_{j+1} ≤ η because b_{j+1}² = b_j² + ‖g‖² ≥ ‖g‖². In floating
        // point the computed step is within a few u of that, so ≤ η(1 + 8u).
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let eta = 0.3;
        let mut opt = AdaGradNormConfig::new(eta, 1e-3).build().unwrap();
        let mut x = DVector::from_fn(5, |_, _| rng.random_range(-1.0..1.0));
        for _ in 0..200 {
            let scale = 10f64.powf(rng.random_range(-3.0..3.0));
            let g = DVector::from_fn(5, |_, _| scale * rng.random_range(-1.0..1.0));
            let before = x.clone();
            let b_before = opt.b();
            opt.step(&mut x, &g).unwrap();
            assert!((&x - &before).norm() <= eta * (1.0 + 8.0 * UNIT_ROUNDOFF));
            assert!(opt.b() >= b_before);
        }
    }

    #[test]
    fn validation_table() {
        for c in [
            AdaGradNormConfig::lecture(1e-3),
            AdaGradNormConfig::new(0.1, 100.0),
        ] {
            assert!(c.clone().build().is_ok(), "{c:?}");
        }
        let bad = [
            (AdaGradNormConfig::new(0.0, 1.0), "eta"),
            (AdaGradNormConfig::new(-1.0, 1.0), "eta"),
            (AdaGradNormConfig::new(f64::NAN, 1.0), "eta"),
            (AdaGradNormConfig::lecture(0.0), "b0"),
            (AdaGradNormConfig::lecture(-1.0), "b0"),
            (AdaGradNormConfig::lecture(f64::NAN), "b0"),
            (AdaGradNormConfig::lecture(f64::INFINITY), "b0"),
            (AdaGradNormConfig::lecture(1e200), "b0"),
            (AdaGradNormConfig::lecture(1e-200), "b0"),
        ];
        for (c, field) in bad {
            match c.clone().build() {
                Err(HyperError::OutOfRange {
                    optimizer, field: f, ..
                }) => assert_eq!((optimizer, f), (NAME, field), "{c:?}"),
                other => panic!("{c:?}: expected OutOfRange on {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn step_errors() {
        let mut opt = AdaGradNormConfig::lecture(1.0).build().unwrap();
        let mut x = DVector::from_row_slice(&X0);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::INFINITY])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        // Finite gradient whose squared norm overflows: refused, nothing changes.
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1e200, 0.0])),
            Err(StepError::Invalid(_))
        ));
        assert_eq!((opt.steps(), opt.b(), x.as_slice()), (0, 1.0, &X0[..]));
        opt.step(&mut x, &DVector::from_row_slice(&GRADS[0])).unwrap();
        let mut y = DVector::zeros(3);
        assert!(matches!(
            opt.step(&mut y, &DVector::zeros(3)),
            Err(StepError::DimensionMismatch {
                expected: 2,
                got: 3,
                ..
            })
        ));
    }
}
