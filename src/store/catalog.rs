//! Compliance profiles, purposes and topics: what pages and decisions are built from.

use super::backend::{on, read, ConnMut, DbRow, Ts};
use super::Reader;
use super::{Result, StoreError};
use crate::domain::parse::Lang;
use crate::domain::{Channel, ConsentLevel, Enforcement, Purpose, Subject, Topic};

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
    /// Text under the postal address on pages and emails.
    pub legal_footer: Option<String>,
    /// Double opt-in overrides of the server's settings (`None`: the server's; reminder 0: none).
    pub doi_confirm_hours: Option<i64>,
    pub doi_reminder_hours: Option<i64>,
    /// API opt-ins the caller says it confirmed itself are recorded as confirmed.
    pub trust_api_confirmation: bool,
    /// Opt-ins staff record are trusted with the notice to the contact alone (else they
    /// go through double opt-in).
    pub trust_staff_opt_ins: bool,
    /// The published design the pages show (version `form_version`); a profile that never
    /// published one shows its brand colour and the catalogue's texts.
    pub design: crate::domain::design::Design,
}

/// A profile with its purposes and topics in display order.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub profile: Profile,
    pub purposes: Vec<Purpose>,
    pub topics: Vec<Topic>,
    /// Names and descriptions in other languages than the profile's default.
    pub texts: Vec<ItemText>,
}

/// A purpose's or topic's words in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemText {
    pub subject: Subject,
    pub lang: Lang,
    pub name: String,
    pub description: String,
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

    fn words<'a>(
        &'a self,
        subject: Subject,
        lang: Lang,
        name: &'a str,
        description: &'a str,
    ) -> (&'a str, &'a str) {
        match self
            .texts
            .iter()
            .find(|t| t.subject == subject && t.lang == lang)
        {
            Some(t) => (
                &t.name,
                if t.description.is_empty() {
                    description
                } else {
                    &t.description
                },
            ),
            None => (name, description),
        }
    }

    /// A purpose's name and description in `lang` (the default words where there are none).
    pub fn purpose_words<'a>(&'a self, p: &'a Purpose, lang: Lang) -> (&'a str, &'a str) {
        self.words(Subject::Purpose(p.id), lang, &p.name, &p.description)
    }

    /// A topic's name and description in `lang` (the default words where there are none).
    pub fn topic_words<'a>(&'a self, t: &'a Topic, lang: Lang) -> (&'a str, &'a str) {
        self.words(Subject::Topic(t.id), lang, &t.name, &t.description)
    }

    /// The translations of one purpose or topic.
    pub fn texts_of(&self, subject: Subject) -> impl Iterator<Item = &ItemText> {
        self.texts.iter().filter(move |t| t.subject == subject)
    }
}

