//! The console's staff desk (staff and admins: `Permission::RecordConsent`): find a contact,
//! see one whole.

use super::console::Console;
use super::contact::field;
use super::pages::Page;
use super::AppState;
use crate::domain::auth::Permission;
use crate::domain::search::Query;
use crate::domain::staff::{Justified, Told};
use crate::domain::{Channel, Subject};
use crate::pages;
use crate::pages::Typed;
use crate::services::desk;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// `GET /admin/contacts` (`?q=`): the search form, and what the query finds.
pub async fn contacts(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    contacts_with(
        &state,
        &console,
        page,
        pages::NewTyped::default(),
        Vec::new(),
    )
    .await
}

/// The contacts page: the search (from `?q=`), and the "add a contact" form as typed.
async fn contacts_with(
    state: &AppState,
    console: &Console,
    page: Page,
    adding: pages::NewTyped,
    add_errors: Vec<(&'static str, String)>,
) -> Response {
    // A NUL can match nothing stored, and PostgreSQL refuses it in text: it goes.
    let typed: String = page
        .query_value("q")
        .unwrap_or_default()
        .replace('\0', "")
        .chars()
        .take(200)
        .collect();
    let mut partial = false;
    let (found, error) = if typed.trim().is_empty() {
        (None, None)
    } else {
        match Query::parse(&typed) {
            None => (
                None,
                Some("Type letters or digits of a name, an address or a number.".to_owned()),
            ),
            Some(q) => match desk::search(&state.core, &q).await {
                Ok((f, p)) => {
                    partial = p;
                    (Some(f), None)
                }
                Err(e) => return page.error(e, "contact search").await,
            },
        }
    };
    let export_subjects = match desk::export_choices(&state.core).await {
        Ok(c) => c.into_iter().map(|(s, l)| (subject_value(s), l)).collect(),
        Err(e) => return page.error(e, "contact search").await,
    };
    let profiles = match desk::profile_choices(&state.core).await {
        Ok(p) => p,
        Err(e) => return page.error(e, "contact search").await,
    };
    let status = if add_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = pages::ContactsView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        query: typed,
        found,
        partial,
        error,
        limit: desk::MAX_FOUND,
        export_subjects,
        profiles,
        adding,
        add_errors,
    };
    page.send(status, move || pages::contacts_page(view)).await
}

/// `POST /admin/contacts/new`: a contact added by hand.
pub async fn add_contact(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::domain::parse::{EmailAddress, Lang, PhoneNumber};
    let (page, pairs) = match console
        .posted(Permission::RecordConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |k: &str| field(&pairs, k).unwrap_or("").to_owned();
    let typed = pages::NewTyped {
        name: get("name"),
        email: get("email"),
        phone: get("phone"),
        lang: get("lang"),
        profile: get("profile"),
    };
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let name = match crate::domain::search::clean_name(&typed.name) {
        Ok(n) => n,
        Err(_) => {
            errors.push((
                "name",
                "Enter a name of at most 200 characters, without control characters.".into(),
            ));
            None
        }
    };
    let email = match typed.email.trim() {
        "" => None,
        e => match EmailAddress::parse(e) {
            Ok(e) => Some(e),
            Err(_) => {
                errors.push((
                    "email",
                    "Enter an email address in the form name@example.com.".into(),
                ));
                None
            }
        },
    };
    let phone = match typed.phone.trim() {
        "" => None,
        p => match PhoneNumber::parse(p) {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push((
                    "phone",
                    "Enter the number with its country code, as +1 425 555 0101.".into(),
                ));
                None
            }
        },
    };
    if errors.is_empty() && email.is_none() && phone.is_none() {
        errors.push((
            "email",
            "Enter an email address, a phone number, or both.".into(),
        ));
    }
    let profiles = match desk::profile_choices(&state.core).await {
        Ok(p) => p,
        Err(e) => return page.error(e, "adding a contact").await,
    };
    let profile_id = typed
        .profile
        .parse::<i64>()
        .ok()
        .filter(|id| profiles.iter().any(|p| p.0 == *id));
    if profile_id.is_none() {
        errors.push(("form", "Choose one of the profiles.".into()));
    }
    if let (true, Some(profile_id)) = (errors.is_empty(), profile_id) {
        let new = desk::NewByHand {
            profile_id,
            name,
            email,
            phone,
            lang: Lang::parse(&typed.lang),
        };
        match desk::add_contact(&state.core, new).await {
            Ok(Ok(id)) => {
                return Redirect::to(&format!("/admin/contacts/{id}?done=created")).into_response()
            }
            Ok(Err(desk::AddRefused::Exists(field, id))) => errors.push((
                field,
                format!("This address is already contact {id}’s: find them above, or open /admin/contacts/{id}."),
            )),
            Ok(Err(desk::AddRefused::Erased(field))) => errors.push((
                field,
                "This address was erased at its owner’s request and may not be added again.".into(),
            )),
            Err(e) => return page.error(e, "adding a contact").await,
        }
    }
    contacts_with(&state, &console, page, typed, errors).await
}

