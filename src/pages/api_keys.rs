//! The console's API keys page: the keys sending systems call with (made, listed, revoked;
//! a new key is shown once, on the page that made it).

use super::console::{minute, ConsoleFrame};
use crate::domain::apikey::Scope;
use crate::domain::auth::Role;
use leptos::prelude::*;

/// One key as the list shows it.
pub struct KeyRow {
    pub id: i64,
    pub prefix: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub profile: Option<String>,
    pub created: String,
    pub created_by: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

pub struct ApiKeysView {
    pub email: String,
    pub csrf: String,
    pub keys: Vec<KeyRow>,
    /// (id, name) of every profile, for the restriction.
    pub profiles: Vec<(i64, String)>,
    /// A key just made: (name, the whole key), shown this once.
    pub made: Option<(String, String)>,
    pub done: Option<&'static str>,
    /// What the create form refused: (field, message), and what was typed.
    pub error: Option<(&'static str, String)>,
    pub name: String,
}

/// `GET /admin/api-keys`.
pub fn api_keys_page(v: ApiKeysView) -> impl IntoView {
    let csrf = v.csrf.clone();
    let bad_name = v.error.as_ref().is_some_and(|(f, _)| *f == "name");
    let bad_scopes = v.error.as_ref().is_some_and(|(f, _)| *f == "scopes");
    let error_of = |field: &'static str, id: &'static str| {
        v.error
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| view! { <p class="form-error" id=id>{m.clone()}</p> })
    };
    let name_error = error_of("name", "key-name-error");
    let scopes_error = error_of("scopes", "key-scopes-error");
    let rows = v
        .keys
        .into_iter()
        .map(|k| {
            let revoke = k.revoked.is_none().then(|| {
                let action = format!("/admin/api-keys/{}/revoke", k.id);
                view! {
                    <form method="post" action=action class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="btn btn-quiet" aria-label=format!("Revoke the key {}", k.name)>"Revoke"</button>
                    </form>
                }
            });
            let state = match (&k.revoked, &k.last_used) {
                (Some(at), _) => format!("Revoked {}", minute(at)),
                (None, Some(at)) => format!("Last used {}", minute(at)),
                (None, None) => "Never used".to_owned(),
            };
            view! {
                <tr>
                    <td><span dir="auto">{k.name}</span><br/><code>{format!("pck_{}_…", k.prefix)}</code></td>
                    <td>{k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                    <td dir="auto">{k.profile.unwrap_or_else(|| "All profiles".to_owned())}</td>
                    <td>{format!("{} by {}", minute(&k.created), k.created_by)}</td>
                    <td>{state}</td>
                    <td class="row-actions">{revoke}</td>
                </tr>
            }
        })
        .collect_view();
    let has_keys = !rows.is_empty();
    view! {
        <ConsoleFrame email=v.email role=Role::Admin csrf=v.csrf.clone() title="API keys".to_owned() current="/admin/api-keys">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"API keys"</h1>
                <p class="muted">"Sending systems call the API with a key: "<code>"Authorization: Bearer pck_…"</code>". Only a key's hash is kept, so a key is shown once, when it is made. Revoking one refuses its next call."</p>
                {v.done.map(|d| view! { <p class="notice" role="status">{d}</p> })}
                {v.made.map(|(name, whole)| view! {
                    <div class="notice key-made" role="status">
                        <p><strong>{format!("The key “{name}” is made.")}</strong>" Copy it now: it is not shown again."</p>
                        <p><label for="new-key">"The key"</label></p>
                        <input type="text" id="new-key" class="key-value" readonly=true value=whole/>
                    </div>
                })}
                {if has_keys {
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr><th scope="col">"Key"</th><th scope="col">"Scopes"</th><th scope="col">"Profile"</th><th scope="col">"Made"</th><th scope="col">"State"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                } else {
                    view! { <p class="empty">"No API key yet. Make one below for each system that sends email."</p> }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="make-title">
                <h2 id="make-title">"Make a key"</h2>
                <form method="post" action="/admin/api-keys" class="stacked narrow-form">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="key-name">"Name"</label>
                    <input type="text" id="key-name" name="name" maxlength="100" required=true value=v.name
                        aria-invalid=bad_name.then_some("true") aria-describedby=if bad_name { "key-name-error key-name-hint" } else { "key-name-hint" }/>
                    <p class="muted" id="key-name-hint">"Which system uses it, e.g. “Newsletter ESP”."</p>
                    {name_error}
                    <fieldset aria-invalid=bad_scopes.then_some("true") aria-describedby=bad_scopes.then_some("key-scopes-error")>
                        <legend>"What it may do"</legend>
                        {Scope::ALL.into_iter().map(|s| {
                            let id = format!("scope-{}", s.as_str());
                            view! {
                                <div class="choice">
                                    <input type="checkbox" id=id.clone() name="scope" value=s.as_str() checked=s == Scope::Decide/>
                                    <label for=id>{s.label()}</label>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                    {scopes_error}
                    <label for="key-profile">"Profile"</label>
                    <select id="key-profile" name="profile" aria-describedby="key-profile-hint">
                        <option value="">"All profiles"</option>
                        {v.profiles.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                    <p class="muted" id="key-profile-hint">"A key restricted to one profile sees only its contacts."</p>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Make the key"</button>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}
