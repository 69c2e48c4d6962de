//! The console's pages: sign-in, home, users, and the page of a role that may not enter.
//! Server-rendered plain forms, so signing in and the main actions work with JavaScript off.

use super::Layout;
use crate::domain::auth::{Permission, Role};
use crate::domain::parse::Lang;
use leptos::prelude::*;

/// Why the sign-in page is shown, besides "not signed in".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInNotice {
    SignedOut,
    Idle,
    Expired,
    Revoked,
    Created,
}

pub struct SignInView {
    pub csrf: String,
    pub notice: Option<SignInNotice>,
    /// The one answer to bad credentials, or the throttle's.
    pub error: Option<String>,
    /// What was typed (never the password).
    pub email: String,
}

pub fn sign_in_page(v: SignInView) -> impl IntoView {
    let notice = v.notice.map(|n| match n {
        SignInNotice::SignedOut => "You are signed out.",
        SignInNotice::Idle => {
            "You were signed out after 30 minutes without activity. Sign in again to go on."
        }
        SignInNotice::Expired => "Sessions last 12 hours at most. Sign in again to go on.",
        SignInNotice::Revoked => "Your session was ended by an administrator.",
        SignInNotice::Created => "Your administrator account is ready. Sign in with it.",
    });
    let invalid = v.error.is_some();
    view! {
        <Layout brand=None lang=Lang::En title="Sign in".to_owned()>
            <section class="card narrow" aria-labelledby="page-title">
                <h1 id="page-title">"Sign in to the console"</h1>
                {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                {v.error.map(|e| view! { <p class="form-error" id="signin-error" role="alert">{e}</p> })}
                <form method="post" action="/admin/sign-in" class="stacked">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="email">"Email"</label>
                    <input type="email" id="email" name="email" autocomplete="username" required=true
                        value=v.email aria-invalid=invalid.then_some("true")
                        aria-describedby=invalid.then_some("signin-error")/>
                    <label for="password">"Password"</label>
                    <input type="password" id="password" name="password" autocomplete="current-password"
                        required=true maxlength="128" aria-invalid=invalid.then_some("true")/>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Sign in"</button>
                    </div>
                </form>
            </section>
        </Layout>
    }
}

/// A field's message, beside it.
fn field_error(
    id: &'static str,
    error: &Option<(&'static str, String)>,
    field: &str,
) -> Option<impl IntoView> {
    error
        .as_ref()
        .filter(|(f, _)| *f == field)
        .map(|(_, m)| view! { <p class="form-error" id=id>{m.clone()}</p> })
}

/// A new password and its repetition, each with its message beside it (`password`,
/// `confirm`), as the setup and account pages ask for them.
fn new_password_fields(
    label: &'static str,
    again: &'static str,
    error: &Option<(&'static str, String)>,
) -> impl IntoView {
    let bad = |f: &str| error.as_ref().is_some_and(|(e, _)| *e == f);
    let (bad_password, bad_confirm) = (bad("password"), bad("confirm"));
    view! {
        <label for="password">{label}</label>
        <input type="password" id="password" name="password" autocomplete="new-password" required=true
            minlength="12" maxlength="128" aria-invalid=bad_password.then_some("true")
            aria-describedby=if bad_password { "password-error password-hint" } else { "password-hint" }/>
        <p class="muted" id="password-hint">"12 to 128 characters; a few unrelated words make a good one."</p>
        {field_error("password-error", error, "password")}
        <label for="confirm">{again}</label>
        <input type="password" id="confirm" name="confirm" autocomplete="new-password" required=true
            maxlength="128" aria-invalid=bad_confirm.then_some("true")
            aria-describedby=bad_confirm.then_some("confirm-error")/>
        {field_error("confirm-error", error, "confirm")}
    }
}

pub struct SetupView {
    pub csrf: String,
    /// (field, message): "code", "email", "password", "confirm" or "form".
    pub error: Option<(&'static str, String)>,
    pub email: String,
}

/// `GET /admin/setup`: the first admin, unlocked by the code the server printed.
pub fn setup_page(v: SetupView) -> impl IntoView {
    let bad = |f: &str| v.error.as_ref().is_some_and(|(e, _)| *e == f);
    let (bad_code, bad_email) = (bad("code"), bad("email"));
    view! {
        <Layout brand=None lang=Lang::En title="Set up the console".to_owned()>
            <section class="card narrow" aria-labelledby="page-title">
                <h1 id="page-title">"Set up the console"</h1>
                <p>"Create the first administrator. The one-time code is in what the server printed when it started."</p>
                {field_error("form-error", &v.error, "form")}
                <form method="post" action="/admin/setup" class="stacked">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="code">"One-time code"</label>
                    <input type="text" id="code" name="code" autocomplete="one-time-code" required=true
                        spellcheck="false" aria-invalid=bad_code.then_some("true")
                        aria-describedby=bad_code.then_some("code-error")/>
                    {field_error("code-error", &v.error, "code")}
                    <label for="email">"Your email"</label>
                    <input type="email" id="email" name="email" autocomplete="username" required=true value=v.email
                        aria-invalid=bad_email.then_some("true") aria-describedby=bad_email.then_some("email-error")/>
                    {field_error("email-error", &v.error, "email")}
                    {new_password_fields("Password", "Password again", &v.error)}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Create the administrator"</button>
                    </div>
                </form>
            </section>
        </Layout>
    }
}

/// A stored moment to the minute, as the console's lists show it (`2026-11-20 10:31`).
pub(crate) fn minute(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}

/// The navigation and the signed-in user, on every console page.
#[component]
pub(crate) fn ConsoleFrame(
    email: String,
    role: Role,
    csrf: String,
    title: String,
    current: &'static str,
    children: Children,
) -> impl IntoView {
    let link = move |href: &'static str, label: &'static str| {
        let here = current == href;
        view! { <a href=href aria-current=here.then_some("page")>{label}</a> }
    };
    view! {
        <Layout brand=None lang=Lang::En title=title>
            <nav class="console-nav" aria-label="Console">
                {link("/admin", "Home")}
                {role.may(Permission::RecordConsent).then(|| link("/admin/contacts", "Contacts"))}
                {role.may(Permission::RecordConsent).then(|| link("/admin/requests", "Data requests"))}
                {role.may(Permission::ConfigureProfiles).then(|| link("/admin/profiles", "Setup"))}
                {role.may(Permission::ImportConsent).then(|| link("/admin/imports", "Imports"))}
                {role.may(Permission::ReadReports).then(|| link("/admin/segments", "Segments"))}
                {role.may(Permission::ReadReports).then(|| link("/admin/dashboard", "Dashboard"))}
                {role.may(Permission::ManageUsers).then(|| link("/admin/users", "Users"))}
                {role.may(Permission::ManageApiKeys).then(|| link("/admin/api-keys", "API keys"))}
                {role.may(Permission::ManageWebhooks).then(|| link("/admin/webhooks", "Webhooks"))}
                {role.may(Permission::ReadAudit).then(|| link("/admin/audit", "Audit log"))}
                {link("/admin/account", "Your account")}
                <span class="who">{email} " · " {role.label()}</span>
                <form method="post" action="/admin/sign-out" class="inline">
                    <input type="hidden" name="csrf" value=csrf/>
                    <button type="submit" class="btn btn-quiet">"Sign out"</button>
                </form>
            </nav>
            {children()}
        </Layout>
    }
}

pub struct ConsoleHome {
    pub email: String,
    pub role: Role,
    pub csrf: String,
}

pub fn console_home_page(v: ConsoleHome) -> impl IntoView {
    let role = v.role;
    view! {
        <ConsoleFrame email=v.email.clone() role=role csrf=v.csrf title="Console".to_owned() current="/admin">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Console"</h1>
                <p>"You are signed in as " <strong>{v.email}</strong> ", with the role "
                    <strong>{role.label()}</strong> "."</p>
                {role.may(Permission::RecordConsent).then(|| view! {
                    <h2><a href="/admin/contacts">"Contacts"</a></h2>
                    <p class="muted">"Find a contact by name, email address or phone number; see every consent with the reason it allows or stops a message, and when and how it last changed."</p>
                    <h2><a href="/admin/requests">"Data requests"</a></h2>
                    <p class="muted">"Contacts’ requests for a copy of their data or to be forgotten, with their deadlines: the overdue ones are flagged."</p>
                })}
                {role.may(Permission::ConfigureProfiles).then(|| view! {
                    <h2><a href="/admin/profiles">"Compliance setup"</a></h2>
                    <p class="muted">"Profiles for each brand or region: sender, legal text, double opt-in rules, and the purposes and topics contacts choose from."</p>
                })}
                {role.may(Permission::ReadReports).then(|| view! {
                    <h2><a href="/admin/segments">"Segments"</a></h2>
                    <p class="muted">"Audiences built from consent and contact rules, counted now or as of a past day, exported as CSV with unsubscribe links."</p>
                    <h2><a href="/admin/dashboard">"Dashboard"</a></h2>
                    <p class="muted">"Opt-ins, opt-outs and confirmations asked per topic over time, and bursts of one-clicks from one network."</p>
                })}
                {role.may(Permission::ManageUsers).then(|| view! {
                    <h2><a href="/admin/users">"Users"</a></h2>
                    <p class="muted">"Who can sign in to this console, with which role; disable an account to end its sessions at once."</p>
                })}
                {role.may(Permission::ReadAudit).then(|| view! {
                    <h2><a href="/admin/audit">"Audit log"</a></h2>
                    <p class="muted">"Every change made in the console: who, when, what it was before and after; as CSV too."</p>
                })}
            </section>
        </ConsoleFrame>
    }
}

pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// Invited by this user and not accepted yet.
    pub invited_by: Option<String>,
}

pub struct UsersView {
    pub me: i64,
    pub csrf: String,
    pub users: Vec<UserRow>,
    /// A refusal to show above the list ("the last admin").
    pub notice: Option<String>,
    /// What was just done ("Invitation sent to …").
    pub done: Option<String>,
    /// The invitation form as posted, and why it was refused: ("email" | "role", message).
    pub invite_email: String,
    pub invite_role: Role,
    pub invite_error: Option<(&'static str, String)>,
}

pub fn users_page(v: UsersView) -> impl IntoView {
    let csrf_invite = v.csrf.clone();
    let bad_email = v.invite_error.as_ref().is_some_and(|(f, _)| *f == "email");
    let bad_role = v.invite_error.as_ref().is_some_and(|(f, _)| *f == "role");
    let me_email = v
        .users
        .iter()
        .find(|u| u.id == v.me)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let csrf = v.csrf.clone();
    let rows = v
        .users
        .into_iter()
        .map(|u| {
            let toggle = if u.disabled {
                format!("/admin/users/{}/enable", u.id)
            } else {
                format!("/admin/users/{}/disable", u.id)
            };
            let label = if u.disabled { "Enable" } else { "Disable" };
            let invited = u.invited_by.is_some();
            let state = match (&u.invited_by, u.disabled) {
                (_, true) => "Disabled".to_owned(),
                (Some(by), false) => format!("Invited by {by}, not accepted yet"),
                (None, false) => "Active".to_owned(),
            };
            let resend = (invited && !u.disabled).then(|| {
                let action = format!("/admin/users/{}/invite", u.id);
                view! {
                    <form method="post" action=action class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="btn btn-quiet" aria-label=format!("Send the invitation to {} again", u.email)>"Send again"</button>
                    </form>
                }
            });
            let mine = u.id == v.me;
            let role_action = format!("/admin/users/{}/role", u.id);
            let select_id = format!("role-{}", u.id);
            let role_label = format!("Role of {}", u.email);
            let controls = (!mine).then(|| {
                let delete = format!("/admin/users/{}/delete", u.id);
                view! {
                    {resend}
                    <form method="post" action=toggle class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="btn btn-quiet" aria-label=format!("{label} {}", u.email)>{label}</button>
                    </form>
                    <a class="btn btn-danger" href=delete aria-label=format!("Delete {}", u.email)>"Delete"</a>
                }
            });
            let role_form = view! {
                <form method="post" action=role_action class="inline role-form">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <label for=select_id.clone() class="sr-only">{role_label.clone()}</label>
                    <select id=select_id name="role">
                        {Role::ALL.into_iter().map(|r| {
                            let chosen = r == u.role;
                            view! { <option value=r.as_str() selected=chosen>{r.label()}</option> }
                        }).collect_view()}
                    </select>
                    <button type="submit" class="btn btn-quiet" aria-label=format!("Change the role of {}", u.email)>"Change"</button>
                </form>
            };
            view! {
                <tr>
                    <td>{u.email}{mine.then_some(" (you)")}</td>
                    <td>{role_form}</td>
                    <td>{state}</td>
                    <td class="row-actions">{controls}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ConsoleFrame email=me_email role=Role::Admin csrf=v.csrf title="Users".to_owned() current="/admin/users">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Users"</h1>
                {v.notice.map(|n| view! { <p class="form-error" role="alert">{n}</p> })}
                {v.done.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                <p class="muted">"A role change applies at the user's next click; disabling or deleting a user ends their sessions at once."</p>
                <div class="table-wrap">
                    <table>
                        <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"State"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </section>
            <section class="card" aria-labelledby="invite-title">
                <h2 id="invite-title">"Invite a user"</h2>
                <p class="muted">"They get an email with a link to choose their password; the link works for "
                    {crate::domain::auth::INVITE_DAYS} " days. Until then they cannot sign in."</p>
                <form method="post" action="/admin/users/invite" class="stacked narrow-form">
                    <input type="hidden" name="csrf" value=csrf_invite/>
                    <label for="invite-email">"Email"</label>
                    <input type="email" id="invite-email" name="email" autocomplete="off" required=true value=v.invite_email
                        aria-invalid=bad_email.then_some("true") aria-describedby=bad_email.then_some("invite-email-error")/>
                    {field_error("invite-email-error", &v.invite_error, "email")}
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role" aria-invalid=bad_role.then_some("true")
                        aria-describedby=bad_role.then_some("invite-role-error")>
                        {Role::ALL.into_iter().map(|r| {
                            let chosen = r == v.invite_role;
                            view! { <option value=r.as_str() selected=chosen>{r.label()}</option> }
                        }).collect_view()}
                    </select>
                    {field_error("invite-role-error", &v.invite_error, "role")}
                    <p class="muted">"Admins manage users and the setup; staff record consent for contacts; analysts read reports."</p>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Send the invitation"</button>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}

pub struct AcceptInviteView {
    pub csrf: String,
    pub token: String,
    pub email: String,
    pub role: Role,
    pub error: Option<(&'static str, String)>,
}

/// `GET /admin/invite/{token}`: an invited user chooses their password.
pub fn accept_invite_page(v: AcceptInviteView) -> impl IntoView {
    let action = format!("/admin/invite/{}", v.token);
    view! {
        <Layout brand=None lang=Lang::En title="Join the console".to_owned()>
            <section class="card narrow" aria-labelledby="page-title">
                <h1 id="page-title">"Join the console"</h1>
                <p>"You were invited as " <strong>{v.role.label()}</strong> ". Choose a password to finish; you are signed in right after."</p>
                {field_error("form-error", &v.error, "form")}
                <form method="post" action=action class="stacked">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="email">"Email"</label>
                    <input type="email" id="email" name="email" autocomplete="username" readonly=true value=v.email/>
                    {new_password_fields("Password", "Password again", &v.error)}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Join"</button>
                    </div>
                </form>
            </section>
        </Layout>
    }
}

/// An invitation link that no longer stands.
pub fn invite_gone_page() -> impl IntoView {
    view! {
        <Layout brand=None lang=Lang::En title="Invitation no longer valid".to_owned()>
            <section class="card narrow" aria-labelledby="page-title">
                <h1 id="page-title">"This invitation is no longer valid"</h1>
                <p>"It has expired, has been used already, or was withdrawn. Ask an administrator to send it again."</p>
                <p><a href="/admin/sign-in">"Go to sign-in"</a></p>
            </section>
        </Layout>
    }
}

/// `GET /admin/users/{id}/delete`: asks before deleting.
pub fn delete_user_page(me: String, csrf: String, id: i64, email: String) -> impl IntoView {
    let action = format!("/admin/users/{id}/delete");
    view! {
        <ConsoleFrame email=me role=Role::Admin csrf=csrf.clone() title="Delete a user".to_owned() current="/admin/users">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Delete " {email.clone()} "?"</h1>
                <p>"They will no longer be able to sign in, and their sessions end at once. Nothing in the consent ledger changes."</p>
                <form method="post" action=action class="actions">
                    <input type="hidden" name="csrf" value=csrf/>
                    <button type="submit" class="btn btn-danger">"Delete " {email}</button>
                    <a href="/admin/users">"Cancel"</a>
                </form>
            </section>
        </ConsoleFrame>
    }
}

/// 403: signed in, but the role does not allow this page.
pub fn console_forbidden_page() -> impl IntoView {
    view! {
        <Layout brand=None lang=Lang::En title="Not allowed".to_owned()>
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Not allowed"</h1>
                <p>"Your role does not give access to this page. Ask an administrator if you need it."</p>
                <p class="manage"><a href="/admin">"Back to the console"</a></p>
            </section>
        </Layout>
    }
}

/// One line of the audit log page.
pub struct AuditRow {
    /// "24 Nov 2026 10:00:05 UTC".
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub before: String,
    pub after: String,
}

pub struct AuditView {
    pub me: String,
    pub csrf: String,
    pub rows: Vec<AuditRow>,
    pub actors: Vec<String>,
    pub kinds: Vec<String>,
    /// The filter as given (actor, kind, from day, to day).
    pub actor: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    /// A day that is not `YYYY-MM-DD` was ignored.
    pub bad_day: bool,
    /// The query of the CSV export (the same filter) and of the next, older page.
    pub csv_query: String,
    pub older_query: Option<String>,
}

/// A before or after value: its JSON, or a dash when there is none.
fn json_cell(v: String) -> AnyView {
    if v.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        view! { <code>{v}</code> }.into_any()
    }
}

/// `GET /admin/audit`: the log, newest first, filtered.
pub fn audit_page(v: AuditView) -> impl IntoView {
    let options = |all: Vec<String>, chosen: String| {
        all.into_iter()
            .map(|a| {
                let sel = a == chosen;
                let value = a.clone();
                view! { <option value=value selected=sel>{a}</option> }
            })
            .collect_view()
    };
    let empty = v.rows.is_empty();
    let rows = v
        .rows
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <td class="nowrap">{r.at}</td>
                    <td>{r.actor}</td>
                    <td class="nowrap"><code>{r.kind}</code></td>
                    <td>{r.subject}</td>
                    <td>{json_cell(r.before)}</td>
                    <td>{json_cell(r.after)}</td>
                </tr>
            }
        })
        .collect_view();
    let csv = format!("/admin/audit.csv{}", v.csv_query);
    view! {
        <ConsoleFrame email=v.me role=Role::Admin csrf=v.csrf title="Audit log".to_owned() current="/admin/audit">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Audit log"</h1>
                <form method="get" action="/admin/audit" class="filters">
                    <div>
                        <label for="f-actor">"Who"</label>
                        <select id="f-actor" name="actor">
                            <option value="">"Anyone"</option>
                            {options(v.actors, v.actor)}
                        </select>
                    </div>
                    <div>
                        <label for="f-kind">"What"</label>
                        <select id="f-kind" name="kind">
                            <option value="">"Any change"</option>
                            {options(v.kinds, v.kind)}
                        </select>
                    </div>
                    <div>
                        <label for="f-from">"From"</label>
                        <input type="date" id="f-from" name="from" value=v.from/>
                    </div>
                    <div>
                        <label for="f-to">"To"</label>
                        <input type="date" id="f-to" name="to" value=v.to/>
                    </div>
                    <div class="actions">
                        <button type="submit" class="btn btn-quiet">"Filter"</button>
                        <a href=csv>"Download as CSV"</a>
                    </div>
                </form>
                {v.bad_day.then(|| view! { <p class="form-error" role="alert">"A date was not a day (YYYY-MM-DD) and was left out of the filter."</p> })}
                {if empty {
                    view! { <p class="empty">"No change matches."</p> }.into_any()
                } else {
                    view! {
                        // Scrolls sideways on a narrow screen: focusable, so a keyboard can too.
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Changes">
                            <table>
                                <thead><tr>
                                    <th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"What"</th>
                                    <th scope="col">"Of"</th><th scope="col">"Before"</th><th scope="col">"After"</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
                {v.older_query.map(|q| view! { <p class="manage"><a href=format!("/admin/audit{q}")>"Older changes"</a></p> })}
            </section>
        </ConsoleFrame>
    }
}

pub struct AccountView {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    /// (field, message): "current", "password" or "confirm".
    pub error: Option<(&'static str, String)>,
    pub changed: bool,
}

/// `GET /admin/account`: who you are, and a new password.
pub fn account_page(v: AccountView) -> impl IntoView {
    let bad = |f: &str| v.error.as_ref().is_some_and(|(e, _)| *e == f);
    let bad_current = bad("current");
    view! {
        <ConsoleFrame email=v.email.clone() role=v.role csrf=v.csrf.clone() title="Your account".to_owned() current="/admin/account">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Your account"</h1>
                <p>{v.email.clone()} " · " {v.role.label()}</p>
                {v.changed.then(|| view! { <p class="notice" role="status">"Your password is changed. Every other session of yours has ended."</p> })}
                <h2 id="password-heading">"Change your password"</h2>
                <form method="post" action="/admin/account/password" class="stacked narrow-form" aria-labelledby="password-heading">
                    <input type="hidden" name="csrf" value=v.csrf/>
                    <label for="current">"Current password"</label>
                    <input type="password" id="current" name="current" autocomplete="current-password" required=true
                        maxlength="128" aria-invalid=bad_current.then_some("true") aria-describedby=bad_current.then_some("current-error")/>
                    {field_error("current-error", &v.error, "current")}
                    {new_password_fields("New password", "New password again", &v.error)}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary">"Change the password"</button>
                    </div>
                </form>
            </section>
        </ConsoleFrame>
    }
}
