//! # Nesterov's accelerated gradient
//!
//! The lecture's form (slide "Improved convergence rate: minimizing over larger subspaces"),
//! [`NesterovForm::LookAhead`]:
//! $$\hat\theta_k = \theta_k + \beta(\theta_k - \theta_{k-1}), \qquad
//!   \theta_{k+1} = \hat\theta_k - \alpha\\,\nabla L(\hat\theta_k), \qquad k = 0, 1, \dots,$$
//! with $\theta_{-1} = \theta_0$ unless given. The gradient is wanted at the look-ahead point
//! $\hat\theta_k$, which the optimizer reports through [`Optimizer::gradient_point`].
//!
//! [`NesterovForm::PyTorch`] stores the look-ahead points $y_k = \hat\theta_k$ as the
//! parameters and takes the gradient there (Sutskever et al. 2013 §2.1 reparametrised; what
//! `torch.optim.SGD(nesterov=True)` computes with a constant learning rate):
//! $$b_{k+1} = \beta b_k + \nabla L(y_k), \qquad y_{k+1} = y_k - \alpha\\,\big(\nabla L(y_k) +
//!   \beta b_{k+1}\big), \qquad b_0 = 0.$$
//! With $v_k = \theta_k - \theta_{k-1}$ one has $b_k = -v_k/\alpha$ and $y_k = \theta_k + \beta
//! v_k$, so both forms generate the same look-ahead sequence; [`pytorch_start`] converts a
//! lecture start $(\theta_0, \theta_{-1})$ into $(y_0, b_0)$.
//!
//! | symbol | field |
//! |---|---|
//! | α | `lr` (PyTorch `lr`) |
//! | β | `momentum` (PyTorch `momentum`) |
//! | form | `form` |
//! | θ₋₁ | `theta_prev` (look-ahead form only; `None`: θ₋₁ = θ₀) |
//! | b₀ | `initial_buffer` (PyTorch form only; `None`: b₀ = 0, i.e. PyTorch's b₁ = g₁) |
//!
//! ## Tuned parameters
//! For μ-strongly convex, L-smooth functions, Nesterov's constant step scheme III
//! ((2.2.22) in *Introductory Lectures*, 2004) is this method with
//! $$\alpha = \frac1L, \qquad \beta = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}
//!   = \frac{\sqrt L - \sqrt\mu}{\sqrt L + \sqrt\mu}, \qquad \kappa = L/\mu$$
//! ([`NesterovConfig::strongly_convex`]; the second expression is the one computed). Its
//! Theorem 2.2.3 bounds $f(\theta_k) - f^*$ by a constant times $(1 - 1/\sqrt\kappa)^k$.
//!
//! ## Conventions
//! * The lecture form is Nesterov's $(x_k, y_k)$ scheme with $x = \theta$, $y = \hat\theta$.
//! * PyTorch's form equals `SgdConfig::nesterov(α, β)` bit for bit (same operations). PyTorch
//!   multiplies the buffer by the learning rate, so with a *changing* learning rate it is no
//!   longer Sutskever's iteration; here α is constant.
//! * β = 0 is gradient descent with step α in both forms. PyTorch rejects `nesterov=True` with
//!   momentum 0; the algebra is fine, so it is allowed here.
//!
//! ## References
//! * Yu. Nesterov, *A method of solving a convex programming problem with convergence rate
//!   O(1/k²)*, Soviet Math. Dokl. 27, 1983.
//! * Yu. Nesterov, *Introductory Lectures on Convex Optimization*, Kluwer 2004, §2.2.1,
//!   constant step scheme III (2.2.22), Theorem 2.2.3 — <https://doi.org/10.1007/978-1-4419-8853-9>
//! * I. Sutskever, J. Martens, G. Dahl, G. Hinton, *On the importance of initialization and
//!   momentum in deep learning*, ICML 2013, §2.1, eqs. (3)–(4) —
//!   <https://proceedings.mlr.press/v28/sutskever13.html>
//! * PyTorch `torch/optim/sgd.py` (`_single_tensor_sgd`, `nesterov=True`).

use super::heavy_ball::check_mu_l;
use super::sweep::vectorised;
use super::{check_step_input, CatalogueEntry, Optimizer};
use crate::error::{check, HyperError, StepError};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

const NAME: &str = "nesterov";

