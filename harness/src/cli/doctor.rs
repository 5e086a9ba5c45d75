//! `doctor`: the peers and tools found, and the flags and environment
//! variables that select them.

use std::path::PathBuf;
use std::process::ExitCode;

use zkurator_harness::backend::Backend;
use zkurator_harness::runner::Peers;

/// Every flag and environment variable that selects a peer or a path, with its
/// current value (or what is used without it) and what it selects.
fn settings(scenarios: &Option<PathBuf>, versions: [&Option<String>; 3]) -> Vec<(String, String, &'static str)> {
    use zkurator_harness::assets;
    let corpus = match assets::scenario_dir(scenarios.as_deref()) {
        Ok(dir) => dir.display().to_string(),
        Err(e) => format!("({e})"),
    };
    let flag =
        |value: &Option<String>, default: &str| value.clone().unwrap_or_else(|| format!("(not given: {default})"));
    let mut rows = vec![
        ("--scenarios".to_owned(), corpus, "the scenario corpus (./scenarios, else the built-in one)"),
        ("--curator".to_owned(), flag(versions[0], "the newest cached, else Debian's"), "Curator releases"),
        ("--zookeeper".to_owned(), flag(versions[1], "Debian's"), "ZooKeeper server releases"),
        ("--kazurator".to_owned(), flag(versions[2], "0.2.0"), "kazurator releases (a venv each)"),
    ];
    let env: [(&str, &'static str); 14] = [
        ("ZK_CLASSPATH", "server jars (replaces Debian's; --zookeeper overrides it)"),
        ("ZOOKEEPER_HOME", "a ZooKeeper installation's jars"),
        ("ZK_CONNECT", "tests: an existing server instead of a local one"),
        ("CURATOR_CLASSPATH", "Curator jars (replaces Debian's; --curator overrides it)"),
        ("JAVA_HOME", "the JDK (java, javac, libjvm)"),
        (zkurator_harness::runtime::kazurator::PYTHON_ENV, "a python with kazurator and kazoo (no venv is built)"),
        (
            zkurator_harness::runtime::kazurator::KAZURATOR_RELEASE_ENV,
            "the kazurator release of the venv (--kazurator overrides it)",
        ),
        (zkurator_harness::logging::LOG_ENV, "stderr log filter without -v (default warn)"),
        (zkurator_harness::runtime::rust_process::HARNESS_BIN_ENV, "the binary of rust-process contenders"),
        (assets::CACHE_ENV, "the cache directory (venvs, Maven jars, classes, unpacked adapters, log)"),
        (zkurator_harness::suite::SLOW_FAULTS_ENV, "=1: the slow fault scenarios in the tests"),
        ("CARGO_TARGET_DIR", "the target dir (the cache of a binary run from its checkout)"),
        ("XDG_CACHE_HOME", "the cache's parent without ZKURATOR_CACHE outside a checkout"),
        ("HOME", "~/.cache/zkurator-harness without the two above"),
    ];
    for (name, what) in env {
        let value = std::env::var_os(name).map_or_else(|| "(unset)".to_owned(), |v| v.to_string_lossy().into_owned());
        rows.push((name.to_owned(), value, what));
    }
    let cache = assets::cache_dir();
    rows.push(("cache directory".to_owned(), cache.display().to_string(), "in use"));
    rows.push(("log file".to_owned(), cache.join(assets::LOG_FILE).display().to_string(), "every run's debug log"));
    rows
}

/// `doctor`: what was found (Java, Curator, ZooKeeper, Python, kazurator,
/// Go, Maven, Docker) and how to install what is missing, then the paths and
/// peers in use.
pub fn doctor(peers: &Peers, scenarios: &Option<PathBuf>, versions: [&Option<String>; 3]) -> ExitCode {
    let mut ok = true;
    let mut line = |what: &str, found: Result<String, String>| match found {
        Ok(v) => println!("ok      {what}: {v}"),
        Err(e) => {
            ok = false;
            println!("MISSING {what}: {e}");
        }
    };
    line("java", zkurator_testserver::java_binary().map(|p| p.display().to_string()).map_err(|e| e.to_string()));
    line(
        "ZooKeeper jars",
        zkurator_testserver::zookeeper_classpath()
            .map(|jars| format!("{} jars", jars.len()))
            .map_err(|e| e.to_string()),
    );
    line("ZooKeeper server", Backend::local_with(peers.server_jars()).map(|b| b.server_version()));
    // Every runtime's adapter prepares once and says what it found.
    for adapter in peers.builtin_adapters() {
        let (what, found) = adapter.describe();
        line(&what, found.map_err(|e| e.to_string()));
    }
    for (what, found) in zkurator_harness::runtime::external::describe(peers.table()) {
        line(&what, Ok(found));
    }
    line(
        "Maven (other Curator and ZooKeeper releases, --curator/--zookeeper)",
        std::process::Command::new("mvn")
            // Batch mode: no colour codes.
            .args(["--batch-mode", "--version"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                let text = zkurator_harness::versions::maven::strip_ansi(&String::from_utf8_lossy(&o.stdout));
                text.lines().next().unwrap_or_default().to_owned()
            })
            .ok_or_else(|| "not found: apt-get install -y maven (or use --curator debian)".to_owned()),
    );
    println!("\npaths and peers (flags and environment variables, current values):");
    let rows = settings(scenarios, versions);
    let width = rows.iter().map(|(_, value, _)| value.chars().count()).max().unwrap_or(0).min(48);
    for (name, value, what) in rows {
        println!("        {name:<22} {value:<width$}  {what}");
    }
    let docker = std::path::Path::new("/var/run/docker.sock").exists();
    println!(
        "{}  Docker engine (only for --zk docker): {}",
        if docker { "ok     " } else { "absent " },
        if docker { "socket found" } else { "no /var/run/docker.sock; the default local server needs none" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
