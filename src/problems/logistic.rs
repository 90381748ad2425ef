//! # Logistic regression (binary and multinomial)
//!
//! Data $X\in\mathbb R^{m\times d}$ (one example $x_k$ per row), optional bias, optional L2
//! term $\tfrac\lambda2\Vert\theta\Vert^2$ on **all** parameters, bias included (as PyTorch's
//! `weight_decay` does unless biases are put in their own group; it keeps $\mu = \lambda$).
//! Write $\tilde x_k = (x_k, 1)$ with a bias and $\tilde x_k = x_k$ without, and
//! $\tilde X$ for the matrix of rows $\tilde x_k$.
//!
//! ## Binary ([`BinaryLogistic`]), labels $y_k \in \\{0, 1\\}$
//! $$f(\theta) = \frac1m\sum_{k=1}^m \Big[\log(1 + e^{z_k}) - y_k z_k\Big] + \frac\lambda2\Vert\theta\Vert^2,
//!   \qquad z_k = \theta^\top \tilde x_k,$$
//! $$\nabla f(\theta) = \frac1m\sum_k (\sigma(z_k) - y_k)\\,\tilde x_k + \lambda\theta.$$
//! (With labels $s_k = 2y_k - 1 \in\\{\pm1\\}$ this is $m^{-1}\sum_k\log(1+e^{-s_k z_k})$.)
//! $\log(1+e^z)$ is computed as $\max(z, 0) + \operatorname{log1p}(e^{-|z|})$ and $\sigma$ by
//! the branch that never exponentiates a positive number, so nothing overflows.
//!
//! ## Multinomial ([`Multinomial`]), $C$ classes, labels $y_k\in\\{0..C-1\\}$
//! Parameters: $W\in\mathbb R^{C\times d}$ row-major, then $b\in\mathbb R^C$ if biased
//! (a [`Layout`] with blocks `w` ($C\times d$) and `b` ($C\times 1$)).
//! $$f(\theta) = \frac1m\sum_k\Big[\operatorname{lse}(z_k) - z_{k,y_k}\Big] + \frac\lambda2\Vert\theta\Vert^2,
//!   \quad z_k = W x_k + b,\quad \operatorname{lse}(z) = \max_c z_c + \log\sum_c e^{z_c - \max z},$$
//! $$\nabla_{W} f = \frac1m\sum_k (p_k - e_{y_k})\\,x_k^\top + \lambda W,\quad
//!   \nabla_b f = \frac1m\sum_k (p_k - e_{y_k}) + \lambda b,\quad p_k = \operatorname{softmax}(z_k).$$
//!
//! ## Constants (bounds, not exact values)
//! | | $\mu$ | $L$ |
//! |---|---|---|
//! | binary | $\lambda$ | $\Vert\tilde X\Vert_2^2/(4m) + \lambda$ |
//! | multinomial | $\lambda$ | $\Vert\tilde X\Vert_2^2/(2m) + \lambda$ |
//!
//! *Binary.* $\nabla^2 f = m^{-1}\tilde X^\top D\tilde X + \lambda I$ with
//! $D = \operatorname{diag}(\sigma(z_k)(1-\sigma(z_k)))$, $0 \preceq D \preceq \tfrac14 I$, so
//! $\lambda I \preceq \nabla^2 f \preceq (\tfrac{1}{4m}\Vert\tilde X\Vert_2^2 + \lambda) I$.
//!
//! *Multinomial.* Per example, the Hessian of the loss in the row-major vector of
//! $(W, b)$ is $S_k\otimes \tilde x_k\tilde x_k^\top$ with $S_k = \operatorname{diag}(p_k) - p_kp_k^\top$.
//! For $v\in\mathbb R^C$, $v^\top S_k v = \operatorname{Var}_{c\sim p_k}(v_c) \le
//! \tfrac14(\max_c v_c - \min_c v_c)^2 \le \tfrac14\cdot 2(v_{\max}^2 + v_{\min}^2) \le \tfrac12\Vert v\Vert^2$
//! (Popoviciu; the two extremes are distinct coordinates unless the variance is 0), so
//! $0 \preceq S_k\preceq\tfrac12 I$. Kronecker products of PSD matrices preserve $\preceq$, so
//! $\sum_k S_k\otimes\tilde x_k\tilde x_k^\top \preceq \tfrac12 I\otimes\tilde X^\top\tilde X$, whose
//! largest eigenvalue is $\tfrac12\Vert\tilde X\Vert_2^2$. (Böhning 1992 has the sharper
//! $S_k\preceq\tfrac12(I - \mathbf 1\mathbf 1^\top/C)$.) Lower bound: $S_k \succeq 0$.
//! $\Vert\tilde X\Vert_2^2 = \lambda_{\max}(\tilde X^\top\tilde X)$ is computed by nalgebra's symmetric
//! eigensolver. No minimiser is known in closed form.
//!
//! As a [`FiniteSum`], $f_k = \ell_k + \tfrac\lambda2\Vert\theta\Vert^2$ (each example carries the
//! whole regulariser).
//!
//! ## References
//! 1. D. Böhning, *Multinomial logistic regression algorithm*, Ann. Inst. Stat. Math. 44 (1992),
//!    <https://doi.org/10.1007/BF00048682> (the Hessian bound).
//! 2. T. Popoviciu (1935): $\operatorname{Var} X \le (\sup X - \inf X)^2/4$.

