//! # Adam
//!
//! Kingma & Ba (2015), Algorithm 1, element-wise, for step $t$ (from 1):
//! $$\begin{aligned}
//! g_t &\leftarrow \nabla_\theta f_t(\theta_{t-1}) \\;[+\\,\lambda\theta_{t-1}]
//!   && \text{(coupled L2: Loshchilov \\& Hutter Alg. 2 line 6)}\\\\
//! m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\\, g_t\\\\
//! v_t &\leftarrow \beta_2 v_{t-1} + (1-\beta_2)\\, g_t^2\\\\
//! \hat m_t &\leftarrow m_t / (1-\beta_1^t)\\\\
//! \hat v_t &\leftarrow v_t / (1-\beta_2^t)\\\\
//! \eta_t &\leftarrow \mathrm{SetScheduleMultiplier}(t) && \text{(Alg. 2 line 11; 1 without a schedule)}\\\\
//! \theta_t &\leftarrow \theta_{t-1} - \eta_t\\, \alpha\\, \hat m_t / \bigl(\sqrt{\hat v_t + \bar\epsilon} + \epsilon\bigr)
//!   && (\bar\epsilon = \texttt{eps\\\_root}, \text{ optax; 0 in the paper})
//! \end{aligned}$$
//! with $m_0 = v_0 = 0$. [`AdamFormulation::EpsHat`] replaces the last three lines by the
//! reordering "just before §2.1" of the paper, which Keras/TensorFlow implement:
//! $\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)$, $\theta_t \leftarrow \theta_{t-1} -
//! \eta_t\\,\alpha_t m_t/(\sqrt{v_t} + \hat\epsilon)$. AMSGrad (Reddi et al. 2018, Alg. 2) keeps a
//! running maximum of the second moment ([`AmsGradMax`] says of which one).
//!
//! | symbol | field | PyTorch | optax | Keras |
//! |---|---|---|---|---|
//! | α | `lr` | `lr` | `learning_rate` | `learning_rate` |
//! | β₁, β₂ | `beta1`, `beta2` | `betas` | `b1`, `b2` | `beta_1`, `beta_2` |
//! | ε | `eps` | `eps` (1e-8) | `eps` (1e-8) | `epsilon` = ε̂ (1e-7) |
//! | ε̄ | `eps_root` | — | `eps_root` | — |
//! | λ | `weight_decay` (`CoupledL2`) | `weight_decay` of `Adam` | — | — |
//! | η_t | `schedule` | LR scheduler factor | schedule | schedule |
//! | AMSGrad | `amsgrad` | `amsgrad` (raw v) | `optax.amsgrad` (v̂) | `amsgrad` (raw v) |
//!
//! ## Conventions
//! * **ε placement** ([`AdamFormulation`]): PyTorch and optax follow Algorithm 1; Keras uses ε̂,
//!   which equals Algorithm 1 with a step-dependent $\epsilon_t = \hat\epsilon/\sqrt{1-\beta_2^t}$
//!   (optax's docstring warns about exactly this).
//! * **AMSGrad**: PyTorch and Keras take the maximum of the raw v and then bias-correct; optax
//!   takes it over the bias-corrected v̂; the paper has no bias correction at all.
//! * **Weight decay**: `Adam(weight_decay=λ)` in PyTorch is coupled L2 ("Adam with L2
//!   regularisation" of Loshchilov & Hutter). Decoupled decay is [`super::adamw`]; this struct
//!   rejects it.
//! * **Powers βᵗ** are computed with `powf(t as f64)`: PyTorch evaluates `beta ** step` on
//!   Python floats (C `pow`), optax `decay ** count` (XLA `pow`), Keras `ops.power`; all are
//!   `pow` of a double, so `powf` reproduces them, while `powi` (repeated squaring) rounds
//!   differently (conventions.md, "Matching a framework to the last bit").
//! * The operation order inside a line follows the paper (`α · (m̂ / (√v̂ + ε))`, moments as
//!   `β m + (1−β) g`). PyTorch folds the corrections into `lr/(1−β₁ᵗ)` and `√v/√(1−β₂ᵗ)`, uses
//!   `lerp` for m, and Keras writes `m += (g − m)(1−β₁)`: identical in exact arithmetic,
//!   different by a few ulps per step.
//! * **Initial moments**: the paper sets m₀ = v₀ = 0. The lecture's slide of Loshchilov &
//!   Hutter Alg. 2 prints "m₀ ← θ"; [`FirstMomentInit::Parameters`] and
//!   [`Adam::with_initial_moments`] reproduce such initialisations for the claims.
//!
//! ## References
//! * D. P. Kingma, J. Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
//!   Algorithm 1 and §2 — <https://arxiv.org/abs/1412.6980>
//! * S. J. Reddi, S. Kale, S. Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018,
//!   Algorithm 2 (AMSGrad) — <https://openreview.net/forum?id=ryQu7f-RZ>
//! * I. Loshchilov, F. Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
//!   Algorithm 2 (Adam with L₂ regularisation, lines 6 and 11) — <https://arxiv.org/abs/1711.05101>
//! * PyTorch `torch/optim/adam.py` (`_single_tensor_adam`); optax `_src/transform.py`
//!   (`scale_by_adam`, `scale_by_amsgrad`); Keras `keras/src/optimizers/adam.py`.

use super::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, WeightDecay};
use super::schedule::Schedule;
use super::sweep::{div_exact, div_exact_applies, vectorised, vectorised_fma, vectorised_unless_small};
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use num_traits::Float;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const NAME: &str = "adam";

/// AMSGrad's maximum, as a `const` parameter of the sweeps: none, of the raw v (PyTorch,
/// Keras, Reddi et al.), of v̂ (optax).
const NO_MAX: u8 = 0;
const MAX_OF_V: u8 = 1;
const MAX_OF_V_HAT: u8 = 2;

/// Call `f::<L2, EPS_HAT, MAX>(args…)` with the conventions of an [`AdamConfig`] as constants,
/// so that the sweeps have no convention branch inside the loop.
macro_rules! conventions {
    ($config:expr, $f:ident $(::<$q:ty>)? ($($arg:expr),* $(,)?)) => {
        conventions!(@ $config, $f, [_, $($q,)?], $($arg),*)
    };
    (@ $config:expr, $f:ident, [$($ty:tt)*], $($arg:expr),*) => {{
        let c: &AdamConfig = &$config;
        let l2 = matches!(c.weight_decay, WeightDecay::CoupledL2(_));
        let max = match c.amsgrad {
            None => NO_MAX,
            Some(AmsGradMax::RawV | AmsGradMax::PaperNoBiasCorrection) => MAX_OF_V,
            Some(AmsGradMax::BiasCorrectedV) => MAX_OF_V_HAT,
        };
        match (c.formulation, l2, max) {
            (AdamFormulation::Algorithm1, false, NO_MAX) => $f::<$($ty)* false, false, NO_MAX>($($arg),*),
            (AdamFormulation::Algorithm1, false, MAX_OF_V) => $f::<$($ty)* false, false, MAX_OF_V>($($arg),*),
            (AdamFormulation::Algorithm1, false, _) => $f::<$($ty)* false, false, MAX_OF_V_HAT>($($arg),*),
            (AdamFormulation::Algorithm1, true, NO_MAX) => $f::<$($ty)* true, false, NO_MAX>($($arg),*),
            (AdamFormulation::Algorithm1, true, MAX_OF_V) => $f::<$($ty)* true, false, MAX_OF_V>($($arg),*),
            (AdamFormulation::Algorithm1, true, _) => $f::<$($ty)* true, false, MAX_OF_V_HAT>($($arg),*),
            // The ε-hat form keeps the maximum of the raw v (validate rejects v̂).
            (AdamFormulation::EpsHat, false, NO_MAX) => $f::<$($ty)* false, true, NO_MAX>($($arg),*),
            (AdamFormulation::EpsHat, false, _) => $f::<$($ty)* false, true, MAX_OF_V>($($arg),*),
            (AdamFormulation::EpsHat, true, NO_MAX) => $f::<$($ty)* true, true, NO_MAX>($($arg),*),
            (AdamFormulation::EpsHat, true, _) => $f::<$($ty)* true, true, MAX_OF_V>($($arg),*),
        }
    }};
}

