//! What lets anyone check the ledger: the published public keys and the signed checkpoints
//! of the ledger head (at an interval, at shutdown, and on demand).

use super::consent::Result;
use super::Core;
use crate::domain::proof::{Checkpoint, PublicKey};
use crate::store::proof::{self, SignCheckpoint};
use crate::store::writer::Priority;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Every signing key the deployment has used, oldest first.
pub async fn public_keys(core: &Core) -> Result<Vec<PublicKey>> {
    Ok(proof::public_keys(&core.read).await?)
}

/// Signs a checkpoint of the ledger head through the writer (under the ledger lock, so the
/// checkpoints of every instance form one sequence). `None` when the head is the one the
/// latest checkpoint already names, unless `always`.
pub async fn sign_checkpoint(core: &Core, always: bool) -> Result<Option<Checkpoint>> {
    Ok(core
        .writer
        .run(
            SignCheckpoint {
                secret: core.secret.clone(),
                always,
            },
            Priority::Bulk,
        )
        .await?)
}

/// Appends a checkpoint to the operator's file, one JSON object per line.
fn append_to(file: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    let mut line = serde_json::to_string(cp).map_err(std::io::Error::other)?;
    line.push('\n');
    f.write_all(line.as_bytes())?;
    f.sync_data()
}

/// Signs one checkpoint when the ledger has grown, and keeps it in the file if one is set.
pub async fn checkpoint_once(core: &Core, file: Option<&PathBuf>) -> Result<Option<Checkpoint>> {
    let cp = sign_checkpoint(core, false).await?;
    if let (Some(cp), Some(file)) = (&cp, file) {
        if let Err(e) = append_to(file, cp) {
            tracing::warn!(file = %file.display(), error = %e, "could not append the checkpoint to the file");
        }
    }
    if let Some(cp) = &cp {
        tracing::info!(seq = cp.seq, key = %cp.key_id, "signed a ledger checkpoint");
    }
    Ok(cp)
}

/// Signs a checkpoint every `every` until `stop` fires, then one last one (the shutdown's).
pub async fn run_checkpoints(
    core: std::sync::Arc<Core>,
    every: std::time::Duration,
    file: Option<PathBuf>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = stop.changed() => true,
        };
        if let Err(e) = checkpoint_once(&core, file.as_ref()).await {
            tracing::warn!(error = %e, "signing a ledger checkpoint failed; will retry");
        }
        if stopping || *stop.borrow() {
            return;
        }
    }
}
