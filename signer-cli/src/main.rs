//! `signer`: the command officials use to make keys, sign and verify.
//!
//! Exit codes a script can trust: 0 valid (or done), 1 invalid, 2 indeterminate or a
//! usage error.

mod cli;
mod cmd;
mod io;
mod report;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            report::error(&error);
            ExitCode::from(2)
        }
    }
}
