//! Lets `cargo xtask codegen` skip a run whose result is already on disk, as cargo skips a
//! build script whose inputs have not changed.
//!
//! After a successful run, the fingerprint file (in the target folder, never in git) records a
//! hash of what the run read and of every file it produced. A later run by the same xtask
//! binary whose sources hash the same, and whose produced files still hash as recorded, would
//! render exactly those files again: it is skipped. Anything else (a changed source, a
//! generated file edited or deleted, a rebuilt xtask, other layers) runs in full. A fresh clone
//! has no fingerprint, so CI always runs in full.

use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

use crate::Report;
use crate::layers::Layer;

/// What a codegen run read: its sources, the layers asked for and the xtask binary.
pub struct Fingerprint {
    file: PathBuf,
    inputs: u64,
}

impl Fingerprint {
    /// The fingerprint of a codegen of `layers` in `root`; `None` when a source cannot be read
    /// (the full run then reports it).
    pub fn of(root: &Path, layers: &[Layer]) -> Option<Fingerprint> {
        let mut hasher = DefaultHasher::new();
        for layer in layers {
            hasher.write(layer.name.as_bytes());
            hasher.write_u8(0);
        }
        // A rebuilt xtask may generate differently.
        let binary = std::env::current_exe().and_then(std::fs::metadata).ok()?;
        hasher.write_u64(binary.len());
        let modified = binary.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        hasher.write_u128(modified.as_nanos());
        // Every file the sources may name, the published documents among them: hashing a few
        // files too many costs less than missing one.
        let mut files = Vec::new();
        list_files(&root.join("openapi"), &mut files).ok()?;
        files.sort();
        for file in files {
            hasher.write(file.strip_prefix(root).unwrap_or(&file).to_string_lossy().as_bytes());
            hasher.write_u64(hash_file(&file)?);
        }
        Some(Fingerprint { file: file(root), inputs: hasher.finish() })
    }

    /// The report of the last run, when it had these inputs and every file it produced is
    /// still as it left it.
    pub fn unchanged(&self, root: &Path) -> Option<Report> {
        let recorded = std::fs::read_to_string(&self.file).ok()?;
        let mut lines = recorded.lines();
        if lines.next()? != format!("{:016x}", self.inputs) {
            return None;
        }
        let mut outputs = Vec::new();
        for line in lines {
            let (hash, path) = line.split_once(' ')?;
            if format!("{:016x}", hash_file(&root.join(path))?) != hash {
                return None;
            }
            outputs.push(PathBuf::from(path));
        }
        Some(Report { outputs, changed: Vec::new() })
    }

    /// Records a successful run; a fingerprint that cannot be written only costs the next run
    /// its shortcut.
    pub fn record(root: &Path, layers: &[Layer], report: &Report) {
        // Taken after the run: the published documents it wrote are among the inputs.
        let Some(fingerprint) = Fingerprint::of(root, layers) else { return };
        let mut text = format!("{:016x}\n", fingerprint.inputs);
        for path in &report.outputs {
            let Some(hash) = hash_file(&root.join(path)) else { return };
            text.push_str(&format!("{hash:016x} {}\n", path.display()));
        }
        if let Some(folder) = fingerprint.file.parent()
            && std::fs::create_dir_all(folder).is_ok()
        {
            let _ = std::fs::write(&fingerprint.file, text);
        }
    }

    /// Forgets the last run, so that the next one runs in full.
    pub fn forget(root: &Path) {
        let _ = std::fs::remove_file(file(root));
    }
}

/// Where the fingerprint of the project in `root` is kept: in cargo's target folder, named
/// after the project's path, since a target folder may be shared.
fn file(root: &Path) -> PathBuf {
    let target = crate::tools::target_dir(root);
    let mut hasher = DefaultHasher::new();
    hasher.write(root.as_os_str().as_encoded_bytes());
    target.join("xtask").join(format!("codegen-{:016x}.fingerprint", hasher.finish()))
}

fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), files)?;
        } else {
            files.push(entry.path());
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut hasher = DefaultHasher::new();
    hasher.write(&bytes);
    Some(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::LAYERS;

    fn project(dir: &Path) {
        std::fs::create_dir_all(dir.join("openapi/main")).unwrap();
        std::fs::write(dir.join("openapi/main.yaml"), "openapi: 3.0.3\n").unwrap();
        std::fs::create_dir_all(dir.join("crates")).unwrap();
        std::fs::write(dir.join("crates/generated.rs"), "// generated\n").unwrap();
    }

    fn report() -> Report {
        Report {
            outputs: vec![PathBuf::from("crates/generated.rs")],
            changed: vec![PathBuf::from("crates/generated.rs")],
        }
    }

    #[test]
    fn a_recorded_run_is_unchanged_until_a_source_or_an_output_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        project(root);
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_none(), "nothing recorded yet");
        Fingerprint::record(root, LAYERS, &report());
        let unchanged = Fingerprint::of(root, LAYERS).unwrap().unchanged(root).unwrap();
        assert_eq!(unchanged.outputs, [PathBuf::from("crates/generated.rs")]);
        assert!(unchanged.changed.is_empty());

        // Other layers asked for: a run of its own.
        assert!(Fingerprint::of(root, &LAYERS[..1]).unwrap().unchanged(root).is_none());

        // An output edited by hand.
        std::fs::write(root.join("crates/generated.rs"), "// edited\n").unwrap();
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_none());
        std::fs::write(root.join("crates/generated.rs"), "// generated\n").unwrap();
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_some());

        // A source changed, and a source added.
        std::fs::write(root.join("openapi/main.yaml"), "openapi: 3.0.3 \n").unwrap();
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_none());
        std::fs::write(root.join("openapi/main.yaml"), "openapi: 3.0.3\n").unwrap();
        std::fs::write(root.join("openapi/main/new.yaml"), "{}\n").unwrap();
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_none());
    }

    #[test]
    fn a_deleted_output_or_a_forgotten_run_runs_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        project(root);
        Fingerprint::record(root, LAYERS, &report());
        Fingerprint::forget(root);
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_none());
        Fingerprint::record(root, LAYERS, &report());
        std::fs::remove_file(root.join("crates/generated.rs")).unwrap();
        assert!(Fingerprint::of(root, LAYERS).unwrap().unchanged(root).is_none());
    }
}
