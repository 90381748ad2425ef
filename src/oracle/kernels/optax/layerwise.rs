//! optax's layer-wise aliases, `lamb` and `lars`: one trust ratio per pytree leaf (one leaf
//! per block of the trace's layout), the norms reduced in XLA's order
//! ([`crate::oracle::kernels::reduce::xla_norm`]).
//!
//! `scale_by_trust_ratio(min_norm=0, trust_coefficient, eps)` (`optax/_src/transform.py`), per
//! leaf, eagerly:
//!
//! | optax line | rounding |
//! |---|---|
//! | `param_norm = safe_norm(param, 0.)`: `sqrt(sum(x * x))` (twice, the same value) | squares, XLA's tree sum, `sqrt` |
//! | `update_norm = safe_norm(update, 0.)` | as above |
//! | `trust_coefficient * param_norm / (update_norm + eps)` | one multiply (exact for LAMB's 1.0), one add (exact for `eps = 0`), one divide |
//! | `where(param_norm == 0 or update_norm == 0, 1, ratio)` | exact |
//! | `update * safe_trust_ratio` | one multiply |
//!
//! Python-float hyperparameters enter an f32 computation rounded to f32 ([`Real::from_f64`]).

use super::{check_input, Adam, Hyper, Kernel, Real, StepError};
use crate::optim::conventions::BiasCorrection;
use crate::optim::lamb::{LambConfig, Phi};
use crate::optim::lars::{LarsConfig, LarsTrustRatio};
use crate::optim::Layout;
use crate::oracle::kernels::reduce::{xla_norm, xla_norm_is_transcribed};

/// One block: its coordinates and shape (`cols == 1`: a 1-D leaf).
#[derive(Debug, Clone)]
struct Leaf {
    start: usize,
    rows: usize,
    cols: usize,
}

fn leaves(layout: Option<&Layout>) -> Option<Vec<Leaf>> {
    Some(
        layout?
            .blocks()
            .iter()
            .map(|b| Leaf {
                start: b.offset,
                rows: b.rows,
                cols: b.cols,
            })
            .collect(),
    )
}

fn check_leaves(leaves: &[Leaf], n: usize) -> Result<(), StepError> {
    let total: usize = leaves.iter().map(|l| l.rows * l.cols).sum();
    if total != n {
        return Err(StepError::DimensionMismatch {
            what: "parameters (layout)",
            expected: total,
            got: n,
        });
    }
    Ok(())
}

/// The per-leaf scalars of one step, for `--sample` (the recorder writes the same ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustRatio<T> {
    /// ‖θ_{t−1}‖ of the leaf.
    pub param_norm: T,
    /// ‖u‖ of the leaf's update before the ratio.
    pub update_norm: T,
    /// The ratio applied (1 when a norm is 0).
    pub ratio: T,
}

/// `trust_coefficient * param_norm / (update_norm + eps)`, 1 when a norm is 0.
pub fn trust_ratio<T: Real>(trust_coefficient: T, eps: T, param_norm: T, update_norm: T) -> T {
    if param_norm == T::zero() || update_norm == T::zero() {
        T::one()
    } else {
        trust_coefficient * param_norm / (update_norm + eps)
    }
}

fn describe_reduction(leaves: &[Leaf]) -> &'static str {
    if leaves.iter().all(|l| xla_norm_is_transcribed(l.rows, l.cols)) {
        "norms in XLA's order"
    } else {
        "norms in XLA's order except for a leaf whose reduction order is not transcribed (≥ 4096 elements, both dims > 32, or a small matrix LLVM schedules differently): within rounding there"
    }
}

/// `optax.lamb` = `chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(λ),
/// scale_by_trust_ratio(), scale_by_learning_rate(lr))`, then `apply_updates`; the Adam part
/// rounds as [`Adam`] (jitted bias correction over the whole pytree), `g + λ·p` in two
/// roundings (skipped for λ = 0.0, as optax does), the ratio per leaf (module doc), `−lr·u`,
/// `p + u`.
pub struct Lamb<T: Real> {
    adam: Adam<T>,
    weight_decay: Option<T>,
    leaves: Vec<Leaf>,
    u: Vec<T>,
    /// The per-leaf scalars of the last step.
    pub last: Vec<TrustRatio<T>>,
}

