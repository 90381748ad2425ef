//! The registry: one [`Checker`] per theorem card, and the functions that run them.
//!
//! * [`registry`] lists every checker; [`check_registry`] says whether cards and checkers
//!   match one to one (a test asserts it).
//! * [`select_cards`] turns the `--claim` ids of the command line into cards.
//! * [`run_card`] runs one claim; [`run_cards`] runs many, in parallel, and returns the
//!   results in the order of the cards given (so printed output is deterministic).

use super::engine::{judge, Judged};
use super::{card::all_cards, Card, CardError, CheckContext, CheckError, Evidence, Mode, Verdict};
use rayon::prelude::*;
use std::time::Instant;

/// A checker: the card id it answers and the function that gathers the evidence.
#[derive(Clone, Copy)]
pub struct Checker {
    pub id: &'static str,
    pub run: fn(&CheckContext) -> Result<Evidence, CheckError>,
}

/// Every checker of the crate, in topic order.
pub fn registry() -> Vec<Checker> {
    let mut all = Vec::new();
    all.extend(super::rates::checkers());
    all.extend(super::sgd::checkers());
    all.extend(super::adaptive::checkers());
    all.extend(super::adagrad_norm::checkers());
    all.extend(super::experiments::checkers());
    all.extend(super::adagrad_improvements::checkers());
    all.extend(super::other_methods::checkers());
    all
}

/// How the cards and the checkers fail to match one to one (all lists empty when they do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryMismatch {
    /// Card ids with no checker.
    pub cards_without_checker: Vec<String>,
    /// Checker ids with no card.
    pub checkers_without_card: Vec<String>,
    /// Ids registered by more than one checker.
    pub duplicate_checkers: Vec<String>,
    /// Ids carried by more than one card.
    pub duplicate_cards: Vec<String>,
}

impl RegistryMismatch {
    /// True iff cards and checkers match one to one.
    pub fn is_empty(&self) -> bool {
        self.cards_without_checker.is_empty()
            && self.checkers_without_card.is_empty()
            && self.duplicate_checkers.is_empty()
            && self.duplicate_cards.is_empty()
    }
}

impl std::fmt::Display for RegistryMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            ("cards without a checker", &self.cards_without_checker),
            ("checkers without a card", &self.checkers_without_card),
            ("ids registered by several checkers", &self.duplicate_checkers),
            ("ids carried by several cards", &self.duplicate_cards),
        ];
        let mut first = true;
        for (what, ids) in parts {
            if ids.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{what}: {}", ids.join(", "))?;
        }
        if first {
            f.write_str("cards and checkers match one to one")?;
        }
        Ok(())
    }
}

/// Compare card ids with checker ids.
pub fn match_ids(card_ids: &[&str], checker_ids: &[&str]) -> RegistryMismatch {
    fn duplicates(ids: &[&str]) -> Vec<String> {
        let mut sorted: Vec<&str> = ids.to_vec();
        sorted.sort_unstable();
        let mut out: Vec<String> = sorted
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0].to_string())
            .collect();
        out.dedup();
        out
    }
    let missing = |from: &[&str], to: &[&str]| -> Vec<String> {
        let mut out: Vec<String> = from
            .iter()
            .filter(|id| !to.contains(id))
            .map(|id| id.to_string())
            .collect();
        out.dedup();
        out
    };
    RegistryMismatch {
        cards_without_checker: missing(card_ids, checker_ids),
        checkers_without_card: missing(checker_ids, card_ids),
        duplicate_checkers: duplicates(checker_ids),
        duplicate_cards: duplicates(card_ids),
    }
}

/// Whether the compiled-in cards and [`registry`] match one to one.
///
/// # Errors
/// A malformed card.
pub fn check_registry() -> Result<RegistryMismatch, CardError> {
    let cards = all_cards()?;
    let card_ids: Vec<&str> = cards.iter().map(|c| c.id.as_str()).collect();
    let checker_ids: Vec<&str> = registry().iter().map(|c| c.id).collect();
    Ok(match_ids(&card_ids, &checker_ids))
}

