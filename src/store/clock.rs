//! The time every write and every schedule is measured by. Production uses the system clock;
//! tests use a clock they move forward by hand, so "seven days later" takes no seven days and
//! no test sleeps.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// A source of the current time, shared by the writer, the services and the workers.
#[derive(Clone, Default)]
pub struct Clock {
    /// Added to the system time; only a test clock ever moves it.
    offset_ms: Arc<AtomicI64>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock(+{} ms)", self.offset_ms.load(Ordering::Relaxed))
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + time::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// `now()` in the stored format.
    pub fn now_str(&self) -> String {
        super::format_time(self.now())
    }

    /// Moves this clock (and every clone of it) forward. Tests only.
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_every_clone() {
        let c = Clock::system();
        let other = c.clone();
        let before = other.now();
        c.advance(std::time::Duration::from_secs(7 * 86_400));
        let after = other.now();
        assert!(after - before >= time::Duration::days(7));
        assert!(after - before < time::Duration::days(7) + time::Duration::minutes(1));
    }
}
