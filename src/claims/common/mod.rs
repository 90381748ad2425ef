//! Machinery shared by several checkers (no checker lives here).
//!
//! * [`stats`]: Student-t intervals and pointwise bands over independent replicates, OLS
//!   slopes — what every statistical card uses to turn seeds into a verdict.
//! * [`golden`]: traces recorded from the real frameworks (PyTorch, optax, Keras) with their
//!   default hyperparameters, embedded in the binary, and a per-step replay of a written-out
//!   update rule against them — evidence independent of `optim`.
//! * [`trajectory`]: an optimizer run on a gradient map, distances between trajectories.

pub mod golden;
pub mod stats;
pub mod trajectory;
