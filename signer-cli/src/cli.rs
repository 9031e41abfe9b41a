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
    /// Make a key pair: a private key file (PKCS#8 PEM, mode 0600; encrypted with
    /// --encrypt) and its public key.
    Keygen(KeygenArgs),
    /// Make a certification request (PKCS#10) for a key, to send to the CA.
    Csr(CsrArgs),
    /// Sign files: a CAdES signature FILE.p7s beside each (detached unless
    /// --attached), many files in parallel with a progress bar.
    Sign(SignArgs),
    /// Add your signature to an existing signature file (co-signing).
    Cosign(CosignArgs),
    /// Verify a signed file: who signed, when, with which certificate, and whether
    /// it holds. Exit 0 valid, 1 invalid, 2 indeterminate or usage error.
    Verify(VerifyArgs),
    /// Print the public key of a private key file, as PEM or JWK.
    Pubkey(PubkeyArgs),
    /// JSON Web Signatures (compact serialisation).
    #[command(subcommand)]
    Jws(JwsCommand),
    /// Make a key in a temporary folder, sign a sample decision, verify it, and show
    /// that a tampered copy fails: a tour of what the library does.
    Demo,
    /// Log in to the identity provider from this terminal (the OAuth device grant):
    /// open the address shown in a browser, log in with your passkey, enter the
    /// code. The tokens are kept (mode 0600) in signer's folder and refreshed.
    Login(LoginArgs),
    /// Get a signing certificate in your verified name from the provider's CA:
    /// makes a key if there is none (encrypted with a passphrase), sends a
    /// certification request with your login's token, and saves the certificate
    /// and its CA beside the key.
    Enroll(EnrollArgs),
}

/// Where signer keeps the login, key and certificate: `SIGNER_HOME`, else
/// `$XDG_CONFIG_HOME/signer`, else `~/.config/signer`.
#[derive(Debug, Clone, Args)]
pub(crate) struct HomeArgs {
    /// signer's folder (instead of SIGNER_HOME or ~/.config/signer).
    #[arg(long, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The identity provider, e.g. https://id.example.gov.vn.
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: String,
    /// signer's client id at the provider.
    #[arg(long, default_value = "signer")]
    pub(crate) client_id: String,
    /// The scopes to ask for (repeatable).
    #[arg(
        long = "scope",
        default_values = ["openid", "profile", "national_id", "pki:enroll"]
    )]
    pub(crate) scopes: Vec<String>,
    #[command(flatten)]
    pub(crate) home: HomeArgs,
}

#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    /// The private key to certify (made, encrypted, if missing); default: key.pem
    /// in signer's folder.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// Where to save the certificate and its CA (PEM); default: certificate.pem
    /// in signer's folder.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Make the new key without a passphrase (for a key kept on an encrypted
    /// disk or a token; otherwise the key is encrypted).
    #[arg(long)]
    pub(crate) no_encrypt: bool,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
    #[command(flatten)]
    pub(crate) home: HomeArgs,
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
    /// Encrypt the private key with a passphrase (PBES2).
    #[arg(long)]
    pub(crate) encrypt: bool,
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

#[derive(Debug, Args)]
pub(crate) struct CsrArgs {
    /// The private key file.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Where to write the request (PEM).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// The common name to suggest. The CA sets the real subject from your verified
    /// identity.
    #[arg(long, default_value = "signer")]
    pub(crate) name: String,
    /// A whole distinguished name to suggest instead, in RFC 4514 form
    /// (`CN=…,UID=CCCD:…,O=…,C=VN`).
    #[arg(long)]
    pub(crate) dn: Option<String>,
    /// Replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
}

/// The signing key and certificate, shared by sign and cosign.
#[derive(Debug, Args)]
pub(crate) struct SigningArgs {
    /// The private key file.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The key's certificate (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,
    /// The certificates between yours and the root (PEM, several allowed); the root
    /// itself is left out of signatures. Default: those after the first in --cert
    /// (as `signer enroll` saves them).
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: Option<PathBuf>,
    /// A time-stamping authority (RFC 3161 over HTTP) that stamps each new
    /// signature (CAdES-B-T): proof of when it existed, so it stays valid after
    /// the certificate expires. Slow authorities are waited for (minutes) and
    /// tried again.
    #[arg(long, value_name = "URL")]
    pub(crate) tsa: Option<String>,
    /// The policy (an OID) the authority's time-stamps must be made under.
    #[arg(long, value_name = "OID", requires = "tsa")]
    pub(crate) tsa_policy: Option<String>,
    #[command(flatten)]
    pub(crate) passphrase: PassphraseArgs,
}

