#!/usr/bin/env bash
# The demo: bgpd peering with real BIRD and FRR routers in network namespaces, routes
# shown with bgpctl. It needs the daemon, which is not built yet.
echo "demo: bgpd is not built yet; the demo arrives with the daemon (see README, Status)." >&2
exit 2
