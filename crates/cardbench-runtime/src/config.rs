//! Configuration: defaults, then the config file, then environment variables, then flags (the
//! caller applies flags last). Shared by the CLI and the desktop app so both read the same file.
//!
//! Secrets never live here: a Service Bus key goes to the OS keyring.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is invalid: {source}")]
    Parse { path: String, source: toml::de::Error },
    #[error("cannot write config file {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot encode the configuration: {0}")]
    Encode(#[from] toml::ser::Error),
    #[error("no home directory: set CARDBENCH_DATA_DIR and CARDBENCH_CONFIG")]
    NoHome,
    #[error("invalid setting {setting}: {reason}")]
    Invalid { setting: &'static str, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the store and the embedded queues live. Empty: the platform data directory.
    pub data_dir: Option<PathBuf>,
    /// The operator every change is audited under, unless given per command.
    pub operator: Option<String>,
    pub queues: QueueNames,
    pub transport: TransportKind,
    /// Run the embedded NGOC simulator inside the daemon (default with the embedded transport).
    pub simulator: bool,
    /// Requests the in-process simulator generates per minute (0: only on demand).
    pub simulator_requests_per_minute: u32,
    /// How the simulator writes what NGOC may write otherwise than the contract
    /// (`[simulator_wire]`: `offsetless_times`, `correlation` = both | body | property | neither |
    /// rotate), to rehearse NGOC's real forms on the simulator.
    pub simulator_wire: cardbench_sim::WireForms,
    /// How often the simulator injects each fault (`[simulator_faults]`: `invalid_request`,
    /// `spurious_error`, `lost_answer`, …, 0.0 to 1.0), so operators can practise every refusal.
    #[serde(skip_serializing_if = "is_default")]
    pub simulator_faults: cardbench_sim::FaultRates,
    /// The embedded queues' duplicate detection, in seconds: a messageId seen within it is
    /// dropped, as NGOC's Service Bus queues do for 5 days (the default). 0 turns it off, to
    /// rehearse on the simulator what a resend does once the window has passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_duplicate_window_seconds: Option<u64>,
    /// Azure Service Bus namespace and queues (no key: that is in the OS keyring). Used when
    /// `transport = "service_bus"`.
    pub servicebus: Option<cardbench_amqp::ServiceBusSettings>,
    /// A plain AMQP 1.0 broker (`amqp://user:pass@127.0.0.1:5672`) for rehearsals and tests; takes
    /// the place of `servicebus`. Also `CARDBENCH_AMQP_URL`. Its user receives (the inbound
    /// credential), and sends too unless `amqp_outbound_url` is set.
    pub amqp_url: Option<String>,
    /// The same broker with the sending side's user (NGOC's outbound credential: write on the
    /// outbound queue only), for rehearsing with two credentials. Also `CARDBENCH_AMQP_OUTBOUND_URL`.
    pub amqp_outbound_url: Option<String>,
    /// Packing slips, billing, shift reports: sender, masking, cost centres, printer.
    pub documents: cardbench_documents::DocumentsConfig,
    /// PC/SC readers, the encoder hot folder, job export.
    pub devices: cardbench_devices::DevicesConfig,
    /// This workstation's screens: sound, masking in lists, how long history is kept.
    pub workstation: WorkstationConfig,
    /// Report fields not built in (`[report_fields.NAME]`, see [`crate::report_config`]).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub report_fields: std::collections::BTreeMap<String, cardbench_protocol::FieldSpec>,
    /// External report data by article (`[external_report_data]`).
    #[serde(skip_serializing_if = "crate::report_config::ExternalReportDataConfig::is_empty")]
    pub external_report_data: crate::report_config::ExternalReportDataConfig,
    /// How received messages are read where NGOC's form leaves a choice.
    pub protocol: ProtocolConfig,
    /// The card API (`[api]`: `enabled`, `listen`, `allow_remote`); its token is in the OS keyring.
    #[serde(skip_serializing_if = "is_default")]
    pub api: cardbench_api::ApiConfig,
    /// Where the worklist lives (`[store]`): the data directory's SQLite file unless `url` names
    /// a floor's shared PostgreSQL store.
    #[serde(skip_serializing_if = "StoreConfig::is_default")]
    pub store: StoreConfig,
    /// `[hooks]`: retries and pausing of the webhook and event-forwarding senders.
    #[serde(skip_serializing_if = "is_default")]
    pub hooks: cardbench_hooks::delivery::HooksConfig,
}

/// `[store]`: the worklist's engine. Also `CARDBENCH_STORE_URL` and `CARDBENCH_STATION`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database`: the floor's shared store (the password is kept in
    /// the OS keyring, never in this file). Empty: SQLite in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// This station's name on the floor (shown beside what it did); default: the host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// How long this station's sending leases last without renewal, in seconds (default 15,
    /// `cardbench_workflow::floor::SENDING_LEASE`): how long the rows of a station that died wait
    /// before another station sends them. Shorter for tests; longer on a slow network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_lease_secs: Option<u64>,
}

