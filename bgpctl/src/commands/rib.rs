//! `bgpctl rib ...`.

use std::net::IpAddr;

use bgp_api::bgpd::v1::{
    AddPathRequest, DeletePathRequest, Family, GetTableCountsRequest, ListPathsRequest, Match,
    Origin, Path, Table,
};

use super::{Ctx, unary, usage};
use crate::cli::{FamilyArg, RibAdd, RibCmd, RibList, TableArg, TableSel};
use crate::error::Error;
use crate::format::{human, json, names};
use crate::parse;

pub(super) async fn run(ctx: &mut Ctx<'_>, action: Option<RibCmd>) -> Result<(), Error> {
    match action {
        None => {
            let all = RibList {
                prefix: None,
                family: None,
                table: TableSel {
                    table: TableArg::Loc,
                    peer: None,
                },
                longer: false,
                shorter: false,
                all: false,
            };
            list(ctx, &all).await
        }
        Some(RibCmd::List(args)) => list(ctx, &args).await,
        Some(RibCmd::Add(args)) => {
            let path = path(&args)?;
            ctx.client
                .add_path(unary(AddPathRequest { path: Some(path) }))
                .await
                .map_err(ctx.failed("rib add"))?;
            ctx.done(format!("route {} added", args.prefix))
        }
        Some(RibCmd::Del { prefix }) => {
            let req = DeletePathRequest {
                prefix: prefix.to_string(),
            };
            ctx.client
                .delete_path(unary(req))
                .await
                .map_err(ctx.failed("rib del"))?;
            ctx.done(format!("route {prefix} deleted"))
        }
        Some(RibCmd::Count(sel)) => count(ctx, &sel).await,
    }
}

/// The API's table and peer, after checking that `--peer` goes with `--table in|out`.
fn table(command: &'static str, sel: &TableSel) -> Result<(Table, String), Error> {
    let table = match sel.table {
        TableArg::Loc => Table::Loc,
        TableArg::In => Table::AdjIn,
        TableArg::Out => Table::AdjOut,
    };
    match (table, sel.peer) {
        (Table::Loc, Some(_)) => Err(usage(
            command,
            "--peer selects a neighbor's table: give it with --table in or --table out",
        )),
        (_, peer) => Ok((table, peer.map(|p| p.to_string()).unwrap_or_default())),
    }
}

fn family(f: FamilyArg) -> Family {
    match f {
        FamilyArg::Ipv4 => Family::Ipv4Unicast,
        FamilyArg::Ipv6 => Family::Ipv6Unicast,
    }
}

/// The `ListPathsRequest` for `rib list`, after the local checks.
pub(super) fn list_request(args: &RibList) -> Result<ListPathsRequest, Error> {
    const CMD: &str = "rib list";
    let (table, peer) = table(CMD, &args.table)?;
    let (prefix, r#match) = match args.prefix {
        None => (String::new(), Match::Exact),
        Some(filter) => {
            if let Some(f) = args.family
                && (f == FamilyArg::Ipv4) != filter.prefix.addr.is_ipv4()
            {
                return Err(usage(
                    CMD,
                    format!(
                        "{} is not in --family {}",
                        filter.prefix,
                        names::family(family(f) as i32)
                    ),
                ));
            }
            let r#match = match (args.longer, args.shorter) {
                (true, _) => Match::Longer,
                (_, true) => Match::Shorter,
                // A bare address asks which routes cover it.
                _ if filter.host => Match::Shorter,
                _ => Match::Exact,
            };
            (filter.prefix.to_string(), r#match)
        }
    };
    Ok(ListPathsRequest {
        table: table as i32,
        family: args.family.map_or(Family::Unspecified, family) as i32,
        peer,
        prefix,
        r#match: r#match as i32,
        all_paths: args.all,
    })
}

async fn list(ctx: &mut Ctx<'_>, args: &RibList) -> Result<(), Error> {
    let req = list_request(args)?;
    let mut stream = ctx
        .client
        .list_paths(req)
        .await
        .map_err(ctx.failed("rib list"))?
        .into_inner();
    let mut paths = Vec::new();
    while let Some(batch) = stream.message().await.map_err(ctx.failed("rib list"))? {
        paths.extend(batch.paths);
    }
    sort(&mut paths);
    ctx.emit(&json::Routes::new(&paths), || human::routes(&paths))
}

/// Puts paths in prefix order (IPv4 before IPv6, then by address and length), the best path
/// of a prefix first; the order bgpd streams them in is its own.
pub(super) fn sort(paths: &mut [Path]) {
    paths.sort_by_cached_key(|p| {
        let prefix = parse::prefix(&p.prefix).ok().map(|n| {
            let bits = match n.addr {
                IpAddr::V4(a) => u128::from(u32::from(a)),
                IpAddr::V6(a) => u128::from(a),
            };
            (n.addr.is_ipv6(), bits, n.len)
        });
        // Prefixes bgpd sent that do not parse go last, in their own order.
        (prefix.is_none(), prefix, !p.best, !p.multipath)
    });
}

/// The `Path` that `rib add` sends, after the local checks.
pub(super) fn path(args: &RibAdd) -> Result<Path, Error> {
    if let Some(nh) = args.next_hop
        && nh.is_ipv4() != args.prefix.addr.is_ipv4()
    {
        return Err(usage(
            "rib add",
            format!(
                "--next-hop {nh} and the prefix {} are of different families",
                args.prefix
            ),
        ));
    }
    Ok(Path {
        prefix: args.prefix.to_string(),
        next_hop: args
            .next_hop
            .map(|n: IpAddr| n.to_string())
            .unwrap_or_default(),
        origin: Origin::from(args.origin) as i32,
        as_path: args.as_path.clone().unwrap_or_default().0,
        med: args.med,
        local_pref: args.local_pref,
        communities: args.community.clone(),
        large_communities: args.large_community.clone(),
        extended_communities: args.ext_community.clone(),
        ..Path::default()
    })
}

async fn count(ctx: &mut Ctx<'_>, sel: &TableSel) -> Result<(), Error> {
    const CMD: &str = "rib count";
    let (table, peer) = table(CMD, sel)?;
    let req = GetTableCountsRequest {
        table: table as i32,
        peer: peer.clone(),
    };
    let c = ctx
        .client
        .get_table_counts(unary(req))
        .await
        .map_err(ctx.failed(CMD))?
        .into_inner();
    let peer = (!peer.is_empty()).then_some(peer);
    let name = names::table(table as i32);
    ctx.emit(&json::Counts::new(name, peer.as_deref(), &c), || {
        human::counts(name, peer.as_deref(), &c)
    })
}
