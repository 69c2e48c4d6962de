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

/// The navigation and the signed-in user, on every console page.
#[component]
fn ConsoleFrame(
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
                {role.may(Permission::ManageUsers).then(|| link("/admin/users", "Users"))}
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
                {role.may(Permission::ManageUsers).then(|| view! {
                    <h2><a href="/admin/users">"Users"</a></h2>
                    <p class="muted">"Who can sign in to this console, with which role; disable an account to end its sessions at once."</p>
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
}

pub struct UsersView {
    pub me: i64,
    pub csrf: String,
    pub users: Vec<UserRow>,
}

pub fn users_page(v: UsersView) -> impl IntoView {
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
            let action = if u.disabled {
                format!("/admin/users/{}/enable", u.id)
            } else {
                format!("/admin/users/{}/disable", u.id)
            };
            let label = if u.disabled { "Enable" } else { "Disable" };
            let state = if u.disabled { "Disabled" } else { "Active" };
            let button_name = format!("{label} {}", u.email);
            let control = (u.id != v.me).then(|| {
                view! {
                    <form method="post" action=action class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="btn btn-quiet" aria-label=button_name>{label}</button>
                    </form>
                }
            });
            view! {
                <tr>
                    <td>{u.email}</td>
                    <td>{u.role.label()}</td>
                    <td>{state}</td>
                    <td>{control}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ConsoleFrame email=me_email role=Role::Admin csrf=v.csrf title="Users".to_owned() current="/admin/users">
            <section class="card" aria-labelledby="page-title">
                <h1 id="page-title">"Users"</h1>
                <p class="muted">"Disabling a user ends their sessions at once. New users are created with "
                    <code>"prefcenter user create EMAIL --role ROLE"</code> "."</p>
                <div class="table-wrap">
                    <table>
                        <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"State"</th><th scope="col"><span class="sr-only">"Action"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
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
