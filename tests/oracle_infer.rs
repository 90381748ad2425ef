//! `check`'s inference on real framework runs (tests/data/infer/, written by
//! scripts/infer_examples.py: torch 2.15.0, optax 0.2.8 / jax 0.10.2) whose headers leave out
//! the schedule, the parameter groups or the clipping, and on two hand-written Adams with a bug.

use optverify::oracle::cli::{self, EXIT_AGREE_INFERRED, EXIT_DISAGREE};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/infer")
        .join(name)
}

fn check(name: &str) -> cli::CommandOutput {
    cli::check(&data(name), None)
}

fn assert_inferred(name: &str, want: &str) {
    let out = check(name);
    assert_eq!(out.status, EXIT_AGREE_INFERRED, "{name}\n{}", out.text);
    let line = out
        .text
        .lines()
        .find(|l| l.contains("AGREES given the inferred"))
        .unwrap_or_else(|| panic!("{name}\n{}", out.text));
    assert!(line.contains(want), "{name}: expected {want}\n{}", out.text);
    // The declared setting still disagrees, and the output says so first.
    assert!(out.text.contains("DISAGREES with as declared"), "{}", out.text);
}

#[test]
fn real_torch_schedules_are_named_with_their_arguments() {
    assert_inferred(
        "torch-adamw-cosine.jsonl",
        "schedule CosineAnnealingLR(T_max=60, eta_min=0.0) with lr = 0.01",
    );
    // float32: the same schedule within the f32 tolerance (3.8e-4).
    assert_inferred(
        "torch-adamw-cosine-f32.jsonl",
        "schedule CosineAnnealingLR(T_max=60, eta_min=0.0) with lr = 0.01",
    );
    assert_inferred(
        "torch-sgd-steplr.jsonl",
        "schedule StepLR(step_size=15, gamma=0.3) with lr = 0.1",
    );
    assert_inferred(
        "torch-sgd-onecycle.jsonl",
        "schedule OneCycleLR(max_lr=0.1, total_steps=50, pct_start=0.3, div_factor=25.0, final_div_factor=10000.0",
    );
}

/// torch `OneCycleLR` with its default `cycle_momentum=True` writes β₁ (or SGD's momentum)
/// with the lr at every step; with neither declared nor recorded, the per-step lr is refuted
/// at step 2 and the one-cycle search names the scheduler with every argument the runs used
/// (a whole run of 60 steps, and the first 50 steps of a run of 80), in f64 and f32.
#[test]
fn a_real_one_cycle_with_its_momentum_cycle_is_named() {
    for suffix in ["", "-f32"] {
        assert_inferred(
            &format!("torch-adamw-onecycle-momentum{suffix}.jsonl"),
            "OneCycleLR(max_lr=0.02, total_steps=60, pct_start=0.3, div_factor=25.0, final_div_factor=10000.0, anneal_strategy='cos', three_phase=False, base_momentum=0.85, max_momentum=0.95) with its momentum cycle [confirmed",
        );
        assert_inferred(
            &format!("torch-sgd-nesterov-onecycle-momentum{suffix}.jsonl"),
            "OneCycleLR(max_lr=0.1, total_steps=80, pct_start=0.25, div_factor=25.0, final_div_factor=10000.0, anneal_strategy='linear', three_phase=False",
        );
    }
}

