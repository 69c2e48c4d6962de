//! `/api/v1`: JSON for sending systems. Every call carries a key in `Authorization: Bearer`,
//! is rate-limited per key, and every error is a JSON body with a stable `code`, a message and,
//! for a refused field, its name. Bodies are read with a size limit and unknown fields refused.

mod bulk;
mod links;
mod write;

use super::AppState;
use crate::domain::apikey::Scope;
use crate::domain::parse::{address_error_words, EmailAddress, PhoneNumber};
use crate::domain::{Channel, PointKind};
use crate::services::api::{self, DecideQuery, DecideRefused, KeyRefused};
use crate::store::api_keys::ApiKey;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bulk::{BulkLine, Recipient};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::num::NonZeroU32;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The largest body a decision reads.
const DECIDE_BODY_LIMIT: usize = 16 * 1024;

/// What the API keeps between calls on this instance: each key's rate limiter.
pub struct ApiState {
    limiter: DefaultKeyedRateLimiter<i64>,
}

impl ApiState {
    pub fn new(per_second: u32) -> ApiState {
        let n = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        ApiState {
            limiter: RateLimiter::keyed(Quota::per_second(n)),
        }
    }
}

/// An API error: its status, stable code, words and (for validation) the field.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
        }
    }

    fn unavailable(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "an API call failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The server could not answer now. Try again.",
        )
    }
}

