//! # Keras kernels: Keras 3 optimizers
//!
//! Transcriptions of `keras/src/optimizers/*.py` (`update_step`) in the dtype of the
//! variables: `m += (g − m)(1 − β₁)`, α_t = α√(1 − β₂ᵗ)/(1 − β₁ᵗ) (the ε-hat form), and so on.

use super::{Kernel, Real};
use crate::oracle::presets::Setting;

/// The kernel for `setting` as Keras computes it, or `None` if none transcribes it yet.
pub fn build<T: Real>(_setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    None
}
