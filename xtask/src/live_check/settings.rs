//! What `cargo xtask live-check` is told (command line and environment), and the run that
//! writes its report.

use std::path::{Path, PathBuf};

use super::report::{JSON_FILE, MARKDOWN_FILE, Report};
use super::{Documents, Options, Transport};
use crate::layers::LAYERS;

pub const USAGE: &str = "\
usage: cargo xtask live-check [--out DIR] [--tenant ID] [--deployment ID] [--supervisor-url URL]
                              [--allow-writes OP[,OP...]] [--spec-dir DIR]
       cargo xtask live-check --apply [REPORT]

environment: LD_API_KEY (required), LD_API_URL (default https://api.laserdata.cloud),
             LD_AUDIT_URL (default https://audit.laserdata.cloud), and LD_TENANT_ID,
             LD_DEPLOYMENT_ID, LD_SUPERVISOR_URL in place of the options
";

/// Where the requests go and what they are checked against.
pub struct Settings {
    /// Only to keep it out of what is written: the HTTP side reads the key itself.
    pub key: String,
    pub options: Options,
    pub out: PathBuf,
    pub spec_dir: PathBuf,
}

impl Settings {
    /// From the command line (after `live-check`) and the environment (`env` looks a variable
    /// up); relative paths are relative to `here`.
    pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>, here: &Path) -> Result<Settings, String> {
        let key = env("LD_API_KEY").filter(|key| !key.is_empty()).ok_or("LD_API_KEY is not set")?;
        let mut options = Options {
            main_url: env("LD_API_URL").unwrap_or_else(|| "https://api.laserdata.cloud".into()),
            audit_url: env("LD_AUDIT_URL").unwrap_or_else(|| "https://audit.laserdata.cloud".into()),
            tenant_id: env("LD_TENANT_ID"),
            deployment_id: env("LD_DEPLOYMENT_ID"),
            supervisor_url: env("LD_SUPERVISOR_URL"),
            allow_writes: Vec::new(),
        };
        let root = crate::project_root();
        let mut out = root.join("target/live-check");
        let mut spec_dir = root.join("openapi/dist");
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--out" => out = here.join(value()?),
                "--tenant" => options.tenant_id = Some(value()?),
                "--deployment" => options.deployment_id = Some(value()?),
                "--supervisor-url" => options.supervisor_url = Some(value()?),
                "--allow-writes" => options.allow_writes.extend(value()?.split(',').map(|id| id.trim().to_owned())),
                "--spec-dir" => spec_dir = here.join(value()?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Settings { key, options, out, spec_dir })
    }
}

/// Our published OpenAPI 3.1 documents, from `dir` (`openapi/dist` unless told otherwise).
pub fn load_documents(dir: &Path) -> Result<Documents, String> {
    let mut documents = Documents::new();
    for layer in LAYERS {
        let name = Path::new(layer.bundle_31).file_name().expect("a file name");
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let doc = serde_json::from_str(&text).map_err(|error| format!("{} is not JSON: {error}", path.display()))?;
        documents.insert(layer.name.to_owned(), doc);
    }
    Ok(documents)
}

/// Runs the check and writes `live-check.json` and `live-check.md` into `settings.out`.
pub fn check_and_write(settings: &Settings, transport: &mut dyn Transport) -> Result<Report, String> {
    let documents = load_documents(&settings.spec_dir)?;
    let mut report = super::run(&settings.options, &documents, transport)?;
    report.add_secret(&settings.key);
    std::fs::create_dir_all(&settings.out)
        .map_err(|error| format!("cannot create {}: {error}", settings.out.display()))?;
    for (name, text) in [(JSON_FILE, report.to_json()), (MARKDOWN_FILE, report.to_markdown())] {
        let path = settings.out.join(name);
        std::fs::write(&path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(report)
}
