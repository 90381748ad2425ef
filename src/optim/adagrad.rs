//! # AdaGrad (diagonal)
//!
//! Adaptive sub-gradients (Duchi, Hazan, Singer 2011), diagonal version: precondition each
//! coordinate by the root of the sum of its past squared gradients. The lecture (slide
//! "Preconditioning via past gradient information (AdaGrad)") writes
//! $B_k(i,i) = \big(\sum_{j=1}^k g^{(j)}(i)^2\big)^{1/2}$ and
//! $\theta_{k+1} = \theta_k - \eta\\,(B_k + \epsilon I)^{-1} g^{(k)}$. One step $t = 1, 2, \dots$,
//! in the order PyTorch's `_single_tensor_adagrad` executes it:
//! $$\begin{aligned}
//! \tilde\gamma_t &= \gamma / (1 + (t-1)\\,\delta) && \text{(learning-rate decay } \delta\text{)}\\\\
//! g &\leftarrow g_t + \lambda\theta_{t-1} && \text{(coupled weight decay, optional)}\\\\
//! s_t &= s_{t-1} + g^2, \quad s_0 = \text{initial accumulator} \\\\
//! \theta_t &= \theta_{t-1} - \tilde\gamma_t\\, g / (\sqrt{s_t} + \epsilon)
//!   \ \text{ or } \ \theta_{t-1} - \tilde\gamma_t\\, g / \sqrt{s_t + \epsilon}.
//! \end{aligned}$$
//! All operations are element-wise; $B = \sqrt{s}$.
//!
//! | symbol | field | PyTorch | optax `adagrad` | Keras `Adagrad` |
//! |---|---|---|---|---|
//! | γ | `lr` | `lr` = 1e-2 | `learning_rate` | `learning_rate` = 1e-3 |
//! | δ | `lr_decay` | `lr_decay` = 0 | — | — |
//! | ε | `eps`, `eps_placement` | `eps` = 1e-10, outside | `eps` = 1e-7, inside | `epsilon` = 1e-7, inside |
//! | $s_0$ | `initial_accumulator_value` | 0 | 0.1 | 0.1 |
//! | λ | `weight_decay` | `weight_decay` (coupled) | — | `weight_decay` (decoupled × lr) |
//!
//! ## Conventions
//! * **ε placement** ([`EpsPlacement`]): Duchi et al.'s $(B + \epsilon I)^{-1}$, the lecture
//!   and PyTorch add ε after the root (`OutsideSqrt`); optax (`scale_by_rss`) and Keras add it
//!   inside (`InsideSqrt`). With the frameworks' defaults the two differ by ~5e-2 relative on
//!   the first steps (conventions.md; ε placement and s₀ together).
//! * **Initial accumulator** s₀: PyTorch 0, optax and Keras 0.1. Duchi et al. start from 0.
//! * **Learning-rate decay** δ is PyTorch's `lr_decay`; the others have none (δ = 0).
//! * optax multiplies by `rsqrt(s + ε)` (and returns 0 where s = 0); Keras computes
//!   `lr·g / sqrt(s + ε)`. These reorderings are rounding-level and not reproduced here.
//! * **ε = 0** is allowed only with s₀ > 0, so that every denominator is positive (with
//!   s₀ = ε = 0 a coordinate whose gradients were all 0 gives 0/0). It makes the 1-D method
//!   AdaGrad-Norm exactly (`tests/equivalences_momentum.rs`).
//!
//! ## References
//! * J. Duchi, E. Hazan, Y. Singer, *Adaptive Subgradient Methods for Online Learning and
//!   Stochastic Optimization*, JMLR 12 (2011), §1.1 and Figure 1 (diagonal update
//!   $x_{t+1} = x_t - \eta\\,\mathrm{diag}(G_t)^{-1/2} g_t$, with $\delta I$ added in the
//!   composite-mirror form) — <https://jmlr.org/papers/volume12/duchi11a/duchi11a.pdf>
//! * PyTorch `torch/optim/adagrad.py` (`_single_tensor_adagrad`); optax `_src/alias.py`
//!   (`adagrad`) and `_src/transform.py` (`scale_by_rss`); Keras
//!   `keras/src/optimizers/adagrad.py`.