/// Which parametrisation of Nesterov's method is stored and stepped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NesterovForm {
    /// The lecture's form: parameters θ_k, gradient at θ̂_k = θ_k + β(θ_k − θ_{k−1}).
    LookAhead,
    /// Sutskever/PyTorch form: parameters are the look-ahead points y_k, gradient at y_k.
    #[serde(alias = "sutskever")]
    PyTorch,
}

/// Hyperparameters of [`Nesterov`] (serde; validate with [`NesterovConfig::build`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NesterovConfig {
    /// Step α > 0.
    pub lr: f64,
    /// Momentum β ∈ [0, 1).
    pub momentum: f64,
    /// Look-ahead (lecture) or PyTorch form.
    pub form: NesterovForm,
    /// θ₋₁ for the look-ahead form; `None` means θ₋₁ = θ₀.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theta_prev: Option<Vec<f64>>,
    /// b₀ for the PyTorch form; `None` means b₀ = 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_buffer: Option<Vec<f64>>,
}

impl NesterovConfig {
    /// The lecture's look-ahead form with step α and momentum β, θ₋₁ = θ₀.
    pub fn look_ahead(lr: f64, momentum: f64) -> Self {
        Self {
            lr,
            momentum,
            form: NesterovForm::LookAhead,
            theta_prev: None,
            initial_buffer: None,
        }
    }

    /// The PyTorch form (`torch.optim.SGD(lr, momentum, nesterov=True)`), b₀ = 0.
    pub fn pytorch(lr: f64, momentum: f64) -> Self {
        Self {
            form: NesterovForm::PyTorch,
            ..Self::look_ahead(lr, momentum)
        }
    }

    /// Nesterov's constant step scheme III for Hessian spectrum in [μ, L]: α = 1/L,
    /// β = (√κ − 1)/(√κ + 1), look-ahead form.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] if μ or L is not positive and finite;
    /// [`HyperError::Incompatible`] if μ > L.
    pub fn strongly_convex(mu: f64, l: f64) -> Result<Self, HyperError> {
        check_mu_l(NAME, mu, l)?;
        let (sqrt_l, sqrt_mu) = (l.sqrt(), mu.sqrt());
        Ok(Self::look_ahead(1.0 / l, (sqrt_l - sqrt_mu) / (sqrt_l + sqrt_mu)))
    }

    /// The same method in the other form (initial conditions are dropped: convert them with
    /// [`pytorch_start`]).
    pub fn with_form(mut self, form: NesterovForm) -> Self {
        self.form = form;
        self.theta_prev = None;
        self.initial_buffer = None;
        self
    }

    /// Start the look-ahead form from a given θ₋₁.
    pub fn with_theta_prev(mut self, theta_prev: Vec<f64>) -> Self {
        self.theta_prev = Some(theta_prev);
        self
    }

    /// Start the PyTorch form from a given buffer b₀.
    pub fn with_initial_buffer(mut self, b0: Vec<f64>) -> Self {
        self.initial_buffer = Some(b0);
        self
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] naming the first invalid field; [`HyperError::Incompatible`]
    /// if an initial condition of one form is given to the other.
    pub fn validate(&self) -> Result<(), HyperError> {
        check::positive(NAME, "lr", self.lr)?;
        check::unit_interval(NAME, "momentum", self.momentum)?;
        for &v in self.theta_prev.iter().flatten() {
            check::finite(NAME, "theta_prev", v)?;
        }
        for &v in self.initial_buffer.iter().flatten() {
            check::finite(NAME, "initial_buffer", v)?;
        }
        match self.form {
            NesterovForm::PyTorch if self.theta_prev.is_some() => Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "theta_prev belongs to the look-ahead form; for the PyTorch form convert \
                         (theta_0, theta_-1) with nesterov::pytorch_start"
                    .into(),
            }),
            NesterovForm::LookAhead if self.initial_buffer.is_some() => Err(HyperError::Incompatible {
                optimizer: NAME,
                reason: "initial_buffer belongs to the PyTorch form; the look-ahead form takes \
                             theta_prev"
                    .into(),
            }),
            _ => Ok(()),
        }
    }

    /// Validate and build the optimizer (state is created on the first step).
    ///
    /// # Errors
    /// See [`NesterovConfig::validate`].
    pub fn build(self) -> Result<Nesterov, HyperError> {
        self.validate()?;
        Ok(Nesterov {
            config: self,
            state: None,
        })
    }
}

