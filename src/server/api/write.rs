//! The API's writes: `POST /api/v1/contacts` (create or update a contact by address) and
//! `POST /api/v1/consent` (consent collected on the caller's own form). Both take an
//! `Idempotency-Key`: a repeat of the same call answers the first call's outcome (with
//! `Idempotent-Replayed: true`) and writes nothing.

use super::{caller, json_of, refused, small_body, ApiError, ErrorBody, DECIDE_BODY_LIMIT};
use crate::domain::apikey::Scope;
use crate::domain::parse::{address_error_words, EmailAddress, Lang, PhoneNumber};
use crate::domain::{ConsentLevel, PointKind};
use crate::server::AppState;
use crate::services::api;
use crate::services::record::{
    self, ChangeInput, ConsentInput, ConsentOutcome, ConsentRefused, ContactInput, ContactOutcome,
    Idem, RecordedChange, Refusal, Written,
};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

const IDEMPOTENCY_KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";

/// The call's idempotency key and its request's hash (its path and body): `None` without one.
fn idem_of(headers: &HeaderMap, path: &str, body: &[u8]) -> Result<Option<Idem>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "An Idempotency-Key is 1 to 255 visible ASCII characters (a UUID, say).",
            )
        })?;
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    Ok(Some(Idem {
        key: key.to_owned(),
        request_hash: h.finalize().into(),
    }))
}

/// A write's outcome and whether it repeats an earlier call's; a reused key is refused.
fn fresh_or_replayed<T>(w: Written<T>) -> Result<(T, bool), ApiError> {
    match w {
        Written::Fresh(o) => Ok((o, false)),
        Written::Replayed(o) => Ok((o, true)),
        Written::KeyReused => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key came with another request before; use a new key for a new request.",
        )),
    }
}

fn refusal(r: Refusal) -> ApiError {
    let (code, field, message) = match r {
        Refusal::SuppressedEmail => (
            "suppressed",
            "email",
            "This email address was erased and is on the suppression list: it cannot be added again.",
        ),
        Refusal::SuppressedPhone => (
            "suppressed",
            "phone",
            "This phone number was erased and is on the suppression list: it cannot be added again.",
        ),
        Refusal::OtherProfileEmail => (
            "other_profile",
            "email",
            "This email address belongs to a contact of another profile.",
        ),
        Refusal::OtherProfilePhone => (
            "other_profile",
            "phone",
            "This phone number belongs to a contact of another profile.",
        ),
        Refusal::TwoContacts => (
            "two_contacts",
            "phone",
            "The email address and the phone number belong to two different contacts.",
        ),
    };
    ApiError {
        field: Some(field),
        ..ApiError::new(StatusCode::CONFLICT, code, message)
    }
}

/// A JSON answer with its status, marked when it repeats an earlier call's outcome.
fn answer(status: StatusCode, body: &impl Serialize, replayed: bool) -> Response {
    let v = match serde_json::to_value(body) {
        Ok(v) => v,
        Err(e) => return ApiError::unavailable(e).into_response(),
    };
    let mut res = (status, super::json_body(&v)).into_response();
    if replayed {
        res.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    res
}

fn lang_of(locale: Option<&str>) -> Result<Option<Lang>, ApiError> {
    locale
        .map(|l| {
            Lang::parse(l)
                .ok_or_else(|| ApiError::invalid("locale", "The locale is one of en, fr, de, ar."))
        })
        .transpose()
}

/// A contact to create or update. At least one of `email` and `phone`; with both, they are
/// (or become) the same contact's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ContactBody {
    #[schema(example = "holly@contoso.com")]
    email: Option<String>,
    #[schema(example = "+14255550101")]
    phone: Option<String>,
    /// The profile's key (default: the API key's, else the existing contact's).
    profile: Option<String>,
    /// The contact's language: en, fr, de or ar.
    #[schema(example = "en", pattern = "^(en|fr|de|ar)$")]
    locale: Option<String>,
    /// The consent level, 0 (unknown) to 5 (profiling); a new contact without one has 0.
    #[schema(minimum = 0, maximum = 5)]
    consent_level: Option<i64>,
    /// Whether the contact is a child (a child's restricted purposes need a custodian).
    child: Option<bool>,
}

