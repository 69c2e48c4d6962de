//! Double opt-in: what a confirmation request holds, the signed stamp of what a page showed,
//! and when a failed email is tried again. Pure rules; the store keeps them, the services use
//! them.

use super::model::{Channel, ConsentValue, Subject};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One (purpose or topic, channel) waiting for confirmation, with the value it had before it
/// became pending: what it returns to if the request expires or the contact declines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingItem {
    pub subject: Subject,
    pub channel: Channel,
    pub before: ConsentValue,
}

impl PendingItem {
    /// `t12.email` / `p3.sms`: the form field of this item.
    pub fn field(&self) -> String {
        field_name(self.subject, self.channel)
    }
}

/// The form field of one cell: `t12.email` (topic 12) or `p3.sms` (purpose 3 without topics).
pub fn field_name(subject: Subject, channel: Channel) -> String {
    let k = match subject {
        Subject::Purpose(_) => 'p',
        Subject::Topic(_) => 't',
        Subject::Profile(_) => 'f',
        Subject::Erasure => 'e',
    };
    format!("{k}{}.{}", subject.id(), channel.as_str())
}

/// Parses a field name back; `None` for anything a page would not send.
pub fn parse_field(field: &str) -> Option<(Subject, Channel)> {
    let (head, channel) = field.split_once('.')?;
    let channel = Channel::parse(channel)?;
    let (k, id) = head.split_at_checked(1)?;
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: i64 = id.parse().ok()?;
    let kind = match k {
        "p" => "purpose",
        "t" => "topic",
        _ => return None,
    };
    Some((Subject::from_parts(kind, id)?, channel))
}

/// The items of one request, in the order they were asked for, at most one per
/// (subject, channel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PendingItems(pub Vec<PendingItem>);

