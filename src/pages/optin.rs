//! The double opt-in pages: the confirm page behind the link in the email (a button confirms,
//! never the page load), and a profile's public sign-up form. Server-rendered, plain forms.

use super::Layout;
use crate::domain::parse::Lang;
use crate::i18n::{optin_texts, texts, OptInTexts};
use crate::views::{ConfirmItem, ConfirmState, ConfirmView, SignupView};
use leptos::prelude::*;

fn item_list(items: &[ConfirmItem], lang: Lang) -> impl IntoView {
    let t = texts(lang);
    view! {
        <ul class="changes" role="list">
            {items.iter().map(|i| view! {
                <li>{i.name.clone()} " (" {t.channel(i.channel).to_lowercase()} ")"</li>
            }).collect_view()}
        </ul>
    }
}

/// `GET /c/{token}`: what the request asks for, and the Confirm button. `after` is set by the
/// server's own redirect after a POST (`?done=confirmed|resent`): which words to use, nothing
/// more.
pub fn confirm_page(token: &str, v: ConfirmView, after: Option<&str>) -> impl IntoView {
    let t: &'static OptInTexts = optin_texts(v.lang);
    let action = format!("/c/{token}");
    // The published design's words where it replaced the catalogue's.
    let b = v.brand.clone();
    let (title, body): (String, AnyView) = match (v.state, after) {
        (ConfirmState::Open, _) => (
            b.text("confirm_title", t.confirm_title).to_owned(),
            view! {
                <p class="intro">{b.text("confirm_intro", t.confirm_intro).to_owned()}</p>
                <form method="post" action=action class="center">
                    <fieldset class="purpose">
                        <legend class="sr-only">{b.text("confirm_title", t.confirm_title).to_owned()}</legend>
                        <ul class="topics" role="list">
                            {v.items.iter().map(|i| {
                                let id = format!("k-{}", i.field.replace('.', "-"));
                                let label = format!("{} ({})", i.name, texts(v.lang).channel(i.channel).to_lowercase());
                                view! {
                                    <li class="topic">
                                        <span class="check">
                                            <input type="checkbox" id=id.clone() name=i.field.clone() value="on" checked=true/>
                                            <label for=id>{label}</label>
                                        </span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </fieldset>
                    <input type="hidden" name="action" value="confirm"/>
                    <p class="muted" id="keep-hint">{t.confirm_keep_hint}</p>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary" aria-describedby="keep-hint">{b.text("confirm_button", t.confirm_button).to_owned()}</button>
                    </div>
                </form>
            }
            .into_any(),
        ),
        // Everything unticked before pressing Confirm: nothing was opted in.
        (ConfirmState::AlreadyConfirmed, _) if v.items.is_empty() => (
            t.none_kept_title.to_owned(),
            view! { <div role="status"><p>{t.none_kept_body}</p></div> }.into_any(),
        ),
        (ConfirmState::AlreadyConfirmed, Some("confirmed")) => (
            b.text("confirmed_title", t.confirmed_title).to_owned(),
            view! { <div role="status"><p>{b.text("confirmed_intro", t.confirmed_intro).to_owned()}</p>{item_list(&v.items, v.lang)}</div> }.into_any(),
        ),
        (ConfirmState::AlreadyConfirmed, _) => (
            t.already_title.to_owned(),
            view! { <p>{t.already_intro}</p>{item_list(&v.items, v.lang)} }.into_any(),
        ),
        (ConfirmState::Expired, Some("resent")) => (
            t.resent_title.to_owned(),
            view! { <div role="status"><p>{t.resent_body}</p></div> }.into_any(),
        ),
        (ConfirmState::Expired, _) => (
            t.expired_title.to_owned(),
            view! {
                <p>{t.expired_intro}</p>
                {item_list(&v.items, v.lang)}
                <form method="post" action=action>
                    <input type="hidden" name="action" value="resend"/>
                    <button type="submit" class="btn btn-primary">{t.resend_button}</button>
                </form>
            }
            .into_any(),
        ),
        (ConfirmState::NothingPending, _) => (
            t.nothing_title.to_owned(),
            view! { <p>{t.nothing_body}</p> }.into_any(),
        ),
    };
    let pt = texts(v.lang);
    let receipt = v.receipt.then(|| {
        let href = format!("/c/{token}/receipt");
        view! { <super::ReceiptOffer href=href lang=v.lang/> }
    });
    view! {
        <Layout brand=Some(v.brand.clone()) lang=v.lang title=title.to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{title}</h1>
                <p class="for">{pt.for_address} " " <strong><bdi>{v.address.clone()}</bdi></strong></p>
                {body}
                {receipt}
            </section>
        </Layout>
    }
}

/// `GET /s/{profile}`: the public sign-up form (`?sent=1` after a sign-up, `?error=email|topic`
/// after a refused one: both set by the server's own redirect).
pub fn signup_page(v: SignupView, sent: bool, error: Option<&str>) -> impl IntoView {
    let t = optin_texts(v.lang);
    if sent {
        return view! {
            <Layout brand=Some(v.brand.clone()) lang=v.lang title=v.brand.text("sent_title", t.sent_title).to_owned()>
                <section class="card" aria-labelledby="page-title">
                    <h1 id="page-title" class="done">{v.brand.text("sent_title", t.sent_title).to_owned()}</h1>
                    <div role="status"><p>{v.brand.text("sent_body", t.sent_body).to_owned()}</p></div>
                </section>
            </Layout>
        }
        .into_any();
    }
    let message = match error {
        Some("email") => Some(t.error_email),
        Some("topic") => Some(t.error_no_topic),
        _ => None,
    };
    let email_invalid = error == Some("email");
    let action = format!("/s/{}", v.profile_key);
    view! {
        <Layout brand=Some(v.brand.clone()) lang=v.lang title=v.brand.text("signup_title", t.signup_title).to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{v.brand.text("signup_title", t.signup_title).to_owned()}</h1>
                <p class="intro">{v.brand.text("signup_intro", t.signup_intro).to_owned()}</p>
                {message.map(|m| view! {
                    <div class="error" role="alert" id="form-error">
                        <p><strong>{t.error_heading}</strong> " " {m}</p>
                    </div>
                })}
                <form method="post" action=action class="center" novalidate=true>
                    <input type="hidden" name="stamp" value=v.stamp.clone()/>
                    <div class="field">
                        <label for="email">{t.email_label}</label>
                        <input type="email" id="email" name="email" autocomplete="email" required=true
                            inputmode="email" maxlength="254" aria-describedby="email-hint"
                            aria-invalid=if email_invalid { "true" } else { "false" }/>
                        <span class="muted" id="email-hint">{t.email_hint}</span>
                    </div>
                    <fieldset class="purpose">
                        <legend>{t.topics_legend}</legend>
                        <ul class="topics" role="list">
                            {v.topics.iter().map(|topic| {
                                let id = format!("s-{}", topic.field.replace('.', "-"));
                                let desc = format!("{id}-d");
                                view! {
                                    <li class="topic">
                                        <div class="topic-text">
                                            <span class="check">
                                                <input type="checkbox" id=id.clone() name=topic.field.clone() value="on" aria-describedby=desc.clone()/>
                                                <label for=id class="topic-name" dir="auto">{topic.name.clone()}</label>
                                            </span>
                                            <span class="muted" id=desc dir="auto">{topic.description.clone()}</span>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </fieldset>
                    <div class="field">
                        <label for="lang">{t.language_label}</label>
                        <select id="lang" name="lang">
                            {Lang::ALL.iter().map(|l| view! {
                                <option value=l.code() selected=*l == v.lang>{crate::i18n::language_name(*l)}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">{v.brand.text("signup_button", t.signup_button).to_owned()}</button>
                    </div>
                    <p class="muted">{v.brand.text("signup_privacy", t.signup_privacy).to_owned()}</p>
                </form>
            </section>
        </Layout>
    }
    .into_any()
}
