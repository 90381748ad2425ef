//! The curvature interface a model exposes to K-FAC (Martens & Grosse 2015): its layers as
//! `s = W̄ā` in terms of the parameter [`Layout`], per-example statistics (ā, g) with sampled,
//! expected or empirical targets, batch gradients, and exact Fisher products.
//!
//! It lives with the problems (which implement it) rather than with the optimizer, so that
//! `problems` never depends on `optim`; `optim::kfac` re-exports it.

use crate::layout::Layout;
use nalgebra::{DMatrix, DVector};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// `(u, v) ↦ uᵀFv` with F the exact Fisher on the current batch.
pub type FisherForm<'a> = &'a dyn Fn(&DVector<f64>, &DVector<f64>) -> f64;

/// Which targets $y$ the statistics $g = \partial(-\log p(y|x))/\partial s$ use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FisherTargets {
    /// One $y \sim P_{y|x}(\theta)$ per example, from the seeded ChaCha8 stream (§5: the true
    /// Fisher, estimated by Monte Carlo).
    Sampled,
    /// $\mathbb E_{y\sim P_{y|x}}[gg^\top]$ in closed form: each example contributes the
    /// columns of $J_s^\top L$ with $LL^\top$ the output Fisher (identity for the Gaussian,
    /// $\sigma(1-\sigma)$ for Bernoulli, $\operatorname{diag}(p) - pp^\top$ for softmax).
    Expected,
    /// The training labels: the empirical Fisher (not the paper's choice).
    Empirical,
}

/// One layer $s = \bar W\bar a$ in terms of the parameter layout: its weight block (stored
/// row-major, `outputs × inputs`) and optional bias block (`outputs` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KfacLayer {
    /// Name of the weight block in the [`Layout`].
    pub weight: String,
    /// Name of the bias block, if the layer has one.
    pub bias: Option<String>,
    /// Rows of W (dim G).
    pub outputs: usize,
    /// Columns of W (dim Ā is this + 1 with a bias).
    pub inputs: usize,
}

impl KfacLayer {
    /// dim Ā: inputs, plus the homogeneous coordinate with a bias.
    pub fn a_dim(&self) -> usize {
        self.inputs + usize::from(self.bias.is_some())
    }
}

/// One batch's statistics for one layer: rows of ā (one per example, `n × a_dim`) and rows of
/// g (`r × outputs`, one per example for sampled/empirical targets, several for expected), and
/// the number of examples n they average over: Â = āᵀā/n, Ĝ = gᵀg/n.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    pub activations: DMatrix<f64>,
    pub preactivation_grads: DMatrix<f64>,
    pub examples: usize,
}

impl LayerStats {
    /// Â = āᵀā / n.
    pub fn a_hat(&self) -> DMatrix<f64> {
        self.activations.tr_mul(&self.activations) / self.examples as f64
    }
    /// Ĝ = gᵀg / n.
    pub fn g_hat(&self) -> DMatrix<f64> {
        self.preactivation_grads.tr_mul(&self.preactivation_grads) / self.examples as f64
    }
}

/// A model K-FAC can precondition: its layers, per-example statistics, gradients, and exact
/// Fisher products on a batch of example indices (`rows`).
pub trait KfacModel {
    /// The layers, in the order of the returned statistics.
    fn kfac_layers(&self) -> Vec<KfacLayer>;
    /// The parameter layout the layers refer to.
    fn kfac_layout(&self) -> Layout;
    /// Per-layer ā and g on `rows` with the given targets; `rng` draws sampled targets.
    fn kfac_statistics(
        &self,
        theta: &DVector<f64>,
        rows: &[usize],
        targets: FisherTargets,
        rng: &mut ChaCha8Rng,
    ) -> Vec<LayerStats>;
    /// ∇h on `rows`: the mean of the examples' loss gradients (regulariser included).
    fn batch_gradient(&self, theta: &DVector<f64>, rows: &[usize]) -> DVector<f64>;
    /// J_k v for every example k of `rows` (one row each): the directional derivative of the
    /// model's output (the natural parameter of its predictive distribution) along `v`.
    fn output_jvp(&self, theta: &DVector<f64>, rows: &[usize], v: &DVector<f64>) -> DMatrix<f64>;
    /// The Fisher of the predictive distribution in its natural parameter, per example
    /// (identity for the unit Gaussian, σ(1−σ) for Bernoulli, diag(p) − ppᵀ for softmax).
    fn output_fisher(&self, theta: &DVector<f64>, rows: &[usize]) -> Vec<DMatrix<f64>>;

    /// uᵀFv with F = n⁻¹Σ_k J_kᵀ F_R,k J_k, the exact (true) Fisher on `rows`.
    fn fisher_bilinear(
        &self,
        theta: &DVector<f64>,
        rows: &[usize],
        u: &DVector<f64>,
        v: &DVector<f64>,
    ) -> f64 {
        let ju = self.output_jvp(theta, rows, u);
        let jv = self.output_jvp(theta, rows, v);
        let fr = self.output_fisher(theta, rows);
        let mut s = 0.0;
        for (k, f) in fr.iter().enumerate() {
            let a = ju.row(k).transpose();
            let b = jv.row(k).transpose();
            s += a.dot(&(f * b));
        }
        s / rows.len() as f64
    }
}

/// The exact Fisher F = n⁻¹Σ_k J_kᵀ F_R,k J_k on `rows` as a dense matrix (dim × dim), built
/// column by column from Jacobian-vector products with the unit vectors.
pub fn dense_fisher(model: &dyn KfacModel, theta: &DVector<f64>, rows: &[usize]) -> DMatrix<f64> {
    let dim = theta.len();
    let fr = model.output_fisher(theta, rows);
    let jacs: Vec<DMatrix<f64>> = (0..dim)
        .map(|j| {
            let mut e = DVector::zeros(dim);
            e[j] = 1.0;
            model.output_jvp(theta, rows, &e)
        })
        .collect();
    // J_k (o × dim): column j is row k of jacs[j].
    let mut f = DMatrix::zeros(dim, dim);
    for (k, frk) in fr.iter().enumerate() {
        let o = frk.nrows();
        let jk = DMatrix::from_fn(o, dim, |r, c| jacs[c][(k, r)]);
        f += jk.tr_mul(&(frk * &jk));
    }
    f / rows.len() as f64
}
