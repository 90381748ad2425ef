//! # AdaDelta
//!
//! Zeiler (2012), Algorithm 1 ("Computing ADADELTA update at time t"), element-wise:
//! $$\begin{aligned}
//! E\[g^2\]\_t &= \rho\\,E\[g^2\]\_{t-1} + (1-\rho)\\,g_t^2\\\\
//! \Delta x_t &= -\frac{\mathrm{RMS}\[\Delta x\]\_{t-1}}{\mathrm{RMS}\[g\]\_t}\\,g_t,
//!   \qquad \mathrm{RMS}\[y\]\_t = \sqrt{E\[y^2\]\_t + \epsilon}\\\\
//! E\[\Delta x^2\]\_t &= \rho\\,E\[\Delta x^2\]\_{t-1} + (1-\rho)\\,\Delta x_t^2\\\\
//! x_{t+1} &= x_t + \eta\\,\Delta x_t
//! \end{aligned}$$
//! with $E\[g^2\]\_0 = E\[\Delta x^2\]\_0 = 0$. The paper has no learning rate (η = 1); PyTorch and
//! Keras multiply the applied step by `lr` but accumulate the unscaled Δx.
//!
//! The first step is $|\Delta x_1| = \sqrt{\epsilon}\\,|g_1|/\sqrt{(1-\rho)g_1^2 + \epsilon}$,
//! which tends to $\sqrt{\epsilon/(1-\rho)}$ for $|g_1| \gg \sqrt{\epsilon}$: ε sets the
//! initial step size (≈ 4.5e-3 for the paper's ρ = 0.95, ε = 1e-6).
//!
//! | symbol | field | PyTorch | optax | Keras |
//! |---|---|---|---|---|
//! | ρ | `rho` | `rho` (0.9) | `rho` (0.9) | `rho` (0.95) |
//! | ε | `eps` | `eps` (1e-6) | `eps` (1e-6) | `epsilon` (1e-7) |
//! | η | `lr` | `lr` (1.0) | `learning_rate` (None = 1) | `learning_rate` (1e-3) |
//! | λ | `weight_decay` | coupled L2 | coupled (`add_decayed_weights` first) | decoupled × lr |
//!
//! ## Conventions
//! * ε sits inside both roots (all three frameworks and the paper agree).
//! * PyTorch computes `sqrt(u + ε) / sqrt(v + ε) * g`, optax the same; Keras computes
//!   `sqrt(u + ε) * g / sqrt(v + ε)` (a rounding-level reordering, not reproduced).
//! * Weight decay: PyTorch and optax add λθ to the gradient (coupled); Keras decays the
//!   parameters by ηλθ before the step (decoupled, multiplied by the learning rate).
//!
//! ## References
//! * M. D. Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, 2012, Algorithm 1 —
//!   <https://arxiv.org/abs/1212.5701>
//! * PyTorch `torch/optim/adadelta.py` (`_single_tensor_adadelta`); optax `_src/transform.py`
//!   (`scale_by_adadelta`) and `_src/alias.py` (`adadelta`); Keras
//!   `keras/src/optimizers/adadelta.py`.

use super::conventions::WeightDecay;
use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "adadelta";

/// Hyperparameters of [`AdaDelta`] (serde; validate with [`AdaDeltaConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaDeltaConfig {
    /// Multiplier η > 0 of the applied step (1 in the paper).
    pub lr: f64,
    /// Decay ρ ∈ [0, 1).
    pub rho: f64,
    /// ε > 0, inside both roots.
    pub eps: f64,
    /// `None`, `CoupledL2` (PyTorch, optax) or `DecoupledTimesLr` (Keras).
    pub weight_decay: WeightDecay,
}

impl Default for AdaDeltaConfig {
    /// The paper's defaults (Zeiler §4: ρ = 0.95, ε = 1e-6, no learning rate).
    fn default() -> Self {
        Self::paper()
    }
}

impl AdaDeltaConfig {
    /// Zeiler 2012 §4: ρ = 0.95, ε = 1e-6, η = 1.
    pub fn paper() -> Self {
        Self {
            lr: 1.0,
            rho: 0.95,
            eps: 1e-6,
            weight_decay: WeightDecay::None,
        }
    }

