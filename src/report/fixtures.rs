//! Test-only cards, checkers and evidence: one example claim run through the real pipeline
//! (card parsed from text → checker → evidence → records → files), plus synthetic evidence
//! of every verdict with the awkward values a report must survive (NaN, ±inf, ≤ 0 on a log
//! axis, `|` and `<` in text).

use crate::claims::engine::{conclude, Judged, MutantOutcome};
use crate::claims::registry::{run_cards_with, Checker, ClaimRun};
use crate::claims::{
    Card, CheckContext, CheckError, Counterexample, Evidence, Figure, Measurement, Mode, Relation, Series,
    Style, Verdict,
};

/// The example card: GD with step 2/(μ+L) contracts the error of a quadratic by exactly
/// (κ−1)/(κ+1) per step along the extreme eigenvectors.
pub const EXAMPLE_CARD: &str = r#"+++
id = "example-gd-contraction"
title = "GD contracts by (κ−1)/(κ+1) per step (test fixture)"
kind = "identity"
expected = "holds"
as_printed = "GD with $\\alpha = 2/(\\mu+L)$ converges at rate $(\\kappa-1)/(\\kappa+1)$ | test"
precise = "On $f(x) = \\lambda x^2/2$ with $\\lambda \\in \\{\\mu, L\\}$, one GD step multiplies $x$ by $|1 - \\alpha\\lambda| = (\\kappa-1)/(\\kappa+1)$."
hypotheses = ["f quadratic", "step 2/(mu+L)"]
source = "test fixture"
[statement]
rate_scale = 1.0
[[mutants]]
id = "rate-1pct-faster"
statement = "the contraction is 0.99·(κ−1)/(κ+1)"
set = { rate_scale = 0.99 }
[quick]
mu = 1.0
l = 9.0
steps = 12
[full]
mu = 1.0
l = 100.0
steps = 40
+++
The ratio $x_{k+1}/x_k$ is one subtraction and two products from exact: relative error
≤ 4u each, so `rel_tol = 16u`.
"#;

/// The example checker: measures the contraction of GD on the two extreme one-dimensional
/// quadratics and compares with the closed form.
pub fn example_checker(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let mu = ctx.f64("mu")?;
    let l = ctx.f64("l")?;
    let steps = ctx.usize("steps")?;
    let kappa = l / mu;
    let predicted = ctx.stmt_f64("rate_scale")? * (kappa - 1.0) / (kappa + 1.0);
    let alpha = 2.0 / (mu + l);
    // Each ratio is a product, a subtraction and a division: 16u covers them with room.
    let rel_tol = 16.0 * crate::prec::UNIT_ROUNDOFF;
    let mut measurements = Vec::new();
    let mut series = Vec::new();
    for (name, lambda) in [("mu", mu), ("L", l)] {
        let mut x = 1.0_f64;
        let mut ks = vec![0.0];
        let mut errors = vec![x.abs()];
        let mut worst = 0.0_f64;
        for k in 1..=steps {
            let next = x - alpha * lambda * x;
            worst = worst.max((next / x).abs());
            x = next;
            ks.push(k as f64);
            errors.push(x.abs());
        }
        measurements.push(
            Measurement::new(
                format!("max |x_(k+1)/x_k|, λ = {name}"),
                worst,
                predicted,
                Relation::Approx { rel_tol },
            )
            .with_note(format!("{steps} steps, κ = {kappa}"))
            .witness(),
        );
        series.push(Series {
            label: format!("|x_k|, λ = {name}"),
            style: Style::Line,
            x: ks,
            y: errors,
        });
    }
    let ks: Vec<f64> = (0..=steps).map(|k| k as f64).collect();
    series.push(Series {
        label: "((κ−1)/(κ+1))^k".into(),
        style: Style::Predicted,
        y: ks.iter().map(|k| predicted.powf(*k)).collect(),
        x: ks,
    });
    let all_ok = measurements.iter().all(|m| m.ok);
    let mut e = Evidence::new();
    e.measurements = measurements;
    e.figures.push(Figure {
        id: "error".into(),
        title: "GD error on the extreme quadratics".into(),
        x_label: "k".into(),
        y_label: "|x_k|".into(),
        log_x: false,
        log_y: true,
        series,
        caption: "Both errors lie on the predicted line.".into(),
    });
    e.instances = 2;
    if !all_ok {
        e.counterexample = Some(Counterexample {
            description: "the ratio differs from the closed form".into(),
            values: vec![("kappa".into(), kappa)],
            found_by: "direct computation".into(),
        });
        e.corrected_statement = Some("none: the fixture is wrong".into());
    }
    Ok(e)
}

/// The example claim, run through the registry's driver in `mode`.
pub fn example_run(mode: Mode) -> ClaimRun {
    let card = Card::parse("example-gd-contraction.md", EXAMPLE_CARD).expect("the fixture card parses");
    let checkers = [Checker {
        id: "example-gd-contraction",
        run: example_checker,
    }];
    run_cards_with(&checkers, &[card], mode, &|_| {})
        .pop()
        .expect("one card gives one run")
}

