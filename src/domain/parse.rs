//! Parsing at the edge: input becomes a newtype the moment it enters.

use serde::{Deserialize, Serialize};

/// A normalised email address (trimmed, domain lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("email_empty");
        }
        if s.len() > 254 {
            return Err("email_too_long");
        }
        let (local, domain) = s.rsplit_once('@').ok_or("email_no_at")?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err("email_bad_local_part");
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        {
            return Err("email_bad_character");
        }
        let bad_label = |l: &str| {
            l.is_empty()
                || l.len() > 63
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !domain.contains('.') || domain.split('.').any(bad_label) {
            return Err("email_bad_domain");
        }
        // The domain in lower case (most are ASCII and already are: then copied as it is).
        let mut out = String::with_capacity(s.len());
        out.push_str(local);
        out.push('@');
        if domain
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            out.push_str(domain);
        } else {
            out.push_str(&domain.to_lowercase());
        }
        Ok(EmailAddress(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// "h***y@contoso.com": enough for a person to recognise their address, not enough to
    /// harvest it from a forwarded link.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let chars: Vec<char> = local.chars().collect();
        let shown = match chars.len() {
            0 => String::new(),
            1 | 2 => format!("{}***", chars[0]),
            n => format!("{}***{}", chars[0], chars[n - 1]),
        };
        format!("{shown}@{domain}")
    }
}

/// An address's refusal code (from [`EmailAddress::parse`] or [`PhoneNumber::parse`]) in words,
/// for the person or system that sent it.
pub fn address_error_words(code: &str) -> &'static str {
    match code {
        "email_empty" => "Enter an email address.",
        "email_too_long" => "An email address has at most 254 characters.",
        "email_no_at" => "An email address has an @ between the name and the domain.",
        "email_bad_local_part" => "The part before the @ is empty, too long or holds another @.",
        "email_bad_character" => {
            "An email address has no spaces, control characters, < > or commas."
        }
        "email_bad_domain" => "The part after the @ is not a domain, like example.com.",
        "phone_needs_country_code" => {
            "Give the phone number with its country code, like +14255550101."
        }
        "phone_bad_digits" => "A phone number has 8 to 15 digits after the +.",
        _ => "This address cannot be read.",
    }
}

/// A phone number in E.164 form (+ and 8 to 15 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, &'static str> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let rest = digits.strip_prefix('+').ok_or("phone_needs_country_code")?;
        if !(8..=15).contains(&rest.len()) || !rest.chars().all(|c| c.is_ascii_digit()) {
            return Err("phone_bad_digits");
        }
        Ok(PhoneNumber(digits))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// "+1 *** *** 0101"
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!(
            "{}•••{}",
            &self.0[..3.min(n)],
            &self.0[n.saturating_sub(4)..]
        )
    }
}

/// A brand colour: exactly `#rrggbb`, so it is data and never CSS or HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colour(String);

