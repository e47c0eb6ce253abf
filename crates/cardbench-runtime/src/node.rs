//! A whole Cardbench node as configured: store, workflow, transport, daemon and — on the embedded
//! transport — the NGOC simulator on the other end. The CLI's `run` and the desktop app both start
//! exactly this, so they behave the same.

use std::path::PathBuf;
use std::sync::Arc;

use cardbench_sim::Simulator;
use cardbench_store::Store;
use cardbench_transport::Connector;
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::Workflow;
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigError, TransportKind};
use crate::hotfolder::{HotFolderService, HotFolderStatus};
use crate::{Runtime, RuntimeConfig};

#[derive(Debug, Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] cardbench_store::StoreError),
    #[error("cannot open the embedded queues: {0}")]
    Queues(#[from] cardbench_transport::TransportError),
    #[error("cannot start the simulator: {0}")]
    Simulator(String),
    #[error("Service Bus settings: {0}")]
    ServiceBus(String),
}

/// The connector the configuration asks for, and whether it is the embedded one (which has the
/// simulator on its other end).
pub fn connector(config: &Config, data_dir: &std::path::Path) -> Result<(Arc<dyn Connector>, bool), NodeError> {
    match config.transport {
        TransportKind::Embedded => {
            let mut options = cardbench_transport::embedded::EmbeddedOptions::default();
            if let Some(seconds) = config.embedded_duplicate_window_seconds {
                options.duplicate_window = std::time::Duration::from_secs(seconds);
            }
            let path = data_dir.join(cardbench_transport::embedded::FILE_NAME);
            Ok((Arc::new(EmbeddedQueues::open_file(&path, options)?), true))
        }
        TransportKind::ServiceBus => {
            let amqp = config.amqp()?.ok_or_else(|| NodeError::ServiceBus("no [servicebus] settings".into()))?;
            Ok((Arc::new(cardbench_amqp::AmqpConnector::new(amqp)), false))
        }
    }
}

pub struct Node {
    pub workflow: Workflow,
    pub runtime: Runtime,
    pub data_dir: PathBuf,
    /// Present when the embedded simulator runs in this process.
    simulator: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    /// Present when `[devices.hotfolder] folder` is set.
    hotfolder: Option<HotFolderService>,
    /// The daily retention purge.
    retention: crate::retention::RetentionTask,
    /// The webhook and event-forwarding senders, one per subscriber.
    hooks: Option<cardbench_hooks::delivery::Hooks>,
    /// The card API, when `[api] enabled`: serving, or why not.
    api: Option<Result<cardbench_api::ApiServer, String>>,
}

/// The card API as the node runs it (`[api] enabled`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiStatus {
    /// Where it listens, when it does.
    pub listening: Option<std::net::SocketAddr>,
    /// Why it does not (no token yet, address taken…).
    pub problem: Option<String>,
}

/// The name hot-folder changes are audited under when no operator is configured: the files come
/// from the personalization machine, not from a person at this workstation.
pub const HOTFOLDER_OPERATOR: &str = "encoder hot folder";

/// Options the caller sets beyond the config file.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// Never run the in-process simulator.
    pub no_simulator: bool,
}

/// `workflow` with the rules `config` sets: how received bodies are read, the report fields,
/// the parcel details required. Keeps its store and its outbox wake.
pub fn configure(workflow: Workflow, config: &Config) -> Result<Workflow, NodeError> {
    let workflow = workflow
        .with_decode_options(config.decode_options()?)
        .with_report_settings(config.report_settings()?)
        .with_ship_rules(config.workstation.ship_rules())
        .with_station(config.station());
    Ok(match config.store.sending_lease_secs {
        Some(secs) => workflow.with_sending_lease(std::time::Duration::from_secs(secs)),
        None => workflow,
    })
}

impl NodeError {
    /// The failure of the store as a whole behind this error (e.g. a floor's database that does
    /// not answer), if that is what it is.
    pub fn store_failure(&self) -> Option<cardbench_store::StoreFailure> {
        match self {
            NodeError::Store(e) => e.failure(),
            _ => None,
        }
    }
}

/// The store `config` names: the floor's shared PostgreSQL store when `[store] url` is set, else
/// the SQLite file in the data directory.
pub fn open_store(config: &Config) -> Result<Store, NodeError> {
    match config.store_url()? {
        Some(url) => Ok(Store::open_url_when_reachable(&url)?),
        None => Ok(Store::open_in(&config.data_dir()?)?),
    }
}

/// The store `config` names and the workflow over it, configured: for a process that has none
/// yet. A process opens one store and hands its workflow to everything it runs.
pub fn open_workflow(config: &Config) -> Result<Workflow, NodeError> {
    configure(Workflow::new(Arc::new(open_store(config)?)), config)
}

