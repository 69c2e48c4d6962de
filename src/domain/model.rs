//! The consent model of PRODUCT.md as plain types.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A way of reaching a contact point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Phone];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The kind of contact point this channel reaches.
    pub fn point_kind(self) -> PointKind {
        match self {
            Channel::Email => PointKind::Email,
            Channel::Sms | Channel::Phone => PointKind::Phone,
        }
    }

    /// Parses a comma-separated list ("email,sms"); unknown names are an error.
    pub fn parse_list(s: &str) -> Option<Vec<Channel>> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let c = Channel::parse(part)?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Some(out)
    }

    pub fn join(list: &[Channel]) -> String {
        list.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a contact point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    Email,
    Phone,
}

impl PointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PointKind::Email => "email",
            PointKind::Phone => "phone",
        }
    }
    pub fn parse(s: &str) -> Option<PointKind> {
        match s {
            "email" => Some(PointKind::Email),
            "phone" => Some(PointKind::Phone),
            _ => None,
        }
    }
}

/// How a purpose treats people who never said anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Only those who opted in.
    Restrictive,
    /// Everyone unless they opted out.
    NonRestrictive,
    /// Nobody: the purpose is switched off.
    Disabled,
}

impl Enforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Restrictive => "restrictive",
            Enforcement::NonRestrictive => "non_restrictive",
            Enforcement::Disabled => "disabled",
        }
    }
    pub fn parse(s: &str) -> Option<Enforcement> {
        match s {
            "restrictive" => Some(Enforcement::Restrictive),
            "non_restrictive" => Some(Enforcement::NonRestrictive),
            "disabled" => Some(Enforcement::Disabled),
            _ => None,
        }
    }
}

/// The recorded consent value of one contact point for one purpose or topic on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsentValue {
    OptedIn,
    OptedOut,
    /// Asked for, waiting for the double opt-in confirmation: not consent yet.
    Pending,
    #[default]
    NotSet,
}

impl ConsentValue {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentValue::OptedIn => "opted_in",
            ConsentValue::OptedOut => "opted_out",
            ConsentValue::Pending => "pending",
            ConsentValue::NotSet => "not_set",
        }
    }
    pub fn parse(s: &str) -> Option<ConsentValue> {
        match s {
            "opted_in" => Some(ConsentValue::OptedIn),
            "opted_out" => Some(ConsentValue::OptedOut),
            "pending" => Some(ConsentValue::Pending),
            "not_set" => Some(ConsentValue::NotSet),
            _ => None,
        }
    }
}

/// The outbound consent level of a contact (0 unknown … 5 profiling), from seeds/004.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct ConsentLevel(u8);

impl ConsentLevel {
    pub const UNKNOWN: ConsentLevel = ConsentLevel(0);
    pub const CONTACT: ConsentLevel = ConsentLevel(1);
    pub const TRANSACTIONAL: ConsentLevel = ConsentLevel(2);
    pub const SUBSCRIPTIONS: ConsentLevel = ConsentLevel(3);
    pub const MARKETING: ConsentLevel = ConsentLevel(4);
    pub const PROFILING: ConsentLevel = ConsentLevel(5);

    pub fn new(level: i64) -> Option<ConsentLevel> {
        (0..=5)
            .contains(&level)
            .then_some(ConsentLevel(level as u8))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// What a ledger record is about: a whole purpose or one topic inside it, one fact of the
/// contact's profile (a [`Subject::Profile`] record carries the fact's old and new values, not
/// consent values, and sets no consent state), or (an erasure record) the contact point
/// itself: its addresses and personal evidence were erased, and no state of it remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Subject {
    Purpose(i64),
    Topic(i64),
    Profile(ProfileFact),
    Erasure,
}

/// A fact of a contact's profile that staff (or an API key) change and the ledger records:
/// the consent level, whether the contact is a child, their custodian, and tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileFact {
    ConsentLevel,
    Child,
    Custodian,
    Tracking,
}