/// Convert a lecture-form start (θ₀, θ₋₁) into the PyTorch form's start (y₀, b₀):
/// y₀ = θ₀ + β(θ₀ − θ₋₁) = θ̂₀ and b₀ = (θ₋₁ − θ₀)/α.
pub fn pytorch_start(
    theta0: &DVector<f64>,
    theta_prev: &DVector<f64>,
    lr: f64,
    momentum: f64,
) -> (DVector<f64>, DVector<f64>) {
    let y0 = look_ahead_point(theta0, theta_prev, momentum);
    let b0 = theta_prev.zip_map(theta0, |p, t| (p - t) / lr);
    (y0, b0)
}

/// θ̂ = θ + β(θ − θ_prev), one expression shared by `gradient_point` and `step` so the point
/// the runner evaluates the gradient at is bit-identical to the one the step uses.
fn look_ahead_point(theta: &DVector<f64>, prev: &DVector<f64>, beta: f64) -> DVector<f64> {
    theta.zip_map(prev, |t, p| t + beta * (t - p))
}

/// State of [`Nesterov`], created on the first step.
#[derive(Debug, Clone)]
struct State {
    k: u64,
    /// Look-ahead form: θ_{k−1}. PyTorch form: the buffer b_k.
    memory: DVector<f64>,
    /// The point at which the last gradient was evaluated (θ̂_{k−1} or y_{k−1}).
    last_look_ahead: DVector<f64>,
}

/// Nesterov's accelerated gradient with validated hyperparameters and its state.
///
/// # Examples
/// The lecture's form wants the gradient at the look-ahead point θ̂ₖ = θₖ + β(θₖ − θₖ₋₁):
/// [`Optimizer::step_with`] evaluates it there. On f(θ) = ½θ² (∇f(θ) = θ) with α = 0.1,
/// β = 0.5 and θ₀ = 1: θ₁ = 1 − 0.1·1 = 0.9; θ̂₁ = 0.9 + 0.5·(0.9 − 1) = 0.85 and
/// θ₂ = 0.85 − 0.1·0.85 = 0.765. A gradient taken at θ₁ instead (0.85 − 0.1·0.9 = 0.76) is
/// another method, which [`Optimizer::step`] cannot detect.
/// ```
/// use optverify::prelude::*;
///
/// let mut nag = NesterovConfig::look_ahead(0.1, 0.5).build().unwrap();
/// let mut x = DVector::from_vec(vec![1.0]);
/// let mut grad = |p: &DVector<f64>| p.clone(); // ∇(½θ²) = θ
/// nag.step_with(&mut x, &mut grad).unwrap();
/// assert!((x[0] - 0.9).abs() < 1e-15);
/// nag.step_with(&mut x, &mut grad).unwrap();
/// assert!((x[0] - 0.765).abs() < 1e-15);
/// assert_eq!(nag.steps_taken(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Nesterov {
    config: NesterovConfig,
    state: Option<State>,
}

impl Nesterov {
    /// The hyperparameters.
    pub fn config(&self) -> &NesterovConfig {
        &self.config
    }

    /// The form.
    pub fn form(&self) -> NesterovForm {
        self.config.form
    }

    /// The look-ahead point at which the *next* gradient is evaluated, given the current
    /// parameters: θ̂_k = θ_k + β(θ_k − θ_{k−1}) in the look-ahead form, y_k = `x` itself in
    /// the PyTorch form. The sequence of these points is the same in both forms.
    pub fn next_look_ahead(&self, x: &DVector<f64>) -> DVector<f64> {
        match self.config.form {
            NesterovForm::PyTorch => x.clone(),
            NesterovForm::LookAhead => self.gradient_point(x).unwrap_or_else(|| x.clone()),
        }
    }

    /// The look-ahead point of the last step (where its gradient was evaluated); `None` before
    /// the first step.
    pub fn last_look_ahead(&self) -> Option<&DVector<f64>> {
        self.state.as_ref().map(|s| &s.last_look_ahead)
    }

    /// Look-ahead form: θ_{k−1}. `None` in the PyTorch form or before the first step.
    pub fn previous(&self) -> Option<&DVector<f64>> {
        match self.config.form {
            NesterovForm::LookAhead => self.state.as_ref().map(|s| &s.memory),
            NesterovForm::PyTorch => None,
        }
    }