/// How the first moment m₀ is initialised when the state is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirstMomentInit {
    /// m₀ = 0 (Kingma & Ba Algorithm 1, Loshchilov & Hutter Algorithm 2, every framework).
    #[default]
    Zero,
    /// m₀ = θ₀, as printed on the lecture's slide of Algorithm 2 (a misprint of the paper's
    /// m₀ ← 0); kept so the claims can run the statement as printed.
    Parameters,
}

/// Hyperparameters of [`Adam`] (serde; validate with [`AdamConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Step size α > 0.
    pub lr: f64,
    /// β₁ ∈ [0, 1).
    pub beta1: f64,
    /// β₂ ∈ [0, 1).
    pub beta2: f64,
    /// ε > 0 (ε̂ under [`AdamFormulation::EpsHat`]).
    pub eps: f64,
    /// ε̄ ≥ 0 added to v̂ inside the root (optax `eps_root`; 0 elsewhere).
    pub eps_root: f64,
    /// Algorithm 1 or Keras's ε-hat reordering.
    pub formulation: AdamFormulation,
    /// Divide the moments by 1 − βᵗ.
    pub bias_correction: BiasCorrection,
    /// AMSGrad and which second moment it maximises; `None` for Adam.
    pub amsgrad: Option<AmsGradMax>,
    /// `None` or `CoupledL2(λ)` (Adam with L2 regularisation); decoupled decay is AdamW.
    pub weight_decay: WeightDecay,
    /// Schedule multiplier η_t; `None` means no multiplier at all.
    pub schedule: Option<Schedule>,
    /// m₀ = 0 or m₀ = θ₀.
    pub first_moment_init: FirstMomentInit,
}

impl Default for AdamConfig {
    /// The paper's defaults (Algorithm 1 caption): α = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    fn default() -> Self {
        Self::paper()
    }
}

impl AdamConfig {
    /// Kingma & Ba Algorithm 1 with its defaults α = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    pub fn paper() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            eps_root: 0.0,
            formulation: AdamFormulation::Algorithm1,
            bias_correction: BiasCorrection::On,
            amsgrad: None,
            weight_decay: WeightDecay::None,
            schedule: None,
            first_moment_init: FirstMomentInit::Zero,
        }
    }

    /// `torch.optim.Adam` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0
    /// (coupled when set), amsgrad on the raw v when enabled.
    pub fn pytorch() -> Self {
        Self::paper()
    }

    /// `optax.adam` defaults: b1 0.9, b2 0.999, eps 1e-8, eps_root 0. optax has no default
    /// learning rate; 1e-3 is used here (set `lr`).
    pub fn optax() -> Self {
        Self::paper()
    }

    /// `keras.optimizers.Adam` defaults: learning_rate 1e-3, betas (0.9, 0.999), epsilon
    /// (ε̂) 1e-7, ε-hat formulation.
    pub fn keras() -> Self {
        Self {
            eps: 1e-7,
            formulation: AdamFormulation::EpsHat,
            ..Self::paper()
        }
    }

    /// Reddi et al. 2018 Algorithm 2 (AMSGrad) with constant β₁ and the Adam defaults: no
    /// bias correction, maximum of the raw v (the paper has no ε; a positive ε is kept).
    pub fn amsgrad_paper() -> Self {
        Self {
            bias_correction: BiasCorrection::Off,
            amsgrad: Some(AmsGradMax::PaperNoBiasCorrection),
            ..Self::paper()
        }
    }

    /// Check every field and their combinations.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the field and range; [`HyperError::Incompatible`]
    /// for decoupled decay (use AdamW) and for combinations the ε-hat form cannot express.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "beta1", self.beta1)?;
        check::unit_interval(NAME, "beta2", self.beta2)?;
        check::positive(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "eps_root", self.eps_root)?;
        self.weight_decay.validate(NAME)?;
        let incompatible = |reason: &str| {
            Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: reason.to_string(),
            })
        };
        match self.weight_decay {
            WeightDecay::None | WeightDecay::CoupledL2(_) => {}
            WeightDecay::DecoupledSchedule(_) | WeightDecay::DecoupledTimesLr(_) => {
                return incompatible("decoupled weight decay is AdamW (optim::adamw), not Adam")
            }
        }
        if let Some(schedule) = &self.schedule {
            schedule.validate()?;
        }
        if self.formulation == AdamFormulation::EpsHat {
            if self.eps_root != 0.0 {
                return incompatible("eps_root (optax) has no place in the Keras eps-hat formulation");
            }
            if self.amsgrad == Some(AmsGradMax::BiasCorrectedV) {
                return incompatible(
                    "the eps-hat formulation never forms v-hat; AMSGrad over v-hat is optax's Algorithm-1 form",
                );
            }
        }
        if self.amsgrad == Some(AmsGradMax::PaperNoBiasCorrection)
            && self.bias_correction == BiasCorrection::On
        {
            return incompatible("Reddi et al.'s AMSGrad has no bias correction; set bias_correction = Off");
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`AdamConfig::validate`].
    pub fn build(self) -> Result<Adam, HyperError> {
        self.validate()?;
        Ok(Adam {
            config: self,
            initial: None,
            state: None,
            update: OnceLock::new(),
        })
    }
}

#[derive(Debug, Clone)]
struct State {
    t: u64,
    m: DVector<f64>,
    v: DVector<f64>,
    /// Running maximum for AMSGrad (of v or of v̂, per [`AmsGradMax`]).
    v_max: Option<DVector<f64>>,
}

/// Adam with validated hyperparameters and its state (see the module documentation).
///
/// # Examples
/// Two steps by hand (Algorithm 1, β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸, α = 0.1), θ₀ = 1:
/// g₁ = 2: m₁ = 0.2, v₁ = 0.004, m̂₁ = 2, v̂₁ = 4, θ₁ = 1 − 0.1·2/(2 + ε) ≈ 0.9;
/// g₂ = −1: m₂ = 0.18 − 0.1 = 0.08, v₂ = 0.003996 + 0.001 = 0.004996, m̂₂ = 0.08/0.19,
/// v̂₂ = 0.004996/0.001999, θ₂ = θ₁ − 0.1·m̂₂/(√v̂₂ + ε) ≈ 0.9 − 0.026634.
/// ```
/// use optverify::prelude::*;
///
/// let mut adam = AdamConfig { lr: 0.1, ..AdamConfig::paper() }.build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// adam.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// assert!((x[0] - (1.0 - 0.1 * 2.0 / (2.0 + 1e-8))).abs() < 1e-15);
/// adam.step(&mut x, &DVector::from_vec(vec![-1.0])).unwrap();
/// let (m_hat, v_hat) = (0.08 / 0.19, 0.004996 / 0.001999);
/// let expected = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8) - 0.1 * m_hat / (f64::sqrt(v_hat) + 1e-8);
/// assert!((x[0] - expected).abs() < 1e-12, "{} vs {expected}", x[0]);
/// assert!((x[0] - (0.9 - 0.026634)).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct Adam {
    config: AdamConfig,
    /// Explicit (m₀, v₀), overriding `first_moment_init`.
    initial: Option<(DVector<f64>, DVector<f64>)>,
    state: Option<State>,
    /// u_t = α m̂_t/(√(v̂_t + ε̄) + ε) (or α_t m_t/(√v_t + ε̂)), before η_t: written by
    /// [`Adam::advance`], and by [`Adam::last_update`] on demand after a fused
    /// [`Optimizer::step`] (which never stores it: u_t is a function of m_t, v_t and t).
    update: OnceLock<DVector<f64>>,
}

