//! One async function per use case. Pages, forms and the API call these; these call the store
//! and the domain. Nothing here knows HTTP.

pub mod api;
pub mod audit;
pub mod auth;
pub mod consent;
pub mod delivery;
pub mod demo;
pub mod design;
pub mod desk;
pub mod erasure;
pub mod import;
pub mod links;
pub mod optin;
pub mod proof;
pub mod receipt;
pub mod record;
pub mod rights;
pub mod segment;
pub mod setup;
pub mod webhooks;

use crate::store::catalog::{self, Catalog};
use crate::store::writer::Writer;
use crate::store::Reader;
use crate::store::StoreError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// How much of a contact's IP address the evidence keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IpEvidence {
    /// The whole address.
    Full,
    /// IPv4 /24 or IPv6 /48: enough to see a security gateway's burst, not a person.
    Truncated,
    /// Nothing.
    None,
}

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Policy {
    pub ip_evidence: IpEvidence,
    pub keep_user_agent: bool,
    /// Public origin of the links in emails (`https://prefs.example.com`).
    pub base_url: String,
    /// How long a new unsubscribe / preferences link works.
    pub link_ttl_days: i64,
    /// How long a double opt-in link works; the request expires with it.
    pub confirm_ttl: std::time::Duration,
    /// At most one confirmation email per address within this time.
    pub signup_cooldown: std::time::Duration,
    /// When an unconfirmed request gets its one reminder (`None`: never).
    pub reminder_after: Option<std::time::Duration>,
    /// How long the undo of a page action is offered.
    pub undo_window: std::time::Duration,
    /// Sign-ups per client address and minute, counted across every instance.
    pub signup_rate_per_minute: u32,
    /// Days within which a data request must be fulfilled.
    pub data_request_days: u32,
    /// Where emails are kept as files when no SMTP server is configured (an erasure deletes
    /// the contact's).
    pub kept_mail_dir: Option<std::path::PathBuf>,
}

impl Policy {
    /// Defaults for tests and tools; the server takes its policy from the settings.
    pub fn new(base_url: &str) -> Policy {
        Policy {
            ip_evidence: IpEvidence::Truncated,
            keep_user_agent: true,
            base_url: base_url.trim_end_matches('/').to_owned(),
            link_ttl_days: 400,
            confirm_ttl: std::time::Duration::from_secs(7 * 86_400),
            signup_cooldown: std::time::Duration::from_secs(180),
            reminder_after: Some(std::time::Duration::from_secs(2 * 86_400)),
            undo_window: std::time::Duration::from_secs(86_400),
            signup_rate_per_minute: 10,
            data_request_days: crate::domain::rights::DEFAULT_DEADLINE_DAYS,
            kept_mail_dir: None,
        }
    }
}

/// What every use case works with.
pub struct Core {
    pub read: Arc<Reader>,
    pub writer: Writer,
    pub policy: Policy,
    pub clock: crate::store::Clock,
    /// The deployment secret: keys the stamps that prove what a page showed.
    secret: Arc<[u8]>,
    /// The link key of every signing key, for signed links.
    link_keys: RwLock<LinkKeys>,
    /// API keys by visible id (`None`: no such key), with when each was read: every API call
    /// checks its key, and a key changes only when made or revoked.
    api_keys: Recent<Option<Arc<crate::store::api_keys::ApiKey>>>,
    /// Profile ids by key.
    profile_ids: Recent<Option<i64>>,
    /// Catalogues by profile, with when their version was last checked.
    catalogs: RwLock<HashMap<i64, (Arc<Catalog>, time::OffsetDateTime)>>,
}

/// How long a cached catalogue is used before its version is checked again: a change made
/// through another instance shows here within this time.
pub const CATALOG_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

impl Core {
    pub fn new(read: Reader, writer: Writer, policy: Policy, secret: Arc<[u8]>) -> Core {
        Core {
            read: Arc::new(read),
            clock: writer.clock().clone(),
            writer,
            policy,
            secret,
            link_keys: RwLock::new(LinkKeys::default()),
            api_keys: Recent::default(),
            profile_ids: Recent::default(),
            catalogs: RwLock::new(HashMap::new()),
        }
    }

