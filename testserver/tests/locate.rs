//! Finding `java` and the ZooKeeper jars (pure functions: no environment, no server).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zkurator_testserver::{find_java, find_zookeeper_jars, ServerError, DEBIAN_JAVA_DIR};

fn touch(path: &Path, executable: bool) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, b"").unwrap();
    let mode = if executable { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn java_home_without_java_is_missing_java_with_the_apt_fix() {
    let empty = tempfile::tempdir().unwrap();
    let err = find_java(Some(empty.path().as_os_str()), None).expect_err("found java");
    assert!(matches!(err, ServerError::MissingJava { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("apt-get install -y default-jre-headless"), "{message}");
    assert!(message.contains("JAVA_HOME"), "{message}");

    // A stale JAVA_HOME is an error even when PATH has a java.
    let on_path = tempfile::tempdir().unwrap();
    touch(&on_path.path().join("java"), true);
    let err = find_java(Some(empty.path().as_os_str()), Some(on_path.path().as_os_str()))
        .expect_err("stale JAVA_HOME ignored");
    assert!(matches!(err, ServerError::MissingJava { .. }), "{err:?}");
}

#[test]
fn no_java_home_and_nothing_on_path_is_missing_java() {
    let empty = tempfile::tempdir().unwrap();
    for path in [None, Some(OsStr::new("")), Some(empty.path().as_os_str())] {
        let err = find_java(None, path).expect_err("found java");
        assert!(matches!(err, ServerError::MissingJava { .. }), "{err:?}");
        assert!(err.to_string().contains("apt-get install -y default-jre-headless"));
    }
}

#[test]
fn java_is_taken_from_java_home_then_path() {
    let home = tempfile::tempdir().unwrap();
    let java = home.path().join("bin/java");
    touch(&java, true);
    assert_eq!(find_java(Some(home.path().as_os_str()), None).unwrap(), java);

    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    touch(&dir_a.path().join("java"), false); // not executable: skipped
    touch(&dir_b.path().join("java"), true);
    let path = std::env::join_paths([dir_a.path(), dir_b.path()]).unwrap();
    assert_eq!(find_java(Some(OsStr::new("")), Some(&path)).unwrap(), dir_b.path().join("java"));
}

#[test]
fn missing_jars_is_missing_zookeeper_with_every_fix() {
    let empty = tempfile::tempdir().unwrap();
    let err = find_zookeeper_jars(None, None, empty.path()).expect_err("found jars");
    assert!(matches!(err, ServerError::MissingZooKeeper { .. }), "{err:?}");
    let message = err.to_string();
    for expected in ["apt-get install -y zookeeper", "ZOOKEEPER_HOME", "ZK_CLASSPATH", "zookeeper.jar"] {
        assert!(message.contains(expected), "{expected:?} not in {message}");
    }

    // ZOOKEEPER_HOME without a server jar.
    let err =
        find_zookeeper_jars(None, Some(empty.path().as_os_str()), Path::new(DEBIAN_JAVA_DIR)).expect_err("found jars");
    assert!(matches!(err, ServerError::MissingZooKeeper { .. }), "{err:?}");

    // ZK_CLASSPATH naming files that do not exist.
    let cp = format!("{}/nope.jar:{}/gone/*", empty.path().display(), empty.path().display());
    let err = find_zookeeper_jars(Some(OsStr::new(&cp)), None, Path::new(DEBIAN_JAVA_DIR)).expect_err("found jars");
    let message = err.to_string();
    assert!(message.contains("nope.jar") && message.contains("gone"), "{message}");
}

#[test]
fn zk_classpath_wins_over_zookeeper_home_which_wins_over_the_system_dir() {
    let home = tempfile::tempdir().unwrap();
    touch(&home.path().join("lib/zookeeper-3.9.9.jar"), false);
    touch(&home.path().join("lib/zookeeper-jute-3.9.9.jar"), false);
    touch(&home.path().join("lib/README.txt"), false);
    touch(&home.path().join("zookeeper-extra.jar"), false);
    fs::create_dir(home.path().join("conf")).unwrap();
    let empty = tempfile::tempdir().unwrap();

    let from_home = find_zookeeper_jars(None, Some(home.path().as_os_str()), empty.path()).unwrap();
    let expected: Vec<PathBuf> = vec![
        home.path().join("lib/zookeeper-3.9.9.jar"),
        home.path().join("lib/zookeeper-jute-3.9.9.jar"),
        home.path().join("zookeeper-extra.jar"),
        home.path().join("conf"),
    ];
    assert_eq!(from_home, expected);

    let cp = format!("{}:{}/lib/*", home.path().join("zookeeper-extra.jar").display(), home.path().display());
    let explicit = find_zookeeper_jars(Some(OsStr::new(&cp)), Some(empty.path().as_os_str()), empty.path()).unwrap();
    assert_eq!(explicit, vec![home.path().join("zookeeper-extra.jar"), home.path().join("lib/*")]);
}

#[test]
fn debian_jars_are_found() {
    let jars = find_zookeeper_jars(None, None, Path::new(DEBIAN_JAVA_DIR))
        .expect("Debian's zookeeper package: apt-get install -y zookeeper");
    let names: Vec<String> = jars.iter().map(|j| j.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for required in ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar"] {
        assert!(names.iter().any(|n| n == required), "{required} not in {names:?}");
    }
    assert!(jars.iter().all(|j| j.is_file()));
}
