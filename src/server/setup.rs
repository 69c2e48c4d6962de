//! The compliance setup's console routes (listed in `console::ROUTES`, admins only): profiles,
//! purposes and topics. Each handler checks the role first, then (for a POST) the form's
//! token and origin, then parses the form at the edge (`domain::setup`) before the service.

use super::console::{forbidden_post, Console};
use super::contact::form_pairs;
use super::pages::Page;
use super::AppState;
use crate::domain::auth::Permission;
use crate::domain::parse::Lang;
use crate::domain::setup::{self as forms, FieldError};
use crate::pages::setup::{self as views, Form, Frame};
use crate::services::consent::ServiceError;
use crate::services::setup;
use crate::store::catalog::{self, Catalog};
use crate::store::setup::{Item, Saved};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

fn frame(c: &Console) -> Frame {
    Frame {
        email: c.user.email.clone(),
        csrf: c.su.csrf.clone(),
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "There is no such profile, purpose or topic.",
    )
        .into_response()
}

/// A POST's checks: the role, then the form's token and origin; the form's fields.
async fn posted(
    state: &AppState,
    console: &Console,
    page: Page,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Page, Vec<(String, String)>), Response> {
    let (page, pairs) = console
        .posted(Permission::ConfigureProfiles, state, page, headers, body)
        .await?;
    // A NUL matches nothing and PostgreSQL refuses it in text: it goes at the edge.
    let pairs = pairs
        .into_iter()
        .map(|(k, v)| (k, v.replace('\0', "")))
        .collect();
    Ok((page, pairs))
}

/// A profile's catalogue, fresh from the database (the console never shows a cached one).
async fn load(state: &AppState, profile_id: i64) -> Result<Option<Catalog>, ServiceError> {
    Ok(catalog::load(&state.core.read, profile_id).await?)
}

fn server_defaults(state: &AppState) -> (i64, Option<i64>) {
    let p = &state.core.policy;
    (
        (p.confirm_ttl.as_secs() / 3600) as i64,
        p.reminder_after.map(|r| (r.as_secs() / 3600) as i64),
    )
}

fn pairs(list: &[(&str, String)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn profile_values(p: &catalog::Profile) -> Vec<(String, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    pairs(&[
        ("key", p.key.clone()),
        ("name", p.name.clone()),
        ("sender_name", opt(&p.sender_name)),
        ("sender_address", opt(&p.sender_address)),
        ("reply_to", opt(&p.reply_to)),
        ("footer_address", p.footer_address.clone()),
        ("legal_footer", opt(&p.legal_footer)),
        ("privacy_url", opt(&p.privacy_url)),
        ("default_locale", p.default_locale.clone()),
        ("jurisdiction", opt(&p.jurisdiction)),
        ("confirm_hours", num(p.doi_confirm_hours)),
        ("reminder_hours", num(p.doi_reminder_hours)),
        (
            "trust_api_confirmation",
            if p.trust_api_confirmation { "on" } else { "" }.to_owned(),
        ),
        (
            "trust_staff_opt_ins",
            if p.trust_staff_opt_ins { "on" } else { "" }.to_owned(),
        ),
    ])
}

/// The stored key in place of whatever came back in a read-only field.
fn keep_key(mut pairs: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
    pairs.retain(|(k, _)| k != "key");
    pairs.push(("key".to_owned(), key.to_owned()));
    pairs
}

fn key_taken(what: &str) -> Vec<FieldError> {
    vec![(
        "key",
        format!("Another {what} here has this key already; choose another."),
    )]
}

/// `GET /admin/profiles`.
pub async fn profiles(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match setup::profiles(&state.core).await {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|p| views::ProfileRow {
                    id: p.id,
                    key: p.key,
                    name: p.name,
                    purposes: p.purposes,
                    topics: p.topics,
                })
                .collect();
            let f = frame(&console);
            page.send(StatusCode::OK, move || views::profiles_page(f, rows))
                .await
        }
        Err(e) => page.error(e, "profiles").await,
    }
}

