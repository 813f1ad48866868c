//! Release checks: which crates are published, the revision a change is measured against, and
//! whether the crates' version says what changed (`cargo xtask semver`, `package`, `changelog`).
//!
//! The policy (the README's "Versioning" section):
//! - The baseline is the newest release tag (`vX.Y.Z`) that HEAD contains, HEAD's own tag
//!   aside; before the first release, the previous commit. A shallow clone is deepened first.
//! - A breaking change needs a breaking version bump since the baseline: the minor version while
//!   it is 0.x, the major one from 1.0 on. Breaking is what cargo-semver-checks finds in a
//!   crate's Rust API, or what `cargo xtask diff` finds in a published document.
//!
//! All publishable crates share the workspace's version, so one tag names one release.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::diff::{self, Change, Kind, Revision};

/// The cargo-semver-checks release `.ci/run` installs (`cargo install --locked`).
pub const SEMVER_CHECKS_VERSION: &str = "0.51.0";

/// Release tags are the workspace version with this prefix: `v0.2.0`.
pub const TAG_PREFIX: &str = "v";

/// A `major.minor.patch` version (a pre-release or build suffix is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let core = text.trim().split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
        let version = Version { major: parts.next()??, minor: parts.next()??, patch: parts.next()?? };
        parts.next().is_none().then_some(version)
    }

    /// Whether going from `old` to this version announces a breaking change: in 0.x a new
    /// minor version, from 1.0 on a new major one.
    pub fn is_breaking_bump_from(self, old: Version) -> bool {
        if old.major == 0 { self.major > 0 || self.minor > old.minor } else { self.major > old.major }
    }

    /// The smallest version after this one that announces a breaking change.
    pub fn next_breaking(self) -> Version {
        if self.major == 0 {
            Version { major: 0, minor: self.minor + 1, patch: 0 }
        } else {
            Version { major: self.major + 1, minor: 0, patch: 0 }
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The `version` of `[workspace.package]` in a root `Cargo.toml`.
pub fn workspace_version(manifest: &str) -> Option<Version> {
    let mut in_section = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
        } else if in_section
            && let Some(value) = line.strip_prefix("version").and_then(|rest| rest.trim_start().strip_prefix('='))
        {
            return Version::parse(value.trim().trim_matches('"'));
        }
    }
    None
}

/// The revision changes are measured against, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub revision: String,
    pub why: String,
}

/// The baseline of HEAD (see the module documentation), or `None` when HEAD has no parent and
/// no release tag (the first commit, or a shallow clone that cannot be deepened).
pub fn baseline(root: &Path) -> Result<Option<Baseline>, String> {
    if git(root, &["rev-parse", "--is-shallow-repository"])?.as_deref() == Some("true") {
        // CI may clone with --depth 1: fetch the history and tags the baseline needs.
        if git(root, &["fetch", "--quiet", "--tags", "--unshallow"])?.is_none() {
            eprintln!("note: this clone is shallow and could not be deepened");
        }
    }
    let head = git(root, &["rev-parse", "HEAD"])?.ok_or("this repository has no commit")?;
    let pattern = format!("{TAG_PREFIX}[0-9]*");
    let tags = git(root, &["tag", "--merged", "HEAD", "--list", &pattern, "--sort=-v:refname"])?.unwrap_or_default();
    for tag in tags.lines().filter(|tag| Version::parse(&tag[TAG_PREFIX.len()..]).is_some()) {
        if git(root, &["rev-parse", &format!("{tag}^{{commit}}")])?.as_deref() != Some(head.as_str()) {
            return Ok(Some(Baseline { revision: tag.to_owned(), why: "the last release tag".into() }));
        }
    }
    Ok(git(root, &["rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"])?
        .map(|_| Baseline { revision: "HEAD~1".into(), why: "no release tag yet: the previous commit".into() }))
}