fn card(id: &str, expected: &str) -> Card {
    let text = format!(
        "+++\nid = \"{id}\"\ntitle = \"Synthetic {id}\"\nkind = \"bound\"\nexpected = \"{expected}\"\n\
         as_printed = \"a <printed> statement | with a pipe\"\nprecise = \"the precise statement\"\n\
         hypotheses = [\"h1\"]\nsource = \"nowhere\"\n[quick]\nn = 1\n+++\nThe body of {id}.\n"
    );
    Card::parse(&format!("{id}.md"), &text).expect("the synthetic card parses")
}

/// A figure with every awkward value: NaN, ±inf, 0 and negatives on log axes, a label with
/// XML metacharacters, and a series with nothing drawable.
pub fn awkward_figure() -> Figure {
    Figure {
        id: "awkward".into(),
        title: "Awkward <values> & co".into(),
        x_label: "k".into(),
        y_label: "error".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                label: "measured <a & b>".into(),
                style: Style::Line,
                x: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                y: vec![1.0, 0.5, f64::NAN, 0.125, -1.0, 0.03125, f64::INFINITY],
            },
            Series {
                label: "predicted".into(),
                style: Style::Predicted,
                x: vec![1.0, 10.0],
                y: vec![1.0, 1e-3],
            },
            Series {
                label: "instances".into(),
                style: Style::Points,
                x: vec![2.0, 3.0],
                y: vec![0.2, 0.1],
            },
            Series {
                label: "all negative".into(),
                style: Style::Points,
                x: vec![1.0],
                y: vec![-1.0],
            },
        ],
        caption: "A caption.".into(),
    }
}

/// Synthetic runs of every verdict (and a checker error, and an unexpected verdict).
pub fn synthetic_runs() -> Vec<ClaimRun> {
    let mut holds = Evidence::new();
    holds.measurements = vec![
        Measurement::new(
            "rate",
            0.8181818181818182,
            0.8181818181818181,
            Relation::Approx { rel_tol: 1e-12 },
        )
        .with_note("κ = 10 | tol from 4u"),
        Measurement::new("bound", 1e-300, 2.5e-10, Relation::AtMost).key(),
    ];
    holds.figures = vec![awkward_figure()];
    holds.instances = 12;

    let mut fails = Evidence::new();
    fails.measurements = vec![
        Measurement::new("limit of |x_k|", f64::INFINITY, 0.0, Relation::AtMost).witness(),
        Measurement::new("corrected", 0.5, 0.5, Relation::Exact),
        Measurement::new("nan", f64::NAN, f64::NEG_INFINITY, Relation::AtLeast).context(),
    ];
    fails.counterexample = Some(Counterexample {
        description: "Lessard's piecewise quadratic, x0 = 3.3".into(),
        values: vec![("x0".into(), 3.3), ("L".into(), 25.0)],
        found_by: "exhaustive grid".into(),
    });
    fails.corrected_statement = Some("The rate holds on quadratics only.".into());

    let mut unsure = Evidence::new();
    unsure.measurements = vec![Measurement::new("CI upper end < 0.5", 0.6, 0.5, Relation::AtMost)];
    unsure.remarks = Some("too few seeds to separate the two rates".into());

    let mut unexpected = Evidence::new();
    unexpected.measurements = vec![Measurement::new("m", 1.0, 2.0, Relation::AtMost)];

    let run = |card: Card, result: Result<Evidence, CheckError>| {
        let result = result.map(|evidence| {
            let conclusion = conclude(&evidence);
            // Every run's mutant is killed; the unexpected run also has one whose checker
            // errs, so the report's survivor flag is exercised.
            let mut mutants = vec![MutantOutcome {
                id: "faster".into(),
                statement: "a rate | 1% faster".into(),
                verdict: Some(if conclusion.verdict == Verdict::Inconclusive {
                    Verdict::Holds
                } else {
                    Verdict::Inconclusive
                }),
                error: None,
                killed: true,
            }];
            if card.id == "synthetic-unexpected" {
                mutants.push(MutantOutcome {
                    id: "broken".into(),
                    statement: "a mutant whose checker errs".into(),
                    verdict: None,
                    error: Some("step 1 diverged".into()),
                    killed: false,
                });
            }
            Judged {
                evidence,
                conclusion,
                mutants,
            }
        });
        ClaimRun {
            card,
            result,
            seconds: 0.25,
        }
    };
    vec![
        run(card("synthetic-holds", "holds"), Ok(holds)),
        run(card("synthetic-fails", "fails-as-printed"), Ok(fails)),
        run(card("synthetic-inconclusive", "inconclusive"), Ok(unsure)),
        run(card("synthetic-unexpected", "fails-as-printed"), Ok(unexpected)),
        run(
            card("synthetic-error", "holds"),
            Err(CheckError::Other("step 3 diverged".into())),
        ),
    ]
}