async fn profile_form(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    id: Option<i64>,
    form: Form,
) -> Response {
    let (f, defaults) = (frame(console), server_defaults(state));
    page.send(status, move || {
        views::profile_form_page(f, id, form, defaults)
    })
    .await
}

/// `GET /admin/profiles/new`.
pub async fn profile_new(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let form = Form {
        values: pairs(&[("default_locale", Lang::En.code().to_owned())]),
        errors: Vec::new(),
    };
    profile_form(&state, &console, page, StatusCode::OK, None, form).await
}

/// `GET /admin/profiles/{id}/edit`.
pub async fn profile_edit(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    match load(&state, id).await {
        Ok(Some(cat)) => {
            let form = Form {
                values: profile_values(&cat.profile),
                errors: Vec::new(),
            };
            profile_form(&state, &console, page, StatusCode::OK, Some(id), form).await
        }
        Ok(None) => not_found(),
        Err(e) => page.error(e, "profile").await,
    }
}

/// `POST /admin/profiles/new` and `/admin/profiles/{id}/edit`.
pub async fn profile_save(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, mut values) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = page.segment_i64(3);
    if let Some(id) = id {
        match load(&state, id).await {
            Ok(Some(cat)) => values = keep_key(values, &cat.profile.key),
            Ok(None) => return not_found(),
            Err(e) => return page.error(e, "profile").await,
        }
    }
    let fields = match forms::profile(values.as_slice()) {
        Ok(f) => f,
        Err(errors) => {
            let form = Form { values, errors };
            return profile_form(&state, &console, page, StatusCode::BAD_REQUEST, id, form).await;
        }
    };
    match setup::save_profile(&state.core, id, fields, console.actor()).await {
        Ok(Saved::Done(saved)) => {
            let done = if id.is_some() { "saved" } else { "created" };
            Redirect::to(&format!("/admin/profiles/{saved}?done={done}")).into_response()
        }
        Ok(Saved::KeyTaken) => {
            let form = Form {
                values,
                errors: key_taken("profile"),
            };
            profile_form(&state, &console, page, StatusCode::BAD_REQUEST, id, form).await
        }
        Ok(Saved::NotFound) => not_found(),
        Err(e) => page.error(e, "save profile").await,
    }
}

/// `GET /admin/profiles/{id}`: the profile with its purposes and topics.
pub async fn profile_show(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    let cat = match load(&state, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "profile").await,
    };
    let done = page.query_value("done").and_then(|d| {
        Some(match d.as_str() {
            "created" => "The profile is created. Add its purposes and topics below.",
            "saved" => "Saved.",
            "retired" => "Retired: it no longer appears on the pages.",
            "added" => "Added.",
            _ => return None,
        })
    });
    let p = &cat.profile;
    let purposes = cat
        .purposes
        .iter()
        .map(|pu| views::PurposeLine {
            id: pu.id,
            key: pu.key.clone(),
            name: pu.name.clone(),
            enforcement: pu.enforcement,
            channels: pu.channels.clone(),
            mandatory: pu.mandatory,
            min_level: pu.min_level.get(),
            retired: pu.retired,
            topics: cat
                .topics_of(pu.id)
                .map(|t| views::TopicLine {
                    id: t.id,
                    key: t.key.clone(),
                    name: t.name.clone(),
                    retired: t.retired,
                })
                .collect(),
        })
        .collect();
    let sender = match (&p.sender_name, &p.sender_address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => format!("{} <{a}>", p.name),
        _ => "— (the server's address)".to_owned(),
    };
    let overview = views::ProfileOverview {
        id: p.id,
        key: p.key.clone(),
        name: p.name.clone(),
        sender,
        footer_address: p.footer_address.clone(),
        privacy_url: p.privacy_url.clone(),
        default_locale: Lang::parse(&p.default_locale).unwrap_or_default(),
        jurisdiction: p.jurisdiction.clone(),
        purposes,
        done: done.map(str::to_owned),
    };
    let f = frame(&console);
    page.send(StatusCode::OK, move || views::profile_page(f, overview))
        .await
}

