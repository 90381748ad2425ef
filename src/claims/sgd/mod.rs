//! Checkers for mini-batches, weight decay and ReLU rescaling (claims.md 5–9), one file per
//! card.
//!
//! | card | file | claim |
//! |---|---|---|
//! | `minibatch-unbiased` | [`minibatch_unbiased`] | batch gradients are unbiased, epochs partition \[m\], without-replacement variance |
//! | `sgd-weight-decay-equals-l2` | [`sgd_weight_decay_equals_l2`] | (1−λ)θ − α∇L ≡ SGD on L + (λ′/2)‖θ‖², λ = αλ′ (L&H Prop. 1) |
//! | `sgd-momentum-weight-decay` | [`sgd_momentum_weight_decay`] | the equivalence does not survive momentum |
//! | `adam-weight-decay-not-l2` | [`adam_weight_decay_not_l2`] | Adam + L2 ≠ AdamW for every λ′ (L&H Prop. 2) |
//! | `relu-rescaling` | [`relu_rescaling`] | c⁻¹W₂ReLU(cW₁x) is independent of c — for c > 0 |
//! | `weight-decay-balances-layers` | [`weight_decay_balances_layers`] | min over c > 0 of λ(‖cW₁‖² + ‖c⁻¹W₂‖²) is at c² = ‖W₂‖/‖W₁‖ |
//! | `layer-conditioning-rescaling` | [`layer_conditioning_rescaling`] | Hessian blocks scale as c^{∓2} along the rescaling; κ⁺ ∝ c^{±4}, near-best at the weight-decay balance |
//! | `l1-sparsity-linf-equal` | [`l1_sparsity_linf_equal`] | ℓ¹ gives exact zeros, ℓ∞ equal magnitudes, ℓ² neither (penalised least squares) |

pub mod adam_weight_decay_not_l2;
pub mod l1_sparsity_linf_equal;
pub mod layer_conditioning_rescaling;
pub mod minibatch_unbiased;
pub mod relu_rescaling;
pub mod sgd_momentum_weight_decay;
pub mod sgd_weight_decay_equals_l2;
pub mod weight_decay_balances_layers;

use super::Checker;
use nalgebra::{DMatrix, DVector};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The checkers of this area, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        minibatch_unbiased::CHECKER,
        sgd_weight_decay_equals_l2::CHECKER,
        sgd_momentum_weight_decay::CHECKER,
        adam_weight_decay_not_l2::CHECKER,
        relu_rescaling::CHECKER,
        weight_decay_balances_layers::CHECKER,
        layer_conditioning_rescaling::CHECKER,
        l1_sparsity_linf_equal::CHECKER,
    ]
}

/// A standard normal vector.
fn normal_vec(rng: &mut ChaCha8Rng, n: usize) -> DVector<f64> {
    DVector::from_fn(n, |_, _| StandardNormal.sample(rng))
}

/// A standard normal matrix.
fn normal_mat(rng: &mut ChaCha8Rng, r: usize, c: usize) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |_, _| StandardNormal.sample(rng))
}
