//! A preference form's design: the brand colour, the font, the header text, which purposes
//! and topics appear, the "unsubscribe from everything" option, and page texts per language
//! in place of the catalogue's. Plain data (stored as JSON), every part validated: a colour
//! is `#rrggbb`, a font one of a fixed list of stacks, texts are text.

use super::parse::{Colour, Lang};
use super::setup::{clean, FieldError, Fields};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The font stacks a design may choose from (never free CSS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Font {
    #[default]
    System,
    Humanist,
    Serif,
    Rounded,
}

impl Font {
    pub const ALL: [Font; 4] = [Font::System, Font::Humanist, Font::Serif, Font::Rounded];

    pub fn as_str(self) -> &'static str {
        match self {
            Font::System => "system",
            Font::Humanist => "humanist",
            Font::Serif => "serif",
            Font::Rounded => "rounded",
        }
    }

    pub fn parse(s: &str) -> Option<Font> {
        Font::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Font::System => "System (the reader's own interface font)",
            Font::Humanist => "Humanist sans-serif",
            Font::Serif => "Serif",
            Font::Rounded => "Rounded sans-serif",
        }
    }

    /// The CSS `font-family` value.
    pub fn stack(self) -> &'static str {
        match self {
            Font::System => {
                r#"system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif"#
            }
            Font::Humanist => {
                r#"Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", source-sans-pro, sans-serif"#
            }
            Font::Serif => r#"Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif"#,
            Font::Rounded => {
                r#"ui-rounded, "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, Manjari, "Arial Rounded MT", Calibri, sans-serif"#
            }
        }
    }
}

/// The page texts a design may replace (message ids of `src/i18n/*.ftl`), with what the
/// designer calls them.
pub const EDITABLE_TEXTS: &[(&str, &str)] = &[
    ("unsubscribe_title", "Unsubscribe page: heading"),
    ("unsubscribe_intro", "Unsubscribe page: introduction"),
    (
        "unsubscribe_all",
        "Unsubscribe page: “unsubscribe from everything” button",
    ),
    (
        "unsubscribe_all_hint",
        "Unsubscribe page: what that button does",
    ),
    ("center_title", "Preference center: heading"),
    ("center_intro", "Preference center: introduction"),
    ("save", "Preference center: save button"),
    ("save_hint", "Preference center: beside the save button"),
    ("done_title", "After a change: heading"),
    ("signup_title", "Sign-up form: heading"),
    ("signup_intro", "Sign-up form: introduction"),
    ("signup_button", "Sign-up form: button"),
    ("signup_privacy", "Sign-up form: privacy note"),
    ("sent_title", "After signing up: heading"),
    ("sent_body", "After signing up: message"),
    ("confirm_title", "Confirm page: heading"),
    ("confirm_intro", "Confirm page: introduction"),
    ("confirm_button", "Confirm page: button"),
    ("confirmed_title", "Confirmed: heading"),
    ("confirmed_intro", "Confirmed: above the list"),
    ("mail_subject", "Confirmation email: subject"),
    ("mail_intro", "Confirmation email: introduction"),
    ("mail_button", "Confirmation email: button"),
    ("mail_reminder_subject", "Reminder email: subject"),
    ("mail_reminder_intro", "Reminder email: introduction"),
];

/// A brand logo, stored by the SHA-256 of its bytes (`/logo/<sha256>` serves it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logo {
    pub sha256: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
}

/// A preference form's design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub primary: Colour,
    pub font: Font,
    /// A line under the brand name in the page header, by language code.
    #[serde(default)]
    pub header: BTreeMap<String, String>,
    /// Keys of what the pages leave out: a purpose (`commercial`) or a topic
    /// (`commercial/events`).
    #[serde(default)]
    pub hidden: Vec<String>,
    /// Whether the unsubscribe page offers "Unsubscribe from everything".
    pub unsubscribe_all: bool,
    /// Page texts in place of the catalogue's, by language code, then message id.
    #[serde(default)]
    pub texts: BTreeMap<String, BTreeMap<String, String>>,
    /// The logo in the page header, if any.
    #[serde(default)]
    pub logo: Option<Logo>,
}

impl Design {
    /// The design a profile starts with: its colour, everything else the catalogue's.
    pub fn initial(primary: &str) -> Design {
        Design {
            primary: Colour::parse(primary)
                .unwrap_or_else(|_| Colour::parse("#0b5cad").expect("a colour")),
            font: Font::System,
            header: BTreeMap::new(),
            hidden: Vec::new(),
            unsubscribe_all: true,
            texts: BTreeMap::new(),
            logo: None,
        }
    }

