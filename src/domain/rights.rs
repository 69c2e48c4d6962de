//! A contact's data rights: a copy of their data (GDPR Art. 15, portable under Art. 20) and
//! erasure (Art. 17). What a request is, where it stands, its deadline, how long its emailed
//! link works, and when a second ask is the same request.

use time::{Duration, OffsetDateTime};

/// What the contact asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A copy of their data: the package, mailed as a download link.
    Access,
    /// To be forgotten: carried out once confirmed from the emailed link (or approved).
    Erasure,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Erasure => "erasure",
        }
    }
    pub fn parse(s: &str) -> Option<RequestKind> {
        match s {
            "access" => Some(RequestKind::Access),
            "erasure" => Some(RequestKind::Erasure),
            _ => None,
        }
    }
    /// In words, for the desk.
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Access => "Copy of their data",
            RequestKind::Erasure => "Erasure",
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Waiting for the contact (an erasure to be confirmed from the emailed link; a copy
    /// until its link is mailed).
    Open,
    /// An erasure staff started: carried out when an admin approves it or the contact
    /// confirms it from the emailed link.
    AwaitingApproval,
    Fulfilled,
    Withdrawn,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::AwaitingApproval => "awaiting_approval",
            RequestStatus::Fulfilled => "fulfilled",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<RequestStatus> {
        match s {
            "open" => Some(RequestStatus::Open),
            "awaiting_approval" => Some(RequestStatus::AwaitingApproval),
            "fulfilled" => Some(RequestStatus::Fulfilled),
            "withdrawn" => Some(RequestStatus::Withdrawn),
            _ => None,
        }
    }
    pub fn is_closed(self) -> bool {
        matches!(self, RequestStatus::Fulfilled | RequestStatus::Withdrawn)
    }
    /// In words, for the desk, given the request's kind.
    pub fn label(self, kind: RequestKind) -> &'static str {
        match (self, kind) {
            (RequestStatus::Open, RequestKind::Access) => "Link not mailed yet",
            (RequestStatus::Open, RequestKind::Erasure) => "Waiting for the contact to confirm",
            (RequestStatus::AwaitingApproval, _) => {
                "Waiting for an admin’s approval or the contact’s confirmation"
            }
            (RequestStatus::Fulfilled, RequestKind::Access) => "Link mailed",
            (RequestStatus::Fulfilled, RequestKind::Erasure) => "Erased",
            (RequestStatus::Withdrawn, _) => "Withdrawn",
        }
    }
}

/// How long the law gives unless a deployment sets its own (GDPR Art. 12(3): one month).
pub const DEFAULT_DEADLINE_DAYS: u32 = 30;

/// How long an emailed link (the package's download, an erasure's confirmation) works.
pub const LINK_DAYS: i64 = 7;

/// A second ask of the same kind this soon after the last is the same request: no second
/// email (a link clicked twice, a form sent again).
pub const SAME_REQUEST_WITHIN: Duration = Duration::minutes(10);

/// When a request made at `created` must be fulfilled.
pub fn due(created: OffsetDateTime, deadline_days: u32) -> OffsetDateTime {
    created + Duration::days(i64::from(deadline_days))
}

/// Whether a request not yet closed has passed its deadline.
pub fn overdue(status: RequestStatus, due: OffsetDateTime, now: OffsetDateTime) -> bool {
    !status.is_closed() && now > due
}

/// When a link issued at `issued` stops working.
pub fn link_expires(issued: OffsetDateTime) -> OffsetDateTime {
    issued + Duration::days(LINK_DAYS)
}

/// Whether a link issued at `issued` still works at `now`.
pub fn link_works(issued: OffsetDateTime, now: OffsetDateTime) -> bool {
    now < link_expires(issued)
}

/// Who asked: the contact, or a staff user (by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    Contact,
    Staff(i64),
}

impl Asker {
    /// As a request and its log name it.
    pub fn as_string(self) -> String {
        match self {
            Asker::Contact => "contact".to_owned(),
            Asker::Staff(id) => format!("user:{id}"),
        }
    }
}

/// The status a new request starts in: an erasure staff started waits for approval; every
/// other request waits for the contact (or for its email).
pub fn initial_status(kind: RequestKind, asker: Asker) -> RequestStatus {
    match (kind, asker) {
        (RequestKind::Erasure, Asker::Staff(_)) => RequestStatus::AwaitingApproval,
        _ => RequestStatus::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in [RequestKind::Access, RequestKind::Erasure] {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
        }
        for s in [
            RequestStatus::Open,
            RequestStatus::AwaitingApproval,
            RequestStatus::Fulfilled,
            RequestStatus::Withdrawn,
        ] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestKind::parse("delete"), None);
        assert_eq!(RequestStatus::parse(""), None);
    }

    #[test]
    fn a_request_is_overdue_only_while_open_after_its_deadline() {
        let made = datetime!(2026-11-01 10:00 UTC);
        let due = due(made, DEFAULT_DEADLINE_DAYS);
        assert_eq!(due, datetime!(2026-12-01 10:00 UTC));
        let later = datetime!(2026-12-01 10:01 UTC);
        assert!(!overdue(RequestStatus::Open, due, due));
        assert!(overdue(RequestStatus::Open, due, later));
        assert!(overdue(RequestStatus::AwaitingApproval, due, later));
        assert!(!overdue(RequestStatus::Fulfilled, due, later));
        assert!(!overdue(RequestStatus::Withdrawn, due, later));
    }

    #[test]
    fn a_link_works_for_a_week() {
        let issued = datetime!(2026-11-01 10:00 UTC);
        assert!(link_works(issued, datetime!(2026-11-08 09:59 UTC)));
        assert!(!link_works(issued, datetime!(2026-11-08 10:00 UTC)));
    }

    #[test]
    fn only_an_erasure_staff_start_waits_for_approval() {
        use RequestKind::*;
        assert_eq!(
            initial_status(Erasure, Asker::Staff(3)),
            RequestStatus::AwaitingApproval
        );
        assert_eq!(initial_status(Erasure, Asker::Contact), RequestStatus::Open);
        assert_eq!(initial_status(Access, Asker::Staff(3)), RequestStatus::Open);
        assert_eq!(Asker::Staff(3).as_string(), "user:3");
    }
}