/// Every error's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine code, e.g. `invalid_field`.
    code: String,
    /// What went wrong, in words.
    message: String,
    /// The refused field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_owned(),
            message: self.message.clone(),
            field: self.field.map(str::to_owned),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_value(self.body()).unwrap_or_default();
        let mut res = (self.status, json_body(&body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = secs.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

fn json_body(v: &Value) -> ([(header::HeaderName, &'static str); 1], String) {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string())
}

/// The API's OpenAPI document, generated from the handlers' and bodies' declarations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "prefcenter API",
        version = "1",
        description = "For sending systems: may I contact this person, and why; whole send lists; a contact's consent history and the changes feed. Every call carries an API key (made on the console's API keys page) as `Authorization: Bearer pck_…`. Every error is JSON with a stable `code`."
    ),
    paths(
        decide,
        decide_bulk,
        contact,
        history,
        changes,
        links::links,
        links::links_bulk,
        links::revoke,
        write::create_contact,
        write::record_consent
    ),
    modifiers(&BearerKey),
    tags(
        (name = "decisions", description = "May I contact this person, and why"),
        (name = "contacts", description = "A contact and their consent"),
        (name = "ledger", description = "What changed, and when"),
        (name = "links", description = "Unsubscribe and subscription-center links for messages"),
    )
)]
pub struct ApiDoc;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pck_<id>_<secret>")
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json`.
async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(doc) => ([(header::CONTENT_TYPE, "application/json")], doc).into_response(),
        Err(e) => ApiError::unavailable(e).into_response(),
    }
}

/// The API's documents: the OpenAPI document and its page (served with the pages' security
/// headers, the page's content security policy among them).
pub fn doc_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", axum::routing::get(openapi_json))
        .route("/api/v1/docs", axum::routing::get(docs))
}

/// The JSON routes under `/api/v1`, outside the pages' security middleware (a page's nonce,
/// framing and logging are nothing to a JSON answer, and the decision is the hot path): each
/// answer gets the static headers an API answer needs ([`api_headers`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/decide", post(decide))
        .route("/api/v1/decide/bulk", post(decide_bulk))
        .route(
            "/api/v1/contacts",
            axum::routing::get(contact).post(write::create_contact),
        )
        .route("/api/v1/consent", post(write::record_consent))
        .route("/api/v1/contacts/history", axum::routing::get(history))
        .route("/api/v1/changes", axum::routing::get(changes))
        .route("/api/v1/links", post(links::links))
        .route("/api/v1/links/bulk", post(links::links_bulk))
        .route("/api/v1/links/revoke", post(links::revoke))
        .route("/api/v1/{*rest}", axum::routing::any(unknown_route))
        .layer(axum::middleware::map_response(api_headers))
}

/// The headers of every JSON answer: never cached, never sniffed as another type, never framed.
async fn api_headers(mut res: Response) -> Response {
    use axum::http::HeaderValue;
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

async fn unknown_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such API route.",
    )
}

/// The call's key, checked, with the scope the route needs, within its rate.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<std::sync::Arc<ApiKey>, ApiError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let api::Authenticated { key, touch_due } = match api::authenticate(&state.core, header).await {
        Ok(Ok(k)) => k,
        Ok(Err(KeyRefused::Missing)) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_key",
                "Send an API key as Authorization: Bearer pck_….",
            ))
        }
        Ok(Err(KeyRefused::Unknown)) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_key",
                "This API key is not known.",
            ))
        }
        Ok(Err(KeyRefused::Revoked)) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "revoked_key",
                "This API key was revoked.",
            ))
        }
        Err(e) => return Err(ApiError::unavailable(e)),
    };
    if let Err(not_until) = state.api.limiter.check_key(&key.id) {
        let wait = not_until
            .wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
            .as_secs()
            .max(1);
        return Err(ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many calls with this key. Wait and try again.",
            )
        });
    }
    if !key.scopes.has(scope) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "missing_scope",
            format!("This API key does not have the {} scope.", scope.as_str()),
        ));
    }
    if touch_due {
        let core = state.core.clone();
        let id = key.id;
        tokio::spawn(async move {
            if let Err(e) = api::touch(&core, id).await {
                tracing::warn!(error = %e, "recording an API key's use failed");
            }
        });
    }
    Ok(key)
}

/// No contact (that the key may see) has the address.
fn unknown_contact() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_contact",
        "No contact has this address.",
    )
}

/// The address was erased (it is on the suppression list).
fn erased() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "erased",
        "This address was erased: nothing is kept of it, and nothing may be sent to it.",
    )
}

/// A small call's body, read up to one byte more than [`DECIDE_BODY_LIMIT`] (which tells "too
/// large" from "just fits"; [`json_of`] refuses it).
async fn small_body(body: axum::body::Body) -> Bytes {
    axum::body::to_bytes(body, DECIDE_BODY_LIMIT + 1)
        .await
        .unwrap_or_else(|_| Bytes::from(vec![0; DECIDE_BODY_LIMIT + 1]))
}

/// The JSON object of a body: size, media type and syntax checked, with stable codes.
fn json_of<T: for<'de> Deserialize<'de>>(
    headers: &HeaderMap,
    body: &Bytes,
    limit: usize,
) -> Result<T, ApiError> {
    if body.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The body is larger than {limit} bytes."),
        ));
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as Content-Type: application/json.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_body",
            format!("The body is not the JSON this call takes: {e}."),
        )
    })
}

/// The question of `POST /api/v1/decide`. Exactly one of `email` and `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    #[schema(example = "holly@contoso.com")]
    email: Option<String>,
    #[schema(example = "+14255550101")]
    phone: Option<String>,
    /// The profile's key; needed when the key is not restricted to one and the address is not
    /// a known contact.
    profile: Option<String>,
    /// The purpose's key.
    #[schema(example = "commercial", min_length = 1)]
    purpose: String,
    /// The topic's key, inside the purpose.
    #[schema(example = "newsletter")]
    topic: Option<String>,
    /// `email`, `sms` or `phone`.
    #[schema(example = "email", pattern = "^(email|sms|phone)$")]
    channel: String,
    /// A past moment (RFC 3339): the answer as things stood then.
    #[schema(example = "2026-01-31T12:00:00Z", format = DateTime)]
    as_of: Option<String>,
}

/// Why an answer is what it is.
#[derive(Debug, Serialize, ToSchema)]
struct ReasonBody {
    /// A stable code: erased, purpose_disabled, topic_retired, channel_not_covered,
    /// level_too_low, child_without_custodian_consent, opted_out, pending_confirmation,
    /// opted_in, no_opt_in, not_opted_out, mandatory.
    code: &'static str,
    /// The reason in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The ledger record it rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<i64>,
    /// `level_too_low`: the level the purpose needs, and the contact's.
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<u8>,
}

impl ReasonBody {
    fn of(r: crate::domain::Reason, words: bool) -> ReasonBody {
        let (required, actual) = match r {
            crate::domain::Reason::LevelTooLow { required, actual } => {
                (Some(required), Some(actual))
            }
            _ => (None, None),
        };
        ReasonBody {
            code: r.code(),
            message: words.then(|| r.message()),
            record: r.record(),
            required,
            actual,
        }
    }
}

