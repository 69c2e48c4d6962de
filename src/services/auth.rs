//! Console users: creating one, signing in (argon2id on a blocking thread, one answer for every
//! failure, a dummy hash for unknown addresses, the throttle), the session's user on every
//! request (role, disabled, idle and absolute timeouts by the injectable clock), and the
//! session store tower-sessions writes through.

use super::consent::{Result, ServiceError};
use super::Core;
use crate::domain::auth::{self, PasswordError, Role, SessionEnd};
use crate::domain::parse::EmailAddress;
use crate::domain::token::InviteToken;
pub use crate::store::audit::Actor;
use crate::store::users::{self, CreateUser, SetDisabled, SignInFailed, SignedIn, User};
use crate::store::writer::Priority;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The argon2id parameters new hashes get (OWASP: m=19456 KiB, t=2, p=1).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password on a blocking thread (tens of milliseconds of CPU and 19 MiB).
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&super::random_bytes::<16>()).expect("16 bytes encode");
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashes any password")
            .to_string()
    })
    .await
    .expect("the hashing thread does not panic")
}

/// A hash of nothing anyone knows: unknown addresses are checked against it, so they take as
/// long as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(&super::random_bytes::<16>()).expect("16 bytes encode");
        let password = super::random_bytes::<24>();
        hasher()
            .hash_password(&password, &salt)
            .expect("argon2 hashes any password")
            .to_string()
    })
}

/// Whether `password` matches `phc`, and whether the hash should be made again with today's
/// parameters. Runs on a blocking thread.
async fn verify(phc: String, password: String) -> (bool, bool) {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return (false, false);
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let current = hasher();
        let stale = parsed.algorithm.as_str() != "argon2id"
            || Params::try_from(&parsed).ok().as_ref() != Some(current.params());
        (ok, ok && stale)
    })
    .await
    .unwrap_or((false, false))
}

