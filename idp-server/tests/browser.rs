//! The pages in a real browser: headless Chromium (Debian's) with a virtual
//! authenticator, driven by playwright-core (tests/e2e): a resident activates
//! their account with a passkey, logs in to the demo portal with it and opens
//! their account page. Each
//! page's screenshot is saved under target/e2e/; any console error fails.
//! `scripts/test` installs Chromium and the Node modules.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::spawn_demo;

const PERSON: &str = "001090012345";

#[test]
fn a_resident_activates_a_passkey_and_logs_in_with_it_in_chromium() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    assert!(
        Path::new("/usr/bin/chromium").exists() && e2e.join("node_modules").exists(),
        "Chromium or the e2e Node modules are missing: ./scripts/test installs them \
         (apt-get install chromium; npm ci --prefix idp-server/tests/e2e)"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let (mut demo, port) = spawn_demo(&data, "warn", None);
    let activate = Command::new(env!("CARGO_BIN_EXE_idp-server"))
        .args(["registry", "activate", PERSON, "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let out = String::from_utf8(activate.stdout).unwrap();
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix(&format!("activation code for {PERSON}: ")))
        .unwrap_or_else(|| panic!("no code in {out}"))
        .to_owned();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e");
    // Screenshots of an earlier run must not pass for this one's.
    let _ = std::fs::remove_dir_all(&shots);
    let run = Command::new("node")
        .arg(e2e.join("passkey_login.mjs"))
        .args([&format!("http://localhost:{port}"), PERSON, &code])
        .arg(&shots)
        .output()
        .unwrap();
    demo.kill().unwrap();
    demo.wait().unwrap();
    assert!(
        run.status.success(),
        "the browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(shots.join("07-portal-logged-in.png").exists());
    assert!(shots.join("08-account.png").exists());
}
