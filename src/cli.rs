//! The `optverify` command line: its clap definition, so that `src/main.rs` only dispatches
//! and a test can enumerate every argument of every subcommand ([`command`]).
//!
//! Every numeric argument has a value parser that states its valid range in its error, and
//! accepts a leading `-` as part of the value (so `--rel-tol -1` is refused as out of range,
//! naming `--rel-tol`, instead of being taken for an unknown flag):
//!
//! | argument | valid range |
//! |---|---|
//! | `-j`/`--jobs` | 1..=[`MAX_JOBS`] |
//! | `--rel-tol` | \[0, 1) ([`crate::oracle::compare::validate_rel_tol`]) |
//! | `--sample` | 2..=2⁶⁴−1 |
//! | `--dim` | [`crate::oracle::cli::min_problem_dim`]..=[`crate::oracle::cli::max_problem_dim`] of the problem (checked before the problem is built) |
//! | `--steps` | 1..=[`crate::oracle::cli::max_trace_steps`] of the problem's parameter count (checked before the run) |
//! | `--seed` | 0..=2⁶⁴−1 |
//! | `--shard` | `i/n` with 1 ≤ i ≤ n |
//! | paths | non-empty |
//!
//! `verify --claim ID…` and `merge RESULTS_JSON…` take several values, so clap reads a word
//! starting with '-' among them as flags; [`try_parse_from`] (what `main` calls) refuses such
//! a word naming the argument and its valid values instead of clap's "unexpected argument".
//!
//! Bad values exit with status 2 (clap's usage error), the message naming the argument and
//! the range. The test `tests/cli_args.rs` runs every argument of every subcommand against
//! NaN, ±∞, negative, 0, huge and wrongly typed values.
//!
//! ## Exit statuses
//!
//! Generated from [`exit_statuses`], as each command's `--help` ([`exit_status_help`]) and
//! README.md's "Exit statuses" are (`tests/cli.rs` checks that all three agree):
//!
//! | command | status | meaning |
//! |---|---:|---|
//! | `verify` | 0 | every selected claim got its card's expected verdict and killed all its mutants |
//! | `verify` | 1 | some claim did not (another verdict, a checker error, a surviving mutant) |
//! | `verify` | 2 | bad input: unknown claim id, malformed card, bad argument |
//! | `report` | 0 | every claim got its card's expected verdict and killed all its mutants |
//! | `report` | 1 | some claim did not; the report is written all the same |
//! | `report` | 2 | bad input: malformed card, unwritable directory, bad argument |
//! | `merge` | 0 | every claim of the merged run got its card's expected verdict and killed all its mutants |
//! | `merge` | 1 | some claim did not; the report is written all the same |
//! | `merge` | 2 | bad input: unreadable file, missing or repeated shard, shards of different runs, bad argument |
//! | `trace` | 0 | the trace is written |
//! | `trace` | 2 | bad input: unknown problem, preset, optimizer or hyperparameter; no f32 kernel for --dtype f32; unreadable gradients; bad argument |
//! | `replay` | 0 | the trace agrees with its declared preset |
//! | `replay` | 1 | it disagrees |
//! | `replay` | 2 | bad input (the message names the file, line, step and field) |
//! | `replay` | 4 | nothing to check: a header and no steps (never reported as agreement) |
//! | `check` | 0 | the trace agrees with its declared preset |
//! | `check` | 1 | it disagrees |
//! | `check` | 2 | bad input (the message names the file, line, step and field) |
//! | `check` | 3 | it agrees only given an explanation the header did not declare, inferred from the trace (a schedule, parameter groups, clipping) |
//! | `check` | 4 | nothing to check: a header and no steps (never reported as agreement) |
//! | `convert` | 0 | converted |
//! | `convert` | 2 | bad input: unreadable or malformed trace, output directory not empty, bad argument |
//! | `conformance` | 0 | every trace is within the tolerance of its dtype |
//! | `conformance` | 1 | some trace is beyond it (listed) |
//! | `conformance` | 2 | a trace cannot be read or has no steps, or a bad argument |
//! | `list` | 0 | listed |
//! | `list` | 2 | a malformed card, or a bad argument |

