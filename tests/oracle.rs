//! The oracle against real framework traces (tests/data/golden/, written by
//! scripts/golden_traces.py with torch 2.15.0 and optax 0.2.8, and scripts/golden_keras.py
//! with keras 3.15.1 on jax 0.10.2), its diagnosis of convention
//! differences, and its handling of malformed traces.

use optverify::optim::adamw::AdamWConfig;
use optverify::optim::schedule::Schedule;
use optverify::optim::Optimizer;
use optverify::oracle::cli::{self, EXIT_AGREE, EXIT_BAD_INPUT, EXIT_DISAGREE};
use optverify::oracle::format::{self, BlockSpec, Dtype, Header, TraceError, TraceReader, TraceWriter};
use optverify::oracle::{compare, presets};
use optverify::prec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[path = "support/cli.rs"]
mod support;
use support::{golden, golden_dir};

fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/data/golden exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// Per-trace tolerance. Each step of an element-wise optimizer rounds each coordinate with
/// relative error ≤ STEP_REL = 32u (prec's module doc); the golden cases are non-expansive
/// open-loop updates or contractive closed-loop ones (a quadratic with κ = 100 and step sizes
/// below 2/L), so after t steps the trajectories differ by at most 32 u t relative, u the
/// producer's unit roundoff: prec::trajectory_rel(t) for f64, and STEP_REL_F32 · t for f32
/// (whether the reference is an f32 kernel or, without one, the crate's f64 optimizer, whose
/// own rounding is negligible next to the trace's).
fn tolerance(dtype: Dtype, steps: usize) -> f64 {
    match dtype {
        Dtype::F64 => prec::trajectory_rel(steps),
        Dtype::F32 => prec::STEP_REL_F32 * steps.max(1) as f64,
    }
}

/// Extra tolerance of a RAdam trace: the conditioning of its rectification term.
///
/// r_t depends on ρ_t = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ), the difference of two numbers near
/// ρ∞ = 2/(1 − β₂) − 1 (1999 for β₂ = 0.999) that leaves ρ_t ≈ t. A relative change δ of β₂ᵗ
/// moves ρ_t by |Δρ_t| = 2t·β₂ᵗ/(1 − β₂ᵗ)²·δ, and r_t by
/// |Δr_t/r_t| ≤ ½|Δρ_t|·(1/(ρ_t − 4) + 1/(ρ_t − 2) + 1/ρ_t). Frameworks evaluate β₂ᵗ with
/// different `pow` implementations, each within 1 ulp, so δ ≤ 2 ulps ≤ 4u (measured: XLA's
/// integer power `b2**count` is 1 ulp below C's `pow(0.999, 6)`, which moves ρ₆ by 3.7e-11
/// and optax's parameters by 4e-14 relative at t = 6). That relative change applies to step
/// t's parameter change |θ_t − θ_{t−1}|, read from the trace; later steps carry it without
/// amplification (the same argument as `tolerance`), so the contributions add up. Steps with
/// ρ_t ≤ 4 are never rectified (every convention has a threshold ≥ 4) and add nothing.
fn radam_rectification_sensitivity(path: &Path) -> f64 {
    let mut r = format::open(path).expect("golden trace opens");
    let h = r.header().clone();
    if h.optimizer != "radam" {
        return 0.0;
    }
    let hp = &h.hyperparameters;
    let beta2 = hp
        .get("betas")
        .and_then(|b| b.get(1))
        .or_else(|| hp.get("b2"))
        .and_then(|b| b.as_f64())
        .unwrap_or(0.999);
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let delta = 4.0 * prec::UNIT_ROUNDOFF;
    let mut prev = h.params0.clone();
    let mut scale: Vec<f64> = prev.iter().map(|v| v.abs()).collect();
    let mut total = 0.0;
    while let Some(rec) = r.next_step().expect("golden trace parses") {
        let t = rec.step as f64;
        let b2t = beta2.powf(t);
        let rho = rho_inf - 2.0 * t * b2t / (1.0 - b2t);
        for (s, p) in scale.iter_mut().zip(&rec.params) {
            *s = s.max(p.abs());
        }
        if rho > 4.0 {
            let d_rho = 2.0 * t * b2t / ((1.0 - b2t) * (1.0 - b2t)) * delta;
            let d_r = 0.5 * d_rho * (1.0 / (rho - 4.0) + 1.0 / (rho - 2.0) + 1.0 / rho);
            let step_rel = prev
                .iter()
                .zip(&rec.params)
                .zip(&scale)
                .map(|((a, b), s)| (b - a).abs() / s.max(f64::MIN_POSITIVE))
                .fold(0.0, f64::max);
            total += d_r * step_rel;
        }
        prev = rec.params;
    }
    total
}

/// Replay against the declared setting with the header's layout. `compare::replay` resolves
/// the hyperparameters only (`compare::declared_setting`), which gives layer-wise optimizers
/// one block; where the layout changes the setting (LAMB, LARS, Adafactor) the crate's f64
/// optimizer with the layout is replayed directly (this checks the presets' mapping against
/// the frameworks to rounding; the kernels' bit identity on the same traces is asserted in
/// kernels/optax/layerwise.rs's, kernels/optax_adafactor.rs's and kernels/torch/adafactor.rs's
/// tests).
fn replay_declared<R: std::io::BufRead>(r: &mut TraceReader<R>, tol: f64) -> compare::Outcome {
    let h = r.header();
    let with_layout = presets::resolve_header(h).unwrap();
    let without = presets::resolve(&h.preset, &h.optimizer, &h.hyperparameters).unwrap();
    if with_layout == without {
        compare::replay(r, Some(tol)).unwrap()
    } else {
        compare::compare_settings(r, &[with_layout], tol)
            .unwrap()
            .remove(0)
    }
}

fn count_steps(path: &Path) -> usize {
    let mut r = format::open(path).expect("golden trace opens");
    let mut n = 0;
    while r.next_step().expect("golden trace parses").is_some() {
        n += 1;
    }
    n
}

/// The header line of a trace replaced, the steps kept: a relabelled candidate.
fn relabel(path: &Path, preset: &str, optimizer: &str, hyperparameters: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("golden trace readable");
    let (first, rest) = text.split_once('\n').expect("header line");
    let mut header: serde_json::Value = serde_json::from_str(first).expect("header is JSON");
    header["preset"] = preset.into();
    header["optimizer"] = optimizer.into();
    header["hyperparameters"] = serde_json::from_str(hyperparameters).expect("hp JSON");
    let mut out = serde_json::to_vec(&header).expect("serialises");
    out.push(b'\n');
    out.extend_from_slice(rest.as_bytes());
    out
}

fn check_bytes(bytes: &[u8]) -> cli::CommandOutput {
    let mut r = TraceReader::new("relabelled", bytes).expect("header parses");
    cli::check_reader(&mut r, None)
}

/// The lines of the diagnosis that start with "matches" / "does not match".
/// Which list of `check`'s diagnosis a label must appear in.
#[derive(Clone, Copy)]
enum Listed {
    Matches,
    DoesNotMatch,
}
use Listed::{DoesNotMatch, Matches};

/// How the label is compared with a diagnosis line.
#[derive(Clone, Copy)]
enum Compare {
    StartsWith,
    Contains,
}
use Compare::{Contains, StartsWith};

/// Assert that `check`'s output lists a variant `label` under `listed`.
fn assert_listed(text: &str, listed: Listed, how: Compare, label: &str) {
    let (m, d) = matches_and_misses(text);
    let lines = match listed {
        Matches => m,
        DoesNotMatch => d,
    };
    let found = lines.iter().any(|l| match how {
        StartsWith => l.starts_with(label),
        Contains => l.contains(label),
    });
    assert!(
        found,
        "expected {label:?} under {}:\n{text}",
        match listed {
            Matches => "matches",
            DoesNotMatch => "does not match",
        }
    );
}

fn matches_and_misses(text: &str) -> (Vec<String>, Vec<String>) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let m = lines
        .iter()
        .filter_map(|l| l.strip_prefix("matches "))
        .map(String::from)
        .collect();
    let d = lines
        .iter()
        .filter_map(|l| l.strip_prefix("does not match "))
        .map(String::from)
        .collect();
    (m, d)
}