/// Why a user cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("not an email address")]
    BadEmail,
    #[error("{0}")]
    Password(PasswordError),
    #[error("a user with this address exists already")]
    Exists,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Creates a console user with a password (the first admin comes this way, from the command
/// line's setup step).
pub async fn create_user(
    core: &Core,
    email: &str,
    role: Role,
    password: &str,
    actor: Actor,
) -> std::result::Result<i64, CreateError> {
    let email = EmailAddress::parse(email).map_err(|_| CreateError::BadEmail)?;
    auth::check_password(password, &[email.as_str(), "prefcenter"])
        .map_err(CreateError::Password)?;
    let hash = hash_password(password.to_owned()).await;
    let id = core
        .writer
        .run(
            CreateUser {
                email: email.as_str().to_owned(),
                role,
                password_hash: Some(hash),
                actor,
            },
            Priority::Interactive,
        )
        .await
        .map_err(ServiceError::from)?;
    id.ok_or(CreateError::Exists)
}

/// Invites a user by email: created without a password, an invitation queued in the outbox.
pub async fn invite(
    core: &Core,
    email: &str,
    role: Role,
    actor: Actor,
) -> std::result::Result<i64, CreateError> {
    let email = EmailAddress::parse(email).map_err(|_| CreateError::BadEmail)?;
    let id = core
        .writer
        .run(
            users::Invite {
                email: email.as_str().to_owned(),
                role,
                message_id: super::optin::new_message_id(&core.policy.base_url),
                actor,
            },
            Priority::Interactive,
        )
        .await
        .map_err(ServiceError::from)?;
    id.ok_or(CreateError::Exists)
}

/// Sends a user's invitation again; `false` when they have accepted it, are disabled or gone.
pub async fn invite_again(core: &Core, user_id: i64, actor: Actor) -> Result<bool> {
    Ok(core
        .writer
        .run(
            users::ResendInvite {
                user_id,
                message_id: super::optin::new_message_id(&core.policy.base_url),
                actor,
            },
            Priority::Interactive,
        )
        .await?)
}

/// The invited user an invitation link is for, while it stands.
pub async fn invitee(core: &Core, token: &InviteToken) -> Result<Option<User>> {
    let now = crate::store::format_time(core.clock.now());
    Ok(users::by_invite_token(&core.read, &token.hash(), &now).await?)
}

/// Why an invitation was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("this invitation link has expired or has been used")]
    Gone,
    #[error("{0}")]
    Password(PasswordError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Accepts an invitation with the user's first password, and signs them in.
pub async fn accept_invite(
    core: &Core,
    token: &InviteToken,
    password: &str,
) -> std::result::Result<(User, SessionUser), AcceptError> {
    let Some(user) = invitee(core, token).await? else {
        return Err(AcceptError::Gone);
    };
    auth::check_password(password, &[user.email.as_str(), "prefcenter"])
        .map_err(AcceptError::Password)?;
    let hash = hash_password(password.to_owned()).await;
    let accepted = core
        .writer
        .run(
            users::AcceptInvite {
                token_hash: token.hash(),
                password_hash: hash,
            },
            Priority::Interactive,
        )
        .await
        .map_err(ServiceError::from)?;
    let Some((id, from)) = accepted else {
        return Err(AcceptError::Gone);
    };
    let csrf = super::random_text::<24>();
    Ok((
        user,
        SessionUser {
            user_id: id,
            signed_in_at: from,
            seen_at: from,
            csrf,
        },
    ))
}

/// Why a sign-in did not succeed (the page says one thing for every bad credential).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("invalid email or password")]
    Invalid,
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    Throttled { retry_after: i64 },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A signed-in user, as a session keeps them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionUser {
    pub user_id: i64,
    /// When they signed in, and when the session was last used (Unix microseconds, by the
    /// core's clock).
    pub signed_in_at: i64,
    pub seen_at: i64,
    /// The token every console form carries back (CSRF), fresh at every sign-in.
    pub csrf: String,
}

/// The sign-in throttle's key of a client address (a keyed hash, never the address).
fn address_key(core: &Core, client: Option<std::net::IpAddr>) -> Vec<u8> {
    let client = client.map(|c| c.to_string()).unwrap_or_default();
    crate::domain::optin::client_key(core.secret(), "signin-address", &client).to_vec()
}

/// The sign-in throttle's key of an account.
fn account_key(core: &Core, email: &str) -> Vec<u8> {
    crate::domain::optin::client_key(core.secret(), "signin-account", &email.to_lowercase())
        .to_vec()
}

/// Seconds until the throttle window that started at `window` is over (at least 1).
fn retry_after(window: time::OffsetDateTime, now: time::OffsetDateTime) -> i64 {
    (window.unix_timestamp() + auth::THROTTLE_WINDOW_SECS - now.unix_timestamp()).max(1)
}

/// Signs a user in. `device` is the device cookie the browser sent, if any.
pub async fn sign_in(
    core: &Core,
    email: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
    device: Option<&str>,
) -> std::result::Result<(User, SessionUser), SignInError> {
    let email = email.trim().to_lowercase();
    let now = core.clock.now();
    let window = crate::store::rate::window_start(now, auth::THROTTLE_WINDOW_SECS);
    let (account_key, address_key) = (account_key(core, &email), address_key(core, client));
    let known_device = device.is_some_and(|d| {
        use subtle::ConstantTimeEq as _;
        bool::from(
            d.as_bytes()
                .ct_eq(auth::device_tag(core.secret(), &email).as_bytes()),
        )
    });
    let account_failures = if known_device {
        0
    } else {
        crate::store::rate::count(&core.read, window, &account_key)
            .await
            .map_err(ServiceError::from)?
    };
    let address_failures = crate::store::rate::count(&core.read, window, &address_key)
        .await
        .map_err(ServiceError::from)?;
    if !auth::may_try(account_failures, address_failures) {
        return Err(SignInError::Throttled {
            retry_after: retry_after(window, now),
        });
    }
    // What is not an address names nobody (and never reaches the database: PostgreSQL refuses
    // a NUL in text).
    let user = match EmailAddress::parse(&email) {
        Ok(address) => users::by_email(&core.read, address.as_str())
            .await
            .map_err(ServiceError::from)?,
        Err(_) => None,
    };
    let too_long = auth::password_length(password) == Err(PasswordError::TooLong);
    let phc = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .filter(|_| !too_long)
        .unwrap_or_else(|| dummy_hash().to_owned());
    let (matched, stale) = verify(phc, password.chars().take(auth::MAX_PASSWORD).collect()).await;
    let user = match user {
        Some(u) if matched && !too_long && !u.disabled => u,
        _ => {
            let mut keys = vec![address_key];
            if !known_device {
                keys.push(account_key);
            }
            core.writer
                .run(SignInFailed { window, keys }, Priority::Interactive)
                .await
                .map_err(ServiceError::from)?;
            return Err(SignInError::Invalid);
        }
    };
    let rehashed = if stale {
        Some(hash_password(password.to_owned()).await)
    } else {
        None
    };
    core.writer
        .run(
            SignedIn {
                user_id: user.id,
                rehashed,
            },
            Priority::Interactive,
        )
        .await
        .map_err(ServiceError::from)?;
    let t = auth::micros(now);
    let csrf = super::random_text::<24>();
    Ok((
        user.clone(),
        SessionUser {
            user_id: user.id,
            signed_in_at: t,
            seen_at: t,
            csrf,
        },
    ))
}

/// The user a session belongs to, if the session is still good: the user exists, is not
/// disabled, signed in after their sessions were last ended, and the session is neither idle
/// nor too old (by the core's clock).
pub async fn session_user(
    core: &Core,
    s: &SessionUser,
) -> Result<std::result::Result<User, SessionEnd>> {
    let Some(user) = users::by_id(&core.read, s.user_id).await? else {
        return Ok(Err(SessionEnd::Revoked));
    };
    if user.disabled {
        return Ok(Err(SessionEnd::Revoked));
    }
    let now = auth::micros(core.clock.now());
    Ok(
        match auth::session_end(now, s.signed_in_at, s.seen_at, user.sessions_after) {
            Some(end) => Err(end),
            None => Ok(user),
        },
    )
}

/// The alphabet of setup codes: no 0/O, 1/I/L or U to misread.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";

fn code_hash(core: &Core, code: &str) -> Vec<u8> {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    crate::domain::optin::client_key(core.secret(), "console-setup", &plain).to_vec()
}

/// While no user exists: a new one-time setup code (12 characters, about 59 bits), kept as a
/// keyed hash in place of any earlier one, for the server to print. `None` once a user exists.
pub async fn setup_code(core: &Core) -> Result<Option<String>> {
    if users::count(&core.read).await? > 0 {
        return Ok(None);
    }
    let code: String = super::random_bytes::<12>()
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            let c = CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char;
            (i > 0 && i % 4 == 0).then_some('-').into_iter().chain([c])
        })
        .collect();
    let fresh = core
        .writer
        .run(
            users::NewSetupCode {
                code_hash: code_hash(core, &code),
            },
            Priority::Interactive,
        )
        .await?;
    Ok(fresh.then_some(code))
}

