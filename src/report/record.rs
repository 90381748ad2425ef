//! The records written to `results.json` (and printed by `verify --json`): every card and its
//! evidence, in a form that survives a JSON round trip.
//!
//! The records mirror [`Evidence`](crate::claims::Evidence) field for field (same names, same JSON shape), with one
//! difference: a float is a [`JsonF64`], written as a JSON number when finite and as the
//! string `"NaN"`, `"inf"` or `"-inf"` otherwise (serde_json would write `null`, which
//! cannot be read back as a float). Finite floats are written in the shortest form that
//! parses back to the same f64, so results.json is exact and deterministic.
//!
//! The Markdown pages and the SVG figures are drawn from these records only, so a report can
//! be rebuilt from a results.json alone.

use crate::claims::registry::ClaimRun;
use crate::claims::{
    Card, Counterexample, Figure, Judged, Kind, Measurement, Mode, MutantOutcome, Relation, Role, Series,
    Style, Verdict,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An f64 that JSON can carry even when it is NaN or infinite.
#[derive(Debug, Clone, Copy)]
pub struct JsonF64(pub f64);

impl PartialEq for JsonF64 {
    /// Bit-for-bit equality, except that every NaN equals every NaN.
    fn eq(&self, other: &Self) -> bool {
        (self.0.is_nan() && other.0.is_nan()) || self.0.to_bits() == other.0.to_bits()
    }
}

impl Serialize for JsonF64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            s.serialize_f64(x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

impl<'de> Deserialize<'de> for JsonF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(f64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Number(x) => Ok(JsonF64(x)),
            Repr::Text(t) => match t.as_str() {
                "NaN" => Ok(JsonF64(f64::NAN)),
                "inf" => Ok(JsonF64(f64::INFINITY)),
                "-inf" => Ok(JsonF64(f64::NEG_INFINITY)),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, \"NaN\", \"inf\" or \"-inf\", found \"{other}\""
                ))),
            },
        }
    }
}

fn floats(v: &[f64]) -> Vec<JsonF64> {
    v.iter().copied().map(JsonF64).collect()
}

/// Mirror of [`Measurement`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementRecord {
    pub name: String,
    pub measured: JsonF64,
    pub predicted: JsonF64,
    pub relation: Relation,
    /// Whether the relation held (for a witness: `false` means a witness was found).
    pub ok: bool,
    pub note: String,
    /// Check, witness or context.
    pub role: Role,
    /// Shown in the headline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key: bool,
}

/// Mirror of [`Series`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRecord {
    pub label: String,
    pub style: Style,
    pub x: Vec<JsonF64>,
    pub y: Vec<JsonF64>,
    /// The series' length before [`super::thin`] reduced it to its envelope (absent if not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinned_from: Option<usize>,
}

/// Mirror of [`Figure`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureRecord {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<SeriesRecord>,
    pub caption: String,
}

/// Mirror of [`Counterexample`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterexampleRecord {
    pub description: String,
    pub values: Vec<(String, JsonF64)>,
    pub found_by: String,
}

/// Mirror of [`Judged`]: the engine's conclusion, the checker's evidence and the mutants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// Concluded by the engine from the measurements' roles.
    pub verdict: Verdict,
    /// Written by the engine from the key measurements.
    pub headline: String,
    /// Why the verdict is inconclusive.
    pub reason: Option<String>,
    pub measurements: Vec<MeasurementRecord>,
    pub figures: Vec<FigureRecord>,
    pub counterexample: Option<CounterexampleRecord>,
    pub corrected_statement: Option<String>,
    /// The checker's remarks qualifying the result.
    pub remarks: Option<String>,
    pub instances: u64,
    /// Every mutant of the card and whether the check rejected it.
    pub mutants: Vec<MutantOutcome>,
}

impl EvidenceRecord {
    /// (killed, total) mutants.
    pub fn mutants_killed(&self) -> (usize, usize) {
        (
            self.mutants.iter().filter(|m| m.killed).count(),
            self.mutants.len(),
        )
    }
}

impl From<&Measurement> for MeasurementRecord {
    fn from(m: &Measurement) -> Self {
        MeasurementRecord {
            name: m.name.clone(),
            measured: JsonF64(m.measured),
            predicted: JsonF64(m.predicted),
            relation: m.relation,
            ok: m.ok,
            note: m.note.clone(),
            role: m.role,
            key: m.key,
        }
    }
}

impl From<&Series> for SeriesRecord {
    fn from(s: &Series) -> Self {
        SeriesRecord {
            label: s.label.clone(),
            style: s.style,
            x: floats(&s.x),
            y: floats(&s.y),
            thinned_from: None,
        }
    }
}

