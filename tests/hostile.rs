//! Hostile input to the oracle commands: sizes that overflow, a trace with nothing to check,
//! problem dimensions and step counts that do not fit. Each gets a clear error (exit 2) naming
//! the field and the valid range, or a documented status, never a panic or an abort.

use optverify::oracle::cli::{self, EXIT_BAD_INPUT, EXIT_NOTHING_TO_CHECK};
#[path = "support/cli.rs"]
mod support;

use support::{optverify, temp_path, text, TempFile};

fn header(layout: &str, params0: &str) -> String {
    format!(
        r#"{{"format": "optverify-trace", "version": 1, "optimizer": "sgd", "preset": "pytorch", "hyperparameters": {{"lr": 0.1}}, "layout": {layout}, "dtype": "f64", "producer": "test", "params0": {params0}}}"#
    )
}

/// Exit 2 on both `check` and `replay`, with stderr containing every `needle`.
fn assert_bad_trace(name: &str, content: &str, needles: &[&str]) {
    let f = TempFile::new(name, content);
    for cmd in ["check", "replay"] {
        let out = optverify(&[cmd, f.path()]);
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{cmd} {name}: {err}{}",
            text(&out.stdout)
        );
        for n in needles {
            assert!(err.contains(n), "{cmd} {name}: {n:?} missing from {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            out.stdout.is_empty(),
            "{cmd} {name}: nothing on stdout for bad input"
        );
    }
}

#[test]
fn test_layout_whose_size_overflows_is_bad_input() {
    // 2³² × 2³² wraps to 0 on 64 bits: with params0 [] it must not be taken for 0 parameters.
    let big = 1u64 << 32;
    let layout = format!(r#"[{{"name": "w", "rows": {big}, "cols": {big}}}]"#);
    assert_bad_trace(
        "overflow.jsonl",
        &format!("{}\n", header(&layout, "[]")),
        &["`layout`", "overflows", "valid"],
    );
    // The sum of two blocks overflowing.
    let half = u64::MAX / 2 + 1;
    let layout = format!(
        r#"[{{"name": "a", "rows": {half}, "cols": 1}}, {{"name": "b", "rows": {half}, "cols": 1}}]"#
    );
    assert_bad_trace(
        "overflow-sum.jsonl",
        &format!("{}\n", header(&layout, "[]")),
        &["`layout`", "valid"],
    );
}

#[test]
fn test_empty_block_and_params0_length_are_bad_input() {
    let layout = r#"[{"name": "w", "rows": 0, "cols": 3}]"#;
    assert_bad_trace(
        "empty-block.jsonl",
        &format!("{}\n", header(layout, "[]")),
        &["`layout`", "rows ≥ 1"],
    );
    let layout = r#"[{"name": "w", "rows": 2, "cols": 3}]"#;
    assert_bad_trace(
        "short-params0.jsonl",
        &format!("{}\n", header(layout, "[1.0, 2.0]")),
        &["`params0`", "has length 2", "6 parameters"],
    );
}

#[test]
fn test_trace_without_steps_is_nothing_to_check_not_agreement() {
    let layout = r#"[{"name": "params", "rows": 2, "cols": 1}]"#;
    let f = TempFile::new("no-steps.jsonl", &format!("{}\n", header(layout, "[1.0, 2.0]")));
    for cmd in ["check", "replay"] {
        let out = optverify(&[cmd, f.path()]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(i32::from(EXIT_NOTHING_TO_CHECK)),
            "{cmd}: {stdout}"
        );
        assert!(stdout.contains("NOTHING TO CHECK"), "{cmd}: {stdout}");
        assert!(!stdout.contains("AGREES"), "{cmd}: {stdout}");
    }
    // The same through the library, on an open reader.
    let mut r = optverify::oracle::format::open(&f.0).unwrap();
    assert_eq!(cli::check_reader(&mut r, None).status, EXIT_NOTHING_TO_CHECK);
}

#[test]
fn test_diagnosis_of_nothing_does_not_panic() {
    let layout = r#"[{"name": "params", "rows": 1, "cols": 1}]"#;
    let h: optverify::oracle::format::Header = serde_json::from_str(&header(layout, "[0.0]")).unwrap();
    let s = cli::diagnosis(&h, &[]);
    assert!(s.contains("nothing to diagnose"), "{s}");
}

/// `trace --problem PROBLEM --dim DIM --steps STEPS` (pytorch sgd, lr 0.1) into a temp file,
/// removed after the run.
fn trace_problem(problem: &str, dim: &str, steps: &str) -> std::process::Output {
    let out = temp_path(&format!("{problem}-{dim}-{steps}.jsonl"));
    let o = optverify(&[
        "trace",
        "--problem",
        problem,
        "--dim",
        dim,
        "--steps",
        steps,
        "--preset",
        "pytorch",
        "--optimizer",
        "sgd",
        "--hyperparameters",
        r#"{"lr": 0.1}"#,
        "--out",
        out.to_str().unwrap(),
    ]);
    std::fs::remove_file(&out).ok();
    o
}

#[test]
fn test_problem_dim_beyond_memory_names_the_largest_that_fits() {
    let max = cli::max_problem_dim("quadratic").unwrap();
    // 8·(6·d² + 64·d) ≤ 4 GiB: d = 9453 fits, 9454 does not.
    assert_eq!(max, 9453);
    for dim in ["100000000", &(max + 1).to_string(), "0"] {
        let out = trace_problem("quadratic", dim, "5");
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(i32::from(EXIT_BAD_INPUT)),
            "--dim {dim}: {err}"
        );
        // 0 is refused by the argument parser (before the problem is known), the others by
        // the problem's own bound; both give the range and quadratic's largest dimension.
        let range = if dim == "0" {
            format!("valid range: M..=N, the problem's smallest dimension (2 for quadratic and rosenbrock, else 1) and the largest that fits in memory (quadratic: 2..={max}")
        } else {
            format!("valid range: 2..={max}")
        };
        assert!(err.contains("--dim") && err.contains(&range), "{err}");
    }
    // Every catalogue problem has a bound, and a linear one is far larger.
    for p in optverify::problems::catalogue() {
        assert!(
            cli::max_problem_dim(p.name).is_some(),
            "{} has no --dim bound",
            p.name
        );
    }
    assert!(cli::max_problem_dim("rosenbrock").unwrap() > 1_000_000);
}

