//! Helpers shared by the tests that run the built `optverify` binary or read the committed
//! traces (tests/cli.rs, tests/cli_args.rs, tests/hostile.rs, tests/oracle.rs,
//! tests/oracle_user_runs.rs), each of which
//! includes this file with `#[path = "support/cli.rs"] mod support;`.

// Each test file uses some of these.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built binary with `args`, `CI=1` (no progress bar).
pub fn optverify<S: AsRef<OsStr>>(args: &[S]) -> Output {
    optverify_in(args, None)
}

/// [`optverify`] with `dir` as the working directory when given.
pub fn optverify_in<S: AsRef<OsStr>>(args: &[S], dir: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_optverify"));
    cmd.args(args).env("CI", "1");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.output().expect("the binary runs")
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// `path` (relative to the crate root) as an absolute path string.
pub fn manifest(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// The committed golden traces' directory, tests/data/golden.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

/// The golden trace `name`.
pub fn golden(name: &str) -> PathBuf {
    golden_dir().join(name)
}

/// A path in the temp directory private to this test binary and process:
/// `optverify-<test file>-<pid>-<name>`.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "optverify-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ))
}

/// A temp file holding `content` ([`temp_path`]), removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, content: &str) -> Self {
        let p = temp_path(name);
        std::fs::write(&p, content).unwrap();
        TempFile(p)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// `compare::replay` of a trace given as JSON Lines text, panicking with its name on an error
/// (tests/oracle_inject.rs, tests/oracle_x64off.rs).
pub fn replay_text(name: &str, text: &str) -> optverify::oracle::compare::Outcome {
    let mut r = optverify::oracle::format::TraceReader::new(name, text.as_bytes()).unwrap();
    optverify::oracle::compare::replay(&mut r, None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The trace text with its header edited by `edit`.
pub fn edited(text: &str, edit: &dyn Fn(&mut serde_json::Value)) -> String {
    let (head, rest) = text.split_once('\n').unwrap();
    let mut h: serde_json::Value = serde_json::from_str(head).unwrap();
    edit(&mut h);
    format!("{h}\n{rest}")
}
