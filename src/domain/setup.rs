//! The compliance setup's forms as plain values: a profile, a purpose, a topic, each parsed
//! from what an admin typed into fields with one message per refused field. Keys are what
//! sending systems use: lower-case, stable, set once.

use super::model::{Channel, ConsentLevel, Enforcement};
use super::parse::{EmailAddress, Lang};

/// A refused field: its name in the form, and what to say beside it.
pub type FieldError = (&'static str, String);

/// What a form's fields were, by name (the last value of a repeated name wins, except where
/// a field is a list).
pub trait Fields {
    fn get(&self, name: &str) -> Option<&str>;
    fn all(&self, name: &str) -> Vec<&str>;
}

impl Fields for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Text as typed, trimmed, with control characters (NUL included) gone except line breaks
/// where `multiline`.
pub fn clean(s: &str, multiline: bool) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control() || (multiline && *c == '\n'))
        .collect::<String>()
        .replace("\n\n\n", "\n\n")
}

struct Check<'a, F: Fields + ?Sized> {
    fields: &'a F,
    errors: Vec<FieldError>,
}

impl<'a, F: Fields + ?Sized> Check<'a, F> {
    fn text(&mut self, name: &'static str, label: &str, max: usize, required: bool) -> String {
        self.text_lines(name, label, max, required, false)
    }

    fn text_lines(
        &mut self,
        name: &'static str,
        label: &str,
        max: usize,
        required: bool,
        multiline: bool,
    ) -> String {
        let v = clean(
            &self.fields.get(name).unwrap_or("").replace("\r\n", "\n"),
            multiline,
        );
        if required && v.is_empty() {
            self.errors.push((name, format!("Enter {label}.")));
        } else if v.chars().count() > max {
            self.errors
                .push((name, format!("Use at most {max} characters.")));
        }
        v
    }

    fn optional(&mut self, name: &'static str, label: &str, max: usize) -> Option<String> {
        Some(self.text(name, label, max, false)).filter(|v| !v.is_empty())
    }

    fn key(&mut self, name: &'static str) -> String {
        let v = clean(self.fields.get(name).unwrap_or(""), false).to_lowercase();
        if let Err(e) = check_key(&v) {
            self.errors.push((name, e.to_owned()));
        }
        v
    }

    fn email(&mut self, name: &'static str, required: bool) -> Option<String> {
        let v = clean(self.fields.get(name).unwrap_or(""), false);
        if v.is_empty() {
            if required {
                self.errors.push((name, "Enter an email address.".into()));
            }
            return None;
        }
        match EmailAddress::parse(&v) {
            Ok(a) => Some(a.as_str().to_owned()),
            Err(_) => {
                self.errors.push((
                    name,
                    "Enter an email address, like news@example.com.".into(),
                ));
                None
            }
        }
    }

    fn hours(&mut self, name: &'static str, min: i64) -> Option<i64> {
        let v = clean(self.fields.get(name).unwrap_or(""), false);
        if v.is_empty() {
            return None;
        }
        match v.parse::<i64>() {
            Ok(h) if (min..=8760).contains(&h) => Some(h),
            _ => {
                self.errors.push((
                    name,
                    format!("Enter a whole number of hours from {min} to 8760, or leave it empty for the server's setting."),
                ));
                None
            }
        }
    }

    /// The name and description in each other language, where given (`name_de`, …).
    fn translations(&mut self) -> Vec<Translation> {
        let mut out = Vec::new();
        for lang in Lang::ALL {
            let (name_field, description_field) = translation_fields(lang);
            let name = self.text(name_field, "a name", 120, false);
            let description =
                self.text_lines(description_field, "a description", 1000, false, true);
            if name.is_empty() && !description.is_empty() {
                self.errors.push((
                    name_field,
                    format!(
                        "Enter the name in {} too, or leave both empty.",
                        lang.endonym()
                    ),
                ));
            } else if !name.is_empty() {
                out.push(Translation {
                    lang,
                    name,
                    description,
                });
            }
        }
        out
    }

