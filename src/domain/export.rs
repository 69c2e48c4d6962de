//! Rules of the files the console exports.

use std::borrow::Cow;

/// A cell a spreadsheet will not run: one that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (OWASP's CSV injection) gets a leading apostrophe, which spreadsheets show
/// as text and do not evaluate. Every other cell is left as it is.
pub fn safe_cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_the_rest_stays() {
        for bad in [
            "=1+2",
            "+cmd",
            "-2+3",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            "=HYPERLINK(\"x\")",
        ] {
            let safe = safe_cell(bad);
            assert!(safe.starts_with('\''), "{bad}");
            assert_eq!(&safe[1..], bad);
        }
        for ok in ["", "admin@contoso.com", "a=b", "1.5", "staff → admin"] {
            assert_eq!(safe_cell(ok), ok);
        }
    }
}
