//! Files, prompts and passphrases: everything `signer` reads or writes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use identity_core::keys::{Passphrase, SigningKey};
use zeroize::Zeroizing;

use crate::cli::PassphraseArgs;

/// The environment variable a passphrase may come from.
pub(crate) const PASSPHRASE_ENV: &str = "SIGNER_PASSPHRASE";

/// Reads a whole file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads a whole file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read(path)?).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// Who may read a file we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Owner only (0600): private keys.
    Private,
    /// Everyone may read (0644): public keys, signatures.
    Public,
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced,
/// then renamed over `path`. Nothing is left half-written; without `force` an existing
/// file is never replaced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], access: Access, force: bool) -> Result<()> {
    if !force && path.exists() {
        bail!(
            "{} already exists: choose another path or pass --force",
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // tempfile creates the file with mode 0600, so a private key is never readable
    // by others, not even for a moment; the name is recognisable, should a killed
    // process leave one behind.
    let mut tmp = tempfile::Builder::new()
        .prefix(".signer-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    if access == Access::Public {
        set_mode(tmp.path(), 0o644)?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    let persisted = if force {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    persisted
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    // The rename is durable once the folder is synced too.
    #[cfg(unix)]
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

/// `path` with `.extension` appended (`a.pdf` → `a.pdf.p7s`), never replaced.
pub(crate) fn append_extension(path: &Path, extension: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(extension);
    PathBuf::from(s)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting permissions of {}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Reads a file that may hold a secret (a passphrase, an unencrypted key) into memory
/// that is wiped when dropped.
pub(crate) fn read_secret_text(path: &Path) -> Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(read(path)?);
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Gets a passphrase: from `--passphrase-file`, else `SIGNER_PASSPHRASE`, else a
/// prompt on the terminal that does not echo (twice when `confirm`). Every copy we
/// make is wiped when dropped.
pub(crate) fn passphrase(args: &PassphraseArgs, prompt: &str, confirm: bool) -> Result<Passphrase> {
    let mut text = if let Some(path) = &args.passphrase_file {
        let mut text = read_secret_text(path)?;
        let first_line = text.find(['\n', '\r']).unwrap_or(text.len());
        text.truncate(first_line);
        text
    } else if let Ok(text) = std::env::var(PASSPHRASE_ENV) {
        Zeroizing::new(text)
    } else {
        let first = Zeroizing::new(rpassword::prompt_password(prompt).with_context(|| {
            format!("no terminal to ask for a passphrase: set {PASSPHRASE_ENV} or pass --passphrase-file")
        })?);
        if confirm {
            let second = Zeroizing::new(
                rpassword::prompt_password("Repeat the passphrase: ")
                    .context("reading the passphrase again")?,
            );
            if first != second {
                bail!("the two passphrases differ");
            }
        }
        first
    };
    if text.is_empty() {
        bail!("the passphrase is empty");
    }
    // Move the buffer (not a copy) into the Passphrase, which wipes it on drop.
    Ok(Passphrase::new(std::mem::take(&mut *text)))
}

/// Reads a private key file, asking for its passphrase only if it is encrypted.
pub(crate) fn read_signing_key(path: &Path, args: &PassphraseArgs) -> Result<SigningKey> {
    let pem = read_secret_text(path)?;
    let key = if SigningKey::pem_is_encrypted(&pem) {
        let pass = passphrase(args, &format!("Passphrase for {}: ", path.display()), false)?;
        SigningKey::from_pkcs8_pem(&pem, Some(&pass))
    } else {
        SigningKey::from_pkcs8_pem(&pem, None)
    };
    key.with_context(|| format!("reading the private key {}", path.display()))
}
