//! Property tests and quick-mode runs of the rate claims (claims.md items 1–4).
//!
//! Random instances are built from a generated `seed` with ChaCha8; the generated *structure*
//! (κ, dimension, spectrum layout, start kind) is what proptest shrinks.

use optverify::claims::registry::{run_card, select_cards};
use optverify::claims::{Mode, Verdict};

/// Run one card in quick mode; print its table; assert the verdict is the card's expected one.
fn run_quick(id: &str) {
    let cards = select_cards(&[id.to_string()]).expect("card");
    let outcome = run_card(&cards[0], Mode::Quick).expect("checker runs");
    let ev = &outcome.evidence;
    eprintln!("[{id}] {} ({:.2}s): {}", ev.verdict, outcome.seconds, ev.headline);
    for m in &ev.measurements {
        eprintln!(
            "  {} {:<90} measured {:.6e} predicted {:.6e}  {}",
            if m.ok { "ok  " } else { "FAIL" },
            m.name,
            m.measured,
            m.predicted,
            m.note
        );
    }
    if let Some(r) = &ev.reason {
        eprintln!("  reason: {r}");
    }
    assert_eq!(
        ev.verdict, cards[0].expected,
        "{id}: verdict differs from the card"
    );
    if ev.verdict == Verdict::FailsAsPrinted {
        assert!(ev.counterexample.is_some() && ev.corrected_statement.is_some());
    }
}

#[test]
fn test_gd_rate_quick() {
    run_quick("gd-rate");
}

#[test]
fn test_heavy_ball_rate_quick() {
    run_quick("heavy-ball-rate");
}

#[test]
fn test_nag_rate_quick() {
    run_quick("nag-rate");
}

#[test]
fn test_acceleration_convex_quick() {
    run_quick("acceleration-convex");
}
