//! The compliance setup's changes, made in the console: profiles, purposes and topics created,
//! edited, moved and retired. Each is one unit through the writer that also raises the
//! profile's catalogue version (every instance's cache notices), adds a definition version
//! when something a decision rests on changed, and writes the audit entry with before and
//! after. Nothing is ever deleted: consent was recorded against it.

use super::audit::{self, Actor, Entry};
use super::backend::{on, DbRow, Ts};
use super::catalog::{PURPOSE_VERSION, TOPIC_VERSION};
use super::writer::{Tx, Unit};
use super::Result;
use crate::domain::setup::{ProfileFields, PurposeFields, TopicFields, Translation};
use crate::domain::Channel;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Created or changed: the id.
    Done(i64),
    /// Another one in the same place has this key.
    KeyTaken,
    NotFound,
}

/// A purpose or a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Purpose(i64),
    Topic(i64),
}

impl Item {
    fn kind(self) -> &'static str {
        match self {
            Item::Purpose(_) => "purpose",
            Item::Topic(_) => "topic",
        }
    }
}

/// The audit entry of a save: `kinds` are the (create, edit) kinds; a save with nothing
/// before is a creation.
async fn record_save(
    tx: &mut Tx,
    actor: &Actor,
    kinds: (&'static str, &'static str),
    subject: String,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let entry = Entry {
        kind: if before.is_none() { kinds.0 } else { kinds.1 },
        subject,
        before,
        after,
    };
    audit::record(tx, actor, entry).await
}

