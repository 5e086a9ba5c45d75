//! The `curator` runtime: real Apache Curator in a JVM embedded in this process.
//!
//! # How it is put together
//!
//! * The Java side is one small adapter class, `zkurator.interop.CuratorContender`
//!   (`java/src/zkurator/interop/CuratorContender.java` in this repository, with
//!   package-private helpers beside it: `LockHandles` per lock kind, `Wire`,
//!   `Sessions`, `CuratorInfo`; every `*.java` file under `java/` is compiled). One
//!   instance is one contender: its own `CuratorFramework` (one ZooKeeper session)
//!   and its own lock handle (`InterProcessMutex`, the deprecated
//!   `InterProcessSemaphore` for a mutex with more than one lease, or the
//!   `InterProcessReadWriteLock` sides). Each command is one method call that
//!   returns the [`Reply`] as JSON.
//! * The adapter is compiled at run time with `javac` against the Curator jars,
//!   into `<cache>/zkurator-java/classes-<hash>`, where the hash covers the Java
//!   sources and the classpath: a directory is compiled once and reused until a
//!   source (or the jar list) changes, and concurrent test processes never see a
//!   half-written directory (each compiles into a private directory and renames it).
//! * The JVM is created once per process ([`CuratorRuntime::start`]; a JVM
//!   cannot be restarted or reconfigured). Its classpath is set explicitly:
//!   Curator and ZooKeeper jars, the adapter classes, and j4rs's own jar **last**,
//!   because that jar bundles an old Guava that breaks Curator if it comes first.
//!
//! # Jars
//!
//! By default the Debian packages' jars in `/usr/share/java`
//! (`apt-get install -y libcurator-recipes-java`). `CURATOR_CLASSPATH` (a
//! `:`-separated list of jars or directories) replaces that list, to run another
//! Curator version: it must hold Curator client/framework/recipes, ZooKeeper and
//! their dependencies (Guava, SLF4J API and a binding such as slf4j-nop).
//!
//! # Threads
//!
//! Curator's mutex and read/write lock belong to the Java thread that acquired
//! them. The adapter therefore runs every lock operation of a contender on one
//! dedicated Java thread of its own; [`CuratorContender::execute`] may be called
//! from any Rust thread (each call attaches the calling thread to the JVM for the
//! duration of the call and waits for the contender's Java thread). The runner's
//! contract — `execute` for one contender always from one and the same Rust
//! thread — is thus not needed for correctness, but it is what the harness does.
//!
//! [`Reply`]: crate::contender::Reply
//! [`CuratorContender::execute`]: crate::contender::Contender::execute

mod adapter;
mod classpath;
mod compile;
mod contender;
mod error;
mod jni;
mod jvm;
mod paths;
mod runtime;

pub use adapter::CuratorAdapter;
pub use classpath::find_curator_jars;
pub use contender::CuratorContender;
pub use runtime::{invoke_static_string, CuratorRuntime};
