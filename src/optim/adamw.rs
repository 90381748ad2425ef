//! # AdamW
//!
//! Adam with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2, the green
//! branch): lines 1–11 are Adam's (without the L2 term of line 6, see [`super::adam`]), and
//! line 12 decays the parameters *outside* the adaptive preconditioner:
//! $$\theta_t \leftarrow \theta_{t-1} - \eta_t\left(\alpha\\,\hat m_t/(\sqrt{\hat v_t} + \epsilon) +
//!   \lambda\\,\theta_{t-1}\right).$$
//! The decay reads θ_{t−1}, the parameters *before* this step's Adam update. This file does
//! not repeat Adam: [`Adam::advance`] performs lines 4–11 and returns η_t with the update
//! $u_t = \alpha\hat m_t/(\sqrt{\hat v_t}+\epsilon)$, and [`AdamW::step`] only writes line 12.
//!
//! | symbol | field | PyTorch | optax | Keras |
//! |---|---|---|---|---|
//! | α, β₁, β₂, ε, … | `adam` ([`AdamConfig`]) | `lr`, `betas`, `eps` | `learning_rate`, `b1`, `b2`, `eps` | `learning_rate`, `beta_1`, `beta_2`, `epsilon` (ε̂) |
//! | λ | `weight_decay` | `weight_decay` (1e-2) | `weight_decay` (1e-4) | `weight_decay` (4e-3) |
//! | η_t | `adam.schedule` | LR scheduler factor | schedule | schedule |
//!
//! ## Conventions
//! * **Decay × schedule only (the paper, [`WeightDecay::DecoupledSchedule`]):**
//!   θ ← θ − η_t(u_t + λθ). **Decay × learning rate ([`WeightDecay::DecoupledTimesLr`]):**
//!   PyTorch `AdamW` (and `Adam(decoupled_weight_decay=True)`) first multiplies
//!   `param.mul_(1 − lr·weight_decay)` with the *scheduled* lr = αη_t, then takes the Adam step;
//!   optax chains `scale_by_adam → add_decayed_weights → scale_by_learning_rate`, i.e.
//!   θ ← θ − αη_t(û + λθ); Keras applies `θ ← θ − θ·λ·lr` before its (ε-hat) Adam step. All
//!   three are θ_t = θ_{t−1} − η_t u_t − αη_tλθ_{t−1}: the paper's rule with λ_paper = αλ. So
//!   the frameworks' λ = 1e-2 with α = 1e-3 is the paper's λ = 1e-5, and changing α changes
//!   the effective decay too (the coupling the paper set out to remove).
//! * **Order.** PyTorch decays before the Adam step, the paper writes both in one line from
//!   θ_{t−1}. The Adam step does not read θ (the gradient was taken at θ_{t−1} before either),
//!   so the order does not matter in exact arithmetic: (1 − αηλ)θ − ηu = θ − ηu − αηλθ. In
//!   floating point the two orders differ by rounding (tests/equivalences_adaptive.rs). What
//!   would matter is decaying the *Adam-updated* θ_t (θ ← θ' − ηλθ' with θ' = θ − ηu), a
//!   second-order difference η²λu that this file's test rules out.
//! * `DecoupledTimesLr` evaluates PyTorch's `θ·(1 − αη_tλ)` then `θ − η_t u_t`; optax's
//!   `θ − αη_t(û + λθ)` and Keras's `θ − θ·λ·αη_t` are the same real number in other
//!   operation orders (rounding-level differences, not reproduced).
//! * The paper normalises λ = λ_norm √(b/(BT)) (Appendix); here λ is the raw value.
//!
//! ## References
//! * I. Loshchilov, F. Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
//!   Algorithm 2 — <https://arxiv.org/abs/1711.05101>
//! * PyTorch `torch/optim/adamw.py`, `torch/optim/adam.py` (`decoupled_weight_decay`);
//!   optax `_src/alias.py` (`adamw`); Keras `keras/src/optimizers/adamw.py` and
//!   `base_optimizer.py` (`_apply_weight_decay`).

use super::adam::{Adam, AdamConfig};
use super::conventions::{AdamFormulation, WeightDecay};
use super::schedule::Schedule;
use super::{CatalogueEntry, Optimizer};
use crate::error::{HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "adamw";

/// Hyperparameters of [`AdamW`]: Adam's plus the decoupled decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// Adam's hyperparameters (its `weight_decay` must be `None`; the schedule η_t is here).
    pub adam: AdamConfig,
    /// `DecoupledSchedule(λ)` (paper), `DecoupledTimesLr(λ)` (frameworks) or `None` (= Adam).
    pub weight_decay: WeightDecay,
}

