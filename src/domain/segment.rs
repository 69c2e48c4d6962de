//! Segments: an audience of one channel's contact points, chosen by rules an analyst combines
//! with AND and OR. AND binds first, as in a search filter: `a AND b OR c` is `(a AND b) OR c`.
//!
//! What a rule means for one contact point lives here ([`Resolved::matches`]): a consent rule
//! asks the domain decision ([`crate::domain::decide`]), so the enforcement model, the consent
//! level, children and suppression count exactly as they do for a send. The store turns the
//! same rules into SQL to count a million contacts at once; a test proves the two agree on
//! every contact point of a random data set.

use super::decision::decide;
use super::model::*;
use serde::{Deserialize, Serialize};

/// The most rules a segment holds.
pub const MAX_RULES: usize = 20;

/// A segment's rules as kept (JSON) and edited: purposes and topics by key, so a rule reads the
/// same on the definitions of any moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The channel the audience is for: email addresses for email, phone numbers for text
    /// messages and calls.
    pub channel: Channel,
    pub rules: Vec<Clause>,
}

/// A rule and how it joins the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    /// Joined to the rule before by OR (else by AND); the first rule's is not read.
    #[serde(default)]
    pub or: bool,
    pub rule: Rule,
}

/// One condition on a contact point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The decision for the purpose (and topic) on the segment's channel allows a message;
    /// with `allowed: false`, it does not.
    Consent {
        purpose: String,
        topic: Option<String>,
        allowed: bool,
    },
    /// The contact's consent level is at least this (0–5).
    MinLevel { level: u8 },
    /// Adults, and children only where a custodian confirmed a consent.
    NoChildWithoutCustodian,
    /// The contact allowed tracking (open and click measurement), or did not.
    Tracking { allowed: bool },
    /// The contact's language is one of these (a contact with none has the profile's).
    Locale { locales: Vec<String> },
    /// The contact was created between two days, both included; either may be open.
    Created { from: Option<Day>, to: Option<Day> },
    /// The point's last consent or profile change was between two days, both included.
    Changed { from: Option<Day>, to: Option<Day> },
}

/// A calendar day, `2026-11-20`, checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(String);

impl Day {
    /// A day as a person types it into a date field; `None` when it is not one.
    pub fn parse(s: &str) -> Option<Day> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (y >= 1970 && (1..=days).contains(&d)).then(|| Day(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The day's first moment, in the store's timestamp form.
    pub fn start(&self) -> String {
        format!("{}T00:00:00.000000Z", self.0)
    }

    /// The day's last moment, in the store's timestamp form.
    pub fn end(&self) -> String {
        format!("{}T23:59:59.999999Z", self.0)
    }
}

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(s: String) -> Result<Day, String> {
        Day::parse(&s).ok_or_else(|| format!("not a day: {s}"))
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.0
    }
}

/// Why a definition cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    NoSuchPurpose(String),
    NoSuchTopic {
        purpose: String,
        topic: String,
    },
    TooManyRules,
    LevelOutOfRange(u8),
    NoLocale,
    /// A date range whose end is before its start.
    BackwardsDates,
}

impl Invalid {
    /// The problem in words, for the page that shows the rules.
    pub fn message(&self) -> String {
        match self {
            Invalid::NoSuchPurpose(p) => format!("There is no purpose “{p}” in this profile."),
            Invalid::NoSuchTopic { purpose, topic } => {
                format!("The purpose “{purpose}” has no topic “{topic}”.")
            }
            Invalid::TooManyRules => format!("A segment holds at most {MAX_RULES} rules."),
            Invalid::LevelOutOfRange(l) => {
                format!("The consent level is from 0 to 5 (not {l}).")
            }
            Invalid::NoLocale => "Choose at least one language.".into(),
            Invalid::BackwardsDates => "A date range ends before it starts.".into(),
        }
    }
}

/// A rule with its purpose and topic looked up in one version of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Consent {
        purpose: Purpose,
        topic: Option<Topic>,
        allowed: bool,
    },
    MinLevel(ConsentLevel),
    NoChildWithoutCustodian,
    Tracking(bool),
    Locale(Vec<String>),
    /// Bounds as store timestamps, both included.
    Created {
        from: Option<String>,
        to: Option<String>,
    },
    Changed {
        from: Option<String>,
        to: Option<String>,
    },
}

/// A definition ready to evaluate: groups of checks, a point matching any group whose checks
/// all hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub channel: Channel,
    /// The profile's language, which a contact without one has.
    pub default_locale: String,
    pub groups: Vec<Vec<Check>>,
}

