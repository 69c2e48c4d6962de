//! Console users: roles and what each may do, the password rules, and the sign-in throttle.
//! Plain rules; hashing and storage live in the services and the store.

use serde::{Deserialize, Serialize};

/// What a console user is (PRODUCT.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sets up profiles, purposes, topics, forms, users and keys.
    Admin,
    /// Records consent taken by phone, finds contacts, starts data requests.
    Staff,
    /// Builds segments and reads reports; changes nothing about a contact.
    Analyst,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Staff, Role::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role's name on the console's pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Staff => "Staff",
            Role::Analyst => "Analyst",
        }
    }

    /// Whether this role may do `what`.
    pub fn may(self, what: Permission) -> bool {
        match what {
            Permission::UseConsole => true,
            Permission::ManageUsers
            | Permission::ConfigureProfiles
            | Permission::ReadAudit
            | Permission::ManageApiKeys
            | Permission::ManageWebhooks
            | Permission::ApproveErasure
            | Permission::ImportConsent => self == Role::Admin,
            Permission::RecordConsent => matches!(self, Role::Admin | Role::Staff),
            Permission::ReadReports => true,
        }
    }
}

/// What the console lets a user do; every route and server function names the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    UseConsole,
    ManageUsers,
    ConfigureProfiles,
    RecordConsent,
    ReadReports,
    /// The console's audit log and its export.
    ReadAudit,
    /// Make and revoke the API's keys.
    ManageApiKeys,
    /// Register webhook endpoints, see and replay their deliveries.
    ManageWebhooks,
    /// Carry out an erasure staff started (GDPR Art. 17): one person starts, another approves.
    ApproveErasure,
    /// Import consent from files (a bulk change of many contacts' consent).
    ImportConsent,
}

/// The shortest and longest password accepted.
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("use at least 12 characters")]
    TooShort,
    #[error("use at most 128 characters")]
    TooLong,
    #[error("this password is too common or too easy to guess; choose another")]
    TooCommon,
}

impl PasswordError {
    pub fn code(self) -> &'static str {
        match self {
            PasswordError::TooShort => "password_too_short",
            PasswordError::TooLong => "password_too_long",
            PasswordError::TooCommon => "password_too_common",
        }
    }
}

