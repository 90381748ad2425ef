//! # Two-layer ReLU network
//!
//! $$H(x) = W_2\\,\operatorname{ReLU}(W_1 x + b_1) + b_2,\qquad
//!   f(\theta) = \frac1m\sum_{k=1}^m \tfrac12\Vert H(x_k) - y_k\Vert^2 + \frac\lambda2\Vert\theta\Vert^2,$$
//! with $W_1\in\mathbb R^{h\times d}$, $W_2\in\mathbb R^{o\times h}$, biases optional. The ½
//! convention: the per-example loss is $\tfrac12\Vert H - y\Vert^2$ (so its gradient in $H$ is the
//! residual $r = H - y$); PyTorch's `MSELoss` would instead be $\tfrac1{o}\Vert H-y\Vert^2$.
//!
//! ## Backpropagation (by hand)
//! Per example, $z = W_1x + b_1$, $a = \operatorname{ReLU}(z)$, $r = H(x) - y$:
//! $$\nabla_{W_2} = r\\,a^\top,\quad \nabla_{b_2} = r,\quad
//!   \delta = (W_2^\top r)\odot \mathbb 1_{z > 0},\quad \nabla_{W_1} = \delta\\,x^\top,\quad
//!   \nabla_{b_1} = \delta,$$
//! averaged over the examples, plus $\lambda\theta$. $\operatorname{ReLU}'(0) := 0$, as in
//! PyTorch; $f$ is differentiable wherever no pre-activation $z_{kj}$ is exactly 0.
//!
//! ## Layout
//! One flat vector, blocks in the order `w1` ($h\times d$), `b1` ($h$), `w2` ($o\times h$),
//! `b2` ($o$), matrices row-major (PyTorch's `nn.Linear.weight` flattened); without biases only
//! `w1`, `w2`.
//!
//! ## Dropout ([`DropoutOracle`])
//! Inverted dropout on the hidden layer, drop probability $p$: $a \leftarrow a\odot\xi/(1-p)$,
//! $\xi_{kj}\sim\text{Bernoulli}(1-p)$ i.i.d. per example, unit and call, from a seeded
//! ChaCha8 stream (PyTorch's `nn.Dropout` in training mode). The oracle returns the exact
//! gradient of the dropped-out loss; its expectation is **not** $\nabla f$ in general (dropout
//! changes the objective), which is why it is a [`GradientOracle`] and not a [`FiniteSum`] part.
//!
//! ## Constants
//! None: non-convex, and $\nabla f$ is not Lipschitz (it is piecewise polynomial of degree 3
//! in $\theta$). The positive homogeneity $c^{-1}W_2\operatorname{ReLU}(cW_1x) = H(x)$ for
//! $c > 0$ (no biases) is testable with [`Mlp::forward`].
//!
//! ## References
//! 1. D. Rumelhart, G. Hinton, R. Williams, *Learning representations by back-propagating
//!    errors*, Nature 323 (1986), <https://doi.org/10.1038/323533a0>.
//! 2. N. Srivastava et al., *Dropout*, JMLR 15 (2014), <https://jmlr.org/papers/v15/srivastava14a.html>.

use super::curvature::{FisherTargets, KfacLayer, KfacModel, LayerStats};
use super::data::{digits, DIGITS_CLASSES};
use super::stochastic::BatchSampler;
use super::{check_range, FiniteSum, GradientOracle, Objective, ProblemError};
use crate::layout::Layout;
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Two-layer ReLU network with squared loss on a fixed data set (see the module doc).
#[derive(Debug, Clone)]
pub struct Mlp {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
    hidden: usize,
    bias: bool,
    lambda: f64,
}

/// Offsets of the blocks in the flat parameter vector.
#[derive(Debug, Clone, Copy)]
struct Offsets {
    w1: usize,
    b1: Option<usize>,
    w2: usize,
    b2: Option<usize>,
    end: usize,
}

impl Mlp {
    /// Inputs `x` (m × d), targets `y` (m × o), `hidden` units h ≥ 1, biases on or off, λ ≥ 0.
    ///
    /// # Errors
    /// Shape mismatch, empty data, h = 0, non-finite data, λ < 0.
    pub fn new(
        x: DMatrix<f64>,
        y: DMatrix<f64>,
        hidden: usize,
        bias: bool,
        lambda: f64,
    ) -> Result<Self, ProblemError> {
        if x.nrows() == 0 || x.ncols() == 0 || y.ncols() == 0 || x.nrows() != y.nrows() || hidden == 0 {
            return Err(ProblemError::Invalid {
                problem: "mlp",
                reason: format!(
                    "X is {}x{}, Y is {}x{}, hidden = {hidden}; need equal row counts >= 1, d, o, h >= 1",
                    x.nrows(),
                    x.ncols(),
                    y.nrows(),
                    y.ncols()
                ),
            });
        }
        for &v in x.iter().chain(y.iter()) {
            check_range("mlp", "data entry", v, v.is_finite(), "finite")?;
        }
        check_range(
            "mlp",
            "lambda",
            lambda,
            lambda.is_finite() && lambda >= 0.0,
            "[0, inf), finite",
        )?;
        Ok(Mlp {
            x,
            y,
            hidden,
            bias,
            lambda,
        })
    }

