//! The commands: each turns its arguments into API calls and prints the answers.

mod monitor;
mod neighbor;
pub(crate) mod policy;
mod rib;
#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::time::Duration;

use bgp_api::bgpd::v1::{GetGlobalRequest, ReloadRequest, SetGlobalRequest};
use clap::CommandFactory;
use serde::Serialize;
use tonic::{Request, Status};

use crate::addr::{ApiAddr, Client};
use crate::cli::{Cli, Command, GlobalCmd, Output};
use crate::error::Error;
use crate::format::{human, json};

/// How long a one-answer call may take before bgpctl gives up on it.
const UNARY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs one command line, writing its output to `out`.
pub(crate) async fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Error> {
    let command = match cli.command {
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "bgpctl", out);
            return Ok(());
        }
        command => command,
    };
    let tls = cli.tls.settings(&cli.api)?;
    let mut ctx = Ctx {
        client: cli.api.connect(tls.as_ref()).await?,
        api: cli.api,
        output: cli.output,
        out,
    };
    match command {
        Command::Global { action: None } => global(&mut ctx).await,
        Command::Global {
            action: Some(GlobalCmd::Set { asn, router_id }),
        } => global_set(&mut ctx, asn, router_id.map(|r| r.to_string())).await,
        Command::Neighbor { action } => neighbor::run(&mut ctx, action).await,
        Command::Rib { action } => rib::run(&mut ctx, action).await,
        Command::Monitor(args) => monitor::run(&mut ctx, &args).await,
        Command::Policy { action } => policy::run(&mut ctx, action).await,
        Command::Reload => reload(&mut ctx).await,
        // Answered above, without a connection.
        Command::Completion { .. } => Ok(()),
    }
}

/// What every command needs: the connection, where it goes, and how to print.
pub(crate) struct Ctx<'a> {
    client: Client,
    api: ApiAddr,
    output: Output,
    out: &'a mut dyn Write,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("api", &self.api)
            .field("output", &self.output)
            .finish()
    }
}

impl Ctx<'_> {
    /// Maps a failed call made for `command` to an error.
    fn failed(&self, command: &'static str) -> impl Fn(Status) -> Error + '_ {
        move |status| Error::from_status(command, &self.api.to_string(), &status)
    }

    /// Prints `value` as one JSON document, or `text()` for people.
    fn emit<T: Serialize>(
        &mut self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), Error> {
        match self.output {
            Output::Json => {
                let doc = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
                writeln!(self.out, "{doc}")?;
            }
            Output::Table => self.out.write_all(text().as_bytes())?,
        }
        self.out.flush()?;
        Ok(())
    }

    /// Prints `{}` for JSON, or `message` and a newline for people.
    fn done(&mut self, message: impl std::fmt::Display) -> Result<(), Error> {
        self.emit(&json::Empty {}, || format!("{message}\n"))
    }
}

/// A request for a call that answers once, with a deadline.
fn unary<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(UNARY_TIMEOUT);
    request
}

/// A local check failed: a usage error.
fn usage(command: &'static str, message: impl Into<String>) -> Error {
    Error::Usage {
        command,
        message: message.into(),
    }
}

async fn global(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let g = ctx
        .client
        .get_global(unary(GetGlobalRequest {}))
        .await
        .map_err(ctx.failed("global"))?
        .into_inner();
    ctx.emit(&json::Global::from(&g), || human::global(&g))
}

async fn global_set(
    ctx: &mut Ctx<'_>,
    asn: Option<u32>,
    router_id: Option<String>,
) -> Result<(), Error> {
    const CMD: &str = "global set";
    if asn.is_none() && router_id.is_none() {
        return Err(usage(CMD, "give --asn, --router-id or both"));
    }
    let summary = [
        asn.map(|a| format!("AS {a}")),
        router_id.clone().map(|r| format!("router ID {r}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    ctx.client
        .set_global(unary(SetGlobalRequest { asn, router_id }))
        .await
        .map_err(ctx.failed(CMD))?;
    ctx.done(format!("set {summary}"))
}

async fn reload(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let r = ctx
        .client
        .reload(unary(ReloadRequest {}))
        .await
        .map_err(ctx.failed("reload"))?
        .into_inner();
    ctx.emit(&json::Reload::from(&r), || human::reload(&r))
}
