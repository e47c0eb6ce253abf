//! `cardbench webhook …` and `cardbench forward …`: the bureau's own systems as subscribers of
//! Cardbench's events. The rules are the workflow's (`reporting::subscribers`) and the hooks
//! crate's (delivery, signatures); this only reads arguments and prints.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cardbench_hooks::delivery::{self, Attempt};
use cardbench_hooks::signature;
use cardbench_workflow::reporting::subscribers as subs;
use cardbench_workflow::reporting::SubscriberKind;
use clap::{Args, Subcommand};

use crate::context::Context;
use crate::exit::{NotFound, Usage};
use crate::say;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook; prints its shared secret ONCE (kept in the OS keyring).
    Add {
        name: String,
        /// https://…, or http:// to a loopback host only.
        #[arg(long)]
        url: String,
        /// Topics, comma-separated: REQUEST_RECEIVED, REQUEST_REFUSED, CARD_PRODUCED, REPORT_OK,
        /// CARD_ERROR, SHIPPED, SHIPPED_OK, SHIPMENT_ERROR.
        #[arg(long, value_delimiter = ',', required = true)]
        topics: Vec<String>,
        /// How the signature is written: hex (lowercase, default) or base64.
        #[arg(long, default_value = "hex")]
        encoding: String,
    },
    /// The webhooks: URL, topics, state, why paused, events waiting, last attempt.
    List,
    /// Remove a webhook (its secret leaves the keyring; its history stays).
    Remove { name: String },
    /// Start a paused webhook again; its waiting events go at once.
    Resume { name: String },
    /// Send a signed test event now and show the answer.
    Test { name: String },
    /// Check a received signature: the body on stdin. Exit 0 when it matches, 1 when not, 2 on
    /// bad usage (unreadable secret file, malformed signature).
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A file holding the shared secret as text (a trailing newline is ignored).
    #[arg(long)]
    pub secret_file: PathBuf,
    /// The X-Nexus-Signature header's value: `HMAC-SHA256=<hex or base64>`.
    #[arg(long)]
    pub signature: String,
}

#[derive(Debug, Subcommand)]
pub enum ForwardCommand {
    /// Add an HTTP event forwarding sink. The password comes from --password-file or stdin,
    /// never from an argument; it is kept in the OS keyring.
    Add {
        name: String,
        #[arg(long)]
        url: String,
        /// BASIC user.
        #[arg(long)]
        user: String,
        /// A file holding the password (a trailing newline is ignored). Without it: read from stdin.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Topics, comma-separated (default CARD_PRODUCED,SHIPPED).
        #[arg(long, value_delimiter = ',')]
        topics: Vec<String>,
        /// A JSON file with the field mapping and the rest of the sink's settings
        /// (docs/forwarding.md); default: the built-in mapping.
        #[arg(long)]
        settings_file: Option<PathBuf>,
    },
    /// The sinks: URL, topics, state, why paused, events waiting, last attempt.
    List,
    /// Remove a sink (its password leaves the keyring; its history stays).
    Remove { name: String },
    /// Start a stopped sink again (e.g. after its credentials were fixed).
    Resume { name: String },
    /// Send a valid sample Event now and show the answer.
    Test { name: String },
}

/// `webhook verify` needs no configuration or store: it runs before the context is made.
pub fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let secret = read_secret_file(&args.secret_file)?;
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body).context("cannot read the body from stdin")?;
    match signature::check(secret.as_bytes(), &body, &args.signature) {
        Ok(true) => {
            say!("signature matches");
            Ok(())
        }
        Ok(false) => Err(anyhow::Error::new(Mismatch)),
        Err(e) => Err(anyhow::Error::new(Usage(e.to_string()))),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the signature does not match the body")]
struct Mismatch;

/// A secret or password file's text; one trailing newline (LF or CRLF) is not part of it.
fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::Error::new(Usage(format!("cannot read {}: {e}", path.display()))))?;
    let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    if text.is_empty() {
        return Err(anyhow::Error::new(Usage(format!("{} is empty", path.display()))));
    }
    Ok(text.to_owned())
}

pub fn webhook(ctx: &Context, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { name, url, topics, encoding } => {
            let encoding = subs::SignatureEncoding::parse(&encoding)
                .ok_or_else(|| anyhow::Error::new(Usage(format!("unknown encoding {encoding:?}: hex or base64"))))?;
            let topics = subs::parse_topics(&topics).map_err(|e| anyhow::Error::new(Usage(e.to_string())))?;
            let store = ctx.store()?;
            let (sub, secret) = subs::add_webhook(&store, &name, &url, &topics, encoding)?;
            if ctx.json {
                crate::output::json(&serde_json::json!({ "name": sub.name, "url": sub.url, "secret": secret.expose() }))?;
            } else {
                say!("webhook {} added: {}", sub.name, sub.url);
                say!("secret (shown once; give it to the receiver, it signs every request):");
                say!("{}", secret.expose());
            }
            Ok(())
        }
        WebhookCommand::List => list(ctx, SubscriberKind::Webhook),
        WebhookCommand::Remove { name } => remove(ctx, SubscriberKind::Webhook, &name),
        WebhookCommand::Resume { name } => resume(ctx, &name),
        WebhookCommand::Test { name } => test(ctx, &name),
        WebhookCommand::Verify(args) => verify(&args),
    }
}

