//! # RMSProp
//!
//! Root-mean-square propagation (Hinton, lecture 6e, 2012): divide the gradient by the root of
//! an exponential moving average of its square. The lecture's form (slide "AdaGrad
//! improvements: RMSProp and AdaDelta") is
//! $$B_k = \gamma B_{k-1} + (1-\gamma)\\, g_k^2, \qquad
//!   \theta_{k+1} = \theta_k - \eta\\,(B_k + \epsilon I)^{-1/2} g_k, \qquad \gamma \in [0, 1],$$
//! with every operation element-wise. The variants the frameworks compute, in the order this
//! file executes them for one step $t$ (from 1):
//! $$\begin{aligned}
//! g &\leftarrow g + \lambda\theta && \text{(coupled weight decay, optional)}\\\\
//! v_t &\leftarrow \gamma v_{t-1} + (1-\gamma) g^2, \quad v_0 = s_0 && \text{(initial scale } s_0\text{)}\\\\
//! \bar g_t &\leftarrow \gamma \bar g_{t-1} + (1-\gamma) g && \text{(centred only)}\\\\
//! \hat v_t &= v_t/(1-\gamma^t),\ \hat{\bar g}\_t = \bar g_t/(1-\gamma^t) && \text{(bias correction, optional)}\\\\
//! \tilde v_t &= \hat v_t - \hat{\bar g}\_t^{\\,2} \text{ (centred) or } \hat v_t\\\\
//! d_t &= g/(\sqrt{\tilde v_t} + \epsilon) \text{ or } g/\sqrt{\tilde v_t + \epsilon} && \text{(ε outside / inside)}\\\\
//! b_t &= \mu b_{t-1} + d_t,\ \theta \leftarrow \theta - \eta b_t && \text{(PyTorch momentum)}\\\\
//! b_t &= \mu b_{t-1} + \eta d_t,\ \theta \leftarrow \theta - b_t && \text{(optax/Keras momentum)}\\\\
//! b_t &= \mu b_{t-1} + \eta d_t,\ \theta \leftarrow \theta - (\eta d_t + \mu b_t) && \text{(optax nesterov=True)}\\\\
//! \theta &\leftarrow \theta - \eta d_t && \text{(no momentum)}
//! \end{aligned}$$
//! Decoupled weight decay (Keras `weight_decay`) is applied first: $\theta \leftarrow \theta -
//! \eta\lambda\theta$.
//!
//! | symbol | field | PyTorch | optax | Keras |
//! |---|---|---|---|---|
//! | η | `lr` | `lr` | `learning_rate` | `learning_rate` |
//! | γ | `decay` | `alpha` | `decay` | `rho` |
//! | ε | `eps`, `eps_placement` | `eps` (outside) | `eps`, `eps_in_sqrt` | `epsilon` (inside) |
//! | centred | `centering` | `centered` | `centered` | `centered` |
//! | μ | `momentum`, `momentum_placement` | `momentum` | `momentum` | `momentum` |
//! | λ | `weight_decay` | `weight_decay` (coupled) | — | `weight_decay` (decoupled × lr) |
//! | $s_0$ | `initial_scale` | 0 | `initial_scale` | 0 |
//! | bias correction | `bias_correction` | — | `bias_correction` | — |
//!
//! ## Conventions
//! * **ε placement.** The lecture, optax (`eps_in_sqrt=True`, the default) and Keras put ε
//!   inside the root; PyTorch adds it after the root ("TensorFlow interchanges these two
//!   operations", PyTorch docstring).
//! * **Momentum.** PyTorch accumulates the preconditioned gradient and multiplies the buffer by
//!   the learning rate; optax (`trace` after `scale_by_learning_rate`) and Keras accumulate the
//!   learning-rate-scaled step. With a constant η the two buffers differ by the factor η and
//!   the iterates agree up to rounding ([`MomentumPlacement`]).
//! * **Centred** (Graves 2013): the running mean ḡ of the gradient is subtracted, ṽ = v − ḡ².
//!   PyTorch takes the root of ṽ and adds ε; optax and Keras use √(ṽ + ε). In exact arithmetic
//!   ṽ ≥ 0 (Cauchy–Schwarz on the EMA weights), but rounding can make it slightly negative
//!   when the gradient is nearly constant; the step then reports an error instead of writing
//!   NaN into the parameters.
//! * **Bias correction** (optax `bias_correction=True`) divides v (and ḡ) by 1 − γᵗ; with
//!   `eps_placement = OutsideSqrt` this is Adam with β₁ = 0 (optax's note and
//!   `test_rms_match_adam`; see `tests/equivalences_adaptive.rs`). Requires γ < 1.
//! * Keras computes `g·lr / sqrt(v + ε)` and optax `g · rsqrt(v + ε)`; these reorderings are
//!   rounding-level differences and are not reproduced here.
//!
//! ## References
//! * G. Hinton, N. Srivastava, K. Swersky, *Neural Networks for Machine Learning*, lecture 6e
//!   (2012) — <https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf>
//! * A. Graves, *Generating Sequences With Recurrent Neural Networks*, 2013, eqs. (38)–(41)
//!   (centred form) — <https://arxiv.org/abs/1308.0850>
//! * PyTorch `torch/optim/rmsprop.py` (`_single_tensor_rmsprop`); optax `_src/alias.py`
//!   (`rmsprop`) and `_src/transform.py` (`scale_by_rms`, `scale_by_stddev`); Keras
//!   `keras/src/optimizers/rmsprop.py`.

