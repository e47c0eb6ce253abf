//! The command tree.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cardbench", version, about = "Cardbench: the production partner's workstation for NGOC card production")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// More log output on stderr (RUST_LOG overrides).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Data directory (store and embedded queues). Default: the platform data directory.
    #[arg(long, global = true, env = "CARDBENCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file. Default: config.toml beside the data when a data directory is given, else the
    /// platform config directory's config.toml.
    #[arg(long, global = true, env = "CARDBENCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Operator name every change is audited under.
    #[arg(long, global = true, env = "CARDBENCH_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: receive requests, send notifications (and, on the embedded transport, run
    /// the NGOC simulator) until Ctrl-C.
    Run(RunArgs),
    /// Counts by status, link state, outbox depth.
    Status,
    /// The worklist.
    #[command(subcommand)]
    Cards(CardsCommand),
    /// Save readouts for a card (FIELD=VALUE ...), optionally producing it.
    Capture(CaptureArgs),
    /// Produce a card: save any readouts given and send CARD_PRODUCED.
    Produce(CaptureArgs),
    /// A card must be made again (misprint, bad chip): clears its readouts.
    Spoil {
        card_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Refuse a request that cannot be produced: ERROR with CODE goes to NGOC and the card leaves
    /// the worklist as refused. Irreversible (NGOC may send the card again with new content).
    Refuse {
        card_id: String,
        /// UNKNOWN_ARTICLE, CARD_LAYOUT_MISMATCH, PHOTO_UNUSABLE or REQUEST_REFUSED.
        #[arg(long)]
        code: String,
        /// Why, in one line for NGOC (no cardholder data).
        #[arg(long)]
        details: String,
    },
    /// Shipments and their gating state.
    #[command(subcommand)]
    Shipments(ShipmentsCommand),
    /// Send one parcel of a shipment (SHIPPED).
    Ship(ShipArgs),
    /// Received messages.
    Inbox(InboxArgs),
    /// Messages to send and sent.
    Outbox(OutboxArgs),
    /// Put an outbox message back in line (same messageId).
    Resend { outbox_id: i64 },
    /// Requests that reused a cardId with different content.
    #[command(subcommand)]
    Conflicts(ConflictsCommand),
    /// The NGOC simulator.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Measure throughput and latency against baselines measured in the same run.
    Bench(BenchArgs),
    /// Show or write the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The store itself: moving a station's worklist onto a floor's shared PostgreSQL store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Packing slip(s) as PDF: a parcel id, or a shipmentId for all its parcels.
    Slip {
        target: String,
        #[arg(long)]
        out: std::path::PathBuf,
        /// Also send it to the configured printer (CUPS `lp`).
        #[arg(long)]
        print: bool,
    },
    /// Parcels shipped from day --from to day --to (both included) as PDF and CSV.
    Manifest(PeriodArgs),
    /// One billing CSV per organisation for the days --from to --to, both included (COSTCENTRE, INVOICENUMBER, ARTICLENUMBER, QUANTITY, ORDERDATE).
    Billing(PeriodArgs),
    /// Per operator and shift: received, produced, spoiled, REPORT_OK, errors, shipped (PDF + CSV).
    ShiftReport(PeriodArgs),
    /// Connect to the configured Service Bus and say precisely what fails: DNS, TCP, TLS, auth,
    /// queue not found, no permission.
    CheckConnection,
    /// Messages in the inbound queue's dead-letter queue (Service Bus / AMQP only).
    #[command(subcommand)]
    DeadLetters(DeadLettersCommand),
    /// PC/SC card readers: list them, or read cards as they are put on.
    #[command(subcommand)]
    Reader(crate::cmd::devices::ReaderCommand),
    /// The encoder hot folder: take the personalization machine's result files.
    #[command(subcommand)]
    Hotfolder(crate::cmd::devices::HotfolderCommand),
    /// Write a production job file (CSV) for the personalization machine.
    ExportJob(crate::cmd::devices::ExportJobArgs),
    /// Purge cardholder data of cards shipped (SHIPPED_OK) more than `workstation.retention_days`
    /// ago: database rows, hot-folder result files, job exports, packing slips. The daemon does
    /// this daily; this runs it now, or shows what it would take.
    Purge(crate::cmd::purge::PurgeArgs),
    /// The card API for the bureau's own systems (docs/api.md): its token and state.
    #[command(subcommand)]
    Api(ApiCommand),
    /// Signed webhooks to the bureau's own systems: add, list, remove, resume, test, verify.
    #[command(subcommand)]
    Webhook(crate::cmd::hooks::WebhookCommand),
    /// HTTP event forwarding sinks (BASIC auth, validated Events): add, list, remove, resume, test.
    #[command(subcommand)]
    Forward(crate::cmd::hooks::ForwardCommand),
}

