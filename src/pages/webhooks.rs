//! The console's webhooks pages: endpoints (registered, listed, disabled; a new endpoint's
//! signing secret shown once) and each endpoint's deliveries with their status, tries, last
//! error and the receiver's answer, each replayable while its payload is kept.

use super::console::{minute, ConsoleFrame};
use crate::domain::auth::Role;
use crate::domain::webhook::EventType;
use leptos::prelude::*;

pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    pub profile: Option<String>,
    pub created: String,
    pub created_by: String,
    pub disabled: Option<String>,
    /// After a rotation: until when the previous secret signs too.
    pub previous_until: Option<String>,
}

pub struct WebhooksView {
    pub email: String,
    pub csrf: String,
    pub endpoints: Vec<EndpointRow>,
    pub profiles: Vec<(i64, String)>,
    /// An endpoint just made: (its URL, the secret), shown this once.
    pub made: Option<(String, String)>,
    /// What the form refused: (field, message), and what was typed (url, description).
    pub error: Option<(&'static str, String)>,
    pub typed: (String, String),
    pub allow_private: bool,
}

fn events_words(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /admin/webhooks`.
pub fn webhooks_page(v: WebhooksView) -> impl IntoView {
    let error_of = |field: &'static str| {
        v.error
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    let url_error = error_of("url");
    let events_error = error_of("events");
    let description_error = error_of("description");
    let rows = v
        .endpoints
        .into_iter()
        .map(|e| {
            let state = match &e.disabled {
                Some(at) => format!("Disabled {}", minute(at)),
                None => "Active".to_owned(),
            };
            view! {
                <tr>
                    <td><a href=format!("/admin/webhooks/{}", e.id) class="break">{e.url}</a><br/><span class="muted" dir="auto">{e.description}</span></td>
                    <td data-label="Events">{events_words(&e.events)}</td>
                    <td dir="auto" data-label="Profile">{e.profile.unwrap_or_else(|| "All profiles".to_owned())}</td>
                    <td data-label="Registered">{format!("{} by {}", minute(&e.created), e.created_by)}</td>
                    <td data-label="State">{state}</td>
                </tr>
            }
        })
        .collect_view();
    let has_rows = !rows.is_empty();
    let url_hint = if v.allow_private {
        "The receiver’s address. This server may deliver to private networks (its settings allow it)."
    } else {
        "The receiver’s address, on the public internet: loopback, private and link-local addresses are refused, when registered and at every delivery."
    };
    view! {
        <ConsoleFrame email=v.email role=Role::Admin csrf=v.csrf.clone() title="Webhooks".to_owned() current="/admin/webhooks">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Webhooks"</h1>
                <p class="muted">"Your other systems hear of every consent change and erasure at once, in order for each contact, retried until they answer. Each message is signed as the Standard Webhooks specification says ("<code>"webhook-id"</code>", "<code>"webhook-timestamp"</code>", "<code>"webhook-signature"</code>"): verify it with any of its libraries and the endpoint’s secret."</p>
                {v.made.map(|(url, secret)| view! {
                    <div class="notice key-made" role="status">
                        <p><strong>{format!("The endpoint {url} is registered.")}</strong>" Copy its signing secret now: it is not shown again."</p>
                        <p><label for="new-secret">"Signing secret"</label></p>
                        <input type="text" id="new-secret" class="key-value" readonly=true value=secret/>
                    </div>
                })}
                {if has_rows {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Endpoint"</th><th scope="col">"Events"</th><th scope="col">"Profile"</th><th scope="col">"Registered"</th><th scope="col">"State"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                } else {
                    view! { <p class="empty">"No endpoint yet. Register one below for each system that should hear of changes."</p> }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="make-title">
                <h2 id="make-title">"Register an endpoint"</h2>
                <form method="post" action="/admin/webhooks" class="stacked narrow-form">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="hook-url">"URL"</label>
                    <input type="url" id="hook-url" name="url" maxlength="2000" required=true value=v.typed.0 placeholder="https://crm.example.com/hooks/consent"
                        aria-invalid=url_error.is_some().then_some("true")
                        aria-describedby=if url_error.is_some() { "hook-url-error hook-url-hint" } else { "hook-url-hint" }/>
                    <p class="muted" id="hook-url-hint">{url_hint}</p>
                    {url_error.map(|m| view! { <p class="form-error" id="hook-url-error">{m}</p> })}
                    <label for="hook-description">"Description" <span class="optional">" (optional)"</span></label>
                    <input type="text" id="hook-description" name="description" maxlength="200" value=v.typed.1
                        aria-invalid=description_error.is_some().then_some("true")
                        aria-describedby=description_error.is_some().then_some("hook-description-error")/>
                    {description_error.map(|m| view! { <p class="form-error" id="hook-description-error">{m}</p> })}
                    <fieldset aria-invalid=events_error.is_some().then_some("true") aria-describedby=events_error.is_some().then_some("hook-events-error")>
                        <legend>"Events"</legend>
                        {EventType::ALL.into_iter().map(|e| {
                            let id = format!("event-{}", e.as_str().replace('.', "-"));
                            view! {
                                <div class="choice">
                                    <input type="checkbox" id=id.clone() name="event" value=e.as_str() checked=true/>
                                    <label for=id>{e.label()}</label>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                    {events_error.map(|m| view! { <p class="form-error" id="hook-events-error">{m}</p> })}
                    <label for="hook-profile">"Profile"</label>
                    <select id="hook-profile" name="profile">
                        <option value="">"All profiles"</option>
                        {v.profiles.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Register the endpoint"</button>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}

pub struct DeliveryRow {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub last_status: Option<i64>,
    pub created: String,
    pub finished: Option<String>,
    pub replayable: bool,
}

pub struct EndpointView {
    pub email: String,
    pub csrf: String,
    pub endpoint: EndpointRow,
    pub deliveries: Vec<DeliveryRow>,
    pub done: Option<&'static str>,
    /// A secret just rotated in, shown this once.
    pub new_secret: Option<String>,
}

/// `GET /admin/webhooks/{id}`.
pub fn endpoint_page(v: EndpointView) -> impl IntoView {
    let csrf = v.csrf.clone();
    let e = v.endpoint;
    let toggle = if e.disabled.is_some() {
        (
            format!("/admin/webhooks/{}/enable", e.id),
            "Enable",
            "Deliveries resume, those queued meanwhile first.",
        )
    } else {
        (
            format!("/admin/webhooks/{}/disable", e.id),
            "Disable",
            "Nothing is sent while it is disabled; what is queued waits.",
        )
    };
    let rows = v
        .deliveries
        .into_iter()
        .map(|d| {
            let status = match d.status.as_str() {
                "queued" if d.attempts > 0 => format!("Retrying ({})", minute(&d.next_attempt_at)),
                "queued" => "Queued".to_owned(),
                "delivered" => "Delivered".to_owned(),
                "failed" => "Failed".to_owned(),
                "erased" => "Erased with the contact".to_owned(),
                other => other.to_owned(),
            };
            let replay = d.replayable.then(|| {
                let action = format!("/admin/webhooks/deliveries/{}/replay", d.id);
                view! {
                    <form method="post" action=action class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="btn btn-quiet" aria-label=format!("Send {} again", d.message_id)>"Send again"</button>
                    </form>
                }
            });
            view! {
                <tr>
                    <td><code>{d.message_id}</code><br/><span class="muted">{d.event_type}</span></td>
                    <td data-label="Status">{status}</td>
                    <td data-label="Tries">{d.attempts}</td>
                    <td data-label="Answer">{d.last_status.map(|s| s.to_string()).unwrap_or_else(|| "—".to_owned())}</td>
                    <td class="break" data-label="Last error">{d.last_error.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Made → finished">{minute(&d.created)}{d.finished.map(|f| format!(" → {}", minute(&f)))}</td>
                    <td class="row-actions">{replay}</td>
                </tr>
            }
        })
        .collect_view();
    let has_rows = !rows.is_empty();
    view! {
        <ConsoleFrame email=v.email role=Role::Admin csrf=v.csrf.clone() title="Webhook endpoint".to_owned() current="/admin/webhooks">
            <section class="card" aria-labelledby="page-title">
                <p><a href="/admin/webhooks">"← Webhooks"</a></p>
                <h1 id="page-title" class="break">{e.url.clone()}</h1>
                {v.done.map(|d| view! { <p class="notice" role="status">{d}</p> })}
                <dl class="facts">
                    <dt>"Events"</dt><dd>{events_words(&e.events)}</dd>
                    <dt>"Profile"</dt><dd dir="auto">{e.profile.unwrap_or_else(|| "All profiles".to_owned())}</dd>
                    <dt>"Description"</dt><dd dir="auto">{if e.description.is_empty() { "—".to_owned() } else { e.description }}</dd>
                    <dt>"Registered"</dt><dd>{format!("{} by {}", minute(&e.created), e.created_by)}</dd>
                    <dt>"State"</dt><dd>{e.disabled.map(|d| format!("Disabled {}", minute(&d))).unwrap_or_else(|| "Active".to_owned())}</dd>
                </dl>
                <form method="post" action=toggle.0 class="inline">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    <button type="submit" class="btn" aria-describedby="toggle-hint">{toggle.1}</button>
                </form>
                <p class="muted" id="toggle-hint">{toggle.2}</p>
            </section>
            <section class="card" aria-labelledby="secret-title">
                <h2 id="secret-title">"Signing secret"</h2>
                {v.new_secret.map(|secret| view! {
                    <div class="notice key-made" role="status">
                        <p><strong>"A new signing secret is made."</strong>" Copy it now: it is not shown again. Messages carry a signature under the previous secret too for a day, so the receiver can switch over in that time."</p>
                        <p><label for="new-secret">"New signing secret"</label></p>
                        <input type="text" id="new-secret" class="key-value" readonly=true value=secret/>
                    </div>
                })}
                {e.previous_until.map(|u| view! { <p>{format!("After the last rotation the previous secret signs too until {} UTC.", minute(&u))}</p> })}
                <form method="post" action=format!("/admin/webhooks/{}/rotate", e.id) class="inline">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    <button type="submit" class="btn" aria-describedby="rotate-hint">"Rotate the secret"</button>
                </form>
                <p class="muted" id="rotate-hint">"For a secret that may have leaked, or on a schedule: a new one is made and shown once; for 24 hours each message is signed under both."</p>
            </section>
            <section class="card" aria-labelledby="deliveries-title">
                <h2 id="deliveries-title">"Deliveries"</h2>
                <p class="muted">"The latest 200, newest first. A failed or delivered message can be sent again while its payload is kept (erasing the contact erases it)."</p>
                {if has_rows {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Message"</th><th scope="col">"Status"</th><th scope="col">"Tries"</th><th scope="col">"Answer"</th><th scope="col">"Last error"</th><th scope="col">"Made → finished"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                } else {
                    view! { <p class="empty">"Nothing sent yet: the next consent change is."</p> }.into_any()
                }}
            </section>
        </ConsoleFrame>
    }
}
