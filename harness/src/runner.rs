//! Runs one scenario against a real ZooKeeper: starts the contenders (one
//! thread each), drives the steps, compares every outcome with the model,
//! records the history and runs the checkers over it. Faults (`crash`,
//! `expire`, `kill`, server ops) go through the contenders' out-of-band
//! handles and the backend's [`ServerControl`]; what they did is measured in
//! a [`FaultStats`].

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use zookeeper_client::{Acls, Client, CreateMode};

mod data;

use crate::checkers::{self, Violation};
use crate::contender::{Command, Contender, ContenderSpec, Crasher, ErrorKind, Reply, Runtime, Side};
use crate::fault_figures::{FaultKind, FaultStats, Injected, Latency, Role};
use crate::history::{EventKind, History};
use crate::model::{Model, Outcome, Prediction};
use crate::nemesis::{NoControl, ServerControl};
pub use crate::outcome::{RunResult, SETUP};
use crate::runtime::curator::CuratorRuntime;
use crate::runtime::go_zk::GoZkRuntime;
use crate::runtime::kazurator::KazuratorRuntime;
use crate::runtime::line::LineProcess;
use crate::runtime::rust::RustContender;
use crate::runtime::rust_process::RustProcessRuntime;
use crate::runtime::zk_client::ZkClientContender;
use crate::scenario::{Action, Scenario};

/// Timing of a run.
#[derive(Clone, Debug)]
pub struct Timing {
    /// How long a contender may take to get a lock the model says it holds.
    pub grant_bound: Duration,
    /// How long a contender must stay without reply to count as blocked.
    pub blocked_window: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { grant_bound: Duration::from_secs(10), blocked_window: Duration::from_millis(300) }
    }
}

/// How long the runner waits for its own session before giving up on a server.
pub const RUNNER_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Starts contenders of every runtime; the JVM and the Python venv are made
/// on first use and shared by all runs of the process.
#[derive(Debug, Default)]
pub struct Peers {
    curator: OnceLock<Result<CuratorRuntime, String>>,
    kazurator: OnceLock<Result<KazuratorRuntime, String>>,
    rust_process: OnceLock<Result<RustProcessRuntime, String>>,
    go_zk: OnceLock<Result<GoZkRuntime, String>>,
}

impl Peers {
    /// The Curator runtime, started on first use.
    pub fn curator(&self) -> Result<CuratorRuntime, String> {
        self.curator.get_or_init(|| CuratorRuntime::start().map_err(|e| e.to_string())).clone()
    }

    /// The Python runtime, prepared on first use.
    pub fn kazurator(&self) -> Result<KazuratorRuntime, String> {
        self.kazurator.get_or_init(|| KazuratorRuntime::new().map_err(|e| e.to_string())).clone()
    }

    /// The go-zk adapter, built on first use.
    pub fn go_zk(&self) -> Result<GoZkRuntime, String> {
        self.go_zk.get_or_init(|| GoZkRuntime::new().map_err(|e| e.to_string())).clone()
    }

    /// Peers whose `rust-process` contenders run `binary` (tests pass
    /// `env!("CARGO_BIN_EXE_zkurator-harness")`).
    pub fn with_harness_binary(binary: std::path::PathBuf) -> Peers {
        let peers = Peers::default();
        let _ = peers.rust_process.set(Ok(RustProcessRuntime::with_binary(binary)));
        peers
    }

    /// The runtime of `rust-process` contenders (finds the harness binary on first use).
    pub fn rust_process(&self) -> Result<RustProcessRuntime, String> {
        self.rust_process.get_or_init(|| RustProcessRuntime::new().map_err(|e| e.to_string())).clone()
    }

    /// What starts a Curator contender pinned to `version`: a worker process
    /// with that release's jars (from the Maven cache).
    fn curator_worker(&self, version: crate::versions::Version) -> Result<Starter, String> {
        use crate::versions::{maven, selection};
        let pick = selection::Pick { version, source: selection::Source::Maven };
        let jars = maven::curator_jars(pick).map_err(|e| e.to_string())?.unwrap_or_default();
        Ok(Starter::Worker(self.rust_process()?, maven::classpath(&jars)))
    }

