//! The console's import routes (admins: `Permission::ImportConsent`): an upload (multipart)
//! kept as a draft, its mapping step and dry run, the start, the progress page, the refused
//! rows as CSV, and discarding a draft.

use super::console::{forbidden_post, Console};
use super::contact::field;
use super::pages::Page;
use super::AppState;
use crate::domain::auth::Permission;
use crate::domain::import::{Column, Layout, Mapping, RowError};
use crate::pages::imports as view;
use crate::services::import as imports;
use crate::store::import as db;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// The largest upload the import takes (all files and the form).
pub const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;

async fn not_found(page: Page) -> Response {
    page.send(StatusCode::NOT_FOUND, || {
        leptos::view! {
            <crate::pages::MessagePage brand=None lang=crate::domain::parse::Lang::En
                title="No such import"
                body="There is no import with this number (a discarded upload is gone)."
                hint="See the imports on the Imports page of the console."/>
        }
    })
    .await
}

/// `GET /admin/imports`.
pub async fn list(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ImportConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    list_with(&state, &console, page, StatusCode::OK, None).await
}

async fn list_with(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (list, profiles) = match (
        db::list(&state.core.read, 50).await,
        crate::services::setup::profiles(&state.core).await,
    ) {
        (Ok(l), Ok(p)) => (l, p),
        (Err(e), _) => return page.error(e.into(), "imports").await,
        (_, Err(e)) => return page.error(e, "imports").await,
    };
    let users = crate::store::users::all(&state.core.read)
        .await
        .unwrap_or_default();
    let who = |by: String| {
        by.strip_prefix("user:")
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|n| users.iter().find(|u| u.id == n))
            .map(|u| u.email.clone())
            .unwrap_or(by)
    };
    let name_of = |id: i64| {
        profiles
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let v = view::ImportsView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        imports: list
            .into_iter()
            .map(|mut i| {
                let p = name_of(i.profile_id);
                i.started_by = who(std::mem::take(&mut i.started_by));
                (i, p)
            })
            .collect(),
        profiles: profiles.iter().map(|p| (p.id, p.name.clone())).collect(),
        error,
    };
    page.send(status, move || view::imports_page(v)).await
}

/// The upload form's fields: the token, the profile, and the files (name, bytes).
struct Upload {
    csrf: String,
    profile: String,
    files: Vec<(String, Vec<u8>)>,
}

async fn upload_form(headers: &HeaderMap, body: Bytes) -> Option<Upload> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())?;
    let boundary = multer::parse_boundary(ct).ok()?;
    let limit = multer::SizeLimit::new().whole_stream(UPLOAD_LIMIT as u64);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limit),
    );
    let mut out = Upload {
        csrf: String::new(),
        profile: String::new(),
        files: Vec::new(),
    };
    for _ in 0..32 {
        let Some(field) = parts.next_field().await.ok()? else {
            return Some(out);
        };
        match field.name() {
            Some("csrf") => out.csrf = field.text().await.ok()?,
            Some("profile") => out.profile = field.text().await.ok()?,
            Some("files") => {
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "upload.csv".to_owned());
                let bytes = field.bytes().await.ok()?.to_vec();
                if !bytes.is_empty() {
                    out.files.push((name.chars().take(200).collect(), bytes));
                }
            }
            _ => {}
        }
    }
    None
}