impl Adam {
    /// Start from the given moments (m₀, v₀) instead of zeros.
    ///
    /// # Errors
    /// [`HyperError::Incompatible`] if the lengths differ, an entry is not finite, or v₀ has a
    /// negative entry; or if the optimizer has already stepped.
    pub fn with_initial_moments(mut self, m0: DVector<f64>, v0: DVector<f64>) -> Result<Self, HyperError> {
        let reason = if self.state.is_some() {
            Some("initial moments must be set before the first step".to_string())
        } else if m0.len() != v0.len() {
            Some(format!(
                "m0 has length {} but v0 has length {}",
                m0.len(),
                v0.len()
            ))
        } else if m0.iter().chain(v0.iter()).any(|x| !x.is_finite()) {
            Some("initial moments must be finite".to_string())
        } else if v0.iter().any(|&x| x < 0.0) {
            Some("v0 must be non-negative".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason,
            });
        }
        self.initial = Some((m0, v0));
        Ok(self)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// First moment m_t (biased); `None` before the first step.
    pub fn m(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.m)
    }

    /// Second raw moment v_t (biased); `None` before the first step.
    pub fn v(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.v)
    }

    /// AMSGrad's running maximum; `None` without AMSGrad or before the first step.
    pub fn v_max(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().and_then(|s| s.v_max.as_ref())
    }

    /// The last update u_t = α m̂_t/(√v̂_t + ε), before the schedule multiplier (computed from
    /// the moments on the first call after a step, with the step's operations).
    pub fn last_update(&self) -> Option<&DVector<f64>> {
        let state = self.state.as_ref()?;
        Some(self.update.get_or_init(|| {
            let k = Coefficients::<f64>::at(&self.config, state.t);
            let mut u = DVector::zeros(state.m.len());
            let v_max = state.v_max.as_ref().map_or(&[][..], |v| v.as_slice());
            let (m, v) = (state.m.as_slice(), state.v.as_slice());
            conventions!(self.config, updates_of_moments(&k, m, v, v_max, u.as_mut_slice()));
            u
        }))
    }

    /// Lines 4–11 of Loshchilov & Hutter Algorithm 2 without decoupled decay (= Kingma & Ba
    /// Algorithm 1 up to the update): advance t, update the moments from the gradient `g` at
    /// θ_{t−1} = `x`, store u_t (see [`Adam::last_update`]) and return η_t. Does not modify
    /// `x`; [`Optimizer::step`] applies θ_t = θ_{t−1} − η_t u_t in the same sweep, and AdamW
    /// adds its decay there ([`Adam::step_with`]).
    ///
    /// # Errors
    /// As [`Optimizer::step`]; on error nothing changes.
    pub fn advance(&mut self, x: &DVector<f64>, g: &DVector<f64>) -> Result<f64, StepError> {
        let (k, eta) = self.begin_step(x, g)?;
        let mut u = self.update.take().unwrap_or_else(|| DVector::zeros(x.len()));
        let state = self.state.as_mut().expect("begin_step created the state");
        let v_max = state.v_max.as_mut().map_or(&mut [][..], |v| v.as_mut_slice());
        let (x, g, m, v) = (
            x.as_slice(),
            g.as_slice(),
            state.m.as_mut_slice(),
            state.v.as_mut_slice(),
        );
        let u_out = u.as_mut_slice();
        conventions!(self.config, sweep_into(&k, x, g, m, v, v_max, u_out));
        self.update = OnceLock::from(u);
        Ok(eta)
    }

    /// One step whose line 12 is `finish(θ_i, u_i)` for each coordinate, in the same sweep as
    /// the moments: θ_i ← θ_i − η_t u_i for Adam, with the decoupled decay for
    /// [`super::adamw::AdamW`]. `finish` receives η_t first (the schedule is evaluated before
    /// the sweep) and returns the per-coordinate rule.
    ///
    /// # Errors
    /// As [`Optimizer::step`]; on error nothing changes.
    pub fn step_with<F: FnMut(&mut f64, f64)>(
        &mut self,
        x: &mut DVector<f64>,
        g: &DVector<f64>,
        finish: impl FnOnce(f64) -> F,
    ) -> Result<(), StepError> {
        let (k, eta) = self.begin_step(x, g)?;
        let finish = finish(eta);
        let state = self.state.as_mut().expect("begin_step created the state");
        let v_max = state.v_max.as_mut().map_or(&mut [][..], |v| v.as_mut_slice());
        let (x, g, m, v) = (
            x.as_mut_slice(),
            g.as_slice(),
            state.m.as_mut_slice(),
            state.v.as_mut_slice(),
        );
        vectorised(
            #[inline(always)]
            || conventions!(self.config, sweep::<Divide>(&k, x, g, m, v, v_max, finish)),
        );
        Ok(())
    }

    /// As [`Adam::step_with`] for a `finish` that is a function of its arguments (it may run
    /// twice for a coordinate): the sweep divides by 1 − βᵗ with [`div_exact`] where the CPU has
    /// FMA (same bits). [`Optimizer::step`] of Adam and AdamW.
    pub(crate) fn step_pure<F: Fn(&mut f64, f64) + Copy>(
        &mut self,
        x: &mut DVector<f64>,
        g: &DVector<f64>,
        finish: impl FnOnce(f64) -> F,
    ) -> Result<(), StepError> {
        let (k, eta) = self.begin_step(x, g)?;
        let finish = finish(eta);
        let state = self.state.as_mut().expect("begin_step created the state");
        let v_max = state.v_max.as_mut().map_or(&mut [][..], |v| v.as_mut_slice());
        let buffers = (
            x.as_mut_slice(),
            g.as_slice(),
            state.m.as_mut_slice(),
            state.v.as_mut_slice(),
            v_max,
        );
        let c = &self.config;
        let n = buffers.0.len();
        if !(BLOCK..=FMA_MAX_LEN).contains(&n) {
            // Long: memory-bound (see FMA_MAX_LEN); shorter than a block: no block to sweep.
            let (x, g, m, v, v_max) = buffers;
            vectorised_unless_small(
                n,
                #[inline(always)]
                || conventions!(c, sweep::<Divide>(&k, x, g, m, v, v_max, finish)),
            );
            return Ok(());
        }
        vectorised_fma(
            buffers,
            #[inline(always)]
            |(x, g, m, v, v_max)| conventions!(c, sweep::<FmaDivide>(&k, x, g, m, v, v_max, finish)),
            #[inline(always)]
            |(x, g, m, v, v_max)| conventions!(c, sweep::<Divide>(&k, x, g, m, v, v_max, finish)),
        );
        Ok(())
    }

    /// Check the input, create the state on the first step, t ← t + 1 (line 4), and return
    /// the constants of step t with η_t (line 11: η_t ← SetScheduleMultiplier(t)).
    fn begin_step(
        &mut self,
        x: &DVector<f64>,
        g: &DVector<f64>,
    ) -> Result<(Coefficients<f64>, f64), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.m.len()))?;
        let c = &self.config;
        let n = x.len();
        if self.state.is_none() {
            if let Some((m0, _)) = &self.initial {
                // Checked before anything moves, so an error leaves the optimizer as it was.
                crate::error::step_check::len("initial first moment", m0, n)?;
            }
            let (m, v) = match self.initial.take() {
                Some(moments) => moments,
                None => match c.first_moment_init {
                    FirstMomentInit::Zero => (DVector::zeros(n), DVector::zeros(n)),
                    FirstMomentInit::Parameters => (x.clone(), DVector::zeros(n)),
                },
            };
            self.state = Some(State {
                t: 0,
                m,
                v,
                v_max: c.amsgrad.map(|_| DVector::zeros(n)),
            });
        }
        // The last update is recomputed on demand from the new moments.
        self.update.take();
        let state = self.state.as_mut().expect("state initialised above");
        // Line 4: t ← t + 1.
        state.t += 1;
        let eta = c.schedule.as_ref().map_or(1.0, |s| s.multiplier(state.t));
        Ok((Coefficients::at(c, state.t), eta))
    }
}