    /// What starts a contender of `runtime` on the thread that will drive it.
    fn starter(&self, runtime: Runtime) -> Result<Starter, String> {
        Ok(match runtime {
            Runtime::Rust | Runtime::RustTasks => Starter::Rust(runtime),
            Runtime::RustProcess => Starter::RustProcess(self.rust_process()?),
            Runtime::ZkClient => Starter::ZkClient,
            Runtime::Curator => Starter::Curator(self.curator()?),
            Runtime::Kazurator | Runtime::KazooNative => Starter::Python(self.kazurator()?, runtime),
            Runtime::GoZk => Starter::Line(self.go_zk()?.process(), runtime),
            Runtime::External(_) => Starter::Line(
                crate::runtime::external::process(runtime).ok_or("not a registered external runtime")?,
                runtime,
            ),
        })
    }
}

/// Starts one contender; sent to the contender's own thread.
enum Starter {
    Rust(Runtime),
    RustProcess(RustProcessRuntime),
    /// A Curator contender in a worker process, with these jars.
    Worker(RustProcessRuntime, String),
    ZkClient,
    Curator(CuratorRuntime),
    Python(KazuratorRuntime, Runtime),
    /// A program speaking the contender protocol (go-zk, external runtimes).
    Line(LineProcess, Runtime),
}

impl Starter {
    fn start(self, spec: &ContenderSpec) -> Result<Box<dyn Contender>, String> {
        fn boxed<C: Contender + 'static, E: std::fmt::Display>(r: Result<C, E>) -> Result<Box<dyn Contender>, String> {
            r.map(|c| Box::new(c) as Box<dyn Contender>).map_err(|e| e.to_string())
        }
        match self {
            Starter::Rust(runtime) => boxed(RustContender::start(runtime, spec)),
            Starter::RustProcess(process) => boxed(process.start_contender(spec)),
            Starter::Worker(process, jars) => {
                boxed(process.start_worker(spec, Runtime::Curator, &[(crate::versions::axis::CURATOR_CLASSPATH, jars)]))
            }
            Starter::ZkClient => boxed(ZkClientContender::start(spec)),
            Starter::Curator(curator) => boxed(curator.start_contender(spec)),
            Starter::Python(python, runtime) => boxed(python.start_contender(runtime, spec)),
            Starter::Line(process, runtime) => boxed(process.start(runtime, spec, crate::runtime::child::START_LIMIT)),
        }
    }
}

/// A contender's thread, seen from the runner.
struct Driver {
    runtime: Runtime,
    commands: Sender<Command>,
    replies: Receiver<(Reply, Instant)>,
    crasher: Crasher,
    expirer: Option<Crasher>,
    killer: Option<Crasher>,
    /// Freezes the contender's process (`C pause`), if it is a process.
    pauser: Option<crate::contender::Pauser>,
    /// The acquire still waiting for its reply, if any.
    pending: Option<Side>,
    /// Nodes this contender was granted, by side.
    nodes: BTreeMap<Side, String>,
    /// Crashed or killed: it takes no more commands.
    crashed: bool,
}

impl Driver {
    /// The out-of-band handle that injects `kind`, if the runtime has one.
    fn fault_handle(&self, kind: FaultKind) -> Option<&Crasher> {
        match kind {
            FaultKind::Expire => self.expirer.as_ref(),
            FaultKind::Kill => self.killer.as_ref(),
            _ => Some(&self.crasher),
        }
    }
}

/// A failed expectation: stops the run.
struct Stop(Violation);

fn stop(checker: &'static str, message: String) -> Stop {
    Stop(Violation { checker, message })
}

/// Runs one scenario on the ZooKeeper at `connect`. Server faults (`zk
/// restart`...) fail: use [`run_with`] and a [`ServerControl`] for them.
pub fn run(scenario: &Scenario, connect: &str, peers: &Peers, timing: &Timing) -> RunResult {
    let control = NoControl { describe: format!("only the connect string {connect}") };
    run_with(scenario, connect, &control, peers, timing).0
}