/// A `--dim` the argument parser accepts (≥ 1) but below the problem's smallest is refused
/// naming `--dim` and the problem's range, for every catalogue problem; the smallest is traced.
#[test]
fn test_problem_dim_below_the_smallest_names_the_range() {
    for p in optverify::problems::catalogue() {
        let (min, max) = (
            cli::min_problem_dim(p.name).unwrap(),
            cli::max_problem_dim(p.name).unwrap(),
        );
        let run = |dim: usize| trace_problem(p.name, &dim.to_string(), "2");
        let ok = run(min);
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{} --dim {min}: {}",
            p.name,
            text(&ok.stderr)
        );
        if min > 1 {
            let out = run(min - 1);
            let err = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(i32::from(EXIT_BAD_INPUT)),
                "{}: {err}",
                p.name
            );
            let want = format!(
                "--dim = {} is out of range for problem {}; valid range: {min}..={max}",
                min - 1,
                p.name
            );
            assert!(err.contains(&want), "{}: {err}", p.name);
        }
    }
}

#[test]
fn test_steps_zero_or_beyond_the_trace_budget_is_bad_input() {
    let max = cli::max_trace_steps(3);
    assert_eq!(max, (1u64 << 40) / (3 * 50 + 96));
    for steps in ["0", &(max + 1).to_string(), &usize::MAX.to_string()] {
        let out = trace_problem("quadratic", "3", steps);
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(i32::from(EXIT_BAD_INPUT)),
            "--steps {steps}: {err}"
        );
        assert!(err.contains("--steps") && err.contains("valid range: "), "{err}");
        if steps != "0" {
            assert!(err.contains(&format!("1..={max}")), "{err}");
        }
    }
}

