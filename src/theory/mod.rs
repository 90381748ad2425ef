//! # Closed forms
//!
//! Rates, bounds and spectral radii of iteration matrices, computed from formulas, never from
//! runs: the `claims` compare runs against these.
pub mod weight_decay;
