//! The command line: every command, argument and its help text.

use std::net::{IpAddr, Ipv4Addr};

use bgp_api::bgpd::v1::{LargeCommunity, Origin};
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::addr::{ApiAddr, DEFAULT_API};
use crate::parse::{self, AsPath, Prefix, PrefixFilter};
use crate::tls::TlsArgs;

/// Manage the Petrel BGP daemon (bgpd) through its gRPC API.
///
/// Exit status: 0 done, 1 bgpd refused the request, 2 usage error, 3 bgpd unreachable.
#[derive(Debug, Parser)]
#[command(name = "bgpctl", version, propagate_version = true)]
pub(crate) struct Cli {
    /// bgpd's API: unix:///PATH, HOST:PORT, http://HOST:PORT or https://HOST:PORT.
    #[arg(
        long,
        global = true,
        env = "BGPCTL_API",
        default_value = DEFAULT_API,
        value_name = "ADDR",
        value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<ApiAddr>())
    )]
    pub(crate) api: ApiAddr,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    /// Output format: aligned tables for people, or JSON for scripts.
    #[arg(short, long, global = true, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show this router's AS, router ID, listen addresses, uptime and counts.
    Global {
        #[command(subcommand)]
        action: Option<GlobalCmd>,
    },
    /// Manage BGP neighbors (lists them without a subcommand).
    #[command(visible_alias = "neighbors")]
    Neighbor {
        #[command(subcommand)]
        action: Option<NeighborCmd>,
    },
    /// Show, originate and withdraw routes (lists the Loc-RIB without a subcommand).
    Rib {
        #[command(subcommand)]
        action: Option<RibCmd>,
    },
    /// Print peer state changes and best-path changes as they happen, until Ctrl-C.
    Monitor(MonitorArgs),
    /// Manage policies: defined sets, policies, neighbours' chains and defaults (lists
    /// the policies without a subcommand).
    Policy {
        #[command(subcommand)]
        action: Option<crate::commands::policy::PolicyCmd>,
    },
    /// Make bgpd re-read its configuration file.
    Reload,
    /// Print a shell completion script: `bgpctl completion bash > /etc/bash_completion.d/bgpctl`.
    Completion {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GlobalCmd {
    /// Set the AS number and/or router ID (only while bgpd has no neighbors).
    Set {
        /// AS number, 1..=4294967295.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        asn: Option<u32>,
        /// Router ID (BGP identifier), an IPv4 address.
        #[arg(long, value_name = "ID")]
        router_id: Option<Ipv4Addr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FamilyArg {
    #[value(alias = "ipv4-unicast")]
    Ipv4,
    #[value(alias = "ipv6-unicast")]
    Ipv6,
}

#[derive(Debug, Subcommand)]
pub(crate) enum NeighborCmd {
    /// List neighbors with their state, uptime and prefix counts.
    #[command(visible_alias = "ls")]
    List,
    /// Show one neighbor in detail.
    Show { address: IpAddr },
    /// Add a neighbor.
    Add(NeighborAdd),
    /// Remove a neighbor (Cease / Peer De-configured) and its routes.
    #[command(visible_alias = "delete")]
    Del { address: IpAddr },
    /// Hard reset: close the session (Cease / Administrative Reset) and start again.
    Reset {
        address: IpAddr,
        /// Shutdown communication sent to the peer (RFC 9003, at most 255 bytes).
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,
    },
    /// Soft reset: re-evaluate the peer's routes (--in, sends ROUTE-REFRESH), re-send ours
    /// (--out), or both (neither flag).
    Softreset {
        address: IpAddr,
        #[arg(long = "in", conflicts_with = "out_")]
        in_: bool,
        #[arg(long = "out")]
        out_: bool,
    },
    /// Start a disabled neighbor.
    Enable { address: IpAddr },
    /// Stop a neighbor (Cease / Administrative Shutdown); it stays down until enabled.
    Disable {
        address: IpAddr,
        /// Shutdown communication sent to the peer (RFC 9003, at most 255 bytes).
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct NeighborAdd {
    /// The neighbor's address.
    pub(crate) address: IpAddr,
    /// The neighbor's AS number (equal to ours for iBGP).
    #[arg(long = "as", value_name = "ASN", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) asn: u32,
    /// Only accept the neighbor's connections; never connect out.
    #[arg(long)]
    pub(crate) passive: bool,
    /// Hold time to propose, seconds: 0 or 3..=65535 (default 90).
    #[arg(long, value_name = "S", value_parser = hold_time)]
    pub(crate) hold_time: Option<u32>,
    /// Address family to negotiate; repeat for both (default: that of the address).
    #[arg(long, value_enum)]
    pub(crate) family: Vec<FamilyArg>,
    /// Source address of the TCP connection.
    #[arg(long, value_name = "IP")]
    pub(crate) local_address: Option<IpAddr>,
    /// eBGP multihop: IP TTL of the session, 1..=255.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=255))]
    pub(crate) multihop_ttl: Option<u32>,
    /// The neighbor is a route reflector client (iBGP only).
    #[arg(long)]
    pub(crate) rr_client: bool,
    /// Free text shown in lists and logs.
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
    /// TCP port to connect to (default 179).
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub(crate) port: Option<u32>,
    /// TCP MD5 password (RFC 2385), at most 80 bytes.
    #[arg(long, value_name = "TEXT")]
    pub(crate) password: Option<String>,
    /// GTSM (RFC 5082): the neighbor is at most N hops away, 1..=254.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=254))]
    pub(crate) ttl_security: Option<u32>,
    /// Bind the session's socket to this interface.
    #[arg(long, value_name = "NAME")]
    pub(crate) bind_interface: Option<String>,
    /// Graceful restart with this neighbor (default: the daemon's [graceful_restart]).
    #[arg(long, value_name = "BOOL")]
    pub(crate) graceful_restart: Option<bool>,
    /// Session rules (eBGP only).
    #[command(flatten)]
    pub(crate) rules: crate::format::rules::RuleArgs,
}

fn hold_time(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(v) if v == 0 || (3..=65535).contains(&v) => Ok(v),
        _ => Err(format!(
            "{s:?} is not a hold time; expected 0 or 3..=65535 seconds"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TableArg {
    /// The best paths (Loc-RIB).
    Loc,
    /// Paths received from --peer (Adj-RIB-In).
    In,
    /// Paths sent to --peer (Adj-RIB-Out).
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OriginArg {
    Igp,
    Egp,
    Incomplete,
}

impl From<OriginArg> for Origin {
    fn from(o: OriginArg) -> Self {
        match o {
            OriginArg::Igp => Origin::Igp,
            OriginArg::Egp => Origin::Egp,
            OriginArg::Incomplete => Origin::Incomplete,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RibCmd {
    /// List routes; a bare address (192.0.2.1) lists the routes that cover it.
    #[command(visible_alias = "ls")]
    List(RibList),
    /// Originate a route (replacing one added earlier for the same prefix).
    Add(RibAdd),
    /// Withdraw a route added with `rib add`.
    #[command(visible_alias = "delete")]
    Del {
        #[arg(value_parser = parse::prefix)]
        prefix: Prefix,
    },
    /// Count the prefixes and paths of a table.
    Count(TableSel),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct TableSel {
    /// Which table.
    #[arg(long, value_enum, default_value_t = TableArg::Loc)]
    pub(crate) table: TableArg,
    /// The neighbor whose table to read (required for --table in and out).
    #[arg(long, value_name = "ADDR", required_if_eq_any = [("table", "in"), ("table", "out")])]
    pub(crate) peer: Option<IpAddr>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RibList {
    /// A prefix (192.0.2.0/24) or an address (192.0.2.1).
    #[arg(value_parser = parse::prefix_filter)]
    pub(crate) prefix: Option<PrefixFilter>,
    /// Only this family.
    #[arg(long, value_enum)]
    pub(crate) family: Option<FamilyArg>,
    #[command(flatten)]
    pub(crate) table: TableSel,
    /// Also list the more specific prefixes inside PREFIX.
    #[arg(long, requires = "prefix", conflicts_with = "shorter")]
    pub(crate) longer: bool,
    /// Also list the less specific prefixes covering PREFIX.
    #[arg(long, requires = "prefix")]
    pub(crate) shorter: bool,
    /// Also list the paths that are not best (Loc-RIB).
    #[arg(long)]
    pub(crate) all: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RibAdd {
    #[arg(value_parser = parse::prefix)]
    pub(crate) prefix: Prefix,
    /// Next hop (default: the session's local address, "next hop self").
    #[arg(long, value_name = "IP")]
    pub(crate) next_hop: Option<IpAddr>,
    #[arg(long, value_enum, default_value_t = OriginArg::Igp)]
    pub(crate) origin: OriginArg,
    /// AS path, "65001 65002"; {..} for an AS_SET (default: empty).
    #[arg(long, value_name = "PATH", value_parser = parse::as_path)]
    pub(crate) as_path: Option<AsPath>,
    /// MULTI_EXIT_DISC.
    #[arg(long, value_name = "N")]
    pub(crate) med: Option<u32>,
    /// LOCAL_PREF (sent to iBGP neighbors).
    #[arg(long, value_name = "N")]
    pub(crate) local_pref: Option<u32>,
    /// Standard community, ASN:VALUE or a well-known name (no-export, blackhole, ...).
    #[arg(long, value_name = "C", num_args = 1.., value_parser = parse::community)]
    pub(crate) community: Vec<u32>,
    /// Large community, GLOBAL:LOCAL1:LOCAL2.
    #[arg(long, value_name = "C", num_args = 1.., value_parser = parse::large_community)]
    pub(crate) large_community: Vec<LargeCommunity>,
    /// Extended community: rt:ASN:N, rt:IPV4:N, soo:ASN:N, soo:IPV4:N or 0x + 16 hex digits.
    #[arg(long, value_name = "C", num_args = 1.., value_parser = parse::ext_community)]
    pub(crate) ext_community: Vec<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// Peer state changes (with --routes: only those asked for; neither: both).
    #[arg(long)]
    pub(crate) peers: bool,
    /// Best-path changes.
    #[arg(long)]
    pub(crate) routes: bool,
    /// First print every best path, then follow the changes.
    #[arg(long)]
    pub(crate) dump: bool,
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
