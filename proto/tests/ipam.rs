//! The wire contract of `petrel.ipam.v1` that a CNI plugin in any language relies on.

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use bgp_api::ipam::v1::{AllocateRequest, AllocateResponse, IpConfig, Route, ipam_server};
use prost::Message;

#[test]
fn the_service_is_served_under_its_protobuf_name() {
    assert_eq!(ipam_server::SERVICE_NAME, "petrel.ipam.v1.Ipam");
}

#[test]
fn field_numbers_and_pool_presence_are_fixed_on_the_wire() {
    let req = AllocateRequest {
        pod_uid: "u".into(),
        container_id: "c".into(),
        interface: "eth0".into(),
        pool: Some(String::new()),
        ..AllocateRequest::default()
    };
    // pod_uid = 3, container_id = 4, interface = 5, pool = 6 (explicitly present, empty).
    let expected: &[u8] = b"\x1a\x01u\x22\x01c\x2a\x04eth0\x32\x00";
    assert_eq!(req.encode_to_vec(), expected);

    let without_pool = AllocateRequest {
        pool: None,
        ..req.clone()
    };
    let decoded = AllocateRequest::decode(&*without_pool.encode_to_vec()).unwrap();
    assert_eq!(
        decoded.pool, None,
        "an absent pool stays absent: the node's default pools"
    );
    assert_eq!(AllocateRequest::decode(expected).unwrap(), req);
}

#[test]
fn a_reply_round_trips() {
    let reply = AllocateResponse {
        ips: vec![IpConfig {
            address: "10.244.0.5".into(),
            prefix_len: 32,
            gateway: "169.254.1.1".into(),
            pool: "pods4".into(),
        }],
        routes: vec![Route {
            destination: "0.0.0.0/0".into(),
            gateway: String::new(),
        }],
    };
    assert_eq!(
        AllocateResponse::decode(&*reply.encode_to_vec()).unwrap(),
        reply
    );
}
