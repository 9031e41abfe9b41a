//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Make keys, sign and verify for the national e-signature infrastructure.
///
/// Exit status: 0 valid or done, 1 invalid signature, 2 usage error or anything
/// that stopped the check from finishing.
#[derive(Debug, Parser)]
#[command(name = "signer", version)]
pub(crate) struct Cli {
    /// Print results as JSON for machines.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a key pair: a private key file (encrypted unless --unencrypted, mode 0600)
    /// and its public key.
    Keygen(KeygenArgs),
    /// Print the public key of a private key file, as PEM or JWK.
    Pubkey(PubkeyArgs),
    /// JSON Web Signatures (compact serialisation).
    #[command(subcommand)]
    Jws(JwsCommand),
    /// Make a key in a temporary folder, sign a sample decision, verify it, and show
    /// that a tampered copy fails: a tour of what the library does.
    Demo,
}

/// The key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Algorithm {
    /// ECDSA P-256 with SHA-256 (JOSE ES256): the default, what our CA certifies.
    P256,
    /// ECDSA P-384 with SHA-384 (JOSE ES384).
    P384,
    /// Ed25519 (JOSE EdDSA).
    Ed25519,
}

/// Where a passphrase comes from. Without either option, the `SIGNER_PASSPHRASE`
/// environment variable, or else a prompt on the terminal that does not echo.
#[derive(Debug, Clone, Args)]
pub(crate) struct PassphraseArgs {
    /// Read the passphrase from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key algorithm.
    #[arg(long, value_enum, default_value = "p256")]
    pub(crate) algorithm: Algorithm,
    /// Where to write the private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Where to write the public key (SubjectPublicKeyInfo PEM); default: OUT with
    /// `.pub.pem` in place of its extension.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_out: Option<PathBuf>,
    /// Write the private key unencrypted (for tests and keys held elsewhere).
    #[arg(long)]
    pub(crate) unencrypted: bool,
    /// Replace existing files.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
}

/// Output format of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyFormat {
    /// SubjectPublicKeyInfo PEM.
    Pem,
    /// A JWK with its RFC 7638 thumbprint as `kid`.
    Jwk,
}

#[derive(Debug, Args)]
pub(crate) struct PubkeyArgs {
    /// The private key file (PKCS#8 PEM, encrypted or not).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "pem")]
    pub(crate) format: KeyFormat,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum JwsCommand {
    /// Sign a file's bytes as a compact JWS.
    Sign(JwsSignArgs),
    /// Verify a compact JWS with a public key.
    Verify(JwsVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct JwsSignArgs {
    /// The private key file.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The file to sign.
    #[arg(value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// Where to write the JWS; default: INPUT with `.jws` appended.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// The JWS `typ` header.
    #[arg(long)]
    pub(crate) typ: Option<String>,
    /// Replace an existing output file.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
}

#[derive(Debug, Args)]
pub(crate) struct JwsVerifyArgs {
    /// The signer's public key: SubjectPublicKeyInfo PEM, a JWK, or a JWK Set.
    #[arg(long, value_name = "FILE")]
    pub(crate) public: PathBuf,
    /// The JWS file.
    #[arg(value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// Write the verified payload here.
    #[arg(long, value_name = "FILE")]
    pub(crate) payload_out: Option<PathBuf>,
    /// Replace an existing payload file.
    #[arg(long)]
    pub(crate) force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
