//! # The claims engine
//!
//! `theorems/*.md` say what is claimed (one card per claim: the statement as printed on the
//! slide, the precise statement from the primary source, hypotheses, kind, expected verdict,
//! and check parameters); this module runs one checker per card and returns [`Evidence`].
//!
//! Data flows one way: card → checker (runs `optim` on `problems`, compares with `theory`)
//! → [`Evidence`] → `report`. A checker computes its verdict from what it measures; the
//! card's `expected` verdict is only compared against it, never fed into it.
//!
//! Checker modules, by topic:
//! * [`rates`]: GD, heavy-ball, NAG linear rates (claims.md 1–4);
//! * [`sgd`]: mini-batches, weight decay ≡ L2, ReLU rescaling, balancing (5–9);
//! * [`adaptive`]: AdaGrad, RMSProp, AdaDelta, Adam, AdamW (10–13);
//! * [`adagrad_norm`]: Ward, Wu & Bottou's AdaGrad-Norm theory (14–20);
//! * [`adagrad_norm_robustness`]: AdaGrad-Norm's robustness to b₀ against SGD with step 1/b₀ (20).

pub mod adagrad_norm;
pub mod adagrad_norm_robustness;
pub mod adaptive;
pub mod card;
pub mod rates;
pub mod registry;
pub mod sgd;

pub use card::{Card, CardError};
pub use registry::{registry, Checker};

use serde::{Deserialize, Serialize};
use std::fmt;

/// What sort of statement a claim is; decides how it is checked and what a verdict means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Holds at every step/instance: one violation beyond rounding falsifies it.
    Bound,
    /// A limit such as lim ‖e_k‖^{1/k} = q: checked by closed form and trajectory fits.
    AsymptoticRate,
    /// Two computations agree exactly or to a rounding bound.
    Identity,
    /// The claim is that some instance behaves badly; the checker exhibits it.
    Counterexample,
    /// A statement about expectations, checked with confidence intervals over seeds.
    Statistical,
    /// A reproduced experiment (figure); qualitative verdict.
    Experiment,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The statement as printed holds on every instance tried (and, where applicable, the
    /// closed form agrees).
    Holds,
    /// The statement as printed is false: a counterexample is attached, with the corrected
    /// statement and the evidence that it holds.
    FailsAsPrinted,
    /// Neither could be established; `Evidence::reason` says why.
    Inconclusive,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::FailsAsPrinted => "fails-as-printed",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// How a measured value is compared with the predicted one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// measured ≤ predicted (an upper bound).
    AtMost,
    /// measured ≥ predicted (a lower bound).
    AtLeast,
    /// |measured − predicted| ≤ tol · max(|measured|, |predicted|).
    Approx { rel_tol: f64 },
    /// bit-for-bit equality (e.g. an identity in f64).
    Exact,
}

/// One named figure of a check: measured beside predicted, as PEPit prints them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub name: String,
    pub measured: f64,
    pub predicted: f64,
    pub relation: Relation,
    /// Whether the relation held.
    pub ok: bool,
    /// A short note: the instance, the tolerance argument.
    pub note: String,
    /// True for a measurement that documents behaviour outside the claim's hypotheses (e.g. a
    /// bound evaluated where the theorem does not promise it). It is reported, but it is not
    /// evidence for or against the claim, so a `Holds` verdict does not require it to be ok.
    #[serde(default)]
    pub context: bool,
}

impl Measurement {
    /// Build a measurement and evaluate whether the relation holds.
    pub fn new(name: impl Into<String>, measured: f64, predicted: f64, relation: Relation) -> Self {
        let ok = match relation {
            Relation::AtMost => measured <= predicted,
            Relation::AtLeast => measured >= predicted,
            Relation::Approx { rel_tol } => crate::prec::rel_close(measured, predicted, rel_tol),
            Relation::Exact => measured.to_bits() == predicted.to_bits() || measured == predicted,
        };
        Measurement {
            name: name.into(),
            measured,
            predicted,
            relation,
            ok,
            note: String::new(),
            context: false,
        }
    }

    /// Attach a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Mark as context: outside the claim's hypotheses, reported but not part of the verdict.
    pub fn as_context(mut self) -> Self {
        self.context = true;
        self
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Style {
    /// A measured trajectory: solid line.
    Line,
    /// A prediction (rate line, bound envelope): dashed line.
    Predicted,
    /// Individual instances: markers.
    Points,
}

/// A named (x, y) series for a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    pub style: Style,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// A figure of a claim's report page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// File stem, unique within the claim (the SVG is `figures/<claim-id>-<id>.svg`).
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    /// One or two sentences telling the reader what to see.
    pub caption: String,
}

/// The smallest instance found on which the statement as printed fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The instance in words, with exact values.
    pub description: String,
    /// The instance's parameters, name → value.
    pub values: Vec<(String, f64)>,
    /// How it was found (proptest shrinking, exhaustive small search, closed form).
    pub found_by: String,
}

