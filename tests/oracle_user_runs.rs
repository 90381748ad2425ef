//! The oracle on traces as users record them: through the recorders of `python/optverify`
//! (`watch` for torch, `optax.record`, `keras.record_fit` for Keras `model.fit`), with the
//! frameworks' own dicts, parameter groups, schedules and chains, rather than the hand-written
//! headers of the golden set.

use optverify::oracle::cli::{self, EXIT_AGREE, EXIT_AGREE_INFERRED, EXIT_BAD_INPUT, EXIT_DISAGREE};
use optverify::oracle::format::TraceReader;
use serde_json::{json, Value};
use std::path::PathBuf;
#[path = "support/cli.rs"]
mod support;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// `text` with `edit` applied to the header (line 1) and `step` to every step line.
fn edited(text: &str, header: &dyn Fn(&mut Value), step: &dyn Fn(&mut Value)) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let mut v: Value = serde_json::from_str(l).expect("JSON line");
            if i == 0 {
                header(&mut v);
            } else {
                step(&mut v);
            }
            format!("{v}\n")
        })
        .collect()
}

fn replay_text(name: &str, text: &str) -> cli::CommandOutput {
    let mut r = TraceReader::new(name, text.as_bytes()).expect("header reads");
    cli::replay_reader(&mut r, None)
}

/// torch's `opt.defaults` holds the int `0` for `weight_decay` and `dampening`; a group given
/// `weight_decay=0.0` holds a float, which Python compares equal to the default, so `watch`
/// leaves it out of the header's group and then writes `0.0` on every step line; a header
/// written by hand may leave out a default (`nesterov`) that the step lines give. A per-step
/// value that resolves to the declared setting is a no-op; one that changes it is refused.
#[test]
fn per_step_values_equal_to_the_declared_ones_agree_whatever_their_json_type() {
    let text = std::fs::read_to_string(data("golden/features/torch-sgd-groups-lambdalr.jsonl")).unwrap();
    assert_eq!(replay_text("as-recorded.jsonl", &text).status, EXIT_AGREE);
    let declare_ints = |h: &mut Value| {
        h["hyperparameters"]["weight_decay"] = json!(0);
        h["hyperparameters"]["dampening"] = json!(0);
    };
    let floats_per_step = |wd: f64| {
        move |s: &mut Value| {
            for g in s["hyperparameters"].as_array_mut().expect("one entry per group") {
                g["weight_decay"] = json!(wd);
                g["dampening"] = json!(0.0);
                g["nesterov"] = json!(false);
            }
        }
    };
    let same = edited(&text, &declare_ints, &floats_per_step(0.0));
    let out = replay_text("ints-then-floats.jsonl", &same);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    let changed = edited(&text, &declare_ints, &floats_per_step(0.5));
    let out = replay_text("changed.jsonl", &changed);
    assert_eq!(out.status, EXIT_BAD_INPUT, "{}", out.text);
    assert!(
        out.text.contains("`weight_decay` = 0.5") && out.text.contains("not modelled"),
        "{}",
        out.text
    );
}

