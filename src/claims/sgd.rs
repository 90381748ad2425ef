//! Checkers (see the module map in [`crate::claims`]).

use super::Checker;

/// The checkers of this module.
pub fn checkers() -> Vec<Checker> {
    Vec::new()
}