use super::conventions::{BiasCorrection, EpsPlacement, WeightDecay};
use super::sweep::{self, vectorised_unless_small};
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "rmsprop";

/// Whether the mean gradient is subtracted from the second moment (Graves 2013).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Centering {
    /// ṽ = v (Hinton's lecture).
    Uncentered,
    /// ṽ = v − ḡ² (PyTorch/optax/Keras `centered=True`).
    Centered,
}

/// Where the learning rate enters a momentum buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MomentumPlacement {
    /// `b = μb + d; θ −= η b` (PyTorch `RMSprop`).
    LrOutsideBuffer,
    /// `b = μb + η d; θ −= b` (optax `rmsprop(momentum=…)`, Keras `RMSprop`).
    LrInsideBuffer,
}

/// Hyperparameters of [`RmsProp`] (serde; validate with [`RmsPropConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RmsPropConfig {
    /// Learning rate η > 0.
    pub lr: f64,
    /// Decay γ of the second-moment average, in [0, 1] ([0, 1) with bias correction).
    pub decay: f64,
    /// Stabiliser ε > 0.
    pub eps: f64,
    /// ε inside or outside the root.
    pub eps_placement: EpsPlacement,
    /// Plain or centred.
    pub centering: Centering,
    /// Momentum μ ∈ [0, 1); 0 means no buffer.
    pub momentum: f64,
    /// Where η enters the momentum buffer (irrelevant when μ = 0).
    pub momentum_placement: MomentumPlacement,
    /// Nesterov momentum (optax `rmsprop(nesterov=True)`, i.e. `trace(nesterov=True)`): the
    /// step is `η d + μ b` with the new buffer b (lr inside the buffer), `d + μ b` times η
    /// (lr outside). Needs μ > 0 (without momentum optax ignores the flag).
    #[serde(default)]
    pub nesterov: bool,
    /// `None`, `CoupledL2` (PyTorch) or `DecoupledTimesLr` (Keras).
    pub weight_decay: WeightDecay,
    /// Initial value s₀ ≥ 0 of the second moment (optax `initial_scale`; TF1 used 1).
    pub initial_scale: f64,
    /// Divide the moments by 1 − γᵗ (optax `bias_correction`).
    pub bias_correction: BiasCorrection,
}

impl Default for RmsPropConfig {
    /// The lecture's form with Hinton's suggested decay 0.9 (lecture 6e: "MeanSquare(w, t) =
    /// 0.9 MeanSquare(w, t−1) + 0.1 (∂E/∂w)²"), η = 1e-3 and ε = 1e-8 inside the root (the
    /// lecture names neither η nor ε).
    fn default() -> Self {
        Self::lecture(1e-3, 0.9, 1e-8)
    }
}

impl RmsPropConfig {
    /// The lecture's form: `θ −= η (B + εI)^{-1/2} g`, B the EMA of g² with weight γ.
    pub fn lecture(lr: f64, gamma: f64, eps: f64) -> Self {
        Self {
            lr,
            decay: gamma,
            eps,
            eps_placement: EpsPlacement::InsideSqrt,
            centering: Centering::Uncentered,
            momentum: 0.0,
            momentum_placement: MomentumPlacement::LrOutsideBuffer,
            nesterov: false,
            weight_decay: WeightDecay::None,
            initial_scale: 0.0,
            bias_correction: BiasCorrection::Off,
        }
    }

    /// `torch.optim.RMSprop` defaults: lr 1e-2, alpha 0.99, eps 1e-8 outside the root.
    pub fn pytorch() -> Self {
        Self {
            lr: 1e-2,
            decay: 0.99,
            eps: 1e-8,
            eps_placement: EpsPlacement::OutsideSqrt,
            ..Self::lecture(1e-2, 0.99, 1e-8)
        }
    }

