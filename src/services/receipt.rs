//! Consent receipts: issued for one change a contact made (the "what changed" page, the
//! double opt-in confirmation), checked by anyone (the public page, the CLI).
//!
//! Issuing signs on the read path, when a receipt is asked for: nothing is signed while a
//! change is written, so one-click and page saves pay nothing for receipts.

use super::consent::{Result, ServiceError};
use super::Core;
use crate::domain::ledger::Stored;
use crate::domain::proof::{hex, signing_key, PublicKey};
use crate::domain::receipt::{
    self, Controller, LedgerPart, Opened, Receipt, ReceiptChange, ReceiptError, Service,
    ServicePurpose, KANTARA_VERSION, RECEIPT_TYPE,
};
use crate::domain::{Channel, Source, Subject};
use crate::store::catalog::Catalog;
use crate::store::ledger::{self, Standing};
use crate::store::{self, StoreError};

/// A signed receipt, ready to download.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The JWS compact serialization.
    pub jws: String,
    /// A file name for it: `consent-receipt-2026-11-24-3fa9c2d1.jws`.
    pub file_name: String,
}

/// How the change was collected, in Kantara's `collectionMethod` words.
fn collection_method(source: Source) -> &'static str {
    match source {
        Source::Page => "Preference page, opened from the link in an email",
        Source::OneClick => "One-click unsubscribe from the email client (RFC 8058)",
        Source::DoubleOptIn => "Double opt-in: confirmation link sent to the address",
        Source::Phone => "Told to staff by phone, recorded by them",
        Source::InPerson => "Given to staff in person, recorded by them",
        Source::Paper => "Given on paper, entered by staff",
        Source::Import => "Imported from the organization's records",
        Source::Api => "Recorded by the organization's system through the API",
        Source::System => "Recorded by the preference center itself",
    }
}

fn pii_category(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "Email address",
        Channel::Sms | Channel::Phone => "Telephone number",
    }
}

/// The receipt of change `change_id` of contact `contact_id`, signed with the current key.
/// `principal` is how the receipt names the contact (the masked address the pages show).
pub async fn issue(
    core: &Core,
    catalog: &Catalog,
    contact_id: i64,
    principal: String,
    change_id: &str,
    lang: &str,
) -> Result<Issued> {
    let records: Vec<Stored> = ledger::stored_by_change(&core.read, change_id, contact_id)
        .await?
        .into_iter()
        .filter(|s| s.record.subject != Subject::Erasure)
        .collect();
    let Some(first) = records.first() else {
        return Err(ServiceError::InvalidLink);
    };
    let key_id = store::proof::signing_key_id(&core.read)
        .await?
        .ok_or_else(|| StoreError::Corrupt("no signing key is recorded".into()))?;
    let recorded = store::parse_time(&first.record.occurred_at)?;
    let profile = &catalog.profile;
    // Names in the language the contact was shown.
    let shown_lang = first
        .record
        .language
        .as_deref()
        .and_then(crate::domain::parse::Lang::parse)
        .unwrap_or_default();

    let mut changes = Vec::new();
    let mut purposes: Vec<ServicePurpose> = Vec::new();
    for s in &records {
        let r = &s.record;
        let (purpose, topic) = match r.subject {
            Subject::Purpose(id) => (catalog.purpose(id), None),
            Subject::Topic(id) => {
                let t = catalog.topic(id);
                (t.and_then(|t| catalog.purpose(t.purpose_id)), t)
            }
            Subject::Profile(_) | Subject::Erasure => continue,
        };
        let Some(purpose) = purpose else {
            return Err(StoreError::Corrupt(format!(
                "record {} names a subject its profile does not have",
                r.seq
            ))
            .into());
        };
        let purpose_name = catalog.purpose_words(purpose, shown_lang).0.to_owned();
        let topic_name = topic.map(|t| catalog.topic_words(t, shown_lang).0.to_owned());
        let shown = match &topic_name {
            Some(t) => format!("{purpose_name}: {t}"),
            None => purpose_name.clone(),
        };
        let category = pii_category(r.channel).to_owned();
        match purposes.iter_mut().find(|p| p.purpose == shown) {
            Some(p) if !p.pii_category.contains(&category) => p.pii_category.push(category),
            Some(_) => {}
            None => purposes.push(ServicePurpose {
                purpose: shown,
                purpose_category: vec![purpose_name.clone()],
                consent_type: "EXPLICIT".into(),
                pii_category: vec![category],
                primary_purpose: purpose.mandatory,
                termination: "Until withdrawn: by the unsubscribe link in every message, or on \
                              the preference page"
                    .into(),
                third_party_disclosure: false,
            }),
        }
        changes.push(ReceiptChange {
            event: ReceiptChange::event_of(r.new_value.as_str()).into(),
            purpose: purpose.key.clone(),
            purpose_name,
            topic: topic.map(|t| t.key.clone()),
            topic_name,
            channel: r.channel.as_str().into(),
            old_value: r.old_value.as_str().into(),
            new_value: r.new_value.as_str().into(),
            seq: r.seq,
            hash: hex(&s.hash),
        });
    }

    let contact_email = profile
        .reply_to
        .clone()
        .or_else(|| profile.sender_address.clone())
        .unwrap_or_default();
    let doc = Receipt {
        iss: core.policy.base_url.clone(),
        iat: core.clock.now().unix_timestamp(),
        jti: change_id.to_owned(),
        version: KANTARA_VERSION.into(),
        jurisdiction: profile.jurisdiction.clone().unwrap_or_default(),
        consent_timestamp: recorded.unix_timestamp(),
        collection_method: collection_method(first.record.source).into(),
        consent_receipt_id: change_id.to_owned(),
        language: first
            .record
            .language
            .clone()
            .unwrap_or_else(|| lang.to_owned()),
        pii_principal_id: principal,
        pii_controllers: vec![Controller {
            pii_controller: profile.name.clone(),
            on_behalf: false,
            address: profile.footer_address.clone(),
            email: contact_email,
            pii_controller_url: core.policy.base_url.clone(),
        }],
        policy_url: profile.privacy_url.clone().unwrap_or_default(),
        services: vec![Service {
            service: profile.name.clone(),
            purposes,
        }],
        sensitive: false,
        spi_cat: Vec::new(),
        prefcenter: LedgerPart {
            kind: RECEIPT_TYPE.into(),
            version: 1,
            change_id: change_id.to_owned(),
            recorded_at: first.record.occurred_at.clone(),
            profile: profile.key.clone(),
            changes,
        },
    };
    let jws = receipt::sign(&signing_key(core.secret(), &key_id), &key_id, &doc);
    let short: String = change_id.chars().take(8).collect();
    Ok(Issued {
        jws,
        file_name: format!(
            "consent-receipt-{}-{short}.jws",
            first.record.occurred_at.get(..10).unwrap_or("")
        ),
    })
}