    fn done<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// A purpose's or topic's words in another language than the profile's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub lang: Lang,
    pub name: String,
    pub description: String,
}

/// The form fields of a language's name and description (`name_de`, `description_de`).
pub fn translation_fields(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => ("name_en", "description_en"),
        Lang::De => ("name_de", "description_de"),
        Lang::Fr => ("name_fr", "description_fr"),
        Lang::Ar => ("name_ar", "description_ar"),
    }
}

/// A key: 1–40 of `a-z 0-9 - _`, starting with a letter.
pub fn check_key(k: &str) -> Result<(), &'static str> {
    if k.is_empty() {
        return Err("Enter a key.");
    }
    if k.len() > 40 {
        return Err("Use at most 40 characters.");
    }
    let first = k.as_bytes()[0];
    if !first.is_ascii_lowercase()
        || !k
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err("Use lower-case letters, digits, - and _, starting with a letter.");
    }
    Ok(())
}

/// A web address a page may link to: http or https only (never `javascript:`, `data:` …).
pub fn check_url(s: &str) -> Result<String, &'static str> {
    let parsed = url::Url::parse(s)
        .map_err(|_| "Enter a full address, like https://example.com/privacy.")?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err("Use an address starting with https:// (or http://).");
    }
    if s.len() > 500 {
        return Err("Use at most 500 characters.");
    }
    Ok(parsed.to_string())
}

/// A profile as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFields {
    pub key: String,
    pub name: String,
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub footer_address: String,
    pub legal_footer: Option<String>,
    pub privacy_url: Option<String>,
    pub default_locale: Lang,
    pub jurisdiction: Option<String>,
    /// Double opt-in overrides: `None` is the server's setting; reminder 0 is none.
    pub confirm_hours: Option<i64>,
    pub reminder_hours: Option<i64>,
    /// Opt-ins a sending system records with its own confirmation are trusted as confirmed.
    pub trust_api_confirmation: bool,
    /// Opt-ins staff record are trusted with the notice to the contact alone.
    pub trust_staff_opt_ins: bool,
}

pub fn profile<F: Fields + ?Sized>(f: &F) -> Result<ProfileFields, Vec<FieldError>> {
    let mut c = Check {
        fields: f,
        errors: Vec::new(),
    };
    let key = c.key("key");
    let name = c.text("name", "a name", 120, true);
    let sender_name = c.optional("sender_name", "a sender name", 120);
    let sender_address = c.email("sender_address", true);
    let reply_to = c.email("reply_to", false);
    let footer_address = c.text_lines("footer_address", "the postal address", 500, true, true);
    let legal_footer = Some(c.text_lines("legal_footer", "a legal footer", 2000, false, true))
        .filter(|v| !v.is_empty());
    let privacy = clean(f.get("privacy_url").unwrap_or(""), false);
    let privacy_url = if privacy.is_empty() {
        None
    } else {
        match check_url(&privacy) {
            Ok(u) => Some(u),
            Err(e) => {
                c.errors.push(("privacy_url", e.to_owned()));
                None
            }
        }
    };
    let default_locale = match f.get("default_locale").and_then(Lang::parse) {
        Some(l) => l,
        None => {
            c.errors
                .push(("default_locale", "Choose a language.".to_owned()));
            Lang::En
        }
    };
    let jurisdiction = c.optional("jurisdiction", "a jurisdiction", 80);
    let confirm_hours = c.hours("confirm_hours", 1);
    let reminder_hours = c.hours("reminder_hours", 0);
    if let (Some(r), Some(t)) = (reminder_hours, confirm_hours) {
        if r >= t && r > 0 {
            c.errors.push((
                "reminder_hours",
                "The reminder must come before the link expires.".to_owned(),
            ));
        }
    }
    c.done(ProfileFields {
        key,
        name,
        sender_name,
        sender_address,
        reply_to,
        footer_address,
        legal_footer,
        privacy_url,
        default_locale,
        jurisdiction,
        confirm_hours,
        reminder_hours,
        trust_api_confirmation: f.get("trust_api_confirmation").is_some_and(|v| v == "on"),
        trust_staff_opt_ins: f.get("trust_staff_opt_ins").is_some_and(|v| v == "on"),
    })
}