impl Colour {
    pub fn parse(input: &str) -> Result<Colour, &'static str> {
        let s = input.trim();
        if s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Colour(s.to_ascii_lowercase()))
        } else {
            Err("colour_not_hex")
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn rgb(&self) -> (f64, f64, f64) {
        let v = |i: usize| u8::from_str_radix(&self.0[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
        (v(1), v(3), v(5))
    }
    /// WCAG relative luminance.
    pub fn luminance(&self) -> f64 {
        let lin = |c: f64| {
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let (r, g, b) = self.rgb();
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }
    /// WCAG contrast ratio between two colours.
    pub fn contrast(&self, other: &Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }
    /// Black or white, whichever reads better on this colour (for button text).
    pub fn readable_text(&self) -> Colour {
        let white = Colour("#ffffff".into());
        let black = Colour("#111111".into());
        if self.contrast(&white) >= self.contrast(&black) {
            white
        } else {
            black
        }
    }
}

/// A language we have texts for (`src/i18n/*.ftl`), chosen by [`Lang::negotiate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    En,
    De,
    Fr,
    Ar,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::De, Lang::Fr, Lang::Ar];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Ar => "ar",
        }
    }

    /// The writing direction of the language's script (`dir` on the page).
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// The language's name in itself ("Deutsch"), as a language menu shows it.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Fr => "Français",
            Lang::Ar => "العربية",
        }
    }

    /// "en", "en-GB", "EN_us" → En; unknown → None.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Picks the best supported language from an `Accept-Language` header: its tags by
    /// q-value (highest first, q=0 never), negotiated against ours by fluent-langneg (which
    /// matches `de-AT` to `de`, `zh-Hant` to nothing, …).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        use fluent_langneg::{negotiate_languages, NegotiationStrategy};
        let mut weighted: Vec<(f32, unic_langid::LanguageIdentifier)> = header
            .split(',')
            // Bounded: a header of thousands of tags is not a browser's.
            .take(20)
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim().parse().ok()?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, tag))
            })
            .collect();
        weighted.sort_by(|a, b| b.0.total_cmp(&a.0));
        let requested: Vec<_> = weighted.into_iter().map(|(_, id)| id).collect();
        let available: Vec<unic_langid::LanguageIdentifier> = Lang::ALL
            .iter()
            .filter_map(|l| l.code().parse().ok())
            .collect();
        let chosen = negotiate_languages(&requested, &available, None, NegotiationStrategy::Lookup);
        chosen
            .first()
            .and_then(|id| Lang::parse(id.language.as_str()))
    }

    /// The link's `lang`, then the contact's stored locale, then the browser's
    /// `Accept-Language`, then the profile's default, then English. Each step counts only
    /// when it names a language we have texts for.
    pub fn negotiate(
        link: Option<&str>,
        stored: Option<&str>,
        accept: Option<&str>,
        profile_default: Option<&str>,
    ) -> Lang {
        link.and_then(Lang::parse)
            .or_else(|| stored.and_then(Lang::parse))
            .or_else(|| accept.and_then(Lang::from_accept_language))
            .or_else(|| profile_default.and_then(Lang::parse))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            EmailAddress::parse(" Holly@Contoso.COM ").unwrap().as_str(),
            "Holly@contoso.com"
        );
        for bad in [
            "",
            "a",
            "a@",
            "@b.c",
            "a@b",
            "a b@c.d",
            "a@-b.c",
            "a@b..c",
            "<a@b.c>",
            "a@b.c,d@e.f",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            EmailAddress::parse("holly@contoso.com").unwrap().masked(),
            "h***y@contoso.com"
        );
        assert_eq!(
            EmailAddress::parse("h@contoso.com").unwrap().masked(),
            "h***@contoso.com"
        );
    }

    #[test]
    fn phones() {
        assert_eq!(
            PhoneNumber::parse("+1 (425) 555-0101").unwrap().as_str(),
            "+14255550101"
        );
        assert!(PhoneNumber::parse("4255550101").is_err());
        assert!(PhoneNumber::parse("+12ab").is_err());
    }

    #[test]
    fn colours_are_hex_only_and_pick_readable_text() {
        assert!(Colour::parse("#0B5CAD").is_ok());
        for bad in ["red", "#fff", "#12345g", "#123456;}", "url(x)"] {
            assert!(Colour::parse(bad).is_err(), "{bad}");
        }
        let dark = Colour::parse("#0b5cad").unwrap();
        assert_eq!(dark.readable_text().as_str(), "#ffffff");
        assert!(dark.contrast(&dark.readable_text()) >= 4.5);
        assert_eq!(
            Colour::parse("#ffe08a").unwrap().readable_text().as_str(),
            "#111111"
        );
    }

    #[test]
    fn language_negotiation_order() {
        use Lang::*;
        // (link, stored, Accept-Language, profile default) → language.
        type Case = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let table: [(Option<&str>, Case, Lang); 10] = [
            (Some("fr"), (Some("en"), Some("en"), Some("en")), Fr),
            (Some("en-GB"), (Some("fr"), Some("fr"), Some("fr")), En),
            (Some("zz"), (Some("fr"), Some("en"), Some("en")), Fr),
            (None, (Some("fr_CA"), Some("en"), Some("en")), Fr),
            (None, (Some("zz"), Some("fr-CH, en;q=0.5"), Some("en")), Fr),
            (None, (None, Some("fr"), Some("en")), Fr),
            (None, (None, Some("it, pt"), Some("fr")), Fr),
            (None, (None, Some("de-AT, it"), Some("fr")), De),
            (None, (None, None, Some("fr")), Fr),
            (None, (None, Some("zz"), Some("zz")), En),
        ];
        for (link, (stored, accept, default), want) in table {
            assert_eq!(
                Lang::negotiate(link, stored, accept, default),
                want,
                "{link:?} {stored:?} {accept:?} {default:?}"
            );
        }
        assert_eq!(
            Lang::from_accept_language("it-CH, fr;q=0.9, en;q=0.8"),
            Some(Fr)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.5, ar-EG;q=0.9"),
            Some(Ar)
        );
        assert_eq!(Lang::from_accept_language("it, pt"), None);
        assert_eq!(Lang::from_accept_language(""), None);
        assert_eq!(Lang::from_accept_language("fr;q=0, en;q=0.1"), Some(En));
        assert_eq!(Lang::from_accept_language(&"x;q=,".repeat(10_000)), None);
    }

    #[test]
    fn every_address_refusal_has_words() {
        for bad in ["", "no-at-sign", "a@b", "a b@example.com", "@example.com"] {
            let code = EmailAddress::parse(bad).unwrap_err();
            assert_ne!(
                address_error_words(code),
                "This address cannot be read.",
                "{code}"
            );
        }
        for bad in ["4255550101", "+12", "+1 425 555 01x1"] {
            let code = PhoneNumber::parse(bad).unwrap_err();
            assert_ne!(
                address_error_words(code),
                "This address cannot be read.",
                "{code}"
            );
        }
    }
}
