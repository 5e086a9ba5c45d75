//! The `metrics` feature against a real ZooKeeper and a real recorder
//! (Prometheus's text format): every figure the guide and the crate docs list
//! moves when the thing it counts happens. `cargo test --features metrics --test observe`.

mod common;

use std::time::Duration;

use common::*;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use zkurator::{LockError, Mutex, ReadWriteLock, SessionSource};

/// The value of the first sample whose line starts with `series`.
fn value(handle: &PrometheusHandle, series: &str) -> f64 {
    let text = handle.render();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn every_figure_moves_with_what_it_counts() {
    let handle = PrometheusBuilder::new().install_recorder().expect("the only recorder of this test binary");
    let (a, b, operator) = (client().await, client().await, client().await);
    let path = lock_path("observed");
    let mutex = Mutex::new(&a, &path).unwrap();

    let guard = mutex.lock().await.unwrap();
    assert_eq!(value(&handle, r#"zkurator_holders{kind="mutex"}"#), 1.0);
    assert_eq!(value(&handle, r#"zkurator_acquire_seconds_count{kind="mutex",outcome="acquired"}"#), 1.0);
    let rival = Mutex::new(&b, &path).unwrap();
    assert_eq!(rival.try_lock().await.unwrap_err(), LockError::WouldBlock);
    assert_eq!(value(&handle, r#"zkurator_acquire_seconds_count{kind="mutex",outcome="would_block"}"#), 1.0);

    // A waiter counts while it waits.
    let waiting = tokio::spawn(async move { rival.lock_timeout(Duration::from_secs(10)).await.map(drop) });
    eventually(Duration::from_secs(5), "one waiter", || async {
        value(&handle, r#"zkurator_waiters{kind="mutex"}"#) == 1.0
    })
    .await;
    guard.release().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(value(&handle, r#"zkurator_waiters{kind="mutex"}"#), 0.0);
    assert_eq!(value(&handle, r#"zkurator_holders{kind="mutex"}"#), 0.0);

    // A lost hold, a refused guarded write, a loss watcher.
    let rw = ReadWriteLock::new(&a, &lock_path("observed-rw")).unwrap();
    let write = rw.write().await.unwrap();
    assert!(matches!(
        write.guarded_set_data(&path, &vec![0u8; 2 << 20], None).await,
        Err(LockError::DataTooLarge { .. })
    ));
    assert_eq!(value(&handle, r#"zkurator_guarded_writes_refused_total{reason="too_large"}"#), 1.0);
    operator.delete(write.node_path(), None).await.unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), write.lost()).await.unwrap(),
        zkurator::LossReason::NodeDeleted
    );
    assert!(value(&handle, "zkurator_loss_watchers_started_total") >= 1.0);
    drop(write);
    assert_eq!(value(&handle, r#"zkurator_holds_lost_total{reason="node_deleted"}"#), 1.0);
    assert_eq!(value(&handle, r#"zkurator_holders{kind="write"}"#), 0.0);

    // A renewed session.
    let sessions = SessionSource::renewing(zookeeper_client::Client::connector(), connect_string());
    let renewing = Mutex::new(&sessions, &lock_path("observed-renewal")).unwrap();
    let first = renewing.lock().await.unwrap();
    kill_session(first.client()).await;
    drop(first);
    renewing.lock().await.unwrap().release().await.unwrap();
    assert_eq!(value(&handle, "zkurator_sessions_renewed_total"), 1.0);
    assert_eq!(value(&handle, r#"zkurator_holds_lost_total{reason="session_ended"}"#), 1.0);
}
