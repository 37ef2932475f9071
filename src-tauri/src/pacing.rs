//! When the pool may send the next request to the provider: the provider's own cool-down
//! (429 `RetryInfo`), a circuit breaker for repeated failures, an offline hold, and the
//! teacher's requests-per-minute and tokens-per-minute limits, shared by every worker.
//!
//! Decisions are made on an injected [`Clock`], so they are tested without sleeping.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock as GovernorClock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use serde::Serialize;
use ts_rs::TS;

use crate::clock::Clock;

/// Consecutive transient failures that open the breaker.
pub const BREAKER_THRESHOLD: u32 = 5;
/// First wait after the breaker opens or the network is lost; doubles up to the cap.
pub const FIRST_PROBE_DELAY_MS: i64 = 5_000;
pub const MAX_PROBE_DELAY_MS: i64 = 300_000;

/// The provider's limits as the teacher set them (0 = no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RateLimits {
    pub requests_per_minute: u32,
    pub tokens_per_minute: u32,
}

/// Why requests are held back, for the UI ("Gemini unavailable — next try at 14:05").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// The provider said to wait (429).
    CoolingDown,
    /// Too many failures in a row: waiting, then one probe.
    Unavailable,
    /// The network is down: waiting, then one probe. No attempts are spent.
    Offline,
}

/// The gate's state for status displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct GateStatus {
    pub hold: Option<Hold>,
    /// When the next request may go out (ms since the epoch), if held.
    pub next_try_at_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct BreakerState {
    consecutive_failures: u32,
    /// Open until this time; then one probe is let through (half-open).
    open_until: Option<i64>,
    reason: Option<Hold>,
    probe_delay_ms: i64,
    probe_in_flight: bool,
    cooldown_until: i64,
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, NoOpMiddleware>;

/// Shared by every worker of a process.
pub struct Gate {
    clock: Arc<dyn Clock>,
    state: Mutex<BreakerState>,
    requests: Option<Limiter>,
    tokens: Option<Limiter>,
}

/// What `admit` decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send now. `probe` is true when this request tests a held provider.
    Go { probe: bool },
    /// Ask again after this long.
    Wait(Duration),
}

