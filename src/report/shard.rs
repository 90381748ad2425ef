//! Splitting a sweep over machines: `verify`/`report --shard i/n` run every n-th claim, and
//! `merge` rebuilds the one report from the shards' `results.json`.
//!
//! Claim k of the registry (0-based) belongs to shard `k mod n` + 1, so the split is
//! deterministic, needs no coordination, and balances the count (shards differ by at most
//! one claim). A claim's own runs (seeds, sizes) are not split: a claim is the unit of work.
//! A shard's `results.json` is an ordinary [`Results`] with its `shard` field set; `merge`
//! checks that the n shards are all there, from one version and one mode, interleaves their
//! claims back into registry order, recounts the summary and re-renders every file from the
//! records alone, so the merged report is byte for byte the report of an unsharded run (the
//! test `tests/shard.rs` checks this with 4 shards).

use super::record::{Results, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1-based: `--shard 1/4` … `--shard 4/4`, as Slurm array tasks
/// or GNU parallel's `{#}` number them). Always 1 ≤ index ≤ count: [`Shard::new`] checks it,
/// for `--shard i/n` and for a `results.json` read by `merge` alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawShard")]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// A shard as written in `results.json`, before [`Shard::new`] checks it.
#[derive(Deserialize)]
struct RawShard {
    index: usize,
    count: usize,
}

impl TryFrom<RawShard> for Shard {
    type Error = String;

    fn try_from(r: RawShard) -> Result<Self, String> {
        Shard::new(r.index, r.count)
    }
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// Unless 1 ≤ `index` ≤ `count`.
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count} is not a shard: expected i/n with 1 <= i <= n (e.g. 2/4)"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether claim `k` (0-based registry position) belongs to this shard.
    pub fn owns(self, k: usize) -> bool {
        k % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `"i/n"` with 1 ≤ i ≤ n.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected a shard as i/n with 1 <= i <= n (e.g. 2/4), found {s:?}");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        Shard::new(index, count).map_err(|_| bad())
    }
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("no shards given")]
    Empty,
    #[error("{0} is not a shard (its results.json has no `shard` field)")]
    NotAShard(String),
    #[error("shards disagree on {what}: {a} vs {b}")]
    Mismatch {
        what: &'static str,
        a: String,
        b: String,
    },
    #[error("shard {0} is missing")]
    Missing(String),
    #[error("shard {0} is given twice")]
    Duplicate(String),
    #[error("shard {shard} has {got} claims but a split of {total} claims gives it {expected}")]
    WrongCount {
        shard: String,
        got: usize,
        expected: usize,
        total: usize,
    },
}

/// Merge the shards' results (any order) into the results of the unsharded run, whose
/// command is `command`. Wall-clock times (kept by `verify --json`) are dropped, as an
/// unsharded report drops them.
///
/// # Errors
/// [`MergeError`] if a file is not a shard, shards are missing or repeated, or they come
/// from different versions, modes or splits.
pub fn merge(shards: Vec<(String, Results)>, command: impl Into<String>) -> Result<Results, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    let (version, mode) = (first.1.optverify_version.clone(), first.1.mode);
    let count = first.1.shard.map_or(0, |s| s.count);
    // Keyed by index: a count read from a file sizes nothing.
    let mut by_index: BTreeMap<usize, Results> = BTreeMap::new();
    for (name, r) in shards {
        let shard = r.shard.ok_or_else(|| MergeError::NotAShard(name.clone()))?;
        let mismatch = |what, a: String, b: String| Err(MergeError::Mismatch { what, a, b });
        if shard.count != count {
            return mismatch("the number of shards", count.to_string(), shard.count.to_string());
        }
        if r.optverify_version != version {
            return mismatch("the optverify version", version, r.optverify_version);
        }
        if r.mode != mode {
            return mismatch("the mode", format!("{mode:?}"), format!("{:?}", r.mode));
        }
        if by_index.insert(shard.index, r).is_some() {
            return Err(MergeError::Duplicate(shard.to_string()));
        }
    }
    // Every index is in 1..=count and none repeats, so all are there iff there are `count`.
    if by_index.len() != count {
        let missing = (1..=count).find(|i| !by_index.contains_key(i)).unwrap_or(count);
        return Err(MergeError::Missing(format!("{missing}/{count}")));
    }
    let shards: Vec<Results> = by_index.into_values().collect();
    let total: usize = shards.iter().map(|s| s.claims.len()).sum();
    for (i, s) in shards.iter().enumerate() {
        let expected = (total + count - 1 - i) / count;
        if s.claims.len() != expected {
            return Err(MergeError::WrongCount {
                shard: format!("{}/{count}", i + 1),
                got: s.claims.len(),
                expected,
                total,
            });
        }
    }
    let mut iters: Vec<_> = shards.into_iter().map(|s| s.claims.into_iter()).collect();
    let claims: Vec<_> = (0..total)
        .map(|k| {
            let mut c = iters[k % count].next().expect("counts checked above");
            c.seconds = None;
            c
        })
        .collect();
    Ok(Results {
        optverify_version: version,
        mode,
        command: command.into(),
        summary: Summary::of(&claims),
        claims,
        shard: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_rejects() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_shard_read_from_json_is_checked_as_on_the_command_line() {
        let read = |json: &str| serde_json::from_str::<Shard>(json);
        assert_eq!(
            read(r#"{"index": 2, "count": 4}"#).unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in [
            r#"{"index": 0, "count": 4}"#,
            r#"{"index": 5, "count": 4}"#,
            r#"{"index": 1, "count": 0}"#,
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains("1 <= i <= n"), "{bad}: {e}");
        }
    }

    fn shard_results(index: usize, count: usize) -> (String, Results) {
        let results = Results {
            optverify_version: crate::VERSION.to_string(),
            mode: crate::claims::Mode::Quick,
            command: String::new(),
            summary: Summary::of(&[]),
            claims: Vec::new(),
            shard: Some(Shard { index, count }),
        };
        (format!("shard-{index}"), results)
    }

    #[test]
    fn a_huge_shard_count_is_a_missing_shard_not_an_allocation() {
        let e = merge(vec![shard_results(1, usize::MAX)], "").unwrap_err();
        assert_eq!(e, MergeError::Missing(format!("2/{}", usize::MAX)));
        let e = merge(vec![shard_results(3, 3), shard_results(1, 3)], "").unwrap_err();
        assert_eq!(e, MergeError::Missing("2/3".into()));
        let e = merge(vec![shard_results(2, 2), shard_results(2, 2)], "").unwrap_err();
        assert_eq!(e, MergeError::Duplicate("2/2".into()));
        assert!(merge(vec![shard_results(2, 2), shard_results(1, 2)], "").is_ok());
    }

    #[test]
    fn every_claim_has_exactly_one_shard() {
        for count in 1..6 {
            for k in 0..20 {
                let owners = (1..=count)
                    .filter(|&index| Shard { index, count }.owns(k))
                    .count();
                assert_eq!(owners, 1, "claim {k} of {count} shards");
            }
        }
    }
}