use crate::claims::Mode;
use crate::oracle::cli::{
    EXIT_AGREE, EXIT_AGREE_INFERRED, EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_NOTHING_TO_CHECK,
};
use crate::report::shard::Shard;
use crate::report::Status;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
use std::num::IntErrorKind;
use std::path::PathBuf;

/// The whole command line, for introspection (every subcommand and argument).
pub fn command() -> clap::Command {
    Cli::command()
}

/// [`Cli`] from a command line (`args[0]` the program name), as clap's `try_parse_from`,
/// except for a value starting with '-' given to an argument that takes several values
/// (`verify --claim ID…`, `merge RESULTS_JSON…`): clap takes such a value for an unknown
/// flag (`--claim -inf` reads as `-i -n -f`) and says only that; this refuses it naming the
/// argument and its valid values, with the parser's own message when the value is invalid
/// anyway, else saying how to write it (`./-name` for a file). `main` calls this, then
/// `clap::Error::exit` on an error (exit status 2, or 0 for `--help`/`--version`).
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    Cli::try_parse_from(&args).map_err(|e| match e.kind() {
        ErrorKind::UnknownArgument => hyphen_value_error(&args).unwrap_or(e),
        _ => e,
    })
}

/// The error for the first word of `args` that starts with '-', is not a flag of the
/// subcommand nor a negative number, and stands where an argument taking several values
/// collects it; `None` when there is no such word (then clap's error stands).
fn hyphen_value_error(args: &[OsString]) -> Option<clap::Error> {
    let words: Vec<&str> = args.iter().skip(1).map(|a| a.to_str()).collect::<Option<_>>()?;
    let (name, rest) = words.split_first()?;
    let mut cmd = command();
    cmd.build();
    let mut sub = cmd.find_subcommand(name)?.clone();
    let flag = |w: &str| -> Option<clap::Arg> {
        let found = if let Some(long) = w.strip_prefix("--") {
            let long = long.split_once('=').map_or(long, |(l, _)| l);
            sub.get_arguments().find(|a| a.get_long() == Some(long))
        } else {
            let short = w.strip_prefix('-')?.chars().next()?;
            sub.get_arguments().find(|a| a.get_short() == Some(short))
        };
        found.cloned()
    };
    let negative_number = |w: &str| {
        w.strip_prefix('-').is_some_and(|n| {
            n.starts_with(|c: char| c.is_ascii_digit() || c == '.') && n.parse::<f64>().is_ok()
        })
    };
    let several = |a: &clap::Arg| a.get_num_args().is_some_and(|n| n.max_values() > 1);
    let at = rest.iter().position(|w| {
        w.len() > 1 && w.starts_with('-') && !w.starts_with("--") && flag(w).is_none() && !negative_number(w)
    })?;
    if rest[..at].contains(&"--") {
        return None;
    }
    let value = rest[at];
    // The last flag before the word collects it if it takes several values (and was not given
    // its value with '='); otherwise the word is a positional value.
    let last = rest[..at]
        .iter()
        .rev()
        .find(|w| w.starts_with('-') && flag(w).is_some());
    let arg = match last.and_then(|w| flag(w).filter(|a| several(a) && !w.contains('='))) {
        Some(a) => a,
        None => sub.get_positionals().find(|a| several(a))?.clone(),
    };
    // The argument's own parser on the value, given where clap cannot take it for a flag.
    let given = match arg.get_long() {
        Some(long) => vec![format!("--{long}={value}")],
        None => vec!["--".to_string(), value.to_string()],
    };
    let probe = [args[0].to_string_lossy().to_string(), name.to_string()]
        .into_iter()
        .chain(given);
    match command().try_get_matches_from(probe) {
        Err(e) if e.kind() == ErrorKind::ValueValidation => Some(e),
        _ => Some(
            clap::Error::raw(
                ErrorKind::ValueValidation,
                format!(
                    "invalid value '{value}' for '{arg}': a word starting with '-' is read as a flag here; \
                     valid: {}; write a file whose name starts with '-' as ./{value}\n",
                    help_phrase(&arg)
                ),
            )
            .format(&mut sub),
        ),
    }
}