/// The first error of reading `text` to the end.
fn read_error(text: &[u8]) -> String {
    match optverify::oracle::format::TraceReader::new("t.jsonl", text) {
        Err(e) => e.to_string(),
        Ok(mut r) => loop {
            match r.next_step() {
                Err(e) => break e.to_string(),
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error in {}", String::from_utf8_lossy(text)),
            }
        },
    }
}

#[test]
fn test_reader_errors_name_the_line_and_the_field_path() {
    let two = r#"[{"name": "w", "rows": 2, "cols": 1}]"#;
    let e = read_error(
        format!(
            "{}\n",
            header(r#"[{"name": "w", "rows": "2", "cols": 1}]"#, "[1, 2]")
        )
        .as_bytes(),
    );
    assert!(
        e.starts_with("t.jsonl:1: header field `layout[0].rows`: invalid type"),
        "{e}"
    );
    let e = read_error(format!("{}\n", header(r#"[{"name": "w", "rows": 2}]"#, "[1, 2]")).as_bytes());
    assert!(e.starts_with("t.jsonl:1: missing field `layout[0].cols`"), "{e}");
    let step = r#"{"step": 1, "grad": [0.1, "x"], "params": [1, 2]}"#;
    let e = read_error(format!("{}\n{step}\n", header(two, "[1, 2]")).as_bytes());
    assert!(e.starts_with("t.jsonl:2: step 1 field `grad[1]`: "), "{e}");
    // Invalid UTF-8 on line 3 (after a valid step).
    let ok = r#"{"step": 1, "grad": [0.1, 0.2], "params": [1, 2]}"#;
    let mut bytes = format!("{}\n{ok}\n", header(two, "[1, 2]")).into_bytes();
    bytes.extend_from_slice(b"{\"step\": 2, \"grad\": [\xff]}\n");
    let e = read_error(&bytes);
    assert!(e.starts_with("t.jsonl:3: not UTF-8"), "{e}");
}

#[test]
fn test_f32_trace_with_f64_values_names_the_line() {
    let layout = r#"[{"name": "params", "rows": 1, "cols": 1}]"#;
    let h = header(layout, "[0.5]").replace(r#""dtype": "f64""#, r#""dtype": "f32""#);
    let f = TempFile::new(
        "f32-values.jsonl",
        &format!("{h}\n{{\"step\": 1, \"grad\": [0.1], \"params\": [0.49]}}\n"),
    );
    let out = optverify(&["check", f.path()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:2: step 1: grad[0]", f.path())), "{err}");
}

#[test]
fn test_step_with_a_wrong_number_of_group_scalars_is_an_error_not_a_panic() {
    use optverify::oracle::compare::Replayer;
    use optverify::oracle::presets;
    use optverify::oracle::schedules::Scalars;
    let map = serde_json::from_str(r#"{"lr": 0.1}"#).unwrap();
    let setting = presets::resolve("pytorch", "sgd", &map).unwrap();
    let blocks = [optverify::oracle::format::BlockSpec {
        name: "params".into(),
        rows: 1,
        cols: 1,
    }];
    let declared = Replayer::declared(
        "pytorch",
        &setting,
        &blocks,
        optverify::oracle::format::Dtype::F64,
        &[1.0],
    );
    let Ok(mut r) = declared else {
        panic!("the torch SGD kernel builds")
    };
    let s = Scalars {
        lr: 0.05,
        momentum: None,
    };
    // One parameter group takes exactly one set of scalars: none or two used to index out of
    // bounds (`s[0]`).
    for given in [&[][..], &[s, s][..]] {
        let e = r.step_with(&[0.1], Some(given)).unwrap_err().to_string();
        assert!(e.contains("per-step scalars") && e.contains("expected 1"), "{e}");
    }
    r.step_with(&[0.1], Some(&[s])).unwrap();
}

#[test]
fn test_setting_with_a_layout_that_overflows_does_not_wrap() {
    // Layout::try_from_shapes is the checked constructor; a Replayer built on blocks whose
    // size overflows gets an error naming the block.
    use optverify::oracle::compare::Replayer;
    use optverify::oracle::format::{BlockSpec, Dtype};
    use optverify::oracle::presets;
    let map = serde_json::from_str(r#"{"lr": 0.1}"#).unwrap();
    let setting = presets::resolve("pytorch", "sgd", &map).unwrap();
    let big = 1usize << 32;
    let blocks = [BlockSpec {
        name: "w".into(),
        rows: big,
        cols: big,
    }];
    let e = match Replayer::declared("pytorch", &setting, &blocks, Dtype::F64, &[]) {
        Ok(_) => panic!("an overflowing layout is refused"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("overflows"), "{e}");
}

/// A file without newlines: every reader of a line-oriented input reads a bounded line and
/// refuses the rest (exit 2, the line and the bound named) instead of growing a buffer until
/// the allocator aborts. `/dev/zero` is the unbounded case (Linux); the bounded files show the
/// step-line bound follows the header's dimension.
#[test]
fn files_without_newlines_are_refused_after_a_bounded_read() {
    let gradients_args = |flag: &str, file: &str| {
        vec![
            "trace".to_string(),
            flag.into(),
            file.into(),
            "--preset".into(),
            "pytorch".into(),
            "--optimizer".into(),
            "sgd".into(),
            "--hyperparameters".into(),
            r#"{"lr": 0.1}"#.into(),
            "--out".into(),
            temp_path("never-written.jsonl").display().to_string(),
        ]
    };
    if std::path::Path::new("/dev/zero").exists() {
        let runs: Vec<(Vec<String>, &str)> = vec![
            (
                vec!["check".into(), "/dev/zero".into()],
                "/dev/zero:1: line longer than",
            ),
            (
                vec!["replay".into(), "/dev/zero".into()],
                "/dev/zero:1: line longer than",
            ),
            (
                vec![
                    "convert".into(),
                    "/dev/zero".into(),
                    temp_path("never-dir").display().to_string(),
                ],
                "/dev/zero:1: line longer than",
            ),
            (
                gradients_args("--gradients", "/dev/zero"),
                "/dev/zero:1: line longer than",
            ),
            (
                gradients_args("--from-trace", "/dev/zero"),
                "/dev/zero:1: line longer than",
            ),
            (vec!["merge".into(), "/dev/zero".into()], "larger than"),
        ];
        for (args, needle) in runs {
            let out = optverify(&args);
            let err = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(i32::from(EXIT_BAD_INPUT)),
                "{args:?}: {err}"
            );
            assert!(err.contains(needle), "{args:?}: {needle:?} missing from {err}");
        }
    }
    // A valid header of 1 parameter, then 2 MiB without a newline: refused at line 2, whose
    // bound is 128 bytes per parameter plus 1 MiB.
    let mut content = header(r#"[{"name": "w", "rows": 1, "cols": 1}]"#, "[0.5]");
    content.push('\n');
    content.push_str(&" ".repeat(2 << 20));
    let bound = optverify::oracle::format::max_step_line(1);
    assert_eq!(bound, 128 + (1 << 20));
    assert_bad_trace(
        "endless-step-line.jsonl",
        &content,
        &[&format!(":2: line longer than {bound} bytes"), "step line"],
    );
}

/// A trace piped in (`/dev/stdin`) is read as JSON Lines from its first byte: the format
/// sniffing reads only regular files, so it does not swallow the header's first bytes.
#[test]
fn a_trace_on_a_pipe_is_checked() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !std::path::Path::new("/dev/stdin").exists() {
        return;
    }
    let trace = std::fs::read(support::golden("torch-adam-amsgrad-matrix.jsonl")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_optverify"))
        .args(["check", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&trace).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("AGREES with as declared (pytorch adam): 40/40 steps bit for bit"));
}
