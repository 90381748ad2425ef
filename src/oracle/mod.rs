//! # Oracle
//!
//! Reference trajectories and step-by-step comparison of other implementations' traces.

pub mod format;
pub mod presets;