/// Whether the setup step is still open (no user exists).
pub async fn setup_open(core: &Core) -> Result<bool> {
    Ok(users::count(&core.read).await? == 0)
}

/// Why the setup page refuses.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("This is not the code the server printed.")]
    WrongCode,
    #[error("A user exists already: sign in instead.")]
    Closed,
    #[error("Too many wrong tries; try again in {retry_after} s.")]
    Throttled { retry_after: i64 },
    #[error(transparent)]
    Create(#[from] CreateError),
}

/// The setup page's step: the first admin, with the code the server printed.
pub async fn first_admin(
    core: &Core,
    code: &str,
    email: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> std::result::Result<i64, SetupError> {
    let now = core.clock.now();
    let window = crate::store::rate::window_start(now, auth::THROTTLE_WINDOW_SECS);
    let address_key = address_key(core, client);
    let failures = crate::store::rate::count(&core.read, window, &address_key)
        .await
        .map_err(|e| CreateError::Service(e.into()))?;
    if !auth::may_try(0, failures) {
        return Err(SetupError::Throttled {
            retry_after: retry_after(window, now),
        });
    }
    let address = EmailAddress::parse(email).map_err(|_| CreateError::BadEmail)?;
    auth::check_password(password, &[address.as_str(), "prefcenter"])
        .map_err(CreateError::Password)?;
    let hash = hash_password(password.to_owned()).await;
    let outcome = core
        .writer
        .run(
            users::CreateFirstAdmin {
                code_hash: code_hash(core, code),
                user: CreateUser {
                    email: address.as_str().to_owned(),
                    role: Role::Admin,
                    password_hash: Some(hash),
                    actor: Actor {
                        user_id: None,
                        name: "setup page".into(),
                    },
                },
            },
            Priority::Interactive,
        )
        .await
        .map_err(|e| CreateError::Service(e.into()))?;
    match outcome {
        users::Setup::Created(id) => Ok(id),
        users::Setup::Closed => Err(SetupError::Closed),
        users::Setup::WrongCode => {
            core.writer
                .run(
                    SignInFailed {
                        window,
                        keys: vec![address_key],
                    },
                    Priority::Interactive,
                )
                .await
                .map_err(|e| CreateError::Service(e.into()))?;
            Err(SetupError::WrongCode)
        }
    }
}

/// Why a password change is refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("This is not your current password.")]
    WrongCurrent,
    #[error("{0}")]
    Weak(PasswordError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Changes a signed-in user's own password (the current one proves it is them). Every other
/// session of theirs ends; the caller's session continues from the returned moment.
pub async fn change_password(
    core: &Core,
    user: &User,
    current: &str,
    new: &str,
) -> std::result::Result<i64, PasswordChangeError> {
    let phc = user
        .password_hash
        .clone()
        .unwrap_or_else(|| dummy_hash().to_owned());
    let (ok, _) = verify(phc, current.chars().take(auth::MAX_PASSWORD).collect()).await;
    if !ok {
        return Err(PasswordChangeError::WrongCurrent);
    }
    auth::check_password(new, &[user.email.as_str(), "prefcenter"])
        .map_err(PasswordChangeError::Weak)?;
    let hash = hash_password(new.to_owned()).await;
    let from = core
        .writer
        .run(
            users::SetPassword {
                user_id: user.id,
                password_hash: hash,
                actor: Actor {
                    user_id: Some(user.id),
                    name: user.email.clone(),
                },
            },
            Priority::Interactive,
        )
        .await
        .map_err(ServiceError::from)?;
    from.ok_or(PasswordChangeError::Service(ServiceError::InvalidLink))
}

/// Gives a user another role, unless no active admin would be left.
pub async fn set_role(
    core: &Core,
    user_id: i64,
    role: Role,
    actor: Actor,
) -> Result<users::UserChange> {
    Ok(core
        .writer
        .run(
            users::SetRole {
                user_id,
                role,
                actor,
            },
            Priority::Interactive,
        )
        .await?)
}

/// Deletes a user, unless no active admin would be left.
pub async fn delete_user(core: &Core, user_id: i64, actor: Actor) -> Result<users::UserChange> {
    Ok(core
        .writer
        .run(users::DeleteUser { user_id, actor }, Priority::Interactive)
        .await?)
}

/// Disables or enables a user; their sessions end at once either way.
pub async fn set_disabled(core: &Core, user_id: i64, disabled: bool, actor: Actor) -> Result<bool> {
    Ok(core
        .writer
        .run(
            SetDisabled {
                user_id,
                disabled,
                actor,
            },
            Priority::Interactive,
        )
        .await?)
}

/// tower-sessions' store: records read on the read connections and written through the
/// single writer, in the database every instance shares.
///
/// A session whose data did not change is not written again only to move its expiry by less
/// than [`TOUCH_SECS`]: tower-sessions saves on every request of a session that ends after
/// inactivity, and a durable write per console page (an fsync) would be most of its cost. A
/// session therefore ends between `IDLE_SECS` and `IDLE_SECS - TOUCH_SECS` after its last
/// request.
#[derive(Clone)]
pub struct SessionStore {
    core: Arc<Core>,
    /// What this instance last read or wrote of each session: its data's hash and expiry.
    known: Arc<std::sync::Mutex<HashMap<String, (u64, time::OffsetDateTime)>>>,
}

/// How far an unchanged session's expiry may move before it is written again.
pub const TOUCH_SECS: i64 = 60;

/// The sessions remembered before expired ones are forgotten.
const KNOWN_MAX: usize = 10_000;

fn data_hash(record: &Record) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // The data in a stable order (a HashMap's own order is not).
    let mut pairs: Vec<(&String, String)> = record
        .data
        .iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    pairs.sort();
    pairs.hash(&mut h);
    h.finish()
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStore")
    }
}

