//! Consent receipts: what a contact can keep of a change and have checked by anyone.
//!
//! A receipt is a JSON document in the structure of the Kantara Initiative Consent Receipt
//! v1.1 (controller, postal address, policy URL, jurisdiction, collection method, language,
//! services and purposes, timestamp, receipt id), with the fields ISO/IEC TS 27560 adds where
//! the Kantara structure has none (each change as an event with its old and new state), plus
//! what ties it to this deployment's ledger: the sequence number and hash of every record the
//! change wrote. It is signed as a JWS in compact serialization (RFC 7515) with EdDSA
//! (Ed25519) under one of the deployment's signing keys, named by `kid`; the public keys are
//! published, so a receipt can be checked without the server (and is also a JWT, RFC 7519, for
//! any library that reads those).
//!
//! The receipt is about a change, not about a person's whole profile: it names the contact
//! only by the masked address the pages show, so a forwarded receipt tells no more than the
//! page it came from.

use super::proof::{KeyId, PublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The Kantara version string the structure follows.
pub const KANTARA_VERSION: &str = "KI-CR-v1.1.0";
/// What the `prefcenter` part of a receipt says it is.
pub const RECEIPT_TYPE: &str = "prefcenter-consent-receipt";
/// The largest receipt read (a receipt of one change is a few kilobytes).
pub const MAX_RECEIPT_BYTES: usize = 64 * 1024;

/// The signed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The deployment that issued it (its public base URL).
    pub iss: String,
    /// When it was issued (Unix seconds).
    pub iat: i64,
    /// The receipt id (the same as `consentReceiptID`).
    pub jti: String,
    /// Kantara: the specification version.
    pub version: String,
    pub jurisdiction: String,
    /// When the change was recorded (Unix seconds).
    #[serde(rename = "consentTimestamp")]
    pub consent_timestamp: i64,
    #[serde(rename = "collectionMethod")]
    pub collection_method: String,
    #[serde(rename = "consentReceiptID")]
    pub consent_receipt_id: String,
    /// The language the contact saw the page in (BCP 47).
    pub language: String,
    /// The contact, as the pages show them (a masked address).
    #[serde(rename = "piiPrincipalId")]
    pub pii_principal_id: String,
    #[serde(rename = "piiControllers")]
    pub pii_controllers: Vec<Controller>,
    #[serde(rename = "policyUrl")]
    pub policy_url: String,
    pub services: Vec<Service>,
    pub sensitive: bool,
    #[serde(rename = "spiCat")]
    pub spi_cat: Vec<String>,
    /// What ties the receipt to the ledger.
    pub prefcenter: LedgerPart,
}

/// Kantara: who controls the personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    #[serde(rename = "piiController")]
    pub pii_controller: String,
    #[serde(rename = "onBehalf")]
    pub on_behalf: bool,
    /// Its postal address (as the pages' footer gives it).
    pub address: String,
    /// How to reach it about this consent (the sender address of its emails, if set).
    pub email: String,
    #[serde(rename = "piiControllerUrl")]
    pub pii_controller_url: String,
}

/// Kantara: a service and the purposes of processing the change touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub service: String,
    pub purposes: Vec<ServicePurpose>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePurpose {
    /// The purpose's (and topic's) name, as the contact saw it.
    pub purpose: String,
    #[serde(rename = "purposeCategory")]
    pub purpose_category: Vec<String>,
    /// "EXPLICIT": every change is an action of the contact's own.
    #[serde(rename = "consentType")]
    pub consent_type: String,
    /// What personal data the purpose uses: the address of each channel.
    #[serde(rename = "piiCategory")]
    pub pii_category: Vec<String>,
    #[serde(rename = "primaryPurpose")]
    pub primary_purpose: bool,
    pub termination: String,
    #[serde(rename = "thirdPartyDisclosure")]
    pub third_party_disclosure: bool,
}

/// This product's part: the change as ISO/IEC TS 27560 events, and the ledger records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPart {
    /// Always [`RECEIPT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    /// The change's id in the ledger (all its records carry it).
    pub change_id: String,
    /// When the change was recorded (UTC, RFC 3339 with microseconds).
    pub recorded_at: String,
    /// The profile the change was made under (its stable key).
    pub profile: String,
    pub changes: Vec<ReceiptChange>,
}

