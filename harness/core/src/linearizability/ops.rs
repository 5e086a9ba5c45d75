//! From a run's history to the operations of the lock object and of the
//! workload's counter register, each with its call and return time.
//!
//! - An acquire runs from its invoke to its reply: granted, not granted
//!   (timeout, error) or, with no reply, unknown and pending.
//! - A successful release is a release; a failed one has no effect and is
//!   left out; one without a reply is pending.
//! - `close` and a session's end (crash, expiry, kill, pause) end every hold
//!   of the contender: a close when it is invoked, a session's end at some
//!   point between the fault's request and the contender's next command (or
//!   any time later, if there is none): the server deletes the nodes after
//!   the runner asked, and before it takes a new command of that session.
//! - A revocation request lets go of the target's side at some point
//!   between the request and the target's next acquire, release or close.
//! - Reads of the counter return their value; a write stores the value its
//!   contender last read plus one under its hold of a side: applied, not
//!   applied (refused: left out) or unknown (lost reply: pending, it may land
//!   at any later time). The counter's final value, read by the runner after
//!   the run, is a last read.

use std::collections::HashMap;
use std::time::Duration;

use super::search::Operation;
use super::specs::{Acquired, DataOp, LockOp};
use crate::checkers_data::{write_outcome, WriteOutcome};
use crate::history::{Event, EventKind};
use crate::protocol::{Command, Reply};

fn micros(at: Duration) -> u64 {
    at.as_micros() as u64
}

/// An operation with the contender it belongs to.
pub type Timed<O> = (Operation<O>, usize);

/// The lock operations of `events` for contenders `ids` (by index).
pub fn lock_ops(events: &[Event], ids: &[&str]) -> Vec<Timed<LockOp>> {
    let index = |who: &str| ids.iter().position(|id| *id == who);
    let mut ops: Vec<Timed<LockOp>> = Vec::new();
    // Per contender: the open command's op index (if it makes one) and command.
    let mut open: HashMap<usize, (Option<usize>, Command)> = HashMap::new();
    // Ops that end at the contender's next invoke (session ends, revocations).
    let mut until_next: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut node_owner: HashMap<&str, (usize, crate::protocol::Side)> = HashMap::new();
    let mut dropped = Vec::new();
    for event in events {
        let Some(who) = index(&event.contender) else { continue };
        let at = micros(event.at);
        match &event.kind {
            EventKind::Invoke(command) => {
                // A session's end lands before the contender's next command;
                // a revocation before its next acquire, release or close.
                let changes_holds =
                    matches!(command, Command::Acquire { .. } | Command::Release { .. } | Command::Close);
                let mut later = Vec::new();
                for op in until_next.remove(&who).unwrap_or_default() {
                    if changes_holds || matches!(ops[op].0.op, LockOp::End { .. }) {
                        ops[op].0.ret = Some(at.max(ops[op].0.call));
                    } else {
                        later.push(op);
                    }
                }
                if !later.is_empty() {
                    until_next.insert(who, later);
                }
                let made = match command {
                    Command::Acquire { side, .. } => {
                        Some(LockOp::Acquire { who, side: *side, result: Acquired::Unknown })
                    }
                    Command::Release { side } => Some(LockOp::Release { who, side: *side }),
                    Command::Close => Some(LockOp::End { who }),
                    Command::Revoke { node } => {
                        if let Some(&(target, side)) = node_owner.get(node.as_str()) {
                            ops.push((
                                Operation { call: at, ret: None, op: LockOp::Drop { who: target, side } },
                                target,
                            ));
                            until_next.entry(target).or_default().push(ops.len() - 1);
                        }
                        None
                    }
                    _ => None,
                };
                let slot = made.map(|op| {
                    ops.push((Operation { call: at, ret: None, op }, who));
                    ops.len() - 1
                });
                open.insert(who, (slot, command.clone()));
            }
            EventKind::Complete(reply) => {
                let Some((Some(slot), _)) = open.remove(&who) else { continue };
                let (op, _) = &mut ops[slot];
                op.ret = Some(at);
                match (&mut op.op, reply) {
                    (LockOp::Acquire { result, side, .. }, Reply::Granted { node }) => {
                        *result = Acquired::Granted;
                        node_owner.insert(node.as_str(), (who, *side));
                    }
                    (LockOp::Acquire { result, .. }, _) => *result = Acquired::NotGranted,
                    // A failed release changes nothing: left out.
                    (LockOp::Release { .. }, Reply::Error { .. }) => dropped.push(slot),
                    _ => {}
                }
            }
            EventKind::Crash => {
                ops.push((Operation { call: at, ret: None, op: LockOp::End { who } }, who));
                until_next.entry(who).or_default().push(ops.len() - 1);
            }
            EventKind::Listing(_) | EventKind::Step { .. } | EventKind::Server(_) => {}
        }
    }
    without(ops, &dropped)
}

/// `ops` but those at the indices `dropped`.
fn without<O>(ops: Vec<Timed<O>>, dropped: &[usize]) -> Vec<Timed<O>> {
    let dropped: std::collections::HashSet<&usize> = dropped.iter().collect();
    ops.into_iter().enumerate().filter(|(i, _)| !dropped.contains(i)).map(|(_, op)| op).collect()
}

/// The counter's operations of `events`, with the final value read at the
/// end (`final_value`), if the run had a counter.
pub fn data_ops(events: &[Event], ids: &[&str], final_value: Option<u64>) -> Vec<Timed<DataOp>> {
    let index = |who: &str| ids.iter().position(|id| *id == who);
    let mut ops = Vec::new();
    let mut open: HashMap<usize, (u64, &Command)> = HashMap::new();
    let mut last_read: HashMap<usize, u64> = HashMap::new();
    let mut pending_writes: HashMap<usize, usize> = HashMap::new();
    let mut dropped = Vec::new();
    for event in events {
        let Some(who) = index(&event.contender) else { continue };
        let at = micros(event.at);
        match &event.kind {
            EventKind::Invoke(command) => {
                open.insert(who, (at, command));
                if let (Command::WriteValue { side, .. }, Some(read)) = (command, last_read.get(&who)) {
                    let write = DataOp::Write { who, side: *side, value: read + 1, applied: false };
                    let op = Operation { call: at, ret: None, op: write };
                    ops.push((op, who));
                    pending_writes.insert(who, ops.len() - 1);
                }
            }
            EventKind::Complete(reply) => match (open.remove(&who), reply) {
                (Some((call, Command::ReadValue { .. })), Reply::Value { value }) => {
                    last_read.insert(who, *value);
                    ops.push((Operation { call, ret: Some(at), op: DataOp::Read(*value) }, who));
                }
                (Some((_, Command::WriteValue { .. })), reply) => {
                    let Some(slot) = pending_writes.remove(&who) else { continue };
                    match (write_outcome(reply), &mut ops[slot].0) {
                        (WriteOutcome::Applied, Operation { op: DataOp::Write { applied, .. }, ret, .. }) => {
                            *applied = true;
                            *ret = Some(at);
                        }
                        (WriteOutcome::NotApplied, _) => dropped.push(slot),
                        // Unknown: stays pending, it may land at any later time.
                        _ => {}
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    let mut ops = without(ops, &dropped);
    if let (Some(value), false) = (final_value, ops.is_empty()) {
        let end = events.last().map_or(0, |e| micros(e.at)) + 1;
        ops.push((Operation { call: end, ret: Some(end), op: DataOp::Read(value) }, usize::MAX));
    }
    ops
}