/// The result of running one claim.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub card: Card,
    /// The evidence, the engine's conclusion and the mutants' outcomes.
    pub judged: Judged,
    /// True iff the engine's verdict equals the card's `expected` verdict.
    pub as_expected: bool,
    pub seconds: f64,
}

impl Outcome {
    /// The checker's evidence.
    pub fn evidence(&self) -> &Evidence {
        &self.judged.evidence
    }

    /// The engine's verdict.
    pub fn verdict(&self) -> Verdict {
        self.judged.verdict()
    }
}

/// The result of running one claim, whether the checker succeeded or not.
#[derive(Debug)]
pub struct ClaimRun {
    pub card: Card,
    /// The judged evidence, or why the checker could not produce any.
    pub result: Result<Judged, CheckError>,
    /// Wall-clock time of the check and of its mutants.
    pub seconds: f64,
}

impl ClaimRun {
    /// The verdict, if the checker returned evidence.
    pub fn verdict(&self) -> Option<Verdict> {
        self.result.as_ref().ok().map(Judged::verdict)
    }

    /// True iff the checker returned evidence whose verdict is the card's `expected` one.
    pub fn as_expected(&self) -> bool {
        self.verdict() == Some(self.card.expected)
    }

    /// True iff the checker failed because the card is malformed (missing or mistyped
    /// parameter): bad input rather than a wrong verdict.
    pub fn is_card_error(&self) -> bool {
        matches!(self.result, Err(CheckError::Card(_)))
    }
}