use super::conventions::{EpsPlacement, WeightDecay};
use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "adagrad";

/// Hyperparameters of [`AdaGrad`] (serde; validate with [`AdaGradConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaGradConfig {
    /// Learning rate γ > 0.
    pub lr: f64,
    /// Learning-rate decay δ ≥ 0: γ̃_t = γ/(1 + (t − 1)δ) (PyTorch `lr_decay`).
    pub lr_decay: f64,
    /// Stabiliser ε ≥ 0 (ε = 0 needs s₀ > 0).
    pub eps: f64,
    /// ε inside or outside the root.
    pub eps_placement: EpsPlacement,
    /// Initial accumulator s₀ ≥ 0.
    pub initial_accumulator_value: f64,
    /// `None`, `CoupledL2` (PyTorch) or `DecoupledTimesLr` (Keras; multiplied by γ̃_t).
    pub weight_decay: WeightDecay,
}

impl Default for AdaGradConfig {
    /// PyTorch's defaults: lr 1e-2, lr_decay 0, eps 1e-10 outside the root, s₀ = 0, no decay.
    fn default() -> Self {
        Self::pytorch()
    }
}

impl AdaGradConfig {
    /// `torch.optim.Adagrad` defaults (see [`Default`]).
    pub fn pytorch() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            eps: 1e-10,
            eps_placement: EpsPlacement::OutsideSqrt,
            initial_accumulator_value: 0.0,
            weight_decay: WeightDecay::None,
        }
    }

    /// The lecture's and Duchi et al.'s form: θ ← θ − η (B + εI)⁻¹ g, s₀ = 0.
    pub fn lecture(eta: f64, eps: f64) -> Self {
        Self {
            lr: eta,
            eps,
            ..Self::pytorch()
        }
    }

    /// `optax.adagrad(learning_rate)` defaults: s₀ = 0.1, ε = 1e-7 inside the root.
    pub fn optax(lr: f64) -> Self {
        Self {
            lr,
            eps: 1e-7,
            eps_placement: EpsPlacement::InsideSqrt,
            initial_accumulator_value: 0.1,
            ..Self::pytorch()
        }
    }

    /// `keras.optimizers.Adagrad` defaults: learning_rate 1e-3, s₀ = 0.1, ε = 1e-7 inside.
    pub fn keras() -> Self {
        Self::optax(1e-3)
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the first invalid field; [`HyperError::Incompatible`]
    /// for ε = s₀ = 0 or a schedule-multiplied decoupled decay (AdaGrad has no schedule).
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::non_negative(NAME, "lr_decay", self.lr_decay)?;
        check::non_negative(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "initial_accumulator_value", self.initial_accumulator_value)?;
        self.weight_decay.validate(NAME)?;
        if self.eps == 0.0 && self.initial_accumulator_value == 0.0 {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "eps = 0 needs initial_accumulator_value > 0 (otherwise a coordinate \
                         whose gradients are all 0 divides 0 by 0)"
                    .into(),
            });
        }
        if let WeightDecay::DecoupledSchedule(_) = self.weight_decay {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "AdaGrad has no schedule multiplier; use CoupledL2 or DecoupledTimesLr".into(),
            });
        }
        Ok(())
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`AdaGradConfig::validate`].
    pub fn build(self) -> Result<AdaGrad, HyperError> {
        self.validate()?;
        Ok(AdaGrad {
            config: self,
            state: None,
        })
    }
}

/// State of [`AdaGrad`], created on the first step.
#[derive(Debug, Clone)]
struct State {
    t: u64,
    /// s_t = s₀ + Σ g².
    sum_of_squares: DVector<f64>,
}

