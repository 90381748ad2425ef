//! # NAdam
//!
//! Adam with Nesterov momentum (Dozat 2016, Algorithm 2, in the form the frameworks compute),
//! element-wise, for step $t$ (from 1):
//! $$\begin{aligned}
//! \theta_{t-1} &\leftarrow (1-\alpha\lambda)\\,\theta_{t-1}
//!   && \text{(decoupled decay only)}\\\\
//! g_t &\leftarrow \nabla_\theta f_t(\theta_{t-1}) \\;[+\\,\lambda\theta_{t-1}]
//!   && \text{(coupled L2 only)}\\\\
//! \mu_t &\leftarrow \beta_1\bigl(1 - \tfrac12\\, 0.96^{t\psi}\bigr), \qquad
//!   \mu_{t+1} \leftarrow \beta_1\bigl(1 - \tfrac12\\, 0.96^{(t+1)\psi}\bigr)
//!   && \text{(or } \mu_t = \beta_1 \text{: optax)}\\\\
//! m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\\, g_t, \qquad
//!   v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\\, g_t^2\\\\
//! \bar m_t &\leftarrow \frac{\mu_{t+1}\\, m_t}{1 - \prod_{i=1}^{t+1}\mu_i} +
//!   \frac{(1-\mu_t)\\, g_t}{1 - \prod_{i=1}^{t}\mu_i}\\\\
//! \hat v_t &\leftarrow v_t / (1-\beta_2^t)\\\\
//! \theta_t &\leftarrow \theta_{t-1} - \alpha\\, \bar m_t / \bigl(\sqrt{\hat v_t + \bar\epsilon} + \epsilon\bigr)
//! \end{aligned}$$
//! with $m_0 = v_0 = 0$. With a constant $\mu_t = \beta_1$ the products are $\beta_1^t$ and
//! $\beta_1^{t+1}$ and $\bar m_t = \beta_1 m_t/(1-\beta_1^{t+1}) + (1-\beta_1) g_t/(1-\beta_1^t)$,
//! which is optax's `scale_by_adam(nesterov=True)` line for line.
//!
//! | symbol | field | PyTorch `NAdam` | optax `nadam` |
//! |---|---|---|---|
//! | α | `lr` | `lr` (2e-3) | `learning_rate` |
//! | β₁, β₂ | `beta1`, `beta2` | `betas` (0.9, 0.999) | `b1`, `b2` (0.9, 0.999) |
//! | ε | `eps` | `eps` (1e-8) | `eps` (1e-8) |
//! | ε̄ | `eps_root` | — | `eps_root` (0) |
//! | ψ (μ_t schedule) | `momentum_schedule` | `momentum_decay` (4e-3): [`MomentumSchedule::Dozat`] | none: [`MomentumSchedule::Constant`] |
//! | λ | `weight_decay` | `weight_decay` (0), coupled; `decoupled_weight_decay=True`: × lr | — |
//!
//! ## Conventions
//! * **The momentum schedule** ([`MomentumSchedule`]) is the one real difference between the
//!   frameworks: PyTorch (and Keras) warm μ_t up as β₁(1 − ½·0.96^{tψ}) from β₁/2 towards
//!   β₁ (with ψ = 4e-3, μ_t ≈ 0.51 β₁ after 100 steps, 0.58 β₁ after 1000), keeping the
//!   running product Π_t in its state; optax uses μ_t = β₁ throughout. Same name, different
//!   algorithms: the first step alone differs by a factor (1 + μ₂(1−β₁)/(1−μ₁μ₂)) vs
//!   (1 + β₁/(1+β₁)) on the update. ψ → ∞ recovers optax's form (μ_t → β₁).
//! * **The moment EMA uses β₁**, not μ_t, in every framework (PyTorch `exp_avg.lerp_(grad,
//!   1 − β₁)`, optax `update_moment(…, b1)`); Dozat's Algorithm 2 also multiplies n̂ by ν = β₂,
//!   which optax's source notes and every framework omits; this file follows the frameworks.
//! * **Weight decay**: PyTorch's `weight_decay` is coupled L2 (added to g before both moments);
//!   `decoupled_weight_decay=True` multiplies θ by (1 − αλ) first
//!   ([`WeightDecay::DecoupledTimesLr`], as AdamW). optax `nadam` has none (`nadamw` does).
//! * **Operation order**: PyTorch applies the two terms as two `addcdiv_` calls
//!   (θ += −α c_g·g/d, then θ += −α c_m·m/d); optax forms m̄ first. Same real number,
//!   rounding-level differences. Π_t is a running product here as in PyTorch's `mu_product`
//!   (Dozat schedule) and `powf` as in optax (constant).
//!
//! ## References
//! * T. Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop track,
//!   Algorithm 2 (NAdam) — <https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ>
//! * PyTorch `torch/optim/nadam.py` (`_single_tensor_nadam`); optax `_src/alias.py` (`nadam =
//!   partial(adam, nesterov=True)`), `_src/transform.py` (`scale_by_adam`).