impl StoreConfig {
    fn is_default(&self) -> bool {
        *self == StoreConfig::default()
    }

    /// The shared store's URL when one is set (blank counts as none).
    pub fn shared_url(&self) -> Option<&str> {
        self.url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }
}

/// `[protocol]`: readings of what NGOC sends that the contract leaves open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtocolConfig {
    /// The IANA zone (`UTC`, `Europe/Stockholm`) a received time without offset is read in:
    /// NGOC's samples write `2022-02-04T09:36:45.650982100`, with no offset.
    pub received_time_zone: String,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig { received_time_zone: "UTC".into() }
    }
}

/// Preferences of the people at this workstation (the desktop app's settings screen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkstationConfig {
    /// A tone on success and failure at the production station.
    pub sound: bool,
    /// Holder names shown masked ("Å•• Ö••••") in lists, in full only at the production station.
    pub mask_holder: bool,
    /// Days cardholder data is kept after NGOC's SHIPPED_OK (30–3650); then the daemon's daily
    /// run (and `cardbench purge --now`) purges it (`cardbench_workflow::retention`).
    pub retention_days: u32,
    /// Every parcel must name its carrier (the app's Send and `cardbench ship` refuse without).
    pub require_carrier: bool,
    /// Every parcel must name its tracking id.
    pub require_tracking: bool,
}

impl Default for WorkstationConfig {
    fn default() -> Self {
        WorkstationConfig { sound: true, mask_holder: true, retention_days: 365, require_carrier: false, require_tracking: false }
    }
}