/// A purpose as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeFields {
    pub key: String,
    pub name: String,
    pub description: String,
    pub enforcement: Enforcement,
    pub channels: Vec<Channel>,
    pub mandatory: bool,
    pub min_level: ConsentLevel,
    /// Names and descriptions in other languages.
    pub texts: Vec<Translation>,
}

pub fn purpose<F: Fields + ?Sized>(f: &F) -> Result<PurposeFields, Vec<FieldError>> {
    let mut c = Check {
        fields: f,
        errors: Vec::new(),
    };
    let key = c.key("key");
    let name = c.text("name", "a name", 120, true);
    let description = c.text_lines("description", "a description", 1000, false, true);
    let enforcement = match f.get("enforcement").and_then(Enforcement::parse) {
        Some(e) => e,
        None => {
            c.errors
                .push(("enforcement", "Choose how the purpose is enforced.".into()));
            Enforcement::Restrictive
        }
    };
    let mut channels = Vec::new();
    let mut unknown = false;
    for v in f.all("channels") {
        match Channel::parse(v) {
            Some(ch) if !channels.contains(&ch) => channels.push(ch),
            Some(_) => {}
            None => unknown = true,
        }
    }
    channels.sort();
    if channels.is_empty() || unknown {
        c.errors
            .push(("channels", "Choose at least one channel.".into()));
    }
    let mandatory = f
        .get("mandatory")
        .is_some_and(|v| v == "on" || v == "1" || v == "true");
    let min_level = match f
        .get("min_level")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(ConsentLevel::new)
    {
        Some(l) => l,
        None => {
            c.errors
                .push(("min_level", "Choose a level from 0 to 5.".into()));
            ConsentLevel::UNKNOWN
        }
    };
    let texts = c.translations();
    c.done(PurposeFields {
        key,
        name,
        description,
        enforcement,
        channels,
        mandatory,
        min_level,
        texts,
    })
}

/// A topic as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFields {
    pub key: String,
    pub name: String,
    pub description: String,
    /// Names and descriptions in other languages.
    pub texts: Vec<Translation>,
}