/// `GET /admin/contacts/{id}`: one contact whole (`?done=` after a change).
pub async fn contact(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let done = match page.query_value("done").as_deref() {
        Some("recorded") => Some("The change is recorded, and the contact is emailed what was recorded with a link to correct it."),
        Some("recorded_quietly") => Some("The change is recorded. The contact has no email address to tell."),
        Some("asked") => Some("The contact was sent an email to confirm the opt-in: it applies once they confirm."),
        Some("unchanged") => Some("Nothing changed: the contact’s consent was already so."),
        Some("copy") => Some("The contact is being emailed a link to download a copy of their data."),
        Some("erasure") => Some("The contact is being emailed a link to confirm the erasure; an admin can also approve it below."),
        Some("same") => Some("The same request was made moments ago: no second email was sent."),
        Some("profile") => Some("The profile is saved."),
        Some("created") => Some("The contact is added. Record their consent below, with how they gave it."),
        Some("profile_asked") => Some("The profile is saved, and the custodian is emailed to confirm what the child asked to receive."),
        _ => None,
    };
    let id = page.segment_i64(3);
    let typed_at = page.query_value("at").unwrap_or_default();
    let (at, status, error) = if typed_at.trim().is_empty() {
        (None, StatusCode::OK, None)
    } else {
        match desk::moment(&typed_at) {
            Some(at) => (Some(at), StatusCode::OK, None),
            None => (
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((
                    0,
                    "at",
                    "Enter a moment as a date and time (2026-11-20 10:30, UTC) or a day."
                        .to_owned(),
                )),
            ),
        }
    };
    let typed = Typed {
        at: typed_at,
        ..Typed::default()
    };
    show(
        &state,
        &console,
        page,
        id,
        at.as_deref(),
        status,
        done,
        error,
        typed,
    )
    .await
}

/// The contact page, or the page that says there is no such contact.
#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    console: &Console,
    page: Page,
    id: Option<i64>,
    at: Option<&str>,
    status: StatusCode,
    done: Option<&'static str>,
    error: Option<(i64, &'static str, String)>,
    typed: Typed,
) -> Response {
    let found = match id {
        Some(id) => desk::contact(&state.core, id, at).await,
        None => Ok(None),
    };
    let contact = match found {
        Ok(Some(c)) => c,
        Ok(None) => return no_contact(page).await,
        Err(e) => return page.error(e, "contact").await,
    };
    let requests = match crate::services::rights::of_contact(&state.core, contact.card.id).await {
        Ok(r) => r,
        Err(e) => return page.error(e, "contact").await,
    };
    let custodian_email = match desk::custodian_email(&state.core, contact.card.custodian).await {
        Ok(c) => c,
        Err(e) => return page.error(e, "contact").await,
    };
    let view = pages::ContactView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        contact,
        done,
        error,
        typed,
        requests,
        custodian_email,
    };
    page.send(status, move || pages::contact_page(view)).await
}

