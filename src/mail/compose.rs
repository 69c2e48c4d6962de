//! The confirmation email: multipart plain text and HTML, branded like the pages, in the
//! contact's language, every word from the catalogue. No `List-Unsubscribe`: a confirmation
//! request is not a subscription mail, and ignoring it is how one declines.

use crate::domain::parse::Lang;
use crate::i18n::{optin_texts, texts};
use crate::views::{Brand, ConfirmItem};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation replies to us.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// What one confirmation email says.
pub struct ConfirmEmail<'a> {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Mailbox,
    pub message_id: &'a str,
    pub brand: &'a Brand,
    pub lang: Lang,
    pub items: &'a [ConfirmItem],
    pub confirm_url: &'a str,
    /// Already formatted for the reader ("30 November 2026").
    pub expires: &'a str,
    pub reminder: bool,
    /// Sent to a child's custodian: the child's masked address.
    pub custodian_of: Option<&'a str>,
}

/// The email's first lines: a custodian is told whose request it is; else the (reminder's)
/// intro, in the brand's words when it has its own.
fn confirm_intro(e: &ConfirmEmail<'_>) -> String {
    let t = optin_texts(e.lang);
    match e.custodian_of {
        Some(child) => crate::i18n::custodian_intro(e.lang, child),
        None if e.reminder => e
            .brand
            .text("mail_reminder_intro", t.mail_reminder_intro)
            .to_owned(),
        None => e.brand.text("mail_intro", t.mail_intro).to_owned(),
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "Newsletter (email)"
fn item_line(lang: Lang, i: &ConfirmItem) -> String {
    format!(
        "{} ({})",
        i.name,
        texts(lang).channel(i.channel).to_lowercase()
    )
}

pub fn text_body(e: &ConfirmEmail<'_>) -> String {
    let t = optin_texts(e.lang);
    let mut s = String::new();
    s.push_str(t.mail_greeting);
    s.push_str("\n\n");
    s.push_str(&confirm_intro(e));
    s.push_str("\n\n");
    for i in e.items {
        s.push_str("  - ");
        s.push_str(&item_line(e.lang, i));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(e.brand.text("mail_button", t.mail_button));
    s.push_str(":\n");
    s.push_str(e.confirm_url);
    s.push_str("\n\n");
    s.push_str(&format!("{} {}.\n\n", t.mail_expires, e.expires));
    s.push_str(t.mail_ignore);
    s.push_str("\n\n-- \n");
    s.push_str(t.mail_why);
    s.push('\n');
    s.push_str(&e.brand.footer_address);
    s.push('\n');
    if let Some(legal) = &e.brand.legal_footer {
        s.push_str(legal);
        s.push('\n');
    }
    s
}

pub fn html_body(e: &ConfirmEmail<'_>) -> String {
    let t = optin_texts(e.lang);
    let items: String = e
        .items
        .iter()
        .map(|i| format!("<li>{}</li>", esc(&item_line(e.lang, i))))
        .collect();
    let intro = confirm_intro(e);
    let title = if e.reminder {
        e.brand
            .text("mail_reminder_subject", t.mail_reminder_subject)
    } else {
        e.brand.text("mail_subject", t.mail_subject)
    };
    let body = format!(
        r#"<p style="margin:0 0 16px;">{greeting}</p>
<p style="margin:0 0 16px;">{intro}</p>
<ul style="margin:0 0 24px;padding:0 20px;">{items}</ul>
{button}
<p style="margin:0 0 8px;font-size:14px;color:#4a5365;">{hint}</p>
<p style="margin:0 0 16px;font-size:14px;word-break:break-all;"><a href="{url}" style="color:#0b4f91;">{url}</a></p>
<p style="margin:0 0 16px;font-size:14px;color:#4a5365;">{expires_label} {expires}.</p>
<p style="margin:0;font-size:14px;color:#4a5365;">{ignore}</p>"#,
        greeting = esc(t.mail_greeting),
        intro = esc(&intro),
        items = items,
        button = button(
            e.brand,
            e.confirm_url,
            e.brand.text("mail_button", t.mail_button)
        ),
        url = esc(e.confirm_url),
        hint = esc(t.mail_link_hint),
        expires_label = esc(t.mail_expires),
        expires = esc(e.expires),
        ignore = esc(t.mail_ignore),
    );
    branded(e.lang, e.brand, title, &body, t.mail_why)
}

/// A brand-coloured button to `url`.
fn button(b: &Brand, url: &str, label: &str) -> String {
    format!(
        r#"<p style="margin:0 0 24px;"><a href="{url}" style="display:inline-block;background:{primary};color:{on_primary};text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600;">{label}</a></p>"#,
        url = esc(url),
        primary = b.primary,
        on_primary = b.on_primary,
        label = esc(label),
    )
}

/// A contact's email as HTML: the brand's bar, `body` (HTML already escaped), and the footer
/// (why they receive it, the postal address, the legal footer). Inline styles only: mail
/// clients drop style sheets. Brand colours are validated `#rrggbb`.
fn branded(lang: Lang, b: &Brand, title: &str, body: &str, why: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}" dir="{dir}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body dir="{dir}" style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2330;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;overflow:hidden;">
<tr><td style="background:{primary};color:{on_primary};padding:16px 24px;font-size:18px;font-weight:600;">{brand}</td></tr>
<tr><td style="padding:24px;font-size:16px;line-height:1.5;">
{body}
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e3e6eb;font-size:12px;line-height:1.5;color:#4a5365;">{why}<br>{address}{legal}</td></tr>
</table></td></tr></table>
</body></html>"#,
        lang = lang.code(),
        dir = lang.dir(),
        title = esc(title),
        primary = b.primary,
        on_primary = b.on_primary,
        brand = esc(&b.name),
        body = body,
        why = esc(why),
        address = esc(&b.footer_address).replace('\n', "<br>"),
        legal = b
            .legal_footer
            .as_deref()
            .map(|l| format!("<br>{}", esc(l).replace('\n', "<br>")))
            .unwrap_or_default(),
    )
}

/// Builds the message. Fails only if an address cannot be put in a header.
pub fn confirmation(e: &ConfirmEmail<'_>) -> Result<Message, String> {
    let t = optin_texts(e.lang);
    let subject = if e.reminder {
        e.brand
            .text("mail_reminder_subject", t.mail_reminder_subject)
    } else {
        e.brand.text("mail_subject", t.mail_subject)
    };
    to_contact(
        (&e.from, e.reply_to.as_ref(), &e.to),
        e.message_id,
        subject,
        text_body(e),
        html_body(e),
    )
}

/// A message to a contact: both parts, its own Message-ID, `Auto-Submitted` (RFC 3834: no
/// vacation replies to us). Fails only if an address cannot be put in a header.
fn to_contact(
    (from, reply_to, to): (&Mailbox, Option<&Mailbox>, &Mailbox),
    message_id: &str,
    subject: &str,
    text: String,
    html: String,
) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject)
        .message_id(Some(message_id.to_owned()))
        .date_now()
        .header(AutoSubmitted);
    if let Some(r) = reply_to {
        b = b.reply_to(r.clone());
    }
    b.multipart(
        MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html),
            ),
    )
    .map_err(|err| err.to_string())
}

