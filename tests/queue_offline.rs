//! With the network down, answers wait as "waiting for network" without spending attempts,
//! the pool holds and probes, and grading resumes by itself when the network is back.

mod support;

use std::time::Duration;

use fake_gemini::{FakeConfig, FakeGemini};
use gradedesk::pacing::Hold;
use support::*;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_network_holds_answers_without_spending_attempts_then_grades_them() {
    // A port nothing listens on yet: connections are refused, as with the Wi-Fi off.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (ws, items) = queued_answers(&data, 1, 2).await;
    let pool = gemini_pool(&ws, format!("http://127.0.0.1:{port}"), 2);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(pool.clone().run(shutdown.clone()));

    // The first attempts find no network: the pool holds, and every answer waits for the
    // network again, queued.
    let waiting = || {
        db(&data)
            .query_row(
                "SELECT count(*), coalesce(max(attempts), 0) FROM jobs WHERE kind = 'GRADE_ITEM' AND state = 'queued'
                 AND last_error LIKE '%waiting for network%'",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .unwrap()
    };
    let (status, attempts) = wait_until(
        Duration::from_secs(20),
        "the pool holds and every answer waits for the network",
        || async {
            let status = pool.status().await.unwrap();
            let (queued, attempts) = waiting();
            if status.provider.hold == Some(Hold::Offline) && queued == items.len() as i64 {
                Ok((status, attempts))
            } else {
                Err(format!("{queued} answers waiting for network; {status:?}"))
            }
        },
    )
    .await;
    assert!(status.provider.next_try_at_ms.is_some());
    assert_eq!(attempts, 0, "waiting for the network spends no attempt");

    // The network is back: the next probe goes through and the rest follow.
    let fake = FakeGemini::start(FakeConfig::default(), port)
        .await
        .unwrap();
    drained(&data, Duration::from_secs(30)).await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(
        fake.requests().len(),
        items.len(),
        "one request per answer once back online"
    );
    assert_eq!(pool.status().await.unwrap().provider.hold, None);
    let done = graded(&db(&data))
        .iter()
        .filter(|row| row.3.is_some())
        .count();
    assert_eq!(done, items.len());
}
