//! The release policy (`cargo xtask semver`, `changelog`, `package`): versions, the baseline
//! picked in real git repositories, cargo-semver-checks' report read back, and the changelog.

use std::path::Path;
use std::process::Command;

use xtask::diff::{Change, Kind};
use xtask::project_root;
use xtask::release::{
    Baseline, Finding, Package, Version, baseline, changelog_draft, check_spec_bump, dev_profile_settings,
    forget_unpacked_packages, parse_findings, publishable_crates, workspace_version,
};

fn version(text: &str) -> Version {
    Version::parse(text).unwrap()
}

#[test]
fn versions_parse_and_order() {
    assert_eq!(version("0.1.0"), Version { major: 0, minor: 1, patch: 0 });
    assert_eq!(version("1.2.3-rc.1"), Version { major: 1, minor: 2, patch: 3 });
    for bad in ["", "1", "1.2", "1.2.3.4", "a.b.c", "1.2.x"] {
        assert_eq!(Version::parse(bad), None, "{bad:?}");
    }
    assert!(version("0.10.0") > version("0.9.9"));
}

#[test]
fn a_breaking_bump_is_the_minor_version_in_0x_and_the_major_one_after() {
    let breaking = |old: &str, new: &str| version(new).is_breaking_bump_from(version(old));
    assert!(breaking("0.1.0", "0.2.0"));
    assert!(breaking("0.1.3", "1.0.0"));
    assert!(!breaking("0.1.0", "0.1.1"));
    assert!(!breaking("0.1.0", "0.1.0"));
    assert!(breaking("1.4.2", "2.0.0"));
    assert!(!breaking("1.4.2", "1.5.0"));
    assert_eq!(version("0.1.4").next_breaking(), version("0.2.0"));
    assert_eq!(version("1.4.2").next_breaking(), version("2.0.0"));
}

#[test]
fn the_workspace_version_comes_from_workspace_package() {
    let manifest = "[workspace]\nmembers = []\n\n[package]\nversion = \"9.9.9\"\n\n[workspace.package]\nedition = \"2024\"\nversion = \"0.3.1\"\n\n[workspace.dependencies]\nversion = \"1\"\n";
    assert_eq!(workspace_version(manifest), Some(version("0.3.1")));
    assert_eq!(workspace_version("[package]\nversion = \"1.0.0\"\n"), None);
}

#[test]
fn package_verification_gets_the_workspace_dev_profile() {
    let manifest = "[profile.dev]\n# why\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n\n[profile.dev.package.syn]\nopt-level = 2\n[profile.release]\nlto = true\n[dependencies]\nsyn = \"2\"\n";
    assert_eq!(
        dev_profile_settings(manifest),
        [
            "profile.dev.debug=\"line-tables-only\"",
            "profile.dev.package.\"*\".debug=false",
            "profile.dev.package.syn.opt-level=2"
        ]
    );
}