    /// Gaussian inputs (m × d) and targets produced by a random teacher network of the same
    /// shape (parameters from [`Mlp::init`]), all from `seed`.
    pub fn random_teacher(
        m: usize,
        d: usize,
        hidden: usize,
        outputs: usize,
        bias: bool,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: DMatrix<f64> = DMatrix::from_fn(m, d, |_, _| StandardNormal.sample(&mut rng));
        let shell = Mlp::new(x.clone(), DMatrix::zeros(m, outputs.max(1)), hidden, bias, 0.0)?;
        let teacher = shell.init(seed.wrapping_add(1));
        let y = shell.forward_all(&teacher);
        Mlp::new(x, y, hidden, bias, 0.0)
    }

    /// The vendored digits: 64 inputs in [0, 1], one-hot targets (10 outputs).
    pub fn digits(hidden: usize, bias: bool, lambda: f64) -> Result<Self, ProblemError> {
        let d = digits()?;
        let y = DMatrix::from_fn(d.len(), DIGITS_CLASSES, |k, c| {
            if usize::from(d.labels[k]) == c {
                1.0
            } else {
                0.0
            }
        });
        Mlp::new(d.features.clone(), y, hidden, bias, lambda)
    }

    /// Input dimension d.
    pub fn inputs(&self) -> usize {
        self.x.ncols()
    }
    /// Hidden units h.
    pub fn hidden(&self) -> usize {
        self.hidden
    }
    /// Output dimension o.
    pub fn outputs(&self) -> usize {
        self.y.ncols()
    }
    /// The inputs X (m × d).
    pub fn inputs_matrix(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// The targets Y (m × o).
    pub fn targets(&self) -> &DMatrix<f64> {
        &self.y
    }
    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// Whether b₁, b₂ are present.
    pub fn has_bias(&self) -> bool {
        self.bias
    }
    /// The flat parameter vector of (W₁, b₁, W₂, b₂) (inverse of [`Mlp::unpack`]; the biases
    /// are ignored when the network has none).
    ///
    /// # Errors
    /// A block of the wrong shape.
    pub fn pack(
        &self,
        w1: &DMatrix<f64>,
        b1: &DVector<f64>,
        w2: &DMatrix<f64>,
        b2: &DVector<f64>,
    ) -> Result<DVector<f64>, ProblemError> {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        if w1.shape() != (h, d) || w2.shape() != (o, h) || b1.len() != h || b2.len() != o {
            return Err(ProblemError::Invalid {
                problem: "mlp",
                reason: format!(
                    "blocks W1 {:?}, b1 {}, W2 {:?}, b2 {} for a {d}-{h}-{o} network",
                    w1.shape(),
                    b1.len(),
                    w2.shape(),
                    b2.len()
                ),
            });
        }
        let off = self.offsets();
        let mut theta = DVector::zeros(off.end);
        // Row-major: W₁ row-major is W₁ᵀ column-major.
        theta.as_mut_slice()[off.w1..off.w1 + h * d].copy_from_slice(w1.transpose().as_slice());
        theta.as_mut_slice()[off.w2..off.w2 + o * h].copy_from_slice(w2.transpose().as_slice());
        if let Some(b) = off.b1 {
            theta.as_mut_slice()[b..b + h].copy_from_slice(b1.as_slice());
        }
        if let Some(b) = off.b2 {
            theta.as_mut_slice()[b..b + o].copy_from_slice(b2.as_slice());
        }
        Ok(theta)
    }

    /// (W₁ (h × d), b₁ (h; zeros without biases), W₂ (o × h), b₂ (o; zeros)) read from θ.
    pub fn unpack(&self, theta: &DVector<f64>) -> (DMatrix<f64>, DVector<f64>, DMatrix<f64>, DVector<f64>) {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        let off = self.offsets();
        let s = theta.as_slice();
        let w1 = DMatrix::from_row_slice(h, d, &s[off.w1..off.w1 + h * d]);
        let w2 = DMatrix::from_row_slice(o, h, &s[off.w2..off.w2 + o * h]);
        let b1 = off
            .b1
            .map_or_else(|| DVector::zeros(h), |b| DVector::from_column_slice(&s[b..b + h]));
        let b2 = off
            .b2
            .map_or_else(|| DVector::zeros(o), |b| DVector::from_column_slice(&s[b..b + o]));
        (w1, b1, w2, b2)
    }

    fn offsets(&self) -> Offsets {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        let w1 = 0;
        let mut at = h * d;
        let b1 = self.bias.then(|| {
            at += h;
            at - h
        });
        let w2 = at;
        at += o * h;
        let b2 = self.bias.then(|| {
            at += o;
            at - o
        });
        Offsets {
            w1,
            b1,
            w2,
            b2,
            end: at,
        }
    }

    /// Parameter layout: `w1` (h × d), `b1` (h × 1), `w2` (o × h), `b2` (o × 1); biases only if
    /// enabled. Row-major matrices.
    pub fn layout(&self) -> Layout {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        if self.bias {
            Layout::from_shapes([("w1", h, d), ("b1", h, 1), ("w2", o, h), ("b2", o, 1)])
        } else {
            Layout::from_shapes([("w1", h, d), ("w2", o, h)])
        }
    }

    /// PyTorch's default `nn.Linear` initialisation: every weight and bias of a layer with
    /// `fan_in` inputs uniform on $[-1/\sqrt{\text{fan\\\_in}}, 1/\sqrt{\text{fan\\\_in}}]$
    /// (`kaiming_uniform_(a=√5)`), from `seed`.
    pub fn init(&self, seed: u64) -> DVector<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let off = self.offsets();
        let b1 = 1.0 / (self.inputs() as f64).sqrt();
        let b2 = 1.0 / (self.hidden as f64).sqrt();
        DVector::from_fn(off.end, |i, _| {
            let bound = if i < off.w2 { b1 } else { b2 };
            bound * (2.0 * rng.random::<f64>() - 1.0)
        })
    }

