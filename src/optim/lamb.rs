//! # LAMB
//!
//! Layer-wise Adaptive Moments for Batch training (You et al. 2020, Algorithm 2). Adam's
//! moments, then one trust ratio per layer $i$ (a block of the [`Layout`]):
//! $$\begin{aligned}
//! m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\\,g_t, \qquad
//! v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\\,g_t^2\\\\
//! \hat m_t &\leftarrow m_t/(1-\beta_1^t), \qquad \hat v_t \leftarrow v_t/(1-\beta_2^t)\\\\
//! r_t &\leftarrow \hat m_t/(\sqrt{\hat v_t} + \epsilon)\\\\
//! x_{t+1}^{(i)} &\leftarrow x_t^{(i)} - \eta_t\\,
//!   \frac{\phi(\lVert x_t^{(i)}\rVert)}{\lVert r_t^{(i)} + \lambda x_t^{(i)}\rVert}
//!   \bigl(r_t^{(i)} + \lambda x_t^{(i)}\bigr)
//! \end{aligned}$$
//! with $m_0 = v_0 = 0$ and $\eta_t = \alpha \cdot$ (schedule multiplier). φ is the identity
//! ([`Phi::Identity`], optax) or the paper's clipping $\phi(z) = \min(\max(z, \gamma_l),
//! \gamma_u)$ ([`Phi::Clip`]); [`Phi::One`] forces the ratio to 1, which turns LAMB into
//! optax's `adamw` (`scale_by_adam → add_decayed_weights → lr`).
//!
//! The moment lines are not repeated here: an inner [`Adam`] with α = 1 runs them through
//! [`Adam::advance`], whose stored update is then $1\cdot\hat m/(\sqrt{\hat v}+\epsilon) = r_t$
//! exactly (multiplying by 1 is exact), and which returns the schedule multiplier.
//!
//! | symbol | field | paper | optax `lamb` |
//! |---|---|---|---|
//! | α (η_t = α·schedule) | `lr` | η_t | `learning_rate` |
//! | β₁, β₂ | `beta1`, `beta2` | 0.9, 0.999 | `b1`, `b2` (0.9, 0.999) |
//! | ε | `eps` | ε (1e-6) | `eps` (1e-6) |
//! | ε̄ | `eps_root` | — | `eps_root` (0) |
//! | λ | `weight_decay` | λ (0.01 for BERT) | `weight_decay` (0) |
//! | φ | `phi` | identity or clip to [γ_l, γ_u] | identity |
//! | layers | `layout` | one ratio per layer | one ratio per leaf |
//!
//! ## Conventions
//! * **Zero norms**: optax's `scale_by_trust_ratio` uses ratio 1 when ‖x‖ = 0 or ‖r + λx‖ = 0;
//!   the paper leaves 0/0 open. This file uses optax's rule (for φ(‖x‖) = 0 as well).
//! * **optax `lamb` vs `adamw`**: the two chains differ only by `scale_by_trust_ratio`; with
//!   the ratio forced to 1 ([`Phi::One`]) LAMB is AdamW in the framework form
//!   θ ← θ − αη_t(r + λθ) (tests/equivalences_layerwise.rs, to rounding).
//! * Bias correction is in Algorithm 2 of the published version and in optax; `bias_correction
//!   = Off` gives the arXiv v1 form.
//! * optax's `mask` (no decay on some leaves) is not modelled: every block is decayed.
//!
//! ## References
//! * Y. You, J. Li, S. Reddi, J. Hseu, S. Kumar, S. Bhojanapalli, X. Song, J. Demmel,
//!   K. Keutzer, C.-J. Hsieh, *Large Batch Optimization for Deep Learning: Training BERT in 76
//!   minutes*, ICLR 2020, Algorithm 2 — <https://arxiv.org/abs/1904.00962>
//! * optax `_src/alias.py` (`lamb`, `adamw`), `_src/transform.py` (`scale_by_trust_ratio`).

use super::adam::{Adam, AdamConfig};
use super::conventions::{AdamFormulation, BiasCorrection, WeightDecay};
use super::layout::Layout;
use super::schedule::Schedule;
use super::{CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "lamb";

/// The scaling φ applied to the layer norm ‖x^{(i)}‖.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phi {
    /// φ(z) = z (optax; the paper's experiments).
    Identity,
    /// φ(z) = min(max(z, lower), upper) (the paper's general form, γ_l ≤ γ_u).
    Clip { lower: f64, upper: f64 },
    /// Trust ratio forced to 1: optax `adamw` (for equivalence checks).
    One,
}

