//! # RAdam
//!
//! Rectified Adam (Liu et al. 2020, Algorithm 2), element-wise, for step $t$ (from 1):
//! $$\begin{aligned}
//! g_t &\leftarrow \nabla_\theta f_t(\theta_{t-1}) \\;[+\\,\lambda\theta_{t-1}]
//!   && \text{(coupled L2; decoupled: } \theta_{t-1} \leftarrow (1-\alpha\lambda)\theta_{t-1})\\\\
//! m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\\, g_t, \qquad
//!   v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\\, g_t^2\\\\
//! \hat m_t &\leftarrow m_t / (1-\beta_1^t)\\\\
//! \rho_\infty &\leftarrow 2/(1-\beta_2) - 1, \qquad
//!   \rho_t \leftarrow \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)\\\\
//! \text{if } \rho_t > \tau:&\quad
//!   l_t \leftarrow \sqrt{1-\beta_2^t}\big/\bigl(\sqrt{v_t} + \epsilon\bigr), \quad
//!   r_t \leftarrow \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},
//!   \quad \theta_t \leftarrow \theta_{t-1} - \alpha\\, r_t\\, \hat m_t\\, l_t\\\\
//! \text{else}:&\quad \theta_t \leftarrow \theta_{t-1} - \alpha\\, \hat m_t
//! \end{aligned}$$
//! with $m_0 = v_0 = 0$. The paper has τ = 4 and $l_t = \sqrt{(1-\beta_2^t)/v_t}$ (no ε).
//!
//! | symbol | field | PyTorch `RAdam` | optax `radam` |
//! |---|---|---|---|
//! | α | `lr` | `lr` (1e-3) | `learning_rate` |
//! | β₁, β₂ | `beta1`, `beta2` | `betas` (0.9, 0.999) | `b1`, `b2` (0.9, 0.999) |
//! | ε | `eps` | `eps` (1e-8), before bias correction | `eps` (1e-8), after |
//! | ε̄ | `eps_root` | — | `eps_root` (0) |
//! | τ | `threshold` | ρ_t > 5 (fixed) | ρ_t ≥ `threshold` (5.0) |
//! | Nesterov m̂ | `nesterov` | — | `nesterov` (False) |
//! | λ | `weight_decay` | `weight_decay` (0), coupled; `decoupled_weight_decay=True`: × lr | — |
//!
//! ## Conventions
//! * **Where ε goes** ([`AdamFormulation`]): PyTorch computes
//!   $l_t = \sqrt{1-\beta_2^t}/(\sqrt{v_t} + \epsilon)$ (ε added to the raw √v, the ε-hat order
//!   of Keras's Adam: [`AdamFormulation::EpsHat`]); optax computes
//!   $1/(\sqrt{\hat v_t + \bar\epsilon} + \epsilon)$ after bias correction
//!   ([`AdamFormulation::Algorithm1`]). The effective ε differs by the factor
//!   $1/\sqrt{1-\beta_2^t}$ ≈ 2.3 at t = 6 (the first rectified step with β₂ = 0.999):
//!   ~2e-7 relative on the golden traces (conventions.md).
//! * **The threshold** ([`Threshold`]): PyTorch rectifies when ρ_t > 5 (strict, hard-coded),
//!   optax when ρ_t ≥ `threshold` (5.0), the paper when ρ_t > 4. With β₂ = 0.999, ρ_t passes
//!   4 at t = 5 and 5 at t = 6: the paper takes its first rectified step one step earlier.
//!   (ρ_t = 5 exactly, the only point where PyTorch and optax differ, is not met by the
//!   default β₂.)
//! * **Unrectified steps** are plain momentum SGD on m̂ (θ −= α m̂) in every framework.
//! * **Nesterov** (optax only): m̂ is replaced by NAdam's
//!   $\beta_1 m_t/(1-\beta_1^{t+1}) + (1-\beta_1) g_t/(1-\beta_1^t)$ ([`super::nadam`]).
//! * **Weight decay**: as PyTorch's NAdam and Adam: coupled L2, or
//!   `decoupled_weight_decay=True` multiplying θ by (1 − αλ) first; optax `radam` has none.
//! * ρ_t is evaluated as `ρ∞ − 2·t·β₂ᵗ/(1 − β₂ᵗ)` left to right, as both frameworks do.
//!
//! ## References
//! * L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao, J. Han, *On the Variance of the Adaptive
//!   Learning Rate and Beyond*, ICLR 2020, Algorithm 2 (RAdam), Eq. (7) (ρ∞, ρ_t) —
//!   <https://arxiv.org/abs/1908.03265>
//! * PyTorch `torch/optim/radam.py` (`_single_tensor_radam`); optax `_src/alias.py` (`radam`),
//!   `_src/transform.py` (`scale_by_radam`).