    /// Drops every cached catalogue (after a change made through this instance: its pages
    /// show it at once).
    pub fn forget_catalogs(&self) {
        self.catalogs.write().expect("catalog lock").clear();
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// A profile's catalogue as cached, if it was checked within [`CATALOG_CHECK`]: what
    /// [`Core::catalog`] answers without reading (for code that cannot wait, e.g. inside a read
    /// transaction).
    pub fn cached_catalog(&self, profile_id: i64) -> Option<Arc<Catalog>> {
        let now = self.clock.now();
        self.catalogs
            .read()
            .expect("catalog lock")
            .get(&profile_id)
            .filter(|(_, checked)| now - *checked < CATALOG_CHECK)
            .map(|(c, _)| c.clone())
    }

    /// A profile's catalogue, cached: every page needs it and it changes only through the
    /// admin, on this instance or another. A cached one is used for [`CATALOG_CHECK`], then
    /// its version is read again (one small query) and the catalogue reloaded if it changed.
    pub async fn catalog(&self, profile_id: i64) -> Result<Arc<Catalog>, StoreError> {
        let now = self.clock.now();
        let cached = self
            .catalogs
            .read()
            .expect("catalog lock")
            .get(&profile_id)
            .cloned();
        let c = match cached {
            Some((c, checked)) if now - checked < CATALOG_CHECK => return Ok(c),
            Some((c, _))
                if catalog::catalog_version(&self.read, profile_id).await?
                    == Some(c.profile.catalog_version) =>
            {
                c
            }
            _ => Arc::new(
                catalog::load(&self.read, profile_id)
                    .await?
                    .ok_or_else(|| StoreError::Missing(format!("profile {profile_id}")))?,
            ),
        };
        self.catalogs
            .write()
            .expect("catalog lock")
            .insert(profile_id, (c.clone(), now));
        Ok(c)
    }
}

/// How long a read API key (or profile id) is used before it is read again: a key revoked
/// through another instance is refused here within this time (at once through this one).
pub const KEY_CHECK: time::Duration = time::Duration::seconds(1);

/// The most entries a lookup cache holds before it starts afresh (unknown ids are cached too,
/// so a caller trying random ones cannot make it grow without end).
const CACHE_MAX: usize = 10_000;

/// Values by name, each with when it was read: used for [`KEY_CHECK`], then read again.
struct Recent<V>(RwLock<HashMap<String, (V, time::OffsetDateTime)>>);

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent(RwLock::new(HashMap::new()))
    }
}

impl<V: Clone> Recent<V> {
    /// The value read for `name` less than [`KEY_CHECK`] before `now`, if any.
    fn fresh(&self, name: &str, now: time::OffsetDateTime) -> Option<V> {
        let map = self.0.read().expect("cache lock");
        map.get(name)
            .filter(|(_, at)| now - *at < KEY_CHECK)
            .map(|(v, _)| v.clone())
    }

    fn keep(&self, name: &str, value: V, now: time::OffsetDateTime) {
        let mut map = self.0.write().expect("cache lock");
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(name.to_owned(), (value, now));
    }

    fn clear(&self) {
        self.0.write().expect("cache lock").clear();
    }
}

impl Core {
    /// The API key with this visible id, read at most once per [`KEY_CHECK`], and whether it
    /// was read from the store by this call (not from the cache).
    pub(crate) async fn api_key(
        &self,
        prefix: &str,
    ) -> Result<(Option<Arc<crate::store::api_keys::ApiKey>>, bool), StoreError> {
        let now = self.clock.now();
        if let Some(k) = self.api_keys.fresh(prefix, now) {
            return Ok((k, false));
        }
        let k = crate::store::api_keys::by_prefix(&self.read, prefix)
            .await?
            .map(Arc::new);
        self.api_keys.keep(prefix, k.clone(), now);
        Ok((k, true))
    }