    /// A replaced page text in `lang`, if the design has one.
    pub fn text(&self, lang: Lang, id: &str) -> Option<&str> {
        self.texts
            .get(lang.code())
            .and_then(|m| m.get(id))
            .map(String::as_str)
    }

    pub fn header_in(&self, lang: Lang) -> Option<&str> {
        self.header.get(lang.code()).map(String::as_str)
    }

    /// Whether the pages show this purpose (and, with a topic key, this topic).
    pub fn shows(&self, purpose: &str, topic: Option<&str>) -> bool {
        !self.hidden.iter().any(|h| h == purpose)
            && topic.is_none_or(|t| !self.hidden.contains(&format!("{purpose}/{t}")))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a design serializes")
    }

    pub fn from_json(s: &str) -> Option<Design> {
        serde_json::from_str(s).ok()
    }

    /// What a designer should know about the colour: WCAG AA asks 4.5:1 for text, and the
    /// colour is the links' on white and the buttons' behind their text.
    pub fn warnings(&self) -> Vec<String> {
        let white = Colour::parse("#ffffff").expect("a colour");
        let mut out = Vec::new();
        let on_white = self.primary.contrast(&white);
        if on_white < 4.5 {
            out.push(format!(
                "Links in this colour on white reach a contrast of {on_white:.1}:1, below the 4.5:1 of WCAG AA: some readers will not see them."
            ));
        }
        let button = self.primary.contrast(&self.primary.readable_text());
        if button < 4.5 {
            out.push(format!(
                "Button text on this colour reaches {button:.1}:1, below the 4.5:1 of WCAG AA."
            ));
        }
        out
    }
}

/// A purpose as a published version showed it (names in every language), so a version opens
/// as its contacts saw it even after the catalogue changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownPurpose {
    pub key: String,
    pub name: String,
    pub description: String,
    pub mandatory: bool,
    pub channels: Vec<super::Channel>,
    /// (language code, name, description)
    #[serde(default)]
    pub texts: Vec<(String, String, String)>,
    pub topics: Vec<ShownTopic>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownTopic {
    pub key: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub texts: Vec<(String, String, String)>,
}

/// A shown item's words in `lang` (the default ones where it has none).
pub fn words_in<'a>(
    name: &'a str,
    description: &'a str,
    texts: &'a [(String, String, String)],
    lang: Lang,
) -> (&'a str, &'a str) {
    match texts.iter().find(|(l, _, _)| l == lang.code()) {
        Some((_, n, d)) => (n, if d.is_empty() { description } else { d }),
        None => (name, description),
    }
}

/// What the designer's live check says about the form as it stands (nothing saved): the fields
/// it would refuse, with why, and the colour's contrast warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignCheck {
    /// (field name, message)
    pub errors: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// The live check of a form: [`parse`]'s refusals, or the parsed design's warnings.
pub fn check<F: Fields + ?Sized>(f: &F, items: &[String]) -> DesignCheck {
    match parse(f, items) {
        Ok(d) => DesignCheck {
            errors: Vec::new(),
            warnings: d.warnings(),
        },
        Err(errors) => DesignCheck {
            errors: errors
                .into_iter()
                .map(|(field, m)| (field.to_owned(), m))
                .collect(),
            warnings: Vec::new(),
        },
    }
}

/// The form fields of a header text and a page text in one language.
pub fn header_field(lang: Lang) -> String {
    format!("header_{}", lang.code())
}

pub fn text_field(lang: Lang, id: &str) -> String {
    format!("text_{}_{id}", lang.code())
}

