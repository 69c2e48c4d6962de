//! Start-up and commands: `serve` (default), `migrate`, `ledger verify`, `mail status`,
//! `bench-seed`.

use super::config::{Cli, Command, LedgerCommand, MailCommand, Settings};
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
            command: LedgerCommand::Verify,
        }) => verify(&cli.settings).await,
        Some(Command::Mail {
            command: MailCommand::Status,
        }) => mail_status(&cli.settings).await,
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
                settings
                    .mail_dir
                    .clone()
                    .unwrap_or_else(|| settings.data_dir.join("mail"))
                    .display()
            );
        } else {
            println!();
        }
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
    let report = crate::store::ledger::verify(&target.read, &secret).await?;
    source.read.close().await;
    target.read.close().await;
    source.write.close().await?;
    target.write.close().await?;
    if report.ok() {
        println!(
            "copied {} to {}; ledger OK there: {} records, chain head {}",
            shown_url(from),
            shown_url(to),
            report.records,
            report
                .head
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "copied, but the ledger does not verify there with this secret: {:?} {:?}",
            report.chain_error,
            report.state_mismatches.first()
        );
        Ok(ExitCode::from(1))
    }
}

async fn verify(settings: &Settings) -> CliResult {
    let secret = settings.load_secret()?;
    let db = open_existing(&settings.database_url).await?;
    let report = crate::store::ledger::verify(&db.read, &secret).await?;
    let head: String = report.head.iter().map(|b| format!("{b:02x}")).collect();
    if report.ok() {
        println!(
            "ledger OK: {} records, chain head {head}; current state equals a replay of the ledger",
            report.records
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(e) = &report.chain_error {
        println!(
            "ledger BROKEN: {e} ({} records verified before it)",
            report.records
        );
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
