//! # K-FAC
//!
//! Kronecker-factored Approximate Curvature (Martens & Grosse 2015): natural-gradient descent
//! with the Fisher approximated block-diagonally, one block per layer, each block the Kronecker
//! product of two small matrices.
//!
//! ## Algorithm
//! A layer $i$ computes $s_i = \bar W_i \bar a_{i-1}$ with $\bar W_i = [W_i\ b_i]$ and
//! $\bar a_{i-1} = (a_{i-1}, 1)$ (the homogeneous coordinate carries the bias, §2.1; without a
//! bias $\bar a = a$). With $g_i = \partial(-\log p(y\mid x))/\partial s_i$, the gradient of a
//! layer is $\mathcal D\bar W_i = g_i\bar a_{i-1}^\top$ and its Fisher block is
//! $F_{i,i} = \mathbb E[\bar a\bar a^\top\otimes g g^\top]$ (column-major vec, §3), which K-FAC
//! approximates by $\bar A_{i-1}\otimes G_i$ with
//! $$\bar A_{i-1} = \mathbb E[\bar a_{i-1}\bar a_{i-1}^\top],\qquad G_i = \mathbb E[g_ig_i^\top]$$
//! (§3, eq. for $\tilde F$), keeping only the diagonal blocks (§4.2). For the *Fisher*, $y$ is
//! drawn from the model's predictive distribution $P_{y\mid x}(\theta)$, not taken from the
//! training labels (§5; [`FisherTargets`]). Per iteration $k$ (§§5–8; the pseudocode is Algorithm 2,
//! §9):
//! $$\begin{aligned}
//! \bar A_{i-1} &\leftarrow \epsilon_k\bar A_{i-1} + (1-\epsilon_k)\\,\hat{\bar A}_{i-1},\quad
//!   G_i \leftarrow \epsilon_k G_i + (1-\epsilon_k)\\,\hat G_i,\qquad
//!   \epsilon_k = \min(1 - 1/k,\ \epsilon_{\max})\\\\
//! \pi_i &= \sqrt{\frac{\operatorname{tr}(\bar A_{i-1})/\dim\bar A_{i-1}}{\operatorname{tr}(G_i)/\dim G_i}},
//!   \qquad \gamma = \sqrt{\lambda + \eta}\qquad\text{(factored Tikhonov damping, §6.3)}\\\\
//! \Delta_i &= -\bigl(G_i + \tfrac{\gamma}{\pi_i} I\bigr)^{-1}\\,\nabla_{\bar W_i}h\\,
//!   \bigl(\bar A_{i-1} + \pi_i\gamma I\bigr)^{-1}
//!   \qquad\text{(inverses refreshed every } T_{\mathrm{inv}}\text{ steps, §8)}\\\\
//! \delta &= \alpha\Delta + \mu\delta_0,\qquad \theta \leftarrow \theta + \delta
//! \end{aligned}$$
//! where $\hat{\bar A}$, $\hat G$ are the mini-batch averages and $(\alpha, \mu)$ come from the
//! [`UpdateRule`]: a fixed learning rate and momentum (what practical implementations do), the
//! §6.4 re-scaling $\alpha^* = -\nabla h^\top\Delta / (\Delta^\top(F + (\lambda+\eta)I)\Delta)$
//! with the *exact* mini-batch Fisher $F$, or the §7 momentum, which minimises the same
//! quadratic model $M(\delta) = \tfrac12\delta^\top(F + (\lambda+\eta)I)\delta + \nabla h^\top\delta$
//! jointly over $\alpha$ and $\mu$ (a 2×2 linear system; $\delta_0$ is the previous update).
//!
//! ## Hyperparameters
//! | symbol | field | paper | default ([`KfacConfig::paper`]) |
//! |---|---|---|---|
//! | λ | `damping` | Tikhonov damping, adapted by the Levenberg–Marquardt rule (§6.5) | 150 (the paper's initial λ; fixed here) |
//! | η | `l2` | ℓ2 coefficient of the objective, added to λ in the damping (§6.3: "η accounts for the ℓ2 regularization") | 0 |
//! | ε_max | `max_decay` | factor averaging, ε_k = min(1 − 1/k, 0.95) (§5) | 0.95 |
//! | T_inv | `inverse_period` | T₃: inverses recomputed every T₃ iterations (§8), and at k ≤ 3 (Algorithm 2) | 20 |
//! | π | `pi` | trace-norm π_i (§6.3) | [`PiRule::TraceNorm`] |
//! | (α, μ) | `update` | §6.4 / §7 | [`UpdateRule::RescaledMomentum`] |
//! | targets | `targets` | sampled from the model (§5) | [`FisherTargets::Sampled`] |
//!
//! ## Conventions
//! * **Targets** ([`FisherTargets`]): `Sampled` (the paper: one $y\sim P_{y|x}$ per example,
//!   the Monte Carlo true Fisher), `Expected` (the expectation over $y$ in closed form, no
//!   sampling noise: the factors of the true Fisher exactly), `Empirical` (the training labels:
//!   the "empirical Fisher", which the paper does not use; several implementations do).
//! * **Vectorisation.** The crate stores $W$ row-major (`Layout`), so the row-major vec of
//!   $\mathcal D\bar W = g\bar a^\top$ is $g\otimes\bar a$ and the block reads $G\otimes\bar A$
//!   in that order; the paper's column-major vec gives $\bar A\otimes G$. Same matrix, permuted.
//! * **Inverse refresh.** As Algorithm 2 (§9): the inverses are formed at iterations
//!   $k \le 3$ (while the averaged factors still move fast) and at every $k \equiv 0 \pmod{T_3}$,
//!   from the factors and damping at that step; in between, the stale inverses precondition
//!   the new gradients (§8).
//! * **π when a trace is 0** (a layer that sees only zero activations or zero gradients): π = 1.
//! * **Not modelled:** the Levenberg–Marquardt adaptation of λ (§6.5) and the greedy search
//!   over γ (§6.6) — both need extra loss evaluations on the mini-batch; here λ (hence γ) is
//!   fixed, with γ = √(λ + η) as §6.6 initialises it. The block-tridiagonal inverse (§4.3) is
//!   not implemented (block-diagonal only, §4.2).
//!
//! ## Interface
//! K-FAC needs more than a gradient: per-example activations and pre-activation gradients
//! ([`LayerStats`], produced by a [`KfacModel`]) and, for §6.4/§7, exact Fisher quadratic
//! forms. [`Kfac::observe`] averages a batch's statistics into the factors;
//! [`Kfac::step_with_fisher`] takes a step given $u, v \mapsto u^\top F v$;
//! [`Optimizer::step`] works for [`UpdateRule::Fixed`] only; [`Kfac::iterate`] runs one full
//! iteration (statistics, gradient, step) on a [`KfacModel`] and a batch of example indices.
//!
//! ## References
//! 1. J. Martens, R. Grosse, *Optimizing Neural Networks with Kronecker-factored Approximate
//!    Curvature*, ICML 2015 (arXiv 1503.05671): §2.1 network notation, §3 Kronecker-factored
//!    blocks, §4.2 block-diagonal inverse (§4.3 tridiagonal), §5 statistics (sampled targets,
//!    ε = min(1 − 1/k, 0.95)), §6.3 factored Tikhonov damping and trace-norm π, §6.4 re-scaling,
//!    §6.5 λ adaptation (initial λ = 150), §6.6 γ, §7 momentum, §8 costs (T₃ = 20), §9
//!    Algorithm 2 (pseudocode) — <https://arxiv.org/abs/1503.05671>
//! 2. S. Amari, *Natural gradient works efficiently in learning*, Neural Computation 10 (1998).

