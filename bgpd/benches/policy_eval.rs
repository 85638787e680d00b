//! Import-chain evaluation rate: 1,000,000 IPv4 /24 routes through a chain with a
//! 10,000-entry prefix set, an AS_PATH regular-expression set and a community set, the
//! way the RIB runs it (attributes borrowed, copied only when an action changes them).
//!
//! Not run in CI; run it with `cargo bench -p bgpd --bench policy_eval`. The figures of a
//! run are in `docs/architecture.md`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use bgp_proto::PathAttributes;
use bgp_proto::attr::{AsPath, Communities, Community, NextHop, Origin};
use bgpd::policy::def::RouteType;
use bgpd::policy::{Direction, Engine, Env, Route, Verdict};
use bgpd::rib::RouteAttrs;
use ipnet::{IpNet, Ipv4Net};

const ROUTES: u32 = 1_000_000;
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

fn main() -> anyhow::Result<()> {
    let prefixes: Vec<String> = (0..10_000u32)
        .map(|i| format!("\"{}.{}.0.0/16 20..24\"", 100 + i / 256 % 100, i % 256))
        .collect();
    let toml = format!(
        r#"[global]
asn = 65000
router_id = "10.0.0.1"
listen = []
[[prefix_sets]]
name = "bogons"
prefixes = [{}]
[[as_path_sets]]
name = "transit"
patterns = ["_64512_", "_6451[3-9]_", "^65001 65002 "]
[[community_sets]]
name = "bh"
patterns = ["65000:666", "blackhole"]
[[policies]]
name = "in"
[[policies.statements]]
conditions = {{ prefix_set = "bogons" }}
actions = {{ result = "reject" }}
[[policies.statements]]
conditions = {{ community_set = "bh" }}
actions = {{ result = "reject" }}
[[policies.statements]]
conditions = {{ as_path_set = "transit" }}
actions = {{ add_communities = ["65000:1"] }}
[[policies.statements]]
conditions = {{ as_path_length = "le 8" }}
actions = {{ result = "accept" }}
[[neighbors]]
address = "192.0.2.1"
peer_asn = 65001
import_policy = ["in"]
"#,
        prefixes.join(", ")
    );
    let cfg = bgpd::config::from_str(&toml, "bench")?;
    let assignments = cfg.neighbors.iter().map(|n| (n.address, &n.policy));
    let started = Instant::now();
    let engine = Engine::compile(&cfg.policy, assignments).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!("compiled in {:?}", started.elapsed());
    let chain = engine.chain(PEER, Direction::Import);
    // 1,000 attribute sets: paths of 3 to 6 ASes, a quarter through AS 64512.
    let sets: Vec<RouteAttrs> = (0..1000u32)
        .map(|i| {
            let mut path = vec![65001, 65100 + i % 50, 65200 + i % 7];
            if i % 4 == 0 {
                path.push(64512);
            }
            path.extend((0..i % 3).map(|k| 65300 + k));
            RouteAttrs {
                attrs: PathAttributes::new()
                    .with_origin(Origin::Igp)
                    .with_as_path(AsPath::from_sequence(path))
                    .with_communities(Communities::new([Community::new(65001, (i % 100) as u16)])),
                next_hop: NextHop::V4(Ipv4Addr::new(192, 0, 2, 1)),
            }
        })
        .collect();
    let env = Env {
        local_asn: 65000,
        ..Env::default()
    };
    let (mut accepted, mut changed) = (0u32, 0u32);
    let started = Instant::now();
    for i in 0..ROUTES {
        let prefix = IpNet::V4(Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24)?);
        let attrs = &sets[(i % 1000) as usize];
        let route = Route {
            prefix,
            attrs,
            source: Some(PEER),
            route_type: RouteType::External,
        };
        if let Verdict::Accept(a) = chain.evaluate(&route, &env) {
            accepted += 1;
            if matches!(a, std::borrow::Cow::Owned(_)) {
                changed += 1;
            }
        }
    }
    let took = started.elapsed();
    println!(
        "{ROUTES} routes in {took:?}: {:.0} routes/s ({accepted} accepted, {changed} changed)",
        f64::from(ROUTES) / took.as_secs_f64()
    );
    Ok(())
}
