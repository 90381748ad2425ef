//! One libFuzzer target for the oracle's readers of untrusted input. The first byte picks
//! the reader, the rest is its input:
//!
//! * `0`: a JSON Lines trace: [`TraceReader`] to the end, then `check` on a fresh reader.
//! * `1`: a binary trace's `header.safetensors`: [`BinaryTrace::open`], θ₀, then
//!   `binary::check` of the directory (no step files).
//! * `2`: a binary trace's first step file under a fixed valid header (the golden
//!   `torch-adagrad-default-randn` trace, converted once): `binary::check` of the directory.
//! * `3`: a preset's hyperparameters: byte 1 picks the preset, byte 2 the optimizer, the rest
//!   is the JSON object given to [`presets::resolve`]; a resolved setting is built, with a
//!   two-block layout, and so is every convention variant.
//! * `4`: a theorem card (`theorems/*.md`): [`Card::parse`] and, if it parses, the statement
//!   of every mutant.
//!
//! The property checked is "no panic, no abort, no unbounded allocation": every outcome is
//! an error value or a status ≤ 4.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optverify::claims::card::Card;
use optverify::oracle::binary::{self, BinaryTrace};
use optverify::oracle::cli;
use optverify::oracle::format::{BlockSpec, TraceReader};
use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "../../tests/support/oracle_inputs.rs"]
mod oracle_inputs;
use oracle_inputs::{exercise_setting, OPTIMIZERS, PRESETS};

/// A per-process scratch directory (libFuzzer runs one input at a time per process).
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("optverify-fuzz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch directory");
    d
}

/// The golden trace converted to a binary directory once; its header file's bytes.
fn golden_header() -> &'static Vec<u8> {
    static HEADER: OnceLock<Vec<u8>> = OnceLock::new();
    HEADER.get_or_init(|| {
        let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/golden/torch-adagrad-default-randn.jsonl");
        let dir = scratch("golden");
        std::fs::remove_dir_all(&dir).ok();
        let out = binary::convert(&golden, &dir);
        assert_eq!(out.status, 0, "{}", out.text);
        std::fs::read(dir.join("header.safetensors")).expect("converted header")
    })
}

fn json_lines(data: &[u8]) {
    let mut reader = match TraceReader::new("fuzz.jsonl", data) {
        Err(_) => return,
        Ok(r) => r,
    };
    for rec in &mut reader {
        if rec.is_err() {
            break;
        }
    }
    let mut reader = TraceReader::new("fuzz.jsonl", data).expect("the header parsed once");
    let out = cli::check_reader(&mut reader, None);
    assert!(out.status <= 4, "status {}: {}", out.status, out.text);
}

/// A directory holding exactly `files`.
fn binary_dir(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = scratch(name);
    for e in std::fs::read_dir(&dir).expect("scratch listing").flatten() {
        std::fs::remove_file(e.path()).ok();
    }
    for (f, bytes) in files {
        std::fs::write(dir.join(f), bytes).expect("scratch write");
    }
    dir
}

fn binary_header(data: &[u8]) {
    let dir = binary_dir("header", &[("header.safetensors", data)]);
    if let Ok(t) = BinaryTrace::open(&dir) {
        let _ = t.params0_f64();
        let out = binary::check(&dir, None, None);
        assert!(out.status <= 4, "status {}: {}", out.status, out.text);
    }
}

fn binary_step(data: &[u8]) {
    let header = golden_header();
    let dir = binary_dir(
        "step",
        &[("header.safetensors", header), (&binary::step_file_name(1), data)],
    );
    let out = binary::check(&dir, None, None);
    assert!(out.status <= 4, "status {}: {}", out.status, out.text);
    let out = binary::replay(&dir, None, Some(2));
    assert!(out.status <= 4, "status {}: {}", out.status, out.text);
}

fn hyperparameters(data: &[u8]) {
    let [p, o, rest @ ..] = data else { return };
    let preset = PRESETS[usize::from(*p) % PRESETS.len()];
    let optimizer = OPTIMIZERS[usize::from(*o) % OPTIMIZERS.len()];
    let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(rest) else {
        return;
    };
    let layout = [
        BlockSpec {
            name: "w".into(),
            rows: 3,
            cols: 2,
        },
        BlockSpec {
            name: "b".into(),
            rows: 2,
            cols: 1,
        },
    ];
    let _ = exercise_setting(preset, optimizer, &map, &layout);
}

fn card(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Card::parse("fuzz-card.md", &text) {
        let _ = c.statement_for(None);
        for m in &c.mutants {
            let _ = c.statement_for(Some(m));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => json_lines(rest),
        1 => binary_header(rest),
        2 => binary_step(rest),
        3 => hyperparameters(rest),
        _ => card(rest),
    }
});