/// Diagonal AdaGrad with validated hyperparameters and its state (see the module doc).
///
/// # Example
/// PyTorch's defaults with γ = 0.1 (ε = 1e-10 outside the root, s₀ = 0), θ₀ = (1, 1),
/// g₁ = (3, −4), g₂ = (4, 0), per coordinate:
/// s₁ = (9, 16), θ₁ = (1 − 0.1·3/(3 + ε), 1 + 0.1·4/(4 + ε)) ≈ (0.9, 1.1);
/// s₂ = (25, 16), θ₂ = (θ₁₀ − 0.1·4/(5 + ε), θ₁₁ − 0) ≈ (0.82, 1.1).
/// ε shifts each step by ≈ γε/√s ≤ 3.4e-12, so the round values hold to 1e-11; the
/// formulas with ε hold to 1e-15 (a few roundings of O(1) values).
/// ```
/// use optverify::prelude::*;
///
/// let mut ada = AdaGradConfig { lr: 0.1, ..AdaGradConfig::pytorch() }.build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0, 1.0]);
/// ada.step(&mut x, &DVector::from_vec(vec![3.0, -4.0])).unwrap();
/// let eps = 1e-10;
/// let x1 = [1.0 - 0.1 * 3.0 / (3.0 + eps), 1.0 + 0.1 * 4.0 / (4.0 + eps)];
/// assert!((x[0] - x1[0]).abs() < 1e-15 && (x[1] - x1[1]).abs() < 1e-15, "{x}");
/// ada.step(&mut x, &DVector::from_vec(vec![4.0, 0.0])).unwrap();
/// assert!((x[0] - (x1[0] - 0.1 * 4.0 / (5.0 + eps))).abs() < 1e-15, "{x}");
/// assert_eq!(x[1], x1[1]); // a zero gradient leaves the coordinate exactly in place
/// assert!((x[0] - 0.82).abs() < 1e-11 && (x[1] - 1.1).abs() < 1e-11, "{x}");
/// ```
#[derive(Debug, Clone)]
pub struct AdaGrad {
    config: AdaGradConfig,
    state: Option<State>,
}

impl AdaGrad {
    /// The hyperparameters.
    pub fn config(&self) -> &AdaGradConfig {
        &self.config
    }

    /// The accumulator s_t = s₀ + Σ_{j≤t} g_j² (so B_t = √s_t); `None` before the first step.
    pub fn sum_of_squares(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.sum_of_squares)
    }

    /// The decayed learning rate γ̃_t = γ/(1 + (t − 1)δ) of step `t` (t ≥ 1).
    pub fn lr_at(&self, t: u64) -> f64 {
        self.config.lr / (1.0 + (t.max(1) - 1) as f64 * self.config.lr_decay)
    }
}

impl Optimizer for AdaGrad {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "eps {} {}, initial accumulator {}, lr decay {}, weight decay {:?}",
            c.eps,
            match c.eps_placement {
                EpsPlacement::OutsideSqrt => "outside sqrt",
                EpsPlacement::InsideSqrt => "inside sqrt",
            },
            c.initial_accumulator_value,
            c.lr_decay,
            c.weight_decay
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.sum_of_squares.len()))?;
        let n = x.len();
        let s0 = self.config.initial_accumulator_value;
        let t = self.steps_taken() + 1;
        let clr = self.lr_at(t);
        let c = &self.config;
        let state = self.state.get_or_insert_with(|| State {
            t: 0,
            sum_of_squares: DVector::from_element(n, s0),
        });
        state.t = t;
        let k = Coefficients {
            clr,
            eps: c.eps,
            lambda: match c.weight_decay {
                WeightDecay::CoupledL2(l) | WeightDecay::DecoupledTimesLr(l) => l,
                _ => 0.0,
            },
            clr_lambda: match c.weight_decay {
                WeightDecay::DecoupledTimesLr(l) => clr * l,
                _ => 0.0,
            },
        };
        let (x, g, s) = (
            x.as_mut_slice(),
            g.as_slice(),
            state.sum_of_squares.as_mut_slice(),
        );
        let inside = c.eps_placement == EpsPlacement::InsideSqrt;
        vectorised(
            #[inline(always)]
            || match (c.weight_decay, inside) {
                (WeightDecay::CoupledL2(_), false) => sweep::<COUPLED, false>(&k, x, g, s),
                (WeightDecay::CoupledL2(_), true) => sweep::<COUPLED, true>(&k, x, g, s),
                (WeightDecay::DecoupledTimesLr(_), false) => sweep::<DECOUPLED_TIMES_LR, false>(&k, x, g, s),
                (WeightDecay::DecoupledTimesLr(_), true) => sweep::<DECOUPLED_TIMES_LR, true>(&k, x, g, s),
                (_, false) => sweep::<NO_DECAY, false>(&k, x, g, s),
                (_, true) => sweep::<NO_DECAY, true>(&k, x, g, s),
            },
        );
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.t)
    }
}