    /// W₁ᵀ (d × h) and W₂ᵀ (h × o) as column-major matrices, i.e. the row-major blocks as stored.
    fn weights_t(&self, theta: &DVector<f64>) -> (DMatrix<f64>, DMatrix<f64>) {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        let off = self.offsets();
        let s = theta.as_slice();
        (
            DMatrix::from_column_slice(d, h, &s[off.w1..off.w1 + h * d]),
            DMatrix::from_column_slice(h, o, &s[off.w2..off.w2 + o * h]),
        )
    }

    /// Pre-activations Z₁ = X W₁ᵀ + 1b₁ᵀ (rows × h) of the given inputs.
    fn preactivations(&self, x: &DMatrix<f64>, theta: &DVector<f64>) -> DMatrix<f64> {
        let (w1t, _) = self.weights_t(theta);
        let mut z = x * w1t;
        if let Some(b1) = self.offsets().b1 {
            for j in 0..self.hidden {
                z.column_mut(j).add_scalar_mut(theta[b1 + j]);
            }
        }
        z
    }

    /// Network outputs for the rows of `x` (rows × o), optional dropout mask (already scaled
    /// by 1/(1−p)) on the hidden layer.
    fn outputs_of(
        &self,
        x: &DMatrix<f64>,
        theta: &DVector<f64>,
        mask: Option<&DMatrix<f64>>,
    ) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
        let z = self.preactivations(x, theta);
        let mut a = z.map(|v| v.max(0.0));
        if let Some(mask) = mask {
            a.component_mul_assign(mask);
        }
        let (_, w2t) = self.weights_t(theta);
        let mut out = &a * w2t;
        if let Some(b2) = self.offsets().b2 {
            for c in 0..self.outputs() {
                out.column_mut(c).add_scalar_mut(theta[b2 + c]);
            }
        }
        (z, a, out)
    }

    /// $H(x)$ for one input `input` (length d).
    pub fn forward(&self, theta: &DVector<f64>, input: &DVector<f64>) -> DVector<f64> {
        let x = DMatrix::from_row_slice(1, input.len(), input.as_slice());
        self.outputs_of(&x, theta, None).2.row(0).transpose()
    }

    /// $H(x_k)$ for every example (m × o).
    pub fn forward_all(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.outputs_of(&self.x, theta, None).2
    }

    /// $\min_{k,j}|z_{kj}|$: the distance of the pre-activations from the ReLU kink. The
    /// gradient is classical (and finite differences with step $h$ are exact up to rounding
    /// of a quadratic) when this exceeds $h\max(1, \Vert X\Vert_\infty)$.
    pub fn min_abs_preactivation(&self, theta: &DVector<f64>) -> f64 {
        self.preactivations(&self.x, theta).amin()
    }

    /// Loss and gradient on the rows `x`, `y` with an optional scaled dropout mask.
    /// The gradient is written into `g` (regulariser included).
    fn loss_and_gradient(
        &self,
        x: &DMatrix<f64>,
        y: &DMatrix<f64>,
        theta: &DVector<f64>,
        mask: Option<&DMatrix<f64>>,
        g: Option<&mut DVector<f64>>,
    ) -> f64 {
        let m = x.nrows() as f64;
        let (z, a, out) = self.outputs_of(x, theta, mask);
        let r = out - y;
        let loss = 0.5 * r.norm_squared() / m + 0.5 * self.lambda * theta.norm_squared();
        if let Some(g) = g {
            let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
            let off = self.offsets();
            let (_, w2t) = self.weights_t(theta);
            // ∇W₂ (o × h, row-major) = Rᵀ A / m = (Aᵀ R / m) read column-major (h × o).
            let gw2 = a.tr_mul(&r) / m;
            g.as_mut_slice()[off.w2..off.w2 + o * h].copy_from_slice(gw2.as_slice());
            if let Some(b2) = off.b2 {
                for c in 0..o {
                    g[b2 + c] = r.column(c).sum() / m;
                }
            }
            // δ = (R W₂) ⊙ 1[Z > 0] (⊙ mask): the mask scales a, hence also ∂a/∂z.
            let mut delta = r * w2t.transpose();
            delta.zip_apply(&z, |dv, zv| {
                if zv <= 0.0 {
                    *dv = 0.0
                }
            });
            if let Some(mask) = mask {
                delta.component_mul_assign(mask);
            }
            let gw1 = x.tr_mul(&delta) / m;
            g.as_mut_slice()[off.w1..off.w1 + h * d].copy_from_slice(gw1.as_slice());
            if let Some(b1) = off.b1 {
                for j in 0..h {
                    g[b1 + j] = delta.column(j).sum() / m;
                }
            }
            g.axpy(self.lambda, theta, 1.0);
        }
        loss
    }

    /// The Jacobian of the outputs with respect to θ, one row per (example k, output c) in the
    /// order k·o + c (m·o × P), where the activation pattern is locally constant:
    /// $\partial H_c/\partial (W_2)_{cj} = a_j$, $\partial H_c/\partial (b_2)_c = 1$,
    /// $\partial H_c/\partial (W_1)_{ji} = (W_2)_{cj}\\,\mathbb 1_{z_j>0}\\,x_i$,
    /// $\partial H_c/\partial (b_1)_j = (W_2)_{cj}\\,\mathbb 1_{z_j>0}$.
    pub fn output_jacobian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        let m = self.x.nrows();
        let off = self.offsets();
        let (z, a, _) = self.outputs_of(&self.x, theta, None);
        let (_, w2t) = self.weights_t(theta);
        let mut jac = DMatrix::zeros(m * o, off.end);
        for k in 0..m {
            for c in 0..o {
                let row = k * o + c;
                for j in 0..h {
                    jac[(row, off.w2 + c * h + j)] = a[(k, j)];
                    if z[(k, j)] > 0.0 {
                        let w = w2t[(j, c)];
                        for i in 0..d {
                            jac[(row, off.w1 + j * d + i)] = w * self.x[(k, i)];
                        }
                        if let Some(b1) = off.b1 {
                            jac[(row, b1 + j)] = w;
                        }
                    }
                }
                if let Some(b2) = off.b2 {
                    jac[(row, b2 + c)] = 1.0;
                }
            }
        }
        jac
    }

    /// The Gauss–Newton matrix $G = \frac1m J^\top J$ of the data term (no λ): positive
    /// semi-definite everywhere, equal to the Hessian of the data term wherever the residuals
    /// vanish.
    pub fn gauss_newton(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let jac = self.output_jacobian(theta);
        jac.tr_mul(&jac) / self.x.nrows() as f64
    }

    /// The exact Hessian of $f$ where no pre-activation is 0 (the activation pattern is then
    /// locally constant and $f$ a polynomial of degree 4 in θ):
    /// $$\nabla^2 f = \frac1m\sum_k \Big(J_k^\top J_k + \sum_c r_{kc}\nabla^2 H_c(x_k)\Big) + \lambda I,$$
    /// where the only non-zero second derivatives of the outputs are the bilinear ones,
    /// $\partial^2 H_c/\partial (W_2)_{cj}\\,\partial (W_1)_{ji} = \mathbb 1_{z_j>0}\\,x_i$ (and $x_i \to 1$
    /// for $(b_1)_j$).
    pub fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        let m = self.x.nrows();
        let off = self.offsets();
        let mut hess = self.gauss_newton(theta);
        let (z, _, out) = self.outputs_of(&self.x, theta, None);
        let r = out - &self.y;
        let mf = m as f64;
        for k in 0..m {
            for j in 0..h {
                if z[(k, j)] <= 0.0 {
                    continue;
                }
                for c in 0..o {
                    let rc = r[(k, c)] / mf;
                    let p2 = off.w2 + c * h + j;
                    for i in 0..d {
                        let p1 = off.w1 + j * d + i;
                        let v = rc * self.x[(k, i)];
                        hess[(p1, p2)] += v;
                        hess[(p2, p1)] += v;
                    }
                    if let Some(b1) = off.b1 {
                        hess[(b1 + j, p2)] += rc;
                        hess[(p2, b1 + j)] += rc;
                    }
                }
            }
        }
        for p in 0..off.end {
            hess[(p, p)] += self.lambda;
        }
        hess
    }
}

