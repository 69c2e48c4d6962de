//! The console's segments and dashboard (every role: `Permission::ReadReports`): the list, the
//! rule editor (its form is parsed here into a `domain::segment::Definition`), one segment's
//! count and sample now or as of a moment, its CSV export, and the dashboard with its CSV.

use super::console::Console;
use super::contact::field;
use super::pages::Page;
use super::AppState;
use crate::domain::auth::Permission;
use crate::domain::parse::Lang;
use crate::domain::report::Bucket;
use crate::domain::segment::{Clause, Column, Day, Definition, Rule, MAX_RULES};
use crate::domain::{Channel, Subject};
use crate::pages::segments::{self as view, RuleRow};
use crate::services::segment as seg;
use crate::store::catalog::Catalog;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// How many members a sample shows.
const SAMPLE: i64 = 20;

async fn not_found(page: Page) -> Response {
    page.send(StatusCode::NOT_FOUND, || {
        leptos::view! {
            <crate::pages::MessagePage brand=None lang=Lang::En
                title="No such segment"
                body="There is no segment with this number (a deleted segment is gone)."
                hint="See the saved segments on the Segments page of the console."/>
        }
    })
    .await
}

/// A 422 page saying what is wrong with the request.
async fn bad_request(page: Page, title: &'static str, body: String) -> Response {
    use leptos::prelude::*;
    page.send(StatusCode::UNPROCESSABLE_ENTITY, move || {
        leptos::view! {
            <crate::pages::Layout brand=None lang=Lang::En title=title.to_owned()>
                <section class="card" aria-labelledby="msg-title">
                    <h1 id="msg-title">{title}</h1>
                    <p>{body}</p>
                    <p class="muted">"Go back and correct it."</p>
                </section>
            </crate::pages::Layout>
        }
    })
    .await
}

/// The kept segment the path names (`/admin/segments/{id}/…`), with the page back; the 404
/// page when there is none, the error page when it cannot be read.
async fn kept(
    state: &AppState,
    page: Page,
) -> Result<(Page, crate::store::segment::Segment), Response> {
    let Some(id) = page.segment_i64(3) else {
        return Err(not_found(page).await);
    };
    match crate::store::segment::get(&state.core.read, id).await {
        Ok(Some(s)) => Ok((page, s)),
        Ok(None) => Err(not_found(page).await),
        Err(e) => Err(page.error(e.into(), "segment").await),
    }
}

/// `GET /admin/segments`.
pub async fn list(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let core = &state.core;
    let (segments, profiles) = match (
        crate::store::segment::list(&core.read).await,
        crate::services::setup::profiles(core).await,
    ) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) => return page.error(e.into(), "segments").await,
        (_, Err(e)) => return page.error(e, "segments").await,
    };
    let mut rows = Vec::new();
    for s in segments {
        let cat = match core.catalog(s.profile_id).await {
            Ok(c) => c,
            Err(e) => return page.error(e.into(), "segments").await,
        };
        let (channel, words) = match seg::definition(&s) {
            Ok(d) => (channel_name(d.channel), seg::words(&d, &cat)),
            Err(e) => (String::new(), vec![e.message()]),
        };
        rows.push((
            s.id,
            s.name,
            cat.profile.name.clone(),
            channel,
            words,
            s.updated_at,
        ));
    }
    let v = view::SegmentsView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        profiles: profiles.iter().map(|p| (p.id, p.name.clone())).collect(),
        segments: rows,
    };
    page.send(StatusCode::OK, move || view::segments_page(v))
        .await
}

fn channel_name(c: Channel) -> String {
    match c {
        Channel::Email => "email",
        Channel::Sms => "text messages",
        Channel::Phone => "phone calls",
    }
    .to_owned()
}

/// The purposes and topics a consent rule may name: (`purpose` or `purpose/topic`, name).
fn subject_choices(cat: &Catalog) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in &cat.purposes {
        out.push((p.key.clone(), p.name.clone()));
        for t in cat.topics_of(p.id) {
            out.push((
                format!("{}/{}", p.key, t.key),
                format!("{} › {}", p.name, t.name),
            ));
        }
    }
    out
}

fn locale_choices() -> Vec<(String, String)> {
    Lang::ALL
        .iter()
        .map(|l| (l.code().to_owned(), l.endonym().to_owned()))
        .collect()
}

