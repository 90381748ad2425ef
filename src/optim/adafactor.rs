//! # Adafactor
//!
//! Shazeer & Stern (2018), Algorithm 4 (an $n\times m$ matrix block) and Algorithm 5 (a
//! vector block), with update clipping (§6) and the relative step size (§8). At step $t$:
//! $$\begin{aligned}
//! \rho_t &\leftarrow \min(10^{-2}, 1/\sqrt t), \qquad
//!   \alpha_t \leftarrow \max(\epsilon_2, \mathrm{RMS}(X_{t-1}))\\,\rho_t
//!   && \text{(§8)}\\\\
//! \hat\beta_{2t} &\leftarrow 1 - t^{-0.8} && \text{(§7)}\\\\
//! R_t &\leftarrow \hat\beta_{2t} R_{t-1} + (1-\hat\beta_{2t})(G_t^2 + \epsilon_1 1_n 1_m^\top) 1_m\\\\
//! C_t &\leftarrow \hat\beta_{2t} C_{t-1} + (1-\hat\beta_{2t}) 1_n^\top (G_t^2 + \epsilon_1 1_n 1_m^\top)\\\\
//! \hat V_t &\leftarrow R_t C_t / (1_n^\top R_t)
//!   && \text{(Alg. 5: } \hat V_t \leftarrow \hat\beta_{2t}\hat V_{t-1} + (1-\hat\beta_{2t})(G_t^2 + \epsilon_1))\\\\
//! U_t &\leftarrow G_t/\sqrt{\hat V_t}, \qquad
//!   \hat U_t \leftarrow U_t / \max(1, \mathrm{RMS}(U_t)/d) && \text{(§6)}\\\\
//! X_t &\leftarrow X_{t-1} - \alpha_t \hat U_t
//! \end{aligned}$$
//! with $R_0 = 0$, $C_0 = 0$, $\hat V_0 = 0$, and RMS taken over the block. Each block of the
//! [`Layout`] is one "parameter matrix" of the paper.
//!
//! **Memory** (the lecture: Adafactor "reduces the memory" of the second moment): an $n\times m$
//! block keeps $n + m$ second-moment entries ($R_t$, $C_t$) instead of Adam's $nm$;
//! [`Adafactor::state_len`] reports the count actually held, so a claim can measure it.
//!
//! | symbol | field | paper | optax `adafactor` | Keras `Adafactor` |
//! |---|---|---|---|---|
//! | ρ_t cap / constant step | `lr` | 10⁻² | `learning_rate` | `learning_rate` |
//! | relative step ρ_t | `relative_step` | on | — (pass a schedule) | `relative_step` |
//! | max(ε₂, RMS(X)) | `scale_by_parameter_rms` | on | `multiply_by_parameter_scale` | on |
//! | ε₁, ε₂ | `eps1`, `eps2` | 1e-30, 1e-3 | `eps` (1e-30), 1e-3 | `epsilon_1`, `epsilon_2` |
//! | 0.8 in 1 − t^{−0.8} | `decay_exponent` | 0.8 | `decay_rate` | −`beta_2_decay` |
//! | d | `clip_threshold` | 1 | `clipping_threshold` (1) | `clip_threshold` (1) |
//! | β₁ | `momentum` | none (§9 optional) | `momentum` (None) | — |
//! | β₁'s storage | `momentum_dtype` | — | `dtype_momentum` (float32) | — |
//! | offset of t in β̂₂ₜ | `decay_offset` | 0 | `decay_offset` (0) | — |
//! | factoring | `factoring` | every matrix | both dims ≥ `min_dim_size_to_factor` (128) | every matrix |
//! | β̂₂ₜ precision | `decay_precision` | exact | float32 | variable dtype |
//! | ε₁ use | `eps1_placement` | added to G² | added to G² | — |
//! | λ | `weight_decay` | — | `weight_decay_rate` (unscaled) | — |
//!
//! ## Conventions
//! * **Which blocks are factored** ([`Factoring`]): the paper factors every matrix;
//!   optax factors a 2-D block only when both dimensions are ≥ `min_dim_size_to_factor` = 128
//!   (its second-largest dimension), so small matrices keep a full $\hat V$ there.
//! * **β̂₂ₜ in float32** ([`DecayPrecision`]): optax evaluates `1 − t^(−0.8)` with `t` a
//!   float32 array (conventions.md); [`DecayPrecision::F32`] reproduces that rounding.
//! * optax keeps row/column *means* instead of sums and divides by the mean of the row means;
//!   the ratio $R C/1^\top R$ is the same real number (means differ from sums by the factors
//!   $1/m$, $1/n$, which cancel), with different rounding.
//! * optax has no built-in ρ_t: its step is `learning_rate` (a schedule) times the parameter
//!   scale; `relative_step = false` with `lr` reproduces that.
//! * A block with `rows == 1` or `cols == 1` is a vector: Algorithm 5 (unfactored).
//! * **ε₁** ([`Eps1Placement`]): the paper and optax add ε₁ (1e-30) to G²; PyTorch's
//!   `Adafactor` adds nothing and clamps instead: the normaliser mean(R) at ε₁ and V̂ at ε₁²,
//!   with ε₁ = the machine epsilon of the parameters' dtype by default (`eps=(None, 1e-3)`).
//! * **PyTorch** (`torch.optim.Adafactor`) is the paper's relative step: ρ_t = min(lr, 1/√t)
//!   with lr = 1e-2, 1 − β̂₂ₜ = t^{beta2_decay} (beta2_decay = −c), every matrix factored
//!   (row/column *means* of G², the same V̂), update clipping with `d`.
//! * **Weight decay** ([`AdafactorDecay`]): PyTorch multiplies θ by (1 − lr·λ) (lr the cap,
//!   not ρ_t) after reading RMS(θ_{t−1}); optax's `weight_decay_rate` adds λθ_{t−1} to the
//!   update after the learning rate and parameter scale, so it is not multiplied by either.
//!
//! ## References
//! * N. Shazeer, M. Stern, *Adafactor: Adaptive Learning Rates with Sublinear Memory Cost*,
//!   ICML 2018, Algorithms 4 and 5, §6 (update clipping), §7 (β̂₂ₜ), §8 (relative step) —
//!   <https://arxiv.org/abs/1804.04235>
//! * optax `_src/alias.py` (`adafactor`), `_src/factorized.py` (`scale_by_factored_rms`);
//!   Keras `keras/src/optimizers/adafactor.py`.