use super::conventions::WeightDecay;
use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "nadam";

/// The momentum coefficients μ_t of the Nesterov look-ahead.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MomentumSchedule {
    /// μ_t = β₁(1 − ½·0.96^{tψ}) with ψ = `momentum_decay` ≥ 0 (Dozat 2016 §3; PyTorch
    /// `NAdam`, default ψ = 4e-3; Keras `Nadam` with ψ = 4e-3 fixed).
    Dozat { momentum_decay: f64 },
    /// μ_t = β₁ for every t (optax `nadam`, `adam(nesterov=True)`).
    Constant,
}

/// Hyperparameters of [`NAdam`] (serde; validate with [`NAdamConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NAdamConfig {
    /// Step size α > 0.
    pub lr: f64,
    /// β₁ ∈ [0, 1).
    pub beta1: f64,
    /// β₂ ∈ [0, 1).
    pub beta2: f64,
    /// ε > 0, outside the root.
    pub eps: f64,
    /// ε̄ ≥ 0 inside the root (optax `eps_root`; 0 in PyTorch).
    pub eps_root: f64,
    /// μ_t.
    pub momentum_schedule: MomentumSchedule,
    /// `None`, `CoupledL2(λ)` (PyTorch default) or `DecoupledTimesLr(λ)` (PyTorch
    /// `decoupled_weight_decay=True`).
    pub weight_decay: WeightDecay,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        Self::pytorch()
    }
}

impl NAdamConfig {
    /// `torch.optim.NAdam` defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0,
    /// momentum_decay 4e-3.
    pub fn pytorch() -> Self {
        Self {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            eps_root: 0.0,
            momentum_schedule: MomentumSchedule::Dozat { momentum_decay: 4e-3 },
            weight_decay: WeightDecay::None,
        }
    }

    /// `optax.nadam` defaults: b1 0.9, b2 0.999, eps 1e-8, eps_root 0, μ_t = β₁. optax has
    /// no default learning rate; 2e-3 is kept here (set `lr`).
    pub fn optax() -> Self {
        Self {
            momentum_schedule: MomentumSchedule::Constant,
            ..Self::pytorch()
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the field and range; [`HyperError::Incompatible`] for
    /// a decay multiplied by a schedule only (this optimizer has no schedule).
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "beta1", self.beta1)?;
        check::unit_interval(NAME, "beta2", self.beta2)?;
        check::positive(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "eps_root", self.eps_root)?;
        if let MomentumSchedule::Dozat { momentum_decay } = self.momentum_schedule {
            check::non_negative(NAME, "momentum_decay", momentum_decay)?;
        }
        self.weight_decay.validate(NAME)?;
        if let WeightDecay::DecoupledSchedule(_) = self.weight_decay {
            return Err(HyperError::Incompatible {
                optimizer: NAME,
                reason:
                    "NAdam has no schedule multiplier; use DecoupledTimesLr (PyTorch decoupled_weight_decay)"
                        .into(),
            });
        }
        Ok(())
    }

    /// Validate and build (state is created on the first step).
    ///
    /// # Errors
    /// See [`NAdamConfig::validate`].
    pub fn build(self) -> Result<NAdam, HyperError> {
        self.validate()?;
        Ok(NAdam {
            config: self,
            state: None,
        })
    }

    /// μ_t of the Dozat schedule (β₁ for the constant one).
    fn mu(&self, t: f64) -> f64 {
        match self.momentum_schedule {
            // PyTorch: beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay))).
            MomentumSchedule::Dozat { momentum_decay } => {
                self.beta1 * (1.0 - 0.5 * 0.96_f64.powf(t * momentum_decay))
            }
            MomentumSchedule::Constant => self.beta1,
        }
    }
}

#[derive(Debug, Clone)]
struct State {
    t: u64,
    m: DVector<f64>,
    v: DVector<f64>,
    /// Π_{i≤t} μ_i (PyTorch's `mu_product`); 1 before the first step.
    mu_product: f64,
}

