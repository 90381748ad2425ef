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
    };
    ExitCode::from(status.code())
}