use super::layout::Layout;
use super::{CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::{DMatrix, DVector};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const NAME: &str = "kfac";

pub use crate::problems::curvature::{
    dense_fisher, FisherForm, FisherTargets, KfacLayer, KfacModel, LayerStats,
};

/// How π_i is chosen in the factored damping (§6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PiRule {
    /// $\pi_i = \sqrt{(\operatorname{tr}\bar A/\dim\bar A)/(\operatorname{tr}G/\dim G)}$ (the
    /// paper's trace norm).
    TraceNorm,
    /// π = 1: $(\bar A + \gamma I)\otimes(G + \gamma I)$.
    One,
}

/// How the step length α and momentum μ of δ = αΔ + μδ₀ are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum UpdateRule {
    /// α = `lr`, μ = `momentum` (heavy ball on the preconditioned direction; KFAC-PyTorch).
    Fixed { lr: f64, momentum: f64 },
    /// α minimises the damped exact-Fisher quadratic model along Δ, μ = 0 (§6.4).
    Rescaled,
    /// (α, μ) minimise the model over span{Δ, δ₀} (§7).
    RescaledMomentum,
}

/// The flat index of entry (r, c) of layer `l`'s W̄ in `layout` (c = `inputs` is the bias),
/// `None` if a block is missing.
pub fn flat_index(layer: &KfacLayer, layout: &Layout, r: usize, c: usize) -> Option<usize> {
    let offset = |name: &str| layout.blocks().iter().find(|b| b.name == name).map(|b| b.offset);
    if c < layer.inputs {
        offset(&layer.weight).map(|o| o + r * layer.inputs + c)
    } else {
        offset(layer.bias.as_ref()?).map(|o| o + r)
    }
}

