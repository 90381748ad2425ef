//! # LARS
//!
//! Layer-wise Adaptive Rate Scaling (You, Gitman & Ginsburg 2017, Algorithm 1). For every
//! layer $l$ (a block of the [`Layout`]) at step $t$:
//! $$\begin{aligned}
//! g_t^l &\leftarrow \nabla L(w_t^l)\\\\
//! \lambda^l &\leftarrow \eta\\,\frac{\lVert w_t^l\rVert}{\lVert g_t^l\rVert + \beta\lVert w_t^l\rVert}
//!   && \text{(local LR; LarsTrustRatio::Paper)}\\\\
//! v_{t+1}^l &\leftarrow m\\,v_t^l + \gamma_t\\,\lambda^l\\,(g_t^l + \beta w_t^l)\\\\
//! w_{t+1}^l &\leftarrow w_t^l - v_{t+1}^l
//! \end{aligned}$$
//! with $v_0 = 0$. optax's `lars` chain (`add_decayed_weights → scale_by_trust_ratio → lr →
//! trace`) forms $u = g + \beta w$ first and divides by its norm instead
//! ([`LarsTrustRatio::Optax`]): $\lambda^l = \eta\lVert w^l\rVert/(\lVert u^l\rVert + \epsilon)$,
//! and with `nesterov` applies $u' + m v_{t+1}$ instead of $v_{t+1}$.
//!
//! | symbol | field | paper | optax `lars` |
//! |---|---|---|---|
//! | γ_t | `lr` | base LR γ (polynomial decay in the paper's runs) | `learning_rate` |
//! | m | `momentum` | m (0.9) | `momentum` (0.9) |
//! | β | `weight_decay` | β (5e-4) | `weight_decay` (0) |
//! | η | `trust_coefficient` | η (1e-3) | `trust_coefficient` (1e-3) |
//! | ε | `trust_ratio` = `Optax { eps }` | — | `eps` (0) |
//! | Nesterov | `nesterov` | — | `nesterov` (false) |
//! | layers | `layout` | one λ per layer | one ratio per leaf of the pytree |
//!
//! ## Conventions
//! * **Denominator** ([`LarsTrustRatio`]): the paper divides by $\lVert g\rVert + \beta\lVert
//!   w\rVert$, an upper bound of optax's $\lVert g + \beta w\rVert$ (triangle inequality), so
//!   for β > 0 the paper's local LR is never larger than optax's (with ε = 0); they agree when
//!   β = 0 or g ∥ w with the same orientation.
//! * **Zero norms**: optax's `scale_by_trust_ratio` uses ratio 1 when ‖w‖ = 0 or ‖u‖ = 0. The
//!   paper leaves this case open (it would freeze a zero-initialised layer at λ = 0); this
//!   file uses optax's rule for both denominators (ratio 1 when ‖w‖ = 0 or the denominator is
//!   0) so that zero-initialised biases move.
//! * optax masks the trust ratio and the decay per leaf (`*_mask`); here every block of the
//!   layout gets both (give biases their own block and a separate optimizer if needed).
//! * optax's momentum is `trace`: $v \leftarrow u + m v$ with $u$ already scaled by −γλ; the
//!   paper's $v \leftarrow m v + \gamma\lambda(\cdot)$ is the same recurrence.
//!
//! ## References
//! * Y. You, I. Gitman, B. Ginsburg, *Large Batch Training of Convolutional Networks*, 2017,
//!   Algorithm 1 — <https://arxiv.org/abs/1708.03888>
//! * optax `_src/alias.py` (`lars`), `_src/transform.py` (`scale_by_trust_ratio`, `trace`,
//!   `add_decayed_weights`).

use super::layout::Layout;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "lars";

/// Which local learning rate λ^l (the "trust ratio").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LarsTrustRatio {
    /// λ = η‖w‖/(‖g‖ + β‖w‖) (Algorithm 1).
    Paper,
    /// λ = η‖w‖/(‖g + βw‖ + ε) (optax `scale_by_trust_ratio` after `add_decayed_weights`).
    Optax {
        /// ε ≥ 0 added to the update norm (optax `eps`, default 0).
        eps: f64,
    },
}

/// Hyperparameters of [`Lars`] (serde; validate with [`LarsConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LarsConfig {
    /// Global learning rate γ > 0.
    pub lr: f64,
    /// Momentum m ∈ [0, 1).
    pub momentum: f64,
    /// Weight decay β ≥ 0.
    pub weight_decay: f64,
    /// Trust coefficient η > 0.
    pub trust_coefficient: f64,
    /// Paper or optax denominator.
    pub trust_ratio: LarsTrustRatio,
    /// Nesterov momentum (optax `nesterov`); `false` in the paper.
    pub nesterov: bool,
    /// Layers; `None` means one block covering all parameters ([`Layout::flat`]).
    pub layout: Option<Layout>,
}

