//! Every argument of every subcommand × hostile values (NaN, ±∞, negative, 0, huge, wrongly
//! typed, empty): each run of the binary either exits 2 with a message naming the argument
//! and its valid range, or is a documented success (exit 0) for a value that is valid.
//!
//! The arguments are enumerated from clap's own definition (`optverify::cli::command()`), so
//! an argument added without a row in [`rows`] fails `test_every_argument_has_a_row`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[path = "support/cli.rs"]
mod support;
use support::{golden, optverify_in};

/// The hostile values: (class, value as typed on the command line).
const VALUES: [(&str, &str); 19] = [
    ("NaN", "nan"),
    ("+inf", "inf"),
    ("-inf", "-inf"),
    ("negative", "-1"),
    ("zero", "0"),
    ("huge 1e308", "1e308"),
    ("huge 1e999 (overflows f64)", "1e999"),
    ("huge 2^64", "18446744073709551616"),
    ("huge -1e308", "-1e308"),
    ("wrong type: word", "abc"),
    ("wrong type: fraction", "1.5"),
    ("empty", ""),
    ("-0", "-0"),
    ("+1", "+1"),
    ("underflow 1e-400", "1e-400"),
    ("-nan", "-nan"),
    ("leading space", " 1"),
    ("hex", "0x10"),
    ("dash", "-"),
];

/// What a run must do.
#[derive(Debug, Clone)]
enum Expect {
    /// Exit 2, nothing on stdout, stderr holding every needle (the argument and its range).
    Reject(Vec<String>),
    /// Exit 0: the value is valid (documented in the argument's help / `optverify::cli`).
    Accept,
    /// The value is valid; the command then fails with exit 2 on another argument that the
    /// row makes invalid on purpose (named by the needle), never on this one.
    FailsElsewhere(String, String),
}

fn reject(needles: &[&str]) -> Expect {
    Expect::Reject(needles.iter().map(|s| s.to_string()).collect())
}

