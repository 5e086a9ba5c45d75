//! `--curator` and `--zookeeper`: which releases a run uses, and where each
//! comes from (Debian's jars in /usr/share/java, or Maven Central).

use std::fmt;

use super::{Version, VersionError, CURATOR_RELEASES, DEBIAN_CURATOR, DEBIAN_ZOOKEEPER, NEWEST_ZOOKEEPER};

/// Where a peer's jars come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Debian's packages in /usr/share/java.
    Debian,
    /// Maven Central, resolved once into the cache under `target/`.
    Maven,
}

/// One release of a peer and its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pick {
    /// The release.
    pub version: Version,
    /// Where its jars come from.
    pub source: Source,
}

impl fmt::Display for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            Source::Debian => write!(f, "{} (debian)", self.version),
            Source::Maven => write!(f, "{}", self.version),
        }
    }
}

fn debian(version: &str) -> Pick {
    Pick { version: version.parse().expect("a valid built-in version"), source: Source::Debian }
}

fn maven(version: Version) -> Pick {
    Pick { version, source: Source::Maven }
}

/// The newest Curator 5.x release.
pub fn newest_curator() -> Pick {
    maven(CURATOR_RELEASES[CURATOR_RELEASES.len() - 1].parse().expect("a valid built-in version"))
}

/// Debian's Curator.
pub fn debian_curator() -> Pick {
    debian(DEBIAN_CURATOR)
}

/// Parses `--curator`: a comma list of releases, `all` (every 5.x release),
/// `newest`, or `debian` (the jars in /usr/share/java). Repeats are dropped.
pub fn parse_curator(text: &str) -> Result<Vec<Pick>, VersionError> {
    let mut picks = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "all" => picks.extend(CURATOR_RELEASES.iter().map(|r| maven(r.parse().expect("built-in")))),
            "newest" | "latest" => picks.push(newest_curator()),
            "debian" => picks.push(debian_curator()),
            release => {
                let version: Version = release.parse()?;
                if !CURATOR_RELEASES.iter().any(|r| r.parse() == Ok(version)) {
                    return Err(VersionError::UnknownCurator(release.to_owned()));
                }
                picks.push(maven(version));
            }
        }
    }
    dedup(&mut picks);
    Ok(picks)
}

/// Parses `--zookeeper`: a comma list of 3.8.x/3.9.x releases, `newest`
/// (3.9.5), or `debian` (3.8.0 from /usr/share/java, also what `3.8.0` means:
/// Maven Central serves 3.8.3 and later here).
pub fn parse_zookeeper(text: &str) -> Result<Vec<Pick>, VersionError> {
    let mut picks = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let pick = match word {
            "debian" => debian(DEBIAN_ZOOKEEPER),
            "newest" | "latest" => maven(NEWEST_ZOOKEEPER.parse().expect("built-in")),
            release => {
                let version: Version = release.parse()?;
                if version.major != 3 || !(8..=9).contains(&version.minor) {
                    return Err(VersionError::UnsupportedZooKeeper(release.to_owned()));
                }
                if version == DEBIAN_ZOOKEEPER.parse().expect("built-in") {
                    debian(DEBIAN_ZOOKEEPER)
                } else {
                    maven(version)
                }
            }
        };
        picks.push(pick);
    }
    dedup(&mut picks);
    Ok(picks)
}

/// Parses `--kazurator`: a comma list of releases (0.1.1, 0.2.0) or `all`.
pub fn parse_kazurator(text: &str) -> Result<Vec<Version>, VersionError> {
    let releases = super::KAZURATOR_RELEASES;
    let mut out: Vec<Version> = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let words: Vec<&str> = if word == "all" { releases.to_vec() } else { vec![word] };
        for release in words {
            let version: Version = release.parse()?;
            if !releases.iter().any(|r| r.parse() == Ok(version)) {
                return Err(VersionError::UnknownKazurator(release.to_owned()));
            }
            if !out.contains(&version) {
                out.push(version);
            }
        }
    }
    Ok(out)
}

fn dedup(picks: &mut Vec<Pick>) {
    let mut seen = Vec::new();
    picks.retain(|p| {
        let new = !seen.contains(p);
        seen.push(*p);
        new
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curator_selections() {
        assert_eq!(parse_curator("all").unwrap().len(), 12);
        assert_eq!(parse_curator("debian").unwrap(), vec![debian_curator()]);
        assert_eq!(parse_curator("newest").unwrap()[0].version.to_string(), "5.9.0");
        let two = parse_curator("5.4.0, 5.9.0,5.9.0").unwrap();
        assert_eq!(two.iter().map(|p| p.to_string()).collect::<Vec<_>>(), ["5.4.0", "5.9.0"]);
        assert!(matches!(parse_curator("4.3.0"), Err(VersionError::UnknownCurator(_))));
        assert!(matches!(parse_curator("5.x"), Err(VersionError::BadVersion(_))));
        assert_eq!(parse_curator("debian,5.4.0").unwrap().len(), 2, "Debian's 5.4.0 and Maven's are two sources");
    }

    #[test]
    fn zookeeper_selections() {
        assert_eq!(parse_zookeeper("3.8.0").unwrap(), vec![debian(DEBIAN_ZOOKEEPER)]);
        assert_eq!(parse_zookeeper("newest").unwrap()[0].to_string(), "3.9.5");
        assert_eq!(parse_zookeeper("3.8.0,3.9.5").unwrap().len(), 2);
        assert!(matches!(parse_zookeeper("3.7.1"), Err(VersionError::UnsupportedZooKeeper(_))));
    }
}
