//! Settings: one typed struct, from flags, then environment, then defaults. `--help` explains
//! every one.

use crate::services::IpEvidence;
use clap::{ArgAction, Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "prefcenter",
    version,
    about = "Self-hosted email preference center: unsubscribe pages, subscription center, RFC 8058 one-click, consent ledger.",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the pages and endpoints (the default when no command is given).
    Serve,
    /// Copy a whole deployment into a new, empty database (SQLite to PostgreSQL or back),
    /// then verify the ledger there. Stop the instances writing to the source first.
    Copy {
        /// The database to copy from (its URL).
        #[arg(long)]
        from: String,
        /// The new, empty database to copy into; migrated first.
        #[arg(long)]
        to: String,
    },
    /// Apply the database migrations this build has and exit (for deployments that migrate
    /// before rolling out new instances; `serve` migrates too).
    Migrate,
    /// Consent ledger tools.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// The deployment's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Outgoing mail tools.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Contacts: data rights.
    Contact {
        #[command(subcommand)]
        command: ContactCommand,
    },
    /// Console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API keys of sending systems (the console's API keys page does the same).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Consent receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Imports consent from CSV files (the console's import does the same): wide (a column per
    /// topic; several files merge on the email address or phone number) or long (a row per
    /// contact and option). Stopped half-way, the same command resumes from its last committed
    /// batch; run again, it changes nothing. Exits 1 when rows were refused (listed).
    Import {
        /// The CSV file(s): UTF-8 (with or without a byte-order mark) or Latin-1; the
        /// delimiter is detected.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The compliance profile's key (its topics are what columns map to).
        #[arg(long)]
        profile: String,
        /// wide or long (guessed from the header when not given).
        #[arg(long)]
        layout: Option<String>,
        /// COLUMN=TOPIC (a topic's or purpose's key or name), COLUMN=email|phone|consent_id|
        /// option|value|consent_date|level|locale|child|ignore, or a long file's OPTION=TOPIC.
        #[arg(long = "map", value_name = "NAME=TARGET")]
        maps: Vec<String>,
        /// The source confirmed its opt-ins by double opt-in: record them as given (else each
        /// imported opt-in is sent a confirmation email and waits for it).
        #[arg(long)]
        source_confirmed: bool,
        /// Read and check everything, count what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the refused rows (line, column, why) to this CSV file.
        #[arg(long)]
        errors_out: Option<PathBuf>,
    },
    /// Benchmark helper: adds N contacts with links to the demo profile and writes their link
    /// tokens, one per line, to a file.
    BenchSeed {
        /// How many contacts to add.
        #[arg(long, default_value_t = 100_000)]
        contacts: usize,
        /// Where to write the tokens.
        #[arg(long)]
        tokens_out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a console user (the setup step: there is no default account). The password is
    /// read from standard input (one line): 12 to 128 characters, not a common one.
    Create {
        /// Their email address (they sign in with it).
        email: String,
        /// admin, staff or analyst.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Makes a key and prints it (once: only its hash is kept), for scripted deployments.
    Create {
        /// What it is for, e.g. "Newsletter ESP".
        name: String,
        /// decide, read, write or links; repeat for more.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Restrict it to the profile with this key.
        #[arg(long)]
        profile: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Checks a consent receipt (the .jws file a contact downloaded): its signature, and the
    /// key that made it. With --keys (the key set /.well-known/prefcenter/keys serves, saved
    /// to a file) it needs nothing else; without, it reads the database's keys and also says
    /// whether what the receipt records still stands. Exits 1 when the receipt is not valid,
    /// 2 when it is valid but the ledger no longer holds its records as signed.
    Verify {
        /// The receipt file.
        file: PathBuf,
        /// A key set file: check offline, with only the public keys.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// The outcome as JSON (for machines).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Erases a contact (GDPR Art. 17) in one unit of work: its addresses, language and
    /// personal evidence leave every table and kept email; an erasure record (who, when, why)
    /// joins the ledger; a keyed hash of each address goes on the suppression list, so a later
    /// sign-up with it sends and records nothing; its links stop working.
    Erase {
        /// The contact's email address.
        email: String,
        /// Why (kept in the erasure record): e.g. "Erasure request by email, ticket 4411".
        #[arg(long)]
        reason: String,
        /// Who erases (kept in the erasure record). Default: the system user running this.
        #[arg(long)]
        actor: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Shows how many emails are queued, sent, dead and cancelled, and the dead and waiting
    /// ones with their last error.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Checks, read-only and in one snapshot (safe beside running servers): the hash chain of
    /// every record, each record's old value, that the current state equals a replay of the
    /// ledger, the signing keys, and every stored checkpoint. Exits non-zero on any failure,
    /// naming the first bad record and why.
    Verify {
        /// A checkpoint kept outside the database (`prefcenter ledger checkpoint` printed
        /// it): the ledger must still hold the head it vouches for, unchanged.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// The report as JSON (for machines).
        #[arg(long)]
        json: bool,
    },
    /// Prints a signed checkpoint of the ledger head as JSON, to keep outside the database
    /// (the latest stored one when the ledger has not grown since; else one signed now).
    Checkpoint,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Starts a new key for signatures and evidence digests; each names its key, and earlier
    /// keys stay published, so everything made before keeps verifying. Running instances take
    /// it up at their next checkpoint.
    Rotate,
    /// Prints the published public keys as JSON (what /.well-known/prefcenter/keys serves).
    List,
}

/// A secret whose `Debug` shows nothing.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            Err("must not be empty".into())
        } else {
            Ok(Secret(s.to_owned()))
        }
    }
}

/// The deployment secret: at least 32 characters.
#[derive(Clone)]
pub struct DeploymentSecret(pub String);

impl std::fmt::Debug for DeploymentSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeploymentSecret(…)")
    }
}

