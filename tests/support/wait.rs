//! Waiting for a condition with a limit, instead of sleeping and hoping.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(50);

/// Waits until `probe` answers `Ok(value)` and returns the value. `Err(state)` means not yet:
/// after `limit` the test fails with `what` and the last state. Time is tokio's, so on a
/// paused clock the limit is virtual time too.
pub async fn wait_until<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(state) => assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not after {limit:?} ({state})"
            ),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Job counts by state in a data dir's database, e.g. `queued 3, running 1, succeeded 8`.
pub fn job_counts(data: &Path) -> Vec<(String, i64)> {
    let conn = super::db(data);
    let mut stmt = conn
        .prepare("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Waits until no job in the data dir is queued or running, whoever runs them (a pool in
/// this process, worker processes): the one drain loop of the tests.
pub async fn drained(data: &Path, limit: Duration) {
    wait_until(limit, "the queue drained", || async {
        let counts = job_counts(data);
        let active: i64 = counts
            .iter()
            .filter(|(state, _)| state == "queued" || state == "running")
            .map(|(_, n)| n)
            .sum();
        if active == 0 {
            Ok(())
        } else {
            Err(format!("jobs by state: {counts:?}"))
        }
    })
    .await
}
