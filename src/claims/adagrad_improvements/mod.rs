//! # Checkers for the adaptive-method slides beyond the update rules themselves (which
//! `adaptive` checks): how RMSProp's preconditioner weights past gradients, and Adam's ε̂ order.
//! One file per card (`theorems/<id>.md` ↔ `<id with _>.rs`).

mod adam_eps_hat_order;
mod rmsprop_current_weight;

use super::{
    bad_statement, other, CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series,
    Style,
};

/// The checkers of this area, one file each, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![rmsprop_current_weight::CHECKER, adam_eps_hat_order::CHECKER]
}
