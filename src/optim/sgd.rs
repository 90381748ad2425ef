//! # SGD
//!
//! Gradient descent and (mini-batch) stochastic gradient descent, with PyTorch's momentum,
//! dampening, Nesterov and weight-decay options (`torch.optim.SGD`). The gradient is supplied
//! by the caller: the full gradient for GD, a mini-batch gradient for SGD (the sampler lives in
//! `problems::stochastic`). One step, in the order `_single_tensor_sgd` executes it, for
//! $t = 1, 2, \dots$:
//! $$\begin{aligned}
//! g &\leftarrow g_t + \lambda\theta_{t-1} && \text{(coupled weight decay, optional)}\\\\
//! b_t &\leftarrow \begin{cases} g & t = 1\\\\ \mu b_{t-1} + (1-\tau)\\, g & t > 1\end{cases}
//!     && \text{(only if } \mu \ne 0\text{)}\\\\
//! g &\leftarrow \begin{cases} g + \mu b_t & \text{Nesterov}\\\\ b_t & \text{otherwise}\end{cases}
//!     && \text{(only if } \mu \ne 0\text{)}\\\\
//! \theta_t &\leftarrow \theta_{t-1} - \gamma\\, g.
//! \end{aligned}$$
//! With $\mu = 0$ this is plain GD/SGD, $\theta_t = \theta_{t-1} - \gamma g_t$
//! ([`SgdConfig::gd`]).
//!
//! | symbol | field | PyTorch | optax `sgd` | Keras `SGD` |
//! |---|---|---|---|---|
//! | γ | `lr` | `lr` | `learning_rate` | `learning_rate` |
//! | μ | `momentum` | `momentum` | `momentum` | `momentum` |
//! | τ | `dampening` | `dampening` | — (0) | — (0) |
//! | Nesterov | `nesterov` | `nesterov` | `nesterov` | `nesterov` |
//! | λ | `weight_decay` | `weight_decay` (coupled) | via `add_decayed_weights` | `weight_decay` (decoupled × lr) |
//!
//! ## Conventions
//! * **Learning rate outside the buffer.** PyTorch accumulates raw gradients and multiplies the
//!   buffer by γ; Sutskever et al. and Keras accumulate `v = μv − γg` and add v. With a
//!   constant γ the two are the same iteration (`b = −v/γ`); they differ when γ changes
//!   (PyTorch's docstring note). optax `sgd` computes `m = g + μm`, update `−γm` (Nesterov:
//!   `−γ(g + μm)`), i.e. PyTorch with τ = 0.
//! * **First step.** PyTorch sets `b_1 = g_1` (no dampening on the first step); this is the
//!   heavy-ball iteration started with θ₋₁ = θ₀ (see `tests/equivalences_momentum.rs`).
//! * **Nesterov** requires μ > 0 and τ = 0 (PyTorch raises "Nesterov momentum requires a
//!   momentum and zero dampening"); here that is [`HyperError::Incompatible`]. The stored
//!   parameters are the look-ahead points of Nesterov's method (see [`super::nesterov`]).
//! * **Weight decay.** [`WeightDecay::CoupledL2`] is PyTorch's `weight_decay`: λθ is added to
//!   the gradient before the momentum buffer, so SGD with it is exactly GD on
//!   f + (λ/2)‖θ‖². [`WeightDecay::DecoupledTimesLr`] is Keras' `weight_decay`
//!   (θ ← θ − γλθ before the update); [`WeightDecay::DecoupledSchedule`] with no schedule
//!   (η_t = 1) is the lecture's "θ ← (1 − λ)θ − α∇L" (Loshchilov & Hutter 2019, Prop. 1).
//!   Without momentum the decoupled forms equal the coupled one with λ′ = λ (×lr) or λ/γ; with
//!   momentum they do not.
//! * PyTorch's CPU kernels may fuse `add_(…, alpha=)` into a fused multiply–add; this file
//!   rounds every product and sum separately, so a PyTorch trace can differ by an ulp per step.
//! * PyTorch accepts μ ≥ 1 and negative γ, τ; here μ ∈ [0, 1), γ > 0, τ ∈ [0, 1].
//!
//! ## References
//! * H. Robbins, S. Monro, *A Stochastic Approximation Method*, Ann. Math. Statist. 22 (1951)
//!   — <https://doi.org/10.1214/aoms/1177729586>
//! * I. Sutskever, J. Martens, G. Dahl, G. Hinton, *On the importance of initialization and
//!   momentum in deep learning*, ICML 2013, eqs. (1)–(4) —
//!   <https://proceedings.mlr.press/v28/sutskever13.html>
//! * PyTorch `torch/optim/sgd.py` (`SGD`, `_single_tensor_sgd`) —
//!   <https://pytorch.org/docs/stable/generated/torch.optim.SGD.html>