/// The workspace packages that may be published (no `publish = false`), in workspace order.
pub fn publishable_crates(root: &Path) -> Result<Vec<Package>, String> {
    let output = crate::tools::cargo()
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root)
        .output()
        .map_err(|error| format!("cannot run cargo metadata: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).map_err(|error| format!("unreadable cargo metadata: {error}"))?;
    let root_dir = Path::new(metadata["workspace_root"].as_str().unwrap_or_default()).to_path_buf();
    let mut packages = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        // `publish` is null (anywhere) or a list of registries; `publish = false` is an empty list.
        if package["publish"].as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        let manifest = Path::new(package["manifest_path"].as_str().unwrap_or_default());
        packages.push(Package {
            name: package["name"].as_str().unwrap_or_default().to_owned(),
            version: package["version"].as_str().unwrap_or_default().to_owned(),
            manifest: manifest.strip_prefix(&root_dir).unwrap_or(manifest).to_string_lossy().into_owned(),
        });
    }
    Ok(packages)
}

/// A publishable package: its name, its version and its manifest, relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub manifest: String,
}

/// `cargo package` with verification for every publishable crate at once: cargo (1.90 and
/// later) packages them together, resolving their dependencies on each other from the new
/// packages instead of crates.io, where none of them is yet.
pub fn package(root: &Path, packages: &[Package]) -> Result<(), String> {
    if let Some(cargo_home) = cargo_home() {
        let forgotten = forget_unpacked_packages(&cargo_home, packages)?;
        if forgotten > 0 {
            println!("removed {forgotten} earlier unpacking(s) of these versions from {}", cargo_home.display());
        }
    }
    // Cargo takes a registry package's build to be fresh while its version is unchanged,
    // whatever its sources: without this, verification would link the packages' builds from
    // an earlier run (in the shared target folder) rather than build the new sources.
    let mut clean = crate::tools::cargo();
    clean.args(["clean", "--quiet"]).current_dir(root);
    for package in packages {
        clean.args(["--package", &package.name]);
    }
    crate::tools::run(&mut clean, "cargo clean")?;
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|error| format!("cannot read Cargo.toml: {error}"))?;
    let mut command = crate::tools::cargo();
    command.args(["package", "--locked"]).current_dir(root);
    // Verification builds each package on its own, where the workspace's profile does not
    // apply: handing it the same settings lets it reuse what the tests already compiled.
    for setting in dev_profile_settings(&manifest) {
        command.args(["--config", &setting]);
    }
    for package in packages {
        command.args(["--package", &package.name]);
    }
    crate::tools::run(&mut command, "cargo package")
}

/// Removes what earlier `cargo package` runs unpacked of exactly these packages and versions,
/// returning how many folders it removed. (Their builds in the target folder go too: see
/// [`package`].)
///
/// Cargo verifies a workspace's packages through a temporary local registry and unpacks each
/// `.crate` into `registry/src/-<hash of that registry's path>/<name>-<version>` under the
/// cargo home. It skips the unpacking when that folder is already complete, so while the
/// version stays the same (every commit between two releases) verification would build the
/// sources of whichever run came first from the same checkout path: a stale `laserdata-core`
/// once failed CI that way. Only the nameless registries' folders (`-<hash>`) are touched;
/// crates.io's (`index.crates.io-<hash>`) never holds our packages' unpublished versions. The
/// hash cannot be told from the checkout's path, so other checkouts' unpackings go as well:
/// cargo unpacks them again when those next package.
pub fn forget_unpacked_packages(cargo_home: &Path, packages: &[Package]) -> Result<usize, String> {
    let sources = cargo_home.join("registry").join("src");
    let Ok(registries) = std::fs::read_dir(&sources) else { return Ok(0) };
    let mut forgotten = 0;
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for package in packages {
            let unpacked = registry.path().join(format!("{}-{}", package.name, package.version));
            if unpacked.is_dir() {
                std::fs::remove_dir_all(&unpacked)
                    .map_err(|error| format!("cannot remove {}: {error}", unpacked.display()))?;
                forgotten += 1;
            }
        }
    }
    Ok(forgotten)
}

/// Cargo's home folder: `$CARGO_HOME`, else `.cargo` in the user's home.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
}

