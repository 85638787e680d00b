//! The Petrel CLI: a thin gRPC client of bgpd with table and JSON output (arrives with the API).
