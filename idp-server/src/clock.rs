//! The only place that reads the time.

use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, from the system or from a test.
#[derive(Debug)]
pub enum Clock {
    /// The system clock.
    System,
    /// A clock tests set and move.
    Fixed(AtomicI64),
}

impl Clock {
    /// A test clock at `t`.
    pub fn fixed(t: i64) -> Self {
        Self::Fixed(AtomicI64::new(t))
    }

    /// The time now.
    pub fn now(&self) -> i64 {
        match self {
            Self::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Self::Fixed(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a test clock forward (no effect on the system clock).
    pub fn advance(&self, seconds: i64) {
        if let Self::Fixed(t) = self {
            t.fetch_add(seconds, Ordering::SeqCst);
        }
    }
}
