//! optax float32 runs with JAX's x64 *disabled* (JAX's default), declared by the header field
//! `"jax_enable_x64": false` (issue 12 follow-up): the golden runs of
//! scripts/golden_x64off.py (plain aliases, recorded through `optverify.optax.record`, which
//! writes the flag) replay bit for bit through the kernels' `Hyper::PlainX32` mode
//! (kernels/optax.rs), the same runs without the declaration do not all, and a value the
//! oracle cannot honour is refused naming the field.

use optverify::oracle::binary;
use optverify::oracle::cli::{self, EXIT_AGREE, EXIT_BAD_INPUT};
use optverify::oracle::format::TraceReader;
use std::path::{Path, PathBuf};

#[path = "support/cli.rs"]
mod support;
use support::{edited, golden_dir, replay_text, temp_path};

/// The traces of scripts/golden_x64off.py: `optax-<opt>[-<form>]-x64off[-<variant>]-f32.jsonl`.
fn x64off_traces() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir().join("features"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| name_of(p).contains("-x64off"))
        .collect();
    files.sort();
    files
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The optimizer a trace's name starts with (`optax-rmsprop-centered-x64off-f32.jsonl` → rmsprop).
fn optimizer_of(name: &str) -> &str {
    name.trim_start_matches("optax-").split('-').next().unwrap()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(golden_dir().join("features").join(name)).unwrap()
}

/// `check` on a trace's text: (exit status, output).
fn check_text(text: &str) -> (u8, String) {
    let mut r = match TraceReader::new("edited.jsonl", text.as_bytes()) {
        Ok(r) => r,
        Err(e) => return (EXIT_BAD_INPUT, e.to_string()),
    };
    let out = cli::replay_reader(&mut r, None);
    (out.status, out.text)
}

/// adagrad's `jax.lax.rsqrt` is the CPU's own estimate (kernels/optax.rs `rsqrt`): on a host
/// whose `rsqrtss` table is not the producer's (AMD EPYC) its traces may differ in the last
/// bits, so they are required to agree within the default tolerance, as in tests/oracle.rs.
fn uses_rsqrt(name: &str) -> bool {
    optimizer_of(name) == "adagrad"
}

