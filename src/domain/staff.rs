//! What staff record on the desk: how consent reached them, the justification every change
//! needs and the optional call reference, checked, and the evidence words kept with the record.

use super::Source;

/// The longest justification, in characters.
pub const MAX_JUSTIFICATION: usize = 2000;
/// The longest call (or ticket) reference, in characters.
pub const MAX_REFERENCE: usize = 100;

/// How consent given to staff reached them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Phone,
    InPerson,
    Paper,
}

impl Told {
    pub const ALL: [Told; 3] = [Told::Phone, Told::InPerson, Told::Paper];

    pub fn parse(s: &str) -> Option<Told> {
        Told::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        self.source().as_str()
    }

    /// The ledger's source of the records.
    pub fn source(self) -> Source {
        match self {
            Told::Phone => Source::Phone,
            Told::InPerson => Source::InPerson,
            Told::Paper => Source::Paper,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Told::Phone => "By phone",
            Told::InPerson => "In person",
            Told::Paper => "On paper",
        }
    }
}

/// Why a staff change is refused before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    JustificationMissing,
    JustificationTooLong,
    ReferenceTooLong,
    /// Control characters (other than line breaks) in a text.
    Control,
}

impl Refused {
    /// The form field it is about.
    pub fn field(self) -> &'static str {
        match self {
            Refused::JustificationMissing | Refused::JustificationTooLong | Refused::Control => {
                "justification"
            }
            Refused::ReferenceTooLong => "reference",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refused::JustificationMissing => {
                "Say why this change is recorded: what the contact said, and when."
            }
            Refused::JustificationTooLong => "Keep the justification under 2,000 characters.",
            Refused::ReferenceTooLong => "Keep the reference under 100 characters.",
            Refused::Control => "The justification has characters that cannot be kept.",
        }
    }
}

/// A justification and reference, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Justified {
    pub justification: String,
    pub reference: Option<String>,
}

impl Justified {
    pub fn parse(justification: &str, reference: &str) -> Result<Justified, Refused> {
        let j = justification.trim();
        if j.is_empty() {
            return Err(Refused::JustificationMissing);
        }
        if j.chars().count() > MAX_JUSTIFICATION {
            return Err(Refused::JustificationTooLong);
        }
        if j.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(Refused::Control);
        }
        let r = reference.trim();
        if r.chars().count() > MAX_REFERENCE {
            return Err(Refused::ReferenceTooLong);
        }
        if r.chars().any(char::is_control) {
            return Err(Refused::Control);
        }
        Ok(Justified {
            justification: j.replace("\r\n", "\n"),
            reference: (!r.is_empty()).then(|| r.to_owned()),
        })
    }

    /// The evidence kept with the records (erasable with the contact).
    pub fn evidence_words(&self, told: Told, staff: &str) -> String {
        let mut s = format!("{}, recorded by {staff}", told.label());
        if let Some(r) = &self.reference {
            s.push_str(&format!(" (reference {r})"));
        }
        s.push_str(": ");
        s.push_str(&self.justification);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_justification_is_required_and_bounded() {
        assert_eq!(
            Justified::parse("   ", ""),
            Err(Refused::JustificationMissing)
        );
        assert_eq!(
            Justified::parse(&"x".repeat(2001), ""),
            Err(Refused::JustificationTooLong)
        );
        assert_eq!(
            Justified::parse("ok", &"r".repeat(101)),
            Err(Refused::ReferenceTooLong)
        );
        assert_eq!(Justified::parse("a\u{0}b", ""), Err(Refused::Control));
        let j = Justified::parse("  Called to say stop\r\nthe newsletter ", " T-77 ").unwrap();
        assert_eq!(j.justification, "Called to say stop\nthe newsletter");
        assert_eq!(j.reference.as_deref(), Some("T-77"));
        assert_eq!(
            j.evidence_words(Told::Phone, "staff@contoso.com"),
            "By phone, recorded by staff@contoso.com (reference T-77): Called to say stop\nthe newsletter"
        );
        assert_eq!(Justified::parse("x", " ").unwrap().reference, None);
    }

    #[test]
    fn how_consent_reached_staff_names_the_ledger_source() {
        for t in Told::ALL {
            assert_eq!(Told::parse(t.as_str()), Some(t));
        }
        assert_eq!(Told::InPerson.source(), Source::InPerson);
        assert_eq!(Told::parse("fax"), None);
    }
}
