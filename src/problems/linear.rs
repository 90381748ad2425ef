//! # One linear layer with squared loss (multi-output linear regression)
//!
//! $$f(\theta) = \frac1m\sum_{k=1}^m \tfrac12\Vert W x_k + b - y_k\Vert^2,\qquad
//!   \nabla_W f = \frac1m\sum_k r_k x_k^\top,\quad \nabla_b f = \frac1m\sum_k r_k,\quad r_k = Wx_k + b - y_k,$$
//! with $W\in\mathbb R^{o\times d}$ (row-major block `w`) and an optional bias $b$ (block `b`).
//! The predictive distribution is $y\sim\mathcal N(Wx + b, I)$, so the loss is its negative
//! log-likelihood up to a constant and the (true) Fisher equals the Gauss–Newton matrix, the
//! constant Hessian $\frac1m\sum_k J_k^\top J_k = I_o\otimes\bar A$ (row-major vec,
//! $\bar A = \frac1m\sum_k\bar x_k\bar x_k^\top$, $\bar x = (x, 1)$ with a bias). This is the
//! one model on which K-FAC's Kronecker factorisation is exact (Martens & Grosse 2015, §3:
//! $g = Wx + b - y$ is independent of $\bar x$ under the model).

use super::curvature::{FisherTargets, KfacLayer, KfacModel, LayerStats};
use super::{FiniteSum, Objective, ProblemError};
use crate::layout::Layout;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// One linear layer, squared loss (see the module doc).
#[derive(Debug, Clone)]
pub struct LinearNet {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
    bias: bool,
}

impl LinearNet {
    /// Inputs `x` (m × d), targets `y` (m × o).
    ///
    /// # Errors
    /// Empty or mismatched shapes, non-finite data.
    pub fn new(x: DMatrix<f64>, y: DMatrix<f64>, bias: bool) -> Result<Self, ProblemError> {
        if x.nrows() == 0 || x.ncols() == 0 || y.ncols() == 0 || x.nrows() != y.nrows() {
            return Err(ProblemError::Invalid {
                problem: "linear",
                reason: format!(
                    "X is {}x{}, Y is {}x{}; need equal row counts >= 1 and d, o >= 1",
                    x.nrows(),
                    x.ncols(),
                    y.nrows(),
                    y.ncols()
                ),
            });
        }
        for &v in x.iter().chain(y.iter()) {
            super::check_range("linear", "data entry", v, v.is_finite(), "finite")?;
        }
        Ok(LinearNet { x, y, bias })
    }

    /// Gaussian inputs (m × d) with per-column scales `1 + j` (so Ā is not a multiple of I)
    /// and Gaussian targets, all from `seed`.
    pub fn random(m: usize, d: usize, o: usize, bias: bool, seed: u64) -> Result<Self, ProblemError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = DMatrix::from_fn(m, d, |_, j| {
            let v: f64 = StandardNormal.sample(&mut rng);
            v * (1.0 + j as f64)
        });
        let y = DMatrix::from_fn(m, o, |_, _| StandardNormal.sample(&mut rng));
        Self::new(x, y, bias)
    }

    /// Parameter layout: `w` (o × d), then `b` (o × 1) if biased.
    pub fn layout(&self) -> Layout {
        let (d, o) = (self.x.ncols(), self.y.ncols());
        if self.bias {
            Layout::from_shapes([("w", o, d), ("b", o, 1)])
        } else {
            Layout::from_shapes([("w", o, d)])
        }
    }

    /// X̄ on `rows`: the inputs with a column of ones if biased.
    fn inputs_bar(&self, rows: &[usize]) -> DMatrix<f64> {
        let x = self.x.select_rows(rows);
        if self.bias {
            let c = x.ncols();
            x.insert_column(c, 1.0)
        } else {
            x
        }
    }

    /// W̄ = [W b] (o × d̄) from θ.
    fn weights(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let (d, o) = (self.x.ncols(), self.y.ncols());
        DMatrix::from_fn(o, d + usize::from(self.bias), |r, c| {
            if c < d {
                theta[r * d + c]
            } else {
                theta[o * d + r]
            }
        })
    }

    /// Residuals R = X̄W̄ᵀ − Y on `rows`.
    fn residuals(&self, theta: &DVector<f64>, rows: &[usize]) -> DMatrix<f64> {
        self.inputs_bar(rows) * self.weights(theta).transpose() - self.y.select_rows(rows)
    }

    /// The flat gradient from the o × d̄ matrix ∇W̄.
    fn flatten(&self, gw: &DMatrix<f64>) -> DVector<f64> {
        let (d, o) = (self.x.ncols(), self.y.ncols());
        let mut g = DVector::zeros(self.dim());
        for r in 0..o {
            for c in 0..d {
                g[r * d + c] = gw[(r, c)];
            }
            if self.bias {
                g[o * d + r] = gw[(r, d)];
            }
        }
        g
    }
}

