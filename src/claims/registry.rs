//! The registry: one [`Checker`] per theorem card, and the function that runs them.

use super::{card::all_cards, Card, CheckContext, CheckError, Evidence, Mode};
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
    all
}

/// The result of running one claim.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub card: Card,
    pub evidence: Evidence,
    /// True iff the evidence's verdict equals the card's `expected` verdict.
    pub as_expected: bool,
    pub seconds: f64,
}

/// Run the claim of `card` in `mode`.
///
/// # Errors
/// No checker has the card's id, or the checker failed (malformed card parameter, step error).
pub fn run_card(card: &Card, mode: Mode) -> Result<Outcome, CheckError> {
    let checker = registry()
        .into_iter()
        .find(|c| c.id == card.id)
        .ok_or_else(|| CheckError::Other(format!("no checker registered for card `{}`", card.id)))?;
    let start = Instant::now();
    let evidence = (checker.run)(&CheckContext::new(card, mode))?;
    Ok(Outcome {
        as_expected: evidence.verdict == card.expected,
        card: card.clone(),
        evidence,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The cards selected by `ids` (all when empty), in registry order.
///
/// # Errors
/// A malformed card, or an id that names no card.
pub fn select_cards(ids: &[String]) -> Result<Vec<Card>, CheckError> {
    let cards = all_cards()?;
    let order: Vec<&str> = registry().iter().map(|c| c.id).collect();
    let mut chosen: Vec<Card> = if ids.is_empty() {
        cards
    } else {
        let mut v = Vec::new();
        for id in ids {
            let c = cards.iter().find(|c| &c.id == id).ok_or_else(|| {
                let known: Vec<&str> = cards.iter().map(|c| c.id.as_str()).collect();
                CheckError::Other(format!(
                    "unknown claim `{id}`; known claims: {}",
                    known.join(", ")
                ))
            })?;
            v.push(c.clone());
        }
        v
    };
    chosen.sort_by_key(|c| order.iter().position(|id| *id == c.id).unwrap_or(usize::MAX));
    Ok(chosen)
}
