//! # optverify
//!
//! Reference implementations of the optimizers of a lecture on training deep networks
//! (Oxford *Theories of Deep Learning*, lecture 8), executable checks of the lecture's claims
//! about them, convergence reports, and an oracle for checking other implementations.
//!
//! ## Module map
//! | module | what |
//! |---|---|
//! | [`layout`] | named blocks of the flat parameter vector, shared by optimizers, problems and traces |
//! | [`optim`] | one file per optimizer, the [`optim::Optimizer`] trait, conventions, schedules, the runner |
//! | [`problems`] | objectives with exact gradients and stochastic oracles; the vendored digits data |
//! | [`theory`] | closed forms: rates, bounds, iteration-matrix spectral radii |
//! | [`claims`] | theorem cards (`theorems/*.md`), one checker per card, evidence and verdicts |
//! | [`report`] | Markdown, SVG and JSON writers for `reports/` |
//! | [`cli`] | the `optverify` command line's arguments and their valid ranges |
//! | [`oracle`] | trace format, reference runs, replay and comparison of other implementations |
//! | [`prec`] | named tolerances and the rounding arguments behind them |
//! | [`error`] | typed errors for bad input |
//! | [`prelude`] | `use optverify::prelude::*`: the `Optimizer` trait, every optimizer and its config, conventions, `Layout`, `DVector` |
//!
//! Data flows one way: `theorems/` → `claims` (runs `optim` on `problems`, compares with
//! `theory`) → `Evidence` → `report`. The oracle reuses `optim` and `problems` only. Module
//! dependencies form no cycle: `layout` depends on nothing of the crate but `error`;
//! `problems` depends on `layout` (never on `optim`); `optim` depends on `layout` and on the
//! interfaces `problems` exposes (the runner's gradient oracles, K-FAC's curvature model).

pub mod claims;
pub mod cli;
pub mod error;
pub mod layout;
pub mod optim;
pub mod oracle;
pub mod prec;
pub mod prelude;
pub mod problems;
pub mod report;
pub mod theory;

/// Crate version, written into trace headers and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
