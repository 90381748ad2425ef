//! Text formatting shared by the writers: numbers, verdict markers, Markdown escaping.
//!
//! Every number in a committed file goes through [`num_short`] or [`num_exact`], so the same
//! value is always printed the same way and a diff of two reports shows only real changes.

use crate::claims::{Relation, Verdict};

/// A number to 4 significant digits, trailing zeros trimmed: `0.8182`, `1.5e-7`, `12`,
/// `NaN`, `inf`, `-inf`. Plain notation for magnitudes in [1e-3, 1e5), scientific otherwise.
pub fn num_short(x: f64) -> String {
    if let Some(s) = non_finite(x) {
        return s.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs();
    if (1e-3..1e5).contains(&magnitude) {
        let digits_before_point = magnitude.log10().floor() as i32 + 1;
        let decimals = (4 - digits_before_point).max(0) as usize;
        trim_fraction(&format!("{x:.decimals$}"))
    } else {
        let s = format!("{x:.3e}");
        let (mantissa, exponent) = s.split_once('e').expect("`{:e}` always has an exponent");
        format!("{}e{exponent}", trim_fraction(mantissa))
    }
}

/// A number in its shortest form that parses back to the same f64: plain notation for
/// magnitudes in [1e-4, 1e7) (and 0), scientific otherwise (`1.2345678901234567e-10`).
pub fn num_exact(x: f64) -> String {
    if let Some(s) = non_finite(x) {
        return s.to_string();
    }
    let magnitude = x.abs();
    if x == 0.0 || (1e-4..1e7).contains(&magnitude) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

fn non_finite(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("NaN")
    } else if x == f64::INFINITY {
        Some("inf")
    } else if x == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

fn trim_fraction(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// The marker and word of a verdict, as used in every table: `✅ holds`,
/// `❌ fails as printed`, `❔ inconclusive`.
pub fn verdict_marked(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "✅ holds",
        Verdict::FailsAsPrinted => "❌ fails as printed",
        Verdict::Inconclusive => "❔ inconclusive",
    }
}

/// The verdict marker of a claim of `kind`: a `source-claim` (a cited paper's statement the
/// slide does not print) is marked as the source's, so it never reads as a ❌ for the slide.
pub fn verdict_marked_for(kind: crate::claims::Kind, v: Verdict) -> &'static str {
    if kind != crate::claims::Kind::SourceClaim {
        return verdict_marked(v);
    }
    match v {
        Verdict::Holds => "📄 ✅ holds in the source",
        Verdict::FailsAsPrinted => "📄 ❌ fails as the source states it",
        Verdict::Inconclusive => "📄 ❔ inconclusive (source)",
    }
}

/// Marker of a checker that returned an error instead of evidence.
pub const ERROR_MARKED: &str = "⛔ error";

/// Marker of a verdict that differs from the card's expected one.
pub const UNEXPECTED_MARK: &str = "⚠️";

/// The relation as a symbol with its tolerance: `≤`, `≥`, `≈ (rel. 1e-12)`, `= (bitwise)`.
pub fn relation(r: &Relation) -> String {
    match r {
        Relation::AtMost => "≤".to_string(),
        Relation::AtLeast => "≥".to_string(),
        Relation::Approx { rel_tol } => format!("≈ (rel. {})", num_short(*rel_tol)),
        Relation::Exact => "= (bitwise)".to_string(),
    }
}

/// Text with every `<` that GitHub would take for the start of an HTML tag (`<` followed by
/// a letter, `/`, `!` or `?`) neutralised: backslash-escaped in prose, followed by a space
/// inside `$…$` math (where TeX ignores the space), untouched inside code spans.
pub fn no_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_math, mut in_code) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => in_code = !in_code,
            '$' if !in_code => in_math = !in_math,
            '<' if !in_code
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str(if in_math { "< " } else { "\\<" });
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Text made safe for one cell of a Markdown table: one line, `|` escaped, no HTML tags.
pub fn cell(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    no_html(&one_line).replace('|', "\\|")
}

/// [`cell`], cut to at most `max_chars` characters (an ellipsis marks the cut). The cut never
/// leaves an unpaired `$` or backtick, which would swallow the rest of the table row.
pub fn short_cell(text: &str, max_chars: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max_chars {
        return cell(&one_line);
    }
    let mut cut: String = one_line.chars().take(max_chars.saturating_sub(1)).collect();
    for delimiter in ['$', '`'] {
        if cut.matches(delimiter).count() % 2 == 1 {
            let last = cut.rfind(delimiter).expect("an odd count is at least one");
            cut.truncate(last);
        }
    }
    let cut = cut.trim_end();
    cell(&format!("{cut}…"))
}

/// A block quote of `text` (every line prefixed with `> `), without HTML tags.
pub fn quote(text: &str) -> String {
    no_html(text.trim())
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A file stem made of ASCII letters, digits, `-` and `_` only (others become `-`).
pub fn file_stem(s: &str) -> String {
    let stem: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if stem.is_empty() {
        "figure".to_string()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers_have_four_significant_digits() {
        assert_eq!(num_short(0.818181818), "0.8182");
        assert_eq!(num_short(12.0), "12");
        assert_eq!(num_short(-1234.5678), "-1235");
        assert_eq!(num_short(1.5e-7), "1.5e-7");
        assert_eq!(num_short(123456.0), "1.235e5");
        assert_eq!(num_short(0.0), "0");
        assert_eq!(num_short(f64::NAN), "NaN");
        assert_eq!(num_short(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn exact_numbers_parse_back_bit_for_bit() {
        for x in [
            0.1,
            1.0 / 3.0,
            1e-300,
            6.02214076e23,
            -2.5e-5,
            12345.678,
            0.0,
            f64::MIN_POSITIVE,
        ] {
            let s = num_exact(x);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
        }
        assert_eq!(num_exact(0.25), "0.25");
        assert_eq!(num_exact(1e-10), "1e-10");
    }

    #[test]
    fn cells_are_one_line_and_escape_pipes() {
        assert_eq!(cell("a |x|\n b"), "a \\|x\\| b");
        assert_eq!(short_cell("abcdef", 10), "abcdef");
        assert_eq!(short_cell("abcdefghijkl", 5), "abcd…");
        // A cut inside inline math drops the unpaired `$`.
        assert_eq!(
            short_cell("rate $q^k$ then $\\sqrt{\\kappa}$", 20),
            "rate $q^k$ then…"
        );
    }

    #[test]
    fn tag_like_text_is_neutralised_outside_code() {
        assert_eq!(no_html("a <b> c < d"), "a \\<b> c < d");
        assert_eq!(no_html("$a<b$ and `x<y`"), "$a< b$ and `x<y`");
    }

    #[test]
    fn quotes_and_stems() {
        assert_eq!(quote("a\n\nb\n"), "> a\n>\n> b");
        assert_eq!(file_stem("rate/κ 2"), "rate---2");
    }
}
