//! # Checkers for the slide "A few other optimization algorithms" (claims.md item 22)
//!
//! K-FAC, Adafactor, LARS and LAMB, as the lecture describes them in one sentence each. One
//! file per card (`theorems/<id>.md` ↔ `<id with _>.rs`).

mod adafactor_factored_moments;
mod kfac_fisher;
mod lamb_adamw_large_batch;
mod lars_layerwise_rate;

use super::{CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style};

/// The checkers of this area, one file each, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        kfac_fisher::CHECKER,
        adafactor_factored_moments::CHECKER,
        lars_layerwise_rate::CHECKER,
        lamb_adamw_large_batch::CHECKER,
    ]
}

fn other<E: std::fmt::Display>(e: E) -> CheckError {
    CheckError::Other(e.to_string())
}

/// A malformed `[statement]` value: the card names the key and what it must be.
fn bad_statement(card: &str, key: &str, found: &str, expected: &'static str) -> CheckError {
    CheckError::Card(crate::claims::CardError::WrongType {
        card: card.into(),
        section: "statement".into(),
        key: format!("{key} (found {found:?})"),
        expected,
    })
}