impl Objective for Mlp {
    fn name(&self) -> String {
        "mlp".into()
    }
    fn dim(&self) -> usize {
        self.offsets().end
    }
    fn value(&self, theta: &DVector<f64>) -> f64 {
        self.loss_and_gradient(&self.x, &self.y, theta, None, None)
    }
    fn gradient_into(&self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        self.loss_and_gradient(&self.x, &self.y, theta, None, Some(g));
    }
}

impl FiniteSum for Mlp {
    fn num_examples(&self) -> usize {
        self.x.nrows()
    }
    fn example_value(&self, i: usize, theta: &DVector<f64>) -> f64 {
        self.loss_and_gradient(
            &self.x.rows(i, 1).into_owned(),
            &self.y.rows(i, 1).into_owned(),
            theta,
            None,
            None,
        )
    }
    fn example_gradient_into(&self, i: usize, theta: &DVector<f64>, g: &mut DVector<f64>) {
        self.loss_and_gradient(
            &self.x.rows(i, 1).into_owned(),
            &self.y.rows(i, 1).into_owned(),
            theta,
            None,
            Some(g),
        );
    }
}

/// Gradients of the network with inverted dropout on the hidden layer (see the module doc),
/// on the full data set or on mini-batches from a [`BatchSampler`].
pub struct DropoutOracle<'a> {
    mlp: &'a Mlp,
    drop_prob: f64,
    rng: ChaCha8Rng,
    sampler: Option<BatchSampler>,
}