/// torch `OneCycleLR` cycles β₁ and brings it back to `max_momentum` at the last step, the
/// value the groups declare; `watch` writes `betas` on every step line. The replay passed a
/// step's β₁ on only when it differed from the declared one, and the kernel kept the previous
/// step's: the last step of a correct run (AdamW, two groups differing in lr and weight decay)
/// disagreed by 1e-7 (11/12 bit for bit). Every step is bit for bit now.
#[test]
fn one_cycle_momentum_returning_to_the_declared_value_is_replayed() {
    let out = cli::check(&data("user_runs/torch-adamw-groups-onecycle.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(out.text.contains("12/12 steps bit for bit"), "{}", out.text);
}

/// optax `chain(clip_by_global_norm(1.0), inject_hyperparams(adamw)(learning_rate=warmup_cosine,
/// weight_decay=0.01))` recorded with `optax.record` without declaring the clipping: the step
/// lines carry the schedule's learning rates and every step's gradient norm (5.1 … 7.2) is
/// above the threshold. The inference replayed the clipped gradients with the header's
/// constant learning rate (refused every schedule, "no ... gradient clipping ... explains it")
/// and searched thresholds only down to half the smallest gradient norm. It now replays them
/// with the step lines' hyperparameters and also scans below every norm, and names the
/// threshold (exit 3).
#[test]
fn an_undeclared_clip_is_inferred_under_recorded_per_step_learning_rates() {
    let path = data("user_runs/optax-chain-clip-inject-adamw.jsonl");
    let out = cli::check(&path, None);
    assert_eq!(out.status, EXIT_AGREE_INFERRED, "{}", out.text);
    assert!(
        out.text
            .contains("AGREES given the inferred gradient clipping clip_by_global_norm(max_norm=1)")
            && out.text.contains("10 of 10 steps clipped"),
        "{}",
        out.text
    );
    // Declared, it agrees bit for bit.
    let text = std::fs::read_to_string(&path).unwrap();
    let declared = edited(
        &text,
        &|h| h["transforms"] = json!([{"name": "clip_by_global_norm", "args": {"max_norm": 1.0}}]),
        &|_| {},
    );
    let out = replay_text("declared.jsonl", &declared);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(out.text.contains("10/10 steps bit for bit"), "{}", out.text);
}

/// torch AdamW with two parameter groups differing in lr and weight decay under
/// CosineAnnealingLR, float32, the schedule neither declared nor recorded per step (a trace
/// written by hand without the step lines' `hyperparameters`). The header's groups kept the
/// convention variants from being replayed, and then the inference did not run at all: a bare
/// disagreement. The inference now probes each group's learning rate as a multiple of group
/// 0's, and confirms the fitted schedule by replaying it on every group from its own lr.
#[test]
fn an_undeclared_schedule_is_inferred_on_a_run_with_parameter_groups() {
    let text = std::fs::read_to_string(data("user_runs/torch-adamw-groups-cosine-f32.jsonl")).unwrap();
    assert_eq!(replay_text("as-recorded.jsonl", &text).status, EXIT_AGREE);
    let forgot = edited(&text, &|_| {}, &|s| {
        s.as_object_mut().expect("step object").remove("hyperparameters");
    });
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("torch-adamw-groups-cosine-no-lr.jsonl");
    std::fs::write(&path, forgot).unwrap();
    let out = cli::check(&path, None);
    assert_eq!(out.status, EXIT_AGREE_INFERRED, "{}", out.text);
    assert!(
        out.text
            .contains("AGREES given the inferred schedule CosineAnnealingLR(T_max=12")
            && out.text.contains("with lr = 0.001 [confirmed"),
        "{}",
        out.text
    );
}

/// `watch` writes the lr on every step line, so a run without a scheduler gives a constant
/// per-step lr; the convention variants (the crate's f64 optimizers) refused any per-step
/// value, and a correct torch Adam(amsgrad=True) run read "AGREES" followed by "matches none
/// of the known convention variants". A per-step value equal to the setting's is now taken.
#[test]
fn a_constant_per_step_lr_does_not_stop_the_convention_variants() {
    let out = cli::check(&data("user_runs/torch-adam-amsgrad-f32.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(
        !out.text.contains(cli::NO_VARIANT_MATCHES)
            && out.text.contains(
                "  matches Adam + L2, decay 0.001 added to the gradient (pytorch Adam); AMSGrad max of raw v"
            ),
        "{}",
        out.text
    );
}

/// A schedule recorded per step (optax `inject_hyperparams`, torch `watch` with a scheduler)
/// is not taken by the convention variants: the diagnosis says they were not replayed, not
/// that the (agreeing) run "matches none" of them.
#[test]
fn a_per_step_schedule_says_the_variants_were_not_replayed() {
    let out = cli::check(&data("user_runs/optax-inject-sgd-piecewise.jsonl"), None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(out.text.contains("12/12 steps bit for bit"), "{}", out.text);
    assert!(
        !out.text.contains(cli::NO_VARIANT_MATCHES)
            && out.text.contains(
                "convention variants not replayed: the step lines give hyperparameters that change"
            ),
        "{}",
        out.text
    );
}

/// torch's `watch` writes the group's `lr` and `betas` on every step line, scheduled or not.
/// Equal to the declared values, they are no-ops for the convention variants too: an
/// agreeing run's diagnosis names the variant it follows instead of "matches none" with every
/// variant refused at step 1.
#[test]
fn constant_per_step_hyperparameters_leave_the_variant_diagnosis_intact() {
    let text = std::fs::read_to_string(data("golden/torch-adam-amsgrad-matrix.jsonl")).unwrap();
    let with_lr = edited(&text, &|_| {}, &|s| {
        s["hyperparameters"] = json!({"lr": 0.01, "betas": [0.9, 0.999]});
    });
    let mut r = TraceReader::new("watch-like.jsonl", with_lr.as_bytes()).expect("header reads");
    let out = cli::check_reader(&mut r, None);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(!out.text.contains(cli::NO_VARIANT_MATCHES), "{}", out.text);
    assert!(
        out.text.contains(
            "\n  matches no weight decay; AMSGrad max of raw v (pytorch, keras); ε outside the root"
        ),
        "{}",
        out.text
    );
}

/// torch `fused=True` (what `opt.defaults` holds for a fused optimizer) runs ATen's fused
/// kernels: the same operations in another rounding order, so it is accepted as an execution
/// flag and the run compared against the for-loop kernel (a golden for-loop trace declared
/// fused still agrees bit for bit; a real fused run agrees within tolerance, module doc of
/// `oracle::presets`). `maximize=True` changes the update and is handled by the replay.
#[test]
fn torch_fused_is_an_execution_flag() {
    let text = std::fs::read_to_string(data("golden/torch-adam-amsgrad-matrix.jsonl")).unwrap();
    let fused = edited(&text, &|h| h["hyperparameters"]["fused"] = json!(true), &|_| {});
    let out = replay_text("fused.jsonl", &fused);
    assert_eq!(out.status, EXIT_AGREE, "{}", out.text);
    assert!(out.text.contains("40/40 steps bit for bit"), "{}", out.text);
}

/// Every preset × optimizer, with non-default hyperparameters (learning rates other than 1,
/// coupled and decoupled decays, momentum, centring, AMSGrad), in f64 and f32: a trace the
/// crate writes with the preset's own kernel agrees, and its diagnosis names the convention
/// it follows. The diagnosis skips the "as declared" entry, so a declared setting missing
/// from the named variants read "AGREES … matches none of the known convention variants"
/// (torch Adadelta with lr ≠ 1 and a decay; optax lamb).
#[test]
fn an_agreeing_trace_of_every_preset_names_its_convention() {
    let cases = [
        (
            "pytorch",
            "sgd",
            r#"{"lr":0.05,"momentum":0.9,"nesterov":true,"weight_decay":0.001}"#,
        ),
        ("pytorch", "sgd", r#"{"lr":0.05,"momentum":0.9,"dampening":0.1}"#),
        (
            "pytorch",
            "adam",
            r#"{"lr":0.01,"weight_decay":0.01,"amsgrad":true}"#,
        ),
        ("pytorch", "adamw", r#"{"lr":0.01,"weight_decay":0.1}"#),
        (
            "pytorch",
            "adagrad",
            r#"{"lr":0.1,"lr_decay":0.001,"weight_decay":0.001,"initial_accumulator_value":0.1}"#,
        ),
        (
            "pytorch",
            "rmsprop",
            r#"{"lr":0.01,"centered":true,"momentum":0.5,"weight_decay":0.001}"#,
        ),
        ("pytorch", "adadelta", r#"{"lr":0.5,"weight_decay":0.001}"#),
        ("pytorch", "adadelta", r#"{"lr":0.5}"#),
        ("pytorch", "nadam", r#"{"lr":0.01,"weight_decay":0.01}"#),
        ("pytorch", "radam", r#"{"lr":0.01,"weight_decay":0.01}"#),
        (
            "optax",
            "sgd",
            r#"{"learning_rate":0.05,"momentum":0.9,"nesterov":true}"#,
        ),
        ("optax", "adamw", r#"{"learning_rate":0.01,"weight_decay":0.1}"#),
        ("optax", "amsgrad", r#"{"learning_rate":0.01}"#),
        ("optax", "adagrad", r#"{"learning_rate":0.1}"#),
        (
            "optax",
            "rmsprop",
            r#"{"learning_rate":0.01,"momentum":0.5,"centered":true}"#,
        ),
        ("optax", "adadelta", r#"{"learning_rate":0.5}"#),
        ("optax", "nadam", r#"{"learning_rate":0.01}"#),
        ("optax", "radam", r#"{"learning_rate":0.01}"#),
        ("optax", "lamb", r#"{"learning_rate":0.01,"weight_decay":0.01}"#),
        ("optax", "lars", r#"{"learning_rate":0.01}"#),
        (
            "keras",
            "sgd",
            r#"{"learning_rate":0.05,"momentum":0.9,"nesterov":true}"#,
        ),
        (
            "keras",
            "adam",
            r#"{"learning_rate":0.01,"weight_decay":0.01,"amsgrad":true}"#,
        ),
        ("keras", "adamw", r#"{"learning_rate":0.01}"#),
        ("keras", "adagrad", r#"{"learning_rate":0.1}"#),
        (
            "keras",
            "rmsprop",
            r#"{"learning_rate":0.01,"momentum":0.5,"centered":true}"#,
        ),
        (
            "keras",
            "adadelta",
            r#"{"learning_rate":0.5,"weight_decay":0.001}"#,
        ),
    ];
    let dir = support::temp_path("every-preset");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (preset, optimizer, hp) in cases {
        for dtype in ["f64", "f32"] {
            let path = dir.join(format!("{preset}-{optimizer}-{dtype}.jsonl"));
            let out = support::optverify(&[
                "trace",
                "--problem",
                "quadratic",
                "--dim",
                "5",
                "--steps",
                "20",
                "--preset",
                preset,
                "--optimizer",
                optimizer,
                "--hyperparameters",
                hp,
                "--dtype",
                dtype,
                "--out",
                path.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{preset} {optimizer} {hp}: {}",
                support::text(&out.stderr)
            );
            let out = cli::check(&path, None);
            if out.status != EXIT_AGREE
                || out.text.contains(cli::NO_VARIANT_MATCHES)
                || !out.text.contains("\n  matches ")
            {
                failures.push(format!("{preset} {optimizer} {hp} {dtype}:\n{}", out.text));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The `worst N ulps` of a check's verdict line.
fn worst_ulps(text: &str) -> u64 {
    let after = text
        .split("worst ")
        .nth(1)
        .expect("a verdict with `worst N ulps`");
    after
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number of ulps")
}

/// Keras `model.fit` on the JAX backend recorded with `optverify.keras.record_fit`
/// (scripts/user_runs.py): 2 epochs with `validation_split=0.25`, 12 training steps (the
/// validation batches record nothing), a LayerNormalization and a BatchNormalization whose
/// moving statistics, not trainable, stay out of the trace. fit runs the step under `jax.jit`,
/// where XLA contracts multiply-adds into FMAs and rewrites RMSprop's division by a square
/// root as a multiplication by `rsqrt`: a correct run agrees within tolerance, measured at 5
/// f32 ulps (AdamW, CosineDecay computed in float32, its values on the step lines) and 4 f64
/// ulps (RMSprop centred with momentum, ExponentialDecay from the header under x64). The test
/// bounds both at 8 ulps, the size of XLA's rewrites here (the f32 tolerance alone would pass
/// thousands), so a replay that moves further from the run is noticed. The same f32 run
/// compiled with `jit_compile=False` runs op by op and is bit for bit, so what the recorder
/// writes (gradients, variables, θ₀, learning rates, the header) is the run's own.
#[test]
fn keras_fit_runs_recorded_with_record_fit_agree() {
    for (name, bit_exact) in [
        ("keras-adamw-fit-cosine-f32", false),
        ("keras-adamw-fit-cosine-nojit-f32", true),
        ("keras-rmsprop-fit-exponential-f64", false),
    ] {
        let path = data(&format!("user_runs/{name}.jsonl"));
        let text = std::fs::read_to_string(&path).unwrap();
        let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let blocks: Vec<&str> = header["layout"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        assert_eq!(blocks.len(), 8, "{name}: {blocks:?}");
        assert!(
            blocks.iter().all(|b| !b.contains("moving_")),
            "{name}: {blocks:?}"
        );
        assert_eq!(text.lines().count(), 13, "{name}: header + 12 steps");
        // float32 (x64 off): the schedule's float32 values on every step line; float64 under
        // x64: the header's schedule only, which the oracle evaluates in that arithmetic.
        let step: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(
            step.get("hyperparameters").is_some(),
            name.ends_with("f32"),
            "{name}: {step:.200}"
        );
        let out = cli::check(&path, None);
        assert_eq!(out.status, EXIT_AGREE, "{name}: {}", out.text);
        if bit_exact {
            assert!(
                out.text.contains("12/12 steps bit for bit"),
                "{name}: {}",
                out.text
            );
        } else {
            assert!(out.text.contains("/12 steps bit for bit"), "{name}: {}", out.text);
            assert!(worst_ulps(&out.text) <= 8, "{name}: {}", out.text);
        }
    }
}

/// The f32 fit run's header declares AdamW's `exclude_from_weight_decay(var_names=["bias"])`
/// as a parameter group with `weight_decay` 0, as `optverify.keras.record` writes it, and its
/// step lines the float32 learning rates. Without the group, the biases are decayed in the
/// replay and the run disagrees: agreeing within tolerance is not agreeing with anything.
#[test]
fn keras_fit_run_without_its_weight_decay_exclusion_disagrees() {
    let text = std::fs::read_to_string(data("user_runs/keras-adamw-fit-cosine-f32.jsonl")).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        header["param_groups"][1],
        json!({"blocks": ["sequential/dense/bias", "sequential/dense_1/bias"],
               "hyperparameters": {"weight_decay": 0.0}})
    );
    let step: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert!(step["hyperparameters"]["learning_rate"].is_f64(), "{step}");
    let ungrouped = edited(
        &text,
        &|h| {
            h.as_object_mut().unwrap().remove("param_groups");
        },
        &|_| {},
    );
    let out = replay_text("ungrouped.jsonl", &ungrouped);
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
}
