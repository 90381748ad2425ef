//! Claims 5–9 (mini-batches, weight decay, ReLU rescaling): every card's quick mode gives its
//! expected verdict, plus property tests of the identities the checkers rely on.

use optverify::claims::card::all_cards;
use optverify::claims::registry::run_card;
use optverify::claims::Mode;

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
    if out.evidence.verdict == optverify::claims::Verdict::FailsAsPrinted {
        assert!(out.evidence.counterexample.is_some() && out.evidence.corrected_statement.is_some());
    }
}

#[test]
fn minibatch_unbiased() {
    run("minibatch-unbiased");
}
#[test]
fn sgd_weight_decay_equals_l2() {
    run("sgd-weight-decay-equals-l2");
}
#[test]
fn sgd_momentum_weight_decay() {
    run("sgd-momentum-weight-decay");
}
#[test]
fn adam_weight_decay_not_l2() {
    run("adam-weight-decay-not-l2");
}
#[test]
fn relu_rescaling() {
    run("relu-rescaling");
}
#[test]
fn weight_decay_balances_layers() {
    run("weight-decay-balances-layers");
}
