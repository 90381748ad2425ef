//! The conventions frameworks disagree on, as enums shared by every optimizer.
//!
//! Each variant's doc says who computes it. Notation: γ learning rate, η_t schedule multiplier,
//! λ weight decay, ε the stabiliser, v the second-moment estimate, t the step (from 1).

use serde::{Deserialize, Serialize};

/// Where ε enters a root-mean-square preconditioner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpsPlacement {
    /// `g / (√v + ε)`: PyTorch (RMSprop, Adagrad, Adam), optax `adam`'s `eps`, Kingma & Ba
    /// Algorithm 1, Duchi et al.'s `(B + εI)^{-1}`.
    OutsideSqrt,
    /// `g / √(v + ε)`: the lecture's RMSProp `(B + εI)^{-1/2}`, optax `rmsprop`
    /// (`eps_in_sqrt=True`) and `adagrad`, Keras Adagrad and RMSprop, AdaDelta.
    InsideSqrt,
}

/// Whether Adam-type moments are divided by `1 − βᵗ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BiasCorrection {
    /// `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)` (Kingma & Ba Algorithm 1).
    On,
    /// Raw moments (RMSProp, optax `rmsprop` default).
    Off,
    /// `m̂ = m / (1 − β₁ᵗ)`, raw v (optax `amsgrad(bias_correction_nu=False)`: the maximum
    /// is taken over the raw v and never corrected). Adam-type optimizers only.
    FirstMomentOnly,
    /// Raw m, `v̂ = v / (1 − β₂ᵗ)` (optax `amsgrad(bias_correction_mu=False)`). Adam-type
    /// optimizers only.
    SecondMomentOnly,
}

/// Where Adam's ε sits relative to the bias correction (Kingma & Ba §2, the paragraph before
/// §2.1, gives the "ε-hat" reordering that TensorFlow/Keras implement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdamFormulation {
    /// `θ −= α m̂ / (√v̂ + ε)`: Algorithm 1, PyTorch, optax.
    Algorithm1,
    /// `α_t = α √(1−β₂ᵗ)/(1−β₁ᵗ)`, `θ −= α_t m / (√v + ε̂)`: Keras/TensorFlow. Equal to
    /// Algorithm 1 with `ε = ε̂ / √(1−β₂ᵗ)`, i.e. a larger effective ε early in training.
    EpsHat,
}

/// Which second moment AMSGrad takes the running maximum of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AmsGradMax {
    /// `v_max = max(v_max, v_t)` on the raw v, then bias-correct: PyTorch, Keras.
    RawV,
    /// `v̂_max = max(v̂_max, v̂_t)` on the bias-corrected v̂: optax `amsgrad`.
    BiasCorrectedV,
    /// Reddi et al. 2018 Algorithm 2: max of raw v, no bias correction at all.
    PaperNoBiasCorrection,
}

/// How weight decay λ enters an update.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "lambda")]
pub enum WeightDecay {
    /// No weight decay.
    None,
    /// L2 regularisation, coupled: `g ← g + λθ` before the preconditioner (PyTorch
    /// `weight_decay` of SGD/Adam/Adagrad/RMSprop; Loshchilov & Hutter Alg. 2 line 6).
    CoupledL2(f64),
    /// Decoupled, multiplied by the schedule multiplier only: `θ ← θ − η_t λ θ`
    /// (Loshchilov & Hutter 2019, Algorithm 2 line 12).
    DecoupledSchedule(f64),
    /// Decoupled, multiplied by the learning rate too: `θ ← θ − γ η_t λ θ` (PyTorch `AdamW`,
    /// optax `adamw`, Keras `weight_decay`).
    DecoupledTimesLr(f64),
}

impl WeightDecay {
    /// The λ, 0 for `None`.
    pub fn lambda(&self) -> f64 {
        match *self {
            WeightDecay::None => 0.0,
            WeightDecay::CoupledL2(l)
            | WeightDecay::DecoupledSchedule(l)
            | WeightDecay::DecoupledTimesLr(l) => l,
        }
    }

    /// Validate λ: finite (a negative λ is algebraically meaningful, NaN never is).
    pub fn validate(&self, optimizer: &'static str) -> Result<(), crate::error::HyperError> {
        crate::error::check::finite(optimizer, "weight_decay", self.lambda())
    }
}
