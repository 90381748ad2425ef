//! The oracle on traces as users record them: through the recorders of `python/optverify`
//! (`watch` for torch, `optax.record`), with the frameworks' own dicts, parameter groups,
//! schedules and chains, rather than the hand-written headers of the golden set.

use optverify::oracle::cli::{self, EXIT_AGREE, EXIT_BAD_INPUT};
use optverify::oracle::format::TraceReader;
use serde_json::{json, Value};
use std::path::PathBuf;

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
