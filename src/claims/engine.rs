//! The engine: the only place where a verdict is written.
//!
//! [`conclude`] turns a checker's [`Evidence`] into a [`Conclusion`] from the measurements'
//! [`Role`]s, the same way in quick and full mode:
//!
//! | evidence | verdict |
//! |---|---|
//! | no judged measurement (none, or all context) | inconclusive |
//! | a [`Role::Check`] failed | inconclusive (the reason names every failed check) |
//! | every check ok, no witness found | **holds** |
//! | every check ok, a witness found, a counterexample and a corrected statement attached, and at least one check (the corrected statement's evidence) | **fails-as-printed** |
//! | a witness found without counterexample, corrected statement or a check | inconclusive |
//!
//! The headline is written here too, from the measurements marked [`Measurement::key`] (or
//! the first judged ones), so a headline cannot contradict its verdict.
//!
//! [`judge`] runs a checker on the card's statement and on every mutant of the card, in the
//! same mode; a mutant is *killed* when its verdict differs from the card's. A surviving
//! mutant means the check cannot tell that statement from a false one.

use super::card::{Card, Mutant};
use super::context::CheckContext;
use super::evidence::{Evidence, Measurement, Role, Verdict};
use super::registry::Checker;
use super::{CheckError, Mode};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What the engine concludes from a piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conclusion {
    pub verdict: Verdict,
    /// One line built from the key measurements.
    pub headline: String,
    /// Why the verdict is inconclusive (absent otherwise).
    pub reason: Option<String>,
}

/// The verdict of one mutant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutantOutcome {
    pub id: String,
    /// The perturbed statement in words.
    pub statement: String,
    /// The engine's verdict on the mutant; `None` if its checker returned an error.
    pub verdict: Option<Verdict>,
    /// The checker's error on the mutant, if any (an error never kills a mutant).
    pub error: Option<String>,
    /// True iff the mutant got a verdict different from the card's.
    pub killed: bool,
}

/// A checker's evidence with the engine's conclusion and the mutants' outcomes.
#[derive(Debug, Clone)]
pub struct Judged {
    pub evidence: Evidence,
    pub conclusion: Conclusion,
    pub mutants: Vec<MutantOutcome>,
}

impl Judged {
    /// The verdict on the card's statement.
    pub fn verdict(&self) -> Verdict {
        self.conclusion.verdict
    }

    /// (killed, total) mutants.
    pub fn mutants_killed(&self) -> (usize, usize) {
        (
            self.mutants.iter().filter(|m| m.killed).count(),
            self.mutants.len(),
        )
    }
}

/// Short decimal form for headlines: 4 significant digits, scientific outside [1e-3, 1e5).
pub fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if (1e-3..1e5).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    }
}

/// `name: measured ≤ predicted` in short form.
fn describe(m: &Measurement) -> String {
    format!(
        "{}: {} {} {}",
        m.name,
        short(m.measured),
        m.relation.symbol(),
        short(m.predicted)
    )
}

/// `name: measured ≰ predicted` for a failed relation.
fn describe_failed(m: &Measurement) -> String {
    format!(
        "{}: {} not {} {}",
        m.name,
        short(m.measured),
        m.relation.symbol(),
        short(m.predicted)
    )
}

/// At most this many measurements in a headline.
const HEADLINE_MEASUREMENTS: usize = 3;

/// The verdict and headline of `ev`, from its measurements' roles (see the module docs).
pub fn conclude(ev: &Evidence) -> Conclusion {
    let judged: Vec<&Measurement> = ev
        .measurements
        .iter()
        .filter(|m| m.role != Role::Context)
        .collect();
    let failed: Vec<&Measurement> = judged.iter().copied().filter(|m| m.check_failed()).collect();
    let found: Vec<&Measurement> = judged.iter().copied().filter(|m| m.witness_found()).collect();
    let checks = judged.iter().filter(|m| m.role == Role::Check).count();
    let keys = |pred: &dyn Fn(&Measurement) -> bool| -> Vec<String> {
        let marked: Vec<&Measurement> = judged.iter().copied().filter(|m| m.key && pred(m)).collect();
        let chosen = if marked.is_empty() {
            judged.iter().copied().filter(|m| pred(m)).take(1).collect()
        } else {
            marked
        };
        chosen
            .into_iter()
            .take(HEADLINE_MEASUREMENTS)
            .map(describe)
            .collect()
    };
    let inconclusive = |reason: String| Conclusion {
        verdict: Verdict::Inconclusive,
        headline: format!("inconclusive: {reason}"),
        reason: Some(reason),
    };
    if judged.is_empty() {
        return inconclusive("no measurement judges the claim (none, or only context)".into());
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|m| describe_failed(m)).collect();
        return inconclusive(format!(
            "{} check{} failed: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            list.join("; ")
        ));
    }
    if found.is_empty() {
        return Conclusion {
            verdict: Verdict::Holds,
            headline: keys(&|_| true).join("; "),
            reason: None,
        };
    }
    let witness = describe_failed(found[0]);
    let missing: Vec<&str> = [
        (ev.counterexample.is_none(), "a counterexample"),
        (
            ev.corrected_statement
                .as_deref()
                .is_none_or(|s| s.trim().is_empty()),
            "a corrected statement",
        ),
        (checks == 0, "a check of the corrected statement"),
    ]
    .into_iter()
    .filter_map(|(absent, what)| absent.then_some(what))
    .collect();
    if !missing.is_empty() {
        return inconclusive(format!(
            "a witness against the printed statement was found ({witness}), but the evidence lacks {}",
            missing.join(" and ")
        ));
    }
    let corrected = keys(&|m| m.role == Role::Check);
    Conclusion {
        verdict: Verdict::FailsAsPrinted,
        headline: format!(
            "witness {witness}{}{}",
            if found.len() > 1 {
                format!(" (+{} more)", found.len() - 1)
            } else {
                String::new()
            },
            if corrected.is_empty() {
                String::new()
            } else {
                format!("; corrected: {}", corrected.join("; "))
            }
        ),
        reason: None,
    }
}