/// What kind of signature `sign` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignFormat {
    /// PAdES for a `.pdf` file, CAdES for anything else.
    Auto,
    /// A CAdES signature in FILE.p7s.
    Cades,
    /// A PAdES signature inside the PDF (an incremental update).
    Pades,
}

/// The baseline level (ETSI EN 319 142-1, EN 319 122-1) a signature is made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Level {
    /// The signature alone.
    #[value(name = "b-b")]
    BB,
    /// With a signature time-stamp (needs --tsa).
    #[value(name = "b-t")]
    BT,
    /// B-T, and for a PDF the certificates, CRLs and OCSP responses needed to
    /// validate it offline, fetched now and kept in the PDF (needs --tsa).
    #[value(name = "b-lt")]
    BLt,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) signing: SigningArgs,
    /// The signature's format: a PDF gets its signature inside it (PAdES: a
    /// `.pdf` becomes `.signed.pdf`; a `.signed.pdf` gets the next signature in
    /// place), any other file a CAdES signature beside it (FILE.p7s).
    #[arg(long, value_enum, default_value_t = SignFormat::Auto)]
    pub(crate) format: SignFormat,
    /// The level: b-b, b-t (with --tsa, the default then) or b-lt (PDFs).
    #[arg(long, value_enum)]
    pub(crate) level: Option<Level>,
    /// A visible signature on a PDF: page (1 for the first), then the box's x,
    /// y (from the page's lower left corner), width and height in points;
    /// it shows the signer's name, organisation and the time (UTC+7).
    #[arg(long, value_name = "PAGE,X,Y,W,H", value_parser = parse_visible)]
    pub(crate) visible: Option<(u32, [f64; 4])>,
    /// The font the visible signature is drawn with (TrueType); default DejaVu
    /// Sans from the system (Debian's fonts-dejavu-core).
    #[arg(long, value_name = "FILE", requires = "visible")]
    pub(crate) visible_font: Option<PathBuf>,
    /// Put the document inside the signature (enveloping) instead of beside it
    /// (CAdES only).
    #[arg(long)]
    pub(crate) attached: bool,
    /// Where to write the signature (or the signed PDF), when signing one file;
    /// default FILE.p7s (or FILE.signed.pdf).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Replace existing signature files.
    #[arg(long)]
    pub(crate) force: bool,
    /// How many files to sign at once; default: one per core.
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// The files to sign.
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,
}

/// `PAGE,X,Y,W,H`.
fn parse_visible(text: &str) -> Result<(u32, [f64; 4]), String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [page, x, y, w, h] = parts.as_slice() else {
        return Err(format!(
            "{text:?}: give PAGE,X,Y,W,H (for example 1,350,60,200,60)"
        ));
    };
    let page: u32 = page
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| format!("{page:?} is not a page number (1 for the first)"))?;
    let mut rect = [0.0; 4];
    for (slot, value) in rect.iter_mut().zip([x, y, w, h]) {
        *slot = value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{value:?} is not a position or size in points"))?;
    }
    Ok((page, rect))
}

#[derive(Debug, Args)]
pub(crate) struct CosignArgs {
    #[command(flatten)]
    pub(crate) signing: SigningArgs,
    /// The signed document, for a detached signature; default: the signature's name
    /// without `.p7s`.
    #[arg(long, value_name = "FILE")]
    pub(crate) content: Option<PathBuf>,
    /// The existing signature (replaced, atomically, by one with your signature
    /// added).
    #[arg(value_name = "FILE.p7s")]
    pub(crate) signature: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The signed file (with `--sig` or a `FILE.p7s` beside it), or a signature that
    /// carries its document.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// The signature, when it is not FILE.p7s.
    #[arg(long, value_name = "FILE")]
    pub(crate) sig: Option<PathBuf>,
    /// Trusted root certificates (PEM with one or more, or DER).
    #[arg(long, value_name = "FILE", required = true)]
    pub(crate) trust: Vec<PathBuf>,
    /// More intermediate certificates, if the signature lacks some.
    #[arg(long, value_name = "FILE")]
    pub(crate) intermediates: Vec<PathBuf>,
    /// CRLs (repeatable): revocation is then checked for every certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) crl: Vec<PathBuf>,
    /// OCSP responses (repeatable, DER).
    #[arg(long, value_name = "FILE")]
    pub(crate) ocsp: Vec<PathBuf>,
    /// Require revocation information for every certificate.
    #[arg(long)]
    pub(crate) require_revocation: bool,
    /// Judge the certificates at this time (RFC 3339) instead of the signing time
    /// the signer claims.
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,
    /// Fetch revocation information for the signature's certificates: OCSP from
    /// each certificate's authority information access, else its CRL.
    #[arg(long)]
    pub(crate) online: bool,
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
