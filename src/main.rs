//! The `optverify` command line. Thin: parsing and printing only; the work is in the library
//! (`optverify::report::commands`).

use clap::{Args, Parser, Subcommand};
use optverify::claims::Mode;
use optverify::report::{self, RunOptions};
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "optverify",
    version,
    about = "Verify a lecture's claims about deep-learning optimizers, and check other implementations against reference trajectories.",
    after_help = "Examples:\n  optverify verify --quick\n  optverify report\n  optverify list --json"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How hard to check and how many threads to use.
#[derive(Args)]
struct Effort {
    /// Use the cards' [quick] parameters (seconds; what `cargo test` runs) instead of [full].
    #[arg(long)]
    quick: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
}

impl Effort {
    fn mode(&self) -> Mode {
        if self.quick {
            Mode::Quick
        } else {
            Mode::Full
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the claims' checks and print one line per claim: verdict, expected verdict if it
    /// differs, measured vs predicted, time.
    #[command(
        long_about = "Run the checks of the selected claims (all by default) and print, per claim, \
the verdict (holds / fails as printed / inconclusive), the card's expected verdict when it differs, \
the headline measured-vs-predicted figure and the time taken, then a summary line.\n\n\
Exit status: 0 if every claim got its card's expected verdict, 1 otherwise, 2 on bad input \
(unknown claim id, malformed card).",
        after_help = "Examples:\n  optverify verify --quick\n  optverify verify --claim gd-rate --claim heavy-ball-rate\n  optverify verify --quick --json > results.json"
    )]
    Verify {
        #[command(flatten)]
        effort: Effort,
        /// Check only these claims (repeat the flag or list several ids).
        #[arg(long = "claim", value_name = "ID", num_args = 1..)]
        claims: Vec<String>,
        /// Print the results (cards, evidence, times) as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run every claim and write the report: README.md index, one page per claim, SVG figures,
    /// results.json.
    #[command(
        long_about = "Run every claim (full parameters unless --quick) and write the report directory: \
README.md (a table of every claim), claims/<id>.md (statement as printed and precise, measurements, \
counterexample, figures, the card's argument), figures/*.svg and results.json. The files hold no \
timestamps: the same seeds give byte-identical output. The report is written even if a verdict \
differs from the card's expected one; the exit status is then 1.",
        after_help = "Examples:\n  optverify report\n  optverify report --quick --out /tmp/quick-report"
    )]
    Report {
        #[command(flatten)]
        effort: Effort,
        /// Directory to write the report into.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
    },
    /// Run a framework preset on a supplied gradient sequence and write a reference trace
    /// (JSON Lines, see README "Oracle").
    #[command(
        after_help = "Examples:\n  optverify trace --preset pytorch --optimizer adam --hyperparameters '{\"lr\": 0.01}' \\\n      --gradients grads.jsonl --params0 '[0.5, -1.0]' --out reference.jsonl\n  optverify trace --preset optax --optimizer adagrad --from-trace torch-run.jsonl --out optax-ref.jsonl"
    )]
    Trace {
        /// Whose conventions: pytorch, optax or keras.
        #[arg(long)]
        preset: String,
        /// The framework's optimizer name (sgd, adam, adamw, amsgrad, adagrad, rmsprop, adadelta).
        #[arg(long)]
        optimizer: String,
        /// Hyperparameters as a JSON object under the framework's own names, e.g. '{"lr": 0.01}'.
        #[arg(long, default_value = "{}")]
        hyperparameters: String,
        /// Reuse the gradients, params0 and layout of this optverify trace.
        #[arg(long, conflicts_with = "gradients")]
        from_trace: Option<PathBuf>,
        /// JSON Lines file, one gradient array per line.
        #[arg(long, required_unless_present = "from_trace")]
        gradients: Option<PathBuf>,
        /// Initial parameters as a JSON array (with --gradients; default zeros).
        #[arg(long, requires = "gradients")]
        params0: Option<String>,
        /// Where to write the trace.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay a trace's own gradients through its declared preset and compare step by step.
    #[command(
        long_about = "Replay a candidate trace: feed each recorded gradient to the crate's optimizer \
built from the trace header (preset + hyperparameters), so only the update rule is compared, and \
report the first step and coordinate that differ, in ulps and relative terms.\n\n\
Exit status: 0 agreement, 1 disagreement, 2 bad input (the message names the file, line, step and field).",
        after_help = "Example:\n  optverify replay my-adam.jsonl --rel-tol 1e-10"
    )]
    Replay {
        /// The candidate trace (optverify-trace JSON Lines).
        trace: PathBuf,
        /// Relative tolerance (default 1e-12 for f64 traces, 1e-4 for f32).
        #[arg(long)]
        rel_tol: Option<f64>,
    },
    /// Replay, then try the known convention variants and name the one the trace follows.
    #[command(
        long_about = "Like replay, then re-run the candidate's gradients through the known convention \
variants (ε inside/outside the root, AMSGrad's max placement, AdamW decay × lr vs × schedule, \
Keras ε-hat, Adagrad's initial accumulator, ...) and name the one the trace matches.\n\n\
Exit status: 0 agreement with the declared preset, 1 disagreement, 2 bad input.",
        after_help = "Example:\n  optverify check tests/data/golden/torch-adagrad-default-randn.jsonl"
    )]
    Check {
        /// The candidate trace (optverify-trace JSON Lines).
        trace: PathBuf,
        /// Relative tolerance (default 1e-12 for f64 traces, 1e-4 for f32).
        #[arg(long)]
        rel_tol: Option<f64>,
    },
    /// List the claims (id, kind, expected verdict, title), the optimizers and the problems.
    #[command(after_help = "Examples:\n  optverify list\n  optverify list --json")]
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
    let status = match cli.command {
        Command::Verify { effort, claims, json } => {
            let opts = RunOptions {
                mode: effort.mode(),
                claims,
                jobs: effort.jobs,
            };
            report::verify(&opts, json, &mut out, &mut err)
        }
        Command::Report { effort, out: dir } => {
            report::report(effort.mode(), effort.jobs, &dir, &mut out, &mut err)
        }
        Command::List { json } => report::list(json, &mut out, &mut err),
        Command::Trace {
            preset,
            optimizer,
            hyperparameters,
            from_trace,
            gradients,
            params0,
            out,
        } => {
            use optverify::oracle::cli::{trace, GradientSource, EXIT_BAD_INPUT};
            let source = match (&from_trace, &gradients) {
                (Some(t), _) => GradientSource::Trace(t),
                (None, Some(g)) => GradientSource::Lines {
                    path: g,
                    params0: params0.as_deref(),
                },
                (None, None) => {
                    eprintln!("error: give --gradients FILE or --from-trace FILE");
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            };
            return oracle_exit(trace(&preset, &optimizer, &hyperparameters, source, &out));
        }
        Command::Replay { trace, rel_tol } => {
            return oracle_exit(optverify::oracle::cli::replay(&trace, rel_tol))
        }
        Command::Check { trace, rel_tol } => {
            return oracle_exit(optverify::oracle::cli::check(&trace, rel_tol))
        }
    };
    ExitCode::from(status.code())
}

/// Print an oracle command's output (stderr for bad input) and turn its status into the exit code.
fn oracle_exit(out: optverify::oracle::cli::CommandOutput) -> ExitCode {
    if out.status == optverify::oracle::cli::EXIT_BAD_INPUT {
        eprint!("{}", out.text);
    } else {
        print!("{}", out.text);
    }
    ExitCode::from(out.status)
}
