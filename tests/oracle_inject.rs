//! optax `inject_hyperparams` in float32 and float64 (issue 12): the golden runs of
//! scripts/golden_inject.py (recorded through `optverify.optax.record`, float32 with jax's x64
//! disabled) replay bit for bit through kernels that compute the alias's per-step scalars in
//! the dtype inject_hyperparams casts the hyperparameters to (kernels/optax.rs `Hyper`), and
//! the plain float32 kernel does not reproduce them.

use optverify::oracle::cli::{self, EXIT_AGREE, EXIT_BAD_INPUT};
use optverify::oracle::compare;
use optverify::oracle::format::TraceReader;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[path = "support/cli.rs"]
mod support;
use support::{edited, golden_dir, replay_text};

/// The traces of scripts/golden_inject.py: `optax-<opt>-inject[-<variant>][-f32].jsonl`.
fn inject_traces() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir().join("features"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("optax-") && n.contains("-inject") && n.ends_with(".jsonl")
        })
        .filter(|p| {
            // golden_traces.py's two older float64 traces (adamw-inject-cosine, adam-inject-custom)
            // are not this script's.
            let h = std::fs::read_to_string(p).unwrap();
            h.lines().next().unwrap().contains("optverify.optax.record")
        })
        .collect();
    files.sort();
    files
}