/// A new row of `kind`, filled with what a person would most likely pick.
fn new_row(kind: &str, cat: &Catalog) -> Option<RuleRow> {
    view::KINDS.iter().find(|(k, _)| *k == kind)?;
    Some(RuleRow {
        kind: kind.to_owned(),
        or: false,
        subject: cat
            .purposes
            .iter()
            .find(|p| !p.mandatory)
            .or(cat.purposes.first())
            .map(|p| p.key.clone())
            .unwrap_or_default(),
        allowed: true,
        level: 3,
        locales: vec![cat.profile.default_locale.clone()],
        from: String::new(),
        to: String::new(),
    })
}

/// A kept definition as the editor's rows.
fn rows_of(def: &Definition) -> Vec<RuleRow> {
    def.rules
        .iter()
        .map(|c| {
            let mut row = RuleRow {
                or: c.or,
                allowed: true,
                ..Default::default()
            };
            match &c.rule {
                Rule::Consent {
                    purpose,
                    topic,
                    allowed,
                } => {
                    row.kind = "consent".into();
                    row.subject = match topic {
                        Some(t) => format!("{purpose}/{t}"),
                        None => purpose.clone(),
                    };
                    row.allowed = *allowed;
                }
                Rule::MinLevel { level } => {
                    row.kind = "min_level".into();
                    row.level = *level;
                }
                Rule::NoChildWithoutCustodian => row.kind = "no_child".into(),
                Rule::Tracking { allowed } => {
                    row.kind = "tracking".into();
                    row.allowed = *allowed;
                }
                Rule::Locale { locales } => {
                    row.kind = "locale".into();
                    row.locales = locales.clone();
                }
                Rule::Created { from, to } | Rule::Changed { from, to } => {
                    row.kind = if matches!(c.rule, Rule::Created { .. }) {
                        "created".into()
                    } else {
                        "changed".into()
                    };
                    row.from = from
                        .as_ref()
                        .map(|d| d.as_str().to_owned())
                        .unwrap_or_default();
                    row.to = to
                        .as_ref()
                        .map(|d| d.as_str().to_owned())
                        .unwrap_or_default();
                }
            }
            row
        })
        .collect()
}

/// The editor's rows as posted (`r{i}.kind`, `r{i}.or`, …), in order.
fn posted_rows(pairs: &[(String, String)]) -> Vec<RuleRow> {
    let mut rows = Vec::new();
    for i in 0..MAX_RULES {
        let get = |f: &str| field(pairs, &format!("r{i}.{f}")).unwrap_or("");
        let kind = get("kind");
        if kind.is_empty() {
            break;
        }
        rows.push(RuleRow {
            kind: kind.chars().take(20).collect(),
            or: get("or") == "or",
            subject: get("subject").chars().take(200).collect(),
            allowed: get("allowed") != "no",
            level: get("level").parse().unwrap_or(0),
            locales: pairs
                .iter()
                .filter(|(k, _)| *k == format!("r{i}.locale"))
                .map(|(_, v)| v.chars().take(20).collect())
                .collect(),
            from: get("from").chars().take(20).collect(),
            to: get("to").chars().take(20).collect(),
        });
    }
    rows
}

/// The rows as a definition, or what is wrong with the first bad one.
fn definition_of(channel: Channel, rows: &[RuleRow]) -> Result<Definition, String> {
    let mut rules = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let n = i + 1;
        let day = |s: &str, which: &str| -> Result<Option<Day>, String> {
            if s.trim().is_empty() {
                Ok(None)
            } else {
                Day::parse(s).map(Some).ok_or_else(|| {
                    format!("Rule {n}: the {which} day “{s}” is not a day such as 2026-11-20.")
                })
            }
        };
        let rule = match r.kind.as_str() {
            "consent" => {
                let (purpose, topic) = match r.subject.split_once('/') {
                    Some((p, t)) => (p.to_owned(), Some(t.to_owned())),
                    None => (r.subject.clone(), None),
                };
                if purpose.is_empty() {
                    return Err(format!("Rule {n}: choose a purpose or topic."));
                }
                Rule::Consent {
                    purpose,
                    topic,
                    allowed: r.allowed,
                }
            }
            "min_level" => Rule::MinLevel { level: r.level },
            "no_child" => Rule::NoChildWithoutCustodian,
            "tracking" => Rule::Tracking { allowed: r.allowed },
            "locale" => {
                if r.locales.is_empty() {
                    return Err(format!("Rule {n}: choose at least one language."));
                }
                Rule::Locale {
                    locales: r.locales.clone(),
                }
            }
            "created" => Rule::Created {
                from: day(&r.from, "first")?,
                to: day(&r.to, "last")?,
            },
            "changed" => Rule::Changed {
                from: day(&r.from, "first")?,
                to: day(&r.to, "last")?,
            },
            other => return Err(format!("Rule {n}: “{other}” is not a kind of rule.")),
        };
        rules.push(Clause {
            or: i > 0 && r.or,
            rule,
        });
    }
    Ok(Definition { channel, rules })
}

