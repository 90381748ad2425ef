//! The theorem cards and the checkers, together: they match one to one, every claim gets its
//! card's expected verdict in quick mode, every card carries at least one mutant and its
//! check kills every one, and every piece of evidence is complete for its verdict. Each
//! fails as soon as a card, a checker, a verdict or a mutant is out of step.

use optverify::claims::card::all_cards;
use optverify::claims::registry::{check_registry, registry, run_cards, select_cards};
use optverify::claims::{Mode, Role, Verdict};

#[test]
fn cards_and_checkers_match_one_to_one() {
    let mismatch = check_registry().expect("every card parses");
    assert!(mismatch.is_empty(), "{mismatch}");
    let cards = all_cards().unwrap();
    assert_eq!(cards.len(), registry().len(), "one checker per card");
}

/// Runs every claim once in quick mode and checks both the verdicts and the completeness of
/// the evidence, listing every problem (not only the first).
#[test]
fn every_claim_gets_its_expected_verdict_kills_its_mutants_with_complete_evidence_in_quick_mode() {
    let cards = select_cards(&[]).expect("cards parse");
    let runs = run_cards(&cards, Mode::Quick, &|_| {});
    let mut problems = Vec::new();
    for run in &runs {
        let id = &run.card.id;
        let j = match &run.result {
            Ok(j) => j,
            Err(err) => {
                problems.push(format!("{id}: checker error: {err}"));
                continue;
            }
        };
        let e = &j.evidence;
        let c = &j.conclusion;
        if c.verdict != run.card.expected {
            problems.push(format!(
                "{id}: verdict {} but the card expects {} — {}",
                c.verdict, run.card.expected, c.headline
            ));
        }
        if j.mutants.is_empty() {
            problems.push(format!("{id}: the card lists no mutant"));
        }
        for m in j.mutants.iter().filter(|m| !m.killed) {
            problems.push(format!(
                "{id}: mutant `{}` ({}) survived: verdict {:?}{}",
                m.id,
                m.statement,
                m.verdict,
                m.error
                    .as_deref()
                    .map(|e| format!(", checker error: {e}"))
                    .unwrap_or_default()
            ));
        }
        match c.verdict {
            Verdict::FailsAsPrinted => {
                if e.counterexample.is_none() {
                    problems.push(format!("{id}: fails-as-printed without a counterexample"));
                }
                if e.corrected_statement
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty())
                {
                    problems.push(format!("{id}: fails-as-printed without a corrected statement"));
                }
            }
            Verdict::Inconclusive => {
                if c.reason.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    problems.push(format!("{id}: inconclusive without a reason"));
                }
            }
            Verdict::Holds => {
                if e.measurements.is_empty() {
                    problems.push(format!("{id}: holds without a measurement"));
                }
                for m in e.measurements.iter().filter(|m| !m.ok && m.role != Role::Context) {
                    problems.push(format!(
                        "{id}: holds but measurement `{}` fails: {} vs {} ({:?})",
                        m.name, m.measured, m.predicted, m.relation
                    ));
                }
            }
        }
        if c.headline.trim().is_empty() {
            problems.push(format!("{id}: empty headline"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Checkers supply measurements; only the engine writes a verdict. Every file under
/// src/claims/ except the engine's own (engine.rs, evidence.rs) and the registry's test
/// fixtures must be free of verdict literals.
#[test]
fn no_checker_file_writes_a_verdict() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/claims is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/claims");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let allowed = ["engine.rs", "evidence.rs", "registry.rs", "card.rs", "mod.rs"];
    let mut offenders = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        if allowed.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains("Verdict::") {
                offenders.push(format!("src/claims/{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        files.len() > 10,
        "found only {} files under src/claims",
        files.len()
    );
    assert!(
        offenders.is_empty(),
        "{} verdict literal(s) outside the engine:\n{}",
        offenders.len(),
        offenders.join("\n")
    );
}