/// The answer of `POST /api/v1/decide`.
#[derive(Debug, Serialize, ToSchema)]
struct DecideAnswerBody {
    allowed: bool,
    reason: ReasonBody,
    /// The ledger record the answer rests on, if one.
    record: Option<crate::store::ledger::RecordSummary>,
    /// The profile's key.
    profile: String,
    /// Whether the address is a contact of that profile.
    contact_known: bool,
    /// The moment asked about, if one (stored form).
    as_of: Option<String>,
}

/// The body, parsed at the edge into the service's query.
/// The contact point named by exactly one of `email` and `phone`, normalised, or the refused
/// field and why (a bulk list says it on the recipient's line, the other calls as their error).
fn parse_point(
    email: Option<String>,
    phone: Option<String>,
) -> Result<(PointKind, String), (&'static str, String)> {
    match (email, phone) {
        (Some(e), None) => EmailAddress::parse(&e)
            .map(|a| (PointKind::Email, a.into_string()))
            .map_err(|m| ("email", address_error_words(m).to_owned())),
        (None, Some(p)) => PhoneNumber::parse(&p)
            .map(|a| (PointKind::Phone, a.as_str().to_owned()))
            .map_err(|m| ("phone", address_error_words(m).to_owned())),
        _ => Err(("email", "Give exactly one of email and phone.".to_owned())),
    }
}

fn point_of(email: Option<String>, phone: Option<String>) -> Result<(PointKind, String), ApiError> {
    parse_point(email, phone).map_err(|(field, message)| ApiError::invalid(field, message))
}

fn channel_of(channel: &str) -> Result<Channel, ApiError> {
    Channel::parse(channel)
        .ok_or_else(|| ApiError::invalid("channel", "The channel is one of email, sms, phone."))
}

/// An `as_of` moment (RFC 3339) in the stored form.
fn as_of_of(as_of: Option<&str>) -> Result<Option<String>, ApiError> {
    as_of
        .map(|t| {
            crate::store::parse_time(t)
                .map(crate::store::format_time)
                .map_err(|_| {
                    ApiError::invalid(
                        "as_of",
                        "Give a moment as RFC 3339, like 2026-01-31T12:00:00Z.",
                    )
                })
        })
        .transpose()
}

/// A handler's answer: its JSON with 200, or its error.
fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => (StatusCode::OK, json_body(&v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn decide_query(b: DecideBody) -> Result<DecideQuery, ApiError> {
    let point = point_of(b.email, b.phone)?;
    let channel = channel_of(&b.channel)?;
    let as_of = as_of_of(b.as_of.as_deref())?;
    Ok(DecideQuery {
        point,
        profile: b.profile,
        purpose: b.purpose,
        topic: b.topic,
        channel,
        as_of,
    })
}

/// May this address be contacted for this purpose (and topic) on this channel, and why.
///
/// The answer is the decision with its reason (a stable code and words) and the ledger record
/// it rests on. With `as_of` it answers as things stood at that moment: the contact's ledger and
/// the purpose's definition (enforcement model, channels, retirement) of then.
#[utoipa::path(
    post,
    path = "/api/v1/decide",
    tag = "decisions",
    request_body = DecideBody,
    responses(
        (status = 200, description = "The decision and why", body = DecideAnswerBody),
        (status = 400, description = "The body is not this call's JSON (`malformed_body`)", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the decide scope, or is restricted to another profile", body = ErrorBody),
        (status = 404, description = "No such profile, purpose or topic", body = ErrorBody),
        (status = 413, description = "The body is over 16 KB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is refused (`invalid_field`, `profile_required`)", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn decide(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = small_body(body).await;
    // Serialized straight to text (the hot path: no intermediate JSON value), into room for
    // an answer with its record (no growing on the way).
    match decide_inner(&state, &parts.headers, &body).await {
        Ok(answer) => match json_text(&answer) {
            Ok(text) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                axum::body::Body::from(text),
            )
                .into_response(),
            Err(e) => ApiError::unavailable(e).into_response(),
        },
        Err(e) => e.into_response(),
    }
}

/// `value` as JSON text, written into room for a decision with its record.
fn json_text(value: &impl Serialize) -> serde_json::Result<Vec<u8>> {
    let mut text = Vec::with_capacity(512);
    serde_json::to_writer(&mut text, value)?;
    Ok(text)
}

fn refused(r: DecideRefused) -> ApiError {
    match r {
        DecideRefused::UnknownProfile => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_profile",
            "There is no profile with this key.",
        ),
        DecideRefused::ProfileNotAllowed => ApiError::new(
            StatusCode::FORBIDDEN,
            "profile_not_allowed",
            "This API key is restricted to another profile.",
        ),
        DecideRefused::ProfileRequired => ApiError {
            field: Some("profile"),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "profile_required",
                "Name the profile (this key is not restricted to one).",
            )
        },
        DecideRefused::UnknownPurpose => ApiError {
            field: Some("purpose"),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_purpose",
                "There is no purpose with this key.",
            )
        },
        DecideRefused::UnknownTopic => ApiError {
            field: Some("topic"),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_topic",
                "The purpose has no topic with this key.",
            )
        },
    }
}