impl From<&Figure> for FigureRecord {
    /// The figure with its long lines thinned ([`super::thin`]).
    fn from(f: &Figure) -> Self {
        let mut record = FigureRecord {
            id: f.id.clone(),
            title: f.title.clone(),
            x_label: f.x_label.clone(),
            y_label: f.y_label.clone(),
            log_x: f.log_x,
            log_y: f.log_y,
            series: f.series.iter().map(SeriesRecord::from).collect(),
            caption: f.caption.clone(),
        };
        super::thin::thin_figure(&mut record);
        record
    }
}

impl From<&Counterexample> for CounterexampleRecord {
    fn from(c: &Counterexample) -> Self {
        CounterexampleRecord {
            description: c.description.clone(),
            values: c.values.iter().map(|(k, v)| (k.clone(), JsonF64(*v))).collect(),
            found_by: c.found_by.clone(),
        }
    }
}

impl From<&Judged> for EvidenceRecord {
    fn from(j: &Judged) -> Self {
        let e = &j.evidence;
        EvidenceRecord {
            verdict: j.conclusion.verdict,
            headline: j.conclusion.headline.clone(),
            reason: j.conclusion.reason.clone(),
            measurements: e.measurements.iter().map(MeasurementRecord::from).collect(),
            figures: e.figures.iter().map(FigureRecord::from).collect(),
            counterexample: e.counterexample.as_ref().map(CounterexampleRecord::from),
            corrected_statement: e.corrected_statement.clone(),
            remarks: e.remarks.clone(),
            instances: e.instances,
            mutants: j.mutants.clone(),
        }
    }
}

/// A theorem card as written to JSON: its front matter, the parameters of the mode that ran,
/// and its Markdown body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardRecord {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub expected: Verdict,
    pub as_printed: String,
    pub precise: String,
    pub hypotheses: Vec<String>,
    pub source: String,
    /// File name under `theorems/`.
    pub file: String,
    /// The `[quick]` or `[full]` table of the card, whichever ran.
    pub params: serde_json::Value,
    pub body: String,
}

impl CardRecord {
    /// The record of `card`, with the parameters of `mode`.
    pub fn new(card: &Card, mode: Mode) -> Self {
        let params = match mode {
            Mode::Quick => &card.quick,
            Mode::Full => &card.full,
        };
        CardRecord {
            id: card.id.clone(),
            title: card.title.clone(),
            kind: card.kind,
            expected: card.expected,
            as_printed: card.as_printed.clone(),
            precise: card.precise.clone(),
            hypotheses: card.hypotheses.clone(),
            source: card.source.clone(),
            file: card.file.clone(),
            // A TOML table always converts (a non-finite float becomes null).
            params: serde_json::to_value(params).unwrap_or(serde_json::Value::Null),
            body: card.body.clone(),
        }
    }
}

/// One claim: its card, and the evidence or the error of its checker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub card: CardRecord,
    /// True iff the evidence's verdict is the card's expected one.
    pub as_expected: bool,
    pub evidence: Option<EvidenceRecord>,
    /// Why the checker returned no evidence.
    pub error: Option<String>,
    /// Wall-clock seconds of the check: printed by `verify --json`, never written to the
    /// committed report (it would change on every run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

impl ClaimRecord {
    /// The record of a run; `with_time` keeps its wall-clock time.
    pub fn new(run: &ClaimRun, mode: Mode, with_time: bool) -> Self {
        let (evidence, error) = match &run.result {
            Ok(e) => (Some(EvidenceRecord::from(e)), None),
            Err(err) => (None, Some(err.to_string())),
        };
        ClaimRecord {
            card: CardRecord::new(&run.card, mode),
            as_expected: run.as_expected(),
            evidence,
            error,
            seconds: with_time.then_some(run.seconds),
        }
    }

    /// The verdict, if the checker returned evidence.
    pub fn verdict(&self) -> Option<Verdict> {
        self.evidence.as_ref().map(|e| e.verdict)
    }
}

/// Counts of verdicts over a set of claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub claims: usize,
    pub holds: usize,
    pub fails_as_printed: usize,
    pub inconclusive: usize,
    /// Claims whose checker returned an error.
    pub errors: usize,
    /// Statements of cited sources the slide does not print (kind `source-claim`), counted
    /// apart from the slide's: how many, how many hold, how many fail as the source states them.
    #[serde(default)]
    pub sources: usize,
    #[serde(default)]
    pub sources_hold: usize,
    #[serde(default)]
    pub sources_fail: usize,
    /// Mutants rejected by their checks, over all claims.
    pub mutants_killed: usize,
    /// Mutants over all claims.
    pub mutants: usize,
    /// Ids of the claims whose verdict is not the card's expected one (errors included).
    pub not_as_expected: Vec<String>,
}