impl PendingItems {
    /// Stored form: `t12.email=not_set t14.sms=opted_out`.
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|i| format!("{}={}", i.field(), i.before.as_str()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn decode(s: &str) -> Option<PendingItems> {
        let mut out = PendingItems::default();
        for part in s.split_whitespace() {
            let (field, before) = part.split_once('=')?;
            let (subject, channel) = parse_field(field)?;
            let before = ConsentValue::parse(before)?;
            out.add(PendingItem {
                subject,
                channel,
                before,
            });
        }
        Some(out)
    }

    /// Adds an item unless the same (subject, channel) is already there: the first "before"
    /// wins, because that is the value from before the contact ever asked.
    pub fn add(&mut self, item: PendingItem) {
        if !self
            .0
            .iter()
            .any(|i| i.subject == item.subject && i.channel == item.channel)
        {
            self.0.push(item);
        }
    }

    pub fn merge(&mut self, other: &PendingItems) {
        for i in &other.0 {
            self.add(*i);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a page showed a contact: the form version and the language the server rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownForm {
    pub form_version: i64,
    pub lang: &'static str,
}

const STAMP_TAG: &[u8] = b"prefcenter-view-stamp-v1";

fn stamp_mac(key: &[u8], binding: &[u8], payload: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(STAMP_TAG);
    mac.update(&(binding.len() as u64).to_be_bytes());
    mac.update(binding);
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key a client's hits are counted under: a keyed hash of what names the client (its
/// address), so the count is shared by every instance and the address itself is never stored.
pub fn client_key(secret: &[u8], scope: &str, client: &str) -> [u8; 16] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"prefcenter-rate-v1\0");
    mac.update(scope.as_bytes());
    mac.update(b"\0");
    mac.update(client.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
    out
}

/// Signs what a page shows, bound to the link (or form) it was shown for, so the POST that
/// follows can prove the version and language came from the server. The browser carries it
/// back in a hidden field; a changed or foreign stamp does not verify.
pub fn sign_stamp(key: &[u8], binding: &[u8], shown: ShownForm) -> String {
    let payload = format!("{}.{}", shown.form_version, shown.lang);
    let mac = stamp_mac(key, binding, &payload);
    format!("{payload}.{}", hex(&mac[..16]))
}

/// Checks a stamp; `lang_of` maps the language code back to one the server knows.
pub fn verify_stamp(
    key: &[u8],
    binding: &[u8],
    stamp: &str,
    lang_of: impl Fn(&str) -> Option<&'static str>,
) -> Option<ShownForm> {
    if stamp.len() > 80 {
        return None;
    }
    let (payload, mac) = stamp.rsplit_once('.')?;
    let expected = stamp_mac(key, binding, payload);
    let given = (0..mac.len())
        .step_by(2)
        .map(|i| {
            mac.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    use subtle::ConstantTimeEq;
    if given.len() != 16 || !bool::from(given.as_slice().ct_eq(&expected[..16])) {
        return None;
    }
    let (version, lang) = payload.split_once('.')?;
    Some(ShownForm {
        form_version: version.parse().ok().filter(|v: &i64| *v > 0)?,
        lang: lang_of(lang)?,
    })
}

/// How long to wait before trying a failed email again: exponential from `base`, capped at
/// `max`, spread by `jitter` (a number in [0, 1) the caller draws) over ±20% so that many
/// messages failing together do not all come back at once.
pub fn retry_delay(
    attempts: u32,
    base: std::time::Duration,
    max: std::time::Duration,
    jitter: f64,
) -> std::time::Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let raw = base.saturating_mul(1u32 << exp).min(max);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    raw.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_key_depends_on_the_secret_scope_and_client_and_hides_the_client() {
        let k = client_key(b"secret-one", "signup", "203.0.113.9");
        assert_eq!(k, client_key(b"secret-one", "signup", "203.0.113.9"));
        assert_ne!(k, client_key(b"secret-two", "signup", "203.0.113.9"));
        assert_ne!(k, client_key(b"secret-one", "confirm", "203.0.113.9"));
        assert_ne!(k, client_key(b"secret-one", "signup", "203.0.113.10"));
        assert!(!k.windows(4).any(|w| w == [203, 0, 113, 9]));
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn pending_items_round_trip_and_keep_the_first_before() {
        let mut items = PendingItems::default();
        items.add(PendingItem {
            subject: Subject::Topic(12),
            channel: Channel::Email,
            before: ConsentValue::NotSet,
        });
        items.add(PendingItem {
            subject: Subject::Purpose(3),
            channel: Channel::Sms,
            before: ConsentValue::OptedOut,
        });
        // Asked again later: the value from before the first ask stays.
        items.add(PendingItem {
            subject: Subject::Topic(12),
            channel: Channel::Email,
            before: ConsentValue::Pending,
        });
        let s = items.encode();
        assert_eq!(s, "t12.email=not_set p3.sms=opted_out");
        assert_eq!(PendingItems::decode(&s), Some(items));
        for bad in [
            "t12.email",
            "x1.email=not_set",
            "t1.fax=not_set",
            "t1.email=maybe",
        ] {
            assert_eq!(PendingItems::decode(bad), None, "{bad}");
        }
        assert_eq!(PendingItems::decode(""), Some(PendingItems::default()));
    }

    #[test]
    fn field_names_round_trip_and_reject_junk() {
        let f = field_name(Subject::Topic(12), Channel::Sms);
        assert_eq!(f, "t12.sms");
        assert_eq!(parse_field(&f), Some((Subject::Topic(12), Channel::Sms)));
        for bad in [
            "",
            "t.email",
            "x1.email",
            "t1.fax",
            "t1",
            "t-1.email",
            "t99999999999999999999.email",
            "té.email",
        ] {
            assert_eq!(parse_field(bad), None, "{bad}");
        }
    }

    fn lang(code: &str) -> Option<&'static str> {
        (code == "en").then_some("en")
    }

    #[test]
    fn a_stamp_verifies_only_unchanged_and_for_its_own_link() {
        let key = b"0123456789abcdef0123456789abcdef";
        let shown = ShownForm {
            form_version: 3,
            lang: "en",
        };
        let s = sign_stamp(key, b"link-a", shown);
        assert_eq!(verify_stamp(key, b"link-a", &s, lang), Some(shown));
        // Another link, another key, an edited version: nothing verifies.
        assert_eq!(verify_stamp(key, b"link-b", &s, lang), None);
        assert_eq!(verify_stamp(b"another key", b"link-a", &s, lang), None);
        let forged = s.replacen("3.en", "9.en", 1);
        assert_eq!(verify_stamp(key, b"link-a", &forged, lang), None);
        for junk in ["", ".", "3.en.", "3.en.zz", &"a".repeat(500)] {
            assert_eq!(verify_stamp(key, b"link-a", junk, lang), None, "{junk}");
        }
    }

    #[test]
    fn retries_back_off_exponentially_with_a_cap_and_jitter() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, base, max, 0.5), Duration::from_secs(30));
        assert_eq!(retry_delay(2, base, max, 0.5), Duration::from_secs(60));
        assert_eq!(retry_delay(3, base, max, 0.5), Duration::from_secs(120));
        assert_eq!(retry_delay(30, base, max, 0.5), max);
        assert_eq!(retry_delay(1, base, max, 0.0), Duration::from_secs(24));
        assert!(retry_delay(1, base, max, 0.999) < Duration::from_secs(36));
    }
}