/// Runs one scenario on the ZooKeeper at `connect`, whose servers `control`
/// may restart or kill, and reports what its faults did.
pub fn run_with(
    scenario: &Scenario,
    connect: &str,
    control: &dyn ServerControl,
    peers: &Peers,
    timing: &Timing,
) -> (RunResult, FaultStats) {
    let started = Instant::now();
    let mut run = Run::new(scenario, connect, control, timing);
    let mut violations = Vec::new();
    let mut steps_done = 0;
    match run.start_contenders(peers) {
        Err(stopped) => violations.push(stopped.0),
        Ok(()) => {
            for step in &scenario.steps {
                if let Err(Stop(mut violation)) = run.step(step) {
                    violation.message = format!("line {} `{}`: {}", step.line, step.text, violation.message);
                    violations.push(violation);
                    break;
                }
                steps_done += 1;
            }
        }
    }
    violations.extend(run.finish(violations.is_empty()));
    violations.extend(run.check_data());
    let events = run.history.events();
    let exclusion = checkers::exclusion(events, scenario.kind);
    run.stats.double_grants = exclusion.len();
    violations.extend(exclusion);
    violations.extend(checkers::names(events, scenario.kind, &run.foreign));
    let result = RunResult {
        label: scenario.label(),
        scenario: scenario.name.clone(),
        pairing: scenario.pairing.clone(),
        runtimes: scenario.contenders.iter().map(|(_, r)| *r).collect(),
        violations,
        duration: started.elapsed(),
        steps_done,
    };
    (result, run.stats)
}

/// The state of one run.
struct Run<'a> {
    scenario: &'a Scenario,
    control: &'a dyn ServerControl,
    timing: &'a Timing,
    connect: String,
    lock_path: String,
    tokio: tokio::runtime::Runtime,
    zk: Option<Client>,
    model: Model,
    drivers: BTreeMap<String, Driver>,
    history: History,
    foreign: Vec<String>,
    stats: FaultStats,
    /// The last fault on each contender, and when it was injected.
    faulted: BTreeMap<String, (FaultKind, Instant)>,
    /// A holder's death whose waiters the next settle times.
    holder_died: Option<(FaultKind, Runtime, Instant)>,
    /// When the last reply arrived (stamped by the contender's thread).
    last_reply_at: Option<Instant>,
    /// The workload's counter node, once a workload step created it.
    counter: Option<String>,
}

impl<'a> Run<'a> {
    fn new(scenario: &'a Scenario, connect: &str, control: &'a dyn ServerControl, timing: &'a Timing) -> Self {
        // A worker thread keeps the runner's session alive between its requests.
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let pairing = if scenario.pairing.is_empty() { "fixed".to_owned() } else { scenario.pairing.clone() };
        let lock_path =
            format!("/zkurator-harness/{}/{}-{}", scenario.name, pairing, &uuid::Uuid::new_v4().to_string()[..8]);
        Run {
            scenario,
            control,
            timing,
            connect: connect.to_owned(),
            lock_path,
            tokio,
            zk: None,
            model: Model::new(scenario.kind, &scenario.contenders),
            drivers: BTreeMap::new(),
            history: History::default(),
            foreign: Vec::new(),
            stats: FaultStats::default(),
            faulted: BTreeMap::new(),
            holder_died: None,
            last_reply_at: None,
            counter: None,
        }
    }

    fn zk(&mut self) -> Result<Client, Stop> {
        if let Some(zk) = &self.zk {
            return Ok(zk.clone());
        }
        let connecting = Client::connector()
            .with_session_timeout(Duration::from_secs(10))
            .with_connection_timeout(Duration::from_secs(5))
            .connect(&self.connect);
        let connect = self.tokio.block_on(async { tokio::time::timeout(RUNNER_CONNECT_TIMEOUT, connecting).await });
        let zk = match connect {
            Ok(Ok(zk)) => zk,
            Ok(Err(e)) => {
                return Err(stop("setup", format!("runner cannot connect to ZooKeeper at {}: {e}", self.connect)))
            }
            Err(_) => {
                return Err(stop(
                    "setup",
                    format!(
                        "runner cannot connect to ZooKeeper at {}: no session within {RUNNER_CONNECT_TIMEOUT:?}; is a server running there?",
                        self.connect
                    ),
                ))
            }
        };
        self.zk = Some(zk.clone());
        Ok(zk)
    }

