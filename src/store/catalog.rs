//! Compliance profiles, purposes and topics: what pages and decisions are built from.

use super::backend::{on, read, ConnMut, DbRow, Ts};
use super::Reader;
use super::{Result, StoreError};
use crate::domain::{Channel, ConsentLevel, Enforcement, Purpose, Topic};

#[derive(Debug, Clone)]
pub struct Profile {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub brand_primary: String,
    pub footer_address: String,
    pub privacy_url: Option<String>,
    pub default_locale: String,
    pub form_version: i64,
    /// Who the profile's emails come from; `None` until configured.
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    /// Incremented by every change to the profile, its purposes or its topics.
    pub catalog_version: i64,
    /// The jurisdiction its consent falls under (receipts state it); `None` until configured.
    pub jurisdiction: Option<String>,
}

/// A profile with its purposes and topics in display order.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub profile: Profile,
    pub purposes: Vec<Purpose>,
    pub topics: Vec<Topic>,
}

impl Catalog {
    pub fn topics_of(&self, purpose_id: i64) -> impl Iterator<Item = &Topic> {
        self.topics
            .iter()
            .filter(move |t| t.purpose_id == purpose_id)
    }
    pub fn purpose(&self, id: i64) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }
    pub fn topic(&self, id: i64) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }
}

pub async fn load(read: &Reader, profile_id: i64) -> Result<Option<Catalog>> {
    read!(read, c => {
        let Some(p) = sqlx::query(
            "SELECT id, key, name, brand_primary, footer_address, privacy_url, default_locale,
                    form_version, sender_name, sender_address, reply_to, catalog_version, jurisdiction
             FROM compliance_profiles WHERE id = $1",
        )
        .bind(profile_id)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        let purposes = sqlx::query(
            "SELECT id, key, name, description, enforcement, channels, mandatory, min_consent_level,
                    retired_at IS NOT NULL AS retired
             FROM purposes WHERE profile_id = $1 ORDER BY position, id",
        )
        .bind(profile_id)
        .fetch_all(&mut *c)
        .await?;
        let topics = sqlx::query(
            "SELECT t.id, t.purpose_id, t.key, t.name, t.description,
                    t.retired_at IS NOT NULL AS retired
             FROM topics t JOIN purposes p ON p.id = t.purpose_id
             WHERE p.profile_id = $1 ORDER BY p.position, p.id, t.position, t.id",
        )
        .bind(profile_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(Some(Catalog {
            profile: profile(&p)?,
            purposes: purposes.iter().map(purpose).collect::<Result<_>>()?,
            topics: topics.iter().map(topic).collect::<Result<_>>()?,
        }))
    })
}

fn profile(p: &impl DbRow) -> Result<Profile> {
    Ok(Profile {
        id: p.col("id")?,
        key: p.col("key")?,
        name: p.col("name")?,
        brand_primary: p.col("brand_primary")?,
        footer_address: p.col("footer_address")?,
        privacy_url: p.col("privacy_url")?,
        default_locale: p.col("default_locale")?,
        form_version: p.col("form_version")?,
        sender_name: p.col("sender_name")?,
        sender_address: p.col("sender_address")?,
        reply_to: p.col("reply_to")?,
        catalog_version: p.col("catalog_version")?,
        jurisdiction: p.col("jurisdiction")?,
    })
}

fn purpose(r: &impl DbRow) -> Result<Purpose> {
    let enforcement: String = r.col("enforcement")?;
    let channels: String = r.col("channels")?;
    let level: i64 = r.col("min_consent_level")?;
    Ok(Purpose {
        id: r.col("id")?,
        key: r.col("key")?,
        name: r.col("name")?,
        description: r.col("description")?,
        enforcement: Enforcement::parse(&enforcement)
            .ok_or_else(|| StoreError::Corrupt(format!("enforcement {enforcement}")))?,
        channels: Channel::parse_list(&channels)
            .ok_or_else(|| StoreError::Corrupt(format!("channels {channels}")))?,
        mandatory: r.col("mandatory")?,
        min_level: ConsentLevel::new(level)
            .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
        retired: r.col("retired")?,
    })
}

fn topic(r: &impl DbRow) -> Result<Topic> {
    Ok(Topic {
        id: r.col("id")?,
        purpose_id: r.col("purpose_id")?,
        key: r.col("key")?,
        name: r.col("name")?,
        description: r.col("description")?,
        retired: r.col("retired")?,
    })
}

/// A profile's catalogue version (`None`: no such profile).
pub async fn catalog_version(read: &Reader, profile_id: i64) -> Result<Option<i64>> {
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT catalog_version FROM compliance_profiles WHERE id = $1",
    )
    .bind(profile_id)
    .fetch_optional(&mut *c)
    .await?))
}