/// The `[profile.dev]` and `[profile.dev.package.<name>]` settings of a root `Cargo.toml`,
/// as `--config` values (`profile.dev.package."*".debug=false`).
pub fn dev_profile_settings(manifest: &str) -> Vec<String> {
    let mut settings = Vec::new();
    let mut table: Option<String> = None;
    for line in manifest.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            table = (name == "profile.dev" || name.starts_with("profile.dev.package.")).then(|| name.to_owned());
        } else if let (Some(table), Some((key, value))) = (&table, line.split_once('='))
            && !line.starts_with('#')
        {
            settings.push(format!("{table}.{}={}", key.trim(), value.trim()));
        }
    }
    settings
}

/// One problem cargo-semver-checks found in a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub krate: String,
    /// The lint's id (`struct_missing`) and its one-line summary.
    pub lint: String,
    pub summary: String,
    /// The items it found, one line each.
    pub items: Vec<String>,
}

/// What cargo-semver-checks found since the baseline.
#[derive(Debug, Clone)]
pub struct SemverReport {
    pub findings: Vec<Finding>,
    /// Crates the baseline does not have: nothing to compare.
    pub new_crates: Vec<String>,
}

/// Runs cargo-semver-checks on every package against its source at `baseline`, printing each
/// crate's report.
///
/// The rustdoc JSON of each side is built here, by one `cargo doc` into one target directory
/// per side under `target/semver/`: `cargo semver-checks --baseline-rev` builds every crate's
/// dependencies anew in a directory of its own, twice per crate, which on two cores costs far
/// more than the check itself. The sides cannot share one: cargo names a workspace member's
/// artifacts by its path inside the workspace, so the baseline's would pass for the current
/// ones. The baseline's sources come from `git archive`, so nothing of this checkout changes.
/// Features are each crate's defaults, unified over the publishable crates. The release type
/// handed to cargo-semver-checks is `minor`, so that it reports exactly the changes that need
/// a breaking version; whether the version says so is [`Review::problems`]' verdict.
pub fn semver_checks(root: &Path, baseline: &str, packages: &[Package]) -> Result<SemverReport, String> {
    let work = root.join("target/semver");
    let old_tree = work.join("baseline-source");
    if old_tree.exists() {
        std::fs::remove_dir_all(&old_tree).map_err(|error| format!("cannot clear {}: {error}", old_tree.display()))?;
    }
    std::fs::create_dir_all(&old_tree).map_err(|error| format!("cannot create {}: {error}", old_tree.display()))?;
    let archive = format!("git archive --format=tar {baseline} | tar -x -C '{}'", old_tree.display());
    crate::tools::run(Command::new("sh").args(["-c", &archive]).current_dir(root), "git archive of the baseline")?;
    if !old_tree.join("Cargo.toml").exists() {
        return Err(format!("git archive of {baseline} gave no Cargo.toml"));
    }
    let (old_packages, new_packages): (Vec<&Package>, Vec<&Package>) =
        packages.iter().partition(|package| old_tree.join(&package.manifest).exists());
    let mut report = SemverReport {
        findings: Vec::new(),
        new_crates: new_packages.iter().map(|package| package.name.clone()).collect(),
    };
    if old_packages.is_empty() {
        return Ok(report);
    }
    let old_docs = rustdoc_json(&old_tree, &work, &old_packages, "baseline")?;
    let new_docs = rustdoc_json(root, &work, &old_packages, "current")?;
    for package in old_packages {
        let file = format!("{}.json", package.name.replace('-', "_"));
        let output = crate::tools::cargo()
            .args(["semver-checks", "check-release", "--release-type", "minor", "--color", "never"])
            .arg("--baseline-rustdoc")
            .arg(old_docs.join(&file))
            .arg("--current-rustdoc")
            .arg(new_docs.join(&file))
            .output()
            .map_err(|error| {
                format!(
                    "cannot run cargo semver-checks ({error}): cargo install --locked cargo-semver-checks --version {SEMVER_CHECKS_VERSION}"
                )
            })?;
        // Fed rustdoc JSON, it knows no package name.
        let text = format!("{}{}", String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout))
            .replace("<unknown>", &package.name);
        print!("{text}");
        let mut findings = parse_findings(&text);
        if !output.status.success() && findings.is_empty() {
            return Err(format!(
                "cargo semver-checks failed on {} ({}) without a finding",
                package.name, output.status
            ));
        }
        for finding in &mut findings {
            finding.krate.clone_from(&package.name);
        }
        report.findings.extend(findings);
    }
    Ok(report)
}