/// The weight decay, as a `const` parameter of the sweep.
const NO_DECAY: u8 = 0;
const COUPLED: u8 = 1;
const DECOUPLED_TIMES_LR: u8 = 2;

/// The constants of step t.
struct Coefficients {
    /// γ̃_t = γ/(1 + (t − 1)·lr_decay).
    clr: f64,
    eps: f64,
    /// λ of the coupled decay.
    lambda: f64,
    /// γ̃_t λ of Keras's decoupled decay (`clr * lambda`).
    clr_lambda: f64,
}

/// One step for every coordinate in one sweep over θ, g and Σg².
#[inline(always)]
fn sweep<const DECAY: u8, const EPS_INSIDE_SQRT: bool>(
    k: &Coefficients,
    x: &mut [f64],
    g: &[f64],
    s: &mut [f64],
) {
    let n = x.len();
    let (g, s) = (&g[..n], &mut s[..n]);
    for i in 0..n {
        // Coupled decay reads θ_{t−1}: the effective gradient before θ moves.
        let d = if DECAY == COUPLED {
            g[i] + k.lambda * x[i]
        } else {
            g[i]
        };
        if DECAY == DECOUPLED_TIMES_LR {
            x[i] -= k.clr_lambda * x[i];
        }
        s[i] += d * d;
        let denom = if EPS_INSIDE_SQRT {
            (s[i] + k.eps).sqrt()
        } else {
            s[i].sqrt() + k.eps
        };
        // PyTorch: param.addcdiv_(grad, std, value=-clr), i.e. θ + (−γ̃)(g/denom).
        x[i] -= k.clr * (d / denom);
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "Diagonal AdaGrad (Duchi, Hazan, Singer 2011): PyTorch, optax, Keras and \
                      lecture forms",
        variants: vec![
            "pytorch/lecture: g/(sqrt(s) + eps), s_0 = 0, eps 1e-10, lr decay, coupled L2",
            "optax: g/sqrt(s + eps), s_0 = 0.1, eps 1e-7",
            "keras: g/sqrt(s + eps), s_0 = 0.1, eps 1e-7, lr 1e-3, decoupled decay x lr",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::UNIT_ROUNDOFF;

    const X0: [f64; 2] = [1.0, -2.0];
    /// Pythagorean chains: with s₀ = 0 the sums of squares are 9, 25, 169 and 25, 169, 7225,
    /// perfect squares, so √s is exact when ε sits outside the root.
    const GRADS: [[f64; 2]; 3] = [[3.0, -5.0], [4.0, 12.0], [-12.0, -84.0]];

    fn run(config: AdaGradConfig) -> (Vec<DVector<f64>>, AdaGrad) {
        let mut opt = config.build().unwrap();
        let mut x = DVector::from_row_slice(&X0);
        let mut out = vec![x.clone()];
        for g in &GRADS {
            opt.step(&mut x, &DVector::from_row_slice(g)).unwrap();
            out.push(x.clone());
        }
        (out, opt)
    }

    /// The gradients are supplied (open loop) and there is no weight decay, so
    /// θ_k = θ₀ − Σ_{j≤k} Δ_j with Δ_j independent of θ: rounding errors of θ add without
    /// amplification. Per step, the increment Δ_j = γ̃(g/denom) carries relative error at most
    /// 8u: s_j = s₀ + Σ g² accumulates ≤ 2j ≤ 6 roundings (relative, all terms positive), the
    /// root halves that, then ε-add, root, division, the product with γ̃ and γ̃ itself add one u
    /// each (first order). The subtraction adds u|θ_j|. Hence
    /// |θ̂_k − θ_k| ≤ Σ_{j≤k} (8u|Δ_j| + u|θ_j|).
    fn assert_within_open_loop_bound(got: &[DVector<f64>], reference: &[[f64; 2]]) {
        for i in 0..2 {
            let mut bound = 0.0;
            let mut prev = X0[i];
            for (k, r) in reference.iter().enumerate() {
                bound += 8.0 * UNIT_ROUNDOFF * (prev - r[i]).abs() + UNIT_ROUNDOFF * r[i].abs();
                prev = r[i];
                let err = (got[k + 1][i] - r[i]).abs();
                assert!(
                    err <= bound,
                    "step {} coord {i}: {} vs {} (err {err:e} > bound {bound:e})",
                    k + 1,
                    got[k + 1][i],
                    r[i]
                );
            }
        }
    }

    // References: the formulas of the module doc in 60-digit decimal arithmetic from the exact
    // binary values of the f64 inputs (Python `decimal`), rounded once to f64.

    #[test]
    fn pytorch_three_steps_by_hand() {
        // γ = ½, ε = 1e-10 outside, s₀ = 0: θ₁ = θ₀ − ½(3/(3 + ε), −5/(5 + ε)).
        let (got, opt) = run(AdaGradConfig {
            lr: 0.5,
            ..AdaGradConfig::pytorch()
        });
        assert_within_open_loop_bound(
            &got,
            &[
                [0.5000000000166667, -1.50000000001],
                [0.10000000002466666, -1.9615384615449112],
                [0.5615384615595779, -1.467420814486669],
            ],
        );
        // The accumulator is a sum of small integers: exact.
        assert_eq!(opt.sum_of_squares().unwrap().as_slice(), &[169.0, 7225.0]);
        assert_eq!(opt.steps_taken(), 3);
    }

    #[test]
    fn optax_three_steps_by_hand() {
        // γ = ½, ε = 1e-7 inside, s₀ = 0.1.
        let (got, _) = run(AdaGradConfig::optax(0.5));
        assert_within_open_loop_bound(
            &got,
            &[
                [0.5027548446332694, -1.5009970109591555],
                [0.10355245340059364, -1.9623989830896724],
                [0.5649544255311106, -1.4682847554980598],
            ],
        );
    }

    #[test]
    fn lr_decay_three_steps_by_hand() {
        // δ = 1: γ̃ = ½, ¼, ⅙.
        let (got, opt) = run(AdaGradConfig {
            lr: 0.5,
            lr_decay: 1.0,
            ..AdaGradConfig::pytorch()
        });
        assert_within_open_loop_bound(
            &got,
            &[
                [0.5000000000166667, -1.50000000001],
                [0.3000000000206667, -1.7307692307774556],
                [0.4538461538656371, -1.5660633484247082],
            ],
        );
        assert_eq!((opt.lr_at(1), opt.lr_at(2)), (0.5, 0.25));
    }

    #[test]
    fn coupled_decay_is_the_decayed_gradient_everywhere() {
        // PyTorch adds λθ before accumulating, so the accumulator sees g + λθ: AdaGrad with
        // CoupledL2(λ) on g equals AdaGrad without decay on g + λθ, bit for bit (the same
        // operations in the same order).
        let lambda = 0.3;
        let mut a = AdaGradConfig {
            weight_decay: WeightDecay::CoupledL2(lambda),
            ..AdaGradConfig::pytorch()
        }
        .build()
        .unwrap();
        let mut b = AdaGradConfig::pytorch().build().unwrap();
        let (mut xa, mut xb) = (DVector::from_row_slice(&X0), DVector::from_row_slice(&X0));
        for g in &GRADS {
            let g = DVector::from_row_slice(g);
            a.step(&mut xa, &g).unwrap();
            let decayed = DVector::from_fn(2, |i, _| g[i] + lambda * xb[i]);
            b.step(&mut xb, &decayed).unwrap();
            assert_eq!(xa, xb);
            assert_eq!(a.sum_of_squares(), b.sum_of_squares());
        }
        // Decoupled (Keras): θ ← θ − γ̃λθ first, then the plain step (bit for bit).
        let mut a = AdaGradConfig {
            weight_decay: WeightDecay::DecoupledTimesLr(lambda),
            ..AdaGradConfig::keras()
        }
        .build()
        .unwrap();
        let mut b = AdaGradConfig::keras().build().unwrap();
        let (mut xa, mut xb) = (DVector::from_row_slice(&X0), DVector::from_row_slice(&X0));
        for g in &GRADS {
            let g = DVector::from_row_slice(g);
            a.step(&mut xa, &g).unwrap();
            let lr = b.config().lr;
            xb.iter_mut().for_each(|v| *v -= lr * lambda * *v);
            b.step(&mut xb, &g).unwrap();
            assert_eq!(xa, xb);
        }
    }

    #[test]
    fn validation_table() {
        for c in [
            AdaGradConfig::default(),
            AdaGradConfig::optax(1.0),
            AdaGradConfig::keras(),
            AdaGradConfig {
                eps: 0.0,
                initial_accumulator_value: 1.0,
                ..AdaGradConfig::pytorch()
            },
            AdaGradConfig {
                lr_decay: 0.5,
                weight_decay: WeightDecay::CoupledL2(1e-4),
                ..AdaGradConfig::pytorch()
            },
        ] {
            assert!(c.clone().build().is_ok(), "{c:?}");
        }
        let base = AdaGradConfig::pytorch;
        let bad = [
            (AdaGradConfig { lr: 0.0, ..base() }, "lr"),
            (AdaGradConfig { lr: -1e-2, ..base() }, "lr"),
            (
                AdaGradConfig {
                    lr: f64::NAN,
                    ..base()
                },
                "lr",
            ),
            (
                AdaGradConfig {
                    lr_decay: -1.0,
                    ..base()
                },
                "lr_decay",
            ),
            (
                AdaGradConfig {
                    lr_decay: f64::NAN,
                    ..base()
                },
                "lr_decay",
            ),
            (
                AdaGradConfig {
                    eps: -1e-10,
                    ..base()
                },
                "eps",
            ),
            (
                AdaGradConfig {
                    eps: f64::NAN,
                    ..base()
                },
                "eps",
            ),
            (
                AdaGradConfig {
                    initial_accumulator_value: -0.1,
                    ..base()
                },
                "initial_accumulator_value",
            ),
            (
                AdaGradConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::INFINITY),
                    ..base()
                },
                "weight_decay",
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
        for c in [
            AdaGradConfig { eps: 0.0, ..base() },
            AdaGradConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.1),
                ..base()
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
    fn step_errors() {
        let mut opt = AdaGradConfig::default().build().unwrap();
        let mut x = DVector::from_row_slice(&X0);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[f64::NAN, 0.0])),
            Err(StepError::NonFinite { index: 0, .. })
        ));
        assert_eq!((opt.steps_taken(), x.as_slice()), (0, &X0[..]));
        assert!(opt.sum_of_squares().is_none());
        opt.step(&mut x, &DVector::from_row_slice(&GRADS[0])).unwrap();
        let mut y = DVector::zeros(3);
        assert!(matches!(
            opt.step(&mut y, &DVector::zeros(3)),
            Err(StepError::DimensionMismatch {
                expected: 2,
                got: 3,
                ..
            })
        ));
        assert_eq!(opt.steps_taken(), 1);
    }
}