use super::layout::{Block, Layout};
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "adafactor";

/// Which matrix blocks keep factored second moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Factoring {
    /// Every block with at least 2 rows and 2 columns (the paper).
    Matrices,
    /// Blocks whose smaller dimension is ≥ this size (optax `min_dim_size_to_factor`, 128).
    MinDimSize(usize),
    /// Never factor (Algorithm 5 on every block; Adam-sized memory).
    Never,
}

/// Precision in which β̂₂ₜ = 1 − t^{−c} is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecayPrecision {
    /// f64 `powf`.
    F64,
    /// float32, as optax (`t` a float32 array), then widened to f64.
    F32,
}

/// Where ε₁ enters the second moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Eps1Placement {
    /// G² + ε₁ before the moments (Algorithms 4/5, optax `eps`).
    #[default]
    AddedToSquare,
    /// No ε₁ in G²; the normaliser mean(R) is clamped below at ε₁ and V̂ at ε₁² (PyTorch
    /// `Adafactor`, whose ε₁ defaults to the machine epsilon of the parameters' dtype).
    Clamp,
}

/// Weight decay of Adafactor (the paper has none).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "lambda")]
pub enum AdafactorDecay {
    /// No decay.
    #[default]
    None,
    /// θ ← (1 − lr·λ)θ after α_t is taken from θ_{t−1}, before the update; `lr` is the cap of
    /// ρ_t, not ρ_t (PyTorch `weight_decay`).
    TimesLr(f64),
    /// θ ← θ − λθ_{t−1} with the update, multiplied by nothing (optax `weight_decay_rate`:
    /// `add_decayed_weights` sits after the learning rate and the parameter scale).
    Unscaled(f64),
}

impl AdafactorDecay {
    /// The λ, 0 for `None`.
    pub fn lambda_value(&self) -> f64 {
        match *self {
            AdafactorDecay::None => 0.0,
            AdafactorDecay::TimesLr(l) | AdafactorDecay::Unscaled(l) => l,
        }
    }
}

/// The dtype in which the optional first moment (momentum) is kept between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MomentumDtype {
    /// The parameters' dtype (f64 here; optax `dtype_momentum=None`).
    #[default]
    Params,
    /// float32: β₁·m is a float32 product and the stored moment is rounded to f32 after each
    /// step (optax's default `dtype_momentum=jnp.float32`, also for float64 parameters).
    F32,
    /// float64 (optax `dtype_momentum=jnp.float64`, with `jax_enable_x64`).
    F64,
}

