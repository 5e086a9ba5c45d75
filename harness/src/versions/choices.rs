//! The releases and programs one invocation uses ([`PeerChoices`]): chosen
//! by the CLI or read once from the environment, then passed on as a value.

use std::ffi::OsString;
use std::path::PathBuf;

use zkurator::negative::NegativeControl;

/// Environment variable of the Curator jars the embedded JVM loads (a
/// colon-separated list; `--curator` overrides it).
pub const CURATOR_CLASSPATH: &str = "CURATOR_CLASSPATH";

/// Environment variable naming the kazurator release the venv gets (default
/// [`crate::runtime::kazurator::KAZURATOR_VERSION`]; `--kazurator` overrides
/// it). Each release has a venv of its own.
pub const KAZURATOR_RELEASE_ENV: &str = "ZKURATOR_KAZURATOR";

/// The releases and programs an invocation uses, chosen by the CLI
/// (`--curator`, `--kazurator`, `--zookeeper`, a version matrix's cell) or
/// read once from the environment.
#[derive(Clone, Debug, Default)]
pub struct PeerChoices {
    /// The Curator jars of the embedded JVM, a colon-separated list (`None`:
    /// the Debian packages' jars).
    pub curator_classpath: Option<OsString>,
    /// The kazurator release (`None`: the default release).
    pub kazurator_release: Option<String>,
    /// The ZooKeeper release of the servers the harness starts, as its jars
    /// (`None`: the environment's, `ZK_CLASSPATH`, `ZOOKEEPER_HOME`, else
    /// Debian's).
    pub server_jars: Option<Vec<PathBuf>>,
    /// The program `rust-process` contenders and Curator workers run (`None`:
    /// found next to this executable).
    pub harness_binary: Option<PathBuf>,
    /// A deliberately broken rule for the `rust` and `rust-tasks`
    /// contenders (a negative control the checkers must catch; `None`: the
    /// real lock).
    pub negative_control: Option<NegativeControl>,
}

impl PeerChoices {
    /// The choices the environment makes: `CURATOR_CLASSPATH` and
    /// `ZKURATOR_KAZURATOR`, when set and not empty.
    pub fn from_env() -> PeerChoices {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        PeerChoices {
            curator_classpath: set(CURATOR_CLASSPATH),
            kazurator_release: set(KAZURATOR_RELEASE_ENV).map(|v| v.to_string_lossy().trim().to_owned()),
            server_jars: None,
            harness_binary: None,
            negative_control: None,
        }
    }
}
