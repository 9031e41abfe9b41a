//! `signer pubkey`: the public half of a private key file.

use anyhow::Result;
use identity_core::jose::Jwk;
use serde_json::json;

use super::Outcome;
use crate::cli::{KeyFormat, PubkeyArgs};
use crate::{io, report};

pub(crate) fn run(args: &PubkeyArgs, json_output: bool) -> Result<Outcome> {
    let key = io::read_signing_key(&args.key, &args.passphrase)?;
    let public = key.verifying_key();
    let jwk = Jwk::new(public.clone()).with_thumbprint_kid();
    if json_output {
        report::done(
            true,
            "",
            json!({"algorithm": public.algorithm().name(), "kid": jwk.kid, "pem": public.to_spki_pem(), "jwk": jwk}),
        );
    } else {
        match args.format {
            KeyFormat::Pem => report::text(&public.to_spki_pem()),
            KeyFormat::Jwk => report::text(&serde_json::to_string_pretty(&jwk)?),
        }
    }
    Ok(Outcome::Valid)
}
