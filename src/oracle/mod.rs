//! # Oracle
//!
//! Reference trajectories and step-by-step comparison of other implementations' traces.

pub mod cli;
pub mod compare;
pub mod format;
pub mod presets;