/// The block-diagonal matrix with block G_i ⊗ Ā_i for layer i (the row-major vec of W̄_i),
/// written out densely over the whole flat θ in the layout's order: K-FAC's F̆ (§4.2) when
/// `factors` are its Ā, G. Used to compare K-FAC with dense computations.
///
/// # Panics
/// If a layer's block is not in `layout` or the factors' shapes do not match the layers.
pub fn block_kronecker(layers: &[KfacLayer], layout: &Layout, factors: &[Factors]) -> DMatrix<f64> {
    let dim = layout.dim();
    let mut m = DMatrix::zeros(dim, dim);
    for (l, f) in layers.iter().zip(factors) {
        assert_eq!(
            (f.a.nrows(), f.g.nrows()),
            (l.a_dim(), l.outputs),
            "factor shapes"
        );
        let idx = |r: usize, c: usize| flat_index(l, layout, r, c).expect("layer blocks are in the layout");
        for r1 in 0..l.outputs {
            for c1 in 0..l.a_dim() {
                for r2 in 0..l.outputs {
                    for c2 in 0..l.a_dim() {
                        m[(idx(r1, c1), idx(r2, c2))] = f.g[(r1, r2)] * f.a[(c1, c2)];
                    }
                }
            }
        }
    }
    m
}

/// Hyperparameters of [`Kfac`] (serde; validate with [`KfacConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KfacConfig {
    /// λ ≥ 0 (0 only when the factors are invertible).
    pub damping: f64,
    /// η ≥ 0, the objective's ℓ2 coefficient (enters the damping as λ + η).
    pub l2: f64,
    /// ε_max ∈ [0, 1): ε_k = min(1 − 1/k, ε_max).
    pub max_decay: f64,
    /// T_inv ≥ 1.
    pub inverse_period: u64,
    /// π rule.
    pub pi: PiRule,
    /// Step length / momentum rule.
    pub update: UpdateRule,
    /// Targets for the statistics.
    pub targets: FisherTargets,
    /// The layers (must cover every block of the layout exactly once).
    pub layers: Vec<KfacLayer>,
    /// The parameter layout.
    pub layout: Layout,
}

impl KfacConfig {
    /// Martens & Grosse's choices (§5–§8): λ = 150 (their initial value; not adapted here),
    /// ε_max = 0.95, T₃ = 20, trace-norm π, §7 momentum, sampled targets, on `model`'s layers.
    pub fn paper(model: &dyn KfacModel) -> Self {
        Self {
            damping: 150.0,
            l2: 0.0,
            max_decay: 0.95,
            inverse_period: 20,
            pi: PiRule::TraceNorm,
            update: UpdateRule::RescaledMomentum,
            targets: FisherTargets::Sampled,
            layers: model.kfac_layers(),
            layout: model.kfac_layout(),
        }
    }

    /// The common practical variant (KFAC-PyTorch style): fixed learning rate `lr` and momentum
    /// 0.9, λ = 1e-3, otherwise as [`KfacConfig::paper`].
    pub fn fixed(model: &dyn KfacModel, lr: f64) -> Self {
        Self {
            damping: 1e-3,
            update: UpdateRule::Fixed { lr, momentum: 0.9 },
            ..Self::paper(model)
        }
    }

    /// Check every field and resolve the layers against the layout.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] / [`HyperError::CountOutOfRange`] naming the field;
    /// [`HyperError::Incompatible`] for layers that do not match the layout.
    pub fn validate(&self) -> Result<(), HyperError> {
        self.resolve().map(|_| ())
    }

