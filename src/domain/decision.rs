//! "May this contact point be contacted for this purpose (and topic) on this channel?"
//! The one place the effective-consent rule lives. Pure: callers load the facts.

use super::model::*;
use serde::{Deserialize, Serialize};

/// Why the answer is what it is. `record` names the ledger record the answer rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Reason {
    /// The contact was erased: nothing is sent, not even service messages.
    Erased,
    /// The purpose is switched off (enforcement model "disabled") or retired.
    PurposeDisabled,
    /// The topic is retired.
    TopicRetired,
    /// The purpose does not use this channel.
    ChannelNotCovered,
    /// The contact's consent level is below what the purpose requires.
    LevelTooLow { required: u8, actual: u8 },
    /// A child's consent for this purpose needs a custodian's confirmed opt-in.
    ChildWithoutCustodianConsent,
    /// An explicit opt-out on record.
    OptedOut { record: i64 },
    /// An opt-in was asked for and is not confirmed yet.
    PendingConfirmation { record: i64 },
    /// An explicit opt-in on record.
    OptedIn { record: i64 },
    /// Restrictive purpose and no opt-in on record.
    NoOptIn,
    /// Non-restrictive purpose and no opt-out on record.
    NotOptedOut,
    /// A mandatory (transactional) purpose: service messages go to everyone not erased, opted
    /// out of everything optional or not.
    Mandatory,
}

impl Reason {
    /// A stable machine code for APIs and logs.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Erased => "erased",
            Reason::PurposeDisabled => "purpose_disabled",
            Reason::TopicRetired => "topic_retired",
            Reason::ChannelNotCovered => "channel_not_covered",
            Reason::LevelTooLow { .. } => "level_too_low",
            Reason::ChildWithoutCustodianConsent => "child_without_custodian_consent",
            Reason::OptedOut { .. } => "opted_out",
            Reason::PendingConfirmation { .. } => "pending_confirmation",
            Reason::OptedIn { .. } => "opted_in",
            Reason::NoOptIn => "no_opt_in",
            Reason::NotOptedOut => "not_opted_out",
            Reason::Mandatory => "mandatory",
        }
    }
}

impl Reason {
    /// The reason in words, for people reading an API answer or a log.
    pub fn message(self) -> String {
        match self {
            Reason::Erased => "The contact was erased: nothing may be sent.".into(),
            Reason::PurposeDisabled => "The purpose is switched off or retired.".into(),
            Reason::TopicRetired => "The topic is retired.".into(),
            Reason::ChannelNotCovered => "The purpose does not use this channel.".into(),
            Reason::LevelTooLow { required, actual } => {
                format!("The contact's consent level is {actual}; the purpose needs {required}.")
            }
            Reason::ChildWithoutCustodianConsent => {
                "The contact is a child and no custodian has confirmed consent.".into()
            }
            Reason::OptedOut { .. } => "The contact opted out.".into(),
            Reason::PendingConfirmation { .. } => {
                "The contact asked to receive this and has not confirmed yet.".into()
            }
            Reason::OptedIn { .. } => "The contact opted in.".into(),
            Reason::NoOptIn => "No opt-in on record, and this purpose or channel needs one.".into(),
            Reason::NotOptedOut => {
                "No opt-out on record, and this purpose allows email until one.".into()
            }
            Reason::Mandatory => "A service message: sent to every contact not erased.".into(),
        }
    }

    /// The ledger record the answer rests on, if one.
    pub fn record(self) -> Option<i64> {
        match self {
            Reason::OptedOut { record }
            | Reason::PendingConfirmation { record }
            | Reason::OptedIn { record } => Some(record),
            _ => None,
        }
    }
}

/// Allow or deny, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
}

impl Decision {
    fn allow(reason: Reason) -> Decision {
        Decision {
            allowed: true,
            reason,
        }
    }
    fn deny(reason: Reason) -> Decision {
        Decision {
            allowed: false,
            reason,
        }
    }
}

/// The state that governs a question: the topic's own explicit answer when it has one,
/// otherwise the purpose's. A pending topic still counts (it is an explicit, unconfirmed ask).
fn governing(topic: Option<StateEntry>, purpose: Option<StateEntry>) -> Option<StateEntry> {
    match topic {
        Some(t) if t.value != ConsentValue::NotSet => Some(t),
        _ => purpose.filter(|p| p.value != ConsentValue::NotSet),
    }
}

