//! The queue's policy: how many times a job may start, how long a failed one waits, how
//! long a claim holds, and what each kind of failure does to the job — every number here,
//! and the decision on a failed attempt a pure function of its inputs ([`decide`]), so the
//! schedule can be read and tested without a clock, a random generator or a database.
//!
//! # Retries
//!
//! A job starts at most [`MAX_ATTEMPTS`] (5) times. When attempt *n* fails for a transient
//! reason (overload, a timeout, a reset connection, a malformed answer), the job waits
//! [`BACKOFF_BASE`] · [`BACKOFF_FACTOR`]^(*n*−1), at most [`BACKOFF_CAP`], times a jitter
//! of ±[`BACKOFF_JITTER`] so that many jobs failed together do not come back together:
//!
//! | attempt | fails, then                        | with ±25% jitter |
//! |---------|------------------------------------|------------------|
//! | 1       | retry after 2 s                    | 1.5 – 2.5 s      |
//! | 2       | retry after 4 s                    | 3 – 5 s          |
//! | 3       | retry after 8 s                    | 6 – 10 s         |
//! | 4       | retry after 16 s                   | 12 – 20 s        |
//! | 5       | dead: out of attempts              |                  |
//!
//! About 30 s of waiting in all before an answer is handed to the teacher. The doubling
//! goes on for jobs given more attempts — 32 s, 64 s, 128 s, 256 s — and is capped at
//! 5 minutes from attempt 9 on (2 s · 2⁸ = 512 s). When the provider says how long to
//! wait (its `RetryInfo`), that delay is used instead of the backoff.
//!
//! # Other failures
//!
//! - **Rate limited** (per minute): the job is handed back without spending its attempt,
//!   due after the provider's `RetryInfo` delay, or [`RATE_LIMIT_FALLBACK_WAIT`] (30 s)
//!   when it gave none. (The pacing gate cools the whole pool down for the same time.)
//! - **Daily quota used up**: every job is paused until the quota resets — the provider's
//!   delay, or else the next midnight Pacific time — and this one is handed back until then.
//! - **Offline**: handed back at once without spending the attempt; the gate holds the pool
//!   and probes the network.
//! - **Refused** (safety, recitation, a blocked prompt) and **permanent** (the request is
//!   wrong for this answer): dead at once, whatever attempts are left, with the reason.
//! - **Needs the teacher** (no key, key rejected, model missing): the pool halts until the
//!   teacher acts, and the job is handed back at once without spending its attempt.
//!
//! # Leases
//!
//! A claim holds for [`LEASE`] (30 s); the worker renews it every third of that while the
//! job runs, and a lease that runs out (a crashed or frozen worker) is rescued — the job
//! queued again, or dead when out of attempts. [`LEASE_ENV`] overrides the lease (tests
//! crash workers on purpose), down to [`MIN_LEASE`].

use std::time::Duration;

use crate::grading::GradeError;

/// How many times a job may start before it is given up as dead: enough to ride out a
/// short overload (about 30 s of backoff in all), few enough that a hopeless answer reaches
/// the teacher soon.
pub const MAX_ATTEMPTS: i64 = 5;

/// The wait after a first failed attempt.
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);

/// How much longer each further wait is than the one before.
pub const BACKOFF_FACTOR: f64 = 2.0;

/// The longest wait between two attempts, jitter aside: a job never sleeps for long
/// after the provider has recovered.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5 * 60);

/// The spread of a wait, as a fraction either way (0.25: 75% to 125% of the wait), so jobs
/// that failed together do not all come back at the same instant.
pub const BACKOFF_JITTER: f64 = 0.25;

/// How long a job waits after a rate limit when the provider did not say (no `RetryInfo`).
pub const RATE_LIMIT_FALLBACK_WAIT: Duration = Duration::from_secs(30);

/// How long a claim holds without renewal: a crashed worker's jobs return after this.
pub const LEASE: Duration = Duration::from_secs(30);

/// The shortest lease [`LEASE_ENV`] may set: below it, renewals could not keep up.
pub const MIN_LEASE: Duration = Duration::from_millis(100);