    fn resolve(&self) -> Result<Vec<Resolved>, HyperError> {
        check::non_negative(NAME, "damping", self.damping)?;
        check::non_negative(NAME, "l2", self.l2)?;
        check::unit_interval(NAME, "max_decay", self.max_decay)?;
        if self.inverse_period == 0 {
            return Err(HyperError::CountOutOfRange {
                optimizer: NAME,
                field: "inverse_period",
                value: 0,
                range: "[1, inf)",
            });
        }
        if let UpdateRule::Fixed { lr, momentum } = self.update {
            check::positive(NAME, "update.lr", lr)?;
            check::unit_interval(NAME, "update.momentum", momentum)?;
        }
        let incompatible = |reason: String| HyperError::Incompatible {
            optimizer: NAME,
            reason,
        };
        let find = |name: &str| {
            self.layout
                .blocks()
                .iter()
                .position(|b| b.name == name)
                .ok_or_else(|| incompatible(format!("layer block {name:?} is not in the layout")))
        };
        let mut covered = vec![false; self.layout.blocks().len()];
        let mut out = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            if layer.outputs == 0 || layer.inputs == 0 {
                return Err(incompatible(format!(
                    "layer {:?} has an empty shape",
                    layer.weight
                )));
            }
            let wi = find(&layer.weight)?;
            let wb = &self.layout.blocks()[wi];
            if wb.len() != layer.outputs * layer.inputs {
                return Err(incompatible(format!(
                    "weight block {:?} has {} entries, the layer needs {} x {}",
                    layer.weight,
                    wb.len(),
                    layer.outputs,
                    layer.inputs
                )));
            }
            let mut mark = |i: usize| {
                if std::mem::replace(&mut covered[i], true) {
                    Err(incompatible(format!(
                        "block {:?} belongs to two layers",
                        self.layout.blocks()[i].name
                    )))
                } else {
                    Ok(())
                }
            };
            mark(wi)?;
            let bias = match &layer.bias {
                None => None,
                Some(name) => {
                    let bi = find(name)?;
                    let bb = &self.layout.blocks()[bi];
                    if bb.len() != layer.outputs {
                        return Err(incompatible(format!(
                            "bias block {name:?} has {} entries, the layer has {} outputs",
                            bb.len(),
                            layer.outputs
                        )));
                    }
                    mark(bi)?;
                    Some(bb.offset)
                }
            };
            out.push(Resolved {
                weight: wb.offset,
                bias,
                outputs: layer.outputs,
                inputs: layer.inputs,
            });
        }
        if let Some(i) = covered.iter().position(|c| !c) {
            return Err(incompatible(format!(
                "block {:?} is in no layer (K-FAC would not update it)",
                self.layout.blocks()[i].name
            )));
        }
        Ok(out)
    }

    /// Validate and build.
    ///
    /// # Errors
    /// See [`KfacConfig::validate`].
    pub fn build(self) -> Result<Kfac, HyperError> {
        let resolved = self.resolve()?;
        Ok(Kfac {
            config: self,
            resolved,
            factors: Vec::new(),
            inverses: Vec::new(),
            observed: 0,
            t: 0,
            previous: None,
            last_alpha: f64::NAN,
            last_mu: f64::NAN,
        })
    }
}

/// A layer's offsets in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resolved {
    weight: usize,
    bias: Option<usize>,
    outputs: usize,
    inputs: usize,
}

impl Resolved {
    fn a_dim(&self) -> usize {
        self.inputs + usize::from(self.bias.is_some())
    }

    /// ∇W̄ (outputs × a_dim) read from the flat gradient.
    fn read(&self, g: &DVector<f64>) -> DMatrix<f64> {
        DMatrix::from_fn(self.outputs, self.a_dim(), |r, c| {
            if c < self.inputs {
                g[self.weight + r * self.inputs + c]
            } else {
                g[self.bias.expect("a_dim > inputs only with a bias") + r]
            }
        })
    }

    /// Write W̄ (outputs × a_dim) into the flat vector.
    fn write(&self, w: &DMatrix<f64>, out: &mut DVector<f64>) {
        for r in 0..self.outputs {
            for c in 0..self.inputs {
                out[self.weight + r * self.inputs + c] = w[(r, c)];
            }
            if let Some(b) = self.bias {
                out[b + r] = w[(r, self.inputs)];
            }
        }
    }
}

/// The running Kronecker factors of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Factors {
    /// Ā (a_dim × a_dim).
    pub a: DMatrix<f64>,
    /// G (outputs × outputs).
    pub g: DMatrix<f64>,
}