/// The editor as typed: what a GET shows and a POST shows back.
struct Typed {
    segment_id: Option<i64>,
    profile_id: i64,
    name: String,
    channel: String,
    rows: Vec<RuleRow>,
}

async fn editor(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    t: Typed,
    error: Option<String>,
    preview: Option<view::Preview>,
) -> Response {
    let cat = match state.core.catalog(t.profile_id).await {
        Ok(c) => c,
        Err(e) => return page.error(e.into(), "segment editor").await,
    };
    let v = view::EditorView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        segment_id: t.segment_id,
        profile_id: t.profile_id,
        profile: cat.profile.name.clone(),
        name: t.name,
        channel: t.channel,
        rows: t.rows,
        subjects: subject_choices(&cat),
        locales: locale_choices(),
        error,
        preview,
    };
    page.send(status, move || view::editor_page(v)).await
}

/// `GET /admin/segments/new?profile=ID`: the editor with one consent rule to start from.
pub async fn new_form(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let profiles = match crate::services::setup::profiles(&state.core).await {
        Ok(p) => p,
        Err(e) => return page.error(e, "segment editor").await,
    };
    let wanted = page
        .query_value("profile")
        .and_then(|p| p.parse::<i64>().ok());
    let Some(profile) = profiles.iter().find(|p| wanted.is_none_or(|w| w == p.id)) else {
        return bad_request(page, "No such profile", "There is no such profile.".into()).await;
    };
    let cat = match state.core.catalog(profile.id).await {
        Ok(c) => c,
        Err(e) => return page.error(e.into(), "segment editor").await,
    };
    let t = Typed {
        segment_id: None,
        profile_id: profile.id,
        name: String::new(),
        channel: "email".into(),
        rows: new_row("consent", &cat).into_iter().collect(),
    };
    editor(&state, &console, page, StatusCode::OK, t, None, None).await
}

/// `GET /admin/segments/{id}/edit`.
pub async fn edit_form(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (page, s) = match kept(&state, page).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = s.id;
    let def = seg::definition(&s).unwrap_or(Definition {
        channel: Channel::Email,
        rules: Vec::new(),
    });
    let t = Typed {
        segment_id: Some(id),
        profile_id: s.profile_id,
        name: s.name,
        channel: def.channel.as_str().to_owned(),
        rows: rows_of(&def),
    };
    editor(&state, &console, page, StatusCode::OK, t, None, None).await
}

