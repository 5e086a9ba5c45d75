//! The step language of scenario files: what one step does ([`Action`]),
//! what its author says must happen ([`Expect`]), and the grammar that reads
//! one step's text (see [`crate::scenario`] for the whole file and the
//! grammar's summary).

use std::time::Duration;

use crate::protocol::{ErrorKind, LockKind, Side};
use serde::Serialize;

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The step text as written.
    pub text: String,
    /// 1-based line in the file.
    pub line: usize,
    /// What to do.
    pub action: Action,
    /// What the author says must happen.
    pub expect: Option<Expect>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A contender acquires `side`, waiting at most `timeout`.
    Acquire { contender: String, side: Side, timeout: Option<Duration> },
    /// A contender releases `side` once.
    Release { contender: String, side: Side },
    /// A contender lists participants.
    Participants { contender: String },
    /// A contender makes its held `side` revocable.
    Revocable { contender: String, side: Side },
    /// `contender` asks `target`'s `side` node to be revoked.
    Revoke { contender: String, target: String, side: Side },
    /// `contender` must release `side` by itself after a revocation.
    AwaitRevoked { contender: String, side: Side },
    /// A contender's session ends without releasing.
    Crash { contender: String },
    /// Fault: the server expires a contender's session; the contender runs on.
    Expire { contender: String },
    /// Fault: a contender's process is killed; its session times out.
    Kill { contender: String },
    /// A contender whose session expired must report its hold of `side` lost.
    ExpectLost { contender: String, side: Side, within: Option<Duration> },
    /// Fault on the servers.
    Server(ServerOp),
    /// Fault: the ensemble member `contender` is connected to is cut off from
    /// the other members (`zk isolate-member C`).
    IsolateMemberOf { contender: String },
    /// Wait.
    Sleep(Duration),
    /// The runner creates a foreign persistent child.
    Foreign(String),
    /// The runner deletes a child.
    Remove(String),
    /// The node of `contender`'s `side` holds `data`.
    ExpectData { contender: String, side: Side, data: String },
    /// The lock directory disappears within the duration.
    ExpectGone(Duration),
    /// A lost-update workload step of a contender (see [`crate::workload`]).
    Data { contender: String, step: crate::workload::DataStep },
    /// Fault: a network fault between a contender and the servers (see
    /// [`crate::network`]).
    Network { contender: String, op: crate::network::NetOp },
}

impl Action {
    /// Whether the step needs an ensemble (`zk = "ensemble"` in the scenario).
    pub fn needs_ensemble(&self) -> bool {
        match self {
            Action::Server(op) => op.needs_ensemble(),
            Action::IsolateMemberOf { .. } => true,
            _ => false,
        }
    }

    /// Whether the step cuts ensemble members apart or heals them.
    pub fn is_split(&self) -> bool {
        match self {
            Action::Server(op) => op.is_split(),
            Action::IsolateMemberOf { .. } => true,
            _ => false,
        }
    }

    /// The contender a step is about, if any.
    pub fn contender(&self) -> Option<&str> {
        match self {
            Action::Acquire { contender, .. }
            | Action::Release { contender, .. }
            | Action::Participants { contender }
            | Action::Revocable { contender, .. }
            | Action::Revoke { contender, .. }
            | Action::AwaitRevoked { contender, .. }
            | Action::Crash { contender }
            | Action::Expire { contender }
            | Action::Kill { contender }
            | Action::ExpectLost { contender, .. }
            | Action::ExpectData { contender, .. }
            | Action::Data { contender, .. }
            | Action::IsolateMemberOf { contender }
            | Action::Network { contender, .. } => Some(contender),
            Action::Sleep(_) | Action::Foreign(_) | Action::Remove(_) | Action::ExpectGone(_) | Action::Server(_) => {
                None
            }
        }
    }
}

/// What must happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The acquire is granted.
    Granted,
    /// No reply yet; the acquire stays pending.
    Blocked,
    /// The acquire times out.
    Timeout,
    /// Not granted: an error, a timeout or still blocked.
    Denied,
    /// An error of this kind.
    Error(ErrorKind),
    /// Success with nothing to report.
    Ok,
}