fn name_of(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The optimizer a trace's name starts with (`optax-nadamw-inject-f32.jsonl` → nadamw).
fn optimizer_of(name: &str) -> &str {
    name.trim_start_matches("optax-").split('-').next().unwrap()
}

/// adagrad's `jax.lax.rsqrt` is the CPU's own estimate (kernels/optax.rs `rsqrt`; f64 on an
/// AVX-512 host is XLA's refined `vrsqrt14pd`, not transcribed): its traces are required to
/// agree within the default tolerance, not bit for bit — as in tests/oracle.rs's feature test.
fn uses_rsqrt(name: &str) -> bool {
    optimizer_of(name) == "adagrad"
}

/// Every inject_hyperparams golden run — each optax optimizer but adafactor, constant
/// hyperparameters and a cosine learning-rate schedule, adam with a scheduled b1 and on one
/// pytree leaf, float32 and float64 — agrees with its declaration, bit for bit on every step
/// (adagrad: within the default tolerance, `uses_rsqrt`). Before float32 injection was
/// modelled, the 26 float32 traces were refused.
#[test]
fn inject_hyperparams_golden_runs_replay_bit_for_bit_in_f32_and_f64() {
    let files = inject_traces();
    let f32_count = files
        .iter()
        .filter(|p| name_of(p).ends_with("-f32.jsonl"))
        .count();
    assert_eq!(
        (files.len(), f32_count),
        (52, 26),
        "scripts/golden_inject.py writes 26 runs per dtype"
    );
    let mut table: BTreeMap<(String, &str), (u64, u64)> = BTreeMap::new();
    let mut failures = Vec::new();
    for p in &files {
        let name = name_of(p);
        let o = replay_text(&name, &std::fs::read_to_string(p).unwrap());
        let dtype = if name.ends_with("-f32.jsonl") {
            "f32"
        } else {
            "f64"
        };
        let e = table.entry((optimizer_of(&name).to_string(), dtype)).or_default();
        e.0 += o.bit_identical_steps;
        e.1 += o.steps;
        if !o.agrees() {
            failures.push(format!(
                "{name}: disagrees: {:?} {:?}",
                o.first_beyond, o.step_error
            ));
        } else if !o.bit_identical() && !uses_rsqrt(&name) {
            failures.push(format!(
                "{name}: {}/{} steps bit for bit, first difference {:?}",
                o.bit_identical_steps, o.steps, o.first_difference
            ));
        }
        assert_eq!(o.steps, 30, "{name}");
    }
    for ((opt, dtype), (bit, steps)) in &table {
        println!("optax {opt} {dtype} inject_hyperparams: {bit}/{steps} steps bit for bit");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the modelling is worth. The same runs replayed *without* the `inject_hyperparams`
/// declaration (the plain alias's kernel): in float32 every optimizer that computes with its
/// hyperparameters before using them (`1 − β`, `βᵗ`, RAdam's rectification) is no longer bit
/// for bit — 1 to 204 ulps of scale when measured — while sgd, lars and adagrad, which only
/// multiply by them, replay exactly as injected; in float64 the two are the same values.
#[test]
fn the_plain_kernel_does_not_reproduce_an_injected_f32_run() {
    let computes_with_hyperparameters = [
        "adam", "adamw", "amsgrad", "nadam", "nadamw", "radam", "lamb", "rmsprop", "adadelta",
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for p in inject_traces() {
        let name = name_of(&p);
        if name.contains("-inject-b1") {
            // A scheduled b1 has no plain counterpart (optax schedules b1 only when injected).
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let injected = replay_text(&name, &text);
        let plain = replay_text(
            &name,
            &edited(&text, &|h| {
                h.as_object_mut().unwrap().remove("transforms");
            }),
        );
        assert!(injected.agrees() && plain.agrees(), "{name}");
        if !uses_rsqrt(&name) {
            assert!(injected.bit_identical(), "{name}: injected not bit for bit");
        }
        let f32 = name.ends_with("-f32.jsonl");
        let opt = optimizer_of(&name);
        println!(
            "{name}: plain kernel {}/{} steps bit for bit, worst {} ulps of scale",
            plain.bit_identical_steps,
            plain.steps,
            plain.worst_scaled_ulps_value()
        );
        if f32 && computes_with_hyperparameters.contains(&opt) {
            if plain.bit_identical() || plain.worst_scaled_ulps_value() == 0 {
                failures.push(format!(
                    "{name}: the plain f32 kernel reproduces the injected run"
                ));
            }
        } else if (plain.bit_identical_steps, plain.worst_scaled_ulps_value())
            != (injected.bit_identical_steps, injected.worst_scaled_ulps_value())
        {
            failures.push(format!(
                "{name}: plain {}/{} ({} ulps) differs from injected {}/{} ({} ulps)",
                plain.bit_identical_steps,
                plain.steps,
                plain.worst_scaled_ulps_value(),
                injected.bit_identical_steps,
                injected.steps,
                injected.worst_scaled_ulps_value()
            ));
        }
        checked += 1;
    }
    assert_eq!(checked, 50);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `hyperparam_dtype` (inject_hyperparams's argument) is read from the transform's `args`:
/// the parameters' own dtype is modelled (the same as leaving it out), another is refused
/// naming it and saying "not modelled".
#[test]
fn hyperparam_dtype_is_declared_in_the_transform_args() {
    let f32_text =
        std::fs::read_to_string(golden_dir().join("features/optax-adam-inject-f32.jsonl")).unwrap();
    let f64_text = std::fs::read_to_string(golden_dir().join("features/optax-adam-inject.jsonl")).unwrap();
    let with = |text: &str, d: serde_json::Value| {
        edited(text, &move |h| {
            h["transforms"] =
                serde_json::json!([{"name": "inject_hyperparams", "args": {"hyperparam_dtype": d.clone()}}]);
        })
    };
    for (text, d) in [(&f32_text, "float32"), (&f64_text, "float64")] {
        let o = replay_text("edited.jsonl", &with(text, serde_json::json!(d)));
        assert!(o.bit_identical(), "{d}: {:?}", o.first_difference);
    }
    let o = replay_text("edited.jsonl", &with(&f32_text, serde_json::Value::Null));
    assert!(o.bit_identical());
    for (text, d) in [
        (&f32_text, "float64"),
        (&f64_text, "float32"),
        (&f32_text, "bfloat16"),
    ] {
        let t = with(text, serde_json::json!(d));
        let mut r = TraceReader::new("edited.jsonl", t.as_bytes()).unwrap();
        let out = cli::replay_reader(&mut r, None);
        assert_eq!(out.status, EXIT_BAD_INPUT, "{d}: {}", out.text);
        assert!(
            out.text.contains("hyperparam_dtype")
                && out.text.contains(d)
                && out.text.contains("not modelled"),
            "{d}: {}",
            out.text
        );
    }
}

/// A scheduled `b1` (inject_hyperparams evaluates it at every step; the recorder writes its
/// value on each step line) drives the replay: the run is bit for bit, a constant b1 (the
/// first step's) is not, a step line without it is refused, and a scheduled b2 is refused as
/// not modelled.
#[test]
fn a_scheduled_b1_is_taken_from_the_step_lines() {
    for file in ["optax-adam-inject-b1-f32.jsonl", "optax-adam-inject-b1.jsonl"] {
        let path = golden_dir().join("features").join(file);
        assert_eq!(cli::check(&path, None).status, EXIT_AGREE, "{file}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(replay_text(file, &text).bit_identical(), "{file}");
        let mut lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let first_b1 = lines[1]["hyperparameters"]["b1"].clone();
        assert_ne!(
            first_b1, lines[20]["hyperparameters"]["b1"],
            "{file}: b1 is scheduled"
        );
        let join = |ls: &[serde_json::Value]| ls.iter().map(|v| v.to_string() + "\n").collect::<String>();
        let mut constant = lines.clone();
        for l in constant.iter_mut().skip(1) {
            l["hyperparameters"]["b1"] = first_b1.clone();
        }
        let o = replay_text(file, &join(&constant));
        assert!(
            !o.bit_identical(),
            "{file}: a constant b1 replays the scheduled run"
        );
        lines[3]["hyperparameters"].as_object_mut().unwrap().remove("b1");
        let missing = join(&lines);
        let mut r = TraceReader::new(file, missing.as_bytes()).unwrap();
        let e = compare::replay(&mut r, None).unwrap_err().to_string();
        assert!(e.contains("must give `b1`"), "{e}");
    }
    let text = std::fs::read_to_string(golden_dir().join("features/optax-adam-inject-f32.jsonl")).unwrap();
    let t = edited(&text, &|h| {
        h["hyperparameters"]["b2"] = serde_json::json!("linear_schedule(0.99, 0.999, 10)")
    });
    let mut r = TraceReader::new("edited.jsonl", t.as_bytes()).unwrap();
    let out = cli::replay_reader(&mut r, None);
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("`b2`") && out.text.contains("not modelled"),
        "{}",
        out.text
    );
}

/// optax adafactor under inject_hyperparams: it computes its decay `1 − t^(−decay_rate)` in
/// float32 whatever the dtype, so injected in float32 without momentum it is the plain alias
/// and replays bit for bit; in float64 (the decay then float64) and with momentum
/// (`1 − momentum` in the dtype) it is refused naming it, "not modelled".
#[test]
fn adafactor_under_inject_hyperparams_is_modelled_in_f32_without_momentum() {
    let declare = |text: &str| {
        edited(text, &|h| {
            h["transforms"] = serde_json::json!([{"name": "inject_hyperparams", "args": {}}]);
        })
    };
    let read = |name: &str| std::fs::read_to_string(golden_dir().join(name)).unwrap();
    let o = replay_text(
        "edited.jsonl",
        &declare(&read("features/optax-adafactor-signature-f32.jsonl")),
    );
    assert!(o.bit_identical(), "{:?}", o.first_difference);
    for (name, what) in [
        ("features/optax-adafactor-signature.jsonl", "in float64"),
        ("optax-adafactor-opt-momentum-f32.jsonl", "with momentum"),
    ] {
        let t = declare(&read(name));
        let mut r = TraceReader::new("edited.jsonl", t.as_bytes()).unwrap();
        let out = cli::replay_reader(&mut r, None);
        assert_eq!(out.status, EXIT_BAD_INPUT, "{name}: {}", out.text);
        assert!(
            out.text.contains("adafactor") && out.text.contains(what) && out.text.contains("not modelled"),
            "{name}: {}",
            out.text
        );
    }
}
