//! One module per command group; `dispatch` routes the parsed command line.

mod api;
mod bench;
mod cards;
mod config;
pub(crate) mod devices;
mod documents;
pub(crate) mod hooks;
mod production;
pub(crate) mod purge;
mod queue;
mod run;
mod servicebus;
mod shipping;
mod sim;
mod status;
mod store;

use crate::cli::{Cli, Command};
use crate::context::Context;

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    // Needs neither configuration nor store (a receiving system runs it).
    if let Command::Webhook(hooks::WebhookCommand::Verify(args)) = &cli.command {
        return hooks::verify(args);
    }
    let ctx = Context::new(&cli.global, cli.json)?;
    match cli.command {
        Command::Run(args) => run::run(&ctx, &args),
        Command::Status => status::status(&ctx),
        Command::Cards(c) => cards::cards(&ctx, c),
        Command::Capture(args) => production::capture(&ctx, &args, args.produce),
        Command::Produce(args) => production::capture(&ctx, &args, true),
        Command::Spoil { card_id, reason } => production::spoil(&ctx, &card_id, &reason),
        Command::Refuse { card_id, code, details } => production::refuse(&ctx, &card_id, &code, &details),
        Command::Shipments(c) => shipping::shipments(&ctx, c),
        Command::Ship(args) => shipping::ship(&ctx, &args),
        Command::Inbox(args) => queue::inbox(&ctx, &args),
        Command::Outbox(args) => queue::outbox(&ctx, &args),
        Command::Resend { outbox_id } => queue::resend(&ctx, outbox_id),
        Command::Conflicts(c) => queue::conflicts(&ctx, c),
        Command::Sim(c) => sim::sim(&ctx, c),
        Command::Bench(args) => bench::bench(&ctx, &args),
        Command::Config(c) => config::config(&ctx, c),
        Command::Store(c) => store::store(&ctx, c),
        Command::Slip { target, out, print } => documents::slip(&ctx, &target, &out, print),
        Command::Manifest(p) => documents::manifest(&ctx, &p),
        Command::Billing(p) => documents::billing(&ctx, &p),
        Command::ShiftReport(p) => documents::shift_report(&ctx, &p),
        Command::CheckConnection => servicebus::check_connection(&ctx),
        Command::DeadLetters(c) => servicebus::dead_letters(&ctx, c),
        Command::Reader(c) => devices::reader(&ctx, c),
        Command::Hotfolder(c) => devices::hotfolder(&ctx, c),
        Command::ExportJob(args) => devices::export_job(&ctx, &args),
        Command::Purge(args) => purge::purge(&ctx, &args),
        Command::Api(c) => api::api(&ctx, c),
        Command::Webhook(c) => hooks::webhook(&ctx, c),
        Command::Forward(c) => hooks::forward(&ctx, c),
    }
}