/// Run `checker` on `card` and its mutants in `mode` and judge them ([`judge`]), timing it.
pub fn run_checker(checker: &Checker, card: &Card, mode: Mode) -> ClaimRun {
    let start = Instant::now();
    let result = judge(checker, card, mode);
    ClaimRun {
        card: card.clone(),
        result,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn missing_checker(card: &Card) -> CheckError {
    CheckError::Other(format!("no checker registered for card `{}`", card.id))
}

/// Run the claim of `card` in `mode`.
///
/// # Errors
/// No checker has the card's id, or the checker failed (malformed card parameter, step error).
pub fn run_card(card: &Card, mode: Mode) -> Result<Outcome, CheckError> {
    let checker = registry()
        .into_iter()
        .find(|c| c.id == card.id)
        .ok_or_else(|| missing_checker(card))?;
    let run = run_checker(&checker, card, mode);
    let judged = run.result?;
    Ok(Outcome {
        as_expected: judged.verdict() == card.expected,
        card: run.card,
        judged,
        seconds: run.seconds,
    })
}

/// Run every card in `mode` with the checkers of [`registry`]; see [`run_cards_with`].
pub fn run_cards(cards: &[Card], mode: Mode, on_done: &(dyn Fn(&ClaimRun) + Sync)) -> Vec<ClaimRun> {
    run_cards_with(&registry(), cards, mode, on_done)
}

/// Run every card in `mode` with the checker of the same id among `checkers`, in parallel on
/// the current rayon pool. `on_done` is called as each claim finishes (in completion order,
/// e.g. to advance a progress bar); the returned runs are in the order of `cards`.
/// A card with no checker gets an error result.
pub fn run_cards_with(
    checkers: &[Checker],
    cards: &[Card],
    mode: Mode,
    on_done: &(dyn Fn(&ClaimRun) + Sync),
) -> Vec<ClaimRun> {
    cards
        .par_iter()
        .map(|card| {
            let run = match checkers.iter().find(|c| c.id == card.id) {
                Some(checker) => run_checker(checker, card, mode),
                None => ClaimRun {
                    card: card.clone(),
                    result: Err(missing_checker(card)),
                    seconds: 0.0,
                },
            };
            on_done(&run);
            run
        })
        .collect()
}

/// Why the claims named on the command line cannot be selected.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("unknown claim `{id}` (--claim); known claims: {}", if known.is_empty() { "(none)".to_string() } else { known.join(", ") })]
    UnknownClaim { id: String, known: Vec<String> },
}

/// The cards selected by `ids` (all when empty, each at most once), in registry order;
/// cards without a checker come last, in file order.
///
/// # Errors
/// A malformed card, or an id that names no card.
pub fn select_cards(ids: &[String]) -> Result<Vec<Card>, SelectError> {
    select_from(all_cards()?, &registry(), ids)
}

/// [`select_cards`] over the given cards and checkers.
///
/// # Errors
/// An id that names none of `cards`.
pub fn select_from(cards: Vec<Card>, checkers: &[Checker], ids: &[String]) -> Result<Vec<Card>, SelectError> {
    let mut chosen: Vec<Card> = if ids.is_empty() {
        cards
    } else {
        let mut v: Vec<Card> = Vec::new();
        for id in ids {
            let c = cards
                .iter()
                .find(|c| &c.id == id)
                .ok_or_else(|| SelectError::UnknownClaim {
                    id: id.clone(),
                    known: cards.iter().map(|c| c.id.clone()).collect(),
                })?;
            if !v.iter().any(|seen| seen.id == c.id) {
                v.push(c.clone());
            }
        }
        v
    };
    chosen.sort_by_key(|c| checkers.iter().position(|k| k.id == c.id).unwrap_or(usize::MAX));
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_ids_reports_every_kind_of_mismatch() {
        let m = match_ids(&["a", "b", "b", "c"], &["a", "a", "c", "d"]);
        assert_eq!(m.cards_without_checker, vec!["b"]);
        assert_eq!(m.checkers_without_card, vec!["d"]);
        assert_eq!(m.duplicate_checkers, vec!["a"]);
        assert_eq!(m.duplicate_cards, vec!["b"]);
        assert!(!m.is_empty());
        assert!(match_ids(&["a", "b"], &["b", "a"]).is_empty());
    }

    fn card(id: &str) -> Card {
        let text = format!(
            "+++\nid = \"{id}\"\ntitle = \"t\"\nkind = \"bound\"\nexpected = \"holds\"\nas_printed = \"a\"\nprecise = \"p\"\nsource = \"s\"\n+++\n"
        );
        Card::parse(&format!("{id}.md"), &text).unwrap()
    }

    fn holds(_: &CheckContext) -> Result<Evidence, CheckError> {
        let mut ev = Evidence::new();
        ev.push(crate::claims::Measurement::new(
            "m",
            1.0,
            1.0,
            crate::claims::Relation::Exact,
        ));
        Ok(ev)
    }

    #[test]
    fn select_orders_by_registry_dedups_and_names_unknown_ids() {
        let checkers = [Checker { id: "z", run: holds }, Checker { id: "a", run: holds }];
        let cards = vec![card("a"), card("m"), card("z")];
        let all = select_from(cards.clone(), &checkers, &[]).unwrap();
        let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["z", "a", "m"]);
        let some = select_from(cards.clone(), &checkers, &["a".into(), "a".into()]).unwrap();
        assert_eq!(some.len(), 1);
        let err = select_from(cards, &checkers, &["nope".into()]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`nope`") && msg.contains("a, m, z"), "{msg}");
    }

    #[test]
    fn run_cards_keeps_card_order_and_flags_missing_checkers() {
        let checkers = [Checker { id: "a", run: holds }];
        let cards = vec![card("b"), card("a")];
        let count = std::sync::atomic::AtomicUsize::new(0);
        let runs = run_cards_with(&checkers, &cards, Mode::Quick, &|_| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(count.into_inner(), 2);
        assert_eq!(runs[0].card.id, "b");
        assert!(runs[0].result.is_err() && !runs[0].as_expected() && !runs[0].is_card_error());
        assert_eq!(runs[1].card.id, "a");
        assert!(runs[1].as_expected());
    }
}
