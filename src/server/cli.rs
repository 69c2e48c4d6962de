//! Start-up and commands: `serve` (default), `migrate`, `ledger verify`, `mail status`,
//! `bench-seed`.

use super::config::{
    Cli, Command, ContactCommand, KeysCommand, LedgerCommand, MailCommand, ReceiptCommand,
    Settings, UserCommand,
};
use clap::Parser;
use std::process::ExitCode;

fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PREFCENTER_LOG")
        .unwrap_or_else(|_| EnvFilter::new("prefcenter=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs();
    let result = match cli.command {
        None | Some(Command::Serve) => serve(&cli.settings).await,
        Some(Command::Migrate) => migrate(&cli.settings).await,
        Some(Command::Copy { ref from, ref to }) => copy(&cli.settings, from, to).await,
        Some(Command::Ledger {
            command:
                LedgerCommand::Verify {
                    ref checkpoint,
                    json,
                },
        }) => verify(&cli.settings, checkpoint, json).await,
        Some(Command::Ledger {
            command: LedgerCommand::Checkpoint,
        }) => checkpoint(&cli.settings).await,
        Some(Command::Keys {
            command: KeysCommand::Rotate,
        }) => keys_rotate(&cli.settings).await,
        Some(Command::Keys {
            command: KeysCommand::List,
        }) => keys_list(&cli.settings).await,
        Some(Command::Mail {
            command: MailCommand::Status,
        }) => mail_status(&cli.settings).await,
        Some(Command::User {
            command:
                UserCommand::Create {
                    ref email,
                    ref role,
                },
        }) => user_create(&cli.settings, email, role).await,
        Some(Command::ApiKey {
            command:
                super::config::ApiKeyCommand::Create {
                    ref name,
                    ref scopes,
                    ref profile,
                },
        }) => api_key_create(&cli.settings, name, scopes, profile.as_deref()).await,
        Some(Command::Receipt {
            command:
                ReceiptCommand::Verify {
                    ref file,
                    ref keys,
                    json,
                },
        }) => receipt_verify(&cli.settings, file, keys.as_deref(), json).await,
        Some(Command::Contact {
            command:
                ContactCommand::Erase {
                    ref email,
                    ref reason,
                    ref actor,
                },
        }) => erase(&cli.settings, email, reason, actor.as_deref()).await,
        Some(Command::Import {
            ref files,
            ref profile,
            ref layout,
            ref maps,
            source_confirmed,
            dry_run,
            ref errors_out,
        }) => {
            import(
                &cli.settings,
                files,
                ImportArgs {
                    profile,
                    layout: layout.as_deref(),
                    maps,
                    source_confirmed,
                    dry_run,
                    errors_out: errors_out.as_deref(),
                },
            )
            .await
        }
        Some(Command::BenchSeed {
            contacts,
            tokens_out,
        }) => bench_seed(&cli.settings, contacts, &tokens_out).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("prefcenter: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<ExitCode, Box<dyn std::error::Error>>;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn serve(settings: &Settings) -> CliResult {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr()?;
    let base_url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let prepared = super::prepare(settings, &base_url).await?;
    if settings.demo {
        println!("\nDemo organization: Contoso. Open a contact's link:");
        for (who, link) in &prepared.demo_links {
            println!("  {who:<20} {link}");
        }
        println!("(New links are issued at every start; earlier ones keep working.)");
        println!(
            "Public sign-up form: {}/s/{}",
            base_url.trim_end_matches('/'),
            crate::services::demo::DEMO_PROFILE
        );
        if settings.smtp().is_none() {
            println!(
                "No SMTP server configured: emails are kept in {} and each confirmation link is printed here.\n",
                settings.kept_mail_dir().display()
            );
        } else {
            println!();
        }
    }
    if let Some(code) = &prepared.setup_code {
        println!(
            "No console user yet. Create the first admin at {}/admin/setup with the one-time code {code}\n(or on this machine: prefcenter user create EMAIL --role admin).\n",
            base_url.trim_end_matches('/')
        );
    }
    tracing::info!(
        %addr,
        database = %crate::store::backend::shown_url(&settings.database_url),
        "prefcenter is listening"
    );
    println!("prefcenter listening on {base_url}");
    super::serve(prepared, listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// An existing database, or a message naming it (without its password).
async fn open_existing(url: &str) -> Result<crate::store::Db, String> {
    crate::store::open_existing(url)
        .await
        .map_err(|e| format!("cannot open {}: {e}", crate::store::backend::shown_url(url)))
}

async fn migrate(settings: &Settings) -> CliResult {
    let url = crate::store::backend::shown_url(&settings.database_url);
    let applied = crate::store::migrate(&settings.database_url)
        .await
        .map_err(|e| format!("cannot migrate {url}: {e}"))?;
    if applied.is_empty() {
        println!("{url}: up to date");
    } else {
        let list: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
        println!("{url}: applied migrations {}", list.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

async fn copy(settings: &Settings, from: &str, to: &str) -> CliResult {
    use crate::store::backend::shown_url;
    let secret = settings.load_secret()?;
    let mut source = open_existing(from).await?;
    let ours = crate::domain::ledger::key_fingerprint(&secret);
    if let Some(recorded) = crate::store::keys::fingerprint(&mut source.write, "evidence").await? {
        if recorded != ours {
            return Err(format!(
                "this is not the secret {} was written with (fingerprint {recorded}, this one \
                 {ours}): run copy with the deployment's --data-dir or PREFCENTER_SECRET, so the \
                 ledger can be verified after the copy",
                shown_url(from)
            )
            .into());
        }
    }
    let mut target = crate::store::open(to, 1)
        .await
        .map_err(|e| format!("cannot open {}: {e}", shown_url(to)))?;
    let counts = crate::store::copy::copy(&mut source.write, &mut target.write)
        .await
        .map_err(|e| {
            format!(
                "copy into {} failed, nothing was written: {e}",
                shown_url(to)
            )
        })?;
    for (table, n) in &counts {
        println!("{table:<20} {n}");
    }
    let report = crate::store::ledger::verify(&target.read, &secret, &[]).await?;
    source.read.close().await;
    target.read.close().await;
    source.write.close().await?;
    target.write.close().await?;
    if report.ok() {
        println!(
            "copied {} to {}; ledger OK there: {} records, chain head {}, {} checkpoint(s) verified",
            shown_url(from),
            shown_url(to),
            report.records,
            report.head,
            report.checkpoints_verified
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "copied, but the ledger does not verify there with this secret: {:?} {:?} {:?}",
            report.chain_error,
            report.state_mismatches.first(),
            report.checkpoint_errors.first()
        );
        Ok(ExitCode::from(1))
    }
}

/// Read connections to an existing database: never creates or migrates anything.
async fn look_at(url: &str) -> Result<crate::store::Reader, String> {
    crate::store::reader(url, 1)
        .await
        .map_err(|e| format!("cannot open {}: {e}", crate::store::backend::shown_url(url)))
}

async fn verify(settings: &Settings, files: &[std::path::PathBuf], json: bool) -> CliResult {
    let secret = settings.load_secret()?;
    let mut given = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read checkpoint {}: {e}", f.display()))?;
        // A checkpoint file may hold one checkpoint or one per line (PREFCENTER_CHECKPOINT_FILE).
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let cp: crate::domain::proof::Checkpoint = serde_json::from_str(line.trim())
                .map_err(|e| format!("{} is not a ledger checkpoint: {e}", f.display()))?;
            given.push(cp);
        }
        if text.trim().is_empty() {
            return Err(format!("{} holds no checkpoint", f.display()).into());
        }
    }
    let read = look_at(&settings.database_url).await?;
    let report = crate::store::ledger::verify(&read, &secret, &given).await;
    read.close().await;
    let report = report?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "ok": report.ok(), "report": report })
        );
        return Ok(if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if report.ok() {
        println!(
            "ledger OK: {} records, chain head {}; current state equals a replay of the ledger; \
             {} stored checkpoint(s) verified{}",
            report.records,
            report.head,
            report.checkpoints_verified,
            if given.is_empty() {
                String::new()
            } else {
                format!(", and the {} given one(s) hold", given.len())
            }
        );
        for e in &report.erasures {
            println!(
                "erasure: record {} erased contact point {}{}",
                e.record,
                e.contact_point_id,
                match e.voided.len() {
                    0 => String::new(),
                    n => format!(
                        "; the evidence of {n} earlier record(s) is erased by it ({})",
                        e.voided
                            .iter()
                            .take(10)
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                            + if n > 10 { ", …" } else { "" }
                    ),
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(e) = &report.chain_error {
        println!(
            "ledger BROKEN: {e} ({} records verified before it)",
            report.records
        );
    }
    for (which, why) in &report.checkpoint_errors {
        println!("checkpoint FAILED: {which}: {why}");
    }
    for e in &report.key_errors {
        println!("key FAILED: {e}");
    }
    for m in report.state_mismatches.iter().take(20) {
        println!("state MISMATCH: {m}");
    }
    if report.state_mismatches.len() > 20 {
        println!(
            "… and {} more mismatches",
            report.state_mismatches.len() - 20
        );
    }
    Ok(ExitCode::from(1))
}

async fn erase(settings: &Settings, email: &str, reason: &str, actor: Option<&str>) -> CliResult {
    use crate::store::erasure::Erasure;
    let address = crate::domain::parse::EmailAddress::parse(email)
        .map_err(|e| format!("{email:?} is not an email address: {e}"))?;
    let reason = crate::services::erasure::parse_reason(reason).map_err(|e| match e.code() {
        "reason_required" => {
            "--reason is required: say why (it is kept in the erasure record)".to_owned()
        }
        _ => format!(
            "--reason is longer than {} characters",
            crate::services::erasure::MAX_REASON
        ),
    })?;
    let actor = actor
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "operator".into());
    let (w, task, read, secret) = writer(settings).await?;
    let core = crate::services::Core::new(read, w, crate::services::Policy::new(""), secret);
    let outcome = crate::services::erasure::erase_contact(
        &core,
        &address,
        &reason,
        &format!("cli:{actor}"),
        Some(&settings.kept_mail_dir()),
    )
    .await;
    let read = core.read.clone();
    drop(core);
    let _ = task.await;
    read.close().await;
    match outcome? {
        Erasure::NotFound => {
            println!("no contact has the address {}", address.masked());
            Ok(ExitCode::from(1))
        }
        Erasure::AlreadyErased { record } => {
            println!(
                "{} was erased already (ledger record {record})",
                address.masked()
            );
            Ok(ExitCode::SUCCESS)
        }
        Erasure::Erased {
            contact_id,
            records,
            evidence_removed,
            message_ids,
        } => {
            println!(
                "erased contact {contact_id}: erasure record(s) {}; {evidence_removed} evidence row(s) and {} email(s) removed; the address is on the suppression list",
                records
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                message_ids.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

struct ImportArgs<'a> {
    profile: &'a str,
    layout: Option<&'a str>,
    maps: &'a [String],
    source_confirmed: bool,
    dry_run: bool,
    errors_out: Option<&'a std::path::Path>,
}

async fn import(settings: &Settings, paths: &[std::path::PathBuf], a: ImportArgs<'_>) -> CliResult {
    use crate::services::import::{self, Options, SourceFile};
    let layout = match a.layout {
        None => None,
        Some(l) => Some(
            crate::domain::import::Layout::parse(l)
                .ok_or_else(|| format!("--layout {l:?}: wide or long"))?,
        ),
    };
    let mut maps = Vec::new();
    for m in a.maps {
        let (from, to) = m
            .split_once('=')
            .filter(|(f, t)| !f.trim().is_empty() && !t.trim().is_empty())
            .ok_or_else(|| format!("--map {m:?}: write NAME=TARGET"))?;
        maps.push((from.trim().to_owned(), to.trim().to_owned()));
    }
    let mut files = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string());
        files.push(SourceFile { name, bytes });
    }
    let options = Options {
        profile: a.profile.to_owned(),
        layout,
        maps,
        source_confirmed: a.source_confirmed,
    };
    let (w, task, read, secret) = writer(settings).await?;
    let mut policy = crate::services::Policy::new(settings.base_url.as_deref().unwrap_or(""));
    policy.kept_mail_dir = Some(settings.kept_mail_dir());
    let core = crate::services::Core::new(read, w, policy, secret);
    let mut files = Some(files);
    let outcome = async {
        let plan = match import::prepare(&core, files.as_deref().unwrap_or_default(), &options)
            .await?
        {
            Ok(p) => p,
            Err(e) => return Ok::<_, Box<dyn std::error::Error>>(Err(e.to_string())),
        };
        // The plan holds the text it reads: the files as read go.
        files.take();
        println!(
            "{}: {} layout, {} row(s) read, {} refused while reading (SHA-256 {})",
            plan.file_name,
            plan.layout.as_str(),
            plan.len(),
            plan.refused(),
            plan.sha256
        );
        let (counts, errors) = if a.dry_run {
            let (c, e) = import::dry_run(&core, &plan).await?;
            (c, e.into_iter().map(|e| (e.line as i64, e.column, e.why)).collect::<Vec<_>>())
        } else {
            let started = std::time::Instant::now();
            let mut told = 0;
            let (done, errors) = import::run(&core, &plan, "cli", |done, total| {
                // A line per 50,000 rows (batches vary in size) and one at the end.
                if total > 0 && (done == total || done / 50_000 > told) {
                    told = done / 50_000;
                    let secs = started.elapsed().as_secs_f64().max(0.001);
                    eprintln!("  {done}/{total} rows, {:.0} rows/s", done as f64 / secs);
                }
            })
            .await?;
            (
                done.counts,
                errors.into_iter().map(|e| (e.line, e.column, e.why)).collect(),
            )
        };
        let verb = if a.dry_run { "would be " } else { "" };
        println!(
            "{}{} contact(s) {verb}created, {} ledger record(s) {verb}written, {} row(s) unchanged, {} row(s) refused, {} opt-in(s) {verb}sent to double opt-in",
            if a.dry_run { "dry run, nothing written: " } else { "" },
            counts.contacts_created,
            counts.records_written,
            counts.rows_unchanged,
            counts.rows_refused,
            counts.opt_ins_asked
        );
        for (line, column, why) in errors.iter().take(20) {
            println!("  line {line}, {column}: {why}");
        }
        if errors.len() > 20 {
            println!("  … and {} more", errors.len() - 20);
        }
        if let Some(path) = a.errors_out {
            let mut w = csv::Writer::from_path(path)?;
            w.write_record(["line", "column", "why"])?;
            for (line, column, why) in &errors {
                w.write_record([
                    line.to_string(),
                    crate::domain::export::safe_cell(column).into_owned(),
                    crate::domain::export::safe_cell(why).into_owned(),
                ])?;
            }
            w.flush()?;
        }
        Ok(Ok(errors.is_empty()))
    }
    .await;
    let read = core.read.clone();
    drop(core);
    let _ = task.await;
    read.close().await;
    match outcome? {
        Err(why) => Err(why.into()),
        Ok(true) => Ok(ExitCode::SUCCESS),
        Ok(false) => Ok(ExitCode::from(1)),
    }
}

/// A command's writer: the writer, its task, the read connections and the secret.
type CliWriter = (
    crate::store::writer::Writer,
    tokio::task::JoinHandle<()>,
    crate::store::Reader,
    std::sync::Arc<[u8]>,
);

/// The writer on an existing database, for commands that write (through the one write path).
async fn writer(settings: &Settings) -> Result<CliWriter, Box<dyn std::error::Error>> {
    let db = open_existing(&settings.database_url).await?;
    writer_on(settings, db).await
}

/// The same on a database already open (a command that may create it opens it itself).
async fn writer_on(
    settings: &Settings,
    mut db: crate::store::Db,
) -> Result<CliWriter, Box<dyn std::error::Error>> {
    let secret: std::sync::Arc<[u8]> = settings.load_secret()?.into();
    super::check_keys(&mut db, &secret).await?;
    let (w, task) = crate::store::writer::Writer::spawn(
        db.write,
        db.write_options,
        secret.clone(),
        crate::store::Clock::system(),
    );
    Ok((w, task, db.read, secret))
}

async fn checkpoint(settings: &Settings) -> CliResult {
    let (w, task, read, secret) = writer(settings).await?;
    let signed = w
        .run(
            crate::store::proof::SignCheckpoint {
                secret,
                always: false,
            },
            crate::store::writer::Priority::Interactive,
        )
        .await?;
    let cp = match signed {
        Some(cp) => Some(cp),
        None => crate::store::proof::latest_checkpoint(&read).await?,
    };
    drop(w);
    let _ = task.await;
    read.close().await;
    let cp = cp.ok_or("no checkpoint could be signed")?;
    println!("{}", serde_json::to_string(&cp)?);
    Ok(ExitCode::SUCCESS)
}

async fn keys_rotate(settings: &Settings) -> CliResult {
    let secret = settings.load_secret()?;
    let mut db = open_existing(&settings.database_url).await?;
    super::check_keys(&mut db, &secret.clone().into()).await?;
    let id =
        crate::store::proof::rotate_signing_key(&mut db.write, &secret, rand::random()).await?;
    db.read.close().await;
    db.write.close().await?;
    println!("new key {id}: checkpoints are signed and evidence digested with it from now on (running instances take it up at their next checkpoint); earlier keys stay published and keep verifying");
    Ok(ExitCode::SUCCESS)
}

async fn keys_list(settings: &Settings) -> CliResult {
    let read = look_at(&settings.database_url).await?;
    let keys = crate::store::proof::public_keys(&read).await;
    read.close().await;
    println!(
        "{}",
        serde_json::to_string_pretty(&crate::domain::receipt::key_set(&keys?))?
    );
    Ok(ExitCode::SUCCESS)
}

/// `user create EMAIL --role ROLE`, the password from standard input. Creates the database
/// when there is none yet (the setup step may come before the first start).
async fn api_key_create(
    settings: &Settings,
    name: &str,
    scopes: &[String],
    profile: Option<&str>,
) -> CliResult {
    use crate::domain::apikey::{Scope, Scopes};
    let mut list = Vec::new();
    for s in scopes {
        list.push(
            Scope::parse(s)
                .ok_or_else(|| format!("--scope {s:?}: use decide, read, write or links"))?,
        );
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("give the key a name of up to 100 characters".into());
    }
    let db = crate::store::open(&settings.database_url, 1)
        .await
        .map_err(|e| {
            format!(
                "cannot open {}: {e}",
                crate::store::backend::shown_url(&settings.database_url)
            )
        })?;
    let (w, task, read, secret) = writer_on(settings, db).await?;
    let core = crate::services::Core::new(read, w, crate::services::Policy::new(""), secret);
    let result = async {
        let profile_id = match profile {
            None => None,
            Some(k) => Some(
                crate::store::catalog::profile_id_by_key(&core.read, k)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("--profile {k:?}: there is no such profile"))?,
            ),
        };
        let actor = crate::services::auth::Actor {
            user_id: None,
            name: format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "operator".into())
            ),
        };
        crate::services::api::create_key(
            &core,
            name.to_owned(),
            Scopes::new(list),
            profile_id,
            actor,
        )
        .await
        .map_err(|e| e.to_string())
    }
    .await;
    let read = core.read.clone();
    drop(core);
    let _ = task.await;
    read.close().await;
    let (_, whole) = result?;
    println!("{whole}");
    Ok(ExitCode::SUCCESS)
}

async fn user_create(settings: &Settings, email: &str, role: &str) -> CliResult {
    use crate::services::auth::CreateError;
    let role = crate::domain::auth::Role::parse(role)
        .ok_or_else(|| format!("--role {role:?}: use admin, staff or analyst"))?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']);
    let db = crate::store::open(&settings.database_url, 1)
        .await
        .map_err(|e| {
            format!(
                "cannot open {}: {e}",
                crate::store::backend::shown_url(&settings.database_url)
            )
        })?;
    let (w, task, read, secret) = writer_on(settings, db).await?;
    let core = crate::services::Core::new(read, w, crate::services::Policy::new(""), secret);
    let actor = crate::services::auth::Actor {
        user_id: None,
        name: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "operator".into())
        ),
    };
    let created = crate::services::auth::create_user(&core, email, role, password, actor).await;
    let read = core.read.clone();
    drop(core);
    let _ = task.await;
    read.close().await;
    match created {
        Ok(id) => {
            println!(
                "created user {id}: {} ({})",
                email.trim().to_lowercase(),
                role.as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(CreateError::Password(e)) => Err(format!("password: {e}").into()),
        Err(CreateError::BadEmail) => Err(format!("{email:?} is not an email address").into()),
        Err(CreateError::Exists) => {
            Err(format!("a user with the address {} exists already", email.trim()).into())
        }
        Err(CreateError::Service(e)) => Err(e.into()),
    }
}

/// `receipt verify FILE`: the signature against the given key set (offline) or the
/// database's keys; with the database, also whether what it records still stands.
async fn receipt_verify(
    settings: &Settings,
    file: &std::path::Path,
    keys: Option<&std::path::Path>,
    json: bool,
) -> CliResult {
    use crate::domain::receipt::{open, parse_key_set};
    use crate::services::receipt::Currency;
    let text = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let text = String::from_utf8_lossy(&text);
    let (public, read) = match keys {
        Some(k) => {
            let set = std::fs::read_to_string(k)
                .map_err(|e| format!("cannot read the key set {}: {e}", k.display()))?;
            let set = parse_key_set(&set)
                .map_err(|e| format!("{} is not a key set: {e}", k.display()))?;
            (set, None)
        }
        None => {
            let read = look_at(&settings.database_url).await?;
            let public = crate::store::proof::public_keys(&read).await;
            match public {
                Ok(p) => (p, Some(read)),
                Err(e) => {
                    read.close().await;
                    return Err(e.into());
                }
            }
        }
    };
    let opened = open(&text, &public);
    let currency = match (&opened, &read) {
        (Ok(o), Some(read)) => Some(crate::services::receipt::currency(read, &o.receipt).await),
        _ => None,
    };
    if let Some(read) = read {
        read.close().await;
    }
    let currency = currency.transpose()?;
    let opened = match opened {
        Ok(o) => o,
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"valid": false, "code": e.code(), "message": e.to_string()})
                );
            } else {
                println!("receipt INVALID: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "valid": true,
                "key_id": opened.key_id,
                "standing": currency.map(Currency::code),
                "current": currency.map(|c| c == Currency::Current),
                "receipt": opened.receipt,
            })
        );
    } else {
        let r = &opened.receipt;
        println!(
            "receipt OK: signed with key {} by {}; receipt {} of {} (recorded {})",
            opened.key_id,
            r.iss,
            r.consent_receipt_id,
            r.pii_principal_id,
            r.prefcenter.recorded_at
        );
        for c in &r.prefcenter.changes {
            println!(
                "  record {}: {}{} on {}: {} -> {}",
                c.seq,
                c.purpose,
                c.topic
                    .as_deref()
                    .map(|t| format!("/{t}"))
                    .unwrap_or_default(),
                c.channel,
                c.old_value,
                c.new_value
            );
        }
        println!(
            "{}",
            match currency {
                None => "current: not checked (offline, with the key set only)",
                Some(Currency::Current) => "current: yes, every state it records still stands",
                Some(Currency::Superseded) =>
                    "current: no, a later change replaced at least one state it records",
                Some(Currency::NotInLedger) =>
                    "current: the ledger does not hold the records it names as signed (changed ledger)",
            }
        );
    }
    // A valid receipt whose records the ledger lost is the ledger's problem, and says so.
    Ok(if currency == Some(Currency::NotInLedger) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

async fn mail_status(settings: &Settings) -> CliResult {
    let db = open_existing(&settings.database_url).await?;
    let (counts, rows) = crate::store::outbox::summary(&db.read).await?;
    if counts.is_empty() {
        println!("outbox: empty");
    }
    for (status, n) in &counts {
        println!("{status:<10} {n}");
    }
    for r in &rows {
        println!(
            "#{} {} {} attempts={} queued={} {} {}",
            r.id,
            r.kind,
            r.status,
            r.attempts,
            r.created_at,
            r.message_id,
            r.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn bench_seed(settings: &Settings, n: usize, out: &std::path::Path) -> CliResult {
    let mut db = crate::store::open(&settings.database_url, 1).await?;
    crate::services::demo::seed(&mut db.write).await?;
    let tokens =
        crate::services::demo::bench_contacts(&mut db.write, n, settings.link_ttl_days).await?;
    let mut text = tokens.join("\n");
    text.push('\n');
    std::fs::write(out, text)?;
    println!("added {n} contacts; tokens in {}", out.display());
    Ok(ExitCode::SUCCESS)
}
