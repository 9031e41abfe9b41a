//! The `pki` command line (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The certificate authority: the offline root ceremony and CA operations.
///
/// Exit status: 0 success (for `verify`: TOTAL-PASSED), 1 TOTAL-FAILED, 2
/// INDETERMINATE or a usage error. Passphrases come from PKI_PASSPHRASE or a prompt
/// that does not echo.
#[derive(Debug, Parser)]
#[command(name = "pki", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a CA directory: a P-384 root and P-256 issuing CAs for citizens,
    /// businesses, officials and the infrastructure, keys encrypted.
    Init(InitArgs),
    /// Issue a certificate from a PKCS#10 request for a verified identity.
    Issue(IssueArgs),
    /// Revoke a certificate issued from this directory.
    Revoke(RevokeArgs),
    /// Publish a CRL for one CA of the directory.
    Crl(CrlArgs),
    /// Answer an OCSP request (DER) from the directory's records, signed by the
    /// issuing CA's delegated responder.
    OcspRespond(OcspArgs),
    /// Validate a certificate path (RFC 5280) and print the report.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DirArg {
    /// The CA directory.
    #[arg(long, default_value = "pki-ca", env = "PKI_DIR")]
    pub(crate) dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The directory to create (must not exist, or be empty).
    pub(crate) dir: PathBuf,
    /// The organisation named in the CA certificates.
    #[arg(
        long,
        default_value = "Cơ quan Chứng thực Điện tử Quốc gia (thử nghiệm)"
    )]
    pub(crate) organization: String,
    /// Base URL under which CRLs (`<base>/<ca>.crl`) and CA certificates
    /// (`<base>/<ca>.crt`) are published.
    #[arg(long)]
    pub(crate) publish_url: Option<String>,
    /// The OCSP responder's URL.
    #[arg(long)]
    pub(crate) ocsp_url: Option<String>,
    /// Certificate policy OIDs issued certificates assert (repeatable).
    #[arg(long = "policy")]
    pub(crate) policies: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The profile: citizen, business, official-signing, ocsp-responder,
    /// time-stamping, tls-server.
    #[arg(long)]
    pub(crate) profile: String,
    /// The certification request (PEM or DER).
    #[arg(long)]
    pub(crate) csr: PathBuf,
    /// The verified identity, as JSON: {"citizen": {...}}, {"business": {...}},
    /// {"official": {...}} or {"service": {...}}.
    #[arg(long)]
    pub(crate) identity: PathBuf,
    /// The issuing CA, when more than one issues the profile (default: the first).
    #[arg(long)]
    pub(crate) ca: Option<String>,
    /// Where to write the certificate (PEM); default: standard output.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The serial number in hexadecimal (colons, case and leading zeros ignored).
    pub(crate) serial: String,
    /// The RFC 5280 reason: unspecified, keyCompromise, cACompromise,
    /// affiliationChanged, superseded, cessationOfOperation, certificateHold,
    /// privilegeWithdrawn, aACompromise.
    #[arg(long, default_value = "unspecified")]
    pub(crate) reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct CrlArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Which CA: root, citizen-ca, business-ca, official-ca, infrastructure-ca.
    #[arg(long, default_value = "official-ca")]
    pub(crate) ca: String,
    /// How long the CRL is valid (nextUpdate), in hours.
    #[arg(long, default_value_t = 24)]
    pub(crate) hours: u32,
    /// Where to write the CRL; default: standard output (PEM).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Write DER instead of PEM.
    #[arg(long)]
    pub(crate) der: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OcspArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The OCSP request (DER, as `openssl ocsp -reqout` writes).
    pub(crate) request: PathBuf,
    /// How long the answers are valid (nextUpdate), in hours.
    #[arg(long, default_value_t = 24)]
    pub(crate) hours: u32,
    /// Where to write the response (DER); default: standard output.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Trust anchors (PEM with one or more certificates, or DER).
    #[arg(long, required = true)]
    pub(crate) trust: Vec<PathBuf>,
    /// Intermediate certificates, in any order (repeatable; PEM or DER).
    #[arg(long)]
    pub(crate) intermediates: Vec<PathBuf>,
    /// CRLs (repeatable; PEM or DER). Giving any makes revocation required.
    #[arg(long)]
    pub(crate) crl: Vec<PathBuf>,
    /// OCSP responses (repeatable; DER). Giving any makes revocation required.
    #[arg(long)]
    pub(crate) ocsp: Vec<PathBuf>,
    /// Require revocation information for every certificate of the path.
    #[arg(long)]
    pub(crate) require_revocation: bool,
    /// Validate at this time (RFC 3339) instead of now.
    #[arg(long)]
    pub(crate) at: Option<String>,
    /// The use to check: any, document-signing, email-protection, code-signing,
    /// server-auth, client-auth, ocsp-signing, time-stamping.
    #[arg(long, default_value = "any")]
    pub(crate) purpose: String,
    /// The DNS name a TLS server certificate must name.
    #[arg(long)]
    pub(crate) dns_name: Option<String>,
    /// The IP address a TLS server certificate must name.
    #[arg(long)]
    pub(crate) ip: Option<std::net::IpAddr>,
    /// user-initial-policy-set (repeatable); default any-policy.
    #[arg(long = "policy")]
    pub(crate) policies: Vec<String>,
    /// initial-explicit-policy.
    #[arg(long)]
    pub(crate) explicit_policy: bool,
    /// initial-policy-mapping-inhibit.
    #[arg(long)]
    pub(crate) inhibit_policy_mapping: bool,
    /// initial-any-policy-inhibit.
    #[arg(long)]
    pub(crate) inhibit_any_policy: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// The certificate to validate (PEM or DER).
    pub(crate) leaf: PathBuf,
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