async fn decide_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<DecideAnswerBody, ApiError> {
    let key = caller(state, headers, Scope::Decide).await?;
    let q = decide_query(json_of(headers, body, DECIDE_BODY_LIMIT)?)?;
    let answer = match api::decide(&state.core, &key, &q).await {
        Ok(Ok(a)) => a,
        Ok(Err(r)) => return Err(refused(r)),
        Err(e) => return Err(ApiError::unavailable(e)),
    };
    Ok(DecideAnswerBody {
        allowed: answer.decision.allowed,
        reason: ReasonBody::of(answer.decision.reason, true),
        record: answer.record,
        profile: answer.profile,
        contact_known: answer.known,
        as_of: q.as_of,
    })
}

/// The query of `POST /api/v1/decide/bulk`: the one question of the whole send list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct BulkParams {
    /// The purpose's key.
    #[param(example = "commercial")]
    purpose: String,
    /// The topic's key.
    #[param(example = "newsletter")]
    topic: Option<String>,
    /// `email`, `sms` or `phone`.
    #[param(example = "email", pattern = "^(email|sms|phone)$")]
    channel: String,
    /// The profile's key (needed unless the API key is restricted to one).
    #[param(example = "contoso")]
    profile: Option<String>,
    /// A past moment (RFC 3339).
    as_of: Option<String>,
    /// `allowed`: answer only the recipients who may be contacted.
    only: Option<String>,
}

/// Decide a whole send list (up to 1,000,000 recipients).
///
/// The list is a JSON array or newline-delimited JSON, answered in the same form, both
/// streamed: recipients are read and answered a batch at a time, so memory stays bounded
/// whatever the list's length. One question for the whole list (the query); each answer has
/// the recipient's `index`, the decision and its reason, or the recipient's error; a list that
/// breaks off is answered up to the break, then a line with the error.
#[utoipa::path(
    post,
    path = "/api/v1/decide/bulk",
    tag = "decisions",
    params(BulkParams),
    request_body(
        description = "The send list: a JSON array of recipients, or one recipient per line (application/x-ndjson)",
        content(
            (Vec<Recipient> = "application/json"),
            (Recipient = "application/x-ndjson"),
        )
    ),
    responses(
        (status = 200, description = "One answer per recipient, in the list's form and order (streamed)", content(
            (Vec<BulkLine> = "application/json"),
            (BulkLine = "application/x-ndjson"),
        )),
        (status = 400, description = "The query is not this call's (`malformed_query`)", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the decide scope, or is restricted to another profile", body = ErrorBody),
        (status = 404, description = "No such profile, purpose or topic", body = ErrorBody),
        (status = 415, description = "Neither application/json nor application/x-ndjson", body = ErrorBody),
        (status = 422, description = "A parameter is refused", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn decide_bulk(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let start = async {
        let key = caller(&state, &parts.headers, Scope::Decide).await?;
        let params: BulkParams = query_of(&parts)?;
        let ndjson = bulk::is_ndjson(&parts.headers)?;
        let channel = channel_of(&params.channel)?;
        let as_of = as_of_of(params.as_of.as_deref())?;
        let only_allowed = match params.only.as_deref() {
            None => false,
            Some("allowed") => true,
            Some(_) => return Err(ApiError::invalid("only", "The only value is allowed.")),
        };
        let question = match api::bulk_question(
            &state.core,
            &key,
            params.profile.as_deref(),
            &params.purpose,
            params.topic.as_deref(),
            channel,
            as_of,
        )
        .await
        {
            Ok(Ok(q)) => q,
            Ok(Err(r)) => return Err(refused(r)),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        Ok((question, ndjson, only_allowed))
    };
    let (question, ndjson, only_allowed) = match start.await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };

    let core = state.core.clone();
    bulk::stream(body, ndjson, only_allowed, move |parsed| {
        let (core, question) = (core.clone(), question.clone());
        async move {
            let decisions = api::decide_batch(&core, &question, &parsed)
                .await
                .map_err(ApiError::unavailable)?;
            Ok(decisions
                .into_iter()
                .map(|d| {
                    (!only_allowed || d.allowed).then(|| BulkLine {
                        allowed: Some(d.allowed),
                        reason: Some(ReasonBody::of(d.reason, false)),
                        ..BulkLine::default()
                    })
                })
                .collect())
        }
    })
    .await
}

/// The most records a page of history or of the changes feed holds (and the default).
const PAGE_MAX: i64 = 1000;
const PAGE_DEFAULT: i64 = 100;

fn query_of<T: for<'de> Deserialize<'de>>(
    parts: &axum::http::request::Parts,
) -> Result<T, ApiError> {
    serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_query",
            format!("The query is not what this call takes: {e}."),
        )
    })
}