/// `POST /admin/segments/new` and `POST /admin/segments/{id}/edit`: add or remove a rule,
/// count who is in it, or save.
pub async fn save(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, pairs) = match console
        .posted(Permission::ReadReports, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let core = &state.core;
    let segment_id = page.segment_i64(3);
    // The profile: the kept segment's, or the form's for a new one (one that exists).
    let (page, profile_id) = match segment_id {
        Some(_) => match kept(&state, page).await {
            Ok((page, s)) => (page, s.profile_id),
            Err(r) => return r,
        },
        None => {
            let wanted = field(&pairs, "profile").and_then(|p| p.parse::<i64>().ok());
            match crate::services::setup::profiles(core).await {
                Ok(list) => match list.iter().find(|p| Some(p.id) == wanted) {
                    Some(p) => (page, p.id),
                    None => {
                        return bad_request(
                            page,
                            "No such profile",
                            "There is no such profile.".into(),
                        )
                        .await
                    }
                },
                Err(e) => return page.error(e, "segment").await,
            }
        }
    };
    let cat = match core.catalog(profile_id).await {
        Ok(c) => c,
        Err(e) => return page.error(e.into(), "segment").await,
    };
    let mut t = Typed {
        segment_id,
        profile_id,
        name: field(&pairs, "name")
            .unwrap_or("")
            .replace('\0', "")
            .trim()
            .chars()
            .take(120)
            .collect(),
        channel: field(&pairs, "channel").unwrap_or("email").to_owned(),
        rows: posted_rows(&pairs),
    };
    let Some(channel) = Channel::parse(&t.channel) else {
        t.channel = "email".into();
        return editor(
            &state,
            &console,
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            t,
            Some("Choose a channel.".into()),
            None,
        )
        .await;
    };
    let action = field(&pairs, "action").unwrap_or("save");
    if action == "add" {
        let kind = field(&pairs, "add").unwrap_or("");
        if t.rows.len() >= MAX_RULES {
            let why = format!("A segment holds at most {MAX_RULES} rules.");
            return editor(
                &state,
                &console,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                t,
                Some(why),
                None,
            )
            .await;
        }
        return match new_row(kind, &cat) {
            Some(row) => {
                t.rows.push(row);
                editor(&state, &console, page, StatusCode::OK, t, None, None).await
            }
            None => {
                let why = "Choose a kind of rule to add.".to_owned();
                editor(
                    &state,
                    &console,
                    page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    t,
                    Some(why),
                    None,
                )
                .await
            }
        };
    }
    if let Some(i) = action
        .strip_prefix("remove:")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < t.rows.len() {
            t.rows.remove(i);
            if let Some(first) = t.rows.first_mut() {
                first.or = false;
            }
        }
        return editor(&state, &console, page, StatusCode::OK, t, None, None).await;
    }
    let def = match definition_of(channel, &t.rows) {
        Ok(d) => d,
        Err(why) => {
            return editor(
                &state,
                &console,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                t,
                Some(why),
                None,
            )
            .await
        }
    };
    let evaluated = match seg::evaluate(core, profile_id, &def, None).await {
        Ok(Ok(e)) => e,
        Ok(Err(u)) => {
            return editor(
                &state,
                &console,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                t,
                Some(u.message()),
                None,
            )
            .await
        }
        Err(e) => return page.error(e, "segment").await,
    };
    if action == "preview" {
        let preview = match (
            seg::count(core, &evaluated).await,
            seg::sample(core, &evaluated, SAMPLE).await,
        ) {
            (Ok(count), Ok(sample)) => view::Preview { count, sample },
            (Err(e), _) | (_, Err(e)) => return page.error(e, "segment count").await,
        };
        return editor(
            &state,
            &console,
            page,
            StatusCode::OK,
            t,
            None,
            Some(preview),
        )
        .await;
    }
    if t.name.is_empty() {
        let why = "Give the segment a name.".to_owned();
        return editor(
            &state,
            &console,
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            t,
            Some(why),
            None,
        )
        .await;
    }
    match seg::save(
        core,
        segment_id,
        profile_id,
        &t.name,
        &def,
        &console.actor(),
    )
    .await
    {
        Ok(Some(id)) => Redirect::to(&format!("/admin/segments/{id}")).into_response(),
        Ok(None) => not_found(page).await,
        Err(e) => page.error(e, "segment save").await,
    }
}

/// The `as_of` of a query: `None` when empty, `Err` when it is not a moment.
fn as_of(page: &Page) -> Result<Option<String>, String> {
    let typed = page.query_value("as_of").unwrap_or_default();
    if typed.trim().is_empty() {
        return Ok(None);
    }
    crate::services::desk::moment(&typed).map(Some).ok_or_else(|| {
        format!("“{typed}” is not a moment: type a day (2026-11-20) or a day and time in UTC (2026-11-20T10:30).")
    })
}