/// A word starting with '-' that clap reads as flags, not as a value or a negative number.
fn hyphen_word(v: &str) -> bool {
    v.len() > 1 && v.starts_with('-') && !v[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

/// A whole-number argument with its valid range.
fn whole(long: &'static str, min: u64, max: u64) -> Box<dyn Fn(&str) -> Expect + Sync> {
    Box::new(move |v| match v.parse::<u64>() {
        Ok(x) if (min..=max).contains(&x) => Expect::Accept,
        _ => reject(&[long, "valid range: "]),
    })
}

/// A path argument: empty is refused naming the argument; anything else names a file that
/// does not exist (the run's directory is empty), refused naming the file.
fn input_path(label: &'static str) -> Box<dyn Fn(&str) -> Expect + Sync> {
    Box::new(move |v| match v {
        "" => reject(&[label, "non-empty"]),
        v => reject(&[v]),
    })
}

/// An output path: any non-empty name is valid (the run writes it in its empty directory).
fn output_path(label: &'static str) -> Box<dyn Fn(&str) -> Expect + Sync> {
    Box::new(move |v| match v {
        "" => reject(&[label, "non-empty"]),
        _ => Expect::Accept,
    })
}

/// A flag given a value (`--json=V`): refused by clap naming the flag.
fn flag(long: &'static str) -> Box<dyn Fn(&str) -> Expect + Sync> {
    Box::new(move |_| reject(&["unexpected value", long]))
}

struct Fixtures {
    golden: String,
    gradients: String,
}

type Argv = Box<dyn Fn(&Fixtures, &str) -> Vec<String> + Sync>;

struct Row {
    sub: &'static str,
    id: &'static str,
    argv: Argv,
    expect: Box<dyn Fn(&str) -> Expect + Sync>,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn trace_base(source: &[&str]) -> Vec<String> {
    let mut a = s(&[
        "trace",
        "--preset",
        "pytorch",
        "--optimizer",
        "sgd",
        "--hyperparameters",
        r#"{"lr": 0.1}"#,
    ]);
    a.extend(s(source));
    a.extend(s(&["--out", "o.jsonl"]));
    a
}

const PROBLEM: [&str; 6] = ["--problem", "quadratic", "--dim", "3", "--steps", "2"];

/// `argv` with the value of `flag` replaced by `v` (appended if absent).
fn set(mut argv: Vec<String>, flag: &str, v: &str) -> Vec<String> {
    match argv.iter().position(|a| a == flag) {
        Some(i) => argv[i + 1] = v.to_string(),
        None => argv.extend(s(&[flag, v])),
    }
    argv
}

fn rows() -> Vec<Row> {
    fn row(
        sub: &'static str,
        id: &'static str,
        argv: impl Fn(&Fixtures, &str) -> Vec<String> + Sync + 'static,
        expect: Box<dyn Fn(&str) -> Expect + Sync>,
    ) -> Row {
        Row {
            sub,
            id,
            argv: Box::new(argv),
            expect,
        }
    }
    let verify = |extra: &[&str], v: &str| {
        let mut a = s(&["verify", "--quick", "--claim", "adam-defaults"]);
        a.extend(s(extra));
        a.push(v.to_string());
        a
    };
    let report = |f: &str, v: &str| {
        set(
            s(&["report", "--quick", "--shard", "1000/1000", "--out", "rep"]),
            f,
            v,
        )
    };
    let claim_id = |v: &str| match v {
        // Well-formed ids that name no card: refused by the registry, listing the known ones.
        "nan" | "inf" | "abc" => reject(&["--claim", "known claims: "]),
        _ => reject(&["--claim", "valid: an id of `optverify list`"]),
    };
    vec![
        row(
            "verify",
            "quick",
            |_, v| s(&["verify", "--claim", "adam-defaults", &format!("--quick={v}")]),
            flag("--quick"),
        ),
        row(
            "verify",
            "jobs",
            move |_, v| verify(&["--jobs"], v),
            whole("--jobs", 1, 1024),
        ),
        row(
            "verify",
            "claims",
            |_, v| s(&["verify", "--quick", "--claim", v]),
            Box::new(claim_id),
        ),
        row(
            "verify",
            "json",
            move |_, v| verify(&[], &format!("--json={v}")),
            flag("--json"),
        ),
        row(
            "verify",
            "shard",
            move |_, v| verify(&["--shard"], v),
            Box::new(|_| reject(&["--shard", "1 <= i <= n"])),
        ),
        row(
            "report",
            "quick",
            |_, v| {
                s(&[
                    "report",
                    "--shard",
                    "1000/1000",
                    "--out",
                    "rep",
                    &format!("--quick={v}"),
                ])
            },
            flag("--quick"),
        ),
        row(
            "report",
            "jobs",
            move |_, v| report("--jobs", v),
            whole("--jobs", 1, 1024),
        ),
        row(
            "report",
            "out",
            move |_, v| report("--out", v),
            output_path("--out"),
        ),
        row(
            "report",
            "shard",
            move |_, v| report("--shard", v),
            Box::new(|_| reject(&["--shard", "1 <= i <= n"])),
        ),
        row(
            "merge",
            "shards",
            |_, v| s(&["merge", v, "--out", "merged"]),
            Box::new(|v| match v {
                // A word starting with '-' that is not a number, which clap would take for
                // flags (`-inf` as -i -n -f): refused naming the argument and how to write it.
                v if hyphen_word(v) => reject(&[
                    "<RESULTS_JSON>",
                    "the shards' results.json files",
                    &format!("./{v}"),
                ]),
                _ => input_path("<RESULTS_JSON>")(v),
            }),
        ),
        row(
            "merge",
            "out",
            |_, v| s(&["merge", "missing-shard.json", "--out", v]),
            Box::new(|v| match v {
                "" => reject(&["--out", "non-empty"]),
                _ => Expect::FailsElsewhere("missing-shard.json".into(), "--out".into()),
            }),
        ),
        row(
            "trace",
            "preset",
            |_, v| set(trace_base(&PROBLEM), "--preset", v),
            Box::new(|_| reject(&["--preset", "known presets: pytorch, optax, keras"])),
        ),
        row(
            "trace",
            "optimizer",
            |_, v| set(trace_base(&PROBLEM), "--optimizer", v),
            Box::new(|_| reject(&["--optimizer", "known: "])),
        ),
        row(
            "trace",
            "hyperparameters",
            |_, v| set(trace_base(&PROBLEM), "--hyperparameters", v),
            Box::new(|_| reject(&["--hyperparameters", "must be a JSON object"])),
        ),
        row(
            "trace",
            "problem",
            |_, v| set(trace_base(&PROBLEM), "--problem", v),
            Box::new(|_| reject(&["--problem", "known problems: "])),
        ),
        row(
            "trace",
            "dim",
            |_, v| set(trace_base(&PROBLEM), "--dim", v),
            whole("--dim", 2, 9453),
        ),
        row(
            "trace",
            "seed",
            |_, v| set(trace_base(&PROBLEM), "--seed", v),
            whole("--seed", 0, u64::MAX),
        ),
        row(
            "trace",
            "steps",
            |_, v| set(trace_base(&PROBLEM), "--steps", v),
            whole("--steps", 1, 1 << 32),
        ),
        row(
            "trace",
            "from_trace",
            |_, v| trace_base(&["--from-trace", v]),
            Box::new(|v| match v {
                "" => reject(&["--from-trace", "non-empty"]),
                v => reject(&["--from-trace", v]),
            }),
        ),
        row(
            "trace",
            "gradients",
            |_, v| trace_base(&["--gradients", v]),
            Box::new(|v| match v {
                "" => reject(&["--gradients", "non-empty"]),
                v => reject(&["--gradients", v]),
            }),
        ),
        row(
            "trace",
            "params0",
            |f, v| trace_base(&["--gradients", &f.gradients, "--params0", v]),
            Box::new(|_| reject(&["--params0", "must be a JSON array of numbers"])),
        ),
        row(
            "trace",
            "dtype",
            |_, v| set(trace_base(&PROBLEM), "--dtype", v),
            Box::new(|_| reject(&["--dtype", "known: f64, f32"])),
        ),
        row(
            "trace",
            "out",
            |_, v| set(trace_base(&PROBLEM), "--out", v),
            output_path("--out"),
        ),
        row("replay", "trace", |_, v| s(&["replay", v]), input_path("<TRACE>")),
        row(
            "replay",
            "rel_tol",
            |f, v| s(&["replay", &f.golden, "--rel-tol", v]),
            Box::new(rel_tol),
        ),
        row(
            "replay",
            "sample",
            |f, v| s(&["replay", &f.golden, "--sample", v]),
            whole("--sample", 2, u64::MAX),
        ),
        row("check", "trace", |_, v| s(&["check", v]), input_path("<TRACE>")),
        row(
            "check",
            "rel_tol",
            |f, v| s(&["check", &f.golden, "--rel-tol", v]),
            Box::new(rel_tol),
        ),
        row(
            "check",
            "sample",
            |f, v| s(&["check", &f.golden, "--sample", v]),
            whole("--sample", 2, u64::MAX),
        ),
        row(
            "convert",
            "input",
            |_, v| s(&["convert", v, "converted"]),
            input_path("<INPUT>"),
        ),
        row(
            "convert",
            "output",
            |f, v| s(&["convert", &f.golden, v]),
            output_path("<OUTPUT>"),
        ),
        row(
            "conformance",
            "dir",
            |_, v| s(&["conformance", v]),
            input_path("[DIR]"),
        ),
        row(
            "list",
            "json",
            |_, v| s(&["list", &format!("--json={v}")]),
            flag("--json"),
        ),
    ]
}

/// `--rel-tol`: [0, 1), finite; 0 (bit for bit) is valid and the golden trace agrees.
fn rel_tol(v: &str) -> Expect {
    match v.parse::<f64>() {
        Ok(t) if t.is_finite() && (0.0..1.0).contains(&t) => Expect::Accept,
        _ => reject(&["--rel-tol", "valid range: [0, 1)"]),
    }
}

/// Every (subcommand, argument id) of clap's definition, built-in help/version aside.
fn introspected() -> BTreeSet<(String, String)> {
    let cmd = optverify::cli::command();
    let mut out = BTreeSet::new();
    assert!(
        cmd.get_arguments()
            .all(|a| ["help", "version"].contains(&a.get_id().as_str())),
        "a top-level argument needs rows here"
    );
    for sub in cmd.get_subcommands() {
        assert!(
            !sub.has_subcommands(),
            "{}: nested subcommands need rows here",
            sub.get_name()
        );
        for a in sub.get_arguments() {
            let id = a.get_id().as_str();
            if id != "help" && id != "version" {
                out.insert((sub.get_name().to_string(), id.to_string()));
            }
        }
    }
    out
}

#[test]
fn test_clap_definition_is_consistent() {
    optverify::cli::command().debug_assert();
}

#[test]
fn test_every_argument_has_a_row() {
    let want = introspected();
    let have: BTreeSet<(String, String)> = rows()
        .iter()
        .map(|r| (r.sub.to_string(), r.id.to_string()))
        .collect();
    let missing: Vec<_> = want.difference(&have).collect();
    let stale: Vec<_> = have.difference(&want).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "arguments without a row in tests/cli_args.rs: {missing:?}; rows for no argument: {stale:?}"
    );
    assert!(have.len() >= 33, "{} rows", have.len());
}

fn judge(argv: &[String], expect: &Expect, out: &std::process::Output) -> Result<(), String> {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let code = out.status.code();
    let fail = |why: &str| {
        Err(format!(
            "{argv:?}: {why}; exit {code:?}\nstdout: {stdout}\nstderr: {stderr}"
        ))
    };
    if stderr.contains("panicked") {
        return fail("panicked");
    }
    match expect {
        Expect::Accept => {
            if code != Some(0) {
                return fail("expected exit 0 for a valid value");
            }
        }
        Expect::Reject(needles) => {
            if code != Some(2) {
                return fail("expected exit 2");
            }
            if !stdout.is_empty() {
                return fail("expected nothing on stdout");
            }
            if let Some(n) = needles.iter().find(|n| !stderr.contains(n.as_str())) {
                return fail(&format!("stderr lacks {n:?}"));
            }
        }
        Expect::FailsElsewhere(needle, arg) => {
            if code != Some(2) || !stderr.contains(needle.as_str()) {
                return fail(&format!("expected exit 2 naming {needle:?}"));
            }
            if stderr.contains(&format!("for '{arg}")) {
                return fail(&format!("the valid value was refused as {arg}"));
            }
        }
    }
    Ok(())
}

#[test]
fn test_every_argument_against_hostile_values() {
    let root = std::env::temp_dir().join(format!("optverify-cli-args-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let golden = golden("torch-adagrad-default-randn.jsonl");
    let gradients = root.join("gradients.jsonl");
    std::fs::write(&gradients, "[0.1, 0.2]\n[0.3, -0.4]\n").unwrap();
    let fixtures = Fixtures {
        golden: golden.to_str().unwrap().to_string(),
        gradients: gradients.to_str().unwrap().to_string(),
    };
    let rows = rows();
    let cases: Vec<(usize, usize)> = (0..rows.len())
        .flat_map(|r| (0..VALUES.len()).map(move |v| (r, v)))
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    // (class) → (runs, rejected, accepted)
    let tally: Mutex<BTreeMap<&str, (usize, usize, usize)>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(r, v)) = cases.get(k) else { break };
                let (row, (class, value)) = (&rows[r], VALUES[v]);
                // Each run in its own empty directory: nothing it names exists unless it writes it.
                let dir = root.join(format!("run-{k}"));
                std::fs::create_dir_all(&dir).unwrap();
                let argv = (row.argv)(&fixtures, value);
                let expect = (row.expect)(value);
                let out = optverify_in(&argv, Some(&dir));
                let mut t = tally.lock().unwrap();
                let e = t.entry(class).or_default();
                e.0 += 1;
                match expect {
                    Expect::Accept => e.2 += 1,
                    _ => e.1 += 1,
                }
                drop(t);
                if let Err(msg) = judge(&argv, &expect, &out) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{} {} = {class}: {msg}", row.sub, row.id));
                }
                std::fs::remove_dir_all(&dir).ok();
            });
        }
    });
    std::fs::remove_dir_all(&root).ok();
    for (class, (n, rejected, accepted)) in tally.lock().unwrap().iter() {
        println!("{class}: {n} runs, {rejected} refused (exit 2), {accepted} valid (exit 0)");
    }
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    assert_eq!(cases.len(), rows.len() * VALUES.len());
}

