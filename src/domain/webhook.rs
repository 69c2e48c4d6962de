//! Webhooks, as the Standard Webhooks specification has them: the events a receiver can ask
//! for, the endpoint's signing secret (derived, never stored), and the address rules that keep
//! the server from being pointed at its own network. (Signing is the `standardwebhooks`
//! crate's, on the server.)

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

/// What a receiver can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A ledger record: consent given, withdrawn, pending or confirmed.
    ConsentChanged,
    /// A contact was erased: every copy of them should go.
    ContactErased,
    /// A fact of a contact's profile changed: consent level, child, custodian or tracking.
    ProfileChanged,
}

impl EventType {
    pub const ALL: [EventType; 3] = [
        EventType::ConsentChanged,
        EventType::ContactErased,
        EventType::ProfileChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ConsentChanged => "consent.changed",
            EventType::ContactErased => "contact.erased",
            EventType::ProfileChanged => "contact.profile_changed",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            EventType::ConsentChanged => "Consent changes (every ledger record)",
            EventType::ContactErased => "Erasures (a contact was forgotten)",
            EventType::ProfileChanged => {
                "Profile changes (consent level, child, custodian, tracking)"
            }
        }
    }
}

/// The event types of an endpoint, as stored (comma-separated); unknown words are dropped.
pub fn parse_events(stored: &str) -> Vec<EventType> {
    let mut v: Vec<EventType> = stored
        .split(',')
        .filter_map(|s| EventType::parse(s.trim()))
        .collect();
    v.sort();
    v.dedup();
    v
}

pub fn events_text(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The signing secret of an endpoint: 32 bytes derived from the deployment secret and the
/// endpoint's salt.
pub fn endpoint_secret(deployment: &[u8], salt: &[u8]) -> [u8; 32] {
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(deployment).expect("HMAC takes any key length");
    m.update(b"prefcenter-webhook-secret-v1\0");
    m.update(salt);
    m.finalize().into_bytes().into()
}

/// After a rotation, how long messages are signed under the previous secret too (Standard
/// Webhooks: several space-separated signatures; a receiver accepts the one it can check).
pub const ROTATION_HOURS: i64 = 24;

/// The secret as Standard Webhooks libraries take it: `whsec_` and base64.
pub fn whsec(secret: &[u8; 32]) -> String {
    format!("whsec_{}", STANDARD.encode(secret))
}

/// Why an endpoint's address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("give the full address, starting with https:// (or http://)")]
    NotHttp,
    #[error("the address may not hold a user name or password")]
    Credentials,
    #[error("the address is longer than 2,000 characters")]
    TooLong,
    #[error("the address points into a private network (loopback, private, link-local); the server's settings do not allow that")]
    Private,
}

/// A webhook endpoint's address: http(s) with a host, no credentials. Returns the normalised
/// form and its host (an IP literal is checked here; a name is checked when it resolves).
pub fn check_url(s: &str, allow_private: bool) -> Result<(String, url::Host<String>), UrlRefused> {
    let s = s.trim();
    if s.len() > 2000 {
        return Err(UrlRefused::TooLong);
    }
    let u = url::Url::parse(s).map_err(|_| UrlRefused::NotHttp)?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(UrlRefused::NotHttp);
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    let host = u.host().ok_or(UrlRefused::NotHttp)?.to_owned();
    let literal = match &host {
        url::Host::Ipv4(a) => Some(IpAddr::V4(*a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        url::Host::Domain(d)
            if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
        {
            Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = literal {
        if !allow_private && !is_public(ip) {
            return Err(UrlRefused::Private);
        }
    }
    Ok((u.to_string(), host))
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (carrier-grade NAT), unspecified, multicast, broadcast, documentation or reserved, in IPv4
/// or IPv6 (an IPv4 address inside IPv6 is judged as the IPv4 one).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_reads_as_standard_webhooks_libraries_take_it() {
        let s = whsec(&[7u8; 32]);
        let b64 = s.strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(b64).unwrap(), [7u8; 32]);
    }

    #[test]
    fn secrets_differ_by_salt_and_deployment() {
        let a = endpoint_secret(b"deployment one", b"salt-1");
        assert_eq!(a, endpoint_secret(b"deployment one", b"salt-1"));
        assert_ne!(a, endpoint_secret(b"deployment one", b"salt-2"));
        assert_ne!(a, endpoint_secret(b"deployment two", b"salt-1"));
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for bad in [
            "http://127.0.0.1:8080/hook",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.5.5/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://localhost:3000/",
            "http://api.localhost/",
        ] {
            assert_eq!(check_url(bad, false), Err(UrlRefused::Private), "{bad}");
            assert!(check_url(bad, true).is_ok(), "{bad}");
        }
        for good in [
            "https://hooks.example.com/prefs",
            "http://8.8.8.8/x",
            "https://[2606:4700::1111]/",
        ] {
            assert!(check_url(good, false).is_ok(), "{good}");
        }
        assert_eq!(
            check_url("ftp://example.com/", false),
            Err(UrlRefused::NotHttp)
        );
        assert_eq!(
            check_url("javascript:alert(1)", false),
            Err(UrlRefused::NotHttp)
        );
        assert_eq!(
            check_url("https://u:p@example.com/", false),
            Err(UrlRefused::Credentials)
        );
        assert_eq!(
            check_url("example.com/hook", false),
            Err(UrlRefused::NotHttp)
        );
    }

    #[test]
    fn events_round_trip() {
        let e = parse_events("contact.erased, consent.changed,nope,consent.changed");
        assert_eq!(e, [EventType::ConsentChanged, EventType::ContactErased]);
        assert_eq!(events_text(&e), "consent.changed,contact.erased");
    }
}