/// The form fields of an item's words in other languages.
fn texts_values(cat: &Catalog, subject: crate::domain::Subject) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for t in cat.texts_of(subject) {
        let (name, description) = forms::translation_fields(t.lang);
        v.push((name.to_owned(), t.name.clone()));
        v.push((description.to_owned(), t.description.clone()));
    }
    v
}

/// A profile's id, name and default language, as the item forms name it.
fn profile_of(cat: &Catalog) -> (i64, String, Lang) {
    (
        cat.profile.id,
        cat.profile.name.clone(),
        Lang::parse(&cat.profile.default_locale).unwrap_or_default(),
    )
}

fn purpose_values(p: &crate::domain::Purpose) -> Vec<(String, String)> {
    let mut v = pairs(&[
        ("key", p.key.clone()),
        ("name", p.name.clone()),
        ("description", p.description.clone()),
        ("enforcement", p.enforcement.as_str().to_owned()),
        ("min_level", p.min_level.get().to_string()),
    ]);
    for c in &p.channels {
        v.push(("channels".to_owned(), c.as_str().to_owned()));
    }
    if p.mandatory {
        v.push(("mandatory".to_owned(), "on".to_owned()));
    }
    v
}

async fn purpose_form(
    console: &Console,
    page: Page,
    status: StatusCode,
    profile: (i64, String, Lang),
    id: Option<i64>,
    form: Form,
) -> Response {
    let f = frame(console);
    page.send(status, move || {
        views::purpose_form_page(f, profile, id, form)
    })
    .await
}

/// What a purpose or topic route's id names: the item's profile catalogue (fresh).
async fn owner_catalog(
    state: &AppState,
    page: &Page,
    item: impl Fn(i64) -> Item,
) -> Result<Option<(i64, Catalog)>, ServiceError> {
    let Some(id) = page.segment_i64(3) else {
        return Ok(None);
    };
    let Some(profile_id) = setup::owner(&state.core, item(id)).await? else {
        return Ok(None);
    };
    Ok(load(state, profile_id).await?.map(|c| (id, c)))
}

/// `GET /admin/profiles/{id}/purposes/new`.
pub async fn purpose_new(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    match load(&state, id).await {
        Ok(Some(cat)) => {
            let form = Form {
                values: pairs(&[
                    ("enforcement", "restrictive".to_owned()),
                    ("channels", "email".to_owned()),
                    ("min_level", "0".to_owned()),
                ]),
                errors: Vec::new(),
            };
            let profile = profile_of(&cat);
            purpose_form(&console, page, StatusCode::OK, profile, None, form).await
        }
        Ok(None) => not_found(),
        Err(e) => page.error(e, "purpose").await,
    }
}

/// `GET /admin/purposes/{id}/edit`.
pub async fn purpose_edit(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match owner_catalog(&state, &page, Item::Purpose).await {
        Ok(Some((id, cat))) => {
            let Some(p) = cat.purpose(id) else {
                return not_found();
            };
            let mut values = purpose_values(p);
            values.extend(texts_values(&cat, crate::domain::Subject::Purpose(id)));
            let form = Form {
                values,
                errors: Vec::new(),
            };
            let profile = profile_of(&cat);
            purpose_form(&console, page, StatusCode::OK, profile, Some(id), form).await
        }
        Ok(None) => not_found(),
        Err(e) => page.error(e, "purpose").await,
    }
}

