//! Routed ensembles: members that reach each other through addresses the caller
//! supplies ([`crate::ServerBuilder::start_ensemble_routed`]), so the caller can put a proxy
//! on every link between two members and cut members apart.

use std::io;
use std::net::SocketAddr;

use crate::config::Route;
use crate::error::ServerError;

/// Which of a member's two peer ports a link leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerPort {
    /// The port followers connect to the leader on (the first port of a `server.N` line).
    Quorum,
    /// The leader-election port (the second one).
    Election,
}

/// One directed link of a routed ensemble: member `from` connects to `to`'s `port`,
/// which listens at `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerLink {
    /// The member that connects (its `zoo.cfg` names the address the router returns).
    pub from: usize,
    /// The member connected to.
    pub to: usize,
    /// Which port of `to`.
    pub port: PeerPort,
    /// Where `to` really listens (`127.0.0.1:<port>`).
    pub target: SocketAddr,
}

/// The caller's side of a routed ensemble: the address member `link.from` is to use for
/// `link.to`'s `link.port`, for instance a proxy to `link.target`. The quorum and
/// election addresses of one link must share an IP address (a `server.N` line has one).
pub type Router<'a> = dyn FnMut(PeerLink) -> io::Result<SocketAddr> + 'a;

/// The route table of member `from`: for every other member, its quorum and election
/// addresses as `router` gives them.
pub(crate) fn routes_of(
    router: &mut Router<'_>,
    from: usize,
    targets: &[Route],
) -> Result<Vec<Option<Route>>, ServerError> {
    let mut routes = Vec::with_capacity(targets.len());
    for (to, &(quorum, election)) in targets.iter().enumerate() {
        if to == from {
            routes.push(None);
            continue;
        }
        let mut ask = |port, target| {
            router(PeerLink { from, to, port, target })
                .map_err(|e| ServerError::io(format!("routing member {from} to member {to}'s {port:?} port"), e))
        };
        let quorum = ask(PeerPort::Quorum, quorum)?;
        let election = ask(PeerPort::Election, election)?;
        if quorum.ip() != election.ip() {
            return Err(ServerError::InvalidConfig(format!(
                "member {from} reaches member {to} at {quorum} and {election}: a server line has one host"
            )));
        }
        routes.push(Some((quorum, election)));
    }
    Ok(routes)
}
