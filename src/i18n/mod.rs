//! The contact's pages' and emails' texts, per language, from Project Fluent files
//! (`src/i18n/<lang>.ftl`, built into the binary and parsed at start-up; a deployment may put
//! its own `<lang>.ftl` files in a folder, `--translations-dir`, whose messages replace the
//! built-in ones). Views take every word from here, never from literals. Messages with values
//! in them (a topic's name, a list, a date) are Fluent patterns with arguments, so word order
//! is each language's own.
//!
//! For the views' convenience the plain messages are also gathered once per language into
//! [`Texts`], [`OptInTexts`] and [`ReceiptTexts`] (the message id is the field's name).

use crate::domain::parse::Lang;
use crate::domain::Channel;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The built-in translation files, by language.
const BUILT_IN: &[(Lang, &str)] = &[
    (Lang::En, include_str!("en.ftl")),
    (Lang::De, include_str!("de.ftl")),
    (Lang::Fr, include_str!("fr.ftl")),
    (Lang::Ar, include_str!("ar.ftl")),
];

/// Every language's bundle, and the views' gathered texts.
struct Catalogue {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
    texts: HashMap<&'static str, (Texts, OptInTexts, ReceiptTexts, RightsTexts)>,
}

static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();

/// Why translations could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("the translations were loaded already")]
    Twice,
}