/// Hyperparameters of [`Adafactor`] (serde; validate with [`AdafactorConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdafactorConfig {
    /// Cap of ρ_t (relative step) or the constant step size; > 0.
    pub lr: f64,
    /// ρ_t = min(lr, 1/√t) (§8) instead of the constant lr.
    pub relative_step: bool,
    /// Multiply the step by max(ε₂, RMS(X_{t−1})) (§8).
    pub scale_by_parameter_rms: bool,
    /// ε₁ > 0 added to G².
    pub eps1: f64,
    /// ε₂ > 0, lower bound of the parameter scale.
    pub eps2: f64,
    /// c > 0 in β̂₂ₜ = 1 − t^{−c}.
    pub decay_exponent: f64,
    /// d > 0 of update clipping; `None` disables it.
    pub clip_threshold: Option<f64>,
    /// β₁ ∈ [0, 1) of an optional first moment of Û (§9); `None` in the paper's algorithms.
    pub momentum: Option<f64>,
    /// Which blocks are factored.
    pub factoring: Factoring,
    /// Precision of β̂₂ₜ.
    pub decay_precision: DecayPrecision,
    /// Blocks; `None` means one vector block ([`Layout::flat`]).
    pub layout: Option<Layout>,
    /// ε₁ added to G² (paper, optax) or used as a clamp (PyTorch).
    #[serde(default)]
    pub eps1_placement: Eps1Placement,
    /// Weight decay (PyTorch × lr, optax unscaled); none in the paper.
    #[serde(default)]
    pub weight_decay: AdafactorDecay,
    /// The dtype the first moment is stored in (optax `dtype_momentum`).
    #[serde(default)]
    pub momentum_dtype: MomentumDtype,
    /// optax `decay_offset` (≤ 0): β̂₂ₜ is evaluated at t − offset, i.e. as if `−offset`
    /// steps had already been taken (0 in the paper). A positive offset would make t − offset
    /// ≤ 0 in the first steps, where 1 − t^{−c} is −∞ or NaN.
    #[serde(default)]
    pub decay_offset: i64,
}

impl Default for AdafactorConfig {
    fn default() -> Self {
        Self::paper()
    }
}

impl AdafactorConfig {
    /// Algorithms 4/5 with §6 and §8: ρ_t = min(1e-2, 1/√t), ε₁ = 1e-30, ε₂ = 1e-3, c = 0.8,
    /// d = 1, no momentum, every matrix factored.
    pub fn paper() -> Self {
        Self {
            lr: 1e-2,
            relative_step: true,
            scale_by_parameter_rms: true,
            eps1: 1e-30,
            eps2: 1e-3,
            decay_exponent: 0.8,
            clip_threshold: Some(1.0),
            momentum: None,
            factoring: Factoring::Matrices,
            decay_precision: DecayPrecision::F64,
            layout: None,
            eps1_placement: Eps1Placement::AddedToSquare,
            weight_decay: AdafactorDecay::None,
            momentum_dtype: MomentumDtype::Params,
            decay_offset: 0,
        }
    }

    /// `torch.optim.Adafactor` defaults: lr 1e-2 (the cap of ρ_t = min(lr, 1/√t)),
    /// beta2_decay −0.8, eps (ε₁ = machine epsilon of f64, ε₂ = 1e-3) with ε₁ as a clamp,
    /// d = 1, weight_decay 0 (× lr), every matrix factored.
    pub fn pytorch() -> Self {
        Self {
            eps1: f64::EPSILON,
            eps1_placement: Eps1Placement::Clamp,
            ..Self::paper()
        }
    }

    /// `optax.adafactor` defaults: no relative step (constant `learning_rate`, 1e-2 here),
    /// parameter scale on, eps 1e-30, decay_rate 0.8 in float32, clipping 1, no momentum,
    /// factored when both dimensions are ≥ 128.
    pub fn optax() -> Self {
        Self {
            relative_step: false,
            factoring: Factoring::MinDimSize(128),
            decay_precision: DecayPrecision::F32,
            ..Self::paper()
        }
    }