use super::conventions::{AdamFormulation, WeightDecay};
use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "radam";

/// When the variance rectification is applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Threshold {
    /// ρ_t > τ with τ ≥ 4 (the paper τ = 4; PyTorch τ = 5).
    Above(f64),
    /// ρ_t ≥ τ with τ > 4 (optax `threshold`, 5.0).
    AtLeast(f64),
}

impl Threshold {
    fn rectifies(&self, rho: f64) -> bool {
        match *self {
            Threshold::Above(tau) => rho > tau,
            Threshold::AtLeast(tau) => rho >= tau,
        }
    }
}

/// Hyperparameters of [`RAdam`] (serde; validate with [`RAdamConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RAdamConfig {
    /// Step size α > 0.
    pub lr: f64,
    /// β₁ ∈ [0, 1).
    pub beta1: f64,
    /// β₂ ∈ [0, 1).
    pub beta2: f64,
    /// ε > 0.
    pub eps: f64,
    /// ε̄ ≥ 0 inside the root (optax; only with [`AdamFormulation::Algorithm1`]).
    pub eps_root: f64,
    /// ε after (optax, `Algorithm1`) or before (PyTorch, `EpsHat`) the bias correction.
    pub formulation: AdamFormulation,
    /// τ and the comparison.
    pub threshold: Threshold,
    /// optax `nesterov`: NAdam's m̂.
    pub nesterov: bool,
    /// `None`, `CoupledL2(λ)` or `DecoupledTimesLr(λ)` (PyTorch `decoupled_weight_decay`).
    pub weight_decay: WeightDecay,
}

impl Default for RAdamConfig {
    fn default() -> Self {
        Self::paper()
    }
}

impl RAdamConfig {
    /// Algorithm 2 with Adam's defaults α = 1e-3, β = (0.9, 0.999), τ: ρ_t > 4. The paper has
    /// no ε; ε = 1e-8 is kept, added before the bias correction (so that l_t → the paper's as
    /// ε → 0 with the same operation order).
    pub fn paper() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            eps_root: 0.0,
            formulation: AdamFormulation::EpsHat,
            threshold: Threshold::Above(4.0),
            nesterov: false,
            weight_decay: WeightDecay::None,
        }
    }

    /// `torch.optim.RAdam` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8 before the bias
    /// correction, ρ_t > 5, weight_decay 0.
    pub fn pytorch() -> Self {
        Self {
            threshold: Threshold::Above(5.0),
            ..Self::paper()
        }
    }

    /// `optax.radam` defaults: b1 0.9, b2 0.999, eps 1e-8 after the bias correction, eps_root
    /// 0, ρ_t ≥ 5, no Nesterov. optax has no default learning rate; 1e-3 here.
    pub fn optax() -> Self {
        Self {
            formulation: AdamFormulation::Algorithm1,
            threshold: Threshold::AtLeast(5.0),
            ..Self::paper()
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the field and range; [`HyperError::Incompatible`] for
    /// ε̄ with PyTorch's ε order, or a decay multiplied by a schedule only.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "beta1", self.beta1)?;
        check::unit_interval(NAME, "beta2", self.beta2)?;
        check::positive(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "eps_root", self.eps_root)?;
        // τ ≥ 4 (> 4 for ≥) keeps (ρ_t − 4) ≥ 0 and ρ∞ > ρ_t ≥ 4 whenever r_t is computed, so
        // the root's argument is never negative and its denominator never 0.
        match self.threshold {
            Threshold::Above(tau) if !(tau.is_finite() && tau >= 4.0) => {
                return Err(HyperError::OutOfRange {
                    optimizer: NAME,
                    field: "threshold",
                    value: tau,
                    range: "[4, inf) for rho_t > threshold",
                })
            }
            Threshold::AtLeast(tau) if !(tau.is_finite() && tau > 4.0) => {
                return Err(HyperError::OutOfRange {
                    optimizer: NAME,
                    field: "threshold",
                    value: tau,
                    range: "(4, inf) for rho_t >= threshold",
                })
            }
            _ => {}
        }
        self.weight_decay.validate(NAME)?;
        let incompatible = |reason: &str| {
            Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: reason.into(),
            })
        };
        if let WeightDecay::DecoupledSchedule(_) = self.weight_decay {
            return incompatible("RAdam has no schedule multiplier; use DecoupledTimesLr");
        }
        if self.formulation == AdamFormulation::EpsHat && self.eps_root != 0.0 {
            return incompatible("eps_root (optax) needs eps after the bias correction (Algorithm1)");
        }
        Ok(())
    }

    /// Validate and build (state is created on the first step).
    ///
    /// # Errors
    /// See [`RAdamConfig::validate`].
    pub fn build(self) -> Result<RAdam, HyperError> {
        self.validate()?;
        Ok(RAdam {
            config: self,
            state: None,
        })
    }
}