impl<T: Real> Lamb<T> {
    /// `None` unless `c` is optax's form (φ = identity, bias correction, no schedule) with a
    /// layout.
    /// `hyper`: Python floats (x64 enabled or not) or `optax.inject_hyperparams` ([`Hyper`]).
    pub fn new(c: &LambConfig, hyper: Hyper) -> Option<Self> {
        if c.phi != Phi::Identity || c.bias_correction != BiasCorrection::On || c.schedule.is_some() {
            return None;
        }
        let leaves = leaves(c.layout.as_ref())?;
        let n_leaves = leaves.len();
        Some(Lamb {
            adam: Adam {
                b1: c.beta1,
                b2: c.beta2,
                b1_t: T::from_f64(c.beta1),
                b2_t: T::from_f64(c.beta2),
                one_minus_b1: hyper.one_minus(c.beta1),
                one_minus_b2: hyper.one_minus(c.beta2),
                eps: T::from_f64(c.eps),
                eps_root: T::from_f64(c.eps_root),
                weight_decay: None,
                amsgrad: false,
                correct_mu: true,
                correct_nu: true,
                nesterov: false,
                minus_lr: T::from_f64(-c.lr),
                leaves: n_leaves,
                hyper,
                count: 0,
                mu: Vec::new(),
                nu: Vec::new(),
                nu_max: Vec::new(),
            },
            weight_decay: (c.weight_decay != 0.0).then(|| T::from_f64(c.weight_decay)),
            leaves,
            u: Vec::new(),
            last: Vec::new(),
        })
    }

    /// The step's update before the trust ratio (Adam direction plus decay), into `self.u`.
    fn direction(&mut self, theta: &[T], g: &[T]) -> Result<(), StepError> {
        check_leaves(&self.leaves, theta.len())?;
        self.adam.advance(theta, g)?;
        let (bc1, _, bc2) = self.adam.corrections();
        let a = &self.adam;
        self.u.clear();
        self.u.extend((0..theta.len()).map(|i| {
            let mut u = bc1.apply(a.mu[i]) / ((bc2.apply(a.nu[i]) + a.eps_root).sqrt() + a.eps);
            if let Some(s) = self.weight_decay {
                u = u + s * theta[i];
            }
            u
        }));
        Ok(())
    }
}