/// A word starting with '-' among the values of an argument that takes several (`--claim ID…`,
/// `merge RESULTS_JSON…`), which clap takes for flags, is refused naming that argument and
/// its valid values, in any position; flags after the values still parse as flags.
#[test]
fn test_hyphen_words_among_several_values_name_the_argument() {
    use clap::error::ErrorKind;
    use optverify::cli::{try_parse_from, Command};
    let refused = |argv: &[&str], needles: &[&str]| {
        let argv: Vec<&str> = ["optverify"].iter().chain(argv).copied().collect();
        let err = match try_parse_from(&argv) {
            Ok(_) => panic!("{argv:?} parsed"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::ValueValidation, "{argv:?}: {err}");
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        for n in needles {
            assert!(msg.contains(n), "{argv:?}: {n:?} missing from {msg}");
        }
    };
    let claim = [
        "--claim <ID>...",
        "not a claim id; valid: an id of `optverify list`",
    ];
    refused(&["verify", "--claim", "-inf"], &claim);
    refused(&["verify", "--quick", "--claim", "gd-rate", "-nan"], &claim);
    refused(&["verify", "--claim=-x"], &claim);
    let shards = [
        "<RESULTS_JSON>...",
        "valid: the shards' results.json files",
        "./-inf",
    ];
    refused(&["merge", "-inf"], &shards);
    refused(&["merge", "a.json", "-inf", "--out", "x"], &shards);
    refused(&["merge", "--out", "x", "-inf"], &shards);
    // An unknown flag where no argument takes values keeps clap's own message.
    let e = try_parse_from(["optverify", "verify", "--claim", "gd-rate", "--quick", "-x"])
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::UnknownArgument, "{e}");
    // Flags after several values are flags.
    match try_parse_from([
        "optverify",
        "verify",
        "--claim",
        "gd-rate",
        "adam-defaults",
        "--json",
    ])
    .unwrap()
    .command
    {
        Command::Verify { claims, json, .. } => assert!(claims == ["gd-rate", "adam-defaults"] && json),
        _ => panic!("not verify"),
    }
    match try_parse_from(["optverify", "merge", "a.json", "./-inf", "--out", "x"])
        .unwrap()
        .command
    {
        Command::Merge { shards, out } => {
            assert_eq!(shards, [std::path::PathBuf::from("a.json"), "./-inf".into()]);
            assert_eq!(out, std::path::PathBuf::from("x"));
        }
        _ => panic!("not merge"),
    }
}
