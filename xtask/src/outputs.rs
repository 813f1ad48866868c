//! Writing generated files: only when changed, atomically, or just comparing in check mode.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A file the codegen produces, with its complete contents.
#[derive(Debug, Clone)]
pub struct Output {
    /// Relative to the project root.
    pub path: PathBuf,
    pub contents: String,
}

/// The outputs whose file on disk differs from what would be written (line endings aside, so
/// a checkout with CRLF endings is not reported as stale).
pub fn stale(root: &Path, outputs: &[Output]) -> Vec<PathBuf> {
    outputs
        .iter()
        .filter(|output| {
            fs::read_to_string(root.join(&output.path))
                .map(|current| current.replace("\r\n", "\n") != output.contents)
                .unwrap_or(true)
        })
        .map(|output| output.path.clone())
        .collect()
}

/// Writes the stale outputs and returns their paths. Each file is written to a temporary
/// file beside it and renamed into place, so an interrupted run never leaves half a file.
pub fn write(root: &Path, outputs: &[Output]) -> io::Result<Vec<PathBuf>> {
    let changed = stale(root, outputs);
    for output in outputs.iter().filter(|output| changed.contains(&output.path)) {
        let target = root.join(&output.path);
        let directory = target.parent().expect("outputs live in a directory");
        fs::create_dir_all(directory)?;
        let temporary = directory.join(format!(
            ".{}.{}.tmp",
            target.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        fs::write(&temporary, &output.contents)?;
        if let Err(error) = fs::rename(&temporary, &target) {
            let _ = fs::remove_file(&temporary);
            return Err(error);
        }
    }
    Ok(changed)
}