/// An argument's help as a phrase: lowercase first letter, no final period.
fn help_phrase(arg: &clap::Arg) -> String {
    let help = arg.get_help().map_or("see --help".to_string(), |h| h.to_string());
    let mut c = help.trim_end_matches('.').chars();
    c.next()
        .map_or(String::new(), |f| f.to_lowercase().chain(c).collect())
}

/// Largest `-j`/`--jobs`: more threads than this only costs memory (the machine's cores
/// bound the speed-up long before).
pub const MAX_JOBS: usize = 1024;

/// The exit statuses `command` (a subcommand name) can return, in increasing order, each with
/// what it means for that command; empty for a name that is not a subcommand. Every command
/// also exits 2 ([`EXIT_BAD_INPUT`]) when an argument is refused. Each command's `--help`, the
/// table in this module's docs and README.md's "Exit statuses" are generated from this list
/// ([`exit_status_help`], [`exit_status_table`]; `tests/cli.rs` checks that they agree and that
/// every status a command is seen to return is in it).
pub fn exit_statuses(command: &str) -> Vec<(u8, &'static str)> {
    let (ok, not_as_expected, bad) = (
        Status::Success.code(),
        Status::NotAsExpected.code(),
        Status::BadInput.code(),
    );
    let agrees = "the trace agrees with its declared preset";
    let disagrees = "it disagrees";
    let nothing = "nothing to check: a header and no steps (never reported as agreement)";
    match command {
        "verify" => vec![
            (ok, "every selected claim got its card's expected verdict and killed all its mutants"),
            (not_as_expected, "some claim did not (another verdict, a checker error, a surviving mutant)"),
            (bad, "bad input: unknown claim id, malformed card, bad argument"),
        ],
        "report" => vec![
            (ok, "every claim got its card's expected verdict and killed all its mutants"),
            (not_as_expected, "some claim did not; the report is written all the same"),
            (bad, "bad input: malformed card, unwritable directory, bad argument"),
        ],
        "merge" => vec![
            (ok, "every claim of the merged run got its card's expected verdict and killed all its mutants"),
            (not_as_expected, "some claim did not; the report is written all the same"),
            (bad, "bad input: unreadable file, missing or repeated shard, shards of different runs, bad argument"),
        ],
        "trace" => vec![
            (EXIT_AGREE, "the trace is written"),
            (EXIT_BAD_INPUT, "bad input: unknown problem, preset, optimizer or hyperparameter; no f32 kernel for --dtype f32; unreadable gradients; bad argument"),
        ],
        "replay" => vec![
            (EXIT_AGREE, agrees),
            (EXIT_DISAGREE, disagrees),
            (EXIT_BAD_INPUT, "bad input (the message names the file, line, step and field)"),
            (EXIT_NOTHING_TO_CHECK, nothing),
        ],
        "check" => vec![
            (EXIT_AGREE, agrees),
            (EXIT_DISAGREE, disagrees),
            (EXIT_BAD_INPUT, "bad input (the message names the file, line, step and field)"),
            (EXIT_AGREE_INFERRED, "it agrees only given an explanation the header did not declare, inferred from the trace (a schedule, parameter groups, clipping)"),
            (EXIT_NOTHING_TO_CHECK, nothing),
        ],
        "convert" => vec![
            (EXIT_AGREE, "converted"),
            (EXIT_BAD_INPUT, "bad input: unreadable or malformed trace, output directory not empty, bad argument"),
        ],
        "conformance" => vec![
            (EXIT_AGREE, "every trace is within the tolerance of its dtype"),
            (EXIT_DISAGREE, "some trace is beyond it (listed)"),
            (EXIT_BAD_INPUT, "a trace cannot be read or has no steps, or a bad argument"),
        ],
        "list" => vec![
            (ok, "listed"),
            (bad, "a malformed card, or a bad argument"),
        ],
        _ => vec![],
    }
}

