//! Machinery shared by several checkers (no checker lives here).
//!
//! * [`stats`]: Student-t intervals and pointwise bands over independent replicates, OLS
//!   slopes — what every statistical card uses to turn seeds into a verdict.

pub mod stats;
