//! The drivers of `optverify verify`, `report` and `list`: select and run claims, print,
//! write, and decide the exit status. `main.rs` only parses arguments and calls these.

use super::format::{verdict_marked_for, ERROR_MARKED, UNEXPECTED_MARK};
use super::list::listing;
use super::progress::claims_bar;
use super::record::{mode_name, Results};
use super::shard::Shard;
use super::write::{write_report, WriteError};
use crate::claims::registry::{run_cards, select_cards, ClaimRun, SelectError};
use crate::claims::Mode;
use std::io::Write;
use std::path::Path;

/// How a command ended; [`Status::code`] is the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every claim got its card's expected verdict (exit 0).
    Success,
    /// Some claim did not (a different verdict, its checker failed, or one of its mutants
    /// survived) (exit 1).
    NotAsExpected,
    /// Bad input: an unknown claim id, a malformed card, an unwritable directory (exit 2).
    BadInput,
}

impl Status {
    /// The exit status: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::NotAsExpected => 1,
            Status::BadInput => 2,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mode: Mode,
    /// Claim ids; all claims when empty.
    pub claims: Vec<String>,
    /// Worker threads; rayon's default (one per core) when `None`.
    pub jobs: Option<usize>,
    /// Run only this shard of the selected claims (see [`super::shard`]).
    pub shard: Option<Shard>,
}

/// `cargo run --release -- <subcommand> …`: the command that reproduces a run.
fn command_line(subcommand: &str, opts: &RunOptions) -> String {
    let mut s = format!("cargo run --release -- {subcommand}");
    if opts.mode == Mode::Quick {
        s.push_str(" --quick");
    }
    for id in &opts.claims {
        s.push_str(" --claim ");
        s.push_str(id);
    }
    if let Some(shard) = opts.shard {
        s.push_str(&format!(" --shard {shard}"));
    }
    s
}

/// Select the claims of `opts` and run them in parallel, with a progress bar on a terminal.
/// The runs are in registry order.
///
/// # Errors
/// A malformed card or an unknown claim id.
pub fn run_claims(opts: &RunOptions) -> Result<Vec<ClaimRun>, SelectError> {
    let mut cards = select_cards(&opts.claims)?;
    if let Some(shard) = opts.shard {
        cards = cards
            .into_iter()
            .enumerate()
            .filter(|(k, _)| shard.owns(*k))
            .map(|(_, card)| card)
            .collect();
    }
    let bar = claims_bar(cards.len());
    let work = || {
        run_cards(&cards, opts.mode, &|run| {
            bar.set_message(run.card.id.clone());
            bar.inc(1);
        })
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build();
    let runs = match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    bar.finish_and_clear();
    Ok(runs)
}

/// True iff the run has evidence and its check killed every mutant of the card.
fn mutants_all_killed(run: &ClaimRun) -> bool {
    run.result
        .as_ref()
        .is_ok_and(|j| j.mutants.iter().all(|m| m.killed))
}

/// The status of a set of runs: bad input if a card is malformed, else success iff every
/// claim got its expected verdict and its check killed every mutant.
pub fn status_of(runs: &[ClaimRun]) -> Status {
    if runs.iter().any(ClaimRun::is_card_error) {
        Status::BadInput
    } else if runs.iter().all(|r| r.as_expected() && mutants_all_killed(r)) {
        Status::Success
    } else {
        Status::NotAsExpected
    }
}

/// One line of `verify`: mark, id, verdict, expected verdict if different, mutants killed,
/// headline, time.
pub fn verify_line(run: &ClaimRun, id_width: usize) -> String {
    let mark = if run.as_expected() && mutants_all_killed(run) {
        "✓"
    } else {
        "✗"
    };
    let id = &run.card.id;
    match &run.result {
        Ok(j) => {
            let mut verdict = verdict_marked_for(run.card.kind, j.verdict()).to_string();
            if j.verdict() != run.card.expected {
                verdict.push_str(&format!(" ({UNEXPECTED_MARK} expected {})", run.card.expected));
            }
            let (killed, total) = j.mutants_killed();
            let mutants = if killed < total {
                let survivors: Vec<&str> = j
                    .mutants
                    .iter()
                    .filter(|m| !m.killed)
                    .map(|m| m.id.as_str())
                    .collect();
                format!(
                    "mutants {killed}/{total} {UNEXPECTED_MARK} survived: {}",
                    survivors.join(", ")
                )
            } else {
                format!("mutants {killed}/{total}")
            };
            let headline = j
                .conclusion
                .headline
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "{mark} {id:<id_width$}  {verdict:<20}  {mutants}  {headline}  [{:.2} s]",
                run.seconds
            )
        }
        Err(err) => format!(
            "{mark} {id:<id_width$}  {ERROR_MARKED} (expected {}): {err}",
            run.card.expected
        ),
    }
}

fn bad_input(err: &mut dyn Write, e: &dyn std::fmt::Display) -> Status {
    let _ = writeln!(err, "error: {e}");
    Status::BadInput
}