/// The environment variable that overrides [`LEASE`], in milliseconds (tests that crash
/// workers set it low so the rescue comes quickly).
pub const LEASE_ENV: &str = "GRADEDESK_LEASE_MS";

/// UTC minus Pacific Standard Time: Gemini's daily quotas reset at midnight Pacific time.
const PACIFIC_STANDARD_OFFSET_MS: i64 = 8 * 3_600_000;

const DAY_MS: i64 = 86_400_000;

/// What to do with a job whose attempt failed. Times are wall-clock milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Spend the attempt and try again at this time.
    RetryAt(i64),
    /// Hand the job back without spending its attempt, due at this time: the job did
    /// nothing wrong.
    Release(i64),
    /// Pause every job until this time (a daily quota), this one handed back until then.
    PauseAll { until: i64 },
    /// Stop taking jobs until the teacher acts; the job is handed back, due now, without
    /// spending its attempt.
    Halt,
    /// Give the job up as dead, the error's message as the reason the teacher reads.
    Bury,
}

/// Decides what a failed attempt leads to, from the failure's classification, the attempts
/// started so far (this one included) and allowed, the time now and `jitter`, a draw from
/// [0, 1) that places the backoff within its spread (0.5: no spread). Pure: the same inputs
/// always give the same decision. The schedule is written out in the module's doc.
pub fn decide(
    error: &GradeError,
    attempts: i64,
    max_attempts: i64,
    now: i64,
    jitter: f64,
) -> Decision {
    match error {
        GradeError::NeedsTeacher { .. } => Decision::Halt,
        GradeError::RateLimited {
            retry_after,
            per_day: true,
            ..
        } => Decision::PauseAll {
            until: now + retry_after.map_or_else(|| until_quota_reset(now), millis),
        },
        // The provider said wait: the job did nothing wrong, so no attempt is spent.
        GradeError::RateLimited { retry_after, .. } => {
            Decision::Release(now + millis(retry_after.unwrap_or(RATE_LIMIT_FALLBACK_WAIT)))
        }
        GradeError::Offline { .. } => Decision::Release(now),
        GradeError::Refused { .. } | GradeError::Permanent { .. } => Decision::Bury,
        GradeError::Transient { retry_after, .. } => {
            if attempts >= max_attempts {
                Decision::Bury
            } else {
                let delay = retry_after.unwrap_or_else(|| backoff(attempts, jitter));
                Decision::RetryAt(now + millis(delay))
            }
        }
    }
}

/// The wait after failed attempt `attempt` (counting from 1): [`BACKOFF_BASE`] ·
/// [`BACKOFF_FACTOR`]^(attempt−1), at most [`BACKOFF_CAP`], scaled within ±[`BACKOFF_JITTER`]
/// by `jitter`, a draw from [0, 1) (0: the shortest, 0.5: the wait itself).
pub fn backoff(attempt: i64, jitter: f64) -> Duration {
    let doublings = (attempt.max(1) - 1).min(i32::MAX as i64) as i32;
    // A huge power is infinite, and the cap then applies as to any long wait.
    let wait = BACKOFF_BASE.as_millis() as f64 * BACKOFF_FACTOR.powi(doublings);
    let capped = wait.min(BACKOFF_CAP.as_millis() as f64);
    let spread = 1.0 + BACKOFF_JITTER * (2.0 * jitter - 1.0);
    Duration::from_millis((capped * spread) as u64)
}

/// The lease to use: [`LEASE`], or the milliseconds `override_ms` gives (the value of
/// [`LEASE_ENV`]) when it is a number of at least [`MIN_LEASE`].
pub fn lease_from(override_ms: Option<&str>) -> Duration {
    override_ms
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .filter(|lease| *lease >= MIN_LEASE)
        .unwrap_or(LEASE)
}