impl Summary {
    /// Count the verdicts of `claims`.
    pub fn of(claims: &[ClaimRecord]) -> Self {
        let is_source = |c: &&ClaimRecord| c.card.kind == Kind::SourceClaim;
        let count = |v: Verdict| {
            claims
                .iter()
                .filter(|c| !is_source(c) && c.verdict() == Some(v))
                .count()
        };
        let sources = |v: Verdict| {
            claims
                .iter()
                .filter(|c| is_source(c) && c.verdict() == Some(v))
                .count()
        };
        Summary {
            sources: claims.iter().filter(is_source).count(),
            sources_hold: sources(Verdict::Holds),
            sources_fail: sources(Verdict::FailsAsPrinted),
            claims: claims.len(),
            holds: count(Verdict::Holds),
            fails_as_printed: count(Verdict::FailsAsPrinted),
            inconclusive: count(Verdict::Inconclusive),
            errors: claims.iter().filter(|c| c.evidence.is_none()).count(),
            mutants_killed: claims
                .iter()
                .filter_map(|c| c.evidence.as_ref())
                .map(|e| e.mutants_killed().0)
                .sum(),
            mutants: claims
                .iter()
                .filter_map(|c| c.evidence.as_ref())
                .map(|e| e.mutants.len())
                .sum(),
            not_as_expected: claims
                .iter()
                .filter(|c| !c.as_expected)
                .map(|c| c.card.id.clone())
                .collect(),
        }
    }

    /// True iff every claim got its expected verdict.
    pub fn all_as_expected(&self) -> bool {
        self.not_as_expected.is_empty()
    }

    /// "N claims: a hold, b fail as printed, c inconclusive; all as expected" (or which
    /// claims are not as expected, and how many checkers failed).
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} claim{}: {} hold, {} fail as printed, {} inconclusive",
            self.claims,
            if self.claims == 1 { "" } else { "s" },
            self.holds,
            self.fails_as_printed,
            self.inconclusive
        );
        if self.sources > 0 {
            s.push_str(&format!(
                " (the slide's statements); {} statement{} of cited sources: {} hold, {} fail as the source states {}",
                self.sources,
                if self.sources == 1 { "" } else { "s" },
                self.sources_hold,
                self.sources_fail,
                if self.sources_fail == 1 { "it" } else { "them" }
            ));
        }
        if self.errors > 0 {
            s.push_str(&format!(
                ", {} checker error{}",
                self.errors,
                if self.errors == 1 { "" } else { "s" }
            ));
        }
        s.push_str(&format!(
            "; mutants killed {}/{}",
            self.mutants_killed, self.mutants
        ));
        if self.all_as_expected() {
            s.push_str("; all as expected");
        } else {
            s.push_str(&format!(
                "; {} not as expected: {}",
                self.not_as_expected.len(),
                self.not_as_expected.join(", ")
            ));
        }
        s
    }
}

/// Everything a report is made of: what `results.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// The crate version that produced the results.
    pub optverify_version: String,
    pub mode: Mode,
    /// The command that regenerates these results.
    pub command: String,
    pub summary: Summary,
    /// Every claim, in registry order.
    pub claims: Vec<ClaimRecord>,
    /// Which shard of a split run these are (`--shard i/n`; absent for a whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::shard::Shard>,
}

impl Results {
    /// The results of `runs` in `mode`, regenerated by `command`; `with_time` keeps the
    /// wall-clock times (for `verify --json`, never for the committed report).
    pub fn new(runs: &[ClaimRun], mode: Mode, command: impl Into<String>, with_time: bool) -> Self {
        let claims: Vec<ClaimRecord> = runs
            .iter()
            .map(|r| ClaimRecord::new(r, mode, with_time))
            .collect();
        Results {
            optverify_version: crate::VERSION.to_string(),
            mode,
            command: command.into(),
            summary: Summary::of(&claims),
            claims,
            shard: None,
        }
    }

    /// Pretty JSON with a final newline (floats shortest round-trip, non-finite as strings).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("records contain only JSON-representable data");
        s.push('\n');
        s
    }
}

/// The name of a mode as printed: `quick` or `full`.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Quick => "quick",
        Mode::Full => "full",
    }
}
