//! What every integration test starts from: the real server on port 0 with its own database,
//! and a real HTTP client.
//!
//! The database is a fresh SQLite file, or, when `PREFCENTER_TEST_POSTGRES` names a PostgreSQL
//! server (scripts/test.sh starts a throw-away one and runs the suite a second time with it), a
//! fresh database on that server.

use clap::Parser;
use prefcenter::server::config::Cli;
use sqlx::{AnyConnection, Connection};
use tokio::sync::oneshot;

/// The PostgreSQL server the suite runs against, if any (an admin URL).
pub fn postgres() -> Option<String> {
    std::env::var("PREFCENTER_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh, empty database for one test: a file in `dir`, or a new database on the test
/// PostgreSQL server.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    let Some(admin) = postgres() else {
        return format!("sqlite://{}/test.db", dir.display());
    };
    use sqlx::Executor as _;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "it_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    c.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    c.close().await.unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

pub struct TestApp {
    pub base: String,
    /// The server's clock: tests move it forward instead of sleeping.
    pub clock: prefcenter::store::Clock,
    pub dir: tempfile::TempDir,
    pub db_url: String,
    /// (address, full link) of the demo contacts.
    pub links: Vec<(String, String)>,
    /// The console's one-time setup code the server printed (no user exists yet).
    pub setup_code: Option<String>,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    /// What `serve` returned, once it has (it runs on a thread and runtime of its own).
    done: Option<oneshot::Receiver<std::io::Result<()>>>,
}

/// The settings of a test server on `db_url`, with more `flags`.
pub fn cli(dir: &std::path::Path, db_url: &str, flags: &[&str]) -> Cli {
    let mut args: Vec<String> = vec![
        "prefcenter".into(),
        "--demo".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--database-url".into(),
        db_url.into(),
        "--data-dir".into(),
        dir.to_str().unwrap().into(),
        "--ip-evidence".into(),
        "full".into(),
    ];
    if !flags.is_empty() {
        args.extend(["--poll-ms".into(), "50".into()]);
    }
    args.extend(flags.iter().map(|f| f.to_string()));
    Cli::parse_from(args)
}

/// Starts the real app on a random port with a fresh database; `extra` bench contacts are
/// added first (their tokens are returned in `links` after the demo ones, as "bench").
pub async fn spawn_app_with(extra: usize) -> (TestApp, Vec<String>) {
    spawn_app_on(extra, &[]).await
}

/// The same with more flags (an SMTP server, short retries).
pub async fn spawn_app_on(extra: usize, flags: &[&str]) -> (TestApp, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    launch(dir, db_url, extra, flags).await
}

/// The real app on an existing database (and the data folder holding its secret).
pub async fn spawn_app_at(dir: tempfile::TempDir, db_url: String) -> TestApp {
    launch(dir, db_url, 0, &[]).await.0
}

/// A second instance on the same database as `first`, sharing its secret (its own data
/// folder, clock and port).
pub async fn spawn_second(first: &TestApp) -> TestApp {
    spawn_second_on(first, &[]).await
}

/// The same with more flags.
pub async fn spawn_second_on(first: &TestApp, flags: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(first.dir.path().join("secret"), dir.path().join("secret")).unwrap();
    launch(dir, first.db_url.clone(), 0, flags).await.0
}

async fn launch(
    dir: tempfile::TempDir,
    db_url: String,
    extra: usize,
    flags: &[&str],
) -> (TestApp, Vec<String>) {
    let cli = cli(dir.path(), &db_url, flags);
    let mut tokens = Vec::new();
    if extra > 0 {
        let mut db = prefcenter::store::open(&db_url, 1).await.unwrap();
        prefcenter::services::demo::seed(&mut db.write)
            .await
            .unwrap();
        tokens = prefcenter::services::demo::bench_contacts(&mut db.write, extra, 30)
            .await
            .unwrap();
        db.read.close().await;
        db.write.close().await.unwrap();
    }
    // The server runs on a runtime of its own, on its own thread, as it would in its own
    // process: a test that blocks its thread (a command line run beside the server, waiting
    // for a lock the server holds) cannot freeze the server mid-transaction.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let clock = prefcenter::store::Clock::system();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (stop, rx) = oneshot::channel::<()>();
    let (done_tx, done) = oneshot::channel::<std::io::Result<()>>();
    {
        let (base, clock) = (base.clone(), clock.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let served = runtime.block_on(async move {
                let prepared =
                    match prefcenter::server::prepare_with_clock(&cli.settings, &base, clock).await
                    {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return Ok(());
                        }
                    };
                let _ = ready_tx.send(Ok((
                    prepared.demo_links.clone(),
                    prepared.setup_code.clone(),
                )));
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                prefcenter::server::serve(prepared, listener, async move {
                    let _ = rx.await;
                })
                .await
            });
            // What the server left running (its writer, its mail) stops with its runtime, as
            // with a process that exits: `stop` returns once it has.
            runtime.shutdown_timeout(std::time::Duration::from_secs(10));
            let _ = done_tx.send(served);
        });
    }
    let (links, setup_code) = ready_rx
        .await
        .expect("the server thread ended before it was ready")
        .unwrap_or_else(|e| panic!("the server did not start: {e}"));
    let client = client();
    (
        TestApp {
            base,
            clock,
            dir,
            db_url,
            links,
            setup_code,
            client,
            stop: Some(stop),
            done: Some(done),
        },
        tokens,
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(0).await.0
}

