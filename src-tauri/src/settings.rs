//! The settings screen over the one config file (`config.toml`, the file `cardbench` reads too):
//! [`view`] shows what the operator may change, [`apply`] checks a changed screen and writes it
//! into the core [`Config`]. Invalid settings are refused with the reason and never written.
//! A Service Bus key goes to the OS keyring, never to the file, and is never shown again.

use std::path::Path;

use cardbench_documents::config::HolderDisplay;
use cardbench_runtime::config::{Config, TransportKind};

use crate::dto::{ConnectionKind, CostCentre, HolderOnSlips, Settings, SimulatorFaults};
use crate::error::AppError;

/// What the screen shows for `config` (the file as written, without environment overrides).
pub fn view(config: &Config) -> Settings {
    let connection = match (&config.transport, &config.amqp_url) {
        (TransportKind::Embedded, _) => ConnectionKind::Simulator,
        (TransportKind::ServiceBus, Some(_)) => ConnectionKind::AmqpBroker,
        (TransportKind::ServiceBus, None) => ConnectionKind::ServiceBus,
    };
    Settings {
        operator: config.operator.clone().unwrap_or_default(),
        connection,
        // Without the keys: they are in the keyring, and a screen must never show them.
        service_bus_connection_string: config
            .servicebus
            .as_ref()
            .map(|sb| shown_string(&sb.host, sb.user.as_deref().unwrap_or(""), sb.entity_path.as_deref()))
            .unwrap_or_default(),
        service_bus_outbound_connection_string: config
            .servicebus
            .as_ref()
            .and_then(|sb| sb.outbound_credential.as_ref().map(|c| shown_string(&sb.host, &c.user, c.entity_path.as_deref())))
            .unwrap_or_default(),
        service_bus_web_socket: config.servicebus.as_ref().is_some_and(|sb| sb.websocket),
        // Passwords as `***`: they are in the keyring, and a screen must never show them.
        amqp_url: config.amqp_url.as_deref().map(shown_url).unwrap_or_default(),
        amqp_outbound_url: config.amqp_outbound_url.as_deref().map(shown_url).unwrap_or_default(),
        inbound_queue: config.queues.inbound.clone(),
        outbound_queue: config.queues.outbound.clone(),
        simulator_requests_per_minute: config.simulator_requests_per_minute,
        hot_folder: config.devices.hotfolder.folder.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        hot_folder_card_id_column: config.devices.hotfolder.card_id_column.clone(),
        reader_filter: config.devices.reader.name_filter.clone().unwrap_or_default(),
        printer: config.documents.print.printer.clone().unwrap_or_default(),
        holder_on_slips: match config.documents.slip.holder_display {
            HolderDisplay::Full => HolderOnSlips::Full,
            HolderDisplay::Initials => HolderOnSlips::Initials,
            HolderDisplay::None => HolderOnSlips::None,
        },
        mask_holder: config.workstation.mask_holder,
        sound: config.workstation.sound,
        retention_days: config.workstation.retention_days,
        cost_centres: config
            .documents
            .billing
            .cost_centres
            .iter()
            .map(|(organisation_id, cost_centre)| CostCentre { organisation_id: organisation_id.clone(), cost_centre: cost_centre.clone() })
            .collect(),
        default_cost_centre: config.documents.billing.default_cost_centre.clone().unwrap_or_default(),
        simulator_faults: SimulatorFaults {
            invalid_requests_percent: percent(config.simulator_faults.invalid_request),
            errors_after_card_produced_percent: percent(config.simulator_faults.spurious_error),
            lost_answers_percent: percent(config.simulator_faults.lost_answer),
        },
        require_carrier: config.workstation.require_carrier,
        require_tracking: config.workstation.require_tracking,
        // The file keeps the URL without its password (the OS keyring has it); redacted all the same.
        store_url: config.store.url.as_deref().map(cardbench_store::postgres::redact).unwrap_or_default(),
        station: config.store.station.clone().unwrap_or_default(),
    }
}

/// A rate (0.0–1.0) as the screen's percent, to two decimals.
fn percent(rate: f64) -> f64 {
    (rate * 10_000.0).round() / 100.0
}

/// The screen's percent as a rate; refused outside 0–100.
fn rate(label: &str, percent: f64) -> Result<f64, AppError> {
    if !(0.0..=100.0).contains(&percent) {
        return refuse(format!("simulator faults: {label} is a percentage from 0 to 100"));
    }
    Ok(percent / 100.0)
}

