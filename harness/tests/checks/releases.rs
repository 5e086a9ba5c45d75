//! Every Curator release the harness knows, and the newest ZooKeeper server,
//! resolve to a complete set of jars (Maven Central on first use, then the
//! cache). In this binary, whose other tests mostly wait, the resolution a
//! fresh checkout needs once overlaps their waits instead of adding up
//! later (`interop` uses every release; `differential` here resolves them
//! too, one at a time per process, so the first to ask pays).
#![cfg(feature = "interop")]

use std::path::PathBuf;

use zkurator_harness::versions::selection::{Pick, Source};
use zkurator_harness::versions::{maven, CURATOR_RELEASES, NEWEST_ZOOKEEPER};

fn names(jars: &[PathBuf]) -> Vec<String> {
    jars.iter().filter_map(|j| Some(j.file_name()?.to_string_lossy().into_owned())).collect()
}

#[test]
fn every_known_release_resolves_to_its_jars() {
    for release in CURATOR_RELEASES {
        let pick = Pick { version: release.parse().unwrap(), source: Source::Maven };
        let jars = maven::curator_jars(pick).unwrap_or_else(|e| panic!("Curator {release}: {e}")).expect("Maven jars");
        let names = names(&jars);
        for wanted in [format!("curator-recipes-{release}.jar"), format!("curator-framework-{release}.jar")] {
            assert!(names.contains(&wanted), "Curator {release}: no {wanted} in {names:?}");
        }
        assert!(
            names.iter().any(|n| n.starts_with("zookeeper-3.")),
            "Curator {release}: no ZooKeeper client in {names:?}"
        );
    }
    let pick = Pick { version: NEWEST_ZOOKEEPER.parse().unwrap(), source: Source::Maven };
    let jars = maven::zookeeper_jars(pick).unwrap_or_else(|e| panic!("ZooKeeper {NEWEST_ZOOKEEPER}: {e}")).unwrap();
    let wanted = format!("zookeeper-{NEWEST_ZOOKEEPER}.jar");
    assert!(names(&jars).contains(&wanted), "no {wanted} in {:?}", names(&jars));
}