use super::curvature::{FisherTargets, KfacLayer, KfacModel, LayerStats};
use super::data::{digits, Digits, DIGITS_CLASSES};
use super::{check_range, Constants, FiniteSum, Objective, ProblemError};
use crate::layout::Layout;
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// $\log(1+e^z)$ without overflow.
pub fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// $\sigma(z) = 1/(1+e^{-z})$ without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// $\operatorname{lse}(z) = \log\sum_c e^{z_c}$, shifted by the maximum.
pub fn log_sum_exp(z: &[f64]) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + z.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
}

/// Largest eigenvalue of $\tilde X^\top\tilde X$ (X with a column of ones appended if `bias`).
fn squared_spectral_norm(x: &DMatrix<f64>, bias: bool) -> f64 {
    let xt = augmented(x, bias);
    SymmetricEigen::new(xt.tr_mul(&xt)).eigenvalues.max().max(0.0)
}

fn augmented(x: &DMatrix<f64>, bias: bool) -> DMatrix<f64> {
    if bias {
        x.clone().insert_column(x.ncols(), 1.0)
    } else {
        x.clone()
    }
}

fn check_data(
    problem: &'static str,
    x: &DMatrix<f64>,
    m_labels: usize,
    lambda: f64,
) -> Result<(), ProblemError> {
    if x.nrows() == 0 || x.ncols() == 0 || x.nrows() != m_labels {
        return Err(ProblemError::Invalid {
            problem,
            reason: format!(
                "X is {}x{} with {m_labels} labels; need m, d >= 1 and one label per row",
                x.nrows(),
                x.ncols()
            ),
        });
    }
    for &v in x.iter() {
        check_range(problem, "feature", v, v.is_finite(), "finite")?;
    }
    check_range(
        problem,
        "lambda",
        lambda,
        lambda.is_finite() && lambda >= 0.0,
        "[0, inf), finite",
    )
}

/// Which digits make the two classes of a binary task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryTask {
    /// Digit `negative` (label 0) against digit `positive` (label 1); other rows are dropped.
    Pair { negative: u8, positive: u8 },
    /// All rows: even digits (label 0) against odd digits (label 1).
    EvenOdd,
}

/// Binary logistic regression, labels in {0, 1} (see the module doc).
#[derive(Debug, Clone)]
pub struct BinaryLogistic {
    x: DMatrix<f64>,
    y: Vec<f64>,
    bias: bool,
    lambda: f64,
    l_bound: f64,
}

impl BinaryLogistic {
    /// From features (m × d) and labels in {0, 1}.
    ///
    /// # Errors
    /// Shape mismatch, non-finite features, a label other than 0 or 1, λ < 0.
    pub fn new(x: DMatrix<f64>, labels: Vec<f64>, bias: bool, lambda: f64) -> Result<Self, ProblemError> {
        check_data("logistic", &x, labels.len(), lambda)?;
        for &y in &labels {
            check_range("logistic", "label", y, y == 0.0 || y == 1.0, "{0, 1}")?;
        }
        let l_bound = squared_spectral_norm(&x, bias) / (4.0 * x.nrows() as f64) + lambda;
        Ok(BinaryLogistic {
            x,
            y: labels,
            bias,
            lambda,
            l_bound,
        })
    }