/// A period of whole days, `--from 2026-11-01 --to 2026-11-30`, both included (UTC days, the same
/// rule as the app's period documents), and where to write.
#[derive(Debug, Args)]
pub struct PeriodArgs {
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub to: String,
    /// Folder the files are written into (created if missing), named by the period.
    #[arg(long)]
    pub out: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum DeadLettersCommand {
    /// Dead letters, oldest first, left in place (peeked where the broker can).
    List {
        #[arg(long, default_value_t = 50)]
        max: usize,
    },
    /// One dead letter with its raw body.
    Show { message_id: String },
    /// Record a dead letter as if it had just been received (same checks, dedupe and answers),
    /// then remove it from the dead-letter queue. Nothing is sent to the inbound queue.
    Import { message_id: String },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Do not run the embedded NGOC simulator even on the embedded transport.
    #[arg(long)]
    pub no_sim: bool,
    /// Stop after this many seconds (for scripts and tests).
    #[arg(long)]
    pub for_seconds: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum CardsCommand {
    /// List cards, oldest first.
    List(ListCardsArgs),
    /// One card with its readouts, timeline and next step.
    Show { card_id: String },
    /// Take a card for this station and operator (a floor's other stations show it as taken and
    /// cannot produce it), or renew this station's claim; it runs out after two minutes unless
    /// taken again, and producing the card ends it.
    Take { card_id: String },
    /// Give this station's claim on a card up, so another station may take it at once.
    Release { card_id: String },
}

#[derive(Debug, Args)]
pub struct ListCardsArgs {
    /// Only these statuses (received, readouts_captured, produced, report_ok, report_error,
    /// shipped, shipped_ok, ship_error, refused); repeatable.
    #[arg(long = "status")]
    pub statuses: Vec<String>,
    #[arg(long)]
    pub organisation: Option<String>,
    #[arg(long)]
    pub shipment: Option<String>,
    #[arg(long)]
    pub article: Option<String>,
    /// Prefix of a cardId or shipmentId; of a holder name too, unless holder names are masked
    /// (`workstation.mask_holder`: then a name finds nothing).
    #[arg(long)]
    pub search: Option<String>,
    /// Received on or after this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Received on or before this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub to: Option<String>,
    /// Sort by received (default), card, organisation, shipment, article, holder or status.
    #[arg(long, default_value = "received")]
    pub sort: String,
    /// Newest (or highest) first.
    #[arg(long)]
    pub desc: bool,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    pub card_id: String,
    /// Readouts as FIELD=VALUE, e.g. MIFARE_UID=04:A2:2B:1C.
    pub readouts: Vec<String>,
    /// Where the values came from, for the audit trail.
    #[arg(long, default_value = "typed")]
    pub source: String,
    /// (capture only) produce the card once the readouts are saved.
    #[arg(long)]
    pub produce: bool,
}

#[derive(Debug, Subcommand)]
pub enum ShipmentsCommand {
    List {
        /// Only shipments with cards still to ship.
        #[arg(long)]
        open: bool,
        #[arg(long)]
        organisation: Option<String>,
    },
    Show { shipment_id: String },
}

#[derive(Debug, Args)]
pub struct ShipArgs {
    pub shipment_id: String,
    /// A card in this parcel; repeatable. Omit with --all-ready to take every ready card.
    #[arg(long = "card")]
    pub cards: Vec<String>,
    /// Every card of the shipment that is ready (REPORT_OK).
    #[arg(long)]
    pub all_ready: bool,
    /// An accessory as ARTICLE:ACCESSORY:QUANTITY; repeatable.
    #[arg(long = "accessory")]
    pub accessories: Vec<String>,
    /// Every accessory still to ship, in full.
    #[arg(long)]
    pub all_accessories: bool,
    #[arg(long)]
    pub carrier: Option<String>,
    #[arg(long)]
    pub tracking: Option<String>,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Show one message with its raw body.
    pub id: Option<i64>,
    #[arg(long)]
    pub subject: Option<String>,
    /// accepted, duplicate, rejected, ignored
    #[arg(long)]
    pub outcome: Option<String>,
    #[arg(long)]
    pub card: Option<String>,
    #[arg(long)]
    pub shipment: Option<String>,
    /// Received on or after this day (YYYY-MM-DD, UTC; the period rule of the app's filters).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// With an id: print only the body (cardholder fields masked when `workstation.mask_holder`).
    #[arg(long)]
    pub raw: bool,
    /// With an id: show the body unmasked, as received. Audited under the operator's name
    /// (`--operator`).
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Show one message with its body.
    pub id: Option<i64>,
    #[arg(long)]
    pub subject: Option<String>,
    /// Only messages not yet sent.
    #[arg(long)]
    pub pending: bool,
    #[arg(long)]
    pub card: Option<String>,
    #[arg(long)]
    pub shipment: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConflictsCommand {
    List {
        #[arg(long)]
        all: bool,
    },
    Resolve {
        id: i64,
        #[arg(long)]
        resolution: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Put N requests (in shipments) on the inbound queue now.
    Generate {
        #[arg(default_value_t = 10)]
        requests: u32,
        /// Cards per shipment at most.
        #[arg(long, default_value_t = 5)]
        max_shipment: u32,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// What the simulator (NGOC's side) received, oldest first, with how many times each
    /// messageId arrived (a resend arrives again with the same one).
    Received {
        /// Only the message with this messageId.
        #[arg(long)]
        message_id: Option<String>,
    },
    /// Run the simulator alone (answers our notifications) until Ctrl-C.
    Run {
        #[arg(long)]
        for_seconds: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Messages in the ingest benchmark.
    #[arg(long, default_value_t = 20_000)]
    pub messages: u32,
    /// Cards in the worklist query benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    pub cards: u32,
    /// Only these benchmarks (ingest, worklist, hotfolder, slip, outage, hooks, broker, pg-ingest, pg-worklist,
    /// pg-latency; `floor` for the three pg-*); default all. `broker` needs CARDBENCH_AMQP_URL (or `amqp_url`)
    /// pointing at an AMQP 1.0 RabbitMQ, the pg-* a PostgreSQL server (--postgres-url); each is skipped without.
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// The PostgreSQL server of the floor benchmarks (pg-*): postgres://user@host:port/db. Each phase
    /// creates a schema of its own there and drops it afterwards.
    #[arg(long, env = "CARDBENCH_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy this station's SQLite worklist (the data directory's store) into an empty PostgreSQL
    /// store, then verify every table by row count and checksum. Refuses a target that holds
    /// anything. The station keeps using its SQLite store until `[store] url` names the target.
    Migrate {
        /// postgres://user:password@host:port/database (the password is not kept anywhere).
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in effect and where it comes from.
    Show,
    /// Set the operator name in the config file.
    SetOperator { name: String },
    /// Work on a floor's shared PostgreSQL store (`postgres://user:password@host:port/db`; the
    /// password goes to the OS keyring, the rest to the config file), or, with `--local`, on the
    /// data directory's SQLite store again. Checked by opening it first.
    SetStore {
        #[arg(long, conflicts_with = "local", required_unless_present = "local")]
        url: Option<String>,
        #[arg(long)]
        local: bool,
        /// This station's name on the floor.
        #[arg(long)]
        station: Option<String>,
    },
    /// Use Azure Service Bus: split and check the connection string(s), keep the keys in the OS
    /// keyring, write the rest to the config file. One string for both queues
    /// (`--connection-string`), or one per queue as NGOC hands them out (Listen on the inbound
    /// queue, Send on the outbound one): `--inbound-connection-string` and
    /// `--outbound-connection-string`.
    SetServicebus {
        /// `Endpoint=sb://HOST/;SharedAccessKeyName=RULE;SharedAccessKey=KEY`: one credential for both queues.
        #[arg(
            long,
            env = "CARDBENCH_SERVICEBUS_CONNECTION_STRING",
            hide_env_values = true,
            conflicts_with = "inbound_connection_string",
            required_unless_present = "inbound_connection_string"
        )]
        connection_string: Option<String>,
        /// The inbound queue's connection string (Listen right; `EntityPath=` the inbound queue).
        #[arg(
            long,
            env = "CARDBENCH_SERVICEBUS_INBOUND_CONNECTION_STRING",
            hide_env_values = true,
            requires = "outbound_connection_string"
        )]
        inbound_connection_string: Option<String>,
        /// The outbound queue's connection string (Send right; `EntityPath=` the outbound queue).
        #[arg(long, env = "CARDBENCH_SERVICEBUS_OUTBOUND_CONNECTION_STRING", hide_env_values = true)]
        outbound_connection_string: Option<String>,
        /// Queue NGOC sends requests to (we listen). Default: the inbound string's EntityPath.
        #[arg(long, default_value = "")]
        inbound: String,
        /// Queue we send notifications to (NGOC listens). Default: the outbound string's EntityPath.
        #[arg(long, default_value = "")]
        outbound: String,
    },
    /// Go back to the embedded transport with the simulator.
    UseSimulator,
    /// Use a plain AMQP 1.0 broker (a rehearsal RabbitMQ): `amqp://USER:PASSWORD@HOST:PORT`. The
    /// password goes to the OS keyring (or CARDBENCH_SECRETS_DIR), the URL without it to the
    /// config file.
    SetAmqpUrl {
        /// The receiving side's URL (and the sending side's too without `--outbound-url`).
        #[arg(env = "CARDBENCH_SET_AMQP_URL", hide_env_values = true)]
        url: String,
        /// The sending side's URL: the same broker, another user.
        #[arg(long, env = "CARDBENCH_SET_AMQP_OUTBOUND_URL", hide_env_values = true)]
        outbound_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Generate the API's bearer token: printed once, kept in the OS keyring.
    Token {
        /// Replace the existing token (the old one stops working when the API next starts).
        #[arg(long)]
        rotate: bool,
    },
    /// Whether the API is enabled, where it would listen, whether a token exists.
    Status,
    /// A card as `GET /api/card/{cardId}` answers it (external report data masked).
    Card { card_id: String },
    /// A shipment as `GET /api/shipment/{shipmentId}` answers it.
    Shipment { shipment_id: String },
}