/// `POST /admin/imports` (multipart: the profile and the files): kept as a draft, then its
/// mapping step.
pub async fn upload(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let page = match console.require(Permission::ImportConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| multer::parse_boundary(ct).is_ok());
    let (form, csrf) = if multipart {
        let form = upload_form(&headers, body).await;
        let csrf = form.as_ref().map(|f| f.csrf.clone()).unwrap_or_default();
        (form, csrf)
    } else {
        // Not an upload (no file can come this way): only its token is read, to answer why.
        let pairs = super::contact::form_pairs(&headers, body)
            .await
            .unwrap_or_default();
        (None, field(&pairs, "csrf").unwrap_or("").to_owned())
    };
    if !console.csrf_ok(&state, &headers, &[("csrf".to_owned(), csrf)]) {
        return forbidden_post();
    }
    let Some(form) = form else {
        let why = "The upload could not be read: send the form with one or more CSV files.";
        return list_with(
            &state,
            &console,
            page,
            StatusCode::BAD_REQUEST,
            Some(why.into()),
        )
        .await;
    };
    if form.files.is_empty() {
        let why = "Choose one or more CSV files.";
        return list_with(
            &state,
            &console,
            page,
            StatusCode::BAD_REQUEST,
            Some(why.into()),
        )
        .await;
    }
    let pairs = vec![("profile".to_owned(), form.profile.clone())];
    let (page, profile) = match super::console::chosen_profile(&state, page, &pairs).await {
        Ok((p, Some(id))) => (p, id),
        Ok((p, None)) => {
            let why = "Choose the profile the consent is for.";
            return list_with(
                &state,
                &console,
                p,
                StatusCode::BAD_REQUEST,
                Some(why.into()),
            )
            .await;
        }
        Err(r) => return r,
    };
    let files = form
        .files
        .into_iter()
        .map(|(name, bytes)| imports::SourceFile { name, bytes })
        .collect();
    let by = format!("user:{}", console.user.id);
    match imports::upload(&state.core, profile, files, false, &by).await {
        Ok(Ok(id)) => Redirect::to(&format!("/admin/imports/{id}")).into_response(),
        Ok(Err(e)) => {
            list_with(
                &state,
                &console,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("The file cannot be imported: {e}.")),
            )
            .await
        }
        Err(e) => page.error(e, "import upload").await,
    }
}

/// `GET /admin/imports/{id}`: the mapping step (a draft), or the progress and outcome.
pub async fn show(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ImportConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found(page).await;
    };
    show_with(&state, &console, page, id, StatusCode::OK, None).await
}

async fn show_with(
    state: &AppState,
    console: &Console,
    page: Page,
    id: i64,
    status: StatusCode,
    report: Option<Result<(db::Counts, Vec<RowError>), String>>,
) -> Response {
    let draft = match imports::draft(&state.core, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(page).await,
        Err(e) => return page.error(e, "import").await,
    };
    let profile = match crate::services::setup::profiles(&state.core).await {
        Ok(list) => list
            .into_iter()
            .find(|p| p.id == draft.import.profile_id)
            .map(|p| p.name)
            .unwrap_or_default(),
        Err(e) => return page.error(e, "import").await,
    };
    let mut i = draft.import;
    // Who started it, by address (while the user exists).
    if let Some(n) = i
        .started_by
        .strip_prefix("user:")
        .and_then(|n| n.parse::<i64>().ok())
    {
        if let Ok(users) = crate::store::users::all(&state.core.read).await {
            if let Some(u) = users.into_iter().find(|u| u.id == n) {
                i.started_by = u.email;
            }
        }
    }
    let errors = if i.draft {
        Vec::new()
    } else {
        match db::errors(&state.core.read, id).await {
            Ok(e) => e
                .into_iter()
                .map(|e| RowError {
                    line: e.line as u64,
                    column: e.column,
                    why: e.why,
                })
                .collect(),
            Err(e) => return page.error(e.into(), "import").await,
        }
    };
    let running = !i.draft && !i.done;
    let pace = running.then(|| {
        let started = crate::store::parse_time(&i.started_at).ok();
        let now = state.core.writer.clock().now();
        let secs = started
            .map(|s| (now - s).as_seconds_f64())
            .unwrap_or(0.0)
            .max(0.001);
        let rate = i.rows_done as f64 / secs;
        let left = if rate > 0.0 {
            (i.rows_total - i.rows_done) as f64 / rate
        } else {
            0.0
        };
        (rate, left)
    });
    let v = view::ImportView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        import: i,
        profile,
        files: draft.files,
        targets: draft.targets,
        report,
        errors,
        pace,
    };
    let mut response = page.send(status, move || view::import_page(v)).await;
    if running {
        // The progress page reloads itself (a header every browser follows, no script).
        response
            .headers_mut()
            .insert(header::REFRESH, axum::http::HeaderValue::from_static("2"));
    }
    response
}

