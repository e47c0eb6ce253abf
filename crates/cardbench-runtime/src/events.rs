//! What the daemon tells live screens.

use cardbench_devices::hotfolder::FileReport;
use cardbench_workflow::WorkflowEvent;
use serde::{Deserialize, Serialize};

use crate::link::LinkState;
use crate::store_health::StoreHealth;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuntimeEvent {
    /// Something the workflow did, after its commit.
    Workflow { event: WorkflowEvent },
    Link { state: LinkState },
    /// The store started failing (disk full, locked, I/O; received messages are held) or
    /// recovered.
    Store { health: StoreHealth },
    /// Unsent outbox rows after a send round.
    OutboxDepth { pending: i64 },
    /// Messages received and settled in one batch.
    Ingested { accepted: usize, duplicate: usize, rejected: usize, ignored: usize, released: usize },
    /// The encoder hot folder took a result file (applied, refused, or already taken).
    HotFolderFile { report: FileReport },
    /// The hot folder could not take a file now (it is tried again) or could not be watched.
    HotFolderProblem { message: String },
}
