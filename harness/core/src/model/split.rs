//! Ensemble splits in the model (`zk isolate-leader`, `zk isolate-follower`,
//! `zk isolate-member C`, `zk heal-members`): like the other server faults
//! they change no hold (the member cut off cannot commit a write, so it grants
//! nothing; its clients move to the majority within their session timeout),
//! but the model keeps the ensemble's state so that a scenario cannot leave it
//! without a quorum, whose outcome would depend on timing: one member out at a
//! time (cut off or killed), and a heal only of a cut.

use super::{Model, ModelError};
use crate::steps::{Action, ServerOp};

/// What is wrong with the ensemble now, as the model counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Members {
    /// A member is cut off from the others.
    cut: bool,
    /// Members killed and not started again.
    down: usize,
}

impl Model {
    /// A server step's effect on the ensemble's state; an error when it would
    /// leave no quorum or heals nothing.
    pub(super) fn members_step(&mut self, action: &Action) -> Result<(), ModelError> {
        let op = match action {
            Action::Server(op) => *op,
            Action::IsolateMemberOf { .. } => ServerOp::IsolateMember(0),
            _ => return Ok(()),
        };
        let m = &mut self.members;
        match op {
            ServerOp::IsolateLeader | ServerOp::IsolateFollower | ServerOp::IsolateMember(_) => {
                if m.cut {
                    return Err(ModelError(
                        "a member is cut off already: `zk heal-members` first (a second cut would leave no quorum)"
                            .into(),
                    ));
                }
                if m.down > 0 {
                    return Err(ModelError(
                        "a member is killed: `zk start-all` first (a cut now would leave no quorum)".into(),
                    ));
                }
                m.cut = true;
            }
            ServerOp::HealMembers => {
                if !m.cut {
                    return Err(ModelError("no member is cut off: `zk heal-members` has nothing to heal".into()));
                }
                m.cut = false;
            }
            ServerOp::KillLeader | ServerOp::KillFollower => {
                if m.cut {
                    return Err(ModelError(
                        "a member is cut off: `zk heal-members` first (a kill now would leave no quorum)".into(),
                    ));
                }
                m.down += 1;
            }
            ServerOp::StartAll => m.down = 0,
            ServerOp::Restart => {}
        }
        Ok(())
    }
}