#[derive(Debug, Clone)]
struct State {
    t: u64,
    m: DVector<f64>,
    v: DVector<f64>,
    rho: f64,
}

/// RAdam with validated hyperparameters and its state (see the module documentation).
///
/// # Example
/// The paper's form with α = 0.1 (β₁ = 0.9, β₂ = 0.999, threshold ρ_t > 4), θ₀ = 1.
/// ρ_∞ = 2/(1 − β₂) − 1 = 1999 and ρ_t = ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ): ρ₁ = 1, ρ₂ ≈ 1.9995, both
/// ≤ 4, so the first steps are un-rectified momentum steps θ ← θ − α m̂_t:
/// g = 2: m̂₁ = 2, θ₁ = 1 − 0.2 = 0.8; g = −1: m₂ = 0.18 − 0.1 = 0.08, m̂₂ = 0.08/0.19,
/// θ₂ = 0.8 − 0.1·0.08/0.19 ≈ 0.7578947. Rounding of 1 − β₁ᵗ only: error < 1e-15.
/// ```
/// use optverify::prelude::*;
///
/// let mut radam = RAdamConfig { lr: 0.1, ..RAdamConfig::paper() }.build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// radam.step(&mut x, &DVector::from_vec(vec![2.0])).unwrap();
/// assert!((x[0] - 0.8).abs() < 1e-15, "{}", x[0]);
/// radam.step(&mut x, &DVector::from_vec(vec![-1.0])).unwrap();
/// assert!((x[0] - (0.8 - 0.1 * 0.08 / 0.19)).abs() < 1e-15, "{}", x[0]);
/// ```
#[derive(Debug, Clone)]
pub struct RAdam {
    config: RAdamConfig,
    state: Option<State>,
}

