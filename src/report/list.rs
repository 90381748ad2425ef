//! What `optverify list` prints: the claims (from the theorem cards), the optimizers and the
//! problems of the crate.

use crate::claims::card::all_cards;
use crate::claims::{CardError, Kind, Verdict};
use crate::optim::CatalogueEntry;
use crate::problems::ProblemEntry;
use serde::Serialize;
use std::fmt::Write as _;

/// One claim of the listing.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimEntry {
    pub id: String,
    pub kind: Kind,
    pub expected: Verdict,
    pub title: String,
}

/// Everything `optverify list` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub claims: Vec<ClaimEntry>,
    pub optimizers: Vec<CatalogueEntry>,
    pub problems: Vec<ProblemEntry>,
}

/// The listing of the crate: every card, every optimizer, every problem family.
///
/// # Errors
/// A malformed card.
pub fn listing() -> Result<Listing, CardError> {
    let claims = all_cards()?
        .into_iter()
        .map(|c| ClaimEntry {
            id: c.id,
            kind: c.kind,
            expected: c.expected,
            title: c.title,
        })
        .collect();
    Ok(Listing {
        claims,
        optimizers: crate::optim::catalogue(),
        problems: crate::problems::catalogue(),
    })
}

fn kind_name(k: Kind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Listing {
    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a listing is plain data");
        s.push('\n');
        s
    }

    /// Plain text: one section per catalogue, one aligned line per entry.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Claims ({}):", self.claims.len());
        let id_w = self
            .claims
            .iter()
            .map(|c| c.id.chars().count())
            .max()
            .unwrap_or(0);
        for c in &self.claims {
            let _ = writeln!(
                s,
                "  {:<id_w$}  {:<15}  expected {:<16}  {}",
                c.id,
                kind_name(c.kind),
                c.expected.to_string(),
                c.title
            );
        }
        let _ = writeln!(s, "\nOptimizers ({}):", self.optimizers.len());
        let name_w = self.optimizers.iter().map(|o| o.name.len()).max().unwrap_or(0);
        for o in &self.optimizers {
            let _ = writeln!(s, "  {:<name_w$}  {}", o.name, o.description);
            if !o.variants.is_empty() {
                let _ = writeln!(s, "  {:<name_w$}  variants: {}", "", o.variants.join("; "));
            }
        }
        let _ = writeln!(s, "\nProblems ({}):", self.problems.len());
        let name_w = self.problems.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &self.problems {
            let _ = writeln!(s, "  {:<name_w$}  {}", p.name, p.description);
            let _ = writeln!(s, "  {:<name_w$}  constants: {}", "", p.constants);
        }
        s
    }
}
