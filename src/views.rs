//! What the contact's pages show: plain data built by the services and rendered by `pages/`.
//! Shared by the server and the browser build.

use crate::domain::parse::Lang;
use crate::domain::{Channel, ConsentValue};
use serde::{Deserialize, Serialize};

/// The compliance profile's brand, validated data only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brand {
    pub name: String,
    /// `#rrggbb`, validated.
    pub primary: String,
    /// Text colour readable on `primary`.
    pub on_primary: String,
    pub footer_address: String,
    /// Text under the postal address (registration, legal notice), as the admin wrote it.
    pub legal_footer: Option<String>,
    pub privacy_url: Option<String>,
    /// The CSS font stack (one of the designer's fixed list).
    pub font: String,
    /// The published design's line under the brand name, in the page's language.
    pub header: Option<String>,
    /// Whether the unsubscribe page offers "Unsubscribe from everything".
    pub unsubscribe_all: bool,
    /// The published design's page texts in the page's language, by message id.
    pub texts: std::collections::BTreeMap<String, String>,
    /// The logo: its address (`/logo/<sha256>`), width and height.
    pub logo: Option<(String, u32, u32)>,
}

impl Brand {
    /// A page text: the design's where it replaced it, else the catalogue's.
    pub fn text<'a>(&'a self, id: &str, catalogue: &'a str) -> &'a str {
        self.texts.get(id).map(String::as_str).unwrap_or(catalogue)
    }
}

/// One checkbox of the subscription center: a topic on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub channel: Channel,
    /// Effective answer today: does the contact receive this?
    pub receiving: bool,
    /// The recorded value (pending shows a note).
    pub value: ConsentValue,
    /// The form field name, `t.<topic_key>.<channel>`.
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRow {
    pub key: String,
    pub name: String,
    pub description: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurposeBlock {
    pub key: String,
    pub name: String,
    pub description: String,
    pub mandatory: bool,
    pub channels: Vec<Channel>,
    pub topics: Vec<TopicRow>,
}

/// Everything the unsubscribe page and the subscription center show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferencesView {
    pub brand: Brand,
    pub lang: Lang,
    pub form_version: i64,
    /// Signed proof of the form version and language this page shows (a hidden field).
    pub stamp: String,
    /// Masked address the link belongs to.
    pub address: String,
    /// The contact has an email address, so the page offers a copy of their data and
    /// erasure (each answered by email).
    pub data_rights: bool,
    pub purposes: Vec<PurposeBlock>,
}

impl PreferencesView {
    /// Topics (on email) the contact receives today.
    pub fn receiving_email(&self) -> Vec<&TopicRow> {
        self.purposes
            .iter()
            .filter(|p| !p.mandatory)
            .flat_map(|p| p.topics.iter())
            .filter(|t| {
                t.cells
                    .iter()
                    .any(|c| c.channel == Channel::Email && c.receiving)
            })
            .collect()
    }
}

/// What an action means for the contact, said the way a person would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Received before, not any more.
    Stopped,
    /// Not received before, received now.
    Started,
    /// Asked for, waiting for the confirmation email.
    Pending,
}

/// One line of the "what changed" page: a topic (or a purpose without topics) and the
/// channels on which the action had this effect. Nothing is listed for what the contact did
/// not receive before and still does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeLine {
    pub effect: Effect,
    pub what: String,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    pub brand: Brand,
    pub lang: Lang,
    pub change_id: String,
    pub lines: Vec<ChangeLine>,
    /// The change was an undo of another.
    pub is_undo: bool,
    /// An undo is offered while nothing changed these states since.
    pub can_undo: bool,
    /// The change wrote records: a signed receipt of it can be downloaded.
    pub receipt: bool,
}

/// One (topic, channel) of a confirmation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmItem {
    /// The form field (`t12.email`): ticked to keep it.
    pub field: String,
    pub name: String,
    pub channel: Channel,
}

/// Where a confirmation request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfirmState {
    /// Waiting: the page shows the Confirm button.
    Open,
    /// Confirmed (by this link or another of the same request).
    AlreadyConfirmed,
    /// The link ran out before it was used: the page offers a new one.
    Expired,
    /// Everything it asked for was withdrawn since.
    NothingPending,
}

/// The double opt-in confirm page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmView {
    pub brand: Brand,
    pub lang: Lang,
    pub address: String,
    pub state: ConfirmState,
    pub items: Vec<ConfirmItem>,
    /// Confirmed, with something opted in: a signed receipt of it can be downloaded.
    pub receipt: bool,
}

/// One topic offered on the sign-up form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignupTopic {
    pub field: String,
    pub name: String,
    pub description: String,
}

/// A profile's public sign-up form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignupView {
    pub brand: Brand,
    pub lang: Lang,
    pub profile_key: String,
    pub topics: Vec<SignupTopic>,
    /// Signed proof of the form version and language shown (a hidden field).
    pub stamp: String,
}

/// One state a receipt records, in the reader's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// "Commercial: Newsletter".
    pub what: String,
    pub channel: Channel,
    pub old: ConsentValue,
    pub new: ConsentValue,
}

/// What a valid receipt says (only what the receipt itself holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptSummary {
    pub key_id: String,
    pub controller: String,
    pub principal: String,
    pub receipt_id: String,
    /// When the change was recorded, in the page's words ("24 November 2026, 10:00 UTC").
    pub recorded_at: String,
    pub lines: Vec<ReceiptLine>,
    /// "current", "superseded" or "not_in_ledger".
    pub currency: String,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReceiptOutcome {
    Valid(ReceiptSummary),
    /// Refused, with the reason's code ("not_a_receipt", "unknown_key", "bad_signature").
    Invalid(String),
    /// Nothing was pasted or uploaded.
    Empty,
}

/// The public page that checks a receipt: the form, and the outcome once one was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptCheckView {
    pub lang: Lang,
    pub outcome: Option<ReceiptOutcome>,
}