impl std::str::FromStr for DeploymentSecret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < 32 {
            Err("the secret must be at least 32 characters".into())
        } else {
            Ok(DeploymentSecret(s.to_owned()))
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "PREFCENTER_LISTEN",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database URL: sqlite://path/to/file.db (the embedded default; the file is created if
    /// missing) or postgres://user:password@host:port/database (several instances share it).
    #[arg(
        long,
        env = "PREFCENTER_DATABASE_URL",
        default_value = "sqlite://data/prefcenter.db",
        global = true
    )]
    pub database_url: String,

    /// Public origin used in links (e.g. https://prefs.example.com). Default: http://<listen>.
    #[arg(long, env = "PREFCENTER_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Folder for the generated secret and other local state.
    #[arg(
        long,
        env = "PREFCENTER_DATA_DIR",
        default_value = "data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Key for the keyed hashes that protect the ledger's personal evidence (32+ characters).
    /// Default: generated on first run and kept in <data-dir>/secret.
    #[arg(long, env = "PREFCENTER_SECRET", hide_env_values = true, global = true)]
    pub secret: Option<DeploymentSecret>,

    /// Create the demo organization (Contoso) on an empty database and print each demo
    /// contact's link.
    #[arg(long, env = "PREFCENTER_DEMO", global = true)]
    pub demo: bool,

    /// How many days a newly issued unsubscribe link works.
    #[arg(
        long,
        env = "PREFCENTER_LINK_TTL_DAYS",
        default_value_t = 400,
        global = true
    )]
    pub link_ttl_days: i64,

    /// How much of the contact's IP address a consent record keeps as evidence.
    #[arg(
        long,
        env = "PREFCENTER_IP_EVIDENCE",
        value_enum,
        default_value = "truncated",
        global = true
    )]
    pub ip_evidence: IpEvidence,

    /// Whether a consent record keeps the browser's user agent as evidence.
    #[arg(long, env = "PREFCENTER_KEEP_USER_AGENT", default_value_t = true, action = ArgAction::Set, global = true)]
    pub keep_user_agent: bool,

    /// Take the client address from X-Forwarded-For (only behind a reverse proxy you run).
    #[arg(long, env = "PREFCENTER_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,

    /// Read connections: SQLite's read-only connections, or the size of the PostgreSQL pool
    /// (pages and lookups share them; each instance also holds one writing connection).
    #[arg(
        long,
        env = "PREFCENTER_READ_CONNECTIONS",
        default_value_t = 4,
        global = true
    )]
    pub read_connections: u32,

    /// SMTP server for outgoing mail. Without one, every email is kept as an `.eml` file in
    /// <data-dir>/mail (nothing is lost; the log says where).
    #[arg(long, env = "PREFCENTER_SMTP_HOST", global = true)]
    pub smtp_host: Option<String>,

    /// SMTP port. Default: 587 for starttls, 465 for tls, 25 for none.
    #[arg(long, env = "PREFCENTER_SMTP_PORT", global = true)]
    pub smtp_port: Option<u16>,

    /// How the SMTP connection is protected.
    #[arg(
        long,
        env = "PREFCENTER_SMTP_SECURITY",
        value_enum,
        default_value = "starttls",
        global = true
    )]
    pub smtp_security: crate::mail::Security,

    /// SMTP user name (with --smtp-password).
    #[arg(long, env = "PREFCENTER_SMTP_USERNAME", global = true)]
    pub smtp_username: Option<String>,

    /// SMTP password.
    #[arg(
        long,
        env = "PREFCENTER_SMTP_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub smtp_password: Option<Secret>,

    /// Seconds to wait for the SMTP server before a send counts as failed (and is retried).
    #[arg(
        long,
        env = "PREFCENTER_SMTP_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub smtp_timeout_secs: u64,

    /// Sender address for profiles that have none of their own.
    #[arg(
        long,
        env = "PREFCENTER_MAIL_FROM",
        default_value = "prefcenter@localhost",
        global = true
    )]
    pub mail_from: String,

    /// A folder of `<lang>.ftl` files (Project Fluent) whose messages replace the built-in
    /// texts of that language (en, de, fr, ar): a deployment's own wording without a rebuild.
    #[arg(long, env = "PREFCENTER_TRANSLATIONS_DIR", global = true)]
    pub translations_dir: Option<PathBuf>,

    /// Where emails are kept when no SMTP server is configured. Default: <data-dir>/mail.
    #[arg(long, env = "PREFCENTER_MAIL_DIR", global = true)]
    pub mail_dir: Option<PathBuf>,

    /// Tries before an email is given up as dead.
    #[arg(
        long,
        env = "PREFCENTER_MAIL_MAX_ATTEMPTS",
        default_value_t = 8,
        global = true
    )]
    pub mail_max_attempts: u32,

    /// Milliseconds before the first retry of a failed email; doubles each time (with jitter),
    /// up to an hour.
    #[arg(
        long,
        env = "PREFCENTER_MAIL_RETRY_BASE_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub mail_retry_base_ms: u64,

    /// Milliseconds an email being sent is reserved for one worker; after a crash it is sent
    /// again once this runs out.
    #[arg(
        long,
        env = "PREFCENTER_MAIL_LEASE_MS",
        default_value_t = 120_000,
        global = true
    )]
    pub mail_lease_ms: u64,

    /// Milliseconds between looks at the outbox and the double opt-in schedule when nothing
    /// wakes the workers.
    #[arg(
        long,
        env = "PREFCENTER_POLL_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub poll_ms: u64,

    /// Seconds between signed checkpoints of the ledger head (one is signed only when the
    /// ledger has grown; another at shutdown).
    #[arg(
        long,
        env = "PREFCENTER_CHECKPOINT_SECS",
        default_value_t = 300,
        global = true
    )]
    pub checkpoint_secs: u64,

    /// A file outside the data folder to which every signed checkpoint is appended, one JSON
    /// object per line (keep it where whoever can change the database cannot).
    #[arg(long, env = "PREFCENTER_CHECKPOINT_FILE", global = true)]
    pub checkpoint_file: Option<PathBuf>,

    /// Hours a double opt-in link works; the request expires with it.
    #[arg(
        long,
        env = "PREFCENTER_CONFIRM_TTL_HOURS",
        default_value_t = 168,
        global = true
    )]
    pub confirm_ttl_hours: u64,

    /// Seconds within which an address gets at most one confirmation email.
    #[arg(
        long,
        env = "PREFCENTER_SIGNUP_COOLDOWN_SECS",
        default_value_t = 180,
        global = true
    )]
    pub signup_cooldown_secs: u64,

    /// Hours after which an unconfirmed opt-in gets its one reminder (0: none).
    #[arg(
        long,
        env = "PREFCENTER_REMINDER_AFTER_HOURS",
        default_value_t = 48,
        global = true
    )]
    pub reminder_after_hours: u64,

    /// Hours the undo of a page action is offered.
    #[arg(
        long,
        env = "PREFCENTER_UNDO_WINDOW_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub undo_window_hours: u64,

    /// Days within which a contact's data request must be fulfilled (GDPR Art. 12(3): one
    /// month); the desk flags the open ones past it.
    #[arg(
        long,
        env = "PREFCENTER_DATA_REQUEST_DAYS",
        default_value_t = crate::domain::rights::DEFAULT_DEADLINE_DAYS,
        global = true
    )]
    pub data_request_days: u32,

    /// API calls per key per second (on each instance); more are answered 429 with Retry-After.
    #[arg(
        long,
        env = "PREFCENTER_API_RATE_PER_SECOND",
        default_value_t = 1000,
        global = true
    )]
    pub api_rate_per_second: u32,

    /// Let webhook endpoints be on loopback, private or link-local addresses (a receiver on
    /// this machine or network). Off: such an endpoint is refused when registered, and when a
    /// delivery's address resolves to one (DNS rebinding).
    #[arg(long, env = "PREFCENTER_WEBHOOKS_ALLOW_PRIVATE", global = true)]
    pub webhooks_allow_private: bool,

    /// Tries of a webhook delivery before it is marked failed (retried with backoff: 30 s
    /// doubling to an hour, about two days in all at the default).
    #[arg(
        long,
        env = "PREFCENTER_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 12,
        global = true
    )]
    pub webhook_max_attempts: u32,

    /// Milliseconds before the first retry of a failed webhook delivery; doubles each time
    /// (with jitter), up to an hour.
    #[arg(
        long,
        env = "PREFCENTER_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub webhook_retry_base_ms: u64,

    /// Sign-up form posts per client address per minute.
    #[arg(
        long,
        env = "PREFCENTER_SIGNUP_RATE_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub signup_rate_per_minute: u32,

    /// Benchmark only: serve POST /_bench/bulk, which writes a bulk unit through the writer.
    #[arg(long, env = "PREFCENTER_BENCH_ENDPOINTS", hide = true, global = true)]
    pub bench_endpoints: bool,

    /// Where cargo-leptos put the site (browser bundle and assets).
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: String,
}

