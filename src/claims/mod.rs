//! # The claims engine
//!
//! `theorems/*.md` say what is claimed (one card per claim: the statement as printed on the
//! slide, the precise statement from the primary source, hypotheses, kind, expected verdict,
//! the `[statement]` parameters and the `[[mutants]]` the check must reject, and check
//! parameters); one checker per card gathers [`Evidence`]; the [`engine`] concludes the
//! verdict from the evidence's roles and runs the mutants.
//!
//! Data flows one way: card → checker (runs `optim` on `problems`, compares with `theory`)
//! → [`Evidence`] → [`engine::conclude`] → `report`. A checker never writes a verdict or a
//! headline; the card's `expected` verdict is only compared with the engine's, never fed
//! into it.
//!
//! * [`evidence`]: measurements with roles (check, witness, context), figures,
//!   counterexamples;
//! * [`engine`]: the conclusion, the headline, the mutants;
//! * [`context`]: what a checker is given, with typed accessors of the card's tables;
//! * [`card`]: the theorem cards; [`registry`](mod@registry): one checker per card;
//! * [`common`]: machinery shared by checkers (statistics, recorded framework runs,
//!   trajectories).
//!
//! Checker modules, by topic:
//! * [`rates`]: GD, heavy-ball, NAG linear rates (claims.md 1–4);
//! * [`sgd`]: mini-batches, weight decay ≡ L2, ReLU rescaling, balancing (5–9);
//! * [`adaptive`]: AdaGrad, RMSProp, AdaDelta, Adam, AdamW (10–13), one file per card;
//! * [`adagrad_norm`]: Ward, Wu & Bottou's AdaGrad-Norm theory and its robustness to b₀ (14–20),
//!   one file per card.

pub mod adagrad_improvements;
pub mod adagrad_norm;
pub mod adaptive;
pub mod card;
pub mod common;
pub mod context;
pub mod engine;
pub mod evidence;
pub mod experiments;
pub mod other_methods;
pub mod rates;
pub mod registry;
pub mod sgd;

pub use card::{Card, CardError, Mutant};
pub use context::CheckContext;
pub use engine::{conclude, Conclusion, Judged, MutantOutcome};
pub use evidence::{
    Counterexample, Evidence, Figure, Kind, Measurement, Relation, Role, Series, Style, Verdict,
};
pub use registry::{registry, Checker};

use serde::{Deserialize, Serialize};

/// Quick (seconds, run by `cargo test`) or full (minutes, feeds the committed report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Quick,
    Full,
}

/// Errors a checker may raise (a malformed card, a failed step): never a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Step(#[from] crate::error::StepError),
    #[error(transparent)]
    Hyper(#[from] crate::error::HyperError),
    #[error("{0}")]
    Other(String),
}

/// A [`CheckError::Other`] from any displayable error (a problem that cannot be built, an
/// optimizer without the state a checker reads): `.map_err(other)`, `.ok_or_else(|| other(..))`.
pub(crate) fn other(e: impl std::fmt::Display) -> CheckError {
    CheckError::Other(e.to_string())
}

/// A memo of a checker's expensive runs, keyed by every parameter the runs depend on.
///
/// The engine runs a card's checker once for the statement and once per mutant; a mutant
/// perturbs the statement, not the data, so it reuses the runs (and quick and full mode, the
/// tests and the report in one process share what they have in common). The key must hold
/// everything the runs depend on (f64 parameters compared by value, or by their bits).
/// Runs are computed outside the lock: two threads asking for the same key may each compute
/// it (the same values, runs are deterministic) but never wait for each other's runs. A
/// linear search: a checker holds a handful to a few hundred entries, each the result of
/// seconds of work.
pub(crate) struct RunCache<K, V> {
    entries: std::sync::Mutex<Vec<(K, std::sync::Arc<V>)>>,
}

impl<K: PartialEq, V> RunCache<K, V> {
    /// An empty memo, for a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            entries: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The runs of `key`, computed by `run` on the first request.
    pub(crate) fn get_or_run(
        &self,
        key: K,
        run: impl FnOnce() -> Result<V, CheckError>,
    ) -> Result<std::sync::Arc<V>, CheckError> {
        let poisoned = || CheckError::Other("run cache poisoned".into());
        let found = self
            .entries
            .lock()
            .map_err(|_| poisoned())?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone());
        if let Some(v) = found {
            return Ok(v);
        }
        let v = std::sync::Arc::new(run()?);
        self.entries
            .lock()
            .map_err(|_| poisoned())?
            .push((key, v.clone()));
        Ok(v)
    }
}

/// A `[statement]` value outside the values the checker knows: a malformed card (exit status 2),
/// naming the card, the key, the value found and what it must be.
pub(crate) fn bad_statement(card: &str, key: &str, found: &str, expected: &'static str) -> CheckError {
    CheckError::Card(CardError::WrongType {
        card: card.into(),
        section: "statement".into(),
        key: format!("{key} (found {found:?})"),
        expected,
    })
}
