//! The flow through a real AMQP 1.0 broker (RabbitMQ on loopback, started by scripts/test.sh):
//! the daemon and the simulator each with their own AMQP connections, requests → CARD_PRODUCED →
//! REPORT_OK → SHIPPED → SHIPPED_OK, then the broker's queues drained — with one broker user,
//! and with NGOC's two credentials (a user that may only read the inbound queue, one that may
//! only write the outbound queue). The outbox across a broker outage or a link cut:
//! `outbound_outage.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cardbench_amqp::{AmqpConnector, ServiceBusConfig};
use cardbench_runtime::{Runtime, RuntimeConfig};
use cardbench_protocol::Subject;
use cardbench_sim::{fixtures, CorrelationForm, SimConfig, Simulator, WireForms};
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::Store;
use cardbench_transport::Connector;
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};
use common::{broker_url, broker_user_url, declare, wait_until};

fn count(store: &Store, status: CardStatus) -> i64 {
    store.read(cards::count_by_status).expect("count").into_iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_runs_through_a_real_broker() {
    let Some(url) = broker_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("flow-in-{tag}"), format!("flow-out-{tag}"));
    declare(&[&inbound, &outbound]);
    let amqp = ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url");
    let connector: Arc<dyn Connector> = Arc::new(AmqpConnector::new(amqp.clone()));
    let dir = tempfile::tempdir().expect("tempdir");
    whole_flow(dir.path(), connector, amqp, &inbound, &outbound, WireForms::default()).await;
}

