//! `cardbench bench --only outage`: ingest while the store fails for about 5 s (another
//! connection holds its write lock for 15 s, as a second process or a backup tool might; the
//! busy timeout waits out the start) and recovers. Reports how
//! long the backlog takes to drain after the store recovers, against a run without the outage
//! measured just before, and how many messages were released or dead-lettered (goal: 0).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardbench_runtime::{Runtime, RuntimeConfig, RuntimeEvent};
use cardbench_store::Store;
use cardbench_store::inbox::{self, InboxFilter};
use cardbench_transport::embedded::EmbeddedQueues;
use cardbench_workflow::Workflow;

use super::common::{ensure_all_accepted, load_queue, ms, request_bodies, wait_settled};

/// How long the write lock is held. The store's busy timeout (10 s) waits out the start of it, so
/// the store fails for the last 5 s; the figure printed is the time it was shown failing.
const OUTAGE: Duration = Duration::from_secs(15);

pub(super) async fn outage(dir: &Path, n: u32) -> anyhow::Result<()> {
    crate::say!("\n== store outage: {n} requests; the store's write lock is held elsewhere for the first {} s of ingest", OUTAGE.as_secs());
    let bodies = request_bodies(n);
    let plain = run(&dir.join("outage-none"), &bodies, None).await?;
    let failing = run(&dir.join("outage-locked"), &bodies, Some(OUTAGE)).await?;
    let backlog = bodies.len() as u64 - failing.settled_at_recovery;
    let plain_rate = bodies.len() as f64 / plain.total.as_secs_f64();
    let drain_rate = backlog as f64 / failing.drain.as_secs_f64();
    crate::say!("   no outage:   {n} settled in {:.0} ms ({plain_rate:.0} msg/s)", ms(plain.total));
    crate::say!(
        "   outage:      backlog {} at recovery, drained {:.0} ms after it ({drain_rate:.0} msg/s; ratio to no outage {:.2})",
        backlog,
        ms(failing.drain),
        drain_rate / plain_rate
    );
    crate::say!("                store shown failing for {:.1} s, then healthy again", failing.shown_failing.as_secs_f64());
    crate::say!("   released or redelivered (each would count toward dead-lettering): {} (goal 0)", failing.released + failing.redelivered);
    anyhow::ensure!(!failing.shown_failing.is_zero(), "the store's failure was never shown");
    anyhow::ensure!(failing.released + failing.redelivered == 0, "messages were released while the store failed");
    Ok(())
}

struct Run {
    total: Duration,
    drain: Duration,
    settled_at_recovery: u64,
    /// From the first 'failing' to the 'recovered' the daemon published.
    shown_failing: Duration,
    released: usize,
    redelivered: usize,
}

async fn run(dir: &Path, bodies: &[Vec<u8>], outage: Option<Duration>) -> anyhow::Result<Run> {
    std::fs::create_dir_all(dir)?;
    let queues = Arc::new(EmbeddedQueues::open(dir)?);
    let config = RuntimeConfig { receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
    load_queue(&queues, &config.inbound_queue, bodies).await?;
    let store = Arc::new(Store::open_in(dir)?);
    // The lock is taken before the daemon starts: taken while it commits back to back, SQLite's
    // busy handler would let the daemon win every time and the outage would start at random.
    let lock = outage.map(|outage| {
        let database = store.path().to_owned();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            cardbench_store::health::hold_write_lock(&database, outage, || {
                let _ = locked_tx.send(());
            })
        });
        (holder, locked_rx)
    });
    if let Some((_, locked)) = &lock {
        locked.recv()?;
    }
    let start = Instant::now();
    let runtime = Runtime::start(Workflow::new(store.clone()), queues.clone(), config);
    let mut events = runtime.subscribe();
    let watcher = tokio::spawn(async move {
        let (mut released, mut failing_since, mut shown_failing) = (0, None, Duration::ZERO);
        while let Ok(event) = events.recv().await {
            match event {
                RuntimeEvent::Ingested { released: r, .. } => released += r,
                RuntimeEvent::Store { health } => match (health.failing, failing_since) {
                    (Some(_), None) => failing_since = Some(Instant::now()),
                    (None, Some(since)) => {
                        shown_failing += since.elapsed();
                        failing_since = None;
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        (released, shown_failing)
    });
    let (mut recovered_at, mut settled_at_recovery) = (start, 0);
    if let Some((holder, _)) = lock {
        tokio::task::spawn_blocking(move || holder.join()).await?.map_err(|_| anyhow::anyhow!("the lock holder panicked"))??;
        recovered_at = Instant::now();
        settled_at_recovery = *runtime.settled().borrow();
    }
    let settled = wait_settled(&runtime, bodies.len(), start).await;
    let (total, drain) = (start.elapsed(), recovered_at.elapsed());
    runtime.shutdown().await;
    settled?;
    let (released, shown_failing) = watcher.await?;
    ensure_all_accepted(&store)?;
    let rows = store.read(|c| inbox::list(c, &InboxFilter { limit: Some(u32::MAX), ..Default::default() }))?;
    let redelivered = rows.iter().filter(|r| r.delivery_count > 0).count();
    Ok(Run { total, drain, settled_at_recovery, shown_failing, released, redelivered })
}
