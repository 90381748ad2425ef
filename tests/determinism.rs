//! The report is a pure function of the cards and the seeds: the quick report written with one
//! worker thread, with two, and again with one is byte-identical file for file (no timestamps,
//! no timings, no dependence on which thread finishes first).

use optverify::claims::Mode;
use optverify::report::commands::{report, Status};
use std::path::{Path, PathBuf};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("optverify-determinism-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Every file under `dir` (relative path, bytes), sorted by path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("readable report directory") {
            let p = entry.expect("directory entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn quick_report(jobs: usize, tag: &str) -> Vec<(String, Vec<u8>)> {
    let dir = temp_dir(tag);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = report(Mode::Quick, Some(jobs), None, &dir, &mut out, &mut err);
    assert_eq!(
        status,
        Status::Success,
        "quick report with -j {jobs}: {}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    let files = tree(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    files
}

#[test]
fn quick_report_is_byte_identical_across_thread_counts_and_runs() {
    let one = quick_report(1, "j1");
    let two = quick_report(2, "j2");
    let again = quick_report(1, "j1-again");
    assert!(one.len() > 50, "only {} files written", one.len());
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&one), names(&two), "the same files with -j 1 and -j 2");
    for ((p, a), (_, b)) in one.iter().zip(&two) {
        assert!(a == b, "{p} differs between -j 1 and -j 2");
    }
    assert_eq!(one, again, "a repeated run with -j 1 differs");
}