/// The display name console emails come from (the server-wide sender address).
pub const CONSOLE_SENDER: &str = "Preference center";

/// An invitation to the console.
pub struct InviteEmail<'a> {
    pub from: Mailbox,
    pub to: Mailbox,
    pub message_id: &'a str,
    pub role: crate::domain::auth::Role,
    pub accept_url: &'a str,
    /// Already formatted for the reader ("1 December 2026").
    pub expires: &'a str,
}

const INVITE_SUBJECT: &str = "You are invited to the preference center console";

fn invite_intro(e: &InviteEmail<'_>) -> String {
    format!(
        "You have been invited to the preference center console as {} {}. Choose your password to sign in.",
        match e.role {
            crate::domain::auth::Role::Admin => "an",
            _ => "a",
        },
        e.role.label().to_lowercase()
    )
}

pub fn invite_text_body(e: &InviteEmail<'_>) -> String {
    format!(
        "Hello,\n\n{}\n\nChoose your password:\n{}\n\nThe link works until {}. If you did not expect this, ignore this email: nothing happens without it.\n",
        invite_intro(e),
        e.accept_url,
        e.expires
    )
}

pub fn invite_html_body(e: &InviteEmail<'_>) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2330;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;overflow:hidden;">
<tr><td style="background:#1d2330;color:#ffffff;padding:16px 24px;font-size:18px;font-weight:600;">Preference center console</td></tr>
<tr><td style="padding:24px;font-size:16px;line-height:1.5;">
<p style="margin:0 0 16px;">Hello,</p>
<p style="margin:0 0 24px;">{intro}</p>
<p style="margin:0 0 24px;"><a href="{url}" style="display:inline-block;background:#0b4f91;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600;">Choose your password</a></p>
<p style="margin:0 0 8px;font-size:14px;color:#4a5365;">If the button does not work, open this address:</p>
<p style="margin:0 0 16px;font-size:14px;word-break:break-all;"><a href="{url}" style="color:#0b4f91;">{url}</a></p>
<p style="margin:0;font-size:14px;color:#4a5365;">The link works until {expires}. If you did not expect this, ignore this email: nothing happens without it.</p>
</td></tr></table></td></tr></table>
</body></html>"#,
        title = esc(INVITE_SUBJECT),
        intro = esc(&invite_intro(e)),
        url = esc(e.accept_url),
        expires = esc(e.expires),
    )
}