/// Every x64-disabled golden run — each optax optimizer, constant hyperparameters and an
/// `exponential_decay` learning rate, adam on one pytree leaf, rmsprop centred and Nesterov,
/// adafactor with momentum — agrees with its declaration bit for bit on every step, in JSON
/// Lines and converted to the binary layout (whose plain fast path builds the kernel from the
/// same header). Before the mode existed, adam was 0/30 steps bit for bit (25 ulps of scale),
/// radam 2318 ulps.
#[test]
fn x64_disabled_golden_runs_replay_bit_for_bit() {
    let files = x64off_traces();
    // 31 with the warmup-cosine run, whose schedule is evaluated as with x64 (not modelled in
    // float32): its 30 learning rates agree with JAX's float32 ones (measured), so it is bit for
    // bit too; a longer run need not be (`schedules_the_flag_changes_…` below).
    assert_eq!(files.len(), 31, "scripts/golden_x64off.py writes 31 runs");
    let mut failures = Vec::new();
    for p in &files {
        let name = name_of(p);
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains(r#""jax_enable_x64": false"#),
            "{name}: the recorder declares the flag"
        );
        let o = replay_text(&name, &text);
        assert_eq!(o.steps, 30, "{name}");
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
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Binary: the fast path (no schedule, no transforms) and a sampled check.
    for name in [
        "optax-adam-x64off-f32.jsonl",
        "optax-radam-x64off-f32.jsonl",
        "optax-lamb-x64off-f32.jsonl",
    ] {
        let dir = temp_path(&name.replace(".jsonl", ".ovt"));
        let _ = std::fs::remove_dir_all(&dir);
        let c = binary::convert(&golden_dir().join("features").join(name), &dir);
        assert_eq!(c.status, 0, "{name}: {}", c.text);
        let o = binary::check_any(&dir, None, None);
        assert_eq!(o.status, EXIT_AGREE, "{name}: {}", o.text);
        assert!(o.text.contains("30/30 steps bit for bit"), "{name}: {}", o.text);
        if name.contains("adam") {
            let o = binary::check_any(&dir, None, Some(3));
            assert!(
                o.text.contains("30/30 steps bit for bit"),
                "{name} --sample 3: {}",
                o.text
            );
        }
        let back = temp_path(name);
        assert_eq!(binary::convert(&dir, &back).status, 0);
        let back_text = std::fs::read_to_string(&back).unwrap();
        assert!(
            back_text
                .lines()
                .next()
                .unwrap()
                .contains(r#""jax_enable_x64":false"#),
            "{name}: the conversion keeps the flag"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&back).unwrap();
    }
}

/// What the declaration is worth: the same runs replayed without it (the x64-enabled plain
/// kernel). Every alias whose per-step scalars involve `βᵗ` (the bias corrections: adam,
/// adamw, amsgrad, nadam, nadamw, radam, lamb, bias-corrected rmsprop) is no longer bit for
/// bit; the others (sgd, lars, adagrad, adadelta, adafactor, rmsprop without bias correction)
/// only multiply by their hyperparameters and replay exactly as declared. `true` is the same
/// as leaving the field out.
#[test]
fn without_the_declaration_the_bias_corrected_runs_are_not_bit_for_bit() {
    let uses_beta_t = |name: &str| {
        matches!(
            optimizer_of(name),
            "adam" | "adamw" | "amsgrad" | "nadam" | "nadamw" | "radam" | "lamb"
        ) || (optimizer_of(name) == "rmsprop" && !name.contains("centered"))
    };
    let mut failures = Vec::new();
    let mut differing = 0;
    for p in x64off_traces() {
        let name = name_of(&p);
        let text = std::fs::read_to_string(&p).unwrap();
        let declared = replay_text(&name, &text);
        let absent = replay_text(
            &name,
            &edited(&text, &|h| {
                h.as_object_mut().unwrap().remove("jax_enable_x64");
            }),
        );
        let enabled = replay_text(
            &name,
            &edited(&text, &|h| h["jax_enable_x64"] = serde_json::json!(true)),
        );
        assert!(
            absent.agrees(),
            "{name}: within tolerance without the declaration"
        );
        assert_eq!(
            (absent.bit_identical_steps, absent.worst_scaled_ulps_value()),
            (enabled.bit_identical_steps, enabled.worst_scaled_ulps_value()),
            "{name}: true is the default"
        );
        println!(
            "{name}: without the declaration {}/{} steps bit for bit, worst {} ulps of scale",
            absent.bit_identical_steps,
            absent.steps,
            absent.worst_scaled_ulps_value()
        );
        if uses_beta_t(&name) {
            differing += 1;
            if absent.bit_identical() || absent.worst_scaled_ulps_value() == 0 {
                failures.push(format!("{name}: the x64-enabled kernel reproduces the run"));
            }
        } else if (absent.bit_identical_steps, absent.worst_scaled_ulps_value())
            != (declared.bit_identical_steps, declared.worst_scaled_ulps_value())
        {
            failures.push(format!(
                "{name}: {}/{} without the declaration, {}/{} with it",
                absent.bit_identical_steps, absent.steps, declared.bit_identical_steps, declared.steps
            ));
        }
    }
    assert_eq!(differing, 19, "the bias-corrected runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Bad values are refused naming the field and the valid values, in both readers: a
/// non-bool (string, number, null), `false` with dtype f64 (float64 arrays need x64), and the
/// field on a torch trace.
#[test]
fn bad_declarations_are_refused_naming_the_field() {
    let adam = read("optax-adam-x64off-f32.jsonl");
    for v in [
        serde_json::json!("false"),
        serde_json::json!(0),
        serde_json::Value::Null,
    ] {
        let (status, text) = check_text(&edited(&adam, &|h| h["jax_enable_x64"] = v.clone()));
        assert_eq!(status, EXIT_BAD_INPUT, "{v}: {text}");
        assert!(
            text.contains("jax_enable_x64") && text.contains("true or false"),
            "{v}: {text}"
        );
    }
    // float64 with x64 disabled.
    let f64_trace = read("optax-adam-inject.jsonl");
    let (status, text) = check_text(&edited(&f64_trace, &|h| {
        h["jax_enable_x64"] = serde_json::json!(false)
    }));
    assert_eq!(status, EXIT_BAD_INPUT, "{text}");
    assert!(
        text.contains("jax_enable_x64") && text.contains("f64") && text.contains("valid"),
        "{text}"
    );
    // ... while true is accepted there, and changes nothing.
    let (status, text) = check_text(&edited(&f64_trace, &|h| {
        h["jax_enable_x64"] = serde_json::json!(true)
    }));
    assert_eq!(status, EXIT_AGREE, "{text}");
    // A torch trace.
    let torch = std::fs::read_to_string(golden_dir().join("torch-adamw-default-randn-f32.jsonl")).unwrap();
    let (status, text) = check_text(&edited(&torch, &|h| {
        h["jax_enable_x64"] = serde_json::json!(false)
    }));
    assert_eq!(status, EXIT_BAD_INPUT, "{text}");
    assert!(
        text.contains("jax_enable_x64") && text.contains("pytorch") && text.contains("optax and keras"),
        "{text}"
    );
    // The binary reader: `false` replaced in place by a string of the same length.
    let dir = temp_path("bad-flag.ovt");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        binary::convert(&golden_dir().join("features/optax-adam-x64off-f32.jsonl"), &dir).status,
        0
    );
    let hpath = dir.join("header.safetensors");
    let mut bytes = std::fs::read(&hpath).unwrap();
    let pat = br#"\"jax_enable_x64\":false"#;
    let at = bytes
        .windows(pat.len())
        .position(|w| w == pat)
        .expect("the flag in the header metadata");
    let replacement = br#"\"jax_enable_x64\":\"x\""#;
    assert_eq!(pat.len(), replacement.len());
    bytes[at..at + pat.len()].copy_from_slice(replacement);
    std::fs::write(&hpath, &bytes).unwrap();
    let o = binary::check_any(&dir, None, None);
    assert_eq!(o.status, EXIT_BAD_INPUT, "{}", o.text);
    assert!(
        o.text.contains("jax_enable_x64") && o.text.contains("true or false"),
        "{}",
        o.text
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Schedules under x64 disabled: one whose values do not depend on the flag (the golden
/// runs' `exponential_decay`) is evaluated as with x64, bit for bit; one JAX computes
/// differently in float32 (`warmup_cosine_decay_schedule`, a real run of
/// scripts/golden_x64off.py) is evaluated as with x64 too — the run agrees (within tolerance:
/// its values may differ in the last float32 bits) and the reference says so, instead of a
/// correct run being refused; given on the step lines (`inject_hyperparams` records it, and
/// its arrays are float32 with the flag on or off), the learning rate replays bit for bit.
#[test]
fn schedules_the_flag_changes_are_evaluated_as_with_x64_and_said_so() {
    let sched = read("optax-adam-x64off-sched-f32.jsonl");
    assert!(replay_text("sched", &sched).bit_identical());
    let (status, text) = check_text(&sched);
    assert_eq!(status, EXIT_AGREE, "{text}");
    assert!(!text.contains("evaluated as with x64"), "{text}");
    let cosine = read("optax-adamw-x64off-cosine-f32.jsonl");
    let (status, text) = check_text(&cosine);
    assert_eq!(status, EXIT_AGREE, "{text}");
    assert!(
        text.contains("schedule warmup_cosine_decay_schedule evaluated as with x64")
            && text.contains("within tolerance"),
        "{text}"
    );
    // The same run declared with another cosine disagrees: the schedule is evaluated, not
    // skipped.
    let (status, text) = check_text(&edited(&cosine, &|h| {
        h["schedule"]["args"]["decay_steps"] = serde_json::json!(40)
    }));
    assert_ne!(status, EXIT_AGREE, "{text}");
    // The run's schedule joined at step 100 (after the 30 steps) with another: evaluated in
    // both cases, the note naming the join when a member is one the flag changes.
    let joined = |inner: serde_json::Value| {
        edited(&sched, &move |h| {
            let run = h["schedule"].clone();
            h["schedule"] = serde_json::json!({"name": "join_schedules", "args": {
                "schedules": [run, inner.clone()], "boundaries": [100]}});
        })
    };
    let (status, text) = check_text(&joined(
        serde_json::json!({"name": "cosine_decay_schedule", "args": {"init_value": 0.01, "decay_steps": 25}}),
    ));
    assert_eq!(status, EXIT_AGREE, "{text}");
    assert!(
        text.contains("schedule join_schedules evaluated as with x64"),
        "{text}"
    );
    let (status, text) = check_text(&joined(
        serde_json::json!({"name": "constant_schedule", "args": {"value": 0.5}}),
    ));
    assert_eq!(status, EXIT_AGREE, "{text}");
    assert!(!text.contains("evaluated as with x64"), "{text}");
    // inject_hyperparams with a cosine schedule, recorded with x64 disabled: the step lines
    // carry the learning rate.
    let inject =
        std::fs::read_to_string(golden_dir().join("features/optax-adam-inject-sched-f32.jsonl")).unwrap();
    let o = replay_text(
        "inject",
        &edited(&inject, &|h| h["jax_enable_x64"] = serde_json::json!(false)),
    );
    assert!(o.bit_identical(), "{:?}", o.first_difference);
}

/// Keras runs on JAX too: the flag is accepted; its optimizers compute the same with it off
/// (a trace without a schedule replays as before), and its schedules, which then compute in
/// float32 (not modelled), are evaluated as with x64, and the reference says so.
#[test]
fn keras_accepts_the_flag_and_says_how_it_evaluates_a_schedule() {
    let plain = std::fs::read_to_string(golden_dir().join("features/keras-sgd-exclude-f32.jsonl")).unwrap();
    let before = replay_text("plain", &plain);
    let after = replay_text(
        "plain",
        &edited(&plain, &|h| h["jax_enable_x64"] = serde_json::json!(false)),
    );
    assert!(before.bit_identical() && after.bit_identical());
    let sched = std::fs::read_to_string(golden_dir().join("features/keras-adam-cosine-f32.jsonl")).unwrap();
    assert!(replay_text("sched", &sched).bit_identical());
    let (status, text) = check_text(&edited(&sched, &|h| {
        h["jax_enable_x64"] = serde_json::json!(false)
    }));
    // Recorded with x64: evaluated as with x64, the run agrees bit for bit, and the
    // reference names how the schedule was evaluated.
    assert_eq!(status, EXIT_AGREE, "{text}");
    assert!(
        text.contains("evaluated as with x64") && text.contains("30/30 steps bit for bit"),
        "{text}"
    );
}
