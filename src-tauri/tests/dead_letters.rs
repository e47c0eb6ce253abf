//! The queue inspection's Dead letters view, through the core functions the commands call: with
//! the embedded simulator it says why there is nothing; with a broker it lists the inbound
//! dead-letter queue and imports one through the same core function as the CLI (the broker from
//! `tests/broker/start-rabbitmq.sh`; fails without it unless CARDBENCH_SKIP_BROKER_TESTS=1).

use std::path::PathBuf;
use std::sync::Arc;

use cardbench_app::station::Station;
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::cards::CardStatus;
use cardbench_transport::{OutboundMessage, QueueSender};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn core_with_config(config: &str) -> (tempfile::TempDir, Station) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), config).expect("write config");
    let data = dir.path().join("data");
    let store = Arc::new(Store::open_in(&data).expect("open store"));
    let core = Station::new(store, data.clone(), data.join("app.log"), false, dir.path().join("config.toml")).expect("core");
    (dir, core)
}

fn broker_url() -> Option<String> {
    if let Ok(url) = std::env::var("CARDBENCH_TEST_AMQP_URL")
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    let dir = std::env::var_os("CARDBENCH_BROKER_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/test-broker"));
    if let Ok(url) = std::fs::read_to_string(dir.join("amqp-url"))
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    if std::env::var("CARDBENCH_SKIP_BROKER_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    panic!("no test broker: run `eval \"$(tests/broker/start-rabbitmq.sh)\"` or set CARDBENCH_SKIP_BROKER_TESTS=1");
}

#[test]
fn with_the_embedded_simulator_the_view_says_why_there_are_no_dead_letters() {
    let (_dir, core) = core_with_config("transport = \"embedded\"\n");
    let list = core.dead_letters(50).expect("dead letters");
    assert!(!list.available);
    assert!(list.letters.is_empty());
    assert!(list.note.as_deref().is_some_and(|n| n.contains("simulator")), "{list:?}");
    let err = core.import_dead_letter("m-1").expect_err("nothing to import from");
    assert!(err.to_string().contains("simulator"), "{err}");
}

#[test]
fn a_dead_letter_is_listed_with_its_card_and_imported_into_the_worklist() {
    let Some(url) = broker_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (inbound, outbound) = (format!("app-dl-in-{tag}"), format!("app-dl-out-{tag}"));
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("tests/broker/start-rabbitmq.sh"))
        .args([&inbound, &outbound])
        .output()
        .expect("run the broker script");
    assert!(out.status.success(), "declaring queues: {}", String::from_utf8_lossy(&out.stderr));
    let config = format!("transport = \"service_bus\"\namqp_url = \"{url}\"\n\n[queues]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\n");
    let (_dir, core) = core_with_config(&config);

    let body = serde_json::to_vec(&fixtures::request_json("C-APP-1", "S-APP")).expect("json");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let amqp = cardbench_amqp::ServiceBusConfig::from_amqp_url(&url, &inbound, &outbound).expect("url");
        let mut tx = cardbench_amqp::AmqpConnector::new(amqp).open_sender(&format!("{inbound}.dlq")).await.expect("sender");
        let message = OutboundMessage {
            message_id: "app-req-1".into(),
            subject: "EXTERNAL_PRODUCTION_REQUEST_SENT".into(),
            correlation_id: None,
            content_type: "application/json".into(),
            body,
        };
        assert!(tx.send(std::slice::from_ref(&message)).await.iter().all(|r| r.is_ok()));
        tx.close().await;
    });

    let list = core.dead_letters(50).expect("dead letters");
    assert!(list.available);
    assert_eq!(list.letters.len(), 1, "{list:?}");
    let d = &list.letters[0];
    assert_eq!(d.message_id.as_deref(), Some("app-req-1"));
    assert_eq!(d.card_id.as_deref(), Some("C-APP-1"));
    assert!(d.body.contains("C-APP-1") && d.pretty.is_some());

    let imported = core.import_dead_letter("app-req-1").expect("import");
    assert_eq!(imported.outcome, "accepted");
    assert!(core.dead_letters(50).expect("dead letters").letters.is_empty(), "it left the dead-letter queue");
    let card = core.card("C-APP-1").expect("the card is in the worklist");
    assert_eq!(CardStatus::from(card.summary.status), CardStatus::Received);
}