/// # Adam over plain slices of any float type
///
/// The sweep of [`Adam`] (the same lines in the same operation order) on `&mut [T]`, for f32
/// parameters and for callers that own their buffers: the state is allocated by `new`, and a
/// step checks lengths only (no finiteness check, no allocation). With `T = f64` it is
/// bit-identical to [`Adam`], and with a decoupled decay to [`super::adamw::AdamW`]
/// (`tests/step_bits.rs`); in f32 it runs the paper's operation order in f32 arithmetic with
/// the step's constants (1 − βᵗ, α_t, η_t, …) computed in f64 and rounded once, as PyTorch
/// rounds its Python-float scalars. The f32 benches and the side-by-side with PyTorch use it.
#[derive(Debug, Clone)]
pub struct AdamCore<T> {
    config: AdamConfig,
    /// `None`, or AdamW's decoupled decay.
    decay: WeightDecay,
    t: u64,
    m: Vec<T>,
    v: Vec<T>,
    v_max: Vec<T>,
}

impl<T: Float> AdamCore<T> {
    /// Adam for `n` parameters, m₀ = v₀ = 0.
    ///
    /// # Errors
    /// As [`AdamConfig::validate`]; [`HyperError::Incompatible`] for m₀ = θ₀ (give the
    /// moments to [`Adam::with_initial_moments`] instead).
    pub fn new(config: AdamConfig, n: usize) -> Result<Self, HyperError> {
        config.validate()?;
        if config.first_moment_init != FirstMomentInit::Zero {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "AdamCore starts from m0 = v0 = 0".into(),
            });
        }
        Ok(Self::with_decay(config, WeightDecay::None, n))
    }

    /// AdamW (Adam + its decoupled decay) for `n` parameters.
    ///
    /// # Errors
    /// As [`super::adamw::AdamWConfig::validate`].
    pub fn adamw(config: &super::adamw::AdamWConfig, n: usize) -> Result<Self, HyperError> {
        config.validate()?;
        Ok(Self::with_decay(config.adam.clone(), config.weight_decay, n))
    }

    fn with_decay(config: AdamConfig, decay: WeightDecay, n: usize) -> Self {
        let v_max = if config.amsgrad.is_some() { n } else { 0 };
        AdamCore {
            config,
            decay,
            t: 0,
            m: vec![T::zero(); n],
            v: vec![T::zero(); n],
            v_max: vec![T::zero(); v_max],
        }
    }

    /// Steps taken (t), as [`Optimizer::steps_taken`] names it.
    pub fn steps_taken(&self) -> u64 {
        self.t
    }

    /// One step of lines 4–12 (with AdamW's decay when built by [`AdamCore::adamw`]).
    ///
    /// # Errors
    /// [`StepError::DimensionMismatch`] if `x` or `g` differ in length from the state.
    pub fn step(&mut self, x: &mut [T], g: &[T]) -> Result<(), StepError> {
        for (what, len) in [("parameters", x.len()), ("gradient", g.len())] {
            if len != self.m.len() {
                return Err(StepError::DimensionMismatch {
                    what,
                    expected: self.m.len(),
                    got: len,
                });
            }
        }
        self.t += 1;
        let eta64 = self
            .config
            .schedule
            .as_ref()
            .map_or(1.0, |s| s.multiplier(self.t));
        let k = Coefficients::<T>::at(&self.config, self.t);
        let r = |x: f64| T::from(x).expect("an f64 rounds to any float type");
        let eta = r(eta64);
        let (m, v, v_max) = (&mut self.m[..], &mut self.v[..], &mut self.v_max[..]);
        let c = &self.config;
        match self.decay {
            WeightDecay::DecoupledSchedule(lambda) => {
                let lambda = r(lambda);
                let finish = move |x: &mut T, u: T| *x = *x - eta * (u + lambda * *x);
                vectorised(
                    #[inline(always)]
                    || conventions!(c, sweep::<Divide>(&k, x, g, m, v, v_max, finish)),
                )
            }
            WeightDecay::DecoupledTimesLr(lambda) => {
                let keep = r(1.0 - c.lr * eta64 * lambda);
                let finish = move |x: &mut T, u: T| {
                    *x = *x * keep;
                    *x = *x - eta * u;
                };
                vectorised(
                    #[inline(always)]
                    || conventions!(c, sweep::<Divide>(&k, x, g, m, v, v_max, finish)),
                )
            }
            WeightDecay::None | WeightDecay::CoupledL2(_) => {
                let finish = move |x: &mut T, u: T| *x = *x - eta * u;
                vectorised(
                    #[inline(always)]
                    || conventions!(c, sweep::<Divide>(&k, x, g, m, v, v_max, finish)),
                )
            }
        }
        Ok(())
    }
}

/// The constants of step t, computed once before the sweep (the same expressions the
/// per-coordinate lines would evaluate, so the same bits).
#[derive(Debug, Clone, Copy)]
struct Coefficients<T> {
    lr: T,
    beta1: T,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    /// 1 − β₁ᵗ and 1 − β₂ᵗ (1 without bias correction).
    bc1: T,
    bc2: T,
    /// RN(1/(1 − β₁ᵗ)) and RN(1/(1 − β₂ᵗ)), for [`div_exact`] (the divisions stay divisions).
    inv_bc1: T,
    inv_bc2: T,
    eps: T,
    eps_root: T,
    /// Keras's α_t of the ε-hat form (α when bias correction is off).
    alpha_t: T,
    /// λ of the coupled L2 term (read only when it is on).
    lambda: T,
}

