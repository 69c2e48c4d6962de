//! Preference form designs: a profile's draft and its published, immutable versions.

use super::audit::{self, Actor, Entry};
use super::backend::{on, read, Ts};
use super::writer::{Tx, Unit};
use super::{Reader, Result, StoreError};
use crate::domain::design::Design;
use futures_util::future::BoxFuture;

/// A published version.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: i64,
    pub design: Design,
    /// The purposes and topics it showed (JSON of `Vec<domain::design::ShownPurpose>`).
    pub items: String,
    pub published_at: String,
    pub published_by: String,
}

fn design(json: &str) -> Result<Design> {
    Design::from_json(json).ok_or_else(|| StoreError::Corrupt("a stored design".into()))
}

/// A profile's draft, if the designer saved one.
pub async fn draft(read: &Reader, profile_id: i64) -> Result<Option<(Design, String, String)>> {
    let row: Option<(String, Ts, String)> = read!(read, c => Ok(sqlx::query_as(
        "SELECT design, updated_at, updated_by FROM form_drafts WHERE profile_id = $1",
    )
    .bind(profile_id)
    .fetch_optional(&mut *c)
    .await?))?;
    row.map(|(d, at, by)| Ok((design(&d)?, at.0, by)))
        .transpose()
}

/// One published version of a profile.
pub async fn version(read: &Reader, profile_id: i64, version: i64) -> Result<Option<Published>> {
    let row: Option<(i64, String, String, Ts, String)> = read!(read, c => Ok(sqlx::query_as(
        "SELECT version, design, items, published_at, published_by FROM form_versions
         WHERE profile_id = $1 AND version = $2",
    )
    .bind(profile_id)
    .bind(version)
    .fetch_optional(&mut *c)
    .await?))?;
    row.map(|(version, d, items, at, by)| {
        Ok(Published {
            version,
            design: design(&d)?,
            items,
            published_at: at.0,
            published_by: by,
        })
    })
    .transpose()
}

/// Every published version of a profile, newest first: (version, when, by whom).
pub async fn versions(read: &Reader, profile_id: i64) -> Result<Vec<(i64, String, String)>> {
    let rows: Vec<(i64, Ts, String)> = read!(read, c => Ok(sqlx::query_as(
        "SELECT version, published_at, published_by FROM form_versions
         WHERE profile_id = $1 ORDER BY version DESC",
    )
    .bind(profile_id)
    .fetch_all(&mut *c)
    .await?))?;
    Ok(rows.into_iter().map(|(v, at, by)| (v, at.0, by)).collect())
}

/// Puts a profile's draft in place of the one it had.
async fn put_draft(tx: &mut Tx, profile_id: i64, json: &str, by: &str) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
            "INSERT INTO form_drafts (profile_id, design, updated_at, updated_by)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (profile_id) DO UPDATE SET design = excluded.design,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(profile_id)
        .bind(json)
        .bind(Ts::new(now))
        .bind(by)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// Saves the designer's draft (contacts see nothing of it).
pub struct SaveDraft {
    pub profile_id: i64,
    pub design: Design,
    pub actor: Actor,
}

impl Unit for SaveDraft {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let json = self.design.to_json();
            let (exists, before): (bool, Option<String>) = on!(tx.conn(), c => {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE id = $1")
                        .bind(self.profile_id)
                        .fetch_optional(&mut *c)
                        .await?;
                let before: Option<String> =
                    sqlx::query_scalar("SELECT design FROM form_drafts WHERE profile_id = $1")
                        .bind(self.profile_id)
                        .fetch_optional(&mut *c)
                        .await?;
                (exists.is_some(), before)
            });
            if !exists {
                return Ok(false);
            }
            if before.as_deref() == Some(json.as_str()) {
                return Ok(true);
            }
            put_draft(tx, self.profile_id, &json, &self.actor.name).await?;
            let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
            let entry = Entry {
                kind: "form.draft",
                subject: format!("profile {}", self.profile_id),
                before: before.as_deref().and_then(parse),
                after: parse(&json),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}

/// What publishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    Published(i64),
    /// There is no draft to publish.
    NoDraft,
    NotFound,
}

/// Publishes the draft as the next version: the pages show it from now on and every change
/// made on them names it. The version the pages showed until now is kept first if it was
/// never stored (a profile's first design, before the designer existed).
pub struct PublishDraft {
    pub profile_id: i64,
    /// What the draft shows (JSON of the shown purposes and topics), kept with the version.
    pub items: String,
    /// What the pages show until now, kept with the version they show if it was never stored.
    pub items_now: String,
    pub actor: Actor,
}