impl WorkstationConfig {
    /// What every parcel must name, for [`cardbench_workflow::Workflow::with_ship_rules`].
    pub fn ship_rules(&self) -> cardbench_workflow::ShipRules {
        cardbench_workflow::ShipRules { require_carrier: self.require_carrier, require_tracking: self.require_tracking }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueNames {
    /// NGOC → us.
    pub inbound: String,
    /// Us → NGOC.
    pub outbound: String,
}

impl Default for QueueNames {
    fn default() -> Self {
        QueueNames { inbound: "ngoc-requests".into(), outbound: "ngoc-notifications".into() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Durable local queues in the data directory, with the NGOC simulator on the other end.
    #[default]
    Embedded,
    /// Azure Service Bus (or an AMQP 1.0 broker) over AMQP.
    ServiceBus,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            operator: None,
            queues: QueueNames::default(),
            transport: TransportKind::Embedded,
            simulator: true,
            simulator_requests_per_minute: 6,
            simulator_wire: cardbench_sim::WireForms::default(),
            simulator_faults: cardbench_sim::FaultRates::default(),
            embedded_duplicate_window_seconds: None,
            servicebus: None,
            amqp_url: None,
            amqp_outbound_url: None,
            documents: cardbench_documents::DocumentsConfig::default(),
            devices: cardbench_devices::DevicesConfig::default(),
            workstation: WorkstationConfig::default(),
            protocol: ProtocolConfig::default(),
            report_fields: Default::default(),
            external_report_data: Default::default(),
            api: cardbench_api::ApiConfig::default(),
            store: StoreConfig::default(),
            hooks: Default::default(),
        }
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn project_dirs() -> Result<directories::ProjectDirs, ConfigError> {
    directories::ProjectDirs::from("", "", "cardbench").ok_or(ConfigError::NoHome)
}

/// The config file: `CARDBENCH_CONFIG`, else the one beside `CARDBENCH_DATA_DIR`'s data, else
/// `<platform config dir>/config.toml` (the rule of [`Locations::resolve`]).
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    Ok(Locations::resolve(None, None)?.config_file)
}

/// The config file beside a data directory given without one.
pub const CONFIG_BESIDE_DATA: &str = "config.toml";

/// Where one process keeps its config and its data: the one rule the app, the CLI and the
/// daemon share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    pub config_file: PathBuf,
    /// Given by a flag or the environment (the config file's `data_dir` is read later, by
    /// [`Config::data_dir`]).
    pub data_dir: Option<PathBuf>,
}

impl Locations {
    /// `config`/`data_dir`: what the command line gave; the environment (`CARDBENCH_CONFIG`,
    /// `CARDBENCH_DATA_DIR`) fills what it did not. A data directory given without a config
    /// file keeps its config beside the data: a trial or test store must never read or change
    /// the user's real settings.
    pub fn resolve(config: Option<&Path>, data_dir: Option<&Path>) -> Result<Locations, ConfigError> {
        let data_dir = data_dir.map(Path::to_owned).or_else(|| std::env::var_os("CARDBENCH_DATA_DIR").map(PathBuf::from));
        let config_file = match config.map(Path::to_owned).or_else(|| std::env::var_os("CARDBENCH_CONFIG").map(PathBuf::from)) {
            Some(file) => file,
            None => match &data_dir {
                Some(dir) => dir.join(CONFIG_BESIDE_DATA),
                None => project_dirs()?.config_dir().join("config.toml"),
            },
        };
        Ok(Locations { config_file, data_dir })
    }

    /// Loads the config file (missing: defaults), with the environment and the given data
    /// directory applied.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let mut config = Config::load(&self.config_file)?;
        if let Some(dir) = &self.data_dir {
            config.data_dir = Some(dir.clone());
        }
        Ok(config)
    }
}

/// The platform's own data directory, where nothing was given.
pub fn platform_data_dir() -> Result<PathBuf, ConfigError> {
    Ok(project_dirs()?.data_dir().to_owned())
}

/// Whether using `data_dir` would create the platform's own data directory: it is that
/// directory and it does not exist yet. A bench must never do that (the app and the CLI alike).
pub fn would_create_platform_data_dir(data_dir: &Path) -> bool {
    platform_data_dir().is_ok_and(|d| d == data_dir) && !data_dir.exists()
}

impl Config {
    /// The simulator as this config sets it: the daemon's in-process one and `cardbench sim`
    /// alike, on the same queues.
    pub fn sim_config(&self) -> cardbench_sim::SimConfig {
        cardbench_sim::SimConfig {
            requests_queue: self.queues.inbound.clone(),
            notifications_queue: self.queues.outbound.clone(),
            requests_per_minute: self.simulator_requests_per_minute,
            wire: self.simulator_wire.clone(),
            faults: self.simulator_faults.clone(),
            ..cardbench_sim::SimConfig::default()
        }
    }