/// `optverify verify`: run the claims and print one line per claim and a summary (or JSON).
pub fn verify(opts: &RunOptions, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let runs = match run_claims(opts) {
        Ok(r) => r,
        Err(e) => return bad_input(err, &e),
    };
    let mut results = Results::new(&runs, opts.mode, command_line("verify", opts), true);
    results.shard = opts.shard;
    if json {
        let _ = out.write_all(results.to_json().as_bytes());
    } else {
        let id_width = runs.iter().map(|r| r.card.id.chars().count()).max().unwrap_or(0);
        for run in &runs {
            let _ = writeln!(out, "{}", verify_line(run, id_width));
        }
        let _ = writeln!(out, "{} ({} mode)", results.summary.line(), mode_name(opts.mode));
    }
    let status = status_of(&runs);
    if status == Status::BadInput {
        let _ = writeln!(
            err,
            "error: a card is malformed (see the lines marked {ERROR_MARKED})"
        );
    }
    status
}

/// `optverify report`: run every claim and write the report under `out_dir`; print where it
/// went and the summary line. The report is written even when a verdict is unexpected.
pub fn report(
    mode: Mode,
    jobs: Option<usize>,
    shard: Option<Shard>,
    out_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Status {
    let opts = RunOptions {
        mode,
        claims: Vec::new(),
        jobs,
        shard,
    };
    let runs = match run_claims(&opts) {
        Ok(r) => r,
        Err(e) => return bad_input(err, &e),
    };
    let mut results = Results::new(&runs, mode, command_line("report", &opts), false);
    results.shard = shard;
    if let Err(status) = write(out_dir, &results, out, err) {
        return status;
    }
    for run in runs.iter().filter(|r| !r.as_expected()) {
        let id_width = run.card.id.chars().count();
        let _ = writeln!(out, "{}", verify_line(run, id_width));
    }
    let _ = writeln!(out, "{}", results.summary.line());
    status_of(&runs)
}

/// The largest results.json `merge` reads: a full report's is about 1 MB, so 256 MiB leaves
/// room for 100× the claims and seeds while refusing `/dev/zero` or a wrong file before it
/// exhausts memory.
pub const MAX_RESULTS_BYTES: u64 = 256 << 20;

/// The text of `path` if it holds at most `limit` bytes, `None` if more.
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_string(&mut text)?;
    Ok((text.len() as u64 <= limit).then_some(text))
}

/// `optverify merge`: read the shards' `results.json` (written by `report --shard i/n`, or
/// printed by `verify --shard i/n --json`), merge them and write the report of the whole run
/// under `out_dir` (see [`super::shard`]). Exit status as `report`: 0 if every claim got its
/// expected verdict and killed every mutant, 1 if not, 2 if a file is unreadable or the
/// shards do not fit together.
pub fn merge(
    files: &[std::path::PathBuf],
    out_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Status {
    let mut shards = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = match read_bounded(path, MAX_RESULTS_BYTES) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return bad_input(
                    err,
                    &format!("{name} is larger than {MAX_RESULTS_BYTES} bytes, far more than a results.json (a few MB)"),
                )
            }
            Err(e) => return bad_input(err, &format!("cannot read {name}: {e}")),
        };
        match serde_json::from_str::<Results>(&text) {
            Ok(r) => shards.push((name, r)),
            Err(e) => return bad_input(err, &format!("{name} is not a results.json: {e}")),
        }
    }
    let mode = match shards.first() {
        Some((_, r)) => r.mode,
        None => return bad_input(err, &super::shard::MergeError::Empty),
    };
    let whole = RunOptions {
        mode,
        claims: Vec::new(),
        jobs: None,
        shard: None,
    };
    let results = match super::shard::merge(shards, command_line("report", &whole)) {
        Ok(r) => r,
        Err(e) => return bad_input(err, &e),
    };
    if let Err(status) = write(out_dir, &results, out, err) {
        return status;
    }
    for c in results.claims.iter().filter(|c| !c.as_expected) {
        let _ = writeln!(out, "✗ {} not as expected", c.card.id);
    }
    let _ = writeln!(out, "{}", results.summary.line());
    // As `report` decides ([`status_of`]): every verdict as expected and every mutant killed.
    let summary = &results.summary;
    if summary.all_as_expected() && summary.mutants_killed == summary.mutants {
        Status::Success
    } else {
        Status::NotAsExpected
    }
}

/// Write the report of `results` and say where; the status to return on failure.
fn write(out_dir: &Path, results: &Results, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Status> {
    let mode = results.mode;
    match write_report(out_dir, results) {
        Ok(files) => {
            let _ = writeln!(
                out,
                "wrote {} files under {} ({} mode)",
                files.len(),
                out_dir.display(),
                mode_name(mode)
            );
        }
        Err(e @ WriteError::Io { .. }) => return Err(bad_input(err, &e)),
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Err(Status::NotAsExpected);
        }
    }
    Ok(())
}

/// `optverify list`: the claims, optimizers and problems, as text or JSON.
pub fn list(json: bool, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match listing() {
        Ok(l) => {
            let text = if json { l.to_json() } else { l.to_text() };
            let _ = out.write_all(text.as_bytes());
            Status::Success
        }
        Err(e) => bad_input(err, &e),
    }
}
