//! The settings screen's command bodies against a real config file and store: what is saved is
//! the shared `config.toml` (the file `cardbench` reads), refused settings leave it untouched, and
//! a chip read applied to the card in hand stores its UID and queues CARD_PRODUCED.

use std::sync::Arc;

use cardbench_app::station::Station;
use cardbench_app::dto::{ChipView, ConnectionKind};
use cardbench_protocol::Subject;
use cardbench_runtime::config::{Config, TransportKind};
use cardbench_sim::fixtures;
use cardbench_store::Store;
use cardbench_store::cards::{self, CardStatus};
use cardbench_store::inbox::Envelope;

fn core() -> (tempfile::TempDir, Station) {
    core_with_config("")
}

/// A core whose config file holds `config` when it starts.
fn core_with_config(config: &str) -> (tempfile::TempDir, Station) {
    let dir = tempfile::tempdir().expect("tempdir");
    if !config.is_empty() {
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
    }
    let data = dir.path().join("data");
    let store = Arc::new(Store::open_in(&data).expect("open store"));
    let core = Station::new(store, data.clone(), data.join("app.log"), false, dir.path().join("config.toml")).expect("core");
    (dir, core)
}

#[test]
fn settings_are_saved_into_the_shared_config_file_and_invalid_ones_leave_it_untouched() {
    let (dir, core) = core();
    let file = dir.path().join("config.toml");
    // A section the screen does not show must survive a save.
    std::fs::write(&file, "[documents.billing]\ninvoice_prefix = \"CB-\"\n").expect("write");
    let hot = dir.path().join("hot");
    std::fs::create_dir(&hot).expect("mkdir");

    let mut s = core.settings().expect("settings");
    assert_eq!(s.operator, "", "no operator yet");
    s.operator = "Åsa Öberg".into();
    s.hot_folder = hot.display().to_string();
    s.reader_filter = "ACR122".into();
    s.sound = false;
    let saved = core.save_settings(s.clone()).expect("valid settings");
    assert_eq!(saved, s);

    let config = Config::load_file(&file).expect("the file reads back");
    assert_eq!(config.operator.as_deref(), Some("Åsa Öberg"));
    assert_eq!(config.devices.hotfolder.folder.as_deref(), Some(hot.as_path()));
    assert_eq!(config.devices.reader.name_filter.as_deref(), Some("ACR122"));
    assert!(!config.workstation.sound);
    assert_eq!(config.documents.billing.invoice_prefix, "CB-", "other sections are kept");
    assert_eq!(core.config().operator.as_deref(), Some("Åsa Öberg"), "in effect at once");

    let before = std::fs::read_to_string(&file).expect("read");
    let err = core.save_settings(cardbench_app::dto::Settings { retention_days: 5, ..s.clone() }).expect_err("refused");
    assert!(err.to_string().contains("retention"), "{err}");
    // The data directory as hot folder: the watch would move the live database away.
    let err = core
        .save_settings(cardbench_app::dto::Settings { hot_folder: dir.path().join("data").display().to_string(), ..s.clone() })
        .expect_err("refused");
    assert!(err.to_string().contains("it is the data directory"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), before, "a refused hot folder is not written");
    let err = core
        .save_settings(cardbench_app::dto::Settings { connection: ConnectionKind::AmqpBroker, amqp_url: "ftp://x".into(), ..s })
        .expect_err("refused");
    assert!(err.to_string().contains("AMQP broker"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), before, "a refused save writes nothing");
    assert_eq!(Config::load_file(&file).expect("load").transport, TransportKind::Embedded);
}