/// One state the change set: a purpose or topic on a channel, from `old` to `new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptChange {
    /// ISO/IEC TS 27560 event type: "given", "withdrawn", "requested" (waiting for the
    /// double opt-in confirmation) or "reset".
    pub event: String,
    pub purpose: String,
    pub purpose_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    pub channel: String,
    pub old_value: String,
    pub new_value: String,
    /// The ledger record that set it, and that record's hash (hex).
    pub seq: i64,
    pub hash: String,
}

impl ReceiptChange {
    /// The ISO/IEC TS 27560 event of a change to `new` (a value's stored name).
    pub fn event_of(new: &str) -> &'static str {
        match new {
            "opted_in" => "given",
            "opted_out" => "withdrawn",
            "pending" => "requested",
            _ => "reset",
        }
    }
}

/// Why a receipt is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error(
        "this is not a consent receipt of this kind (a JWS signed with EdDSA, naming its key)"
    )]
    NotAReceipt,
    #[error("it names signing key {0}, which this deployment has never published")]
    UnknownKey(String),
    #[error(
        "its signature is not valid for key {0}: the receipt was changed, or signed by another key"
    )]
    BadSignature(KeyId),
}

impl ReceiptError {
    /// A stable code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptError::NotAReceipt => "not_a_receipt",
            ReceiptError::UnknownKey(_) => "unknown_key",
            ReceiptError::BadSignature(_) => "bad_signature",
        }
    }
}

/// Signs `receipt` with `key` (the signing key of `key_id`): the JWS compact serialization.
pub fn sign(key: &ed25519_dalek::SigningKey, key_id: &KeyId, receipt: &Receipt) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let der = key
        .to_pkcs8_der()
        .expect("an Ed25519 key always encodes as PKCS#8");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key_id.to_string());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, receipt, &EncodingKey::from_ed_der(der.as_bytes()))
        .expect("EdDSA signing of a serializable document cannot fail")
}

/// A receipt whose signature holds, and the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub receipt: Receipt,
    pub key_id: KeyId,
}

/// Checks a receipt's signature against the published `keys` and reads it. Whitespace around
/// the text (a pasted or saved file's newline) is ignored; nothing else is.
pub fn open(text: &str, keys: &[PublicKey]) -> Result<Opened, ReceiptError> {
    let jws = text.trim();
    if jws.is_empty() || jws.len() > MAX_RECEIPT_BYTES || jws.split('.').count() != 3 {
        return Err(ReceiptError::NotAReceipt);
    }
    let header = jsonwebtoken::decode_header(jws).map_err(|_| ReceiptError::NotAReceipt)?;
    if header.alg != Algorithm::EdDSA {
        return Err(ReceiptError::NotAReceipt);
    }
    let kid = header.kid.ok_or(ReceiptError::NotAReceipt)?;
    let key_id = KeyId::parse(&kid).ok_or(ReceiptError::UnknownKey(kid.clone()))?;
    let public = keys
        .iter()
        .find(|k| k.id == key_id)
        .ok_or(ReceiptError::UnknownKey(kid))?;
    let bad = || ReceiptError::BadSignature(key_id.clone());
    if public.verifying_key().is_none() {
        return Err(bad());
    }
    let decoding = DecodingKey::from_ed_components(&public.public_key).map_err(|_| bad())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // A receipt does not expire and names no audience: it records a moment.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.validate_nbf = false;
    let data = jsonwebtoken::decode::<Receipt>(jws, &decoding, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            // Signed by this key, but not a receipt of ours (another JWT of the deployment).
            ErrorKind::Json(_) | ErrorKind::Utf8(_) => ReceiptError::NotAReceipt,
            _ => bad(),
        }
    })?;
    let receipt = data.claims;
    if receipt.prefcenter.kind != RECEIPT_TYPE || receipt.prefcenter.version != 1 {
        return Err(ReceiptError::NotAReceipt);
    }
    Ok(Opened { receipt, key_id })
}

/// The published key set: each key with its own fields and as a JWK (RFC 8037, `OKP` /
/// `Ed25519`), so any JOSE library can check a receipt with it.
pub fn key_set(keys: &[PublicKey]) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "id": k.id,
                "algorithm": k.algorithm,
                "public_key": k.public_key,
                "created_at": k.created_at,
                "kty": "OKP",
                "crv": "Ed25519",
                "x": k.public_key,
                "kid": k.id,
                "alg": "EdDSA",
                "use": "sig",
            })
        })
        .collect();
    serde_json::json!({ "keys": keys })
}

