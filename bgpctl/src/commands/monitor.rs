//! `bgpctl monitor`: follows the Watch stream until Ctrl-C.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use bgp_api::bgpd::v1::{WatchRequest, WatchResponse};

use super::Ctx;
use crate::cli::{MonitorArgs, Output};
use crate::error::Error;
use crate::format::{human, json, names};

const CMD: &str = "monitor";

/// The `WatchRequest` for the flags: neither `--peers` nor `--routes` means both.
pub(super) fn request(args: &MonitorArgs) -> WatchRequest {
    let both = !args.peers && !args.routes;
    WatchRequest {
        peer_events: args.peers || both,
        best_path_events: args.routes || both,
        initial_dump: args.dump,
    }
}

pub(super) async fn run(ctx: &mut Ctx<'_>, args: &MonitorArgs) -> Result<(), Error> {
    let mut stream = ctx
        .client
        .watch(request(args))
        .await
        .map_err(ctx.failed(CMD))?
        .into_inner();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let response = tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            message = stream.message() => message.map_err(ctx.failed(CMD))?,
        };
        let Some(response) = response else {
            return Err(Error::Unreachable {
                api: ctx.api.to_string(),
                reason: "bgpd ended the watch stream (is it shutting down?)".to_owned(),
            });
        };
        let time = names::rfc3339(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        write_response(ctx.out, ctx.output, &time, &response)?;
        ctx.out.flush()?;
        if response.lagged {
            return Err(Error::Lagged { command: CMD });
        }
    }
}

/// Writes one line per event of a response, then the dump-done and lagged markers.
pub(super) fn write_response(
    out: &mut dyn Write,
    output: Output,
    time: &str,
    response: &WatchResponse,
) -> io::Result<()> {
    let json_line = |out: &mut dyn Write, e: &json::Event| -> io::Result<()> {
        let line = serde_json::to_string(e).map_err(io::Error::other)?;
        writeln!(out, "{line}")
    };
    for event in &response.events {
        match output {
            Output::Json => {
                if let Some(e) = json::Event::new(time, event) {
                    json_line(out, &e)?;
                }
            }
            Output::Table => {
                if let Some(line) = human::event(time, event) {
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    if response.initial_dump_done {
        match output {
            Output::Json => json_line(
                out,
                &json::Event::DumpDone {
                    time: time.to_owned(),
                },
            )?,
            Output::Table => writeln!(out, "{time} initial dump done, following changes")?,
        }
    }
    // In a table the reason goes to stderr with the error; JSON readers see it in the stream.
    if response.lagged && output == Output::Json {
        json_line(
            out,
            &json::Event::Lagged {
                time: time.to_owned(),
            },
        )?;
    }
    Ok(())
}