/// Builds the rustdoc JSON of `packages` in the workspace at `workspace`, all in one `cargo doc`
/// (one feature resolution, so the dependencies build once), into `work/target-<side>`;
/// returns the folder of the JSON files. rustdoc's JSON output is unstable, hence
/// RUSTC_BOOTSTRAP, as cargo-semver-checks itself does.
fn rustdoc_json(workspace: &Path, work: &Path, packages: &[&Package], side: &str) -> Result<PathBuf, String> {
    let target_dir = work.join(format!("target-{side}"));
    let started = std::time::Instant::now();
    let mut command = crate::tools::cargo();
    command.args(["doc", "--quiet", "--locked", "--no-deps", "--lib", "--target-dir"]).arg(&target_dir);
    for package in packages {
        command.args(["--package", &package.name]);
    }
    command
        .env("RUSTDOCFLAGS", "-Z unstable-options --output-format json")
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(workspace);
    crate::tools::run(&mut command, &format!("rustdoc JSON ({side})"))?;
    eprintln!("rustdoc JSON of {} crate(s) ({side}) in {:.1}s", packages.len(), started.elapsed().as_secs_f64());
    Ok(target_dir.join("doc"))
}

/// The findings in cargo-semver-checks' report: each `--- failure <lint>: <summary> ---`
/// block, with the items under its `Failed in:`, for the crate of the `Checking` line before it.
pub fn parse_findings(report: &str) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut krate = String::new();
    let mut in_items = false;
    for line in report.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Checking ") {
            krate = rest.split_whitespace().next().unwrap_or_default().to_owned();
            in_items = false;
        } else if let Some(rest) = trimmed.strip_prefix("--- failure ").and_then(|rest| rest.strip_suffix(" ---")) {
            let (lint, summary) = rest.split_once(": ").unwrap_or((rest, ""));
            findings.push(Finding {
                krate: krate.clone(),
                lint: lint.to_owned(),
                summary: summary.to_owned(),
                items: Vec::new(),
            });
            in_items = false;
        } else if trimmed == "Failed in:" {
            in_items = true;
        } else if in_items && !trimmed.is_empty() && line.starts_with(' ') {
            if let Some(finding) = findings.last_mut() {
                finding.items.push(without_file(trimmed));
            }
        } else {
            in_items = false;
        }
    }
    findings
}

/// An item line without its `, previously in file /abs/path:line` tail, which names a
/// temporary checkout.
fn without_file(item: &str) -> String {
    for marker in [", previously in file ", " in file ", " in /"] {
        if let Some(index) = item.find(marker) {
            return item[..index].trim_end_matches(',').to_owned();
        }
    }
    item.to_owned()
}

/// The verdict on the published documents' changes: an error naming the version to move to
/// when a breaking change comes without a breaking bump.
pub fn check_spec_bump(changes: &[Change], old: Version, new: Version) -> Result<(), String> {
    let breaking = changes.iter().filter(|change| change.kind == Kind::Breaking).count();
    if breaking == 0 || new.is_breaking_bump_from(old) {
        return Ok(());
    }
    Err(format!(
        "{breaking} breaking change(s) of the published documents, but the version goes from {old} to {new}: \
         raise [workspace.package] version to {} and add its CHANGELOG.md entry",
        old.next_breaking()
    ))
}

