//! The one guard every exported text cell goes through, in every format: a cell a
//! spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return
//! first — the characters OWASP lists for CSV injection, and their full-width forms, which
//! some spreadsheets also take) gets a leading apostrophe, so a student's name or the AI's
//! feedback can never run as a formula in the teacher's spreadsheet or the LMS's. Numbers
//! are written as numbers and never pass here.

use std::borrow::Cow;

/// The characters a cell must not start with.
const FORMULA_STARTS: &[char] = &[
    '=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// The text as it may go into a cell: unchanged, or with an apostrophe in front when a
/// spreadsheet would take it for a formula.
pub fn guard(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether a cell as written could start a formula (what the tests check in every format).
pub fn is_safe(cell: &str) -> bool {
    !cell.starts_with(FORMULA_STARTS)
}

/// A number as a cell: no needless decimals (2, 2.5), the form today's export writes.
pub fn number(x: f64) -> String {
    x.to_string()
}

/// An optional number: empty when there is none.
pub fn maybe_number(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_an_apostrophe_and_plain_text_stays() {
        for bad in [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            "＝1",
        ] {
            let guarded = guard(bad);
            assert!(guarded.starts_with('\''), "{bad:?}");
            assert!(is_safe(&guarded));
        }
        for good in ["Zoë O'Brien", "2.5", "", "F = ma", "'quoted"] {
            assert_eq!(guard(good), good);
        }
        assert_eq!(
            (number(2.0), number(2.5)),
            ("2".to_string(), "2.5".to_string())
        );
    }
}