/// A step's side must exist on the scenario's lock kind.
pub(crate) fn side_fits(action: &Action, kind: LockKind) -> Result<(), String> {
    let side = match action {
        Action::Acquire { side, .. }
        | Action::Release { side, .. }
        | Action::Revocable { side, .. }
        | Action::Revoke { side, .. }
        | Action::AwaitRevoked { side, .. }
        | Action::ExpectLost { side, .. }
        | Action::ExpectData { side, .. }
        | Action::Data { step: crate::workload::DataStep::Write { side, .. }, .. }
        | Action::Data { step: crate::workload::DataStep::Increment { side, .. }, .. } => *side,
        _ => return Ok(()),
    };
    match (kind, side) {
        (LockKind::Mutex { .. } | LockKind::Semaphore { .. } | LockKind::Multi { .. }, Side::Mutex)
        | (LockKind::ReadWrite, Side::Read | Side::Write) => Ok(()),
        (LockKind::Mutex { .. } | LockKind::Semaphore { .. } | LockKind::Multi { .. }, _) => {
            Err("this scenario's lock is a mutex: use side \"mutex\"".into())
        }
        (LockKind::ReadWrite, _) => Err("this scenario's lock is read-write: use side \"read\" or \"write\"".into()),
    }
}

/// A token of a step and its byte offset in the step text.
type Token<'a> = (usize, &'a str);

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// Parses one step; errors carry the byte offset in `text`.
pub fn parse_step(text: &str, contenders: &[&str]) -> Result<(Action, Option<Expect>), (usize, String)> {
    let (body, expect) = match text.find("=>") {
        Some(i) => (&text[..i], Some((i + 2, &text[i + 2..]))),
        None => (text, None),
    };
    let expect = match expect {
        None => None,
        Some((offset, rest)) => Some(parse_expect(rest).map_err(|(o, m)| (offset + o, m))?),
    };
    let toks = tokens(body);
    let mut it = toks.iter().copied();
    let end = body.trim_end().len();
    let Some((first_at, first)) = it.next() else {
        return Err((0, "empty step: expected `<contender> <op> ...`, `sleep <duration>` or `zk <op> ...`".into()));
    };
    let mut next = |what: &str| it.next().ok_or_else(|| (end, format!("step ends early: expected {what}")));
    let action = match first {
        "sleep" => Action::Sleep(duration(next("a duration like 200ms")?)?),
        "zk" => {
            let (at, op) =
                next("a runner op: foreign, remove, expect-data, expect-gone, restart, kill-leader, kill-follower, start-all, isolate-leader, isolate-follower, isolate-member, heal-members")?;
            match op {
                "foreign" => Action::Foreign(child_name(next("a child name")?)?),
                "remove" => Action::Remove(child_name(next("a child name")?)?),
                "expect-data" => {
                    let contender = known(next("a contender")?, contenders)?;
                    let side = side(next("a side")?)?;
                    let data = next("the expected data")?.1.to_owned();
                    Action::ExpectData { contender, side, data }
                }
                "expect-gone" => Action::ExpectGone(match it.next() {
                    Some(token) => duration(token)?,
                    None => Duration::from_secs(20),
                }),
                "restart" => Action::Server(ServerOp::Restart),
                "kill-leader" => Action::Server(ServerOp::KillLeader),
                "kill-follower" => Action::Server(ServerOp::KillFollower),
                "start-all" => Action::Server(ServerOp::StartAll),
                "isolate-leader" => Action::Server(ServerOp::IsolateLeader),
                "isolate-follower" => Action::Server(ServerOp::IsolateFollower),
                "isolate-member" => {
                    Action::IsolateMemberOf { contender: known(next("the contender whose member to cut off")?, contenders)? }
                }
                "heal-members" => Action::Server(ServerOp::HealMembers),
                other => {
                    return Err((
                        at,
                        format!("unknown runner op {other:?}: expected foreign, remove, expect-data, expect-gone, restart, kill-leader, kill-follower, start-all, isolate-leader, isolate-follower, isolate-member or heal-members"),
                    ))
                }
            }
        }
        _ => {
            let contender = known((first_at, first), contenders)?;
            let (at, op) = next(
                "an op: acquire, release, participants, revocable, revoke, await-revoked, crash, expire, kill, expect-lost",
            )?;
            match op {
                "acquire" => {
                    let side = side(next("a side: read, write or mutex")?)?;
                    let timeout = it.next().map(duration).transpose()?;
                    Action::Acquire { contender, side, timeout }
                }
                "release" => Action::Release { contender, side: side(next("a side: read, write or mutex")?)? },
                "participants" => Action::Participants { contender },
                "revocable" => Action::Revocable { contender, side: side(next("a side")?)? },
                "revoke" => {
                    let target = known(next("the contender to revoke")?, contenders)?;
                    Action::Revoke { contender, target, side: side(next("a side")?)? }
                }
                "await-revoked" => Action::AwaitRevoked { contender, side: side(next("a side")?)? },
                "crash" => Action::Crash { contender },
                "expire" => Action::Expire { contender },
                "kill" => Action::Kill { contender },
                "expect-lost" => {
                    let side = side(next("a side: read, write or mutex")?)?;
                    let within = it.next().map(duration).transpose()?;
                    Action::ExpectLost { contender, side, within }
                }
                op if crate::network::OPS.contains(&op) => {
                    Action::Network { contender, op: crate::network::parse(op, &mut it, end, &duration)? }
                }
                op if crate::workload::OPS.contains(&op) => {
                    let step = crate::workload::parse(op, &mut it, end, &side, &duration)?;
                    Action::Data { contender, step }
                }
                other => {
                    return Err((
                        at,
                        format!("unknown op {other:?}: expected acquire, release, participants, revocable, revoke, await-revoked, crash, expire, kill, expect-lost, read-value, write-value, increment, pause, partition, heal or delay"),
                    ))
                }
            }
        }
    };
    if let Some((at, extra)) = it.next() {
        return Err((at, format!("unexpected {extra:?} at the end of the step")));
    }
    Ok((action, expect))
}