impl ProfileFact {
    pub const ALL: [ProfileFact; 4] = [
        ProfileFact::ConsentLevel,
        ProfileFact::Child,
        ProfileFact::Custodian,
        ProfileFact::Tracking,
    ];
    /// The number a record stores in `subject_id` (and its hash covers).
    pub fn id(self) -> i64 {
        match self {
            ProfileFact::ConsentLevel => 1,
            ProfileFact::Child => 2,
            ProfileFact::Custodian => 3,
            ProfileFact::Tracking => 4,
        }
    }
    pub fn from_id(id: i64) -> Option<ProfileFact> {
        ProfileFact::ALL.into_iter().find(|f| f.id() == id)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileFact::ConsentLevel => "consent_level",
            ProfileFact::Child => "child",
            ProfileFact::Custodian => "custodian",
            ProfileFact::Tracking => "tracking",
        }
    }
    pub fn parse(s: &str) -> Option<ProfileFact> {
        ProfileFact::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// The old and new values of a profile fact as a record keeps them: a level `0`–`5`, `yes` or
/// `no`, a custodian's contact id; `None`: no value (no custodian).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FactValues {
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Subject {
    pub fn kind_str(self) -> &'static str {
        match self {
            Subject::Purpose(_) => "purpose",
            Subject::Topic(_) => "topic",
            Subject::Profile(_) => "profile",
            Subject::Erasure => "erasure",
        }
    }
    pub fn id(self) -> i64 {
        match self {
            Subject::Purpose(id) | Subject::Topic(id) => id,
            Subject::Profile(f) => f.id(),
            Subject::Erasure => 0,
        }
    }
    /// A purpose or a topic: a subject with consent states.
    pub fn is_consent(self) -> bool {
        matches!(self, Subject::Purpose(_) | Subject::Topic(_))
    }
    pub fn from_parts(kind: &str, id: i64) -> Option<Subject> {
        match kind {
            "purpose" => Some(Subject::Purpose(id)),
            "topic" => Some(Subject::Topic(id)),
            "profile" => ProfileFact::from_id(id).map(Subject::Profile),
            "erasure" if id == 0 => Some(Subject::Erasure),
            _ => None,
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Contact,
    Custodian,
    Staff,
    Import,
    ApiKey,
    OneClick,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Contact => "contact",
            ActorKind::Custodian => "custodian",
            ActorKind::Staff => "staff",
            ActorKind::Import => "import",
            ActorKind::ApiKey => "api_key",
            ActorKind::OneClick => "one_click",
            ActorKind::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<ActorKind> {
        [
            ActorKind::Contact,
            ActorKind::Custodian,
            ActorKind::Staff,
            ActorKind::Import,
            ActorKind::ApiKey,
            ActorKind::OneClick,
            ActorKind::System,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// How a change reached the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Page,
    OneClick,
    DoubleOptIn,
    /// Told to staff by phone (the staff desk).
    Phone,
    /// Given to staff in person (the staff desk).
    InPerson,
    /// Given on paper, entered by staff (the staff desk).
    Paper,
    Import,
    Api,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Page => "page",
            Source::OneClick => "one_click",
            Source::DoubleOptIn => "double_opt_in",
            Source::Phone => "phone",
            Source::InPerson => "in_person",
            Source::Paper => "paper",
            Source::Import => "import",
            Source::Api => "api",
            Source::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<Source> {
        [
            Source::Page,
            Source::OneClick,
            Source::DoubleOptIn,
            Source::Phone,
            Source::InPerson,
            Source::Paper,
            Source::Import,
            Source::Api,
            Source::System,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// A purpose: why the organization contacts people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purpose {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub enforcement: Enforcement,
    pub channels: Vec<Channel>,
    /// Transactional / service messages: shown but not unsubscribable, no List-Unsubscribe.
    pub mandatory: bool,
    pub min_level: ConsentLevel,
    pub retired: bool,
}

/// A finer category inside a purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub id: i64,
    pub purpose_id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub retired: bool,
}

/// The facts about a contact the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactFacts {
    pub level: ConsentLevel,
    pub is_child: bool,
    /// Erased (right to erasure): nothing at all, not even service messages. A global opt-out
    /// ("unsubscribe from everything") is not this: it is opt-out records, and leaves the
    /// mandatory (transactional) purposes allowed.
    pub erased: bool,
}

/// One current consent state, with the ledger record it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntry {
    pub value: ConsentValue,
    /// True when the opt-in was given or confirmed by the child's custodian.
    pub custodian_confirmed: bool,
    /// The ledger sequence number that set this state.
    pub record: i64,
}