/// `POST /admin/profiles/{id}/purposes/new` and `/admin/purposes/{id}/edit`.
pub async fn purpose_save(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, mut values) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let creating = page.segment(2) == "profiles";
    let (id, cat) = if creating {
        let Some(profile_id) = page.segment_i64(3) else {
            return not_found();
        };
        match load(&state, profile_id).await {
            Ok(Some(cat)) => (None, cat),
            Ok(None) => return not_found(),
            Err(e) => return page.error(e, "purpose").await,
        }
    } else {
        match owner_catalog(&state, &page, Item::Purpose).await {
            Ok(Some((id, cat))) => {
                let Some(key) = cat.purpose(id).map(|p| p.key.clone()) else {
                    return not_found();
                };
                values = keep_key(values, &key);
                (Some(id), cat)
            }
            Ok(None) => return not_found(),
            Err(e) => return page.error(e, "purpose").await,
        }
    };
    let profile = profile_of(&cat);
    let fields = match forms::purpose(values.as_slice()) {
        Ok(mut f) => {
            // The default language's words are the item's own fields.
            f.texts.retain(|t| t.lang != profile.2);
            f
        }
        Err(errors) => {
            let form = Form { values, errors };
            return purpose_form(&console, page, StatusCode::BAD_REQUEST, profile, id, form).await;
        }
    };
    match setup::save_purpose(&state.core, id, profile.0, fields, console.actor()).await {
        Ok(Saved::Done(_)) => {
            let done = if id.is_some() { "saved" } else { "added" };
            Redirect::to(&format!("/admin/profiles/{}?done={done}", profile.0)).into_response()
        }
        Ok(Saved::KeyTaken) => {
            let form = Form {
                values,
                errors: key_taken("purpose"),
            };
            purpose_form(&console, page, StatusCode::BAD_REQUEST, profile, id, form).await
        }
        Ok(Saved::NotFound) => not_found(),
        Err(e) => page.error(e, "save purpose").await,
    }
}

async fn topic_form(
    console: &Console,
    page: Page,
    status: StatusCode,
    cat: &Catalog,
    purpose_id: i64,
    id: Option<i64>,
    form: Form,
) -> Response {
    let f = frame(console);
    let profile = profile_of(cat);
    let purpose = (
        purpose_id,
        cat.purpose(purpose_id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
    );
    page.send(status, move || {
        views::topic_form_page(f, profile, purpose, id, form)
    })
    .await
}

/// `GET /admin/purposes/{id}/topics/new` and `/admin/topics/{id}/edit`.
pub async fn topic_form_get(
    State(state): State<AppState>,
    console: Console,
    page: Page,
) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let creating = page.segment(2) == "purposes";
    let kind = if creating { Item::Purpose } else { Item::Topic };
    match owner_catalog(&state, &page, kind).await {
        Ok(Some((id, cat))) if creating => {
            topic_form(
                &console,
                page,
                StatusCode::OK,
                &cat,
                id,
                None,
                Form::default(),
            )
            .await
        }
        Ok(Some((id, cat))) => {
            let Some(t) = cat.topic(id) else {
                return not_found();
            };
            let mut values = pairs(&[
                ("key", t.key.clone()),
                ("name", t.name.clone()),
                ("description", t.description.clone()),
            ]);
            values.extend(texts_values(&cat, crate::domain::Subject::Topic(id)));
            let form = Form {
                values,
                errors: Vec::new(),
            };
            let purpose_id = t.purpose_id;
            topic_form(
                &console,
                page,
                StatusCode::OK,
                &cat,
                purpose_id,
                Some(id),
                form,
            )
            .await
        }
        Ok(None) => not_found(),
        Err(e) => page.error(e, "topic").await,
    }
}

/// `POST /admin/purposes/{id}/topics/new` and `/admin/topics/{id}/edit`.
pub async fn topic_save(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, mut values) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let creating = page.segment(2) == "purposes";
    let kind = if creating { Item::Purpose } else { Item::Topic };
    let (id, purpose_id, cat) = match owner_catalog(&state, &page, kind).await {
        Ok(Some((id, cat))) if creating => (None, id, cat),
        Ok(Some((id, cat))) => {
            let Some(t) = cat.topic(id) else {
                return not_found();
            };
            values = keep_key(values, &t.key);
            let purpose_id = t.purpose_id;
            (Some(id), purpose_id, cat)
        }
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "topic").await,
    };
    let default_lang = profile_of(&cat).2;
    let fields = match forms::topic(values.as_slice()) {
        Ok(mut f) => {
            f.texts.retain(|t| t.lang != default_lang);
            f
        }
        Err(errors) => {
            let form = Form { values, errors };
            return topic_form(
                &console,
                page,
                StatusCode::BAD_REQUEST,
                &cat,
                purpose_id,
                id,
                form,
            )
            .await;
        }
    };
    match setup::save_topic(&state.core, id, purpose_id, fields, console.actor()).await {
        Ok(Saved::Done(_)) => {
            let done = if id.is_some() { "saved" } else { "added" };
            Redirect::to(&format!("/admin/profiles/{}?done={done}", cat.profile.id)).into_response()
        }
        Ok(Saved::KeyTaken) => {
            let form = Form {
                values,
                errors: key_taken("topic of this purpose"),
            };
            topic_form(
                &console,
                page,
                StatusCode::BAD_REQUEST,
                &cat,
                purpose_id,
                id,
                form,
            )
            .await
        }
        Ok(Saved::NotFound) => not_found(),
        Err(e) => page.error(e, "save topic").await,
    }
}