use super::conventions::WeightDecay;
use super::sweep::vectorised_unless_small;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "sgd";

/// Hyperparameters of [`Sgd`] (serde; validate with [`SgdConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdConfig {
    /// Learning rate γ > 0.
    pub lr: f64,
    /// Momentum μ ∈ [0, 1); 0 means no buffer.
    pub momentum: f64,
    /// Dampening τ ∈ [0, 1] of the buffer update (not applied on the first step).
    pub dampening: f64,
    /// Nesterov momentum (PyTorch form; needs μ > 0 and τ = 0).
    pub nesterov: bool,
    /// `None`, `CoupledL2` (PyTorch), `DecoupledTimesLr` (Keras) or `DecoupledSchedule`
    /// (θ ← (1 − λ)θ first, the lecture's form).
    pub weight_decay: WeightDecay,
}

impl Default for SgdConfig {
    /// `torch.optim.SGD` defaults (PyTorch ≥ 2.2: lr 1e-3, momentum 0, dampening 0, no decay,
    /// no Nesterov; earlier versions have no default lr and require one).
    fn default() -> Self {
        Self::gd(1e-3)
    }
}

impl SgdConfig {
    /// Plain gradient descent θ ← θ − γ g (with a stochastic gradient: plain SGD).
    pub fn gd(lr: f64) -> Self {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: WeightDecay::None,
        }
    }

    /// PyTorch-style momentum without dampening: b_t = μ b_{t−1} + g_t, θ ← θ − γ b_t.
    pub fn momentum(lr: f64, momentum: f64) -> Self {
        Self {
            momentum,
            ..Self::gd(lr)
        }
    }

    /// PyTorch-style Nesterov momentum: b_t = μ b_{t−1} + g_t, θ ← θ − γ (g_t + μ b_t).
    pub fn nesterov(lr: f64, momentum: f64) -> Self {
        Self {
            momentum,
            nesterov: true,
            ..Self::gd(lr)
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the first invalid field; [`HyperError::Incompatible`]
    /// for Nesterov without momentum or with dampening.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "momentum", self.momentum)?;
        check::closed_unit_interval(NAME, "dampening", self.dampening)?;
        self.weight_decay.validate(NAME)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: format!(
                    "Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum = {}, \
                     dampening = {})",
                    self.momentum, self.dampening
                ),
            });
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`SgdConfig::validate`].
    pub fn build(self) -> Result<Sgd, HyperError> {
        self.validate()?;
        Ok(Sgd {
            config: self,
            state: None,
        })
    }
}

/// State of [`Sgd`], created on the first step.
#[derive(Debug, Clone)]
struct State {
    t: u64,
    len: usize,
    /// b_t; `None` when μ = 0.
    buffer: Option<DVector<f64>>,
}

/// GD / SGD with validated hyperparameters and its state (see the module documentation).
///
/// # Examples
/// Momentum 0.9 on your own gradients: b₁ = g₁, b₂ = 0.9·b₁ + g₂, θ ← θ − γ b. With γ = 0.1,
/// θ₀ = 1, g₁ = 2, g₂ = 1: θ₁ = 1 − 0.1·2 = 0.8, b₂ = 0.9·2 + 1 = 2.8, θ₂ = 0.8 − 0.28 = 0.52.
/// ```
/// use optverify::prelude::*;
///
/// let mut sgd = SgdConfig { momentum: 0.9, ..SgdConfig::gd(0.1) }.build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// sgd.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// assert!((x[0] - 0.8).abs() < 1e-15);
/// sgd.step(&mut x, &DVector::from_vec(vec![1.0])).unwrap();
/// assert!((x[0] - 0.52).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    config: SgdConfig,
    state: Option<State>,
}