/// NAdam with validated hyperparameters and its state (see the module documentation).
///
/// # Example
/// optax's form (constant μ = β₁ = 0.9, β₂ = 0.999, ε = 1e-8) with α = 0.1, θ₀ = 1, g = 2:
/// m₁ = 0.1·2 = 0.2, v₁ = 0.001·4 = 0.004,
/// m̄₁ = β₁m₁/(1 − β₁²) + (1 − β₁)g/(1 − β₁) = 0.18/0.19 + 2 = 56/19 ≈ 2.947368,
/// v̂₁ = 0.004/0.001 = 4, θ₁ = 1 − 0.1·(56/19)/(2 + ε) ≈ 1 − 0.1473684 = 0.8526316.
/// The bias corrections 1 − β₁², 1 − β₂ are rounded (relative 1e-16 each), so the round
/// value holds to 1e-7 and the formula to 1e-14.
/// ```
/// use optverify::prelude::*;
///
/// let mut nadam = NAdamConfig { lr: 0.1, ..NAdamConfig::optax() }.build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// nadam.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// let x1 = 1.0 - 0.1 * (56.0 / 19.0) / (2.0 + 1e-8);
/// assert!((x[0] - x1).abs() < 1e-14 && (x[0] - 0.8526316).abs() < 1e-7, "{}", x[0]);
/// ```
#[derive(Debug, Clone)]
pub struct NAdam {
    config: NAdamConfig,
    state: Option<State>,
}

impl NAdam {
    /// The hyperparameters.
    pub fn config(&self) -> &NAdamConfig {
        &self.config
    }

    /// First moment m_t; `None` before the first step.
    pub fn m(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.m)
    }

    /// Second moment v_t; `None` before the first step.
    pub fn v(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.v)
    }

    /// Π_{i≤t} μ_i (1 before the first step).
    pub fn mu_product(&self) -> f64 {
        self.state.as_ref().map_or(1.0, |s| s.mu_product)
    }
}

