//! `zoo.cfg` rendering, shared by standalone servers and ensemble members.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The client/peer/election ports of one ensemble member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerPorts {
    /// The port clients connect to.
    pub(crate) client: u16,
    /// The follower-to-leader port.
    pub(crate) peer: u16,
    /// The leader-election port.
    pub(crate) election: u16,
}

/// How one member reaches another: its quorum and election addresses.
pub(crate) type Route = (SocketAddr, SocketAddr);

/// Settings common to every server this crate starts (set through `ServerBuilder`).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) tick_time: Duration,
    pub(crate) force_sync: bool,
    pub(crate) max_session_timeout: Duration,
    pub(crate) startup_timeout: Duration,
    pub(crate) container_check_interval: Duration,
    /// The server's jars; `None`: [`crate::zookeeper_classpath`]'s lookup.
    pub(crate) classpath: Option<Vec<std::path::PathBuf>>,
}

impl Settings {
    pub(crate) fn tick_ms(&self) -> u64 {
        millis(self.tick_time)
    }
}

/// One server's `zoo.cfg`.
#[derive(Debug, Clone)]
pub(crate) struct ZooCfg<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) data_dir: PathBuf,
    pub(crate) client_port: u16,
    /// Empty for a standalone server; otherwise every member of the ensemble, in order
    /// (member `i` has server id `i + 1`).
    pub(crate) ensemble: &'a [PeerPorts],
    /// For a routed ensemble: this member's index and how it reaches each other member
    /// (`routes[j]` = its quorum and election addresses for member `j`; its own entry is
    /// unused). The member's own line then names the wildcard address, so it listens on
    /// its real ports and advertises no address of its own to the others.
    pub(crate) routes: Option<(usize, &'a [Option<Route>])>,
}

impl ZooCfg<'_> {
    /// The file's text.
    pub(crate) fn render(&self) -> String {
        let s = self.settings;
        let tick = s.tick_ms();
        let mut cfg = String::new();
        let mut line = |text: String| {
            cfg.push_str(&text);
            cfg.push('\n');
        };
        line("# Written by zkurator-testserver.".to_owned());
        line(format!("tickTime={tick}"));
        line(format!("dataDir={}", self.data_dir.display()));
        line(format!("clientPort={}", self.client_port));
        line("clientPortAddress=127.0.0.1".to_owned());
        line(format!("minSessionTimeout={}", 2 * tick));
        line(format!("maxSessionTimeout={}", millis(s.max_session_timeout).max(2 * tick)));
        line("maxClientCnxns=0".to_owned());
        line("admin.enableServer=false".to_owned());
        line("4lw.commands.whitelist=*".to_owned());
        if !s.force_sync {
            line("forceSync=no".to_owned());
        }
        if !self.ensemble.is_empty() {
            // Generous in wall-clock terms whatever the tick: JVMs start slowly on a
            // loaded two-core machine.
            line(format!("initLimit={}", ticks_for(Duration::from_secs(10), tick, 10)));
            line(format!("syncLimit={}", ticks_for(Duration::from_secs(5), tick, 5)));
            line("reconfigEnabled=false".to_owned());
            let mut servers = String::new();
            for (i, ports) in self.ensemble.iter().enumerate() {
                let direct = format!("127.0.0.1:{}:{}", ports.peer, ports.election);
                let address = match self.routes {
                    Some((me, _)) if me == i => format!("0.0.0.0:{}:{}", ports.peer, ports.election),
                    Some((_, routes)) => match routes.get(i).copied().flatten() {
                        Some((quorum, election)) => format!("{}:{}:{}", quorum.ip(), quorum.port(), election.port()),
                        None => direct,
                    },
                    None => direct,
                };
                let _ = writeln!(servers, "server.{}={address}", i + 1);
            }
            cfg.push_str(&servers);
        }
        cfg
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// At least `min` ticks, and at least `span` of wall-clock time.
fn ticks_for(span: Duration, tick_ms: u64, min: u64) -> u64 {
    millis(span).div_ceil(tick_ms.max(1)).max(min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(force_sync: bool) -> Settings {
        Settings {
            tick_time: Duration::from_millis(200),
            force_sync,
            max_session_timeout: Duration::from_secs(60),
            startup_timeout: Duration::from_secs(30),
            container_check_interval: Duration::from_secs(1),
            classpath: None,
        }
    }

    #[test]
    fn standalone_config() {
        let s = settings(false);
        let cfg = ZooCfg {
            settings: &s,
            data_dir: PathBuf::from("/tmp/x/data"),
            client_port: 4242,
            ensemble: &[],
            routes: None,
        }
        .render();
        for expected in [
            "tickTime=200\n",
            "dataDir=/tmp/x/data\n",
            "clientPort=4242\n",
            "clientPortAddress=127.0.0.1\n",
            "minSessionTimeout=400\n",
            "maxSessionTimeout=60000\n",
            "admin.enableServer=false\n",
            "4lw.commands.whitelist=*\n",
            "forceSync=no\n",
        ] {
            assert!(cfg.contains(expected), "missing {expected:?} in\n{cfg}");
        }
        assert!(!cfg.contains("server.1"));
    }

    #[test]
    fn ensemble_config_lists_every_member() {
        let s = settings(true);
        let ports = [PeerPorts { client: 1, peer: 2, election: 3 }, PeerPorts { client: 4, peer: 5, election: 6 }];
        let cfg =
            ZooCfg { settings: &s, data_dir: PathBuf::from("/d"), client_port: 4, ensemble: &ports, routes: None }
                .render();
        assert!(cfg.contains("server.1=127.0.0.1:2:3\n"));
        assert!(cfg.contains("server.2=127.0.0.1:5:6\n"));
        assert!(cfg.contains("initLimit=50\n"));
        assert!(cfg.contains("syncLimit=25\n"));
        assert!(!cfg.contains("forceSync"));
    }

    #[test]
    fn routed_config_names_the_member_itself_by_the_wildcard_and_the_others_by_their_routes() {
        let s = settings(true);
        let ports = [
            PeerPorts { client: 1, peer: 2, election: 3 },
            PeerPorts { client: 4, peer: 5, election: 6 },
            PeerPorts { client: 7, peer: 8, election: 9 },
        ];
        let addr = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let routes = [Some((addr(100), addr(101))), None, Some((addr(200), addr(201)))];
        let cfg = ZooCfg {
            settings: &s,
            data_dir: PathBuf::from("/d"),
            client_port: 4,
            ensemble: &ports,
            routes: Some((1, &routes)),
        }
        .render();
        assert!(cfg.contains("server.1=127.0.0.1:100:101\n"), "{cfg}");
        assert!(cfg.contains("server.2=0.0.0.0:5:6\n"), "{cfg}");
        assert!(cfg.contains("server.3=127.0.0.1:200:201\n"), "{cfg}");
        assert!(cfg.contains("clientPortAddress=127.0.0.1\n"), "{cfg}");
    }
}