    /// Forgets every cached API key (after one is made or revoked here).
    pub(crate) fn forget_api_keys(&self) {
        self.api_keys.clear();
    }

    /// A profile's id by its key, read at most once per [`KEY_CHECK`].
    pub(crate) async fn profile_id(&self, key: &str) -> Result<Option<i64>, StoreError> {
        let now = self.clock.now();
        if let Some(id) = self.profile_ids.fresh(key, now) {
            return Ok(id);
        }
        let id = catalog::profile_id_by_key(&self.read, key).await?;
        self.profile_ids.keep(key, id, now);
        Ok(id)
    }
}

/// The link keys of the signing keys, as last read.
#[derive(Default)]
struct LinkKeys {
    by_tag: HashMap<[u8; 4], crate::domain::link::LinkKey>,
    current: Option<crate::domain::link::LinkKey>,
    read_at: Option<time::OffsetDateTime>,
}

/// How long the current link key is used before the keys are read again (a rotation made on
/// another instance mints there within this time; links it minted verify here at once).
const LINK_KEYS_CHECK: time::Duration = time::Duration::seconds(60);

impl Core {
    /// Reads the signing keys' ids again and derives their link keys.
    async fn read_link_keys(&self) -> Result<(), StoreError> {
        let ids = crate::store::proof::key_ids(&self.read).await?;
        let mut keys = LinkKeys {
            read_at: Some(self.clock.now()),
            ..LinkKeys::default()
        };
        for (id, current) in ids {
            let key = crate::domain::link::LinkKey::derive(&self.secret, &id);
            if current {
                keys.current = Some(key.clone());
            }
            keys.by_tag.insert(key.tag(), key);
        }
        *self.link_keys.write().expect("link keys lock") = keys;
        Ok(())
    }

    /// The key that mints signed links now.
    pub(crate) async fn minting_key(&self) -> Result<crate::domain::link::LinkKey, StoreError> {
        let fresh = |k: &LinkKeys| {
            k.read_at
                .is_some_and(|t| self.clock.now() - t < LINK_KEYS_CHECK)
                .then(|| k.current.clone())
                .flatten()
        };
        if let Some(k) = fresh(&self.link_keys.read().expect("link keys lock")) {
            return Ok(k);
        }
        self.read_link_keys().await?;
        self.link_keys
            .read()
            .expect("link keys lock")
            .current
            .clone()
            .ok_or_else(|| StoreError::Missing("no signing key is recorded".into()))
    }

    /// The key a signed link names by `tag`, if one of the deployment's. An unknown tag reads
    /// the keys again (a key started since), at most once a second.
    pub(crate) async fn link_key(
        &self,
        tag: [u8; 4],
    ) -> Result<Option<crate::domain::link::LinkKey>, StoreError> {
        let stale = {
            let k = self.link_keys.read().expect("link keys lock");
            if let Some(key) = k.by_tag.get(&tag) {
                return Ok(Some(key.clone()));
            }
            k.read_at
                .is_none_or(|t| self.clock.now() - t >= time::Duration::seconds(1))
        };
        if !stale {
            return Ok(None);
        }
        self.read_link_keys().await?;
        Ok(self
            .link_keys
            .read()
            .expect("link keys lock")
            .by_tag
            .get(&tag)
            .cloned())
    }
}

/// Fresh random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore as _;
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// `N` random bytes as URL-safe base64 without padding (CSRF tokens and the like).
pub fn random_text<const N: usize>() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// A new link token and its hash.
pub fn new_token() -> crate::domain::token::LinkToken {
    crate::domain::token::LinkToken::from_random(random_bytes())
}

/// A new confirm token (its hash goes to `confirm_tokens`).
pub fn new_confirm_token() -> crate::domain::token::ConfirmToken {
    crate::domain::token::ConfirmToken::from_random(random_bytes())
}
