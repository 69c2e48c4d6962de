//! Finding a contact on the staff desk: the search terms kept for each contact (its name's
//! words, its email addresses, its phone numbers' digits), folded so that a search ignores
//! case and accents, and what a typed query asks for. A search matches contacts that have a
//! term starting with each of the query's words.

use super::PointKind;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The longest term kept (longer words are cut: a prefix search of them still matches).
pub const MAX_TERM: usize = 64;

/// The most words a query is searched for (the rest are ignored).
pub const MAX_QUERY_WORDS: usize = 4;

/// A name's longest form accepted on the desk, in characters.
pub const MAX_NAME: usize = 200;

/// Lower case, accents and other combining marks removed, compatibility forms unified
/// (`Ｈｏｌｌｙ` → `holly`, `Zoë` → `zoe`, `ß` → `ss`).
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .replace('ß', "ss")
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_TERM {
        let mut end = MAX_TERM;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The words of a name, folded (letters and digits; anything else separates words).
pub fn name_terms(name: &str) -> Vec<String> {
    let folded = fold(name);
    let mut out: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| cut(w.to_owned()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The terms of a contact point's (normalised) address: an email address whole and folded;
/// a phone number's digits, with and without a country code of one to three digits (staff
/// type a number the way the caller says it).
pub fn address_terms(kind: PointKind, address: &str) -> Vec<String> {
    match kind {
        PointKind::Email => vec![cut(fold(address))],
        PointKind::Phone => {
            let digits: String = address.chars().filter(char::is_ascii_digit).collect();
            let mut out: Vec<String> = (0..=3)
                .filter(|&skip| digits.len() > skip + 4)
                .map(|skip| digits[skip..].to_owned())
                .collect();
            out.dedup();
            out
        }
    }
}

/// What a typed search asks for: contacts having, for each word, a term that starts with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub words: Vec<String>,
}

impl Query {
    /// Reads a query: an email address (or its start) when it has an `@`; a phone number (or
    /// its start) when it is digits with the usual separators; otherwise words of a name.
    /// `None` when nothing is left to search for.
    pub fn parse(input: &str) -> Option<Query> {
        let input = input.trim();
        if input.is_empty() {
            return None;
        }
        if input.contains('@') {
            return Some(Query {
                words: vec![cut(fold(input))],
            });
        }
        let phoneish = input
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if phoneish && digits.len() >= 3 {
            return Some(Query {
                words: vec![digits],
            });
        }
        let mut words: Vec<String> = fold(input)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| cut(w.to_owned()))
            .collect();
        words.dedup();
        words.truncate(MAX_QUERY_WORDS);
        (!words.is_empty()).then_some(Query { words })
    }
}

/// The range of terms starting with `prefix`, compared byte by byte: `[prefix, upper)`.
pub fn prefix_range(prefix: &str) -> (String, String) {
    // No valid UTF-8 text continues a prefix with a byte above 0xF4.
    let mut upper = prefix.to_owned();
    upper.push(char::MAX);
    (prefix.to_owned(), upper)
}

/// A contact's name as typed on the desk: trimmed, inner runs of space made one, at most
/// [`MAX_NAME`] characters, no control characters. Empty means no name.
pub fn clean_name(input: &str) -> Result<Option<String>, &'static str> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > MAX_NAME {
        return Err("name_too_long");
    }
    if name.chars().any(char::is_control) {
        return Err("name_control");
    }
    Ok((!name.is_empty()).then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_width() {
        assert_eq!(fold("Zoë Ångström"), "zoe angstrom");
        assert_eq!(fold("ＨＯＬＬＹ"), "holly");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Ørsted"), "ørsted", "a letter of its own stays");
    }

    #[test]
    fn a_name_gives_its_folded_words_once_each() {
        assert_eq!(
            name_terms("  Holly  Dickson-Dickson, Jr. "),
            vec!["dickson", "holly", "jr"]
        );
        assert_eq!(name_terms("=HYPERLINK(\"x\")"), vec!["hyperlink", "x"]);
        assert!(name_terms("   ").is_empty());
        let long = "a".repeat(300);
        assert_eq!(name_terms(&long)[0].len(), MAX_TERM);
        // Cut on a character boundary.
        let wide = "é".repeat(100);
        assert!(name_terms(&wide)[0].len() <= MAX_TERM);
    }

    #[test]
    fn addresses_give_the_whole_folded_email_and_the_phone_digits() {
        assert_eq!(
            address_terms(PointKind::Email, "Holly@contoso.com"),
            vec!["holly@contoso.com"]
        );
        assert_eq!(
            address_terms(PointKind::Phone, "+14255550101"),
            vec!["14255550101", "4255550101", "255550101", "55550101"]
        );
    }

    #[test]
    fn a_query_is_an_address_a_number_or_words() {
        assert_eq!(
            Query::parse(" HOLLY@Contoso ").unwrap().words,
            vec!["holly@contoso"]
        );
        assert_eq!(
            Query::parse("(425) 555-01").unwrap().words,
            vec!["42555501"]
        );
        assert_eq!(
            Query::parse("Dickson hol").unwrap().words,
            vec!["dickson", "hol"]
        );
        assert_eq!(Query::parse("Zoë").unwrap().words, vec!["zoe"]);
        assert_eq!(Query::parse("  "), None);
        assert_eq!(Query::parse("--"), None);
        assert_eq!(
            Query::parse("a b c d e f").unwrap().words.len(),
            MAX_QUERY_WORDS
        );
        // Two digits are a name's part (or nothing much), not a phone search.
        assert_eq!(Query::parse("42").unwrap().words, vec!["42"]);
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_terms_that_start_with_it() {
        let (lo, hi) = prefix_range("hol");
        for t in ["hol", "holly", "hol\u{10fff}"] {
            assert!(lo.as_str() <= t && t < hi.as_str(), "{t}");
        }
        for t in ["ho", "hom", "hola"] {
            let inside = lo.as_str() <= t && t < hi.as_str();
            assert_eq!(inside, t.starts_with("hol"), "{t}");
        }
    }

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(
            clean_name("  Holly   Dickson ").unwrap().as_deref(),
            Some("Holly Dickson")
        );
        assert_eq!(clean_name("   ").unwrap(), None);
        assert_eq!(clean_name(&"x".repeat(201)), Err("name_too_long"));
        assert_eq!(clean_name("a\u{7}b"), Err("name_control"));
    }
}
