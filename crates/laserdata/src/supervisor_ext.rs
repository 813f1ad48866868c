//! Supervisor work that takes more than one call: waiting for a runtime action to finish, and
//! downloading a diagnostic snapshot.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use laserdata_supervisor::types::{
    ActivityAction, ActivityInfo, ActivityRuntime, ActivityStatus, CreateActivity, DeploymentId, SnapshotId,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::{Error, PagedStream};

/// How [`wait_for_activity`] polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityWait {
    /// The first pause between polls; it doubles after each poll. Default 1 s.
    pub first_interval: Duration,
    /// The longest pause between polls. Default 10 s.
    pub max_interval: Duration,
    /// How long to wait in all before giving up. Default 10 min.
    pub timeout: Duration,
    /// How far the server's clock may be behind ours: entries created up to this long before
    /// the action was sent still count as its own. Default 60 s.
    pub clock_skew: Duration,
}

impl Default for ActivityWait {
    fn default() -> Self {
        ActivityWait {
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(600),
            clock_skew: Duration::from_secs(60),
        }
    }
}

/// The activity one `create_activity` call started: which runtime, which action, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedActivity {
    /// The deployment whose nodes run the action.
    pub deployment_id: DeploymentId,
    /// The runtime the action was sent to (`iggy`, `connectors`).
    pub runtime: ActivityRuntime,
    /// The action (`start`, `stop`, `restart`, `reconfigure:<config_id>`).
    pub action: ActivityAction,
    /// When the action was sent, by the client's clock.
    pub sent_at: DateTime<Utc>,
}

/// How a runtime action ended: carried out by every node, or refused by at least one.
/// Either way the Supervisor answered; whether a rejection is a failure is the caller's call.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "an activity may have been rejected"]
pub enum ActivityOutcome {
    /// Every node completed the action; its entries, one per node.
    Completed(Vec<ActivityInfo>),
    /// At least one node rejected the action; every entry of the activity, completed or not.
    Rejected(Vec<ActivityInfo>),
}

impl ActivityOutcome {
    /// Whether every node completed the action.
    pub fn is_completed(&self) -> bool {
        matches!(self, ActivityOutcome::Completed(_))
    }

    /// The activity's entries, one per node.
    pub fn entries(&self) -> &[ActivityInfo] {
        match self {
            ActivityOutcome::Completed(entries) | ActivityOutcome::Rejected(entries) => entries,
        }
    }
}

/// Sends a runtime action (`start`, `stop`, `restart`, `reconfigure:<config_id>`) to the nodes
/// of one runtime (`iggy`, `connectors`) and waits until every node has carried it out or one
/// has rejected it (see [`ActivityOutcome`]).
///
/// `runtime` and `action` are the typed values or text (`"iggy"`, `"restart"`); text that is no
/// valid value fails with [`Error::InvalidRequest`] before anything is sent. Fails with
/// [`Error::WaitTimedOut`] when neither happened within `wait.timeout`.
pub async fn run_activity<R, A>(
    supervisor: &laserdata_supervisor::Client,
    deployment_id: impl Into<DeploymentId>,
    runtime: R,
    action: A,
    body: CreateActivity,
    wait: &ActivityWait,
) -> Result<ActivityOutcome, Error>
where
    R: TryInto<ActivityRuntime>,
    R::Error: std::fmt::Display,
    A: TryInto<ActivityAction>,
    A::Error: std::fmt::Display,
{
    let invalid = |what: &str, error: &dyn std::fmt::Display| Error::InvalidRequest(format!("{what}: {error}"));
    let runtime = runtime.try_into().map_err(|error| invalid("runtime", &error))?;
    let action = action.try_into().map_err(|error| invalid("action", &error))?;
    let started = StartedActivity { deployment_id: deployment_id.into(), runtime, action, sent_at: Utc::now() };
    supervisor
        .create_activity()
        .deployment_id(started.deployment_id)
        .runtime(started.runtime.clone())
        .action(started.action.clone())
        .body(body)
        .send()
        .await?;
    wait_for_activity(supervisor, &started, wait).await
}

