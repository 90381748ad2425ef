//! Theorem cards: `theorems/<id>.md`, Markdown with TOML front matter between `+++` lines.
//!
//! The cards are compiled into the binary (see `build.rs`), so `optverify` runs from anywhere
//! and `cargo test` checks that cards and checkers match one to one.
//!
//! Front matter fields:
//! ```toml
//! id = "gd-rate"                 # equals the file stem and the checker id
//! title = "..."
//! kind = "asymptotic-rate"       # bound | asymptotic-rate | identity | counterexample | statistical | experiment
//! expected = "holds"             # holds | fails-as-printed | inconclusive: what the check found
//! as_printed = "..."             # quoted from the slide
//! precise = "..."                # from the primary source, with theorem number
//! hypotheses = ["...", "..."]
//! source = "lecture slide ...; Nesterov 2004, Thm 2.1.15"
//! [statement]                    # the parameters of the statement the card asserts holds
//! rate_scale = 1.0               #   (the printed one if it holds, else the corrected one)
//! [[mutants]]                    # small false perturbations the checker must reject
//! id = "rate-1pct-faster"
//! statement = "‖e_k‖ ≤ (0.99·(κ−1)/(κ+1))^k ‖e_0‖"
//! set = { rate_scale = 0.99 }    # overrides of [statement] keys only
//! [quick]                        # parameters of the quick mode (cargo test)
//! [full]                         # parameters of the full mode (the committed report)
//! ```
//! The Markdown body explains the check and argues every tolerance.
//!
//! A mutant may override only keys that `[statement]` declares, with a value of the same
//! type that differs from the declared one, and mutant ids are unique: anything else is a
//! malformed card (bad input, exit status 2).

use super::{Kind, Verdict};
use serde::{Deserialize, Serialize};

/// A false perturbation of the statement a card asserts; the checker must give it a
/// different verdict ("kill" it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutant {
    /// Unique within the card.
    pub id: String,
    /// The perturbed statement in words.
    pub statement: String,
    /// Overrides of the card's `[statement]` parameters.
    pub set: toml::Table,
}

/// A parsed theorem card.
#[derive(Debug, Clone, Deserialize)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub expected: Verdict,
    pub as_printed: String,
    pub precise: String,
    #[serde(default)]
    pub hypotheses: Vec<String>,
    pub source: String,
    /// Parameters of the statement the card asserts (what mutants perturb).
    #[serde(default)]
    pub statement: toml::Table,
    /// False perturbations the checker must reject.
    #[serde(default)]
    pub mutants: Vec<Mutant>,
    #[serde(default)]
    pub quick: toml::Table,
    #[serde(default)]
    pub full: toml::Table,
    /// The Markdown body after the front matter.
    #[serde(skip)]
    pub body: String,
    /// File name under `theorems/`.
    #[serde(skip)]
    pub file: String,
}

/// A card that cannot be read, or a parameter a checker needs that the card lacks.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CardError {
    #[error("theorems/{file}: {reason}")]
    Malformed { file: String, reason: String },
    #[error("theorems/{card}.md: the [{section}] table lacks parameter `{key}`")]
    MissingParam {
        card: String,
        /// `quick`, `full` or `statement`.
        section: String,
        key: String,
    },
    #[error("theorems/{card}.md: [{section}] parameter `{key}` must be {expected}")]
    WrongType {
        card: String,
        section: String,
        key: String,
        expected: &'static str,
    },
}

impl Card {
    /// Parse a card from its file name and text.
    pub fn parse(file: &str, text: &str) -> Result<Card, CardError> {
        let malformed = |reason: String| CardError::Malformed {
            file: file.to_string(),
            reason,
        };
        let rest = text
            .strip_prefix("+++\n")
            .ok_or_else(|| malformed("must start with a `+++` line (TOML front matter)".into()))?;
        let end = rest
            .find("\n+++\n")
            .or_else(|| rest.strip_suffix("\n+++").map(|s| s.len()))
            .ok_or_else(|| malformed("front matter is not closed by a `+++` line".into()))?;
        let (front, body) = rest.split_at(end);
        let body = body.trim_start_matches("\n+++").trim_start_matches('\n');
        let mut card: Card = toml::from_str(front).map_err(|e| malformed(e.to_string()))?;
        let stem = file.strip_suffix(".md").unwrap_or(file);
        if card.id != stem {
            return Err(malformed(format!(
                "id `{}` differs from the file stem `{stem}`",
                card.id
            )));
        }
        card.validate_mutants().map_err(malformed)?;
        card.body = body.to_string();
        card.file = file.to_string();
        Ok(card)
    }