impl TestApp {
    pub fn link(&self, who: &str) -> String {
        self.links
            .iter()
            .find(|(a, _)| a.starts_with(who))
            .unwrap()
            .1
            .clone()
    }
    pub fn token(&self, who: &str) -> String {
        self.link(who).rsplit('/').next().unwrap().to_owned()
    }
    /// A connection to the server's database, to look at it (or spoil it) from outside.
    pub async fn db(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        AnyConnection::connect(&self.db_url).await.unwrap()
    }
    /// A connection as the store's own functions take it.
    pub async fn store_conn(&self) -> prefcenter::store::Conn {
        let db = prefcenter::store::open_existing(&self.db_url)
            .await
            .unwrap();
        db.read.close().await;
        db.write
    }
    pub async fn ledger_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM consent_ledger")
            .fetch_one(&mut self.db().await)
            .await
            .unwrap()
    }
    /// (topic name or purpose key, channel) → value, for one address.
    pub async fn states(&self, address: &str) -> Vec<(String, String, String)> {
        sqlx::query_as(
            "SELECT COALESCE(t.name, p.key), s.channel, s.value
             FROM consent_states s JOIN contact_points cp ON cp.id = s.contact_point_id
             LEFT JOIN topics t ON s.subject_kind = 'topic' AND t.id = s.subject_id
             LEFT JOIN purposes p ON s.subject_kind = 'purpose' AND p.id = s.subject_id
             WHERE cp.address = $1 ORDER BY 1, 2",
        )
        .bind(address)
        .fetch_all(&mut self.db().await)
        .await
        .unwrap()
    }
    pub async fn state_of(&self, address: &str, what: &str, channel: &str) -> Option<String> {
        self.states(address)
            .await
            .into_iter()
            .find(|(w, c, _)| w == what && c == channel)
            .map(|(_, _, v)| v)
    }
    pub async fn post_form(&self, path: &str, body: &str) -> reqwest::Response {
        post_form_to(&self.client, &format!("{}{path}", self.base), body).await
    }
    /// What `POST /receipt` answers a script about `jws`.
    pub async fn check_receipt(&self, jws: &str) -> serde_json::Value {
        let res = self
            .client
            .post(format!("{}/receipt", self.base))
            .header("content-type", "application/jose")
            .header("accept", "application/json")
            .body(jws.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
    /// A read-only connection to the server's database, as the store reads it.
    pub async fn reader(&self) -> prefcenter::store::Reader {
        prefcenter::store::reader(&self.db_url, 1).await.unwrap()
    }
    /// The ledger verifies and the state equals its replay.
    pub async fn assert_ledger_sound(&self) {
        let key = std::fs::read_to_string(self.dir.path().join("secret")).unwrap();
        let read = self.reader().await;
        let report = prefcenter::store::ledger::verify(&read, key.trim().as_bytes(), &[])
            .await
            .unwrap();
        assert!(report.ok(), "{report:?}");
    }
    /// Stops the server; the returned folder (database, secret) lives as long as the caller keeps it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        self.done.take().unwrap().await.unwrap().unwrap();
        self.dir
    }
}

/// An HTTP client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// POSTs a form to `url`, as a browser's form or a mail client's one-click does.
pub async fn post_form_to(client: &reqwest::Client, url: &str, body: &str) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Removes per-response values (CSP nonces) so two pages can be compared.
pub fn normalise(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("nonce=\"") {
        out.push_str(&rest[..i + 7]);
        rest = &rest[i + 7..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The command line beside a running server, on a blocking thread so the test's own tasks
/// (a client it is driving) go on meanwhile.
pub async fn beside(args: &[&str], app: &TestApp) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (db_url, dir) = (app.db_url.clone(), app.dir.path().to_path_buf());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::proof::prefcenter(&args, &db_url, &dir)
    })
    .await
    .unwrap()
}
