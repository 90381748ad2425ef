//! Shared by the per-topic theorem test files: run one claim in quick mode and assert the
//! card's expected verdict, with the evidence printed on failure (`cargo test -- --nocapture`
//! prints it always). `tests/claims.rs` asserts the same for all claims at once; the
//! per-claim tests say which claim regressed by their name.

use optverify::claims::card::all_cards;
use optverify::claims::registry::run_card;
use optverify::claims::{Mode, Verdict};

/// Run claim `id` in quick mode; panic unless it gets its card's expected verdict (and, when
/// it fails as printed, carries a counterexample and a corrected statement).
pub fn assert_quick_verdict(id: &str) {
    assert_verdict(id, Mode::Quick);
}

/// As [`assert_quick_verdict`], in `mode` (full mode: the committed report's parameters).
#[allow(dead_code)] // not every test file runs a full mode
pub fn assert_verdict(id: &str, mode: Mode) {
    let cards = all_cards().expect("cards parse");
    let card = cards.iter().find(|c| c.id == id).expect("card exists");
    let out = run_card(card, mode).expect("checker runs");
    let ev = out.evidence();
    let c = &out.judged.conclusion;
    eprintln!("[{id}] {} ({:.2}s): {}", c.verdict, out.seconds, c.headline);
    for m in &ev.measurements {
        eprintln!(
            "  {:?} {} {:<90} measured {:.6e} predicted {:.6e}  {}",
            m.role,
            if m.ok { "ok  " } else { "FAIL" },
            m.name,
            m.measured,
            m.predicted,
            m.note
        );
    }
    if let Some(r) = &c.reason {
        eprintln!("  reason: {r}");
    }
    for m in &out.judged.mutants {
        eprintln!(
            "  mutant {} killed={} verdict={:?} {}",
            m.id, m.killed, m.verdict, m.statement
        );
    }
    assert!(
        out.as_expected,
        "{id}: verdict {} but card expects {}",
        c.verdict, card.expected
    );
    if c.verdict == Verdict::FailsAsPrinted {
        assert!(ev.counterexample.is_some() && ev.corrected_statement.is_some());
    }
    for m in &out.judged.mutants {
        assert!(m.killed, "{id}: mutant `{}` survived ({:?})", m.id, m.verdict);
    }
}