fn known((at, id): Token<'_>, contenders: &[&str]) -> Result<String, (usize, String)> {
    if contenders.contains(&id) {
        Ok(id.to_owned())
    } else {
        Err((at, format!("unknown contender {id:?}: expected one of {}", contenders.join(", "))))
    }
}

fn side((at, word): Token<'_>) -> Result<Side, (usize, String)> {
    match word {
        "read" => Ok(Side::Read),
        "write" => Ok(Side::Write),
        "mutex" => Ok(Side::Mutex),
        other => Err((at, format!("unknown side {other:?}: expected read, write or mutex"))),
    }
}

fn duration((at, word): Token<'_>) -> Result<Duration, (usize, String)> {
    let bad = || (at, format!("bad duration {word:?}: expected a number with ms or s, like 300ms or 2s"));
    let (number, scale) = if let Some(n) = word.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = word.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(bad());
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let d = Duration::from_millis(n.checked_mul(scale).ok_or_else(bad)?);
    crate::limits::duration(d).map_err(|e| (at, e.to_string()))
}

fn child_name((at, name): Token<'_>) -> Result<String, (usize, String)> {
    crate::limits::node_name(name).map(|()| name.to_owned()).map_err(|e| (at, e.to_string()))
}

fn parse_expect(text: &str) -> Result<Expect, (usize, String)> {
    let toks = tokens(text);
    let expected = "an expectation: granted, blocked, timeout, denied, ok or error <kind>";
    let Some(&(at, word)) = toks.first() else {
        return Err((text.len(), format!("nothing after `=>`: expected {expected}")));
    };
    let (expect, used) = match word {
        "granted" => (Expect::Granted, 1),
        "blocked" => (Expect::Blocked, 1),
        "timeout" => (Expect::Timeout, 1),
        "denied" => (Expect::Denied, 1),
        "ok" => (Expect::Ok, 1),
        "error" => {
            let Some(&(kind_at, kind)) = toks.get(1) else {
                return Err((text.len(), "expected an error kind after `error`".into()));
            };
            let kind = serde_json::from_value::<ErrorKind>(serde_json::Value::String(kind.into())).map_err(|_| {
                (kind_at, format!("unknown error kind {kind:?}: expected timeout, not-held, upgrade, session-lost, no-auth, unsupported, rejected, unknown or other"))
            })?;
            (Expect::Error(kind), 2)
        }
        other => return Err((at, format!("unknown expectation {other:?}: expected {expected}"))),
    };
    if let Some(&(at, extra)) = toks.get(used) {
        return Err((at, format!("unexpected {extra:?} after the expectation")));
    }
    Ok(expect)
}