pub async fn load(read: &Reader, profile_id: i64) -> Result<Option<Catalog>> {
    read!(read, c => {
        let Some(p) = sqlx::query(
            "SELECT p.id, p.key, p.name, p.brand_primary, p.footer_address, p.privacy_url,
                    p.default_locale, p.form_version, p.sender_name, p.sender_address, p.reply_to,
                    p.catalog_version, p.jurisdiction, p.legal_footer, p.doi_confirm_hours,
                    p.doi_reminder_hours, p.trust_api_confirmation, p.trust_staff_opt_ins, v.design
             FROM compliance_profiles p
             LEFT JOIN form_versions v ON v.profile_id = p.id AND v.version = p.form_version
             WHERE p.id = $1",
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
        let texts: Vec<(String, i64, String, String, String)> = sqlx::query_as(
            "SELECT x.subject_kind, x.subject_id, x.lang, x.name, x.description FROM item_texts x
             WHERE (x.subject_kind = 'purpose'
                    AND x.subject_id IN (SELECT id FROM purposes WHERE profile_id = $1))
                OR (x.subject_kind = 'topic' AND x.subject_id IN (
                    SELECT t.id FROM topics t JOIN purposes p ON p.id = t.purpose_id
                    WHERE p.profile_id = $1))",
        )
        .bind(profile_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(Some(Catalog {
            profile: profile(&p)?,
            purposes: purposes.iter().map(purpose).collect::<Result<_>>()?,
            topics: topics.iter().map(topic).collect::<Result<_>>()?,
            texts: texts
                .into_iter()
                .filter_map(|(kind, id, lang, name, description)| {
                    Some(ItemText {
                        subject: match kind.as_str() {
                            "purpose" => Subject::Purpose(id),
                            _ => Subject::Topic(id),
                        },
                        lang: Lang::parse(&lang)?,
                        name,
                        description,
                    })
                })
                .collect(),
        }))
    })
}

/// `profile` with the words it put under pages and emails (name, postal address, legal footer,
/// privacy link) as they stood at `at`; today's where nothing was kept from before then.
pub async fn profile_words_as_of(read: &Reader, mut profile: Profile, at: &str) -> Result<Profile> {
    let id = profile.id;
    let row: Option<(String, String, Option<String>, Option<String>)> = read!(read, c => {
        Ok(sqlx::query_as(
            "SELECT name, footer_address, legal_footer, privacy_url FROM profile_versions
             WHERE profile_id = $1 AND effective_at <= $2
             ORDER BY effective_at DESC LIMIT 1",
        )
        .bind(id)
        .bind(Ts::new(at))
        .fetch_optional(&mut *c)
        .await?)
    })?;
    if let Some((name, footer_address, legal_footer, privacy_url)) = row {
        (profile.name, profile.footer_address) = (name, footer_address);
        (profile.legal_footer, profile.privacy_url) = (legal_footer, privacy_url);
    }
    Ok(profile)
}

/// A profile's catalogue with the definitions a decision rests on (enforcement model,
/// channels, mandatory, minimum level, retirement) as they stood at `at`; what did not exist
/// yet then counts as retired. Names and order are today's.
pub async fn load_as_of(read: &Reader, profile_id: i64, at: &str) -> Result<Option<Catalog>> {
    let Some(mut cat) = load(read, profile_id).await? else {
        return Ok(None);
    };
    let (purposes, topics) = read!(read, c => {
        let purposes: Vec<(i64, String, String, bool, i64, bool)> = sqlx::query_as(
            "SELECT v.purpose_id, v.enforcement, v.channels, v.mandatory, v.min_consent_level, v.retired
             FROM purpose_versions v JOIN purposes p ON p.id = v.purpose_id
             WHERE p.profile_id = $1 AND v.effective_at = (
                 SELECT MAX(w.effective_at) FROM purpose_versions w
                 WHERE w.purpose_id = v.purpose_id AND w.effective_at <= $2)",
        )
        .bind(profile_id)
        .bind(Ts::new(at))
        .fetch_all(&mut *c)
        .await?;
        let topics: Vec<(i64, bool)> = sqlx::query_as(
            "SELECT v.topic_id, v.retired
             FROM topic_versions v JOIN topics t ON t.id = v.topic_id
             JOIN purposes p ON p.id = t.purpose_id
             WHERE p.profile_id = $1 AND v.effective_at = (
                 SELECT MAX(w.effective_at) FROM topic_versions w
                 WHERE w.topic_id = v.topic_id AND w.effective_at <= $2)",
        )
        .bind(profile_id)
        .bind(Ts::new(at))
        .fetch_all(&mut *c)
        .await?;
        Ok((purposes, topics))
    })?;
    for p in cat.purposes.iter_mut() {
        p.retired = true;
    }
    for (id, enforcement, channels, mandatory, level, retired) in purposes {
        if let Some(p) = cat.purposes.iter_mut().find(|p| p.id == id) {
            (p.enforcement, p.channels, p.min_level) = parse_rules(&enforcement, &channels, level)?;
            (p.mandatory, p.retired) = (mandatory, retired);
        }
    }
    for t in cat.topics.iter_mut() {
        t.retired = topics
            .iter()
            .find(|(id, _)| *id == t.id)
            .is_none_or(|(_, retired)| *retired);
    }
    Ok(Some(cat))
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
        legal_footer: p.col("legal_footer")?,
        doi_confirm_hours: p.col("doi_confirm_hours")?,
        doi_reminder_hours: p.col("doi_reminder_hours")?,
        trust_api_confirmation: p.col("trust_api_confirmation")?,
        trust_staff_opt_ins: p.col("trust_staff_opt_ins")?,
        design: match p.col::<Option<String>>("design")? {
            Some(json) => crate::domain::design::Design::from_json(&json)
                .ok_or_else(|| StoreError::Corrupt("a published design".into()))?,
            None => crate::domain::design::Design::initial(&p.col::<String>("brand_primary")?),
        },
    })
}

/// A purpose's stored enforcement model, channels and minimum level (of today's row or of a
/// version).
fn parse_rules(
    enforcement: &str,
    channels: &str,
    level: i64,
) -> Result<(Enforcement, Vec<Channel>, ConsentLevel)> {
    Ok((
        Enforcement::parse(enforcement)
            .ok_or_else(|| StoreError::Corrupt(format!("enforcement {enforcement}")))?,
        Channel::parse_list(channels)
            .ok_or_else(|| StoreError::Corrupt(format!("channels {channels}")))?,
        ConsentLevel::new(level).ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
    ))
}