/// The contact page again (422), with a refused form's message beside its field and what was
/// typed.
async fn refused(
    state: &AppState,
    console: &Console,
    page: Page,
    contact_id: i64,
    error: Option<(i64, &'static str, String)>,
    typed: Typed,
) -> Response {
    show(
        state,
        console,
        page,
        Some(contact_id),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        error,
        typed,
    )
    .await
}

/// What every desk form says of an erased contact.
const ERASED: &str = "This contact was erased: nothing can be recorded for them.";

/// `POST /admin/contacts/{id}/record`: a change taken by phone, in person or on paper.
pub async fn record(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, pairs) = match console
        .posted(Permission::RecordConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = page.segment_i64(3);
    let get = |k: &str| field(&pairs, k).unwrap_or("").to_owned();
    let typed = Typed {
        item: get("item"),
        value: get("value"),
        told: get("told"),
        reference: get("reference"),
        justification: get("justification"),
        ..Typed::default()
    };
    let point: Option<i64> = get("point").parse().ok();
    let (Some(contact_id), Some(point)) = (id, point) else {
        return no_contact(page).await;
    };
    let refuse = |field: &'static str, m: &str| Some((point, field, m.to_owned()));
    let error = 'check: {
        let Some((subject, channel)) = parse_item(&typed.item) else {
            break 'check refuse("item", "Choose a purpose or topic from the list.");
        };
        let opt_in = match typed.value.as_str() {
            "opt_in" => true,
            "opt_out" => false,
            _ => break 'check refuse("value", "Choose whether the contact wants it or not."),
        };
        let told = Told::parse(&typed.told).unwrap_or(Told::Phone);
        let why = match Justified::parse(&typed.justification, &typed.reference) {
            Ok(w) => w,
            Err(r) => break 'check refuse(r.field(), r.message()),
        };
        let change = desk::StaffChange {
            contact_id,
            point_id: point,
            subject,
            channel,
            opt_in,
            told,
            why,
        };
        match desk::record(&state.core, &console.user, change).await {
            Ok(Ok(outcome)) => {
                let done = match outcome {
                    desk::StaffOutcome::Recorded { noticed: true } => "recorded",
                    desk::StaffOutcome::Recorded { noticed: false } => "recorded_quietly",
                    desk::StaffOutcome::Asked => "asked",
                    desk::StaffOutcome::Unchanged => "unchanged",
                };
                return Redirect::to(&format!("/admin/contacts/{contact_id}?done={done}"))
                    .into_response();
            }
            Ok(Err(desk::StaffRefused::NoContact)) => {
                return no_contact(page).await
            }
            Ok(Err(desk::StaffRefused::Erased)) => {
                refuse("form", ERASED)
            }
            Ok(Err(desk::StaffRefused::Item)) => refuse(
                "item",
                "This purpose or topic cannot be changed on this address (a service purpose, or another channel’s).",
            ),
            Ok(Err(desk::StaffRefused::NeedsTrust)) => refuse(
                "value",
                "An opt-in to text messages or calls needs the contact’s confirmation, which this server sends by email only: the profile must trust opt-ins staff record.",
            ),
            Err(e) => return page.error(e, "recording a change").await,
        }
    };
    refused(&state, &console, page, contact_id, error, typed).await
}

/// A row named by the form (`p12:email`, `t5:sms`).
fn parse_item(s: &str) -> Option<(Subject, Channel)> {
    let (subject, channel) = s.split_once(':')?;
    Some((parse_subject(subject)?, Channel::parse(channel)?))
}

/// `GET /admin/contacts/{id}/history`: the contact's changes, newest first, filtered by purpose
/// or topic, how they came, and days (`?subject=t5&source=phone&from=2026-11-01&to=…`).
pub async fn history(State(state): State<AppState>, console: Console, page: Page) -> Response {
    use crate::services::audit::day_start;
    use crate::store::desk::HistoryFilter;
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return no_contact(page).await;
    };
    // A NUL can match nothing stored, and PostgreSQL refuses it in text: it goes.
    let get = |k: &str| page.query_value(k).unwrap_or_default().replace('\0', "");
    let typed = [get("subject"), get("source"), get("from"), get("to")];
    let subject = parse_subject(&typed[0]);
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let from = nonempty(&typed[2]).and_then(|d| day_start(&d, 0));
    let to = nonempty(&typed[3]).and_then(|d| day_start(&d, 1));
    let bad_day = (nonempty(&typed[2]).is_some() && from.is_none())
        || (nonempty(&typed[3]).is_some() && to.is_none());
    let filter = HistoryFilter {
        subject,
        source: crate::domain::Source::parse(&typed[1]),
        from,
        to,
        before: page.query_value("before").and_then(|b| b.parse().ok()),
    };
    let (card, lines, names) = match desk::history(&state.core, id, &filter).await {
        Ok(Some(x)) => x,
        Ok(None) => return no_contact(page).await,
        Err(e) => return page.error(e, "contact history").await,
    };
    let older = (lines.len() as i64 >= desk::HISTORY_PAGE).then(|| {
        let last = lines.last().map(|l| l.seq).unwrap_or(0);
        let mut pairs: Vec<(&str, String)> = ["subject", "source", "from", "to"]
            .into_iter()
            .zip(typed.iter().cloned())
            .filter(|(_, v)| !v.is_empty())
            .collect();
        pairs.push(("before", last.to_string()));
        format!(
            "/admin/contacts/{id}/history?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    });
    let title = card
        .name
        .clone()
        .or_else(|| card.points.iter().find_map(|p| p.address.clone()))
        .unwrap_or_else(|| format!("Contact {id}"));
    let view = pages::HistoryView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        contact_id: id,
        title,
        lines,
        subjects: names
            .into_iter()
            .map(|(s, n)| (subject_value(s), n))
            .collect(),
        typed,
        bad_day,
        older,
    };
    page.send(
        if bad_day {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        move || pages::history_page(view),
    )
    .await
}

/// A purpose or topic named by a form (`p12`, `t5`).
fn parse_subject(s: &str) -> Option<Subject> {
    let id: i64 = s.get(1..)?.parse().ok()?;
    match s.as_bytes().first()? {
        b'p' => Some(Subject::Purpose(id)),
        b't' => Some(Subject::Topic(id)),
        b'f' => crate::domain::ProfileFact::from_id(id).map(Subject::Profile),
        _ => None,
    }
}

fn subject_value(s: Subject) -> String {
    match s {
        Subject::Purpose(id) => format!("p{id}"),
        Subject::Topic(id) => format!("t{id}"),
        Subject::Profile(f) => format!("f{}", f.id()),
        Subject::Erasure => "e0".to_owned(),
    }
}

/// `GET /admin/changes.csv`: every change record (narrowed by days, how, who, purpose or
/// topic) as CSV, streamed; a day that is not one is refused before anything is sent.
pub async fn changes_csv(State(state): State<AppState>, console: Console, page: Page) -> Response {
    use crate::services::audit::day_start;
    use axum::http::header;
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let get = |k: &str| page.query_value(k).unwrap_or_default().replace('\0', "");
    let (from, to) = (get("from"), get("to"));
    let day = |d: &str, plus| {
        if d.trim().is_empty() {
            Ok(None)
        } else {
            day_start(d, plus).map(Some).ok_or(())
        }
    };
    let (Ok(from), Ok(to)) = (day(&from, 0), day(&to, 1)) else {
        return page
            .send(StatusCode::UNPROCESSABLE_ENTITY, || {
                leptos::view! {
                    <pages::MessagePage brand=None lang=crate::domain::parse::Lang::En
                        title="Not a day"
                        body="Enter days as 2026-11-20 to export the changes between them."
                        hint="Go back to the Contacts page and correct the dates."/>
                }
            })
            .await;
    };
    let filter = crate::store::desk::ExportFilter {
        from,
        to,
        source: crate::domain::Source::parse(&get("source")),
        actor: crate::domain::ActorKind::parse(&get("actor")),
        subject: parse_subject(&get("subject")),
        contact: None,
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"prefcenter-changes.csv\"",
            ),
        ],
        axum::body::Body::from_stream(desk::export_stream(state.core.clone(), filter)),
    )
        .into_response()
}