fn limit_of(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(PAGE_DEFAULT),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "limit",
            format!("The limit is 1 to {PAGE_MAX}."),
        )),
    }
}

/// A page of records and the cursor of the next one (`None`: nothing more now).
fn page_body(records: Vec<api::FeedRecord>, limit: i64) -> Value {
    let next = (records.len() as i64 == limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    serde_json::to_value(PageBody { records, next }).unwrap_or_default()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// The contact's email address (or `phone`).
    #[param(example = "holly@contoso.com")]
    email: Option<String>,
    phone: Option<String>,
    /// The `next` of the page before: records older than this one.
    before: Option<i64>,
    /// Records a page, 1 to 1000 (100).
    limit: Option<i64>,
}

/// A contact's consent history: their ledger records, newest first.
///
/// Paged: `next` is the `before` of the following page, `null` at the oldest record.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/history",
    tag = "ledger",
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of the contact's records, newest first", body = PageBody),
        (status = 400, description = "The query is not this call's", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the read scope", body = ErrorBody),
        (status = 404, description = "No contact (the key may see) has this address", body = ErrorBody),
        (status = 422, description = "A parameter is refused", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn history(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Read).await?;
        let q: HistoryQuery = query_of(&parts)?;
        let limit = limit_of(q.limit)?;
        let (kind, address) = point_of(q.email, q.phone)?;
        let point = api::point_for(&state.core, &key, kind, &address)
            .await
            .map_err(ApiError::unavailable)?
            .ok_or_else(unknown_contact)?;
        let records = api::feed(
            &state.core,
            &key,
            crate::store::ledger::FeedPage {
                point: Some(point),
                before: q.before,
                newest_first: true,
                limit,
                ..Default::default()
            },
        )
        .await
        .map_err(ApiError::unavailable)?;
        Ok::<Value, ApiError>(page_body(records, limit))
    };
    respond(run.await)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    /// The `next` of the page before (0, or none, from the start).
    after: Option<i64>,
    /// Records a page, 1 to 1000 (100).
    limit: Option<i64>,
}

/// A page of ledger records.
#[derive(Debug, Serialize, ToSchema)]
struct PageBody {
    records: Vec<api::FeedRecord>,
    /// The cursor of the next page; `null` when there is nothing more now.
    next: Option<i64>,
}

/// The changes feed: every ledger record after a cursor, oldest first.
///
/// A key restricted to a profile sees that profile's contacts only. A system catches up after
/// an outage by following `next` until it is `null`, and keeps the last one for next time.
#[utoipa::path(
    get,
    path = "/api/v1/changes",
    tag = "ledger",
    params(ChangesQuery),
    responses(
        (status = 200, description = "A page of ledger records after the cursor, oldest first", body = PageBody),
        (status = 400, description = "The query is not this call's", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the read scope", body = ErrorBody),
        (status = 422, description = "A parameter is refused", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn changes(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Read).await?;
        let q: ChangesQuery = query_of(&parts)?;
        let limit = limit_of(q.limit)?;
        let records = api::feed(
            &state.core,
            &key,
            crate::store::ledger::FeedPage {
                after: Some(q.after.unwrap_or(0)),
                limit,
                ..Default::default()
            },
        )
        .await
        .map_err(ApiError::unavailable)?;
        Ok::<Value, ApiError>(page_body(records, limit))
    };
    respond(run.await)
}

/// The name a `$ref` points at (`#/components/schemas/Name` → `Name`), or an array's item's.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(items) = schema.get("items") {
        let inner = schema_name(items);
        if !inner.is_empty() {
            return format!("{inner}[]");
        }
    }
    String::new()
}