/// NGOC's credentials: Cardbench receives as `ngoc-reader` (read on the inbound queue only) and
/// sends as `ngoc-writer` (write on the outbound queue only), configured as the CLI and the app
/// read it (`amqp_url` + `amqp_outbound_url`) and connected through the node's own connector.
/// The simulator plays NGOC with the broker's admin user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_runs_with_a_read_only_and_a_write_only_credential() {
    let Some(admin) = broker_url() else { return };
    let (Some(reader), Some(writer)) = (
        broker_user_url("CARDBENCH_TEST_AMQP_READER_URL", "amqp-reader-url"),
        broker_user_url("CARDBENCH_TEST_AMQP_WRITER_URL", "amqp-writer-url"),
    ) else {
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    // The users' rights cover `cbin-*` (read) and `cbout-*` (write) queues.
    let (inbound, outbound) = (format!("cbin-flow-{tag}"), format!("cbout-flow-{tag}"));
    declare(&[&inbound, &outbound]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cardbench_runtime::config::Config {
        transport: cardbench_runtime::config::TransportKind::ServiceBus,
        amqp_url: Some(reader),
        amqp_outbound_url: Some(writer),
        queues: cardbench_runtime::config::QueueNames { inbound: inbound.clone(), outbound: outbound.clone() },
        ..Default::default()
    };
    config.validate().expect("valid config");
    let (connector, embedded) = cardbench_runtime::node::connector(&config, dir.path()).expect("connector");
    assert!(!embedded);
    assert!(connector.describe().contains("receiving: SASL PLAIN as ngoc-reader; sending: SASL PLAIN as ngoc-writer"), "{}", connector.describe());
    let ngoc = ServiceBusConfig::from_amqp_url(&admin, &inbound, &outbound).expect("admin url");
    // NGOC as it really writes: offset-less nine-digit times, its MIFARE translation field
    // names, and answers correlated by body, property, both or neither in turn.
    let wire = WireForms { offsetless_times: true, translation_fields: true, correlation: CorrelationForm::Rotate };
    whole_flow(dir.path(), connector, ngoc, &inbound, &outbound, wire).await;
}

/// 20 requests from the simulator (on `sim_amqp`, writing NGOC's `wire` forms) → produced →
/// REPORT_OK → shipped in two parcels where a shipment has two cards or more (a partial delivery)
/// → SHIPPED_OK, with Cardbench's runtime on `connector`; then NGOC has received each outbox row
/// once, and no ERROR was sent to NGOC.
async fn whole_flow(
    dir: &std::path::Path,
    connector: Arc<dyn Connector>,
    sim_amqp: ServiceBusConfig,
    inbound: &str,
    outbound: &str,
    wire: WireForms,
) {
    let (inbound, outbound) = (inbound.to_owned(), outbound.to_owned());
    let store = Arc::new(Store::open_in(dir).expect("store"));
    let wf = Workflow::new(store.clone());
    let sim_config = SimConfig {
        requests_queue: inbound.clone(),
        notifications_queue: outbound.clone(),
        seed: Some(11),
        receive_wait_ms: 100,
        wire: wire.clone(),
        ..SimConfig::default()
    };
    let sim = Arc::new(Simulator::open(&dir.join("ngoc"), sim_config, Arc::new(AmqpConnector::new(sim_amqp))).expect("sim"));
    let generated = sim.generate(20).await.expect("generate");
    let runtime_config = RuntimeConfig {
        inbound_queue: inbound.clone(),
        outbound_queue: outbound.clone(),
        receive_batch: 16,
        receive_wait: Duration::from_millis(200),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::start(wf.clone(), connector, runtime_config);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let sim_task = {
        let sim = sim.clone();
        tokio::spawn(async move { sim.run(stop_rx).await })
    };

    wait_until("20 requests arrive through the broker", Duration::from_secs(60), || count(&store, CardStatus::Received) == 20).await;
    for (i, card_id) in generated.card_ids.iter().enumerate() {
        let request = wf.card_detail(card_id).expect("detail").card.request;
        if wire.offsetless_times {
            assert!(!request.ordered.has_offset(), "the time is kept as NGOC wrote it: {}", request.ordered.as_received());
        }
        // The chip is read once, as MIFARE_UID; the workflow fills each expected translation.
        let fields = request.card.expected_report_data_fields;
        let mut values: Vec<ReadoutInput> =
            fields.iter().filter(|f| !f.contains("MIFARE")).map(|f| ReadoutInput { field: f.clone(), value: format!("V{i}") }).collect();
        if fields.iter().any(|f| f.contains("MIFARE")) {
            values.push(ReadoutInput { field: "MIFARE_UID".into(), value: format!("04{:012X}", i + 1) });
        }
        wf.produce("operator", card_id, &values, "test").expect("produce");
    }
    wait_until("REPORT_OK for every card", Duration::from_secs(60), || count(&store, CardStatus::ReportOk) == 20).await;
    let mut parcels = 0;
    for shipment_id in &generated.shipment_ids {
        let detail = wf.shipment_detail(shipment_id).expect("detail");
        let accessories: Vec<_> = detail
            .accessories
            .iter()
            .map(|a| cardbench_protocol::Accessory { article_id: a.article_id.clone(), accessory_id: a.accessory_id.clone(), quantity: u32::try_from(a.requested).expect("a small test shipment") })
            .collect();
        // Two parcels where there are two cards or more: the first half now, the rest with the
        // accessories after.
        let (first, rest) = detail.gate.ready.split_at(detail.gate.ready.len() / 2);
        if !first.is_empty() {
            wf.ship("shipper", &ParcelRequest { shipment_id: shipment_id.clone(), cards: first.to_vec(), ..Default::default() }).expect("ship part 1");
            parcels += 1;
        }
        wf.ship("shipper", &ParcelRequest { shipment_id: shipment_id.clone(), cards: rest.to_vec(), accessories, ..Default::default() })
            .expect("ship");
        parcels += 1;
    }
    assert!(parcels > generated.shipment_ids.len(), "at least one shipment went in two parcels");
    wait_until("SHIPPED_OK for every card", Duration::from_secs(60), || count(&store, CardStatus::ShippedOk) == 20).await;

    // What went over the wire: NGOC received each of our notifications once, with our messageIds.
    let received = sim.received().await.expect("sim received");
    let outbox = store
        .read(|c| cardbench_store::outbox::list(c, &cardbench_store::outbox::OutboxFilter { limit: Some(1000), ..Default::default() }))
        .expect("outbox");
    assert_eq!(received.len(), outbox.len(), "every outbox row arrived, and nothing else");
    let errors: Vec<_> =
        outbox.iter().filter(|row| row.subject == Subject::Error.as_str()).map(|row| (row.id, row.card_id.clone())).collect();
    assert!(errors.is_empty(), "no ERROR goes to NGOC: {errors:?}");
    // Every answer was taken whatever its correlation form: nothing rejected or left for a person.
    let inbox = store
        .read(|c| cardbench_store::inbox::list(c, &cardbench_store::inbox::InboxFilter { limit: Some(1000), ..Default::default() }))
        .expect("inbox");
    let not_taken: Vec<_> = inbox
        .iter()
        .filter(|row| row.outcome != cardbench_store::inbox::Outcome::Accepted)
        .map(|row| (row.id, row.subject.clone(), row.outcome, row.reason.clone()))
        .collect();
    assert!(not_taken.is_empty(), "every message NGOC sent was accepted: {not_taken:?}");
    for row in &outbox {
        assert!(row.sent_at.is_some(), "outbox #{} is marked sent", row.id);
        assert!(received.iter().any(|r| r.message_id.as_deref() == Some(row.message_id.as_str())), "{} arrived", row.message_id);
    }
    let _ = stop.send(true);
    sim_task.await.expect("sim task").expect("sim");
    runtime.shutdown().await;
}

/// A shutdown right after the last commit still completes what was committed: nothing
/// committed is left on the broker's queue to come back as a duplicate at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_right_after_the_last_commit_leaves_nothing_committed_on_the_broker() {
    use cardbench_store::inbox;
    use cardbench_transport::{OutboundMessage, QueueReceiver, QueueSender};
    let Some(url) = broker_url() else { return };
    // Seen once in `cardbench bench --only broker` (release build, 20,000 requests): ~1,000
    // committed requests back on the queue after a shutdown at commit; not reproduced here.
    for round in 0..2 {
        let inbound = format!("cb-shutdown-in-{}-{round}", std::process::id());
        let outbound = format!("cb-shutdown-out-{}-{round}", std::process::id());
        declare(&[&inbound, &outbound]);
        let amqp = ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("broker url");
        let connector = Arc::new(AmqpConnector::new(amqp));
        let total = 3000usize;
        let mut sender = connector.open_sender(&inbound).await.expect("sender");
        let messages: Vec<OutboundMessage> = (0..total)
            .map(|i| OutboundMessage {
                message_id: uuid::Uuid::new_v4().to_string(),
                subject: "EXTERNAL_PRODUCTION_REQUEST_SENT".into(),
                correlation_id: None,
                content_type: "application/json".into(),
                body: serde_json::to_vec(&fixtures::request_json(&format!("C-{i}"), &format!("S-{}", i / 4))).expect("json"),
            })
            .collect();
        for chunk in messages.chunks(500) {
            for r in sender.send(chunk).await {
                r.expect("sent");
            }
        }
        sender.close().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open_in(dir.path()).expect("store"));
        let config = RuntimeConfig { inbound_queue: inbound.clone(), outbound_queue: outbound.clone(), receive_wait: Duration::from_millis(50), ..RuntimeConfig::default() };
        let runtime = Runtime::start(Workflow::new(store.clone()), connector.clone(), config);
        wait_until("every request is committed", Duration::from_secs(120), || {
            store.read(inbox::count_by_outcome).expect("count").iter().map(|(_, n)| *n).sum::<i64>() >= total as i64
        })
        .await;
        runtime.shutdown().await;
        let mut receiver = connector.open_receiver(&inbound).await.expect("receiver");
        let left = receiver.receive(total, Duration::from_millis(1500)).await.expect("receive");
        receiver.close().await;
        assert_eq!(left.len(), 0, "round {round}: {} committed messages were left on the queue after shutdown", left.len());
    }
}
