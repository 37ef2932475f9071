//! Time as the queue sees it: wall-clock milliseconds, injectable so that backoff, leases,
//! cool-downs and the circuit breaker are tested on a virtual clock instead of with sleeps.

use std::sync::Arc;

/// A source of "now" in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;

    /// Whether time is tokio's (paused in tests): then work may not leave the executor for
    /// a thread tokio cannot see, or the paused clock jumps ahead while it waits.
    fn follows_tokio_time(&self) -> bool {
        false
    }
}

/// The real wall clock: leases are compared across processes, so they must share it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::store::now_ms()
    }
}

/// Wall time that advances with tokio's clock: under `tokio::time::pause()` it jumps as
/// virtual time does, so a test of a 45-second cool-down runs in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start_wall_ms: i64,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// Starts at the current wall time.
    pub fn new() -> Self {
        Self {
            start_wall_ms: crate::store::now_ms(),
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> i64 {
        self.start_wall_ms + self.start.elapsed().as_millis() as i64
    }

    fn follows_tokio_time(&self) -> bool {
        true
    }
}

/// The clock used when none is given.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