/// Polls the deployment's activity log until the entries of `activity` are all `completed`
/// ([`ActivityOutcome::Completed`]), one is `rejected` ([`ActivityOutcome::Rejected`]) or
/// `wait.timeout` passes ([`Error::WaitTimedOut`]). Polls back off from `first_interval` to `max_interval`: never a
/// busy loop. Entries count as the activity's when they have its runtime and action and were
/// created after it was sent (less the allowed clock skew); an entry without a creation time
/// counts too. An entry with a status this client does not know yet counts as still running.
/// The pauses and the timeout follow the client's [`clock`](crate::ClientBuilder::clock).
pub async fn wait_for_activity(
    supervisor: &laserdata_supervisor::Client,
    activity: &StartedActivity,
    wait: &ActivityWait,
) -> Result<ActivityOutcome, Error> {
    let clock = &progenitor_client::ClientInfo::inner(supervisor).clock;
    let started = clock.now();
    let mut interval = wait.first_interval;
    let since = activity.sent_at - chrono::Duration::from_std(wait.clock_skew).unwrap_or_default();
    loop {
        let entries: Vec<ActivityInfo> = supervisor
            .get_activities()
            .deployment_id(activity.deployment_id)
            .stream()
            .try_filter(|entry| std::future::ready(is_part_of(entry, activity, since)))
            .try_collect()
            .await?;
        if entries.iter().any(|entry| entry.status == ActivityStatus::Rejected) {
            return Ok(ActivityOutcome::Rejected(entries));
        }
        if !entries.is_empty() && entries.iter().all(|entry| entry.status == ActivityStatus::Completed) {
            return Ok(ActivityOutcome::Completed(entries));
        }
        let waited = clock.now() - started;
        if waited + interval > wait.timeout {
            let what = format!(
                "activity `{}` on `{}` of deployment {} ({} entries seen, none rejected, not all completed)",
                activity.action,
                activity.runtime,
                activity.deployment_id,
                entries.len()
            );
            return Err(Error::WaitTimedOut { waited, what });
        }
        clock.sleep(interval).await;
        interval = (interval * 2).min(wait.max_interval);
    }
}

fn is_part_of(entry: &ActivityInfo, activity: &StartedActivity, since: DateTime<Utc>) -> bool {
    let same = |field: Option<&str>, wanted: &str| field.is_none_or(|value| value == wanted);
    same(entry.runtime.as_deref().map(String::as_str), &activity.runtime)
        && same(entry.action.as_deref().map(String::as_str), &activity.action)
        && entry.created_at.is_none_or(|created| created >= since)
}

/// Streams diagnostic snapshot `snapshot_id` of a deployment into `destination`, chunk by
/// chunk, without holding the file in memory; returns the number of bytes written.
///
/// The Supervisor answers with a presigned URL on a storage host. That URL is fetched with a
/// separate HTTP client that sends **no** `ld-api-key`: the key never leaves for a third-party
/// host. Like every base URL, the presigned one must be https (or plain http on loopback).
pub async fn download_snapshot<W: AsyncWrite + Unpin>(
    supervisor: &laserdata_supervisor::Client,
    deployment_id: impl Into<DeploymentId>,
    snapshot_id: impl Into<SnapshotId>,
    destination: &mut W,
) -> Result<u64, Error> {
    let link = supervisor
        .get_snapshot_download()
        .deployment_id(deployment_id.into())
        .snapshot_id(snapshot_id.into())
        .send()
        .await?
        .into_inner();
    let url = link.url.expose();
    crate::config::checked_download_url(url).map_err(|error| Error::InvalidRequest(error.to_string()))?;
    crate::config::install_crypto_provider();
    let storage = reqwest::Client::builder().build().map_err(Error::Transport)?;
    let response = storage.get(url).send().await.map_err(Error::Transport)?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        return Err(crate::ApiError::from_parts(status, &headers, body).into());
    }
    let mut body = response.bytes_stream();
    let mut written = 0u64;
    while let Some(chunk) = body.try_next().await.map_err(Error::Transport)? {
        destination.write_all(&chunk).await.map_err(Error::Write)?;
        written += chunk.len() as u64;
    }
    destination.flush().await.map_err(Error::Write)?;
    Ok(written)
}