fn resource(file: &str, source: String) -> Result<FluentResource, LoadError> {
    FluentResource::try_new(source).map_err(|(_, errors)| LoadError::Syntax {
        file: file.to_owned(),
        message: errors
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

fn build(extra: &[(Lang, String, String)]) -> Result<Catalogue, LoadError> {
    let mut bundles = HashMap::new();
    for (lang, source) in BUILT_IN {
        let id: unic_langid::LanguageIdentifier = lang.code().parse().expect("a language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // No invisible isolation marks around values: they would end up in email subjects
        // and plain text; the page's `dir` does the bidirectional work.
        bundle.set_use_isolating(false);
        let res = resource(&format!("{}.ftl", lang.code()), (*source).to_owned())?;
        bundle.add_resource(res).map_err(|e| LoadError::Syntax {
            file: format!("{}.ftl", lang.code()),
            message: format!("{e:?}"),
        })?;
        for (l, file, source) in extra.iter().filter(|(l, _, _)| l == lang) {
            let _ = l;
            bundle.add_resource_overriding(resource(file, source.clone())?);
        }
        bundles.insert(lang.code(), bundle);
    }
    let mut cat = Catalogue {
        bundles,
        texts: HashMap::new(),
    };
    for lang in Lang::ALL {
        let gathered = (
            Texts::gather(&cat, lang),
            OptInTexts::gather(&cat, lang),
            ReceiptTexts::gather(&cat, lang),
            RightsTexts::gather(&cat, lang),
        );
        cat.texts.insert(lang.code(), gathered);
    }
    Ok(cat)
}

/// Loads the built-in translations and, from `dir`, a deployment's own `<lang>.ftl` files
/// (for the languages the product has). Called once at start-up; without it the built-in
/// ones are used.
pub fn load(dir: Option<&std::path::Path>) -> Result<Vec<String>, LoadError> {
    let mut extra = Vec::new();
    if let Some(dir) = dir {
        for lang in Lang::ALL {
            let path = dir.join(format!("{}.ftl", lang.code()));
            match std::fs::read_to_string(&path) {
                Ok(source) => extra.push((lang, path.display().to_string(), source)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(LoadError::Read {
                        file: path.display().to_string(),
                        message: e.to_string(),
                    })
                }
            }
        }
    }
    let files: Vec<String> = extra.iter().map(|(_, f, _)| f.clone()).collect();
    if CATALOGUE.get().is_some() {
        // Several servers in one process (the tests): the built-in texts are there already.
        return if files.is_empty() {
            Ok(files)
        } else {
            Err(LoadError::Twice)
        };
    }
    let cat = build(&extra)?;
    // Another thread may have won the race with the same built-in texts: that is as good.
    let _ = CATALOGUE.set(cat);
    Ok(files)
}

fn catalogue() -> &'static Catalogue {
    CATALOGUE.get_or_init(|| build(&[]).expect("the built-in translations parse"))
}

impl Catalogue {
    /// A message in `lang`, else in English, else its id (a missing message shows, it does
    /// not break the page; a test keeps every language complete).
    fn message(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
        for code in [lang.code(), Lang::En.code()] {
            let Some(bundle) = self.bundles.get(code) else {
                continue;
            };
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, args, &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }
}

/// A message with arguments, in `lang`.
pub fn message(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        fa.set(*k, FluentValue::from(*v));
    }
    catalogue().message(lang, id, Some(&fa))
}

/// Every message id of a language's files (built-in and the deployment's).
pub fn ids(lang: Lang) -> Vec<String> {
    let mut out: Vec<String> = BUILT_IN
        .iter()
        .filter(|(l, _)| *l == lang)
        .flat_map(|(_, src)| {
            src.lines()
                .filter(|l| !l.starts_with([' ', '#', '-']) && l.contains(" = "))
                .filter_map(|l| l.split(" = ").next().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

fn leak(s: String) -> &'static str {
    // Once per message and language, at start-up: the texts live as long as the program.
    Box::leak(s.into_boxed_str())
}

/// Declares a struct of plain messages gathered from the catalogue (field name = message id).
macro_rules! gathered {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident),* $(,)? }) => {
        $(#[$doc])*
        pub struct $name {
            pub lang: &'static str,
            $($(#[$fdoc])* pub $field: &'static str,)*
        }

        impl $name {
            fn gather(cat: &Catalogue, lang: Lang) -> $name {
                $name {
                    lang: lang.code(),
                    $($field: leak(cat.message(lang, stringify!($field), None)),)*
                }
            }

            /// The ids it gathers (the completeness test checks every language has them).
            #[cfg(test)]
            const IDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}

gathered!(
    /// The pages' texts.
    Texts {
        skip_to_content,
        invalid_title,
        invalid_body,
        invalid_hint,
        error_title,
        error_body,
        unsubscribe_title,
        unsubscribe_intro,
        you_receive,
        nothing_received,
        unsubscribe_from,
        unsubscribe_all,
        unsubscribe_all_hint,
        manage_link,
        center_title,
        center_intro,
        save,
        save_hint,
        mandatory_heading,
        mandatory_note,
        pending_note,
        done_title,
        done_nothing,
        /// Headings of the "what changed" page, one per kind of effect.
        no_longer_receive,
        now_receive,
        waiting_confirmation,
        undo,
        undo_hint,
        undone_title,
        back_to_center,
        one_click_done,
        bad_request_title,
        bad_request_body,
        footer_why,
        privacy_policy,
        for_address,
        generic_brand,
        /// Between a label and what it introduces (French puts a space before the colon).
        colon,
        channel_label_email,
        channel_label_sms,
        channel_label_phone,
        channel_word_email,
        channel_word_sms,
        channel_word_phone,
    }
);

pub fn texts(lang: Lang) -> &'static Texts {
    &catalogue().texts[lang.code()].0
}

impl Texts {
    fn lang(&self) -> Lang {
        Lang::parse(self.lang).unwrap_or_default()
    }

    /// A channel's name as a label ("Text message").
    pub fn channel(&self, c: Channel) -> &'static str {
        match c {
            Channel::Email => self.channel_label_email,
            Channel::Sms => self.channel_label_sms,
            Channel::Phone => self.channel_label_phone,
        }
    }

    fn channel_word(&self, c: Channel) -> &'static str {
        match c {
            Channel::Email => self.channel_word_email,
            Channel::Sms => self.channel_word_sms,
            Channel::Phone => self.channel_word_phone,
        }
    }

    /// The accessible name of one topic's unsubscribe button.
    pub fn unsubscribe_from_topic(&self, topic: &str) -> String {
        message(self.lang(), "unsubscribe_from_topic", &[("topic", topic)])
    }

    /// Words as a list in the language ("email, text message and phone").
    fn list(&self, words: &[&str]) -> String {
        match words {
            [] => String::new(),
            [one] => (*one).to_owned(),
            [first, second] => message(
                self.lang(),
                "list_two",
                &[("first", first), ("second", second)],
            ),
            [first, rest @ ..] => message(
                self.lang(),
                "list_more",
                &[("first", first), ("rest", &self.list(rest))],
            ),
        }
    }

    /// One line of the "what changed" page: "Events by email and text message".
    pub fn topic_by_channels(&self, what: &str, channels: &[Channel]) -> String {
        let words: Vec<&str> = channels.iter().map(|c| self.channel_word(*c)).collect();
        message(
            self.lang(),
            "topic_by_channels",
            &[("topic", what), ("channels", &self.list(&words))],
        )
    }
}

gathered!(
    /// Texts of double opt-in: the confirm page, the sign-up form and the emails.
    OptInTexts {
        /// Under "waiting for your confirmation" on the done page.
        check_inbox_hint,
        confirm_title,
        confirm_intro,
        confirm_keep_hint,
        confirm_button,
        confirmed_title,
        confirmed_intro,
        already_title,
        already_intro,
        expired_title,
        expired_intro,
        resend_button,
        resent_title,
        resent_body,
        nothing_title,
        nothing_body,
        none_kept_title,
        none_kept_body,
        signup_title,
        signup_intro,
        email_label,
        email_hint,
        topics_legend,
        language_label,
        signup_button,
        signup_privacy,
        sent_title,
        sent_body,
        error_email,
        error_no_topic,
        error_heading,
        too_many_title,
        too_many_body,
        mail_subject,
        mail_reminder_subject,
        mail_greeting,
        mail_intro,
        mail_reminder_intro,
        mail_button,
        mail_link_hint,
        mail_expires,
        mail_ignore,
        mail_why,
        /// The notice of a change staff recorded.
        notice_subject,
        notice_intro_phone,
        notice_intro_in_person,
        notice_intro_paper,
        notice_opted_in,
        notice_opted_out,
        notice_correct,
        notice_button,
        notice_why,
    }
);

pub fn optin_texts(lang: Lang) -> &'static OptInTexts {
    &catalogue().texts[lang.code()].1
}

gathered!(
    /// Texts of consent receipts: the offer on the "what changed" and confirm pages, and the
    /// public page that checks a receipt.
    ReceiptTexts {
        offer_heading,
        offer_body,
        download,
        check_link,
        check_title,
        check_intro,
        paste_label,
        file_label,
        check_button,
        empty,
        valid_title,
        /// Before the key's id.
        signed_with,
        current,
        superseded,
        not_in_ledger,
        /// (Its own id: the pages' `invalid_title` is about links.)
        receipt_invalid_title,
        not_a_receipt,
        unknown_key,
        bad_signature,
        records_heading,
        controller,
        recorded_at,
        receipt_id,
        principal,
        value_opted_in,
        value_opted_out,
        value_pending,
        value_not_set,
    }
);

pub fn receipt_texts(lang: Lang) -> &'static ReceiptTexts {
    &catalogue().texts[lang.code()].2
}

impl ReceiptTexts {
    /// A recorded value as words.
    pub fn value(&self, v: crate::domain::ConsentValue) -> &'static str {
        use crate::domain::ConsentValue::*;
        match v {
            OptedIn => self.value_opted_in,
            OptedOut => self.value_opted_out,
            Pending => self.value_pending,
            NotSet => self.value_not_set,
        }
    }
}

gathered!(
    /// Texts of a contact's data requests: the preference page's offer, the pages of the
    /// emailed links, and the emails.
    RightsTexts {
        rights_heading,
        rights_intro,
        rights_copy_button,
        rights_erase_button,
        rights_erase_hint,
        rights_sent_title,
        rights_copy_sent,
        rights_erase_sent,
        rights_same,
        rights_no_email,
        download_title,
        download_intro,
        download_json,
        download_csv,
        download_until,
        forget_title,
        forget_intro,
        forget_kept,
        forget_button,
        forget_done_title,
        forget_done_body,
        rights_copy_subject,
        rights_copy_intro,
        rights_copy_mail_button,
        rights_copy_ignore,
        rights_erase_subject,
        rights_erase_intro,
        rights_erase_mail_button,
        rights_erase_ignore,
        rights_mail_why,
    }
);

pub fn rights_texts(lang: Lang) -> &'static RightsTexts {
    &catalogue().texts[lang.code()].3
}

/// The first lines of a confirmation email to a child's parent or guardian, naming the child
/// by their masked address.
pub fn custodian_intro(lang: Lang, child: &str) -> String {
    message(lang, "mail_custodian_intro", &[("child", child)])
}

/// A date as a reader of the language writes it ("30 November 2026", "30. November 2026").
pub fn long_date(lang: Lang, day: u8, month: u8, year: i32) -> String {
    let month = catalogue().message(lang, &format!("month_{}", month.clamp(1, 12)), None);
    message(
        lang,
        "long_date",
        &[
            ("day", &day.to_string()),
            ("month", &month),
            ("year", &year.to_string()),
        ],
    )
}

/// A moment's day as a reader of the language writes it.
#[cfg(feature = "ssr")]
pub fn date(lang: Lang, t: time::OffsetDateTime) -> String {
    long_date(lang, t.day(), u8::from(t.month()), t.year())
}

/// A language's name in itself, for a language menu.
pub fn language_name(lang: Lang) -> &'static str {
    lang.endonym()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_lines_name_the_topic_once_with_its_channels() {
        let en = texts(Lang::En);
        assert_eq!(
            en.topic_by_channels("Events", &[Channel::Email, Channel::Sms]),
            "Events by email and text message"
        );
        assert_eq!(
            en.topic_by_channels("Newsletter", &[Channel::Email]),
            "Newsletter by email"
        );
        assert_eq!(
            en.topic_by_channels("Offers", &Channel::ALL),
            "Offers by email, text message and phone"
        );
        assert_eq!(
            texts(Lang::Fr).topic_by_channels("Events", &[Channel::Email, Channel::Sms]),
            "Events par e-mail et SMS"
        );
        assert_eq!(
            texts(Lang::En).unsubscribe_from_topic("Events"),
            "Unsubscribe from Events"
        );
    }

    #[test]
    fn every_language_has_every_message_of_english() {
        let english = ids(Lang::En);
        for id in Texts::IDS
            .iter()
            .chain(OptInTexts::IDS)
            .chain(ReceiptTexts::IDS)
            .chain(RightsTexts::IDS)
        {
            assert!(english.iter().any(|e| e == id), "en.ftl lacks {id}");
        }
        for l in Lang::ALL {
            assert_eq!(texts(l).lang, l.code());
            let theirs = ids(l);
            let missing: Vec<_> = english.iter().filter(|id| !theirs.contains(id)).collect();
            let extra: Vec<_> = theirs.iter().filter(|id| !english.contains(id)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}.ftl: missing {missing:?}, unknown {extra:?}",
                l.code()
            );
        }
    }

    #[test]
    fn every_file_parses_and_no_message_is_left_in_english_by_mistake() {
        for (lang, src) in BUILT_IN {
            assert!(
                FluentResource::try_new((*src).to_owned()).is_ok(),
                "{}",
                lang.code()
            );
        }
        for l in [Lang::De, Lang::Fr, Lang::Ar] {
            assert_ne!(texts(l).center_title, texts(Lang::En).center_title);
            assert_ne!(
                optin_texts(l).mail_subject,
                optin_texts(Lang::En).mail_subject
            );
        }
    }

    #[test]
    fn dates_follow_each_language_s_order() {
        assert_eq!(long_date(Lang::En, 30, 11, 2026), "30 November 2026");
        assert_eq!(long_date(Lang::Fr, 1, 8, 2026), "1 août 2026");
        assert_eq!(long_date(Lang::De, 30, 11, 2026), "30. November 2026");
        assert!(long_date(Lang::Ar, 30, 11, 2026).contains("2026"));
    }

    #[test]
    fn a_deployment_s_file_replaces_built_in_messages() {
        let extra = vec![(
            Lang::De,
            "custom/de.ftl".to_owned(),
            "center_title = Ihre Einstellungen bei uns\n".to_owned(),
        )];
        let cat = build(&extra).unwrap();
        assert_eq!(cat.texts["de"].0.center_title, "Ihre Einstellungen bei uns");
        assert_eq!(cat.texts["en"].0.center_title, texts(Lang::En).center_title);
        let broken = vec![(Lang::De, "x.ftl".to_owned(), "= nothing\n".to_owned())];
        assert!(matches!(build(&broken), Err(LoadError::Syntax { .. })));
    }
}