/// What a checker returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub verdict: Verdict,
    /// One line: the key measured vs predicted figure.
    pub headline: String,
    pub measurements: Vec<Measurement>,
    pub figures: Vec<Figure>,
    /// Present iff the verdict is `FailsAsPrinted`.
    pub counterexample: Option<Counterexample>,
    /// The corrected statement that holds (with `FailsAsPrinted`), and its own measurements
    /// are among `measurements`.
    pub corrected_statement: Option<String>,
    /// Why the verdict is `Inconclusive`, or remarks that qualify a `Holds`.
    pub reason: Option<String>,
    /// Number of instances (problems × starts × seeds) examined.
    pub instances: u64,
}

impl Evidence {
    /// Evidence with the given verdict and headline and nothing else yet.
    pub fn new(verdict: Verdict, headline: impl Into<String>) -> Self {
        Evidence {
            verdict,
            headline: headline.into(),
            measurements: Vec::new(),
            figures: Vec::new(),
            counterexample: None,
            corrected_statement: None,
            reason: None,
            instances: 0,
        }
    }
}

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

/// What a checker is given: the card (with the parameters of the chosen mode) and the mode.
pub struct CheckContext<'a> {
    pub card: &'a Card,
    pub mode: Mode,
    params: &'a toml::Table,
}

impl<'a> CheckContext<'a> {
    /// Context for `card` in `mode`.
    pub fn new(card: &'a Card, mode: Mode) -> Self {
        let params = match mode {
            Mode::Quick => &card.quick,
            Mode::Full => &card.full,
        };
        CheckContext { card, mode, params }
    }

    fn get(&self, key: &str) -> Result<&toml::Value, CardError> {
        self.params.get(key).ok_or_else(|| CardError::MissingParam {
            card: self.card.id.clone(),
            mode: self.mode,
            key: key.to_string(),
        })
    }

    fn wrong(&self, key: &str, expected: &'static str) -> CardError {
        CardError::WrongType {
            card: self.card.id.clone(),
            key: key.to_string(),
            expected,
        }
    }

    /// A float parameter (integers are accepted and converted).
    pub fn f64(&self, key: &str) -> Result<f64, CardError> {
        match self.get(key)? {
            toml::Value::Float(x) => Ok(*x),
            toml::Value::Integer(i) => Ok(*i as f64),
            _ => Err(self.wrong(key, "a number")),
        }
    }

    /// A non-negative integer parameter.
    pub fn usize(&self, key: &str) -> Result<usize, CardError> {
        match self.get(key)? {
            toml::Value::Integer(i) if *i >= 0 => Ok(*i as usize),
            _ => Err(self.wrong(key, "a non-negative integer")),
        }
    }

    /// A u64 parameter (seeds).
    pub fn u64(&self, key: &str) -> Result<u64, CardError> {
        self.usize(key).map(|v| v as u64)
    }

    /// An array of numbers.
    pub fn f64s(&self, key: &str) -> Result<Vec<f64>, CardError> {
        match self.get(key)? {
            toml::Value::Array(a) => a
                .iter()
                .map(|v| match v {
                    toml::Value::Float(x) => Ok(*x),
                    toml::Value::Integer(i) => Ok(*i as f64),
                    _ => Err(self.wrong(key, "an array of numbers")),
                })
                .collect(),
            _ => Err(self.wrong(key, "an array of numbers")),
        }
    }

    /// An array of non-negative integers.
    pub fn usizes(&self, key: &str) -> Result<Vec<usize>, CardError> {
        match self.get(key)? {
            toml::Value::Array(a) => a
                .iter()
                .map(|v| match v {
                    toml::Value::Integer(i) if *i >= 0 => Ok(*i as usize),
                    _ => Err(self.wrong(key, "an array of non-negative integers")),
                })
                .collect(),
            _ => Err(self.wrong(key, "an array of non-negative integers")),
        }
    }

    /// A string parameter.
    pub fn str(&self, key: &str) -> Result<&str, CardError> {
        match self.get(key)? {
            toml::Value::String(s) => Ok(s),
            _ => Err(self.wrong(key, "a string")),
        }
    }
}
