//! The built `optverify` binary: help, exit statuses, JSON output.

#[path = "support/cli.rs"]
mod support;

use support::{manifest, optverify, temp_path, text};

#[test]
fn help_describes_every_command() {
    let out = optverify(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["verify", "report", "list", "Examples:"] {
        assert!(text.contains(cmd), "`{cmd}` missing from --help:\n{text}");
    }
    let out = optverify(&["verify", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--claim") && text.contains("--quick") && text.contains("Exit status"));
}

#[test]
fn unknown_claim_is_bad_input_naming_it_and_the_known_ones() {
    let out = optverify(&["verify", "--quick", "--claim", "no-such-claim"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`no-such-claim`") && err.contains("known claims:"),
        "{err}"
    );
    for card in optverify::claims::card::all_cards().unwrap() {
        assert!(
            err.contains(&card.id),
            "known claim `{}` not listed: {err}",
            card.id
        );
    }
    assert!(out.stdout.is_empty(), "nothing on stdout for bad input");
}

#[test]
fn list_json_is_valid_and_lists_every_card() {
    let out = optverify(&["list", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let claims = v["claims"].as_array().expect("a claims array");
    let cards = optverify::claims::card::all_cards().unwrap();
    assert_eq!(claims.len(), cards.len());
    for (entry, card) in claims.iter().zip(&cards) {
        assert_eq!(entry["id"], card.id.as_str());
    }
    assert!(v["optimizers"].is_array());
    assert!(!v["problems"].as_array().expect("a problems array").is_empty());
}

#[test]
fn bad_arguments_are_refused_by_the_parser() {
    let out = optverify(&["verify", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------- oracle commands

/// The data rows of a conformance table: (preset, optimizer, dtype, traces, bit-identical,
/// reference).
fn conformance_rows(table: &str) -> Vec<(String, String, String, usize, usize, String)> {
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| preset"))
        .map(|l| {
            let c: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(c.len(), 8, "row with 8 columns: {l}");
            (
                c[0].to_string(),
                c[1].to_string(),
                c[2].to_string(),
                c[3].parse().expect("trace count"),
                c[4].parse().expect("bit-identical count"),
                c[7].to_string(),
            )
        })
        .collect()
}

#[test]
fn conformance_on_the_golden_set_agrees_and_counts_every_trace() {
    let dir = manifest("tests/data/golden");
    let out = optverify(&["conformance", &dir]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let rows = conformance_rows(&stdout);
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "jsonl")
        })
        .count();
    assert_eq!(rows.iter().map(|r| r.3).sum::<usize>(), files, "{stdout}");
    for (preset, optimizer, dtype, traces, bit, reference) in &rows {
        assert!(bit <= traces);
        // A kernel reference names its dtype; otherwise the fallback is named as such.
        assert!(
            reference.contains(&format!("kernel, {dtype}")) || reference.contains("crate optimizer, f64"),
            "{preset} {optimizer} {dtype}: {reference}"
        );
        // torch SGD has a kernel in both dtypes, and it reproduces every trace bit for bit.
        if preset == "pytorch" && optimizer == "sgd" {
            assert!(reference.contains("_single_tensor_sgd"), "{reference}");
            assert_eq!(bit, traces, "{stdout}");
        }
    }
    assert!(stdout.contains("none beyond the default tolerance"), "{stdout}");
}

#[test]
fn conformance_exits_1_on_a_trace_beyond_tolerance_and_2_on_bad_input() {
    let dir = temp_path("conformance");
    std::fs::create_dir_all(&dir).unwrap();
    let example = "torch-adagrad-labelled-optax-f32.jsonl";
    std::fs::copy(
        manifest(&format!("tests/data/examples/{example}")),
        dir.join(example),
    )
    .unwrap();
    std::fs::copy(
        manifest("tests/data/golden/optax-sgd-plain-randn.jsonl"),
        dir.join("optax-sgd-plain-randn.jsonl"),
    )
    .unwrap();
    let out = optverify(&["conformance", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("beyond tolerance: {example}")),
        "{stdout}"
    );
    assert!(stdout.contains("| optax | adagrad | f32 | 1 | 0 |"), "{stdout}");

    std::fs::write(dir.join("broken.jsonl"), "{\"format\": \"optverify-trace\"\n").unwrap();
    let out = optverify(&["conformance", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken.jsonl"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();

    let out = optverify(&["conformance", "/nonexistent/optverify-dir"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_names_pytorch_adagrad_in_a_torch_run_labelled_as_optax() {
    // tests/data/examples/generate.py: a float32 torch.optim.Adagrad run whose header declares
    // optax adagrad with the same learning rate.
    let out = optverify(&[
        "check",
        &manifest("tests/data/examples/torch-adagrad-labelled-optax-f32.jsonl"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("DISAGREES with as declared (optax adagrad)"),
        "{stdout}"
    );
    // The reference is named: optax's f32 Adagrad kernel if one exists, else the crate's f64
    // optimizer, with the sentence that says the f32 trace is compared against f64.
    let setting = optverify::oracle::presets::resolve(
        "optax",
        "adagrad",
        &serde_json::from_str(r#"{"learning_rate": 0.1}"#).unwrap(),
    )
    .unwrap();
    if optverify::oracle::kernels::build::<f32>("optax", &setting).is_some() {
        assert!(stdout.contains("kernel, f32\n"), "{stdout}");
    } else {
        assert!(
            stdout.contains("reference: crate optimizer, f64\n")
                && stdout.contains("compared against the crate's f64 optimizer"),
            "{stdout}"
        );
    }
    // The first difference is located by layout block and measured in f32 ulps.
    assert!(stdout.contains("coordinate weight[0,0] (0)"), "{stdout}");
    assert!(stdout.contains("ulps of scale (f32"), "{stdout}");
    // The closest match is PyTorch's Adagrad; optax's own defaults do not match.
    let first_match = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("matches "))
        .expect("a matching variant");
    assert!(
        first_match.starts_with("matches pytorch Adagrad defaults (ε = 1e-10 outside the root, s₀ = 0)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("does not match optax adagrad defaults (ε = 1e-7 inside the root, s₀ = 0.1)"),
        "{stdout}"
    );
}

#[test]
fn trace_on_a_named_problem_replays_through_check() {
    let path = temp_path("mlp.jsonl");
    let p = path.to_str().unwrap();
    let out = optverify(&[
        "trace",
        "--problem",
        "mlp",
        "--dim",
        "3",
        "--seed",
        "7",
        "--steps",
        "25",
        "--preset",
        "pytorch",
        "--optimizer",
        "adam",
        "--hyperparameters",
        r#"{"lr": 0.01, "amsgrad": true}"#,
        "--out",
        p,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut reader = optverify::oracle::format::open(&path).unwrap();
    let blocks: Vec<String> = reader.header().layout.iter().map(|b| b.name.clone()).collect();
    assert_eq!(blocks, ["w1", "b1", "w2", "b2"]);
    let mut steps = 0;
    while let Some(rec) = reader.next_step().unwrap() {
        assert!(rec.loss.is_some_and(f64::is_finite));
        steps += 1;
    }
    assert_eq!(steps, 25);
    let out = optverify(&["check", p]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("25/25 steps bit for bit"), "{stdout}");
    std::fs::remove_file(&path).ok();
}

#[test]
fn trace_in_f32_needs_a_kernel_and_then_replays_bit_for_bit() {
    use optverify::oracle::{kernels, presets};
    // For each setting: --dtype f32 writes a trace exactly when an f32 kernel exists (and
    // check reproduces it bit for bit in f32), and is refused as bad input otherwise.
    let cases = [
        ("pytorch", "sgd", r#"{"lr": 0.05, "momentum": 0.9}"#),
        ("pytorch", "adam", r#"{"lr": 0.01}"#),
        ("optax", "adagrad", r#"{"learning_rate": 0.1}"#),
        ("keras", "rmsprop", r#"{"learning_rate": 0.01}"#),
    ];
    let mut with_kernel = 0;
    for (preset, optimizer, hp) in cases {
        let setting = presets::resolve(preset, optimizer, &serde_json::from_str(hp).unwrap()).unwrap();
        let has_kernel = kernels::build::<f32>(preset, &setting).is_some();
        let path = temp_path(&format!("{preset}-{optimizer}-f32.jsonl"));
        let p = path.to_str().unwrap();
        let out = optverify(&[
            "trace",
            "--problem",
            "quadratic",
            "--dim",
            "5",
            "--steps",
            "30",
            "--preset",
            preset,
            "--optimizer",
            optimizer,
            "--hyperparameters",
            hp,
            "--dtype",
            "f32",
            "--out",
            p,
        ]);
        if has_kernel {
            with_kernel += 1;
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let out = optverify(&["check", p]);
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{stdout}");
            assert!(
                stdout.contains("kernel, f32") && stdout.contains("30/30 steps bit for bit"),
                "{stdout}"
            );
        } else {
            assert_eq!(out.status.code(), Some(2));
            let err = text(&out.stderr);
            assert!(
                err.contains("no f32 kernel") && err.contains("--dtype f64"),
                "{err}"
            );
        }
        std::fs::remove_file(&path).ok();
    }
    assert!(with_kernel >= 1, "torch SGD has an f32 kernel");
}

#[test]
fn trace_on_an_unknown_problem_lists_the_known_ones() {
    let out = optverify(&[
        "trace",
        "--problem",
        "no_such_problem",
        "--preset",
        "pytorch",
        "--optimizer",
        "sgd",
        "--out",
        temp_path("never-written.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unknown problem \"no_such_problem\""), "{err}");
    for p in optverify::problems::catalogue() {
        assert!(err.contains(p.name), "known problem {} not listed: {err}", p.name);
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn every_catalogue_problem_can_be_traced() {
    for (p, seed) in optverify::problems::catalogue()
        .iter()
        .flat_map(|p| [0, 1, 7].map(|seed| (p, seed)))
    {
        let r = optverify::oracle::cli::named_problem(p.name, Some(3), seed);
        let (obj, layout, x0) = r.unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(obj.dim(), x0.len(), "{}", p.name);
        assert_eq!(layout.iter().map(|b| b.rows * b.cols).sum::<usize>(), x0.len());
        let g = obj.gradient(&nalgebra::DVector::from_vec(x0));
        assert!(g.iter().all(|x| x.is_finite()), "{}", p.name);
        // θ₀ is not a stationary point: a trace whose gradients are all 0 checks nothing.
        assert!(
            g.norm() > 1e-3,
            "{} seed {seed}: ‖∇f(θ₀)‖ = {:e}",
            p.name,
            g.norm()
        );
    }
}

// ---------------------------------------------------------------- exit statuses

/// The statuses listed, one a line, in the "Exit status:" section of `optverify CMD --help`.
fn help_exit_statuses(cmd: &str) -> Vec<u8> {
    let out = optverify(&[cmd, "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    let Some((_, section)) = help.split_once("Exit status:\n") else {
        panic!("`{cmd} --help` has no \"Exit status:\" section:\n{help}");
    };
    section
        .lines()
        .map_while(|l| l.strip_prefix("  ")?.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Each command's --help lists exactly the statuses of `optverify::cli::exit_statuses`, with
/// their meanings; and every status a command is seen to return here (every `EXIT_*`
/// constant among them: 0 to 4 from `check`, and the binary reader's `EXIT_NOTHING`) is one
/// of them.
#[test]
fn every_exit_status_a_command_returns_is_in_its_help() {
    use optverify::oracle::binary::EXIT_NOTHING;
    use optverify::oracle::cli::{
        EXIT_AGREE, EXIT_AGREE_INFERRED, EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_NOTHING_TO_CHECK,
    };
    let subcommands: Vec<String> = optverify::cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for cmd in &subcommands {
        let listed = optverify::cli::exit_statuses(cmd);
        let codes: Vec<u8> = listed.iter().map(|&(c, _)| c).collect();
        assert!(
            codes.contains(&EXIT_BAD_INPUT),
            "{cmd}: a refused argument exits 2"
        );
        assert_eq!(help_exit_statuses(cmd), codes, "`{cmd} --help`");
        let help = text(&optverify(&[cmd, "--help"]).stdout);
        for (code, meaning) in listed {
            assert!(
                help.contains(&format!("  {code}  {meaning}\n")),
                "`{cmd} --help` lacks {code}:\n{help}"
            );
        }
    }

    let dir = temp_path("exit-statuses");
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let golden = manifest("tests/data/golden/torch-adagrad-default-randn.jsonl");
    let mislabelled = manifest("tests/data/examples/torch-adagrad-labelled-optax-f32.jsonl");
    let inferred = manifest("tests/data/infer/torch-adamw-cosine.jsonl");
    let golden_text = std::fs::read_to_string(&golden).unwrap();
    let header_only = p("header-only.jsonl");
    std::fs::write(&header_only, format!("{}\n", golden_text.lines().next().unwrap())).unwrap();
    let header_only_binary = p("header-only.ovt");
    let out = optverify(&["convert", &header_only, &header_only_binary]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for (sub, trace) in [("agree", &golden), ("beyond", &mislabelled)] {
        std::fs::create_dir_all(p(sub)).unwrap();
        std::fs::copy(trace, dir.join(sub).join("t.jsonl")).unwrap();
    }
    let out = optverify(&[
        "verify", "--quick", "--claim", "gd-rate", "--shard", "1/1", "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(p("results.json"), &out.stdout).unwrap();
    let mut survivor: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    survivor["claims"][0]["evidence"]["mutants"][0]["killed"] = false.into();
    std::fs::write(p("survivor.json"), survivor.to_string()).unwrap();
    let trace = |preset: &str, out: &str| {
        vec![
            "trace",
            "--problem",
            "quadratic",
            "--dim",
            "3",
            "--steps",
            "2",
            "--preset",
            preset,
            "--optimizer",
            "sgd",
            "--hyperparameters",
            r#"{"lr": 0.1}"#,
            "--out",
            out,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let missing = p("missing.jsonl");
    let scenarios: Vec<(Vec<String>, u8)> = vec![
        (argv(&["verify", "--quick", "--claim", "gd-rate"]), 0),
        (argv(&["verify", "--quick", "--claim", "no-such-claim"]), 2),
        (
            argv(&["report", "--quick", "--shard", "1000/1000", "--out", &p("report")]),
            0,
        ),
        (
            argv(&["report", "--quick", "--shard", "1000/1000", "--out", &golden]),
            2,
        ),
        (argv(&["merge", &p("results.json"), "--out", &p("merged")]), 0),
        (
            argv(&["merge", &p("survivor.json"), "--out", &p("merged-survivor")]),
            1,
        ),
        (argv(&["merge", &missing, "--out", &p("merged-missing")]), 2),
        (trace("pytorch", &p("t.jsonl")), EXIT_AGREE),
        (trace("paper", &p("t2.jsonl")), EXIT_BAD_INPUT),
        (argv(&["replay", &golden]), EXIT_AGREE),
        (argv(&["replay", &mislabelled]), EXIT_DISAGREE),
        (argv(&["replay", &missing]), EXIT_BAD_INPUT),
        (argv(&["replay", &header_only]), EXIT_NOTHING_TO_CHECK),
        (argv(&["replay", &header_only_binary]), EXIT_NOTHING),
        (argv(&["check", &golden]), EXIT_AGREE),
        (argv(&["check", &mislabelled]), EXIT_DISAGREE),
        (argv(&["check", &missing]), EXIT_BAD_INPUT),
        (argv(&["check", &inferred]), EXIT_AGREE_INFERRED),
        (argv(&["check", &header_only]), EXIT_NOTHING_TO_CHECK),
        (argv(&["check", &header_only_binary]), EXIT_NOTHING),
        (argv(&["convert", &golden, &p("converted.ovt")]), EXIT_AGREE),
        (argv(&["convert", &missing, &p("converted2.ovt")]), EXIT_BAD_INPUT),
        (argv(&["conformance", &p("agree")]), EXIT_AGREE),
        (argv(&["conformance", &p("beyond")]), EXIT_DISAGREE),
        (argv(&["conformance", &p("missing")]), EXIT_BAD_INPUT),
        (argv(&["list"]), 0),
    ];
    let mut seen: std::collections::BTreeMap<String, std::collections::BTreeSet<u8>> = Default::default();
    for (a, want) in &scenarios {
        let args: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = optverify(&args);
        assert_eq!(
            out.status.code(),
            Some(i32::from(*want)),
            "{a:?}\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let listed = help_exit_statuses(&a[0]);
        assert!(
            listed.contains(want),
            "`{} --help` does not list exit status {want}, which {a:?} returns (it lists {listed:?})",
            a[0]
        );
        seen.entry(a[0].clone()).or_default().insert(*want);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let all = [
        EXIT_AGREE,
        EXIT_DISAGREE,
        EXIT_BAD_INPUT,
        EXIT_AGREE_INFERRED,
        EXIT_NOTHING_TO_CHECK,
        EXIT_NOTHING,
    ];
    assert!(all.iter().all(|c| seen["check"].contains(c)), "{seen:?}");
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        {
            let mut s = subcommands.clone();
            s.sort();
            s
        },
        "a scenario for every subcommand"
    );
}

/// README.md's "Exit statuses" and the module docs of `optverify::cli` hold the table that
/// `exit_status_table` generates from the list the --help texts are made of.
#[test]
fn readme_and_module_docs_hold_the_generated_exit_status_table() {
    let table = optverify::cli::exit_status_table();
    let readme = std::fs::read_to_string(manifest("README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README.md lacks the exit status table:\n{table}"
    );
    let docs: String = std::fs::read_to_string(manifest("src/cli.rs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(
        docs.contains(&table),
        "src/cli.rs's module docs lack the exit status table:\n{table}"
    );
}