/// What a point's evaluation needs to know.
#[derive(Debug, Clone, Default)]
pub struct PointFacts {
    pub contact: ContactFacts,
    pub tracking_allowed: bool,
    pub locale: Option<String>,
    /// Store timestamps.
    pub created_at: String,
    pub last_change: Option<String>,
    /// The point's consent states, every subject and channel.
    pub states: Vec<(Subject, Channel, StateEntry)>,
}

impl PointFacts {
    fn state(&self, subject: Subject, channel: Channel) -> Option<StateEntry> {
        self.states
            .iter()
            .find(|(s, c, _)| *s == subject && *c == channel)
            .map(|(_, _, e)| *e)
    }
}

fn range(
    from: &Option<Day>,
    to: &Option<Day>,
) -> Result<(Option<String>, Option<String>), Invalid> {
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(Invalid::BackwardsDates);
        }
    }
    Ok((from.as_ref().map(Day::start), to.as_ref().map(Day::end)))
}

impl Definition {
    /// Checks the rules and looks their purposes and topics up in `purposes` and `topics` (one
    /// profile's, of one moment).
    pub fn resolve(
        &self,
        purposes: &[Purpose],
        topics: &[Topic],
        default_locale: &str,
    ) -> Result<Resolved, Invalid> {
        if self.rules.len() > MAX_RULES {
            return Err(Invalid::TooManyRules);
        }
        let mut groups: Vec<Vec<Check>> = Vec::new();
        for (i, clause) in self.rules.iter().enumerate() {
            let check = match &clause.rule {
                Rule::Consent {
                    purpose,
                    topic,
                    allowed,
                } => {
                    let p = purposes
                        .iter()
                        .find(|p| &p.key == purpose)
                        .ok_or_else(|| Invalid::NoSuchPurpose(purpose.clone()))?;
                    let t = match topic {
                        None => None,
                        Some(t) => Some(
                            topics
                                .iter()
                                .find(|x| x.purpose_id == p.id && &x.key == t)
                                .ok_or_else(|| Invalid::NoSuchTopic {
                                    purpose: purpose.clone(),
                                    topic: t.clone(),
                                })?
                                .clone(),
                        ),
                    };
                    Check::Consent {
                        purpose: p.clone(),
                        topic: t,
                        allowed: *allowed,
                    }
                }
                Rule::MinLevel { level } => Check::MinLevel(
                    ConsentLevel::new(i64::from(*level)).ok_or(Invalid::LevelOutOfRange(*level))?,
                ),
                Rule::NoChildWithoutCustodian => Check::NoChildWithoutCustodian,
                Rule::Tracking { allowed } => Check::Tracking(*allowed),
                Rule::Locale { locales } => {
                    if locales.is_empty() {
                        return Err(Invalid::NoLocale);
                    }
                    Check::Locale(locales.clone())
                }
                Rule::Created { from, to } => {
                    let (from, to) = range(from, to)?;
                    Check::Created { from, to }
                }
                Rule::Changed { from, to } => {
                    let (from, to) = range(from, to)?;
                    Check::Changed { from, to }
                }
            };
            match groups.last_mut() {
                Some(g) if i == 0 || !clause.or => g.push(check),
                _ => groups.push(vec![check]),
            }
        }
        Ok(Resolved {
            channel: self.channel,
            default_locale: default_locale.to_owned(),
            groups,
        })
    }

    /// The subject of the first rule that asks for consent to be allowed: what the export's
    /// unsubscribe links leave by default.
    pub fn first_consent(&self) -> Option<(&str, Option<&str>)> {
        self.rules.iter().find_map(|c| match &c.rule {
            Rule::Consent {
                purpose,
                topic,
                allowed: true,
            } => Some((purpose.as_str(), topic.as_deref())),
            _ => None,
        })
    }
}

fn within(at: Option<&str>, from: &Option<String>, to: &Option<String>) -> bool {
    let Some(at) = at else {
        return false;
    };
    from.as_deref().is_none_or(|f| at >= f) && to.as_deref().is_none_or(|t| at <= t)
}

