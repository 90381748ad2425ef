//! # Checkers for the slide "AdaGrad improvements: RMSProp and AdaDelta" beyond the update
//! rules themselves (which `adaptive` checks): how the preconditioners weight past gradients.
//! One file per card (`theorems/<id>.md` ↔ `<id with _>.rs`).

mod rmsprop_current_weight;

use super::{CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style};

/// The checkers of this area, one file each, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![rmsprop_current_weight::CHECKER]
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