/// The damped inverses of one layer and the π they were formed with.
#[derive(Debug, Clone, PartialEq)]
pub struct DampedInverses {
    /// (Ā + πγI)⁻¹.
    pub a_inv: DMatrix<f64>,
    /// (G + γ/π I)⁻¹.
    pub g_inv: DMatrix<f64>,
    /// π_i.
    pub pi: f64,
}

/// K-FAC with validated hyperparameters and its state (see the module documentation).
///
/// One fixed-rate step on a single 1×1 layer (no bias), where both Kronecker factors are
/// 1×1 and the damped inverse can be written out by hand:
/// ```
/// use optverify::optim::kfac::{FisherTargets, KfacLayer, LayerStats, PiRule, UpdateRule};
/// use optverify::prelude::*;
/// use nalgebra::DMatrix;
///
/// let layer = KfacLayer { weight: "w".into(), bias: None, outputs: 1, inputs: 1 };
/// let mut kfac = KfacConfig {
///     damping: 4.0,
///     l2: 0.0,
///     max_decay: 0.95,
///     inverse_period: 20,
///     pi: PiRule::TraceNorm,
///     update: UpdateRule::Fixed { lr: 0.5, momentum: 0.9 },
///     targets: FisherTargets::Empirical,
///     layers: vec![layer],
///     layout: Layout::from_shapes([("w", 1, 1)]),
/// }
/// .build()
/// .unwrap();
/// // Two examples with activations a = (2, −2) and pre-activation gradients g = (1, −1):
/// // Ā = mean(a²) = 4, G = mean(g²) = 1.
/// kfac.observe(&[LayerStats {
///     activations: DMatrix::from_column_slice(2, 1, &[2.0, -2.0]),
///     preactivation_grads: DMatrix::from_column_slice(2, 1, &[1.0, -1.0]),
///     examples: 2,
/// }])
/// .unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// kfac.step(&mut x, &DVector::from_vec(vec![8.0])).unwrap();
/// // π = √((tr Ā/1)/(tr G/1)) = √4 = 2, γ = √λ = 2: (G + γ/π) = 1 + 1 = 2 and
/// // (Ā + πγ) = 4 + 4 = 8, so Δ = −8/(2·8) = −0.5; the first step has no δ₀ (momentum
/// // unused): x₁ = 1 + 0.5·(−0.5) = 0.75.
/// // Two 1×1 Cholesky inverses and three products: a few roundings, 1e-15 relative.
/// assert!((x[0] - 0.75).abs() <= 1e-15 * 0.75, "{x}");
/// assert_eq!(kfac.inverses()[0].pi, 2.0);
/// ```
#[derive(Debug, Clone)]
pub struct Kfac {
    config: KfacConfig,
    resolved: Vec<Resolved>,
    factors: Vec<Factors>,
    inverses: Vec<DampedInverses>,
    /// Number of batches averaged into the factors (the k of ε_k).
    observed: u64,
    t: u64,
    previous: Option<DVector<f64>>,
    last_alpha: f64,
    last_mu: f64,
}

fn invert_spd(m: DMatrix<f64>, what: &str) -> Result<DMatrix<f64>, StepError> {
    m.cholesky().map(|c| c.inverse()).ok_or_else(|| {
        StepError::Invalid(format!(
            "kfac: the damped {what} factor is not positive definite (damping 0 with a singular factor?)"
        ))
    })
}

impl Kfac {
    /// The hyperparameters.
    pub fn config(&self) -> &KfacConfig {
        &self.config
    }

    /// The running factors, one per layer (empty before the first [`Kfac::observe`]).
    pub fn factors(&self) -> &[Factors] {
        &self.factors
    }

    /// The damped inverses in use, one per layer (empty before the first step).
    pub fn inverses(&self) -> &[DampedInverses] {
        &self.inverses
    }

    /// (α, μ) of the last step.
    pub fn last_coefficients(&self) -> (f64, f64) {
        (self.last_alpha, self.last_mu)
    }

    /// γ = √(λ + η).
    pub fn gamma(&self) -> f64 {
        (self.config.damping + self.config.l2).sqrt()
    }