async fn bump(tx: &mut Tx, profile_id: i64) -> Result<()> {
    on!(tx.conn(), c => {
        sqlx::query(
            "UPDATE compliance_profiles SET catalog_version = catalog_version + 1 WHERE id = $1",
        )
        .bind(profile_id)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// The profile a purpose or topic belongs to.
pub async fn profile_of(tx: &mut Tx, item: Item) -> Result<Option<i64>> {
    Ok(on!(tx.conn(), c => match item {
        Item::Purpose(id) => sqlx::query_scalar("SELECT profile_id FROM purposes WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?,
        Item::Topic(id) => sqlx::query_scalar(
            "SELECT p.profile_id FROM topics t JOIN purposes p ON p.id = t.purpose_id WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?,
    }))
}

const PROFILE_COLUMNS: &str = "key, name, sender_name, sender_address, reply_to, footer_address,
    legal_footer, privacy_url, default_locale, jurisdiction, doi_confirm_hours, doi_reminder_hours,
    trust_api_confirmation, trust_staff_opt_ins";

/// A profile's settings as the audit log keeps them.
async fn profile_json(tx: &mut Tx, id: i64) -> Result<Option<Value>> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM compliance_profiles WHERE id = $1");
    on!(tx.conn(), c => {
        let Some(r) = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await? else {
            return Ok(None);
        };
        let mut m = serde_json::Map::new();
        for name in PROFILE_COLUMNS.split(',').map(str::trim) {
            let v: Value = if name.starts_with("trust_") {
                Value::from(r.col::<bool>(name)?)
            } else if name.starts_with("doi_") {
                r.col::<Option<i64>>(name)?.map(Value::from).unwrap_or(Value::Null)
            } else {
                r.col::<Option<String>>(name)?.map(Value::from).unwrap_or(Value::Null)
            };
            m.insert(name.to_owned(), v);
        }
        Ok(Some(Value::Object(m)))
    })
}

/// Creates a profile (`id` `None`) or changes one (its key stays: sign-up forms name it).
pub struct SaveProfile {
    pub id: Option<i64>,
    pub fields: ProfileFields,
    pub actor: Actor,
}

impl Unit for SaveProfile {
    type Output = Saved;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Saved>> {
        Box::pin(async move {
            let f = &self.fields;
            let now = tx.now_str();
            let (id, before) = match self.id {
                None => {
                    let id: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                        "INSERT INTO compliance_profiles (key, name, footer_address, created_at)
                         VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING id",
                    )
                    .bind(&f.key)
                    .bind(&f.name)
                    .bind(&f.footer_address)
                    .bind(Ts::new(&*now))
                    .fetch_optional(&mut *c)
                    .await?);
                    match id {
                        Some(id) => (id, None),
                        None => return Ok(Saved::KeyTaken),
                    }
                }
                Some(id) => match profile_json(tx, id).await? {
                    Some(before) => {
                        // A profile made before its words were versioned (or by the demo)
                        // keeps the words it had from its creation on.
                        on!(tx.conn(), c => {
                            sqlx::query(
                                "INSERT INTO profile_versions
                                     (profile_id, effective_at, name, footer_address,
                                      legal_footer, privacy_url)
                                 SELECT id, created_at, name, footer_address, legal_footer,
                                        privacy_url
                                 FROM compliance_profiles WHERE id = $1
                                 ON CONFLICT (profile_id, effective_at) DO NOTHING",
                            )
                            .bind(id)
                            .execute(&mut *c)
                            .await?;
                        });
                        (id, Some(before))
                    }
                    None => return Ok(Saved::NotFound),
                },
            };
            on!(tx.conn(), c => {
                sqlx::query(
                    "UPDATE compliance_profiles SET name = $1, sender_name = $2,
                         sender_address = $3, reply_to = $4, footer_address = $5,
                         legal_footer = $6, privacy_url = $7, default_locale = $8,
                         jurisdiction = $9, doi_confirm_hours = $10, doi_reminder_hours = $11,
                         trust_api_confirmation = $13, trust_staff_opt_ins = $14
                     WHERE id = $12",
                )
                .bind(&f.name)
                .bind(&f.sender_name)
                .bind(&f.sender_address)
                .bind(&f.reply_to)
                .bind(&f.footer_address)
                .bind(&f.legal_footer)
                .bind(&f.privacy_url)
                .bind(f.default_locale.code())
                .bind(&f.jurisdiction)
                .bind(f.confirm_hours)
                .bind(f.reminder_hours)
                .bind(id)
                .bind(f.trust_api_confirmation)
                .bind(f.trust_staff_opt_ins)
                .execute(&mut *c)
                .await?;
            });
            let after = profile_json(tx, id).await?;
            if before.is_some() && before == after {
                return Ok(Saved::Done(id));
            }
            on!(tx.conn(), c => {
                sqlx::query(super::catalog::PROFILE_VERSION)
                    .bind(id)
                    .bind(Ts::new(&*now))
                    .execute(&mut *c)
                    .await?;
            });
            bump(tx, id).await?;
            let kinds = ("profile.create", "profile.edit");
            let subject = format!("profile {id} {}", f.key);
            record_save(tx, &self.actor, kinds, subject, before, after).await?;
            Ok(Saved::Done(id))
        })
    }
}

/// A purpose as the audit log keeps it, and the part of it a decision rests on.
async fn purpose_json(tx: &mut Tx, id: i64) -> Result<Option<(Value, Value)>> {
    on!(tx.conn(), c => {
        let Some(r) = sqlx::query(
            "SELECT key, name, description, enforcement, channels, mandatory, min_consent_level,
                    retired_at IS NOT NULL AS retired
             FROM purposes WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        let rules = json!({
            "enforcement": r.col::<String>("enforcement")?,
            "channels": r.col::<String>("channels")?,
            "mandatory": r.col::<bool>("mandatory")?,
            "min_consent_level": r.col::<i64>("min_consent_level")?,
            "retired": r.col::<bool>("retired")?,
        });
        let mut all = rules.clone();
        all["key"] = r.col::<String>("key")?.into();
        all["name"] = r.col::<String>("name")?.into();
        all["description"] = r.col::<String>("description")?.into();
        Ok(Some((all, rules)))
    })
}

/// [`purpose_json`] with the words in other languages.
async fn purpose_with_texts(tx: &mut Tx, id: i64) -> Result<Option<(Value, Value)>> {
    let Some((mut all, rules)) = purpose_json(tx, id).await? else {
        return Ok(None);
    };
    all["texts"] = texts_json(tx, Item::Purpose(id)).await?;
    Ok(Some((all, rules)))
}

async fn topic_json(tx: &mut Tx, id: i64) -> Result<Option<Value>> {
    let found: Option<Value> = on!(tx.conn(), c => {
        let Some(r) = sqlx::query(
            "SELECT key, name, description, retired_at IS NOT NULL AS retired FROM topics WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        Ok::<_, super::StoreError>(Some(json!({
            "key": r.col::<String>("key")?,
            "name": r.col::<String>("name")?,
            "description": r.col::<String>("description")?,
            "retired": r.col::<bool>("retired")?,
        })))
    })?;
    let Some(mut v) = found else {
        return Ok(None);
    };
    v["texts"] = texts_json(tx, Item::Topic(id)).await?;
    Ok(Some(v))
}

