//! # optax kernels: optax on XLA:CPU, eager
//!
//! Transcriptions of optax's gradient transformations (`optax/_src/transform.py`,
//! `alias.py`) in the dtype of the parameters, in the order of the chain
//! (`scale_by_… → add_decayed_weights → scale_by_learning_rate`), with XLA's rewrites
//! (e.g. `x / √(v + ε)` → `x · rsqrt(v + ε)`) where they decide the last bit.

use super::{Kernel, Real};
use crate::oracle::presets::Setting;

/// The kernel for `setting` as optax computes it, or `None` if none transcribes it yet.
pub fn build<T: Real>(_setting: &Setting) -> Option<Box<dyn Kernel<T>>> {
    None
}