fn item_of(page: &Page) -> Option<Item> {
    let id = page.segment_i64(3)?;
    match page.segment(2).as_str() {
        "purposes" => Some(Item::Purpose(id)),
        "topics" => Some(Item::Topic(id)),
        _ => None,
    }
}

/// `POST /admin/{purposes|topics}/{id}/move`: one place up or down.
pub async fn move_item(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, values) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(item) = item_of(&page) else {
        return not_found();
    };
    let up = match forms::Fields::get(values.as_slice(), "direction") {
        Some("up") => true,
        Some("down") => false,
        _ => return (StatusCode::BAD_REQUEST, "Move up or down.").into_response(),
    };
    let owner = match setup::owner(&state.core, item).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "move").await,
    };
    match setup::move_item(&state.core, item, up, console.actor()).await {
        Ok(true) => Redirect::to(&format!("/admin/profiles/{owner}")).into_response(),
        Ok(false) => not_found(),
        Err(e) => page.error(e, "move").await,
    }
}

/// `GET /admin/{purposes|topics}/{id}/retire`: the question first.
pub async fn retire_form(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(item) = item_of(&page) else {
        return not_found();
    };
    let cat = match setup::owner(&state.core, item).await {
        Ok(Some(o)) => match load(&state, o).await {
            Ok(Some(c)) => c,
            Ok(None) => return not_found(),
            Err(e) => return page.error(e, "retire").await,
        },
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "retire").await,
    };
    let (what, name, action) = match item {
        Item::Purpose(id) => (
            "purpose",
            cat.purpose(id).map(|p| p.name.clone()),
            format!("/admin/purposes/{id}/retire"),
        ),
        Item::Topic(id) => (
            "topic",
            cat.topic(id).map(|t| t.name.clone()),
            format!("/admin/topics/{id}/retire"),
        ),
    };
    let Some(name) = name else {
        return not_found();
    };
    let (f, profile) = (frame(&console), (cat.profile.id, cat.profile.name.clone()));
    page.send(StatusCode::OK, move || {
        views::retire_page(f, what, action, name, profile)
    })
    .await
}

/// `POST /admin/{purposes|topics}/{id}/retire`.
pub async fn retire(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(item) = item_of(&page) else {
        return not_found();
    };
    let owner = match setup::owner(&state.core, item).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "retire").await,
    };
    match setup::retire(&state.core, item, console.actor()).await {
        Ok(true) => Redirect::to(&format!("/admin/profiles/{owner}?done=retired")).into_response(),
        Ok(false) => not_found(),
        Err(e) => page.error(e, "retire").await,
    }
}

/// A design as the designer's form shows it.
fn design_values(
    d: &crate::domain::design::Design,
    items: &[(String, String, bool)],
) -> Vec<(String, String)> {
    use crate::domain::design::{header_field, text_field};
    let mut v = pairs(&[
        ("primary", d.primary.as_str().to_owned()),
        ("font", d.font.as_str().to_owned()),
    ]);
    if d.unsubscribe_all {
        v.push(("unsubscribe_all".to_owned(), "on".to_owned()));
    }
    for (key, _, _) in items {
        let (purpose, topic) = match key.split_once('/') {
            Some((p, t)) => (p, Some(t)),
            None => (key.as_str(), None),
        };
        if d.shows(purpose, topic) {
            v.push(("show".to_owned(), key.clone()));
        }
    }
    for lang in Lang::ALL {
        if let Some(h) = d.header_in(lang) {
            v.push((header_field(lang), h.to_owned()));
        }
        for (id, _) in crate::domain::design::EDITABLE_TEXTS {
            if let Some(t) = d.text(lang, id) {
                v.push((text_field(lang, id), t.to_owned()));
            }
        }
    }
    v
}