impl Node {
    /// Starts the node over `workflow` (the process's one store; its rules as `config` sets
    /// them, see [`configure`]). Its writes wake the node's sender, whoever makes them.
    pub async fn start(workflow: Workflow, config: &Config, options: &NodeOptions) -> Result<Node, NodeError> {
        let data_dir = config.data_dir()?;
        let workflow = configure(workflow, config)?;
        let runtime_config = RuntimeConfig {
            inbound_queue: config.queues.inbound.clone(),
            outbound_queue: config.queues.outbound.clone(),
            ..RuntimeConfig::default()
        };
        let (connector, embedded) = connector(config, &data_dir)?;
        let simulator = if embedded && config.simulator && !options.no_simulator {
            let sim = Simulator::open(&data_dir, config.sim_config(), connector.clone())
                .map_err(|e| NodeError::Simulator(e.to_string()))?;
            let (stop, stop_rx) = watch::channel(false);
            let task = tokio::spawn(async move {
                if let Err(e) = sim.run(stop_rx).await {
                    tracing::error!(error = %e, "the simulator stopped");
                }
            });
            Some((stop, task))
        } else {
            None
        };
        let runtime = Runtime::start(workflow.clone(), connector, runtime_config);
        let hotfolder = config.devices.hotfolder.folder.clone().map(|folder| {
            let operator = config.operator.as_deref().filter(|o| !o.trim().is_empty()).unwrap_or(HOTFOLDER_OPERATOR);
            let own = config.own_directories(None);
            HotFolderService::start(workflow.clone(), operator, folder, config.devices.hotfolder.clone(), own, runtime.events())
        });
        let retention = crate::retention::RetentionTask::start(workflow.clone(), config.clone(), data_dir.clone());
        // Without them the rest still runs: the events wait in the outbox, nothing is lost.
        let hooks = match cardbench_hooks::delivery::Hooks::start(workflow.clone(), config.hooks.clone()) {
            Ok(hooks) => Some(hooks),
            Err(e) => {
                tracing::error!(error = %e, "the webhook senders cannot start");
                None
            }
        };
        let api = if config.api.enabled { Some(start_api(workflow.clone(), &config.api).await) } else { None };
        Ok(Node { workflow, runtime, data_dir, simulator, hotfolder, retention, hooks, api })
    }

    /// The card API's state, or `None` when it is not enabled.
    pub fn api_status(&self) -> Option<ApiStatus> {
        self.api.as_ref().map(|api| match api {
            Ok(server) => ApiStatus { listening: Some(server.local_addr()), problem: None },
            Err(problem) => ApiStatus { listening: None, problem: Some(problem.clone()) },
        })
    }

    /// The hot folder's state, or `None` when none is configured.
    pub fn hotfolder_status(&self) -> Option<HotFolderStatus> {
        self.hotfolder.as_ref().map(HotFolderService::status)
    }

    pub fn simulator_running(&self) -> bool {
        self.simulator.is_some()
    }

    pub async fn shutdown(self) {
        if let Some(Ok(api)) = self.api {
            api.stop().await;
        }
        if let Some(hooks) = self.hooks {
            hooks.stop().await;
        }
        self.retention.stop().await;
        if let Some(hot) = self.hotfolder {
            // Joins the watch thread, which may be finishing a file: off the async threads.
            let _ = tokio::task::spawn_blocking(move || hot.stop()).await;
        }
        if let Some((stop, task)) = self.simulator {
            let _ = stop.send(true);
            let _ = task.await;
        }
        self.runtime.shutdown().await;
        // Every sender has stopped: hand the sending leases over now, so another station of the
        // floor sends at once instead of when they run out.
        let workflow = self.workflow;
        match tokio::task::spawn_blocking(move || workflow.release_sending()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot hand the sending leases over; they run out by themselves"),
            Err(e) => tracing::warn!(error = %e, "cannot hand the sending leases over; they run out by themselves"),
        }
    }
}

/// Serves the card API beside the node. A problem (no token yet, the address taken) does not stop
/// the node: it is logged and shown ([`Node::api_status`]).
async fn start_api(workflow: Workflow, config: &cardbench_api::ApiConfig) -> Result<cardbench_api::ApiServer, String> {
    let started = match cardbench_api::token::load() {
        Ok(token) => cardbench_api::ApiServer::start(workflow, config, token).await,
        Err(e) => Err(e),
    };
    started.map_err(|e| {
        tracing::error!(error = %e, "the card API is enabled but not serving");
        e.to_string()
    })
}