impl RAdam {
    /// The hyperparameters.
    pub fn config(&self) -> &RAdamConfig {
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

    /// ρ_t of the last step; `None` before the first step.
    pub fn rho(&self) -> Option<f64> {
        self.state.as_ref().map(|s| s.rho)
    }

    /// Whether the last step was rectified; `None` before the first step.
    pub fn rectified(&self) -> Option<bool> {
        self.rho().map(|rho| self.config.threshold.rectifies(rho))
    }
}

impl Optimizer for RAdam {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "eps {} {:?} (eps_root {}), threshold {:?}, nesterov {}, weight decay {:?}",
            c.eps, c.formulation, c.eps_root, c.threshold, c.nesterov, c.weight_decay
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
            rho: 0.0,
        });
        state.t += 1;
        let t = state.t as f64;
        if let WeightDecay::DecoupledTimesLr(lambda) = c.weight_decay {
            // PyTorch: param.mul_(1 − lr·weight_decay) before the step.
            let factor = 1.0 - c.lr * lambda;
            x.iter_mut().for_each(|xi| *xi *= factor);
        }
        let beta2_t = c.beta2.powf(t);
        let bc1 = 1.0 - c.beta1.powf(t);
        let bc2 = 1.0 - beta2_t;
        // Length of the approximated simple moving average (Eq. 7).
        let rho_inf = 2.0 / (1.0 - c.beta2) - 1.0;
        let rho = rho_inf - 2.0 * t * beta2_t / bc2;
        state.rho = rho;
        let rectify = c.threshold.rectifies(rho);
        let r = if rectify {
            ((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)).sqrt()
        } else {
            1.0
        };
        let bc1_next = 1.0 - c.beta1.powf(t + 1.0);
        let (x, g, m, v) = (
            &mut x.as_mut_slice()[..n],
            &g.as_slice()[..n],
            &mut state.m.as_mut_slice()[..n],
            &mut state.v.as_mut_slice()[..n],
        );
        let k = [c.lr, c.beta1, c.beta2, c.eps, c.eps_root, bc1, bc1_next, bc2, r];
        /// One sweep; the conventions are decided before it (this function is inlined into each
        /// arm below, where its flags are constants).
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn sweep(
            k: [f64; 9],
            (lambda, nesterov, rectify, eps_hat): (Option<f64>, bool, bool, bool),
            x: &mut [f64],
            g: &[f64],
            m: &mut [f64],
            v: &mut [f64],
        ) {
            let [lr, beta1, beta2, eps, eps_root, bc1, bc1_next, bc2, r] = k;
            let (one_minus_beta1, one_minus_beta2, sqrt_bc2) = (1.0 - beta1, 1.0 - beta2, bc2.sqrt());
            let n = x.len();
            let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
            for i in 0..n {
                let gi = match lambda {
                    Some(lambda) => g[i] + lambda * x[i],
                    None => g[i],
                };
                m[i] = beta1 * m[i] + one_minus_beta1 * gi;
                v[i] = beta2 * v[i] + one_minus_beta2 * gi * gi;
                let m_hat = if nesterov {
                    beta1 * (m[i] / bc1_next) + one_minus_beta1 * (gi / bc1)
                } else {
                    m[i] / bc1
                };
                let u = if !rectify {
                    m_hat
                } else if eps_hat {
                    // PyTorch: m̂ · (√(1 − β₂ᵗ)/(√v + ε)) · r.
                    m_hat * (sqrt_bc2 / (v[i].sqrt() + eps)) * r
                } else {
                    // optax: r · m̂/(√(v̂ + ε̄) + ε).
                    r * m_hat / ((v[i] / bc2 + eps_root).sqrt() + eps)
                };
                x[i] -= lr * u;
            }
        }
        let eps_hat = c.formulation == AdamFormulation::EpsHat;
        let lambda = match c.weight_decay {
            WeightDecay::CoupledL2(lambda) => Some(lambda),
            _ => None,
        };
        vectorised(
            #[inline(always)]
            || match (lambda.is_some() || c.nesterov, rectify, eps_hat) {
                // PyTorch's default: no coupled decay, no Nesterov.
                (false, true, true) => sweep(k, (None, false, true, true), x, g, m, v),
                (false, true, false) => sweep(k, (None, false, true, false), x, g, m, v),
                (false, false, _) => sweep(k, (None, false, false, false), x, g, m, v),
                _ => sweep(k, (lambda, c.nesterov, rectify, eps_hat), x, g, m, v),
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
        description: "RAdam: Adam with variance rectification (Liu et al. 2020, Algorithm 2)",
        variants: vec![
            "pytorch: eps added to sqrt(v) before bias correction, rho_t > 5",
            "optax: eps after bias correction (eps_root inside sqrt), rho_t >= threshold 5",
            "paper: rho_t > 4",
            "optax nesterov: NAdam's m-hat",
            "coupled L2 (pytorch weight_decay) or decoupled x lr (decoupled_weight_decay)",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{assert_matches_reference, assert_out_of_range, trajectory_of};
    use crate::prec::UNIT_ROUNDOFF;

    /// Eight gradients: with β₂ = 0.999 the rectification starts at t = 6 (ρ₅ ≈ 4.99,
    /// ρ₆ ≈ 5.99), so the references cover both branches.
    const GRADS: [[f64; 2]; 8] = [
        [3.0, -0.5],
        [-1.0, 0.25],
        [0.5, 2.0],
        [1.5, -1.0],
        [-2.0, 0.5],
        [0.25, 1.0],
        [1.0, -3.0],
        [-0.5, 0.75],
    ];
    const X0: [f64; 2] = [1.0, -2.0];

    fn run(config: RAdamConfig) -> Vec<DVector<f64>> {
        trajectory_of(&mut config.build().unwrap(), &X0, &GRADS)
    }

    // 60-digit decimal references (Python `decimal` from the exact binary values of the
    // hyperparameters, the formulas of the module doc), rounded once to f64.
    const TORCH_REF: [[f64; 2]; 8] = [
        [0.7, -1.95],
        [0.6105263157894737, -1.9394736842105262],
        [0.5356185667119828, -2.006632355797242],
        [0.4388753273982289, -2.025184260420679],
        [0.4145950900413878, -2.0514156100824703],
        [0.41421809728373205, -2.052439259547607],
        [0.4134192287773469, -2.0519261526854025],
        [0.4128181880001288, -2.0517565968814306],
    ];
    const OPTAX_REF: [[f64; 2]; 8] = [
        [0.7, -1.95],
        [0.6105263157894737, -1.9394736842105262],
        [0.5356185667119828, -2.006632355797242],
        [0.4388753273982289, -2.025184260420679],
        [0.4145950900413878, -2.0514156100824703],
        [0.41421539143652863, -2.0524509210289548],
        [0.4134109901156344, -2.0519340445123837],
        [0.4128058401283234, -2.051763272105267],
    ];
    const PAPER_REF: [[f64; 2]; 8] = [
        [0.7, -1.95],
        [0.6105263157894737, -1.9394736842105262],
        [0.5356185667119828, -2.006632355797242],
        [0.4388753273982289, -2.025184260420679],
        [0.43864567356389045, -2.0256090553688364],
        [0.4382686808062347, -2.026632704833973],
        [0.43746981229984955, -2.0261195979717685],
        [0.4368687715226315, -2.0259500421677967],
    ];
    const OPTAX_NESTEROV_ROOT_REF: [[f64; 2]; 8] = [
        [0.5578947368421052, -1.9263157894736842],
        [0.5540687512138279, -1.9328316177898621],
        [0.48249265801759494, -2.05426248083359],
        [0.3657562338473998, -2.039205896033973],
        [0.39549674810365953, -2.072048657361468],
        [0.39510762153937923, -2.0734057358190507],
        [0.394050383143466, -2.071722607459231],
        [0.393772599159469, -2.0719380377301406],
    ];
    const TORCH_DECAY_REF: [[f64; 2]; 8] = [
        [0.65, -1.85],
        [0.5197368421052632, -1.743421052631579],
        [0.40950184501845016, -1.7178044280442804],
        [0.28175010028287023, -1.6455830937114408],
        [0.23059336903204924, -1.583115411217938],
        [0.22991464353883695, -1.5821002799175792],
        [0.22878435155282537, -1.5801042118922908],
        [0.2277697608254688, -1.5780058546453242],
    ];
    const TORCH_DECOUPLED_REF: [[f64; 2]; 8] = [
        [0.65, -1.85],
        [0.5280263157894737, -1.7469736842105263],
        [0.4267172509225092, -1.7267836715867158],
        [0.3086381490626297, -1.658996392630817],
        [0.2689260042526571, -1.602277922661067],
        [0.25510271128236855, -1.5231876759931509],
        [0.24154870721186497, -1.4465151853312885],
        [0.22887023107405363, -1.3740198702607525],
    ];

    fn with_lr(config: RAdamConfig) -> RAdamConfig {
        // α = 0.1 so that the ε placement (ε = 1e-3 below) shows in the digits.
        RAdamConfig {
            lr: 0.1,
            eps: 1e-3,
            ..config
        }
    }

    #[test]
    fn pytorch_optax_and_paper_eight_steps_by_hand() {
        assert_matches_reference(&run(with_lr(RAdamConfig::pytorch())), &TORCH_REF);
        assert_matches_reference(&run(with_lr(RAdamConfig::optax())), &OPTAX_REF);
        assert_matches_reference(&run(with_lr(RAdamConfig::paper())), &PAPER_REF);
        let config = RAdamConfig {
            nesterov: true,
            eps_root: 1e-2,
            ..with_lr(RAdamConfig::optax())
        };
        assert_matches_reference(&run(config), &OPTAX_NESTEROV_ROOT_REF);
    }

    #[test]
    fn weight_decay_eight_steps_by_hand() {
        let coupled = RAdamConfig {
            weight_decay: WeightDecay::CoupledL2(0.5),
            ..with_lr(RAdamConfig::pytorch())
        };
        assert_matches_reference(&run(coupled), &TORCH_DECAY_REF);
        let decoupled = RAdamConfig {
            weight_decay: WeightDecay::DecoupledTimesLr(0.5),
            ..with_lr(RAdamConfig::pytorch())
        };
        assert_matches_reference(&run(decoupled), &TORCH_DECOUPLED_REF);
    }

    #[test]
    fn first_step_is_sgd_on_the_gradient_and_rectification_starts_at_six() {
        // t = 1: ρ₁ = ρ∞ − 2β₂/(1 − β₂) = 1 ≤ 5 exactly in real arithmetic, so θ₁ = θ₀ − α m̂₁
        // with m̂₁ = g (two roundings: (1 − β₁)g and the division; 1 − β₁ is exact by
        // Sterbenz) and one more for α·m̂ and for the subtraction from θ₀ = 0: 3u relative.
        for g in [3.0, -0.7, 1e-3] {
            let mut opt = RAdamConfig::pytorch().build().unwrap();
            let mut x = DVector::from_element(1, 0.0);
            opt.step(&mut x, &DVector::from_element(1, g)).unwrap();
            assert!((x[0] + 1e-3 * g).abs() <= 3.0 * UNIT_ROUNDOFF * (1e-3 * g).abs());
            assert!((opt.rho().unwrap() - 1.0).abs() < 1e-9);
            assert_eq!(opt.rectified(), Some(false));
        }
        // ρ_t for t = 1..8 with β₂ = 0.999: the first t with ρ_t > 4 is 5, with ρ_t > 5 is 6.
        let first = |threshold| {
            let mut opt = RAdamConfig {
                threshold,
                ..RAdamConfig::pytorch()
            }
            .build()
            .unwrap();
            let mut x = DVector::from_element(1, 0.0);
            (1..=8)
                .find(|_| {
                    opt.step(&mut x, &DVector::from_element(1, 1.0)).unwrap();
                    opt.rectified().unwrap()
                })
                .unwrap()
        };
        assert_eq!(first(Threshold::Above(4.0)), 5);
        assert_eq!(first(Threshold::Above(5.0)), 6);
        assert_eq!(first(Threshold::AtLeast(5.0)), 6);
    }

    #[test]
    fn validation_table() {
        let base = RAdamConfig::pytorch;
        let cases: Vec<(RAdamConfig, &str)> = vec![
            (RAdamConfig { lr: -1.0, ..base() }, "lr"),
            (RAdamConfig { beta1: 1.0, ..base() }, "beta1"),
            (
                RAdamConfig {
                    beta2: f64::NAN,
                    ..base()
                },
                "beta2",
            ),
            (RAdamConfig { eps: 0.0, ..base() }, "eps"),
            (
                RAdamConfig {
                    eps_root: -1.0,
                    ..RAdamConfig::optax()
                },
                "eps_root",
            ),
            (
                RAdamConfig {
                    threshold: Threshold::Above(3.0),
                    ..base()
                },
                "threshold",
            ),
            (
                RAdamConfig {
                    threshold: Threshold::AtLeast(4.0),
                    ..base()
                },
                "threshold",
            ),
            (
                RAdamConfig {
                    threshold: Threshold::AtLeast(f64::NAN),
                    ..base()
                },
                "threshold",
            ),
            (
                RAdamConfig {
                    weight_decay: WeightDecay::CoupledL2(f64::INFINITY),
                    ..base()
                },
                "weight_decay",
            ),
        ];
        assert_out_of_range(cases, |c| c.build());
        for config in [
            RAdamConfig {
                eps_root: 1e-8,
                ..base()
            },
            RAdamConfig {
                weight_decay: WeightDecay::DecoupledSchedule(0.1),
                ..base()
            },
        ] {
            assert!(
                matches!(config.clone().build(), Err(HyperError::Incompatible { .. })),
                "{config:?}"
            );
        }
        let json = serde_json::to_string(&RAdamConfig::optax()).unwrap();
        assert_eq!(
            serde_json::from_str::<RAdamConfig>(&json).unwrap(),
            RAdamConfig::optax()
        );
    }

    #[test]
    fn step_input_errors_change_nothing() {
        let mut opt = RAdamConfig::optax().build().unwrap();
        let mut x = DVector::from_row_slice(&[1.0, 2.0]);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, f64::INFINITY])),
            Err(StepError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, 1.0, 1.0])),
            Err(StepError::DimensionMismatch { .. })
        ));
        assert_eq!(opt.steps_taken(), 0);
        assert_eq!(opt.rho(), None);
        assert_eq!(x, DVector::from_row_slice(&[1.0, 2.0]));
    }
}