async fn designer_response(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    form: Option<Form>,
) -> Response {
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    let d = match crate::services::design::designer(&state.core, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "designer").await,
    };
    let warnings = if form.is_none() {
        d.draft.warnings()
    } else {
        Vec::new()
    };
    let form = form.unwrap_or_else(|| Form {
        values: design_values(&d.draft, &d.items),
        errors: Vec::new(),
    });
    let preview_lang = page
        .lang()
        .and_then(Lang::parse)
        .or_else(|| Lang::parse(&d.catalog.profile.default_locale))
        .unwrap_or_default();
    let done = page.query_value("done").and_then(|d| {
        Some(match d.as_str() {
            "saved" => "Draft saved. The preview shows it; contacts see it once you publish.",
            "published" => "Published: contacts see this design from now on.",
            "nothing" => "There is no draft to publish: save one first.",
            _ => return None,
        })
    });
    let current = d.catalog.profile.form_version;
    let logo = d
        .draft
        .logo
        .as_ref()
        .map(|l| (format!("/logo/{}", l.sha256), l.width, l.height));
    // Only the words this server says (a query cannot put text on the page).
    let logo_error = page.query_value("logo_error").and_then(|m| {
        use crate::domain::logo::LogoError::*;
        [Empty, TooLarge, Svg, NotAnImage, Dimensions]
            .into_iter()
            .map(|e| e.to_string())
            .find(|known| *known == m)
    });
    let view = views::DesignerView {
        logo,
        logo_error,
        profile: (id, d.catalog.profile.name.clone()),
        form,
        items: d.items,
        warnings,
        draft_saved: d.draft_saved,
        versions: d
            .versions
            .into_iter()
            .map(|(version, published_at, published_by)| views::VersionLine {
                current: version == current,
                version,
                published_at,
                published_by,
            })
            .collect(),
        preview_lang,
        done: done.map(str::to_owned),
        bundle: (*state.leptos).clone(),
    };
    let f = frame(console);
    let mut res = page
        .send(status, move || views::designer_page(f, view))
        .await;
    res.extensions_mut()
        .insert(super::headers::Framing::EmbedsOwn);
    res.extensions_mut().insert(super::headers::RunsIslands);
    res
}

/// `GET /admin/profiles/{id}/design`.
pub async fn design_page(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    designer_response(&state, &console, page, StatusCode::OK, None).await
}

/// `POST /admin/profiles/{id}/design`: saves the draft (contacts see nothing of it).
pub async fn design_save(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, values) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    let items: Vec<String> = match load(&state, id).await {
        Ok(Some(cat)) => crate::services::design::item_keys(&cat)
            .into_iter()
            .map(|(k, _, _)| k)
            .collect(),
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "designer").await,
    };
    match crate::domain::design::parse(values.as_slice(), &items) {
        Ok(mut design) => {
            // The logo has its own form: the draft keeps the one it has.
            design.logo = match crate::services::design::designer(&state.core, id).await {
                Ok(Some(d)) => d.draft.logo,
                Ok(None) => return not_found(),
                Err(e) => return page.error(e, "designer").await,
            };
            match crate::services::design::save_draft(&state.core, id, design, console.actor())
                .await
            {
                Ok(true) => {
                    Redirect::to(&format!("/admin/profiles/{id}/design?done=saved")).into_response()
                }
                Ok(false) => not_found(),
                Err(e) => page.error(e, "save draft").await,
            }
        }
        Err(errors) => {
            let form = Form { values, errors };
            designer_response(&state, &console, page, StatusCode::BAD_REQUEST, Some(form)).await
        }
    }
}

