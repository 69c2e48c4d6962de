//! One async function per use case. Pages, forms and the API call these; these call the store
//! and the domain. Nothing here knows HTTP.

pub mod consent;
pub mod demo;

use crate::store::catalog::{self, Catalog};
use crate::store::writer::Writer;
use crate::store::StoreError;
use sqlx::SqlitePool;
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
}

/// What every use case works with.
pub struct Core {
    pub read: SqlitePool,
    pub writer: Writer,
    pub policy: Policy,
    catalogs: RwLock<HashMap<i64, Arc<Catalog>>>,
}

impl Core {
    pub fn new(read: SqlitePool, writer: Writer, policy: Policy) -> Core {
        Core {
            read,
            writer,
            policy,
            catalogs: RwLock::new(HashMap::new()),
        }
    }

    /// A profile's catalog, cached: every page needs it and it changes only through the admin.
    pub async fn catalog(&self, profile_id: i64) -> Result<Arc<Catalog>, StoreError> {
        if let Some(c) = self.catalogs.read().expect("catalog lock").get(&profile_id) {
            return Ok(c.clone());
        }
        let c = Arc::new(
            catalog::load(&self.read, profile_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("profile {profile_id} missing")))?,
        );
        self.catalogs
            .write()
            .expect("catalog lock")
            .insert(profile_id, c.clone());
        Ok(c)
    }
}

/// Fresh random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore as _;
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// A new link token and its hash.
pub fn new_token() -> crate::domain::token::LinkToken {
    crate::domain::token::LinkToken::from_random(random_bytes())
}