/// Hyperparameters of [`Lamb`] (serde; validate with [`LambConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambConfig {
    /// α > 0.
    pub lr: f64,
    /// β₁ ∈ [0, 1).
    pub beta1: f64,
    /// β₂ ∈ [0, 1).
    pub beta2: f64,
    /// ε > 0.
    pub eps: f64,
    /// ε̄ ≥ 0 inside the root (optax `eps_root`).
    pub eps_root: f64,
    /// λ ≥ 0.
    pub weight_decay: f64,
    /// Divide the moments by 1 − βᵗ.
    pub bias_correction: BiasCorrection,
    /// φ.
    pub phi: Phi,
    /// Schedule multiplier; `None` means none.
    pub schedule: Option<Schedule>,
    /// Layers; `None` means one block ([`Layout::flat`]).
    pub layout: Option<Layout>,
}

impl Default for LambConfig {
    fn default() -> Self {
        Self::paper()
    }
}

impl LambConfig {
    /// Algorithm 2 with β₁ = 0.9, β₂ = 0.999, ε = 1e-6, λ = 0.01 (the BERT runs), φ = id,
    /// α = 1e-3 (set `lr`; the paper tunes it per batch size).
    pub fn paper() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            eps_root: 0.0,
            weight_decay: 0.01,
            bias_correction: BiasCorrection::On,
            phi: Phi::Identity,
            schedule: None,
            layout: None,
        }
    }

    /// `optax.lamb` defaults: b1 0.9, b2 0.999, eps 1e-6, eps_root 0, weight_decay 0. optax
    /// has no default learning rate; 1e-3 is used here.
    pub fn optax() -> Self {
        Self {
            weight_decay: 0.0,
            ..Self::paper()
        }
    }

    /// Set the layout (one trust ratio per block).
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = Some(layout);
        self
    }

    fn inner_adam(&self) -> AdamConfig {
        AdamConfig {
            lr: 1.0,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            eps_root: self.eps_root,
            formulation: AdamFormulation::Algorithm1,
            bias_correction: self.bias_correction,
            amsgrad: None,
            weight_decay: WeightDecay::None,
            schedule: self.schedule.clone(),
            first_moment_init: Default::default(),
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the field; [`HyperError::Incompatible`] for a clip
    /// with lower > upper.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "beta1", self.beta1)?;
        check::unit_interval(NAME, "beta2", self.beta2)?;
        check::positive(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "eps_root", self.eps_root)?;
        check::non_negative(NAME, "weight_decay", self.weight_decay)?;
        if let Phi::Clip { lower, upper } = self.phi {
            check::non_negative(NAME, "phi.lower", lower)?;
            check::positive(NAME, "phi.upper", upper)?;
            if lower > upper {
                return Err(HyperError::Incompatible {
                    optimizer: NAME,
                    reason: format!("phi clip needs lower <= upper, got [{lower}, {upper}]"),
                });
            }
        }
        if let Some(schedule) = &self.schedule {
            schedule.validate()?;
        }
        Ok(())
    }

    /// Validate and build (state is created on the first step).
    ///
    /// # Errors
    /// See [`LambConfig::validate`].
    pub fn build(self) -> Result<Lamb, HyperError> {
        self.validate()?;
        let adam = self.inner_adam().build()?;
        Ok(Lamb {
            config: self,
            adam,
            trust_ratios: Vec::new(),
        })
    }
}

