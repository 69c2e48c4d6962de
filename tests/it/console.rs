//! The console's door from outside: the setup step creates the first admin (no default
//! account), sign-in with one answer for every bad credential, the session cookie's flags and
//! its id rotated at sign-in, sign-out, idle and absolute timeouts on the injected clock, a
//! disabled user's session ended at once, the throttle and its way out, CSRF and `Origin`
//! refusals, and what each role gets on each console route.

use crate::helpers::{spawn_app, TestApp};
use crate::proof::stdout;
use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

pub(crate) const GOOD: &str = "violet tram kettle 93";

/// `prefcenter user create EMAIL --role ROLE`, the password on standard input.
pub(crate) fn create_user(
    app: &TestApp,
    email: &str,
    role: &str,
    password: &str,
) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args(["user", "create", email, "--role", role])
        .args(["--database-url", &app.db_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        // A caller that expected success asserts on the flag alone: say why here.
        eprintln!(
            "prefcenter user create {email} exited {}: {}",
            out.status,
            stdout(&out)
        );
    }
    (out.status.success(), stdout(&out))
}

/// A browser: keeps cookies, sends them back, and can claim an `Origin`.
pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    jar: HashMap<String, String>,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: String,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) cache_control: Option<String>,
    /// Every response header, by name (lower case).
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            jar: HashMap::new(),
        }
    }

    pub(crate) async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let cookie: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("cookie", cookie.join("; "))
        };
        let res = req.send().await.unwrap();
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if c.contains("Max-Age=0") || v.is_empty() {
                self.jar.remove(k);
            } else {
                self.jar.insert(k.to_owned(), v.to_owned());
            }
        }
        Answer {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            retry_after: res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
            cache_control: res
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned()),
            headers: res
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            set_cookies,
            body: res.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Answer {
        let req = self.app.client.get(format!("{}{path}", self.app.base));
        self.send(req).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &str, origin: Option<&str>) -> Answer {
        let mut req = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        self.send(req).await
    }

    /// The sign-in form's token (a GET of the form sets its cookie).
    pub(crate) async fn sign_in_token(&mut self) -> String {
        let page = self.get("/admin/sign-in").await;
        assert_eq!(page.status, 200, "{}", page.body);
        csrf_of(&page.body)
    }

    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let token = self.sign_in_token().await;
        let origin = self.app.base.clone();
        self.post(
            "/admin/sign-in",
            &format!(
                "csrf={token}&email={}&password={}",
                urlencode(email),
                urlencode(password)
            ),
            Some(&origin),
        )
        .await
    }

    pub(crate) fn session(&self) -> Option<String> {
        self.jar.get("prefcenter_session").cloned()
    }

    /// The CSRF token of the console's forms, from a console page.
    pub(crate) async fn console_token(&mut self) -> String {
        let home = self.get("/admin").await;
        assert_eq!(home.status, 200, "{}", home.body);
        csrf_of(&home.body)
    }
}

