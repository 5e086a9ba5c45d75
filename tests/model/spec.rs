//! The sequential model: who holds what, what each call must answer, and
//! which nodes must be on the server. Pure: no ZooKeeper, no tokio.

use crate::ops::Target;
use zkurator::LossReason;

/// LEASES of the semaphore.
pub const LEASES: usize = 2;

/// What the library may know of a hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Live,
    Lost(LossReason),
    /// Its last guard went.
    Ended,
}

/// One hold: one node of one caller.
#[derive(Clone, Debug)]
pub struct HoldModel {
    pub target: Target,
    /// The session index and the ZooKeeper session (epoch) it rests on.
    pub session: u8,
    pub epoch: u32,
    /// Made through the session's handles (counted by their `is_held`),
    /// not by a multi-lock's own handles.
    pub registered: bool,
    /// Full node path.
    pub node: String,
    pub state: State,
    pub guards: usize,
}

/// The model of every hold of one case.
#[derive(Debug, Default)]
pub struct Model {
    pub holds: Vec<HoldModel>,
    pub epochs: Vec<u32>,
}

impl Model {
    pub fn new(sessions: usize) -> Model {
        Model { holds: Vec::new(), epochs: vec![0; sessions] }
    }

    fn live(&self) -> impl Iterator<Item = &HoldModel> {
        self.holds.iter().filter(|h| h.state == State::Live)
    }

    /// Whether a fresh contender for `target` gets it now.
    pub fn is_free(&self, target: Target) -> bool {
        match target {
            Target::Mutex(p) => !self.live().any(|h| h.target == Target::Mutex(p)),
            Target::Write => !self.live().any(|h| matches!(h.target, Target::Read | Target::Write)),
            Target::Read => !self.live().any(|h| h.target == Target::Write),
            Target::Lease => self.live().filter(|h| h.target == Target::Lease).count() < LEASES,
        }
    }

    /// A new hold with one guard; returns its index.
    pub fn grant(&mut self, target: Target, session: u8, registered: bool, node: String) -> usize {
        let epoch = self.epochs[session as usize];
        self.holds.push(HoldModel { target, session, epoch, registered, node, state: State::Live, guards: 1 });
        self.holds.len() - 1
    }

    /// One guard of `hold` goes.
    pub fn leave(&mut self, hold: usize) {
        let h = &mut self.holds[hold];
        h.guards -= 1;
        if h.guards == 0 {
            h.state = State::Ended;
        }
    }

    /// The loss an operation on `hold` must report, if any.
    pub fn loss(&self, hold: usize) -> Option<LossReason> {
        match self.holds[hold].state {
            State::Lost(reason) => Some(reason),
            State::Ended => Some(LossReason::Released),
            State::Live => None,
        }
    }

    /// An operator deleted the node of `hold`.
    pub fn delete_node(&mut self, hold: usize) {
        if self.holds[hold].state == State::Live {
            self.holds[hold].state = State::Lost(LossReason::NodeDeleted);
        }
    }

    /// `session`'s current ZooKeeper session expired.
    pub fn expire(&mut self, session: u8) {
        let epoch = self.epochs[session as usize];
        for h in &mut self.holds {
            if h.session == session && h.epoch == epoch && h.state == State::Live {
                h.state = State::Lost(LossReason::SessionEnded);
            }
        }
        self.epochs[session as usize] += 1;
    }

    /// What `is_held` of `session`'s handle for `target` must say.
    pub fn held_through(&self, session: u8, target: Target) -> usize {
        self.live().filter(|h| h.registered && h.session == session && h.target == target).count()
    }

    /// A node two live holds rest on, if any. Each hold is a node of its
    /// own (re-entry adds a guard, not a hold), so a shared node means two
    /// callers were told they hold what only one node stands for.
    pub fn shared_node(&self) -> Option<&str> {
        let live: Vec<&HoldModel> = self.live().collect();
        live.iter()
            .enumerate()
            .find(|(i, h)| live[i + 1..].iter().any(|o| o.node == h.node))
            .map(|(_, h)| h.node.as_str())
    }

    /// The nodes that must exist under the lock directory of `target`.
    pub fn nodes(&self, target: Target) -> Vec<String> {
        let same_dir = |t: Target| match target {
            Target::Read | Target::Write => matches!(t, Target::Read | Target::Write),
            other => t == other,
        };
        let mut nodes: Vec<String> = self.live().filter(|h| same_dir(h.target)).map(|h| h.node.clone()).collect();
        nodes.sort();
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_follows_the_lock_rules() {
        let mut m = Model::new(2);
        assert!(m.is_free(Target::Write));
        let r = m.grant(Target::Read, 0, true, "/r1".into());
        assert!(m.is_free(Target::Read) && !m.is_free(Target::Write));
        m.delete_node(r);
        assert!(m.is_free(Target::Write));
        assert_eq!(m.loss(r), Some(LossReason::NodeDeleted));
        let w = m.grant(Target::Write, 1, true, "/w1".into());
        m.expire(1);
        assert_eq!(m.loss(w), Some(LossReason::SessionEnded));
        let a = m.grant(Target::Lease, 0, true, "/l1".into());
        m.grant(Target::Lease, 0, true, "/l2".into());
        assert!(!m.is_free(Target::Lease));
        m.leave(a);
        assert!(m.is_free(Target::Lease));
        assert_eq!(m.held_through(0, Target::Lease), 1);
    }

    #[test]
    fn two_live_holds_on_one_node_are_named() {
        let mut m = Model::new(2);
        let a = m.grant(Target::Read, 0, true, "/r1".into());
        m.grant(Target::Read, 0, true, "/r2".into());
        assert_eq!(m.shared_node(), None);
        m.grant(Target::Read, 1, true, "/r1".into());
        assert_eq!(m.shared_node(), Some("/r1"));
        m.leave(a);
        assert_eq!(m.shared_node(), None, "an ended hold shares nothing");
    }
}