impl Default for AdamWConfig {
    /// The paper's Algorithm 2 with its line-1 defaults (α = 0.001, β₁ = 0.9, β₂ = 0.999,
    /// ε = 1e-8), a fixed multiplier η_t = 1, and λ = 1e-2 (the paper leaves λ ∈ ℝ open; this
    /// is PyTorch's default value).
    fn default() -> Self {
        Self::paper(1e-3, 1e-2, Schedule::default())
    }
}

impl AdamWConfig {
    /// Loshchilov & Hutter Algorithm 2: step size α, decay λ multiplied by η_t only, schedule
    /// multiplier η_t from `schedule`; β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    pub fn paper(alpha: f64, lambda: f64, schedule: Schedule) -> Self {
        Self {
            adam: AdamConfig {
                lr: alpha,
                schedule: Some(schedule),
                ..AdamConfig::paper()
            },
            weight_decay: WeightDecay::DecoupledSchedule(lambda),
        }
    }

    /// `torch.optim.AdamW` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2
    /// multiplied by the learning rate.
    pub fn pytorch() -> Self {
        Self {
            adam: AdamConfig::pytorch(),
            weight_decay: WeightDecay::DecoupledTimesLr(1e-2),
        }
    }

    /// `optax.adamw` defaults: b1 0.9, b2 0.999, eps 1e-8, eps_root 0, weight_decay 1e-4
    /// multiplied by the learning rate (no default learning rate in optax; 1e-3 here).
    pub fn optax() -> Self {
        Self {
            adam: AdamConfig::optax(),
            weight_decay: WeightDecay::DecoupledTimesLr(1e-4),
        }
    }

    /// `keras.optimizers.AdamW` defaults: learning_rate 1e-3, weight_decay 4e-3 (× lr,
    /// before the step), epsilon (ε̂) 1e-7 in the ε-hat formulation.
    pub fn keras() -> Self {
        Self {
            adam: AdamConfig::keras(),
            weight_decay: WeightDecay::DecoupledTimesLr(4e-3),
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// Adam's errors; [`HyperError::OutOfRange`] for a non-finite λ;
    /// [`HyperError::Incompatible`] for coupled decay (that is Adam with L2) or a decay set
    /// inside `adam`.
    pub fn validate(&self) -> Result<(), HyperError> {
        self.adam.validate()?;
        self.weight_decay.validate(NAME)?;
        let incompatible = |reason: &str| {
            Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: reason.to_string(),
            })
        };
        if self.adam.weight_decay != WeightDecay::None {
            return incompatible("set AdamW's decay in AdamWConfig::weight_decay, not in adam.weight_decay");
        }
        if let WeightDecay::CoupledL2(_) = self.weight_decay {
            return incompatible("coupled L2 decay is Adam with L2 regularisation (optim::adam), not AdamW");
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`AdamWConfig::validate`].
    pub fn build(self) -> Result<AdamW, HyperError> {
        self.validate()?;
        Ok(AdamW {
            adam: self.adam.clone().build()?,
            weight_decay: self.weight_decay,
            config: self,
        })
    }
}

/// AdamW = [`Adam`] + decoupled weight decay (see the module documentation).
///
/// # Example
/// PyTorch's form with γ = 0.1, λ = 0.1 (decay × lr), θ₀ = 1, g = 2: first
/// θ ← θ(1 − γλ) = 0.99, then Adam's first step, m̂₁ = g, v̂₁ = g²:
/// θ₁ = 0.99 − 0.1·2/(2 + 1e-8) ≈ 0.89 (ε shifts it by 5e-10). The formula with ε holds
/// to 1e-15.
/// ```
/// use optverify::prelude::*;
///
/// let mut cfg = AdamWConfig::pytorch();
/// cfg.adam.lr = 0.1;
/// cfg.weight_decay = WeightDecay::DecoupledTimesLr(0.1);
/// let mut adamw = cfg.build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// adamw.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// let x1 = 1.0 * (1.0 - 0.1 * 0.1) - 0.1 * 2.0 / (2.0 + 1e-8);
/// assert!((x[0] - x1).abs() < 1e-15 && (x[0] - 0.89).abs() < 1e-9, "{}", x[0]);
/// ```
#[derive(Debug, Clone)]
pub struct AdamW {
    config: AdamWConfig,
    adam: Adam,
    weight_decay: WeightDecay,
}

