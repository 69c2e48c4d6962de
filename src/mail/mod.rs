//! Outgoing mail: building messages (`compose`) and handing them to an SMTP server, or, when
//! none is configured, keeping each one readable as an `.eml` file in the data folder. Nothing
//! here knows the outbox; the delivery worker in `services::delivery` drives it.

pub mod compose;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refuses a server without it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (a relay on the same host, or tests).
    None,
}

/// SMTP settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    pub timeout: Duration,
}

/// Where messages go.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP server configured: each message becomes `<dir>/<id>.eml`.
    Files {
        dir: PathBuf,
    },
}

/// Why a message was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth another try later: a 4xx reply, a refused or dropped connection, a timeout.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server refused it for good (5xx), or it cannot be built.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Where a message went.
#[derive(Debug, Clone)]
pub enum Delivered {
    Smtp,
    File(PathBuf),
}

/// Where the `.eml` mode keeps a message (and the temporary file it is written to first):
/// named by its Message-ID, so a resend replaces it and an erasure finds it.
pub fn kept_files(dir: &std::path::Path, message_id: &str) -> (PathBuf, PathBuf) {
    let name: String = message_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    (
        dir.join(format!("{name}.eml")),
        dir.join(format!(".{name}.tmp")),
    )
}

impl Transport {
    pub fn smtp(s: &SmtpSettings) -> Result<Transport, String> {
        let builder = match s.security {
            Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| format!("SMTP host {}: {e}", s.host))?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| format!("SMTP host {}: {e}", s.host))?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        };
        let mut builder = builder.port(s.port).timeout(Some(s.timeout));
        if let Some((user, pass)) = &s.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    pub fn files(dir: PathBuf) -> Transport {
        Transport::Files { dir }
    }

    /// Sends one message. `message_id` names the file in the `.eml` mode, so a resend of the
    /// same message replaces its file instead of adding a second.
    pub async fn send(&self, message: &Message, message_id: &str) -> Result<Delivered, SendError> {
        match self {
            Transport::Smtp(t) => match t.send(message.clone()).await {
                Ok(_) => Ok(Delivered::Smtp),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                // 4xx, timeouts, refused or dropped connections, TLS trouble: try again later.
                Err(e) => Err(SendError::Transient(e.to_string())),
            },
            Transport::Files { dir } => {
                let (path, tmp) = kept_files(dir, message_id);
                let bytes = message.formatted();
                let write = async {
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::write(&tmp, &bytes).await?;
                    tokio::fs::rename(&tmp, &path).await
                };
                write.await.map_err(|e| {
                    SendError::Transient(format!("writing {}: {e}", path.display()))
                })?;
                Ok(Delivered::File(path))
            }
        }
    }
}