/// Builds an invitation. Fails only if an address cannot be put in a header.
pub fn invitation(e: &InviteEmail<'_>) -> Result<Message, String> {
    Message::builder()
        .from(e.from.clone())
        .to(e.to.clone())
        .subject(INVITE_SUBJECT)
        .message_id(Some(e.message_id.to_owned()))
        .date_now()
        .header(AutoSubmitted)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(invite_text_body(e)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(invite_html_body(e)),
                ),
        )
        .map_err(|err| err.to_string())
}

pub use crate::domain::staff::Told;

/// The notice of a change staff recorded: what changed, and where to change it back.
pub struct NoticeEmail<'a> {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Mailbox,
    pub message_id: &'a str,
    pub brand: &'a Brand,
    pub lang: Lang,
    pub told: Told,
    /// What was recorded: the item (its name and channel) and whether it is now subscribed.
    pub items: &'a [(ConfirmItem, bool)],
    /// What was recorded of the profile (consent level, child, custodian, tracking), worded.
    pub facts: &'a [String],
    pub center_url: &'a str,
}

fn notice_intro(e: &NoticeEmail<'_>) -> &'static str {
    let t = optin_texts(e.lang);
    match e.told {
        Told::Phone => t.notice_intro_phone,
        Told::InPerson => t.notice_intro_in_person,
        Told::Paper => t.notice_intro_paper,
    }
}

fn notice_lines(e: &NoticeEmail<'_>) -> Vec<String> {
    let t = optin_texts(e.lang);
    e.items
        .iter()
        .map(|(i, on)| {
            format!(
                "{}: {}",
                item_line(e.lang, i),
                if *on {
                    t.notice_opted_in
                } else {
                    t.notice_opted_out
                }
            )
        })
        .chain(e.facts.iter().cloned())
        .collect()
}

pub fn notice_text_body(e: &NoticeEmail<'_>) -> String {
    let t = optin_texts(e.lang);
    let mut s = format!("{}\n\n{}\n\n", t.mail_greeting, notice_intro(e));
    for l in notice_lines(e) {
        s.push_str("  - ");
        s.push_str(&l);
        s.push('\n');
    }
    s.push_str(&format!(
        "\n{}\n{}\n\n-- \n{}\n{}\n",
        t.notice_correct, e.center_url, t.notice_why, e.brand.footer_address
    ));
    if let Some(legal) = &e.brand.legal_footer {
        s.push_str(legal);
        s.push('\n');
    }
    s
}

pub fn notice_html_body(e: &NoticeEmail<'_>) -> String {
    let t = optin_texts(e.lang);
    let items: String = notice_lines(e)
        .iter()
        .map(|l| format!("<li>{}</li>", esc(l)))
        .collect();
    let body = format!(
        r#"<p style="margin:0 0 16px;">{greeting}</p>
<p style="margin:0 0 16px;">{intro}</p>
<ul style="margin:0 0 24px;padding:0 20px;">{items}</ul>
<p style="margin:0 0 16px;">{correct}</p>
{button}
<p style="margin:0 0 8px;font-size:14px;color:#4a5365;">{hint}</p>
<p style="margin:0;font-size:14px;word-break:break-all;"><a href="{url}" style="color:#0b4f91;">{url}</a></p>"#,
        greeting = esc(t.mail_greeting),
        intro = esc(notice_intro(e)),
        items = items,
        correct = esc(t.notice_correct),
        button = button(e.brand, e.center_url, t.notice_button),
        hint = esc(t.mail_link_hint),
        url = esc(e.center_url),
    );
    branded(e.lang, e.brand, t.notice_subject, &body, t.notice_why)
}

/// Builds the notice. Fails only if an address cannot be put in a header.
pub fn notice(e: &NoticeEmail<'_>) -> Result<Message, String> {
    to_contact(
        (&e.from, e.reply_to.as_ref(), &e.to),
        e.message_id,
        optin_texts(e.lang).notice_subject,
        notice_text_body(e),
        notice_html_body(e),
    )
}

/// The email of a contact's data request: the link to download their data, or the link to
/// confirm an erasure.
pub struct RequestEmail<'a> {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Mailbox,
    pub message_id: &'a str,
    pub brand: &'a Brand,
    pub lang: Lang,
    /// A copy of the data (`true`), or an erasure.
    pub copy: bool,
    pub url: &'a str,
    /// When the link stops working, as a date in the language.
    pub expires: &'a str,
}