    /// Set the layout.
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = Some(layout);
        self
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the field and range.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::positive(NAME, "eps1", self.eps1)?;
        check::positive(NAME, "eps2", self.eps2)?;
        check::positive(NAME, "decay_exponent", self.decay_exponent)?;
        if let Some(d) = self.clip_threshold {
            check::positive(NAME, "clip_threshold", d)?;
        }
        if let Some(b1) = self.momentum {
            check::unit_interval(NAME, "momentum", b1)?;
        }
        match self.weight_decay {
            AdafactorDecay::None => {}
            AdafactorDecay::TimesLr(l) | AdafactorDecay::Unscaled(l) => {
                check::finite(NAME, "weight_decay", l)?
            }
        }
        if self.decay_offset > 0 {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: format!(
                    "decay_offset = {} > 0 makes t − decay_offset ≤ 0 in the first steps (1 − t^(−c) is −∞ or NaN there)",
                    self.decay_offset
                ),
            });
        }
        if let Factoring::MinDimSize(0) = self.factoring {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "min_dim_size_to_factor must be >= 1 (use Factoring::Matrices)".into(),
            });
        }
        Ok(())
    }

    /// Validate and build (state is created on the first step).
    ///
    /// # Errors
    /// See [`AdafactorConfig::validate`].
    pub fn build(self) -> Result<Adafactor, HyperError> {
        self.validate()?;
        Ok(Adafactor {
            config: self,
            state: None,
        })
    }

    fn is_factored(&self, block: &Block) -> bool {
        let small = block.rows.min(block.cols);
        match self.factoring {
            Factoring::Matrices => small >= 2,
            Factoring::MinDimSize(k) => small >= 2 && small >= k,
            Factoring::Never => false,
        }
    }
}

/// Second-moment statistics of one block.
#[derive(Debug, Clone, PartialEq)]
pub enum SecondMoment {
    /// R_t (length n) and C_t (length m) of Algorithm 4.
    Factored { row: Vec<f64>, col: Vec<f64> },
    /// V̂_t of Algorithm 5 (row-major, length n·m).
    Full(Vec<f64>),
}

impl SecondMoment {
    fn len(&self) -> usize {
        match self {
            SecondMoment::Factored { row, col } => row.len() + col.len(),
            SecondMoment::Full(v) => v.len(),
        }
    }
}

#[derive(Debug, Clone)]
struct State {
    t: u64,
    dim: usize,
    moments: Vec<SecondMoment>,
    first_moment: Option<DVector<f64>>,
}

/// Adafactor with validated hyperparameters and its state (see the module documentation).
///
/// One step of [`AdafactorConfig::paper`] on a 2×2 matrix block (factored, Algorithm 4):
/// ```
/// use optverify::prelude::*;
///
/// let layout = Layout::from_shapes([("w", 2, 2)]);
/// let mut ada = AdafactorConfig::paper().with_layout(layout).build().unwrap();
/// // X = [[3, 4], [0, 0]], G = [[2, 0], [0, 1]] (row-major).
/// let mut x = DVector::from_vec(vec![3.0, 4.0, 0.0, 0.0]);
/// ada.step(&mut x, &DVector::from_vec(vec![2.0, 0.0, 0.0, 1.0])).unwrap();
/// // t = 1: β̂₂ = 1 − 1 = 0, so R = row sums of G² = (4, 1), C = column sums = (4, 1)
/// // (ε₁ = 1e-30 vanishes in these sums); V̂ = R Cᵀ/1ᵀR = [[16, 4], [4, 1]]/5,
/// // U = G/√V̂ = [[2·√5/4, 0], [0, √5]], RMS(U) = √((5/4 + 5)/4) = 5/4 > d = 1, so
/// // Û = U/(5/4) = [[2/√5, 0], [0, 4/√5]]. ρ₁ = min(1e-2, 1/√1) = 1e-2,
/// // α = max(1e-3, RMS(X)) ρ₁ = √(25/4) · 1e-2 = 0.025.
/// let s5 = 5f64.sqrt();
/// let x1 = [3.0 - 0.025 * 2.0 / s5, 4.0, 0.0, -0.025 * 4.0 / s5];
/// // A few roundings (sums, square roots, divisions) on each side: 1e-15 relative.
/// for (xi, ei) in x.iter().zip(x1) {
///     assert!((xi - ei).abs() <= 1e-15 * ei.abs(), "{x}");
/// }
/// assert!((x[0] - 2.9776393).abs() < 1e-7 && (x[3] + 0.0447214).abs() < 1e-7, "{x}");
/// ```
#[derive(Debug, Clone)]
pub struct Adafactor {
    config: AdafactorConfig,
    state: Option<State>,
}

impl Adafactor {
    /// The hyperparameters.
    pub fn config(&self) -> &AdafactorConfig {
        &self.config
    }

    /// Number of second-moment entries held: Σ (n + m) over factored blocks plus Σ n·m over
    /// the others; 0 before the first step. (The optional first moment is not counted.)
    pub fn state_len(&self) -> usize {
        self.state
            .as_ref()
            .map_or(0, |s| s.moments.iter().map(SecondMoment::len).sum())
    }

