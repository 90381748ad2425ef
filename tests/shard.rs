//! `report --shard i/n` + `merge` give the report of an unsharded run, byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_optverify");

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("optverify-shard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn four_quick_shards_merge_into_the_unsharded_report_byte_for_byte() {
    let whole = temp("whole");
    let out = run(&["report", "--quick", "--out", whole.to_str().unwrap()]);
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let mut shard_files = Vec::new();
    let mut claims = 0;
    for i in 1..=4 {
        let dir = temp(&format!("shard-{i}"));
        let out = run(&[
            "report",
            "--quick",
            "--shard",
            &format!("{i}/4"),
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
        let json = dir.join("results.json");
        let results: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(results["shard"]["index"], i);
        claims += results["claims"].as_array().unwrap().len();
        shard_files.push(json.display().to_string());
    }
    let merged = temp("merged");
    // The shards in a scrambled order: merge puts the claims back in registry order.
    let mut args = vec!["merge", "--out", merged.to_str().unwrap()];
    args.extend([3, 1, 4, 2].iter().map(|&i| shard_files[i - 1].as_str()));
    let out = run(&args);
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");

    let (want, got) = (files(&whole), files(&merged));
    let whole_results: serde_json::Value = serde_json::from_slice(&want["results.json"]).unwrap();
    assert_eq!(claims, whole_results["claims"].as_array().unwrap().len());
    assert!(
        claims >= 4,
        "a split of {claims} claims into 4 shards tests little"
    );
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>());
    for (path, bytes) in &want {
        assert!(
            got[path] == *bytes,
            "{path} differs between the merged and the unsharded report"
        );
    }
    for dir in [whole, merged] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn merge_refuses_an_incomplete_or_repeated_set_of_shards() {
    let dir = temp("refuse");
    let out = run(&[
        "report",
        "--quick",
        "--shard",
        "1/3",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let json = dir.join("results.json");
    let json = json.to_str().unwrap();
    let merged = temp("refuse-merged");
    for (args, says) in [(vec![json], "missing"), (vec![json, json], "given twice")] {
        let mut all = vec!["merge", "--out", merged.to_str().unwrap()];
        all.extend(args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{out:?}");
    }
    assert!(!merged.exists(), "nothing is written when the shards do not fit");
    let bad = run(&[
        "report",
        "--quick",
        "--shard",
        "5/4",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn merge_exits_1_when_a_mutant_survived_as_report_does() {
    let out = run(&[
        "verify", "--quick", "--claim", "gd-rate", "--shard", "1/1", "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The record of a run whose check let its first mutant through.
    results["claims"][0]["evidence"]["mutants"][0]["killed"] = false.into();
    let dir = temp("survivor");
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("results.json");
    std::fs::write(&json, results.to_string()).unwrap();
    let merged = dir.join("merged");
    let out = run(&["merge", json.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("mutants killed 1/2"),
        "{out:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
