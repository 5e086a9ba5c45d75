//! A test fixture that runs a **real** Apache ZooKeeper server as a local child process:
//! standalone ([`ZkServer`]), as an ensemble ([`ZkEnsemble`]), or one per test process
//! ([`shared_connect_string`]).
//!
//! The server is the ZooKeeper Java server, run with `java` (see [`java_binary`]) from
//! the jars found by [`zookeeper_classpath`] — by default Debian's
//! (`apt-get install -y zookeeper`). Each server gets a temporary directory holding its
//! `zoo.cfg`, data and log, listens on a free port on 127.0.0.1 only, and has all
//! four-letter-word commands enabled ([`four_letter`]).
//!
//! Servers never outlive the test process: dropping a [`ZkServer`]/[`ZkEnsemble`] kills
//! the JVMs and deletes the directory, and if the process dies without dropping them a
//! watchdog process (which notices the end of a pipe only this process holds) does it.
//!
//! ```no_run
//! let server = zkurator_testserver::ZkServer::start()?;
//! let version = zkurator_testserver::server_version(&server.connect_string())?;
//! assert!(version.starts_with("3."));
//! # Ok::<(), zkurator_testserver::ServerError>(())
//! ```

#![warn(missing_docs)]

mod builder;
mod config;
mod ensemble;
mod error;
mod fourlw;
mod locate;
mod ports;
mod process;
mod routes;
mod server;
mod shared;
mod watchdog;

pub use builder::ServerBuilder;
pub use ensemble::ZkEnsemble;
pub use error::ServerError;
pub use fourlw::{four_letter, server_version};
pub use locate::{find_java, find_zookeeper_jars, java_binary, zookeeper_classpath, DEBIAN_JAVA_DIR};
pub use routes::{PeerLink, PeerPort, Router};
pub use server::ZkServer;
pub use shared::{external_connect_string, shared_connect_string};