impl Gate {
    /// A gate with the given limits; a limit of 0 means none.
    pub fn new(clock: Arc<dyn Clock>, limits: RateLimits) -> Self {
        // A burst of one spreads requests evenly: a provider that counts per rolling minute
        // never sees more than the limit in any window.
        let limiter = |per_minute: u32, burst: u32| {
            NonZeroU32::new(per_minute).map(|n| {
                let quota = Quota::per_minute(n)
                    .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN));
                RateLimiter::direct(quota)
            })
        };
        Self {
            clock,
            state: Mutex::new(BreakerState {
                probe_delay_ms: FIRST_PROBE_DELAY_MS,
                ..BreakerState::default()
            }),
            requests: limiter(limits.requests_per_minute, 1),
            // Tokens come in lumps of a few thousand per request: allow one minute's worth.
            tokens: limiter(limits.tokens_per_minute, limits.tokens_per_minute),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides whether one request of about `tokens` tokens may go now.
    pub fn admit(&self, tokens: u32) -> Admission {
        let now = self.clock.now_ms();
        let probe = {
            let mut s = self.lock();
            if s.cooldown_until > now {
                return Admission::Wait(ms(s.cooldown_until - now));
            }
            match s.open_until {
                Some(until) if until > now => return Admission::Wait(ms(until - now)),
                Some(_) if s.probe_in_flight => return Admission::Wait(Duration::from_millis(250)),
                Some(_) => {
                    s.probe_in_flight = true;
                    true
                }
                None => false,
            }
        };
        if let Some(wait) = self.limiter_wait(tokens) {
            if probe {
                self.lock().probe_in_flight = false;
            }
            return Admission::Wait(wait);
        }
        Admission::Go { probe }
    }

    fn limiter_wait(&self, tokens: u32) -> Option<Duration> {
        let clock = DefaultClock::default();
        if let Some(limiter) = &self.requests {
            if let Err(not_until) = limiter.check() {
                return Some(not_until.wait_time_from(clock.now()));
            }
        }
        if let (Some(limiter), Some(n)) = (&self.tokens, NonZeroU32::new(tokens)) {
            match limiter.check_n(n) {
                Ok(Ok(())) => {}
                Ok(Err(not_until)) => return Some(not_until.wait_time_from(clock.now())),
                // One request larger than a minute's budget: let it through rather than never.
                Err(_) => {}
            }
        }
        None
    }

    /// Waits (on tokio's clock) until a request may go, then returns whether it is a probe.
    pub async fn wait_turn(&self, tokens: u32) -> bool {
        loop {
            match self.admit(tokens) {
                Admission::Go { probe } => return probe,
                Admission::Wait(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// The provider answered (any real answer, even a refusal): it is reachable and well.
    pub fn record_success(&self) {
        let mut s = self.lock();
        s.consecutive_failures = 0;
        s.open_until = None;
        s.reason = None;
        s.probe_in_flight = false;
        s.probe_delay_ms = FIRST_PROBE_DELAY_MS;
    }

    /// 429: nobody sends before `delay` has passed.
    pub fn record_rate_limited(&self, delay: Duration) {
        let until = self.clock.now_ms() + delay.as_millis() as i64;
        let mut s = self.lock();
        s.cooldown_until = s.cooldown_until.max(until);
        s.probe_in_flight = false;
    }

    /// A transient failure (5xx, timeout); opens the breaker after several in a row, or at
    /// once when it was the probe that failed.
    pub fn record_failure(&self, probe: bool) {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        s.consecutive_failures += 1;
        s.probe_in_flight = false;
        if probe || s.consecutive_failures >= BREAKER_THRESHOLD {
            self.open(&mut s, now, Hold::Unavailable, probe);
        }
    }

    /// The network is unreachable: hold everything, probe later.
    pub fn record_offline(&self, probe: bool) {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        s.probe_in_flight = false;
        self.open(&mut s, now, Hold::Offline, probe);
    }

    fn open(&self, s: &mut BreakerState, now: i64, reason: Hold, was_probe: bool) {
        if was_probe && s.reason.is_some() {
            s.probe_delay_ms = (s.probe_delay_ms * 2).min(MAX_PROBE_DELAY_MS);
        } else if s.open_until.is_none() {
            s.probe_delay_ms = FIRST_PROBE_DELAY_MS;
        }
        s.open_until = Some(now + s.probe_delay_ms);
        s.reason = Some(reason);
    }

    /// Whether requests are held right now (cool-down, or the breaker open and not yet due
    /// for its probe), and until when. A worker that already holds a job hands it back
    /// instead of keeping it "grading" while it only waits.
    pub fn held_now(&self) -> Option<(Hold, Duration)> {
        let now = self.clock.now_ms();
        let s = self.lock();
        if s.cooldown_until > now {
            return Some((Hold::CoolingDown, ms(s.cooldown_until - now)));
        }
        match (s.reason, s.open_until) {
            (Some(reason), Some(until)) if until > now => Some((reason, ms(until - now))),
            _ => None,
        }
    }

    /// What the UI shows about the provider.
    pub fn status(&self) -> GateStatus {
        let now = self.clock.now_ms();
        let s = self.lock();
        if s.cooldown_until > now {
            return GateStatus {
                hold: Some(Hold::CoolingDown),
                next_try_at_ms: Some(s.cooldown_until),
            };
        }
        GateStatus {
            hold: s.reason,
            next_try_at_ms: s.open_until,
        }
    }
}

fn ms(n: i64) -> Duration {
    Duration::from_millis(n.max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct ManualClock(AtomicI64);
    impl Clock for ManualClock {
        fn now_ms(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }
    fn gate() -> (Arc<ManualClock>, Gate) {
        let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
        (clock.clone(), Gate::new(clock, RateLimits::default()))
    }

    #[test]
    fn a_429_holds_every_request_until_the_delay_has_passed() {
        let (clock, gate) = gate();
        gate.record_rate_limited(Duration::from_millis(45_837));
        assert_eq!(
            gate.admit(1),
            Admission::Wait(Duration::from_millis(45_837))
        );
        clock.0.fetch_add(45_836, Ordering::SeqCst);
        assert_eq!(gate.admit(1), Admission::Wait(Duration::from_millis(1)));
        clock.0.fetch_add(1, Ordering::SeqCst);
        assert_eq!(gate.admit(1), Admission::Go { probe: false });
        assert_eq!(gate.status().hold, None);
    }

    #[test]
    fn the_breaker_opens_after_repeated_failures_then_probes_once_and_backs_off() {
        let (clock, gate) = gate();
        for _ in 0..BREAKER_THRESHOLD - 1 {
            gate.record_failure(false);
            assert_eq!(gate.admit(1), Admission::Go { probe: false });
        }
        gate.record_failure(false);
        let status = gate.status();
        assert_eq!(status.hold, Some(Hold::Unavailable));
        assert_eq!(
            status.next_try_at_ms,
            Some(1_000_000 + FIRST_PROBE_DELAY_MS)
        );
        clock.0.fetch_add(FIRST_PROBE_DELAY_MS, Ordering::SeqCst);
        assert_eq!(gate.admit(1), Admission::Go { probe: true });
        // While the probe is out, nobody else goes.
        assert!(matches!(gate.admit(1), Admission::Wait(_)));
        gate.record_failure(true);
        assert_eq!(
            gate.status().next_try_at_ms,
            Some(clock.now_ms() + 2 * FIRST_PROBE_DELAY_MS)
        );
        clock
            .0
            .fetch_add(2 * FIRST_PROBE_DELAY_MS, Ordering::SeqCst);
        assert_eq!(gate.admit(1), Admission::Go { probe: true });
        gate.record_success();
        assert_eq!(gate.admit(1), Admission::Go { probe: false });
        assert_eq!(gate.status().hold, None);
    }

    #[test]
    fn offline_holds_at_once_and_says_so() {
        let (clock, gate) = gate();
        gate.record_offline(false);
        assert_eq!(gate.status().hold, Some(Hold::Offline));
        assert!(matches!(gate.admit(1), Admission::Wait(_)));
        clock.0.fetch_add(FIRST_PROBE_DELAY_MS, Ordering::SeqCst);
        assert_eq!(gate.admit(1), Admission::Go { probe: true });
        gate.record_success();
        assert_eq!(gate.status().hold, None);
    }

    #[test]
    fn requests_per_minute_are_spread_evenly() {
        let gate = Gate::new(
            Arc::new(crate::clock::SystemClock),
            RateLimits {
                requests_per_minute: 120,
                tokens_per_minute: 0,
            },
        );
        assert_eq!(gate.admit(1), Admission::Go { probe: false });
        match gate.admit(1) {
            Admission::Wait(d) => assert!(
                d > Duration::from_millis(400) && d <= Duration::from_millis(500),
                "{d:?}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