/// `POST /admin/profiles/{id}/design/publish`.
pub async fn design_publish(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::store::design::Publish;
    let (page, _) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    match crate::services::design::publish(&state.core, id, console.actor()).await {
        Ok(Publish::Published(_)) => {
            Redirect::to(&format!("/admin/profiles/{id}/design?done=published")).into_response()
        }
        Ok(Publish::NoDraft) => {
            Redirect::to(&format!("/admin/profiles/{id}/design?done=nothing")).into_response()
        }
        Ok(Publish::NotFound) => not_found(),
        Err(e) => page.error(e, "publish").await,
    }
}

/// A contact's page for a sample contact under a design, framable by the designer.
async fn sample_page(page: Page, view: crate::views::PreferencesView) -> Response {
    let unsubscribe = page.query_value("page").as_deref() == Some("unsubscribe");
    let mut res = if unsubscribe {
        page.send(StatusCode::OK, move || {
            crate::pages::unsubscribe_page("preview", view)
        })
        .await
    } else {
        page.send(StatusCode::OK, move || {
            crate::pages::center_page("preview", view)
        })
        .await
    };
    res.extensions_mut()
        .insert(super::headers::Framing::EmbeddableByOwn);
    res
}

fn lang_of(page: &Page, cat: &Catalog) -> Lang {
    page.lang()
        .and_then(Lang::parse)
        .or_else(|| Lang::parse(&cat.profile.default_locale))
        .unwrap_or_default()
}

/// `GET /admin/profiles/{id}/design/preview?page=center|unsubscribe&lang=..`: the draft.
pub async fn design_preview(
    State(state): State<AppState>,
    console: Console,
    page: Page,
) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    preview(&state, page, None).await
}

/// `POST /admin/profiles/{id}/design/preview?page=..&lang=..`: the designer's form as it stands,
/// unsaved (its "Preview changes" button, and the live preview posting into each frame).
pub async fn design_preview_posted(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, values) = match posted(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    preview(&state, page, Some(values)).await
}

/// The sample contact's page under the draft, or under `unsaved` form values (the draft's logo
/// stays: it has its own form). Values the designer would refuse show why, in the frame.
async fn preview(state: &AppState, page: Page, unsaved: Option<Vec<(String, String)>>) -> Response {
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    let d = match crate::services::design::designer(&state.core, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "preview").await,
    };
    let design = match unsaved {
        None => d.draft,
        Some(values) => {
            let keys: Vec<String> = d.items.iter().map(|(k, _, _)| k.clone()).collect();
            match crate::domain::design::parse(values.as_slice(), &keys) {
                Ok(mut design) => {
                    design.logo = d.draft.logo;
                    design
                }
                Err(errors) => {
                    let messages: Vec<String> = errors.into_iter().map(|(_, m)| m).collect();
                    let mut res = page
                        .send(StatusCode::BAD_REQUEST, move || {
                            views::preview_refused_page(messages)
                        })
                        .await;
                    res.extensions_mut()
                        .insert(super::headers::Framing::EmbeddableByOwn);
                    return res;
                }
            }
        }
    };
    let lang = lang_of(&page, &d.catalog);
    let items = crate::services::design::shown_items(&d.catalog, &design);
    let view = crate::services::design::sample_view(
        &d.catalog,
        &design,
        &items,
        lang,
        d.catalog.profile.form_version + 1,
    );
    sample_page(page, view).await
}

/// The designer's live check (the body of `admin::designer::check_design`, after its gate):
/// what saving `form` (url-encoded) would refuse, and the colour's warnings. Nothing is saved.
pub async fn check_design(
    state: &AppState,
    profile: i64,
    form: &str,
) -> Result<crate::domain::design::DesignCheck, crate::admin::FnError> {
    use crate::admin::FnError;
    let cat = match load(state, profile).await {
        Ok(Some(cat)) => cat,
        Ok(None) => return Err(FnError::NotFound),
        Err(e) => {
            tracing::error!(error = %e, "the designer's live check could not load the profile");
            return Err(FnError::Unavailable);
        }
    };
    let keys: Vec<String> = crate::services::design::item_keys(&cat)
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    let values: Vec<(String, String)> = serde_urlencoded::from_str(form)
        .map_err(|_| FnError::Call("The form could not be read.".to_owned()))?;
    Ok(crate::domain::design::check(values.as_slice(), &keys))
}