impl AdamW {
    /// Start from the given moments (m₀, v₀); see [`Adam::with_initial_moments`].
    ///
    /// # Errors
    /// As [`Adam::with_initial_moments`].
    pub fn with_initial_moments(mut self, m0: DVector<f64>, v0: DVector<f64>) -> Result<Self, HyperError> {
        self.adam = self.adam.with_initial_moments(m0, v0)?;
        Ok(self)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// The inner Adam (its moments, its last update u_t).
    pub fn adam(&self) -> &Adam {
        &self.adam
    }

    /// First moment m_t; `None` before the first step.
    pub fn m(&self) -> Option<&DVector<f64>> {
        self.adam.m()
    }

    /// Second raw moment v_t; `None` before the first step.
    pub fn v(&self) -> Option<&DVector<f64>> {
        self.adam.v()
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let decay = match self.weight_decay {
            WeightDecay::DecoupledSchedule(l) => format!("decay {l} x schedule only (paper)"),
            WeightDecay::DecoupledTimesLr(l) => format!("decay {l} x lr x schedule (pytorch/optax/keras)"),
            WeightDecay::None => "no decay".to_string(),
            WeightDecay::CoupledL2(_) => unreachable!("rejected by validate"),
        };
        let form = match self.config.adam.formulation {
            AdamFormulation::Algorithm1 => "",
            AdamFormulation::EpsHat => ", eps-hat",
        };
        format!("{decay}{form}; adam: {}", self.adam.variant())
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        // Lines 4–11 are Adam's (reading θ_{t−1} and the gradient); line 12, with the decay,
        // runs in the same sweep, coordinate by coordinate, after u_t of that coordinate.
        let alpha = self.config.adam.lr;
        match self.weight_decay {
            // Line 12: θ_t ← θ_{t−1} − η_t (α m̂/(√v̂ + ε) + λ θ_{t−1}).
            WeightDecay::DecoupledSchedule(lambda) => self.adam.step_pure(x, g, |eta| {
                move |x: &mut f64, u: f64| *x -= eta * (u + lambda * *x)
            }),
            // PyTorch: param.mul_(1 − lr·λ) with lr = αη_t, then param −= η_t u_t.
            WeightDecay::DecoupledTimesLr(lambda) => self.adam.step_pure(x, g, |eta| {
                let keep = 1.0 - alpha * eta * lambda;
                move |x: &mut f64, u: f64| {
                    *x *= keep;
                    *x -= eta * u;
                }
            }),
            WeightDecay::None | WeightDecay::CoupledL2(_) => self
                .adam
                .step_pure(x, g, |eta| move |x: &mut f64, u: f64| *x -= eta * u),
        }
    }

    fn steps_taken(&self) -> u64 {
        self.adam.steps_taken()
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "AdamW: Adam + decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2)",
        variants: vec![
            "paper: decay x schedule multiplier only",
            "pytorch: decay x lr, lambda 1e-2",
            "optax: decay x lr, lambda 1e-4",
            "keras: decay x lr, lambda 4e-3, eps-hat 1e-7",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{assert_matches_reference, assert_out_of_range, trajectory_of};

    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];
    const X0: [f64; 2] = [1.0, -2.0];

    // 50-digit decimal references from the exact binary values of the hyperparameters
    // (Python `decimal`; cosine by its Taylor series), rounded once to f64.
    const PAPER_REF: [[f64; 2]; 3] = [
        [0.4000000003333333, -0.900000002],
        [0.195128530318212, -0.49316768763040025],
        [0.12607512767336954, -0.3978706902194107],
    ];
    const PYTORCH_REF: [[f64; 2]; 3] = [
        [0.8500000003333333, -1.800000002],
        [0.7795631894646856, -1.7004469090121768],
        [0.739802839662779, -1.685930660783483],
    ];

    fn run(config: AdamWConfig, steps: usize) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS[..steps])
    }

    fn cosine() -> Schedule {
        Schedule::CosineAnnealing {
            t_max: 4,
            eta_min: 0.0,
            eta_max: 1.0,
        }
    }

    #[test]
    fn paper_algorithm2_three_steps_by_hand() {
        // λ = 0.5 and α = 0.1 so that the decay term is visible in every digit.
        assert_matches_reference(&run(AdamWConfig::paper(0.1, 0.5, cosine()), 3), &PAPER_REF);
    }

