//! The benchmark's entry point ([`main`]): every setting in turn, then the
//! tables, the targets and the JSON report.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::proxy::LatencyProxy;

use super::args::BenchArgs;
use super::results::{BenchReport, ConfigReport, Network, ServerMode};
use super::runner::{progress, Bench};
use super::waiters;
use super::zk::warm_up_server;
use super::{report, targets};

/// Runs `zkurator-harness bench`. Exit code 0 when every measurement ran
/// (whatever the targets say), 1 when some failed, 2 when nothing could run.
pub fn main(args: BenchArgs, peers: &crate::runner::Peers) -> ExitCode {
    if let Some(connect) = &args.waiters_child {
        return waiters::child_main(connect, args.waiters.unwrap_or(1000), args.tokio);
    }
    if !args.latency_ms.is_finite() || args.latency_ms < 0.0 {
        eprintln!("error: --latency-ms must be a non-negative number");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let settings = args.settings();
    let mut bench = Bench::new(settings.clone(), peers);
    let servers = match (args.server.is_empty(), args.quick) {
        (false, _) => args.server.clone(),
        // The smoke run keeps to the setting the targets are about.
        (true, true) => vec![ServerMode::Fast],
        (true, false) => vec![ServerMode::Fast, ServerMode::Durable],
    };
    let networks =
        if args.network.is_empty() { vec![Network::Loopback, Network::Latency] } else { args.network.clone() };
    let latency = Duration::from_secs_f64(args.latency_ms / 1e3);

    let mut configs = Vec::new();
    let mut header_printed = false;
    for mode in servers {
        progress(&format!("starting ZooKeeper ({})", mode.label()));
        let builder = zkurator_testserver::ZkServer::builder().force_sync(mode == ServerMode::Durable);
        let builder = match peers.server_jars() {
            Some(jars) => builder.classpath(jars.to_vec()),
            None => builder,
        };
        let server = match builder.start() {
            Ok(server) => server,
            Err(e) => {
                eprintln!("error: cannot start a ZooKeeper server: {e}");
                for &network in &networks {
                    let mut config = ConfigReport::new(mode, network, 0.0);
                    config.errors.push(format!("ZooKeeper server did not start: {e}"));
                    configs.push(config);
                }
                continue;
            }
        };
        if bench.versions.zookeeper.is_none() {
            // Debian's build reports `3.8.0-${mvngit.commit.id}`: keep the release.
            bench.versions.zookeeper = zkurator_testserver::server_version(&server.connect_string())
                .ok()
                .map(|v| v.split("-$").next().unwrap_or_default().to_owned());
        }
        // A fresh server's JVM has compiled nothing yet: the first thousands of
        // requests are several times slower, and the first subject would pay.
        progress(&format!("warming up the server ({} create+list+delete cycles)", settings.server_warmup));
        if let Err(e) = bench.block_on(warm_up_server(&server.connect_string(), settings.server_warmup)) {
            eprintln!("warning: server warm-up failed: {e}");
        }
        bench.warm_up_jvm(&server.connect_string());
        bench.server_pid = server.pid();
        if !header_printed {
            print!("{}", report::header(&bench.machine, &bench.versions, &settings));
            header_printed = true;
        }
        for &network in &networks {
            let mut config = ConfigReport::new(
                mode,
                network,
                if network == Network::Latency { latency.as_secs_f64() * 1e3 } else { 0.0 },
            );
            let proxy = match network {
                Network::Loopback => None,
                Network::Latency => match LatencyProxy::start(server.connect_string(), latency) {
                    Ok(proxy) => Some(proxy),
                    Err(e) => {
                        config.errors.push(format!("latency proxy did not start: {e}"));
                        print!("{}", report::config_table(&config));
                        configs.push(config);
                        continue;
                    }
                },
            };
            let connect = proxy.as_ref().map_or_else(|| server.connect_string(), LatencyProxy::connect_string);
            bench.run_config(&mut config, &connect);
            drop(proxy);
            config.ratios = targets::ratios(&config);
            print!("{}", report::config_table(&config));
            configs.push(config);
        }
    }
    if configs.is_empty() {
        eprintln!("error: nothing to measure");
        return ExitCode::from(2);
    }
    let targets = targets::evaluate(&configs, &settings.writers);
    print!("{}", report::targets_table(&targets));
    let failed = configs.iter().any(|c| !c.errors.is_empty());
    let nothing_ran = configs
        .iter()
        .all(|c| c.uncontended.is_empty() && c.contended.is_empty() && c.readers.is_empty() && c.waiters.is_empty());
    let report = BenchReport {
        machine: bench.machine.clone(),
        versions: bench.versions,
        settings,
        configs,
        targets,
        wall_secs: started.elapsed().as_secs_f64(),
    };
    match report::write_json(&report, &args.json) {
        Ok(()) => println!("\nJSON report: {} (whole run {:.0} s)", args.json.display(), report.wall_secs),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let html = args.json.with_extension("html");
    let page = crate::evidence::html::bench::page("zkurator-harness bench", &report.configs);
    match std::fs::write(&html, page) {
        Ok(()) => println!("charts: {}", html.display()),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", html.display());
            return ExitCode::FAILURE;
        }
    }
    if nothing_ran {
        ExitCode::from(2)
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