    /// PyTorch form: the buffer b_k. `None` in the look-ahead form or before the first step.
    pub fn momentum_buffer(&self) -> Option<&DVector<f64>> {
        match self.config.form {
            NesterovForm::PyTorch => self.state.as_ref().map(|s| &s.memory),
            NesterovForm::LookAhead => None,
        }
    }

    /// Steps taken (k).
    pub fn k(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.k)
    }

    fn initial_memory(&self, x: &DVector<f64>) -> Result<DVector<f64>, StepError> {
        let given = match self.config.form {
            NesterovForm::LookAhead => self.config.theta_prev.as_ref().map(|p| ("theta_prev", p)),
            NesterovForm::PyTorch => self.config.initial_buffer.as_ref().map(|b| ("initial_buffer", b)),
        };
        match given {
            Some((what, v)) => {
                let v = DVector::from_column_slice(v);
                crate::error::step_check::len(what, &v, x.len())?;
                Ok(v)
            }
            None => Ok(match self.config.form {
                NesterovForm::LookAhead => x.clone(),
                NesterovForm::PyTorch => DVector::zeros(x.len()),
            }),
        }
    }
}

impl Optimizer for Nesterov {
    fn name(&self) -> &'static str {
        NAME
    }

    fn variant(&self) -> String {
        format!(
            "{} form, alpha {}, beta {}",
            match self.config.form {
                NesterovForm::LookAhead => "look-ahead (lecture)",
                NesterovForm::PyTorch => "PyTorch/Sutskever",
            },
            self.config.lr,
            self.config.momentum
        )
    }

    fn gradient_point(&self, x: &DVector<f64>) -> Option<DVector<f64>> {
        match self.config.form {
            NesterovForm::PyTorch => None,
            NesterovForm::LookAhead => match &self.state {
                Some(s) if s.memory.len() == x.len() => {
                    Some(look_ahead_point(x, &s.memory, self.config.momentum))
                }
                Some(_) => None,
                None => match self.initial_memory(x) {
                    Ok(prev) => Some(look_ahead_point(x, &prev, self.config.momentum)),
                    // A θ₋₁ of the wrong length: the step reports it.
                    Err(_) => None,
                },
            },
        }
    }

    fn step(&mut self, x: &mut DVector<f64>, g: &DVector<f64>) -> Result<(), StepError> {
        check_step_input(x, g, self.state.as_ref().map(|s| s.memory.len()))?;
        if self.state.is_none() {
            let memory = self.initial_memory(x)?;
            self.state = Some(State {
                k: 0,
                memory,
                last_look_ahead: DVector::zeros(x.len()),
            });
        }
        let (alpha, beta) = (self.config.lr, self.config.momentum);
        let state = self.state.as_mut().expect("state initialised above");
        match self.config.form {
            NesterovForm::LookAhead => {
                let hat = look_ahead_point(x, &state.memory, beta);
                state.memory.copy_from(x);
                for i in 0..x.len() {
                    x[i] = hat[i] - alpha * g[i];
                }
                state.last_look_ahead = hat;
            }
            NesterovForm::PyTorch => {
                let n = x.len();
                let (x, g) = (&mut x.as_mut_slice()[..n], &g.as_slice()[..n]);
                let b = &mut state.memory.as_mut_slice()[..n];
                let previous = &mut state.last_look_ahead.as_mut_slice()[..n];
                vectorised(
                    #[inline(always)]
                    || {
                        for i in 0..n {
                            previous[i] = x[i];
                            // b_{k+1} = β b_k + g_k; with b_0 = 0 this is PyTorch's b_1 = g_1
                            // exactly (β·0 + g = g).
                            b[i] = beta * b[i] + g[i];
                            x[i] -= alpha * (g[i] + beta * b[i]);
                        }
                    },
                );
            }
        }
        state.k += 1;
        Ok(())
    }

    fn steps_taken(&self) -> u64 {
        self.k()
    }
}