    /// `optax.rmsprop` defaults: decay 0.9, eps 1e-8 inside the root, initial scale 0, no
    /// bias correction, momentum (when set) after the learning rate. optax has no default
    /// learning rate; 1e-3 is used here (set `lr`).
    pub fn optax() -> Self {
        Self {
            momentum_placement: MomentumPlacement::LrInsideBuffer,
            ..Self::lecture(1e-3, 0.9, 1e-8)
        }
    }

    /// `keras.optimizers.RMSprop` defaults: learning_rate 1e-3, rho 0.9, epsilon 1e-7 inside
    /// the root, momentum (when set) with the learning rate inside the buffer.
    pub fn keras() -> Self {
        Self {
            momentum_placement: MomentumPlacement::LrInsideBuffer,
            ..Self::lecture(1e-3, 0.9, 1e-7)
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError`] naming the first invalid field and its valid range.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        match self.bias_correction {
            // 1 − γᵗ must not vanish.
            BiasCorrection::On => check::unit_interval(NAME, "decay", self.decay)?,
            BiasCorrection::Off => check::closed_unit_interval(NAME, "decay", self.decay)?,
            BiasCorrection::FirstMomentOnly | BiasCorrection::SecondMomentOnly => {
                return Err(HyperError::Incompatible {
                    optimizer: NAME,
                    reason: "RMSProp's bias correction is on or off (one decay for both moments)".into(),
                })
            }
        }
        check::positive(NAME, "eps", self.eps)?;
        check::unit_interval(NAME, "momentum", self.momentum)?;
        if self.nesterov && self.momentum == 0.0 {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "Nesterov momentum needs momentum > 0".into(),
            });
        }
        self.weight_decay.validate(NAME)?;
        if let WeightDecay::DecoupledSchedule(_) = self.weight_decay {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "RMSProp has no schedule multiplier; use CoupledL2 or DecoupledTimesLr".into(),
            });
        }
        check::non_negative(NAME, "initial_scale", self.initial_scale)
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`RmsPropConfig::validate`].
    pub fn build(self) -> Result<RmsProp, HyperError> {
        self.validate()?;
        Ok(RmsProp {
            config: self,
            state: None,
        })
    }
}

/// The moments of RMSProp, created on the first step.
#[derive(Debug, Clone)]
struct State {
    t: u64,
    v: DVector<f64>,
    /// An upper bound on every vᵢ (see [`RmsProp::fast_path_is_safe`]).
    v_bound: f64,
    g_avg: Option<DVector<f64>>,
    buffer: Option<DVector<f64>>,
    /// Scratch for one step of the checked path: effective gradient, next moments and
    /// denominators, computed and checked before anything is committed (allocated on first
    /// use, never by the fast path).
    grad: DVector<f64>,
    v_next: DVector<f64>,
    g_avg_next: DVector<f64>,
    denom: DVector<f64>,
}

/// RMSProp with validated hyperparameters and its state (see the module documentation).
///
/// # Example
/// PyTorch's defaults (γ = 0.01, α = 0.99, ε = 1e-8 outside the root), θ₀ = 1, g = 2 then −2:
/// v₁ = 0.01·4 = 0.04, θ₁ = 1 − 0.01·2/(√0.04 + ε) = 1 − 0.02/0.2 ≈ 0.9;
/// v₂ = 0.99·0.04 + 0.01·4 = 0.0796, θ₂ = θ₁ + 0.02/(√0.0796 + ε) ≈ 0.9 + 0.0708881 = 0.9708881.
/// ε moves each step by ≈ 0.1·ε/0.2 = 5e-9 (so the round values hold to 1e-8); the formulas
/// with ε hold to 1e-15.
/// ```
/// use optverify::prelude::*;
///
/// let mut rms = RmsPropConfig::pytorch().build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// rms.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// let x1 = 1.0 - 0.01 * 2.0 / (0.04f64.sqrt() + 1e-8);
/// assert!((x[0] - x1).abs() < 1e-15 && (x[0] - 0.9).abs() < 1e-8, "{}", x[0]);
/// rms.step(&mut x, &DVector::from_vec(vec![-2.0])).unwrap();
/// let x2 = x1 + 0.01 * 2.0 / (0.0796f64.sqrt() + 1e-8);
/// assert!((x[0] - x2).abs() < 1e-15 && (x[0] - 0.9708881).abs() < 1e-7, "{}", x[0]);
/// ```
#[derive(Debug, Clone)]
pub struct RmsProp {
    config: RmsPropConfig,
    state: Option<State>,
}

impl RmsProp {
    /// The hyperparameters.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    /// Second-moment average v_t (before bias correction); `None` before the first step.
    pub fn v(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.v)
    }

    /// Gradient average ḡ_t of the centred form; `None` if uncentred or before the first step.
    pub fn g_avg(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().and_then(|s| s.g_avg.as_ref())
    }

    /// Momentum buffer b_t; `None` without momentum or before the first step.
    pub fn momentum_buffer(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().and_then(|s| s.buffer.as_ref())
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "eps {}, {}, momentum {} ({}{}), weight decay {:?}, initial scale {}, bias correction {:?}",
            match c.eps_placement {
                EpsPlacement::InsideSqrt => "inside sqrt",
                EpsPlacement::OutsideSqrt => "outside sqrt",
            },
            match c.centering {
                Centering::Uncentered => "uncentred",
                Centering::Centered => "centred",
            },
            c.momentum,
            match c.momentum_placement {
                MomentumPlacement::LrOutsideBuffer => "lr outside buffer",
                MomentumPlacement::LrInsideBuffer => "lr inside buffer",
            },
            if c.nesterov { ", Nesterov" } else { "" },
            c.weight_decay,
            c.initial_scale,
            c.bias_correction,
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        crate::error::step_check::len("gradient", g, x.len())?;
        if let Some(state) = &self.state {
            crate::error::step_check::len("parameters", x, state.v.len())?;
        }
        // One vectorised read of g tells whether it is finite and bounds it (the fast path
        // needs the bound); the full check (which names the entry) runs only when it is not.
        let g_max_bits = sweep::max_abs_bits(g.as_slice());
        if g_max_bits >= sweep::INFINITY_BITS {
            check_step_input(x, g, self.state.as_ref().map(|s| s.v.len()))?;
        }
        let g_max = f64::from_bits(g_max_bits);
        let c = self.config.clone();
        let n = x.len();
        let state = self.state.get_or_insert_with(|| State {
            t: 0,
            v: DVector::from_element(n, c.initial_scale),
            v_bound: c.initial_scale,
            g_avg: (c.centering == Centering::Centered).then(|| DVector::zeros(n)),
            buffer: (c.momentum > 0.0).then(|| DVector::zeros(n)),
            grad: DVector::zeros(0),
            v_next: DVector::zeros(0),
            g_avg_next: DVector::zeros(0),
            denom: DVector::zeros(0),
        });
        let t = state.t + 1;
        let correction = match c.bias_correction {
            BiasCorrection::On => 1.0 - c.decay.powf(t as f64),
            _ => 1.0,
        };
        // vᵢ ← γvᵢ + (1 − γ)gᵢ² ≤ max(vᵢ, gᵢ²)(1 + 5u): a bound that needs no sweep over v.
        let v_bound = state.v_bound.max(g_max * g_max) * (1.0 + 1e-14);
        if RmsProp::fast_path_is_safe(&c, v_bound, correction) {
            state.t = t;
            state.v_bound = v_bound;
            let k = Coefficients::of(&c, correction);
            let v = state.v.as_mut_slice();
            let momentum = match (state.buffer.is_some(), c.momentum_placement) {
                (false, _) => NO_MOMENTUM,
                (true, MomentumPlacement::LrOutsideBuffer) => LR_OUTSIDE_BUFFER,
                (true, MomentumPlacement::LrInsideBuffer) => LR_INSIDE_BUFFER,
            };
            let b = state.buffer.as_mut().map_or(&mut [][..], |b| b.as_mut_slice());
            let (x, g) = (x.as_mut_slice(), g.as_slice());
            let decoupled = matches!(c.weight_decay, WeightDecay::DecoupledTimesLr(_));
            let inside = c.eps_placement == EpsPlacement::InsideSqrt;
            let divide = correction != 1.0;
            vectorised_unless_small(
                n,
                #[inline(always)]
                || match (decoupled, divide) {
                    (false, false) => with_eps_and_momentum::<false, false>(&k, inside, momentum, x, g, v, b),
                    (false, true) => with_eps_and_momentum::<false, true>(&k, inside, momentum, x, g, v, b),
                    (true, false) => with_eps_and_momentum::<true, false>(&k, inside, momentum, x, g, v, b),
                    (true, true) => with_eps_and_momentum::<true, true>(&k, inside, momentum, x, g, v, b),
                },
            );
            return Ok(());
        }
        // The checked path: centred (v − ḡ² may round below −ε), coupled decay (|g + λθ| is
        // not bounded by |g|), or moments near overflow.
        for scratch in [&mut state.grad, &mut state.v_next, &mut state.denom] {
            if scratch.len() != n {
                *scratch = DVector::zeros(n);
            }
        }
        if state.g_avg.is_some() && state.g_avg_next.len() != n {
            state.g_avg_next = DVector::zeros(n);
        }
        // Pass 1: the new moments and denominators, written to scratch so that a failure
        // leaves the optimizer exactly as it was.
        for i in 0..n {
            // Coupled decay reads θ_{t−1}.
            let gi = match c.weight_decay {
                WeightDecay::CoupledL2(lambda) => g[i] + lambda * x[i],
                _ => g[i],
            };
            state.grad[i] = gi;
            state.v_next[i] = c.decay * state.v[i] + (1.0 - c.decay) * gi * gi;
            let mut v_tilde = if correction == 1.0 {
                state.v_next[i]
            } else {
                state.v_next[i] / correction
            };
            if let Some(g_avg) = state.g_avg.as_ref() {
                state.g_avg_next[i] = c.decay * g_avg[i] + (1.0 - c.decay) * gi;
                let mean = if correction == 1.0 {
                    state.g_avg_next[i]
                } else {
                    state.g_avg_next[i] / correction
                };
                v_tilde -= mean * mean;
            }
            state.denom[i] = match c.eps_placement {
                EpsPlacement::OutsideSqrt => v_tilde.sqrt() + c.eps,
                EpsPlacement::InsideSqrt => (v_tilde + c.eps).sqrt(),
            };
        }
        if let Some(i) = state.denom.iter().position(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(StepError::Invalid(format!(
                "rmsprop: denominator at coordinate {i} is {} (centred second moment v - g_avg^2 \
                 rounded below -eps); optimizer and parameters left unchanged",
                state.denom[i]
            )));
        }
        // Commit the moments.
        state.t = t;
        std::mem::swap(&mut state.v, &mut state.v_next);
        state.v_bound = state.v.iter().fold(0.0, |m: f64, &v| m.max(v));
        if let Some(g_avg) = state.g_avg.as_mut() {
            std::mem::swap(g_avg, &mut state.g_avg_next);
        }
        // Pass 2: decoupled decay (Keras, before the step), then the update.
        if let WeightDecay::DecoupledTimesLr(lambda) = c.weight_decay {
            for xi in x.iter_mut() {
                *xi -= *xi * lambda * c.lr;
            }
        }
        for i in 0..n {
            let d = state.grad[i] / state.denom[i];
            match state.buffer.as_mut() {
                Some(b) => match c.momentum_placement {
                    MomentumPlacement::LrOutsideBuffer => {
                        b[i] = c.momentum * b[i] + d;
                        x[i] -= c.lr * if c.nesterov { d + c.momentum * b[i] } else { b[i] };
                    }
                    MomentumPlacement::LrInsideBuffer => {
                        b[i] = c.momentum * b[i] + c.lr * d;
                        x[i] -= if c.nesterov {
                            c.lr * d + c.momentum * b[i]
                        } else {
                            b[i]
                        };
                    }
                },
                None => x[i] -= c.lr * d,
            }
        }
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.t)
    }
}

impl RmsProp {
    /// Whether this step can run in one sweep, committing as it goes: uncentred, no coupled
    /// decay, no Nesterov momentum (only the checked path has it), and every ṽᵢ = vᵢ/(1 − γᵗ) below 10³⁰⁰ (`v_bound` bounds the new vᵢ). Then every
    /// denominator is finite and ≥ min(ε, √ε) > 0, so the step cannot fail half-way; otherwise
    /// the checked two-pass path decides before anything moves.
    fn fast_path_is_safe(c: &RmsPropConfig, v_bound: f64, correction: f64) -> bool {
        c.centering == Centering::Uncentered
            && !c.nesterov
            && !matches!(c.weight_decay, WeightDecay::CoupledL2(_))
            && v_bound / correction < 1e300
    }
}

/// Momentum placement, as a `const` parameter of the sweep.
const NO_MOMENTUM: u8 = 0;
const LR_OUTSIDE_BUFFER: u8 = 1;
const LR_INSIDE_BUFFER: u8 = 2;

/// The constants of step t.
struct Coefficients {
    lr: f64,
    decay: f64,
    one_minus_decay: f64,
    correction: f64,
    eps: f64,
    momentum: f64,
    /// λ of Keras's decoupled decay.
    lambda: f64,
}

impl Coefficients {
    fn of(c: &RmsPropConfig, correction: f64) -> Self {
        Coefficients {
            lr: c.lr,
            decay: c.decay,
            one_minus_decay: 1.0 - c.decay,
            correction,
            eps: c.eps,
            momentum: c.momentum,
            lambda: match c.weight_decay {
                WeightDecay::DecoupledTimesLr(l) => l,
                _ => 0.0,
            },
        }
    }
}

/// Pick the ε placement and momentum constants of the sweep.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn with_eps_and_momentum<const DECOUPLED: bool, const DIVIDE: bool>(
    k: &Coefficients,
    inside: bool,
    momentum: u8,
    x: &mut [f64],
    g: &[f64],
    v: &mut [f64],
    b: &mut [f64],
) {
    match (inside, momentum) {
        (false, NO_MOMENTUM) => sweep::<DECOUPLED, DIVIDE, false, NO_MOMENTUM>(k, x, g, v, b),
        (false, LR_OUTSIDE_BUFFER) => sweep::<DECOUPLED, DIVIDE, false, LR_OUTSIDE_BUFFER>(k, x, g, v, b),
        (false, _) => sweep::<DECOUPLED, DIVIDE, false, LR_INSIDE_BUFFER>(k, x, g, v, b),
        (true, NO_MOMENTUM) => sweep::<DECOUPLED, DIVIDE, true, NO_MOMENTUM>(k, x, g, v, b),
        (true, LR_OUTSIDE_BUFFER) => sweep::<DECOUPLED, DIVIDE, true, LR_OUTSIDE_BUFFER>(k, x, g, v, b),
        (true, _) => sweep::<DECOUPLED, DIVIDE, true, LR_INSIDE_BUFFER>(k, x, g, v, b),
    }
}