/// The page that says there is no such contact (404).
async fn no_contact(page: Page) -> Response {
    page.send(StatusCode::NOT_FOUND, || {
        leptos::view! {
            <pages::MessagePage brand=None lang=crate::domain::parse::Lang::En
                title="No such contact"
                body="There is no contact with this number."
                hint="Find the contact from the Contacts page of the console."/>
        }
    })
    .await
}

/// `POST /admin/contacts/{id}/requests`: staff start a data request for the contact (`kind`:
/// a copy of their data, or an erasure, which then waits for approval).
pub async fn start_request(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::domain::rights::RequestKind;
    use crate::services::consent::ServiceError;
    use crate::services::rights::{self, Asked};
    let (page, pairs) = match console
        .posted(Permission::RecordConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(contact_id) = page.segment_i64(3) else {
        return no_contact(page).await;
    };
    let refuse = |m: &str| Some((0, "form", m.to_owned()));
    let kind = field(&pairs, "kind").and_then(RequestKind::parse);
    let started = match kind {
        Some(kind) => rights::start(&state.core, contact_id, kind, console.user.id).await,
        None => Err(ServiceError::BadInput("unknown_request")),
    };
    let error = match started {
        Ok(None) => return no_contact(page).await,
        Ok(Some(asked)) => {
            let done = match (asked, kind.unwrap_or(RequestKind::Access)) {
                (Asked::Same(_), _) => "same",
                (_, RequestKind::Access) => "copy",
                (_, RequestKind::Erasure) => "erasure",
            };
            return Redirect::to(&format!("/admin/contacts/{contact_id}?done={done}#requests-title"))
                .into_response();
        }
        Err(ServiceError::BadInput("erased")) => refuse("This contact was erased: there is nothing left to send or erase."),
        Err(ServiceError::BadInput("no_email_address")) => refuse("The contact has no email address: a request is answered by email, so take it by post or in person instead."),
        Err(ServiceError::BadInput("unknown_request")) => refuse("Choose what the contact asks for: a copy of their data, or an erasure."),
        Err(e) => return page.error(e, "data request").await,
    };
    refused(&state, &console, page, contact_id, error, Typed::default()).await
}

/// `GET /admin/requests` (`?all=1`): contacts' data requests, overdue ones flagged.
pub async fn requests(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let all = page.query_value("all").as_deref() == Some("1");
    let done = match page.query_value("done").as_deref() {
        Some("erased") => Some("The erasure is carried out: the contact’s personal data is gone, and their addresses are on the suppression list."),
        Some("not_open") => Some("This request is not waiting for approval any more: nothing was done."),
        _ => None,
    };
    let rows = match crate::services::rights::list(&state.core, !all).await {
        Ok(r) => r,
        Err(e) => return page.error(e, "data requests").await,
    };
    let view = pages::RequestsView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        all,
        rows,
        done,
        deadline_days: state.core.policy.data_request_days,
    };
    page.send(StatusCode::OK, move || pages::requests_page(view))
        .await
}