/// The "Exit status:" section of `command`'s `--help`, from [`exit_statuses`].
pub fn exit_status_help(command: &str) -> String {
    let mut s = "Exit status:".to_string();
    for (code, meaning) in exit_statuses(command) {
        s.push_str(&format!("\n  {code}  {meaning}"));
    }
    s
}

/// `about`, a blank line and [`exit_status_help`]: a subcommand's `long_about`.
fn long_about(command: &str, about: &str) -> String {
    format!("{about}\n\n{}", exit_status_help(command))
}

/// The Markdown table of every subcommand's exit statuses, from [`exit_statuses`], as this
/// module's docs and README.md's "Exit statuses" hold it.
pub fn exit_status_table() -> String {
    let mut s = "| command | status | meaning |\n|---|---:|---|\n".to_string();
    for sub in command().get_subcommands() {
        for (code, meaning) in exit_statuses(sub.get_name()) {
            s.push_str(&format!("| `{}` | {code} | {meaning} |\n", sub.get_name()));
        }
    }
    s
}

/// A whole number in `min..=max`; the error says why and gives `range`.
fn whole(s: &str, min: u64, max: u64, range: &str) -> Result<u64, String> {
    let why = match s.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => return Ok(v),
        Ok(v) => format!("{v} is out of range"),
        Err(e) => match e.kind() {
            IntErrorKind::Empty => "empty".to_string(),
            IntErrorKind::PosOverflow => "too large for 64 bits".to_string(),
            _ if s
                .strip_prefix('-')
                .and_then(|n| n.parse::<f64>().ok())
                .is_some_and(|x| x > 0.0) =>
            {
                "negative".to_string()
            }
            _ => "not a whole number".to_string(),
        },
    };
    Err(format!("{why}; valid range: {range}"))
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    whole(
        s,
        1,
        MAX_JOBS as u64,
        &format!("1..={MAX_JOBS} (omit -j for one thread per core)"),
    )
    .map(to_usize)
}

fn parse_dim(s: &str) -> Result<usize, String> {
    use crate::oracle::cli::{max_problem_dim, min_problem_dim};
    let (min, max) = (
        min_problem_dim("quadratic").unwrap_or(1),
        max_problem_dim("quadratic").unwrap_or(0),
    );
    let range = format!(
        "M..=N, the problem's smallest dimension (2 for quadratic and rosenbrock, else 1) and the \
         largest that fits in memory (quadratic: {min}..={max}; a value out of the problem's range \
         is refused naming it)"
    );
    whole(s, 1, usize::MAX as u64, &range).map(to_usize)
}

fn parse_steps(s: &str) -> Result<usize, String> {
    let range = format!(
        "1..=N, N the most steps whose trace fits in 1 TiB ({} for 1 parameter; fewer for more)",
        crate::oracle::cli::max_trace_steps(1)
    );
    whole(s, 1, usize::MAX as u64, &range).map(to_usize)
}

fn parse_seed(s: &str) -> Result<u64, String> {
    whole(s, 0, u64::MAX, &format!("0..={}", u64::MAX))
}

fn parse_sample(s: &str) -> Result<usize, String> {
    let range = format!("2..={} coordinates per block", usize::MAX);
    whole(s, 2, usize::MAX as u64, &range).map(to_usize)
}

fn parse_rel_tol(s: &str) -> Result<f64, String> {
    let range = crate::oracle::compare::REL_TOL_RANGE;
    let t: f64 = s.parse().map_err(|_| {
        format!(
            "{}; valid range: {range}",
            if s.is_empty() { "empty" } else { "not a number" }
        )
    })?;
    crate::oracle::compare::validate_rel_tol(t)
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

fn parse_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        return Err("empty; valid: a non-empty file or directory path".to_string());
    }
    Ok(PathBuf::from(s))
}

fn parse_claim_id(s: &str) -> Result<String, String> {
    let well_formed = s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if well_formed {
        Ok(s.to_string())
    } else {
        Err("not a claim id; valid: an id of `optverify list` (lowercase words and digits joined by '-', e.g. gd-rate)".to_string())
    }
}

