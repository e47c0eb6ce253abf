//! Issue 17 from the outside: `cardbench ship` names the required option a parcel lacks and the
//! cards that keep the shipment back (the same gate `shipments show` and the app show), and the
//! outbox keeps a message's first send time beside a resend.

use std::path::Path;
use std::process::Output;

mod common;

use common::text;

fn cardbench(dir: &Path, args: &[&str]) -> Output {
    common::run(dir, Some("bob"), args)
}

/// Requests from the simulator, taken in by a short daemon run; the first card and its shipment.
fn with_cards(dir: &Path) -> (String, String) {
    let out = cardbench(dir, &["sim", "generate", "3", "--seed", "3", "--max-shipment", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cardbench(dir, &["run", "--no-sim", "--for-seconds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = cardbench(dir, &["--json", "cards", "list"]);
    let page: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON worklist");
    let card = page["rows"][0]["card_id"].as_str().expect("card id").to_owned();
    let shipment = page["rows"][0]["shipment_id"].as_str().expect("shipment id").to_owned();
    (card, shipment)
}

#[test]
fn ship_names_the_required_options_a_parcel_lacks_and_every_card_that_keeps_it_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (card, shipment) = with_cards(dir.path());
    std::fs::write(dir.path().join("config.toml"), "[workstation]\nrequire_carrier = true\nrequire_tracking = true\n").expect("config");

    let out = cardbench(dir.path(), &["ship", &shipment, "--card", &card]);
    assert_eq!(out.status.code(), Some(3), "refused by a rule: {}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("give --carrier (the setting workstation.require_carrier requires a carrier on every parcel)"), "{said}");
    assert!(said.contains("give --tracking (the setting workstation.require_tracking requires a tracking id on every parcel)"), "{said}");
    // The card is not made yet: the refusal says so, as the shipment's gate does.
    assert!(said.contains(&format!("shipment {shipment}: nothing ready to ship: waiting for")), "{said}");
    assert!(said.contains(&card) && said.contains("not produced yet (received)"), "{said}");

    let given = cardbench(dir.path(), &["ship", &shipment, "--card", &card, "--carrier", "PostNord", "--tracking", "PN1"]);
    assert!(!text(&given.stderr).contains("give --"), "with both given only the gate refuses: {}", text(&given.stderr));
    let outbox = cardbench(dir.path(), &["--json", "outbox"]);
    assert!(!text(&outbox.stdout).contains("SHIPPED"), "nothing was queued: {}", text(&outbox.stdout));
}

#[test]
fn shipments_show_names_the_cards_it_waits_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (card, shipment) = with_cards(dir.path());
    let out = cardbench(dir.path(), &["shipments", "show", &shipment]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("gate     nothing ready to ship: waiting for"), "{shown}");
    assert!(shown.lines().any(|l| l.contains(&card) && l.contains("not produced yet")), "{shown}");
}

#[test]
fn the_outbox_keeps_the_first_send_time_beside_a_resend() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (card, _) = with_cards(dir.path());
    let out = cardbench(dir.path(), &["refuse", &card, "--code", "PHOTO_UNUSABLE", "--details", "photo blurred"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cardbench(dir.path(), &["run", "--no-sim", "--for-seconds", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&cardbench(dir.path(), &["--json", "outbox"]).stdout).expect("JSON outbox");
    let row = &rows[0];
    let id = row["id"].to_string();
    let first = row["first_sent_at"].as_str().expect("sent once").to_owned();
    assert_eq!(row["sent_at"].as_str(), Some(first.as_str()));

    let out = cardbench(dir.path(), &["resend", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let detail = text(&cardbench(dir.path(), &["outbox", &id]).stdout);
    // Shown as people read times (local, to the second), as every CLI line does.
    let first = cardbench_store::time::display(&first);
    assert!(detail.contains(&format!("first sent     {first}")), "{detail}");
    assert!(detail.contains("sent           waiting"), "{detail}");
    assert!(detail.contains("resent         1 time(s), last "), "{detail}");
    let listing = text(&cardbench(dir.path(), &["outbox"]).stdout);
    assert!(listing.contains("FIRST SENT") && listing.contains("RESENT"), "{listing}");
    assert!(listing.lines().any(|l| l.contains(&first) && l.contains("waiting")), "{listing}");
}
