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
    first_pause: Duration,
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
            first_pause: FIRST_PAUSE,
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
        let mut pause = self.first_pause;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpListener;

    /// An authority that answers each request in turn with the next of
    /// `answers` (status line, body), and counts the requests.
    fn authority(
        answers: Vec<(&'static str, Vec<u8>)>,
    ) -> (String, std::thread::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsa", listener.local_addr().unwrap());
        let served = std::thread::spawn(move || {
            let mut count = 0;
            for (status, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut request = vec![0; length];
                reader.read_exact(&mut request).unwrap();
                count += 1;
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/timestamp-reply\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .unwrap();
                stream.write_all(&body).unwrap();
            }
            count
        });
        (url, served)
    }

    fn waiting() -> Vec<u8> {
        der::Encode::to_der(&tsp::TimeStampResp {
            status: tsp::PkiStatusInfo {
                status: 3,
                status_string: Some(vec!["busy, come back".into()]),
                fail_info: None,
            },
            time_stamp_token: None,
        })
        .unwrap()
    }

    #[test]
    fn a_busy_authority_is_asked_again_and_a_refusal_is_final() {
        let refused = tsp::rejected(tsp::Failure::BadAlg, "use SHA-256").unwrap();
        let (url, served) = authority(vec![
            ("503 Service Unavailable", vec![]),
            ("429 Too Many Requests", vec![]),
            ("200 OK", waiting()),
            ("200 OK", refused),
        ]);
        let mut stamper = TimeStamper::new(&url, None).unwrap();
        stamper.first_pause = Duration::from_millis(10);
        let err = stamper.token(b"signature value").unwrap_err();
        let said = format!("{err:#}");
        assert!(
            said.contains("badAlg") && said.contains("use SHA-256"),
            "{said}"
        );
        assert_eq!(
            served.join().unwrap(),
            4,
            "three tries again, then the refusal"
        );
    }

    #[test]
    fn an_authority_that_never_answers_in_time_is_given_up_on_after_four_tries() {
        let (url, served) = authority(vec![("503 Service Unavailable", vec![]); 4]);
        let mut stamper = TimeStamper::new(&url, None).unwrap();
        stamper.first_pause = Duration::from_millis(10);
        let said = format!("{:#}", stamper.token(b"signature value").unwrap_err());
        assert!(said.contains("did not answer in 4 tries"), "{said}");
        assert_eq!(served.join().unwrap(), 4);
        assert!(TimeStamper::new("ftp://tsa.example", None).is_err());
    }
}
