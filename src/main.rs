//! The `optverify` command line. Thin: dispatching and printing only; the arguments are
//! defined in the library (`optverify::cli`), the work is in `optverify::report::commands`
//! and `optverify::oracle`.

use optverify::cli::Command;
use optverify::report::{self, RunOptions};
use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = optverify::cli::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
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
        Command::Replay { candidate: c } => {
            return oracle_exit(optverify::oracle::binary::replay_any(
                &c.trace, c.rel_tol, c.sample,
            ))
        }
        Command::Check { candidate: c } => {
            return oracle_exit(optverify::oracle::binary::check_any(
                &c.trace, c.rel_tol, c.sample,
            ))
        }
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