/// `GET /admin/segments/{id}` (`?as_of=`).
pub async fn show(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (page, s) = match kept(&state, page).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (core, id) = (&state.core, s.id);
    let cat = match core.catalog(s.profile_id).await {
        Ok(c) => c,
        Err(e) => return page.error(e.into(), "segment").await,
    };
    let typed_at = page
        .query_value("as_of")
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.chars().take(40).collect::<String>());
    let mut status = StatusCode::OK;
    let (def, preview) = match seg::definition(&s) {
        Err(u) => (None, Err(u.message())),
        Ok(def) => {
            let preview = match as_of(&page) {
                Err(why) => {
                    status = StatusCode::UNPROCESSABLE_ENTITY;
                    Err(why)
                }
                Ok(at) => match seg::evaluate(core, s.profile_id, &def, at.as_deref()).await {
                    Err(e) => return page.error(e, "segment").await,
                    Ok(Err(u)) => Err(u.message()),
                    Ok(Ok(e)) => match (
                        seg::count(core, &e).await,
                        seg::sample(core, &e, SAMPLE).await,
                    ) {
                        (Ok(count), Ok(sample)) => Ok(view::Preview { count, sample }),
                        (Err(e), _) | (_, Err(e)) => return page.error(e, "segment count").await,
                    },
                },
            };
            (Some(def), preview)
        }
    };
    let mut link_choices = vec![(String::new(), "Everything optional".to_owned())];
    for (value, name) in subject_choices(&cat) {
        link_choices.push((value, name));
    }
    let link_default = def
        .as_ref()
        .and_then(|d| d.first_consent())
        .map(|(p, t)| match t {
            Some(t) => format!("{p}/{t}"),
            None => p.to_owned(),
        })
        .unwrap_or_default();
    let v = view::SegmentView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        id,
        name: s.name.clone(),
        profile: cat.profile.name.clone(),
        channel: def
            .as_ref()
            .map(|d| channel_name(d.channel))
            .unwrap_or_default(),
        words: def
            .as_ref()
            .map(|d| seg::words(d, &cat))
            .unwrap_or_default(),
        saved: s.updated_at.clone(),
        as_of: typed_at,
        preview,
        link_choices,
        link_default,
    };
    page.send(status, move || view::segment_page(v)).await
}

/// `GET /admin/segments/{id}/export.csv` (`?col=…&links=…&as_of=…`).
pub async fn export(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (page, s) = match kept(&state, page).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (core, id) = (state.core.clone(), s.id);
    let mut columns = Vec::new();
    for c in page.query_values("col") {
        match Column::parse(&c) {
            Some(c) if !columns.contains(&c) => columns.push(c),
            Some(_) => {}
            None => {
                let body = format!(
                    "“{}” is not a column of the export.",
                    c.chars().take(40).collect::<String>()
                );
                return bad_request(page, "Unknown column", body).await;
            }
        }
    }
    if columns.is_empty() {
        columns = Column::DEFAULT.to_vec();
    }
    let cat = match core.catalog(s.profile_id).await {
        Ok(c) => c,
        Err(e) => return page.error(e.into(), "segment export").await,
    };
    let links = page.query_value("links").unwrap_or_default();
    let links_for = if links.is_empty() {
        None
    } else {
        let (p, t) = match links.split_once('/') {
            Some((p, t)) => (p, Some(t)),
            None => (links.as_str(), None),
        };
        let purpose = cat.purposes.iter().find(|x| x.key == p);
        match (purpose, t) {
            (Some(p), None) => Some(Subject::Purpose(p.id)),
            (Some(p), Some(t)) => match cat.topics_of(p.id).find(|x| x.key == t) {
                Some(t) => Some(Subject::Topic(t.id)),
                None => {
                    return bad_request(
                        page,
                        "Unknown topic",
                        "The unsubscribe links name a topic this profile does not have.".into(),
                    )
                    .await
                }
            },
            (None, _) => {
                return bad_request(
                    page,
                    "Unknown purpose",
                    "The unsubscribe links name a purpose this profile does not have.".into(),
                )
                .await
            }
        }
    };
    let at = match as_of(&page) {
        Ok(at) => at,
        Err(why) => return bad_request(page, "Not a moment", why).await,
    };
    let def = match seg::definition(&s) {
        Ok(d) => d,
        Err(u) => return bad_request(page, "Unreadable segment", u.message()).await,
    };
    let evaluated = match seg::evaluate(&core, s.profile_id, &def, at.as_deref()).await {
        Ok(Ok(e)) => e,
        Ok(Err(u)) => {
            return bad_request(page, "This segment cannot be counted", u.message()).await
        }
        Err(e) => return page.error(e, "segment export").await,
    };
    let spec = seg::ExportSpec { columns, links_for };
    let stream = match seg::export(core.clone(), &s, evaluated, spec, &console.actor()).await {
        Ok(s) => s,
        Err(e) => return page.error(e, "segment export").await,
    };
    let file = format!(
        "attachment; filename=\"segment-{id}{}.csv\"",
        at.as_deref()
            .map(|a| format!("-as-of-{}", &a[..10.min(a.len())]))
            .unwrap_or_default()
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// `POST /admin/segments/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ReadReports, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found(page).await;
    };
    match seg::delete(&state.core, id, &console.actor()).await {
        Ok(true) => Redirect::to("/admin/segments").into_response(),
        Ok(false) => not_found(page).await,
        Err(e) => page.error(e, "segment delete").await,
    }
}