/// A design as the designer's form gives it. `items` are the keys the form offered (what is
/// not ticked among them is hidden).
pub fn parse<F: Fields + ?Sized>(f: &F, items: &[String]) -> Result<Design, Vec<FieldError>> {
    let mut errors = Vec::new();
    let primary = match Colour::parse(f.get("primary").unwrap_or("")) {
        Ok(c) => c,
        Err(_) => {
            errors.push((
                "primary",
                "Enter a colour as # and six hexadecimal digits, like #0b5cad.".to_owned(),
            ));
            Colour::parse("#0b5cad").expect("a colour")
        }
    };
    let font = match f.get("font").and_then(Font::parse) {
        Some(font) => font,
        None => {
            errors.push(("font", "Choose a font.".to_owned()));
            Font::System
        }
    };
    let mut header = BTreeMap::new();
    let mut texts: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut too_long = false;
    for lang in Lang::ALL {
        let h = clean(f.get(&header_field(lang)).unwrap_or(""), false);
        too_long |= h.chars().count() > 120;
        if !h.is_empty() {
            header.insert(lang.code().to_owned(), h);
        }
        for (id, _) in EDITABLE_TEXTS {
            // Only introductions keep line breaks: a heading, a button or an email's subject
            // is one line (a line break in a subject would be a header of its own).
            let multiline = id.ends_with("_intro");
            let raw = f
                .get(&text_field(lang, id))
                .unwrap_or("")
                .replace("\r\n", "\n");
            let raw = if multiline {
                raw
            } else {
                raw.replace('\n', " ")
            };
            let t = clean(&raw, multiline);
            too_long |= t.chars().count() > 1000;
            if !t.is_empty() {
                texts
                    .entry(lang.code().to_owned())
                    .or_default()
                    .insert((*id).to_owned(), t);
            }
        }
    }
    if too_long {
        errors.push((
            "texts",
            "Keep a header under 120 characters and a text under 1000.".to_owned(),
        ));
    }
    let shown = f.all("show");
    let hidden = items
        .iter()
        .filter(|k| !shown.contains(&k.as_str()))
        .cloned()
        .collect();
    let unsubscribe_all = f.get("unsubscribe_all").is_some_and(|v| v == "on");
    if errors.is_empty() {
        Ok(Design {
            primary,
            font,
            header,
            hidden,
            unsubscribe_all,
            texts,
            logo: None,
        })
    } else {
        Err(errors)
    }
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

    #[test]
    fn a_design_is_parsed_from_its_form_and_survives_json() {
        let items = vec!["commercial".to_owned(), "commercial/events".to_owned()];
        let d = parse(
            form(&[
                ("primary", "#0F5FA8"),
                ("font", "serif"),
                ("header_de", " Ihre Einstellungen "),
                ("text_de_center_title", "Was möchten Sie erhalten?"),
                ("text_ar_center_title", ""),
                ("show", "commercial"),
                ("unsubscribe_all", "on"),
            ])
            .as_slice(),
            &items,
        )
        .unwrap();
        assert_eq!(d.primary.as_str(), "#0f5fa8");
        assert_eq!(d.font, Font::Serif);
        assert_eq!(d.header_in(Lang::De), Some("Ihre Einstellungen"));
        assert_eq!(
            d.text(Lang::De, "center_title"),
            Some("Was möchten Sie erhalten?")
        );
        assert_eq!(d.text(Lang::Ar, "center_title"), None);
        assert!(d.shows("commercial", None) && !d.shows("commercial", Some("events")));
        assert!(d.unsubscribe_all);
        assert_eq!(Design::from_json(&d.to_json()), Some(d));
        // A subject stays one line; an introduction keeps its paragraphs.
        let d = parse(
            form(&[
                ("primary", "#0f5fa8"),
                ("font", "system"),
                ("text_en_mail_subject", "Confirm\r\nBcc: victim@example.com"),
                ("text_en_mail_intro", "One\r\n\r\nTwo"),
            ])
            .as_slice(),
            &[],
        )
        .unwrap();
        assert_eq!(
            d.text(Lang::En, "mail_subject"),
            Some("Confirm Bcc: victim@example.com")
        );
        assert_eq!(d.text(Lang::En, "mail_intro"), Some("One\n\nTwo"));
    }

    #[test]
    fn colours_are_data_and_fonts_come_from_the_list() {
        let e = parse(
            form(&[
                ("primary", "red;background:url(javascript:alert(1))"),
                ("font", "Comic Sans"),
            ])
            .as_slice(),
            &[],
        )
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["primary", "font"]);
        for f in Font::ALL {
            assert!(!f.stack().contains(['{', '}', ';', '<']));
        }
    }

    #[test]
    fn a_pale_colour_is_warned_about_not_refused() {
        assert!(Design::initial("#0b5cad").warnings().is_empty());
        let pale = Design::initial("#ffd966");
        let w = pale.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("4.5:1"));
    }

    #[test]
    fn the_live_check_gives_refusals_or_warnings() {
        let c = check(
            form(&[("primary", "#ffd966"), ("font", "system")]).as_slice(),
            &[],
        );
        assert!(c.errors.is_empty());
        assert_eq!(c.warnings.len(), 1);
        let c = check(
            form(&[("primary", "ffd966"), ("font", "system")]).as_slice(),
            &[],
        );
        assert_eq!(c.errors.len(), 1);
        assert_eq!(c.errors[0].0, "primary");
        assert!(c.warnings.is_empty());
    }
}