impl<T: Real> Kernel<T> for Lamb<T> {
    fn describe(&self) -> String {
        format!(
            "optax lamb (scale_by_adam as optax adam; g + λp; per-leaf ‖θ‖/‖u‖, {}; −lr·u; p + u){}",
            describe_reduction(&self.leaves),
            self.adam.describe_hyper()
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        self.direction(theta, g)?;
        self.last.clear();
        for leaf in &self.leaves {
            let r = leaf.start..leaf.start + leaf.rows * leaf.cols;
            let param_norm = xla_norm(&theta[r.clone()], leaf.rows, leaf.cols);
            let update_norm = xla_norm(&self.u[r.clone()], leaf.rows, leaf.cols);
            let ratio = trust_ratio(T::one(), T::zero(), param_norm, update_norm);
            self.last.push(TrustRatio {
                param_norm,
                update_norm,
                ratio,
            });
            for i in r {
                theta[i] = theta[i] + self.adam.minus_lr * (self.u[i] * ratio);
            }
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.adam.take_scalars(s)
    }

    /// The Adam moments are element-wise; only the ratio needs the block, and it is computed
    /// from the recorded norms with the same expression as in [`Kernel::step`].
    fn step_given_norms(
        &mut self,
        theta: &mut [T],
        g: &[T],
        blocks: &[(usize, [T; 2])],
    ) -> Option<Result<(), StepError>> {
        if blocks.len() != self.leaves.len() {
            return Some(Err(StepError::DimensionMismatch {
                what: "blocks (recorded norms)",
                expected: self.leaves.len(),
                got: blocks.len(),
            }));
        }
        if let Err(e) = self.adam.advance(theta, g) {
            return Some(Err(e));
        }
        let (bc1, _, bc2) = self.adam.corrections();
        let mut i = 0;
        for &(n, [param_norm, update_norm]) in blocks {
            let ratio = trust_ratio(T::one(), T::zero(), param_norm, update_norm);
            for _ in 0..n {
                let a = &self.adam;
                let mut u = bc1.apply(a.mu[i]) / ((bc2.apply(a.nu[i]) + a.eps_root).sqrt() + a.eps);
                if let Some(s) = self.weight_decay {
                    u = u + s * theta[i];
                }
                theta[i] = theta[i] + a.minus_lr * (u * ratio);
                i += 1;
            }
        }
        Some(Ok(()))
    }

    fn last_norms(&self) -> Vec<[T; 2]> {
        self.last.iter().map(|r| [r.param_norm, r.update_norm]).collect()
    }
}

/// `optax.lars` = `chain(add_decayed_weights(λ), masked(scale_by_trust_ratio(c, eps), True),
/// scale_by_learning_rate(lr), trace(momentum, nesterov))`, then `apply_updates`:
/// `u = g + λ·p` (two roundings; skipped for λ = 0.0), the ratio per leaf (module doc),
/// `u = −lr·u`, `t = u + μ·t` (two roundings), Nesterov `u + μ·t`, `p + u`.
pub struct Lars<T: Real> {
    minus_lr: T,
    weight_decay: Option<T>,
    trust_coefficient: T,
    eps: T,
    momentum: T,
    nesterov: bool,
    leaves: Vec<Leaf>,
    u: Vec<T>,
    trace: Vec<T>,
    /// The per-leaf scalars of the last step.
    pub last: Vec<TrustRatio<T>>,
}

impl<T: Real> Lars<T> {
    /// `None` unless `c` is optax's form (ε in the denominator) with a layout.
    pub fn new(c: &LarsConfig) -> Option<Self> {
        let LarsTrustRatio::Optax { eps } = c.trust_ratio else {
            return None;
        };
        Some(Lars {
            minus_lr: T::from_f64(-c.lr),
            weight_decay: (c.weight_decay != 0.0).then(|| T::from_f64(c.weight_decay)),
            trust_coefficient: T::from_f64(c.trust_coefficient),
            eps: T::from_f64(eps),
            momentum: T::from_f64(c.momentum),
            nesterov: c.nesterov,
            leaves: leaves(c.layout.as_ref())?,
            u: Vec::new(),
            trace: Vec::new(),
            last: Vec::new(),
        })
    }
}

impl<T: Real> Kernel<T> for Lars<T> {
    fn describe(&self) -> String {
        format!(
            "optax lars (g + λp; per-leaf c‖θ‖/(‖u‖+ε), {}; −lr·u; trace u + μt; p + u)",
            describe_reduction(&self.leaves)
        )
    }

    fn step(&mut self, theta: &mut [T], g: &[T]) -> Result<(), StepError> {
        check_input(theta, g, (!self.trace.is_empty()).then_some(self.trace.len()))?;
        check_leaves(&self.leaves, theta.len())?;
        if self.trace.is_empty() {
            self.trace = vec![T::zero(); theta.len()];
        }
        self.u.clear();
        self.u.extend(
            g.iter()
                .zip(theta.iter())
                .map(|(&gi, &p)| match self.weight_decay {
                    Some(s) => gi + s * p,
                    None => gi,
                }),
        );
        self.last.clear();
        for leaf in &self.leaves {
            let r = leaf.start..leaf.start + leaf.rows * leaf.cols;
            let param_norm = xla_norm(&theta[r.clone()], leaf.rows, leaf.cols);
            let update_norm = xla_norm(&self.u[r.clone()], leaf.rows, leaf.cols);
            let ratio = trust_ratio(self.trust_coefficient, self.eps, param_norm, update_norm);
            self.last.push(TrustRatio {
                param_norm,
                update_norm,
                ratio,
            });
            for i in r {
                let u = self.minus_lr * (self.u[i] * ratio);
                self.trace[i] = u + self.momentum * self.trace[i];
                let out = if self.nesterov {
                    u + self.momentum * self.trace[i]
                } else {
                    self.trace[i]
                };
                theta[i] = theta[i] + out;
            }
        }
        Ok(())
    }

    fn set_scalars(&mut self, s: &crate::oracle::schedules::Scalars) -> bool {
        self.minus_lr = T::from_f64(-s.lr);
        s.momentum.is_none()
    }

    /// `u = g + λθ` and the momentum trace are element-wise; the ratio comes from the
    /// recorded norms, computed as in [`Kernel::step`].
    fn step_given_norms(
        &mut self,
        theta: &mut [T],
        g: &[T],
        blocks: &[(usize, [T; 2])],
    ) -> Option<Result<(), StepError>> {
        if let Err(e) = check_input(theta, g, (!self.trace.is_empty()).then_some(self.trace.len())) {
            return Some(Err(e));
        }
        if blocks.len() != self.leaves.len() {
            return Some(Err(StepError::DimensionMismatch {
                what: "blocks (recorded norms)",
                expected: self.leaves.len(),
                got: blocks.len(),
            }));
        }
        if self.trace.is_empty() {
            self.trace = vec![T::zero(); theta.len()];
        }
        let mut i = 0;
        for &(n, [param_norm, update_norm]) in blocks {
            let ratio = trust_ratio(self.trust_coefficient, self.eps, param_norm, update_norm);
            for _ in 0..n {
                let d = match self.weight_decay {
                    Some(s) => g[i] + s * theta[i],
                    None => g[i],
                };
                let u = self.minus_lr * (d * ratio);
                self.trace[i] = u + self.momentum * self.trace[i];
                let out = if self.nesterov {
                    u + self.momentum * self.trace[i]
                } else {
                    self.trace[i]
                };
                theta[i] = theta[i] + out;
                i += 1;
            }
        }
        Some(Ok(()))
    }

    fn last_norms(&self) -> Vec<[T; 2]> {
        self.last.iter().map(|r| [r.param_norm, r.update_norm]).collect()
    }
}