pub fn forward(ctx: &Context, command: ForwardCommand) -> anyhow::Result<()> {
    match command {
        ForwardCommand::Add { name, url, user, password_file, topics, settings_file } => {
            let password = match password_file {
                Some(path) => read_secret_file(&path)?,
                None => read_password_from_stdin()?,
            };
            let settings = match settings_file {
                Some(path) => std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?,
                None => "{}".to_owned(),
            };
            // Read as the sender will read it, so a mistake shows now, not at the first event.
            let mut parsed = cardbench_hooks::forward::ForwardSettings::from_json(&settings)
                .map_err(|e| anyhow::Error::new(Usage(format!("the settings file: {e}"))))?;
            parsed.user = user.clone();
            let settings = serde_json::to_value(&parsed)?;
            let topics = if topics.is_empty() {
                cardbench_hooks::forward::DEFAULT_TOPICS.iter().map(|t| (*t).to_owned()).collect()
            } else {
                topics
            };
            let topics = subs::parse_topics(&topics).map_err(|e| anyhow::Error::new(Usage(e.to_string())))?;
            let store = ctx.store()?;
            let sub = subs::add_forward(&store, &name, &url, &topics, &user, &cardbench_secrets::Secret::new(password), settings)?;
            say!("forwarding sink {} added: {} as {}", sub.name, sub.url, user);
            Ok(())
        }
        ForwardCommand::List => list(ctx, SubscriberKind::Forward),
        ForwardCommand::Remove { name } => remove(ctx, SubscriberKind::Forward, &name),
        ForwardCommand::Resume { name } => resume(ctx, &name),
        ForwardCommand::Test { name } => test(ctx, &name),
    }
}

fn read_password_from_stdin() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for the sink (or use --password-file): ");
    }
    let mut line = String::new();
    stdin.read_line(&mut line).context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(anyhow::Error::new(Usage("no password given: --password-file FILE, or one line on stdin".into())));
    }
    Ok(password)
}

fn list(ctx: &Context, kind: SubscriberKind) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let rows: Vec<_> = cardbench_hooks::admin::overview(&store)?.into_iter().filter(|s| s.kind == kind).collect();
    if ctx.json {
        return crate::output::json(&rows);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.url.clone(),
                s.topics.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(","),
                s.state().to_owned(),
                s.paused_reason.clone().unwrap_or_default(),
                s.pending.to_string(),
                s.last_attempt
                    .as_ref()
                    .map(|a| format!("{} {} {}", a.at, a.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()), a.outcome))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    crate::output::table(&["NAME", "URL", "TOPICS", "STATE", "PAUSED BECAUSE", "WAITING", "LAST ATTEMPT"], &table);
    Ok(())
}

fn remove(ctx: &Context, kind: SubscriberKind, name: &str) -> anyhow::Result<()> {
    let store = ctx.store()?;
    if !subs::get(&store, name)?.is_some_and(|s| s.kind == kind) {
        return Err(anyhow::Error::new(NotFound(format!("no {} named {name}", kind.as_str()))));
    }
    subs::remove(&store, kind, name)?;
    say!("{} {name} removed; its waiting events stay in the outbox", kind.as_str());
    Ok(())
}

fn resume(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let store = ctx.store()?;
    if !cardbench_hooks::admin::resume(&store, name)? {
        return Err(anyhow::Error::new(NotFound(format!("no subscriber named {name}"))));
    }
    say!("{name} resumed: its waiting events go now");
    Ok(())
}

fn test(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let workflow = ctx.workflow()?;
    let config = ctx.config.hooks.clone();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let attempt: Attempt = runtime.block_on(delivery::send_test(&workflow, &config, name)).map_err(|e| match e {
        cardbench_hooks::HooksError::UnknownSubscriber(n) => anyhow::Error::new(NotFound(format!("no subscriber named {n}"))),
        other => anyhow::Error::new(other),
    })?;
    if ctx.json {
        crate::output::json(&attempt)?;
    } else {
        say!(
            "{}: {} in {} ms{}",
            attempt.outcome.as_str(),
            attempt.status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "no answer".into()),
            attempt.latency_ms,
            attempt.error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
        );
        if let Some(r) = &attempt.response {
            say!("response: {r}");
        }
    }
    match attempt.outcome {
        cardbench_hooks::Outcome::Delivered => Ok(()),
        _ => anyhow::bail!("the test event was not delivered"),
    }
}
