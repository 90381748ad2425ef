//! The `optverify` command line. Thin: parsing and printing only; the work is in the library
//! (`optverify::report::commands`).

use clap::{Args, Parser, Subcommand};
use optverify::claims::Mode;
use optverify::report::shard::Shard;
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
    /// Run the claims' checks and their mutants and print one line per claim: verdict, expected
    /// verdict if it differs, mutants killed, measured vs predicted, time.
    #[command(
        long_about = "Run the checks of the selected claims (all by default) and print, per claim, \
the verdict (holds / fails as printed / inconclusive, concluded by the engine from the roles of the \
measurements), the card's expected verdict when it differs, how many of the card's mutants (false \
perturbations of its statement) the check rejected, the headline measured-vs-predicted figure and \
the time taken (mutants included), then a summary line.\n\n\
Exit status: 0 if every claim got its card's expected verdict and killed every mutant, 1 otherwise, \
2 on bad input (unknown claim id, malformed card).",
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
        /// Run only every n-th claim, starting at the i-th (1-based), e.g. 2/4; combine the
        /// shards' --json output with `merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<Shard>,
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
        /// Run only every n-th claim, starting at the i-th (1-based), e.g. 2/4; the shard's
        /// results.json is then one input of `merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<Shard>,
    },
    /// Combine the results.json of the shards of a split run (`report --shard i/n` or
    /// `verify --shard i/n --json`) into the report of the whole run.
    #[command(
        long_about = "Read the results.json of every shard of a run split with --shard i/n (from `report \
--shard i/n --out DIR` or `verify --shard i/n --json`), check that all n shards of one version and one \
mode are there, and write the report of the whole run: the same files, byte for byte, as an unsharded \
`report` (every file is re-rendered from the records).\n\n\
Exit status: 0 if every claim got its card's expected verdict, 1 otherwise, 2 on bad input (unreadable \
file, missing or repeated shard, shards of different runs).",
        after_help = "Examples:\n  for i in 1 2 3 4; do optverify report --quick --shard $i/4 --out shard-$i & done; wait\n  optverify merge shard-*/results.json --out reports\n  sbatch --array=1-8 --wrap 'optverify report --shard $SLURM_ARRAY_TASK_ID/8 --out shard-$SLURM_ARRAY_TASK_ID'"
    )]
    Merge {
        /// The shards' results.json files, in any order.
        #[arg(required = true, value_name = "RESULTS_JSON")]
        shards: Vec<PathBuf>,
        /// Directory to write the merged report into.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
    },
    /// Run a framework preset on a named problem or a supplied gradient sequence and write the
    /// reference trajectory as a trace (JSON Lines, see README "Oracle").
    #[command(
        long_about = "Run the reference of a framework preset (its kernel in the chosen dtype where one \
exists, else the crate's optimizer in f64) and write the trajectory as an optverify trace: gradients, \
parameters after each step and, for a named problem, the loss. The gradients come from a named problem \
of `optverify list` (closed loop: the gradient at the current parameters), from a JSON Lines file of \
gradient arrays, or from another trace. The reference is the one replay and check use, so the written \
trace replays bit for bit.\n\n\
Exit status: 0 trace written, 2 bad input (unknown problem, preset, optimizer or hyperparameter; \
no f32 kernel for --dtype f32; unreadable gradients).",
        group(clap::ArgGroup::new("source").required(true).args(["problem", "from_trace", "gradients"])),
        after_help = "Examples:\n  optverify trace --problem quadratic --dim 5 --steps 50 --preset pytorch --optimizer sgd \\\n      --hyperparameters '{\"lr\": 0.05, \"momentum\": 0.9}' --dtype f32 --out sgd-f32.jsonl\n  optverify trace --preset pytorch --optimizer adam --hyperparameters '{\"lr\": 0.01}' \\\n      --gradients grads.jsonl --params0 '[0.5, -1.0]' --out reference.jsonl\n  optverify trace --preset optax --optimizer adagrad --hyperparameters '{\"learning_rate\": 0.1}' \\\n      --from-trace torch-run.jsonl --out optax-ref.jsonl"
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
        /// Run on this problem of `optverify list` (quadratic, least_squares, logistic, mlp, ...).
        #[arg(long, value_name = "NAME")]
        problem: Option<String>,
        /// The problem's dimension (input dimension for the data problems).
        #[arg(long, requires = "problem", value_name = "N")]
        dim: Option<usize>,
        /// Seed of the problem's data and of the initial parameters.
        #[arg(long, requires = "problem", default_value_t = 0)]
        seed: u64,
        /// Number of steps on the problem.
        #[arg(long, requires = "problem", default_value_t = 100)]
        steps: usize,
        /// Reuse the gradients, params0, layout (and dtype) of this optverify trace.
        #[arg(long)]
        from_trace: Option<PathBuf>,
        /// JSON Lines file, one gradient array per line.
        #[arg(long)]
        gradients: Option<PathBuf>,
        /// Initial parameters as a JSON array (with --gradients; default zeros).
        #[arg(long, requires = "gradients")]
        params0: Option<String>,
        /// Precision of the run: f64 or f32 (f32 needs a framework kernel). Default: the source
        /// trace's dtype with --from-trace, else f64.
        #[arg(long, value_name = "f64|f32")]
        dtype: Option<optverify::oracle::format::Dtype>,
        /// Where to write the trace.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay a trace's own gradients through its declared preset and compare step by step.
    #[command(
        long_about = "Replay a candidate trace: feed each recorded gradient to the reference built from \
the trace header (preset + hyperparameters): the framework's kernel in the trace's dtype where one \
exists, else the crate's optimizer in f64 (said in the output). Only the update rule is compared. \
Prints the reference, the number of bit-identical steps, and the first step and coordinate that \
differ, in ulps of the trace's dtype and in relative terms.\n\n\
Exit status: 0 agreement, 1 disagreement, 2 bad input (the message names the file, line, step and field).",
        after_help = "Example:\n  optverify replay my-adam.jsonl --rel-tol 1e-10"
    )]
    Replay {
        /// The candidate trace: a JSON Lines file, or a binary trace directory (safetensors).
        trace: PathBuf,
        /// Relative tolerance (default 1e-12 for f64 traces, 3.8e-4 for f32: 200 steps × 32 unit roundoffs).
        #[arg(long)]
        rel_tol: Option<f64>,
        /// Binary traces of element-wise optimizers: replay only K coordinates per block (first,
        /// last, vector-tail and chunk boundaries, the rest pseudo-random; deterministic).
        #[arg(long, value_name = "K")]
        sample: Option<usize>,
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
        /// The candidate trace: a JSON Lines file, or a binary trace directory (safetensors).
        trace: PathBuf,
        /// Relative tolerance (default 1e-12 for f64 traces, 3.8e-4 for f32: 200 steps × 32 unit roundoffs).
        #[arg(long)]
        rel_tol: Option<f64>,
        /// Binary traces of element-wise optimizers: replay only K coordinates per block (first,
        /// last, vector-tail and chunk boundaries, the rest pseudo-random; deterministic).
        #[arg(long, value_name = "K")]
        sample: Option<usize>,
    },
    /// Convert a trace between JSON Lines and the binary layout (a directory of safetensors
    /// files), either way.
    #[command(
        long_about = "Convert a JSON Lines trace into a binary trace directory (one safetensors file for \
the header and θ₀, one per step), or a binary trace into JSON Lines. The header and every step's \
non-array fields are carried over unchanged; values are exact both ways (an f32 trace stores f32).\n\n\
Exit status: 0 converted, 2 bad input (unreadable or malformed trace, output directory not empty).",
        after_help = "Examples:\n  optverify convert run.jsonl run.ovt\n  optverify convert run.ovt run.jsonl"
    )]
    Convert {
        /// The trace to read (JSON Lines file or binary trace directory).
        input: PathBuf,
        /// Where to write: a new directory (from JSON Lines) or a JSON Lines file (from binary).
        output: PathBuf,
    },
    /// Replay every trace of a directory against its declared preset and print a Markdown
    /// table per (preset, optimizer, dtype): traces, bit-identical traces, worst ulps, worst
    /// relative error, reference used.
    #[command(
        long_about = "Replay every *.jsonl trace of DIR (default: the golden traces) against its declared \
preset, with the default tolerance of its dtype, and print a Markdown table per (preset, optimizer, \
dtype): number of traces, traces bit-identical to their reference, worst ulps, worst relative \
difference, and the reference used (framework kernel and dtype, or the crate's f64 optimizer).\n\n\
Exit status: 0 every trace within tolerance, 1 some trace beyond it (listed), 2 a trace cannot be read.",
        after_help = "Example:\n  optverify conformance tests/data/golden"
    )]
    Conformance {
        /// Directory of traces.
        #[arg(default_value = "tests/data/golden")]
        dir: PathBuf,
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
        Command::Verify {
            effort,
            claims,
            json,
            shard,
        } => {
            let opts = RunOptions {
                mode: effort.mode(),
                claims,
                jobs: effort.jobs,
                shard,
            };
            report::verify(&opts, json, &mut out, &mut err)
        }
        Command::Report {
            effort,
            out: dir,
            shard,
        } => report::report(effort.mode(), effort.jobs, shard, &dir, &mut out, &mut err),
        Command::Merge { shards, out: dir } => report::merge(&shards, &dir, &mut out, &mut err),
        Command::List { json } => report::list(json, &mut out, &mut err),
        Command::Trace {
            preset,
            optimizer,
            hyperparameters,
            problem,
            dim,
            seed,
            steps,
            from_trace,
            gradients,
            params0,
            dtype,
            out,
        } => {
            use optverify::oracle::cli::{trace, GradientSource, EXIT_BAD_INPUT};
            let source = match (&problem, &from_trace, &gradients) {
                (Some(name), _, _) => GradientSource::Problem {
                    name,
                    dim,
                    seed,
                    steps,
                },
                (None, Some(t), _) => GradientSource::Trace(t),
                (None, None, Some(g)) => GradientSource::Lines {
                    path: g,
                    params0: params0.as_deref(),
                },
                (None, None, None) => {
                    eprintln!("error: give --problem NAME, --gradients FILE or --from-trace FILE");
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            };
            return oracle_exit(trace(&preset, &optimizer, &hyperparameters, source, dtype, &out));
        }
        Command::Conformance { dir } => return oracle_exit(optverify::oracle::cli::conformance(&dir)),
        Command::Replay {
            trace,
            rel_tol,
            sample,
        } => return oracle_exit(optverify::oracle::binary::replay_any(&trace, rel_tol, sample)),
        Command::Check {
            trace,
            rel_tol,
            sample,
        } => return oracle_exit(optverify::oracle::binary::check_any(&trace, rel_tol, sample)),
        Command::Convert { input, output } => {
            return oracle_exit(optverify::oracle::binary::convert(&input, &output))
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