/// Catalogue entry for `optverify list`.
pub fn catalogue_entry() -> CatalogueEntry {
    CatalogueEntry {
        name: NAME,
        description: "Nesterov's accelerated gradient (Nesterov 1983; 2004 scheme (2.2.22)): the \
                      lecture's look-ahead form and the PyTorch/Sutskever form",
        variants: vec![
            "look-ahead: theta_hat = theta + beta (theta - theta_prev), theta = theta_hat - alpha grad(theta_hat)",
            "pytorch: b = beta b + g, y -= alpha (g + beta b), gradient at the stored y",
            "strongly-convex: alpha = 1/L, beta = (sqrt kappa - 1)/(sqrt kappa + 1)",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::UNIT_ROUNDOFF;

    const X0: [f64; 2] = [1.0, -2.0];

    /// ∇L(θ) = H θ with H = diag(1, 2): dyadic in, dyadic out.
    fn grad(x: &DVector<f64>) -> DVector<f64> {
        DVector::from_row_slice(&[x[0], 2.0 * x[1]])
    }

    /// Run closed-loop on the quadratic, evaluating the gradient where the optimizer asks.
    fn run(config: NesterovConfig, x0: &[f64], steps: usize) -> (Vec<DVector<f64>>, Vec<DVector<f64>>) {
        let mut opt = config.build().unwrap();
        let mut x = DVector::from_row_slice(x0);
        let (mut xs, mut points) = (vec![x.clone()], vec![]);
        for _ in 0..steps {
            let p = opt.gradient_point(&x).unwrap_or_else(|| x.clone());
            assert_eq!(p, opt.next_look_ahead(&x));
            opt.step(&mut x, &grad(&p)).unwrap();
            assert_eq!(opt.last_look_ahead(), Some(&p));
            points.push(p);
            xs.push(x.clone());
        }
        assert_eq!(opt.steps_taken(), steps as u64);
        (xs, points)
    }

    #[test]
    fn look_ahead_three_steps_exact() {
        // α = ½, β = ½ on ∇L = diag(1, 2)θ; dyadic inputs with few significant bits, so every
        // operation is exact and the exact rationals (Python `fractions`) are reproduced bit
        // for bit. θ̂₀ = θ₀; θ₁ = θ₀ − ½(1, −4) = (½, 0); θ̂₁ = θ₁ + ½(θ₁ − θ₀) = (¼, 1);
        // θ₂ = θ̂₁ − ½(¼, 2) = (⅛, 0); θ̂₂ = (−1/16, 0); θ₃ = (−1/32, 0).
        let (xs, points) = run(NesterovConfig::look_ahead(0.5, 0.5), &X0, 3);
        let expected_x = [[0.5, 0.0], [0.125, 0.0], [-0.03125, 0.0]];
        let expected_hat = [[1.0, -2.0], [0.25, 1.0], [-0.0625, 0.0]];
        for k in 0..3 {
            assert_eq!(xs[k + 1].as_slice(), &expected_x[k], "theta_{}", k + 1);
            assert_eq!(points[k].as_slice(), &expected_hat[k], "theta_hat_{k}");
        }
    }

    #[test]
    fn pytorch_form_three_steps_exact() {
        // Same problem and (α, β): y₀ = θ₀; b₁ = g(y₀) = (1, −4), y₁ = y₀ − ½(g + ½b₁) = (¼, 1);
        // b₂ = ½b₁ + g(y₁) = (¾, 0), y₂ = (−1/16, 0); b₃ = (5/16, 0), y₃ = (−7/64, 0).
        let (xs, _) = run(NesterovConfig::pytorch(0.5, 0.5), &X0, 3);
        // The stored parameters are the lecture's look-ahead points θ̂₁, θ̂₂, θ̂₃.
        let expected = [[0.25, 1.0], [-0.0625, 0.0], [-0.109375, 0.0]];
        for k in 0..3 {
            assert_eq!(xs[k + 1].as_slice(), &expected[k], "y_{}", k + 1);
        }
    }

    #[test]
    fn theta_prev_and_initial_buffer_start_the_same_sequence() {
        // θ₋₁ = (0, −1): θ̂₀ = θ₀ + ½(1, −1) = (1.5, −2.5); pytorch_start gives y₀ = θ̂₀ and
        // b₀ = (θ₋₁ − θ₀)/α = (−2, 2). Exact dyadic arithmetic throughout (see above).
        let prev = [0.0, -1.0];
        let (_, hats) = run(
            NesterovConfig::look_ahead(0.5, 0.5).with_theta_prev(prev.to_vec()),
            &X0,
            3,
        );
        assert_eq!(hats[0].as_slice(), &[1.5, -2.5]);
        let (y0, b0) = pytorch_start(
            &DVector::from_row_slice(&X0),
            &DVector::from_row_slice(&prev),
            0.5,
            0.5,
        );
        assert_eq!(b0.as_slice(), &[-2.0, 2.0]);
        let (ys, _) = run(
            NesterovConfig::pytorch(0.5, 0.5).with_initial_buffer(b0.as_slice().to_vec()),
            y0.as_slice(),
            3,
        );
        for k in 0..3 {
            assert_eq!(ys[k], hats[k], "look-ahead point {k}");
        }
    }

    #[test]
    fn strongly_convex_parameters() {
        // μ = 1, L = 25: α = 1/25, β = (5 − 1)/(5 + 1) = 2/3, each one rounding away (≤ u rel).
        let c = NesterovConfig::strongly_convex(1.0, 25.0).unwrap();
        assert!((c.lr - 1.0 / 25.0).abs() <= UNIT_ROUNDOFF / 25.0);
        assert!((c.momentum - 2.0 / 3.0).abs() <= UNIT_ROUNDOFF * 2.0 / 3.0);
        assert_eq!(c.form, NesterovForm::LookAhead);
        assert!(matches!(
            NesterovConfig::strongly_convex(3.0, 1.0),
            Err(HyperError::Incompatible { .. })
        ));
        assert!(matches!(
            NesterovConfig::strongly_convex(-1.0, 1.0),
            Err(HyperError::OutOfRange { field: "mu", .. })
        ));
    }

    #[test]
    fn validation_table() {
        for c in [
            NesterovConfig::look_ahead(0.1, 0.0),
            NesterovConfig::pytorch(0.1, 0.99),
            NesterovConfig::look_ahead(0.1, 0.5).with_theta_prev(vec![0.0]),
            NesterovConfig::pytorch(0.1, 0.5).with_initial_buffer(vec![0.0]),
        ] {
            assert!(c.clone().build().is_ok(), "{c:?}");
        }
        let bad = [
            (NesterovConfig::look_ahead(0.0, 0.5), "lr"),
            (NesterovConfig::look_ahead(f64::NAN, 0.5), "lr"),
            (NesterovConfig::pytorch(-0.1, 0.5), "lr"),
            (NesterovConfig::look_ahead(0.1, 1.0), "momentum"),
            (NesterovConfig::pytorch(0.1, f64::NAN), "momentum"),
            (NesterovConfig::pytorch(0.1, -0.1), "momentum"),
            (
                NesterovConfig::look_ahead(0.1, 0.5).with_theta_prev(vec![f64::NAN]),
                "theta_prev",
            ),
            (
                NesterovConfig::pytorch(0.1, 0.5).with_initial_buffer(vec![f64::INFINITY]),
                "initial_buffer",
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
            NesterovConfig::pytorch(0.1, 0.5).with_theta_prev(vec![0.0]),
            NesterovConfig::look_ahead(0.1, 0.5).with_initial_buffer(vec![0.0]),
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
        for form in [NesterovForm::LookAhead, NesterovForm::PyTorch] {
            let mut opt = NesterovConfig::look_ahead(0.5, 0.5)
                .with_form(form)
                .build()
                .unwrap();
            let mut x = DVector::from_row_slice(&X0);
            assert!(matches!(
                opt.step(&mut x, &DVector::from_row_slice(&[1.0])),
                Err(StepError::DimensionMismatch { .. })
            ));
            assert!(matches!(
                opt.step(&mut x, &DVector::from_row_slice(&[0.0, f64::NAN])),
                Err(StepError::NonFinite { index: 1, .. })
            ));
            assert_eq!((opt.steps_taken(), x.as_slice()), (0, &X0[..]));
        }
        // θ₋₁ of the wrong length: no gradient point is offered and the step reports it.
        let mut opt = NesterovConfig::look_ahead(0.5, 0.5)
            .with_theta_prev(vec![0.0; 3])
            .build()
            .unwrap();
        let mut x = DVector::from_row_slice(&X0);
        assert_eq!(opt.gradient_point(&x), None);
        assert!(matches!(
            opt.step(&mut x, &DVector::from_row_slice(&[1.0, 1.0])),
            Err(StepError::DimensionMismatch {
                what: "theta_prev",
                ..
            })
        ));
        assert_eq!(x.as_slice(), &X0);
    }
}
