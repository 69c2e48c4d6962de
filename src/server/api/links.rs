//! `/api/v1/links`: unsubscribe and subscription-center links, and the `List-Unsubscribe`
//! headers, for one recipient or a whole send list; and revoking a contact point's links.

use super::bulk::{self, BulkLine, Recipient};
use super::{
    caller, erased, json_of, point_of, query_of, refused, respond, small_body, unknown_contact,
    ApiError, ErrorBody, DECIDE_BODY_LIMIT,
};
use crate::domain::apikey::Scope;
use crate::server::AppState;
use crate::services::links::{self, Links, Minted};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// The question of `POST /api/v1/links`. Exactly one of `email` and `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LinksBody {
    #[schema(example = "holly@contoso.com")]
    email: Option<String>,
    #[schema(example = "+14255550101")]
    phone: Option<String>,
    /// The profile's key (default: the API key's, else the contact's).
    profile: Option<String>,
    /// The purpose the message is sent for: its one-click unsubscribe leaves that purpose
    /// only (default: everything optional).
    #[schema(example = "commercial")]
    purpose: Option<String>,
    /// The topic, inside the purpose: the one-click leaves that topic only.
    #[schema(example = "newsletter")]
    topic: Option<String>,
}

/// The answer of `POST /api/v1/links`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct LinksAnswer {
    /// The profile's key.
    profile: String,
    /// The purpose is mandatory (service messages): no unsubscribe link, `links` is null.
    mandatory: bool,
    links: Option<Links>,
    /// When the links stop working (RFC 3339).
    expires_at: String,
}

fn topic_needs_purpose(purpose: &Option<String>, topic: &Option<String>) -> Result<(), ApiError> {
    if topic.is_some() && purpose.is_none() {
        return Err(ApiError::invalid(
            "purpose",
            "Name the purpose the topic belongs to.",
        ));
    }
    Ok(())
}