    /// Mutant ids unique; each overrides declared `[statement]` keys with a value of the same
    /// type, at least one of them different.
    fn validate_mutants(&self) -> Result<(), String> {
        for (i, m) in self.mutants.iter().enumerate() {
            if m.id.trim().is_empty() {
                return Err(format!("mutant {} has an empty id", i + 1));
            }
            if self.mutants[..i].iter().any(|o| o.id == m.id) {
                return Err(format!("mutant id `{}` is used twice", m.id));
            }
            if m.statement.trim().is_empty() {
                return Err(format!("mutant `{}` has an empty statement", m.id));
            }
            if m.set.is_empty() {
                return Err(format!("mutant `{}` sets no [statement] parameter", m.id));
            }
            let mut differs = false;
            for (key, value) in &m.set {
                let declared = self.statement.get(key).ok_or_else(|| {
                    format!(
                        "mutant `{}` sets `{key}`, which [statement] does not declare (declared: {})",
                        m.id,
                        if self.statement.is_empty() {
                            "none".to_string()
                        } else {
                            self.statement.keys().cloned().collect::<Vec<_>>().join(", ")
                        }
                    )
                })?;
                if std::mem::discriminant(declared) != std::mem::discriminant(value) {
                    return Err(format!(
                        "mutant `{}` sets `{key}` to a {} but [statement] declares a {}",
                        m.id,
                        value.type_str(),
                        declared.type_str()
                    ));
                }
                differs |= declared != value;
            }
            if !differs {
                return Err(format!(
                    "mutant `{}` sets every parameter to its [statement] value: it is not a perturbation",
                    m.id
                ));
            }
        }
        Ok(())
    }

    /// The `[statement]` table with `mutant`'s overrides applied (the card's own statement
    /// for `None`).
    pub fn statement_for(&self, mutant: Option<&Mutant>) -> toml::Table {
        let mut t = self.statement.clone();
        if let Some(m) = mutant {
            for (k, v) in &m.set {
                t.insert(k.clone(), v.clone());
            }
        }
        t
    }
}

/// Every card compiled into the crate, in file-name order.
pub fn all_cards() -> Result<Vec<Card>, CardError> {
    CARD_SOURCES
        .iter()
        .map(|(file, text)| Card::parse(file, text))
        .collect()
}

// `CARD_SOURCES: &[(&str, &str)]`, generated by build.rs from theorems/*.md.
include!(concat!(env!("OUT_DIR"), "/cards.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: &str = "+++\nid = \"x\"\ntitle = \"t\"\nkind = \"bound\"\nexpected = \"holds\"\nas_printed = \"a\"\nprecise = \"p\"\nsource = \"s\"\n[quick]\nn = 3\n+++\nBody.\n";

    #[test]
    fn parses_front_matter_and_body() {
        let c = Card::parse("x.md", CARD).unwrap();
        assert_eq!(c.kind, Kind::Bound);
        assert_eq!(c.expected, Verdict::Holds);
        assert_eq!(c.quick.get("n").and_then(|v| v.as_integer()), Some(3));
        assert_eq!(c.body, "Body.\n");
    }

    #[test]
    fn rejects_id_that_differs_from_file() {
        assert!(matches!(
            Card::parse("y.md", CARD),
            Err(CardError::Malformed { .. })
        ));
    }

    fn with_mutants(extra: &str) -> Result<Card, CardError> {
        let text = CARD.replace("[quick]", &format!("{extra}\n[quick]"));
        Card::parse("x.md", &text)
    }

    #[test]
    fn parses_statement_and_mutants() {
        let c = with_mutants(
            "[statement]\nq = 1.0\n[[mutants]]\nid = \"m\"\nstatement = \"faster\"\nset = { q = 0.9 }",
        )
        .unwrap();
        assert_eq!(c.mutants.len(), 1);
        let st = c.statement_for(Some(&c.mutants[0]));
        assert_eq!(st.get("q").and_then(|v| v.as_float()), Some(0.9));
        assert_eq!(
            c.statement_for(None).get("q").and_then(|v| v.as_float()),
            Some(1.0)
        );
    }

    #[test]
    fn rejects_mutants_that_are_not_perturbations_of_the_statement() {
        let cases = [
            ("[statement]\nq = 1.0\n[[mutants]]\nid = \"m\"\nstatement = \"s\"\nset = { r = 0.9 }", "does not declare"),
            ("[statement]\nq = 1.0\n[[mutants]]\nid = \"m\"\nstatement = \"s\"\nset = { q = \"a\" }", "declares a float"),
            ("[statement]\nq = 1.0\n[[mutants]]\nid = \"m\"\nstatement = \"s\"\nset = { q = 1.0 }", "not a perturbation"),
            ("[statement]\nq = 1.0\n[[mutants]]\nid = \"m\"\nstatement = \"s\"\nset = {}", "sets no"),
            ("[statement]\nq = 1.0\n[[mutants]]\nid = \"m\"\nstatement = \"s\"\nset = { q = 0.5 }\n[[mutants]]\nid = \"m\"\nstatement = \"t\"\nset = { q = 0.4 }", "used twice"),
        ];
        for (extra, needle) in cases {
            let err = with_mutants(extra).unwrap_err().to_string();
            assert!(err.contains(needle), "{extra}: {err}");
        }
    }

    #[test]
    fn rejects_missing_front_matter() {
        assert!(Card::parse("x.md", "id = 1").is_err());
    }
}