/// The dashboard's question from the query: profile (default the first), days (default the
/// last 30) and grouping; what is wrong with it, if anything (then the defaults stand).
struct Asked {
    profile_id: i64,
    period: seg::Period,
    error: Option<String>,
}

async fn asked(
    state: &AppState,
    page: &Page,
) -> crate::services::consent::Result<Option<(Asked, Vec<(i64, String)>)>> {
    let profiles: Vec<(i64, String)> = crate::services::setup::profiles(&state.core)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let wanted = page
        .query_value("profile")
        .and_then(|p| p.parse::<i64>().ok());
    let Some(profile_id) = profiles
        .iter()
        .find(|(id, _)| wanted.is_none_or(|w| w == *id))
        .or(profiles.first())
        .map(|(id, _)| *id)
    else {
        return Ok(None);
    };
    let today = crate::domain::report::from_days(
        state.core.clock.now().unix_timestamp().div_euclid(86_400),
    );
    let month_ago = crate::domain::report::from_days(crate::domain::report::days(&today) - 29);
    let mut error = None;
    let mut day = |name: &str, default: &Day| match page.query_value(name) {
        Some(s) if !s.trim().is_empty() => Day::parse(&s).unwrap_or_else(|| {
            error = Some(format!(
                "“{}” is not a day such as 2026-11-20.",
                s.chars().take(40).collect::<String>()
            ));
            default.clone()
        }),
        _ => default.clone(),
    };
    let mut from = day("from", &month_ago);
    let mut to = day("to", &today);
    if to < from {
        error = Some("The period ends before it starts.".into());
        (from, to) = (month_ago, today);
    }
    let bucket = match page.query_value("by") {
        Some(b) => Bucket::parse(&b).unwrap_or_else(|| {
            error = Some("Group by day, week or month.".into());
            Bucket::Day
        }),
        None => Bucket::Day,
    };
    Ok(Some((
        Asked {
            profile_id,
            period: seg::Period { from, to, bucket },
            error,
        },
        profiles,
    )))
}

fn dashboard_query(a: &Asked) -> String {
    serde_urlencoded::to_string([
        ("profile", a.profile_id.to_string()),
        ("from", a.period.from.as_str().to_owned()),
        ("to", a.period.to.as_str().to_owned()),
        ("by", a.period.bucket.as_str().to_owned()),
    ])
    .unwrap_or_default()
}

/// `GET /admin/dashboard`.
pub async fn dashboard(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (a, profiles) = match asked(&state, &page).await {
        Ok(Some(x)) => x,
        Ok(None) => {
            return bad_request(
                page,
                "No profile yet",
                "Set up a compliance profile first.".into(),
            )
            .await
        }
        Err(e) => return page.error(e, "dashboard").await,
    };
    let d = match seg::dashboard(&state.core, a.profile_id, &a.period).await {
        Ok(d) => d,
        Err(e) => return page.error(e, "dashboard").await,
    };
    let status = if a.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let v = view::DashboardView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        profiles,
        profile_id: a.profile_id,
        from: a.period.from.as_str().to_owned(),
        to: a.period.to.as_str().to_owned(),
        bucket: a.period.bucket,
        error: a.error.clone(),
        labels: d.buckets.iter().map(|b| a.period.bucket.label(b)).collect(),
        trends: d.trends,
        bursts: d.bursts,
        csv_query: dashboard_query(&a),
    };
    page.send(status, move || view::dashboard_page(v)).await
}

/// `GET /admin/dashboard.csv`: the dashboard's numbers.
pub async fn dashboard_csv(
    State(state): State<AppState>,
    console: Console,
    page: Page,
) -> Response {
    let page = match console.require(Permission::ReadReports, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let a = match asked(&state, &page).await {
        Ok(Some((a, _))) if a.error.is_none() => a,
        Ok(Some((a, _))) => {
            return bad_request(page, "Not a period", a.error.unwrap_or_default()).await
        }
        Ok(None) => {
            return bad_request(
                page,
                "No profile yet",
                "Set up a compliance profile first.".into(),
            )
            .await
        }
        Err(e) => return page.error(e, "dashboard").await,
    };
    match seg::dashboard(&state.core, a.profile_id, &a.period).await {
        Ok(d) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"prefcenter-dashboard.csv\"",
                ),
            ],
            seg::dashboard_csv(&d, a.period.bucket),
        )
            .into_response(),
        Err(e) => page.error(e, "dashboard").await,
    }
}