/// An item's words in other languages, as the audit log keeps them: {"de": {"name", "description"}}.
async fn texts_json(tx: &mut Tx, item: Item) -> Result<Value> {
    let (kind, id) = match item {
        Item::Purpose(id) => ("purpose", id),
        Item::Topic(id) => ("topic", id),
    };
    let rows: Vec<(String, String, String)> = on!(tx.conn(), c => sqlx::query_as(
        "SELECT lang, name, description FROM item_texts
         WHERE subject_kind = $1 AND subject_id = $2 ORDER BY lang",
    )
    .bind(kind)
    .bind(id)
    .fetch_all(&mut *c)
    .await?);
    let mut m = serde_json::Map::new();
    for (lang, name, description) in rows {
        m.insert(lang, json!({ "name": name, "description": description }));
    }
    Ok(Value::Object(m))
}

/// Puts an item's words in other languages in place of the ones it had.
async fn replace_texts(tx: &mut Tx, item: Item, texts: &[Translation]) -> Result<()> {
    let (kind, id) = match item {
        Item::Purpose(id) => ("purpose", id),
        Item::Topic(id) => ("topic", id),
    };
    on!(tx.conn(), c => {
        sqlx::query("DELETE FROM item_texts WHERE subject_kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *c)
            .await?;
        for t in texts {
            sqlx::query(
                "INSERT INTO item_texts (subject_kind, subject_id, lang, name, description)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(kind)
            .bind(id)
            .bind(t.lang.code())
            .bind(&t.name)
            .bind(&t.description)
            .execute(&mut *c)
            .await?;
        }
    });
    Ok(())
}

async fn add_version(tx: &mut Tx, item: Item) -> Result<()> {
    let now = tx.now_str();
    let (sql, id) = match item {
        Item::Purpose(id) => (PURPOSE_VERSION, id),
        Item::Topic(id) => (TOPIC_VERSION, id),
    };
    on!(tx.conn(), c => {
        sqlx::query(sql).bind(id).bind(Ts::new(now)).execute(&mut *c).await?;
    });
    Ok(())
}

/// Creates a purpose in a profile (`id` `None`; last in order) or changes one (its key stays:
/// sending systems use it).
pub struct SavePurpose {
    pub id: Option<i64>,
    pub profile_id: i64,
    pub fields: PurposeFields,
    pub actor: Actor,
}

impl Unit for SavePurpose {
    type Output = Saved;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Saved>> {
        Box::pin(async move {
            let f = &self.fields;
            let now = tx.now_str();
            let (id, profile_id, before) = match self.id {
                None => {
                    let id: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                        "INSERT INTO purposes (profile_id, key, name, enforcement, channels, position, created_at)
                         SELECT $1, $2, $3, $4, $5,
                                COALESCE((SELECT MAX(position) + 1 FROM purposes WHERE profile_id = $1), 0), $6
                         WHERE EXISTS (SELECT 1 FROM compliance_profiles WHERE id = $1)
                         ON CONFLICT (profile_id, key) DO NOTHING RETURNING id",
                    )
                    .bind(self.profile_id)
                    .bind(&f.key)
                    .bind(&f.name)
                    .bind(f.enforcement.as_str())
                    .bind(Channel::join(&f.channels))
                    .bind(Ts::new(&*now))
                    .fetch_optional(&mut *c)
                    .await?);
                    match id {
                        Some(id) => (id, self.profile_id, None),
                        None if profile_json(tx, self.profile_id).await?.is_none() => {
                            return Ok(Saved::NotFound)
                        }
                        None => return Ok(Saved::KeyTaken),
                    }
                }
                Some(id) => {
                    let Some(profile_id) = profile_of(tx, Item::Purpose(id)).await? else {
                        return Ok(Saved::NotFound);
                    };
                    (id, profile_id, purpose_with_texts(tx, id).await?)
                }
            };
            on!(tx.conn(), c => {
                sqlx::query(
                    "UPDATE purposes SET name = $1, description = $2, enforcement = $3,
                         channels = $4, mandatory = $5, min_consent_level = $6 WHERE id = $7",
                )
                .bind(&f.name)
                .bind(&f.description)
                .bind(f.enforcement.as_str())
                .bind(Channel::join(&f.channels))
                .bind(f.mandatory)
                .bind(i64::from(f.min_level.get()))
                .bind(id)
                .execute(&mut *c)
                .await?;
            });
            replace_texts(tx, Item::Purpose(id), &f.texts).await?;
            let after = purpose_with_texts(tx, id).await?;
            let (before_all, before_rules) = before.unzip();
            let (after_all, after_rules) = after.unzip();
            if before_all.is_some() && before_all == after_all {
                return Ok(Saved::Done(id));
            }
            if before_rules != after_rules {
                add_version(tx, Item::Purpose(id)).await?;
            }
            bump(tx, profile_id).await?;
            let kinds = ("purpose.create", "purpose.edit");
            let subject = format!("purpose {id} {}", f.key);
            record_save(tx, &self.actor, kinds, subject, before_all, after_all).await?;
            Ok(Saved::Done(id))
        })
    }
}

