//! # Heavy ball
//!
//! Polyak's heavy-ball method in the lecture's form (slide "Improved convergence rate:
//! minimizing over larger subspaces"):
//! $$\theta_{k+1} = \theta_k + \beta(\theta_k - \theta_{k-1}) - \alpha\\,\nabla L(\theta_k),
//!   \qquad k = 0, 1, \dots,$$
//! started from $\theta_{-1} = \theta_0$ unless a different $\theta_{-1}$ is supplied
//! (`theta_prev`: the worst cases of the rate claims start with $\theta_{-1} \ne \theta_0$).
//!
//! | symbol | field |
//! |---|---|
//! | α | `lr` |
//! | β | `momentum` |
//! | θ₋₁ | `theta_prev` (`None`: θ₋₁ = θ₀) |
//!
//! ## Tuned parameters
//! For a quadratic with Hessian spectrum in $[\mu, L]$, $\kappa = L/\mu$, Polyak's choice
//! ([`HeavyBallConfig::polyak_tuned`])
//! $$\alpha = \frac{4}{(\sqrt L + \sqrt\mu)^2}, \qquad
//!   \beta = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2$$
//! makes every 2×2 block of the iteration matrix have spectral radius
//! $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$ (Lessard, Recht, Packard 2016, §3.2). For general
//! smooth strongly convex functions these parameters need not converge (ibid. §4.6).
//! β is computed as $((\sqrt L - \sqrt\mu)/(\sqrt L + \sqrt\mu))^2$, algebraically the same
//! and free of the rounding of $L/\mu$.
//!
//! ## Conventions
//! * With a constant learning rate, PyTorch's `SGD(momentum=μ, dampening=0)` is this iteration
//!   with α = γ, β = μ, θ₋₁ = θ₀ (its buffer is $b_k = (\theta_{k-1} - \theta_k)/\gamma$); the
//!   two differ only by rounding (`tests/equivalences_momentum.rs`).
//! * β = 0 is gradient descent with step α.
//!
//! ## References
//! * B. T. Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR
//!   Comput. Math. Math. Phys. 4(5), 1964, eq. (9) and Theorem 9 —
//!   <https://doi.org/10.1016/0041-5553(64)90137-5>
//! * L. Lessard, B. Recht, A. Packard, *Analysis and design of optimization algorithms via
//!   integral quadratic constraints*, SIAM J. Optim. 26(1), 2016, §3.2 and §4.6 —
//!   <https://arxiv.org/abs/1408.3595>

use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "heavy-ball";

/// Hyperparameters of [`HeavyBall`] (serde; validate with [`HeavyBallConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeavyBallConfig {
    /// Step α > 0.
    pub lr: f64,
    /// Momentum β ∈ [0, 1).
    pub momentum: f64,
    /// θ₋₁; `None` means θ₋₁ = θ₀. Its length is checked against θ₀ on the first step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theta_prev: Option<Vec<f64>>,
}

impl HeavyBallConfig {
    /// Step α and momentum β, started from θ₋₁ = θ₀.
    pub fn new(lr: f64, momentum: f64) -> Self {
        Self {
            lr,
            momentum,
            theta_prev: None,
        }
    }

    /// Polyak's tuning for Hessian spectrum in [μ, L]: α = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))².
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] if μ or L is not positive and finite;
    /// [`HyperError::Incompatible`] if μ > L.
    pub fn polyak_tuned(mu: f64, l: f64) -> Result<Self, HyperError> {
        check_mu_l(NAME, mu, l)?;
        let (sqrt_l, sqrt_mu) = (l.sqrt(), mu.sqrt());
        let sum = sqrt_l + sqrt_mu;
        let ratio = (sqrt_l - sqrt_mu) / sum;
        Ok(Self::new(4.0 / (sum * sum), ratio * ratio))
    }

    /// Start from a given θ₋₁ instead of θ₋₁ = θ₀.
    pub fn with_theta_prev(mut self, theta_prev: Vec<f64>) -> Self {
        self.theta_prev = Some(theta_prev);
        self
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the first invalid field (`lr`, `momentum`,
    /// `theta_prev`).
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "momentum", self.momentum)?;
        if let Some(prev) = &self.theta_prev {
            for &v in prev {
                check::finite(NAME, "theta_prev", v)?;
            }
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`HeavyBallConfig::validate`].
    pub fn build(self) -> Result<HeavyBall, HyperError> {
        self.validate()?;
        Ok(HeavyBall {
            config: self,
            state: None,
        })
    }
}

/// 0 < μ ≤ L, both finite (shared by the tuned constructors of heavy ball and Nesterov).
pub(crate) fn check_mu_l(optimizer: &'static str, mu: f64, l: f64) -> Result<(), HyperError> {
    check::positive(optimizer, "mu", mu)?;
    check::positive(optimizer, "l", l)?;
    if mu > l {
        return Err(HyperError::Incompatible {
            optimizer,
            reason: format!("strong convexity mu = {mu} exceeds smoothness l = {l}; need 0 < mu <= l"),
        });
    }
    Ok(())
}