/// The cost-centre list as the config keeps it: blank cost centres dropped (that removes the
/// organisation's), each organisation once. The values are checked by the core's one rule
/// (`BillingConfig::validate`, through `Config::validate`).
fn cost_centres(rows: &[CostCentre]) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut map = std::collections::BTreeMap::new();
    for row in rows {
        let (org, centre) = (row.organisation_id.trim(), row.cost_centre.trim());
        if centre.is_empty() {
            continue;
        }
        if org.is_empty() {
            return refuse(format!("cost centres: {centre} has no organisation"));
        }
        if map.insert(org.to_owned(), centre.to_owned()).is_some() {
            return refuse(format!("cost centres: {org} is listed twice"));
        }
    }
    Ok(map)
}

/// A broker URL as the screen shows it: `amqp://user:***@host:port` when it has a user.
fn shown_url(url: &str) -> String {
    if cardbench_amqp::config::url_credential(url).is_some() { cardbench_amqp::config::redact_url(url) } else { url.to_owned() }
}

/// A connection string as the screen shows it: everything but the key.
fn shown_string(host: &str, rule: &str, entity_path: Option<&str>) -> String {
    match entity_path {
        Some(e) => format!("Endpoint=sb://{host}/;SharedAccessKeyName={rule};EntityPath={e}"),
        None => format!("Endpoint=sb://{host}/;SharedAccessKeyName={rule}"),
    }
}

fn refuse<T>(what: impl Into<String>) -> Result<T, AppError> {
    Err(AppError::Settings(what.into()))
}

fn blank_to_none(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Writes the screen `s` into `config`, checking every setting; the first problem is returned in
/// words and `config` is then not to be saved.
pub fn apply(config: &mut Config, s: &Settings) -> Result<(), AppError> {
    let operator = s.operator.trim();
    if operator.is_empty() {
        return refuse("operator name: required — every action is recorded under it");
    }
    if operator.chars().count() > 64 {
        return refuse("operator name: at most 64 characters");
    }
    if operator.chars().any(char::is_control) {
        return refuse("operator name: no control characters");
    }
    config.operator = Some(operator.to_owned());

    let (inbound, outbound) = (s.inbound_queue.trim(), s.outbound_queue.trim());
    for (label, q) in [("inbound queue", inbound), ("outbound queue", outbound)] {
        if q.is_empty() {
            return refuse(format!("{label}: required"));
        }
        if !q.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '$')) {
            return refuse(format!("{label}: letters, digits, '-', '_', '.', '/' only"));
        }
    }
    if inbound == outbound {
        return refuse("queues: inbound and outbound must be different queues");
    }
    apply_connection(config, s, inbound, outbound)?;
    if s.simulator_requests_per_minute > 600 {
        return refuse("simulator: at most 600 requests per minute");
    }
    config.simulator_requests_per_minute = s.simulator_requests_per_minute;

    config.devices.hotfolder.folder = match blank_to_none(&s.hot_folder) {
        None => None,
        Some(folder) => {
            let dir = Path::new(&folder);
            if !dir.is_absolute() {
                return refuse("hot folder: must be an absolute path");
            }
            // A typo must not quietly create a folder nobody's encoder writes to.
            if !dir.is_dir() {
                return refuse(format!("hot folder: {} is not an existing folder", dir.display()));
            }
            Some(dir.to_owned())
        }
    };
    let column = s.hot_folder_card_id_column.trim();
    if column.is_empty() {
        return refuse("hot folder: the column holding the cardId is required (e.g. cardId)");
    }
    config.devices.hotfolder.card_id_column = column.to_owned();
    config.devices.reader.name_filter = blank_to_none(&s.reader_filter);

    config.documents.print.printer = match blank_to_none(&s.printer) {
        Some(p) if !p.chars().all(|c| c.is_ascii_graphic() && c != '/' && c != '#') => {
            return refuse("printer: a CUPS queue name (no spaces, '/' or '#'); empty: slips are saved as files");
        }
        other => other,
    };
    config.documents.slip.holder_display = match s.holder_on_slips {
        HolderOnSlips::Full => HolderDisplay::Full,
        HolderOnSlips::Initials => HolderDisplay::Initials,
        HolderOnSlips::None => HolderDisplay::None,
    };
    config.workstation.mask_holder = s.mask_holder;
    config.workstation.sound = s.sound;
    config.workstation.retention_days = s.retention_days;
    config.documents.billing.cost_centres = cost_centres(&s.cost_centres)?;
    config.documents.billing.default_cost_centre = blank_to_none(&s.default_cost_centre);
    let f = &s.simulator_faults;
    config.simulator_faults.invalid_request = rate("invalid requests", f.invalid_requests_percent)?;
    config.simulator_faults.spurious_error = rate("errors after CARD_PRODUCED", f.errors_after_card_produced_percent)?;
    config.simulator_faults.lost_answer = rate("lost answers", f.lost_answers_percent)?;
    config.workstation.require_carrier = s.require_carrier;
    config.workstation.require_tracking = s.require_tracking;
    apply_store(config, s)?;
    // What the core itself refuses (retention range, export folder = hot folder, …).
    config.validate().map_err(|e| AppError::Settings(e.to_string()))
}