/// A property's type in words.
fn type_words(schema: &Value) -> String {
    let named = schema_name(schema);
    if !named.is_empty() {
        return named;
    }
    if let Some(all) = schema.get("oneOf").and_then(Value::as_array) {
        return all
            .iter()
            .map(type_words)
            .filter(|t| t != "null")
            .collect::<Vec<_>>()
            .join(" or ");
    }
    match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => String::new(),
    }
}

/// `GET /api/v1/docs`: the API's reference as a page, read off the OpenAPI document.
async fn docs(page: super::pages::Page) -> Response {
    use crate::pages::{ApiDocsView, DocOperation, DocSchema};
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in ["get", "post", "put", "delete"] {
                let Some(op) = item.get(method) else { continue };
                let params = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            text(p, "name"),
                            text(p, "in"),
                            p.get("required").and_then(Value::as_bool).unwrap_or(false),
                            text(p, "description"),
                        )
                    })
                    .collect();
                let body = op
                    .pointer("/requestBody/content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(media, c)| {
                        (
                            media.clone(),
                            c.get("schema").map(schema_name).unwrap_or_default(),
                        )
                    })
                    .collect();
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(code, r)| {
                        let schema = r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().next())
                            .and_then(|c| c.get("schema"))
                            .map(schema_name)
                            .unwrap_or_default();
                        (code.clone(), text(r, "description"), schema)
                    })
                    .collect();
                operations.push(DocOperation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: text(op, "summary"),
                    description: text(op, "description"),
                    params,
                    body,
                    responses,
                });
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            DocSchema {
                name: name.clone(),
                description: text(s, "description"),
                fields: s
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(f, p)| {
                        (
                            f.clone(),
                            type_words(p),
                            required.contains(&f.as_str()),
                            text(p, "description"),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let view = ApiDocsView {
        title: text(doc.get("info").unwrap_or(&Value::Null), "title"),
        description: text(doc.get("info").unwrap_or(&Value::Null), "description"),
        operations,
        schemas,
    };
    page.send(StatusCode::OK, move || crate::pages::api_docs_page(view))
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ContactQuery {
    /// The contact's email address (or `phone`).
    #[param(example = "holly@contoso.com")]
    email: Option<String>,
    phone: Option<String>,
}

/// A contact and their current consent.
///
/// Every purpose and topic in use, on every channel it uses: what the contact recorded, and
/// whether they may be contacted for it now, with the reason's code and the ledger record it
/// rests on. An erased address answers `erased` (410), never a contact.
#[utoipa::path(
    get,
    path = "/api/v1/contacts",
    tag = "contacts",
    params(ContactQuery),
    responses(
        (status = 200, description = "The contact and their consent", body = api::ContactState),
        (status = 400, description = "The query is not this call's", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the read scope", body = ErrorBody),
        (status = 404, description = "No contact (the key may see) has this address", body = ErrorBody),
        (status = 410, description = "The address was erased", body = ErrorBody),
        (status = 422, description = "A parameter is refused", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn contact(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Read).await?;
        let q: ContactQuery = query_of(&parts)?;
        let (kind, address) = point_of(q.email, q.phone)?;
        match api::contact_state(&state.core, &key, kind, &address).await {
            Ok(Ok(c)) => serde_json::to_value(c).map_err(ApiError::unavailable),
            Ok(Err(api::ContactRefused::Unknown)) => Err(unknown_contact()),
            Ok(Err(api::ContactRefused::Erased)) => Err(erased()),
            Err(e) => Err(ApiError::unavailable(e)),
        }
    };
    respond(run.await)
}
