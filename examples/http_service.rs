//! An HTTP service that takes a lock per request: the handle lives in the
//! router's state, each request locks `/locks/orders/<id>` with a timeout and
//! maps the library's answers to HTTP ones. Replaces a Curator service that
//! builds an `InterProcessMutex` per key and calls `acquire(2, SECONDS)`.
//!
//! | zkurator | HTTP |
//! | --- | --- |
//! | granted | 200, with the fencing token |
//! | `WouldBlock` (`?try=1`) | 409 Conflict: someone else holds it |
//! | `Timeout` | 503 Service Unavailable, `Retry-After: 1` |
//! | `Lost` during the work | 409: the work was stopped, nothing committed |
//! | anything else | 500 |
//!
//! Run: `cargo run --example http_service` (a local ZooKeeper is started, or
//! `ZK_CONNECT=host:port` is used; the example serves on a free port, sends
//! itself a few requests and prints the answers).

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zkurator::zookeeper_client::Client;
use zkurator::{LockError, Mutex, SessionSource};

/// What every request shares: where sessions come from.
#[derive(Clone)]
struct Locks {
    sessions: SessionSource,
}

#[derive(serde::Deserialize)]
struct Options {
    #[serde(default, rename = "try")]
    try_only: Option<u8>,
    /// How long the work under the lock takes, in milliseconds.
    #[serde(default)]
    work_ms: Option<u64>,
}

async fn process_order(State(locks): State<Locks>, Path(id): Path<u32>, Query(options): Query<Options>) -> Response {
    let mutex = match Mutex::new(&locks.sessions, &format!("/locks/orders/{id}")) {
        Ok(mutex) => mutex,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let acquired = match options.try_only {
        Some(_) => mutex.try_lock().await,
        None => mutex.lock_timeout(Duration::from_secs(2)).await,
    };
    let guard = match acquired {
        Ok(guard) => guard,
        Err(LockError::WouldBlock) => return (StatusCode::CONFLICT, "order is being processed").into_response(),
        Err(LockError::Timeout(_)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], "busy, retry").into_response()
        }
        Err(error) => return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    };
    let token = guard.fencing_token();
    let work = tokio::time::sleep(Duration::from_millis(options.work_ms.unwrap_or(10)));
    let answer = tokio::select! {
        reason = guard.lost() => (StatusCode::CONFLICT, format!("lock lost ({reason:?}): stopped")).into_response(),
        _ = work => (StatusCode::OK, format!("order {id} processed under token {token}")).into_response(),
    };
    let _ = guard.release().await;
    answer
}

/// One HTTP/1.1 POST to `address`, answered as `status body`.
async fn post_to(address: std::net::SocketAddr, target: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("POST {target} HTTP/1.1\r\nHost: example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    let status = reply.split(' ').nth(1).unwrap_or("?").to_owned();
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    Ok(format!("{status} {body}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let connect = zkurator_testserver::shared_connect_string()?;
    let sessions = SessionSource::renewing(Client::connector(), connect);
    let app = Router::new().route("/orders/{id}", post(process_order)).with_state(Locks { sessions });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let free = post_to(address, "/orders/7").await?;
    println!("free order:            {free}");
    let slow = tokio::spawn(async move { post_to(address, "/orders/8?work_ms=3000").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tried = post_to(address, "/orders/8?try=1").await?;
    println!("busy order, try:       {tried}");
    let waited = post_to(address, "/orders/8").await?;
    println!("busy order, 2 s wait:  {waited}");
    let slow = slow.await??;
    println!("the slow one:          {slow}");
    let expected = [("200", &free), ("409", &tried), ("503", &waited), ("200", &slow)];
    for (status, answer) in expected {
        if !answer.starts_with(status) {
            return Err(format!("expected {status}, got {answer}").into());
        }
    }
    Ok(())
}