    fn start_contenders(&mut self, peers: &Peers) -> Result<(), Stop> {
        self.zk()?;
        for (id, runtime) in &self.scenario.contenders {
            let spec = ContenderSpec {
                id: id.clone(),
                connect: self.connect.clone(),
                lock_path: self.lock_path.clone(),
                kind: self.scenario.kind,
                lock_data: self.scenario.lock_data.as_ref().map(|d| d.clone().into_bytes()),
                session_timeout: self.scenario.session_timeout,
            };
            let pin = self.scenario.pins.iter().find(|(pinned, _)| pinned == id).map(|(_, version)| *version);
            let driver = spawn_driver(*runtime, pin, spec, peers)
                .map_err(|message| stop("setup", format!("{runtime} contender {id} did not start: {message}")))?;
            self.drivers.insert(id.clone(), driver);
        }
        Ok(())
    }

    fn driver(&mut self, id: &str) -> &mut Driver {
        self.drivers.get_mut(id).expect("contenders were validated by the parser")
    }

    /// Sends a command and records its invoke.
    fn send(&mut self, id: &str, command: Command) -> Result<(), Stop> {
        self.history.record(id, EventKind::Invoke(command.clone()));
        self.driver(id).commands.send(command).map_err(|_| stop("runtime", format!("contender {id} is gone")))
    }

