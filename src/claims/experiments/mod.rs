//! Checkers of the experiment cards (kind `experiment`): the lecture's figures and dynamic
//! statements reproduced on the vendored UCI digits (1797 8×8 images; MNIST and CIFAR-10
//! cannot be downloaded on these machines, so every page says what is scaled down).

pub mod adagrad_norm_b0_accuracy;
pub mod weight_decay_balancing_dynamics;

use super::Checker;

/// The checkers of this area, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        adagrad_norm_b0_accuracy::CHECKER,
        weight_decay_balancing_dynamics::CHECKER,
    ]
}
