//! The CA directory: one folder per CA (certificate, encrypted key, state), all
//! written atomically.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use identity_core::keys::{Passphrase, SigningKey, SystemRandom};
use pki::{CaConfig, MemoryStore, Profile};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The environment variable the passphrase may come from.
pub(crate) const PASSPHRASE_ENV: &str = "PKI_PASSPHRASE";

/// The CAs of a directory, in order.
pub(crate) const CAS: [Profile; 5] = [
    Profile::Root,
    Profile::CitizenCa,
    Profile::BusinessCa,
    Profile::OfficialCa,
    Profile::InfrastructureCa,
];

/// What `pki init` was told, kept for every later command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirConfig {
    pub(crate) organization: String,
    pub(crate) publish_url: Option<String>,
    pub(crate) ocsp_url: Option<String>,
    pub(crate) policies: Vec<String>,
}

impl DirConfig {
    /// The URLs and policies for certificates issued by `ca`.
    pub(crate) fn ca_config(&self, ca: Profile) -> CaConfig {
        let base = self.publish_url.as_deref().map(|b| b.trim_end_matches('/'));
        CaConfig {
            crl_url: base.map(|b| format!("{b}/{}.crl", ca.name())),
            // The offline root answers for its CAs by CRL only.
            ocsp_url: if ca == Profile::Root {
                None
            } else {
                self.ocsp_url.clone()
            },
            ca_issuers_url: base.map(|b| format!("{b}/{}.crt", ca.name())),
            policy_oids: self.policies.clone(),
            validity_days: None,
        }
    }
}

/// A CA directory on disk.
pub(crate) struct CaDir {
    pub(crate) root: PathBuf,
    pub(crate) config: DirConfig,
}

impl CaDir {
    pub(crate) fn open(root: &Path) -> Result<Self> {
        let path = root.join("config.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (is {} a CA directory made by `pki init`?)",
                path.display(),
                root.display()
            )
        })?;
        let config =
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
        Ok(Self {
            root: root.to_path_buf(),
            config,
        })
    }

    /// Takes the directory's lock for a command that changes state: a second `pki`
    /// changing the same directory at once would lose a record.
    pub(crate) fn lock(&self) -> Result<DirLock> {
        let path = self.root.join(".lock");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{}", std::process::id()))
            .with_context(|| {
                format!(
                    "{} is locked: another pki command is changing it (if none is, a crashed one left {}: remove it)",
                    self.root.display(),
                    path.display()
                )
            })?;
        Ok(DirLock { path })
    }

    pub(crate) fn folder(&self, ca: Profile) -> PathBuf {
        self.root.join(ca.name())
    }

    pub(crate) fn certificate(&self, ca: Profile) -> Result<Vec<u8>> {
        read_pem(&self.folder(ca).join("cert.pem"), "CERTIFICATE")
    }

    pub(crate) fn key(
        &self,
        ca: Profile,
        file: &str,
        passphrase: &Passphrase,
    ) -> Result<SigningKey> {
        let path = self.folder(ca).join(file);
        let pem = Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        );
        SigningKey::from_pkcs8_pem(&pem, Some(passphrase))
            .with_context(|| format!("reading the key {}", path.display()))
    }

    /// A CA's certificate and key (asking for the passphrase).
    pub(crate) fn ca_and_key(&self, ca: Profile) -> Result<(Vec<u8>, SigningKey)> {
        let der = self.certificate(ca)?;
        let key = self.key(ca, "key.pem", &passphrase(false)?)?;
        Ok((der, key))
    }

    pub(crate) fn store(&self, ca: Profile) -> Result<MemoryStore> {
        let path = self.folder(ca).join("state.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
    }

    pub(crate) fn save_store(&self, ca: Profile, store: &MemoryStore) -> Result<()> {
        let json = serde_json::to_vec_pretty(store)?;
        write_atomic(&self.folder(ca).join("state.json"), &json, 0o600, true)
    }
}

/// The directory's lock, released when dropped.
pub(crate) struct DirLock {
    path: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a one-block PEM file.
pub(crate) fn read_pem(path: &Path, label: &str) -> Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (found, der) = der::pem::decode_vec(text.as_bytes())
        .with_context(|| format!("reading {}", path.display()))?;
    if found != label {
        bail!(
            "{} holds a {found} where a {label} was expected",
            path.display()
        );
    }
    Ok(der)
}

pub(crate) fn pem(label: &str, der: &[u8]) -> Result<String> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).context("encoding PEM")
}

/// Writes a file atomically (temporary file, sync, rename) with `mode`; without
/// `replace` an existing file is an error.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting permissions of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    let done = if replace {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    done.map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    // Make the rename itself durable.
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

/// Writes to `out`, or standard output.
pub(crate) fn output(out: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match out {
        Some(path) => write_atomic(path, bytes, 0o644, true),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .context("writing to standard output")?;
            stdout.flush().context("writing to standard output")
        }
    }
}

/// The passphrase: `PKI_PASSPHRASE`, else a prompt that does not echo (twice when
/// `confirm`).
pub(crate) fn passphrase(confirm: bool) -> Result<Passphrase> {
    let text = match std::env::var(PASSPHRASE_ENV) {
        Ok(text) => Zeroizing::new(text),
        Err(_) => {
            let first = Zeroizing::new(
                rpassword::prompt_password("CA key passphrase: ").with_context(|| {
                    format!("no terminal to ask for the passphrase: set {PASSPHRASE_ENV}")
                })?,
            );
            if confirm {
                let again = Zeroizing::new(
                    rpassword::prompt_password("Repeat the passphrase: ")
                        .context("reading the passphrase")?,
                );
                if first != again {
                    bail!("the two passphrases differ");
                }
            }
            first
        }
    };
    if text.chars().count() < 12 {
        bail!("the CA passphrase must have at least 12 characters");
    }
    let mut text = text;
    Ok(Passphrase::new(std::mem::take(&mut *text)))
}

/// Writes an encrypted key.
pub(crate) fn write_key(path: &Path, key: &SigningKey, passphrase: &Passphrase) -> Result<()> {
    let pem = key
        .to_encrypted_pkcs8_pem(passphrase, &SystemRandom::new())
        .context("encrypting a key")?;
    write_atomic(path, pem.as_bytes(), 0o600, false)
}
