//! Webhook delivery: events delivered per second to a loopback receiver answering 204, against
//! the same-run limit of a bare HTTP client posting the same bodies one after another (goal ≥ 0.5
//! of it). Durability on: the sender is the daemon's (`cardbench_hooks::delivery::drain`): each
//! event signed, posted, and its answer recorded with the row's new state in its own
//! transaction (synchronous = FULL) before the next one goes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use cardbench_hooks::delivery::{self, HooksConfig, Target};
use cardbench_hooks::signature::Encoding;
use cardbench_store::Store;
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::subscribers::{self, NewSubscriber};
use cardbench_workflow::Workflow;
use cardbench_workflow::reporting::{self, EventData, SubscriberKind, Topic};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::common::ms;

const NAME: &str = "bench";

pub(crate) async fn hooks(dir: &std::path::Path, n: u32) -> anyhow::Result<()> {
    crate::say!("\n== webhook delivery: {n} events to a loopback receiver answering 204");
    let (addr, answered) = receiver().await?;
    let url = format!("http://{addr}/hook");
    let data_dir = dir.join("hooks");
    std::fs::create_dir_all(&data_dir)?;
    let store = Arc::new(Store::open_in(&data_dir)?);
    let destination = reporting::destination(SubscriberKind::Webhook, NAME);
    let now = cardbench_store::time::now();
    store.write(|tx| -> anyhow::Result<()> {
        subscribers::insert(
            tx,
            &NewSubscriber { name: NAME, kind: "webhook", url: &url, topics: "[\"CARD_PRODUCED\"]", settings: "{}", created_at: &now },
        )?;
        for i in 0..n {
            let data = EventData {
                card_id: Some(format!("C-{i:08}")),
                shipment_id: Some(format!("S-{:07}", i / 4)),
                organisation_id: Some(format!("ORG-{}", (i / 4) % 7)),
                article_id: Some("ART-STAFF".into()),
                ..EventData::default()
            };
            reporting::emit(tx, Topic::CardProduced, data, &now)?;
        }
        Ok(())
    })?;
    let bodies: Vec<String> = store
        .read(|c| outbox::list(c, &OutboxFilter { destination: Some(destination.clone()), limit: Some(n), ..Default::default() }))?
        .into_iter()
        .map(|r| r.body)
        .collect();
    let config = HooksConfig::default();

    // The limit: the same client posting the same bodies, nothing signed or recorded.
    let client = delivery::client(&config)?;
    let start = Instant::now();
    for body in &bodies {
        let status = client.post(&url).header("Content-Type", "application/json").body(body.clone()).send().await?.status();
        anyhow::ensure!(status.as_u16() == 204, "the receiver answered {status}");
    }
    let bare = start.elapsed();

    let workflow = Workflow::new(store.clone());
    let secret = cardbench_secrets::generate(32);
    let target = Target::Webhook { url: url.clone(), secret, encoding: Encoding::Hex };
    let start = Instant::now();
    let attempted = delivery::drain(&workflow, &config, NAME, &destination, &target).await?;
    let durable = start.elapsed();
    let pending = store.read(|c| cardbench_store::deliveries::pending_for_destination(c, &destination))?;
    anyhow::ensure!(attempted == bodies.len() && pending == 0, "{attempted} attempted, {pending} not delivered");
    anyhow::ensure!(answered.load(Ordering::Relaxed) == 2 * bodies.len(), "the receiver did not get every request");

    let rate = |d: std::time::Duration| bodies.len() as f64 / d.as_secs_f64().max(1e-9);
    crate::say!("   bare client: {} posts in {:.0} ms ({:.0}/s)", bodies.len(), ms(bare), rate(bare));
    crate::say!(
        "   delivered:   {} events in {:.0} ms ({:.0}/s; ratio {:.2}, goal ≥ 0.5), each signed and recorded durably",
        attempted,
        ms(durable),
        rate(durable),
        rate(durable) / rate(bare)
    );
    Ok(())
}

/// A minimal HTTP/1.1 receiver on 127.0.0.1 answering every request 204 (keep-alive), counting
/// them: fast enough not to be what is measured.
async fn receiver() -> anyhow::Result<(std::net::SocketAddr, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut buf: Vec<u8> = Vec::with_capacity(8192);
                let mut chunk = [0u8; 8192];
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let (head_end, length) = loop {
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    };
                    while buf.len() < head_end + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    buf.drain(..head_end + length);
                    counted.fetch_add(1, Ordering::Relaxed);
                    if socket.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((addr, count))
}