/// A draft of the next CHANGELOG.md entry, in Keep a Changelog's sections.
pub fn changelog_draft(
    baseline: &Baseline,
    changes: &[Change],
    findings: &[Finding],
    suggested: Option<Version>,
) -> String {
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    let mut added = Vec::new();
    for change in changes {
        let line = format!("{}: {}", change.location, change.message);
        match change.kind {
            Kind::Breaking if change.message.contains("removed") => removed.push(format!("**Breaking**: {line}")),
            Kind::Breaking => changed.push(format!("**Breaking**: {line}")),
            Kind::Additive => added.push(line),
        }
    }
    for finding in findings {
        let items = if finding.items.is_empty() { String::new() } else { format!(": {}", finding.items.join("; ")) };
        let line = format!("**Breaking** (`{}`, {}): {}{items}", finding.krate, finding.lint, finding.summary);
        if finding.lint.contains("missing") || finding.lint.contains("removed") {
            removed.push(line);
        } else {
            changed.push(line);
        }
    }
    let heading = match suggested {
        Some(version) => format!("## [{version}] - YYYY-MM-DD"),
        None => "## [Unreleased]".to_owned(),
    };
    let mut text = format!(
        "{heading}\n\n<!-- Drafted by `cargo xtask changelog` against {} ({}). Say why, merge the lines of \
         one change, and keep only what users notice. -->\n",
        baseline.revision, baseline.why
    );
    for (title, lines) in [("Added", added), ("Changed", changed), ("Removed", removed)] {
        if lines.is_empty() {
            continue;
        }
        text.push_str(&format!("\n### {title}\n\n"));
        for line in lines {
            text.push_str(&format!("- {line}\n"));
        }
    }
    text
}

/// Everything that changed since a baseline: the published documents, the version, and the
/// Rust API of every publishable crate.
#[derive(Debug)]
pub struct Review {
    pub changes: Vec<Change>,
    pub old: Version,
    pub new: Version,
    pub semver: SemverReport,
}

impl Review {
    /// Why this change may not be released with its version; empty when it may.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = check_spec_bump(&self.changes, self.old, self.new).err().into_iter().collect();
        if !self.semver.findings.is_empty() && !self.new.is_breaking_bump_from(self.old) {
            problems.push(format!(
                "cargo-semver-checks: {} breaking change(s) of the Rust API, but the version goes from {} to {}: \
                 raise [workspace.package] version to {} and add its CHANGELOG.md entry",
                self.semver.findings.len(),
                self.old,
                self.new,
                self.old.next_breaking()
            ));
        }
        problems
    }

    /// The version the next entry should carry: the next breaking one when something breaks
    /// and the version does not say so yet, the current one when it was raised, else none.
    pub fn suggested_version(&self) -> Option<Version> {
        let breaking =
            !self.semver.findings.is_empty() || self.changes.iter().any(|change| change.kind == Kind::Breaking);
        if breaking && !self.new.is_breaking_bump_from(self.old) {
            Some(self.old.next_breaking())
        } else if self.new != self.old {
            Some(self.new)
        } else {
            None
        }
    }
}

/// Compares the working tree with `baseline`: prints the spec diff (as `cargo xtask diff`
/// does), the two versions, and cargo-semver-checks' report.
pub fn review(root: &Path, baseline: &Baseline) -> Result<Review, String> {
    let old = Revision::Git(baseline.revision.clone());
    let changes = diff::diff_revisions(root, &old, &Revision::WorkingTree)?;
    print!("{}", diff::report(&old, &Revision::WorkingTree, &changes));
    let version_at = |revision: &Revision| -> Result<Version, String> {
        let manifest = diff::read_at(root, revision, "Cargo.toml")?.unwrap_or_default();
        workspace_version(&manifest)
            .ok_or_else(|| format!("Cargo.toml at {revision} has no [workspace.package] version"))
    };
    let (old_version, new_version) = (version_at(&old)?, version_at(&Revision::WorkingTree)?);
    println!("\nversion: {old_version} at {} -> {new_version} now\n", baseline.revision);
    let packages = publishable_crates(root)?;
    let started = std::time::Instant::now();
    let semver = semver_checks(root, &baseline.revision, &packages)?;
    println!(
        "cargo-semver-checks: {} publishable crate(s) in {:.1}s",
        packages.len() - semver.new_crates.len(),
        started.elapsed().as_secs_f64()
    );
    if !semver.new_crates.is_empty() {
        println!("not in {} (nothing to compare): {}", baseline.revision, semver.new_crates.join(", "));
    }
    Ok(Review { changes, old: old_version, new: new_version, semver })
}

/// Runs git; its trimmed output when it succeeds, `None` when it fails.
fn git(root: &Path, args: &[&str]) -> Result<Option<String>, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    Ok(output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
}
