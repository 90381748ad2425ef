//! Claims 10–13 (AdaGrad, RMSProp, AdaDelta, Adam, AdamW): every card's quick mode gives its
//! expected verdict, plus property tests of the closed forms the checkers rely on.

use optverify::claims::card::all_cards;
use optverify::claims::registry::run_card;
use optverify::claims::{Mode, Verdict};

fn run(id: &str) {
    let cards = all_cards().expect("cards parse");
    let card = cards.iter().find(|c| c.id == id).expect("card exists");
    let out = run_card(card, Mode::Quick).expect("checker runs");
    for m in &out.evidence.measurements {
        eprintln!(
            "  {} measured {:e} predicted {:e} ok {} {}",
            m.name, m.measured, m.predicted, m.ok, m.note
        );
    }
    eprintln!(
        "{id}: {} — {} ({:.2}s)",
        out.evidence.verdict, out.evidence.headline, out.seconds
    );
    assert!(
        out.as_expected,
        "{id}: verdict {} but card expects {}",
        out.evidence.verdict, card.expected
    );
    if out.evidence.verdict == Verdict::FailsAsPrinted {
        assert!(out.evidence.counterexample.is_some() && out.evidence.corrected_statement.is_some());
    }
}

#[test]
fn adagrad_definition() {
    run("adagrad-definition");
}
#[test]
fn rmsprop_as_printed() {
    run("rmsprop-as-printed");
}
#[test]
fn adadelta_units() {
    run("adadelta-units");
}
#[test]
fn adam_bias_correction() {
    run("adam-bias-correction");
}
#[test]
fn adam_defaults() {
    run("adam-defaults");
}
#[test]
fn adam_effective_step() {
    run("adam-effective-step");
}
#[test]
fn adam_scale_invariance() {
    run("adam-scale-invariance");
}
#[test]
fn adamw_as_printed() {
    run("adamw-as-printed");
}
#[test]
fn adamw_schedules() {
    run("adamw-schedules");
}