/// Creates a topic in a purpose (`id` `None`; last in order) or changes one (its key stays).
pub struct SaveTopic {
    pub id: Option<i64>,
    pub purpose_id: i64,
    pub fields: TopicFields,
    pub actor: Actor,
}

impl Unit for SaveTopic {
    type Output = Saved;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Saved>> {
        Box::pin(async move {
            let f = &self.fields;
            let now = tx.now_str();
            let (id, before) = match self.id {
                None => {
                    if profile_of(tx, Item::Purpose(self.purpose_id))
                        .await?
                        .is_none()
                    {
                        return Ok(Saved::NotFound);
                    }
                    let id: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                        "INSERT INTO topics (purpose_id, key, name, position, created_at)
                         SELECT $1, $2, $3,
                                COALESCE((SELECT MAX(position) + 1 FROM topics WHERE purpose_id = $1), 0), $4
                         WHERE 1 = 1
                         ON CONFLICT (purpose_id, key) DO NOTHING RETURNING id",
                    )
                    .bind(self.purpose_id)
                    .bind(&f.key)
                    .bind(&f.name)
                    .bind(Ts::new(&*now))
                    .fetch_optional(&mut *c)
                    .await?);
                    match id {
                        Some(id) => {
                            add_version(tx, Item::Topic(id)).await?;
                            (id, None)
                        }
                        None => return Ok(Saved::KeyTaken),
                    }
                }
                Some(id) => match topic_json(tx, id).await? {
                    Some(before) => (id, Some(before)),
                    None => return Ok(Saved::NotFound),
                },
            };
            on!(tx.conn(), c => {
                sqlx::query("UPDATE topics SET name = $1, description = $2 WHERE id = $3")
                    .bind(&f.name)
                    .bind(&f.description)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            });
            replace_texts(tx, Item::Topic(id), &f.texts).await?;
            let after = topic_json(tx, id).await?;
            if before.is_some() && before == after {
                return Ok(Saved::Done(id));
            }
            if let Some(profile_id) = profile_of(tx, Item::Topic(id)).await? {
                bump(tx, profile_id).await?;
            }
            let kinds = ("topic.create", "topic.edit");
            let subject = format!("topic {id} {}", f.key);
            record_save(tx, &self.actor, kinds, subject, before, after).await?;
            Ok(Saved::Done(id))
        })
    }
}