pub fn topic<F: Fields + ?Sized>(f: &F) -> Result<TopicFields, Vec<FieldError>> {
    let mut c = Check {
        fields: f,
        errors: Vec::new(),
    };
    let key = c.key("key");
    let name = c.text("name", "a name", 120, true);
    let description = c.text_lines("description", "a description", 1000, false, true);
    let texts = c.translations();
    c.done(TopicFields {
        key,
        name,
        description,
        texts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn fields_of(e: &[FieldError]) -> Vec<&'static str> {
        e.iter().map(|(f, _)| *f).collect()
    }

    #[test]
    fn keys_are_lower_case_slugs() {
        assert!(check_key("product-updates").is_ok());
        assert!(check_key("news_2").is_ok());
        for bad in [
            "",
            "2news",
            "-x",
            "has space",
            "ünï",
            "a/b",
            &"x".repeat(41),
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_are_web_addresses_only() {
        assert_eq!(
            check_url("https://contoso.com/privacy").unwrap(),
            "https://contoso.com/privacy"
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>",
            "vbscript:x",
            "contoso.com",
            "https://",
            "ftp://contoso.com",
            " javascript:alert(1)",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_profile_needs_its_key_name_sender_and_postal_address() {
        let e = profile(form(&[]).as_slice()).unwrap_err();
        assert_eq!(
            fields_of(&e),
            [
                "key",
                "name",
                "sender_address",
                "footer_address",
                "default_locale"
            ]
        );
        let ok = profile(
            form(&[
                ("key", " Contoso-EU "),
                ("name", "Contoso\0 Europe"),
                ("sender_address", "News@Contoso.com"),
                ("footer_address", "1 Rue de Rivoli\r\n75001 Paris"),
                ("privacy_url", "https://contoso.com/privacy"),
                ("default_locale", "fr"),
                ("confirm_hours", "72"),
                ("reminder_hours", "0"),
            ])
            .as_slice(),
        )
        .unwrap();
        assert_eq!(ok.key, "contoso-eu");
        assert_eq!(ok.name, "Contoso Europe");
        assert_eq!(ok.sender_address.as_deref(), Some("News@contoso.com"));
        assert_eq!(ok.footer_address, "1 Rue de Rivoli\n75001 Paris");
        assert_eq!(ok.default_locale, Lang::Fr);
        assert_eq!((ok.confirm_hours, ok.reminder_hours), (Some(72), Some(0)));
    }

    #[test]
    fn a_profile_refuses_a_script_url_and_a_late_reminder() {
        let e = profile(
            form(&[
                ("key", "c"),
                ("name", "C"),
                ("sender_address", "a@b.co"),
                ("footer_address", "x"),
                ("default_locale", "en"),
                ("privacy_url", "javascript:alert(1)"),
                ("confirm_hours", "24"),
                ("reminder_hours", "48"),
            ])
            .as_slice(),
        )
        .unwrap_err();
        assert_eq!(fields_of(&e), ["privacy_url", "reminder_hours"]);
    }

    #[test]
    fn a_purpose_needs_a_channel_and_a_known_enforcement() {
        let e = purpose(
            form(&[
                ("key", "marketing"),
                ("name", "Marketing"),
                ("enforcement", "sometimes"),
                ("channels", "fax"),
                ("min_level", "9"),
            ])
            .as_slice(),
        )
        .unwrap_err();
        assert_eq!(fields_of(&e), ["enforcement", "channels", "min_level"]);
        let ok = purpose(
            form(&[
                ("key", "marketing"),
                ("name", "Marketing"),
                ("enforcement", "restrictive"),
                ("channels", "sms"),
                ("channels", "email"),
                ("channels", "email"),
                ("min_level", "4"),
                ("mandatory", "on"),
            ])
            .as_slice(),
        )
        .unwrap();
        assert_eq!(ok.channels, [Channel::Email, Channel::Sms]);
        assert!(ok.mandatory);
        assert_eq!(ok.min_level, ConsentLevel::MARKETING);
    }

    #[test]
    fn a_topic_keeps_its_text_as_typed_but_not_control_characters() {
        let t = topic(
            form(&[
                ("key", "webinars"),
                ("name", "<script>alert(1)</script>"),
                ("description", "Line one\r\nLine two\u{7}"),
            ])
            .as_slice(),
        )
        .unwrap();
        assert_eq!(t.name, "<script>alert(1)</script>");
        assert_eq!(t.description, "Line one\nLine two");
        assert!(t.texts.is_empty());
        let t = topic(
            form(&[
                ("key", "webinars"),
                ("name", "Webinars"),
                ("name_de", " Webinare "),
                ("description_ar", "جلسات"),
            ])
            .as_slice(),
        )
        .unwrap_err();
        assert_eq!(fields_of(&t), ["name_ar"]);
        let t = topic(form(&[("key", "w"), ("name", "W"), ("name_de", "Webinare")]).as_slice())
            .unwrap();
        assert_eq!(
            t.texts,
            [Translation {
                lang: Lang::De,
                name: "Webinare".into(),
                description: String::new()
            }]
        );
        let e = topic(form(&[("key", "w"), ("name", &"n".repeat(121))]).as_slice()).unwrap_err();
        assert_eq!(fields_of(&e), ["name"]);
    }
}
