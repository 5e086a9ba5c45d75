//! The library's figures with a real recorder: a Prometheus text exporter,
//! as a service would install it (here printed instead of served).
//!
//! Run: `cargo run --features metrics --example metrics` (starts a local
//! ZooKeeper, or uses `ZK_CONNECT=host:port`).

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use zkurator::zookeeper_client::Client;
use zkurator::{LockError, Mutex};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let connect = zkurator_testserver::shared_connect_string()?;
    let (a, b) = (zkurator::connect(Client::connector(), &connect).await?, Client::connect(&connect).await?);
    let mutex = Mutex::new(&a, "/examples/metrics")?;
    let rival = Mutex::new(&b, "/examples/metrics")?;
    for _ in 0..3 {
        let guard = mutex.lock().await?;
        match rival.lock_timeout(Duration::from_millis(20)).await {
            Err(LockError::Timeout(_)) => {}
            other => return Err(format!("the rival got in: {other:?}").into()),
        }
        guard.release().await?;
    }
    let text = prometheus.render();
    print!("{text}");
    if !text.contains("zkurator_acquire_seconds") {
        return Err("no zkurator figure recorded".into());
    }
    Ok(())
}