impl Unit for PublishDraft {
    type Output = Publish;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Publish>> {
        Box::pin(async move {
            let now = tx.now_str();
            let found: Option<(i64, String, Option<String>, Option<i64>)> = on!(tx.conn(), c => sqlx::query_as(
                "SELECT p.form_version, p.brand_primary, d.design,
                        (SELECT version FROM form_versions v
                         WHERE v.profile_id = p.id AND v.version = p.form_version)
                 FROM compliance_profiles p LEFT JOIN form_drafts d ON d.profile_id = p.id
                 WHERE p.id = $1",
            )
            .bind(self.profile_id)
            .fetch_optional(&mut *c)
            .await?);
            let Some((current, primary, draft, stored)) = found else {
                return Ok(Publish::NotFound);
            };
            let Some(draft) = draft else {
                return Ok(Publish::NoDraft);
            };
            let next = current + 1;
            let design_now = design(&draft)?;
            let insert = "INSERT INTO form_versions
                     (profile_id, version, design, items, published_at, published_by)
                 VALUES ($1, $2, $3, $4, $5, $6)";
            on!(tx.conn(), c => {
                if stored.is_none() {
                    sqlx::query(insert)
                        .bind(self.profile_id)
                        .bind(current)
                        .bind(Design::initial(&primary).to_json())
                        .bind(&self.items_now)
                        .bind(Ts::new(&*now))
                        .bind("(before the designer)")
                        .execute(&mut *c)
                        .await?;
                }
                sqlx::query(insert)
                    .bind(self.profile_id)
                    .bind(next)
                    .bind(&draft)
                    .bind(&self.items)
                    .bind(Ts::new(&*now))
                    .bind(&self.actor.name)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "UPDATE compliance_profiles SET form_version = $1, brand_primary = $2,
                         catalog_version = catalog_version + 1 WHERE id = $3",
                )
                .bind(next)
                .bind(design_now.primary.as_str())
                .bind(self.profile_id)
                .execute(&mut *c)
                .await?;
            });
            let entry = Entry {
                kind: "form.publish",
                subject: format!("profile {}", self.profile_id),
                before: Some(serde_json::json!({ "version": current })),
                after: Some(serde_json::json!({ "version": next })),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(Publish::Published(next))
        })
    }
}

/// A logo's type and bytes.
pub async fn logo(read: &Reader, sha256: &str) -> Result<Option<(String, Vec<u8>)>> {
    read!(read, c => Ok(sqlx::query_as(
        "SELECT mime, bytes FROM form_logos WHERE sha256 = $1",
    )
    .bind(sha256)
    .fetch_optional(&mut *c)
    .await?))
}

/// Puts a logo (checked already) into the draft, or takes it out (`logo` `None`); the draft
/// starts from the published design when there is none yet.
pub struct SetLogo {
    pub profile_id: i64,
    pub logo: Option<(crate::domain::design::Logo, Vec<u8>)>,
    pub actor: Actor,
}

impl Unit for SetLogo {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            let found: Option<(String, Option<String>, Option<String>)> = on!(tx.conn(), c => sqlx::query_as(
                "SELECT p.brand_primary, d.design,
                        (SELECT v.design FROM form_versions v
                         WHERE v.profile_id = p.id AND v.version = p.form_version)
                 FROM compliance_profiles p LEFT JOIN form_drafts d ON d.profile_id = p.id
                 WHERE p.id = $1",
            )
            .bind(self.profile_id)
            .fetch_optional(&mut *c)
            .await?);
            let Some((primary, draft, published)) = found else {
                return Ok(false);
            };
            let mut d = match draft.or(published) {
                Some(json) => design(&json)?,
                None => Design::initial(&primary),
            };
            let before = d.logo.clone();
            d.logo = self.logo.as_ref().map(|(l, _)| l.clone());
            if let Some((l, bytes)) = &self.logo {
                on!(tx.conn(), c => {
                    sqlx::query(
                        "INSERT INTO form_logos (sha256, mime, bytes, width, height, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
                    )
                    .bind(&l.sha256)
                    .bind(&l.mime)
                    .bind(bytes)
                    .bind(i64::from(l.width))
                    .bind(i64::from(l.height))
                    .bind(Ts::new(&*now))
                    .execute(&mut *c)
                    .await?;
                });
            }
            put_draft(tx, self.profile_id, &d.to_json(), &self.actor.name).await?;
            let entry = Entry {
                kind: "form.logo",
                subject: format!("profile {}", self.profile_id),
                before: before.map(|l| serde_json::json!(l)),
                after: d.logo.as_ref().map(|l| serde_json::json!(l)),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}