/// State of [`HeavyBall`], created on the first step.
#[derive(Debug, Clone)]
struct State {
    k: u64,
    /// θ_{k−1} (after k steps, the iterate before the current one).
    prev: DVector<f64>,
}

/// Heavy-ball method with validated hyperparameters and its state (see the module doc).
///
/// # Example
/// α = 0.1, β = 0.5, θ₋₁ = θ₀ = 1, gradients 2 then −1:
/// θ₁ = θ₀ + β(θ₀ − θ₋₁) − α·2 = 1 + 0 − 0.2 = 0.8;
/// θ₂ = θ₁ + β(θ₁ − θ₀) − α·(−1) = 0.8 + 0.5·(−0.2) + 0.1 = 0.8.
/// Each value is O(1) and takes ≤ 4 roundings of 2⁻⁵³: the error is below 1e-15.
/// ```
/// use optverify::prelude::*;
///
/// let mut hb = HeavyBallConfig::new(0.1, 0.5).build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// hb.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// assert!((x[0] - 0.8).abs() < 1e-15, "{}", x[0]);
/// hb.step(&mut x, &DVector::from_vec(vec![-1.0])).unwrap();
/// assert!((x[0] - 0.8).abs() < 1e-15, "{}", x[0]);
/// assert_eq!(hb.steps_taken(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct HeavyBall {
    config: HeavyBallConfig,
    state: Option<State>,
}

impl HeavyBall {
    /// The hyperparameters.
    pub fn config(&self) -> &HeavyBallConfig {
        &self.config
    }

    /// The step α.
    pub fn lr(&self) -> f64 {
        self.config.lr
    }

    /// The momentum β.
    pub fn momentum(&self) -> f64 {
        self.config.momentum
    }

    /// θ_{k−1}, the iterate before the current parameters; `None` before the first step.
    pub fn previous(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.prev)
    }

    /// Steps taken (k).
    pub fn k(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.k)
    }
}