#[test]
fn a_chip_applied_to_the_card_in_hand_stores_its_uid_and_queues_card_produced() {
    let (_dir, core) = core();
    let mut s = core.settings().expect("settings");
    s.operator = "Reader Operator".into();
    core.save_settings(s).expect("operator");
    let body = serde_json::to_vec(&fixtures::request_json("C-1", "S-1")).expect("json");
    let envelope = Envelope { message_id: Some("m-1"), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
    core.workflow.ingest(&[envelope]).expect("ingest");

    let chip = ChipView { reader: "Virtual PCD".into(), uid: "04A1B2C3D4E5F6".into(), atr: "3B8F80".into() };
    let applied = core.apply_chip(Some("C-1"), chip.clone()).expect("applied");
    assert!(applied.produced && applied.missing.is_empty(), "{applied:?}");
    let card = core.store().read(|c| cards::get(c, "C-1")).expect("read").expect("card");
    assert_eq!(card.status, CardStatus::Produced);

    // The same chip again, now that the card was produced: refused with the reason, nothing changes.
    let err = core.apply_chip(Some("C-1"), chip).expect_err("a produced card takes no readouts");
    assert!(!err.to_string().is_empty());
}

#[test]
fn the_period_documents_are_written_step_by_step_and_a_backward_period_is_refused() {
    let (_dir, core) = core_with_config("[documents.billing]\ndefault_cost_centre = \"CC-1\"\n");
    let steps = std::sync::Mutex::new(Vec::new());
    let written = core
        .period_documents("2026-11-01", "2026-11-30", &|p| steps.lock().expect("lock").push((p.step, p.steps, p.what)))
        .expect("written");
    let steps = steps.into_inner().expect("steps");
    assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2, 3], "{steps:?}");
    assert!(steps.iter().all(|s| s.1 == 3));
    for kind in ["manifest_", "shift-report_"] {
        let file = written.files.iter().find(|f| f.contains(kind)).unwrap_or_else(|| panic!("no {kind} in {:?}", written.files));
        assert!(std::path::Path::new(file).exists(), "{file}");
    }
    let err = core.period_documents("2026-11-30", "2026-11-01", &|_| {}).expect_err("backward");
    assert!(err.to_string().contains("after"), "{err}");
}

#[test]
fn cost_centres_and_simulator_faults_are_edited_in_settings() {
    use cardbench_app::dto::{CostCentre, Settings};
    let (dir, core) = core();
    let file = dir.path().join("config.toml");
    let mut s = core.settings().expect("settings");
    s.operator = "Billing Clerk".into();
    s.cost_centres = vec![
        CostCentre { organisation_id: "ORG-Malmö".into(), cost_centre: "CC-100".into() },
        // A blank cost centre removes the row.
        CostCentre { organisation_id: "ORG-Łódź".into(), cost_centre: "  ".into() },
    ];
    s.default_cost_centre = "CC-9".into();
    s.simulator_faults.invalid_requests_percent = 12.5;
    s.simulator_faults.lost_answers_percent = 100.0;
    let saved = core.save_settings(s.clone()).expect("valid settings");
    assert_eq!(saved.cost_centres, vec![CostCentre { organisation_id: "ORG-Malmö".into(), cost_centre: "CC-100".into() }]);
    assert_eq!(saved.simulator_faults.invalid_requests_percent, 12.5);

    let config = Config::load_file(&file).expect("the file reads back");
    assert_eq!(config.documents.billing.cost_centres.get("ORG-Malmö").map(String::as_str), Some("CC-100"));
    assert_eq!(config.documents.billing.default_cost_centre.as_deref(), Some("CC-9"));
    assert_eq!(config.simulator_faults.invalid_request, 0.125);
    assert_eq!(config.simulator_faults.lost_answer, 1.0);
    assert_eq!(core.config().sim_config().faults.lost_answer, 1.0, "the simulator takes them");

    let before = std::fs::read_to_string(&file).expect("read");
    let refused = |settings: Settings, why: &str| {
        let err = core.save_settings(settings).expect_err("refused");
        assert!(err.to_string().contains(why), "{err}");
        assert_eq!(std::fs::read_to_string(&file).expect("read"), before, "a refused save writes nothing");
    };
    let mut placeholder = saved.clone();
    placeholder.cost_centres[0].cost_centre = "NO-COST-CENTRE".into();
    refused(placeholder, "placeholder");
    let mut twice = saved.clone();
    twice.cost_centres.push(CostCentre { organisation_id: "ORG-Malmö".into(), cost_centre: "CC-2".into() });
    refused(twice, "listed twice");
    let mut too_many = saved.clone();
    too_many.simulator_faults.errors_after_card_produced_percent = 101.0;
    refused(too_many, "percentage from 0 to 100");
}

#[test]
fn the_organisations_seen_are_listed_for_their_cost_centres() {
    let (_dir, core) = core();
    for (i, org) in ["ORG-B", "ORG-A", "ORG-B"].iter().enumerate() {
        let mut body = fixtures::request_json(&format!("C-{i}"), &format!("S-{i}"));
        body["organisationId"] = serde_json::json!(org);
        let body = serde_json::to_vec(&body).expect("json");
        let id = format!("m-{i}");
        let envelope = Envelope { message_id: Some(&id), subject: Some(Subject::RequestSent.as_str()), body: &body, ..Default::default() };
        core.workflow.ingest(&[envelope]).expect("ingest");
    }
    let seen: Vec<(String, i64)> = core.organisations().expect("organisations").into_iter().map(|o| (o.organisation_id, o.shipments)).collect();
    assert_eq!(seen, vec![("ORG-A".to_owned(), 1), ("ORG-B".to_owned(), 2)]);
}
