//! Consent receipts on the contact's pages: the offer to download one (the "what changed" and
//! confirm pages), and the public page where anyone checks one. Plain forms, no script: the
//! check works by pasting or by choosing the file, with JavaScript disabled too.

use super::Layout;
use crate::domain::parse::Lang;
use crate::i18n::{receipt_texts, texts};
use crate::views::{ReceiptCheckView, ReceiptOutcome, ReceiptSummary};
use leptos::prelude::*;

/// Where the public check lives.
pub const CHECK_PATH: &str = "/receipt";

/// The download of a change's receipt, and where to check one.
#[component]
pub fn ReceiptOffer(href: String, lang: Lang) -> impl IntoView {
    let t = receipt_texts(lang);
    let check = format!("{CHECK_PATH}?lang={}", lang.code());
    view! {
        <section class="receipt" aria-labelledby="receipt-heading">
            <h2 id="receipt-heading">{t.offer_heading}</h2>
            <p class="muted">{t.offer_body}</p>
            <p class="actions">
                <a class="btn btn-quiet" href=href download="">{t.download}</a>
                <a href=check>{t.check_link}</a>
            </p>
        </section>
    }
}

fn summary(s: ReceiptSummary, lang: Lang) -> impl IntoView {
    let t = receipt_texts(lang);
    let pt = texts(lang);
    let (class, words) = match s.currency.as_str() {
        "current" => ("verdict ok", t.current),
        "superseded" => ("verdict", t.superseded),
        _ => ("verdict bad", t.not_in_ledger),
    };
    view! {
        <p>{t.signed_with} " " <code>{s.key_id}</code> "."</p>
        <p class=class id="currency">{words}</p>
        <h2>{t.records_heading}</h2>
        <dl class="facts">
            <dt>{t.controller}</dt><dd>{s.controller}</dd>
            <dt>{t.principal}</dt><dd>{s.principal}</dd>
            <dt>{t.recorded_at}</dt><dd>{s.recorded_at}</dd>
            <dt>{t.receipt_id}</dt><dd><code>{s.receipt_id}</code></dd>
        </dl>
        <ul class="changes" role="list">
            {s.lines.into_iter().map(|l| view! {
                <li>
                    {l.what} " (" {pt.channel(l.channel).to_lowercase()} ")" {pt.colon}
                    {t.value(l.old)} " → " <strong>{t.value(l.new)}</strong>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// `GET /receipt` (the form) and `POST /receipt` (the outcome, then the form for another).
pub fn receipt_check_page(v: ReceiptCheckView) -> impl IntoView {
    let lang = v.lang;
    let t = receipt_texts(lang);
    // The verdict is what the reader came for: it comes first, as the page's heading.
    let (verdict, empty) = match v.outcome {
        Some(ReceiptOutcome::Valid(s)) => (
            Some(
                view! {
                    <section class="card outcome" aria-labelledby="outcome-title" role="status">
                        <h1 id="outcome-title" class="done">{t.valid_title}</h1>
                        {summary(s, lang)}
                    </section>
                }
                .into_any(),
            ),
            false,
        ),
        Some(ReceiptOutcome::Invalid(code)) => {
            let why = match code.as_str() {
                "unknown_key" => t.unknown_key,
                "bad_signature" => t.bad_signature,
                _ => t.not_a_receipt,
            };
            (
                Some(
                    view! {
                        <section class="card outcome" aria-labelledby="outcome-title" role="alert">
                            <h1 id="outcome-title" class="refused">{t.receipt_invalid_title}</h1>
                            <p id="why">{why}</p>
                        </section>
                    }
                    .into_any(),
                ),
                false,
            )
        }
        Some(ReceiptOutcome::Empty) => (None, true),
        None => (None, false),
    };
    let heading = if verdict.is_some() {
        view! { <h2 id="page-title">{t.check_title}</h2> }.into_any()
    } else {
        view! { <h1 id="page-title">{t.check_title}</h1> }.into_any()
    };
    let action = format!("{CHECK_PATH}?lang={}", lang.code());
    view! {
        <Layout brand=None lang=lang title=t.check_title.to_owned()>
            {verdict}
            <section class="card" aria-labelledby="page-title">
                {heading}
                <p>{t.check_intro}</p>
                {empty.then(|| view! { <p id="why" class="refused" role="alert">{t.empty}</p> })}
                <form method="post" action=action enctype="multipart/form-data" class="check-form">
                    <label for="receipt-text">{t.paste_label}</label>
                    <textarea id="receipt-text" name="receipt" rows="6" spellcheck="false" autocomplete="off"></textarea>
                    <label for="receipt-file">{t.file_label}</label>
                    <input type="file" id="receipt-file" name="file" accept=".jws,.jwt,.txt,application/jose"/>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">{t.check_button}</button>
                    </div>
                </form>
            </section>
        </Layout>
    }
}