/// LAMB with validated hyperparameters and its state (see the module documentation).
///
/// # Example
/// The paper's defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-6, λ = 0.01, φ = identity) with
/// α = 0.01, one layer, x₀ = (3, 4) (‖x₀‖ = 5), g = (1, −2). Step 1: m̂ = g, v̂ = g², so
/// r = g/(|g| + ε) ≈ (1, −1); u = r + λx₀ ≈ (1.03, −0.96), ‖u‖ = √1.9825 ≈ 1.408012;
/// x₁ = x₀ − α·(‖x₀‖/‖u‖)·u ≈ (3, 4) − 0.01·3.551107·(1.03, −0.96) ≈ (2.963424, 4.034091).
/// The formula with ε holds to 1e-14 (a few roundings of O(1) values).
/// ```
/// use optverify::prelude::*;
///
/// let mut lamb = LambConfig { lr: 0.01, ..LambConfig::paper() }.build().unwrap();
/// let mut x = DVector::from_vec(vec![3.0, 4.0]);
/// lamb.step(&mut x, &DVector::from_vec(vec![1.0, -2.0])).unwrap();
/// let u = [1.0 / (1.0 + 1e-6) + 0.03, -2.0 / (2.0 + 1e-6) + 0.04];
/// let ratio = 5.0 / f64::hypot(u[0], u[1]);
/// let x1 = [3.0 - 0.01 * ratio * u[0], 4.0 - 0.01 * ratio * u[1]];
/// assert!((x[0] - x1[0]).abs() < 1e-14 && (x[1] - x1[1]).abs() < 1e-14, "{x}");
/// assert!((x[0] - 2.963424).abs() < 1e-6 && (x[1] - 4.034091).abs() < 1e-6, "{x}");
/// ```
#[derive(Debug, Clone)]
pub struct Lamb {
    config: LambConfig,
    /// Runs the moment lines with α = 1, so that its stored update is r_t.
    adam: Adam,
    trust_ratios: Vec<f64>,
}

impl Lamb {
    /// The hyperparameters.
    pub fn config(&self) -> &LambConfig {
        &self.config
    }

    /// The inner Adam (moments m_t, v_t and r_t as its `last_update`).
    pub fn adam(&self) -> &Adam {
        &self.adam
    }

    /// The trust ratios φ(‖x‖)/‖r + λx‖ of the last step, one per block.
    pub fn trust_ratios(&self) -> &[f64] {
        &self.trust_ratios
    }
}