/// Reads a key set as [`key_set`] writes it (the page at `/.well-known/prefcenter/keys`, saved),
/// a plain JWK Set of Ed25519 keys, or a single key of either kind.
pub fn parse_key_set(text: &str) -> Result<Vec<PublicKey>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let items = match v.get("keys") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(_) => return Err("\"keys\" is not a list".into()),
        None => vec![v],
    };
    let str_of =
        |o: &serde_json::Value, k: &str| o.get(k).and_then(|s| s.as_str()).map(str::to_owned);
    let mut out = Vec::new();
    for (i, o) in items.iter().enumerate() {
        let id = str_of(o, "kid").or_else(|| str_of(o, "id"));
        let x = str_of(o, "x").or_else(|| str_of(o, "public_key"));
        let (Some(id), Some(x)) = (id, x) else {
            return Err(format!("key {} has no id (kid) or public key (x)", i + 1));
        };
        if str_of(o, "kty").is_some_and(|k| k != "OKP")
            || str_of(o, "crv").is_some_and(|c| c != "Ed25519")
        {
            return Err(format!("key {id} is not an Ed25519 key"));
        }
        let id = KeyId::parse(&id).ok_or_else(|| format!("{id:?} is not a key id"))?;
        let key = PublicKey {
            id,
            algorithm: "Ed25519".into(),
            public_key: x,
            created_at: str_of(o, "created_at").unwrap_or_default(),
        };
        if key.verifying_key().is_none() {
            return Err(format!("key {} is not a valid Ed25519 public key", key.id));
        }
        out.push(key);
    }
    if out.is_empty() {
        return Err("the key set holds no key".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::proof::signing_key;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    fn key(secret: &[u8]) -> (KeyId, ed25519_dalek::SigningKey, Vec<PublicKey>) {
        let id = KeyId::parse("sig-20261124-00000001").unwrap();
        let sk = signing_key(secret, &id);
        let public = vec![PublicKey::of(id.clone(), &sk.verifying_key(), "t".into())];
        (id, sk, public)
    }

    pub(crate) fn sample() -> Receipt {
        Receipt {
            iss: "https://prefs.example.org".into(),
            iat: 1_795_000_000,
            jti: "c0ffee".into(),
            version: KANTARA_VERSION.into(),
            jurisdiction: "EU".into(),
            consent_timestamp: 1_795_000_000,
            collection_method: "Unsubscribe page".into(),
            consent_receipt_id: "c0ffee".into(),
            language: "en".into(),
            pii_principal_id: "h***y@contoso.com".into(),
            pii_controllers: vec![Controller {
                pii_controller: "Contoso".into(),
                on_behalf: false,
                address: "1 Main St".into(),
                email: "privacy@contoso.com".into(),
                pii_controller_url: "https://contoso.com".into(),
            }],
            policy_url: "https://contoso.com/privacy".into(),
            services: vec![],
            sensitive: false,
            spi_cat: vec![],
            prefcenter: LedgerPart {
                kind: RECEIPT_TYPE.into(),
                version: 1,
                change_id: "c0ffee".into(),
                recorded_at: "2026-11-24T10:00:00.000000Z".into(),
                profile: "contoso".into(),
                changes: vec![ReceiptChange {
                    event: "withdrawn".into(),
                    purpose: "marketing".into(),
                    purpose_name: "Marketing".into(),
                    topic: Some("newsletter".into()),
                    topic_name: Some("Newsletter".into()),
                    channel: "email".into(),
                    old_value: "opted_in".into(),
                    new_value: "opted_out".into(),
                    seq: 7,
                    hash: "ab".repeat(32),
                }],
            },
        }
    }

    #[test]
    fn a_signed_receipt_opens_with_the_published_key() {
        let (id, sk, public) = key(b"a deployment secret of enough length....");
        let jws = sign(&sk, &id, &sample());
        assert_eq!(jws.split('.').count(), 3);
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jws.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], id.as_str());
        let opened = open(&format!("  {jws}\n"), &public).unwrap();
        assert_eq!(opened.key_id, id);
        assert_eq!(opened.receipt, sample());
        // Ed25519 is deterministic: the same document signs the same.
        assert_eq!(sign(&sk, &id, &sample()), jws);
    }

    #[test]
    fn any_changed_byte_is_refused() {
        let (id, sk, public) = key(b"a deployment secret of enough length....");
        let jws = sign(&sk, &id, &sample());
        let mut refused = 0;
        for i in 0..jws.len() {
            let mut b = jws.clone().into_bytes();
            if b[i] == b'.' {
                continue;
            }
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(b).unwrap();
            match open(&forged, &public) {
                Err(_) => refused += 1,
                // Base64url's last character carries spare bits: a change there may decode
                // to the same bytes, so the document is the same one.
                Ok(o) => assert_eq!(o.receipt, sample(), "byte {i} changed the document"),
            }
        }
        assert!(refused > jws.len() - 10, "{refused} of {}", jws.len());
        // A changed payload is a bad signature, not a parse error.
        let parts: Vec<&str> = jws.split('.').collect();
        let mut doc: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        doc["prefcenter"]["changes"][0]["new_value"] = "opted_in".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&doc).unwrap()),
            parts[2]
        );
        assert_eq!(open(&forged, &public), Err(ReceiptError::BadSignature(id)));
    }

    #[test]
    fn another_key_under_the_same_id_or_an_unknown_id_is_refused() {
        let (id, _, public) = key(b"a deployment secret of enough length....");
        let (_, stranger, _) = key(b"another deployment's secret, long enough");
        let forged = sign(&stranger, &id, &sample());
        assert_eq!(
            open(&forged, &public),
            Err(ReceiptError::BadSignature(id.clone()))
        );
        let other = KeyId::parse("sig-other").unwrap();
        let forged = sign(&stranger, &other, &sample());
        assert_eq!(
            open(&forged, &public),
            Err(ReceiptError::UnknownKey("sig-other".into()))
        );
        assert_eq!(open(&forged, &public).unwrap_err().code(), "unknown_key");
    }

    #[test]
    fn junk_is_not_a_receipt() {
        let (id, sk, public) = key(b"a deployment secret of enough length....");
        for junk in [
            "",
            "hello",
            "a.b.c",
            "a.b",
            "....",
            &"x".repeat(MAX_RECEIPT_BYTES + 1),
            "eyJhbGciOiJub25lIn0.e30.",
        ] {
            assert_eq!(
                open(junk, &public),
                Err(ReceiptError::NotAReceipt),
                "{junk:.20}"
            );
        }
        // HS256 with the public key as the secret (algorithm confusion): refused.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(id.to_string());
        let hs = jsonwebtoken::encode(
            &header,
            &sample(),
            &EncodingKey::from_secret(public[0].public_key.as_bytes()),
        )
        .unwrap();
        assert_eq!(open(&hs, &public), Err(ReceiptError::NotAReceipt));
        // Signed by the key but not a receipt (a checkpoint-like document).
        let other = sign_value(&sk, &id, &serde_json::json!({"type": "x"}));
        assert_eq!(open(&other, &public), Err(ReceiptError::NotAReceipt));
        let mut wrong_type = sample();
        wrong_type.prefcenter.kind = "something-else".into();
        assert_eq!(
            open(&sign(&sk, &id, &wrong_type), &public),
            Err(ReceiptError::NotAReceipt)
        );
    }

    #[test]
    fn the_published_key_set_reads_back_as_jwks_or_our_own_fields() {
        let (id, sk, public) = key(b"a deployment secret of enough length....");
        let set = key_set(&public);
        assert_eq!(set["keys"][0]["kty"], "OKP");
        assert_eq!(set["keys"][0]["kid"], id.as_str());
        let back = parse_key_set(&set.to_string()).unwrap();
        assert_eq!(back[0].id, id);
        assert_eq!(back[0].public_key, public[0].public_key);
        // A bare JWK, as another tool would write it.
        let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": id.as_str(), "x": public[0].public_key});
        let one = parse_key_set(&jwk.to_string()).unwrap();
        assert!(open(&sign(&sk, &id, &sample()), &one).is_ok());
        for bad in [
            "nope",
            "{}",
            r#"{"keys": 3}"#,
            r#"{"keys": []}"#,
            r#"{"kid": "k", "x": "AAAA"}"#,
            r#"{"kty": "RSA", "kid": "k", "x": "AAAA"}"#,
            r#"{"kid": "../x", "x": "AAAA"}"#,
        ] {
            assert!(parse_key_set(bad).is_err(), "{bad}");
        }
    }

    fn sign_value(
        key: &ed25519_dalek::SigningKey,
        key_id: &KeyId,
        v: &serde_json::Value,
    ) -> String {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let der = key.to_pkcs8_der().unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key_id.to_string());
        jsonwebtoken::encode(&header, v, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
    }
}
