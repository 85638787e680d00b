//! Generates the tonic/prost code for every `.proto` file of the API.
//!
//! Each API package is listed once in `PROTOS`; adding `bgpd/v1` later is one more line here
//! and one more module in `src/lib.rs`.

/// The `.proto` files to compile, relative to this crate.
const PROTOS: &[&str] = &[
    "proto/petrel/bgpd/v1/bgpd.proto",
    "proto/petrel/ipam/v1/ipam.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(PROTOS, &["proto"])?;
    Ok(())
}