fn run_one(
    checker: &Checker,
    card: &Card,
    mode: Mode,
    mutant: Option<&Mutant>,
) -> Result<Evidence, CheckError> {
    (checker.run)(&CheckContext::with_statement(
        card,
        mode,
        card.statement_for(mutant),
    ))
}

/// Run `checker` on `card`'s statement and on each of its mutants in `mode` (the mutants in
/// parallel on the current rayon pool), and conclude each.
///
/// # Errors
/// The checker's error on the card's own statement (a malformed card, a failed step).
pub fn judge(checker: &Checker, card: &Card, mode: Mode) -> Result<Judged, CheckError> {
    let evidence = run_one(checker, card, mode, None)?;
    let conclusion = conclude(&evidence);
    let mutants = card
        .mutants
        .par_iter()
        .map(|m| {
            let (verdict, error) = match run_one(checker, card, mode, Some(m)) {
                Ok(ev) => (Some(conclude(&ev).verdict), None),
                Err(e) => (None, Some(e.to_string())),
            };
            MutantOutcome {
                id: m.id.clone(),
                statement: m.statement.clone(),
                killed: verdict.is_some_and(|v| v != conclusion.verdict),
                verdict,
                error,
            }
        })
        .collect();
    Ok(Judged {
        evidence,
        conclusion,
        mutants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::evidence::{Counterexample, Relation};

    fn check(ok: bool) -> Measurement {
        Measurement::new("c", if ok { 1.0 } else { 3.0 }, 2.0, Relation::AtMost)
    }

    fn witness(found: bool) -> Measurement {
        Measurement::new("w", if found { 3.0 } else { 1.0 }, 2.0, Relation::AtMost).witness()
    }

    fn evidence(ms: Vec<Measurement>, with_cex: bool) -> Evidence {
        let mut ev = Evidence::new();
        ev.measurements = ms;
        if with_cex {
            ev.counterexample = Some(Counterexample {
                description: "x".into(),
                values: vec![],
                found_by: "search".into(),
            });
            ev.corrected_statement = Some("the corrected one".into());
        }
        ev
    }

    #[test]
    fn holds_needs_a_judged_measurement_every_check_ok_and_no_witness() {
        assert_eq!(
            conclude(&evidence(vec![check(true), witness(false)], false)).verdict,
            Verdict::Holds
        );
        assert_eq!(conclude(&evidence(vec![], false)).verdict, Verdict::Inconclusive);
        assert_eq!(
            conclude(&evidence(vec![check(false).context()], false)).verdict,
            Verdict::Inconclusive
        );
        // A failed context measurement does not count against the claim.
        assert_eq!(
            conclude(&evidence(vec![check(true), check(false).context()], false)).verdict,
            Verdict::Holds
        );
    }

    #[test]
    fn a_failed_check_is_inconclusive_whatever_else_is_there() {
        let c = conclude(&evidence(vec![check(false), witness(true)], true));
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(c.reason.unwrap().contains("1 check failed: c: 3 not ≤ 2"));
    }

    #[test]
    fn fails_as_printed_needs_witness_counterexample_corrected_statement_and_a_check() {
        assert_eq!(
            conclude(&evidence(vec![check(true), witness(true)], true)).verdict,
            Verdict::FailsAsPrinted
        );
        let no_cex = conclude(&evidence(vec![check(true), witness(true)], false));
        assert_eq!(no_cex.verdict, Verdict::Inconclusive);
        assert!(no_cex
            .reason
            .unwrap()
            .contains("lacks a counterexample and a corrected statement"));
        let no_check = conclude(&evidence(vec![witness(true)], true));
        assert_eq!(no_check.verdict, Verdict::Inconclusive);
        assert!(no_check
            .reason
            .unwrap()
            .contains("a check of the corrected statement"));
    }

    #[test]
    fn headline_uses_key_measurements_and_cannot_contradict_the_verdict() {
        let ms = vec![
            Measurement::new("first", 1.0, 2.0, Relation::AtMost),
            Measurement::new("rate", 0.5, 0.5, Relation::Exact).key(),
        ];
        let c = conclude(&evidence(ms, false));
        assert_eq!(c.headline, "rate: 0.5 = 0.5");
        let f = conclude(&evidence(vec![check(true), witness(true)], true));
        assert!(
            f.headline
                .starts_with("witness w: 3 not ≤ 2; corrected: c: 1 ≤ 2"),
            "{}",
            f.headline
        );
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.81818181), "0.8182");
        assert_eq!(short(12.5), "12.5");
        assert_eq!(short(1e-9), "1.000e-9");
        assert_eq!(short(123456.0), "1.235e5");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(f64::INFINITY), "inf");
    }
}