impl SessionStore {
    pub fn new(core: Arc<Core>) -> SessionStore {
        SessionStore {
            core,
            known: Arc::new(std::sync::Mutex::new(HashMap::new())),
        }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, time::OffsetDateTime)>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, record: &Record) {
        let mut known = self.known();
        if known.len() >= KNOWN_MAX {
            let now = time::OffsetDateTime::now_utc();
            known.retain(|_, (_, expiry)| *expiry > now);
        }
        known.insert(
            record.id.to_string(),
            (data_hash(record), record.expiry_date),
        );
    }

    /// Whether writing `record` would change nothing but move its expiry a little.
    fn unchanged(&self, record: &Record) -> bool {
        self.known()
            .get(&record.id.to_string())
            .is_some_and(|(hash, expiry)| {
                *hash == data_hash(record)
                    && (record.expiry_date - *expiry).whole_seconds().abs() < TOUCH_SECS
            })
    }
}

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error as StoreErr, Result as StoreResult};

fn backend(e: impl std::fmt::Display) -> StoreErr {
    StoreErr::Backend(e.to_string())
}

impl SessionStore {
    async fn write(&self, record: &Record, create: bool) -> StoreResult<bool> {
        let data = serde_json::to_vec(record).map_err(|e| StoreErr::Encode(e.to_string()))?;
        self.core
            .writer
            .run(
                users::SaveSession {
                    id: record.id.to_string(),
                    data,
                    expires_at: record.expiry_date,
                    create,
                    now: time::OffsetDateTime::now_utc(),
                },
                Priority::Interactive,
            )
            .await
            .map_err(backend)
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        // A new id until one is free (a collision of 128 random bits will not happen, but the
        // store must not overwrite another's session if it did).
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> StoreResult<()> {
        if self.unchanged(record) {
            return Ok(());
        }
        self.write(record, false).await?;
        self.remember(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        let now = crate::store::format_time(time::OffsetDateTime::now_utc());
        let data = users::load_session(&self.core.read, &id.to_string(), &now)
            .await
            .map_err(backend)?;
        let record: Option<Record> = data
            .map(|d| serde_json::from_slice(&d).map_err(|e| StoreErr::Decode(e.to_string())))
            .transpose()?;
        if let Some(r) = &record {
            self.remember(r);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> StoreResult<()> {
        self.known().remove(&id.to_string());
        self.core
            .writer
            .run(
                users::DeleteSession { id: id.to_string() },
                Priority::Interactive,
            )
            .await
            .map_err(backend)
    }
}