fn purpose(r: &impl DbRow) -> Result<Purpose> {
    let (enforcement, channels, min_level) = parse_rules(
        &r.col::<String>("enforcement")?,
        &r.col::<String>("channels")?,
        r.col("min_consent_level")?,
    )?;
    let mandatory = r.col("mandatory")?;
    Ok(Purpose {
        id: r.col("id")?,
        key: r.col("key")?,
        name: r.col("name")?,
        description: r.col("description")?,
        enforcement,
        channels,
        mandatory,
        min_level,
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

/// A profile as the console's list shows it.
#[derive(Debug, Clone)]
pub struct ProfileSummary {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub purposes: i64,
    pub topics: i64,
}

/// Every profile by name, with its purposes and topics still in use.
pub async fn summaries(read: &Reader) -> Result<Vec<ProfileSummary>> {
    let rows: Vec<(i64, String, String, i64, i64)> = read!(read, c => Ok(sqlx::query_as(
        "SELECT pr.id, pr.key, pr.name,
                (SELECT COUNT(*) FROM purposes p WHERE p.profile_id = pr.id AND p.retired_at IS NULL),
                (SELECT COUNT(*) FROM topics t JOIN purposes p ON p.id = t.purpose_id
                 WHERE p.profile_id = pr.id AND t.retired_at IS NULL AND p.retired_at IS NULL)
         FROM compliance_profiles pr ORDER BY pr.name, pr.id",
    )
    .fetch_all(&mut *c)
    .await?))?;
    Ok(rows
        .into_iter()
        .map(|(id, key, name, purposes, topics)| ProfileSummary {
            id,
            key,
            name,
            purposes,
            topics,
        })
        .collect())
}

/// The profile a purpose or topic belongs to.
pub async fn owner(read: &Reader, item: super::setup::Item) -> Result<Option<i64>> {
    use super::setup::Item;
    read!(read, c => Ok(match item {
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
    let now = super::now();
    on!(conn, c => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO purposes (profile_id, key, name, description, enforcement, channels,
                 mandatory, position, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(profile_id)
        .bind(key)
        .bind(name)
        .bind(description)
        .bind(enforcement.as_str())
        .bind(Channel::join(channels))
        .bind(mandatory)
        .bind(position)
        .bind(Ts::new(&*now))
        .fetch_one(&mut *c)
        .await?;
        sqlx::query(PURPOSE_VERSION)
            .bind(id)
            .bind(Ts::new(&*now))
            .execute(&mut *c)
            .await?;
        Ok(id)
    })
}

/// Adds a purpose's version as it stands now, effective at `$2` (the same moment twice keeps
/// the later state).
pub(super) const PURPOSE_VERSION: &str = "INSERT INTO purpose_versions
         (purpose_id, effective_at, enforcement, channels, mandatory, min_consent_level, retired)
     SELECT id, $2, enforcement, channels, mandatory, min_consent_level, retired_at IS NOT NULL
     FROM purposes WHERE id = $1
     ON CONFLICT (purpose_id, effective_at) DO UPDATE SET
         enforcement = excluded.enforcement, channels = excluded.channels,
         mandatory = excluded.mandatory, min_consent_level = excluded.min_consent_level,
         retired = excluded.retired";

/// Adds a profile's words (name, postal address, legal footer, privacy link) as they stand now,
/// effective at `$2` (the same moment twice keeps the later words).
pub(super) const PROFILE_VERSION: &str = "INSERT INTO profile_versions
         (profile_id, effective_at, name, footer_address, legal_footer, privacy_url)
     SELECT id, $2, name, footer_address, legal_footer, privacy_url
     FROM compliance_profiles WHERE id = $1
     ON CONFLICT (profile_id, effective_at) DO UPDATE SET
         name = excluded.name, footer_address = excluded.footer_address,
         legal_footer = excluded.legal_footer, privacy_url = excluded.privacy_url";

/// The same for a topic.
pub(super) const TOPIC_VERSION: &str =
    "INSERT INTO topic_versions (topic_id, effective_at, retired)
     SELECT id, $2, retired_at IS NOT NULL FROM topics WHERE id = $1
     ON CONFLICT (topic_id, effective_at) DO UPDATE SET retired = excluded.retired";

/// A purpose's or topic's words in another language (start-up and demo work).
pub async fn insert_item_text(
    conn: ConnMut<'_>,
    subject: Subject,
    lang: Lang,
    name: &str,
    description: &str,
) -> Result<()> {
    let (kind, id) = match subject {
        Subject::Purpose(id) => ("purpose", id),
        Subject::Topic(id) => ("topic", id),
        Subject::Profile(_) | Subject::Erasure => return Ok(()),
    };
    on!(conn, c => {
        sqlx::query(
            "INSERT INTO item_texts (subject_kind, subject_id, lang, name, description)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(kind)
        .bind(id)
        .bind(lang.code())
        .bind(name)
        .bind(description)
        .execute(c)
        .await?;
    });
    Ok(())
}

pub async fn insert_topic(
    conn: ConnMut<'_>,
    purpose_id: i64,
    key: &str,
    name: &str,
    description: &str,
    position: i64,
) -> Result<i64> {
    let now = super::now();
    on!(conn, c => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO topics (purpose_id, key, name, description, position, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(purpose_id)
        .bind(key)
        .bind(name)
        .bind(description)
        .bind(position)
        .bind(Ts::new(&*now))
        .fetch_one(&mut *c)
        .await?;
        sqlx::query(TOPIC_VERSION)
            .bind(id)
            .bind(Ts::new(&*now))
            .execute(&mut *c)
            .await?;
        Ok(id)
    })
}
