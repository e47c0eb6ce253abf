//! A station on a floor: its name, and whose turn it is to send a destination's outbox rows.
//!
//! Several stations may share one store (PostgreSQL). Each runs the senders (NGOC's, each
//! subscriber's), but one station at a time sends a destination: the one holding its lease
//! (`cardbench_store::leases`). The holder renews it while it runs; a station that dies stops
//! renewing, and once the lease runs out the next station to look takes it and sends what is left
//! with the same messageIds (NGOC's duplicate detection drops a copy of one whose outcome the
//! dead station never recorded). A SQLite store is one machine's: there every process may send,
//! as before (NGOC's duplicate detection drops a copy), and no lease is written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cardbench_store::leases;

use crate::Workflow;
use crate::error::Result;

/// How long a sending lease lasts without renewal: how long a dead station's rows wait.
pub const SENDING_LEASE: Duration = Duration::from_secs(15);

/// When this process last took or renewed each destination's lease.
#[derive(Clone, Default)]
pub(crate) struct Leases(Arc<Mutex<HashMap<String, Instant>>>);

impl Workflow {
    /// This workflow's station name (`[store] station`, default the host name).
    /// The station is also the store's: the audit rows this workflow's changes write name it.
    pub fn with_station(mut self, station: impl Into<String>) -> Self {
        self.station = Arc::from(station.into());
        self.store().set_station(&self.station);
        self
    }

    pub fn station(&self) -> &str {
        &self.station
    }

    /// This workflow with a shorter or longer sending lease (tests, a slow network).
    pub fn with_sending_lease(mut self, lease: Duration) -> Self {
        self.sending_lease = lease;
        self
    }

    /// Whether this station sends `destination`'s rows now: takes the lease when it is free or
    /// ran out, renews it when a third of it has passed, and says no while another station
    /// holds it.
    ///
    /// On a SQLite store (one machine) it is always this station's turn, without a write: the
    /// processes of one machine (the app, `cardbench run`) are one station, and a lease write
    /// would wait out another process's write lock, holding up this process's writer meanwhile.
    pub fn sending_turn(&self, destination: &str) -> Result<bool> {
        if self.store().engine() == cardbench_store::db::Engine::Sqlite {
            return Ok(true);
        }
        let renew_after = self.sending_lease / 3;
        let fresh = {
            let held = self.leases.0.lock().unwrap_or_else(|p| p.into_inner());
            held.get(destination).is_some_and(|at| at.elapsed() < renew_after)
        };
        if fresh {
            return Ok(true);
        }
        let now = chrono::Utc::now();
        let until = now + chrono::Duration::from_std(self.sending_lease).unwrap_or(chrono::Duration::seconds(15));
        let (now, until) = (cardbench_store::time::format(now), cardbench_store::time::format(until));
        let station = self.station.clone();
        let ours = self.store().write_unannounced(|tx| leases::acquire(tx, destination, &station, &now, &until))?;
        let mut held = self.leases.0.lock().unwrap_or_else(|p| p.into_inner());
        if ours {
            held.insert(destination.to_owned(), Instant::now());
        } else {
            held.remove(destination);
        }
        Ok(ours)
    }

    /// Gives up this station's sending leases (a clean stop), so another station takes over
    /// without waiting for them to run out.
    pub fn release_sending(&self) -> Result<()> {
        let destinations: Vec<String> = {
            let mut held = self.leases.0.lock().unwrap_or_else(|p| p.into_inner());
            held.drain().map(|(d, _)| d).collect()
        };
        // None held (a SQLite store never takes one): nothing to write.
        if destinations.is_empty() {
            return Ok(());
        }
        let station = self.station.clone();
        self.store().write_unannounced(|tx| {
            for destination in &destinations {
                leases::release(tx, destination, &station)?;
            }
            Ok::<_, crate::WorkflowError>(())
        })
    }
}