/// The answer of `POST /api/v1/contacts`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ContactAnswer {
    /// Whether this call created the contact (201), or found it (200).
    created: bool,
    contact: api::ContactState,
}

/// Create a contact, or update the one with these addresses.
///
/// Found by its email address or phone number (normalised); a missing address of the two is
/// added to it. The locale, consent level and child flag given replace the stored ones (each
/// change is in the audit log with the key's name). An erased address is refused
/// (`suppressed`): it is never created again. Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    tag = "contacts",
    request_body = ContactBody,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of a call with this key answer the first call's outcome and write nothing (kept a day)"),
    ),
    responses(
        (status = 200, description = "The contact existed and was updated", body = ContactAnswer),
        (status = 201, description = "The contact was created", body = ContactAnswer),
        (status = 400, description = "The body is not this call's JSON, or the Idempotency-Key is malformed", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the write scope, or is restricted to another profile", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 409, description = "The address was erased (`suppressed`), belongs to another profile's contact, or the two addresses to two contacts", body = ErrorBody),
        (status = 413, description = "The body is over 16 KB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is refused, or the Idempotency-Key came with another request", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_contact(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let body = small_body(body).await;
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Write).await?;
        let b: ContactBody = json_of(&parts.headers, &body, DECIDE_BODY_LIMIT)?;
        let idem = idem_of(&parts.headers, parts.uri.path(), &body)?;
        let mut points = Vec::new();
        if let Some(e) = b.email {
            let a = EmailAddress::parse(&e)
                .map_err(|m| ApiError::invalid("email", address_error_words(m)))?;
            points.push((PointKind::Email, a.as_str().to_owned()));
        }
        if let Some(p) = b.phone {
            let a = PhoneNumber::parse(&p)
                .map_err(|m| ApiError::invalid("phone", address_error_words(m)))?;
            points.push((PointKind::Phone, a.as_str().to_owned()));
        }
        if points.is_empty() {
            return Err(ApiError::invalid(
                "email",
                "Give an email address, a phone number, or both.",
            ));
        }
        let level = b
            .consent_level
            .map(|l| {
                ConsentLevel::new(l).ok_or_else(|| {
                    ApiError::invalid("consent_level", "The consent level is 0 to 5.")
                })
            })
            .transpose()?;
        let input = ContactInput {
            points: points.clone(),
            profile: b.profile,
            locale: lang_of(b.locale.as_deref())?,
            level,
            child: b.child,
        };
        let written = match record::save_contact(&state.core, &key, input, idem).await {
            Ok(Ok(w)) => w,
            Ok(Err(r)) => return Err(refused(r)),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        let (outcome, replayed) = fresh_or_replayed(written)?;
        let created = match outcome {
            ContactOutcome::Saved { created } => created,
            ContactOutcome::Refused(r) => return Err(refusal(r)),
        };
        let (kind, address) = &points[0];
        let contact = match api::contact_state(&state.core, &key, *kind, address).await {
            Ok(Ok(c)) => c,
            Ok(Err(api::ContactRefused::Erased)) => {
                return Err(refusal(Refusal::suppressed(*kind)))
            }
            Ok(Err(api::ContactRefused::Unknown)) => {
                return Err(ApiError::unavailable("a saved contact is not found"))
            }
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(answer(
            status,
            &ContactAnswer { created, contact },
            replayed,
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// One change of consent collected by the caller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeBody {
    /// The purpose's key.
    #[schema(example = "commercial")]
    purpose: String,
    /// The topic's key, inside the purpose (none: the purpose as a whole).
    #[schema(example = "newsletter")]
    topic: Option<String>,
    /// `email`, `sms` or `phone` (the address must receive on it).
    #[schema(example = "email", pattern = "^(email|sms|phone)$")]
    channel: String,
    /// `opted_in` or `opted_out`.
    #[schema(example = "opted_in", pattern = "^(opted_in|opted_out)$")]
    value: String,
}

/// Consent a person gave (or withdrew) on the caller's own form. Exactly one of `email` and
/// `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsentBody {
    #[schema(example = "holly@contoso.com")]
    email: Option<String>,
    phone: Option<String>,
    /// The profile's key (default: the API key's, else the existing contact's).
    profile: Option<String>,
    /// 1 to 100 changes.
    changes: Vec<ChangeBody>,
    /// Where the consent was collected: the form's name.
    #[schema(example = "Webinar sign-up", min_length = 1, max_length = 200)]
    source: String,
    /// The form's address.
    #[schema(example = "https://contoso.com/webinar")]
    form_url: Option<String>,
    /// When the person gave it (RFC 3339).
    #[schema(format = DateTime)]
    captured_at: Option<String>,
    /// The person's IP address as the form saw it (kept as the server's IP setting says).
    #[schema(example = "203.0.113.7")]
    ip: Option<String>,
    /// The person's browser as the form saw it.
    user_agent: Option<String>,
    /// The caller confirmed the opt-ins with its own double opt-in. Trusted only where the
    /// profile says so; otherwise this server emails the confirmation.
    confirmed: Option<bool>,
    /// The language of the confirmation email: en, fr, de or ar.
    #[schema(pattern = "^(en|fr|de|ar)$")]
    locale: Option<String>,
}

/// The answer of `POST /api/v1/consent`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ConsentAnswer {
    /// Whether this call created the contact.
    created: bool,
    /// Each change asked for, in order, with its value now.
    changes: Vec<RecordedChange>,
    /// `email_queued`: this server emailed the confirmation; `joined_recent`: one sent moments
    /// ago covers them; `none`: nothing waits for confirmation.
    confirmation: String,
    /// The opt-ins were recorded as confirmed on the caller's word (the record says so).
    trusted: bool,
}

fn consent_input(b: ConsentBody) -> Result<ConsentInput, ApiError> {
    let point = super::point_of(b.email, b.phone)?;
    if b.changes.is_empty() || b.changes.len() > 100 {
        return Err(ApiError::invalid("changes", "Give 1 to 100 changes."));
    }
    let mut changes = Vec::with_capacity(b.changes.len());
    for (i, c) in b.changes.into_iter().enumerate() {
        let channel = super::channel_of(&c.channel)?;
        let opt_in = match c.value.as_str() {
            "opted_in" => true,
            "opted_out" => false,
            _ => {
                return Err(ApiError::invalid(
                    "changes",
                    format!("Change {i}: the value is opted_in or opted_out."),
                ))
            }
        };
        changes.push(ChangeInput {
            purpose: c.purpose,
            topic: c.topic,
            channel,
            opt_in,
        });
    }
    let source = b.source.trim().to_owned();
    if source.is_empty() || source.chars().count() > 200 || source.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "source",
            "Name the form: 1 to 200 characters.",
        ));
    }
    let form_url = b
        .form_url
        .map(|u| {
            crate::domain::setup::check_url(u.trim()).map_err(|m| ApiError::invalid("form_url", m))
        })
        .transpose()?;
    let captured_at = super::as_of_of(b.captured_at.as_deref())
        .map_err(|_| ApiError::invalid("captured_at", "Give a moment as RFC 3339."))?;
    let ip =
        b.ip.map(|i| {
            i.trim()
                .parse()
                .map_err(|_| ApiError::invalid("ip", "Give an IPv4 or IPv6 address."))
        })
        .transpose()?;
    let user_agent = b.user_agent.filter(|u| !u.trim().is_empty());
    if user_agent.as_ref().is_some_and(|u| u.len() > 1024) {
        return Err(ApiError::invalid("user_agent", "At most 1024 characters."));
    }
    Ok(ConsentInput {
        point,
        profile: b.profile,
        changes,
        source,
        form_url,
        captured_at,
        ip,
        user_agent,
        confirmed: b.confirmed.unwrap_or(false),
        locale: lang_of(b.locale.as_deref())?,
    })
}

fn consent_refused(r: ConsentRefused) -> ApiError {
    match r {
        ConsentRefused::Profile(p) => refused(p),
        ConsentRefused::Unknown(i, "topic") => ApiError {
            field: Some("changes"),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_topic",
                format!("Change {i}: the purpose has no topic with this key."),
            )
        },
        ConsentRefused::Unknown(i, _) => ApiError {
            field: Some("changes"),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_purpose",
                format!("Change {i}: there is no purpose with this key."),
            )
        },
        ConsentRefused::Channel(i) => ApiError::invalid(
            "changes",
            format!("Change {i}: the purpose does not use this channel, or this address cannot receive on it."),
        ),
        ConsentRefused::Mandatory(i) => ApiError {
            field: Some("changes"),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "mandatory",
                format!("Change {i}: the purpose is mandatory (service messages): there is no consent to record."),
            )
        },
        ConsentRefused::NeedsConfirmation(i) => ApiError {
            field: Some("changes"),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "confirmation_unavailable",
                format!("Change {i}: an opt-in for a phone number needs your own confirmation (confirmed: true) and a profile that trusts it; this server confirms by email only."),
            )
        },
    }
}

