//! Files the server writes: whole or not at all, with the mode they need.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

/// Writes `bytes` to `path` through a temporary file beside it (created with
/// `mode`, synced, then renamed), so that a reader never sees half a file and
/// a private key is never readable by others, not even for a moment.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}
