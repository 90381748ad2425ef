//! Every `optverify` command README.md shows (in ```sh blocks as `optverify …` or
//! `cargo run --release -- …`, in ```console blocks after `$ `) runs as written on a checkout:
//! the subcommands that take seconds are run with the built binary, in README order, in an
//! empty directory that sees the checkout's `tests/` (so `tests/data/…` paths resolve and
//! written files land in the temp directory). Each must exit with the status the README shows
//! after it (`$ echo $?`), 0 if none, and print every output line the README shows, in order.
//! The commands not run are listed with the reason ([`NOT_RUN`], [`SLOW`]); a README command
//! that is neither run nor listed, or a listed one the README no longer shows, fails.

#[path = "support/cli.rs"]
mod support;
use support::{manifest, optverify_in, temp_path, text};

/// Commands shown but not runnable on a checkout, each with the reason.
const NOT_RUN: &[(&str, &str)] = &[(
    "optverify check run.ovt",
    "run.ovt is the binary trace the Python recorder example writes (needs torch)",
)];

/// Subcommands that run every claim of the registry (minutes in full mode); their README
/// commands are exercised by tests/shard.rs (quick report, shards, merge).
const SLOW: &[&str] = &["report", "merge"];

#[derive(Debug)]
struct Shown {
    /// README line number (1-based) and the command as shown.
    line: usize,
    shown: String,
    /// The words after `optverify` (or `cargo run --release --`).
    args: Vec<String>,
    output: Vec<String>,
    status: Option<i32>,
}

/// The shell words of `line`: '…' and "…" quote (no escapes needed in the README), an
/// unquoted `#` starting a word begins a comment; `None` if the line uses other shell syntax
/// (`$`, `|`, `&`, `;`, `<`, `>`, `*`, a backquote) outside quotes.
fn words(line: &str) -> Option<Vec<String>> {
    let (mut out, mut cur, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '#' if !in_word => break,
                c if c.is_whitespace() => {
                    if in_word {
                        out.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                '$' | '|' | '&' | ';' | '<' | '>' | '*' | '`' => return None,
                c => {
                    cur.push(c);
                    in_word = true;
                }
            },
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// The arguments after the program if `w` is an `optverify` command line.
fn optverify_args(w: &[String]) -> Option<Vec<String>> {
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["optverify", rest @ ..] | ["cargo", "run", "--release", "--", rest @ ..] => {
            Some(rest.iter().map(|s| s.to_string()).collect())
        }
        _ => None,
    }
}

/// Every `optverify` command of README.md, with the output and status shown after it. A
/// line that mentions optverify as a command but cannot be split into words is returned with
/// no arguments (then it must be in [`NOT_RUN`] or use a [`SLOW`] subcommand).
fn shown_commands(readme: &str) -> Vec<Shown> {
    let mut out: Vec<Shown> = Vec::new();
    let mut fence: Option<String> = None;
    let mut pending = String::new();
    let mut after_echo = false;
    for (i, raw) in readme.lines().enumerate() {
        let line = raw.trim_start();
        if let Some(lang) = line.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.trim().to_string()),
            };
            continue;
        }
        let Some(lang) = fence.as_deref() else { continue };
        let mut push = |shown: &str| {
            let ws = words(shown);
            let is_command = shown.starts_with("optverify ") || shown.starts_with("cargo run --release -- ");
            if !is_command && !shown.contains("cargo run --release -- ") {
                return;
            }
            let args = ws.as_deref().and_then(optverify_args).unwrap_or_default();
            out.push(Shown {
                line: i + 1,
                shown: shown.to_string(),
                args,
                output: vec![],
                status: None,
            });
        };
        match lang {
            "sh" | "bash" | "" => {
                if let Some(cont) = line.strip_suffix('\\') {
                    pending.push_str(cont);
                    continue;
                }
                pending.push_str(line);
                let full = std::mem::take(&mut pending);
                push(full.trim());
            }
            "console" => {
                if line == "$ echo $?" {
                    after_echo = true;
                } else if let Some(cmd) = line.strip_prefix("$ ") {
                    push(cmd.trim());
                } else if after_echo {
                    after_echo = false;
                    if let Some(last) = out.last_mut() {
                        last.status = Some(line.trim().parse().expect("a status after `$ echo $?`"));
                    }
                } else if let Some(last) = out.last_mut() {
                    last.output.push(raw.to_string());
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn test_readme_commands_run_as_written() {
    let readme = std::fs::read_to_string(manifest("README.md")).unwrap();
    let shown = shown_commands(&readme);
    let dir = temp_path("readme");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(manifest("tests"), dir.join("tests")).unwrap();
    let (mut ran, mut slow, mut failures) = (0, Vec::new(), Vec::new());
    for s in &shown {
        if let Some((_, why)) = NOT_RUN.iter().find(|(c, _)| *c == s.shown) {
            println!("README.md:{}: not run: `{}`: {why}", s.line, s.shown);
            continue;
        }
        // The subcommand, also of a line with shell syntax (a loop, a glob).
        let sub = s.args.first().map(String::as_str).unwrap_or_else(|| {
            ["cargo run --release -- ", "optverify "]
                .iter()
                .find_map(|p| s.shown.split_once(p))
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("")
        });
        if SLOW.contains(&sub) || (sub == "verify" && !s.args.iter().any(|a| a == "--quick")) {
            slow.push(format!("README.md:{}: {}", s.line, s.shown));
            continue;
        }
        if s.args.is_empty() {
            failures.push(format!(
                "README.md:{}: `{}`: not a command this test can run; run it or list it in NOT_RUN",
                s.line, s.shown
            ));
            continue;
        }
        ran += 1;
        let out = optverify_in(&s.args, Some(&dir));
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let want = s.status.unwrap_or(0);
        if out.status.code() != Some(want) {
            failures.push(format!(
                "README.md:{}: `{}`: exit {:?}, the README shows {want}\n{stdout}{stderr}",
                s.line,
                s.shown,
                out.status.code()
            ));
            continue;
        }
        // The shown output lines, in order, among the printed ones.
        let mut printed = stdout.lines();
        if let Some(missing) = s.output.iter().find(|l| !printed.any(|p| p == l.as_str())) {
            failures.push(format!(
                "README.md:{}: `{}`: the README shows the line\n  {missing}\nwhich is not printed (in that order):\n{stdout}",
                s.line, s.shown
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{ran} README commands run; {} not run as slow: {slow:#?}",
        slow.len()
    );
    for (cmd, _) in NOT_RUN {
        assert!(
            shown.iter().any(|s| s.shown == *cmd),
            "NOT_RUN lists `{cmd}`, which README.md no longer shows"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran >= 12, "only {ran} README commands found to run: {shown:#?}");
}

#[test]
fn test_words_split_like_a_shell() {
    assert_eq!(
        words(r#"optverify trace --hyperparameters '{"lr": 0.05}' --out r.jsonl   # comment"#).unwrap(),
        [
            "optverify",
            "trace",
            "--hyperparameters",
            r#"{"lr": 0.05}"#,
            "--out",
            "r.jsonl"
        ]
    );
    assert_eq!(words("a 'b c'd \"e#f\" #g").unwrap(), ["a", "b cd", "e#f"]);
    assert!(words("for i in 1 2; do optverify x & done").is_none());
    assert!(words("optverify merge /tmp/shard-*/results.json").is_none());
}