impl Default for LarsConfig {
    fn default() -> Self {
        Self::paper()
    }
}

impl LarsConfig {
    /// Algorithm 1 with the paper's η = 0.001, m = 0.9, β = 5e-4 (AlexNet runs) and γ = 1
    /// (set `lr`; the paper uses a polynomial decay of a base LR of 2–29 depending on batch).
    pub fn paper() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.9,
            weight_decay: 5e-4,
            trust_coefficient: 1e-3,
            trust_ratio: LarsTrustRatio::Paper,
            nesterov: false,
            layout: None,
        }
    }

    /// `optax.lars` defaults: weight_decay 0, trust_coefficient 1e-3, eps 0, momentum 0.9,
    /// nesterov false. optax has no default learning rate; 1.0 is used here (set `lr`).
    pub fn optax() -> Self {
        Self {
            weight_decay: 0.0,
            trust_ratio: LarsTrustRatio::Optax { eps: 0.0 },
            ..Self::paper()
        }
    }

    /// Set the layout (one trust ratio per block).
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = Some(layout);
        self
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the field and its range.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "momentum", self.momentum)?;
        check::non_negative(NAME, "weight_decay", self.weight_decay)?;
        check::positive(NAME, "trust_coefficient", self.trust_coefficient)?;
        if let LarsTrustRatio::Optax { eps } = self.trust_ratio {
            check::non_negative(NAME, "eps", eps)?;
        }
        Ok(())
    }

    /// Validate and build (state is created on the first step).
    ///
    /// # Errors
    /// See [`LarsConfig::validate`].
    pub fn build(self) -> Result<Lars, HyperError> {
        self.validate()?;
        Ok(Lars {
            config: self,
            state: None,
        })
    }
}

#[derive(Debug, Clone)]
struct State {
    t: u64,
    velocity: DVector<f64>,
    /// λ^l of the last step, one per block.
    local_lr: Vec<f64>,
}

/// LARS with validated hyperparameters and its state (see the module documentation).
///
/// # Example
/// One layer (no layout), γ = 1, m = 0.9, β = 0 (no decay), η = 0.01, w₀ = (3, 4), g = (0.3, 0.4)
/// twice (‖g‖ = 0.5):
/// λ₁ = η‖w₀‖/‖g‖ = 0.01·5/0.5 = 0.1, v₁ = 0.1·g = (0.03, 0.04), w₁ = (2.97, 3.96);
/// λ₂ = 0.01·‖w₁‖/0.5 = 0.01·4.95/0.5 = 0.099, v₂ = 0.9·v₁ + 0.099·g = (0.0567, 0.0756),
/// w₂ = (2.9133, 3.8844). A few roundings of O(1) values: error < 1e-14.
/// ```
/// use optverify::prelude::*;
///
/// let cfg = LarsConfig { lr: 1.0, weight_decay: 0.0, trust_coefficient: 0.01, ..LarsConfig::paper() };
/// let mut lars = cfg.build().unwrap();
/// let (mut w, g) = (DVector::from_vec(vec![3.0, 4.0]), DVector::from_vec(vec![0.3, 0.4]));
/// lars.step(&mut w, &g).unwrap();
/// assert!((w[0] - 2.97).abs() < 1e-14 && (w[1] - 3.96).abs() < 1e-14, "{w}");
/// lars.step(&mut w, &g).unwrap();
/// assert!((w[0] - 2.9133).abs() < 1e-14 && (w[1] - 3.8844).abs() < 1e-14, "{w}");
/// ```
#[derive(Debug, Clone)]
pub struct Lars {
    config: LarsConfig,
    state: Option<State>,
}

impl Lars {
    /// The hyperparameters.
    pub fn config(&self) -> &LarsConfig {
        &self.config
    }

    /// Momentum buffer v_t; `None` before the first step.
    pub fn velocity(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.velocity)
    }

    /// The local learning rates λ^l of the last step, in block order.
    pub fn local_lr(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.local_lr.as_slice())
    }
}

/// Trust ratio η‖w‖/denominator, or 1 when ‖w‖ = 0 or the denominator is 0 (optax's rule).
fn trust_ratio(eta: f64, w_norm: f64, denominator: f64) -> f64 {
    if w_norm == 0.0 || denominator == 0.0 {
        1.0
    } else {
        eta * w_norm / denominator
    }
}