    /// The file alone, without environment overrides: what a settings change edits and saves.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.display().to_string(), source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read { path: path.display().to_string(), source }),
        }
    }

    /// Loads `path` if it exists (a missing file means defaults), then applies the environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::load_file(path)?;
        if let Some(dir) = std::env::var_os("CARDBENCH_DATA_DIR") {
            config.data_dir = Some(PathBuf::from(dir));
        }
        if let Ok(operator) = std::env::var("CARDBENCH_OPERATOR") {
            config.operator = Some(operator);
        }
        if let Ok(url) = std::env::var("CARDBENCH_AMQP_URL")
            && !url.trim().is_empty()
        {
            config.amqp_url = Some(url.trim().to_owned());
            config.transport = TransportKind::ServiceBus;
        }
        if let Ok(url) = std::env::var("CARDBENCH_STORE_URL")
            && !url.trim().is_empty()
        {
            config.store.url = Some(url.trim().to_owned());
        }
        if let Ok(station) = std::env::var("CARDBENCH_STATION")
            && !station.trim().is_empty()
        {
            config.store.station = Some(station.trim().to_owned());
        }
        if let Ok(url) = std::env::var("CARDBENCH_AMQP_OUTBOUND_URL")
            && !url.trim().is_empty()
        {
            config.amqp_outbound_url = Some(url.trim().to_owned());
        }
        config.validate_for(Some(path))?;
        Ok(config)
    }

    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate_for(Some(path))?;
        let text = toml::to_string_pretty(&self.for_file()?)?;
        // 0600, written to a temporary file, fsynced, renamed over, the directory fsynced: a
        // crash or power cut leaves the old file or the new one, never half of one.
        cardbench_store::private_files::write_atomic(path, text.as_bytes())
            .map_err(|source| ConfigError::Write { path: path.display().to_string(), source })
    }

    /// The shared store's URL with its password (from the keyring when the file keeps the URL
    /// without it), or None for the SQLite store in the data directory.
    pub fn store_url(&self) -> Result<Option<String>, ConfigError> {
        let Some(url) = self.store.shared_url() else { return Ok(None) };
        // A keyring that cannot be asked holds no password for it: the server then says whether
        // it wants one (a trust or certificate login needs none).
        let password = cardbench_amqp::secrets::load_url_password(url).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the OS keyring cannot be asked for the store's password; connecting without one");
            None
        });
        let Some(password) = password else {
            return Ok(Some(url.to_owned()));
        };
        let mut parsed = url::Url::parse(url)
            .map_err(|e| ConfigError::Invalid { setting: "store.url", reason: format!("not a URL: {e}") })?;
        parsed
            .set_password(Some(password.expose()))
            .map_err(|()| ConfigError::Invalid { setting: "store.url", reason: "cannot carry a password".into() })?;
        Ok(Some(parsed.to_string()))
    }

    /// This station's name on the floor: `[store] station`, else the host name.
    pub fn station(&self) -> String {
        self.store
            .station
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "station".into())
    }

    /// Refuses settings that cannot work, with the reason.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_for(None)
    }

    /// [`Config::validate`], the hot folder checked against `config_file` too: the file this
    /// config is read from or written to (None: the default one).
    fn validate_for(&self, config_file: Option<&Path>) -> Result<(), ConfigError> {
        for (setting, name) in [("queues.inbound", &self.queues.inbound), ("queues.outbound", &self.queues.outbound)] {
            if name.trim().is_empty() {
                return Err(ConfigError::Invalid { setting, reason: "a queue name is required".into() });
            }
        }
        if self.queues.inbound == self.queues.outbound {
            return Err(ConfigError::Invalid {
                setting: "queues",
                reason: "inbound and outbound must be different queues".into(),
            });
        }
        if self.transport == TransportKind::ServiceBus && self.servicebus.is_none() && self.amqp_url.is_none() {
            return Err(ConfigError::Invalid {
                setting: "transport",
                reason: "service_bus needs a [servicebus] section (or amqp_url): run `cardbench config set-servicebus`".into(),
            });
        }
        if self.amqp_outbound_url.is_some() && self.amqp_url.is_none() {
            return Err(ConfigError::Invalid {
                setting: "amqp_outbound_url",
                reason: "is the sending side's user on the broker of amqp_url: set amqp_url (the receiving side's) too".into(),
            });
        }
        if let Some(url) = self.store.shared_url()
            && !cardbench_store::postgres::is_postgres_url(url)
        {
            return Err(ConfigError::Invalid {
                setting: "store.url",
                reason: "must be postgres://user@host:port/database (leave it empty for the SQLite store in the data directory)"
                    .into(),
            });
        }
        if self.operator.as_deref().is_some_and(|o| o.trim().is_empty()) {
            return Err(ConfigError::Invalid { setting: "operator", reason: "must not be blank".into() });
        }
        self.devices.validate().map_err(|(setting, reason)| ConfigError::Invalid { setting, reason })?;
        self.documents.billing.validate().map_err(|(setting, reason)| ConfigError::Invalid { setting, reason })?;
        self.check_simulator_faults()?;
        self.check_hot_folder(config_file)?;
        self.report_settings()?;
        if !(30..=3650).contains(&self.workstation.retention_days) {
            return Err(ConfigError::Invalid { setting: "workstation.retention_days", reason: "between 30 and 3650 days".into() });
        }
        if self.store.sending_lease_secs.is_some_and(|s| !(1..=3600).contains(&s)) {
            return Err(ConfigError::Invalid { setting: "store.sending_lease_secs", reason: "between 1 and 3600 seconds".into() });
        }
        self.decode_options()?;
        self.api.listen_addr().map_err(|e| ConfigError::Invalid { setting: "api.listen", reason: e.to_string() })?;
        Ok(())
    }

    /// This config as the file keeps it: a broker URL's password filed in the OS keyring (or
    /// `CARDBENCH_SECRETS_DIR`) like a SAS key, the URL written without it.
    fn for_file(&self) -> Result<Config, ConfigError> {
        let mut file = self.clone();
        for (setting, url) in
            [("amqp_url", &mut file.amqp_url), ("amqp_outbound_url", &mut file.amqp_outbound_url), ("store.url", &mut file.store.url)]
        {
            if let Some(u) = url {
                *u = cardbench_amqp::secrets::store_url_password(u).map_err(|e| ConfigError::Invalid {
                    setting,
                    reason: format!("cannot keep the password in the OS keyring (it is never written to a file): {e}"),
                })?;
            }
        }
        Ok(file)
    }

    /// This config with every broker URL password shown as `***`: for `config show` and screens.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        for url in [&mut shown.amqp_url, &mut shown.amqp_outbound_url, &mut shown.store.url].into_iter().flatten() {
            if cardbench_amqp::config::url_credential(url).is_some() {
                *url = cardbench_amqp::config::redact_url(url);
            }
        }
        shown
    }

    /// Sets the rehearsal broker's URLs (the receiving side's, and the sending side's if it has
    /// its own user) and switches to it. Checked first; passwords go to the keyring on save.
    pub fn use_amqp_urls(&mut self, url: &str, outbound_url: Option<&str>) -> Result<(), ConfigError> {
        cardbench_amqp::ServiceBusConfig::from_amqp_urls(url, outbound_url, &self.queues.inbound, &self.queues.outbound)
            .map_err(|e| ConfigError::Invalid { setting: "amqp_url", reason: e.to_string() })?;
        self.amqp_url = Some(url.to_owned());
        self.amqp_outbound_url = outbound_url.map(str::to_owned);
        self.transport = TransportKind::ServiceBus;
        Ok(())
    }

    /// The directories and files Cardbench keeps its own data in, which the hot folder must
    /// stay clear of: it moves every file it takes. `config_file`: the file in use (default:
    /// [`default_config_path`]).
    pub fn own_directories(&self, config_file: Option<&Path>) -> Vec<cardbench_devices::hotfolder::OwnDirectory> {
        let mut own = Vec::new();
        let data_dirs = self.data_dir().ok().into_iter().chain(std::env::var_os("CARDBENCH_DATA_DIR").map(PathBuf::from));
        for data in data_dirs {
            own.push(("the data directory", data.clone()));
            own.push(("the log directory", data.join("logs")));
            own.push(("the documents directory", data.join("documents")));
        }
        // The dedicated directory when the platform's is used; otherwise the file alone (a
        // CARDBENCH_CONFIG file may sit in a directory shared with anything).
        if let Ok(dirs) = project_dirs() {
            own.push(("the config directory", dirs.config_dir().to_owned()));
        }
        if let Some(file) = config_file.map(Path::to_owned).or_else(|| default_config_path().ok()) {
            own.push(("the config file", file));
        }
        own
    }

    fn check_simulator_faults(&self) -> Result<(), ConfigError> {
        let f = &self.simulator_faults;
        let rates = [f.invalid_request, f.duplicate_send, f.card_conflict, f.spurious_error, f.lost_answer];
        if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err(ConfigError::Invalid { setting: "simulator_faults", reason: "each rate is between 0.0 (never) and 1.0 (always)".into() });
        }
        Ok(())
    }

    /// Refuses a hot folder that is, contains or lies inside one of [`Config::own_directories`]
    /// (pointed at the data directory it would move the live database into `failed/`).
    fn check_hot_folder(&self, config_file: Option<&Path>) -> Result<(), ConfigError> {
        let Some(folder) = &self.devices.hotfolder.folder else {
            return Ok(());
        };
        cardbench_devices::hotfolder::refuse_own_directories(folder, &self.own_directories(config_file))
            .map_err(|reason| ConfigError::Invalid { setting: "devices.hotfolder.folder", reason })
    }

    /// How the workflow reads received bodies (`[protocol]`).
    pub fn decode_options(&self) -> Result<cardbench_protocol::DecodeOptions, ConfigError> {
        let zone = cardbench_protocol::ReceivedZone::named(&self.protocol.received_time_zone)
            .map_err(|e| ConfigError::Invalid { setting: "protocol.received_time_zone", reason: e.to_string() })?;
        // A body larger than the link's maximum message size is not decoded (the AMQP receiver
        // passes on only its first max + 1 bytes).
        let max_body_bytes = self.servicebus.as_ref().map_or(cardbench_amqp::DEFAULT_MAX_MESSAGE_SIZE, |s| s.max_message_size);
        Ok(cardbench_protocol::DecodeOptions {
            received_time_zone: zone,
            max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(usize::MAX),
        })
    }

    /// Switches to Azure Service Bus from a pasted connection string for both queues: the key
    /// goes to the OS keyring (never to this file), the rest into `[servicebus]`.
    pub fn use_service_bus(&mut self, connection_string: &str, inbound: &str, outbound: &str) -> Result<(), ConfigError> {
        self.use_service_bus_strings(connection_string, None, inbound, outbound)
    }

    /// Switches to Azure Service Bus from pasted connection strings: `first` for the receiving
    /// side (and the sending side too when `outbound_string` is `None`), `outbound_string` for
    /// the sending side, as NGOC hands them out (Listen on the inbound queue, Send on the
    /// outbound one, each with `EntityPath`). An empty queue name is taken from the EntityPath;
    /// a different one is refused. Keys go to the OS keyring (never to this file), the rest into
    /// `[servicebus]`. Shared by `cardbench config set-servicebus` and the app's settings screen.
    pub fn use_service_bus_strings(&mut self, first: &str, outbound_string: Option<&str>, inbound: &str, outbound: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { setting: "servicebus", reason };
        let parse = |which: &str, s: &str| {
            cardbench_amqp::ConnectionString::parse(s).map_err(|e| invalid(format!("{which}: {e}")))
        };
        let first = parse(if outbound_string.is_some() { "the inbound connection string" } else { "the connection string" }, first)?;
        let second = outbound_string.map(|s| parse("the outbound connection string", s)).transpose()?;
        let settings = cardbench_amqp::ServiceBusSettings::from_connection_strings(&first, second.as_ref(), inbound, outbound)
            .map_err(|e| invalid(e.to_string()))?;
        // Checked before any key is filed: a refused pair leaves the keyring as it was.
        for cs in std::iter::once(&first).chain(second.as_ref()) {
            cardbench_amqp::secrets::store_secret_for(&cs.host, &cs.rule, cs.entity_path.as_deref(), &cs.key)
                .map_err(|e| invalid(format!("cannot keep the key in the OS keyring (it is never written to a file): {e}")))?;
        }
        let (inbound, outbound) = (settings.inbound_queue.clone(), settings.outbound_queue.clone());
        self.servicebus = Some(settings);
        self.use_queues(&inbound, &outbound);
        self.transport = TransportKind::ServiceBus;
        Ok(())
    }

    /// The queue names, for whichever transport is in use.
    pub fn use_queues(&mut self, inbound: &str, outbound: &str) {
        self.queues.inbound = inbound.to_owned();
        self.queues.outbound = outbound.to_owned();
        if let Some(sb) = &mut self.servicebus {
            sb.inbound_queue = inbound.to_owned();
            sb.outbound_queue = outbound.to_owned();
        }
    }

    /// The AMQP settings in effect with the key from the keyring, or `None` on the embedded transport.
    pub fn amqp(&self) -> Result<Option<cardbench_amqp::ServiceBusConfig>, ConfigError> {
        if self.transport != TransportKind::ServiceBus {
            return Ok(None);
        }
        let invalid = |e: cardbench_amqp::ConfigError| ConfigError::Invalid { setting: "servicebus", reason: e.to_string() };
        if let Some(url) = &self.amqp_url {
            let mut config = cardbench_amqp::ServiceBusConfig::from_amqp_urls(
                url,
                self.amqp_outbound_url.as_deref(),
                &self.queues.inbound,
                &self.queues.outbound,
            )
            .map_err(invalid)?;
            // A URL kept without its password: the password is in the keyring.
            if let Some(password) = url_password(url, "amqp_url")?
                && let cardbench_amqp::Auth::SaslPlain { password: p, .. } = &mut config.auth
            {
                *p = password;
            }
            if let Some(out) = &self.amqp_outbound_url
                && let Some(password) = url_password(out, "amqp_outbound_url")?
                && let Some(cardbench_amqp::Auth::SaslPlain { password: p, .. }) = &mut config.outbound_auth
            {
                *p = password;
            }
            return Ok(Some(config));
        }
        match &self.servicebus {
            Some(settings) => Ok(Some(settings.clone().load_config().map_err(invalid)?)),
            None => Ok(None),
        }
    }

    /// The data directory in effect.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => platform_data_dir(),
        }
    }
}