/// A new profile (start-up and demo work, on the write connection).
pub struct NewProfile<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub brand_primary: &'a str,
    pub footer_address: &'a str,
    pub privacy_url: Option<&'a str>,
    pub sender_name: Option<&'a str>,
    pub sender_address: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub jurisdiction: Option<&'a str>,
}

/// A profile's id by its key (the public sign-up form's URL names the key).
pub async fn profile_id_by_key(read: &Reader, key: &str) -> Result<Option<i64>> {
    let mut c = read.acquire().await?;
    let out = find_profile(c.conn(), key).await;
    c.checked(out)
}

/// Any profile's id (`None` on an empty database).
pub async fn any_profile(conn: ConnMut<'_>) -> Result<Option<i64>> {
    on!(conn, c => Ok(sqlx::query_scalar("SELECT id FROM compliance_profiles ORDER BY id LIMIT 1")
        .fetch_optional(c)
        .await?))
}

pub async fn find_profile(conn: ConnMut<'_>, key: &str) -> Result<Option<i64>> {
    on!(conn, c => Ok(sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE key = $1")
        .bind(key)
        .fetch_optional(c)
        .await?))
}

pub async fn insert_profile(conn: ConnMut<'_>, p: &NewProfile<'_>) -> Result<i64> {
    on!(conn, c => Ok(sqlx::query_scalar(
        "INSERT INTO compliance_profiles (key, name, brand_primary, footer_address, privacy_url,
             sender_name, sender_address, reply_to, jurisdiction, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(p.key)
    .bind(p.name)
    .bind(p.brand_primary)
    .bind(p.footer_address)
    .bind(p.privacy_url)
    .bind(p.sender_name)
    .bind(p.sender_address)
    .bind(p.reply_to)
    .bind(p.jurisdiction)
    .bind(Ts(super::now()))
    .fetch_one(c)
    .await?))
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_purpose(
    conn: ConnMut<'_>,
    profile_id: i64,
    key: &str,
    name: &str,
    description: &str,
    enforcement: Enforcement,
    channels: &[Channel],
    mandatory: bool,
    position: i64,
) -> Result<i64> {
    on!(conn, c => Ok(sqlx::query_scalar(
        "INSERT INTO purposes (profile_id, key, name, description, enforcement, channels, mandatory, position)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(profile_id)
    .bind(key)
    .bind(name)
    .bind(description)
    .bind(enforcement.as_str())
    .bind(Channel::join(channels))
    .bind(mandatory)
    .bind(position)
    .fetch_one(c)
    .await?))
}

pub async fn insert_topic(
    conn: ConnMut<'_>,
    purpose_id: i64,
    key: &str,
    name: &str,
    description: &str,
    position: i64,
) -> Result<i64> {
    on!(conn, c => Ok(sqlx::query_scalar(
        "INSERT INTO topics (purpose_id, key, name, description, position)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(purpose_id)
    .bind(key)
    .bind(name)
    .bind(description)
    .bind(position)
    .fetch_one(c)
    .await?))
}
