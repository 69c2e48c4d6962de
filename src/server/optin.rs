//! The POSTs of double opt-in: the Confirm (or "send a new link") button behind a confirm
//! link, and a profile's public sign-up form. Each answers with a redirect to a page that says
//! what happened (post/redirect/get), so a reload never posts twice.

use super::contact::{error_response, field, form_pairs};
use super::{request_info, AppState};
use crate::domain::parse::{EmailAddress, Lang};
use crate::i18n::optin_texts;
use crate::services::consent::ServiceError;
use crate::services::optin::{self, Confirmed, SignupRequest};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashSet;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Sign-ups per client address: a short burst, then a steady trickle.
pub fn signup_limiter(per_minute: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_minute(n))
}

/// `POST /c/{token}`: Confirm (keeping the ticked items) or, for an expired link, resend.
pub async fn post_confirm(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    let headers = &req_parts.headers;
    let Some(token) = token.ok().and_then(|Path(t)| optin::Token::parse(&t)) else {
        return error_response(ServiceError::InvalidLink, headers);
    };
    let info = request_info(&req_parts, state.trust_forwarded_for);
    let Some(pairs) = form_pairs(headers, body).await else {
        return error_response(ServiceError::BadInput("unreadable_form"), headers);
    };
    let page = format!("/c/{}", token.as_str());
    match field(&pairs, "action") {
        Some("confirm") => {
            let keep: HashSet<String> = pairs
                .iter()
                .filter(|(k, _)| k != "action")
                .map(|(k, _)| k.clone())
                .collect();
            match optin::confirm(&state.core, &token, keep, &info).await {
                Ok(Confirmed::Done) => {
                    Redirect::to(&format!("{page}?done=confirmed")).into_response()
                }
                // Already confirmed, expired, nothing pending: the page says which.
                Ok(_) => Redirect::to(&page).into_response(),
                Err(e) => error_response(e, headers),
            }
        }
        Some("resend") => match optin::resend(&state.core, &token, &info).await {
            Ok(_) => Redirect::to(&format!("{page}?done=resent")).into_response(),
            Err(e) => error_response(e, headers),
        },
        _ => error_response(ServiceError::BadInput("unknown_action"), headers),
    }
}

/// `POST /s/{profile}`: the sign-up form. The answer is the same whether the address is new,
/// waiting, confirmed or suppressed.
pub async fn post_signup(
    State(state): State<AppState>,
    profile: Result<Path<String>, PathRejection>,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    let headers = &req_parts.headers;
    let Ok(Path(profile)) = profile else {
        return error_response(ServiceError::InvalidLink, headers);
    };
    let info = request_info(&req_parts, state.trust_forwarded_for);
    let lang = crate::services::consent::fallback_lang(None, &info);
    if let Some(ip) = info.ip {
        // This instance's limiter turns a flood away without touching the database; the count
        // in the database makes the limit hold across every instance.
        let wait = match state.signup_limiter.check_key(&ip) {
            Err(not_until) => Some(
                not_until
                    .wait_time_from(governor::clock::Clock::now(
                        &governor::clock::DefaultClock::default(),
                    ))
                    .as_secs()
                    .max(1),
            ),
            Ok(()) => match optin::signup_allowed(&state.core, ip).await {
                Ok(Ok(())) => None,
                Ok(Err(secs)) => Some(secs.max(1)),
                Err(e) => return error_response(e, headers),
            },
        };
        if let Some(wait) = wait {
            let t = optin_texts(lang);
            let mut r = super::render_message(
                StatusCode::TOO_MANY_REQUESTS,
                lang,
                t.too_many_title,
                t.too_many_body,
                None,
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
    }
    let Some(pairs) = form_pairs(headers, body).await else {
        return error_response(ServiceError::BadInput("unreadable_form"), headers);
    };
    let form_lang = field(&pairs, "lang").and_then(Lang::parse).unwrap_or(lang);
    let back = |error: &str| {
        Redirect::to(&format!(
            "/s/{}?lang={}&error={error}",
            urlencode(&profile),
            form_lang.code()
        ))
        .into_response()
    };
    let Ok(email) = EmailAddress::parse(field(&pairs, "email").unwrap_or("")) else {
        return back("email");
    };
    let fields: HashSet<String> = pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "email" | "lang" | "stamp"))
        .map(|(k, _)| k.clone())
        .collect();
    let req = SignupRequest {
        profile_key: &profile,
        email,
        fields: &fields,
        lang: form_lang,
        stamp: field(&pairs, "stamp"),
    };
    match optin::signup(&state.core, req, &info).await {
        Ok(_) => Redirect::to(&format!(
            "/s/{}?lang={}&sent=1",
            urlencode(&profile),
            form_lang.code()
        ))
        .into_response(),
        Err(ServiceError::BadInput("no_topic")) => back("topic"),
        Err(e) => error_response(e, headers),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
