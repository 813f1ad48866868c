//! A hand-written decoder of a page of deployments: the same fields as the generated
//! `PagedDeploymentInfo`, as a person would write them without a generator. String enums are
//! plain `String`s (which, like the generated `Open<T>`, keep values added later), timestamps
//! are chrono's, as in the generated types; there are no newtypes and no enums.

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Page {
    pub items: Vec<Deployment>,
    pub page: u64,
    pub total_pages: i64,
    pub total_results: i64,
}

#[derive(Debug, Deserialize)]
pub struct Deployment {
    pub area: String,
    pub availability_mode: String,
    pub can_upgrade: bool,
    pub cloud: String,
    pub cluster: String,
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub dedicated: bool,
    pub domain: String,
    pub encrypted: bool,
    pub id: i64,
    pub name: String,
    pub nodes_count: i32,
    pub protected: bool,
    pub rate_limit: Option<String>,
    pub region: Option<String>,
    pub retention: Retention,
    pub runtimes: Vec<String>,
    pub shared: bool,
    pub storage_size: i32,
    pub storage_type: String,
    pub supervisor_url: Option<String>,
    pub target_network_tput: Option<i32>,
    pub tier: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub upgraded_at: Option<DateTime<Utc>>,
    pub variant: String,
}

#[derive(Debug, Deserialize)]
pub struct Retention {
    pub data_storage_gb: Option<i64>,
    pub telemetry: Telemetry,
}

#[derive(Debug, Deserialize)]
pub struct Telemetry {
    pub heartbeats_days: i32,
    pub logs_days: i32,
    pub metrics_days: i32,
}