impl Check {
    fn holds(&self, channel: Channel, default_locale: &str, f: &PointFacts) -> bool {
        match self {
            Check::Consent {
                purpose,
                topic,
                allowed,
            } => {
                let d = decide(
                    f.contact,
                    purpose,
                    topic.as_ref(),
                    channel,
                    f.state(Subject::Purpose(purpose.id), channel),
                    topic
                        .as_ref()
                        .and_then(|t| f.state(Subject::Topic(t.id), channel)),
                );
                d.allowed == *allowed
            }
            Check::MinLevel(l) => f.contact.level >= *l,
            Check::NoChildWithoutCustodian => {
                !f.contact.is_child
                    || f.states
                        .iter()
                        .any(|(_, _, s)| s.value == ConsentValue::OptedIn && s.custodian_confirmed)
            }
            Check::Tracking(a) => f.tracking_allowed == *a,
            Check::Locale(ls) => {
                let l = f.locale.as_deref().unwrap_or(default_locale);
                ls.iter().any(|x| x == l)
            }
            Check::Created { from, to } => within(Some(&f.created_at), from, to),
            Check::Changed { from, to } => within(f.last_change.as_deref(), from, to),
        }
    }
}

impl Resolved {
    /// Whether the point belongs to the audience. An erased or suppressed contact never does;
    /// a segment without rules is every other point of the channel.
    pub fn matches(&self, f: &PointFacts) -> bool {
        !f.contact.erased
            && (self.groups.is_empty()
                || self.groups.iter().any(|g| {
                    g.iter()
                        .all(|c| c.holds(self.channel, &self.default_locale, f))
                }))
    }
}

/// A rule in words ("Newsletter › Product news allowed"); `name` names a purpose, or a topic
/// of a purpose, by key.
pub fn rule_words(rule: &Rule, name: &dyn Fn(&str, Option<&str>) -> String) -> String {
    let range = |what: &str, from: &Option<Day>, to: &Option<Day>| match (from, to) {
        (Some(f), Some(t)) => format!("{what} from {} to {}", f.as_str(), t.as_str()),
        (Some(f), None) => format!("{what} on or after {}", f.as_str()),
        (None, Some(t)) => format!("{what} on or before {}", t.as_str()),
        (None, None) => format!("{what} at any time"),
    };
    match rule {
        Rule::Consent {
            purpose,
            topic,
            allowed,
        } => format!(
            "{} {}",
            name(purpose, topic.as_deref()),
            if *allowed { "allowed" } else { "not allowed" }
        ),
        Rule::MinLevel { level } => format!("consent level at least {level}"),
        Rule::NoChildWithoutCustodian => {
            "no children, unless a custodian confirmed consent".to_owned()
        }
        Rule::Tracking { allowed: true } => "tracking allowed".to_owned(),
        Rule::Tracking { allowed: false } => "tracking not allowed".to_owned(),
        Rule::Locale { locales } => format!("language is {}", locales.join(" or ")),
        Rule::Created { from, to } => range("created", from, to),
        Rule::Changed { from, to } => range("last changed", from, to),
    }
}

/// The whole definition in words, one line per rule, each after the first starting with “and”
/// or “or”.
pub fn words(def: &Definition, name: &dyn Fn(&str, Option<&str>) -> String) -> Vec<String> {
    def.rules
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let w = rule_words(&c.rule, name);
            match (i, c.or) {
                (0, _) => w,
                (_, true) => format!("or {w}"),
                (_, false) => format!("and {w}"),
            }
        })
        .collect()
}