impl Sgd {
    /// Plain gradient descent with step `lr` (validated): `SgdConfig::gd(lr).build()`.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] if `lr` is not a positive finite number.
    pub fn gd(lr: f64) -> Result<Self, HyperError> {
        SgdConfig::gd(lr).build()
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// Momentum buffer b_t; `None` without momentum or before the first step.
    pub fn momentum_buffer(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().and_then(|s| s.buffer.as_ref())
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "lr {}, momentum {}, dampening {}, nesterov {}, weight decay {:?} (PyTorch form: lr \
             outside the buffer)",
            c.lr, c.momentum, c.dampening, c.nesterov, c.weight_decay
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.len))?;
        let c = &self.config;
        let n = x.len();
        let state = self.state.get_or_insert(State {
            t: 0,
            len: n,
            buffer: None,
        });
        state.t += 1;
        // b_1 = g_1: PyTorch clones the (decayed) gradient into a fresh buffer.
        let momentum = match (c.momentum != 0.0, state.buffer.is_some()) {
            (false, _) => NO_MOMENTUM,
            (true, false) => FIRST_STEP,
            (true, true) => LATER_STEP,
        };
        let buffer = match momentum {
            NO_MOMENTUM => &mut [][..],
            _ => state
                .buffer
                .get_or_insert_with(|| DVector::zeros(n))
                .as_mut_slice(),
        };
        let k = Coefficients::of(c);
        let (x, g) = (x.as_mut_slice(), g.as_slice());
        vectorised_unless_small(
            n,
            #[inline(always)]
            || match c.weight_decay {
                WeightDecay::None => with_momentum::<NO_DECAY>(&k, momentum, c.nesterov, x, g, buffer),
                WeightDecay::CoupledL2(_) => with_momentum::<COUPLED>(&k, momentum, c.nesterov, x, g, buffer),
                WeightDecay::DecoupledTimesLr(_) => {
                    with_momentum::<DECOUPLED_TIMES_LR>(&k, momentum, c.nesterov, x, g, buffer)
                }
                WeightDecay::DecoupledSchedule(_) => {
                    with_momentum::<DECOUPLED>(&k, momentum, c.nesterov, x, g, buffer)
                }
            },
        );
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.t)
    }
}

/// Weight decay and momentum, as `const` parameters of the sweep (decided once per step).
const NO_DECAY: u8 = 0;
const COUPLED: u8 = 1;
const DECOUPLED_TIMES_LR: u8 = 2;
const DECOUPLED: u8 = 3;
const NO_MOMENTUM: u8 = 0;
const FIRST_STEP: u8 = 1;
const LATER_STEP: u8 = 2;

/// The constants of a step, computed once (the same expressions as in the loop, so the same
/// bits).
struct Coefficients {
    lr: f64,
    momentum: f64,
    one_minus_dampening: f64,
    /// λ of whichever decay is on.
    lambda: f64,
    /// γλ of PyTorch's decoupled decay (`c.lr * lambda`).
    lr_lambda: f64,
}

impl Coefficients {
    fn of(c: &SgdConfig) -> Self {
        let lambda = match c.weight_decay {
            WeightDecay::None => 0.0,
            WeightDecay::CoupledL2(l)
            | WeightDecay::DecoupledTimesLr(l)
            | WeightDecay::DecoupledSchedule(l) => l,
        };
        Coefficients {
            lr: c.lr,
            momentum: c.momentum,
            one_minus_dampening: 1.0 - c.dampening,
            lambda,
            lr_lambda: c.lr * lambda,
        }
    }
}

/// Pick the momentum constants of the sweep.
#[inline(always)]
fn with_momentum<const DECAY: u8>(
    k: &Coefficients,
    momentum: u8,
    nesterov: bool,
    x: &mut [f64],
    g: &[f64],
    b: &mut [f64],
) {
    match (momentum, nesterov) {
        (NO_MOMENTUM, _) => sweep::<DECAY, NO_MOMENTUM, false>(k, x, g, b),
        (FIRST_STEP, false) => sweep::<DECAY, FIRST_STEP, false>(k, x, g, b),
        (FIRST_STEP, true) => sweep::<DECAY, FIRST_STEP, true>(k, x, g, b),
        (_, false) => sweep::<DECAY, LATER_STEP, false>(k, x, g, b),
        (_, true) => sweep::<DECAY, LATER_STEP, true>(k, x, g, b),
    }
}