    /// Average one batch's statistics into the factors: ε_k = min(1 − 1/k, ε_max) (§5).
    ///
    /// # Errors
    /// Wrong number of layers or shapes, or non-finite statistics.
    pub fn observe(&mut self, stats: &[LayerStats]) -> Result<(), StepError> {
        if stats.len() != self.resolved.len() {
            return Err(StepError::DimensionMismatch {
                what: "kfac statistics (layers)",
                expected: self.resolved.len(),
                got: stats.len(),
            });
        }
        for (s, l) in stats.iter().zip(&self.resolved) {
            if s.activations.ncols() != l.a_dim()
                || s.preactivation_grads.ncols() != l.outputs
                || s.examples == 0
            {
                return Err(StepError::Invalid(format!(
                    "kfac: statistics with {} activation columns, {} gradient columns and {} examples \
                     for a layer with dim A = {}, dim G = {}",
                    s.activations.ncols(),
                    s.preactivation_grads.ncols(),
                    s.examples,
                    l.a_dim(),
                    l.outputs
                )));
            }
            if s.activations
                .iter()
                .chain(s.preactivation_grads.iter())
                .any(|v| !v.is_finite())
            {
                return Err(StepError::Invalid("kfac: non-finite statistics".into()));
            }
        }
        self.observed += 1;
        let k = self.observed as f64;
        let eps = (1.0 - 1.0 / k).min(self.config.max_decay);
        if self.factors.is_empty() {
            self.factors = stats
                .iter()
                .map(|s| Factors {
                    a: s.a_hat(),
                    g: s.g_hat(),
                })
                .collect();
        } else {
            for (f, s) in self.factors.iter_mut().zip(stats) {
                f.a = &f.a * eps + s.a_hat() * (1.0 - eps);
                f.g = &f.g * eps + s.g_hat() * (1.0 - eps);
            }
        }
        Ok(())
    }

    /// Form the damped inverses from the current factors (§6.3).
    fn refresh_inverses(&mut self) -> Result<(), StepError> {
        let gamma = self.gamma();
        let mut inverses = Vec::with_capacity(self.factors.len());
        for f in &self.factors {
            let (da, dg) = (f.a.nrows() as f64, f.g.nrows() as f64);
            let (ta, tg) = (f.a.trace() / da, f.g.trace() / dg);
            let pi = match self.config.pi {
                PiRule::TraceNorm if ta > 0.0 && tg > 0.0 => (ta / tg).sqrt(),
                _ => 1.0,
            };
            let mut a = f.a.clone();
            let mut g = f.g.clone();
            for i in 0..a.nrows() {
                a[(i, i)] += pi * gamma;
            }
            for i in 0..g.nrows() {
                g[(i, i)] += gamma / pi;
            }
            inverses.push(DampedInverses {
                a_inv: invert_spd(a, "A")?,
                g_inv: invert_spd(g, "G")?,
                pi,
            });
        }
        self.inverses = inverses;
        Ok(())
    }

    /// Δ = −F̆⁻¹∇h with the current inverses, block by block.
    pub fn direction(&self, g: &DVector<f64>) -> DVector<f64> {
        let mut delta = DVector::zeros(g.len());
        for (l, inv) in self.resolved.iter().zip(&self.inverses) {
            let u = -(&inv.g_inv * l.read(g) * &inv.a_inv);
            l.write(&u, &mut delta);
        }
        delta
    }

