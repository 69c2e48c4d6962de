//! Erasing a contact (GDPR Art. 17): the store's unit removes every piece of the contact's
//! personal data and records the erasure in the ledger; this removes what lives outside the
//! database (kept `.eml` files) and, on SQLite, checkpoints the WAL so no earlier copy of a
//! page with the address stays in it.

use super::consent::{new_change_id, Result, ServiceError};
use super::Core;
use crate::domain::ledger::Evidence;
use crate::domain::parse::EmailAddress;
use crate::domain::{ActorKind, Source};
use crate::store::erasure::{EraseContact, Erasure, Whom};
use crate::store::writer::{ChangeMeta, Priority};
use std::path::Path;

/// The longest reason an erasure keeps.
pub const MAX_REASON: usize = 2000;

/// A reason for an erasure: said, not empty, not too long.
pub fn parse_reason(text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ServiceError::BadInput("reason_required"));
    }
    if t.chars().count() > MAX_REASON {
        return Err(ServiceError::BadInput("reason_too_long"));
    }
    Ok(t.to_owned())
}

/// Erases the contact that owns `address`. `actor` names who asked (kept in the erasure
/// record, with the reason). `mail_dir`: where kept `.eml` files are, if any.
pub async fn erase_contact(
    core: &Core,
    address: &EmailAddress,
    reason: &str,
    actor: &str,
    mail_dir: Option<&Path>,
) -> Result<Erasure> {
    let whom = Whom::Address(address.as_str().to_owned());
    let unit = unit(core, whom, reason, (ActorKind::Staff, actor))?;
    let outcome = core.writer.run(unit, Priority::Interactive).await?;
    after(core, &outcome, mail_dir).await?;
    Ok(outcome)
}

/// The erasure unit for `whom`, by `actor` (who and their id), for `reason` (checked).
pub fn unit(
    core: &Core,
    whom: Whom,
    reason: &str,
    actor: (ActorKind, &str),
) -> Result<EraseContact> {
    let reason = parse_reason(reason)?;
    Ok(EraseContact {
        whom,
        meta: ChangeMeta {
            actor_kind: actor.0,
            actor_id: Some(actor.1.to_owned()),
            source: Source::System,
            change_id: new_change_id(),
            form_version: None,
            language: None,
            request_id: None,
            confirmation: None,
            evidence: Evidence {
                justification: Some(reason),
                ..Default::default()
            },
        },
        secret: core.secret.clone(),
    })
}

/// What an erasure does after its commit: the contact's kept `.eml` files go (from
/// `mail_dir`, where they are), and on SQLite the WAL is checkpointed into the file.
pub async fn after(core: &Core, outcome: &Erasure, mail_dir: Option<&Path>) -> Result<()> {
    if let Erasure::Erased { message_ids, .. } = outcome {
        if let Some(dir) = mail_dir {
            for id in message_ids {
                let (kept, tmp) = crate::mail::kept_files(dir, id);
                for f in [kept, tmp] {
                    match std::fs::remove_file(&f) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            tracing::warn!(file = %f.display(), error = %e, "could not remove a kept email of an erased contact")
                        }
                    }
                }
            }
        }
        core.writer.checkpoint_wal().await?;
    }
    Ok(())
}
