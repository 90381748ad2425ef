//! What a checker returns: [`Evidence`] — named [`Measurement`]s, each with a [`Role`],
//! figures, and (when the printed statement fails) a counterexample and the corrected
//! statement. A checker never writes a verdict or a headline: [`super::engine::conclude`]
//! derives both from the measurements' roles, the same way in quick and full mode.
//!
//! ## Roles
//! * [`Role::Check`] — something that must be true for the statement the card asserts to
//!   hold and for the evidence to be valid: the instances satisfy the hypotheses, two
//!   independent computations agree, the corrected statement holds on every instance, a
//!   required measurement could be made at all. A failed check makes the verdict
//!   *inconclusive*: the evidence cannot support either verdict.
//! * [`Role::Witness`] — the printed statement's assertion evaluated on an instance inside its
//!   hypotheses. Its relation is what the slide asserts; when the relation *fails* a witness
//!   was found (the counterexample, the cycle, the gap). A witness is wanted where the card
//!   says the printed statement fails, and must be absent where the card says it holds.
//! * [`Role::Context`] — outside the claim's hypotheses (a bound evaluated where the theorem
//!   does not promise it, a number for the reader): shown, never judged.

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
    /// A statement of a cited paper that the slide does not print: judged against its
    /// source, and never counted against the slide.
    SourceClaim,
}

/// The outcome of a check, as concluded by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check is ok and no witness against the printed statement was found.
    Holds,
    /// A witness against the printed statement was found; the counterexample and the
    /// corrected statement are attached and every check (the corrected statement's
    /// measurements among them) is ok.
    FailsAsPrinted,
    /// Neither could be established; the conclusion's reason says why.
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

impl Relation {
    /// Whether `measured` stands in this relation to `predicted` (NaN never does).
    pub fn holds(self, measured: f64, predicted: f64) -> bool {
        match self {
            Relation::AtMost => measured <= predicted,
            Relation::AtLeast => measured >= predicted,
            Relation::Approx { rel_tol } => crate::prec::rel_close(measured, predicted, rel_tol),
            Relation::Exact => measured.to_bits() == predicted.to_bits() || measured == predicted,
        }
    }

    /// The relation as a symbol: `≤`, `≥`, `≈` (with its tolerance), `=`.
    pub fn symbol(self) -> String {
        match self {
            Relation::AtMost => "≤".into(),
            Relation::AtLeast => "≥".into(),
            Relation::Approx { rel_tol } => format!("≈ (rel {rel_tol:.1e})"),
            Relation::Exact => "=".into(),
        }
    }
}

/// The part a measurement plays in the verdict (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Must be ok for the asserted statement to hold; a failure makes the verdict inconclusive.
    #[default]
    Check,
    /// The printed statement on one instance; a failed relation is a witness against it.
    Witness,
    /// Outside the hypotheses: shown, not judged.
    Context,
}

/// One named figure of a check: measured beside predicted, as PEPit prints them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub name: String,
    pub measured: f64,
    pub predicted: f64,
    pub relation: Relation,
    /// Whether the relation held. For a [`Role::Witness`], `false` means a witness was found.
    pub ok: bool,
    /// A short note: the instance, the tolerance argument.
    pub note: String,
    /// How the engine uses it.
    #[serde(default)]
    pub role: Role,
    /// Shown in the headline the engine writes.
    #[serde(default)]
    pub key: bool,
}

impl Measurement {
    /// A [`Role::Check`] measurement, with whether the relation holds evaluated.
    pub fn new(name: impl Into<String>, measured: f64, predicted: f64, relation: Relation) -> Self {
        Measurement {
            name: name.into(),
            measured,
            predicted,
            ok: relation.holds(measured, predicted),
            relation,
            note: String::new(),
            role: Role::Check,
            key: false,
        }
    }

    /// Attach a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Make it a [`Role::Witness`]: the relation is the printed statement's assertion, and a
    /// failed relation is a witness against it.
    pub fn witness(mut self) -> Self {
        self.role = Role::Witness;
        self
    }

    /// Make it [`Role::Context`]: outside the claim's hypotheses, reported but not judged.
    pub fn context(mut self) -> Self {
        self.role = Role::Context;
        self
    }

    /// Old name of [`Measurement::context`].
    pub fn as_context(self) -> Self {
        self.context()
    }

    /// Show it in the engine's headline.
    pub fn key(mut self) -> Self {
        self.key = true;
        self
    }

    /// True for a witness whose relation failed: a wanted violation was exhibited.
    pub fn witness_found(&self) -> bool {
        self.role == Role::Witness && !self.ok
    }

    /// True for a check whose relation failed.
    pub fn check_failed(&self) -> bool {
        self.role == Role::Check && !self.ok
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
    /// The lower edge of a confidence band. The next [`Style::BandUpper`] series closes it:
    /// the region between them is filled in the colour of the line whose label the band's
    /// label starts with (see [`crate::claims::common::stats::t_band`]).
    BandLower,
    /// The upper edge of the band opened by the preceding [`Style::BandLower`].
    BandUpper,
    /// One row of a heat map: `x` are the column coordinates, `y` the cell values, the label
    /// names the row. A figure whose series are all heat rows is drawn as a grid of coloured,
    /// annotated cells (rows bottom to top in series order; `log_y` gives a logarithmic colour
    /// scale); `x_label` names the columns and `y_label` the rows.
    HeatRow,
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

/// What a checker returns. It holds no verdict and no headline: the engine concludes both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub measurements: Vec<Measurement>,
    pub figures: Vec<Figure>,
    /// The instance on which the printed statement fails, when a witness was found.
    pub counterexample: Option<Counterexample>,
    /// The corrected statement; its own measurements are [`Role::Check`]s among
    /// `measurements`.
    pub corrected_statement: Option<String>,
    /// Remarks that qualify the result (what the check does not cover, how a number reads).
    pub remarks: Option<String>,
    /// Number of instances (problems × starts × seeds) examined.
    pub instances: u64,
}

impl Evidence {
    /// Empty evidence.
    pub fn new() -> Self {
        Evidence::default()
    }

    /// Add a measurement and return whether its relation held.
    pub fn push(&mut self, m: Measurement) -> bool {
        let ok = m.ok;
        self.measurements.push(m);
        ok
    }

    /// Whether any witness against the printed statement was found.
    pub fn witness_found(&self) -> bool {
        self.measurements.iter().any(Measurement::witness_found)
    }
}