/// `GET /admin/profiles/{id}/versions/{version}?page=..&lang=..`: a published version as its
/// contacts saw it (its design and the purposes and topics it showed).
pub async fn version_page(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(id), Some(number)) = (page.segment_i64(3), page.segment_i64(5)) else {
        return not_found();
    };
    let cat = match load(&state, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "version").await,
    };
    let published = match crate::services::design::version(&state.core, id, number).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e, "version").await,
    };
    let items: Vec<crate::domain::design::ShownPurpose> =
        serde_json::from_str(&published.items).unwrap_or_default();
    let lang = lang_of(&page, &cat);
    // The profile's words as they stood at `?at=` (a moment the version was shown, such as a
    // ledger record's), else when the version was published.
    let at = page
        .query_value("at")
        .and_then(|a| crate::store::parse_time(&a).ok())
        .map(crate::store::format_time)
        .unwrap_or_else(|| published.published_at.clone());
    let cat = match crate::services::design::as_shown_at(&state.core, cat, &at).await {
        Ok(c) => c,
        Err(e) => return page.error(e, "version").await,
    };
    let view = crate::services::design::sample_view(&cat, &published.design, &items, lang, number);
    sample_page(page, view).await
}

/// The largest body the logo upload takes (the file and the form's token).
pub const LOGO_BODY_LIMIT: usize = crate::domain::logo::MAX_BYTES + 16 * 1024;

/// The logo form's token and file (multipart/form-data), if the body is one.
async fn logo_form(headers: &HeaderMap, body: Bytes) -> Option<(String, Vec<u8>)> {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())?;
    let boundary = multer::parse_boundary(ct).ok()?;
    let limit = multer::SizeLimit::new().whole_stream(LOGO_BODY_LIMIT as u64);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limit),
    );
    let (mut csrf, mut file) = (String::new(), Vec::new());
    for _ in 0..8 {
        let Some(field) = parts.next_field().await.ok()? else {
            return Some((csrf, file));
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok()?,
            Some("logo") => file = field.bytes().await.ok()?.to_vec(),
            _ => {}
        }
    }
    None
}

/// `POST /admin/profiles/{id}/design/logo` (multipart: the logo) and
/// `/admin/profiles/{id}/design/logo/remove`: into the draft, or out of it.
pub async fn design_logo(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let page = match console.require(Permission::ConfigureProfiles, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    let removing = page.segment(6) == "remove";
    let token_only = |body: Bytes| async {
        let pairs = form_pairs(&headers, body).await.unwrap_or_default();
        let csrf = forms::Fields::get(pairs.as_slice(), "csrf")
            .unwrap_or("")
            .to_owned();
        (csrf, Vec::new())
    };
    // The upload is multipart; anything else carries no file (and is told so).
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| multer::parse_boundary(ct).is_ok());
    let (csrf, file) = if removing || !multipart {
        token_only(body).await
    } else {
        logo_form(&headers, body).await.unwrap_or_default()
    };
    let pairs = vec![("csrf".to_owned(), csrf)];
    if !console.csrf_ok(&state, &headers, &pairs) {
        return forbidden_post();
    }
    let logo = if removing {
        None
    } else {
        match crate::domain::logo::check(&file) {
            Ok(l) => Some((l, file)),
            Err(e) => {
                let to = format!(
                    "/admin/profiles/{id}/design?logo_error={}",
                    serde_urlencoded::to_string([("m", e.to_string())])
                        .unwrap_or_default()
                        .trim_start_matches("m=")
                );
                return Redirect::to(&to).into_response();
            }
        }
    };
    match crate::services::design::set_logo(&state.core, id, logo, console.actor()).await {
        Ok(true) => {
            Redirect::to(&format!("/admin/profiles/{id}/design?done=saved")).into_response()
        }
        Ok(false) => not_found(),
        Err(e) => page.error(e, "logo").await,
    }
}
