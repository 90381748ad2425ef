//! # Reports
//!
//! What the command line prints and what `reports/` holds, from the [`Evidence`] of every
//! claim:
//!
//! | module | what |
//! |---|---|
//! | [`commands`] | the `verify`, `report` and `list` drivers and their exit status |
//! | [`record`] | the JSON records (`results.json`, `verify --json`) |
//! | [`shard`] | `--shard i/n` and `merge`: one sweep split over machines |
//! | [`markdown`] | the index `README.md` and one page per claim |
//! | [`svg`] | the figures (plotters, SVG backend) |
//! | [`thin`] | long lines reduced to their min–max envelope for figures and JSON |
//! | [`write`](mod@write) | writing the report directory |
//! | [`list`](mod@list) | the catalogue printed by `list` |
//! | [`format`](mod@format) | numbers, verdict markers, Markdown escaping |
//! | [`progress`] | the progress bar (terminal only) |
//!
//! Every file of a report is a pure function of the [`record::Results`]: no timestamps, no
//! timings, numbers printed one way, claims in registry order. Same seeds, same bytes.
//!
//! [`Evidence`]: crate::claims::Evidence

pub mod commands;
pub mod format;
pub mod list;
pub mod markdown;
pub mod progress;
pub mod record;
pub mod shard;
pub mod svg;
pub mod thin;
pub mod write;

pub use commands::{list, merge, report, verify, RunOptions, Status};
pub use record::Results;
pub use write::write_report;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