impl<T: Float> Coefficients<T> {
    /// The constants in f64, rounded once to `T` (as a framework rounds its Python-float
    /// scalars when they meet a tensor; the identity for f64).
    fn at(c: &AdamConfig, t: u64) -> Self {
        let r = |x: f64| T::from(x).expect("an f64 rounds to any float type");
        let t = t as f64;
        let (bc1, bc2) = match c.bias_correction {
            BiasCorrection::On => (1.0 - c.beta1.powf(t), 1.0 - c.beta2.powf(t)),
            BiasCorrection::Off => (1.0, 1.0),
            BiasCorrection::FirstMomentOnly => (1.0 - c.beta1.powf(t), 1.0),
            BiasCorrection::SecondMomentOnly => (1.0, 1.0 - c.beta2.powf(t)),
        };
        Coefficients {
            lr: r(c.lr),
            beta1: r(c.beta1),
            one_minus_beta1: r(1.0 - c.beta1),
            beta2: r(c.beta2),
            one_minus_beta2: r(1.0 - c.beta2),
            bc1: r(bc1),
            bc2: r(bc2),
            inv_bc1: T::one() / r(bc1),
            inv_bc2: T::one() / r(bc2),
            eps: r(c.eps),
            eps_root: r(c.eps_root),
            alpha_t: r(c.lr * bc2.sqrt() / bc1),
            lambda: r(match c.weight_decay {
                WeightDecay::CoupledL2(lambda) => lambda,
                _ => 0.0,
            }),
        }
    }

    /// Lines 5–8 for one coordinate: the gradient (+ λθ_{t−1} for Adam with L2) and the
    /// biased moments.
    #[inline(always)]
    fn moments<const L2: bool>(&self, x: T, g: T, m: &mut T, v: &mut T) {
        // Lines 5–6: g_t (+ λθ_{t−1} for Adam with L2).
        let g = if L2 { g + self.lambda * x } else { g };
        // Line 7: biased first moment.
        *m = self.beta1 * *m + self.one_minus_beta1 * g;
        // Line 8: biased second raw moment.
        *v = self.beta2 * *v + self.one_minus_beta2 * g * g;
    }

    /// Lines 9–10 and line 12 without η_t for one coordinate: u_t from m_t and v_t (and
    /// AMSGrad's running maximum, which it updates).
    #[inline(always)]
    fn update<const EPS_HAT: bool, const MAX: u8>(&self, m: T, v: T, v_max: &mut T) -> T {
        if EPS_HAT {
            let v_used = if MAX == NO_MAX {
                v
            } else {
                *v_max = v_max.max(v);
                *v_max
            };
            // Keras: (m α_t) / (√v + ε̂).
            return m * self.alpha_t / (v_used.sqrt() + self.eps);
        }
        // Line 9: bias-corrected first moment.
        let m_hat = m / self.bc1;
        // Line 10: bias-corrected second moment, or AMSGrad's maximum.
        let v_hat = match MAX {
            MAX_OF_V => {
                *v_max = v_max.max(v);
                *v_max / self.bc2
            }
            MAX_OF_V_HAT => {
                *v_max = v_max.max(v / self.bc2);
                *v_max
            }
            _ => v / self.bc2,
        };
        // Line 12 without η_t: α m̂/(√(v̂ + ε̄) + ε).
        self.lr * (m_hat / ((v_hat + self.eps_root).sqrt() + self.eps))
    }
}

/// How a sweep divides by the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ (Algorithm 1 without
/// AMSGrad): [`Divide`] with `/`, [`FmaDivide`] with [`div_exact`]. Both give the same bits.
trait Quotient<T>: Copy {
    /// Whether [`sweep`] takes the blocks of [`Quotient::update`] (else `/` everywhere).
    const FMA: bool;
    /// Whether [`Quotient::update`] equals `update::<false, NO_MAX>` for this m or v.
    fn applies(a: T) -> bool;
    /// Lines 9–10 and line 12 without η_t, as [`Coefficients::update`] (Algorithm 1, no maximum).
    fn update(k: &Coefficients<T>, m: T, v: T) -> T;
}

/// `/`: the lines as written.
#[derive(Clone, Copy)]
struct Divide;

impl<T: Float> Quotient<T> for Divide {
    const FMA: bool = false;
    #[inline(always)]
    fn applies(_: T) -> bool {
        true
    }
    #[inline(always)]
    fn update(k: &Coefficients<T>, m: T, v: T) -> T {
        k.update::<false, NO_MAX>(m, v, &mut T::zero())
    }
}

/// [`div_exact`] for m_t/(1 − β₁ᵗ) and v_t/(1 − β₂ᵗ): the same bits without the two divisions
/// (the remaining `÷` and `√` of line 12 are per coordinate). Only in the AVX2+FMA copy of a
/// sweep ([`vectorised_fma`]).
#[derive(Clone, Copy)]
struct FmaDivide;

impl Quotient<f64> for FmaDivide {
    const FMA: bool = true;
    #[inline(always)]
    fn applies(a: f64) -> bool {
        div_exact_applies(a)
    }
    #[inline(always)]
    fn update(k: &Coefficients<f64>, m: f64, v: f64) -> f64 {
        // Lines 9–10 and 12 as in `Coefficients::update`, the two divisions by constants exact.
        let m_hat = div_exact(m, k.bc1, k.inv_bc1);
        let v_hat = div_exact(v, k.bc2, k.inv_bc2);
        k.lr * (m_hat / ((v_hat + k.eps_root).sqrt() + k.eps))
    }
}

/// The longest θ that [`Adam::step_pure`] sweeps with [`FmaDivide`]. Measured on a 2-core
/// Xeon (AVX2+FMA, 2 MB L2; issue 13): while θ, g, m, v come from the caches the step is bound
/// by the divider and the FMA sweep is 1.4× faster (10³ … 5·10⁵; 10⁶ idle); once they stream from
/// memory (2·10⁶ and beyond) it was 3–5 % slower than `/` (more instructions per byte moved,
/// less overlap with the loads), so longer vectors keep `/`. The bits are the same either way.
const FMA_MAX_LEN: usize = 1 << 20;

/// Coordinates per block of the [`FmaDivide`] sweep (θ's block is kept, 1 KiB in f64).
const BLOCK: usize = 128;

/// Lines 5–12 for every coordinate in one sweep over θ, g, m, v (and v_max): the moments, u_t,
/// and `finish(θ_i, u_i)` for line 12.
///
/// With [`FmaDivide`] (Algorithm 1 without AMSGrad) the sweep runs in blocks of [`BLOCK`]
/// coordinates: each coordinate's moments, u_t by [`FmaDivide::update`] and `finish`, with
/// θ's old values kept and a flag of whether every m_t and v_t of the block is in the range of
/// [`div_exact`]; if one is not (0 < |·| < 2⁻⁹⁰⁰, |·| > 2⁹⁰⁰, ∞, NaN), the block's θ is restored
/// and u_t recomputed with `/` from the stored moments. `finish` may then run twice for a
/// coordinate, so it must be a function of its arguments.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn sweep<T: Float, Q: Quotient<T>, const L2: bool, const EPS_HAT: bool, const MAX: u8>(
    k: &Coefficients<T>,
    x: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    mut finish: impl FnMut(&mut T, T),
) {
    // Equal lengths up front: the loops below then have no bounds checks.
    let n = x.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    let v_max = if MAX == NO_MAX { v_max } else { &mut v_max[..n] };
    let mut done = 0;
    if Q::FMA && !EPS_HAT && MAX == NO_MAX {
        done = n / BLOCK * BLOCK;
        let mut theta = [T::zero(); BLOCK];
        for start in (0..done).step_by(BLOCK) {
            let block = start..start + BLOCK;
            let x = &mut x[block.clone()];
            let (g, m, v) = (&g[block.clone()], &mut m[block.clone()], &mut v[block]);
            let mut applies = true;
            for i in 0..BLOCK {
                theta[i] = x[i];
                k.moments::<L2>(x[i], g[i], &mut m[i], &mut v[i]);
                applies &= Q::applies(m[i]) & Q::applies(v[i]);
                finish(&mut x[i], Q::update(k, m[i], v[i]));
            }
            if !applies {
                for i in 0..BLOCK {
                    x[i] = theta[i];
                    finish(&mut x[i], Divide::update(k, m[i], v[i]));
                }
            }
        }
    }
    let mut no_max = T::zero();
    for i in done..n {
        k.moments::<L2>(x[i], g[i], &mut m[i], &mut v[i]);
        let v_max_i = if MAX == NO_MAX { &mut no_max } else { &mut v_max[i] };
        let u = k.update::<EPS_HAT, MAX>(m[i], v[i], v_max_i);
        finish(&mut x[i], u);
    }
}