/// The downstream example has a lock file of its own, which a change of the workspace's
/// dependencies can leave stale; CI builds it with `--locked`, so say so here first.
#[test]
fn the_downstream_example_lock_file_is_up_to_date() {
    let root = project_root();
    let output = xtask::tools::cargo()
        .args(["metadata", "--locked", "--format-version", "1", "--manifest-path"])
        .arg(root.join("examples/downstream/Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "examples/downstream/Cargo.lock is stale; run `cargo metadata --manifest-path examples/downstream/Cargo.toml` and commit it:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_changelog_has_an_entry_for_the_current_version() {
    let root = project_root();
    let current = workspace_version(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains("\n## [Unreleased]\n"), "CHANGELOG.md keeps an [Unreleased] section at the top");
    assert!(
        changelog.lines().any(|line| line.starts_with(&format!("## [{current}] - "))),
        "CHANGELOG.md has no `## [{current}] - <date>` entry for the workspace version"
    );
}

#[test]
fn publishable_crates_are_the_ones_without_publish_false() {
    let names: Vec<String> =
        publishable_crates(&project_root()).unwrap().into_iter().map(|package| package.name).collect();
    for published in ["laserdata", "laserdata-core", "laserdata-main", "laserdata-audit-httpmock"] {
        assert!(names.iter().any(|name| name == published), "{published} missing from {names:?}");
    }
    for internal in ["xtask", "laserdata-e2e", "laserdata-bench"] {
        assert!(!names.iter().any(|name| name == internal), "{internal} is publish = false: {names:?}");
    }
}

#[test]
fn publishable_crates_carry_the_workspace_version() {
    let manifest = std::fs::read_to_string(project_root().join("Cargo.toml")).unwrap();
    let workspace = workspace_version(&manifest).unwrap().to_string();
    for package in publishable_crates(&project_root()).unwrap() {
        assert_eq!(package.version, workspace, "{}", package.name);
    }
}

/// Cargo skips unpacking a verified package whose folder is already complete, so an earlier
/// run's sources of the same version must go first; crates.io's own folder is left alone.
#[test]
fn packaging_forgets_earlier_unpackings_of_the_same_versions_only() {
    let home = tempfile::tempdir().unwrap();
    let sources = home.path().join("registry/src");
    let folders = [
        "-22c3805da5a543b4/laserdata-core-0.1.0/src",
        "-22c3805da5a543b4/laserdata-core-0.0.9/src",
        "-22c3805da5a543b4/serde-1.0.0/src",
        "-94b770de97753d5b/laserdata-core-0.1.0/src",
        "index.crates.io-1949cf8c6b5b557f/laserdata-core-0.1.0/src",
    ];
    for folder in folders {
        std::fs::create_dir_all(sources.join(folder)).unwrap();
        std::fs::write(sources.join(folder).join("lib.rs"), "// stale").unwrap();
    }
    let packages = [Package { name: "laserdata-core".into(), version: "0.1.0".into(), manifest: String::new() }];
    assert_eq!(forget_unpacked_packages(home.path(), &packages).unwrap(), 2);
    let left: Vec<bool> = folders.iter().map(|folder| sources.join(folder).exists()).collect();
    assert_eq!(left, [false, true, true, false, true]);
    // Nothing to forget the second time, and a cargo home without registry is fine.
    assert_eq!(forget_unpacked_packages(home.path(), &packages).unwrap(), 0);
    assert_eq!(forget_unpacked_packages(&home.path().join("absent"), &packages).unwrap(), 0);
}

/// A throwaway repository whose commits touch one file.
struct Repo(tempfile::TempDir);

impl Repo {
    fn new() -> Repo {
        let repo = Repo(tempfile::tempdir().unwrap());
        repo.git(&["init", "--quiet", "--initial-branch", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "tag.gpgSign=false",
                "-c",
                "commit.gpgSign=false",
            ])
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    fn commit(&self, text: &str) -> String {
        std::fs::write(self.path().join("file"), text).unwrap();
        self.git(&["add", "file"]);
        self.git(&["commit", "--quiet", "-m", text]);
        self.git(&["rev-parse", "HEAD"])
    }
}

#[test]
fn the_baseline_is_the_last_release_tag_else_the_previous_commit() {
    let repo = Repo::new();
    repo.commit("first");
    assert_eq!(baseline(repo.path()).unwrap(), None, "a first commit has nothing to compare with");

    repo.commit("second");
    assert_eq!(baseline(repo.path()).unwrap().unwrap().revision, "HEAD~1");

    // A tag that is no release (`v` + a version) does not count.
    repo.git(&["tag", "vnext", "HEAD~1"]);
    assert_eq!(baseline(repo.path()).unwrap().unwrap().revision, "HEAD~1");

    repo.git(&["tag", "v0.1.0", "HEAD~1"]);
    repo.commit("third");
    repo.git(&["tag", "-a", "-m", "release", "v0.2.0"]);
    repo.commit("fourth");
    let found = baseline(repo.path()).unwrap().unwrap();
    assert_eq!(found, Baseline { revision: "v0.2.0".into(), why: "the last release tag".into() });

    // On the release commit itself, the release before it is the baseline.
    repo.git(&["checkout", "--quiet", "v0.2.0"]);
    assert_eq!(baseline(repo.path()).unwrap().unwrap().revision, "v0.1.0");

    // A tag on another branch is not a release of this one.
    repo.git(&["checkout", "--quiet", "-b", "side", "v0.1.0"]);
    repo.commit("side");
    assert_eq!(baseline(repo.path()).unwrap().unwrap().revision, "v0.1.0");
}

#[test]
fn a_shallow_clone_is_deepened_to_find_its_baseline() {
    let origin = Repo::new();
    origin.commit("first");
    origin.git(&["tag", "v0.1.0"]);
    origin.commit("second");
    origin.commit("third");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let status = Command::new("git")
        .args(["clone", "--quiet", "--depth", "1", "--no-tags", &url])
        .arg(clone.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(baseline(clone.path()).unwrap().unwrap().revision, "v0.1.0");
}

const BREAKING_REPORT: &str = "\
     Cloning HEAD~1
    Building laserdata-core v0.1.0 (current)
       Built [   3.120s] (current)
     Parsing laserdata-core v0.1.0 (current)
    Checking laserdata-core v0.1.0 -> v0.1.0 (no change; assume patch)
     Checked [   0.012s] 196 checks: 194 pass, 2 fail, 0 warn, 0 skip

--- failure enum_variant_missing: pub enum variant removed or renamed ---

Description:
A publicly-visible enum has at least one variant that is no longer available under its prior name.
        ref: https://doc.rust-lang.org/cargo/reference/semver.html#item-remove
       impl: https://github.com/obi1kenobi/cargo-semver-checks/tree/v0.51.0/src/lints/enum_variant_missing.ron

Failed in:
  variant Kind::Old, previously in file /tmp/x/src/lib.rs:12

--- failure function_parameter_count_changed: pub fn parameter count changed ---

Description:
A publicly-visible function now takes a different number of parameters.

Failed in:
  laserdata_core::f now takes 2 parameters instead of 1, in /tmp/y/src/lib.rs:20

     Summary semver requires new major version: 2 major and 0 minor checks failed
    Checking laserdata-main v0.1.0 -> v0.1.0 (no change; assume patch)
     Checked [   0.400s] 196 checks: 196 pass, 0 warn, 0 skip
     Summary no semver update required
";

#[test]
fn findings_are_read_from_the_report_with_their_crate_and_items() {
    let findings = parse_findings(BREAKING_REPORT);
    assert_eq!(
        findings,
        [
            Finding {
                krate: "laserdata-core".into(),
                lint: "enum_variant_missing".into(),
                summary: "pub enum variant removed or renamed".into(),
                items: vec!["variant Kind::Old".into()],
            },
            Finding {
                krate: "laserdata-core".into(),
                lint: "function_parameter_count_changed".into(),
                summary: "pub fn parameter count changed".into(),
                items: vec!["laserdata_core::f now takes 2 parameters instead of 1".into()],
            },
        ]
    );
    assert!(parse_findings("    Checking a v0.1.0 -> v0.1.0\n     Summary no semver update required\n").is_empty());
}

fn change(kind: Kind, message: &str) -> Change {
    Change { kind, location: "main: GET /things".into(), message: message.into() }
}

#[test]
fn a_breaking_spec_change_needs_a_breaking_bump() {
    let breaking = [change(Kind::Breaking, "response field `name` removed"), change(Kind::Additive, "new operation")];
    let error = check_spec_bump(&breaking, version("0.1.0"), version("0.1.1")).unwrap_err();
    assert!(error.contains("to 0.2.0"), "{error}");
    assert!(check_spec_bump(&breaking, version("0.1.0"), version("0.2.0")).is_ok());
    assert!(check_spec_bump(&breaking[1..], version("0.1.0"), version("0.1.0")).is_ok());
}

#[test]
fn the_changelog_draft_sorts_changes_into_keep_a_changelog_sections() {
    let baseline = Baseline { revision: "v0.1.0".into(), why: "the last release tag".into() };
    let changes = [
        change(Kind::Breaking, "response field `name` removed"),
        change(Kind::Breaking, "type of `id` changed from string to integer"),
        change(Kind::Additive, "new operation `get_thing`"),
    ];
    let findings = parse_findings(BREAKING_REPORT);
    let draft = changelog_draft(&baseline, &changes, &findings, Some(version("0.2.0")));
    let expected = "\
## [0.2.0] - YYYY-MM-DD

<!-- Drafted by `cargo xtask changelog` against v0.1.0 (the last release tag). Say why, merge the lines of one change, and keep only what users notice. -->

### Added

- main: GET /things: new operation `get_thing`

### Changed

- **Breaking**: main: GET /things: type of `id` changed from string to integer
- **Breaking** (`laserdata-core`, function_parameter_count_changed): pub fn parameter count changed: laserdata_core::f now takes 2 parameters instead of 1

### Removed

- **Breaking**: main: GET /things: response field `name` removed
- **Breaking** (`laserdata-core`, enum_variant_missing): pub enum variant removed or renamed: variant Kind::Old
";
    assert_eq!(draft, expected);
    assert!(changelog_draft(&baseline, &[], &[], None).starts_with("## [Unreleased]\n"));
}