/// Length in characters (not bytes: "pässwörd" is 8).
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The length rule alone (the guessability check needs the server's word lists).
pub fn password_length(password: &str) -> Result<(), PasswordError> {
    match chars(password) {
        n if n < MIN_PASSWORD => Err(PasswordError::TooShort),
        n if n > MAX_PASSWORD => Err(PasswordError::TooLong),
        _ => Ok(()),
    }
}

/// A new password: long enough, not too long, and not common or guessable (zxcvbn's
/// frequency lists hold the common passwords; a score under 3 is refused). `context` are
/// words the password must not lean on: the user's email address, the product's name.
#[cfg(feature = "ssr")]
pub fn check_password(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    password_length(password)?;
    let estimate = zxcvbn::zxcvbn(password, context);
    if (estimate.score() as u8) < 3 {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// How many failed sign-ins an account may have in one throttle window before further tries
/// for it are refused, and how many a client address may have (across accounts).
pub const ACCOUNT_FAILURES: i64 = 5;
pub const ADDRESS_FAILURES: i64 = 20;
/// The throttle window, in seconds: the count starts again in the next one, so the real user
/// gets out of a lock at the latest after this long.
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// The device cookie of an account: an HMAC of the address under the deployment secret.
#[cfg(feature = "ssr")]
pub fn device_tag(secret: &[u8], email: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret)
        .expect("HMAC takes any key length");
    mac.update(b"prefcenter-device-v1\0");
    mac.update(email.to_lowercase().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether a sign-in may be tried, given the failures so far in this window for the account
/// and for the client's address. A browser that signed in to the account before carries a
/// device cookie for it (OWASP's device cookies): its tries skip the account's count, so an
/// attacker hammering the account locks out only the browsers that never signed in to it.
pub fn may_try(account_failures: i64, address_failures: i64) -> bool {
    account_failures < ACCOUNT_FAILURES && address_failures < ADDRESS_FAILURES
}

/// How long a session may sit unused, and how long it may last at all.
pub const IDLE_SECS: i64 = 30 * 60;
/// How long an invitation link stands (each resend mints a fresh one).
pub const INVITE_DAYS: i64 = 7;
pub const ABSOLUTE_SECS: i64 = 12 * 3600;

/// Why a session is no longer good, or `None` while it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Idle,
    Absolute,
    /// The user was disabled (or deleted) after the session began.
    Revoked,
}

/// A moment as sessions count it: Unix microseconds (the stored timestamps' resolution, so a
/// session begun earlier in the same second as a password change still ends with it).
#[cfg(feature = "ssr")]
pub fn micros(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

const SECOND: i64 = 1_000_000;

/// Checks a session's times (Unix microseconds) against `now` and the user's
/// `sessions_after`.
pub fn session_end(
    now: i64,
    signed_in_at: i64,
    seen_at: i64,
    sessions_after: i64,
) -> Option<SessionEnd> {
    if signed_in_at < sessions_after {
        Some(SessionEnd::Revoked)
    } else if now - signed_in_at >= ABSOLUTE_SECS * SECOND {
        Some(SessionEnd::Absolute)
    } else if now - seen_at >= IDLE_SECS * SECOND {
        Some(SessionEnd::Idle)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_and_analysts_record_nothing() {
        for r in Role::ALL {
            assert!(r.may(Permission::UseConsole));
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::Admin.may(Permission::ManageUsers));
        assert!(!Role::Staff.may(Permission::ManageUsers));
        assert!(!Role::Analyst.may(Permission::ConfigureProfiles));
        assert!(Role::Staff.may(Permission::RecordConsent));
        assert!(!Role::Analyst.may(Permission::RecordConsent));
        assert!(Role::Admin.may(Permission::ApproveErasure));
        assert!(!Role::Staff.may(Permission::ApproveErasure));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn password_length_counts_characters() {
        assert_eq!(password_length("short"), Err(PasswordError::TooShort));
        assert_eq!(password_length("ääääääääääa"), Err(PasswordError::TooShort));
        assert_eq!(password_length("ääääääääääää"), Ok(()));
        assert_eq!(
            password_length(&"x".repeat(129)),
            Err(PasswordError::TooLong)
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in [
            "password1234",
            "123456789012",
            "qwertyuiopas",
            "aaaaaaaaaaaa",
        ] {
            assert_eq!(
                check_password(weak, &[]),
                Err(PasswordError::TooCommon),
                "{weak}"
            );
        }
        assert_eq!(
            check_password("holly@contoso.com1", &["holly@contoso.com"]),
            Err(PasswordError::TooCommon)
        );
        assert_eq!(check_password("violet tram kettle 93", &[]), Ok(()));
    }

    #[test]
    fn sessions_end_when_idle_too_old_or_revoked() {
        let t = 1_795_000_000 * SECOND;
        assert_eq!(session_end(t, t, t, 0), None);
        assert_eq!(session_end(t + IDLE_SECS * SECOND - 1, t, t, 0), None);
        assert_eq!(
            session_end(t + IDLE_SECS * SECOND, t, t, 0),
            Some(SessionEnd::Idle)
        );
        assert_eq!(
            session_end(
                t + ABSOLUTE_SECS * SECOND,
                t,
                t + (ABSOLUTE_SECS - 60) * SECOND,
                0
            ),
            Some(SessionEnd::Absolute)
        );
        // Begun one microsecond before the user's sessions were ended: over.
        assert_eq!(session_end(t + 5, t, t, t + 1), Some(SessionEnd::Revoked));
        assert_eq!(session_end(t + 5, t + 1, t + 1, t + 1), None);
        assert!(may_try(ACCOUNT_FAILURES - 1, 0));
        assert!(!may_try(ACCOUNT_FAILURES, 0));
        assert!(!may_try(0, ADDRESS_FAILURES));
    }
}