/// Record consent collected on your own form.
///
/// Opt-outs are recorded at once. Opt-ins go through this server's double opt-in (the contact
/// gets the confirmation email; the answer says `pending`), unless the profile trusts the
/// caller's own confirmation and the call says `confirmed`: then they are recorded as opted
/// in, and the record says it was on the caller's word. The record keeps the source, form,
/// time, and the person's IP address and browser as the caller reports them, with the key as
/// the actor. A contact is created if none has the address; an erased address is refused
/// (`suppressed`). Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(
    post,
    path = "/api/v1/consent",
    tag = "contacts",
    request_body = ConsentBody,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of a call with this key answer the first call's outcome and write nothing (kept a day)"),
    ),
    responses(
        (status = 200, description = "Recorded (opt-ins pending confirmation unless trusted)", body = ConsentAnswer),
        (status = 400, description = "The body is not this call's JSON, or the Idempotency-Key is malformed", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the write scope, or is restricted to another profile", body = ErrorBody),
        (status = 404, description = "No such profile, purpose or topic", body = ErrorBody),
        (status = 409, description = "The address was erased (`suppressed`) or belongs to another profile's contact", body = ErrorBody),
        (status = 413, description = "The body is over 16 KB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is refused, a mandatory purpose, a phone opt-in without trusted confirmation, or a reused Idempotency-Key", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn record_consent(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let body = small_body(body).await;
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Write).await?;
        let b: ConsentBody = json_of(&parts.headers, &body, DECIDE_BODY_LIMIT)?;
        let idem = idem_of(&parts.headers, parts.uri.path(), &body)?;
        let input = consent_input(b)?;
        let written = match record::record_consent(&state.core, &key, input, idem).await {
            Ok(Ok(w)) => w,
            Ok(Err(r)) => return Err(consent_refused(r)),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        let (outcome, replayed) = fresh_or_replayed(written)?;
        match outcome {
            ConsentOutcome::Refused(r) => Err(refusal(r)),
            ConsentOutcome::Recorded {
                created,
                changes,
                confirmation,
                trusted,
            } => Ok(answer(
                StatusCode::OK,
                &ConsentAnswer {
                    created,
                    changes,
                    confirmation,
                    trusted,
                },
                replayed,
            )),
        }
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