/// Moves a purpose (among its profile's) or a topic (among its purpose's) one place up or
/// down. `false` when there is no such item; at either end it stays where it is.
pub struct Move {
    pub item: Item,
    pub up: bool,
    pub actor: Actor,
}

impl Unit for Move {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(profile_id) = profile_of(tx, self.item).await? else {
                return Ok(false);
            };
            let (table, parent, id) = match self.item {
                Item::Purpose(id) => ("purposes", "profile_id", id),
                Item::Topic(id) => ("topics", "purpose_id", id),
            };
            let siblings_sql = format!(
                "SELECT id, key FROM {table}
                 WHERE {parent} = (SELECT {parent} FROM {table} WHERE id = $1)
                 ORDER BY position, id"
            );
            let mut order: Vec<(i64, String)> = on!(tx.conn(), c => sqlx::query_as(&siblings_sql)
                .bind(id)
                .fetch_all(&mut *c)
                .await?);
            let Some(at) = order.iter().position(|(i, _)| *i == id) else {
                return Ok(false);
            };
            let to = if self.up {
                at.checked_sub(1)
            } else {
                Some(at + 1).filter(|t| *t < order.len())
            };
            let Some(to) = to else {
                return Ok(true);
            };
            let before: Vec<String> = order.iter().map(|(_, k)| k.clone()).collect();
            order.swap(at, to);
            let update = format!("UPDATE {table} SET position = $1 WHERE id = $2");
            for (position, (sibling, _)) in order.iter().enumerate() {
                on!(tx.conn(), c => {
                    sqlx::query(&update)
                        .bind(position as i64)
                        .bind(*sibling)
                        .execute(&mut *c)
                        .await?;
                });
            }
            bump(tx, profile_id).await?;
            let after: Vec<String> = order.iter().map(|(_, k)| k.clone()).collect();
            let entry = Entry {
                kind: match self.item {
                    Item::Purpose(_) => "purpose.move",
                    Item::Topic(_) => "topic.move",
                },
                subject: format!("{} {id} {}", self.item.kind(), order[to].1),
                before: Some(json!({ "order": before })),
                after: Some(json!({ "order": after })),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}

/// Retires a purpose or a topic: gone from every page from now on, denied by the decision with
/// that reason; its records stay. `false` when there is no such item; retiring twice changes
/// nothing.
pub struct Retire {
    pub item: Item,
    pub actor: Actor,
}

impl Unit for Retire {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(profile_id) = profile_of(tx, self.item).await? else {
                return Ok(false);
            };
            let now = tx.now_str();
            let (table, id) = match self.item {
                Item::Purpose(id) => ("purposes", id),
                Item::Topic(id) => ("topics", id),
            };
            let sql = format!(
                "UPDATE {table} SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL RETURNING key"
            );
            let key: Option<String> = on!(tx.conn(), c => sqlx::query_scalar(&sql)
                .bind(Ts::new(now))
                .bind(id)
                .fetch_optional(&mut *c)
                .await?);
            let Some(key) = key else {
                return Ok(true);
            };
            add_version(tx, self.item).await?;
            bump(tx, profile_id).await?;
            let entry = Entry {
                kind: match self.item {
                    Item::Purpose(_) => "purpose.retire",
                    Item::Topic(_) => "topic.retire",
                },
                subject: format!("{} {id} {key}", self.item.kind()),
                before: Some(json!({ "retired": false })),
                after: Some(json!({ "retired": true })),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}