/// `POST /admin/requests/{id}/approve`: an admin carries out an erasure staff started.
pub async fn approve(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::services::rights::{self, Forgotten};
    let (page, _) = match console
        .posted(Permission::ApproveErasure, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return Redirect::to("/admin/requests?done=not_open").into_response();
    };
    let admin = format!("user:{}", console.user.id);
    match rights::approve(&state.core, id, &admin, &console.user.email).await {
        Ok(Forgotten::Erased(_)) => {
            Redirect::to("/admin/requests?all=1&done=erased").into_response()
        }
        Ok(Forgotten::NotOpen) => Redirect::to("/admin/requests?done=not_open").into_response(),
        Err(e) => page.error(e, "approving an erasure").await,
    }
}

/// `POST /admin/contacts/{id}/profile`: the consent level, child and custodian, or tracking,
/// as staff were told, with a justification.
pub async fn profile(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::domain::parse::EmailAddress;
    use crate::domain::ConsentLevel;
    let (page, pairs) = match console
        .posted(Permission::RecordConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(contact_id) = page.segment_i64(3) else {
        return no_contact(page).await;
    };
    let get = |k: &str| field(&pairs, k).unwrap_or("").to_owned();
    let typed = Typed {
        told: get("told"),
        reference: get("reference"),
        justification: get("justification"),
        profile: true,
        level: get("level"),
        child: get("child") == "on",
        tracking: get("tracking") == "on",
        custodian: get("custodian"),
        ..Typed::default()
    };
    let refuse = |field: &'static str, m: &str| Some((-1, field, m.to_owned()));
    let error = 'check: {
        let Some(level) = typed.level.parse().ok().and_then(ConsentLevel::new) else {
            break 'check refuse("form", "Choose a consent level from 0 to 5.");
        };
        let custodian =
            match typed.custodian.trim() {
                "" => None,
                _ if !typed.child => break 'check refuse(
                    "custodian",
                    "Only a child has a custodian: tick “A child”, or leave the custodian empty.",
                ),
                a => match EmailAddress::parse(a) {
                    Ok(a) => Some(a),
                    Err(_) => {
                        break 'check refuse(
                            "custodian",
                            "Enter the custodian’s email address in the form name@example.com.",
                        )
                    }
                },
            };
        let told = Told::parse(&typed.told).unwrap_or(Told::Phone);
        let why = match Justified::parse(&typed.justification, &typed.reference) {
            Ok(w) => w,
            Err(r) => break 'check refuse(r.field(), r.message()),
        };
        let edit = desk::ProfileEdit {
            contact_id,
            level,
            child: typed.child,
            tracking: typed.tracking,
            custodian,
            told,
            why,
        };
        match desk::change_profile(&state.core, &console.user, edit).await {
            Ok(Ok(outcome)) => {
                let done = match outcome {
                    desk::ProfileOutcome::Changed {
                        custodian_asked: true,
                    } => "profile_asked",
                    desk::ProfileOutcome::Changed {
                        custodian_asked: false,
                    } => "profile",
                    desk::ProfileOutcome::Unchanged => "unchanged",
                };
                return Redirect::to(&format!("/admin/contacts/{contact_id}?done={done}"))
                    .into_response();
            }
            Ok(Err(desk::ProfileRefused::NoContact)) => return no_contact(page).await,
            Ok(Err(desk::ProfileRefused::Erased)) => refuse("form", ERASED),
            Ok(Err(desk::ProfileRefused::CustodianIsContact)) => refuse(
                "custodian",
                "That is the child’s own address: enter the custodian’s.",
            ),
            Ok(Err(desk::ProfileRefused::CustodianErased)) => refuse(
                "custodian",
                "That address was erased at its owner’s request and may not be used again.",
            ),
            Err(e) => return page.error(e, "changing a profile").await,
        }
    };
    refused(&state, &console, page, contact_id, error, typed).await
}