pub(crate) fn csrf_of(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf field");
    html[i + 19..].split('"').next().unwrap().to_owned()
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&mut app.db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_first_admin_signs_in_and_out_with_safe_cookies_and_a_fresh_session_id() {
    let app = spawn_app().await;
    // No default account: nothing gets in before the setup step.
    let mut b = Browser::new(&app);
    assert_eq!(b.get("/admin").await.location, "/admin/sign-in");
    let nobody = b.sign_in("admin@contoso.com", GOOD).await;
    assert_eq!(nobody.status, 401);

    // The setup step refuses weak passwords and bad input, then creates the admin.
    for (email, role, pw, why) in [
        ("admin@contoso.com", "admin", "short", "at least 12"),
        ("admin@contoso.com", "admin", "password1234", "too common"),
        ("admin@contoso.com", "root", GOOD, "admin, staff or analyst"),
        ("not-an-address", "admin", GOOD, "not an email address"),
    ] {
        let (ok, out) = create_user(&app, email, role, pw);
        assert!(!ok && out.contains(why), "{pw}: {out}");
    }
    let (ok, out) = create_user(&app, "Admin@Contoso.com", "admin", GOOD);
    assert!(ok, "{out}");
    let (ok, out) = create_user(&app, "admin@contoso.com", "staff", GOOD);
    assert!(!ok && out.contains("exists already"), "{out}");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );

    // The sign-in form's own token cookie, and the headers of a console page: no caching, no
    // framing, a nonce-based policy without scripts from elsewhere, and a same-origin referrer
    // (so that the browser's `Origin` on the form's POST is real, not "null").
    let mut b = Browser::new(&app);
    let form = b.get("/admin/sign-in").await;
    let h = &form.headers;
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = &h["content-security-policy"];
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    // Contact pages keep theirs: no referrer at all (their URLs carry tokens).
    let contact = app.get(&format!("/u/{}", app.token("holly"))).await;
    assert_eq!(contact.headers()["referrer-policy"], "no-referrer");
    let signin_cookie = form
        .set_cookies
        .iter()
        .find(|c| c.starts_with("prefcenter_signin="))
        .unwrap();
    assert!(signin_cookie.contains("HttpOnly") && signin_cookie.contains("SameSite=Lax"));

    // One answer for a wrong password and for an unknown address.
    let wrong = b
        .sign_in("admin@contoso.com", "violet tram kettle 94")
        .await;
    let unknown = b.sign_in("nobody@contoso.com", GOOD).await;
    for a in [&wrong, &unknown] {
        assert_eq!(a.status, 401);
        assert!(a.body.contains("Invalid email or password."), "{}", a.body);
        assert!(a
            .set_cookies
            .iter()
            .all(|c| !c.starts_with("prefcenter_session=")));
    }
    assert!(!wrong.body.contains(GOOD));

    // The right one: a session cookie with every flag a plain-HTTP server can set.
    let ok = b.sign_in("ADMIN@contoso.com", GOOD).await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/admin"));
    let session_cookie = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("prefcenter_session="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session_cookie.contains(flag), "{session_cookie}");
    }
    assert!(
        !session_cookie.contains("Secure"),
        "plain HTTP: {session_cookie}"
    );
    let first = b.session().unwrap();
    let home = b.get("/admin").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("admin@contoso.com") && home.body.contains("Admin"));
    assert_eq!(home.cache_control.as_deref(), Some("no-store"));

    // Signing in again (the form's token cookie kept from before) gets a new session id; the
    // old one is worth nothing.
    assert_eq!(
        b.get("/admin/sign-in").await.location,
        "/admin",
        "signed in already"
    );
    let kept = b.jar["prefcenter_signin"].clone();
    let base = app.base.clone();
    let again = b
        .post(
            "/admin/sign-in",
            &format!(
                "csrf={kept}&email=admin%40contoso.com&password={}",
                urlencode(GOOD)
            ),
            Some(&base),
        )
        .await;
    assert_eq!(again.status, 303);
    let second = b.session().unwrap();
    assert_ne!(first, second);
    let mut thief = Browser::new(&app);
    thief.jar.insert("prefcenter_session".into(), first);
    assert_eq!(thief.get("/admin").await.location, "/admin/sign-in");
    // A made-up session id is no session either.
    thief
        .jar
        .insert("prefcenter_session".into(), "AAAAAAAAAAAAAAAAAAAAAA".into());
    assert_eq!(thief.get("/admin").await.location, "/admin/sign-in");

    // Sign-out needs the form's token; then the session is gone.
    let csrf = b.console_token().await;
    assert_eq!(b.post("/admin/sign-out", "", Some(&base)).await.status, 403);
    let out = b
        .post("/admin/sign-out", &format!("csrf={csrf}"), Some(&base))
        .await;
    assert_eq!(out.location, "/admin/sign-in?signed_out=1");
    let mut replay = Browser::new(&app);
    replay.jar.insert("prefcenter_session".into(), second);
    assert_eq!(replay.get("/admin").await.location, "/admin/sign-in");
    assert!(b
        .get("/admin/sign-in?signed_out=1")
        .await
        .body
        .contains("You are signed out"));
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_too_old_or_their_user_is_disabled() {
    let app = spawn_app().await;
    assert!(create_user(&app, "admin@contoso.com", "admin", GOOD).0);
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);

    // Idle: 29 minutes are fine, 30 without a request are not.
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);
    app.clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(b.get("/admin").await.status, 200);
    app.clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(
        b.get("/admin").await.status,
        200,
        "each request restarts the idle time"
    );
    app.clock.advance(Duration::from_secs(30 * 60));
    let idle = b.get("/admin").await;
    assert_eq!(idle.location, "/admin/sign-in?ended=idle");
    assert!(b
        .get(&idle.location)
        .await
        .body
        .contains("30 minutes without activity"));

    // Absolute: 12 hours, however busy.
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let signed_in = app.clock.now();
    let ended = loop {
        app.clock.advance(Duration::from_secs(29 * 60));
        let a = b.get("/admin").await;
        if a.status != 200 {
            break a;
        }
        assert!(app.clock.now() - signed_in < time::Duration::hours(13));
    };
    assert_eq!(ended.location, "/admin/sign-in?ended=expired");
    assert!(app.clock.now() - signed_in >= time::Duration::hours(12));
    assert!(app.clock.now() - signed_in < time::Duration::hours(12) + time::Duration::minutes(29));

    // Disabled by an admin: the staff member's very next request is refused.
    let mut staff = Browser::new(&app);
    assert_eq!(staff.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("admin@contoso.com", GOOD).await.status, 303);
    let csrf = admin.console_token().await;
    let id = user_id(&app, "staff@contoso.com").await;
    let base = app.base.clone();
    let disabled = admin
        .post(
            &format!("/admin/users/{id}/disable"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(disabled.location, "/admin/users");
    assert_eq!(
        staff.get("/admin").await.location,
        "/admin/sign-in?ended=revoked"
    );
    assert_eq!(staff.sign_in("staff@contoso.com", GOOD).await.status, 401);
    // Enabled again, they sign in anew.
    admin
        .post(
            &format!("/admin/users/{id}/enable"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(staff.sign_in("staff@contoso.com", GOOD).await.status, 303);
    // An admin cannot lock themself out.
    let me = user_id(&app, "admin@contoso.com").await;
    let own = admin
        .post(
            &format!("/admin/users/{me}/disable"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(own.status, 409);
    app.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account_and_address_and_the_owner_gets_out() {
    let app = spawn_app().await;
    assert!(create_user(&app, "admin@contoso.com", "admin", GOOD).0);
    // The owner signed in from this browser before: it carries the account's device cookie.
    let mut owner = Browser::new(&app);
    assert_eq!(owner.sign_in("admin@contoso.com", GOOD).await.status, 303);
    assert!(owner.jar.contains_key("prefcenter_device"));
    owner.jar.remove("prefcenter_session");

    // Someone else guesses.
    let mut attacker = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(
            attacker
                .sign_in("admin@contoso.com", "wrong guess 12345")
                .await
                .status,
            401
        );
    }
    let locked = attacker.sign_in("admin@contoso.com", GOOD).await;
    assert_eq!(
        locked.status, 429,
        "even the right password, from a stranger's browser"
    );
    let wait: i64 = locked.retry_after.unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    assert!(locked.body.contains("Too many failed sign-ins"));
    // The owner's browser still gets in.
    assert_eq!(owner.sign_in("admin@contoso.com", GOOD).await.status, 303);
    // And after the window, anyone with the password does.
    app.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        attacker.sign_in("admin@contoso.com", GOOD).await.status,
        303
    );

    // One address trying many accounts is throttled as an address.
    let mut sprayer = Browser::new(&app);
    for i in 0..20 {
        let a = sprayer
            .sign_in(&format!("user{i}@contoso.com"), "wrong guess 12345")
            .await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(
        sprayer
            .sign_in("someone@contoso.com", "wrong guess 12345")
            .await
            .status,
        429
    );
    app.stop().await;
}

#[tokio::test]
async fn forms_from_another_site_or_without_their_token_are_refused() {
    let app = spawn_app().await;
    assert!(create_user(&app, "admin@contoso.com", "admin", GOOD).0);
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut b = Browser::new(&app);
    let token = b.sign_in_token().await;
    let base = app.base.clone();
    let form = format!(
        "csrf={token}&email=admin%40contoso.com&password={}",
        urlencode(GOOD)
    );
    // Sign-in: a foreign Origin, a missing token, a token without its cookie.
    assert_eq!(
        b.post("/admin/sign-in", &form, Some("https://evil.example"))
            .await
            .status,
        403
    );
    let no_token = format!("email=admin%40contoso.com&password={}", urlencode(GOOD));
    assert_eq!(
        b.post("/admin/sign-in", &no_token, Some(&base))
            .await
            .status,
        403
    );
    let mut cookieless = Browser::new(&app);
    assert_eq!(
        cookieless
            .post("/admin/sign-in", &form, Some(&base))
            .await
            .status,
        403
    );
    // Bad input is a clear answer, not a crash.
    assert_eq!(
        b.post("/admin/sign-in", "%ZZ&&==", Some(&base))
            .await
            .status,
        403
    );
    let long = "a".repeat(5000);
    for junk in ["admin%00%40contoso.com", "%27%3B--", "", long.as_str()] {
        let token = b.sign_in_token().await;
        let a = b
            .post(
                "/admin/sign-in",
                &format!("csrf={token}&email={junk}&password=x%00y"),
                Some(&base),
            )
            .await;
        assert_eq!(a.status, 401, "{junk:.40}");
        assert!(a.body.contains("Invalid email or password."));
    }
    let token = b.sign_in_token().await;
    let form = format!(
        "csrf={token}&email=admin%40contoso.com&password={}",
        urlencode(GOOD)
    );
    assert_eq!(
        b.post("/admin/sign-in", &form, Some(&base)).await.status,
        303
    );

    // A console POST: foreign Origin, missing token, another session's token.
    let csrf = b.console_token().await;
    let id = user_id(&app, "staff@contoso.com").await;
    let path = format!("/admin/users/{id}/disable");
    assert_eq!(
        b.post(&path, &format!("csrf={csrf}"), Some("https://evil.example"))
            .await
            .status,
        403
    );
    assert_eq!(b.post(&path, "", Some(&base)).await.status, 403);
    let mut other = Browser::new(&app);
    other.sign_in("admin@contoso.com", GOOD).await;
    let others = other.console_token().await;
    assert_ne!(others, csrf);
    assert_eq!(
        b.post(&path, &format!("csrf={others}"), Some(&base))
            .await
            .status,
        403
    );
    let disabled: Option<String> =
        sqlx::query_scalar("SELECT CAST(disabled_at AS TEXT) FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    assert_eq!(disabled, None, "no refused form changed anything");
    // Without an Origin header (some clients send none) the token alone decides.
    assert_eq!(
        b.post(&path, &format!("csrf={csrf}"), None).await.status,
        303
    );
    app.stop().await;
}

#[tokio::test]
async fn each_role_gets_exactly_what_it_may_on_every_console_route() {
    use prefcenter::domain::auth::Role;
    use prefcenter::server::console::{Access, ROUTES};
    let app = spawn_app().await;
    for (email, role) in [
        ("admin@contoso.com", "admin"),
        ("staff@contoso.com", "staff"),
        ("analyst@contoso.com", "analyst"),
        ("target@contoso.com", "staff"),
    ] {
        assert!(create_user(&app, email, role, GOOD).0);
    }
    let target = user_id(&app, "target@contoso.com").await;
    let base = app.base.clone();
    let mut anonymous = Browser::new(&app);
    let mut signed_in = Vec::new();
    for (email, role) in [
        ("analyst@contoso.com", Role::Analyst),
        ("staff@contoso.com", Role::Staff),
        ("admin@contoso.com", Role::Admin),
    ] {
        let mut b = Browser::new(&app);
        assert_eq!(b.sign_in(email, GOOD).await.status, 303);
        signed_in.push((role, b));
    }
    // The router serves these and nothing else (it is built from the same list): every route
    // that needs a role is walked as anonymous and as each role. Deleting the target and
    // signing out come last, so that the others meet a live target and session.
    let mut routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.access != Access::Public)
        .collect();
    routes.sort_by_key(|r| match r.path {
        p if p.ends_with("/sign-out") => 2,
        p if p.ends_with("/delete") => 1,
        _ => 0,
    });
    assert!(routes.len() >= 12, "{} routes", routes.len());
    for r in routes {
        let Access::Needs(permission) = r.access else {
            unreachable!()
        };
        let path = r.path.replace("{id}", &target.to_string());
        // Anonymous: always sent to sign in, never served.
        let a = if r.method == "GET" {
            anonymous.get(&path).await
        } else {
            anonymous.post(&path, "", Some(&base)).await
        };
        assert!(
            a.status == 303 && a.location.starts_with("/admin/sign-in"),
            "{} {} as anonymous: {} {}",
            r.method,
            r.path,
            a.status,
            a.location
        );
        for (role, b) in signed_in.iter_mut() {
            let a = if r.method == "GET" {
                b.get(&path).await
            } else {
                let csrf = b.console_token().await;
                b.post(&path, &format!("csrf={csrf}&role=analyst"), Some(&base))
                    .await
            };
            let what = format!("{} {} as {}", r.method, r.path, role.as_str());
            assert!(
                !a.location.starts_with("/admin/sign-in") || r.path == "/admin/sign-out",
                "{what}: sent to sign in"
            );
            if role.may(permission) {
                assert_ne!(a.status, 403, "{what}: refused");
                assert!(a.status < 500, "{what}: {}", a.status);
            } else {
                assert_eq!(a.status, 403, "{what}: served ({})", a.body);
            }
        }
    }
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE id = $1")
            .bind(target)
            .fetch_one(&mut app.db().await)
            .await
            .unwrap(),
        0,
        "the admin's delete went through, nobody else's did"
    );
    // Only admins see the Users link.
    let mut staff = Browser::new(&app);
    staff.sign_in("staff@contoso.com", GOOD).await;
    assert!(!staff
        .get("/admin")
        .await
        .body
        .contains("href=\"/admin/users\""));
    let mut admin = Browser::new(&app);
    admin.sign_in("admin@contoso.com", GOOD).await;
    assert!(admin
        .get("/admin")
        .await
        .body
        .contains("href=\"/admin/users\""));
    app.stop().await;
}

#[tokio::test]
async fn the_setup_page_creates_the_first_admin_once_with_the_printed_code() {
    let app = spawn_app().await;
    let code = app
        .setup_code
        .clone()
        .expect("no user yet: the server prints a code");
    assert!(
        code.len() == 14
            && code.split('-').count() == 3
            && code
                .chars()
                .all(|c| c == '-' || "ABCDEFGHJKMNPQRSTVWXYZ23456789".contains(c)),
        "{code}"
    );
    let mut b = Browser::new(&app);
    let form = b.get("/admin/setup").await;
    assert_eq!(form.status, 200);
    let mut token = csrf_of(&form.body);
    let base = app.base.clone();
    let post = |token: &str, code: &str, pw: &str, confirm: &str| {
        format!(
            "csrf={token}&code={}&email=owner%40contoso.com&password={}&confirm={}",
            urlencode(code),
            urlencode(pw),
            urlencode(confirm)
        )
    };
    for (c, pw, confirm, says) in [
        (
            "ABCD-EFGH-JKMN",
            GOOD,
            GOOD,
            "not the code the server printed",
        ),
        (
            code.as_str(),
            GOOD,
            "violet tram kettle 94",
            "The two passwords differ.",
        ),
        (code.as_str(), "password1234", "password1234", "too common"),
        (code.as_str(), "short", "short", "at least 12"),
    ] {
        let a = b
            .post("/admin/setup", &post(&token, c, pw, confirm), Some(&base))
            .await;
        assert_eq!(a.status, 400, "{says}");
        assert!(a.body.contains(says), "{says}: {}", a.body);
        // Each answer's form carries a fresh token (and its cookie).
        token = csrf_of(&a.body);
    }
    // Another site cannot post it.
    let foreign = b
        .post(
            "/admin/setup",
            &post(&token, &code, GOOD, GOOD),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status, 403);
    // The code as a person may type it: lower case, without the hyphens.
    let typed = code.replace('-', "").to_lowercase();
    let made = b
        .post(
            "/admin/setup",
            &post(&token, &typed, GOOD, GOOD),
            Some(&base),
        )
        .await;
    assert_eq!(made.location, "/admin/sign-in?created=1");
    assert!(b
        .get(&made.location)
        .await
        .body
        .contains("administrator account is ready"));
    // Once: the page is gone and the code with it.
    assert_eq!(b.get("/admin/setup").await.location, "/admin/sign-in");
    let token = b.sign_in_token().await;
    let again = b
        .post(
            "/admin/setup",
            &post(&token, &code, GOOD, GOOD).replace("owner%40", "intruder%40"),
            Some(&base),
        )
        .await;
    assert_eq!(again.location, "/admin/sign-in");
    let users: Vec<(String, String)> = sqlx::query_as("SELECT email, role FROM users")
        .fetch_all(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(
        users,
        vec![("owner@contoso.com".to_owned(), "admin".to_owned())]
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_setup")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(b.sign_in("owner@contoso.com", GOOD).await.status, 303);

    // The last admin cannot be demoted or deleted; another admin first, then it can.
    let me = user_id(&app, "owner@contoso.com").await;
    let csrf = b.console_token().await;
    let demote = b
        .post(
            &format!("/admin/users/{me}/role"),
            &format!("csrf={csrf}&role=staff"),
            Some(&base),
        )
        .await;
    assert_eq!(demote.location, "/admin/users?refused=last_admin");
    assert!(b
        .get(&demote.location)
        .await
        .body
        .contains("no active administrator"));
    assert!(create_user(&app, "second@contoso.com", "staff", GOOD).0);
    let second = user_id(&app, "second@contoso.com").await;
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in("second@contoso.com", GOOD).await.status, 303);
    assert_eq!(other.get("/admin/users").await.status, 403);
    let promote = b
        .post(
            &format!("/admin/users/{second}/role"),
            &format!("csrf={csrf}&role=admin"),
            Some(&base),
        )
        .await;
    assert_eq!(promote.location, "/admin/users");
    // The new role applies at the other's next request, without signing in again.
    assert_eq!(other.get("/admin/users").await.status, 200);
    let bad_role = b
        .post(
            &format!("/admin/users/{second}/role"),
            &format!("csrf={csrf}&role=root"),
            Some(&base),
        )
        .await;
    assert_eq!(bad_role.status, 400);
    // Deleting a user ends their sessions.
    let deleted = b
        .post(
            &format!("/admin/users/{second}/delete"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(deleted.location, "/admin/users");
    assert_eq!(
        other.get("/admin").await.location,
        "/admin/sign-in?ended=revoked"
    );
    assert_eq!(
        b.get(&format!("/admin/users/{me}/delete")).await.status,
        409
    );
    assert_eq!(b.get("/admin/users/999999/delete").await.status, 404);
    assert_eq!(b.get("/admin/users/abc/delete").await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_made_again_at_sign_in() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let app = spawn_app().await;
    assert!(create_user(&app, "admin@contoso.com", "admin", GOOD).0);
    // A hash from an older, cheaper setting (argon2id m=4096, t=1).
    let old = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(
        GOOD.as_bytes(),
        &SaltString::encode_b64(&[7u8; 16]).unwrap(),
    )
    .unwrap()
    .to_string();
    sqlx::query("UPDATE users SET password_hash = $1")
        .bind(&old)
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("admin@contoso.com", GOOD).await.status, 303);
    let now: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
    assert_ne!(now, old);
    // A wrong password never rewrites it.
    let mut stranger = Browser::new(&app);
    assert_eq!(
        stranger
            .sign_in("admin@contoso.com", "violet tram kettle 94")
            .await
            .status,
        401
    );
    let after: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(after, now);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_names_every_console_change_and_exports_formula_safe_csv() {
    let app = spawn_app().await;
    // An admin whose address a spreadsheet would take for a formula.
    assert!(create_user(&app, "=cmd@contoso.com", "admin", GOOD).0);
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let staff = user_id(&app, "staff@contoso.com").await;
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("=cmd@contoso.com", GOOD).await.status, 303);
    let csrf = b.console_token().await;
    let base = app.base.clone();
    for (path, form) in [
        ("role", "role=analyst"),
        ("disable", ""),
        ("enable", ""),
        ("delete", ""),
    ] {
        let a = b
            .post(
                &format!("/admin/users/{staff}/{path}"),
                &format!("csrf={csrf}&{form}"),
                Some(&base),
            )
            .await;
        assert_eq!(a.location, "/admin/users", "{path}");
    }
    let log = b.get("/admin/audit").await;
    assert_eq!(log.status, 200);
    let rows = log.body.matches("<tr>").count() - 1;
    assert_eq!(rows, 6, "two creations and four changes: {}", log.body);
    for needle in [
        "user.create",
        "user.role",
        r#"<code>{"role":"staff"}</code>"#,
        r#"<code>{"role":"analyst"}</code>"#,
        "user.disable",
        "user.enable",
        "user.delete",
        "cli:",
        &format!("user {staff} staff@contoso.com"),
    ] {
        assert!(log.body.contains(needle), "{needle}: {}", log.body);
    }
    // Newest first.
    assert!(log.body.find("user.delete").unwrap() < log.body.find("user.role").unwrap());

    // Filters: by kind, by who, by day; a date that is no day is said, not a crash.
    let by_kind = b.get("/admin/audit?kind=user.role").await.body;
    assert_eq!(by_kind.matches("<tr>").count() - 1, 1);
    let by_actor = b.get("/admin/audit?actor=%3Dcmd%40contoso.com").await.body;
    assert_eq!(by_actor.matches("<tr>").count() - 1, 4);
    let today = app.clock.now().date();
    let tomorrow = today.next_day().unwrap();
    assert!(b
        .get(&format!("/admin/audit?from={tomorrow}"))
        .await
        .body
        .contains("No change matches."));
    assert_eq!(
        b.get(&format!("/admin/audit?from={today}&to={today}"))
            .await
            .body
            .matches("<tr>")
            .count()
            - 1,
        6
    );
    let bad = b.get("/admin/audit?from=yesterday&kind=%00%27").await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("was not a day"));

    // The export: the same lines, quoted, and a cell that starts like a formula made text.
    let csv = b.get("/admin/audit.csv?kind=user.disable").await;
    assert_eq!(csv.status, 200);
    let text = csv.body;
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,at,actor,kind,subject,before,after"));
    let row = lines.next().unwrap();
    assert!(row.contains(",'=cmd@contoso.com,user.disable,"), "{row}");
    assert!(row.contains(r#""{""state"":""active""}""#), "{row}");
    assert_eq!(lines.next(), None);
    let all = b.get("/admin/audit.csv").await.body;
    assert_eq!(all.lines().count(), 7);
    app.stop().await;
}

#[tokio::test]
async fn a_user_changes_their_password_and_every_other_session_of_theirs_ends() {
    let app = spawn_app().await;
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut laptop = Browser::new(&app);
    let mut phone = Browser::new(&app);
    assert_eq!(laptop.sign_in("staff@contoso.com", GOOD).await.status, 303);
    assert_eq!(phone.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let page = laptop.get("/admin/account").await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.body);
    let base = app.base.clone();
    let new = "amber lantern quietly 27";
    let form = |current: &str, pw: &str, confirm: &str| {
        format!(
            "csrf={csrf}&current={}&password={}&confirm={}",
            urlencode(current),
            urlencode(pw),
            urlencode(confirm)
        )
    };
    for (body, says) in [
        (
            form("not my password 12", new, new),
            "not your current password",
        ),
        (
            form(GOOD, new, "amber lantern quietly 28"),
            "The two new passwords differ.",
        ),
        (form(GOOD, "password1234", "password1234"), "too common"),
    ] {
        let a = laptop
            .post("/admin/account/password", &body, Some(&base))
            .await;
        assert_eq!(a.status, 400, "{says}");
        assert!(a.body.contains(says), "{says}: {}", a.body);
    }
    // Without the form's token: refused.
    let no_token = format!(
        "current={}&password={}&confirm={}",
        urlencode(GOOD),
        urlencode(new),
        urlencode(new)
    );
    assert_eq!(
        laptop
            .post("/admin/account/password", &no_token, Some(&base))
            .await
            .status,
        403
    );
    let before = laptop.session().unwrap();
    let done = laptop
        .post(
            "/admin/account/password",
            &form(GOOD, new, new),
            Some(&base),
        )
        .await;
    assert_eq!(done.location, "/admin/account?changed=1");
    // This browser goes on, under a new session id; the phone's session is over.
    assert_ne!(laptop.session().unwrap(), before);
    assert!(laptop
        .get(&done.location)
        .await
        .body
        .contains("Your password is changed."));
    assert_eq!(
        phone.get("/admin").await.location,
        "/admin/sign-in?ended=revoked"
    );
    let mut fresh = Browser::new(&app);
    assert_eq!(fresh.sign_in("staff@contoso.com", GOOD).await.status, 401);
    assert_eq!(fresh.sign_in("staff@contoso.com", new).await.status, 303);
    // The audit log says it changed, and nothing of the password.
    let audit: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT kind, before, after FROM console_audit WHERE kind = 'user.password'",
    )
    .fetch_all(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!(audit, vec![("user.password".to_owned(), None, None)]);
    app.stop().await;
}

/// The invitation link's path (`/admin/invite/<token>`) in an email's plain-text part.
fn invite_path(mail: &crate::smtp::Received) -> String {
    let text = mail.raw.replace("=\r\n", "");
    let i = text
        .find("/admin/invite/")
        .expect("an invitation link in the email");
    text[i..i + "/admin/invite/".len() + 32].to_owned()
}

#[tokio::test]
async fn an_invited_user_chooses_a_password_from_the_emailed_link_once() {
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    let base = app.base.clone();
    assert!(create_user(&app, "admin@contoso.com", "admin", GOOD).0);
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("admin@contoso.com", GOOD).await.status, 303);
    let csrf = admin.console_token().await;
    let invite =
        |email: &str, role: &str| format!("csrf={csrf}&email={}&role={role}", urlencode(email));

    // Not an address, or an address with an account: said beside the field, nothing sent.
    let bad = admin
        .post(
            "/admin/users/invite",
            &invite("not an address", "staff"),
            Some(&base),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Enter an email address."), "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\""));
    let taken = admin
        .post(
            "/admin/users/invite",
            &invite("Admin@Contoso.com", "staff"),
            Some(&base),
        )
        .await;
    assert!(
        taken.body.contains("has an account already"),
        "{}",
        taken.body
    );
    let no_role = admin
        .post(
            "/admin/users/invite",
            &invite("x@contoso.com", "owner"),
            Some(&base),
        )
        .await;
    assert!(no_role.body.contains("Choose admin, staff or analyst."));

    let sent = admin
        .post(
            "/admin/users/invite",
            &invite("New.Person@Contoso.com", "staff"),
            Some(&base),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert!(sent.location.starts_with("/admin/users?invited="));
    let users = admin.get(&sent.location).await;
    assert!(users
        .body
        .contains("Invitation sent to new.person@contoso.com."));
    assert!(users
        .body
        .contains("Invited by admin@contoso.com, not accepted yet"));

    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, vec!["new.person@contoso.com".to_owned()]);
    assert!(mail.header("Subject").unwrap().contains("invited"));
    assert!(mail.raw.contains("as a staff"), "{}", mail.raw);
    let path = invite_path(&mail);

    // Until they accept, no password works.
    let mut new = Browser::new(&app);
    assert_eq!(
        new.sign_in("new.person@contoso.com", GOOD).await.status,
        401
    );
    assert_eq!(new.sign_in("new.person@contoso.com", "").await.status, 401);

    let form = new.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("new.person@contoso.com"));
    // A weak password is refused beside its field, the link still stands.
    let weak = new
        .post(
            &path,
            &format!(
                "csrf={}&password=password123&confirm=password123",
                csrf_of(&form.body)
            ),
            Some(&base),
        )
        .await;
    assert_eq!(weak.status, 400, "{}", weak.body);
    assert!(weak.body.contains("id=\"password-error\""), "{}", weak.body);
    // A form without its token, or from elsewhere, does nothing.
    let forged = new
        .post(
            &path,
            &format!("csrf=x&password={0}&confirm={0}", urlencode(GOOD)),
            Some(&base),
        )
        .await;
    assert_eq!(forged.status, 403);
    let joined = new
        .post(
            &path,
            &format!(
                "csrf={}&password={1}&confirm={1}",
                csrf_of(&weak.body),
                urlencode(GOOD)
            ),
            Some(&base),
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    assert_eq!(joined.location, "/admin");
    let home = new.get("/admin").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("new.person@contoso.com") && home.body.contains("Staff"));
    // The link works once.
    let again = Browser::new(&app).get(&path).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("no longer valid"));
    let mut other = Browser::new(&app);
    assert_eq!(
        other.sign_in("new.person@contoso.com", GOOD).await.status,
        303
    );
    // Nothing to send again to someone who accepted.
    let id = user_id(&app, "new.person@contoso.com").await;
    let resend = admin
        .post(
            &format!("/admin/users/{id}/invite"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(resend.status, 409);

    // Sent again: the newer link works, the older one too until one is used; deleting the
    // user takes every link of theirs.
    let sent = admin
        .post(
            "/admin/users/invite",
            &invite("later@contoso.com", "analyst"),
            Some(&base),
        )
        .await;
    assert_eq!(sent.status, 303);
    let first = invite_path(&smtp.wait_for(2).await[1]);
    let later = user_id(&app, "later@contoso.com").await;
    let resend = admin
        .post(
            &format!("/admin/users/{later}/invite"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(resend.status, 303);
    let second = invite_path(&smtp.wait_for(3).await[2]);
    assert_ne!(first, second);
    assert_eq!(Browser::new(&app).get(&second).await.status, 200);
    // A week and a day later, neither works.
    app.clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(Browser::new(&app).get(&first).await.status, 410);
    assert_eq!(Browser::new(&app).get(&second).await.status, 410);
    // (The admin's session has ended meanwhile.)
    assert_eq!(admin.sign_in("admin@contoso.com", GOOD).await.status, 303);
    let csrf = admin.console_token().await;
    let delete = admin
        .post(
            &format!("/admin/users/{later}/delete"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(delete.status, 303);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invite_tokens")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0, "a deleted user's links go with them");
    // A token that is not one is a page, not an error.
    assert_eq!(
        Browser::new(&app).get("/admin/invite/nope").await.status,
        404
    );

    let audit = admin.get("/admin/audit").await;
    for kind in ["user.invite", "user.accept_invite", "user.invite_again"] {
        assert!(audit.body.contains(kind), "{kind} in the audit log");
    }
}

/// A call of a console server function with arguments it accepts (by its path). A function
/// without one here fails the matrix below: every new function is called as every role.
fn sample_call(path: &str, profile: i64) -> String {
    match path {
        "/admin/fn/check_design" => format!("profile={profile}&form=primary%3D%2523ffd966"),
        other => panic!("{other}: add a sample call for this server function to the matrix"),
    }
}

#[tokio::test]
async fn each_role_gets_exactly_what_it_may_from_every_server_function() {
    use prefcenter::domain::auth::Role;
    use prefcenter::server::console::SERVER_FNS;
    use std::collections::BTreeSet;
    // Every registered server function is in the list that says who may call it, and the list
    // names nothing that is not registered.
    let registered: BTreeSet<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    let listed: BTreeSet<&str> = SERVER_FNS.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        registered, listed,
        "server functions without a role in SERVER_FNS"
    );
    assert!(!listed.is_empty());

    let app = spawn_app().await;
    let base = app.base.clone();
    for (email, role) in [
        ("admin@contoso.com", "admin"),
        ("staff@contoso.com", "staff"),
        ("analyst@contoso.com", "analyst"),
    ] {
        assert!(create_user(&app, email, role, GOOD).0);
    }
    let profile: i64 =
        sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE key = 'contoso'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    let call = |path: &str, origin: Option<&str>| {
        let mut req = app
            .client
            .post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(sample_call(path, profile));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req
    };
    let mut anonymous = Browser::new(&app);
    let mut signed_in = Vec::new();
    for (email, role) in [
        ("analyst@contoso.com", Role::Analyst),
        ("staff@contoso.com", Role::Staff),
        ("admin@contoso.com", Role::Admin),
    ] {
        let mut b = Browser::new(&app);
        assert_eq!(b.sign_in(email, GOOD).await.status, 303);
        signed_in.push((role, b));
    }
    for (path, permission) in SERVER_FNS {
        let a = anonymous.send(call(path, Some(&base))).await;
        assert_eq!(a.status, 401, "{path} as anonymous: {}", a.body);
        assert!(a.body.contains("\"code\":\"sign_in\""), "{}", a.body);
        for (role, b) in signed_in.iter_mut() {
            let what = format!("{path} as {}", role.as_str());
            let a = b.send(call(path, Some(&base))).await;
            if role.may(*permission) {
                assert_eq!(a.status, 200, "{what}: {}", a.body);
            } else {
                assert_eq!(a.status, 403, "{what}: served ({})", a.body);
                assert!(a.body.contains("\"code\":\"forbidden\""), "{}", a.body);
            }
            // From another site, or without an Origin at all: refused whoever is signed in.
            for origin in [Some("https://evil.example"), None] {
                let a = b.send(call(path, origin)).await;
                assert_eq!(a.status, 403, "{what} from {origin:?}: {}", a.body);
                assert!(a.body.contains("\"code\":\"cross_site\""), "{}", a.body);
            }
        }
    }
    app.stop().await;
}