impl Objective for LinearNet {
    fn name(&self) -> String {
        "linear".into()
    }
    fn dim(&self) -> usize {
        self.y.ncols() * (self.x.ncols() + usize::from(self.bias))
    }
    fn value(&self, theta: &DVector<f64>) -> f64 {
        let rows: Vec<usize> = (0..self.x.nrows()).collect();
        0.5 * self.residuals(theta, &rows).norm_squared() / rows.len() as f64
    }
    fn gradient_into(&self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        let rows: Vec<usize> = (0..self.x.nrows()).collect();
        g.copy_from(&self.batch_gradient(theta, &rows));
    }
}

impl FiniteSum for LinearNet {
    fn num_examples(&self) -> usize {
        self.x.nrows()
    }
    fn example_value(&self, i: usize, theta: &DVector<f64>) -> f64 {
        0.5 * self.residuals(theta, &[i]).norm_squared()
    }
    fn example_gradient_into(&self, i: usize, theta: &DVector<f64>, g: &mut DVector<f64>) {
        g.copy_from(&self.batch_gradient(theta, &[i]));
    }
}

/// K-FAC's view: one layer, ā = x̄, g = Wx̄ − y (sampled: −ξ, ξ ~ N(0, I); expected: the unit
/// vectors, E\[ggᵀ\] = I), output Fisher I.
impl KfacModel for LinearNet {
    fn kfac_layers(&self) -> Vec<KfacLayer> {
        vec![KfacLayer {
            weight: "w".into(),
            bias: self.bias.then(|| "b".into()),
            outputs: self.y.ncols(),
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
        let (n, o) = (rows.len(), self.y.ncols());
        let g = match targets {
            FisherTargets::Sampled => DMatrix::from_fn(n, o, |_, _| {
                let v: f64 = StandardNormal.sample(&mut *rng);
                -v
            }),
            FisherTargets::Empirical => self.residuals(theta, rows),
            FisherTargets::Expected => DMatrix::from_fn(n * o, o, |i, j| if i % o == j { 1.0 } else { 0.0 }),
        };
        vec![LayerStats {
            activations: self.inputs_bar(rows),
            preactivation_grads: g,
            examples: n,
        }]
    }

    fn batch_gradient(&self, theta: &DVector<f64>, rows: &[usize]) -> DVector<f64> {
        let gw = self.residuals(theta, rows).tr_mul(&self.inputs_bar(rows)) / rows.len() as f64;
        self.flatten(&gw)
    }

    fn output_jvp(&self, _theta: &DVector<f64>, rows: &[usize], v: &DVector<f64>) -> DMatrix<f64> {
        self.inputs_bar(rows) * self.weights(v).transpose()
    }

    fn output_fisher(&self, _theta: &DVector<f64>, rows: &[usize]) -> Vec<DMatrix<f64>> {
        vec![DMatrix::identity(self.y.ncols(), self.y.ncols()); rows.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::gamma;
    use crate::problems::finite_difference_gradient;

    #[test]
    fn test_gradient_matches_finite_differences_and_layout() {
        let p = LinearNet::random(7, 3, 2, true, 1).unwrap();
        assert_eq!(p.layout().dim(), p.dim());
        let theta = DVector::from_fn(p.dim(), |i, _| 0.1 * i as f64 - 0.3);
        let g = p.gradient(&theta);
        let fd = finite_difference_gradient(&p, &theta);
        assert!((&g - &fd).amax() <= 1e-6 * (1.0 + g.amax()));
        // The example values average to the objective.
        let mean: f64 = (0..7).map(|k| p.example_value(k, &theta)).sum::<f64>() / 7.0;
        assert!((mean - p.value(&theta)).abs() <= gamma(64) * mean);
    }
}