    /// `torch.optim.Adadelta` defaults: lr 1.0, rho 0.9, eps 1e-6.
    pub fn pytorch() -> Self {
        Self {
            rho: 0.9,
            ..Self::paper()
        }
    }

    /// `optax.adadelta` defaults: learning_rate None (no scaling), rho 0.9, eps 1e-6.
    pub fn optax() -> Self {
        Self::pytorch()
    }

    /// `keras.optimizers.Adadelta` defaults: learning_rate 1e-3, rho 0.95, epsilon 1e-7.
    pub fn keras() -> Self {
        Self {
            lr: 1e-3,
            rho: 0.95,
            eps: 1e-7,
            weight_decay: WeightDecay::None,
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError`] naming the first invalid field and its valid range.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "rho", self.rho)?;
        check::positive(NAME, "eps", self.eps)?;
        self.weight_decay.validate(NAME)?;
        if let WeightDecay::DecoupledSchedule(_) = self.weight_decay {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "AdaDelta has no schedule multiplier; use CoupledL2 or DecoupledTimesLr".into(),
            });
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`AdaDeltaConfig::validate`].
    pub fn build(self) -> Result<AdaDelta, HyperError> {
        self.validate()?;
        Ok(AdaDelta {
            config: self,
            state: None,
        })
    }
}

#[derive(Debug, Clone)]
struct State {
    t: u64,
    /// E[g²]_t.
    sq_grad: DVector<f64>,
    /// E[Δx²]_t.
    sq_delta: DVector<f64>,
    /// Δx_t of the last step (unscaled by η).
    delta: DVector<f64>,
}

/// AdaDelta with validated hyperparameters and its state (see the module documentation).
///
/// # Example
/// PyTorch's defaults (ρ = 0.9, ε = 1e-6, lr = 1), x₀ = 1, g = 1 then −1:
/// E\[g²\]₁ = 0.1, Δx₁ = −√(0 + ε)/√(0.1 + ε)·1 = −1e-3/√0.100001 ≈ −0.00316226,
/// E\[Δx²\]₁ = 0.1·Δx₁² ≈ 9.9999e-7, x₁ ≈ 0.99683774;
/// E\[g²\]₂ = 0.09 + 0.1 = 0.19, Δx₂ = +√(E\[Δx²\]₁ + ε)/√(0.19 + ε) ≈ 0.00324441,
/// x₂ ≈ 1.00008215. Each value takes a few roundings of O(1) quantities: error < 1e-15.
/// ```
/// use optverify::prelude::*;
///
/// let mut ad = AdaDeltaConfig::pytorch().build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// ad.step(&mut x, &DVector::from_vec(vec![1.0])).unwrap();
/// let eps = 1e-6;
/// let d1 = f64::sqrt(eps) / f64::sqrt(0.1 + eps);
/// assert!((x[0] - (1.0 - d1)).abs() < 1e-15 && (x[0] - 0.99683774).abs() < 1e-8, "{}", x[0]);
/// ad.step(&mut x, &DVector::from_vec(vec![-1.0])).unwrap();
/// let d2 = f64::sqrt(0.1 * d1 * d1 + eps) / f64::sqrt(0.19 + eps);
/// assert!((x[0] - (1.0 - d1 + d2)).abs() < 1e-15 && (x[0] - 1.00008215).abs() < 1e-8, "{}", x[0]);
/// ```
#[derive(Debug, Clone)]
pub struct AdaDelta {
    config: AdaDeltaConfig,
    state: Option<State>,
}

impl AdaDelta {
    /// The hyperparameters.
    pub fn config(&self) -> &AdaDeltaConfig {
        &self.config
    }

    /// `E[g²]_t`; `None` before the first step.
    pub fn sq_grad(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.sq_grad)
    }

    /// `E[Δx²]_t`; `None` before the first step.
    pub fn sq_delta(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.sq_delta)
    }

    /// The last Δx_t (before multiplication by η); `None` before the first step.
    pub fn last_delta(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.delta)
    }
}

