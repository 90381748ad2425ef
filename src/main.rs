//! The `optverify` command line. Thin: parsing and printing only; the work is in the library.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "optverify",
    version,
    about = "Verify a lecture's claims about deep-learning optimizers, and check other implementations against reference trajectories."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the optimizers (with convention variants), problems and claims known to the crate.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List { json } => {
            let _ = json;
            println!("optverify {}", optverify::VERSION);
            ExitCode::SUCCESS
        }
    }
}
