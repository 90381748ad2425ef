//! Checkers of the experiment cards (kind `experiment`): the lecture's figures and dynamic
//! statements reproduced on the vendored UCI digits (1797 8×8 images; MNIST and CIFAR-10
//! cannot be downloaded on these machines, so every page says what is scaled down).

pub mod adagrad_norm_b0_accuracy;
pub mod adam_vs_adaptive_digits;
pub mod adamw_vs_l2_grid;
pub mod full_gradient_cost;
pub mod weight_decay_balancing_dynamics;

use super::{other, CheckError, Checker};
use crate::problems::data::{digits, DIGITS_CLASSES};
use crate::problems::logistic::Multinomial;
use crate::problems::mlp::Mlp;
use crate::problems::stochastic::batch_gradient_into;
use crate::problems::{FiniteSum, Objective};
use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The checkers of this area, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        adagrad_norm_b0_accuracy::CHECKER,
        adam_vs_adaptive_digits::CHECKER,
        adamw_vs_l2_grid::CHECKER,
        weight_decay_balancing_dynamics::CHECKER,
        full_gradient_cost::CHECKER,
    ]
}

/// Test examples held out of the 1797 digits (a seeded 80/20 split).
pub const TEST_FRACTION: f64 = 0.2;
/// The split's seed, fixed so every run sees the same train and test sets.
pub const SPLIT_SEED: u64 = 2026;

/// The seeded 80/20 split of the 1797 digits: (training indices, test indices), each in the
/// order of the shuffle (seed [`SPLIT_SEED`]). Every experiment card uses this split.
///
/// # Errors
/// The vendored data cannot be read.
pub fn split() -> Result<(Vec<usize>, Vec<usize>), CheckError> {
    let d = digits().map_err(|e| CheckError::Other(e.to_string()))?;
    let mut idx: Vec<usize> = (0..d.len()).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(SPLIT_SEED));
    let n_test = (d.len() as f64 * TEST_FRACTION).round() as usize;
    let train = idx.split_off(n_test);
    Ok((train, idx))
}

/// Multinomial logistic regression (with bias) on the digits `rows` (indices into the 1797
/// examples), L2 coefficient `lambda`.
///
/// # Errors
/// The vendored data cannot be read, or `rows` is empty.
pub fn logistic_on(rows: &[usize], lambda: f64) -> Result<Multinomial, CheckError> {
    let d = digits().map_err(other)?;
    let labels = rows.iter().map(|&i| usize::from(d.labels[i])).collect();
    Multinomial::new(d.features.select_rows(rows), labels, DIGITS_CLASSES, true, lambda).map_err(other)
}

/// The 64-`hidden`-10 ReLU network (biases, squared loss on one-hot targets) on the digits
/// `rows` (indices into the 1797 examples), L2 coefficient `lambda`.
///
/// # Errors
/// The vendored data cannot be read, or `rows` is empty.
pub fn mlp_on(rows: &[usize], hidden: usize, lambda: f64) -> Result<Mlp, CheckError> {
    let d = digits().map_err(other)?;
    let onehot = DMatrix::from_fn(rows.len(), DIGITS_CLASSES, |k, c| {
        f64::from(u8::from(usize::from(d.labels[rows[k]]) == c))
    });
    Mlp::new(d.features.select_rows(rows), onehot, hidden, true, lambda).map_err(other)
}

/// PyTorch's `nn.Linear` initialisation of a single layer with `fan_in` inputs: every one of
/// the `dim` parameters uniform on [−1/√fan_in, 1/√fan_in], from `seed`.
pub fn linear_init(dim: usize, fan_in: usize, seed: u64) -> DVector<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bound = 1.0 / (fan_in as f64).sqrt();
    DVector::from_fn(dim, |_, _| {
        bound * (2.0 * rand::RngExt::random::<f64>(&mut rng) - 1.0)
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Model {
    Logistic,
    TwoLayer,
}

/// The train and test problems of one model.
pub enum Problems {
    Logistic(Multinomial, Multinomial),
    TwoLayer(Mlp, Mlp),
}

impl Problems {
    pub fn new(model: Model, hidden: usize) -> Result<Self, CheckError> {
        let (train, test) = split()?;
        Ok(match model {
            Model::Logistic => Problems::Logistic(logistic_on(&train, 0.0)?, logistic_on(&test, 0.0)?),
            Model::TwoLayer => Problems::TwoLayer(mlp_on(&train, hidden, 0.0)?, mlp_on(&test, hidden, 0.0)?),
        })
    }

    pub fn num_examples(&self) -> usize {
        match self {
            Problems::Logistic(t, _) => t.num_examples(),
            Problems::TwoLayer(t, _) => t.num_examples(),
        }
    }

    /// The mean gradient of the training examples `rows` (all of them for `None`) at θ.
    ///
    /// # Errors
    /// An empty batch (the sub-network cannot be built).
    pub fn batch_gradient(
        &self,
        rows: Option<&[usize]>,
        theta: &DVector<f64>,
        scratch: &mut DVector<f64>,
        g: &mut DVector<f64>,
    ) -> Result<(), CheckError> {
        match (self, rows) {
            (Problems::Logistic(t, _), None) => t.gradient_into(theta, g),
            (Problems::Logistic(t, _), Some(rows)) => batch_gradient_into(t, rows, theta, scratch, g),
            (Problems::TwoLayer(t, _), None) => t.gradient_into(theta, g),
            // The network's batched (matrix) backpropagation on the selected rows: the same
            // mean of per-example gradients, an order of magnitude faster than a loop over them.
            (Problems::TwoLayer(t, _), Some(rows)) => Mlp::new(
                t.inputs_matrix().select_rows(rows),
                t.targets().select_rows(rows),
                t.hidden(),
                true,
                0.0,
            )
            .map_err(|e| CheckError::Other(e.to_string()))?
            .gradient_into(theta, g),
        }
        Ok(())
    }

    /// Initial parameters from `seed` (PyTorch's `nn.Linear` initialisation).
    pub fn init(&self, seed: u64) -> DVector<f64> {
        match self {
            // PyTorch's nn.Linear initialisation for the logistic layer too.
            Problems::Logistic(t, _) => linear_init(t.dim(), t.features().ncols(), seed),
            Problems::TwoLayer(t, _) => t.init(seed),
        }
    }

    /// Test accuracy (0 for non-finite parameters: a diverged run classifies nothing).
    pub fn test_accuracy(&self, theta: &DVector<f64>) -> f64 {
        if !theta.iter().all(|v| v.is_finite()) {
            return 0.0;
        }
        match self {
            Problems::Logistic(_, test) => test.accuracy(theta),
            Problems::TwoLayer(_, test) => {
                let out = test.forward_all(theta);
                let y = test.targets();
                let correct = (0..out.nrows())
                    .filter(|&k| out.row(k).transpose().argmax().0 == y.row(k).transpose().argmax().0)
                    .count();
                correct as f64 / out.nrows() as f64
            }
        }
    }
}