#[test]
fn every_golden_trace_replays_within_its_rounding_bound() {
    let files = golden_files();
    // scripts/golden_keras.py: 17 settings × (5 f64 cases + 2 f32 cases).
    let keras = files
        .iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("keras-"))
        .count();
    assert_eq!(keras, 119, "expected the 119 Keras traces");
    // 392 torch and optax traces (scripts/golden_traces.py) + the Keras ones.
    assert!(
        files.len() >= 392 + 119,
        "expected the full golden set, found {}",
        files.len()
    );
    // preset key (file name without the case) → (traces, bit-for-bit traces, worst rel)
    let mut table: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    let mut failures = vec![];
    for f in &files {
        let steps = count_steps(f);
        let mut r = format::open(f).unwrap();
        let dtype = r.header().dtype;
        let tol = tolerance(dtype, steps) + radam_rectification_sensitivity(f);
        let o = replay_declared(&mut r, tol);
        assert_eq!(o.steps as usize, steps);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if !o.agrees() {
            failures.push(format!(
                "{name}: worst rel {:.3e} > {tol:.3e}",
                o.worst_rel_value()
            ));
        }
        let key = name
            .rsplit_once('-')
            .map(|(k, last)| {
                if last == "f32.jsonl" {
                    format!("{} f32", k.rsplit_once('-').unwrap().0)
                } else {
                    k.to_string()
                }
            })
            .unwrap();
        let e = table.entry(key).or_insert((0, 0, 0.0));
        e.0 += 1;
        e.1 += usize::from(o.bit_identical_steps == o.steps);
        e.2 = e.2.max(o.worst_rel_value());
    }
    for (k, (n, bit, worst)) in &table {
        println!("{k:32} {bit}/{n} bit for bit, worst relative {worst:.2e}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The keras preset proven against Keras itself: every Keras trace, replayed through the
/// crate's f64 optimizer of its declared setting (not the Keras kernel, which `replay` prefers),
/// stays within the trace's rounding bound ([`tolerance`]). The crate's optimizers compute the
/// papers' operation order, so this checks the preset's mapping (defaults, names, ε-hat,
/// decoupled decay × lr before the update), not Keras's rounding.
#[test]
fn keras_traces_replay_through_the_crate_f64_optimizers() {
    let files: Vec<PathBuf> = golden_files()
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("keras-"))
        .collect();
    assert_eq!(files.len(), 119);
    let mut failures = vec![];
    let mut worst: BTreeMap<(String, bool), f64> = BTreeMap::new();
    for f in &files {
        let steps = count_steps(f);
        let mut r = format::open(f).unwrap();
        let dtype = r.header().dtype;
        let tol = tolerance(dtype, steps);
        let setting = compare::declared_setting("golden", r.header()).unwrap();
        let o = compare::compare_settings(&mut r, &[setting], tol)
            .unwrap()
            .remove(0);
        assert_eq!(o.steps as usize, steps);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if !o.agrees() {
            failures.push(format!(
                "{name}: worst rel {:.3e} > {tol:.3e}",
                o.worst_rel_value()
            ));
        }
        let optimizer = name.split('-').nth(1).unwrap().to_string();
        let w = worst.entry((optimizer, dtype == Dtype::F32)).or_insert(0.0);
        *w = w.max(o.worst_rel_value());
    }
    for ((optimizer, f32), w) in &worst {
        println!(
            "keras {optimizer:9} {}: worst relative {w:.2e} (crate f64 optimizer)",
            if *f32 { "f32" } else { "f64" }
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn optax_sgd_traces_match_bit_for_bit() {
    // optax sgd is m = g + μm, θ + (−γ m) (or −γ(g + μm)): the same operations, in the same
    // order, as the crate's Sgd with τ = 0, and no fused multiply-add on XLA's eager CPU path;
    // so every step must agree to the last bit.
    let files: Vec<PathBuf> = golden_files()
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            // f64 only: the crate computes in f64, so an f32 trace cannot be bit for bit.
            name.starts_with("optax-sgd-") && !name.ends_with("-f32.jsonl")
        })
        .collect();
    assert_eq!(files.len(), 15);
    for f in files {
        let mut r = format::open(&f).unwrap();
        let o = compare::replay(&mut r, Some(0.0)).unwrap();
        assert_eq!(
            o.bit_identical_steps,
            o.steps,
            "{}: {:?}",
            f.display(),
            o.first_difference
        );
        assert!(o.agrees());
    }
}

#[test]
fn torch_adagrad_checked_as_optax_is_diagnosed_as_pytorch() {
    let bytes = relabel(
        &golden("torch-adagrad-default-scaled.jsonl"),
        "optax",
        "adagrad",
        r#"{"learning_rate": 0.1}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(
        &out.text,
        Matches,
        StartsWith,
        "pytorch Adagrad defaults (ε = 1e-10 outside the root, s₀ = 0)",
    );
    assert_listed(&out.text, DoesNotMatch, StartsWith, "optax adagrad defaults");
    assert!(
        out.text.contains("DISAGREES with as declared (optax adagrad)"),
        "{}",
        out.text
    );
    // And the other way round.
    let bytes = relabel(
        &golden("optax-adagrad-default-randn.jsonl"),
        "pytorch",
        "adagrad",
        r#"{"lr": 0.1}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(&out.text, Matches, StartsWith, "optax adagrad defaults");
    assert_listed(&out.text, DoesNotMatch, StartsWith, "pytorch Adagrad defaults");
}

#[test]
fn adamw_decay_times_lr_is_told_apart_from_the_papers() {
    // A PyTorch AdamW trace: decay × lr.
    let out = cli::check(&golden("torch-adamw-decay-quad.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert_listed(&out.text, Matches, StartsWith, "AdamW, decay 0.1 × lr");
    assert_listed(
        &out.text,
        DoesNotMatch,
        StartsWith,
        "AdamW, decay 0.1 × schedule only",
    );
    assert_listed(&out.text, DoesNotMatch, StartsWith, "Adam + L2");

    // A trace of the paper's AdamW (decay × η_t only), labelled as PyTorch AdamW.
    let g_source = golden("torch-adamw-decay-randn.jsonl");
    let mut src = format::open(&g_source).unwrap();
    let mut header = src.header().clone();
    header.producer = "optverify (paper AdamW)".into();
    header.hyperparameters = serde_json::from_str(r#"{"lr": 0.01, "weight_decay": 0.1}"#).unwrap();
    let mut opt = AdamWConfig::paper(0.01, 0.1, Schedule::constant(1.0))
        .build()
        .unwrap();
    let mut x = nalgebra::DVector::from_vec(header.params0.clone());
    let mut w = TraceWriter::new(Vec::new(), &header).unwrap();
    while let Some(rec) = src.next_step().unwrap() {
        let g = nalgebra::DVector::from_vec(rec.grad);
        opt.step(&mut x, &g).unwrap();
        w.step(g.as_slice(), x.as_slice(), None).unwrap();
    }
    let bytes = w.finish().unwrap();
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(&out.text, Matches, StartsWith, "AdamW, decay 0.1 × schedule only");
    assert_listed(&out.text, DoesNotMatch, StartsWith, "AdamW, decay 0.1 × lr");
}

#[test]
fn amsgrad_max_placement_is_diagnosed() {
    // torch: max of raw v. Checked as optax amsgrad (max of v̂) it must disagree.
    let bytes = relabel(
        &golden("torch-adam-amsgrad-scaled.jsonl"),
        "optax",
        "amsgrad",
        r#"{"learning_rate": 0.01}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(
        &out.text,
        Matches,
        Contains,
        "AMSGrad max of raw v (pytorch, keras); ε outside the root",
    );
    assert_listed(
        &out.text,
        DoesNotMatch,
        Contains,
        "AMSGrad max of bias-corrected v̂ (optax amsgrad); ε outside",
    );
    // optax amsgrad checked as torch Adam(amsgrad=True).
    let bytes = relabel(
        &golden("optax-amsgrad-default-scaled.jsonl"),
        "pytorch",
        "adam",
        r#"{"lr": 0.01, "amsgrad": true}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(
        &out.text,
        Matches,
        Contains,
        "AMSGrad max of bias-corrected v̂ (optax amsgrad)",
    );
}

#[test]
fn keras_adam_checked_as_pytorch_is_diagnosed_as_eps_hat() {
    // Keras Adam (defaults: lr 1e-3, ε̂ = 1e-7) labelled as torch Adam with the same numbers.
    // Algorithm 1 with ε = 1e-7 differs from the ε-hat form by the effective ε = ε̂/√(1−β₂ᵗ)
    // (≈ 3e-6 at t = 1); on the `scaled` case, whose first coordinate has gradients ~1e-8,
    // that is an O(1) change of the step, far beyond rounding.
    let bytes = relabel(
        &golden("keras-adam-default-scaled.jsonl"),
        "pytorch",
        "adam",
        r#"{"lr": 0.001, "eps": 1e-7}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert!(
        out.text.contains("DISAGREES with as declared (pytorch adam)"),
        "{}",
        out.text
    );
    let (m, _) = matches_and_misses(&out.text);
    assert_listed(
        &out.text,
        Matches,
        StartsWith,
        "no weight decay; Keras ε-hat (ε added to √v before bias correction)",
    );
    assert!(
        !m.iter()
            .any(|l| l.contains("ε outside the root after bias correction")),
        "{}",
        out.text
    );
    assert_listed(
        &out.text,
        DoesNotMatch,
        Contains,
        "ε outside the root after bias correction",
    );
    // Keras AdamW (λ = 0.1) labelled as torch AdamW: decay × lr and ε-hat, both named.
    let bytes = relabel(
        &golden("keras-adamw-decay-scaled.jsonl"),
        "pytorch",
        "adamw",
        r#"{"lr": 0.01, "betas": [0.85, 0.995], "eps": 1e-7, "weight_decay": 0.1}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    let (m, _) = matches_and_misses(&out.text);
    assert!(
        m.iter()
            .any(|l| l.starts_with("AdamW, decay 0.1 × lr") && l.contains("Keras ε-hat")),
        "{}",
        out.text
    );
    assert!(m.iter().all(|l| l.contains("Keras ε-hat")), "{}", out.text);
    // And the Keras trace checked as what it is agrees, and names the ε-hat form.
    let out = cli::check(&golden("keras-adam-default-scaled.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert_listed(&out.text, Matches, Contains, "Keras ε-hat");
    assert_listed(
        &out.text,
        DoesNotMatch,
        Contains,
        "ε outside the root after bias correction",
    );
}

#[test]
fn rmsprop_eps_placement_is_diagnosed() {
    // optax rmsprop (ε inside the root) checked as torch RMSprop with the same numbers.
    let bytes = relabel(
        &golden("optax-rmsprop-default-scaled.jsonl"),
        "pytorch",
        "rmsprop",
        r#"{"lr": 0.01, "alpha": 0.9, "eps": 1e-8}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(&out.text, Matches, StartsWith, "RMSprop ε inside the root");
    assert_listed(&out.text, DoesNotMatch, StartsWith, "RMSprop ε outside the root");
    // And torch's own trace matches its declared preset and ε outside.
    let out = cli::check(&golden("torch-rmsprop-default-scaled.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert_listed(&out.text, Matches, StartsWith, "RMSprop ε outside the root");
    assert_listed(&out.text, DoesNotMatch, StartsWith, "RMSprop ε inside the root");
}

#[test]
fn rmsprop_momentum_placement_matters_only_through_rounding_with_constant_lr() {
    // With a constant learning rate, b = μb + γd; θ −= b and b = μb + d; θ −= γb are the same
    // iteration (b' = γb), so both placements must be accepted for an optax trace: the oracle
    // cannot (and must not claim to) tell them apart here.
    let out = cli::check(&golden("optax-rmsprop-momentum-quad.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert_listed(&out.text, Matches, Contains, "lr inside the momentum buffer");
    assert_listed(&out.text, Matches, Contains, "lr outside the momentum buffer");
}

// ---------------------------------------------------------------- malformed traces

fn header_line() -> String {
    let h = Header {
        format: format::FORMAT_NAME.into(),
        version: 1,
        optimizer: "sgd".into(),
        preset: "pytorch".into(),
        hyperparameters: serde_json::from_str(r#"{"lr": 0.1}"#).unwrap(),
        layout: vec![BlockSpec {
            name: "w".into(),
            rows: 1,
            cols: 2,
        }],
        dtype: Dtype::F64,
        producer: "test".into(),
        params0: vec![1.0, 2.0],
        param_groups: None,
        schedule: None,
        transforms: Vec::new(),
    };
    serde_json::to_string(&h).unwrap()
}

fn read_all(text: &str) -> Result<usize, TraceError> {
    let mut r = TraceReader::new("bad.jsonl", text.as_bytes())?;
    let mut n = 0;
    while r.next_step()?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[test]
fn well_formed_two_step_trace_reads() {
    let text = format!(
        "{}\n{}\n{}\n",
        header_line(),
        r#"{"step": 1, "grad": [1, 2], "params": [0.9, 1.8]}"#,
        r#"{"step": 2, "grad": [1, 2], "params": [0.8, 1.6], "loss": 3.5}"#
    );
    assert_eq!(read_all(&text).unwrap(), 2);
}

#[test]
fn truncated_trace_is_reported_as_truncated() {
    let text = format!(
        "{}\n{}\n{}",
        header_line(),
        r#"{"step": 1, "grad": [1, 2], "params": [0.9, 1.8]}"#,
        r#"{"step": 2, "grad": [1, 2], "par"#
    );
    let e = read_all(&text).unwrap_err();
    assert!(matches!(e, TraceError::Truncated { line: 3, .. }), "{e}");
    assert!(e.to_string().starts_with("bad.jsonl:3: truncated"), "{e}");
}

#[test]
fn missing_field_names_the_field_and_line() {
    let text = format!("{}\n{}\n", header_line(), r#"{"step": 1, "params": [0.9, 1.8]}"#);
    let e = read_all(&text).unwrap_err();
    assert!(
        matches!(&e, TraceError::MissingField { line: 2, field, .. } if field == "grad"),
        "{e}"
    );
    let no_params0 = header_line().replace(r#","params0":[1.0,2.0]"#, "");
    assert_ne!(no_params0, header_line());
    let e = read_all(&format!("{no_params0}\n")).unwrap_err();
    assert!(
        matches!(&e, TraceError::MissingField { line: 1, field, .. } if field == "params0"),
        "{e}"
    );
}

#[test]
fn wrong_length_names_step_and_field() {
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"step": 1, "grad": [1, 2], "params": [0.9]}"#
    );
    let e = read_all(&text).unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::Length {
                line: 2,
                step: 1,
                field: "params",
                expected: 2,
                got: 1,
                ..
            }
        ),
        "{e}"
    );
    let bad_layout = header_line().replace(r#""params0":[1.0,2.0]"#, r#""params0":[1.0]"#);
    let e = read_all(&format!("{bad_layout}\n")).unwrap_err();
    assert!(
        matches!(&e, TraceError::BadHeader { field, .. } if field == "params0"),
        "{e}"
    );
}

#[test]
fn nan_is_rejected_in_gradients_and_accepted_as_string_in_params() {
    // Bare NaN (Python's json.dumps default) is not JSON.
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"step": 1, "grad": [NaN, 2], "params": [0.9, 1.8]}"#
    );
    let e = read_all(&text).unwrap_err();
    assert!(matches!(e, TraceError::Json { line: 2, .. }), "{e}");
    assert!(e.to_string().contains("write the strings"), "{e}");
    // A "NaN" string in the gradient is refused: a replay cannot feed it.
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"step": 1, "grad": ["NaN", 2], "params": [0.9, 1.8]}"#
    );
    let e = read_all(&text).unwrap_err();
    assert!(e.to_string().contains("must be finite"), "{e}");
    // A diverged candidate: "NaN" in params is read, and check reports a disagreement.
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"step": 1, "grad": [1, 2], "params": ["NaN", "Infinity"]}"#
    );
    assert_eq!(read_all(&text).unwrap(), 1);
    let mut r = TraceReader::new("diverged", text.as_bytes()).unwrap();
    let out = cli::replay_reader(&mut r, None);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
}

#[test]
fn non_consecutive_steps_and_unknown_names_are_bad_input() {
    let text = format!(
        "{}\n{}\n{}\n",
        header_line(),
        r#"{"step": 1, "grad": [1, 2], "params": [0.9, 1.8]}"#,
        r#"{"step": 3, "grad": [1, 2], "params": [0.8, 1.6]}"#
    );
    let e = read_all(&text).unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::NotConsecutive {
                line: 3,
                expected: 2,
                got: 3,
                ..
            }
        ),
        "{e}"
    );

    let unknown = header_line().replace(r#""optimizer":"sgd""#, r#""optimizer":"lion""#);
    let unknown_text = format!("{unknown}\n");
    let mut r = TraceReader::new("u.jsonl", unknown_text.as_bytes()).unwrap();
    let out = cli::check_reader(&mut r, None);
    assert_eq!(out.status, EXIT_BAD_INPUT);
    assert!(out.text.contains("unknown optimizer \"lion\""), "{}", out.text);

    let e = read_all("").unwrap_err();
    assert!(matches!(e, TraceError::Empty { .. }), "{e}");
    let missing = cli::check(Path::new("/nonexistent/trace.jsonl"), None);
    assert_eq!(missing.status, EXIT_BAD_INPUT);
}

#[test]
fn trace_command_writes_a_reference_that_replays_bit_for_bit() {
    let src = golden("torch-adam-amsgrad-matrix.jsonl");
    let out_path = std::env::temp_dir().join(format!("optverify-oracle-test-{}.jsonl", std::process::id()));
    let out = cli::trace(
        "pytorch",
        "adam",
        r#"{"lr": 0.01, "amsgrad": true}"#,
        cli::GradientSource::Trace(&src),
        None,
        &out_path,
    );
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    let mut r = format::open(&out_path).unwrap();
    assert_eq!(r.header().layout.len(), 2);
    let o = compare::replay(&mut r, Some(0.0)).unwrap();
    assert_eq!(o.steps, 40);
    assert_eq!(o.bit_identical_steps, 40);
    // The crate's own reference agrees with torch within the rounding bound.
    let mut torch = format::open(&src).unwrap();
    let o = compare::replay(&mut torch, Some(tolerance(Dtype::F64, 40))).unwrap();
    assert!(o.agrees());
    std::fs::remove_file(&out_path).ok();
}

#[test]
fn streaming_reader_handles_many_steps_from_a_generated_stream() {
    // 20 000 steps are generated on the fly (never materialised): the reader's memory is one
    // line, whatever the number of steps.
    struct Gen {
        step: u64,
        total: u64,
        buf: Vec<u8>,
        pos: usize,
    }
    impl std::io::Read for Gen {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.pos == self.buf.len() {
                if self.step == self.total {
                    return Ok(0);
                }
                self.step += 1;
                self.buf = format!(
                    "{{\"step\": {}, \"grad\": [0, 0], \"params\": [1.0, 2.0]}}\n",
                    self.step
                )
                .into_bytes();
                self.pos = 0;
            }
            let n = out.len().min(self.buf.len() - self.pos);
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }
    let head = format!("{}\n", header_line()).into_bytes();
    let gen = Gen {
        step: 0,
        total: 20_000,
        buf: head,
        pos: 0,
    };
    let mut r = TraceReader::new("gen", std::io::BufReader::new(gen)).unwrap();
    let o = compare::replay(&mut r, None).unwrap();
    assert_eq!(o.steps, 20_000);
    assert_eq!(
        o.bit_identical_steps, 20_000,
        "zero gradients leave SGD's parameters unchanged"
    );
}

#[test]
fn presets_reject_what_they_cannot_model() {
    let m: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"learning_rate": 0.1, "mu_dtype": "bfloat16"}"#).unwrap();
    assert!(matches!(
        presets::resolve("optax", "nadam", &m),
        Err(presets::PresetError::Unsupported { .. })
    ));
    // adam(nesterov=True) is optax's NAdam (nadam = partial(adam, nesterov=True)): the crate's
    // NAdam with a constant μ_t = β₁ models it.
    let m: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"learning_rate": 0.1, "nesterov": true}"#).unwrap();
    assert!(matches!(
        presets::resolve("optax", "adam", &m),
        Ok(presets::Setting::NAdam(c)) if c.momentum_schedule == optverify::optim::nadam::MomentumSchedule::Constant
    ));
}

#[test]
fn nadam_presets_accept_exactly_the_framework_names() {
    let map =
        |json: &str| -> serde_json::Map<String, serde_json::Value> { serde_json::from_str(json).unwrap() };
    // PyTorch defaults for absent names.
    match presets::resolve("pytorch", "nadam", &map("{}")).unwrap() {
        presets::Setting::NAdam(c) => {
            assert_eq!((c.lr, c.beta1, c.beta2, c.eps), (2e-3, 0.9, 0.999, 1e-8));
            assert_eq!(
                c.momentum_schedule,
                optverify::optim::nadam::MomentumSchedule::Dozat { momentum_decay: 4e-3 }
            );
        }
        other => panic!("{other:?}"),
    }
    let decoupled = map(r#"{"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": true}"#);
    match presets::resolve("pytorch", "radam", &decoupled).unwrap() {
        presets::Setting::RAdam(c) => assert_eq!(
            c.weight_decay,
            optverify::optim::conventions::WeightDecay::DecoupledTimesLr(0.1)
        ),
        other => panic!("{other:?}"),
    }
    for (preset, optimizer, json, name) in [
        ("pytorch", "nadam", r#"{"lr": 0.01, "b1": 0.9}"#, "b1"),
        (
            "pytorch",
            "radam",
            r#"{"lr": 0.01, "threshold": 5.0}"#,
            "threshold",
        ),
        (
            "optax",
            "nadam",
            r#"{"learning_rate": 0.01, "momentum_decay": 0.004}"#,
            "momentum_decay",
        ),
        (
            "optax",
            "radam",
            r#"{"learning_rate": 0.01, "betas": [0.9, 0.999]}"#,
            "betas",
        ),
    ] {
        let err = presets::resolve(preset, optimizer, &map(json)).unwrap_err();
        assert!(
            matches!(&err, presets::PresetError::UnknownHyperparameter { name: n, .. } if n == name),
            "{preset} {optimizer}: {err}"
        );
    }
    assert!(matches!(
        presets::resolve(
            "optax",
            "radam",
            &map(r#"{"learning_rate": 0.01, "threshold": 3.0}"#)
        ),
        Err(presets::PresetError::Hyper(_))
    ));
}

#[test]
fn nadam_momentum_schedule_is_diagnosed() {
    // torch NAdam (μ_t = β₁(1 − ½·0.96^{tψ})) checked as optax nadam (μ_t = β₁): a different
    // algorithm under the same name; the diagnosis must name torch's schedule.
    let bytes = relabel(
        &golden("torch-nadam-default-randn.jsonl"),
        "optax",
        "nadam",
        r#"{"learning_rate": 0.01}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(
        &out.text,
        Matches,
        StartsWith,
        "NAdam μ_t = β₁(1 − ½·0.96^(tψ)), ψ = 0.004 (pytorch NAdam)",
    );
    assert_listed(
        &out.text,
        DoesNotMatch,
        StartsWith,
        "NAdam μ_t = β₁ constant (optax nadam",
    );
    // And the other way round.
    let bytes = relabel(
        &golden("optax-nadam-default-quad.jsonl"),
        "pytorch",
        "nadam",
        r#"{"lr": 0.01}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert_listed(
        &out.text,
        Matches,
        StartsWith,
        "NAdam μ_t = β₁ constant (optax nadam",
    );
    assert_listed(
        &out.text,
        DoesNotMatch,
        StartsWith,
        "NAdam μ_t = β₁(1 − ½·0.96^(tψ))",
    );
    // A torch trace with coupled decay: the decay placement is told apart too.
    let out = cli::check(&golden("torch-nadam-decay-quad.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert_listed(
        &out.text,
        Matches,
        Contains,
        "ψ = 0.01 (pytorch NAdam), decay 0.1 added to the gradient",
    );
    assert_listed(
        &out.text,
        DoesNotMatch,
        Contains,
        "ψ = 0.01 (pytorch NAdam), decay 0.1 × lr",
    );
}

#[test]
fn radam_eps_order_is_diagnosed() {
    // torch RAdam adds ε to √v before the bias correction, optax after: checked as optax
    // radam, a torch trace must disagree and match torch's order.
    let bytes = relabel(
        &golden("torch-radam-default-scaled.jsonl"),
        "optax",
        "radam",
        r#"{"learning_rate": 0.01}"#,
    );
    let out = check_bytes(&bytes);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    let (m, _) = matches_and_misses(&out.text);
    assert!(
        m.iter().any(|l| l
            .starts_with("RAdam ε added to √v before bias correction (pytorch RAdam), ρ_t > 5 (pytorch)")),
        "{}",
        out.text
    );
    assert_listed(
        &out.text,
        DoesNotMatch,
        StartsWith,
        "RAdam ε after bias correction (optax radam), ρ_t ≥ 5",
    );
    // The paper's threshold ρ_t > 4 rectifies one step earlier (t = 5, not 6).
    assert_listed(
        &out.text,
        DoesNotMatch,
        StartsWith,
        "RAdam ε added to √v before bias correction (pytorch RAdam), ρ_t > 4",
    );
    // optax's own trace agrees with its declared preset.
    let out = cli::check(&golden("optax-radam-default-scaled.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
}

#[test]
fn torch_plain_sgd_is_bit_exact_with_a_fused_multiply_add() {
    // torch's `param.add_(grad, alpha=-lr)` on CPU is one fused multiply-add per coordinate
    // (conventions.md). Replaying θ ← fma(−γ, g, θ) must reproduce every torch f64 plain-SGD
    // trace bit for bit; the crate's Sgd rounds γg and θ − γg separately, which is why its
    // replay above is only within rounding. This pins down the one operation to change.
    for case in ["randn", "scaled", "sparse", "matrix", "quad"] {
        let mut r = format::open(&golden(&format!("torch-sgd-plain-{case}.jsonl"))).unwrap();
        let lr = r.header().hyperparameters["lr"].as_f64().unwrap();
        let mut fused = r.header().params0.clone();
        let mut separate = fused.clone();
        let (mut fused_identical, mut separate_identical, mut steps) = (0, 0, 0);
        while let Some(rec) = r.next_step().unwrap() {
            for i in 0..fused.len() {
                fused[i] = (-lr).mul_add(rec.grad[i], fused[i]);
                separate[i] -= lr * rec.grad[i];
            }
            steps += 1;
            fused_identical += usize::from(
                fused
                    .iter()
                    .zip(&rec.params)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            );
            separate_identical += usize::from(
                separate
                    .iter()
                    .zip(&rec.params)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            );
        }
        assert_eq!(fused_identical, steps, "{case}");
        println!("torch-sgd-plain-{case}: fma {fused_identical}/{steps} steps bit for bit, separate roundings {separate_identical}/{steps}");
    }
}

#[test]
fn an_f32_trace_must_hold_f32_values() {
    // An "f32" header with a gradient that no f32 can hold (0.1 in f64) is a malformed trace,
    // reported as bad input naming the step and field, whichever reference replays it.
    let header = header_line().replace(r#""dtype":"f64""#, r#""dtype":"f32""#);
    assert_ne!(header, header_line());
    let text = format!(
        "{header}\n{}\n",
        r#"{"step": 1, "grad": [0.1, 2], "params": [0.9, 1.8]}"#
    );
    let mut r = TraceReader::new("f32.jsonl", text.as_bytes()).unwrap();
    let out = cli::check_reader(&mut r, None);
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("step 1: grad[0] = 1e-1 is not an f32 value"),
        "{}",
        out.text
    );
    // The same step with f32 values (0.1f32 widened) replays.
    let text = format!(
        "{header}\n{{\"step\": 1, \"grad\": [{}, 2], \"params\": [{}, {}]}}\n",
        f64::from(0.1f32),
        f64::from(1.0f32 - 0.1f32 * 0.1f32),
        f64::from(1.8f32)
    );
    let mut r = TraceReader::new("f32.jsonl", text.as_bytes()).unwrap();
    let out = cli::replay_reader(&mut r, None);
    assert_ne!(out.status, EXIT_BAD_INPUT, "{}", out.text);
}

#[test]
fn lamb_and_lars_take_one_trust_ratio_per_block() {
    // The matrix case has two leaves (w: 3×4, b: 3). optax computes one trust ratio per leaf;
    // the same setting with a single block over all 15 parameters is another update, far
    // outside the rounding bound.
    for name in [
        "optax-lamb-default-matrix.jsonl",
        "optax-lamb-decay-matrix.jsonl",
        "optax-lars-default-matrix.jsonl",
        "optax-lars-nesterov-matrix.jsonl",
    ] {
        let path = golden(name);
        let tol = tolerance(Dtype::F64, count_steps(&path));
        let mut r = format::open(&path).unwrap();
        let h = r.header().clone();
        assert_eq!(h.layout.len(), 2);
        let per_block = presets::resolve_header(&h).unwrap();
        let one_block = presets::resolve(&h.preset, &h.optimizer, &h.hyperparameters).unwrap();
        let out = compare::compare_settings(&mut r, &[per_block, one_block], tol).unwrap();
        assert!(out[0].agrees(), "{name}: per block {:?}", out[0].worst_rel);
        assert!(
            !out[1].agrees() && out[1].worst_rel_value() > 1e3 * tol,
            "{name}: one block {:?}",
            out[1].worst_rel
        );
    }
}

#[test]
fn lamb_and_lars_presets_take_optax_names() {
    let map =
        |json: &str| -> serde_json::Map<String, serde_json::Value> { serde_json::from_str(json).unwrap() };
    match presets::resolve("optax", "lamb", &map(r#"{"learning_rate": 0.01}"#)).unwrap() {
        presets::Setting::Lamb(c) => {
            assert_eq!(
                (c.beta1, c.beta2, c.eps, c.eps_root, c.weight_decay),
                (0.9, 0.999, 1e-6, 0.0, 0.0)
            );
            assert_eq!(c.phi, optverify::optim::lamb::Phi::Identity);
        }
        other => panic!("{other:?}"),
    }
    match presets::resolve("optax", "lars", &map(r#"{"learning_rate": 0.01}"#)).unwrap() {
        presets::Setting::Lars(c) => {
            assert_eq!(
                (c.momentum, c.weight_decay, c.trust_coefficient),
                (0.9, 0.0, 1e-3)
            );
            assert_eq!(
                c.trust_ratio,
                optverify::optim::lars::LarsTrustRatio::Optax { eps: 0.0 }
            );
            assert!(!c.nesterov);
        }
        other => panic!("{other:?}"),
    }
    for (optimizer, json) in [
        ("lamb", r#"{"learning_rate": 0.01, "mask": {"w": true}}"#),
        ("lars", r#"{"learning_rate": 0.01, "trust_ratio_mask": false}"#),
        ("lars", r#"{"learning_rate": 0.01, "weight_decay_mask": false}"#),
    ] {
        assert!(
            matches!(
                presets::resolve("optax", optimizer, &map(json)),
                Err(presets::PresetError::Unsupported { .. })
            ),
            "{optimizer} {json}"
        );
    }
    assert!(matches!(
        presets::resolve("optax", "lars", &map(r#"{"learning_rate": 0.01, "b1": 0.9}"#)),
        Err(presets::PresetError::UnknownHyperparameter { .. })
    ));
    assert!(matches!(
        presets::resolve("optax", "lamb", &map("{}")),
        Err(presets::PresetError::Required { .. })
    ));
}

#[test]
fn adafactor_presets_map_both_frameworks() {
    use optverify::optim::adafactor::{AdafactorDecay, DecayPrecision, Eps1Placement, Factoring};
    let map =
        |json: &str| -> serde_json::Map<String, serde_json::Value> { serde_json::from_str(json).unwrap() };
    match presets::resolve("pytorch", "adafactor", &map("{}")).unwrap() {
        presets::Setting::Adafactor(c) => {
            assert_eq!(
                (c.lr, c.eps1, c.eps2, c.decay_exponent),
                (1e-2, f64::EPSILON, 1e-3, 0.8)
            );
            assert!(c.relative_step && c.scale_by_parameter_rms);
            assert_eq!(c.clip_threshold, Some(1.0));
            assert_eq!(c.factoring, Factoring::Matrices);
            assert_eq!(c.eps1_placement, Eps1Placement::Clamp);
            assert_eq!(c.weight_decay, AdafactorDecay::None);
        }
        other => panic!("{other:?}"),
    }
    match presets::resolve(
        "pytorch",
        "adafactor",
        &map(r#"{"eps": [null, 0.01], "weight_decay": 0.1, "beta2_decay": -0.6}"#),
    )
    .unwrap()
    {
        presets::Setting::Adafactor(c) => {
            assert_eq!((c.eps1, c.eps2, c.decay_exponent), (f64::EPSILON, 0.01, 0.6));
            assert_eq!(c.weight_decay, AdafactorDecay::TimesLr(0.1));
        }
        other => panic!("{other:?}"),
    }
    // eps[0] = None is the machine epsilon of the parameters' dtype: f32 for an f32 trace.
    let r = format::open(&golden("torch-adafactor-default-randn-f32.jsonl")).unwrap();
    match presets::resolve_header(r.header()).unwrap() {
        presets::Setting::Adafactor(c) => assert_eq!(c.eps1, f64::from(f32::EPSILON)),
        other => panic!("{other:?}"),
    }
    match presets::resolve("optax", "adafactor", &map("{}")).unwrap() {
        presets::Setting::Adafactor(c) => {
            // learning_rate=None: no lr scaling.
            assert_eq!((c.lr, c.eps1, c.eps2, c.decay_exponent), (1.0, 1e-30, 1e-3, 0.8));
            assert!(!c.relative_step && c.scale_by_parameter_rms);
            assert_eq!(c.factoring, Factoring::MinDimSize(128));
            assert_eq!(c.decay_precision, DecayPrecision::F32);
            assert_eq!(c.eps1_placement, Eps1Placement::AddedToSquare);
        }
        other => panic!("{other:?}"),
    }
    match presets::resolve(
        "optax",
        "adafactor",
        &map(r#"{"learning_rate": 0.1, "clipping_threshold": null, "factored": false, "weight_decay_rate": 0.01}"#),
    )
    .unwrap()
    {
        presets::Setting::Adafactor(c) => {
            assert_eq!(c.clip_threshold, None);
            assert_eq!(c.factoring, Factoring::Never);
            assert_eq!(c.weight_decay, AdafactorDecay::Unscaled(0.01));
        }
        other => panic!("{other:?}"),
    }
    // momentum is modelled (ema, kept in dtype_momentum: float32 by default, also for f64
    // parameters), and decay_offset ≤ 0.
    use optverify::optim::adafactor::MomentumDtype;
    for (json, momentum, dtype, offset) in [
        (
            r#"{"learning_rate": 0.1, "momentum": 0.9}"#,
            Some(0.9),
            MomentumDtype::F32,
            0,
        ),
        (
            r#"{"learning_rate": 0.1, "momentum": 0.8, "dtype_momentum": "float64"}"#,
            Some(0.8),
            MomentumDtype::F64,
            0,
        ),
        (
            r#"{"learning_rate": 0.1, "momentum": 0.8, "dtype_momentum": null, "decay_offset": -7}"#,
            Some(0.8),
            MomentumDtype::Params,
            -7,
        ),
        (
            r#"{"learning_rate": 0.1, "momentum": null}"#,
            None,
            MomentumDtype::F32,
            0,
        ),
    ] {
        match presets::resolve("optax", "adafactor", &map(json)).unwrap() {
            presets::Setting::Adafactor(c) => {
                assert_eq!(
                    (c.momentum, c.momentum_dtype, c.decay_offset),
                    (momentum, dtype, offset),
                    "{json}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    for json in [
        r#"{"learning_rate": 0.1, "momentum": 0.9, "dtype_momentum": "bfloat16"}"#,
        r#"{"learning_rate": 0.1, "decay_offset": 5}"#,
        r#"{"learning_rate": 0.1, "weight_decay_rate": 0.1, "weight_decay_mask": [true, false]}"#,
    ] {
        assert!(
            matches!(
                presets::resolve("optax", "adafactor", &map(json)),
                Err(presets::PresetError::Unsupported { .. })
            ),
            "{json}"
        );
    }
    for (preset, json) in [
        ("pytorch", r#"{"eps": [1e-30]}"#),
        ("optax", r#"{"min_dim_size_to_factor": 2.5}"#),
    ] {
        assert!(
            matches!(
                presets::resolve(preset, "adafactor", &map(json)),
                Err(presets::PresetError::BadValue { .. })
            ),
            "{preset} {json}"
        );
    }
    assert!(matches!(
        presets::resolve("pytorch", "adafactor", &map(r#"{"beta2": 0.9}"#)),
        Err(presets::PresetError::UnknownHyperparameter { .. })
    ));
}

#[test]
fn adafactor_factoring_and_decay_precision_are_diagnosed() {
    // optax's matrix trace (3×4 weight factored because min_dim_size_to_factor = 2) against
    // the crate with the layout: factored agrees, unfactored does not; β̂₂ₜ in float64
    // instead of float32 moves the result beyond the rounding bound too (conventions.md:
    // ~4e-9).
    let path = golden("optax-adafactor-default-matrix.jsonl");
    let tol = tolerance(Dtype::F64, count_steps(&path));
    let mut r = format::open(&path).unwrap();
    let declared = presets::resolve_header(r.header()).unwrap();
    let label = "optax adafactor";
    let variants = presets::variants(label, &declared);
    let settings: Vec<presets::Setting> = variants.iter().map(|v| v.setting.clone()).collect();
    let out = compare::compare_settings(&mut r, &settings, tol).unwrap();
    let outcome = |prefix: &str| {
        let i = variants
            .iter()
            .position(|v| v.label.starts_with(prefix))
            .unwrap_or_else(|| panic!("no variant {prefix}"));
        &out[i]
    };
    assert!(
        outcome("as declared").agrees(),
        "{:?}",
        outcome("as declared").worst_rel
    );
    assert!(outcome("Adafactor, β̂₂ₜ in float32 (optax)").agrees());
    assert!(outcome("Adafactor, every matrix factored").agrees());
    let unfactored = outcome("Adafactor, nothing factored");
    assert!(!unfactored.agrees() && unfactored.worst_rel_value() > 1e3 * tol);
    let f64_decay = outcome("Adafactor, β̂₂ₜ in float64 (pytorch)");
    assert!(!f64_decay.agrees(), "{:?}", f64_decay.worst_rel);
    println!(
        "optax adafactor matrix: unfactored {:.1e}, β̂₂ₜ in f64 {:.1e}, bound {tol:.1e}",
        unfactored.worst_rel_value(),
        f64_decay.worst_rel_value()
    );
}

// ---------------------------------------------------------------- declarations (issue 12)

fn feature_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir().join("features"))
        .expect("tests/data/golden/features exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// Every feature trace (schedules of both frameworks, parameter groups, optax chains, newly
/// modelled options, the frameworks' own dicts verbatim; scripts/golden_traces.py
/// --features), declared as written, AGREES with its declared reference at the default
/// tolerance — and bit for bit wherever a kernel transcribes the framework's arithmetic
/// without `rsqrt`. Exempt from bit identity, with the reason:
/// * optax adagrad and rmsprop with ε inside the root (`eps_in_sqrt=True`, the default; the
///   rmsprop traces with `eps_in_sqrt=False` must be bit for bit) use `jax.lax.rsqrt`, whose f32 result is
///   the CPU's estimate (machine-dependent, kernels/optax.rs) and whose f64 result on the
///   AVX-512 machine that wrote these traces is XLA's refined `vrsqrt14pd`, not the
///   `1/√x` of AVX2 machines the kernel transcribes.
///
/// * torch traces listed in [`TORCH_MKL_SQRT`], whose runs took a square root that oneMKL
///   (torch's CPU `Tensor.sqrt`) rounded to the other neighbour and the difference reached a
///   parameter's last bit: each has a twin in `features-ieee-sqrt/`, the same run with torch's
///   root replaced by the correctly rounded one (`scripts/golden_traces.py
///   --features-ieee-sqrt`), which must replay bit for bit — so the root is the only
///   difference. (Other torch traces with roots took such roots too, e.g. 77 of 360 in
///   `torch-adamw-cosine-f32`, without a parameter bit changing.)
///
/// (optax lamb, lars and adafactor, torch Adafactor have kernels and must be bit for bit.)
///
/// The tolerance is the default one (compare.rs: 1e-12 for f64, 200·32·u_f32 for f32, for up
/// to 200 steps of ≤ 16 roundings per coordinate; these traces have 30), not loosened.
/// Feature traces whose only difference from the torch kernels is oneMKL's `sqrt` (measured,
/// of the 450 roots of a run — 30 steps × 15 coordinates: 2 (f64) and 77 (f32) rounded the
/// other way for adam exp_range and for adamw chained, 8 and 92 for rmsprop triangular2; the
/// first parameter bit changed at step 22 (adam f32), 12 (adamw f32), 4 (rmsprop f64), 6
/// (rmsprop f32); the other runs of these settings absorbed every such root).
const TORCH_MKL_SQRT: [&str; 4] = [
    "torch-adam-cycliclr-exprange-f32.jsonl",
    "torch-adamw-chained-f32.jsonl",
    "torch-rmsprop-cycliclr-triangular2.jsonl",
    "torch-rmsprop-cycliclr-triangular2-f32.jsonl",
];

/// The twins of [`TORCH_MKL_SQRT`] (and of the other runs of the same settings), recorded with
/// the correctly rounded root in place of torch's, replay bit for bit.
#[test]
fn torch_feature_runs_with_ieee_sqrt_replay_bit_for_bit() {
    let dir = golden_dir().join("features-ieee-sqrt");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let o = compare::replay(&mut format::open(&path).unwrap(), None).unwrap();
        assert!(
            o.bit_identical(),
            "{name}: {}/{} steps bit-identical, first difference {:?}",
            o.bit_identical_steps,
            o.steps,
            o.first_difference
        );
        seen.push(name);
    }
    for name in TORCH_MKL_SQRT {
        assert!(seen.iter().any(|s| s == name), "{name} has no IEEE-sqrt twin");
    }
    assert_eq!(seen.len(), 6);
}

#[test]
fn feature_golden_traces_agree_and_replay_bit_for_bit() {
    let files = feature_files();
    assert!(
        files.len() >= 130,
        "expected the feature traces, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut within = Vec::new();
    let mut bit = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut reader = format::open(path).unwrap();
        let o = match compare::replay(&mut reader, None) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if !o.agrees() {
            failures.push(format!(
                "{name}: disagrees: {:?} {:?}",
                o.first_beyond, o.step_error
            ));
            continue;
        }
        // optax rmsprop uses rsqrt only with eps_in_sqrt (its default).
        let rsqrt_free = format::open(path)
            .unwrap()
            .header()
            .hyperparameters
            .get("eps_in_sqrt")
            .is_some_and(|v| v == &serde_json::Value::Bool(false));
        let exempt = ["optax-adagrad", "optax-rmsprop"]
            .iter()
            .any(|k| name.starts_with(k))
            && (!name.starts_with("optax-rmsprop") || !rsqrt_free);
        if o.bit_identical() {
            bit += 1;
        } else if exempt || TORCH_MKL_SQRT.contains(&name.as_str()) {
            within.push(name.clone());
        } else {
            failures.push(format!(
                "{name}: {}/{} steps bit-identical, first difference {:?}",
                o.bit_identical_steps, o.steps, o.first_difference
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{bit} of {} feature traces bit for bit", files.len());
    println!("within tolerance (exempt): {}", within.join(", "));
}

/// The dicts the frameworks report (scripts/framework_defaults.py: torch `opt.defaults` and
/// `param_groups[0]` minus `params`, optax's full alias signatures with their defaults, Keras
/// `get_config()`), written verbatim, are accepted, and they change nothing: the setting is
/// the one of a header that names only the learning rate.
#[test]
fn framework_default_dicts_are_accepted_verbatim_and_are_no_ops() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/framework-defaults.json");
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut n = 0;
    for (preset, lr_name) in [
        ("pytorch", "lr"),
        ("optax", "learning_rate"),
        ("keras", "learning_rate"),
    ] {
        for (optimizer, entry) in data[preset].as_object().unwrap() {
            let dicts: Vec<&serde_json::Value> = if preset == "pytorch" {
                vec![&entry["defaults"], &entry["param_group"]]
            } else {
                vec![entry]
            };
            for d in dicts {
                let map = d.as_object().unwrap();
                let got = presets::resolve(preset, optimizer, map)
                    .unwrap_or_else(|e| panic!("{preset} {optimizer}: {e}\n{d}"));
                let mut minimal = serde_json::Map::new();
                if let Some(lr) = map.get(lr_name) {
                    minimal.insert(lr_name.into(), lr.clone());
                }
                let want = presets::resolve(preset, optimizer, &minimal).unwrap();
                assert_eq!(
                    got, want,
                    "{preset} {optimizer}: the verbatim dict changed the setting"
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 2 * 9 + 13 + 6);
}

/// Values that change the update and are not modelled are refused, naming the argument and
/// saying "not modelled"; the newly modelled ones are accepted.
#[test]
fn arguments_that_are_not_modelled_are_refused_by_name() {
    let refused = |preset: &str, optimizer: &str, hp: &str, name: &str| {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(hp).unwrap();
        let e = presets::resolve(preset, optimizer, &map)
            .expect_err(hp)
            .to_string();
        assert!(
            e.contains(name) && e.contains("not modelled"),
            "{preset} {optimizer} {hp}: {e}"
        );
    };
    refused(
        "pytorch",
        "adamw",
        r#"{"decoupled_weight_decay": false}"#,
        "decoupled_weight_decay",
    );
    refused(
        "optax",
        "adam",
        r#"{"learning_rate": 0.1, "mu_dtype": "bfloat16"}"#,
        "mu_dtype",
    );
    refused(
        "optax",
        "sgd",
        r#"{"learning_rate": 0.1, "accumulator_dtype": "bfloat16"}"#,
        "accumulator_dtype",
    );
    refused(
        "optax",
        "adamw",
        r#"{"learning_rate": 0.1, "mask": [true, false]}"#,
        "mask",
    );
    refused(
        "optax",
        "adafactor",
        r#"{"learning_rate": 0.1, "momentum": 0.9, "dtype_momentum": "bfloat16"}"#,
        "dtype_momentum",
    );
    refused(
        "optax",
        "adafactor",
        r#"{"learning_rate": 0.1, "decay_offset": 5}"#,
        "decay_offset",
    );
    // Accepted as an execution flag: torch's fused kernels compute the same operations in
    // another rounding order (compared within tolerance; presets module doc).
    let fused: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"fused": true}"#).unwrap();
    let plain = serde_json::Map::new();
    assert_eq!(
        presets::resolve("pytorch", "adam", &fused).unwrap(),
        presets::resolve("pytorch", "adam", &plain).unwrap()
    );
    // Newly accepted: Adam(decoupled_weight_decay=True) is AdamW; optax's both-uncorrected AMSGrad.
    let map = |s: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s).unwrap();
    let a = presets::resolve(
        "pytorch",
        "adam",
        &map(r#"{"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": true}"#),
    )
    .unwrap();
    let w = presets::resolve("pytorch", "adamw", &map(r#"{"lr": 0.01, "weight_decay": 0.1}"#)).unwrap();
    assert_eq!(a, w);
    for hp in [
        r#"{"learning_rate": 0.1, "bias_correction_mu": false, "bias_correction_nu": false}"#,
        r#"{"learning_rate": 0.1, "bias_correction_nu": false}"#,
        r#"{"learning_rate": 0.1, "bias_correction_mu": false}"#,
    ] {
        assert!(presets::resolve("optax", "amsgrad", &map(hp)).is_ok(), "{hp}");
    }
    // optax rmsprop: nesterov (with and without momentum, where optax ignores it), with
    // bias correction and centred.
    for hp in [
        r#"{"learning_rate": 0.1, "momentum": 0.9, "nesterov": true, "bias_correction": true}"#,
        r#"{"learning_rate": 0.1, "nesterov": true}"#,
        r#"{"learning_rate": 0.1, "momentum": 0.9, "nesterov": true, "centered": true}"#,
    ] {
        assert!(presets::resolve("optax", "rmsprop", &map(hp)).is_ok(), "{hp}");
    }
}

/// A header's declarations are validated before any replay: a malformed or unmodelled one
/// is bad input (exit 2) naming the field.
#[test]
fn bad_declarations_are_bad_input_naming_the_field() {
    let base = std::fs::read_to_string(golden_dir().join("features/torch-adamw-groups.jsonl")).unwrap();
    let (head, rest) = base.split_once('\n').unwrap();
    let case = |edit: &dyn Fn(&mut serde_json::Value), want: &[&str]| {
        let mut h: serde_json::Value = serde_json::from_str(head).unwrap();
        edit(&mut h);
        let bytes = format!("{h}\n{rest}");
        let mut r = TraceReader::new("edited.jsonl", bytes.as_bytes()).unwrap();
        let out = cli::replay_reader(&mut r, None);
        assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
        for w in want {
            assert!(out.text.contains(w), "expected {w:?} in: {}", out.text);
        }
    };
    case(
        &|h| h["param_groups"][1]["blocks"] = serde_json::json!(["bias"]),
        &["param_groups[1].blocks", "\"bias\""],
    );
    case(
        &|h| h["param_groups"][1]["blocks"] = serde_json::json!(["w"]),
        &["already in param_groups[0]"],
    );
    case(
        &|h| h["param_groups"][1]["blocks"] = serde_json::json!([]),
        &["names no block"],
    );
    case(
        &|h| h["param_groups"].as_array_mut().unwrap().truncate(1),
        &["block \"b\" is in no group"],
    );
    case(
        &|h| h["param_groups"][1]["hyperparameters"]["decoupled_weight_decay"] = serde_json::json!(false),
        &[
            "param_groups[1].hyperparameters",
            "decoupled_weight_decay",
            "not modelled",
        ],
    );
    case(
        &|h| h["schedule"] = serde_json::json!({"name": "LambdaLR", "args": {}}),
        &["schedule", "LambdaLR", "hyperparameters"],
    );
    case(
        &|h| h["schedule"] = serde_json::json!({"name": "CosineAnnealingLR", "args": {"T_max": 0}}),
        &["schedule", "T_max"],
    );
    case(
        &|h| {
            h["transforms"] = serde_json::json!([{"name": "clip_by_global_norm", "args": {"max_norm": 1.0}}])
        },
        &["transforms", "clip_grad_norm_"],
    );
}

/// optax `multi_transform` of *different* optimizers (adam on `w`, sgd with momentum on `b`):
/// the group's own `optimizer` is replayed by that optimizer's kernel, bit for bit; the same
/// trace without it (both groups adam) disagrees, and a group's own optimizer is refused
/// where the framework has no such thing (torch groups) or the chain does not say
/// `multi_transform`.
#[test]
fn multi_transform_of_different_optimizers() {
    for suffix in ["", "-f32"] {
        let path = golden_dir().join(format!("features/optax-adam-sgd-multi{suffix}.jsonl"));
        let out = cli::replay(&path, None);
        assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
        assert!(out.text.contains("b: optax sgd"), "{}", out.text);
        assert!(out.text.contains("30/30 steps bit for bit"), "{}", out.text);
    }
    let base = std::fs::read_to_string(golden_dir().join("features/optax-adam-sgd-multi.jsonl")).unwrap();
    let (head, rest) = base.split_once('\n').unwrap();
    let run = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut h: serde_json::Value = serde_json::from_str(head).unwrap();
        edit(&mut h);
        let bytes = format!("{h}\n{rest}");
        let mut r = TraceReader::new("edited.jsonl", bytes.as_bytes()).unwrap();
        cli::replay_reader(&mut r, None)
    };
    // Without the group's optimizer, `b` is replayed by adam with sgd's arguments: refused
    // (`momentum` is not an adam argument), and with them removed too, a disagreement.
    let out = run(&|h| {
        h["param_groups"][1].as_object_mut().unwrap().remove("optimizer");
        h["param_groups"][1]["hyperparameters"] = serde_json::json!({"learning_rate": 0.1});
    });
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    let out = run(&|h| h["param_groups"][1]["optimizer"] = serde_json::json!("sgdx"));
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("param_groups[1].optimizer") && out.text.contains("unknown optimizer \"sgdx\""),
        "{}",
        out.text
    );
    let out = run(&|h| h["transforms"] = serde_json::json!([]));
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("param_groups[1].optimizer") && out.text.contains("multi_transform"),
        "{}",
        out.text
    );
    let torch = std::fs::read_to_string(golden_dir().join("features/torch-adamw-groups.jsonl")).unwrap();
    let (th, trest) = torch.split_once('\n').unwrap();
    let mut h: serde_json::Value = serde_json::from_str(th).unwrap();
    h["param_groups"][1]["optimizer"] = serde_json::json!("sgd");
    let bytes = format!("{h}\n{trest}");
    let mut r = TraceReader::new("torch.jsonl", bytes.as_bytes()).unwrap();
    let out = cli::replay_reader(&mut r, None);
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("pytorch groups share the optimizer"),
        "{}",
        out.text
    );
    // The group's optimizer equal to the header's is the same as leaving it out.
    let mut h: serde_json::Value = serde_json::from_str(th).unwrap();
    h["param_groups"][1]["optimizer"] = serde_json::json!("adamw");
    let bytes = format!("{h}\n{trest}");
    let mut r = TraceReader::new("torch.jsonl", bytes.as_bytes()).unwrap();
    assert_eq!(cli::replay_reader(&mut r, None).status, EXIT_AGREE);
}

/// A step line's `hyperparameters` drive the replay (a LambdaLR nobody can name): removing
/// them turns the agreeing trace into a disagreement, and a malformed entry is bad input.
#[test]
fn step_hyperparameters_drive_the_replay() {
    let path = golden_dir().join("features/torch-adamw-lambdalr.jsonl");
    assert_eq!(cli::replay(&path, None).status, EXIT_AGREE);
    let text = std::fs::read_to_string(&path).unwrap();
    let stripped: String = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if let Some(o) = v.as_object_mut().filter(|o| o.contains_key("step")) {
                o.remove("hyperparameters");
            }
            format!("{v}\n")
        })
        .collect();
    let mut r = TraceReader::new("stripped.jsonl", stripped.as_bytes()).unwrap();
    assert_eq!(cli::replay_reader(&mut r, None).status, EXIT_DISAGREE);
    let bad: String = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v.get("step") == Some(&serde_json::json!(3)) {
                v["hyperparameters"]["eps"] = serde_json::json!(1e-3);
            }
            format!("{v}\n")
        })
        .collect();
    let mut r = TraceReader::new("bad.jsonl", bad.as_bytes()).unwrap();
    let out = cli::replay_reader(&mut r, None);
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("`eps`") && out.text.contains("not modelled"),
        "{}",
        out.text
    );
}

/// A correct AdamW run with a cosine schedule and bias groups, declared, AGREES under
/// `check` (exit 0), bit for bit, and says why the convention variants were not replayed.
#[test]
fn declared_schedule_and_groups_agree_under_check() {
    let out = cli::check(
        &golden_dir().join("features/torch-adamw-groups-cosine.jsonl"),
        None,
    );
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(out.text.contains("30/30 steps bit for bit"), "{}", out.text);
    assert!(
        out.text.contains("convention variants not replayed"),
        "{}",
        out.text
    );
}

// ------------------------------------------------ Keras get_config() verbatim (keras12)

/// A feature trace's lines with the header and each step line passed through `edit`.
fn edited_lines(
    path: &Path,
    header: &dyn Fn(&mut serde_json::Value),
    step: &dyn Fn(&mut serde_json::Value),
) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v.get("step").is_some() {
                step(&mut v);
            } else {
                header(&mut v);
            }
            format!("{v}\n")
        })
        .collect()
}

/// Keras runs whose header is `optimizer.get_config()` verbatim, the schedule serialized as
/// the value of `learning_rate` (CosineDecay with and without warm-up, ExponentialDecay,
/// PiecewiseConstantDecay, CosineDecayRestarts; adam, adamw, sgd, rmsprop; f32 and f64; two
/// written by `optverify.keras.record`; scripts/golden_keras.py --verbatim): every one AGREES
/// under `check`, bit for bit at each of its 40 steps. Before the serialized schedule was read
/// as a declaration each was bad input ("`learning_rate` must be a finite number").
#[test]
fn keras_get_config_verbatim_with_a_schedule_agrees_bit_for_bit() {
    let files: Vec<PathBuf> = feature_files()
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("keras-verbatim-") || n.starts_with("keras-recorder-")
        })
        .collect();
    assert_eq!(files.len(), 20, "{files:?}");
    let mut restarts = 0;
    for path in &files {
        let h = format::open(path).unwrap().header().clone();
        assert!(
            h.hyperparameters["learning_rate"].is_object(),
            "{}",
            path.display()
        );
        restarts += usize::from(h.schedule.as_ref().unwrap().name == "CosineDecayRestarts");
        let out = cli::check(path, None);
        assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
        assert!(out.text.contains("40/40 steps bit for bit"), "{}", out.text);
    }
    assert_eq!(restarts, 10);
}

/// A header that declares a `schedule` as well as a serialized one in `learning_rate`: the same
/// schedule (defaults left out) is accepted; another is bad input naming both.
#[test]
fn keras_schedule_declared_twice_must_agree() {
    let path = golden_dir().join("features/keras-verbatim-adamw-restarts.jsonl");
    for (args, agrees) in [
        (
            serde_json::json!({"initial_learning_rate": 0.02, "first_decay_steps": 4, "m_mul": 0.9, "alpha": 0.1}),
            true,
        ),
        (
            serde_json::json!({"initial_learning_rate": 0.02, "first_decay_steps": 4, "m_mul": 0.8, "alpha": 0.1}),
            false,
        ),
    ] {
        let text = edited_lines(
            &path,
            &|h| h["schedule"] = serde_json::json!({"name": "CosineDecayRestarts", "args": args.clone()}),
            &|_| {},
        );
        match TraceReader::new("twice.jsonl", text.as_bytes()) {
            Ok(mut r) => {
                assert!(agrees);
                let out = cli::check_reader(&mut r, None);
                assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
            }
            Err(e) => {
                assert!(!agrees, "{e}");
                let e = e.to_string();
                assert!(
                    e.contains("hyperparameters.learning_rate")
                        && e.contains("\"m_mul\":0.9")
                        && e.contains("\"m_mul\":0.8")
                        && e.contains("must be the same schedule"),
                    "{e}"
                );
            }
        }
    }
}

/// A custom (registered) schedule in `learning_rate` is not modelled: without per-step values
/// the check is bad input naming the class and asking for them; with the step lines'
/// `learning_rate` (here the values the run used, CosineDecayRestarts') it AGREES bit for bit.
#[test]
fn keras_custom_schedule_is_checked_from_the_step_lines() {
    use optverify::oracle::schedules;
    let path = golden_dir().join("features/keras-verbatim-adamw-restarts.jsonl");
    let h = format::open(&path).unwrap().header().clone();
    let lrs = schedules::values("keras", h.schedule.as_ref().unwrap(), 0.0, 40).unwrap();
    let custom = |h: &mut serde_json::Value| {
        let lr = &mut h["hyperparameters"]["learning_rate"];
        lr["module"] = serde_json::json!("my_project.schedules");
        lr["class_name"] = serde_json::json!("MySGDR");
        lr["registered_name"] = serde_json::json!("my_project>MySGDR");
    };
    let bare = edited_lines(&path, &custom, &|_| {});
    let mut r = TraceReader::new("custom.jsonl", bare.as_bytes()).unwrap();
    assert!(r.header().schedule.is_none());
    let out = cli::check_reader(&mut r, None);
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("`MySGDR`")
            && out.text.contains("my_project>MySGDR")
            && out.text.contains("does not model")
            && out
                .text
                .contains("every step line must give `hyperparameters` with `learning_rate`"),
        "{}",
        out.text
    );
    let with_lr = edited_lines(&path, &custom, &|s| {
        let t = s["step"].as_u64().unwrap() as usize;
        s["hyperparameters"] = serde_json::json!({"learning_rate": lrs[t - 1]});
    });
    let mut r = TraceReader::new("custom-lr.jsonl", with_lr.as_bytes()).unwrap();
    let out = cli::check_reader(&mut r, None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(out.text.contains("40/40 steps bit for bit"), "{}", out.text);
}