/// (subject, intro, button, ignore) of a request's email.
fn request_words(e: &RequestEmail<'_>) -> (&'static str, &'static str, &'static str, &'static str) {
    let t = crate::i18n::rights_texts(e.lang);
    if e.copy {
        (
            t.rights_copy_subject,
            t.rights_copy_intro,
            t.rights_copy_mail_button,
            t.rights_copy_ignore,
        )
    } else {
        (
            t.rights_erase_subject,
            t.rights_erase_intro,
            t.rights_erase_mail_button,
            t.rights_erase_ignore,
        )
    }
}

pub fn request_text_body(e: &RequestEmail<'_>) -> String {
    let (o, r) = (optin_texts(e.lang), crate::i18n::rights_texts(e.lang));
    let (_, intro, _, ignore) = request_words(e);
    let mut s = format!(
        "{}\n\n{intro}\n\n{}\n\n{} {}.\n\n{ignore}\n\n-- \n{}\n{}\n",
        o.mail_greeting,
        e.url,
        o.mail_expires,
        e.expires,
        r.rights_mail_why,
        e.brand.footer_address
    );
    if let Some(legal) = &e.brand.legal_footer {
        s.push_str(legal);
        s.push('\n');
    }
    s
}

pub fn request_html_body(e: &RequestEmail<'_>) -> String {
    let (o, r) = (optin_texts(e.lang), crate::i18n::rights_texts(e.lang));
    let (subject, intro, label, ignore) = request_words(e);
    let body = format!(
        r#"<p style="margin:0 0 16px;">{greeting}</p>
<p style="margin:0 0 16px;">{intro}</p>
{button}
<p style="margin:0 0 8px;font-size:14px;color:#4a5365;">{hint}</p>
<p style="margin:0 0 16px;font-size:14px;word-break:break-all;"><a href="{url}" style="color:#0b4f91;">{url}</a></p>
<p style="margin:0 0 16px;font-size:14px;">{expires_label} {expires}.</p>
<p style="margin:0;font-size:14px;color:#4a5365;">{ignore}</p>"#,
        greeting = esc(o.mail_greeting),
        intro = esc(intro),
        button = button(e.brand, e.url, label),
        hint = esc(o.mail_link_hint),
        url = esc(e.url),
        expires_label = esc(o.mail_expires),
        expires = esc(e.expires),
        ignore = esc(ignore),
    );
    branded(e.lang, e.brand, subject, &body, r.rights_mail_why)
}