impl Optimizer for HeavyBall {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        format!(
            "lecture form: theta += beta (theta - theta_prev) - alpha grad; alpha {}, beta {}, {}",
            self.config.lr,
            self.config.momentum,
            if self.config.theta_prev.is_some() {
                "given theta_-1"
            } else {
                "theta_-1 = theta_0"
            }
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.prev.len()))?;
        if self.state.is_none() {
            let prev = match &self.config.theta_prev {
                Some(p) => {
                    let p = DVector::from_column_slice(p);
                    crate::error::step_check::len("theta_prev", &p, x.len())?;
                    p
                }
                None => x.clone(),
            };
            self.state = Some(State { k: 0, prev });
        }
        let (alpha, beta) = (self.config.lr, self.config.momentum);
        let state = self.state.as_mut().expect("state initialised above");
        let n = x.len();
        let (x, g, prev) = (
            &mut x.as_mut_slice()[..n],
            &g.as_slice()[..n],
            &mut state.prev.as_mut_slice()[..n],
        );
        vectorised(
            #[inline(always)]
            || {
                for i in 0..n {
                    let current = x[i];
                    x[i] = current + beta * (current - prev[i]) - alpha * g[i];
                    prev[i] = current;
                }
            },
        );
        state.k += 1;
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.k()
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "Polyak heavy-ball, the lecture's form theta_{k+1} = theta_k + beta (theta_k - \
                      theta_{k-1}) - alpha grad L(theta_k) (Polyak 1964; Lessard, Recht, Packard \
                      2016 §3.2)",
        variants: vec![
            "theta_-1 = theta_0 (default) or a given theta_-1",
            "polyak-tuned: alpha = 4/(sqrt L + sqrt mu)^2, beta = ((sqrt kappa - 1)/(sqrt kappa + 1))^2",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::trajectory_of;
    use crate::prec::UNIT_ROUNDOFF;

    const X0: [f64; 2] = [1.0, -2.0];
    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];

    fn run(config: HeavyBallConfig, steps: usize) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS[..steps])
    }

    #[test]
    fn three_steps_exact() {
        // α = ½, β = ½, dyadic inputs with ≤ 4 significant bits: every operation is exact,
        // so the exact rationals (Python `fractions`) must be reproduced bit for bit.
        // θ₁ = θ₀ − ½g₁ = (−½, −1.75); θ₂ = θ₁ + ½(θ₁ − θ₀) − ½g₂ = (−0.75, −1.75);
        // θ₃ = θ₂ + ½(θ₂ − θ₁) − ½g₃ = (−1.125, −2.75).
        let got = run(HeavyBallConfig::new(0.5, 0.5), 3);
        let expected = [[-0.5, -1.75], [-0.75, -1.75], [-1.125, -2.75]];
        for (k, e) in expected.iter().enumerate() {
            assert_eq!(got[k + 1].as_slice(), e, "step {}", k + 1);
        }
    }

    #[test]
    fn given_theta_prev_enters_the_first_step_exactly() {
        // θ₋₁ = (0, 0): θ₁ = θ₀ + ½θ₀ − ½g₁ = (0, −2.75), θ₂ = θ₁ + ½(θ₁ − θ₀) − ½g₂ = (0, −3.25).
        let got = run(HeavyBallConfig::new(0.5, 0.5).with_theta_prev(vec![0.0, 0.0]), 2);
        assert_eq!(got[1].as_slice(), &[0.0, -2.75]);
        assert_eq!(got[2].as_slice(), &[0.0, -3.25]);
    }

    #[test]
    fn polyak_tuned_matches_closed_form() {
        // μ = 1, L = 25 (Lessard et al. §4.6): α = 4/36 = 1/9, β = (4/6)² = 4/9. √25 and √1 are
        // exact, so α and β are each one or two correctly rounded operations away from 1/9 and
        // 4/9: within 2 ulps (relative 2·2u = 4u).
        let c = HeavyBallConfig::polyak_tuned(1.0, 25.0).unwrap();
        assert!((c.lr - 1.0 / 9.0).abs() <= 4.0 * UNIT_ROUNDOFF / 9.0);
        assert!((c.momentum - 4.0 / 9.0).abs() <= 8.0 * UNIT_ROUNDOFF * 4.0 / 9.0);
        // κ = 1: β = 0, α = 1/L (one Newton-like step).
        let c = HeavyBallConfig::polyak_tuned(4.0, 4.0).unwrap();
        assert_eq!((c.lr, c.momentum), (0.25, 0.0));
    }

    #[test]
    fn validation_table() {
        for c in [
            HeavyBallConfig::new(0.1, 0.0),
            HeavyBallConfig::new(10.0, 0.999),
            HeavyBallConfig::new(0.1, 0.5).with_theta_prev(vec![1.0, -1.0]),
        ] {
            assert!(c.clone().build().is_ok(), "{c:?}");
        }
        let bad = [
            (HeavyBallConfig::new(0.0, 0.5), "lr"),
            (HeavyBallConfig::new(-1.0, 0.5), "lr"),
            (HeavyBallConfig::new(f64::NAN, 0.5), "lr"),
            (HeavyBallConfig::new(0.1, 1.0), "momentum"),
            (HeavyBallConfig::new(0.1, 1.5), "momentum"),
            (HeavyBallConfig::new(0.1, -0.5), "momentum"),
            (HeavyBallConfig::new(0.1, f64::NAN), "momentum"),
            (
                HeavyBallConfig::new(0.1, 0.5).with_theta_prev(vec![0.0, f64::INFINITY]),
                "theta_prev",
            ),
        ];
        for (c, field) in bad {
            match c.clone().build() {
                Err(HyperError::OutOfRange {
                    optimizer, field: f, ..
                }) => assert_eq!((optimizer, f), (NAME, field), "{c:?}"),
                other => panic!("{c:?}: expected OutOfRange on {field}, got {other:?}"),
            }
        }
        for (mu, l, field) in [
            (0.0, 1.0, "mu"),
            (f64::NAN, 1.0, "mu"),
            (1.0, -1.0, "l"),
            (1.0, f64::INFINITY, "l"),
        ] {
            match HeavyBallConfig::polyak_tuned(mu, l) {
                Err(HyperError::OutOfRange { field: f, .. }) => assert_eq!(f, field),
                other => panic!("mu {mu}, l {l}: {other:?}"),
            }
        }
        assert!(matches!(
            HeavyBallConfig::polyak_tuned(2.0, 1.0),
            Err(HyperError::Incompatible { optimizer: NAME, .. })
        ));
    }

    #[test]
    fn step_errors() {
        let mut opt = HeavyBallConfig::new(0.5, 0.5).build().unwrap();
        let mut x = DVector::from_row_slice(&X0);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, 2.0, 3.0])),
            Err(StepError::DimensionMismatch {
                expected: 2,
                got: 3,
                ..
            })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[f64::NEG_INFINITY, 0.0])),
            Err(StepError::NonFinite { index: 0, .. })
        ));
        assert_eq!((opt.steps_taken(), x.as_slice()), (0, &X0[..]));
        // θ₋₁ of the wrong length is reported on the first step, before anything moves.
        let mut opt = HeavyBallConfig::new(0.5, 0.5)
            .with_theta_prev(vec![0.0; 3])
            .build()
            .unwrap();
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&GRADS[0])),
            Err(StepError::DimensionMismatch {
                what: "theta_prev",
                expected: 2,
                got: 3
            })
        ));
        assert_eq!((opt.steps_taken(), x.as_slice()), (0, &X0[..]));
    }
}