    /// The per-block statistics (R_t, C_t or V̂_t); `None` before the first step.
    pub fn second_moments(&self) -> Option<&[SecondMoment]> {
        self.state.as_ref().map(|s| s.moments.as_slice())
    }

    /// V̂_t of block `index` as a full row-major matrix (R_t C_t/1ᵀR_t when factored).
    pub fn v_hat(&self, index: usize) -> Option<Vec<f64>> {
        let state = self.state.as_ref()?;
        let layout = self.layout_for(state.dim);
        let block = layout.blocks().get(index)?;
        Some(match &state.moments[index] {
            SecondMoment::Full(v) => v.clone(),
            SecondMoment::Factored { row, col } => {
                let row_sum: f64 = row.iter().sum();
                (0..block.rows)
                    .flat_map(|i| col.iter().map(move |cj| row[i] * cj / row_sum))
                    .collect()
            }
        })
    }

    fn layout_for(&self, dim: usize) -> Layout {
        self.config.layout.clone().unwrap_or_else(|| Layout::flat(dim))
    }

    /// β̂₂ₜ = 1 − t^{−c} in the configured precision.
    #[cfg(test)]
    fn beta2_hat(&self, t: u64) -> f64 {
        self.decay_weights(t).0
    }

    /// (β̂₂ₜ, 1 − β̂₂ₜ) in the configured precision. F64 takes 1 − β̂₂ₜ = t^{−c} directly (as
    /// PyTorch's `step ** beta2_decay`), which keeps its low bits; F32 rounds both as optax:
    /// `1 − t^{−c}` and then `1.0 − decay_rate_t` in float32.
    fn decay_weights(&self, t: u64) -> (f64, f64) {
        let c = self.config.decay_exponent;
        // decay_offset ≤ 0 (validated): the schedule's step is t + |offset|.
        let t = t.saturating_add(self.config.decay_offset.unsigned_abs());
        match self.config.decay_precision {
            DecayPrecision::F64 => {
                let w = (t as f64).powf(-c);
                (1.0 - w, w)
            }
            DecayPrecision::F32 => {
                let b = 1.0_f32 - (t as f32).powf(-(c as f32));
                (f64::from(b), f64::from(1.0_f32 - b))
            }
        }
    }
}

fn rms(values: impl Iterator<Item = f64>, n: usize) -> f64 {
    (values.map(|v| v * v).sum::<f64>() / n as f64).sqrt()
}