/// A column of a segment's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The email address or phone number.
    Address,
    ContactId,
    Name,
    Language,
    ConsentLevel,
    Created,
    /// The subscription center's link.
    CenterUrl,
    /// The one-click unsubscribe link (RFC 8058).
    UnsubscribeUrl,
    /// The `List-Unsubscribe` and `List-Unsubscribe-Post` header values (two columns).
    ListUnsubscribe,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Address,
        Column::ContactId,
        Column::Name,
        Column::Language,
        Column::ConsentLevel,
        Column::Created,
        Column::CenterUrl,
        Column::UnsubscribeUrl,
        Column::ListUnsubscribe,
    ];

    /// What an export has when nothing is chosen.
    pub const DEFAULT: [Column; 4] = [
        Column::Address,
        Column::ContactId,
        Column::Name,
        Column::UnsubscribeUrl,
    ];

    /// The form's value for the column.
    pub fn key(self) -> &'static str {
        match self {
            Column::Address => "address",
            Column::ContactId => "contact_id",
            Column::Name => "name",
            Column::Language => "language",
            Column::ConsentLevel => "consent_level",
            Column::Created => "created_at",
            Column::CenterUrl => "center_url",
            Column::UnsubscribeUrl => "unsubscribe_url",
            Column::ListUnsubscribe => "list_unsubscribe",
        }
    }

    pub fn parse(s: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == s)
    }

    /// The column's heading(s) in the CSV file.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Column::ListUnsubscribe => &["list_unsubscribe", "list_unsubscribe_post"],
            Column::Address => &["address"],
            Column::ContactId => &["contact_id"],
            Column::Name => &["name"],
            Column::Language => &["language"],
            Column::ConsentLevel => &["consent_level"],
            Column::Created => &["created_at"],
            Column::CenterUrl => &["center_url"],
            Column::UnsubscribeUrl => &["unsubscribe_url"],
        }
    }

    /// The column's name on the export form.
    pub fn label(self) -> &'static str {
        match self {
            Column::Address => "Email address or phone number",
            Column::ContactId => "Contact number",
            Column::Name => "Name",
            Column::Language => "Language",
            Column::ConsentLevel => "Consent level",
            Column::Created => "Created",
            Column::CenterUrl => "Subscription center link",
            Column::UnsubscribeUrl => "One-click unsubscribe link",
            Column::ListUnsubscribe => "List-Unsubscribe and List-Unsubscribe-Post header values",
        }
    }

    /// Whether the column needs a signed link minted per row.
    pub fn is_link(self) -> bool {
        matches!(
            self,
            Column::CenterUrl | Column::UnsubscribeUrl | Column::ListUnsubscribe
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purpose(id: i64, key: &str, enforcement: Enforcement) -> Purpose {
        Purpose {
            id,
            key: key.into(),
            name: key.into(),
            description: String::new(),
            enforcement,
            channels: vec![Channel::Email, Channel::Sms],
            mandatory: false,
            min_level: ConsentLevel::UNKNOWN,
            retired: false,
        }
    }

    fn topic(id: i64, purpose_id: i64, key: &str) -> Topic {
        Topic {
            id,
            purpose_id,
            key: key.into(),
            name: key.into(),
            description: String::new(),
            retired: false,
        }
    }

    fn consent(purpose: &str, topic: Option<&str>, allowed: bool, or: bool) -> Clause {
        Clause {
            or,
            rule: Rule::Consent {
                purpose: purpose.into(),
                topic: topic.map(Into::into),
                allowed,
            },
        }
    }

    fn state(value: ConsentValue) -> StateEntry {
        StateEntry {
            value,
            custodian_confirmed: false,
            record: 1,
        }
    }

    fn catalog() -> (Vec<Purpose>, Vec<Topic>) {
        (
            vec![
                purpose(1, "newsletter", Enforcement::Restrictive),
                purpose(2, "updates", Enforcement::NonRestrictive),
            ],
            vec![topic(10, 1, "weekly"), topic(11, 1, "offers")],
        )
    }

    #[test]
    fn a_consent_rule_is_the_decision() {
        let (ps, ts) = catalog();
        let def = Definition {
            channel: Channel::Email,
            rules: vec![consent("newsletter", None, true, false)],
        };
        let r = def.resolve(&ps, &ts, "en").unwrap();
        let mut f = PointFacts::default();
        assert!(!r.matches(&f), "restrictive, no opt-in");
        f.states.push((
            Subject::Purpose(1),
            Channel::Email,
            state(ConsentValue::OptedIn),
        ));
        assert!(r.matches(&f));
        f.contact.is_child = true;
        assert!(!r.matches(&f), "a child needs a custodian");
        f.contact.is_child = false;
        f.contact.erased = true;
        assert!(!r.matches(&f), "never an erased contact");
        // The topic's own answer governs it; the purpose's when it has none.
        let def = Definition {
            channel: Channel::Email,
            rules: vec![consent("newsletter", Some("weekly"), true, false)],
        };
        let r = def.resolve(&ps, &ts, "en").unwrap();
        let mut f = PointFacts::default();
        f.states.push((
            Subject::Purpose(1),
            Channel::Email,
            state(ConsentValue::OptedIn),
        ));
        assert!(r.matches(&f));
        f.states.push((
            Subject::Topic(10),
            Channel::Email,
            state(ConsentValue::OptedOut),
        ));
        assert!(!r.matches(&f));
        // Not allowed: the opposite.
        let def = Definition {
            channel: Channel::Email,
            rules: vec![consent("newsletter", Some("weekly"), false, false)],
        };
        assert!(def.resolve(&ps, &ts, "en").unwrap().matches(&f));
    }

    #[test]
    fn and_binds_before_or() {
        let (ps, ts) = catalog();
        // updates allowed AND level >= 3 OR language de
        let def = Definition {
            channel: Channel::Email,
            rules: vec![
                consent("updates", None, true, false),
                Clause {
                    or: false,
                    rule: Rule::MinLevel { level: 3 },
                },
                Clause {
                    or: true,
                    rule: Rule::Locale {
                        locales: vec!["de".into()],
                    },
                },
            ],
        };
        let r = def.resolve(&ps, &ts, "en").unwrap();
        assert_eq!(r.groups.len(), 2);
        let mut f = PointFacts::default();
        assert!(!r.matches(&f), "level 0, English");
        f.locale = Some("de".into());
        assert!(r.matches(&f), "German");
        f.locale = None;
        f.contact.level = ConsentLevel::SUBSCRIPTIONS;
        assert!(r.matches(&f), "non-restrictive, level 3");
        let def = Definition {
            channel: Channel::Email,
            rules: vec![Clause {
                or: false,
                rule: Rule::Locale {
                    locales: vec!["en".into()],
                },
            }],
        };
        assert!(
            def.resolve(&ps, &ts, "en").unwrap().matches(&f),
            "no language: the profile's"
        );
    }

    #[test]
    fn dates_include_both_days() {
        let (ps, ts) = catalog();
        let def = Definition {
            channel: Channel::Email,
            rules: vec![Clause {
                or: false,
                rule: Rule::Created {
                    from: Day::parse("2026-11-01"),
                    to: Day::parse("2026-11-30"),
                },
            }],
        };
        let r = def.resolve(&ps, &ts, "en").unwrap();
        let f = |at: &str| PointFacts {
            created_at: at.into(),
            ..Default::default()
        };
        assert!(r.matches(&f("2026-11-01T00:00:00.000000Z")));
        assert!(r.matches(&f("2026-11-30T23:59:59.999999Z")));
        assert!(!r.matches(&f("2026-10-31T23:59:59.999999Z")));
        assert!(!r.matches(&f("2026-12-01T00:00:00.000000Z")));
        let never_changed = Definition {
            channel: Channel::Email,
            rules: vec![Clause {
                or: false,
                rule: Rule::Changed {
                    from: None,
                    to: None,
                },
            }],
        };
        assert!(!never_changed
            .resolve(&ps, &ts, "en")
            .unwrap()
            .matches(&f("2026-11-01T00:00:00.000000Z")));
    }

    #[test]
    fn bad_definitions_are_named() {
        let (ps, ts) = catalog();
        let one = |rule: Rule| Definition {
            channel: Channel::Email,
            rules: vec![Clause { or: false, rule }],
        };
        let err = |d: Definition| d.resolve(&ps, &ts, "en").unwrap_err();
        assert_eq!(
            err(one(Rule::Consent {
                purpose: "nope".into(),
                topic: None,
                allowed: true
            })),
            Invalid::NoSuchPurpose("nope".into())
        );
        assert!(matches!(
            err(one(Rule::Consent {
                purpose: "updates".into(),
                topic: Some("weekly".into()),
                allowed: true
            })),
            Invalid::NoSuchTopic { .. }
        ));
        assert_eq!(
            err(one(Rule::MinLevel { level: 6 })),
            Invalid::LevelOutOfRange(6)
        );
        assert_eq!(
            err(one(Rule::Locale { locales: vec![] })),
            Invalid::NoLocale
        );
        assert_eq!(
            err(one(Rule::Created {
                from: Day::parse("2026-11-02"),
                to: Day::parse("2026-11-01")
            })),
            Invalid::BackwardsDates
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "26-11-01",
            "2026-11-1x",
            "",
            "2026-11-31",
        ] {
            assert!(Day::parse(bad).is_none(), "{bad}");
        }
        assert!(Day::parse("2028-02-29").is_some());
        // Kept JSON that names a field nobody knows is refused, not half read.
        assert!(
            serde_json::from_str::<Definition>(r#"{"channel":"email","rules":[],"extra":1}"#)
                .is_err()
        );
        let def = one(Rule::Changed {
            from: Day::parse("2026-01-01"),
            to: None,
        });
        let json = serde_json::to_string(&def).unwrap();
        assert_eq!(serde_json::from_str::<Definition>(&json).unwrap(), def);
    }

    #[test]
    fn words_read_as_a_sentence() {
        let def = Definition {
            channel: Channel::Email,
            rules: vec![
                consent("newsletter", None, true, false),
                Clause {
                    or: true,
                    rule: Rule::MinLevel { level: 4 },
                },
            ],
        };
        let name = |p: &str, t: Option<&str>| match t {
            Some(t) => format!("{p} › {t}"),
            None => p.to_owned(),
        };
        assert_eq!(
            words(&def, &name),
            vec!["newsletter allowed", "or consent level at least 4"]
        );
    }
}