    /// One step with the exact Fisher available as `fisher(u, v) = uᵀFv` (needed by
    /// [`UpdateRule::Rescaled`] and [`UpdateRule::RescaledMomentum`]; unused by `Fixed`).
    ///
    /// # Errors
    /// Length mismatches, a non-finite gradient, no statistics observed yet, or a damped
    /// factor that is not positive definite. Nothing changes on error.
    pub fn step_with_fisher(
        &mut self,
        x: &mut DVector<f64>,
        g: &DVector<f64>,
        fisher: Option<FisherForm<'_>>,
    ) -> Result<(), StepError> {
        super::check_step_input(x, g, None)?;
        self.config.layout.check_dim(x.len())?;
        if self.factors.is_empty() {
            return Err(StepError::Invalid(
                "kfac: no curvature statistics yet; call observe before the first step".into(),
            ));
        }
        let fisher = match (self.config.update, fisher) {
            (UpdateRule::Fixed { .. }, _) => None,
            (_, Some(f)) => Some(f),
            (_, None) => {
                return Err(StepError::Invalid(
                    "kfac: the rescaled updates (§6.4, §7) need exact Fisher products".into(),
                ))
            }
        };
        // Algorithm 2 (§9): "if k ≡ 0 (mod T₃) or k ≤ 3", k = 1, 2, … the iteration number
        // (self.t counts the steps already taken, so k = self.t + 1): the first three
        // iterations, while the averaged factors still move fast, then every T₃.
        let k = self.t + 1;
        if k <= 3 || k % self.config.inverse_period == 0 {
            self.refresh_inverses()?;
        }
        let delta = self.direction(g);
        let damp = self.config.damping + self.config.l2;
        // C = F + (λ+η)I; the quadratic model M(δ) = ½δᵀCδ + ∇hᵀδ.
        let c = |u: &DVector<f64>, v: &DVector<f64>| fisher.map_or(0.0, |f| f(u, v)) + damp * u.dot(v);
        let (alpha, mu) = match (self.config.update, &self.previous) {
            (UpdateRule::Fixed { lr, momentum }, _) => (lr, momentum),
            (UpdateRule::Rescaled, _) | (UpdateRule::RescaledMomentum, None) => {
                let cdd = c(&delta, &delta);
                let alpha = if cdd > 0.0 { -g.dot(&delta) / cdd } else { 0.0 };
                (alpha, 0.0)
            }
            (UpdateRule::RescaledMomentum, Some(prev)) => {
                let (a11, a12, a22) = (c(&delta, &delta), c(&delta, prev), c(prev, prev));
                let (b1, b2) = (-g.dot(&delta), -g.dot(prev));
                let det = a11 * a22 - a12 * a12;
                // Cauchy–Schwarz: det ≥ 0; a (near-)zero det means δ₀ ∥ Δ: rescale Δ alone.
                if det > 1e-12 * a11 * a22 {
                    ((a22 * b1 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det)
                } else if a11 > 0.0 {
                    (b1 / a11, 0.0)
                } else {
                    (0.0, 0.0)
                }
            }
        };
        let mut step = &delta * alpha;
        if mu != 0.0 {
            if let Some(prev) = &self.previous {
                step.axpy(mu, prev, 1.0);
            }
        }
        *x += &step;
        self.previous = Some(step);
        self.last_alpha = alpha;
        self.last_mu = mu;
        self.t += 1;
        Ok(())
    }

    /// One full iteration on `model` and the example indices `rows`: statistics with the
    /// configured targets (drawn from `rng`), averaged into the factors; the batch gradient;
    /// the step with the exact batch Fisher for §6.4/§7.
    ///
    /// # Errors
    /// As [`Kfac::observe`] and [`Kfac::step_with_fisher`].
    pub fn iterate(
        &mut self,
        model: &dyn KfacModel,
        x: &mut DVector<f64>,
        rows: &[usize],
        rng: &mut ChaCha8Rng,
    ) -> Result<(), StepError> {
        let stats = model.kfac_statistics(x, rows, self.config.targets, rng);
        self.observe(&stats)?;
        let g = model.batch_gradient(x, rows);
        let theta = x.clone();
        let fisher = |u: &DVector<f64>, v: &DVector<f64>| model.fisher_bilinear(&theta, rows, u, v);
        self.step_with_fisher(x, &g, Some(&fisher))
    }
}

impl Optimizer for Kfac {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        let c = &self.config;
        format!(
            "{:?}, damping {} (+ l2 {}), pi {:?}, targets {:?}, max decay {}, T_inv {}, {} layers",
            c.update,
            c.damping,
            c.l2,
            c.pi,
            c.targets,
            c.max_decay,
            c.inverse_period,
            c.layers.len()
        )
    }

    /// A step with the factors observed so far ([`UpdateRule::Fixed`] only: the rescaled rules
    /// need [`Kfac::step_with_fisher`]).
    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        self.step_with_fisher(x, g, None)
    }

    fn steps_taken(&self) -> u64 {
        self.t
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description:
            "K-FAC: block-diagonal Kronecker-factored natural gradient (Martens & Grosse 2015, §§3-8)",
        variants: vec![
            "targets: sampled from the model (true Fisher) / expected in closed form / empirical labels",
            "factored Tikhonov damping, pi = trace norm or 1",
            "update: fixed lr + momentum / rescaled (sec. 6.4) / rescaled momentum (sec. 7)",
            "factors averaged with eps_k = min(1 - 1/k, eps_max); inverses at k <= 3 and every T_inv steps (Algorithm 2)",
        ],
    }
}

#[cfg(test)]
mod tests;