impl<'a> DropoutOracle<'a> {
    /// Drop probability `drop_prob` ∈ [0, 1), masks from `seed`; full-batch gradients.
    pub fn new(mlp: &'a Mlp, drop_prob: f64, seed: u64) -> Result<Self, ProblemError> {
        check_range(
            "mlp dropout",
            "drop_prob",
            drop_prob,
            (0.0..1.0).contains(&drop_prob),
            "[0, 1)",
        )?;
        Ok(DropoutOracle {
            mlp,
            drop_prob,
            rng: ChaCha8Rng::seed_from_u64(seed),
            sampler: None,
        })
    }

    /// Use the mini-batches of `sampler` (over the network's examples) instead of all examples.
    pub fn with_batches(mut self, sampler: BatchSampler) -> Result<Self, ProblemError> {
        if sampler.num_examples() != self.mlp.num_examples() {
            return Err(ProblemError::Invalid {
                problem: "mlp dropout",
                reason: format!(
                    "sampler over {} examples for a data set of {}",
                    sampler.num_examples(),
                    self.mlp.num_examples()
                ),
            });
        }
        self.sampler = Some(sampler);
        Ok(self)
    }

    /// A fresh scaled mask ξ/(1−p) for `rows` examples.
    fn mask(&mut self, rows: usize) -> DMatrix<f64> {
        let keep = 1.0 - self.drop_prob;
        let rng = &mut self.rng;
        DMatrix::from_fn(rows, self.mlp.hidden, |_, _| {
            if rng.random::<f64>() < keep {
                1.0 / keep
            } else {
                0.0
            }
        })
    }
}

impl GradientOracle for DropoutOracle<'_> {
    fn dim(&self) -> usize {
        self.mlp.dim()
    }
    fn gradient_into(&mut self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        match self.sampler.as_mut() {
            None => {
                let mask = self.mask(self.mlp.x.nrows());
                self.mlp
                    .loss_and_gradient(&self.mlp.x, &self.mlp.y, theta, Some(&mask), Some(g));
            }
            Some(sampler) => {
                let rows = sampler.next_batch().to_vec();
                let x = self.mlp.x.select_rows(&rows);
                let y = self.mlp.y.select_rows(&rows);
                let mask = self.mask(rows.len());
                self.mlp.loss_and_gradient(&x, &y, theta, Some(&mask), Some(g));
            }
        }
    }
}