impl Optimizer for Lamb {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "phi {:?}, eps {} (eps_root {}), weight decay {}, bias correction {:?}, {} blocks",
            c.phi,
            c.eps,
            c.eps_root,
            c.weight_decay,
            c.bias_correction,
            c.layout.as_ref().map_or(1, |l| l.blocks().len())
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        let layout = self
            .config
            .layout
            .clone()
            .unwrap_or_else(|| Layout::flat(x.len()));
        // The layout is checked against x before Adam moves, so an error changes nothing;
        // Adam::advance runs check_step_input first.
        if g.len() == x.len() {
            layout.check_dim(x.len())?;
        }
        // Moment lines and r_t (α = 1 inside Adam); returns the schedule multiplier.
        let multiplier = self.adam.advance(x, g)?;
        let r = self.adam.last_update().expect("advance created the state");
        let c = &self.config;
        let eta = c.lr * multiplier;
        let lambda = c.weight_decay;
        self.trust_ratios.clear();
        for block in layout.blocks() {
            let range = block.range();
            let x_norm = x.rows(block.offset, block.len()).norm();
            let d_norm = range
                .clone()
                .map(|i| {
                    let d = r[i] + lambda * x[i];
                    d * d
                })
                .sum::<f64>()
                .sqrt();
            let phi = match c.phi {
                Phi::Identity => Some(x_norm),
                Phi::Clip { lower, upper } => Some(x_norm.max(lower).min(upper)),
                Phi::One => None,
            };
            // optax: ratio 1 when either norm is 0.
            let ratio = match phi {
                Some(p) if p != 0.0 && d_norm != 0.0 => p / d_norm,
                _ => 1.0,
            };
            self.trust_ratios.push(ratio);
            for i in range {
                x[i] -= eta * ratio * (r[i] + lambda * x[i]);
            }
        }
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.adam.steps_taken()
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "LAMB: Adam moments + layer-wise trust ratio (You et al. 2020, Algorithm 2)",
        variants: vec![
            "paper/optax: phi = identity, ratio 1 when a norm is 0",
            "paper: phi clipped to [gamma_l, gamma_u]",
            "phi = 1: optax adamw",
            "per-block trust ratio from a Layout",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::assert_out_of_range;
    use crate::prec::UNIT_ROUNDOFF;

    #[test]
    fn first_step_by_hand() {
        // t = 1 with bias correction: m̂ = g, v̂ = g² (1 − β is exact by Sterbenz, the products
        // and quotients round: ≤ 2u each), so r = g/(|g| + ε) ≈ sign(g). Block a = (3, 4),
        // g = (1, −2): r ≈ (1, −1)·(1 − ε/|g|); λ = 0 → ‖r‖ ≈ √2, ratio = 5/√2, step =
        // α·5/√2·(1, −1). Block b = (0): ‖x‖ = 0 → ratio 1, step = α·r = α·sign(g).
        let mut opt = LambConfig {
            lr: 0.1,
            weight_decay: 0.0,
            eps: 1e-6,
            ..LambConfig::paper()
        }
        .with_layout(Layout::from_shapes([("a", 2, 1), ("b", 1, 1)]))
        .build()
        .unwrap();
        let mut x = DVector::from_row_slice(&[3.0, 4.0, 0.0]);
        opt.step(&mut x, &DVector::from_row_slice(&[1.0, -2.0, 0.5]))
            .unwrap();
        let (r0, r1, r2): (f64, f64, f64) = (1.0 / (1.0 + 1e-6), -2.0 / (2.0 + 1e-6), 0.5 / (0.5 + 1e-6));
        let ratio = 5.0 / (r0 * r0 + r1 * r1).sqrt();
        let want = [3.0 - 0.1 * ratio * r0, 4.0 - 0.1 * ratio * r1, -0.1 * r2];
        // r: ≤ 8u (moments, corrections, sqrt, +ε, ÷); norms ≤ 4u more; ratio, products ≤ 4u;
        // the subtraction keeps |x| ≥ |Δ| so no cancellation: 24u relative to the result.
        for (got, w) in x.iter().zip(want) {
            assert!((got - w).abs() <= 24.0 * UNIT_ROUNDOFF * w.abs(), "{got} vs {w}");
        }
        let ratios = opt.trust_ratios();
        assert!((ratios[0] - ratio).abs() <= 16.0 * UNIT_ROUNDOFF * ratio);
        assert_eq!(ratios[1], 1.0);
    }

    #[test]
    fn clip_bounds_the_ratio_numerator() {
        // ‖x‖ = 5 clipped to upper 2: ratio = 2/‖r + λx‖. With x = (3, 4), g = (1, 1), λ = 0:
        // r = (c, c) with c = 1/(1 + 1e-6) → ‖r‖ = √2 c.
        let mut opt = LambConfig {
            lr: 0.1,
            weight_decay: 0.0,
            phi: Phi::Clip {
                lower: 0.5,
                upper: 2.0,
            },
            ..LambConfig::paper()
        }
        .build()
        .unwrap();
        let mut x = DVector::from_row_slice(&[3.0, 4.0]);
        opt.step(&mut x, &DVector::from_row_slice(&[1.0, 1.0])).unwrap();
        let c: f64 = 1.0 / (1.0 + 1e-6);
        let ratio = 2.0 / (2.0_f64.sqrt() * c);
        assert!((opt.trust_ratios()[0] - ratio).abs() <= 16.0 * UNIT_ROUNDOFF * ratio);
    }

    #[test]
    fn validation_table_and_step_errors() {
        let base = LambConfig::paper;
        let cases: Vec<(LambConfig, &str)> = vec![
            (LambConfig { lr: -1.0, ..base() }, "lr"),
            (LambConfig { beta1: 1.0, ..base() }, "beta1"),
            (
                LambConfig {
                    beta2: f64::NAN,
                    ..base()
                },
                "beta2",
            ),
            (LambConfig { eps: 0.0, ..base() }, "eps"),
            (
                LambConfig {
                    eps_root: -1.0,
                    ..base()
                },
                "eps_root",
            ),
            (
                LambConfig {
                    weight_decay: -0.1,
                    ..base()
                },
                "weight_decay",
            ),
            (
                LambConfig {
                    phi: Phi::Clip {
                        lower: -1.0,
                        upper: 1.0,
                    },
                    ..base()
                },
                "phi.lower",
            ),
            (
                LambConfig {
                    phi: Phi::Clip {
                        lower: 0.0,
                        upper: 0.0,
                    },
                    ..base()
                },
                "phi.upper",
            ),
            (
                LambConfig {
                    schedule: Some(Schedule::constant(-1.0)),
                    ..base()
                },
                "value",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        assert!(matches!(
            LambConfig {
                phi: Phi::Clip {
                    lower: 2.0,
                    upper: 1.0
                },
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
            opt.step(&mut x, &DVector::from_element(2, 1.0)),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        assert_eq!(x, DVector::from_element(3, 1.0));
        let json = serde_json::to_string(&LambConfig::paper()).unwrap();
        assert_eq!(
            serde_json::from_str::<LambConfig>(&json).unwrap(),
            LambConfig::paper()
        );
    }
}