#[derive(Parser)]
#[command(
    name = "optverify",
    version,
    about = "Verify a lecture's claims about deep-learning optimizers, and check other implementations against reference trajectories.",
    after_help = "Examples:\n  optverify verify --quick\n  optverify report\n  optverify list --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// How hard to check and how many threads to use.
#[derive(Args)]
pub struct Effort {
    /// Use the cards' `[quick]` parameters (seconds; what `cargo test` runs) instead of `[full]`.
    #[arg(long)]
    pub quick: bool,
    /// Worker threads, 1..=1024 (default: one per core).
    #[arg(long, short = 'j', value_name = "N", allow_hyphen_values = true, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
}

impl Effort {
    pub fn mode(&self) -> Mode {
        if self.quick {
            Mode::Quick
        } else {
            Mode::Full
        }
    }
}

/// The arguments of `replay` and `check`: the candidate trace and how to compare it.
#[derive(Args)]
pub struct Candidate {
    /// The candidate trace: a JSON Lines file, or a binary trace directory (safetensors).
    #[arg(allow_hyphen_values = true, value_parser = parse_path)]
    pub trace: PathBuf,
    /// Relative tolerance in [0, 1) (default 1e-12 for f64 traces, 3.8e-4 for f32: 200 steps × 32 unit roundoffs).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_rel_tol)]
    pub rel_tol: Option<f64>,
    /// Binary traces of element-wise optimizers: replay only K coordinates per block (first,
    /// last, vector-tail and chunk boundaries, the rest pseudo-random; deterministic).
    #[arg(long, value_name = "K", allow_hyphen_values = true, value_parser = parse_sample)]
    pub sample: Option<usize>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the claims' checks and their mutants and print one line per claim: verdict, expected
    /// verdict if it differs, mutants killed, measured vs predicted, time.
    #[command(
        long_about = long_about("verify", "Run the checks of the selected claims (all by default) and print, per claim, \
the verdict (holds / fails as printed / inconclusive, concluded by the engine from the roles of the \
measurements), the card's expected verdict when it differs, how many of the card's mutants (false \
perturbations of its statement) the check rejected, the headline measured-vs-predicted figure and \
the time taken (mutants included), then a summary line."),
        after_help = "Examples:\n  optverify verify --quick\n  optverify verify --claim gd-rate --claim heavy-ball-rate\n  optverify verify --quick --json > results.json"
    )]
    Verify {
        #[command(flatten)]
        effort: Effort,
        /// Check only these claims (repeat the flag or list several ids).
        #[arg(long = "claim", value_name = "ID", num_args = 1.., allow_negative_numbers = true, value_parser = parse_claim_id)]
        claims: Vec<String>,
        /// Print the results (cards, evidence, times) as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Run only every n-th claim, starting at the i-th (1-based), e.g. 2/4; combine the
        /// shards' --json output with `merge`.
        #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = parse_shard)]
        shard: Option<Shard>,
    },
    /// Run every claim and write the report: README.md index, one page per claim, SVG figures,
    /// results.json.
    #[command(
        long_about = long_about("report", "Run every claim (full parameters unless --quick) and write the report directory: \
README.md (a table of every claim), claims/<id>.md (statement as printed and precise, measurements, \
counterexample, figures, the card's argument), figures/*.svg and results.json. The files hold no \
timestamps: the same seeds give byte-identical output. The report is written even if a verdict \
differs from the card's expected one; the exit status is then 1."),
        after_help = "Examples:\n  optverify report\n  optverify report --quick --out /tmp/quick-report"
    )]
    Report {
        #[command(flatten)]
        effort: Effort,
        /// Directory to write the report into.
        #[arg(long, value_name = "DIR", default_value = "reports", allow_hyphen_values = true, value_parser = parse_path)]
        out: PathBuf,
        /// Run only every n-th claim, starting at the i-th (1-based), e.g. 2/4; the shard's
        /// results.json is then one input of `merge`.
        #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = parse_shard)]
        shard: Option<Shard>,
    },
    /// Combine the results.json of the shards of a split run (`report --shard i/n` or
    /// `verify --shard i/n --json`) into the report of the whole run.
    #[command(
        long_about = long_about("merge", "Read the results.json of every shard of a run split with --shard i/n (from `report \
--shard i/n --out DIR` or `verify --shard i/n --json`), check that all n shards of one version and one \
mode are there, and write the report of the whole run: the same files, byte for byte, as an unsharded \
`report` (every file is re-rendered from the records)."),
        after_help = "Examples:\n  for i in 1 2 3 4; do optverify report --quick --shard $i/4 --out shard-$i & done; wait\n  optverify merge shard-*/results.json --out reports\n  sbatch --array=1-8 --wrap 'optverify report --shard $SLURM_ARRAY_TASK_ID/8 --out shard-$SLURM_ARRAY_TASK_ID'"
    )]
    Merge {
        /// The shards' results.json files, in any order.
        #[arg(required = true, value_name = "RESULTS_JSON", allow_negative_numbers = true, value_parser = parse_path)]
        shards: Vec<PathBuf>,
        /// Directory to write the merged report into.
        #[arg(long, value_name = "DIR", default_value = "reports", allow_hyphen_values = true, value_parser = parse_path)]
        out: PathBuf,
    },
    /// Run a framework preset on a named problem or a supplied gradient sequence and write the
    /// reference trajectory as a trace (JSON Lines, see README "Oracle").
    #[command(
        long_about = long_about("trace", "Run the reference of a framework preset (its kernel in the chosen dtype where one \
exists, else the crate's optimizer in f64) and write the trajectory as an optverify trace: gradients, \
parameters after each step and, for a named problem, the loss. The gradients come from a named problem \
of `optverify list` (closed loop: the gradient at the current parameters), from a JSON Lines file of \
gradient arrays, or from another trace. The reference is the one replay and check use, so the written \
trace replays bit for bit."),
        group(clap::ArgGroup::new("source").required(true).args(["problem", "from_trace", "gradients"])),
        after_help = "Examples:\n  optverify trace --problem quadratic --dim 5 --steps 50 --preset pytorch --optimizer sgd \\\n      --hyperparameters '{\"lr\": 0.05, \"momentum\": 0.9}' --dtype f32 --out sgd-f32.jsonl\n  optverify trace --preset pytorch --optimizer adam --hyperparameters '{\"lr\": 0.01}' \\\n      --gradients grads.jsonl --params0 '[0.5, -1.0]' --out reference.jsonl\n  optverify trace --preset optax --optimizer adagrad --hyperparameters '{\"learning_rate\": 0.1}' \\\n      --from-trace torch-run.jsonl --out optax-ref.jsonl"
    )]
    Trace {
        /// Whose conventions: pytorch, optax or keras.
        #[arg(long, allow_hyphen_values = true)]
        preset: String,
        /// The framework's optimizer name (sgd, adam, adamw, amsgrad, adagrad, rmsprop, adadelta).
        #[arg(long, allow_hyphen_values = true)]
        optimizer: String,
        /// Hyperparameters as a JSON object under the framework's own names, e.g. '{"lr": 0.01}'.
        #[arg(long, default_value = "{}", allow_hyphen_values = true)]
        hyperparameters: String,
        /// Run on this problem of `optverify list` (quadratic, least_squares, logistic, mlp, ...).
        #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
        problem: Option<String>,
        /// The problem's dimension (input dimension for the data problems), from 1 (2 for
        /// quadratic and rosenbrock) to the largest that fits in memory for the problem
        /// (quadratic: 9453).
        #[arg(long, requires = "problem", value_name = "N", allow_hyphen_values = true, value_parser = parse_dim)]
        dim: Option<usize>,
        /// Seed of the problem's data and of the initial parameters, 0..=2^64-1.
        #[arg(long, requires = "problem", default_value_t = 0, allow_hyphen_values = true, value_parser = parse_seed)]
        seed: u64,
        /// Number of steps on the problem, 1..= what a 1 TiB trace holds.
        #[arg(long, requires = "problem", default_value_t = 100, allow_hyphen_values = true, value_parser = parse_steps)]
        steps: usize,
        /// Reuse the gradients, params0, layout (and dtype) of this optverify trace.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_path)]
        from_trace: Option<PathBuf>,
        /// JSON Lines file, one gradient array per line.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_path)]
        gradients: Option<PathBuf>,
        /// Initial parameters as a JSON array (with --gradients; default zeros).
        #[arg(long, requires = "gradients", allow_hyphen_values = true)]
        params0: Option<String>,
        /// Precision of the run: f64 or f32 (f32 needs a framework kernel). Default: the source
        /// trace's dtype with --from-trace, else f64.
        #[arg(long, value_name = "f64|f32", allow_hyphen_values = true)]
        dtype: Option<crate::oracle::format::Dtype>,
        /// Where to write the trace.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_path)]
        out: PathBuf,
    },
    /// Replay a trace's own gradients through its declared preset and compare step by step.
    #[command(
        long_about = long_about("replay", "Replay a candidate trace: feed each recorded gradient to the reference built from \
the trace header (preset + hyperparameters): the framework's kernel in the trace's dtype where one \
exists, else the crate's optimizer in f64 (said in the output). Only the update rule is compared. \
Prints the reference, the number of bit-identical steps, and the first step and coordinate that \
differ, in ulps of the trace's dtype and in relative terms."),
        after_help = "Example:\n  optverify replay my-adam.jsonl --rel-tol 1e-10"
    )]
    Replay {
        #[command(flatten)]
        candidate: Candidate,
    },
    /// Replay, then try the known convention variants and name the one the trace follows.
    #[command(
        long_about = long_about("check", "Like replay, then re-run the candidate's gradients through the known convention \
variants (ε inside/outside the root, AMSGrad's max placement, AdamW decay × lr vs × schedule, \
Keras ε-hat, Adagrad's initial accumulator, ...) and name the one the trace matches."),
        after_help = "Example:\n  optverify check tests/data/golden/torch-adagrad-default-randn.jsonl"
    )]
    Check {
        #[command(flatten)]
        candidate: Candidate,
    },
    /// Convert a trace between JSON Lines and the binary layout (a directory of safetensors
    /// files), either way.
    #[command(
        long_about = long_about("convert", "Convert a JSON Lines trace into a binary trace directory (one safetensors file for \
the header and θ₀, one per step), or a binary trace into JSON Lines. The header and every step's \
non-array fields are carried over unchanged; values are exact both ways (an f32 trace stores f32)."),
        after_help = "Examples:\n  optverify convert run.jsonl run.ovt\n  optverify convert run.ovt run.jsonl"
    )]
    Convert {
        /// The trace to read (JSON Lines file or binary trace directory).
        #[arg(allow_hyphen_values = true, value_parser = parse_path)]
        input: PathBuf,
        /// Where to write: a new directory (from JSON Lines) or a JSON Lines file (from binary).
        #[arg(allow_hyphen_values = true, value_parser = parse_path)]
        output: PathBuf,
    },
    /// Replay every trace of a directory against its declared preset and print a Markdown
    /// table per (preset, optimizer, dtype): traces, bit-identical traces, worst ulps, worst
    /// relative error, reference used.
    #[command(
        long_about = long_about("conformance", "Replay every *.jsonl trace of DIR (default: the golden traces) against its declared \
preset, with the default tolerance of its dtype, and print a Markdown table per (preset, optimizer, \
dtype): number of traces, traces bit-identical to their reference, worst ulps, worst relative \
difference, and the reference used (framework kernel and dtype, or the crate's f64 optimizer)."),
        after_help = "Example:\n  optverify conformance tests/data/golden"
    )]
    Conformance {
        /// Directory of traces.
        #[arg(default_value = "tests/data/golden", allow_hyphen_values = true, value_parser = parse_path)]
        dir: PathBuf,
    },
    /// List the claims (id, kind, expected verdict, title), the optimizers and the problems.
    #[command(
        long_about = long_about("list", "List the claims (id, kind, expected verdict, title), the optimizers and the problems."),
        after_help = "Examples:\n  optverify list\n  optverify list --json"
    )]
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}
