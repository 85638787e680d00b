//! Shared helpers of the fuzz targets: an `Arbitrary` session context, so that every
//! decoder is exercised under every combination of negotiated features.

use arbitrary::Arbitrary;
use bgp_proto::{DecodeCtx, EncodeCtx, Family};

/// What a session may have negotiated, chosen by the fuzzer.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct FuzzCtx {
    pub four_octet_as: bool,
    pub extended_message: bool,
    pub add_path_v4: bool,
    pub add_path_v6: bool,
    pub extended_next_hop_v4: bool,
}

impl FuzzCtx {
    fn families(a: bool, b: bool, fa: Family, fb: Family) -> Vec<Family> {
        [(a, fa), (b, fb)].into_iter().filter(|(on, _)| *on).map(|(_, f)| f).collect()
    }

    /// The receiving side's view.
    pub fn decode(&self) -> DecodeCtx {
        DecodeCtx {
            four_octet_as: self.four_octet_as,
            extended_message: self.extended_message,
            add_path: Self::families(
                self.add_path_v4,
                self.add_path_v6,
                Family::IPV4_UNICAST,
                Family::IPV6_UNICAST,
            ),
            extended_next_hop: Self::families(
                self.extended_next_hop_v4,
                false,
                Family::IPV4_UNICAST,
                Family::IPV6_UNICAST,
            ),
        }
    }

    /// The sending side's view of the same session, so that what one side encodes the
    /// other decodes.
    pub fn encode(&self) -> EncodeCtx {
        let d = self.decode();
        EncodeCtx {
            four_octet_as: d.four_octet_as,
            extended_message: d.extended_message,
            add_path: d.add_path,
            extended_next_hop: d.extended_next_hop,
        }
    }
}