impl Optimizer for Lars {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "trust ratio {:?}, momentum {}, nesterov {}, weight decay {}, {} blocks",
            c.trust_ratio,
            c.momentum,
            c.nesterov,
            c.weight_decay,
            c.layout.as_ref().map_or(1, |l| l.blocks().len())
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.velocity.len()))?;
        let c = &self.config;
        let layout = c.layout.clone().unwrap_or_else(|| Layout::flat(x.len()));
        layout.check_dim(x.len())?;
        let n = x.len();
        let state = self.state.get_or_insert_with(|| State {
            t: 0,
            velocity: DVector::zeros(n),
            local_lr: vec![0.0; layout.blocks().len()],
        });
        state.t += 1;
        let beta = c.weight_decay;
        for (l, block) in layout.blocks().iter().enumerate() {
            let range = block.range();
            let w = &x.as_slice()[range.clone()];
            let gl = &g.as_slice()[range.clone()];
            let w_norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
            // Local LR λ^l from the layer's norms.
            let lambda = match c.trust_ratio {
                LarsTrustRatio::Paper => {
                    let g_norm = gl.iter().map(|a| a * a).sum::<f64>().sqrt();
                    trust_ratio(c.trust_coefficient, w_norm, g_norm + beta * w_norm)
                }
                LarsTrustRatio::Optax { eps } => {
                    let u_norm = w
                        .iter()
                        .zip(gl)
                        .map(|(wi, gi)| {
                            let u = gi + beta * wi;
                            u * u
                        })
                        .sum::<f64>()
                        .sqrt();
                    if u_norm == 0.0 {
                        1.0
                    } else {
                        trust_ratio(c.trust_coefficient, w_norm, u_norm + eps)
                    }
                }
            };
            state.local_lr[l] = lambda;
            for i in range {
                // v ← m v + γ λ (g + β w); w ← w − v (or − (γλ(g+βw) + m v) with Nesterov).
                let scaled = c.lr * lambda * (g[i] + beta * x[i]);
                state.velocity[i] = c.momentum * state.velocity[i] + scaled;
                let delta = if c.nesterov {
                    scaled + c.momentum * state.velocity[i]
                } else {
                    state.velocity[i]
                };
                x[i] -= delta;
            }
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
        description: "LARS: layer-wise trust ratio + momentum (You, Gitman & Ginsburg 2017, Algorithm 1)",
        variants: vec![
            "paper: lambda = eta |w| / (|g| + beta |w|)",
            "optax: lambda = eta |w| / (|g + beta w| + eps), 1 when a norm is 0",
            "nesterov momentum (optax)",
            "per-block trust ratio from a Layout",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::assert_out_of_range;
    use crate::prec::UNIT_ROUNDOFF;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    #[test]
    fn paper_first_step_by_hand_two_blocks() {
        // Block a = (3, 4): ‖w‖ = 5, g = (0.6, 0.8): ‖g‖ = 1. β = 0.5, η = 0.1, γ = 2.
        // λ_a = 0.1·5/(1 + 2.5) = 1/7; v = 2/7·(g + 0.5w) = 2/7·(2.1, 2.8) = (0.6, 0.8).
        // Block b = (0): ‖w‖ = 0 → ratio 1; v = 2·(1 + 0) = 2 → w = −2.
        let mut opt = LarsConfig {
            lr: 2.0,
            weight_decay: 0.5,
            trust_coefficient: 0.1,
            ..LarsConfig::paper()
        }
        .with_layout(Layout::from_shapes([("a", 2, 1), ("b", 1, 1)]))
        .build()
        .unwrap();
        let mut x = DVector::from_row_slice(&[3.0, 4.0, 0.0]);
        opt.step(&mut x, &DVector::from_row_slice(&[0.6, 0.8, 1.0]))
            .unwrap();
        // Each coordinate: two norms (≤ 4 roundings incl. sqrt, each ≤ u relative), the ratio
        // (2), the product chain (4), then x − v with |x − v| ≥ |x|/2: ≤ 16u relative.
        let tol = 16.0 * UNIT_ROUNDOFF;
        for (got, want) in x.iter().zip([2.4, 3.2, -2.0]) {
            assert!(rel(*got, want) <= tol, "{got} vs {want}");
        }
        assert!(rel(opt.local_lr().unwrap()[0], 1.0 / 7.0) <= tol);
        assert_eq!(opt.local_lr().unwrap()[1], 1.0);
        // Second step with the same gradient: momentum 0.9 carries v.
        let v1 = opt.velocity().unwrap().clone();
        let x1 = x.clone();
        opt.step(&mut x, &DVector::from_row_slice(&[0.6, 0.8, 1.0]))
            .unwrap();
        let lam = 0.1 * x1.rows(0, 2).norm() / (1.0 + 0.5 * x1.rows(0, 2).norm());
        for i in 0..2 {
            let want = x1[i] - (0.9 * v1[i] + 2.0 * lam * ([0.6, 0.8][i] + 0.5 * x1[i]));
            assert!(rel(x[i], want) <= tol, "{i}: {} vs {want}", x[i]);
        }
    }

    #[test]
    fn optax_denominator_differs_from_paper_and_zero_norm_rule() {
        // w = (1, 0), g = (−1, 0), β = 1: u = 0 → optax ratio 1; paper: η·1/(1 + 1) = η/2.
        let mk = |trust_ratio| {
            LarsConfig {
                lr: 1.0,
                momentum: 0.0,
                weight_decay: 1.0,
                trust_coefficient: 0.5,
                trust_ratio,
                nesterov: false,
                layout: None,
            }
            .build()
            .unwrap()
        };
        let g = DVector::from_row_slice(&[-1.0, 0.0]);
        let mut paper = mk(LarsTrustRatio::Paper);
        let mut optax = mk(LarsTrustRatio::Optax { eps: 0.0 });
        let (mut xp, mut xo) = (
            DVector::from_row_slice(&[1.0, 0.0]),
            DVector::from_row_slice(&[1.0, 0.0]),
        );
        paper.step(&mut xp, &g).unwrap();
        optax.step(&mut xo, &g).unwrap();
        assert_eq!(paper.local_lr().unwrap()[0], 0.25);
        assert_eq!(optax.local_lr().unwrap()[0], 1.0);
        // u = g + βw = 0, so both leave w unchanged whatever the ratio.
        assert_eq!(xp, DVector::from_row_slice(&[1.0, 0.0]));
        assert_eq!(xo, xp);
    }

    #[test]
    fn nesterov_first_step_is_one_plus_m_times_plain() {
        // v₁ = s (from v₀ = 0), Nesterov applies s + m v₁ = (1 + m) s. Every value below is
        // dyadic, so every operation is exact: w = (0, 2), g = (0, 2), β = 0 → λ = 0.5·2/2.
        let mk = |nesterov| {
            LarsConfig {
                lr: 0.5,
                momentum: 0.5,
                weight_decay: 0.0,
                trust_coefficient: 0.5,
                trust_ratio: LarsTrustRatio::Optax { eps: 0.0 },
                nesterov,
                layout: None,
            }
            .build()
            .unwrap()
        };
        let g = DVector::from_row_slice(&[0.0, 2.0]);
        let (mut a, mut b) = (mk(false), mk(true));
        let (mut xa, mut xb) = (
            DVector::from_row_slice(&[0.0, 2.0]),
            DVector::from_row_slice(&[0.0, 2.0]),
        );
        a.step(&mut xa, &g).unwrap();
        b.step(&mut xb, &g).unwrap();
        // s = γλg = 0.5·0.5·2 = 0.5: plain → 1.5, Nesterov → 2 − 0.75 = 1.25.
        assert_eq!(xa[1], 1.5);
        assert_eq!(xb[1], 1.25);
    }

    #[test]
    fn validation_table_and_step_errors() {
        let base = LarsConfig::paper;
        let cases: Vec<(LarsConfig, &str)> = vec![
            (LarsConfig { lr: 0.0, ..base() }, "lr"),
            (
                LarsConfig {
                    lr: f64::NAN,
                    ..base()
                },
                "lr",
            ),
            (
                LarsConfig {
                    momentum: 1.0,
                    ..base()
                },
                "momentum",
            ),
            (
                LarsConfig {
                    momentum: -0.1,
                    ..base()
                },
                "momentum",
            ),
            (
                LarsConfig {
                    weight_decay: -1e-4,
                    ..base()
                },
                "weight_decay",
            ),
            (
                LarsConfig {
                    weight_decay: f64::INFINITY,
                    ..base()
                },
                "weight_decay",
            ),
            (
                LarsConfig {
                    trust_coefficient: 0.0,
                    ..base()
                },
                "trust_coefficient",
            ),
            (
                LarsConfig {
                    trust_ratio: LarsTrustRatio::Optax { eps: -1.0 },
                    ..base()
                },
                "eps",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
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
        let mut x = DVector::from_element(4, 1.0);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::NAN, 0.0, 0.0])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        let json = serde_json::to_string(&LarsConfig::optax()).unwrap();
        assert_eq!(
            serde_json::from_str::<LarsConfig>(&json).unwrap(),
            LarsConfig::optax()
        );
    }
}
