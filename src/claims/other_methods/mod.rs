//! # Checkers for the slide "A few other optimization algorithms" (claims.md item 22)
//!
//! K-FAC, Adafactor, LARS and LAMB, as the lecture describes them in one sentence each. One
//! file per card (`theorems/<id>.md` ↔ `<id with _>.rs`).

mod adafactor_factored_moments;
mod kfac_fisher;
mod lamb_adamw_large_batch;
mod lars_layerwise_rate;

use super::{
    bad_statement, other, CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series,
    Style,
};

/// The checkers of this area, one file each, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        kfac_fisher::CHECKER,
        adafactor_factored_moments::CHECKER,
        lars_layerwise_rate::CHECKER,
        lamb_adamw_large_batch::CHECKER,
    ]
}