/// K-FAC's view of the network (Martens & Grosse 2015, §2): layer 1 maps
/// $\bar a_0 = (x, 1)$ to $z = W_1x + b_1$, layer 2 maps $\bar a_1 = (\operatorname{ReLU}(z), 1)$
/// to $H$ (no homogeneous coordinate without biases). The predictive distribution is
/// $y\sim\mathcal N(H(x), I)$, whose negative log-likelihood is the loss $\tfrac12\Vert H-y\Vert^2$
/// up to a constant: its output Fisher is $I$, and a sampled target $y = H + \xi$ gives the
/// output gradient $H - y = -\xi$, $\xi\sim\mathcal N(0, I)$ (drawn from `rng`).
impl KfacModel for Mlp {
    fn kfac_layers(&self) -> Vec<KfacLayer> {
        let (d, h, o) = (self.inputs(), self.hidden, self.outputs());
        vec![
            KfacLayer {
                weight: "w1".into(),
                bias: self.bias.then(|| "b1".into()),
                outputs: h,
                inputs: d,
            },
            KfacLayer {
                weight: "w2".into(),
                bias: self.bias.then(|| "b2".into()),
                outputs: o,
                inputs: h,
            },
        ]
    }

    fn kfac_layout(&self) -> Layout {
        self.layout()
    }

    fn kfac_statistics(
        &self,
        theta: &DVector<f64>,
        rows: &[usize],
        targets: FisherTargets,
        rng: &mut ChaCha8Rng,
    ) -> Vec<LayerStats> {
        let (h, o, n) = (self.hidden, self.outputs(), rows.len());
        let x = self.x.select_rows(rows);
        let (z, a, out) = self.outputs_of(&x, theta, None);
        // Rows of output gradients ∂(−log p)/∂H and the example each belongs to.
        let (r, owner): (DMatrix<f64>, Vec<usize>) = match targets {
            FisherTargets::Sampled => {
                let xi = DMatrix::from_fn(n, o, |_, _| {
                    let v: f64 = StandardNormal.sample(&mut *rng);
                    -v
                });
                (xi, (0..n).collect())
            }
            FisherTargets::Empirical => (out - self.y.select_rows(rows), (0..n).collect()),
            // E[(H − y)(H − y)ᵀ] = I = Σ_j e_j e_jᵀ: one row e_j per example and output.
            FisherTargets::Expected => (
                DMatrix::from_fn(n * o, o, |i, j| if i % o == j { 1.0 } else { 0.0 }),
                (0..n * o).map(|i| i / o).collect(),
            ),
        };
        let (_, w2t) = self.weights_t(theta);
        let mut delta = &r * w2t.transpose();
        for (i, &k) in owner.iter().enumerate() {
            for j in 0..h {
                if z[(k, j)] <= 0.0 {
                    delta[(i, j)] = 0.0;
                }
            }
        }
        let bar = |m: DMatrix<f64>| {
            if self.bias {
                let c = m.ncols();
                m.insert_column(c, 1.0)
            } else {
                m
            }
        };
        vec![
            LayerStats {
                activations: bar(x),
                preactivation_grads: delta,
                examples: n,
            },
            LayerStats {
                activations: bar(a),
                preactivation_grads: r,
                examples: n,
            },
        ]
    }

    fn batch_gradient(&self, theta: &DVector<f64>, rows: &[usize]) -> DVector<f64> {
        let mut g = DVector::zeros(self.dim());
        self.loss_and_gradient(
            &self.x.select_rows(rows),
            &self.y.select_rows(rows),
            theta,
            None,
            Some(&mut g),
        );
        g
    }

    fn output_jvp(&self, theta: &DVector<f64>, rows: &[usize], v: &DVector<f64>) -> DMatrix<f64> {
        // J v = V₂ ReLU(z) + W₂ (1[z > 0] ⊙ (V₁x + v_b₁)) + v_b₂.
        let x = self.x.select_rows(rows);
        let (z, a, _) = self.outputs_of(&x, theta, None);
        let off = self.offsets();
        let (v1t, v2t) = self.weights_t(v);
        let (_, w2t) = self.weights_t(theta);
        let mut dz = &x * v1t;
        if let Some(b1) = off.b1 {
            for j in 0..self.hidden {
                dz.column_mut(j).add_scalar_mut(v[b1 + j]);
            }
        }
        dz.zip_apply(&z, |dv, zv| {
            if zv <= 0.0 {
                *dv = 0.0
            }
        });
        let mut dout = &a * v2t + dz * w2t;
        if let Some(b2) = off.b2 {
            for c in 0..self.outputs() {
                dout.column_mut(c).add_scalar_mut(v[b2 + c]);
            }
        }
        dout
    }

