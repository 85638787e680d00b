//! `bgpctl neighbor ...`.

use std::net::IpAddr;

use bgp_api::bgpd::v1::{
    AddPeerRequest, DeletePeerRequest, DisablePeerRequest, EnablePeerRequest, Family,
    GetPeerRequest, ListPeersRequest, Peer, PeerConfig, ResetMode, ResetPeerRequest,
};

use super::{Ctx, unary, usage};
use crate::cli::{FamilyArg, NeighborAdd, NeighborCmd};
use crate::error::Error;
use crate::format::{human, json};

/// The longest RFC 9003 shutdown communication, in bytes.
const MAX_MESSAGE: usize = 255;

pub(super) async fn run(ctx: &mut Ctx<'_>, action: Option<NeighborCmd>) -> Result<(), Error> {
    match action.unwrap_or(NeighborCmd::List) {
        NeighborCmd::List => list(ctx).await,
        NeighborCmd::Show { address } => show(ctx, address).await,
        NeighborCmd::Add(args) => add(ctx, args).await,
        NeighborCmd::Del { address } => {
            let req = DeletePeerRequest {
                address: address.to_string(),
            };
            ctx.client
                .delete_peer(unary(req))
                .await
                .map_err(ctx.failed("neighbor del"))?;
            ctx.done(format!("neighbor {address} deleted"))
        }
        NeighborCmd::Reset { address, message } => {
            let message = checked_message("neighbor reset", message)?;
            let req = ResetPeerRequest {
                address: address.to_string(),
                mode: ResetMode::Hard as i32,
                message,
            };
            ctx.client
                .reset_peer(unary(req))
                .await
                .map_err(ctx.failed("neighbor reset"))?;
            ctx.done(format!("neighbor {address} reset"))
        }
        NeighborCmd::Softreset { address, in_, out_ } => {
            let (mode, what) = match (in_, out_) {
                (true, _) => (ResetMode::SoftIn, "inbound"),
                (_, true) => (ResetMode::SoftOut, "outbound"),
                _ => (ResetMode::Soft, "inbound and outbound"),
            };
            let req = ResetPeerRequest {
                address: address.to_string(),
                mode: mode as i32,
                message: String::new(),
            };
            ctx.client
                .reset_peer(unary(req))
                .await
                .map_err(ctx.failed("neighbor softreset"))?;
            ctx.done(format!("neighbor {address} soft reset ({what})"))
        }
        NeighborCmd::Enable { address } => {
            let req = EnablePeerRequest {
                address: address.to_string(),
            };
            ctx.client
                .enable_peer(unary(req))
                .await
                .map_err(ctx.failed("neighbor enable"))?;
            ctx.done(format!("neighbor {address} enabled"))
        }
        NeighborCmd::Disable { address, message } => {
            let message = checked_message("neighbor disable", message)?;
            let req = DisablePeerRequest {
                address: address.to_string(),
                message,
            };
            ctx.client
                .disable_peer(unary(req))
                .await
                .map_err(ctx.failed("neighbor disable"))?;
            ctx.done(format!("neighbor {address} disabled"))
        }
    }
}

/// An RFC 9003 message within its length limit.
fn checked_message(command: &'static str, message: Option<String>) -> Result<String, Error> {
    let message = message.unwrap_or_default();
    if message.len() > MAX_MESSAGE {
        return Err(usage(
            command,
            format!(
                "--message is {} bytes; at most {MAX_MESSAGE} are allowed (RFC 9003)",
                message.len()
            ),
        ));
    }
    Ok(message)
}

/// Peers in address order (IPv4 before IPv6).
fn sorted(mut peers: Vec<Peer>) -> Vec<Peer> {
    peers.sort_by_key(|p| {
        let address = p
            .config
            .as_ref()
            .map(|c| c.address.clone())
            .unwrap_or_default();
        (address.parse::<IpAddr>().ok(), address)
    });
    peers
}

async fn list(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let peers = ctx
        .client
        .list_peers(unary(ListPeersRequest {}))
        .await
        .map_err(ctx.failed("neighbor list"))?
        .into_inner()
        .peers;
    let peers = sorted(peers);
    ctx.emit(&json::Neighbors::new(&peers), || human::neighbors(&peers))
}

async fn show(ctx: &mut Ctx<'_>, address: IpAddr) -> Result<(), Error> {
    let req = GetPeerRequest {
        address: address.to_string(),
    };
    let peer = ctx
        .client
        .get_peer(unary(req))
        .await
        .map_err(ctx.failed("neighbor show"))?
        .into_inner()
        .peer
        .unwrap_or_default();
    ctx.emit(&json::Neighbor::from(&peer), || human::neighbor(&peer))
}

/// The `PeerConfig` that `neighbor add` sends, after the local checks.
pub(super) fn peer_config(args: &NeighborAdd) -> Result<PeerConfig, Error> {
    const CMD: &str = "neighbor add";
    if let Some(local) = args.local_address
        && local.is_ipv4() != args.address.is_ipv4()
    {
        return Err(usage(
            CMD,
            format!(
                "--local-address {local} and the neighbor {} are of different families",
                args.address
            ),
        ));
    }
    let mut families: Vec<i32> = Vec::new();
    for f in &args.family {
        let f = match f {
            FamilyArg::Ipv4 => Family::Ipv4Unicast,
            FamilyArg::Ipv6 => Family::Ipv6Unicast,
        } as i32;
        if !families.contains(&f) {
            families.push(f);
        }
    }
    Ok(PeerConfig {
        address: args.address.to_string(),
        port: args.port.unwrap_or(0),
        peer_asn: args.asn,
        passive: args.passive,
        hold_time: args.hold_time.unwrap_or(0),
        keepalive: 0,
        families,
        local_address: args
            .local_address
            .map(|a| a.to_string())
            .unwrap_or_default(),
        multihop_ttl: args.multihop_ttl.unwrap_or(0),
        route_reflector_client: args.rr_client,
        description: args.description.clone().unwrap_or_default(),
        enabled: None,
        password: args.password.clone().unwrap_or_default(),
        ttl_security: args.ttl_security.unwrap_or(0),
        bind_interface: args.bind_interface.clone().unwrap_or_default(),
        graceful_restart: args.graceful_restart,
        ..args.rules.apply(PeerConfig::default())
    })
}

async fn add(ctx: &mut Ctx<'_>, args: NeighborAdd) -> Result<(), Error> {
    let peer = peer_config(&args)?;
    let req = AddPeerRequest { peer: Some(peer) };
    ctx.client
        .add_peer(unary(req))
        .await
        .map_err(ctx.failed("neighbor add"))?;
    ctx.done(format!("neighbor {} added (AS {})", args.address, args.asn))
}