/// Decides. `topic` is `None` when the question is about the whole purpose.
/// `purpose_state`/`topic_state` are the current states for this contact point and channel.
pub fn decide(
    contact: ContactFacts,
    purpose: &Purpose,
    topic: Option<&Topic>,
    channel: Channel,
    purpose_state: Option<StateEntry>,
    topic_state: Option<StateEntry>,
) -> Decision {
    if contact.erased {
        return Decision::deny(Reason::Erased);
    }
    if purpose.enforcement == Enforcement::Disabled || purpose.retired {
        return Decision::deny(Reason::PurposeDisabled);
    }
    if topic.is_some_and(|t| t.retired) {
        return Decision::deny(Reason::TopicRetired);
    }
    if !purpose.channels.contains(&channel) {
        return Decision::deny(Reason::ChannelNotCovered);
    }
    if contact.level < purpose.min_level {
        return Decision::deny(Reason::LevelTooLow {
            required: purpose.min_level.get(),
            actual: contact.level.get(),
        });
    }
    if purpose.mandatory {
        return Decision::allow(Reason::Mandatory);
    }
    let state = governing(topic.and(topic_state), purpose_state);
    match state.map(|s| (s.value, s)) {
        Some((ConsentValue::OptedOut, s)) => Decision::deny(Reason::OptedOut { record: s.record }),
        Some((ConsentValue::Pending, s)) => {
            Decision::deny(Reason::PendingConfirmation { record: s.record })
        }
        Some((ConsentValue::OptedIn, s)) => {
            if contact.is_child && !s.custodian_confirmed {
                Decision::deny(Reason::ChildWithoutCustodianConsent)
            } else {
                Decision::allow(Reason::OptedIn { record: s.record })
            }
        }
        _ => {
            if contact.is_child {
                // GDPR Art. 8: a child's consent to non-essential contact needs a custodian.
                Decision::deny(Reason::ChildWithoutCustodianConsent)
            } else if purpose.enforcement == Enforcement::Restrictive || channel != Channel::Email {
                // TCPA: marketing by text message or phone call needs prior express consent,
                // so a non-restrictive purpose is restrictive on those channels.
                Decision::deny(Reason::NoOptIn)
            } else {
                Decision::allow(Reason::NotOptedOut)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purpose(enforcement: Enforcement) -> Purpose {
        Purpose {
            id: 1,
            key: "commercial".into(),
            name: "Commercial".into(),
            description: String::new(),
            enforcement,
            channels: vec![Channel::Email, Channel::Sms],
            mandatory: false,
            min_level: ConsentLevel::UNKNOWN,
            retired: false,
        }
    }
    fn topic() -> Topic {
        Topic {
            id: 10,
            purpose_id: 1,
            key: "newsletter".into(),
            name: "Newsletter".into(),
            description: String::new(),
            retired: false,
        }
    }
    fn st(value: ConsentValue, record: i64) -> Option<StateEntry> {
        Some(StateEntry {
            value,
            custodian_confirmed: false,
            record,
        })
    }
    const ADULT: ContactFacts = ContactFacts {
        level: ConsentLevel::MARKETING,
        is_child: false,
        erased: false,
    };
    const CHILD: ContactFacts = ContactFacts {
        level: ConsentLevel::MARKETING,
        is_child: true,
        erased: false,
    };

    use ConsentValue::*;
    use Enforcement::*;

    #[test]
    fn every_branch_answers_with_its_reason() {
        let t = topic();
        let mut retired_topic = topic();
        retired_topic.retired = true;
        let mut mandatory = purpose(NonRestrictive);
        mandatory.mandatory = true;
        let mut gated = purpose(NonRestrictive);
        gated.min_level = ConsentLevel::MARKETING;
        let mut retired_purpose = purpose(NonRestrictive);
        retired_purpose.retired = true;
        let erased = ContactFacts {
            erased: true,
            ..ADULT
        };
        let low = ContactFacts {
            level: ConsentLevel::SUBSCRIPTIONS,
            ..ADULT
        };
        let custodian_ok = Some(StateEntry {
            value: OptedIn,
            custodian_confirmed: true,
            record: 9,
        });

        #[allow(clippy::type_complexity)]
        let table: Vec<(
            &str,
            ContactFacts,
            Purpose,
            Option<&Topic>,
            Channel,
            Option<StateEntry>,
            Option<StateEntry>,
            Decision,
        )> = vec![
            (
                "erased beats opt-in",
                erased,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                None,
                st(OptedIn, 1),
                Decision::deny(Reason::Erased),
            ),
            (
                "erased gets no service messages either",
                erased,
                mandatory.clone(),
                None,
                Channel::Email,
                None,
                None,
                Decision::deny(Reason::Erased),
            ),
            (
                "disabled purpose",
                ADULT,
                purpose(Disabled),
                Some(&t),
                Channel::Email,
                st(OptedIn, 1),
                st(OptedIn, 2),
                Decision::deny(Reason::PurposeDisabled),
            ),
            (
                "retired purpose",
                ADULT,
                retired_purpose,
                None,
                Channel::Email,
                None,
                None,
                Decision::deny(Reason::PurposeDisabled),
            ),
            (
                "retired topic",
                ADULT,
                purpose(NonRestrictive),
                Some(&retired_topic),
                Channel::Email,
                None,
                None,
                Decision::deny(Reason::TopicRetired),
            ),
            (
                "channel not covered",
                ADULT,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Phone,
                None,
                None,
                Decision::deny(Reason::ChannelNotCovered),
            ),
            (
                "level too low",
                low,
                gated,
                Some(&t),
                Channel::Email,
                None,
                st(OptedIn, 3),
                Decision::deny(Reason::LevelTooLow {
                    required: 4,
                    actual: 3,
                }),
            ),
            (
                "mandatory ignores opt-out",
                ADULT,
                mandatory,
                None,
                Channel::Email,
                st(OptedOut, 4),
                None,
                Decision::allow(Reason::Mandatory),
            ),
            (
                "non-restrictive default allows",
                ADULT,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                None,
                None,
                Decision::allow(Reason::NotOptedOut),
            ),
            (
                "restrictive default denies",
                ADULT,
                purpose(Restrictive),
                Some(&t),
                Channel::Email,
                None,
                None,
                Decision::deny(Reason::NoOptIn),
            ),
            (
                "restrictive opt-in allows",
                ADULT,
                purpose(Restrictive),
                Some(&t),
                Channel::Email,
                None,
                st(OptedIn, 5),
                Decision::allow(Reason::OptedIn { record: 5 }),
            ),
            (
                "topic opt-out denies",
                ADULT,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                None,
                st(OptedOut, 6),
                Decision::deny(Reason::OptedOut { record: 6 }),
            ),
            (
                "purpose opt-out covers topics without own answer",
                ADULT,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                st(OptedOut, 7),
                None,
                Decision::deny(Reason::OptedOut { record: 7 }),
            ),
            (
                "topic opt-in beats older purpose opt-out",
                ADULT,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                st(OptedOut, 7),
                st(OptedIn, 8),
                Decision::allow(Reason::OptedIn { record: 8 }),
            ),
            (
                "topic not_set falls back to purpose",
                ADULT,
                purpose(Restrictive),
                Some(&t),
                Channel::Email,
                st(OptedIn, 2),
                st(NotSet, 3),
                Decision::allow(Reason::OptedIn { record: 2 }),
            ),
            (
                "pending is not consent",
                ADULT,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                None,
                st(Pending, 9),
                Decision::deny(Reason::PendingConfirmation { record: 9 }),
            ),
            (
                "purpose question ignores topic state",
                ADULT,
                purpose(Restrictive),
                None,
                Channel::Email,
                None,
                st(OptedIn, 1),
                Decision::deny(Reason::NoOptIn),
            ),
            (
                "child without any record",
                CHILD,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                None,
                None,
                Decision::deny(Reason::ChildWithoutCustodianConsent),
            ),
            (
                "child's own opt-in is not enough",
                CHILD,
                purpose(Restrictive),
                Some(&t),
                Channel::Email,
                None,
                st(OptedIn, 1),
                Decision::deny(Reason::ChildWithoutCustodianConsent),
            ),
            (
                "child with custodian opt-in",
                CHILD,
                purpose(Restrictive),
                Some(&t),
                Channel::Email,
                None,
                custodian_ok,
                Decision::allow(Reason::OptedIn { record: 9 }),
            ),
            (
                "child opt-out still denies",
                CHILD,
                purpose(NonRestrictive),
                Some(&t),
                Channel::Email,
                None,
                st(OptedOut, 2),
                Decision::deny(Reason::OptedOut { record: 2 }),
            ),
        ];
        for (name, contact, p, topic, channel, ps, ts, want) in table {
            assert_eq!(decide(contact, &p, topic, channel, ps, ts), want, "{name}");
        }
    }

    #[test]
    fn reason_codes_are_distinct() {
        let all = [
            Reason::Erased,
            Reason::PurposeDisabled,
            Reason::TopicRetired,
            Reason::ChannelNotCovered,
            Reason::LevelTooLow {
                required: 1,
                actual: 0,
            },
            Reason::ChildWithoutCustodianConsent,
            Reason::OptedOut { record: 1 },
            Reason::PendingConfirmation { record: 1 },
            Reason::OptedIn { record: 1 },
            Reason::NoOptIn,
            Reason::NotOptedOut,
            Reason::Mandatory,
        ];
        let mut codes: Vec<_> = all.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