impl Optimizer for AdaDelta {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        format!(
            "lr {}, rho {}, eps {} inside both roots, weight decay {:?}",
            self.config.lr, self.config.rho, self.config.eps, self.config.weight_decay
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.sq_grad.len()))?;
        let AdaDeltaConfig {
            lr,
            rho,
            eps,
            weight_decay,
        } = self.config;
        let n = x.len();
        let state = self.state.get_or_insert_with(|| State {
            t: 0,
            sq_grad: DVector::zeros(n),
            sq_delta: DVector::zeros(n),
            delta: DVector::zeros(n),
        });
        state.t += 1;
        if let WeightDecay::DecoupledTimesLr(lambda) = weight_decay {
            // Keras decays before the step; the step below does not read θ, so the order only
            // matters through rounding.
            for xi in x.iter_mut() {
                *xi -= *xi * lambda * lr;
            }
        }
        let (x, g) = (&mut x.as_mut_slice()[..n], &g.as_slice()[..n]);
        let sq_grad = &mut state.sq_grad.as_mut_slice()[..n];
        let sq_delta = &mut state.sq_delta.as_mut_slice()[..n];
        let delta_out = &mut state.delta.as_mut_slice()[..n];
        /// One sweep; the coupled decay is decided before it (λ = None: no term at all).
        #[inline(always)]
        fn sweep(
            [lr, rho, eps]: [f64; 3],
            lambda: Option<f64>,
            (x, g): (&mut [f64], &[f64]),
            [sq_grad, sq_delta, delta_out]: [&mut [f64]; 3],
        ) {
            let one_minus_rho = 1.0 - rho;
            let n = x.len();
            let (g, sq_grad, sq_delta, delta_out) = (
                &g[..n],
                &mut sq_grad[..n],
                &mut sq_delta[..n],
                &mut delta_out[..n],
            );
            for i in 0..n {
                // Line 5 (with PyTorch's coupled decay): g_t.
                let gi = match lambda {
                    Some(lambda) => g[i] + lambda * x[i],
                    None => g[i],
                };
                // Line 6: accumulate gradient.
                sq_grad[i] = rho * sq_grad[i] + one_minus_rho * gi * gi;
                // Line 7: compute update, RMS[Δx]_{t−1} / RMS[g]_t.
                let rms_delta = (sq_delta[i] + eps).sqrt();
                let rms_grad = (sq_grad[i] + eps).sqrt();
                let delta = -(rms_delta / rms_grad) * gi;
                // Line 8: accumulate updates.
                sq_delta[i] = rho * sq_delta[i] + one_minus_rho * delta * delta;
                // Line 9: apply update.
                delta_out[i] = delta;
                x[i] += lr * delta;
            }
        }
        let k = [lr, rho, eps];
        vectorised(
            #[inline(always)]
            || match weight_decay {
                WeightDecay::CoupledL2(lambda) => {
                    sweep(k, Some(lambda), (x, g), [sq_grad, sq_delta, delta_out])
                }
                _ => sweep(k, None, (x, g), [sq_grad, sq_delta, delta_out]),
            },
        );
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.t)
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "AdaDelta (Zeiler 2012, Algorithm 1), with the PyTorch/optax/Keras learning rate \
                      and weight decay",
        variants: vec![
            "paper: rho 0.95, eps 1e-6, no lr",
            "pytorch/optax: rho 0.9, eps 1e-6, lr 1, coupled L2",
            "keras: rho 0.95, eps 1e-7, lr 1e-3, decoupled decay x lr",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{assert_matches_reference, assert_out_of_range, trajectory_of};
    use crate::prec::UNIT_ROUNDOFF;

    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];
    const X0: [f64; 2] = [1.0, -2.0];

    // 50-digit decimal references from the exact binary values of the hyperparameters
    // (Algorithm 1 as in the module doc), rounded once to f64.
    const PAPER_REF: [[f64; 2]; 3] = [
        [0.9955278690140321, -1.9955280429197062],
        [0.9975744437744241, -1.998414640316359],
        [0.9964982585356715, -2.005061646204012],
    ];
    const PYTORCH_DECAY_REF: [[f64; 2]; 2] = [
        [0.9984188618152782, -1.998418864683546],
        [0.9987523399395964, -1.9973771561398062],
    ];
    const KERAS_DECAY_REF: [[f64; 2]; 2] = [
        [0.9998985857865947, -1.9997985857920944],
        [0.9997992431127141, -1.9995995187995759],
    ];

    fn run(config: AdaDeltaConfig, steps: usize) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS[..steps])
    }

    #[test]
    fn paper_three_steps_by_hand() {
        assert_matches_reference(&run(AdaDeltaConfig::paper(), 3), &PAPER_REF);
    }

    #[test]
    fn pytorch_coupled_decay_two_steps_by_hand() {
        let config = AdaDeltaConfig {
            weight_decay: WeightDecay::CoupledL2(0.5),
            lr: 0.5,
            ..AdaDeltaConfig::pytorch()
        };
        assert_matches_reference(&run(config, 2), &PYTORCH_DECAY_REF);
    }

    #[test]
    fn keras_decoupled_decay_two_steps_by_hand() {
        let config = AdaDeltaConfig {
            weight_decay: WeightDecay::DecoupledTimesLr(0.1),
            ..AdaDeltaConfig::keras()
        };
        assert_matches_reference(&run(config, 2), &KERAS_DECAY_REF);
    }

    #[test]
    fn first_step_size_is_set_by_eps() {
        // |Δx₁| = √ε |g| / √((1−ρ)g² + ε) → √(ε/(1−ρ)) as |g| → ∞; for |g| ≫ √ε the relative
        // gap is ε/(2(1−ρ)g²) (first-order expansion), i.e. ≤ 1e-6/(0.1·100) = 1e-7 at |g| = 10.
        let config = AdaDeltaConfig::paper();
        let limit = (config.eps / (1.0 - config.rho)).sqrt();
        for g in [10.0, -10.0, 1e3, -1e6] {
            let mut opt = config.clone().build().unwrap();
            let mut x = DVector::from_element(1, 0.0);
            opt.step(&mut x, &DVector::from_element(1, g)).unwrap();
            let step = x[0].abs();
            let gap = config.eps / (2.0 * (1.0 - config.rho) * g * g);
            assert!(
                ((step - limit) / limit).abs() <= gap + 8.0 * UNIT_ROUNDOFF,
                "g = {g}: {step}"
            );
            assert_eq!(x[0].signum(), -g.signum());
        }
        // ≈ 4.47e-3 for the paper's defaults.
        assert!((limit - 4.472_135_954_999_58e-3).abs() < 1e-15);
    }

    #[test]
    fn validation_table() {
        let base = AdaDeltaConfig::paper;
        let cases: Vec<(AdaDeltaConfig, &str)> = vec![
            (AdaDeltaConfig { lr: -1.0, ..base() }, "lr"),
            (
                AdaDeltaConfig {
                    lr: f64::NAN,
                    ..base()
                },
                "lr",
            ),
            (AdaDeltaConfig { rho: 1.0, ..base() }, "rho"),
            (AdaDeltaConfig { rho: -0.1, ..base() }, "rho"),
            (
                AdaDeltaConfig {
                    rho: f64::NAN,
                    ..base()
                },
                "rho",
            ),
            (AdaDeltaConfig { eps: 0.0, ..base() }, "eps"),
            (
                AdaDeltaConfig {
                    eps: f64::INFINITY,
                    ..base()
                },
                "eps",
            ),
            (
                AdaDeltaConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::INFINITY),
                    ..base()
                },
                "weight_decay",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        assert!(matches!(
            AdaDeltaConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.1),
                ..base()
            }
            .build(),
            Err(HyperError::Incompatible { .. })
        ));
    }

    #[test]
    fn step_input_errors_leave_state_untouched() {
        let mut opt = AdaDeltaConfig::paper().build().unwrap();
        let mut x = DVector::from_row_slice(&[1.0, 2.0]);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::INFINITY])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        assert!(opt.sq_grad().is_none());
        assert_eq!(x, DVector::from_row_slice(&[1.0, 2.0]));
    }

    #[test]
    fn presets_carry_framework_defaults() {
        let p = AdaDeltaConfig::paper();
        assert_eq!((p.lr, p.rho, p.eps), (1.0, 0.95, 1e-6));
        let t = AdaDeltaConfig::pytorch();
        assert_eq!((t.lr, t.rho, t.eps), (1.0, 0.9, 1e-6));
        let k = AdaDeltaConfig::keras();
        assert_eq!((k.lr, k.rho, k.eps), (1e-3, 0.95, 1e-7));
        assert_eq!(AdaDeltaConfig::default(), p);
    }
}