impl Optimizer for NAdam {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "momentum schedule {:?}, eps {} (eps_root {}), weight decay {:?}",
            c.momentum_schedule, c.eps, c.eps_root, c.weight_decay
        )
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.m.len()))?;
        let c = &self.config;
        let n = x.len();
        let state = self.state.get_or_insert_with(|| State {
            t: 0,
            m: DVector::zeros(n),
            v: DVector::zeros(n),
            mu_product: 1.0,
        });
        state.t += 1;
        let t = state.t as f64;
        let bc2 = 1.0 - c.beta2.powf(t);
        // μ_t, μ_{t+1} and the products Π_t, Π_{t+1}.
        let (mu, mu_next) = (c.mu(t), c.mu(t + 1.0));
        let (prod, prod_next) = match c.momentum_schedule {
            MomentumSchedule::Dozat { .. } => {
                state.mu_product *= mu;
                (state.mu_product, state.mu_product * mu_next)
            }
            MomentumSchedule::Constant => {
                state.mu_product = c.beta1.powf(t);
                (state.mu_product, c.beta1.powf(t + 1.0))
            }
        };
        // Coefficients of g_t and m_t in m̄_t.
        let coef_g = (1.0 - mu) / (1.0 - prod);
        let coef_m = mu_next / (1.0 - prod_next);
        if let WeightDecay::DecoupledTimesLr(lambda) = c.weight_decay {
            // PyTorch: param.mul_(1 − lr·weight_decay) before the step.
            let factor = 1.0 - c.lr * lambda;
            x.iter_mut().for_each(|xi| *xi *= factor);
        }
        let (x, g, m, v) = (
            &mut x.as_mut_slice()[..n],
            &g.as_slice()[..n],
            &mut state.m.as_mut_slice()[..n],
            &mut state.v.as_mut_slice()[..n],
        );
        let k = [c.lr, c.beta1, c.beta2, c.eps, c.eps_root, coef_m, coef_g, bc2];
        /// One sweep; the coupled decay is decided before it (λ = None: no term at all).
        #[inline(always)]
        fn sweep(k: [f64; 8], lambda: Option<f64>, x: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
            let [lr, beta1, beta2, eps, eps_root, coef_m, coef_g, bc2] = k;
            let (one_minus_beta1, one_minus_beta2) = (1.0 - beta1, 1.0 - beta2);
            let n = x.len();
            let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
            for i in 0..n {
                let gi = match lambda {
                    Some(lambda) => g[i] + lambda * x[i],
                    None => g[i],
                };
                m[i] = beta1 * m[i] + one_minus_beta1 * gi;
                v[i] = beta2 * v[i] + one_minus_beta2 * gi * gi;
                let m_bar = coef_m * m[i] + coef_g * gi;
                let denom = (v[i] / bc2 + eps_root).sqrt() + eps;
                x[i] -= lr * (m_bar / denom);
            }
        }
        vectorised(
            #[inline(always)]
            || match c.weight_decay {
                WeightDecay::CoupledL2(lambda) => sweep(k, Some(lambda), x, g, m, v),
                _ => sweep(k, None, x, g, m, v),
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
        description: "NAdam: Adam with Nesterov momentum (Dozat 2016, Algorithm 2)",
        variants: vec![
            "pytorch: mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), psi = momentum_decay 4e-3",
            "optax nadam: mu_t = beta1 (adam(nesterov=True))",
            "optax: eps_root inside sqrt",
            "coupled L2 (pytorch weight_decay) or decoupled x lr (decoupled_weight_decay)",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{assert_matches_reference, assert_out_of_range, trajectory_of};
    use crate::prec::{trajectory_rel, UNIT_ROUNDOFF};

    const GRADS: [[f64; 2]; 3] = [[3.0, -0.5], [-1.0, 0.25], [0.5, 2.0]];
    const X0: [f64; 2] = [1.0, -2.0];

    fn run(config: NAdamConfig, steps: usize) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS[..steps])
    }

    // 60-digit decimal references (Python `decimal` from the exact binary values of the
    // hyperparameters, the formulas of the module doc, 0.96^{tψ} by Decimal's correctly
    // rounded power), rounded once to f64.
    const TORCH_REF: [[f64; 2]; 3] = [
        [0.8943548225166118, -1.8943548242773647],
        [0.9214317440662212, -1.9354657961611366],
        [0.8999012122484643, -2.0434614040939585],
    ];
    const OPTAX_REF: [[f64; 2]; 3] = [
        [0.8526315794385965, -1.8526315818947368],
        [0.8509202041765528, -1.869117942511928],
        [0.8121808659033337, -1.9703542463920014],
    ];
    const TORCH_DECAY_REF: [[f64; 2]; 3] = [
        [0.8943548224663045, -1.8943548228687623],
        [0.9044362686535015, -1.8445734802351552],
        [0.8699359938816548, -1.8986305103022558],
    ];
    const TORCH_DECOUPLED_REF: [[f64; 2]; 3] = [
        [0.8443548225166118, -1.7943548242773646],
        [0.8292140029403906, -1.7457480549472684],
        [0.7662227709756141, -1.766456260132727],
    ];

    fn torch(lr: f64) -> NAdamConfig {
        NAdamConfig {
            lr,
            ..NAdamConfig::pytorch()
        }
    }

    #[test]
    fn pytorch_schedule_three_steps_by_hand() {
        assert_matches_reference(&run(torch(0.1), 3), &TORCH_REF);
    }

    #[test]
    fn optax_constant_momentum_three_steps_by_hand() {
        let config = NAdamConfig {
            lr: 0.1,
            ..NAdamConfig::optax()
        };
        assert_matches_reference(&run(config, 3), &OPTAX_REF);
    }

    #[test]
    fn weight_decay_three_steps_by_hand() {
        let coupled = NAdamConfig {
            weight_decay: WeightDecay::CoupledL2(0.5),
            ..torch(0.1)
        };
        assert_matches_reference(&run(coupled, 3), &TORCH_DECAY_REF);
        let decoupled = NAdamConfig {
            weight_decay: WeightDecay::DecoupledTimesLr(0.5),
            ..torch(0.1)
        };
        assert_matches_reference(&run(decoupled, 3), &TORCH_DECOUPLED_REF);
    }

    #[test]
    fn first_step_closed_form() {
        // t = 1: m₁ = (1−β₁)g, v̂₁ = g², Π₁ = μ₁, so m̄₁ = g(1 + μ₂(1−β₁)/(1−μ₁μ₂)) and
        // θ₁ = θ₀ − α m̄₁/(|g| + ε). Constant μ = β₁: the factor is (1 + 2β₁)/(1 + β₁).
        // Each side takes ≤ 12 rounded operations on values of one sign: 12u relative to
        // the step, and θ₀ = 0 so no cancellation.
        let (b1, psi, lr, eps) = (0.9_f64, 4e-3_f64, 0.1, 1e-8);
        let mu1 = b1 * (1.0 - 0.5 * 0.96_f64.powf(psi));
        let mu2 = b1 * (1.0 - 0.5 * 0.96_f64.powf(2.0 * psi));
        for g in [3.0, -0.7, 1e-3] {
            for (config, factor) in [
                (torch(lr), 1.0 + mu2 * (1.0 - b1) / (1.0 - mu1 * mu2)),
                (
                    NAdamConfig {
                        lr,
                        ..NAdamConfig::optax()
                    },
                    (1.0 + 2.0 * b1) / (1.0 + b1),
                ),
            ] {
                let mut opt = config.build().unwrap();
                let mut x = DVector::from_element(1, 0.0);
                opt.step(&mut x, &DVector::from_element(1, g)).unwrap();
                let expected = -lr * g * factor / (g.abs() + eps);
                assert!(
                    (x[0] - expected).abs() <= 12.0 * UNIT_ROUNDOFF * expected.abs(),
                    "g = {g}: {} vs {expected}",
                    x[0]
                );
            }
        }
    }

    #[test]
    fn schedules_differ_and_a_large_psi_recovers_the_constant_one() {
        // ψ = 1e4: 0.96^{tψ} underflows below 2⁻¹⁰⁷⁴ for every t ≥ 1 (t ψ ln 0.96 < −400),
        // so μ_t = β₁ exactly and the two forms differ only in how Π_t is rounded (running
        // product vs powf: ≤ 2u relative per step) — the trajectories agree to the rounding
        // bound of 50 steps. ψ = 4e-3 (PyTorch's default) is another algorithm.
        let steps = 50;
        let grads: Vec<DVector<f64>> = (0..steps)
            .map(|k| DVector::from_row_slice(&[(k as f64 * 0.7).sin() * 3.0, (k as f64 * 1.3).cos()]))
            .collect();
        let traj = |schedule| {
            let mut opt = NAdamConfig {
                lr: 0.01,
                momentum_schedule: schedule,
                ..NAdamConfig::pytorch()
            }
            .build()
            .unwrap();
            let mut x = DVector::from_row_slice(&X0);
            for g in &grads {
                opt.step(&mut x, g).unwrap();
            }
            x
        };
        let constant = traj(MomentumSchedule::Constant);
        let large = traj(MomentumSchedule::Dozat { momentum_decay: 1e4 });
        let torch = traj(MomentumSchedule::Dozat { momentum_decay: 4e-3 });
        // Scale: |θ| ≤ 2.5 here; rounding bound relative to it.
        let bound = trajectory_rel(steps) * 2.5;
        assert!((&constant - &large).amax() <= bound, "{constant} {large}");
        assert!((&constant - &torch).amax() > 1e3 * bound, "{constant} {torch}");
    }

    #[test]
    fn validation_table() {
        let base = NAdamConfig::pytorch;
        let cases: Vec<(NAdamConfig, &str)> = vec![
            (NAdamConfig { lr: 0.0, ..base() }, "lr"),
            (
                NAdamConfig {
                    lr: f64::NAN,
                    ..base()
                },
                "lr",
            ),
            (NAdamConfig { beta1: 1.0, ..base() }, "beta1"),
            (
                NAdamConfig {
                    beta2: -0.1,
                    ..base()
                },
                "beta2",
            ),
            (NAdamConfig { eps: 0.0, ..base() }, "eps"),
            (
                NAdamConfig {
                    eps_root: -1.0,
                    ..base()
                },
                "eps_root",
            ),
            (
                NAdamConfig {
                    momentum_schedule: MomentumSchedule::Dozat {
                        momentum_decay: -1e-3,
                    },
                    ..base()
                },
                "momentum_decay",
            ),
            (
                NAdamConfig {
                    momentum_schedule: MomentumSchedule::Dozat {
                        momentum_decay: f64::INFINITY,
                    },
                    ..base()
                },
                "momentum_decay",
            ),
            (
                NAdamConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::NAN),
                    ..base()
                },
                "weight_decay",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        assert!(matches!(
            NAdamConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.1),
                ..base()
            }
            .build(),
            Err(HyperError::Incompatible { .. })
        ));
        let json = serde_json::to_string(&NAdamConfig::optax()).unwrap();
        assert_eq!(
            serde_json::from_str::<NAdamConfig>(&json).unwrap(),
            NAdamConfig::optax()
        );
    }

    #[test]
    fn step_input_errors_change_nothing() {
        let mut opt = NAdamConfig::pytorch().build().unwrap();
        let mut x = DVector::from_row_slice(&[1.0, 2.0]);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[f64::NAN, 1.0])),
            Err(StepError::NonFinite { index: 0, .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        assert_eq!(opt.mu_product(), 1.0);
        assert_eq!(x, DVector::from_row_slice(&[1.0, 2.0]));
        opt.step(&mut x, &DVector::from_row_slice(&[1.0, 1.0])).unwrap();
        assert!(matches!(
            opt.step(&mut DVector::zeros(3), &DVector::zeros(3)),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 1);
    }
}
