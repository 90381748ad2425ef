//! Progress for long runs: a bar on a terminal, nothing in CI or when stderr is piped.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Whether to show progress: stderr is a terminal and the `CI` variable is unset.
pub fn wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A bar of `len` claims, drawn on stderr when [`wanted`], hidden otherwise.
pub fn claims_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len as u64),
        if wanted() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} claims [{elapsed}] {msg}") {
        bar.set_style(style);
    }
    bar
}
