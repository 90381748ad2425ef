//! Check a trace from Rust: replay it against its declared preset and print the outcome, as
//! `optverify replay` does.
//!
//! `cargo run --release --example check_trace [TRACE]` (default: a golden PyTorch Adam trace).

use optverify::oracle::{compare, format};
use std::path::PathBuf;

fn main() {
    let path = std::env::args().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden/torch-adam-default-quad.jsonl"),
        PathBuf::from,
    );
    let mut reader = match format::open(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let header = reader.header().clone();
    println!(
        "{}: {} {}, {} parameters, {}",
        path.display(),
        header.preset,
        header.optimizer,
        header.dim(),
        header.dtype
    );
    match compare::replay(&mut reader, None) {
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
        Ok(o) => {
            println!(
                "reference: {}\n{}: {}/{} steps bit for bit, worst relative difference {:.3e} (tolerance {:.1e})",
                o.reference,
                if o.agrees() { "AGREES" } else { "DISAGREES" },
                o.bit_identical_steps,
                o.steps,
                o.worst_rel_value(),
                o.tolerance
            );
            std::process::exit(if o.agrees() { 0 } else { 1 });
        }
    }
}