/// The links of one recipient's message.
///
/// The one-click unsubscribe URL (leaving the purpose or topic named, or everything
/// optional), the subscription center's URL and the exact `List-Unsubscribe` and
/// `List-Unsubscribe-Post` header values (RFC 2369, RFC 8058). A mandatory purpose's messages
/// get none. Links are signed, not stored: minting costs no write. They work until
/// `expires_at`, across key rotation, and stop when the contact point's links are revoked or
/// the contact is erased.
#[utoipa::path(
    post,
    path = "/api/v1/links",
    tag = "links",
    request_body = LinksBody,
    responses(
        (status = 200, description = "The links, or none for a mandatory purpose", body = LinksAnswer),
        (status = 400, description = "The body is not this call's JSON (`malformed_body`)", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the links scope, or is restricted to another profile", body = ErrorBody),
        (status = 404, description = "No such contact, profile, purpose or topic", body = ErrorBody),
        (status = 410, description = "The address was erased", body = ErrorBody),
        (status = 413, description = "The body is over 16 KB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is refused", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn links(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = small_body(body).await;
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Links).await?;
        let b: LinksBody = json_of(&parts.headers, &body, DECIDE_BODY_LIMIT)?;
        topic_needs_purpose(&b.purpose, &b.topic)?;
        let (kind, address) = point_of(b.email, b.phone)?;
        let (q, minted) = match links::links_for(
            &state.core,
            &key,
            (kind, &address),
            b.profile.as_deref(),
            b.purpose.as_deref(),
            b.topic.as_deref(),
        )
        .await
        {
            Ok(Ok(x)) => x,
            Ok(Err(r)) => return Err(refused(r)),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        let (links, q) = match (minted, q) {
            (Minted::Links(l), Some(q)) => (Some(l), q),
            (Minted::Mandatory, Some(q)) => (None, q),
            (Minted::Erased, _) => return Err(erased()),
            _ => return Err(unknown_contact()),
        };
        serde_json::to_value(LinksAnswer {
            mandatory: q.mandatory,
            expires_at: q.expires_at(),
            profile: q.profile,
            links,
        })
        .map_err(ApiError::unavailable)
    };
    respond(run.await)
}

/// The query of `POST /api/v1/links/bulk`: what the whole send list's messages are for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct LinksParams {
    /// The profile's key (needed unless the API key is restricted to one).
    #[param(example = "contoso")]
    profile: Option<String>,
    /// The purpose the messages are sent for.
    #[param(example = "commercial")]
    purpose: Option<String>,
    /// The topic, inside the purpose.
    #[param(example = "newsletter")]
    topic: Option<String>,
}

/// The links of a whole send list (up to 1,000,000 recipients).
///
/// The list is a JSON array or newline-delimited JSON, answered in the same form, both
/// streamed a batch at a time. Each answer has the recipient's `index` and `links`, or the
/// recipient's error (`unknown_contact`, `erased`, `invalid_field`). A mandatory purpose is
/// refused (`mandatory_purpose`): its messages carry no unsubscribe link.
#[utoipa::path(
    post,
    path = "/api/v1/links/bulk",
    tag = "links",
    params(LinksParams),
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
        (status = 403, description = "The key lacks the links scope, or is restricted to another profile", body = ErrorBody),
        (status = 404, description = "No such profile, purpose or topic", body = ErrorBody),
        (status = 415, description = "Neither application/json nor application/x-ndjson", body = ErrorBody),
        (status = 422, description = "A parameter is refused, or the purpose is mandatory", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn links_bulk(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let start = async {
        let key = caller(&state, &parts.headers, Scope::Links).await?;
        let p: LinksParams = query_of(&parts)?;
        topic_needs_purpose(&p.purpose, &p.topic)?;
        let ndjson = bulk::is_ndjson(&parts.headers)?;
        let q = match links::question(
            &state.core,
            &key,
            p.profile.as_deref(),
            None,
            p.purpose.as_deref(),
            p.topic.as_deref(),
        )
        .await
        {
            Ok(Ok(q)) => q,
            Ok(Err(r)) => return Err(refused(r)),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        if q.mandatory {
            return Err(ApiError {
                field: Some("purpose"),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "mandatory_purpose",
                    "This purpose is mandatory: its messages carry no unsubscribe link.",
                )
            });
        }
        Ok((q, ndjson))
    };
    let (q, ndjson) = match start.await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let core = state.core.clone();
    bulk::stream(body, ndjson, false, move |parsed| {
        let (core, q) = (core.clone(), q.clone());
        async move {
            let minted = links::mint_batch(&core, &q, &parsed)
                .await
                .map_err(ApiError::unavailable)?;
            Ok(minted
                .into_iter()
                .map(|m| {
                    Some(match m {
                        Minted::Links(l) => BulkLine {
                            links: Some(l),
                            ..BulkLine::default()
                        },
                        Minted::Mandatory => BulkLine::default(),
                        Minted::Unknown => {
                            let e = unknown_contact();
                            BulkLine::error(e.code, e.message, None)
                        }
                        Minted::Erased => {
                            let e = erased();
                            BulkLine::error(e.code, e.message, None)
                        }
                    })
                })
                .collect())
        }
    })
    .await
}

/// The question of `POST /api/v1/links/revoke`. Exactly one of `email` and `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeBody {
    #[schema(example = "holly@contoso.com")]
    email: Option<String>,
    phone: Option<String>,
}

/// The answer of `POST /api/v1/links/revoke`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RevokeAnswer {
    /// Every link of the address minted before this call stopped working.
    revoked: bool,
    /// The address's link generation from now on.
    generation: i64,
}

/// Ends every link of an address minted so far (signed and stored): a leaked link, or a
/// mailbox that changed hands. Links minted after work.
#[utoipa::path(
    post,
    path = "/api/v1/links/revoke",
    tag = "links",
    request_body = RevokeBody,
    responses(
        (status = 200, description = "Revoked", body = RevokeAnswer),
        (status = 400, description = "The body is not this call's JSON (`malformed_body`)", body = ErrorBody),
        (status = 401, description = "No key, an unknown one or a revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the links scope", body = ErrorBody),
        (status = 404, description = "No contact (the key may see) has this address", body = ErrorBody),
        (status = 413, description = "The body is over 16 KB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "A field is refused", body = ErrorBody),
        (status = 429, description = "Over the key's rate; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn revoke(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = small_body(body).await;
    let run = async {
        let key = caller(&state, &parts.headers, Scope::Links).await?;
        let b: RevokeBody = json_of(&parts.headers, &body, DECIDE_BODY_LIMIT)?;
        let (kind, address) = point_of(b.email, b.phone)?;
        let generation = links::revoke(&state.core, &key, kind, &address)
            .await
            .map_err(ApiError::unavailable)?
            .ok_or_else(unknown_contact)?;
        serde_json::to_value(RevokeAnswer {
            revoked: true,
            generation,
        })
        .map_err(ApiError::unavailable)
    };
    let r: Result<Value, ApiError> = run.await;
    respond(r)
}
