//! The branded frame every contact page shares, and the message page (invalid link, errors).

use crate::domain::parse::Lang;
use crate::i18n::texts;
use crate::views::Brand;
use leptos::prelude::*;
use leptos_meta::{Html, Style, Title};

/// Header with the brand, the main region, and the legal footer with the postal address.
#[component]
pub fn Layout(
    brand: Option<Brand>,
    lang: Lang,
    title: String,
    children: Children,
) -> impl IntoView {
    let t = texts(lang);
    let name = brand.as_ref().map(|b| b.name.clone());
    // Brand colours are validated `#rrggbb` data; the style element carries the CSP nonce.
    let css = brand.as_ref().map(|b| {
        // Validated `#rrggbb` colours and a font stack from the designer's fixed list.
        let font = if b.font.is_empty() {
            String::new()
        } else {
            format!("body{{font-family:{}}}", b.font)
        };
        format!(
            ":root{{--brand:{};--on-brand:{}}}{font}",
            b.primary, b.on_primary
        )
    });
    let header = brand.as_ref().and_then(|b| b.header.clone());
    let logo = brand.as_ref().and_then(|b| b.logo.clone());
    let full_title = match &name {
        Some(n) => format!("{title} · {n}"),
        None => title,
    };
    view! {
        // The language this page is rendered in, on <html> (the shell leaves it to the page).
        <Html {..} lang=lang.code() dir=lang.dir()/>
        <Title text=full_title/>
        {css.map(|c| view! { <Style>{c}</Style> })}
        <a class="skip" href="#content">{t.skip_to_content}</a>
        <header class="brandbar">
            <div class="wrap">
                {match logo {
                    // At most 48 px high, its width following; the brand's name is its text.
                    Some((src, w, h)) => {
                        let height = h.min(48);
                        let width = (u64::from(w) * u64::from(height) / u64::from(h.max(1))).max(1);
                        view! {
                            <img class="logo" src=src alt=name.clone().unwrap_or_default()
                                width=width.to_string() height=height.to_string()/>
                        }.into_any()
                    }
                    None => view! {
                        <span class="brandname">{name.clone().unwrap_or_else(|| t.generic_brand.to_owned())}</span>
                    }.into_any(),
                }}
                {header.map(|h| view! { <span class="brandline" dir="auto">{h}</span> })}
            </div>
        </header>
        <main id="content" class="wrap" tabindex="-1">
            {children()}
        </main>
        {brand.map(|b| {
            view! {
                <footer class="legal">
                    <div class="wrap">
                        <p>{t.footer_why} " " <bdi>{b.name.clone()}</bdi> "."</p>
                        <address dir="auto">{b.footer_address.clone()}</address>
                        {b.legal_footer.clone().map(|l| view! { <p class="legal-note" dir="auto">{l}</p> })}
                        {b.privacy_url.clone().map(|u| view! {
                            <p><a href=u rel="noopener">{t.privacy_policy}</a></p>
                        })}
                    </div>
                </footer>
            }
        })}
    }
}

/// A short page with a heading and a message (invalid link, error, bad request).
#[component]
pub fn MessagePage(
    brand: Option<Brand>,
    lang: Lang,
    title: &'static str,
    body: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <Layout brand=brand lang=lang title=title.to_owned()>
            <section class="card" aria-labelledby="msg-title">
                <h1 id="msg-title">{title}</h1>
                <p>{body}</p>
                {hint.map(|h| view! { <p class="muted">{h}</p> })}
            </section>
        </Layout>
    }
}