/// Whether what a valid receipt records still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// Every state it records is still the contact's current state.
    Current,
    /// A later change (or an erasure) replaced at least one of them.
    Superseded,
    /// The ledger does not hold a record it names, as named: the ledger was changed.
    NotInLedger,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Current => "current",
            Currency::Superseded => "superseded",
            Currency::NotInLedger => "not_in_ledger",
        }
    }
}

/// What checking a receipt found.
#[derive(Debug, Clone)]
pub enum Checked {
    Valid {
        opened: Box<Opened>,
        currency: Currency,
    },
    Refused(ReceiptError),
}

/// The standing of a valid receipt's records in the ledger.
pub async fn currency(read: &store::Reader, receipt: &Receipt) -> Result<Currency> {
    let changes = &receipt.prefcenter.changes;
    if changes.is_empty() || changes.len() > ledger::MAX_NAMED {
        return Ok(Currency::NotInLedger);
    }
    // A hash that is not one names no record of the ledger.
    let Some(named) = changes
        .iter()
        .map(|c| unhex(&c.hash).map(|h| (c.seq, h)))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(Currency::NotInLedger);
    };
    let standing = ledger::standing(read, &named).await?;
    Ok(
        if standing
            .iter()
            .any(|s| matches!(s, Standing::Missing | Standing::HashDiffers))
        {
            Currency::NotInLedger
        } else if standing
            .iter()
            .all(|s| *s == Standing::Holds { current: true })
        {
            Currency::Current
        } else {
            Currency::Superseded
        },
    )
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Checks a receipt against this deployment's published keys and its ledger. Says nothing
/// the receipt does not already say, besides whether it still stands.
pub async fn check(core: &Core, text: &str) -> Result<Checked> {
    let keys: Vec<PublicKey> = store::proof::public_keys(&core.read).await?;
    match receipt::open(text, &keys) {
        Err(e) => Ok(Checked::Refused(e)),
        Ok(opened) => {
            let currency = currency(&core.read, &opened.receipt).await?;
            Ok(Checked::Valid {
                opened: Box::new(opened),
                currency,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_read_back_only_when_whole() {
        let h = [0xabu8; 32];
        assert_eq!(unhex(&hex(&h)), Some(h));
        assert_eq!(unhex("ab"), None);
        assert_eq!(unhex(&"zz".repeat(32)), None);
        assert_eq!(unhex(&"é".repeat(32)), None);
    }
}
