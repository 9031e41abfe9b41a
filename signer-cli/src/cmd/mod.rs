//! One module per subcommand, each an `Args` struct (in `cli`) and a `run`.

mod cades;
mod demo;
mod jws;
mod keygen;
mod online;
mod pubkey;
mod timestamp;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, JwsCommand};

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The work is done, or the signature is valid.
    Valid,
    /// The signature (or document) is invalid.
    Invalid,
    /// The check could not be completed: no key to check against, for example.
    Indeterminate,
}

impl Outcome {
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Self::Valid => ExitCode::SUCCESS,
            Self::Invalid => ExitCode::from(1),
            Self::Indeterminate => ExitCode::from(2),
        }
    }
}

/// Runs the command the user asked for.
pub(crate) fn run(cli: Cli) -> Result<Outcome> {
    let json = cli.json;
    match cli.command {
        Command::Keygen(args) => keygen::run(&args, json),
        Command::Pubkey(args) => pubkey::run(&args, json),
        Command::Jws(JwsCommand::Sign(args)) => jws::sign(&args, json),
        Command::Jws(JwsCommand::Verify(args)) => jws::verify(&args, json),
        Command::Csr(args) => cades::csr(&args, json),
        Command::Sign(args) => cades::sign(&args, json),
        Command::Cosign(args) => cades::cosign(&args, json),
        Command::Verify(args) => cades::verify(&args, json),
        Command::Demo => demo::run(json),
        Command::Login(args) => online::login(&args, json),
        Command::Enroll(args) => online::enroll(&args, json),
    }
}