/// The text of a step: [`parse_step`] reads it back to the same action and
/// expectation (durations in whole milliseconds).
pub fn step_text(action: &Action, expect: Option<Expect>) -> String {
    let side = |s: &Side| match s {
        Side::Mutex => "mutex",
        Side::Read => "read",
        Side::Write => "write",
    };
    let ms = |d: &Duration| format!("{}ms", d.as_millis());
    let body = match action {
        Action::Acquire { contender, side: s, timeout: None } => format!("{contender} acquire {}", side(s)),
        Action::Acquire { contender, side: s, timeout: Some(t) } => {
            format!("{contender} acquire {} {}", side(s), ms(t))
        }
        Action::Release { contender, side: s } => format!("{contender} release {}", side(s)),
        Action::Participants { contender } => format!("{contender} participants"),
        Action::Revocable { contender, side: s } => format!("{contender} revocable {}", side(s)),
        Action::Revoke { contender, target, side: s } => format!("{contender} revoke {target} {}", side(s)),
        Action::AwaitRevoked { contender, side: s } => format!("{contender} await-revoked {}", side(s)),
        Action::Crash { contender } => format!("{contender} crash"),
        Action::Expire { contender } => format!("{contender} expire"),
        Action::Kill { contender } => format!("{contender} kill"),
        Action::ExpectLost { contender, side: s, within: None } => format!("{contender} expect-lost {}", side(s)),
        Action::ExpectLost { contender, side: s, within: Some(d) } => {
            format!("{contender} expect-lost {} {}", side(s), ms(d))
        }
        Action::Server(op) => format!("zk {}", op.name()),
        Action::IsolateMemberOf { contender } => format!("zk isolate-member {contender}"),
        Action::Sleep(d) => format!("sleep {}", ms(d)),
        Action::Foreign(name) => format!("zk foreign {name}"),
        Action::Remove(name) => format!("zk remove {name}"),
        Action::ExpectData { contender, side: s, data } => format!("zk expect-data {contender} {} {data}", side(s)),
        Action::ExpectGone(d) => format!("zk expect-gone {}", ms(d)),
        Action::Data { contender, step } => format!("{contender} {}", step.text()),
        Action::Network { contender, op } => format!("{contender} {}", crate::network::text(op)),
    };
    match expect {
        None => body,
        Some(expect) => format!("{body} => {}", expect_text(expect)),
    }
}

/// The text of an expectation, after `=>`.
pub fn expect_text(expect: Expect) -> String {
    match expect {
        Expect::Granted => "granted".into(),
        Expect::Blocked => "blocked".into(),
        Expect::Timeout => "timeout".into(),
        Expect::Denied => "denied".into(),
        Expect::Ok => "ok".into(),
        Expect::Error(kind) => {
            let name = serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned));
            format!("error {}", name.unwrap_or_else(|| "other".into()))
        }
    }
}

/// A fault on the servers, as scenario steps name them (`zk restart`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerOp {
    /// Kill the standalone server (SIGKILL) and start it again on the same
    /// port with the same data directory; returns once it serves.
    Restart,
    /// Kill the ensemble member that is leader now.
    KillLeader,
    /// Kill one running member that is not the leader.
    KillFollower,
    /// Start every stopped member again and wait for a leader.
    StartAll,
    /// Cut the leader off from the other members (its quorum and election
    /// links, both ways); returns once the others serve under a new leader
    /// and the old one has stopped serving.
    IsolateLeader,
    /// Cut one follower off from the other members; returns once it has
    /// stopped serving (the others keep their leader).
    IsolateFollower,
    /// Cut member `.0` (an index) off from the others: what
    /// `zk isolate-member C` becomes once the runner knows C's member.
    IsolateMember(usize),
    /// End every cut between members; returns once every running member
    /// serves again.
    HealMembers,
}

impl ServerOp {
    /// The step text after `zk `.
    pub fn name(self) -> &'static str {
        match self {
            ServerOp::Restart => "restart",
            ServerOp::KillLeader => "kill-leader",
            ServerOp::KillFollower => "kill-follower",
            ServerOp::StartAll => "start-all",
            ServerOp::IsolateLeader => "isolate-leader",
            ServerOp::IsolateFollower => "isolate-follower",
            ServerOp::IsolateMember(_) => "isolate-member",
            ServerOp::HealMembers => "heal-members",
        }
    }

    /// Whether the op needs an ensemble (`zk = "ensemble"` in the scenario).
    pub fn needs_ensemble(self) -> bool {
        !matches!(self, ServerOp::Restart)
    }

    /// Whether the op cuts members apart or heals them (an ensemble split).
    pub fn is_split(self) -> bool {
        matches!(
            self,
            ServerOp::IsolateLeader | ServerOp::IsolateFollower | ServerOp::IsolateMember(_) | ServerOp::HealMembers
        )
    }
}
