//! The contact's data requests on the public pages: the answer to asking (check your inbox),
//! the page of the emailed download link, and the page that confirms an erasure (a POST) and
//! says it is done. Plain forms and links: they work with JavaScript disabled.

use super::Layout;
use crate::domain::parse::Lang;
use crate::i18n::{rights_texts, texts};
use crate::views::Brand;
use leptos::prelude::*;

/// What the "check your inbox" page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Copy,
    Erasure,
    /// The same request moments ago: no second email.
    Same,
}

/// `GET /u/{token}/sent`: the request's email is on its way.
pub fn sent_page(
    brand: Brand,
    lang: Lang,
    address: String,
    sent: Sent,
    token: &str,
) -> impl IntoView {
    let r = rights_texts(lang);
    let t = texts(lang);
    let body = match sent {
        Sent::Copy => r.rights_copy_sent,
        Sent::Erasure => r.rights_erase_sent,
        Sent::Same => r.rights_same,
    };
    let back = format!("/p/{token}?lang={}", lang.code());
    view! {
        <Layout brand=Some(brand) lang=lang title=r.rights_sent_title.to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{r.rights_sent_title}</h1>
                <p class="for">{t.for_address} " " <strong><bdi>{address}</bdi></strong></p>
                <p id="sent">{body}</p>
                <p><a href=back>{t.back_to_center}</a></p>
            </section>
        </Layout>
    }
}

/// `GET /d/{token}`: the downloads of the contact's data package.
pub fn download_page(
    brand: Brand,
    lang: Lang,
    address: String,
    token: &str,
    until: String,
) -> impl IntoView {
    let r = rights_texts(lang);
    let t = texts(lang);
    let json = format!("/d/{token}/data.json");
    let csv = format!("/d/{token}/history.csv");
    view! {
        <Layout brand=Some(brand) lang=lang title=r.download_title.to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{r.download_title}</h1>
                <p class="for">{t.for_address} " " <strong><bdi>{address}</bdi></strong></p>
                <p class="intro">{r.download_intro}</p>
                <p class="actions">
                    <a class="btn btn-primary" href=json download="">{r.download_json}</a>
                    <a class="btn btn-quiet" href=csv download="">{r.download_csv}</a>
                </p>
                <p class="muted">{r.download_until} " " {until} "."</p>
            </section>
        </Layout>
    }
}

/// `GET /f/{token}`: what an erasure does, and the button that carries it out.
pub fn forget_page(brand: Brand, lang: Lang, address: String, token: &str) -> impl IntoView {
    let r = rights_texts(lang);
    let t = texts(lang);
    let action = format!("/f/{token}");
    view! {
        <Layout brand=Some(brand) lang=lang title=r.forget_title.to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{r.forget_title}</h1>
                <p class="for">{t.for_address} " " <strong><bdi>{address}</bdi></strong></p>
                <p class="intro">{r.forget_intro}</p>
                <p class="muted">{r.forget_kept}</p>
                <form method="post" action=action>
                    <input type="hidden" name="action" value="forget"/>
                    <input type="hidden" name="lang" value=lang.code()/>
                    <button type="submit" class="btn btn-danger">{r.forget_button}</button>
                </form>
            </section>
        </Layout>
    }
}

/// The answer to the erasure's button: done (the links no longer work, so this page is the
/// POST's answer, not a page to come back to).
pub fn forgotten_page(brand: Brand, lang: Lang) -> impl IntoView {
    let r = rights_texts(lang);
    view! {
        <Layout brand=Some(brand) lang=lang title=r.forget_done_title.to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">{r.forget_done_title}</h1>
                <p id="forgotten">{r.forget_done_body}</p>
            </section>
        </Layout>
    }
}