    /// Waits up to `within` for the contender's reply and records it.
    fn reply(&mut self, id: &str, within: Duration) -> Option<Reply> {
        let (reply, at) = match self.driver(id).replies.recv_timeout(within) {
            Ok(got) => got,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        self.last_reply_at = Some(at);
        self.history.record_at(at, id, EventKind::Complete(reply.clone()));
        if let Reply::Granted { node } = &reply {
            if let Some(side) = self.driver(id).pending.take() {
                self.driver(id).nodes.insert(side, node.clone());
            }
        }
        Some(reply)
    }

    /// Sends and waits for the reply, which must come within `within`.
    fn call(&mut self, id: &str, command: Command, within: Duration) -> Result<Reply, Stop> {
        let described = format!("{command:?}");
        self.send(id, command)?;
        self.reply(id, within).ok_or_else(|| stop("model", format!("{id}: no reply to {described} within {within:?}")))
    }

    fn step(&mut self, step: &crate::scenario::Step) -> Result<(), Stop> {
        let prediction = self.model.step(&step.action).map_err(|e| stop("scenario", e.0))?;
        if let (Some(expect), Some(outcome)) = (step.expect, &prediction.outcome) {
            if !outcome.satisfies(expect) {
                return Err(stop(
                    "scenario",
                    format!("the scenario expects {expect:?} but the model says {outcome:?}"),
                ));
            }
        }
        let bound = self.timing.grant_bound;
        match &step.action {
            Action::Acquire { contender, side, timeout } => {
                let command = Command::Acquire { side: *side, timeout: *timeout };
                self.driver(contender).pending = Some(*side);
                self.send(contender, command)?;
                let expected = prediction.outcome.clone().unwrap_or(Outcome::Ok);
                let wait = match expected {
                    Outcome::Blocked => self.timing.blocked_window,
                    _ => timeout.unwrap_or_default() + bound,
                };
                let reply = self.reply(contender, wait);
                self.compare(contender, &expected, reply)?;
            }
            Action::Release { contender, side } => {
                let reply = self.call(contender, Command::Release { side: *side }, bound)?;
                self.driver(contender).nodes.remove(side);
                self.compare(contender, prediction.outcome.as_ref().unwrap_or(&Outcome::Ok), Some(reply))?;
            }
            Action::Participants { contender } => {
                let reply = self.call(contender, Command::Participants, bound)?;
                let children = self.list()?;
                match reply {
                    Reply::Participants { nodes } => {
                        if let Some(v) = checkers::participants(&nodes, &children, &self.lock_path, self.scenario.kind)
                        {
                            return Err(Stop(v));
                        }
                    }
                    other => return Err(stop("participants", format!("{contender} answered {other:?}"))),
                }
            }
            Action::Revocable { contender, side } => {
                let reply = self.call(contender, Command::MakeRevocable { side: *side }, bound)?;
                self.compare(contender, &Outcome::Ok, Some(reply))?;
            }
            Action::Revoke { contender, target, side } => {
                let node = self.driver(target).nodes.get(side).cloned();
                let node = node.ok_or_else(|| stop("runtime", format!("{target} reported no node for {side:?}")))?;
                let reply = self.call(contender, Command::Revoke { node }, bound)?;
                self.compare(contender, &Outcome::Ok, Some(reply))?;
            }
            Action::AwaitRevoked { contender, side } => self.await_revoked(contender, *side)?,
            Action::Crash { contender } => self.contender_fault(contender, FaultKind::Crash, &prediction)?,
            Action::Expire { contender } => self.contender_fault(contender, FaultKind::Expire, &prediction)?,
            Action::Kill { contender } => self.contender_fault(contender, FaultKind::Kill, &prediction)?,
            Action::ExpectLost { contender, side, within } => self.expect_lost(contender, *side, *within)?,
            Action::Server(op) => {
                let at = Instant::now();
                let done = self.control.apply(*op).map_err(|e| stop("server", e))?;
                tracing::info!(op = op.name(), took_ms = at.elapsed().as_millis() as u64, "{done}");
                let mut runtimes: Vec<Runtime> = self.drivers.values().map(|d| d.runtime).collect();
                runtimes.sort();
                runtimes.dedup();
                for runtime in runtimes {
                    self.stats.injected.push(Injected {
                        kind: FaultKind::of_server(*op),
                        runtime,
                        role: Role::Everyone,
                    });
                }
            }
            Action::Sleep(d) => thread::sleep(*d),
            Action::Foreign(name) => {
                let zk = self.zk()?;
                let path = format!("{}/{name}", self.lock_path);
                let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
                self.tokio
                    .block_on(async {
                        zk.mkdir(&self.lock_path, &persistent).await?;
                        zk.create(&path, b"", &persistent).await
                    })
                    .map_err(|e| stop("runner", format!("create {path}: {e}")))?;
                self.foreign.push(name.clone());
            }
            Action::Remove(name) => {
                let zk = self.zk()?;
                let path = format!("{}/{name}", self.lock_path);
                self.tokio
                    .block_on(zk.delete(&path, None))
                    .map_err(|e| stop("runner", format!("delete {path}: {e}")))?;
            }
            Action::ExpectData { contender, side, data } => {
                let node = self.driver(contender).nodes.get(side).cloned();
                let node = node.ok_or_else(|| stop("runtime", format!("{contender} reported no node for {side:?}")))?;
                let zk = self.zk()?;
                let (stored, _) =
                    self.tokio.block_on(zk.get_data(&node)).map_err(|e| stop("runner", format!("read {node}: {e}")))?;
                if stored != data.as_bytes() {
                    return Err(stop(
                        "data",
                        format!("{node} holds {:?}, expected {data:?}", String::from_utf8_lossy(&stored)),
                    ));
                }
            }
            Action::ExpectGone(within) => self.expect_gone(*within)?,
            Action::Data { contender, step: data } => self.data_step(contender, data, step.expect)?,
        }
        // Whether this step can let a waiter in (rightly or wrongly): only
        // then do waiters get a blocked window of their own to show a wrong
        // grant. A step that frees nothing gives them none; a wrong grant
        // still shows in the check of this step or the next.
        let frees = match &step.action {
            Action::Acquire { .. } => prediction.outcome == Some(Outcome::Timeout),
            Action::Sleep(_)
            | Action::Participants { .. }
            | Action::Revocable { .. }
            | Action::ExpectData { .. }
            | Action::Foreign(_) => false,
            Action::Data { step, .. } => step.frees(),
            _ => true,
        };
        match step.action {
            // The holder lets go on its own time: grants and node counts are
            // checked at its `await-revoked` step.
            Action::Revoke { .. } => Ok(()),
            Action::Crash { .. } | Action::Kill { .. } => self.settle(&prediction.granted, true, frees),
            _ => self.settle(&prediction.granted, false, frees),
        }
    }

    /// Checks a reply against the model's outcome.
    fn compare(&mut self, id: &str, expected: &Outcome, reply: Option<Reply>) -> Result<(), Stop> {
        let fits = match (expected, &reply) {
            (Outcome::Blocked, None) => true,
            (Outcome::Granted, Some(Reply::Granted { .. })) => true,
            (Outcome::Timeout, Some(Reply::Error { kind: ErrorKind::Timeout, .. })) => true,
            (Outcome::Error(kind), Some(Reply::Error { kind: got, .. })) => kind == got,
            (Outcome::Ok, Some(Reply::Ok)) => true,
            // A runtime whose upgrade waits on itself is "denied" too; the model
            // encodes only zkurator's immediate refusal as an error.
            _ => false,
        };
        if !fits {
            let seen = match reply {
                None => "no reply (blocked)".to_owned(),
                Some(reply) => format!("{reply:?}"),
            };
            return Err(stop(
                "model",
                format!("{id} ({}): model says {expected:?}, got {seen}", self.driver(id).runtime),
            ));
        }
        if !matches!(expected, Outcome::Blocked) {
            self.driver(id).pending = None;
        }
        Ok(())
    }

    /// Crash, expire or kill `id` through its out-of-band handle. Its holds end
    /// in the history when the fault is requested (sound for the exclusion
    /// checker: the real hold ends later); a waiting acquire must then end
    /// without a grant, unless the model says the runtime queues again.
    fn contender_fault(&mut self, id: &str, kind: FaultKind, prediction: &Prediction) -> Result<(), Stop> {
        let bound = self.timing.grant_bound;
        let runtime = self.driver(id).runtime;
        if self.drivers[id].fault_handle(kind).is_none() {
            let why = match kind {
                FaultKind::Expire => "its runtime does not tell its session credentials, so it cannot be expired",
                _ => "it runs inside the harness's own process, so it cannot be killed (use rust-process)",
            };
            return Err(stop("runtime", format!("{id} ({runtime}): {why}")));
        };
        let role = if !prediction.ended_holds.is_empty() {
            Role::Holder
        } else if prediction.abandoned.iter().chain(&prediction.requeued).any(|c| c == id) {
            Role::Waiter
        } else {
            Role::Idle
        };
        self.history.record(id, EventKind::Crash);
        let at = Instant::now();
        if let Some(handle) = self.drivers[id].fault_handle(kind) {
            handle();
        }
        tracing::debug!(id, ?kind, took_ms = at.elapsed().as_millis() as u64, "fault injected");
        self.stats.injected.push(Injected { kind, runtime, role });
        self.faulted.insert(id.to_owned(), (kind, at));
        if role == Role::Holder {
            self.holder_died = Some((kind, runtime, at));
        }
        if kind != FaultKind::Expire {
            self.driver(id).crashed = true;
        }
        if prediction.abandoned.iter().any(|c| c == id) {
            // The waiting acquire ends; it must not be a grant.
            let within = if kind == FaultKind::Kill { bound + self.scenario.session_timeout } else { bound };
            match self.reply(id, within) {
                Some(Reply::Granted { .. }) => {
                    return Err(stop("model", format!("{id} was granted the lock after its {}", kind.name())))
                }
                None if kind == FaultKind::Expire => {
                    return Err(stop(
                        "model",
                        format!("{id} ({runtime}) still waits {within:?} after its session expired: its acquire should have failed"),
                    ))
                }
                _ => {}
            }
            self.driver(id).pending = None;
        }
        Ok(())
    }

    /// `C expect-lost SIDE`: polls C's status until it reports the hold of
    /// SIDE lost (or no longer held), and records how long that took after
    /// C's session expired.
    fn expect_lost(&mut self, id: &str, side: Side, within: Option<Duration>) -> Result<(), Stop> {
        let bound = self.timing.grant_bound;
        let within = within.unwrap_or(self.scenario.session_timeout + bound);
        let runtime = self.driver(id).runtime;
        let (kind, at) = *self.faulted.get(id).ok_or_else(|| stop("scenario", format!("{id} had no fault")))?;
        let deadline = at + within;
        loop {
            let reply = self.call(id, Command::Status, bound)?;
            let noticed = match &reply {
                Reply::Status(status) => status.lost.contains(&side) || !status.held.iter().any(|(s, _)| *s == side),
                _ => false,
            };
            if noticed {
                let after = self.last_reply_at.unwrap_or_else(Instant::now).saturating_duration_since(at);
                self.stats.loss_signals.push(Latency { kind, runtime, after });
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(stop(
                    "loss-signal",
                    format!(
                        "{id} ({runtime}) still believes it holds {side:?} {:?} after its session expired, with no loss reported: {reply:?}",
                        at.elapsed()
                    ),
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// After a step: the grants the model announces arrive, nobody else is
    /// granted, and the server's children match the model's count. After a
    /// crash the bound grows by a session timeout (a killed process's session
    /// has to expire). Waiters get a blocked window to show a wrong grant
    /// only when the step `frees` something.
    fn settle(&mut self, granted: &[String], after_crash: bool, frees: bool) -> Result<(), Stop> {
        let mut bound = self.timing.grant_bound;
        if after_crash {
            bound += self.scenario.session_timeout;
        }
        let died = self.holder_died.take();
        for id in granted {
            match self.reply(id, bound) {
                Some(Reply::Granted { .. }) => {
                    if let (Some((kind, runtime, at)), Some(arrived)) = (died, self.last_reply_at) {
                        let after = arrived.saturating_duration_since(at);
                        self.stats.waiter_proceed.push(Latency { kind, runtime, after });
                    }
                }
                other => {
                    return Err(stop(
                        "model",
                        format!("{id}: model says its waiting acquire is granted now, got {other:?}"),
                    ))
                }
            }
        }
        let waiting: Vec<String> =
            self.drivers.iter().filter(|(_, d)| d.pending.is_some() && !d.crashed).map(|(id, _)| id.clone()).collect();
        if !waiting.is_empty() {
            if frees {
                thread::sleep(self.timing.blocked_window);
            }
            for id in waiting {
                if let Some(reply) = self.reply(&id, Duration::ZERO) {
                    return Err(stop("model", format!("{id}: model says it still waits, but it got {reply:?}")));
                }
            }
        }
        self.expect_node_count(bound)
    }

    /// Cleanup: the directory holds exactly the model's nodes.
    fn expect_node_count(&mut self, within: Duration) -> Result<(), Stop> {
        let want = self.model.server_node_count();
        let deadline = Instant::now() + within;
        loop {
            let children = self.list()?;
            if children.len() == want {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(stop(
                    "cleanup",
                    format!("server has {} nodes {children:?}, model has {want}", children.len()),
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Lists the lock directory, riding out a server outage (restart, leader
    /// change) for up to a grant bound: the runner's own session survives it,
    /// or a new one is made.
    fn list(&mut self) -> Result<Vec<String>, Stop> {
        use zookeeper_client::Error as Zk;
        let deadline = Instant::now() + self.timing.grant_bound;
        let children = loop {
            let zk = self.zk()?;
            let listed = self.tokio.block_on(crate::layout::list(&zk, &self.lock_path, self.scenario.kind));
            let error = match listed {
                Ok(children) => break children,
                Err(Zk::NoNode) => break Vec::new(),
                Err(e @ (Zk::SessionExpired | Zk::ClientClosed)) => {
                    self.zk = None;
                    e
                }
                Err(e @ (Zk::ConnectionLoss | Zk::Timeout)) => e,
                Err(e) => return Err(stop("runner", format!("list {}: {e}", self.lock_path))),
            };
            if Instant::now() >= deadline {
                return Err(stop(
                    "runner",
                    format!("list {}: {error} for {:?}", self.lock_path, self.timing.grant_bound),
                ));
            }
            thread::sleep(Duration::from_millis(100));
        };
        self.history.record("zk", EventKind::Listing(children.clone()));
        Ok(children)
    }

    fn await_revoked(&mut self, id: &str, side: Side) -> Result<(), Stop> {
        let deadline = Instant::now() + self.timing.grant_bound;
        loop {
            match self.call(id, Command::Status, self.timing.grant_bound)? {
                Reply::Status(status) if status.revoked.contains(&side) => {
                    self.driver(id).nodes.remove(&side);
                    return Ok(());
                }
                Reply::Status(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
                other => {
                    return Err(stop("revocation", format!("{id} did not release {side:?} when revoked: {other:?}")))
                }
            }
        }
    }

    fn expect_gone(&mut self, within: Duration) -> Result<(), Stop> {
        let zk = self.zk()?;
        let deadline = Instant::now() + within;
        while self.tokio.block_on(zk.check_stat(&self.lock_path)).ok().flatten().is_some() {
            if Instant::now() >= deadline {
                return Err(stop("cleanup", format!("{} still exists after {within:?}", self.lock_path)));
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Closes every contender, then checks that no lock node is left.
    fn finish(&mut self, check_cleanup: bool) -> Vec<Violation> {
        let bound = self.timing.grant_bound;
        let mut violations = Vec::new();
        let ids: Vec<String> = self.drivers.keys().cloned().collect();
        for id in &ids {
            let driver = self.driver(id);
            if driver.crashed {
                continue;
            }
            if driver.pending.is_some() {
                // Blocked in an acquire: it cannot take Close. End its session.
                self.history.record(id, EventKind::Crash);
                (self.driver(id).crasher)();
                let _ = self.reply(id, bound);
                continue;
            }
            if self.call(id, Command::Close, bound).is_err() {
                (self.driver(id).crasher)();
            }
        }
        for id in &ids {
            // Dropping the sender ends the contender's thread.
            if let Some(driver) = self.drivers.remove(id) {
                drop(driver.commands);
            }
        }
        if check_cleanup {
            let deadline = Instant::now() + bound + self.scenario.session_timeout;
            loop {
                let left: Vec<String> = match self.list() {
                    Ok(children) => children.into_iter().filter(|c| !self.foreign.contains(c)).collect(),
                    Err(Stop(v)) => {
                        violations.push(v);
                        break;
                    }
                };
                if left.is_empty() {
                    break;
                }
                if Instant::now() >= deadline {
                    self.stats.nodes_leaked = left.len();
                    violations
                        .push(Violation { checker: "cleanup", message: format!("nodes left after the run: {left:?}") });
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        self.remove_lock_dir();
        violations
    }

    /// Best-effort removal of the run's directory (foreign children included).
    fn remove_lock_dir(&mut self) {
        let Ok(zk) = self.zk() else { return };
        let path = self.lock_path.clone();
        self.tokio.block_on(async {
            for child in &self.foreign {
                let _ = zk.delete(&format!("{path}/{child}"), None).await;
            }
            for dir in self.scenario.kind.node_dirs() {
                let _ = zk.delete(&format!("{path}/{dir}"), None).await;
            }
            let _ = zk.delete(&path, None).await;
        });
    }
}

/// Starts a contender on its own thread and returns the runner's end.
fn spawn_driver(
    runtime: Runtime,
    pin: Option<crate::versions::Version>,
    spec: ContenderSpec,
    peers: &Peers,
) -> Result<Driver, String> {
    let (command_tx, command_rx) = mpsc::channel::<Command>();
    let (reply_tx, reply_rx) = mpsc::channel::<(Reply, Instant)>();
    type Handles = (Crasher, Option<Crasher>, Option<Crasher>, Option<crate::contender::Pauser>);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<Handles, String>>();
    let starter = match pin {
        Some(version) => peers.curator_worker(version)?,
        None => peers.starter(runtime)?,
    };
    let name = format!("contender-{}", spec.id);
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let contender = starter.start(&spec);
            let mut contender = match contender {
                Ok(contender) => contender,
                Err(message) => {
                    let _ = ready_tx.send(Err(message));
                    return;
                }
            };
            let handles = (contender.crasher(), contender.expirer(), contender.killer(), contender.pauser());
            let _ = ready_tx.send(Ok(handles));
            while let Ok(command) = command_rx.recv() {
                let reply = contender.execute(command);
                if reply_tx.send((reply, Instant::now())).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    let (crasher, expirer, killer, pauser) =
        ready_rx.recv_timeout(Duration::from_secs(60)).map_err(|_| "no answer within 60 s".to_owned())??;
    Ok(Driver {
        runtime,
        commands: command_tx,
        replies: reply_rx,
        crasher,
        expirer,
        killer,
        pauser,
        pending: None,
        nodes: BTreeMap::new(),
        crashed: false,
    })
}