/// The mapping the form names: per file, each column's role or topic; the layout; a long
/// file's options.
fn mappings_of(pairs: &[(String, String)], files: &[imports::FileMapping]) -> Vec<Mapping> {
    let layout = field(pairs, "layout")
        .and_then(Layout::parse)
        .unwrap_or(Layout::Wide);
    files
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let columns = (0..f.header.len())
                .map(|j| {
                    field(pairs, &format!("c{n}.{j}"))
                        .and_then(view::parse_column)
                        .unwrap_or(Column::Ignored)
                })
                .collect();
            let options = (0..f.option_names.len())
                .filter_map(|k| {
                    let name = field(pairs, &format!("on{n}.{k}"))?;
                    let topic = field(pairs, &format!("o{n}.{k}")).filter(|t| !t.is_empty())?;
                    Some((name.to_owned(), topic.to_owned()))
                })
                .collect();
            Mapping {
                layout,
                columns,
                options,
            }
        })
        .collect()
}

/// `POST /admin/imports/{id}/check`: saves the mapping and shows the dry run.
pub async fn check(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, pairs) = match console
        .posted(Permission::ImportConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found(page).await;
    };
    let draft = match imports::draft(&state.core, id).await {
        Ok(Some(d)) if d.import.draft => d,
        Ok(_) => return Redirect::to(&format!("/admin/imports/{id}")).into_response(),
        Err(e) => return page.error(e, "import").await,
    };
    let mappings = mappings_of(&pairs, &draft.files);
    let confirmed = field(&pairs, "source_confirmed").is_some();
    match imports::check(&state.core, id, mappings, confirmed).await {
        Ok(Some(Ok(report))) => {
            show_with(&state, &console, page, id, StatusCode::OK, Some(Ok(report))).await
        }
        Ok(Some(Err(e))) => {
            let why = format!("This mapping cannot be used: {e}.");
            show_with(
                &state,
                &console,
                page,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Err(why)),
            )
            .await
        }
        Ok(None) => Redirect::to(&format!("/admin/imports/{id}")).into_response(),
        Err(e) => page.error(e, "import check").await,
    }
}

/// `POST /admin/imports/{id}/start`: the draft runs, in the background.
pub async fn start(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ImportConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found(page).await;
    };
    match imports::start(&state.core, id).await {
        Ok(Some(Ok(()))) | Ok(None) => {
            Redirect::to(&format!("/admin/imports/{id}")).into_response()
        }
        Ok(Some(Err(e))) => {
            let why = format!("This mapping cannot be used: {e}.");
            show_with(
                &state,
                &console,
                page,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Err(why)),
            )
            .await
        }
        Err(e) => page.error(e, "import start").await,
    }
}

/// `POST /admin/imports/{id}/discard`: a draft and its files go.
pub async fn discard(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ImportConsent, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found(page).await;
    };
    match imports::discard(&state.core, id).await {
        Ok(_) => Redirect::to("/admin/imports").into_response(),
        Err(e) => page.error(e, "import discard").await,
    }
}

/// `GET /admin/imports/{id}/errors.csv`: the refused rows (line, column, why), formula-safe;
/// a draft's as its saved mapping's dry run finds them.
pub async fn errors_csv(State(state): State<AppState>, console: Console, page: Page) -> Response {
    use crate::domain::export::safe_cell;
    let page = match console.require(Permission::ImportConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found(page).await;
    };
    let import = match db::get(&state.core.read, id).await {
        Ok(Some(i)) => i,
        Ok(None) => return not_found(page).await,
        Err(e) => return page.error(e.into(), "import").await,
    };
    let rows: Vec<(i64, String, String)> = if import.draft {
        match imports::draft_errors(&state.core, &import).await {
            Ok(e) => e
                .into_iter()
                .map(|e| (e.line as i64, e.column, e.why))
                .collect(),
            Err(e) => return page.error(e, "import").await,
        }
    } else {
        match db::errors(&state.core.read, id).await {
            Ok(e) => e.into_iter().map(|e| (e.line, e.column, e.why)).collect(),
            Err(e) => return page.error(e.into(), "import").await,
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["line", "column", "why"]);
    for (line, column, why) in &rows {
        let _ = w.write_record([
            line.to_string(),
            safe_cell(column).into_owned(),
            safe_cell(why).into_owned(),
        ]);
    }
    let bytes = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}-refused-rows.csv\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