/// The store and the station's name. A URL left as shown is the one in use (its password stays in
/// the keyring); a new one is checked here for its form, and by the caller by connecting.
fn apply_store(config: &mut Config, s: &Settings) -> Result<(), AppError> {
    config.store.url = match blank_to_none(&s.store_url) {
        None => None,
        Some(url) if config.store.url.as_deref().map(cardbench_store::postgres::redact).as_deref() == Some(url.as_str()) => config.store.url.clone(),
        Some(url) => {
            if !cardbench_store::postgres::is_postgres_url(&url) {
                return refuse("store: a postgres://user@host:5432/database URL (empty: this machine's own SQLite file)");
            }
            Some(url)
        }
    };
    config.store.station = blank_to_none(&s.station);
    if let Some(station) = &config.store.station
        && (station.chars().count() > 64 || station.chars().any(char::is_control))
    {
        return refuse("station: a name of up to 64 characters, shown beside what the station did");
    }
    Ok(())
}

fn apply_connection(config: &mut Config, s: &Settings, inbound: &str, outbound: &str) -> Result<(), AppError> {
    match s.connection {
        ConnectionKind::Simulator => {
            // The Service Bus section stays for a later switch back; only the transport changes.
            config.transport = TransportKind::Embedded;
            config.amqp_url = None;
            config.amqp_outbound_url = None;
            config.use_queues(inbound, outbound);
        }
        ConnectionKind::AmqpBroker => {
            // A password left as shown (`***`) is the one in use, not a new one.
            let restore = cardbench_amqp::config::restore_redacted_url;
            let url = restore(s.amqp_url.trim(), config.amqp_url.as_deref());
            let url = url.as_str();
            let outbound_url = blank_to_none(&s.amqp_outbound_url).map(|u| restore(&u, config.amqp_outbound_url.as_deref()));
            cardbench_amqp::ServiceBusConfig::from_amqp_urls(url, outbound_url.as_deref(), inbound, outbound)
                .map_err(|e| AppError::Settings(format!("AMQP broker: {e}")))?;
            config.amqp_url = Some(url.to_owned());
            config.amqp_outbound_url = outbound_url;
            config.transport = TransportKind::ServiceBus;
            config.use_queues(inbound, outbound);
        }
        ConnectionKind::ServiceBus => {
            let pasted = s.service_bus_connection_string.trim();
            if pasted.is_empty() {
                return refuse("Service Bus: paste the connection string NGOC gave you (Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…)");
            }
            let pasted_out = blank_to_none(&s.service_bus_outbound_connection_string);
            let sb = config.servicebus.as_ref();
            // Each string is either pasted whole (with its key) or left as shown (its key is then
            // taken from the keyring, inside this process only).
            let first = with_key(pasted, sb.map(|sb| (sb.host.as_str(), sb.user.as_deref().unwrap_or(""), sb.entity_path.as_deref())), "")?;
            let second = match &pasted_out {
                None => None,
                Some(p) => {
                    let shown = sb.and_then(|sb| sb.outbound_credential.as_ref().map(|c| (sb.host.as_str(), c.user.as_str(), c.entity_path.as_deref())));
                    Some(with_key(p, shown, "outbound ")?)
                }
            };
            config.amqp_url = None;
            config.amqp_outbound_url = None;
            config
                .use_service_bus_strings(&first, second.as_deref(), inbound, outbound)
                .map_err(|e| AppError::Settings(e.to_string()))?;
            if let Some(sb) = &mut config.servicebus {
                sb.websocket = s.service_bus_web_socket;
            }
        }
    }
    Ok(())
}

