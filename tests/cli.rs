//! The built `optverify` binary: help, exit statuses, JSON output.

use std::process::Command;

fn optverify(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_optverify"))
        .args(args)
        .env("CI", "1")
        .output()
        .expect("the binary runs")
}

#[test]
fn help_describes_every_command() {
    let out = optverify(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["verify", "report", "list", "Examples:"] {
        assert!(text.contains(cmd), "`{cmd}` missing from --help:\n{text}");
    }
    let out = optverify(&["verify", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--claim") && text.contains("--quick") && text.contains("Exit status"));
}

#[test]
fn unknown_claim_is_bad_input_naming_it_and_the_known_ones() {
    let out = optverify(&["verify", "--quick", "--claim", "no-such-claim"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`no-such-claim`") && err.contains("known claims:"),
        "{err}"
    );
    for card in optverify::claims::card::all_cards().unwrap() {
        assert!(
            err.contains(&card.id),
            "known claim `{}` not listed: {err}",
            card.id
        );
    }
    assert!(out.stdout.is_empty(), "nothing on stdout for bad input");
}

#[test]
fn list_json_is_valid_and_lists_every_card() {
    let out = optverify(&["list", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let claims = v["claims"].as_array().expect("a claims array");
    let cards = optverify::claims::card::all_cards().unwrap();
    assert_eq!(claims.len(), cards.len());
    for (entry, card) in claims.iter().zip(&cards) {
        assert_eq!(entry["id"], card.id.as_str());
    }
    assert!(v["optimizers"].is_array());
    assert!(!v["problems"].as_array().expect("a problems array").is_empty());
}

#[test]
fn bad_arguments_are_refused_by_the_parser() {
    let out = optverify(&["verify", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}