/// One step for every coordinate in one sweep over θ, g (and b).
#[inline(always)]
fn sweep<const DECAY: u8, const MOMENTUM: u8, const NESTEROV: bool>(
    k: &Coefficients,
    x: &mut [f64],
    g: &[f64],
    b: &mut [f64],
) {
    let n = x.len();
    let g = &g[..n];
    let b = if MOMENTUM == NO_MOMENTUM { b } else { &mut b[..n] };
    for i in 0..n {
        // Coupled decay reads θ_{t−1}, before θ moves.
        let mut d = g[i];
        if DECAY == COUPLED {
            d += k.lambda * x[i];
        }
        if MOMENTUM != NO_MOMENTUM {
            b[i] = if MOMENTUM == FIRST_STEP {
                d
            } else {
                k.momentum * b[i] + k.one_minus_dampening * d
            };
            d = if NESTEROV { d + k.momentum * b[i] } else { b[i] };
        }
        match DECAY {
            DECOUPLED_TIMES_LR => x[i] -= k.lr_lambda * x[i],
            DECOUPLED => x[i] -= k.lambda * x[i],
            _ => {}
        }
        x[i] -= k.lr * d;
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "GD / mini-batch SGD with PyTorch's momentum, dampening, Nesterov and weight \
                      decay (Robbins & Monro 1951; torch.optim.SGD)",
        variants: vec![
            "gd: theta -= lr * g",
            "momentum: b = mu b + (1 - dampening) g, b_1 = g_1, theta -= lr * b (PyTorch, optax)",
            "nesterov: theta -= lr * (g + mu b) (PyTorch; needs mu > 0, dampening 0)",
            "coupled L2 weight decay (PyTorch), decoupled x lr (Keras), decoupled (1 - lambda) theta \
             (lecture)",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::trajectory_of;

    // Hand-computed references: every input below is a dyadic rational with at most 4
    // significant bits and every step multiplies or adds such numbers a handful of times, so
    // each intermediate has far fewer than 53 significant bits and every f64 operation is
    // exact. The expected values are the exact rationals (checked with Python `fractions`),
    // hence bit-for-bit equality is the right test.
    const X0: [f64; 2] = [1.0, -2.0];
    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];

    fn run(config: SgdConfig, steps: usize) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS[..steps])
    }

    fn assert_exact(got: &[DVector<f64>], expected: &[[f64; 2]]) {
        for (k, e) in expected.iter().enumerate() {
            assert_eq!(got[k + 1].as_slice(), e, "step {}", k + 1);
        }
    }

    #[test]
    fn gd_three_steps_exact() {
        // θ₁ = (1 − 1.5, −2 + 0.25), θ₂ = θ₁ − ½(−1, ¼), θ₃ = θ₂ − ½(½, 2).
        let got = run(SgdConfig::gd(0.5), 3);
        assert_exact(&got, &[[-0.5, -1.75], [0.0, -1.875], [-0.25, -2.875]]);
    }

    #[test]
    fn momentum_with_dampening_three_steps_exact() {
        // γ = ½, μ = ½, τ = ¼: b₁ = g₁ = (3, −½); b₂ = ½b₁ + ¾g₂ = (¾, −1/16);
        // b₃ = ½b₂ + ¾g₃ = (¾, 47/32).
        let config = SgdConfig {
            dampening: 0.25,
            ..SgdConfig::momentum(0.5, 0.5)
        };
        let got = run(config, 3);
        assert_exact(&got, &[[-0.5, -1.75], [-0.875, -1.71875], [-1.25, -2.453125]]);
    }

    #[test]
    fn nesterov_three_steps_exact() {
        // γ = ½, μ = ½: b₁ = (3, −½), d₁ = g₁ + ½b₁ = (4.5, −¾);
        // b₂ = (½, 0), d₂ = (−¾, ¼); b₃ = (¾, 2), d₃ = (⅞, 3).
        let got = run(SgdConfig::nesterov(0.5, 0.5), 3);
        assert_exact(&got, &[[-1.25, -1.625], [-0.875, -1.75], [-1.3125, -3.25]]);
    }

    #[test]
    fn coupled_weight_decay_with_momentum_two_steps_exact() {
        // γ = ½, μ = ½, λ = ¼: d₁ = g₁ + ¼θ₀ = (3.25, −1), θ₁ = (−0.625, −1.5);
        // d₂ = g₂ + ¼θ₁ = (−1.15625, −0.125), b₂ = ½b₁ + d₂ = (0.46875, −0.625).
        let config = SgdConfig {
            weight_decay: WeightDecay::CoupledL2(0.25),
            ..SgdConfig::momentum(0.5, 0.5)
        };
        let got = run(config, 2);
        assert_exact(&got, &[[-0.625, -1.5], [-0.859375, -1.1875]]);
    }

    #[test]
    fn decoupled_weight_decay_two_steps_exact() {
        // DecoupledTimesLr(¼), γ = ½: θ ← θ − ⅛θ − ½g.
        let got = run(
            SgdConfig {
                weight_decay: WeightDecay::DecoupledTimesLr(0.25),
                ..SgdConfig::gd(0.5)
            },
            2,
        );
        assert_exact(&got, &[[-0.625, -1.5], [-0.046875, -1.4375]]);
        // DecoupledSchedule(¼) (the lecture's (1 − λ)θ − αg), γ = ½: θ ← ¾θ − ½g.
        let got = run(
            SgdConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.25),
                ..SgdConfig::gd(0.5)
            },
            2,
        );
        assert_exact(&got, &[[-0.75, -1.25], [-0.0625, -1.0625]]);
    }

    #[test]
    fn validation_table() {
        let ok = [
            SgdConfig::default(),
            SgdConfig::gd(1e6),
            SgdConfig::momentum(0.1, 0.0),
            SgdConfig {
                dampening: 1.0,
                ..SgdConfig::momentum(0.1, 0.99)
            },
            SgdConfig::nesterov(0.1, 0.9),
            SgdConfig {
                weight_decay: WeightDecay::CoupledL2(-0.5),
                ..SgdConfig::gd(0.1)
            },
        ];
        for c in ok {
            assert!(c.clone().build().is_ok(), "{c:?} should be valid");
        }
        let bad: [(SgdConfig, &str); 10] = [
            (SgdConfig::gd(0.0), "lr"),
            (SgdConfig::gd(-0.1), "lr"),
            (SgdConfig::gd(f64::NAN), "lr"),
            (SgdConfig::gd(f64::INFINITY), "lr"),
            (SgdConfig::momentum(0.1, 1.0), "momentum"),
            (SgdConfig::momentum(0.1, -0.1), "momentum"),
            (SgdConfig::momentum(0.1, f64::NAN), "momentum"),
            (
                SgdConfig {
                    dampening: 1.5,
                    ..SgdConfig::momentum(0.1, 0.5)
                },
                "dampening",
            ),
            (
                SgdConfig {
                    dampening: f64::NAN,
                    ..SgdConfig::momentum(0.1, 0.5)
                },
                "dampening",
            ),
            (
                SgdConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::NAN),
                    ..SgdConfig::gd(0.1)
                },
                "weight_decay",
            ),
        ];
        for (c, field) in bad {
            match c.clone().build() {
                Err(HyperError::OutOfRange {
                    optimizer, field: f, ..
                }) => {
                    assert_eq!((optimizer, f), (NAME, field), "{c:?}");
                }
                other => panic!("{c:?}: expected OutOfRange on {field}, got {other:?}"),
            }
        }
        for c in [
            SgdConfig::nesterov(0.1, 0.0),
            SgdConfig {
                dampening: 0.1,
                ..SgdConfig::nesterov(0.1, 0.9)
            },
        ] {
            assert!(
                matches!(
                    c.clone().build(),
                    Err(HyperError::Incompatible { optimizer: NAME, .. })
                ),
                "{c:?}"
            );
        }
    }

    #[test]
    fn step_errors_leave_state_untouched() {
        let mut opt = SgdConfig::momentum(0.5, 0.5).build().unwrap();
        let mut x = DVector::from_row_slice(&X0);
        let err = opt.step(&mut x, &DVector::from_row_slice(&[1.0])).unwrap_err();
        assert!(matches!(
            err,
            StepError::DimensionMismatch {
                expected: 2,
                got: 1,
                ..
            }
        ));
        let err = opt
            .step(&mut x, &DVector::from_row_slice(&[1.0, f64::NAN]))
            .unwrap_err();
        assert!(matches!(err, StepError::NonFinite { index: 1, .. }));
        assert_eq!(opt.steps_taken(), 0);
        assert_eq!(x.as_slice(), &X0);
        // After the state exists, parameters of another length are rejected too.
        opt.step(&mut x, &DVector::from_row_slice(&GRADS[0])).unwrap();
        let mut y = DVector::from_row_slice(&[1.0, 2.0, 3.0]);
        let err = opt
            .step(&mut y, &DVector::from_row_slice(&[1.0, 2.0, 3.0]))
            .unwrap_err();
        assert!(matches!(
            err,
            StepError::DimensionMismatch {
                expected: 2,
                got: 3,
                ..
            }
        ));
        assert_eq!(opt.steps_taken(), 1);
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = SgdConfig {
            weight_decay: WeightDecay::CoupledL2(0.1),
            ..SgdConfig::nesterov(0.01, 0.9)
        };
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<SgdConfig>(&s).unwrap(), c);
    }
}