/// Milliseconds until Gemini's daily quotas reset, midnight Pacific time; without a
/// time-zone database, midnight by standard time (PST), the later of PST and PDT, so the
/// pool never resumes early.
fn until_quota_reset(now_ms: i64) -> i64 {
    let local = now_ms - PACIFIC_STANDARD_OFFSET_MS;
    let next_midnight = (local.div_euclid(DAY_MS) + 1) * DAY_MS + PACIFIC_STANDARD_OFFSET_MS;
    next_midnight - now_ms
}

fn millis(d: Duration) -> i64 {
    d.as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-28 20:00 UTC, 12:00 PST.
    const NOW: i64 = 1_795_896_000_000;
    /// A jitter draw that leaves every wait as the schedule writes it.
    const NO_SPREAD: f64 = 0.5;

    fn transient(retry_after: Option<Duration>) -> GradeError {
        GradeError::Transient {
            message: "Gemini is unavailable for now (503); trying again later".into(),
            retry_after,
        }
    }

    fn rate_limited(retry_after: Option<Duration>, per_day: bool) -> GradeError {
        GradeError::RateLimited {
            message: "Gemini's rate limit was reached".into(),
            retry_after,
            per_day,
        }
    }

    #[test]
    fn a_transient_failure_is_retried_after_the_backoff() {
        assert_eq!(
            decide(&transient(None), 1, MAX_ATTEMPTS, NOW, NO_SPREAD),
            Decision::RetryAt(NOW + 2_000)
        );
        assert_eq!(
            decide(&transient(None), 3, MAX_ATTEMPTS, NOW, NO_SPREAD),
            Decision::RetryAt(NOW + 8_000)
        );
    }

    #[test]
    fn jitter_spreads_a_wait_a_quarter_either_way() {
        assert_eq!(
            decide(&transient(None), 1, MAX_ATTEMPTS, NOW, 0.0),
            Decision::RetryAt(NOW + 1_500)
        );
        assert_eq!(
            decide(&transient(None), 1, MAX_ATTEMPTS, NOW, 0.75),
            Decision::RetryAt(NOW + 2_250)
        );
        let longest = backoff(1, 0.999_999).as_millis();
        assert!((2_499..2_500).contains(&longest), "{longest}");
    }

    #[test]
    fn a_transient_failure_waits_what_the_provider_said() {
        let said = transient(Some(Duration::from_millis(7_500)));
        assert_eq!(
            decide(&said, 1, MAX_ATTEMPTS, NOW, 0.0),
            Decision::RetryAt(NOW + 7_500)
        );
    }

    #[test]
    fn a_job_out_of_attempts_is_buried() {
        assert_eq!(
            decide(&transient(None), 5, 5, NOW, NO_SPREAD),
            Decision::Bury
        );
        // Even when the provider named a wait, and past the limit (a rescued job).
        let said = transient(Some(Duration::from_secs(1)));
        assert_eq!(decide(&said, 6, 5, NOW, NO_SPREAD), Decision::Bury);
        // A job given more attempts goes on.
        assert_eq!(
            decide(&transient(None), 5, 8, NOW, NO_SPREAD),
            Decision::RetryAt(NOW + 32_000)
        );
    }

    #[test]
    fn refused_and_permanent_failures_are_buried_at_the_first_attempt() {
        let refused = GradeError::Refused {
            message: "Gemini would not grade this answer (SAFETY)".into(),
        };
        let permanent = GradeError::Permanent {
            message: "the answer's image is missing from the data folder".into(),
        };
        for error in [refused, permanent] {
            assert_eq!(
                decide(&error, 1, MAX_ATTEMPTS, NOW, NO_SPREAD),
                Decision::Bury
            );
        }
    }

    #[test]
    fn a_rate_limit_releases_the_job_for_the_providers_wait_or_the_fallback() {
        assert_eq!(
            decide(
                &rate_limited(Some(Duration::from_millis(45_837)), false),
                1,
                MAX_ATTEMPTS,
                NOW,
                NO_SPREAD
            ),
            Decision::Release(NOW + 45_837)
        );
        assert_eq!(
            decide(&rate_limited(None, false), 1, MAX_ATTEMPTS, NOW, NO_SPREAD),
            Decision::Release(NOW + 30_000)
        );
        // No attempt is spent, so even a job on its last one is not buried.
        assert_eq!(
            decide(&rate_limited(None, false), 5, 5, NOW, NO_SPREAD),
            Decision::Release(NOW + millis(RATE_LIMIT_FALLBACK_WAIT))
        );
    }

    #[test]
    fn a_used_up_daily_quota_pauses_everything_until_the_reset() {
        let said = rate_limited(Some(Duration::from_secs(3_600)), true);
        assert_eq!(
            decide(&said, 1, MAX_ATTEMPTS, NOW, NO_SPREAD),
            Decision::PauseAll {
                until: NOW + 3_600_000
            }
        );
        // Without a delay: the next midnight by Pacific standard time, 12 hours on.
        assert_eq!(
            decide(&rate_limited(None, true), 5, 5, NOW, NO_SPREAD),
            Decision::PauseAll {
                until: NOW + 12 * 3_600_000
            }
        );
    }

    #[test]
    fn the_daily_quota_resets_at_pacific_midnight() {
        assert_eq!(until_quota_reset(NOW), 12 * 3_600_000);
        // At 08:00 UTC, midnight PST, the next reset is a whole day away.
        let midnight = 1_795_939_200_000;
        assert_eq!(until_quota_reset(midnight), DAY_MS);
        assert_eq!(until_quota_reset(midnight - 1), 1);
    }

    #[test]
    fn offline_releases_the_job_at_once() {
        let offline = GradeError::Offline {
            message: "waiting for network: Gemini cannot be reached".into(),
        };
        assert_eq!(
            decide(&offline, 1, MAX_ATTEMPTS, NOW, NO_SPREAD),
            Decision::Release(NOW)
        );
        assert_eq!(
            decide(&offline, 5, 5, NOW, NO_SPREAD),
            Decision::Release(NOW)
        );
    }

    #[test]
    fn a_failure_only_the_teacher_can_fix_halts_the_pool() {
        for message in [
            "no API key",
            "the API key was rejected",
            "model not available",
        ] {
            let error = GradeError::NeedsTeacher {
                message: message.into(),
            };
            assert_eq!(decide(&error, 1, MAX_ATTEMPTS, NOW, 0.0), Decision::Halt);
            assert_eq!(decide(&error, 5, 5, NOW, 0.0), Decision::Halt);
        }
    }

    /// The schedule of the module's doc, attempt by attempt, with the jitter held still.
    #[test]
    fn the_full_schedule() {
        let waits: Vec<Option<i64>> = (1..=MAX_ATTEMPTS)
            .map(
                |attempt| match decide(&transient(None), attempt, MAX_ATTEMPTS, NOW, NO_SPREAD) {
                    Decision::RetryAt(at) => Some(at - NOW),
                    Decision::Bury => None,
                    other => panic!("attempt {attempt}: {other:?}"),
                },
            )
            .collect();
        assert_eq!(
            waits,
            [Some(2_000), Some(4_000), Some(8_000), Some(16_000), None]
        );
        // Beyond the default attempts the doubling goes on up to the cap.
        let secs: Vec<u64> = (1..=11).map(|n| backoff(n, NO_SPREAD).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(backoff(i64::MAX, NO_SPREAD), BACKOFF_CAP);
        assert_eq!(backoff(i64::MAX, 0.999_999).as_millis(), 374_999);
        // An attempt count below 1 (never stored) waits like the first.
        assert_eq!(backoff(0, NO_SPREAD), BACKOFF_BASE);
    }

    #[test]
    fn the_lease_is_thirty_seconds_unless_overridden_with_at_least_a_tenth_of_one() {
        assert_eq!(lease_from(None), Duration::from_secs(30));
        assert_eq!(lease_from(Some("1500")), Duration::from_millis(1_500));
        assert_eq!(lease_from(Some("100")), MIN_LEASE);
        assert_eq!(lease_from(Some("99")), LEASE);
        assert_eq!(lease_from(Some("soon")), LEASE);
        assert_eq!(lease_from(Some("-5")), LEASE);
    }
}