/// Builds a request's email. Fails only if an address cannot be put in a header.
pub fn request(e: &RequestEmail<'_>) -> Result<Message, String> {
    to_contact(
        (&e.from, e.reply_to.as_ref(), &e.to),
        e.message_id,
        request_words(e).0,
        request_text_body(e),
        request_html_body(e),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;

    fn email(url: &str) -> (Brand, Vec<ConfirmItem>, String) {
        let brand = Brand {
            name: "Contoso <Ltd>".into(),
            primary: "#0f5fa8".into(),
            on_primary: "#ffffff".into(),
            footer_address: "4567 Main Street".into(),
            legal_footer: Some("Contoso Ltd, registered in <Ruritania>".into()),
            privacy_url: None,
            font: String::new(),
            header: None,
            unsubscribe_all: true,
            texts: Default::default(),
            logo: None,
        };
        let items = vec![ConfirmItem {
            field: "t1.email".into(),
            name: "Newsletter".into(),
            channel: Channel::Email,
        }];
        (brand, items, url.to_owned())
    }

    #[test]
    fn a_confirmation_has_both_parts_the_headers_and_no_list_unsubscribe() {
        let (brand, items, url) = email("http://localhost:3000/c/abc");
        let e = ConfirmEmail {
            from: "Contoso <news@contoso.com>".parse().unwrap(),
            reply_to: Some("privacy@contoso.com".parse().unwrap()),
            to: "holly@contoso.com".parse().unwrap(),
            message_id: "<abc@localhost>",
            brand: &brand,
            lang: Lang::En,
            items: &items,
            confirm_url: &url,
            expires: "30 November 2026",
            reminder: false,
            custodian_of: None,
        };
        let m = confirmation(&e).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <abc@localhost>"), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-generated"));
        assert!(raw.contains("Date: "));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        assert!(!raw.to_ascii_lowercase().contains("list-unsubscribe"));
        // The brand name is text, never markup.
        assert!(html_body(&e).contains("Contoso &lt;Ltd&gt;"));
        assert!(html_body(&e).contains("registered in &lt;Ruritania&gt;"));
        assert!(text_body(&e).contains("registered in <Ruritania>"));
        assert!(text_body(&e).contains("http://localhost:3000/c/abc"));
        assert!(text_body(&e).contains("Newsletter (email)"));
        // Admin-written names are text in the HTML part too.
        let items = vec![ConfirmItem {
            field: "t1.email".into(),
            name: "<img src=x onerror=\"alert(1)\">".into(),
            channel: Channel::Email,
        }];
        let e2 = ConfirmEmail { items: &items, ..e };
        let html = html_body(&e2);
        assert!(
            html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
            "{html}"
        );
        assert!(!html.contains("<img"));
    }

    #[test]
    fn an_invitation_names_the_role_and_the_link() {
        let e = InviteEmail {
            from: "Preference center <noreply@example.org>".parse().unwrap(),
            to: "new@example.org".parse().unwrap(),
            message_id: "<inv@localhost>",
            role: crate::domain::auth::Role::Admin,
            accept_url: "http://localhost:3000/admin/invite/abc?x=<1>",
            expires: "1 December 2026",
        };
        let raw = String::from_utf8(invitation(&e).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <inv@localhost>"));
        assert!(invite_text_body(&e).contains("as an admin"));
        assert!(invite_text_body(&e).contains("http://localhost:3000/admin/invite/abc"));
        assert!(invite_html_body(&e).contains("abc?x=&lt;1&gt;"));
    }

    #[test]
    fn a_notice_says_what_staff_recorded_how_and_where_to_correct_it() {
        let (brand, items, url) = email("https://prefs.example.com/p/abc<def>");
        let mut items: Vec<(ConfirmItem, bool)> = items.into_iter().map(|i| (i, false)).collect();
        items.push((
            ConfirmItem {
                field: String::new(),
                name: "Events <live>".into(),
                channel: Channel::Sms,
            },
            true,
        ));
        let e = NoticeEmail {
            from: "Contoso <news@contoso.com>".parse().unwrap(),
            reply_to: None,
            to: "holly@contoso.com".parse().unwrap(),
            message_id: "<n1@prefs.example.com>",
            brand: &brand,
            lang: Lang::En,
            told: Told::Phone,
            items: &items,
            facts: &["Consent level (from 0 to 5): now 2, before 4".to_owned()],
            center_url: &url,
        };
        let text = notice_text_body(&e);
        assert!(text.contains("as you told us by phone"), "{text}");
        assert!(text.contains("Newsletter (email): unsubscribed"), "{text}");
        assert!(
            text.contains("  - Consent level (from 0 to 5): now 2, before 4"),
            "{text}"
        );
        let sms = texts(Lang::En).channel(Channel::Sms).to_lowercase();
        assert!(
            text.contains(&format!("Events <live> ({sms}): subscribed")),
            "{text}"
        );
        assert!(text.contains(&url));
        let html = notice_html_body(&e);
        assert!(!html.contains("<live>") && html.contains("Events &lt;live&gt;"));
        assert!(html.contains("abc&lt;def&gt;") && !html.contains("abc<def>"));
        let m = notice(&e).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Subject: What we recorded about your email preferences"));
        assert!(raw.contains("Auto-Submitted: auto-generated"));
        let paper = NoticeEmail {
            told: Told::Paper,
            ..e
        };
        assert!(notice_text_body(&paper).contains("on paper"));
    }
}