/// As [`sweep`], storing u_t in `u` and leaving θ alone ([`Adam::advance`]).
#[allow(clippy::too_many_arguments)]
fn sweep_into<T: Float, const L2: bool, const EPS_HAT: bool, const MAX: u8>(
    k: &Coefficients<T>,
    x: &[T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    u: &mut [T],
) {
    let mut no_max = T::zero();
    for i in 0..x.len() {
        k.moments::<L2>(x[i], g[i], &mut m[i], &mut v[i]);
        let v_max_i = if MAX == NO_MAX { &mut no_max } else { &mut v_max[i] };
        u[i] = k.update::<EPS_HAT, MAX>(m[i], v[i], v_max_i);
    }
}

/// u_t from the moments after a step ([`Adam::last_update`]). AMSGrad's maximum is already
/// max(v_max, v) (or of v̂), so updating a copy of it again changes nothing.
fn updates_of_moments<T: Float, const L2: bool, const EPS_HAT: bool, const MAX: u8>(
    k: &Coefficients<T>,
    m: &[T],
    v: &[T],
    v_max: &[T],
    u: &mut [T],
) {
    for i in 0..m.len() {
        let mut v_max_i = if MAX == NO_MAX { T::zero() } else { v_max[i] };
        u[i] = k.update::<EPS_HAT, MAX>(m[i], v[i], &mut v_max_i);
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "{:?}, bias correction {:?}, amsgrad {:?}, eps {} (eps_root {}), weight decay {:?}, schedule {}",
            c.formulation,
            c.bias_correction,
            c.amsgrad,
            c.eps,
            c.eps_root,
            c.weight_decay,
            c.schedule
                .as_ref()
                .map_or("none".to_string(), |s| format!("{s:?}")),
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        // Line 12 (Alg. 1's last line when η_t = 1): θ_t ← θ_{t−1} − η_t u_t.
        self.step_pure(x, g, |eta| move |x: &mut f64, u: f64| *x -= eta * u)
    }

    fn steps_taken(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.t)
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "Adam (Kingma & Ba 2015, Algorithm 1), AMSGrad (Reddi et al. 2018), Keras eps-hat, \
                      Adam with L2 (Loshchilov & Hutter 2019, Algorithm 2)",
        variants: vec![
            "paper/pytorch/optax: Algorithm 1, eps 1e-8 outside sqrt",
            "optax: eps_root inside sqrt",
            "keras: eps-hat 1e-7 (effective eps = eps_hat / sqrt(1 - beta2^t))",
            "amsgrad: max of raw v (pytorch, keras), of bias-corrected v (optax), paper (no bias correction)",
            "coupled L2 (Adam with L2 regularisation)",
            "schedule multiplier eta_t",
            "m0 = theta (the slide's initialisation)",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{assert_matches_reference, assert_out_of_range};
    use crate::prec::UNIT_ROUNDOFF;

    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];
    const X0: [f64; 2] = [1.0, -2.0];

    fn run_adam(mut opt: Adam, steps: usize) -> (Adam, Vec<DVector<f64>>) {
        let mut x = DVector::from_row_slice(&X0);
        let mut out = vec![x.clone()];
        for g in GRADS.iter().take(steps) {
            opt.step(&mut x, &DVector::from_row_slice(g)).unwrap();
            out.push(x.clone());
        }
        (opt, out)
    }

    fn run(config: AdamConfig, steps: usize) -> Vec<DVector<f64>> {
        run_adam(config.build().unwrap(), steps).1
    }

    // 50-digit decimal references from the exact binary values of the hyperparameters
    // (Python `decimal`, the formulas of the module doc; cosine by its Taylor series),
    // rounded once to f64.
    const PAPER_REF: [[f64; 2]; 3] = [
        [0.9990000000033333, -1.99900000002],
        [0.9985997814331691, -1.9987336629870784],
        [0.9981943560318634, -1.9992935614770107],
    ];
    const LARGE_LR_REF: [[f64; 2]; 3] = [
        [0.9000000003333333, -1.9000000019999999],
        [0.8599781433169096, -1.873366298707846],
        [0.8194356031863307, -1.9293561477010672],
    ];
    const AMSGRAD_RAW_REF: [[f64; 2]; 3] = [
        [0.9000000003333333, -1.9000000019999999],
        [0.8634725218620052, -1.8742159000759664],
        [0.8304413094525478, -1.9181255990669384],
    ];
    const AMSGRAD_HAT_REF: [[f64; 2]; 3] = [
        [0.9000000003333333, -1.9000000019999999],
        [0.8701754390292398, -1.8789473708421052],
        [0.8452061894199736, -1.922857069833077],
    ];
    const AMSGRAD_PAPER_REF: [[f64; 2]; 3] = [
        [0.9858578644429358, -1.985857864776269],
        [0.977843987627266, -1.9802010106867767],
        [0.9682744759003191, -1.9929221416628453],
    ];
    const EPS_HAT_REF: [[f64; 2]; 3] = [
        [0.901043097341983, -1.9059483487151976],
        [0.8614176728265575, -1.8807411499594027],
        [0.8212720307185408, -1.9358911350479198],
    ];
    const ROOT_L2_SCHEDULE_REF: [[f64; 2]; 3] = [
        [0.9000407916394118, -1.9002214848780559],
        [0.8700150559298105, -1.8496967625500789],
        [0.8129302905178035, -1.8248578677039025],
    ];
    const M0_THETA_REF: [[f64; 2]; 3] = [
        [0.6000000013333332, 1.6999999260000025],
        [0.36928576676806696, 3.883963595956615],
        [0.18314957267102489, 4.276507811975021],
    ];

    #[test]
    fn algorithm1_three_steps_by_hand() {
        assert_matches_reference(&run(AdamConfig::paper(), 3), &PAPER_REF);
    }

    #[test]
    fn large_lr_three_steps_by_hand() {
        // α = 0.1 makes the increments comparable to θ, so the reference also tests the
        // update line and not only the first digits.
        let config = AdamConfig {
            lr: 0.1,
            ..AdamConfig::paper()
        };
        assert_matches_reference(&run(config, 3), &LARGE_LR_REF);
    }

    #[test]
    fn amsgrad_variants_three_steps_by_hand() {
        for (max, reference) in [
            (AmsGradMax::RawV, &AMSGRAD_RAW_REF),
            (AmsGradMax::BiasCorrectedV, &AMSGRAD_HAT_REF),
        ] {
            // β₂ = 0.5 so that v falls after the first step and the maximum binds.
            let config = AdamConfig {
                lr: 0.1,
                beta2: 0.5,
                amsgrad: Some(max),
                ..AdamConfig::paper()
            };
            assert_matches_reference(&run(config, 3), reference);
        }
        let config = AdamConfig {
            lr: 0.1,
            beta2: 0.5,
            ..AdamConfig::amsgrad_paper()
        };
        assert_matches_reference(&run(config, 3), &AMSGRAD_PAPER_REF);
    }

    #[test]
    fn amsgrad_max_conventions_differ() {
        // Coordinate 0 sees |g| = 3, 1, 0.5. With β₂ = 0.999 the raw v still grows (the
        // maximum never binds), but v̂ falls from 9 to ≈ 5: RawV divides the raw v by
        // 1 − β₂ᵗ (≈ Adam), BiasCorrectedV keeps v̂₁ = 9. They differ from step 2 on
        // (conventions.md measured ~6e-2 relative on a longer trace).
        let mk = |max| {
            run(
                AdamConfig {
                    lr: 0.1,
                    amsgrad: Some(max),
                    ..AdamConfig::paper()
                },
                3,
            )
        };
        let raw = mk(AmsGradMax::RawV);
        let hat = mk(AmsGradMax::BiasCorrectedV);
        assert_eq!(raw[1], hat[1]);
        assert!((raw[3][0] - hat[3][0]).abs() > 1e-3);
    }

    #[test]
    fn keras_eps_hat_three_steps_by_hand() {
        let config = AdamConfig {
            lr: 0.1,
            eps: 1e-3, // large ε̂ so that its placement shows in the digits
            ..AdamConfig::keras()
        };
        assert_matches_reference(&run(config, 3), &EPS_HAT_REF);
    }

    #[test]
    fn eps_root_coupled_l2_and_schedule_three_steps_by_hand() {
        let config = AdamConfig {
            lr: 0.1,
            eps_root: 1e-2,
            weight_decay: WeightDecay::CoupledL2(0.5),
            schedule: Some(Schedule::WarmRestarts {
                t_0: 2,
                t_mult: 2,
                eta_min: 0.1,
                eta_max: 1.0,
            }),
            ..AdamConfig::paper()
        };
        assert_matches_reference(&run(config, 3), &ROOT_L2_SCHEDULE_REF);
    }

    #[test]
    fn slide_initialisation_m0_theta_three_steps_by_hand() {
        let config = AdamConfig {
            lr: 0.1,
            first_moment_init: FirstMomentInit::Parameters,
            ..AdamConfig::paper()
        };
        let printed = run(config.clone(), 3);
        assert_matches_reference(&printed, &M0_THETA_REF);
        // The explicit form gives the same bits.
        let explicit = AdamConfig {
            first_moment_init: FirstMomentInit::Zero,
            ..config
        }
        .build()
        .unwrap()
        .with_initial_moments(DVector::from_row_slice(&X0), DVector::zeros(2))
        .unwrap();
        assert_eq!(run_adam(explicit, 3).1, printed);
    }

    /// Worst-case relative error of the bias-corrected EMA of a constant after t steps.
    /// The recurrence m_t = β m_{t−1} + (1−β)c rounds three times per step, adding at most
    /// 2u|c| (products and sum are bounded by |c|); old errors are multiplied by β, so
    /// |m̃_t − m_t| ≤ 2u|c|(1−βᵗ)/(1−β), i.e. 2u/(1−β) relative to m_t = (1−βᵗ)c. The
    /// correction 1 − βᵗ: `powf` is within 1 ulp of βᵗ (relative error u·βᵗ/(1−βᵗ) after the
    /// exact Sterbenz subtraction when βᵗ ≥ ½), plus one rounding for the division.
    fn ema_rel_bound(beta: f64, t: u64) -> f64 {
        let bt = beta.powf(t as f64);
        UNIT_ROUNDOFF * (2.0 / (1.0 - beta) + 2.0 * bt / (1.0 - bt) + 2.0)
    }

    #[test]
    fn constant_gradient_bias_correction_is_exact_ish() {
        for c in [3.0, -0.7, 1e-3, -250.0] {
            let mut opt = AdamConfig::paper().build().unwrap();
            let mut x = DVector::from_element(1, 0.0);
            let mut worst = (0.0_f64, 0.0_f64);
            for t in 1..=3000_u64 {
                opt.step(&mut x, &DVector::from_element(1, c)).unwrap();
                let tf = t as f64;
                let m_hat = opt.m().unwrap()[0] / (1.0 - 0.9_f64.powf(tf));
                let v_hat = opt.v().unwrap()[0] / (1.0 - 0.999_f64.powf(tf));
                let (em, ev) = (((m_hat - c) / c).abs(), ((v_hat - c * c) / (c * c)).abs());
                // v's recurrence has g² (one more rounding): 1 extra u.
                assert!(em <= ema_rel_bound(0.9, t), "c={c} t={t}: m̂ rel err {em:e}");
                assert!(
                    ev <= ema_rel_bound(0.999, t) + UNIT_ROUNDOFF,
                    "c={c} t={t}: v̂ rel err {ev:e}"
                );
                worst = (worst.0.max(em), worst.1.max(ev));
            }
            // The worst case is far from attained (the roundings do not all align): measured
            // ≤ 10u for m̂ and ≤ 330u for v̂ over these 3000 steps, against bounds of 22u and
            // 2000u; a mis-indexed t (dividing by 1 − βᵗ⁻¹ or 1 − βᵗ⁺¹) would be off by
            // ~10% at t = 2.
            assert!(worst.0 < 1e-14 && worst.1 < 1e-13, "c={c}: {worst:?}");
        }
    }

    #[test]
    fn constant_gradient_first_step_is_alpha_sign_c() {
        // θ₁ = θ₀ − α m̂₁/(√v̂₁ + ε) with m̂₁ = c(1 + δ₁), v̂₁ = c²(1 + δ₂), |δ| ≤ 2u (t = 1:
        // β¹ is exact, 1 − β is exact by Sterbenz, one rounding each for the product and the
        // quotient; v has one more for c²); the ratio then rounds 3 more times: 8u relative
        // to α|c|/(|c| + ε) ≤ α, and θ₀ = 0 so no cancellation.
        for c in [3.0, -0.7, 1e-3, -250.0, 1e-9] {
            let mut opt = AdamConfig::paper().build().unwrap();
            let mut x = DVector::from_element(1, 0.0);
            opt.step(&mut x, &DVector::from_element(1, c)).unwrap();
            let expected = -1e-3 * c.signum() * c.abs() / (c.abs() + 1e-8);
            assert!(
                (x[0] - expected).abs() <= 8.0 * UNIT_ROUNDOFF * expected.abs(),
                "c = {c}: {} vs {expected}",
                x[0]
            );
        }
    }

    #[test]
    fn advance_does_not_touch_parameters_and_step_applies_eta_u() {
        let mut opt = AdamConfig {
            schedule: Some(Schedule::constant(0.5)),
            ..AdamConfig::paper()
        }
        .build()
        .unwrap();
        let x = DVector::from_row_slice(&X0);
        let eta = opt.advance(&x, &DVector::from_row_slice(&GRADS[0])).unwrap();
        assert_eq!(eta, 0.5);
        assert_eq!(opt.steps_taken(), 1);
        let u = opt.last_update().unwrap().clone();
        let mut y = x.clone();
        let mut twin = AdamConfig {
            schedule: Some(Schedule::constant(0.5)),
            ..AdamConfig::paper()
        }
        .build()
        .unwrap();
        twin.step(&mut y, &DVector::from_row_slice(&GRADS[0])).unwrap();
        assert_eq!(y, &x - u * 0.5);
    }

    #[test]
    fn validation_table() {
        let base = AdamConfig::paper;
        let cases: Vec<(AdamConfig, &str)> = vec![
            (AdamConfig { lr: -1e-3, ..base() }, "lr"),
            (
                AdamConfig {
                    lr: f64::NAN,
                    ..base()
                },
                "lr",
            ),
            (AdamConfig { beta1: 1.0, ..base() }, "beta1"),
            (
                AdamConfig {
                    beta1: f64::NAN,
                    ..base()
                },
                "beta1",
            ),
            (AdamConfig { beta2: 1.0, ..base() }, "beta2"),
            (
                AdamConfig {
                    beta2: -0.5,
                    ..base()
                },
                "beta2",
            ),
            (AdamConfig { eps: 0.0, ..base() }, "eps"),
            (AdamConfig { eps: -1e-8, ..base() }, "eps"),
            (
                AdamConfig {
                    eps: f64::NAN,
                    ..base()
                },
                "eps",
            ),
            (
                AdamConfig {
                    eps_root: -1.0,
                    ..base()
                },
                "eps_root",
            ),
            (
                AdamConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::NAN),
                    ..base()
                },
                "weight_decay",
            ),
            (
                AdamConfig {
                    schedule: Some(Schedule::constant(-1.0)),
                    ..base()
                },
                "value",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        let incompatible = [
            AdamConfig {
                weight_decay: WeightDecay::DecoupledTimesLr(0.1),
                ..base()
            },
            AdamConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.1),
                ..base()
            },
            AdamConfig {
                eps_root: 1e-8,
                ..AdamConfig::keras()
            },
            AdamConfig {
                amsgrad: Some(AmsGradMax::BiasCorrectedV),
                ..AdamConfig::keras()
            },
            AdamConfig {
                amsgrad: Some(AmsGradMax::PaperNoBiasCorrection),
                ..base()
            },
        ];
        for config in incompatible {
            assert!(
                matches!(config.clone().build(), Err(HyperError::Incompatible { .. })),
                "{config:?}"
            );
        }
        let opt = base().build().unwrap();
        assert!(opt
            .clone()
            .with_initial_moments(DVector::zeros(2), DVector::zeros(3))
            .is_err());
        assert!(opt
            .clone()
            .with_initial_moments(DVector::zeros(1), DVector::from_element(1, -1.0))
            .is_err());
        assert!(opt
            .with_initial_moments(DVector::from_element(1, f64::NAN), DVector::zeros(1))
            .is_err());
    }

    #[test]
    fn step_input_errors() {
        let mut opt = AdamConfig::paper()
            .build()
            .unwrap()
            .with_initial_moments(DVector::zeros(3), DVector::zeros(3))
            .unwrap();
        let mut x = DVector::from_row_slice(&[1.0, 2.0]);
        // Initial moments of the wrong length are reported at the first step.
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, 1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        let mut opt = AdamConfig::paper().build().unwrap();
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[f64::NAN, 1.0])),
            Err(StepError::NonFinite { index: 0, .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        assert_eq!(x, DVector::from_row_slice(&[1.0, 2.0]));
    }

    #[test]
    fn presets_carry_framework_defaults() {
        let p = AdamConfig::paper();
        assert_eq!((p.lr, p.beta1, p.beta2, p.eps), (1e-3, 0.9, 0.999, 1e-8));
        assert_eq!(AdamConfig::default(), p);
        assert_eq!(AdamConfig::pytorch(), p);
        let k = AdamConfig::keras();
        assert_eq!((k.eps, k.formulation), (1e-7, AdamFormulation::EpsHat));
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<AdamConfig>(&json).unwrap(), k);
    }

    /// The blocks of the FMA sweep whose m_t or v_t leave the range of `div_exact` (tiny,
    /// huge, overflowing to ∞) are recomputed with `/`: Adam and AdamW give the
    /// bits of `AdamCore<f64>` (which divides with `/` everywhere), also with −0 in θ, g and m.
    #[test]
    fn fma_sweep_blocks_outside_its_range_match_division() {
        let n = 5 * BLOCK + 17;
        // Block 0: ordinary values; 1: tiny gradients (m, v below 2^-900, v underflowing);
        // 2: huge ones (v overflows to ∞, then θ to NaN); 3: zeros and −0; 4: ordinary with one
        // tiny entry; the tail: ordinary.
        let grad = |step: usize, i: usize| -> f64 {
            let s = if (i + step) % 3 == 0 { -1.0 } else { 1.0 };
            match i / BLOCK {
                1 => s * 1e-300 * (1 + i % 7) as f64,
                2 if i % 9 == 0 => s * f64::MAX,
                2 => s * 1e200 * (1 + i % 5) as f64,
                3 if i % 2 == 0 => -0.0,
                3 => 0.0,
                4 if i == 4 * BLOCK + 77 => 3e-290,
                _ => s * 0.01 * (1 + (i * 7 + step) % 13) as f64,
            }
        };
        let x0: Vec<f64> = (0..n)
            .map(|i| {
                if i % 4 == 1 {
                    -0.0
                } else {
                    0.5 - (i % 11) as f64 * 0.1
                }
            })
            .collect();
        let adams = [
            AdamConfig::pytorch(),
            AdamConfig {
                weight_decay: WeightDecay::CoupledL2(0.01),
                eps_root: 1e-12,
                ..AdamConfig::paper()
            },
        ];
        let adamws = [
            super::super::adamw::AdamWConfig::pytorch(),
            super::super::adamw::AdamWConfig::paper(1e-3, 0.1, Schedule::constant(0.5)),
        ];
        let cores = adams
            .iter()
            .map(|c| AdamCore::new(c.clone(), n).unwrap())
            .chain(adamws.iter().map(|c| AdamCore::adamw(c, n).unwrap()));
        let opts = adams
            .iter()
            .map(|c| Box::new(c.clone().build().unwrap()) as Box<dyn Optimizer>)
            .chain(
                adamws
                    .iter()
                    .map(|c| Box::new(c.clone().build().unwrap()) as Box<dyn Optimizer>),
            );
        let mut out_of_range = 0;
        for (mut core, mut opt) in cores.zip(opts) {
            let mut x_core = x0.clone();
            let mut x_opt = DVector::from_vec(x0.clone());
            for step in 0..6 {
                let g: Vec<f64> = (0..n).map(|i| grad(step, i)).collect();
                core.step(&mut x_core, &g).unwrap();
                opt.step(&mut x_opt, &DVector::from_vec(g)).unwrap();
                for (i, (a, b)) in x_core.iter().zip(x_opt.iter()).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{} step {step} i {i}: {a:e} vs {b:e}",
                        opt.variant()
                    );
                }
                out_of_range += core
                    .m
                    .iter()
                    .chain(&core.v)
                    .filter(|&&a| !div_exact_applies(a))
                    .count();
            }
            assert!(x_core[3 * BLOCK..4 * BLOCK]
                .iter()
                .any(|x| x.to_bits() == (-0.0_f64).to_bits()));
        }
        assert!(out_of_range > 1000, "{out_of_range}");
    }
}
