//! A time-stamping client (RFC 3161 over HTTP, RFC 3161 §3.4) for
//! `sign --tsa`: a government authority can be slow, so each request may take
//! minutes, few run at once, and one that failed for want of time is tried
//! again after a growing pause. A refusal is final and named.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use identity_core::cms::DigestAlgorithm;
use identity_core::keys::{SecureRandom as _, SystemRandom};
use identity_core::{TimeStampError, tsp};
use openidconnect::reqwest::blocking::Client as Http;

use super::online::body;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(180);
/// Requests to the authority at once, however many files are signed.
const AT_ONCE: usize = 2;
/// Tries per time-stamp, and the pause before the second (doubled each time).
const TRIES: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_secs(2);
/// The largest answer read.
const MAX_ANSWER_BYTES: u64 = 256 * 1024;

/// A time-stamping authority's client.
pub(crate) struct TimeStamper {
    http: Http,
    url: String,
    policy: Option<String>,
    rng: SystemRandom,
    busy: Mutex<usize>,
    freed: Condvar,
}

/// Whether a failed attempt is worth another.
enum Attempt {
    Retry(anyhow::Error),
    Final(anyhow::Error),
}

impl TimeStamper {
    /// A client of the authority at `url` (http or https), asking for `policy`
    /// if given.
    pub(crate) fn new(url: &str, policy: Option<&str>) -> Result<Self> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("--tsa {url:?} is not an http(s) URL");
        }
        let http = Http::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()
            .context("starting the HTTP client")?;
        Ok(Self {
            http,
            url: url.to_owned(),
            policy: policy.map(str::to_owned),
            rng: SystemRandom::new(),
            busy: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// `signature` with a signature time-stamp (CAdES-B-T) for each of its
    /// signers that has none.
    pub(crate) fn stamp(&self, signature: &[u8]) -> Result<Vec<u8>> {
        let mut tokens = Vec::new();
        for value in tsp::unstamped_signature_values(signature)? {
            tokens.push(self.token(&value)?);
        }
        Ok(tsp::add_signature_time_stamps(signature, &tokens)?)
    }

    /// A token over `data`, tried again while the failure is one of time.
    fn token(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=TRIES {
            match self.once(data) {
                Ok(token) => return Ok(token),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retry(e)) if attempt == TRIES => {
                    return Err(e.context(format!(
                        "the time-stamping authority {} did not answer in {TRIES} tries",
                        self.url
                    )));
                }
                Err(Attempt::Retry(_)) => {
                    std::thread::sleep(pause);
                    pause *= 2;
                }
            }
        }
        bail!("no time-stamp from {}", self.url)
    }

    fn once(&self, data: &[u8]) -> std::result::Result<Vec<u8>, Attempt> {
        let mut nonce = [0u8; 16];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Attempt::Final(anyhow::anyhow!("no randomness for the nonce")))?;
        let request = tsp::request(
            DigestAlgorithm::Sha256,
            data,
            &nonce,
            self.policy.as_deref(),
        )
        .map_err(|e| Attempt::Final(e.into()))?;
        let answer = {
            let _slot = self.slot();
            self.http
                .post(&self.url)
                .header("content-type", "application/timestamp-query")
                .body(request.clone())
                .send()
        };
        let response = answer.map_err(|e| Attempt::Retry(e.into()))?;
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Attempt::Retry(anyhow::anyhow!(
                "the time-stamping authority {} answered {status}",
                self.url
            )));
        }
        let bytes = body(response, MAX_ANSWER_BYTES).map_err(|e| {
            Attempt::Final(e.context(format!("the time-stamping authority {}", self.url)))
        })?;
        tsp::token_from_response(&bytes, &request).map_err(|e| match e {
            // "waiting": the authority asks to come back.
            TimeStampError::Refused { ref status, .. } if status == "waiting" => {
                Attempt::Retry(e.into())
            }
            other => Attempt::Final(
                anyhow::Error::from(other)
                    .context(format!("the time-stamping authority {}", self.url)),
            ),
        })
    }

    /// Waits for one of the few places for a request; freed when dropped.
    fn slot(&self) -> Slot<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= AT_ONCE {
            busy = self.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        Slot(self)
    }
}

struct Slot<'a>(&'a TimeStamper);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy = busy.saturating_sub(1);
        self.0.freed.notify_one();
    }
}