    #[test]
    fn pytorch_form_three_steps_by_hand() {
        let config = AdamWConfig {
            adam: AdamConfig {
                lr: 0.1,
                schedule: Some(cosine()),
                ..AdamConfig::pytorch()
            },
            weight_decay: WeightDecay::DecoupledTimesLr(0.5),
        };
        assert_matches_reference(&run(config, 3), &PYTORCH_REF);
    }

    #[test]
    fn decay_reads_theta_before_the_adam_update() {
        // Line 12 uses θ_{t−1}: θ_t = θ_{t−1} − η_t(u_t + λθ_{t−1}) is the same expression the
        // step evaluates, so it must hold bit for bit; decaying the Adam-updated θ' = θ − ηu
        // instead differs by η²λu, here ≈ 0.25·0.5·0.1 ≈ 1e-2 — far above rounding.
        let lambda = 0.5;
        let mut opt = AdamWConfig::paper(0.1, lambda, Schedule::constant(0.5))
            .build()
            .unwrap();
        let mut x = DVector::from_row_slice(&X0);
        for g in GRADS {
            let before = x.clone();
            opt.step(&mut x, &DVector::from_row_slice(&g)).unwrap();
            let u = opt.adam().last_update().unwrap();
            for i in 0..2 {
                let paper = before[i] - 0.5 * (u[i] + lambda * before[i]);
                assert_eq!(x[i], paper);
                let after_update = before[i] - 0.5 * u[i];
                let wrong_order = after_update - 0.5 * lambda * after_update;
                assert!((x[i] - wrong_order).abs() > 1e-3, "{} vs {}", x[i], wrong_order);
            }
        }
    }

    #[test]
    fn validation_table() {
        let base = AdamWConfig::pytorch;
        let cases: Vec<(AdamWConfig, &str)> = vec![
            (
                AdamWConfig {
                    weight_decay: WeightDecay::DecoupledTimesLr(f64::NAN),
                    ..base()
                },
                "weight_decay",
            ),
            (
                AdamWConfig {
                    weight_decay: WeightDecay::DecoupledSchedule(f64::INFINITY),
                    ..base()
                },
                "weight_decay",
            ),
            (
                AdamWConfig {
                    adam: AdamConfig {
                        lr: -1.0,
                        ..AdamConfig::pytorch()
                    },
                    ..base()
                },
                "lr",
            ),
            (
                AdamWConfig {
                    adam: AdamConfig {
                        beta1: 1.0,
                        ..AdamConfig::pytorch()
                    },
                    ..base()
                },
                "beta1",
            ),
            (
                AdamWConfig {
                    adam: AdamConfig {
                        eps: 0.0,
                        ..AdamConfig::pytorch()
                    },
                    ..base()
                },
                "eps",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        for config in [
            AdamWConfig {
                weight_decay: WeightDecay::CoupledL2(0.1),
                ..base()
            },
            AdamWConfig {
                adam: AdamConfig {
                    weight_decay: WeightDecay::CoupledL2(0.1),
                    ..AdamConfig::pytorch()
                },
                ..base()
            },
        ] {
            assert!(
                matches!(config.clone().build(), Err(HyperError::Incompatible { .. })),
                "{config:?}"
            );
        }
    }

    #[test]
    fn step_input_errors() {
        let mut opt = AdamWConfig::pytorch().build().unwrap();
        let mut x = DVector::from_row_slice(&[1.0, 2.0]);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::NEG_INFINITY])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        assert_eq!(x, DVector::from_row_slice(&[1.0, 2.0]));
    }

    #[test]
    fn presets_carry_framework_defaults() {
        let t = AdamWConfig::pytorch();
        assert_eq!(t.weight_decay, WeightDecay::DecoupledTimesLr(1e-2));
        assert_eq!((t.adam.lr, t.adam.eps), (1e-3, 1e-8));
        assert_eq!(
            AdamWConfig::optax().weight_decay,
            WeightDecay::DecoupledTimesLr(1e-4)
        );
        let k = AdamWConfig::keras();
        assert_eq!(k.weight_decay, WeightDecay::DecoupledTimesLr(4e-3));
        assert_eq!((k.adam.eps, k.adam.formulation), (1e-7, AdamFormulation::EpsHat));
        let p = AdamWConfig::paper(1e-3, 0.1, cosine());
        assert_eq!(p.weight_decay, WeightDecay::DecoupledSchedule(0.1));
        assert_eq!(p.adam.schedule, Some(cosine()));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<AdamWConfig>(&json).unwrap(), p);
    }
}