impl Optimizer for Adafactor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "relative step {}, parameter scale {}, clip {:?}, momentum {:?}, factoring {:?}, decay {:?}",
            c.relative_step,
            c.scale_by_parameter_rms,
            c.clip_threshold,
            c.momentum,
            c.factoring,
            c.decay_precision
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.dim))?;
        let layout = self.layout_for(x.len());
        layout.check_dim(x.len())?;
        if self.state.is_none() {
            let moments = layout
                .blocks()
                .iter()
                .map(|b| {
                    if self.config.is_factored(b) {
                        SecondMoment::Factored {
                            row: vec![0.0; b.rows],
                            col: vec![0.0; b.cols],
                        }
                    } else {
                        SecondMoment::Full(vec![0.0; b.len()])
                    }
                })
                .collect();
            self.state = Some(State {
                t: 0,
                dim: x.len(),
                moments,
                first_moment: self.config.momentum.map(|_| DVector::zeros(x.len())),
            });
        }
        let t = self.state.as_ref().expect("created above").t + 1;
        let (beta2, one_minus_beta2) = self.decay_weights(t);
        let c = &self.config;
        let (eps1_added, eps1_clamp) = match c.eps1_placement {
            Eps1Placement::AddedToSquare => (c.eps1, 0.0),
            Eps1Placement::Clamp => (0.0, c.eps1),
        };
        // ρ_t (§8).
        let rho = if c.relative_step {
            c.lr.min(1.0 / (t as f64).sqrt())
        } else {
            c.lr
        };
        let state = self.state.as_mut().expect("created above");
        state.t = t;
        let mut update = vec![0.0; x.len()];
        for (block, moment) in layout.blocks().iter().zip(state.moments.iter_mut()) {
            let range = block.range();
            let xb = &x.as_slice()[range.clone()];
            let gb = &g.as_slice()[range.clone()];
            // α_t = max(ε₂, RMS(X_{t−1})) ρ_t.
            let alpha = if c.scale_by_parameter_rms {
                c.eps2.max(rms(xb.iter().copied(), block.len())) * rho
            } else {
                rho
            };
            let sq = |k: usize| gb[k] * gb[k] + eps1_added;
            let u = &mut update[range.clone()];
            match moment {
                SecondMoment::Factored { row, col } => {
                    let (n, m) = (block.rows, block.cols);
                    // R_t and C_t from row and column sums of G² + ε₁.
                    for (i, ri) in row.iter_mut().enumerate() {
                        let s: f64 = (0..m).map(|j| sq(i * m + j)).sum();
                        *ri = beta2 * *ri + one_minus_beta2 * s;
                    }
                    for (j, cj) in col.iter_mut().enumerate() {
                        let s: f64 = (0..n).map(|i| sq(i * m + j)).sum();
                        *cj = beta2 * *cj + one_minus_beta2 * s;
                    }
                    // V̂ = R Cᵀ/1ᵀR; U = G/√V̂. PyTorch clamps mean(R/m) = 1ᵀR/(nm) at ε₁ and
                    // V̂ at ε₁² (0 under AddedToSquare, a no-op).
                    let row_sum: f64 = row.iter().sum::<f64>().max((n * m) as f64 * eps1_clamp);
                    for i in 0..n {
                        for j in 0..m {
                            let v_hat = (row[i] * col[j] / row_sum).max(eps1_clamp * eps1_clamp);
                            u[i * m + j] = gb[i * m + j] / v_hat.sqrt();
                        }
                    }
                }
                SecondMoment::Full(v) => {
                    for (k, vk) in v.iter_mut().enumerate() {
                        *vk = beta2 * *vk + one_minus_beta2 * sq(k);
                        u[k] = gb[k] / vk.max(eps1_clamp * eps1_clamp).sqrt();
                    }
                }
            }
            // Update clipping (§6): Û = U / max(1, RMS(U)/d).
            let clip = c
                .clip_threshold
                .map_or(1.0, |d| (rms(u.iter().copied(), block.len()) / d).max(1.0));
            for uk in u.iter_mut() {
                *uk = alpha * (*uk / clip);
            }
        }
        // Optional first moment of the scaled, clipped update (§9; optax `momentum`).
        if let (Some(b1), Some(m)) = (c.momentum, state.first_moment.as_mut()) {
            for (mk, uk) in m.iter_mut().zip(update.iter_mut()) {
                // optax keeps the moment in `dtype_momentum` (float32 by default): β₁·m is then
                // a float32 product, the sum is taken in f64 and passed on unrounded as the
                // update, and the stored moment is rounded to float32.
                let decayed = match c.momentum_dtype {
                    MomentumDtype::F32 => f64::from(b1 as f32 * *mk as f32),
                    MomentumDtype::Params | MomentumDtype::F64 => b1 * *mk,
                };
                let new = decayed + (1.0 - b1) * *uk;
                *uk = new;
                *mk = match c.momentum_dtype {
                    MomentumDtype::F32 => f64::from(new as f32),
                    MomentumDtype::Params | MomentumDtype::F64 => new,
                };
            }
        }
        match c.weight_decay {
            AdafactorDecay::None => {}
            // PyTorch: param.mul_(1 − lr·weight_decay), α_t having been read from θ_{t−1}.
            AdafactorDecay::TimesLr(lambda) => {
                let factor = 1.0 - c.lr * lambda;
                x.iter_mut().for_each(|xk| *xk *= factor);
            }
            // optax: add_decayed_weights after ema: u + λθ_{t−1}.
            AdafactorDecay::Unscaled(lambda) => {
                for (uk, xk) in update.iter_mut().zip(x.iter()) {
                    *uk += lambda * xk;
                }
            }
        }
        // X_t = X_{t−1} − α_t Û_t.
        for (xk, uk) in x.iter_mut().zip(update) {
            *xk -= uk;
        }
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
        description: "Adafactor: factored second moments, update clipping, relative step \
                      (Shazeer & Stern 2018, Algorithms 4-5)",
        variants: vec![
            "paper: every matrix factored, rho_t = min(1e-2, 1/sqrt t), d = 1",
            "optax: factored when both dims >= 128, beta2_hat in float32, constant lr",
            "unfactored (Algorithm 5 everywhere)",
            "optional momentum on the update",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::assert_out_of_range;
    use crate::prec::UNIT_ROUNDOFF;

    #[test]
    fn first_step_vector_by_hand() {
        // t = 1: β̂ = 1 − 1 = 0 exactly, so V̂ = G² + ε₁ = G² (ε₁ = 1e-30 is far below half an
        // ulp of g² ≥ 1), U = G/|G| = sign(G) exactly (sqrt of a square is exact), RMS(U) = 1
        // → no clipping; ρ₁ = min(1e-2, 1) = 1e-2; RMS(X) = √((9 + 16)/2) = 5/√2.
        let mut opt = AdafactorConfig::paper().build().unwrap();
        let mut x = DVector::from_row_slice(&[3.0, -4.0]);
        opt.step(&mut x, &DVector::from_row_slice(&[2.0, -1.0])).unwrap();
        let alpha = 1e-2 * 5.0 / 2.0_f64.sqrt();
        // α: sum, ÷2, sqrt, ×ρ: ≤ 4u; X − α·1: |Δ| ≪ |X| so ≤ 5u relative to the result.
        for (got, want) in x.iter().zip([3.0 - alpha, -4.0 + alpha]) {
            assert!(
                (got - want).abs() <= 5.0 * UNIT_ROUNDOFF * want.abs(),
                "{got} vs {want}"
            );
        }
        assert_eq!(opt.state_len(), 2);
    }

    #[test]
    fn first_step_matrix_clipping_by_hand() {
        // 2×2 block G = [[1, 0], [0, 0]] (ε₁ only elsewhere): R = (1 + 2ε₁, 2ε₁) ≈ (1, 2e-30),
        // C ≈ (1, 2e-30), ΣR ≈ 1: V̂₀₀ ≈ 1 → U₀₀ = 1, other U = 0. RMS(U) = 1/2 ≤ d = 1, no
        // clipping. With d = 0.25: RMS(U)/d = 2 → Û₀₀ = 1/2. X = 0 → α = ε₂ρ = 1e-3·1e-2.
        let layout = Layout::from_shapes([("w", 2, 2)]);
        for (d, want) in [(1.0, 1e-5), (0.25, 0.5e-5)] {
            let mut opt = AdafactorConfig {
                clip_threshold: Some(d),
                ..AdafactorConfig::paper()
            }
            .with_layout(layout.clone())
            .build()
            .unwrap();
            let mut x = DVector::zeros(4);
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, 0.0, 0.0, 0.0]))
                .unwrap();
            // ε₁ terms perturb R, C, ΣR by ≤ 4e-30 relative; a handful of roundings: 8u.
            assert!(
                (x[0] + want).abs() <= 8.0 * UNIT_ROUNDOFF * want,
                "d={d}: {}",
                x[0]
            );
            assert_eq!(&x.as_slice()[1..], &[0.0, 0.0, 0.0]);
            assert_eq!(opt.state_len(), 4);
        }
    }

    #[test]
    fn state_len_factored_vs_full_and_optax_threshold() {
        let layout = Layout::from_shapes([("w", 30, 20), ("b", 30, 1), ("big", 128, 130)]);
        let g = DVector::from_element(layout.dim(), 0.5);
        let mut sizes = Vec::new();
        for factoring in [Factoring::Matrices, Factoring::MinDimSize(128), Factoring::Never] {
            let mut opt = AdafactorConfig {
                factoring,
                ..AdafactorConfig::paper()
            }
            .with_layout(layout.clone())
            .build()
            .unwrap();
            assert_eq!(opt.state_len(), 0);
            let mut x = DVector::from_element(layout.dim(), 1.0);
            opt.step(&mut x, &g).unwrap();
            sizes.push(opt.state_len());
        }
        // Paper: (30 + 20) + 30 + (128 + 130); optax: 30·20 + 30 + (128 + 130); never: n·m.
        assert_eq!(sizes, vec![50 + 30 + 258, 600 + 30 + 258, 600 + 30 + 128 * 130]);
    }

    #[test]
    fn beta2_hat_f32_differs_from_f64() {
        let opt = AdafactorConfig::optax().build().unwrap();
        let exact = AdafactorConfig::paper().build().unwrap();
        assert_eq!(opt.beta2_hat(1), 0.0);
        assert_eq!(exact.beta2_hat(1), 0.0);
        // t = 10: 1 − 10^−0.8 = 0.841511…; float32 keeps ~7 digits.
        let (a, b) = (opt.beta2_hat(10), exact.beta2_hat(10));
        assert!(a != b && (a - b).abs() < 1e-7, "{a} {b}");
    }

    #[test]
    fn pytorch_weight_decay_clamp_and_optax_decay_first_step_by_hand() {
        // t = 1: 1 − β̂ = 1, so V̂ = G² (+ε₁) and U = G/|G| = (1, −1); RMS(U) = 1, no clip;
        // α = max(ε₂, RMS(θ₀)) ρ₁ = √12.5 · 0.01 for θ₀ = (3, 4). Each coordinate: ≤ 8
        // roundings (RMS, α, U, the decay factor, the products and the subtraction), and
        // |θ₁| ≥ |θ₀|/2, so 8u relative to the result.
        let theta0 = [3.0_f64, 4.0];
        let g = DVector::from_row_slice(&[1.0, -2.0]);
        let alpha = (12.5_f64).sqrt() * 0.01;
        let cases = [
            (
                AdafactorDecay::TimesLr(0.5),
                [3.0 * (1.0 - 0.005) - alpha, 4.0 * (1.0 - 0.005) + alpha],
            ),
            (
                AdafactorDecay::Unscaled(0.5),
                [3.0 - alpha - 1.5, 4.0 + alpha - 2.0],
            ),
        ];
        for (decay, want) in cases {
            let mut opt = AdafactorConfig {
                weight_decay: decay,
                ..AdafactorConfig::pytorch()
            }
            .build()
            .unwrap();
            let mut x = DVector::from_row_slice(&theta0);
            opt.step(&mut x, &g).unwrap();
            for (got, w) in x.iter().zip(want) {
                assert!(
                    (got - w).abs() <= 8.0 * UNIT_ROUNDOFF * w.abs(),
                    "{decay:?}: {got} vs {w}"
                );
            }
        }
        // Clamp: with ε₁ = 1, V̂ = G² = 0.25 is raised to ε₁² = 1, so U = G = 0.5 (exact, as
        // every value is dyadic); added to G², V̂ = 1.25 instead. A zero gradient gives U = 0
        // under both (no 0/0).
        for (placement, want) in [
            (Eps1Placement::Clamp, 0.5),
            (Eps1Placement::AddedToSquare, 0.5 / 1.25_f64.sqrt()),
        ] {
            let mut opt = AdafactorConfig {
                eps1: 1.0,
                eps1_placement: placement,
                relative_step: false,
                scale_by_parameter_rms: false,
                lr: 1.0,
                clip_threshold: None,
                ..AdafactorConfig::paper()
            }
            .build()
            .unwrap();
            let mut x = DVector::from_row_slice(&[0.0, 0.0]);
            opt.step(&mut x, &DVector::from_row_slice(&[0.5, 0.0])).unwrap();
            assert!(
                (x[0] + want).abs() <= 4.0 * UNIT_ROUNDOFF * want,
                "{placement:?}: {}",
                x[0]
            );
            assert_eq!(x[1], 0.0, "{placement:?}");
        }
        assert!(matches!(
            AdafactorConfig {
                weight_decay: AdafactorDecay::Unscaled(f64::NAN),
                ..AdafactorConfig::paper()
            }
            .build(),
            Err(HyperError::OutOfRange {
                field: "weight_decay",
                ..
            })
        ));
    }

    #[test]
    fn validation_table_and_step_errors() {
        let base = AdafactorConfig::paper;
        let cases: Vec<(AdafactorConfig, &str)> = vec![
            (AdafactorConfig { lr: 0.0, ..base() }, "lr"),
            (AdafactorConfig { eps1: 0.0, ..base() }, "eps1"),
            (AdafactorConfig { eps2: -1.0, ..base() }, "eps2"),
            (
                AdafactorConfig {
                    decay_exponent: f64::NAN,
                    ..base()
                },
                "decay_exponent",
            ),
            (
                AdafactorConfig {
                    clip_threshold: Some(0.0),
                    ..base()
                },
                "clip_threshold",
            ),
            (
                AdafactorConfig {
                    momentum: Some(1.0),
                    ..base()
                },
                "momentum",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        assert!(matches!(
            AdafactorConfig {
                factoring: Factoring::MinDimSize(0),
                ..base()
            }
            .build(),
            Err(HyperError::Incompatible { .. })
        ));
        let mut opt = base()
            .with_layout(Layout::from_shapes([("w", 2, 2)]))
            .build()
            .unwrap();
        let mut x = DVector::from_element(3, 1.0);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_element(3, 1.0)),
            Err(StepError::DimensionMismatch { what: "layout", .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::INFINITY, 0.0])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        let json = serde_json::to_string(&AdafactorConfig::optax()).unwrap();
        assert_eq!(
            serde_json::from_str::<AdafactorConfig>(&json).unwrap(),
            AdafactorConfig::optax()
        );
    }
}
