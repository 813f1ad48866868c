//! The pinned tools of the quality gates, installed under `tools/` from the project's own
//! files: `tools/package.json` + `tools/package-lock.json` (npm: redocly, spectral,
//! openapi-typescript, TypeScript) into `tools/node_modules`, and `tools/requirements.txt`
//! (PyPI: openapi-spec-validator, openapi-python-client, openapi-generator-cli) into the venv
//! `tools/.venv`.
//!
//! Each installation remembers the lockfile it was made from and is redone when that file
//! changes, so a pin bumped in git is picked up by the next `cargo xtask lint`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the tools live, relative to the project root.
pub const TOOLS_DIR: &str = "tools";

/// The installed tools of one checkout.
#[derive(Debug, Clone)]
pub struct Tools {
    dir: PathBuf,
}

impl Tools {
    /// The tools under `root`, without installing anything.
    pub fn at(root: &Path) -> Tools {
        Tools { dir: root.join(TOOLS_DIR) }
    }

    /// Installs whatever is missing or out of date, then returns the tools.
    pub fn ensure(root: &Path) -> Result<Tools, String> {
        let tools = Tools::at(root);
        tools.ensure_node()?;
        tools.ensure_python()?;
        Ok(tools)
    }

    /// An npm package's command (`tools/node_modules/.bin/NAME`), with telemetry, update
    /// checks and install-time analytics turned off: nothing but the registries is reachable.
    pub fn node(&self, name: &str) -> Command {
        let mut command = Command::new(self.dir.join("node_modules/.bin").join(name));
        for (key, value) in QUIET_NODE {
            command.env(key, value);
        }
        command
    }

    /// Node running one of the tools folder's scripts, quiet as [`Tools::node`].
    pub fn node_script(&self, script: &str) -> Command {
        let mut command = Command::new("node");
        command.arg(self.file(script));
        for (key, value) in QUIET_NODE {
            command.env(key, value);
        }
        command
    }

    /// The venv's Python interpreter.
    pub fn python(&self) -> Command {
        let mut command = Command::new(self.dir.join(".venv/bin/python"));
        command.env("PYTHONDONTWRITEBYTECODE", "1");
        command
    }

    /// A command the venv installed (`tools/.venv/bin/NAME`).
    pub fn venv_command(&self, name: &str) -> Command {
        Command::new(self.dir.join(".venv/bin").join(name))
    }

    /// A file of the tools folder (a script or a configuration).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn ensure_node(&self) -> Result<(), String> {
        let lock = self.dir.join("package-lock.json");
        let stamp = self.dir.join("node_modules/.laserdata-installed-from");
        if is_current(&lock, &stamp) {
            return Ok(());
        }
        eprintln!("installing the npm tools from {} (npm ci)", lock.display());
        let mut command = Command::new("npm");
        command.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&self.dir);
        for (key, value) in QUIET_NODE {
            command.env(key, value);
        }
        run(&mut command, "npm ci")?;
        copy_stamp(&lock, &stamp)
    }

    fn ensure_python(&self) -> Result<(), String> {
        let requirements = self.dir.join("requirements.txt");
        let venv = self.dir.join(".venv");
        let stamp = venv.join(".laserdata-installed-from");
        if is_current(&requirements, &stamp) {
            return Ok(());
        }
        eprintln!("installing the Python tools from {} (venv + pip)", requirements.display());
        if venv.exists() {
            fs::remove_dir_all(&venv).map_err(|error| format!("cannot remove {}: {error}", venv.display()))?;
        }
        let python = std::env::var("LASERDATA_PYTHON").unwrap_or_else(|_| "python3".into());
        run(Command::new(&python).args(["-m", "venv"]).arg(&venv), "python3 -m venv")?;
        run(
            Command::new(venv.join("bin/python"))
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "-r"])
                .arg(&requirements),
            "pip install -r tools/requirements.txt",
        )?;
        copy_stamp(&requirements, &stamp)
    }
}

/// Environment that keeps the npm tools from phoning home or nagging.
const QUIET_NODE: [(&str, &str); 6] = [
    ("NO_UPDATE_NOTIFIER", "1"),
    ("REDOCLY_TELEMETRY", "off"),
    ("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true"),
    ("SCARF_ANALYTICS", "false"),
    ("DO_NOT_TRACK", "1"),
    ("NODE_NO_WARNINGS", "1"),
];

/// Whether the installation stamp holds the same text as the lockfile.
fn is_current(lock: &Path, stamp: &Path) -> bool {
    match (fs::read(lock), fs::read(stamp)) {
        (Ok(lock), Ok(stamp)) => lock == stamp,
        _ => false,
    }
}

fn copy_stamp(lock: &Path, stamp: &Path) -> Result<(), String> {
    fs::copy(lock, stamp).map(drop).map_err(|error| format!("cannot write {}: {error}", stamp.display()))
}

/// A command running the cargo that runs the xtask (`$CARGO`, which cargo sets for it), else
/// the `cargo` on the path.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Cargo's target folder for the project in `root`: `$CARGO_TARGET_DIR` (relative to `root`,
/// where the xtask runs cargo), else `target`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// Runs a command to completion, its output going to ours.
pub fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|error| format!("cannot start {what}: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}