/// The keyring's password for a broker URL written without one (`None`: the URL has its own,
/// or no user, or none was filed).
fn url_password(url: &str, setting: &'static str) -> Result<Option<cardbench_amqp::config::Secret>, ConfigError> {
    cardbench_amqp::secrets::load_url_password(url).map_err(|e| ConfigError::Invalid {
        setting,
        reason: format!("the password of {} is kept in the OS keyring, which cannot be read: {e}", cardbench_amqp::config::redact_url(url)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_means_defaults_and_a_saved_file_loads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let loaded = Config::load(&path).expect("defaults");
        assert_eq!(loaded.queues, QueueNames::default());
        let mut config = Config { operator: Some("Åsa".into()), ..Config::default() };
        config.queues.inbound = "in".into();
        config.save(&path).expect("save");
        let again = Config::load(&path).expect("load");
        assert_eq!(again.operator.as_deref(), std::env::var("CARDBENCH_OPERATOR").ok().as_deref().or(Some("Åsa")));
        assert_eq!(again.queues.inbound, "in");
    }

    #[test]
    fn the_config_file_is_written_private_and_whole() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("etc/cardbench/config.toml");
        Config { operator: Some("Åsa".into()), ..Config::default() }.save(&path).expect("save");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "the file");
        assert_eq!(mode(path.parent().expect("dir")), 0o700, "a directory it had to create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        Config::default().save(&path).expect("save again");
        assert_eq!(mode(&path), 0o600, "a file made readable by hand is private again after a save");
        let names: Vec<String> = std::fs::read_dir(path.parent().expect("dir")).expect("list").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["config.toml"], "no temporary file left");
    }

    #[test]
    fn invalid_settings_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[queues]\ninbound = \"q\"\noutbound = \"q\"\n").expect("write");
        let err = Config::load(&path).expect_err("same queue twice");
        assert!(err.to_string().contains("different queues"), "{err}");
        std::fs::write(&path, "colour = \"blue\"\n").expect("write");
        let err = Config::load(&path).expect_err("unknown key");
        assert!(err.to_string().contains("colour"), "a typo in the file must be named: {err}");
    }

    #[test]
    fn a_stations_sending_lease_is_read_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).expect("defaults").store.sending_lease_secs, None, "the workflow's default");
        std::fs::write(&path, "[store]\nsending_lease_secs = 3\n").expect("write");
        assert_eq!(Config::load(&path).expect("valid").store.sending_lease_secs, Some(3));
        std::fs::write(&path, "[store]\nsending_lease_secs = 0\n").expect("write");
        let err = Config::load(&path).expect_err("no lease at all");
        assert!(err.to_string().contains("store.sending_lease_secs"), "{err}");
    }

    #[test]
    fn the_zone_of_received_times_is_read_checked_and_utc_by_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).expect("defaults").decode_options().expect("options").received_time_zone.name(), "UTC");
        std::fs::write(&path, "[protocol]\nreceived_time_zone = \"Europe/Stockholm\"\n").expect("write");
        let config = Config::load(&path).expect("valid zone");
        assert_eq!(config.decode_options().expect("options").received_time_zone.name(), "Europe/Stockholm");
        std::fs::write(&path, "[protocol]\nreceived_time_zone = \"Europe/Atlantis\"\n").expect("write");
        let err = Config::load(&path).expect_err("unknown zone");
        assert!(err.to_string().contains("protocol.received_time_zone"), "{err}");
    }

    #[test]
    fn a_rehearsal_broker_takes_a_second_url_for_the_sending_side() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "transport = \"service_bus\"\namqp_url = \"amqp://ngoc-reader:r@127.0.0.1:5672\"\n\
             amqp_outbound_url = \"amqp://ngoc-writer:w@127.0.0.1:5672\"\n",
        )
        .expect("write");
        let config = Config::load_file(&path).expect("two urls");
        let amqp = config.amqp().expect("valid").expect("broker");
        assert_eq!(amqp.inbound_auth().name(), "ngoc-reader");
        assert_eq!(amqp.outbound_auth().name(), "ngoc-writer");
        // The sending side's URL alone means nothing.
        let only_out = Config { amqp_url: None, transport: TransportKind::Embedded, ..config.clone() };
        let err = only_out.validate().expect_err("outbound url alone");
        assert!(err.to_string().contains("amqp_outbound_url"), "{err}");
        // Another broker for the sending side is refused, naming what differs.
        let other = Config { amqp_outbound_url: Some("amqp://ngoc-writer:w@127.0.0.1:5673".into()), ..config };
        let err = other.amqp().expect_err("other broker");
        assert!(err.to_string().contains("same broker"), "{err}");
    }

    #[test]
    fn two_connection_strings_are_checked_before_any_key_is_kept() {
        let listen = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-listen;SharedAccessKey=a2V5;EntityPath=ngoc-requests";
        let send = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=partner-send;SharedAccessKey=a2V5;EntityPath=ngoc-notifications";
        let mut config = Config::default();
        // Swapped: the inbound string was issued for the outbound queue.
        let err = config.use_service_bus_strings(send, Some(listen), "ngoc-requests", "ngoc-notifications").expect_err("swapped");
        let text = err.to_string();
        assert!(text.contains("inbound credential `partner-send` was issued for queue `ngoc-notifications`"), "{text}");
        assert!(!text.contains("a2V5"), "never the key: {text}");
        assert_eq!(config, Config::default(), "a refused pair changes nothing");
        let err = config.use_service_bus(listen, "ngoc-requests", "ngoc-notifications").expect_err("one queue-level string for both");
        assert!(err.to_string().contains("one connection string per queue"), "{err}");
        let err = config.use_service_bus_strings(listen, Some("Endpoint=sb://ns/;SharedAccessKey=k"), "", "").expect_err("bad second");
        assert!(err.to_string().contains("the outbound connection string: the connection string has no `SharedAccessKeyName=`"), "{err}");
    }

    #[test]
    fn a_hot_folder_over_our_own_directories_is_refused_on_load_and_save() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let data = dir.path().join("data");
        let with_hot = |hot: &Path| {
            let mut config = Config { data_dir: Some(data.clone()), ..Config::default() };
            config.devices.hotfolder.folder = Some(hot.to_owned());
            config
        };
        for (hot, says) in [
            (data.clone(), "it is the data directory"),
            (data.join("documents").join("slips"), "lies inside the data directory"),
            (dir.path().to_owned(), "contains the data directory"),
        ] {
            let err = with_hot(&hot).save(&path).expect_err("refused");
            let text = err.to_string();
            assert!(text.contains("devices.hotfolder.folder") && text.contains(says), "{}: {text}", hot.display());
        }
        assert!(!path.exists(), "a refused config is not written");
        // Written by hand, the file is refused when read.
        std::fs::write(&path, format!("data_dir = {:?}\n[devices.hotfolder]\nfolder = {:?}\n", data, data.join("."))).expect("write");
        if std::env::var_os("CARDBENCH_DATA_DIR").is_none() {
            let err = Config::load(&path).expect_err("refused on load");
            assert!(err.to_string().contains("it is the data directory"), "{err}");
        }
        // The folder holding the config file is refused; one beside it is fine.
        let err = with_hot(dir.path()).check_hot_folder(Some(&path)).expect_err("holds the config file");
        assert!(err.to_string().contains("the config file") || err.to_string().contains("data directory"), "{err}");
        with_hot(&dir.path().join("hot")).save(&path).expect("a folder of its own");
    }

    #[test]
    fn the_devices_section_is_read_checked_and_typos_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[devices.hotfolder]\nfolder = \"/srv/in\"\ncard_id_column = \"CardID\"\n[devices.hotfolder.columns]\nUID = \"MIFARE_UID\"\n\
             [devices.export]\nfolder = \"/srv/jobs\"\nbom = true\n",
        )
        .expect("write");
        let config = Config::load(&path).expect("valid devices section");
        assert_eq!(config.devices.hotfolder.columns.get("UID").map(String::as_str), Some("MIFARE_UID"));
        assert!(config.devices.export.bom);
        std::fs::write(&path, "[devices.export]\nfolder = \"/x\"\n[devices.hotfolder]\nfolder = \"/x\"\n").expect("write");
        let err = Config::load(&path).expect_err("same folder");
        assert!(err.to_string().contains("devices.export.folder"), "{err}");
        std::fs::write(&path, "[devices.hotfolder]\nfoldr = \"/x\"\n").expect("write");
        let err = Config::load(&path).expect_err("typo");
        assert!(err.to_string().contains("foldr"), "{err}");
    }
}
