//! Issue 15, cards in hand, from the outside: two stations on one store (here two station names
//! on one data directory, `CARDBENCH_STATION`). A card taken at one is shown as taken at the
//! other, which cannot produce it (exit 6) until it is released.

use std::path::Path;
use std::process::Output;

mod common;

use common::text;
use serde_json::Value;

fn at(station: &str, dir: &Path, operator: &str, args: &[&str]) -> Output {
    common::command(dir, Some(operator)).env("CARDBENCH_STATION", station).args(args).output().expect("run cardbench")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn a_card_taken_at_one_station_is_shown_and_refused_at_the_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(at("bench-1", d, "Ana", &["sim", "generate", "2", "--seed", "5", "--max-shipment", "2"]));
    ok(at("bench-1", d, "Ana", &["run", "--no-sim", "--for-seconds", "2"]));
    let page: Value = serde_json::from_str(&ok(at("bench-1", d, "Ana", &["--json", "cards", "list"]))).expect("JSON");
    let card = page["rows"][0]["card_id"].as_str().expect("a card").to_owned();

    let taken = ok(at("bench-1", d, "Ana", &["cards", "take", &card]));
    assert!(taken.contains(&format!("card {card} taken at bench-1 by Ana until")), "{taken}");

    // The other station: refused with its own exit code, told who holds it.
    let refused = at("bench-2", d, "Bo", &["produce", &card, "MIFARE_UID=04A22B1C"]);
    assert_eq!(refused.status.code(), Some(6), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains(&format!("card {card} is taken at bench-1 by Ana since")), "{}", text(&refused.stderr));
    let refused = at("bench-2", d, "Bo", &["capture", &card, "MIFARE_UID=04A22B1C"]);
    assert_eq!(refused.status.code(), Some(6), "{}", text(&refused.stderr));
    let refused = at("bench-2", d, "Bo", &["--json", "cards", "take", &card]);
    assert_eq!(refused.status.code(), Some(6), "{}", text(&refused.stderr));

    let shown = ok(at("bench-2", d, "Bo", &["cards", "show", &card]));
    assert!(shown.contains("taken       at bench-1 by Ana since"), "{shown}");
    let listed = ok(at("bench-2", d, "Bo", &["cards", "list"]));
    let line = listed.lines().find(|l| l.contains(&card)).expect("the card's line");
    assert!(line.contains("at bench-1 by Ana"), "{listed}");
    let page: Value = serde_json::from_str(&ok(at("bench-2", d, "Bo", &["--json", "cards", "list"]))).expect("JSON");
    let row = page["rows"].as_array().expect("rows").iter().find(|r| r["card_id"] == card.as_str()).expect("row").clone();
    assert_eq!((row["taken"]["station"].as_str(), row["taken"]["operator"].as_str()), (Some("bench-1"), Some("Ana")));
    // At the holding station the card is its own, not "taken".
    let listed = ok(at("bench-1", d, "Cy", &["cards", "list"]));
    assert!(!listed.contains("at bench-1"), "{listed}");

    ok(at("bench-1", d, "Ana", &["cards", "release", &card]));
    let taken = ok(at("bench-2", d, "Bo", &["cards", "take", &card]));
    assert!(taken.contains("taken at bench-2 by Bo"), "{taken}");
}
