//! The gRPC API of Petrel: `.proto` files and the tonic/prost code generated from them.
//!
//! Each API package becomes `bgp_api::<service>::<version>`, holding the prost messages, a
//! `<service>_client` and a `<service>_server` module. `build.rs` lists the `.proto` files;
//! adding a package is one line there and one `api_package!` line here.

/// Declares `pub mod $service { pub mod $version { .. } }` holding the code generated from
/// the protobuf package `$package`.
macro_rules! api_package {
    ($(#[$doc:meta])* $service:ident :: $version:ident = $package:literal) => {
        $(#[$doc])*
        pub mod $service {
            #[doc = concat!("Messages, client and server of protobuf package `", $package, "`.")]
            #[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
            pub mod $version {
                tonic::include_proto!($package);
            }
        }
    };
}

api_package!(
    /// Pod address management on a node, called by the CNI plugin over a unix socket.
    ipam::v1 = "petrel.ipam.v1"
);

api_package!(
    /// The BGP daemon's API: global settings, peers, paths, tables, watch and reload.
    bgpd::v1 = "petrel.bgpd.v1"
);
