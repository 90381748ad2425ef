//! Run one claim (a theorem card) in quick mode and print its evidence.
//!
//! `cargo run --release --example run_claim [CLAIM_ID]` (default: the first card; `optverify
//! list` lists the ids).

use optverify::claims::{card::all_cards, registry::run_card, Mode};

fn main() {
    let cards = all_cards().expect("the theorem cards parse");
    let id = std::env::args().nth(1);
    let Some(card) = cards.iter().find(|c| id.as_deref().is_none_or(|id| c.id == id)) else {
        eprintln!(
            "unknown claim {id:?}; known: {}",
            cards.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
        );
        std::process::exit(2);
    };
    match run_card(card, Mode::Quick) {
        Err(e) => {
            eprintln!("{}: {e}", card.id);
            std::process::exit(1);
        }
        Ok(outcome) => {
            println!(
                "{}: {:?} (expected {:?})",
                card.id,
                outcome.verdict(),
                card.expected
            );
            for m in &outcome.evidence().measurements {
                println!(
                    "  [{:?}] {}: measured {:.6e} {:?} predicted {:.6e} → {}",
                    m.role,
                    m.name,
                    m.measured,
                    m.relation,
                    m.predicted,
                    if m.ok { "ok" } else { "not ok" }
                );
            }
        }
    }
}