    /// Gaussian features (m × d) and labels drawn from a logistic teacher with N(0, I)
    /// weights, all from `seed`.
    pub fn random(m: usize, d: usize, bias: bool, lambda: f64, seed: u64) -> Result<Self, ProblemError> {
        use rand::RngExt;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = DMatrix::from_fn(m, d, |_, _| StandardNormal.sample(&mut rng));
        let w = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
        let z: DVector<f64> = &x * w;
        let labels = z
            .iter()
            .map(|&z| {
                if rng.random::<f64>() < sigmoid(z) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        Self::new(x, labels, bias, lambda)
    }

    /// A binary task on the vendored digits (features in [0, 1]).
    pub fn digits(task: BinaryTask, bias: bool, lambda: f64) -> Result<Self, ProblemError> {
        let all = digits()?;
        let (data, positive): (Digits, Box<dyn Fn(u8) -> bool>) = match task {
            BinaryTask::Pair { negative, positive } => {
                if negative == positive || usize::from(negative.max(positive)) >= DIGITS_CLASSES {
                    return Err(ProblemError::Invalid {
                        problem: "logistic",
                        reason: format!(
                            "digit pair ({negative}, {positive}) must be two different digits 0..=9"
                        ),
                    });
                }
                (
                    all.filter(|l| l == negative || l == positive),
                    Box::new(move |l| l == positive),
                )
            }
            BinaryTask::EvenOdd => (all.clone(), Box::new(|l| l % 2 == 1)),
        };
        let labels = data
            .labels
            .iter()
            .map(|&l| if positive(l) { 1.0 } else { 0.0 })
            .collect();
        Self::new(data.features, labels, bias, lambda)
    }

    /// Parameter layout: `w` (d × 1) then `b` (1 × 1) if biased.
    pub fn layout(&self) -> Layout {
        let d = self.x.ncols();
        if self.bias {
            Layout::from_shapes([("w", d, 1), ("b", 1, 1)])
        } else {
            Layout::from_shapes([("w", d, 1)])
        }
    }

    fn logit(&self, k: usize, theta: &DVector<f64>) -> f64 {
        let d = self.x.ncols();
        let mut z = if self.bias { theta[d] } else { 0.0 };
        for j in 0..d {
            z += self.x[(k, j)] * theta[j];
        }
        z
    }

    fn logits(&self, theta: &DVector<f64>) -> DVector<f64> {
        let d = self.x.ncols();
        let mut z = &self.x * theta.rows(0, d);
        if self.bias {
            z.add_scalar_mut(theta[d]);
        }
        z
    }

    /// Features X (m × d).
    pub fn features(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// Labels in {0, 1}.
    pub fn labels(&self) -> &[f64] {
        &self.y
    }
    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// Whether the model has a bias (the last parameter).
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// Fraction of examples with (z ≥ 0) == (y = 1).
    pub fn accuracy(&self, theta: &DVector<f64>) -> f64 {
        let z = self.logits(theta);
        let correct = z
            .iter()
            .zip(&self.y)
            .filter(|(&z, &y)| (z >= 0.0) == (y == 1.0))
            .count();
        correct as f64 / self.y.len() as f64
    }
}

impl Objective for BinaryLogistic {
    fn name(&self) -> String {
        "logistic".into()
    }
    fn dim(&self) -> usize {
        self.x.ncols() + usize::from(self.bias)
    }
    fn value(&self, theta: &DVector<f64>) -> f64 {
        let z = self.logits(theta);
        let loss: f64 = z.iter().zip(&self.y).map(|(&z, &y)| softplus(z) - y * z).sum();
        loss / self.y.len() as f64 + 0.5 * self.lambda * theta.norm_squared()
    }
    fn gradient_into(&self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        let d = self.x.ncols();
        let m = self.y.len() as f64;
        let z = self.logits(theta);
        let r = DVector::from_iterator(z.len(), z.iter().zip(&self.y).map(|(&z, &y)| sigmoid(z) - y));
        g.rows_mut(0, d).gemv_tr(1.0 / m, &self.x, &r, 0.0);
        if self.bias {
            g[d] = r.sum() / m;
        }
        g.axpy(self.lambda, theta, 1.0);
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: Some(self.lambda),
            l: Some(self.l_bound),
            minimizer: None,
            f_star: None,
        }
    }
}

impl FiniteSum for BinaryLogistic {
    fn num_examples(&self) -> usize {
        self.y.len()
    }
    fn example_value(&self, i: usize, theta: &DVector<f64>) -> f64 {
        let z = self.logit(i, theta);
        softplus(z) - self.y[i] * z + 0.5 * self.lambda * theta.norm_squared()
    }
    fn example_gradient_into(&self, i: usize, theta: &DVector<f64>, g: &mut DVector<f64>) {
        let d = self.x.ncols();
        let r = sigmoid(self.logit(i, theta)) - self.y[i];
        for j in 0..d {
            g[j] = r * self.x[(i, j)] + self.lambda * theta[j];
        }
        if self.bias {
            g[d] = r + self.lambda * theta[d];
        }
    }
}

/// Multinomial (softmax) logistic regression, C classes (see the module doc).
#[derive(Debug, Clone)]
pub struct Multinomial {
    x: DMatrix<f64>,
    labels: Vec<usize>,
    classes: usize,
    bias: bool,
    lambda: f64,
    l_bound: f64,
}

impl Multinomial {
    /// From features (m × d) and labels in 0..classes.
    ///
    /// # Errors
    /// Shape mismatch, non-finite features, classes < 2, a label ≥ classes, λ < 0.
    pub fn new(
        x: DMatrix<f64>,
        labels: Vec<usize>,
        classes: usize,
        bias: bool,
        lambda: f64,
    ) -> Result<Self, ProblemError> {
        check_data("multinomial", &x, labels.len(), lambda)?;
        check_range(
            "multinomial",
            "classes",
            classes as f64,
            classes >= 2,
            "classes >= 2",
        )?;
        for &y in &labels {
            check_range("multinomial", "label", y as f64, y < classes, "0..classes")?;
        }
        let l_bound = squared_spectral_norm(&x, bias) / (2.0 * x.nrows() as f64) + lambda;
        Ok(Multinomial {
            x,
            labels,
            classes,
            bias,
            lambda,
            l_bound,
        })
    }

    /// Gaussian features, labels = argmax of a Gaussian teacher's logits plus Gumbel noise
    /// (i.e. sampled from its softmax), all from `seed`.
    pub fn random(
        m: usize,
        d: usize,
        classes: usize,
        bias: bool,
        lambda: f64,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        use rand::RngExt;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = DMatrix::from_fn(m, d, |_, _| StandardNormal.sample(&mut rng));
        let w = DMatrix::from_fn(classes, d, |_, _| StandardNormal.sample(&mut rng));
        let z: DMatrix<f64> = &x * w.transpose();
        let labels = (0..m)
            .map(|k| {
                (0..classes)
                    .map(|c| z[(k, c)] - (-(rng.random::<f64>().max(f64::MIN_POSITIVE)).ln()).ln())
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |best, (c, v)| if v > best.1 { (c, v) } else { best },
                    )
                    .0
            })
            .collect();
        Self::new(x, labels, classes, bias, lambda)
    }

    /// All ten classes of the vendored digits (features in [0, 1]).
    pub fn digits(bias: bool, lambda: f64) -> Result<Self, ProblemError> {
        let d = digits()?;
        let labels = d.labels.iter().map(|&l| usize::from(l)).collect();
        Self::new(d.features.clone(), labels, DIGITS_CLASSES, bias, lambda)
    }

    /// Parameter layout: `w` (C × d, row-major) then `b` (C × 1) if biased.
    pub fn layout(&self) -> Layout {
        let (c, d) = (self.classes, self.x.ncols());
        if self.bias {
            Layout::from_shapes([("w", c, d), ("b", c, 1)])
        } else {
            Layout::from_shapes([("w", c, d)])
        }
    }

    /// Number of classes C.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// Features X (m × d).
    pub fn features(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// Labels in 0..C.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// Whether the model has biases (the last C parameters).
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// Logits Z (m × C): Z = X Wᵀ + 1 bᵀ. W row-major (C × d) is Wᵀ column-major (d × C).
    fn logits(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.logits_of(&self.x, theta)
    }

    /// Logits of the rows of `x` (any number of examples with this model's d features).
    fn logits_of(&self, x: &DMatrix<f64>, theta: &DVector<f64>) -> DMatrix<f64> {
        let (c, d) = (self.classes, self.x.ncols());
        let wt = DMatrix::from_column_slice(d, c, &theta.as_slice()[..c * d]);
        let mut z = x * wt;
        if self.bias {
            for cls in 0..c {
                z.column_mut(cls).add_scalar_mut(theta[c * d + cls]);
            }
        }
        z
    }

    fn example_logits(&self, k: usize, theta: &DVector<f64>) -> Vec<f64> {
        let (c, d) = (self.classes, self.x.ncols());
        (0..c)
            .map(|cls| {
                let mut z = if self.bias { theta[c * d + cls] } else { 0.0 };
                for j in 0..d {
                    z += theta[cls * d + j] * self.x[(k, j)];
                }
                z
            })
            .collect()
    }

    /// softmax(z) − e_y, in place.
    fn residual(z: &mut [f64], y: usize) {
        let lse = log_sum_exp(z);
        for v in z.iter_mut() {
            *v = (*v - lse).exp();
        }
        z[y] -= 1.0;
    }

    /// The mean gradient (regulariser included) over the training examples `rows`, computed
    /// with matrix products like the full gradient (a mini-batch gradient; the same value as
    /// the mean of the example gradients up to rounding).
    pub fn batch_gradient_into(&self, rows: &[usize], theta: &DVector<f64>, g: &mut DVector<f64>) {
        let labels: Vec<usize> = rows.iter().map(|&k| self.labels[k]).collect();
        self.rows_gradient_into(&self.x.select_rows(rows), &labels, theta, g);
    }

    /// The mean gradient over the examples (`x`, `labels`), plus λθ.
    fn rows_gradient_into(
        &self,
        x: &DMatrix<f64>,
        labels: &[usize],
        theta: &DVector<f64>,
        g: &mut DVector<f64>,
    ) {
        let (c, d) = (self.classes, self.x.ncols());
        let m = labels.len() as f64;
        let mut r = self.logits_of(x, theta);
        let mut row = vec![0.0; c];
        for k in 0..r.nrows() {
            for cls in 0..c {
                row[cls] = r[(k, cls)];
            }
            Self::residual(&mut row, labels[k]);
            for cls in 0..c {
                r[(k, cls)] = row[cls];
            }
        }
        // ∇_W (C × d, row-major) = (Rᵀ X)/m, i.e. Xᵀ R / m (d × C) read column-major.
        let gw = x.tr_mul(&r) / m;
        g.as_mut_slice()[..c * d].copy_from_slice(gw.as_slice());
        if self.bias {
            for cls in 0..c {
                g[c * d + cls] = r.column(cls).sum() / m;
            }
        }
        g.axpy(self.lambda, theta, 1.0);
    }

    /// Fraction of examples whose largest logit is the label's.
    pub fn accuracy(&self, theta: &DVector<f64>) -> f64 {
        let z = self.logits(theta);
        let correct = (0..z.nrows())
            .filter(|&k| z.row(k).transpose().argmax().0 == self.labels[k])
            .count();
        correct as f64 / self.labels.len() as f64
    }
}

impl Objective for Multinomial {
    fn name(&self) -> String {
        "multinomial".into()
    }
    fn dim(&self) -> usize {
        self.classes * (self.x.ncols() + usize::from(self.bias))
    }
    fn value(&self, theta: &DVector<f64>) -> f64 {
        let z = self.logits(theta);
        let mut loss = 0.0;
        let mut row = vec![0.0; self.classes];
        for k in 0..z.nrows() {
            for c in 0..self.classes {
                row[c] = z[(k, c)];
            }
            loss += log_sum_exp(&row) - row[self.labels[k]];
        }
        loss / self.labels.len() as f64 + 0.5 * self.lambda * theta.norm_squared()
    }
    fn gradient_into(&self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        self.rows_gradient_into(&self.x, &self.labels, theta, g);
    }
    fn constants(&self) -> Constants {
        Constants {
            mu: Some(self.lambda),
            l: Some(self.l_bound),
            minimizer: None,
            f_star: None,
        }
    }
}

impl FiniteSum for Multinomial {
    fn num_examples(&self) -> usize {
        self.labels.len()
    }
    fn example_value(&self, i: usize, theta: &DVector<f64>) -> f64 {
        let z = self.example_logits(i, theta);
        log_sum_exp(&z) - z[self.labels[i]] + 0.5 * self.lambda * theta.norm_squared()
    }
    fn example_gradient_into(&self, i: usize, theta: &DVector<f64>, g: &mut DVector<f64>) {
        let (c, d) = (self.classes, self.x.ncols());
        let mut r = self.example_logits(i, theta);
        Self::residual(&mut r, self.labels[i]);
        for cls in 0..c {
            for j in 0..d {
                g[cls * d + j] = r[cls] * self.x[(i, j)];
            }
            if self.bias {
                g[c * d + cls] = r[cls];
            }
        }
        g.axpy(self.lambda, theta, 1.0);
    }
}

/// Exact (‖∇F(θ)‖², E‖g − ∇F(θ)‖²) of a size-B i.i.d. mini-batch
/// ([`super::stochastic::IidBatchOracle`]) of binary logistic regression. Example i's
/// gradient is r_i x̃_i + λθ (r_i = σ(z_i) − y_i), so the deviations from the mean are
/// r_i x̃_i − ḡ with ḡ = m⁻¹Σ r_i x̃_i (λθ cancels) and σ²_pop = m⁻¹Σ r_i²‖x̃_i‖² − ‖ḡ‖²;
/// `sq_norms[i]` = ‖x̃_i‖². One pass over the data (2md flops), like one full gradient.
pub fn logistic_moments(
    p: &BinaryLogistic,
    sq_norms: &[f64],
    batch_size: usize,
    theta: &DVector<f64>,
) -> (f64, f64) {
    let x = p.features();
    let (m, d) = (x.nrows(), x.ncols());
    let mut z = x * theta.rows(0, d);
    if p.has_bias() {
        z.add_scalar_mut(theta[d]);
    }
    let r = DVector::from_iterator(m, z.iter().zip(p.labels()).map(|(&z, &y)| sigmoid(z) - y));
    let mut loss_grad = DVector::zeros(theta.len());
    loss_grad.rows_mut(0, d).gemv_tr(1.0 / m as f64, x, &r, 0.0);
    if p.has_bias() {
        loss_grad[d] = r.sum() / m as f64;
    }
    let mean_sq = r.iter().zip(sq_norms).map(|(r, s)| r * r * s).sum::<f64>() / m as f64;
    let pop = (mean_sq - loss_grad.norm_squared()).max(0.0);
    let grad_sq = (loss_grad + p.lambda() * theta).norm_squared();
    let var = super::stochastic::without_replacement_variance(pop, m, batch_size).unwrap_or(f64::NAN);
    (grad_sq, var)
}

/// $\tilde X$ restricted to `rows`: the features with a column of ones if biased (K-FAC's
/// $\bar a$, Martens & Grosse 2015 §2).
fn augmented_rows(x: &DMatrix<f64>, rows: &[usize], bias: bool) -> DMatrix<f64> {
    augmented(&x.select_rows(rows), bias)
}

/// K-FAC's view of binary logistic regression: one layer $z = w^\top x + b$ (the `w` block,
/// stored d × 1, is the 1 × d row-major weight), predictive distribution
/// $y\sim\text{Bernoulli}(\sigma(z))$, output Fisher $\sigma(1-\sigma)$; a target gives
/// $g = \sigma(z) - y$.
impl KfacModel for BinaryLogistic {
    fn kfac_layers(&self) -> Vec<KfacLayer> {
        vec![KfacLayer {
            weight: "w".into(),
            bias: self.bias.then(|| "b".into()),
            outputs: 1,
            inputs: self.x.ncols(),
        }]
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
        use rand::RngExt;
        let grads = rows.iter().map(|&k| {
            let p = sigmoid(self.logit(k, theta));
            match targets {
                FisherTargets::Sampled => p - if rng.random::<f64>() < p { 1.0 } else { 0.0 },
                FisherTargets::Empirical => p - self.y[k],
                FisherTargets::Expected => (p * (1.0 - p)).sqrt(),
            }
        });
        vec![LayerStats {
            activations: augmented_rows(&self.x, rows, self.bias),
            preactivation_grads: DMatrix::from_iterator(rows.len(), 1, grads),
            examples: rows.len(),
        }]
    }

    fn batch_gradient(&self, theta: &DVector<f64>, rows: &[usize]) -> DVector<f64> {
        let xt = augmented_rows(&self.x, rows, self.bias);
        let r = DVector::from_iterator(
            rows.len(),
            rows.iter().map(|&k| sigmoid(self.logit(k, theta)) - self.y[k]),
        );
        let mut g = xt.tr_mul(&r) / rows.len() as f64;
        g.axpy(self.lambda, theta, 1.0);
        g
    }

    fn output_jvp(&self, _theta: &DVector<f64>, rows: &[usize], v: &DVector<f64>) -> DMatrix<f64> {
        let jv = augmented_rows(&self.x, rows, self.bias) * v;
        DMatrix::from_column_slice(rows.len(), 1, jv.as_slice())
    }

    fn output_fisher(&self, theta: &DVector<f64>, rows: &[usize]) -> Vec<DMatrix<f64>> {
        rows.iter()
            .map(|&k| {
                let p = sigmoid(self.logit(k, theta));
                DMatrix::from_element(1, 1, p * (1.0 - p))
            })
            .collect()
    }
}

impl Multinomial {
    /// softmax(z_k) for example k.
    fn probabilities(&self, k: usize, theta: &DVector<f64>) -> Vec<f64> {
        let mut z = self.example_logits(k, theta);
        let lse = log_sum_exp(&z);
        for v in z.iter_mut() {
            *v = (*v - lse).exp();
        }
        z
    }
}

/// K-FAC's view of multinomial logistic regression: one layer $z = Wx + b$, predictive
/// distribution $y\sim\text{Categorical}(p)$, $p = \operatorname{softmax}(z)$, output Fisher
/// $S = \operatorname{diag}(p) - pp^\top$; a target gives $g = p - e_y$. For
/// [`FisherTargets::Expected`], $S = LL^\top$ with $L = \operatorname{diag}(\sqrt p) -
/// p\sqrt p^\top$ (check: $LL^\top = \operatorname{diag}(p) - 2pp^\top + pp^\top\sum_c p_c$), and
/// each example contributes the C columns of $L$.
impl KfacModel for Multinomial {
    fn kfac_layers(&self) -> Vec<KfacLayer> {
        vec![KfacLayer {
            weight: "w".into(),
            bias: self.bias.then(|| "b".into()),
            outputs: self.classes,
            inputs: self.x.ncols(),
        }]
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
        use rand::RngExt;
        let c = self.classes;
        let mut g: Vec<f64> = Vec::new();
        let mut count = 0;
        for &k in rows {
            let p = self.probabilities(k, theta);
            let mut push = |row: Vec<f64>| {
                g.extend(row);
                count += 1;
            };
            match targets {
                FisherTargets::Sampled | FisherTargets::Empirical => {
                    let y = if targets == FisherTargets::Empirical {
                        self.labels[k]
                    } else {
                        // Inverse CDF; the last class takes any rounding remainder.
                        let u = rng.random::<f64>();
                        let mut acc = 0.0;
                        (0..c)
                            .find(|&cls| {
                                acc += p[cls];
                                u < acc
                            })
                            .unwrap_or(c - 1)
                    };
                    let mut row = p.clone();
                    row[y] -= 1.0;
                    push(row);
                }
                FisherTargets::Expected => {
                    for j in 0..c {
                        let s = p[j].sqrt();
                        push((0..c).map(|i| if i == j { s } else { 0.0 } - p[i] * s).collect());
                    }
                }
            }
        }
        vec![LayerStats {
            activations: augmented_rows(&self.x, rows, self.bias),
            preactivation_grads: DMatrix::from_row_slice(count, c, &g),
            examples: rows.len(),
        }]
    }

    fn batch_gradient(&self, theta: &DVector<f64>, rows: &[usize]) -> DVector<f64> {
        let mut g = DVector::zeros(self.dim());
        let mut e = DVector::zeros(self.dim());
        for &k in rows {
            self.example_gradient_into(k, theta, &mut e);
            g += &e;
        }
        g / rows.len() as f64
    }

    fn output_jvp(&self, _theta: &DVector<f64>, rows: &[usize], v: &DVector<f64>) -> DMatrix<f64> {
        // J v = V x + v_b: the logits of the parameters v.
        let (c, d) = (self.classes, self.x.ncols());
        DMatrix::from_fn(rows.len(), c, |r, cls| {
            let k = rows[r];
            let mut z = if self.bias { v[c * d + cls] } else { 0.0 };
            for j in 0..d {
                z += v[cls * d + j] * self.x[(k, j)];
            }
            z
        })
    }

    fn output_fisher(&self, theta: &DVector<f64>, rows: &[usize]) -> Vec<DMatrix<f64>> {
        rows.iter()
            .map(|&k| {
                let p = DVector::from_vec(self.probabilities(k, theta));
                DMatrix::from_diagonal(&p) - &p * p.transpose()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::{gamma, UNIT_ROUNDOFF};

    #[test]
    fn test_stable_primitives_do_not_overflow() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert_eq!(softplus(-1000.0), 0.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(softplus(0.0), std::f64::consts::LN_2);
        assert_eq!(log_sum_exp(&[1000.0, 1000.0]), 1000.0 + std::f64::consts::LN_2);
        // σ(z) + σ(−z) = 1 to rounding.
        for z in [-30.0, -1.5, 0.3, 7.0] {
            assert!((sigmoid(z) + sigmoid(-z) - 1.0).abs() <= 4.0 * UNIT_ROUNDOFF);
        }
    }

    #[test]
    fn test_binary_equals_two_class_multinomial_with_zero_first_row() {
        // With W = (0; w), softmax over (0, wᵀx) is (1−σ, σ): the two losses coincide.
        let b = BinaryLogistic::random(20, 3, true, 0.1, 4).unwrap();
        let labels: Vec<usize> = b.y.iter().map(|&y| y as usize).collect();
        let mn = Multinomial::new(b.x.clone(), labels, 2, true, 0.1).unwrap();
        let theta = DVector::from_vec(vec![0.3, -0.7, 1.1, 0.2]);
        // Multinomial layout: w (2×3) row-major, then b (2).
        let tm = DVector::from_vec(vec![0.0, 0.0, 0.0, 0.3, -0.7, 1.1, 0.0, 0.2]);
        // Same regulariser (the zero row adds nothing); the losses agree to rounding of
        // ~d + C terms per example.
        let (fb, fm) = (b.value(&theta), mn.value(&tm));
        assert!((fb - fm).abs() <= gamma(40) * 4.0 * fb, "{fb} vs {fm}");
    }

    #[test]
    fn test_l_bound_dominates_hessian_quotient() {
        // Along random directions v, (vᵀ∇f(θ+tv) − vᵀ∇f(θ))/t ≤ L‖v‖² for a small t.
        let mn = Multinomial::random(30, 4, 3, true, 0.01, 5).unwrap();
        let l = mn.constants().l.unwrap();
        let theta = DVector::from_fn(mn.dim(), |i, _| (i as f64 * 0.37).sin());
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let t = 1.0 / 1024.0;
        // Rounding slack: each gradient entry is a mean of m terms |r||x| ≤ max|x| (|r| ≤ 1)
        // plus λθ, so its error is ≤ γ_{m+C+d}(max|x| + λ‖θ‖_∞); two gradients, projected on v
        // and divided by t‖v‖², give the bound below. The exact quotient is the mean of
        // vᵀ∇²f v/‖v‖² on the segment, hence in [μ, L].
        let max_x = mn.x.amax();
        let entry_err = gamma(30 + 3 + 4) * (max_x + 0.01 * theta.amax());
        for _ in 0..20 {
            let v = DVector::from_fn(mn.dim(), |_, _| StandardNormal.sample(&mut rng));
            let slack = 2.0 * entry_err * v.lp_norm(1) / (t * v.norm_squared());
            let q = v.dot(&(mn.gradient(&(&theta + &v * t)) - mn.gradient(&theta))) / (t * v.norm_squared());
            assert!(q <= l + slack, "{q} > {l}");
            assert!(q >= mn.constants().mu.unwrap() - slack);
        }
    }

    #[test]
    fn test_batch_gradient_is_the_mean_of_example_gradients() {
        let mn = Multinomial::random(30, 4, 3, true, 0.01, 5).unwrap();
        let theta = DVector::from_fn(mn.dim(), |i, _| (i as f64 * 0.37).sin());
        // All rows in order: the same matrix products as the full gradient, bit for bit.
        let all: Vec<usize> = (0..30).collect();
        let mut g = DVector::zeros(mn.dim());
        mn.batch_gradient_into(&all, &theta, &mut g);
        assert_eq!(g, mn.gradient(&theta));
        // A batch: the mean of its example gradients, to the rounding of sums of ≤ d + C + B
        // terms of size ≤ max|x| + λ‖θ‖_∞.
        let rows = [3, 17, 4, 29, 11];
        mn.batch_gradient_into(&rows, &theta, &mut g);
        let mut mean = DVector::zeros(mn.dim());
        let mut gi = DVector::zeros(mn.dim());
        for &k in &rows {
            mn.example_gradient_into(k, &theta, &mut gi);
            mean += &gi / rows.len() as f64;
        }
        let tol = gamma(4 + 3 + 5) * 4.0 * (mn.x.amax() + 0.01 * theta.amax());
        assert!((&g - &mean).amax() <= tol, "{}", (&g - &mean).amax());
    }

    #[test]
    fn test_digits_tasks() {
        let p = BinaryLogistic::digits(
            BinaryTask::Pair {
                negative: 0,
                positive: 1,
            },
            true,
            0.0,
        )
        .unwrap();
        // 178 zeros and 182 ones in the UCI test set.
        assert_eq!(p.num_examples(), 360);
        assert_eq!(p.dim(), 65);
        assert_eq!(p.layout().dim(), 65);
        let eo = BinaryLogistic::digits(BinaryTask::EvenOdd, false, 0.0).unwrap();
        assert_eq!(eo.num_examples(), 1797);
        let mn = Multinomial::digits(true, 1e-3).unwrap();
        assert_eq!(mn.dim(), 650);
        assert_eq!(mn.layout().dim(), 650);
        // At θ = 0 every class has probability 1/10: f = ln 10 exactly up to rounding.
        let f0 = mn.value(&DVector::zeros(650));
        assert!((f0 - 10f64.ln()).abs() <= gamma(1797 + 20) * f0);
        assert!(BinaryLogistic::digits(
            BinaryTask::Pair {
                negative: 3,
                positive: 3
            },
            true,
            0.0
        )
        .is_err());
    }

    #[test]
    fn test_bad_input_rejected() {
        let x = DMatrix::zeros(2, 2);
        assert!(BinaryLogistic::new(x.clone(), vec![0.0, 2.0], false, 0.0).is_err());
        assert!(BinaryLogistic::new(x.clone(), vec![0.0], false, 0.0).is_err());
        assert!(BinaryLogistic::new(x.clone(), vec![0.0, 1.0], false, -1.0).is_err());
        assert!(Multinomial::new(x.clone(), vec![0, 3], 3, false, 0.0).is_err());
        assert!(Multinomial::new(x, vec![0, 0], 1, false, 0.0).is_err());
    }
}
