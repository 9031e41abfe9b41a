//! `signer pubkey`: the public half of a private key file.

use anyhow::Result;
use identity_core::jose::Jwk;

use super::Outcome;
use crate::cli::{KeyFormat, PubkeyArgs};
use crate::{io, report};

pub(crate) fn run(args: &PubkeyArgs, _json_output: bool) -> Result<Outcome> {
    let key = io::read_signing_key(&args.key, &args.passphrase)?;
    let public = key.verifying_key().clone();
    match args.format {
        KeyFormat::Pem => report::text(&public.to_spki_pem()),
        KeyFormat::Jwk => report::text(&serde_json::to_string_pretty(
            &Jwk::new(public).with_thumbprint_kid(),
        )?),
    }
    Ok(Outcome::Valid)
}
