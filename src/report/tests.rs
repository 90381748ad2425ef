//! Tests of the report writers on the example claim and on synthetic evidence.

use super::commands::{status_of, verify_line, Status};
use super::fixtures::{awkward_figure, example_run, synthetic_runs, EXAMPLE_CARD};
use super::markdown::{claim_page, index};
use super::record::{FigureRecord, JsonF64, Results};
use super::svg::{drawable_points, render};
use super::write::{render_files, write_report};
use crate::claims::registry::{run_cards_with, Checker};
use crate::claims::{Card, Evidence, Mode, Verdict};
use std::fs;
use std::path::PathBuf;

/// Check that `svg` is one well-formed element tree rooted at `<svg>`: every tag closed in
/// order, every `&` the start of an entity.
fn assert_well_formed_svg(svg: &str) {
    let body = svg.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").expect("XML declaration closed") + 2..],
        None => body,
    };
    assert!(
        body.trim_start().starts_with("<svg"),
        "does not start with <svg: {}",
        &body[..40.min(body.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"), "does not end with </svg>");
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        for (i, _) in text.match_indices('&') {
            let tail = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                    .iter()
                    .any(|e| tail.starts_with(e)),
                "bare & in text: {}",
                &tail[..20.min(tail.len())]
            );
        }
        let close = rest[open..].find('>').expect("every < has its >") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(top, name.trim(), "mismatched closing tag");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        if stack.is_empty() {
            roots += 1;
        }
        if !tag.ends_with('/') {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    assert_eq!(roots, 1, "one root element");
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("optverify-report-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

fn read_tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["", "claims", "figures"] {
        let d = dir.join(sub);
        let mut entries: Vec<_> = fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries.into_iter().filter(|p| p.is_file()) {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            out.push((rel, fs::read(&p).unwrap()));
        }
    }
    out
}

#[test]
fn example_claim_holds_in_both_modes_through_the_driver() {
    for mode in [Mode::Quick, Mode::Full] {
        let run = example_run(mode);
        let j = run.result.as_ref().expect("the example checker returns evidence");
        assert_eq!(j.verdict(), Verdict::Holds, "{mode:?}: {}", j.conclusion.headline);
        assert!(run.as_expected());
        assert_eq!(j.evidence.measurements.len(), 2);
        assert!(
            j.evidence.measurements.iter().all(|m| m.ok),
            "{:?}",
            j.evidence.measurements
        );
        // The card's mutant (a contraction 1 % faster) is rejected: a witness is found and,
        // without a corrected statement, the verdict becomes inconclusive.
        assert_eq!(j.mutants.len(), 1);
        assert_eq!(j.mutants[0].verdict, Some(Verdict::Inconclusive));
        assert!(j.mutants[0].killed);
    }
}

#[test]
fn a_card_missing_a_parameter_is_bad_input() {
    let text = EXAMPLE_CARD.replace("steps = 12\n", "");
    let card = Card::parse("example-gd-contraction.md", &text).unwrap();
    let checkers = [Checker {
        id: "example-gd-contraction",
        run: super::fixtures::example_checker,
    }];
    let runs = run_cards_with(&checkers, &[card], Mode::Quick, &|_| {});
    assert!(runs[0].is_card_error());
    assert_eq!(status_of(&runs), Status::BadInput);
    let line = verify_line(&runs[0], 10);
    assert!(line.contains("⛔ error") && line.contains("steps"), "{line}");
}

#[test]
fn status_and_lines_follow_the_expected_verdicts() {
    let runs = synthetic_runs();
    assert_eq!(status_of(&runs), Status::NotAsExpected);
    assert_eq!(status_of(&runs[..3]), Status::Success);
    assert_eq!(Status::Success.code(), 0);
    assert_eq!(Status::NotAsExpected.code(), 1);
    assert_eq!(Status::BadInput.code(), 2);
    let ok = verify_line(&runs[0], 24);
    assert!(
        ok.starts_with("✓ synthetic-holds") && ok.contains("✅ holds") && ok.contains("[0.25 s]"),
        "{ok}"
    );
    assert!(!ok.contains("expected"), "{ok}");
    let bad = verify_line(&runs[3], 24);
    assert!(
        bad.starts_with("✗ ") && bad.contains("⚠️ expected fails-as-printed"),
        "{bad}"
    );
    let err = verify_line(&runs[4], 24);
    assert!(
        err.contains("⛔ error") && err.contains("step 3 diverged"),
        "{err}"
    );
}

#[test]
fn summary_line_counts_every_verdict_and_names_the_unexpected() {
    let results = Results::new(&synthetic_runs(), Mode::Quick, "cmd", false);
    assert_eq!(
        results.summary.line(),
        "5 claims: 2 hold, 1 fail as printed, 1 inconclusive, 1 checker error; \
         mutants killed 4/5; 2 not as expected: synthetic-unexpected, synthetic-error"
    );
    let good = Results::new(&synthetic_runs()[..3], Mode::Quick, "cmd", false);
    assert_eq!(
        good.summary.line(),
        "3 claims: 1 hold, 1 fail as printed, 1 inconclusive; mutants killed 3/3; all as expected"
    );
}

#[test]
fn index_has_one_linked_row_per_claim_with_markers() {
    let results = Results::new(
        &synthetic_runs(),
        Mode::Full,
        "cargo run --release -- report",
        false,
    );
    let md = index(&results);
    assert!(
        md.contains("optverify 0.1.0 in full mode with `cargo run --release -- report`"),
        "{md}"
    );
    assert!(md.contains(&format!("**{}.**", results.summary.line())));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| [")).collect();
    assert_eq!(rows.len(), 5, "{md}");
    assert!(rows[0]
        .starts_with("| [synthetic-holds](claims/synthetic-holds.md) | Synthetic synthetic-holds | bound |"));
    // The pipe of the statement is escaped, the tag-like text neutralised.
    assert!(
        rows[0].contains("a \\<printed> statement \\| with a pipe"),
        "{}",
        rows[0]
    );
    assert!(rows[0].ends_with("| ✅ holds | holds | 1/1 |"), "{}", rows[0]);
    assert!(
        rows[1].ends_with("| ❌ fails as printed | fails-as-printed | 1/1 |"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].ends_with("| ❔ inconclusive | inconclusive | 1/1 |"),
        "{}",
        rows[2]
    );
    assert!(
        rows[3].ends_with("| ✅ holds | ⚠️ fails-as-printed | ⚠️ 1/2 |"),
        "{}",
        rows[3]
    );
    assert!(
        rows[4].contains("step 3 diverged") && rows[4].ends_with("| ⛔ error | ⚠️ holds | — |"),
        "{}",
        rows[4]
    );
    // Every row has the 9 columns of the header (10 unescaped pipes).
    for r in rows {
        assert_eq!(r.replace("\\|", "").matches('|').count(), 10, "{r}");
    }
}

#[test]
fn claim_pages_hold_statement_measurements_counterexample_reason_and_figures() {
    let results = Results::new(&synthetic_runs(), Mode::Quick, "cmd", false);
    let page = |i: usize| claim_page(&results.claims[i], &results);

    let holds = page(0);
    assert!(
        holds.contains("> a \\<printed> statement | with a pipe"),
        "{holds}"
    );
    assert!(holds.contains("## Precise statement\n\nthe precise statement"));
    assert!(holds.contains("- h1"));
    assert!(holds.contains("| measurement | measured | predicted | relation | role | note |"));
    assert!(
        holds.contains("| rate | 0.8181818181818182 | 0.8181818181818181 | ≈ (rel. 1e-12) | ✅ check | κ = 10 \\| tol from 4u |"),
        "{holds}"
    );
    assert!(
        holds.contains("| bound | 1e-300 | 2.5e-10 | ≤ | ✅ check |  |"),
        "{holds}"
    );
    assert!(holds.contains("| mutants killed | 1/1 |"), "{holds}");
    assert!(
        holds.contains("| `faster` | a rate \\| 1% faster | ❔ inconclusive | ✅ killed |"),
        "{holds}"
    );
    assert!(
        holds.contains("![Awkward \\<values> & co](../figures/synthetic-holds-awkward.svg)"),
        "{holds}"
    );
    assert!(
        holds.contains("*A caption. (5 points not drawn: non-finite, or ≤ 0 on a log axis.)*"),
        "{holds}"
    );
    assert!(holds.contains("## About this check\n\nThe body of synthetic-holds."));
    assert!(!holds.contains("## Counterexample"));

    let fails = page(1);
    // The witness shows as a witness, not as a failure.
    assert!(
        fails.contains("| limit of \\|x_k\\| | inf | 0 | ≤ | 🔎 witness found |"),
        "{fails}"
    );
    assert!(fails.contains("| nan | NaN | -inf | ≥ | context |"), "{fails}");
    assert!(
        fails.contains("| corrected | 0.5 | 0.5 | = (bitwise) | ✅ check |"),
        "{fails}"
    );
    assert!(fails.contains("## Counterexample\n\nLessard's piecewise quadratic, x0 = 3.3"));
    assert!(fails.contains("| x0 | 3.3 |\n| L | 25 |"), "{fails}");
    assert!(fails.contains("Found by: exhaustive grid"));
    assert!(fails.contains("## Corrected statement\n\nThe rate holds on quadratics only."));

    let unsure = page(2);
    assert!(
        unsure.contains("## Why inconclusive\n\n1 check failed: CI upper end < 0.5: 0.6 not ≤ 0.5"),
        "{unsure}"
    );
    assert!(unsure.contains("## Remarks\n\ntoo few seeds to separate the two rates"));

    let unexpected = page(3);
    assert!(
        unexpected.contains("| expected | ⚠️ fails-as-printed |"),
        "{unexpected}"
    );

    let error = page(4);
    assert!(error.contains("## Checker error") && error.contains("step 3 diverged"));
}

#[test]
fn figures_are_well_formed_svg_on_white_with_escaped_labels() {
    let fig = FigureRecord::from(&awkward_figure());
    assert_eq!(drawable_points(&fig), (7, 5));
    let svg = render(&fig).expect("renders");
    assert_well_formed_svg(&svg);
    assert!(svg.contains("fill=\"#FFFFFF\""), "white background");
    assert!(svg.contains("measured &lt;a &amp; b&gt;"), "escaped label");
    assert!(svg.contains("all negative (nothing to draw)"));
    assert!(svg.contains("predicted") && svg.contains("instances"));
    assert!(
        !svg.contains("NaN") && !svg.contains("inf"),
        "no non-finite coordinate leaks"
    );
    // Points: 2 markers + 1 legend marker; the measured line is 3 lone dots (its drawable
    // points are isolated by gaps).
    assert!(
        svg.matches("<circle").count() >= 6,
        "{}",
        svg.matches("<circle").count()
    );
    // Axis labels.
    assert!(svg.contains(">\nk\n</text>") && svg.contains(">\nerror\n</text>"));

    // Linear axes keep the ≤ 0 values; an empty figure still renders.
    let mut linear = awkward_figure();
    linear.log_x = false;
    linear.log_y = false;
    let linear = FigureRecord::from(&linear);
    assert_eq!(drawable_points(&linear), (10, 2));
    assert_well_formed_svg(&render(&linear).unwrap());
    let mut empty = awkward_figure();
    empty.series.clear();
    assert_well_formed_svg(&render(&FigureRecord::from(&empty)).unwrap());
}

#[test]
fn dashed_and_solid_lines_differ() {
    let mut fig = awkward_figure();
    fig.log_x = false;
    fig.log_y = false;
    fig.series.truncate(2);
    fig.series[0].y = vec![1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    fig.series[1].x = vec![0.0, 6.0];
    fig.series[1].y = vec![1.0, 0.4];
    let both = render(&FigureRecord::from(&fig)).unwrap();
    fig.series[1].style = crate::claims::Style::Line;
    let solid = render(&FigureRecord::from(&fig)).unwrap();
    // A dashed line is drawn as many short strokes, a solid one as one polyline.
    assert!(both.matches("<polyline").count() > solid.matches("<polyline").count() + 5);
}

#[test]
fn results_json_round_trips_including_non_finite_floats() {
    let mut runs = synthetic_runs();
    runs.push(example_run(Mode::Quick));
    let results = Results::new(&runs, Mode::Quick, "cmd", false);
    let json = results.to_json();
    assert!(!json.contains("seconds"), "no timings in the committed file");
    assert!(json.contains("\"NaN\"") && json.contains("\"inf\"") && json.contains("\"-inf\""));
    let back: Results = serde_json::from_str(&json).expect("parses back");
    assert_eq!(back, results);
    assert_eq!(back.to_json(), json);
    let nan = &back.claims[1].evidence.as_ref().unwrap().measurements[2];
    assert!(nan.measured.0.is_nan() && nan.predicted == JsonF64(f64::NEG_INFINITY));

    // The evidence of a claim with finite values reads back as the crate's own `Evidence`.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let example = value["claims"][5]["evidence"].clone();
    let evidence: Evidence = serde_json::from_value(example).expect("same shape as Evidence");
    assert_eq!(&evidence, &runs[5].result.as_ref().unwrap().evidence);

    let timed = Results::new(&runs, Mode::Quick, "cmd", true);
    assert!(timed.to_json().contains("\"seconds\": 0.25"));
}

#[test]
fn report_files_are_byte_identical_across_runs() {
    let make = || {
        let mut runs = synthetic_runs();
        runs.push(example_run(Mode::Quick));
        Results::new(&runs, Mode::Quick, "cargo run --release -- report --quick", false)
    };
    let a = render_files(&make()).unwrap();
    let b = render_files(&make()).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = a.iter().map(|(p, _)| p.as_str()).collect();
    assert!(names.contains(&"README.md") && names.contains(&"results.json"));
    assert!(names.contains(&"claims/example-gd-contraction.md"));
    assert!(names.contains(&"figures/example-gd-contraction-error.svg"));
    assert!(names.contains(&"figures/synthetic-holds-awkward.svg"));
    for (p, text) in &a {
        if p.ends_with(".svg") {
            assert_well_formed_svg(text);
        }
    }

    let (d1, d2) = (temp_dir("a"), temp_dir("b"));
    let written = write_report(&d1, &make()).unwrap();
    assert_eq!(written.len(), a.len());
    write_report(&d2, &make()).unwrap();
    let t1 = read_tree(&d1);
    assert_eq!(t1, read_tree(&d2));
    assert_eq!(t1.len(), a.len());
    let _ = fs::remove_dir_all(&d1);
    let _ = fs::remove_dir_all(&d2);
}

#[test]
fn rewriting_removes_stale_pages_and_figures_only() {
    let d = temp_dir("stale");
    let results = Results::new(&synthetic_runs(), Mode::Quick, "cmd", false);
    write_report(&d, &results).unwrap();
    fs::write(d.join("claims/renamed-claim.md"), "old").unwrap();
    fs::write(d.join("figures/renamed-claim-x.svg"), "old").unwrap();
    fs::write(d.join("claims/notes.txt"), "keep").unwrap();
    write_report(&d, &results).unwrap();
    assert!(!d.join("claims/renamed-claim.md").exists());
    assert!(!d.join("figures/renamed-claim-x.svg").exists());
    assert!(d.join("claims/notes.txt").exists());
    assert!(d.join("claims/synthetic-holds.md").exists());
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn duplicate_figure_ids_are_refused() {
    let mut runs = synthetic_runs();
    if let Ok(j) = runs[0].result.as_mut() {
        j.evidence.figures.push(awkward_figure());
    }
    let results = Results::new(&runs, Mode::Quick, "cmd", false);
    assert!(matches!(
        render_files(&results),
        Err(super::write::WriteError::DuplicateFigure(p)) if p == "figures/synthetic-holds-awkward.svg"
    ));
}

/// A log axis spanning more than 308 decades (a diverged run recorded as 1e300 beside values
/// of 1e-9) once sent plotters' tick loop into an endless loop. It must render, keeping the
/// [`MAX_LOG_DECADES`](super::svg::MAX_LOG_DECADES) decades below the largest value and
/// dropping (and counting) the rest.
#[test]
fn log_axis_spanning_hundreds_of_decades_renders_and_drops_what_it_cannot_show() {
    use crate::claims::{Figure, Series, Style};
    let fig = Figure {
        id: "wide".into(),
        title: "wide".into(),
        x_label: "b0".into(),
        y_label: "value".into(),
        log_x: true,
        log_y: true,
        series: vec![Series {
            label: "s".into(),
            style: Style::Points,
            x: vec![1e-2, 1e-1, 1.0, 10.0],
            y: vec![1e300, 1e-9, 5e-3, 1e250],
        }],
        caption: String::new(),
    };
    let rec = FigureRecord::from(&fig);
    // 1e-9 and 5e-3 lie more than 60 decades below 1e300.
    assert_eq!(drawable_points(&rec), (2, 2));
    assert_well_formed_svg(&render(&rec).expect("renders"));
}

fn heat_figure(rows: Vec<Vec<f64>>, log: bool) -> crate::claims::Figure {
    crate::claims::Figure {
        id: "heat".into(),
        title: "test error".into(),
        x_label: "learning rate".into(),
        y_label: "weight decay".into(),
        log_x: true,
        log_y: log,
        series: rows
            .into_iter()
            .enumerate()
            .map(|(r, y)| crate::claims::Series {
                label: format!("λ = {r}"),
                style: crate::claims::Style::HeatRow,
                x: vec![0.001, 0.01, 0.1],
                y,
            })
            .collect(),
        caption: String::new(),
    }
}

#[test]
fn a_heat_map_has_one_coloured_annotated_cell_per_value() {
    let fig = heat_figure(vec![vec![0.05, 0.1, f64::NAN], vec![0.2, 0.4, 0.8]], true);
    let svg = render(&FigureRecord::from(&fig)).unwrap();
    assert_well_formed_svg(&svg);
    // The extremes of the viridis scale: the smallest value (0.05) is dark purple (68,1,84),
    // the largest (0.8) yellow (254,232,37); the NaN cell is grey and marked "–".
    assert!(svg.contains("#440154"), "smallest cell at the scale's dark end");
    assert!(svg.contains("#FEE825"), "largest cell at the scale's light end");
    assert!(svg.contains("#DCDCDC") && svg.contains(">\n–\n</text>"));
    for value in ["0.05", "0.1", "0.2", "0.4", "0.8"] {
        assert!(
            svg.contains(&format!(">\n{value}\n</text>")),
            "cell {value} annotated"
        );
    }
    // Row and column labels.
    assert!(svg.contains("λ = 0") && svg.contains("λ = 1"));
    assert!(svg.contains(">\n0.001\n</text>") && svg.contains(">\n0.1\n</text>"));
}

#[test]
fn a_heat_map_of_equal_values_renders() {
    // One value in every coloured cell (a grid where every run diverged): no span to scale.
    let fig = heat_figure(vec![vec![0.93, 0.93, 0.93], vec![0.93, f64::NAN, 0.93]], true);
    let svg = render(&FigureRecord::from(&fig)).unwrap();
    assert_well_formed_svg(&svg);
    assert_eq!(svg.matches(">\n0.93\n</text>").count(), 5);
}

#[test]
fn a_band_is_one_filled_region_in_its_lines_colour() {
    use crate::claims::common::stats::t_band;
    let x = [1.0, 2.0, 3.0, 4.0];
    let reps = vec![
        vec![1.0, 2.0, 3.0, 4.0],
        vec![1.2, 2.2, 3.2, 4.2],
        vec![0.8, 1.8, 2.8, 3.8],
    ];
    let mut fig = awkward_figure();
    fig.log_x = false;
    fig.log_y = false;
    fig.series = vec![
        crate::claims::Series {
            label: "other".into(),
            style: crate::claims::Style::Line,
            x: x.to_vec(),
            y: vec![0.0; 4],
        },
        crate::claims::Series {
            label: "mean".into(),
            style: crate::claims::Style::Line,
            x: x.to_vec(),
            y: vec![1.0, 2.0, 3.0, 4.0],
        },
    ];
    fig.series.extend(t_band("mean", 0.05, &x, &reps));
    let svg = render(&FigureRecord::from(&fig)).unwrap();
    assert_well_formed_svg(&svg);
    assert_eq!(svg.matches("<polygon").count(), 1, "one filled region");
    // The band takes the colour of "mean" (the palette's second colour, #D55E00), not of
    // its own series index.
    let polygon = svg.split("<polygon").nth(1).unwrap();
    assert!(polygon.contains("#D55E00") && polygon.contains("opacity=\"0.18"));
    assert!(svg.contains("mean: 95% t-band") && !svg.contains("(upper)"));
}