impl Settings {
    /// The SMTP settings, if a server is configured.
    pub fn smtp(&self) -> Option<crate::mail::SmtpSettings> {
        use crate::mail::Security;
        let host = self.smtp_host.clone().filter(|h| !h.trim().is_empty())?;
        Some(crate::mail::SmtpSettings {
            port: self.smtp_port.unwrap_or(match self.smtp_security {
                Security::Starttls => 587,
                Security::Tls => 465,
                Security::None => 25,
            }),
            host,
            security: self.smtp_security,
            credentials: self.smtp_username.clone().map(|u| {
                (
                    u,
                    self.smtp_password.clone().map(|p| p.0).unwrap_or_default(),
                )
            }),
            timeout: std::time::Duration::from_secs(self.smtp_timeout_secs.max(1)),
        })
    }

    /// Reads the secret, or generates and keeps one in the data folder on first run.
    /// Where emails are kept as `.eml` files when no SMTP server is configured.
    pub fn kept_mail_dir(&self) -> PathBuf {
        self.mail_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mail"))
    }

    pub fn load_secret(&self) -> std::io::Result<Vec<u8>> {
        if let Some(s) = &self.secret {
            return Ok(s.0.as_bytes().to_vec());
        }
        let path = self.data_dir.join("secret");
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => Ok(s.trim().as_bytes().to_vec()),
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is too short; remove it to generate a new one",
                    path.display()
                ),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.data_dir)?;
                let bytes: [u8; 32] = crate::services::random_bytes();
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                write_private(&path, &hex)?;
                Ok(hex.into_bytes())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}