    fn output_fisher(&self, _theta: &DVector<f64>, rows: &[usize]) -> Vec<DMatrix<f64>> {
        vec![DMatrix::identity(self.outputs(), self.outputs()); rows.len()]
    }
}

/// W₂ ReLU(W₁x + b₁) + b₂: the two-layer ReLU network of the lecture's rescaling argument,
/// evaluated directly (no layout).
pub fn two_layer(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    w2: &DMatrix<f64>,
    b2: &DVector<f64>,
    x: &DVector<f64>,
) -> DVector<f64> {
    let z = w1 * x + b1;
    w2 * z.map(|v| v.max(0.0)) + b2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::gamma;

    #[test]
    fn test_layout_matches_dim() {
        let p = Mlp::random_teacher(5, 3, 4, 2, true, 1).unwrap();
        assert_eq!(p.dim(), 4 * 3 + 4 + 2 * 4 + 2);
        assert_eq!(p.layout().dim(), p.dim());
        let layout = p.layout();
        let names: Vec<&str> = layout.blocks().iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["w1", "b1", "w2", "b2"]);
        let q = Mlp::random_teacher(5, 3, 4, 2, false, 1).unwrap();
        assert_eq!(q.dim(), 4 * 3 + 2 * 4);
    }

    #[test]
    fn test_pack_inverts_unpack() {
        for bias in [true, false] {
            let p = Mlp::random_teacher(3, 4, 5, 2, bias, 11).unwrap();
            let theta = p.init(2);
            let (w1, b1, w2, b2) = p.unpack(&theta);
            assert_eq!(w1.shape(), (5, 4));
            // Row-major: W₁[1][2] is entry 1·4 + 2.
            assert_eq!(w1[(1, 2)], theta[6]);
            assert_eq!(p.pack(&w1, &b1, &w2, &b2).unwrap(), theta);
        }
        let p = Mlp::random_teacher(3, 4, 5, 2, true, 11).unwrap();
        assert!(p
            .pack(
                &DMatrix::zeros(4, 5),
                &DVector::zeros(5),
                &DMatrix::zeros(2, 5),
                &DVector::zeros(2)
            )
            .is_err());
    }

    #[test]
    fn test_forward_hand_computed() {
        // d = 2, h = 2, o = 1. W₁ = [[1, −1], [2, 0]], b₁ = (0, −1), W₂ = [[3, −2]], b₂ = 0.5.
        // x = (1, 2): z = (−1, 1), a = (0, 1), H = −2 + 0.5 = −1.5.
        let x = DMatrix::from_row_slice(1, 2, &[1.0, 2.0]);
        let y = DMatrix::from_row_slice(1, 1, &[0.5]);
        let p = Mlp::new(x, y, 2, true, 0.0).unwrap();
        let theta = DVector::from_vec(vec![1.0, -1.0, 2.0, 0.0, 0.0, -1.0, 3.0, -2.0, 0.5]);
        let out = p.forward(&theta, &DVector::from_vec(vec![1.0, 2.0]));
        assert_eq!(out[0], -1.5);
        // f = ½(−1.5 − 0.5)² = 2; r = −2: ∇W₂ = r·a = (0, −2), ∇b₂ = −2,
        // δ = W₂ᵀr ⊙ 1[z>0] = (0, 4), ∇W₁ = δxᵀ = [[0, 0], [4, 8]], ∇b₁ = (0, 4).
        assert_eq!(p.value(&theta), 2.0);
        let g = p.gradient(&theta);
        assert_eq!(g.as_slice(), &[0.0, 0.0, 4.0, 8.0, 0.0, 4.0, 0.0, -2.0, -2.0]);
    }

    #[test]
    fn test_positive_homogeneity() {
        // Without biases c⁻¹W₂ReLU(cW₁x) = W₂ReLU(W₁x) for c > 0: scaling W₁ by c and W₂ by
        // 1/c leaves H unchanged (to the rounding of two extra multiplications per path).
        let p = Mlp::random_teacher(4, 3, 5, 2, false, 7).unwrap();
        let theta = p.init(3);
        let c = 7.5;
        let off = p.offsets();
        let mut scaled = theta.clone();
        for i in 0..off.end {
            scaled[i] *= if i < off.w2 { c } else { 1.0 / c };
        }
        let x = DVector::from_vec(vec![0.3, -1.2, 2.0]);
        let (h0, h1) = (p.forward(&theta, &x), p.forward(&scaled, &x));
        let scale = theta.amax() * theta.amax() * 5.0 * 3.0 * 2.0;
        assert!((&h0 - &h1).amax() <= gamma(3 + 5 + 4) * scale, "{h0} {h1}");
    }

    #[test]
    fn test_dropout_zero_is_exact_gradient_and_seeded() {
        let p = Mlp::random_teacher(6, 3, 4, 2, true, 2).unwrap();
        let theta = p.init(5) * 1.3;
        let mut o = DropoutOracle::new(&p, 0.0, 1).unwrap();
        let mut g = DVector::zeros(p.dim());
        o.gradient_into(&theta, &mut g);
        assert_eq!(g, p.gradient(&theta));
        // Same seed, same masks; p = 0.5 changes the gradient.
        let mut a = DropoutOracle::new(&p, 0.5, 9).unwrap();
        let mut b = DropoutOracle::new(&p, 0.5, 9).unwrap();
        let (mut ga, mut gb) = (DVector::zeros(p.dim()), DVector::zeros(p.dim()));
        a.gradient_into(&theta, &mut ga);
        b.gradient_into(&theta, &mut gb);
        assert_eq!(ga, gb);
        assert_ne!(ga, g);
        assert!(DropoutOracle::new(&p, 1.0, 0).is_err());
    }

    #[test]
    fn test_examples_average_to_objective() {
        let p = Mlp::new(
            DMatrix::from_fn(5, 2, |i, j| (i as f64 - 2.0) * 0.5 + j as f64),
            DMatrix::from_fn(5, 1, |i, _| i as f64),
            3,
            true,
            0.1,
        )
        .unwrap();
        let theta = p.init(4);
        let mean: f64 = (0..5).map(|k| p.example_value(k, &theta)).sum::<f64>() / 5.0;
        assert!((mean - p.value(&theta)).abs() <= gamma(40) * 4.0 * mean);
    }

    #[test]
    fn test_hessian_equals_five_point_differences_of_the_gradient() {
        // Away from the kinks f is a quartic polynomial in θ, so its gradient is cubic along any
        // line and the five-point stencil (g(−2t) − 8g(−t) + 8g(t) − g(2t))/(12t) is exact up to
        // rounding: ≈ 18u·max|g|/(12t) per entry.
        for bias in [false, true] {
            let p = Mlp::new(
                DMatrix::from_fn(7, 3, |i, j| ((i * 3 + j) as f64 * 0.77).sin()),
                DMatrix::from_fn(7, 2, |i, j| ((i + 2 * j) as f64 * 1.3).cos()),
                4,
                bias,
                0.05,
            )
            .unwrap();
            let theta = p.init(9) * 2.0;
            let t = 1e-4;
            // The stencil reaches θ ± 2t·e_q: no pre-activation may change sign (|x_i| ≤ 1).
            assert!(p.min_abs_preactivation(&theta) > 4.0 * t);
            let hess = p.hessian(&theta);
            let gmax = p.gradient(&theta).amax().max(hess.amax() * 4.0 * t);
            for q in 0..p.dim() {
                let e = |s: f64| {
                    let mut th = theta.clone();
                    th[q] += s * t;
                    p.gradient(&th)
                };
                let fd = (e(-2.0) - e(-1.0) * 8.0 + e(1.0) * 8.0 - e(2.0)) / (12.0 * t);
                // Rounding of the stencil: 18 gradients' worth of u·max|g| over 12t; ×100 slack
                // for the gradient's own rounding (a few dozen flops per entry).
                let tol = 100.0 * 18.0 * crate::prec::UNIT_ROUNDOFF * gmax / (12.0 * t);
                assert!((fd - hess.column(q)).amax() <= tol, "bias {bias}, column {q}");
            }
            assert_eq!(hess, hess.transpose());
        }
    }

    #[test]
    fn test_bad_input_rejected() {
        assert!(Mlp::new(DMatrix::zeros(2, 2), DMatrix::zeros(3, 1), 2, true, 0.0).is_err());
        assert!(Mlp::new(DMatrix::zeros(2, 2), DMatrix::zeros(2, 1), 0, true, 0.0).is_err());
        assert!(Mlp::new(DMatrix::zeros(2, 2), DMatrix::zeros(2, 1), 1, true, f64::NAN).is_err());
    }
}