/// One uncentred step for every coordinate in one sweep over θ, g, v (and the buffer): the
/// same operations, in the same order, as the checked path's two passes.
#[inline(always)]
fn sweep<const DECOUPLED: bool, const DIVIDE: bool, const EPS_INSIDE_SQRT: bool, const MOMENTUM: u8>(
    k: &Coefficients,
    x: &mut [f64],
    g: &[f64],
    v: &mut [f64],
    b: &mut [f64],
) {
    let n = x.len();
    let (g, v) = (&g[..n], &mut v[..n]);
    let b = if MOMENTUM == NO_MOMENTUM { b } else { &mut b[..n] };
    for i in 0..n {
        let gi = g[i];
        v[i] = k.decay * v[i] + k.one_minus_decay * gi * gi;
        let v_tilde = if DIVIDE { v[i] / k.correction } else { v[i] };
        let denom = if EPS_INSIDE_SQRT {
            (v_tilde + k.eps).sqrt()
        } else {
            v_tilde.sqrt() + k.eps
        };
        // Keras's decoupled decay, before the step.
        if DECOUPLED {
            x[i] -= x[i] * k.lambda * k.lr;
        }
        let d = gi / denom;
        match MOMENTUM {
            LR_OUTSIDE_BUFFER => {
                b[i] = k.momentum * b[i] + d;
                x[i] -= k.lr * b[i];
            }
            LR_INSIDE_BUFFER => {
                b[i] = k.momentum * b[i] + k.lr * d;
                x[i] -= b[i];
            }
            _ => x[i] -= k.lr * d,
        }
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "RMSProp (Hinton 2012, lecture 6e; centred form Graves 2013): lecture, PyTorch, \
                      optax and Keras forms",
        variants: vec![
            "lecture: eps inside sqrt",
            "pytorch: eps outside sqrt, lr outside momentum buffer, coupled L2",
            "optax: eps inside sqrt, lr inside momentum buffer, initial scale, bias correction",
            "keras: eps 1e-7 inside sqrt, lr inside momentum buffer, decoupled decay x lr",
            "centred",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{assert_matches_reference, assert_out_of_range, trajectory_of};
    use crate::prec::{trajectory_rel, UNIT_ROUNDOFF};

    /// Gradients g_1, g_2, g_3 shared by the hand-computed references (exact binary values).
    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];
    const X0: [f64; 2] = [1.0, -2.0];

    fn run(config: RmsPropConfig, steps: usize) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS[..steps])
    }

    // References computed with 50-digit decimal arithmetic from the exact binary values of
    // the f64 hyperparameters (Python `decimal`, the formulas of the module doc), rounded once
    // to f64. See tests/equivalences_adaptive.rs for the framework-level equivalences.

    const LECTURE_REF: [[f64; 2]; 3] = [
        [0.9683772235739982, -1.9683772297228697],
        [0.9788600718836195, -1.983121422774152],
        [0.9734175676135604, -2.0137684897380566],
    ];
    const PYTORCH_CENTRED_MOMENTUM_REF: [[f64; 2]; 3] = [
        [0.8994962218410821, -1.899496238676095],
        [0.8408712508993471, -1.8539877051435345],
        [0.7722980693331768, -1.9097487205999912],
    ];
    const OPTAX_REF: [[f64; 2]; 3] = [
        [0.9900000000055555, -1.9983333333342592],
        [0.9884811148357764, -1.998691368923556],
        [0.9855381018599998, -2.009116021271946],
    ];
    const KERAS_DECAY_REF: [[f64; 2]; 2] = [
        [0.963377225155137, -1.9583772866436797],
        [0.9690431868205999, -1.9633295701839386],
    ];
    const PYTORCH_COUPLED_REF: [[f64; 2]; 2] = [
        [0.9000000028571428, -1.9000000066666662],
        [0.9156000931395598, -1.8575367558467009],
    ];

    #[test]
    fn lecture_form_three_steps_by_hand() {
        // η = 0.01, γ = 0.9, ε = 1e-8 inside the root.
        let got = run(RmsPropConfig::lecture(0.01, 0.9, 1e-8), 3);
        assert_matches_reference(&got, &LECTURE_REF);
        // First step in closed form: v₁ = (1−γ)g², θ₁ = θ₀ − η g/√((1−γ)g² + ε) ≈ θ₀ − η sign(g)/√0.1.
        let expected = 1.0 - 0.01 * 3.0 / (0.1 * 9.0 + 1e-8_f64).sqrt();
        assert!((got[1][0] - expected).abs() <= 4.0 * UNIT_ROUNDOFF);
    }

    #[test]
    fn pytorch_centred_momentum_three_steps_by_hand() {
        let config = RmsPropConfig {
            centering: Centering::Centered,
            momentum: 0.9,
            lr: 0.01,
            ..RmsPropConfig::pytorch()
        };
        let got = run(config, 3);
        assert_matches_reference(&got, &PYTORCH_CENTRED_MOMENTUM_REF);
    }

    #[test]
    fn optax_bias_corrected_centred_lr_inside_momentum_three_steps_by_hand() {
        let config = RmsPropConfig {
            centering: Centering::Centered,
            momentum: 0.5,
            lr: 0.01,
            bias_correction: BiasCorrection::On,
            initial_scale: 1.0,
            ..RmsPropConfig::optax()
        };
        let got = run(config, 3);
        assert_matches_reference(&got, &OPTAX_REF);
    }

    #[test]
    fn keras_decoupled_decay_two_steps_by_hand() {
        let config = RmsPropConfig {
            lr: 0.01,
            weight_decay: WeightDecay::DecoupledTimesLr(0.5),
            ..RmsPropConfig::keras()
        };
        let got = run(config, 2);
        assert_matches_reference(&got, &KERAS_DECAY_REF);
    }

    #[test]
    fn pytorch_coupled_decay_two_steps_by_hand() {
        let config = RmsPropConfig {
            weight_decay: WeightDecay::CoupledL2(0.5),
            ..RmsPropConfig::pytorch()
        };
        let got = run(config, 2);
        assert_matches_reference(&got, &PYTORCH_COUPLED_REF);
    }

    #[test]
    fn momentum_placement_differs_only_by_rounding_at_constant_lr() {
        // b_inside = η b_outside exactly in real arithmetic, so θ agrees to rounding: over
        // 50 steps of a contractive recurrence, trajectory_rel(50) relative to max |θ|.
        let mut a = RmsPropConfig {
            momentum: 0.9,
            ..RmsPropConfig::pytorch()
        }
        .build()
        .unwrap();
        let mut b = RmsPropConfig {
            momentum: 0.9,
            momentum_placement: MomentumPlacement::LrInsideBuffer,
            ..RmsPropConfig::pytorch()
        }
        .build()
        .unwrap();
        let mut xa = DVector::from_row_slice(&X0);
        let mut xb = xa.clone();
        for k in 0..50 {
            let g = DVector::from_row_slice(&GRADS[k % 3]);
            a.step(&mut xa, &g).unwrap();
            b.step(&mut xb, &g).unwrap();
            let scale = xa.amax().max(1.0);
            assert!(
                (&xa - &xb).amax() <= trajectory_rel(k + 1) * scale,
                "step {}",
                k + 1
            );
        }
        let ratio = b.momentum_buffer().unwrap()[0] / a.momentum_buffer().unwrap()[0];
        assert!((ratio - 0.01).abs() <= 0.01 * trajectory_rel(50));
    }

    #[test]
    fn centred_denominator_guard() {
        // A constant gradient c with γ = 1/2: v_t = (1−2⁻ᵗ)c², ḡ_t = (1−2⁻ᵗ)c, so
        // ṽ_t = (1−2⁻ᵗ)2⁻ᵗc² > 0 in exact arithmetic; 2⁻ᵗ shrinks to the rounding level of
        // v after ~50 steps, where ṽ may round to 0 or slightly below — with ε inside the root
        // the denominator √(ṽ + ε) stays positive and the guard must not fire.
        let mut opt = RmsPropConfig {
            decay: 0.5,
            centering: Centering::Centered,
            ..RmsPropConfig::keras()
        }
        .build()
        .unwrap();
        let mut x = DVector::from_row_slice(&[0.3]);
        for _ in 0..80 {
            opt.step(&mut x, &DVector::from_row_slice(&[0.7])).unwrap();
            assert!(x[0].is_finite());
        }
        // A state with v < ḡ² (unreachable in exact arithmetic, reachable by rounding with ε
        // outside the root) gives √(negative) = NaN: the step reports it and leaves θ alone.
        let mut bad = RmsPropConfig {
            centering: Centering::Centered,
            ..RmsPropConfig::pytorch()
        }
        .build()
        .unwrap();
        let mut y = DVector::from_row_slice(&[1.0]);
        bad.step(&mut y, &DVector::from_row_slice(&[1.0])).unwrap();
        bad.state.as_mut().unwrap().v[0] = 0.0;
        let before = y.clone();
        let v_before = bad.v().unwrap().clone();
        let err = bad.step(&mut y, &DVector::from_row_slice(&[0.0])).unwrap_err();
        assert!(matches!(err, StepError::Invalid(_)), "{err:?}");
        assert_eq!(y, before);
        assert_eq!(bad.v().unwrap(), &v_before);
        assert_eq!(bad.steps_taken(), 1);
    }

    #[test]
    fn validation_table() {
        let base = RmsPropConfig::pytorch;
        type Case = (RmsPropConfig, &'static str);
        let cases: Vec<Case> = vec![
            (RmsPropConfig { lr: -0.1, ..base() }, "lr"),
            (
                RmsPropConfig {
                    lr: f64::NAN,
                    ..base()
                },
                "lr",
            ),
            (RmsPropConfig { lr: 0.0, ..base() }, "lr"),
            (RmsPropConfig { decay: 1.5, ..base() }, "decay"),
            (
                RmsPropConfig {
                    decay: f64::NAN,
                    ..base()
                },
                "decay",
            ),
            (
                RmsPropConfig {
                    decay: 1.0,
                    bias_correction: BiasCorrection::On,
                    ..base()
                },
                "decay",
            ),
            (RmsPropConfig { eps: 0.0, ..base() }, "eps"),
            (RmsPropConfig { eps: -1e-8, ..base() }, "eps"),
            (
                RmsPropConfig {
                    momentum: 1.0,
                    ..base()
                },
                "momentum",
            ),
            (
                RmsPropConfig {
                    momentum: -0.1,
                    ..base()
                },
                "momentum",
            ),
            (
                RmsPropConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::NAN),
                    ..base()
                },
                "weight_decay",
            ),
            (
                RmsPropConfig {
                    initial_scale: -1.0,
                    ..base()
                },
                "initial_scale",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        // The lecture allows γ = 1 (B never changes) and γ = 0 (B = g²).
        assert!(RmsPropConfig::lecture(0.1, 1.0, 1e-8).build().is_ok());
        assert!(RmsPropConfig::lecture(0.1, 0.0, 1e-8).build().is_ok());
        assert!(matches!(
            RmsPropConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.1),
                ..base()
            }
            .build(),
            Err(HyperError::Incompatible { .. })
        ));
    }

    #[test]
    fn step_input_errors() {
        let mut opt = RmsPropConfig::pytorch().build().unwrap();
        let mut x = DVector::from_row_slice(&[1.0, 2.0]);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::NAN])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        opt.step(&mut x, &DVector::from_row_slice(&[1.0, 1.0])).unwrap();
        let mut y = DVector::from_row_slice(&[1.0, 2.0, 3.0]);
        assert!(matches!(
            opt.step(&mut y, &DVector::from_row_slice(&[1.0, 1.0, 1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 1);
    }

    #[test]
    fn presets_carry_framework_defaults() {
        let p = RmsPropConfig::pytorch();
        assert_eq!((p.lr, p.decay, p.eps), (1e-2, 0.99, 1e-8));
        assert_eq!(p.eps_placement, EpsPlacement::OutsideSqrt);
        let o = RmsPropConfig::optax();
        assert_eq!((o.decay, o.eps, o.initial_scale), (0.9, 1e-8, 0.0));
        assert_eq!(o.eps_placement, EpsPlacement::InsideSqrt);
        assert_eq!(o.momentum_placement, MomentumPlacement::LrInsideBuffer);
        let k = RmsPropConfig::keras();
        assert_eq!((k.lr, k.decay, k.eps), (1e-3, 0.9, 1e-7));
        assert_eq!(k.eps_placement, EpsPlacement::InsideSqrt);
        let json = serde_json::to_string(&k).unwrap();
        let back: RmsPropConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, k);
    }
}