/// The whole connection string for `pasted`: as is when it carries its key; when it is the
/// string as the screen showed it (`shown`: host, rule, EntityPath), with the key from the OS
/// keyring. Anything else is refused: a key is never guessed.
fn with_key(pasted: &str, shown: Option<(&str, &str, Option<&str>)>, which: &str) -> Result<String, AppError> {
    if pasted.to_ascii_lowercase().contains("sharedaccesskey=") {
        return Ok(pasted.to_owned());
    }
    let key = shown
        .filter(|(host, rule, entity)| pasted == shown_string(host, rule, *entity))
        .and_then(|(host, rule, entity)| cardbench_amqp::secrets::load_secret_for(host, rule, entity).ok().flatten());
    match key {
        Some(key) => Ok(format!("{pasted};SharedAccessKey={}", key.expose())),
        None => refuse(format!(
            "Service Bus: paste the whole {which}connection string once, with SharedAccessKey — the key goes to the OS keyring, never to a file"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Settings {
        Settings { operator: "Åsa Öberg".into(), ..view(&Config::default()) }
    }

    fn refused(s: &Settings) -> String {
        let mut config = Config::default();
        apply(&mut config, s).expect_err("refused").to_string()
    }

    #[test]
    fn invalid_settings_are_refused_with_the_reason() {
        assert!(refused(&Settings { operator: "  ".into(), ..valid() }).contains("operator name"));
        assert!(refused(&Settings { outbound_queue: "ngoc-requests".into(), ..valid() }).contains("different"));
        assert!(refused(&Settings { hot_folder: "/no/such/folder".into(), ..valid() }).contains("hot folder"));
        assert!(refused(&Settings { hot_folder: "relative/dir".into(), ..valid() }).contains("absolute"));
        assert!(refused(&Settings { retention_days: 3, ..valid() }).contains("retention"));
        assert!(refused(&Settings { printer: "my printer".into(), ..valid() }).contains("printer"));
        let sb = Settings { connection: ConnectionKind::ServiceBus, service_bus_connection_string: "foo".into(), ..valid() };
        assert!(refused(&sb).contains("SharedAccessKey"), "{}", refused(&sb));
        let bad_key = Settings { service_bus_connection_string: "Endpoint=sb://x/;SharedAccessKey=k".into(), ..sb };
        assert!(refused(&bad_key).contains("SharedAccessKeyName"), "{}", refused(&bad_key));
        let broker = Settings { connection: ConnectionKind::AmqpBroker, amqp_url: "http://x".into(), ..valid() };
        assert!(refused(&broker).contains("AMQP broker"), "{}", refused(&broker));
    }

    #[test]
    fn two_credentials_on_the_screen_are_checked_and_read_back() {
        // Two Service Bus strings: each EntityPath must be its queue (checked before any key is kept).
        let listen = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-listen;SharedAccessKey=a2V5;EntityPath=ngoc-requests";
        let send = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-send;SharedAccessKey=a2V5;EntityPath=ngoc-notifications";
        let sb = Settings {
            connection: ConnectionKind::ServiceBus,
            service_bus_connection_string: send.into(),
            service_bus_outbound_connection_string: listen.into(),
            ..valid()
        };
        let why = refused(&sb);
        assert!(why.contains("inbound credential `partner-send` was issued for queue `ngoc-notifications`"), "{why}");
        assert!(!why.contains("a2V5"), "{why}");
        // The outbound string as shown (no key) with nothing in the keyring: asked for whole.
        let shown = Settings {
            service_bus_connection_string: listen.into(),
            service_bus_outbound_connection_string: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-send".into(),
            ..sb
        };
        assert!(refused(&shown).contains("whole outbound connection string"), "{}", refused(&shown));

        // A rehearsal broker with a second user for the sending side.
        let broker = Settings {
            connection: ConnectionKind::AmqpBroker,
            amqp_url: "amqp://ngoc-reader:r@127.0.0.1:5672".into(),
            amqp_outbound_url: "amqp://ngoc-writer:w@127.0.0.1:5672".into(),
            ..valid()
        };
        let mut config = Config::default();
        apply(&mut config, &broker).expect("valid");
        assert_eq!(config.amqp_outbound_url.as_deref(), Some("amqp://ngoc-writer:w@127.0.0.1:5672"));
        // The screen shows the passwords as `***`; sent back unchanged, they stay as they were.
        let shown = Settings {
            amqp_url: "amqp://ngoc-reader:***@127.0.0.1:5672".into(),
            amqp_outbound_url: "amqp://ngoc-writer:***@127.0.0.1:5672".into(),
            ..broker.clone()
        };
        assert_eq!(view(&config), shown);
        let before = config.clone();
        apply(&mut config, &shown).expect("unchanged");
        assert_eq!((config.amqp_url, config.amqp_outbound_url), (before.amqp_url, before.amqp_outbound_url), "passwords kept");
        let other = Settings { amqp_outbound_url: "amqp://ngoc-writer:w@127.0.0.1:5999".into(), ..broker };
        assert!(refused(&other).contains("same broker"), "{}", refused(&other));
    }

    #[test]
    fn what_the_screen_sets_lands_in_the_config_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A folder of its own: the one holding the config file is refused.
        std::fs::create_dir(dir.path().join("hot")).expect("mkdir");
        let s = Settings {
            hot_folder: dir.path().join("hot").display().to_string(),
            hot_folder_card_id_column: "CardID".into(),
            reader_filter: "ACR122".into(),
            printer: "slips".into(),
            holder_on_slips: HolderOnSlips::Initials,
            mask_holder: false,
            sound: false,
            retention_days: 90,
            require_carrier: true,
            require_tracking: true,
            connection: ConnectionKind::AmqpBroker,
            // Without a user: a password would need the OS keyring, which a test machine lacks
            // (the CLI's tests file one in CARDBENCH_SECRETS_DIR).
            amqp_url: "amqp://127.0.0.1:5672".into(),
            inbound_queue: "in".into(),
            outbound_queue: "out".into(),
            ..valid()
        };
        let mut config = Config::default();
        apply(&mut config, &s).expect("valid");
        assert_eq!(config.devices.hotfolder.folder.as_deref(), Some(dir.path().join("hot").as_path()));
        assert_eq!(config.devices.reader.name_filter.as_deref(), Some("ACR122"));
        assert_eq!(config.documents.print.printer.as_deref(), Some("slips"));
        assert_eq!(config.transport, TransportKind::ServiceBus);
        assert_eq!(config.queues.inbound, "in");
        let file = dir.path().join("config.toml");
        config.save(&file).expect("save");
        assert_eq!(view(&Config::load_file(&file).expect("load")), s);

        // Back to the simulator: the broker URL is dropped, the transport is the embedded one.
        let mut back = Config::load_file(&file).expect("load");
        apply(&mut back, &Settings { connection: ConnectionKind::Simulator, ..s }).expect("valid");
        assert_eq!((back.transport, back.amqp_url), (TransportKind::Embedded, None));
    }

    /// Issue 15: the store URL and the station's name in Settings. A URL left as shown keeps the
    /// one in use; anything but postgres:// is refused; blank is this machine's own file.
    #[test]
    fn the_store_url_and_station_are_set_from_the_screen() {
        let mut config = Config::default();
        let floor = Settings { store_url: "postgres://cardbench@db.floor:5432/cardbench".into(), station: " LINE-1 ".into(), ..valid() };
        apply(&mut config, &floor).expect("valid");
        assert_eq!(config.store.url.as_deref(), Some("postgres://cardbench@db.floor:5432/cardbench"));
        assert_eq!(config.store.station.as_deref(), Some("LINE-1"));
        let shown = view(&config);
        assert_eq!((shown.store_url.as_str(), shown.station.as_str()), ("postgres://cardbench@db.floor:5432/cardbench", "LINE-1"));
        // As the screen showed it, after the password went to the keyring: kept as it is.
        config.store.url = Some("postgres://cardbench:secret@db.floor:5432/cardbench".into());
        let again = view(&config);
        assert_eq!(again.store_url, "postgres://cardbench:***@db.floor:5432/cardbench", "never shown with its password");
        apply(&mut config, &again).expect("valid");
        assert_eq!(config.store.url.as_deref(), Some("postgres://cardbench:secret@db.floor:5432/cardbench"), "the one in use is kept");

        assert!(refused(&Settings { store_url: "mysql://db/cardbench".into(), ..valid() }).contains("postgres://"));
        assert!(refused(&Settings { station: "x".repeat(65), ..valid() }).contains("station"));
        apply(&mut config, &Settings { store_url: "  ".into(), station: String::new(), ..valid() }).expect("valid");
        assert_eq!((config.store.url, config.store.station), (None, None), "blank: this machine's own file, the host name");
    }
}