/// The search is a test, not a fit: the same one-cycle run declared with another β₂ (a
/// different optimizer, which no schedule can make right) stays a disagreement, and says
/// that the one-cycle hypotheses were replayed and refuted.
#[test]
fn a_wrong_declaration_is_not_explained_by_a_one_cycle() {
    let text = std::fs::read_to_string(data("torch-adamw-onecycle-momentum.jsonl")).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(first).unwrap();
    header["hyperparameters"]["betas"] = serde_json::json!([0.9, 0.99]);
    let dir = std::env::temp_dir().join(format!("optverify-onecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wrong-beta2.jsonl");
    std::fs::write(&path, format!("{header}\n{rest}")).unwrap();
    let out = cli::check(&path, None);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert!(
        out.text
            .contains("no OneCycleLR with its momentum cycle explains it either"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains(
            "no CyclicLR (triangular, triangular2, exp_range) with its momentum cycle explains it either"
        ),
        "{}",
        out.text
    );
}

#[test]
fn a_real_optax_schedule_is_named_evaluated_in_float32() {
    assert_inferred(
        "optax-sgd-warmup-cosine.jsonl",
        "warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=60, end_value=0.001), evaluated in float32 [confirmed",
    );
}

#[test]
fn real_param_groups_and_clipping_are_inferred() {
    assert_inferred(
        "torch-adamw-groups.jsonl",
        r#"param_groups weight {"weight_decay":0.1}; bias {"weight_decay":0.0}"#,
    );
    // The bias group without decay and with its own lr.
    for suffix in ["", "-f32"] {
        assert_inferred(
            &format!("torch-adamw-groups-lr-decay{suffix}.jsonl"),
            r#"param_groups weight {}; bias {"lr":0.03,"weight_decay":0.0}"#,
        );
    }
    assert_inferred("optax-adam-clip.jsonl", "clip_by_global_norm(max_norm=0.5)");
}

#[test]
fn hand_written_adam_bugs_are_named_and_stay_disagreements() {
    for (name, want) in [
        (
            "hand-adam-no-m-correction.jsonl",
            "named cause: the bias correction of m is missing",
        ),
        (
            "hand-adamw-decay-after.jsonl",
            "named cause: the decoupled decay is applied after the Adam step",
        ),
    ] {
        let out = check(name);
        assert_eq!(out.status, EXIT_DISAGREE, "{name}\n{}", out.text);
        assert!(out.text.contains(want), "{name}\n{}", out.text);
        assert!(out.text.contains("clearest at step"), "{}", out.text);
    }
}

#[test]
fn a_real_trace_with_noise_is_explained_by_nothing() {
    // The cosine run with every parameter moved by 1e-7 relative (5 orders of magnitude above
    // the 1e-12 tolerance): no schedule, groups, clipping or bug may explain it.
    let text = std::fs::read_to_string(data("torch-adamw-cosine.jsonl")).unwrap();
    let mut lines: Vec<String> = vec![];
    for (k, line) in text.lines().enumerate() {
        if k == 0 {
            lines.push(line.to_string());
            continue;
        }
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let params: Vec<f64> = serde_json::from_value(v["params"].clone()).unwrap();
        let noisy: Vec<f64> = params
            .iter()
            .enumerate()
            .map(|(i, p)| p * (1.0 + 1e-7 * (((k * 7 + i * 3) % 5) as f64 - 2.0)))
            .collect();
        v["params"] = serde_json::json!(noisy);
        lines.push(v.to_string());
    }
    let dir = std::env::temp_dir().join(format!("optverify-infer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("noisy.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = cli::check(&path, None);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert!(!out.text.contains("AGREES given"), "{}", out.text);
    assert!(!out.text.contains("named cause"), "{}", out.text);
    assert!(
        out.text.contains("no per-step learning rate explains it"),
        "{}",
        out.text
    );
}

// ---------------------------------------------------------------- golden-trace relabels

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// `check` on the golden trace `name` with its header changed by `edit`.
fn check_relabelled(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> cli::CommandOutput {
    let text = std::fs::read_to_string(golden(name)).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(first).unwrap();
    edit(&mut header);
    let dir = std::env::temp_dir().join(format!(
        "optverify-relabel-{}-{}",
        std::process::id(),
        name.replace('/', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("relabelled.jsonl");
    std::fs::write(&path, format!("{header}\n{rest}")).unwrap();
    let out = cli::check(&path, None);
    std::fs::remove_dir_all(&dir).ok();
    out
}

/// A relabelled run is never reported as agreeing with the wrong declaration, and the output
/// names what the run really is.
fn assert_relabel(name: &str, edit: impl FnOnce(&mut serde_json::Value), status: u8, want: &str) {
    let out = check_relabelled(name, edit);
    assert_ne!(
        out.status,
        cli::EXIT_AGREE,
        "{name}: a wrong declaration agreed\n{}",
        out.text
    );
    assert!(
        !out.text.lines().any(|l| l.starts_with("AGREES with as declared")),
        "{name}\n{}",
        out.text
    );
    assert_eq!(out.status, status, "{name}\n{}", out.text);
    assert!(out.text.contains(want), "{name}: expected {want:?}\n{}", out.text);
}

/// Real framework runs (the committed golden traces) with their declared convention stripped
/// or altered: AdamW declared as Adam with L2, Keras' ε-hat Adam declared as PyTorch's, optax
/// amsgrad declared with the other moment corrected, the schedule or the parameter groups
/// dropped. Each is a disagreement with the declaration that names the convention the run
/// follows (exit 1 with "matches …"), or an agreement given an inferred explanation (exit 3)
/// — never exit 0.
#[test]
fn relabelled_golden_traces_name_the_real_convention() {
    // torch AdamW (decoupled, × lr) declared as Adam with the same λ (coupled L2).
    assert_relabel(
        "torch-adamw-decay-randn.jsonl",
        |h| h["optimizer"] = "adam".into(),
        EXIT_DISAGREE,
        "matches AdamW, decay 0.1 × lr",
    );
    // Keras Adam (ε-hat) declared as PyTorch's Adam.
    assert_relabel(
        "keras-adam-betas-matrix.jsonl",
        |h| {
            h["preset"] = "pytorch".into();
            h["hyperparameters"] = serde_json::json!({"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6});
        },
        EXIT_DISAGREE,
        "matches no weight decay; Keras ε-hat",
    );
    // PyTorch RMSprop (ε outside the root) declared as optax's (ε inside).
    assert_relabel(
        "torch-rmsprop-alpha-randn.jsonl",
        |h| {
            h["preset"] = "optax".into();
            h["hyperparameters"] = serde_json::json!({"learning_rate": 0.01, "decay": 0.9, "eps": 1e-6});
        },
        EXIT_DISAGREE,
        "matches RMSprop ε outside the root (pytorch)",
    );
    // The cosine schedule dropped from a torch AdamW run.
    assert_relabel(
        "features/torch-adamw-cosine.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("schedule");
        },
        EXIT_AGREE_INFERRED,
        "schedule CosineAnnealingLR(T_max=30",
    );
    // optax's cosine_onecycle_schedule dropped (the learning rate declared constant): the
    // one-cycle fit names it, and the declaration it prints is accepted and replays every step.
    assert_relabel(
        "features/optax-adam-onecycle.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("schedule");
            h["hyperparameters"]["learning_rate"] = 0.02.into();
        },
        EXIT_AGREE_INFERRED,
        "cosine_onecycle_schedule(transition_steps=30, peak_value=0.02, pct_start=0.3, div_factor=25.0, final_div_factor=10000.0), evaluated in float32 [confirmed",
    );
    // sgdr_schedule (two warm-up cosine cycles) dropped: no named family fits it, but the
    // per-step learning rate explains the run: exit 3 with what to record, not a disagreement.
    assert_relabel(
        "features/optax-adamw-sgdr.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("schedule");
            h["hyperparameters"]["learning_rate"] = 0.02.into();
        },
        EXIT_AGREE_INFERRED,
        "AGREES given a per-step learning rate that fits no named schedule",
    );
    // The parameter groups dropped: optax adamw with mask (no decay on the bias).
    assert_relabel(
        "features/optax-adamw-mask.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("param_groups");
        },
        EXIT_AGREE_INFERRED,
        "param_groups",
    );
    // Groups that differ in lr *and* weight decay (torch: bias with lr 0.02, no decay):
    // both are inferred per block, and confirmed by a full replay with them declared.
    assert_relabel(
        "features/torch-adamw-groups.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("param_groups");
        },
        EXIT_AGREE_INFERRED,
        r#"param_groups w {}; b {"lr":0.02,"weight_decay":0.0}"#,
    );
    // optax's clip_by_global_norm dropped.
    assert_relabel(
        "features/optax-adam-clip.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("transforms");
        },
        EXIT_AGREE_INFERRED,
        "clip_by_global_norm(max_norm=3",
    );
    // The clip dropped from a chain that keeps another member (inject_hyperparams, the same
    // arithmetic as the plain alias in f64): the entry to declare keeps that member after the
    // clip, instead of replacing the header's transforms.
    assert_relabel(
        "features/optax-adam-clip.jsonl",
        |h| h["transforms"] = serde_json::json!([{"name": "inject_hyperparams", "args": {}}]),
        EXIT_AGREE_INFERRED,
        r#"declare: "transforms": [{"args":{"max_norm":3.0},"name":"clip_by_global_norm"},{"args":{},"name":"inject_hyperparams"}]"#,
    );
}

/// torch's `ConstantLR`, `PolynomialLR` and `CyclicLR` dropped from real runs (the golden
/// feature traces, f64 and f32): each is named with its arguments and confirmed (exit 3).
/// ConstantLR and PolynomialLR from the per-step lr; `CyclicLR`, which cycles SGD's momentum
/// or Adam's β₁ with the lr, by its own search (`triangular` and `exp_range` here).
/// `SequentialLR` and `ChainedScheduler` of them fit no single family: a per-step lr, exit 3.
#[test]
fn dropped_constant_polynomial_and_cyclic_schedulers_are_named() {
    let drop = |h: &mut serde_json::Value| {
        h.as_object_mut().unwrap().remove("schedule");
    };
    for suffix in ["", "-f32"] {
        for (name, want) in [
            ("torch-sgd-constantlr", "schedule ConstantLR(factor=0.25, total_iters=8) with lr = 0.05 [confirmed"),
            ("torch-adamw-polynomiallr", "schedule PolynomialLR(total_iters=24, power=1.5) with lr = 0.01 [confirmed"),
            (
                "torch-sgd-cycliclr",
                "schedule CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=7, mode='triangular', base_momentum=0.8, max_momentum=0.9) with its momentum cycle [confirmed",
            ),
            (
                "torch-adam-cycliclr-exprange",
                "schedule CyclicLR(base_lr=0.001, max_lr=0.01, step_size_up=4, step_size_down=4, mode='exp_range', gamma=0.95, base_momentum=0.8, max_momentum=0.9) with its momentum cycle [confirmed",
            ),
            ("torch-sgd-sequential-polynomial", "a per-step learning rate that fits no named schedule"),
            ("torch-adamw-chained", "a per-step learning rate that fits no named schedule"),
        ] {
            assert_relabel(&format!("features/{name}{suffix}.jsonl"), drop, EXIT_AGREE_INFERRED, want);
        }
    }
}

/// The CyclicLR search is a test too: an Adam run under CyclicLR declared with another β₂
/// (and no schedule) is refuted by every hypothesis, and says so.
#[test]
fn a_wrong_declaration_is_not_explained_by_a_cyclic_lr() {
    assert_relabel(
        "features/torch-adam-cycliclr-exprange.jsonl",
        |h| {
            h.as_object_mut().unwrap().remove("schedule");
            h["hyperparameters"]["betas"] = serde_json::json!([0.9, 0.99]);
        },
        EXIT_DISAGREE,
        "no CyclicLR (triangular, triangular2, exp_range) with its momentum cycle explains it either",
    );
}

/// Every committed feature trace (schedules of three frameworks, groups, chains, the newly
/// modelled options, verbatim dicts), checked as written, agrees with its declaration: a
/// correct run is never reported as wrong.
#[test]
fn correct_golden_runs_are_never_reported_as_wrong() {
    let dir = golden("features");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 180, "{}", files.len());
    let mut wrong = Vec::new();
    for f in &files {
        let out = cli::check(f, None);
        if out.status != cli::EXIT_AGREE {
            wrong.push(format!("{}: exit {}\n{}", f.display(), out.status, out.text));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Real framework runs declared with one hyperparameter wrong (a β₂, an ε, a momentum, a
/// weight decay, a flag): the search over the hyperparameters' common values finds the one
/// the run used, confirmed at every step, and exits 3 with the corrected hyperparameters —
/// never 0, and never a bare disagreement.
#[test]
fn a_hyperparameter_declared_wrong_is_named_with_the_value_the_run_used() {
    // torch AdamW with the default betas, declared with β₂ = 0.99.
    assert_relabel(
        "torch-adamw-default-randn.jsonl",
        |h| h["hyperparameters"]["betas"] = serde_json::json!([0.9, 0.99]),
        EXIT_AGREE_INFERRED,
        "AGREES given the hyperparameter betas = [0.9,0.999] (declared [0.9,0.99])",
    );
    // torch AdamW run with betas (0.85, 0.995), declared with β₂ = 0.99: β₁ is kept.
    assert_relabel(
        "torch-adamw-decay-randn.jsonl",
        |h| h["hyperparameters"]["betas"] = serde_json::json!([0.85, 0.99]),
        EXIT_AGREE_INFERRED,
        "betas = [0.85,0.995] (declared [0.85,0.99])",
    );
    // optax adam (ε = 1e-8 by default) declared with ε = 1e-6.
    assert_relabel(
        "optax-adam-default-randn.jsonl",
        |h| h["hyperparameters"]["eps"] = 1e-6.into(),
        EXIT_AGREE_INFERRED,
        "eps = 1e-8 (declared 1e-6)",
    );
    // Keras Adam with nothing declared but β₂ = 0.99: the run used Keras' default.
    assert_relabel(
        "keras-adam-default-randn.jsonl",
        |h| h["hyperparameters"]["beta_2"] = 0.99.into(),
        EXIT_AGREE_INFERRED,
        "beta_2 = 0.999 (declared 0.99)",
    );
    // torch SGD with momentum 0.9, declared without momentum: the value is found although
    // the header does not name it.
    assert_relabel(
        "torch-sgd-momentum-randn.jsonl",
        |h| {
            h["hyperparameters"].as_object_mut().unwrap().remove("momentum");
        },
        EXIT_AGREE_INFERRED,
        "momentum = 0.9 (declared default)",
    );
}

/// The search only names values it replayed in full: a run whose β₂ (0.9876) is none of the
/// common values stays unexplained (exit 1), and the output says nothing agreed.
#[test]
fn an_uncommon_hyperparameter_is_not_guessed() {
    let dir = std::env::temp_dir().join(format!("optverify-hp-uncommon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = dir.join("run.jsonl");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_optverify"))
        .args([
            "trace",
            "--preset",
            "pytorch",
            "--optimizer",
            "adam",
            "--hyperparameters",
            r#"{"lr": 0.01, "betas": [0.9, 0.9876]}"#,
            "--problem",
            "quadratic",
            "--dim",
            "8",
            "--steps",
            "30",
            "--out",
        ])
        .arg(&run)
        .env("CI", "1")
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&run).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let mut h: serde_json::Value = serde_json::from_str(head).unwrap();
    let relabelled = dir.join("relabelled.jsonl");
    let mut check_with = |betas: serde_json::Value| {
        h["hyperparameters"]["betas"] = betas;
        std::fs::write(&relabelled, format!("{h}\n{rest}")).unwrap();
        cli::check(&relabelled, None)
    };
    let out = check_with(serde_json::json!([0.9, 0.999]));
    assert_eq!(out.status, EXIT_DISAGREE, "{}", out.text);
    assert!(!out.text.contains("AGREES given"), "{}", out.text);
    // The same run declared with its own β₂ agrees: the relabel is the only change.
    assert_eq!(
        check_with(serde_json::json!([0.9, 0.9876])).status,
        cli::EXIT_AGREE
    );
    std::fs::remove_dir_all(&dir).ok();
}
