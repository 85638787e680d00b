//! [`PathAttributes`]: the attribute list of one UPDATE, with typed getters, canonical
//! setters and the encoder.

use std::fmt;
use std::net::Ipv4Addr;

use bytes::BytesMut;

use super::{
    Aggregator, Aigp, AsPath, AttrFlags, AttrValue, ClusterList, Communities, ExtCommunities,
    LargeCommunities, MpReach, MpUnreach, Origin, PathAttribute, code,
};
use crate::ctx::EncodeCtx;
use crate::error::EncodeError;

/// The path attributes of an UPDATE, in order.
///
/// Decoding keeps the order and flags received; [`PathAttributes::encode`] writes them
/// back byte for byte. Getters scan the list (UPDATEs carry a handful of attributes, and
/// a scan beats any index at that size). Setters replace an attribute of the same type
/// where it stands, or insert it at its canonical place: MP_REACH_NLRI, MP_UNREACH_NLRI,
/// then ascending type code.
///
/// Equality and hashing cover the order, the flags octets and the values, i.e. what goes
/// on the wire. Decoded variable-length values share the received attribute block (one
/// copy per message); [`PathAttributes::detach`] copies them out before a set is kept
/// for long, so that it does not pin the message (and its NLRI) in memory.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    attrs: Vec<PathAttribute>,
}

/// Sort key of the canonical order (RFC 7606 section 5.1 puts the MP attributes first).
fn rank(type_code: u8) -> u16 {
    match type_code {
        code::MP_REACH_NLRI => 0,
        code::MP_UNREACH_NLRI => 1,
        c => 2 + u16::from(c),
    }
}

macro_rules! typed_setters {
    ($($(#[$doc:meta])* $set:ident, $with:ident, $variant:ident($ty:ty);)*) => {$(
        $(#[$doc])*
        pub fn $set(&mut self, value: $ty) {
            self.set(PathAttribute::new(AttrValue::$variant(value)));
        }

        $(#[$doc])*
        #[must_use]
        pub fn $with(mut self, value: $ty) -> Self {
            self.$set(value);
            self
        }
    )*};
}

impl PathAttributes {
    /// An empty list.
    pub fn new() -> Self {
        PathAttributes::default()
    }

    /// A list exactly as given (order, flags, duplicates).
    pub fn from_vec(attrs: Vec<PathAttribute>) -> Self {
        PathAttributes { attrs }
    }

    /// The attributes, in order.
    pub fn into_vec(self) -> Vec<PathAttribute> {
        self.attrs
    }

    /// The attributes, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, PathAttribute> {
        self.attrs.iter()
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// The first attribute of `type_code`.
    #[inline]
    pub fn get(&self, type_code: u8) -> Option<&PathAttribute> {
        self.attrs.iter().find(|a| a.type_code() == type_code)
    }

    /// Whether an attribute of `type_code` is present.
    pub fn contains(&self, type_code: u8) -> bool {
        self.get(type_code).is_some()
    }

    #[inline]
    fn value(&self, type_code: u8) -> Option<&AttrValue> {
        self.get(type_code).map(|a| &a.value)
    }

    /// ORIGIN.
    pub fn origin(&self) -> Option<Origin> {
        match self.value(code::ORIGIN)? {
            AttrValue::Origin(o) => Some(*o),
            _ => None,
        }
    }

    /// AS_PATH (4-octet form; on a 2-octet session see [`PathAttributes::merge_as4`]).
    pub fn as_path(&self) -> Option<&AsPath> {
        match self.value(code::AS_PATH)? {
            AttrValue::AsPath(p) => Some(p),
            _ => None,
        }
    }

    /// NEXT_HOP (the IPv4 next hop of the IPv4 NLRI field).
    pub fn next_hop(&self) -> Option<Ipv4Addr> {
        match self.value(code::NEXT_HOP)? {
            AttrValue::NextHop(a) => Some(*a),
            _ => None,
        }
    }

    /// MULTI_EXIT_DISC.
    pub fn med(&self) -> Option<u32> {
        match self.value(code::MULTI_EXIT_DISC)? {
            AttrValue::Med(v) => Some(*v),
            _ => None,
        }
    }

    /// LOCAL_PREF.
    pub fn local_pref(&self) -> Option<u32> {
        match self.value(code::LOCAL_PREF)? {
            AttrValue::LocalPref(v) => Some(*v),
            _ => None,
        }
    }

    /// Whether ATOMIC_AGGREGATE is present.
    pub fn atomic_aggregate(&self) -> bool {
        self.contains(code::ATOMIC_AGGREGATE)
    }

    /// AGGREGATOR.
    pub fn aggregator(&self) -> Option<Aggregator> {
        match self.value(code::AGGREGATOR)? {
            AttrValue::Aggregator(a) => Some(*a),
            _ => None,
        }
    }

    /// COMMUNITIES.
    pub fn communities(&self) -> Option<&Communities> {
        match self.value(code::COMMUNITIES)? {
            AttrValue::Communities(c) => Some(c),
            _ => None,
        }
    }

    /// ORIGINATOR_ID.
    pub fn originator_id(&self) -> Option<Ipv4Addr> {
        match self.value(code::ORIGINATOR_ID)? {
            AttrValue::OriginatorId(a) => Some(*a),
            _ => None,
        }
    }

    /// CLUSTER_LIST.
    pub fn cluster_list(&self) -> Option<&ClusterList> {
        match self.value(code::CLUSTER_LIST)? {
            AttrValue::ClusterList(c) => Some(c),
            _ => None,
        }
    }

    /// MP_REACH_NLRI.
    pub fn mp_reach(&self) -> Option<&MpReach> {
        match self.value(code::MP_REACH_NLRI)? {
            AttrValue::MpReach(m) => Some(m),
            _ => None,
        }
    }

    /// MP_UNREACH_NLRI.
    pub fn mp_unreach(&self) -> Option<&MpUnreach> {
        match self.value(code::MP_UNREACH_NLRI)? {
            AttrValue::MpUnreach(m) => Some(m),
            _ => None,
        }
    }

    /// EXTENDED_COMMUNITIES.
    pub fn ext_communities(&self) -> Option<&ExtCommunities> {
        match self.value(code::EXTENDED_COMMUNITIES)? {
            AttrValue::ExtCommunities(c) => Some(c),
            _ => None,
        }
    }

    /// AS4_PATH as received (only on 2-octet sessions; see [`PathAttributes::merge_as4`]).
    pub fn as4_path(&self) -> Option<&AsPath> {
        match self.value(code::AS4_PATH)? {
            AttrValue::As4Path(p) => Some(p),
            _ => None,
        }
    }

    /// AS4_AGGREGATOR as received.
    pub fn as4_aggregator(&self) -> Option<Aggregator> {
        match self.value(code::AS4_AGGREGATOR)? {
            AttrValue::As4Aggregator(a) => Some(*a),
            _ => None,
        }
    }

    /// AIGP.
    pub fn aigp(&self) -> Option<&Aigp> {
        match self.value(code::AIGP)? {
            AttrValue::Aigp(a) => Some(a),
            _ => None,
        }
    }

    /// LARGE_COMMUNITY.
    pub fn large_communities(&self) -> Option<&LargeCommunities> {
        match self.value(code::LARGE_COMMUNITIES)? {
            AttrValue::LargeCommunities(c) => Some(c),
            _ => None,
        }
    }

    /// ONLY_TO_CUSTOMER.
    pub fn otc(&self) -> Option<u32> {
        match self.value(code::ONLY_TO_CUSTOMER)? {
            AttrValue::Otc(v) => Some(*v),
            _ => None,
        }
    }

    /// Replaces the attribute of the same type where it stands, or inserts `attr` at its
    /// canonical place. Returns the attribute replaced.
    pub fn set(&mut self, attr: PathAttribute) -> Option<PathAttribute> {
        let code = attr.type_code();
        if let Some(slot) = self.attrs.iter_mut().find(|a| a.type_code() == code) {
            return Some(std::mem::replace(slot, attr));
        }
        let at = self
            .attrs
            .iter()
            .position(|a| rank(a.type_code()) > rank(code))
            .unwrap_or(self.attrs.len());
        self.attrs.insert(at, attr);
        None
    }

    /// Appends `attr` at the end, as a decoder does; no check for duplicates.
    pub fn push(&mut self, attr: PathAttribute) {
        self.attrs.push(attr);
    }

    /// Removes every attribute of `type_code`; returns the first.
    pub fn remove(&mut self, type_code: u8) -> Option<PathAttribute> {
        let at = self.attrs.iter().position(|a| a.type_code() == type_code)?;
        let first = self.attrs.remove(at);
        self.attrs.retain(|a| a.type_code() != type_code);
        Some(first)
    }

    /// Keeps the attributes for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&PathAttribute) -> bool) {
        self.attrs.retain(keep);
    }

    /// [`PathAttributes::set`] with the canonical flags of `value`'s type, as a builder.
    #[must_use]
    pub fn with(mut self, value: AttrValue) -> Self {
        self.set(PathAttribute::new(value));
        self
    }

    typed_setters! {
        /// Sets ORIGIN.
        set_origin, with_origin, Origin(Origin);
        /// Sets AS_PATH.
        set_as_path, with_as_path, AsPath(AsPath);
        /// Sets NEXT_HOP.
        set_next_hop, with_next_hop, NextHop(Ipv4Addr);
        /// Sets MULTI_EXIT_DISC.
        set_med, with_med, Med(u32);
        /// Sets LOCAL_PREF.
        set_local_pref, with_local_pref, LocalPref(u32);
        /// Sets AGGREGATOR.
        set_aggregator, with_aggregator, Aggregator(Aggregator);
        /// Sets COMMUNITIES.
        set_communities, with_communities, Communities(Communities);
        /// Sets ORIGINATOR_ID.
        set_originator_id, with_originator_id, OriginatorId(Ipv4Addr);
        /// Sets CLUSTER_LIST.
        set_cluster_list, with_cluster_list, ClusterList(ClusterList);
        /// Sets EXTENDED_COMMUNITIES.
        set_ext_communities, with_ext_communities, ExtCommunities(ExtCommunities);
        /// Sets AIGP.
        set_aigp, with_aigp, Aigp(Aigp);
        /// Sets LARGE_COMMUNITY.
        set_large_communities, with_large_communities, LargeCommunities(LargeCommunities);
        /// Sets ONLY_TO_CUSTOMER.
        set_otc, with_otc, Otc(u32);
    }

    /// Adds ATOMIC_AGGREGATE.
    #[must_use]
    pub fn with_atomic_aggregate(self) -> Self {
        self.with(AttrValue::AtomicAggregate)
    }

    /// Gives every variable-length value its own allocation instead of a share of the
    /// received attribute block. Call it on a set that will be stored (interned) rather
    /// than on every UPDATE: it costs one allocation per such value. The list's own
    /// spare capacity is given back too (a decoded list has room for the attributes
    /// that were removed from it).
    pub fn detach(&mut self) {
        for a in &mut self.attrs {
            a.value = a.value.detached();
        }
        self.attrs.shrink_to_fit();
    }

    /// Sets the Partial bit on every unrecognized optional transitive attribute, as RFC
    /// 4271 section 5 requires when passing them on.
    pub fn mark_unknown_partial(&mut self) {
        for a in &mut self.attrs {
            if matches!(a.value, AttrValue::Unknown(_))
                && a.flags.is_optional()
                && a.flags.is_transitive()
            {
                a.flags.0 |= AttrFlags::PARTIAL;
            }
        }
    }

    /// Drops every unrecognized optional non-transitive attribute, which RFC 4271 section
    /// 5 says must not be passed on.
    pub fn drop_unknown_non_transitive(&mut self) {
        self.attrs
            .retain(|a| !matches!(a.value, AttrValue::Unknown(_)) || a.flags.is_transitive());
    }

    /// Both of the above: what to do with received attributes before advertising the
    /// route to another peer.
    pub fn prepare_for_readvertisement(&mut self) {
        self.drop_unknown_non_transitive();
        self.mark_unknown_partial();
    }

    /// Appends every attribute (flags, type, length, value). On a 2-octet session AS
    /// numbers above 65535 become AS_TRANS, which is refused unless AS4_PATH (for
    /// AS_PATH) or AS4_AGGREGATOR (for AGGREGATOR) is in the list
    /// ([`PathAttributes::with_as4_for_two_octet_peer`] adds them); AS4_PATH and
    /// AS4_AGGREGATOR are refused on a 4-octet session (RFC 6793 section 4.1). On error
    /// `out` is left as it was.
    pub fn encode(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_filtered(ctx, out, |_| true)
    }

    /// [`PathAttributes::encode`] of the attributes whose type code passes `keep`.
    pub(crate) fn encode_filtered(
        &self,
        ctx: &EncodeCtx,
        out: &mut BytesMut,
        keep: impl Fn(u8) -> bool,
    ) -> Result<(), EncodeError> {
        self.check_as4(ctx)?;
        let start = out.len();
        for a in self.attrs.iter().filter(|a| keep(a.type_code())) {
            if let Err(e) = a.encode(ctx, out) {
                out.truncate(start);
                return Err(e);
            }
        }
        Ok(())
    }

    pub(crate) fn check_as4(&self, ctx: &EncodeCtx) -> Result<(), EncodeError> {
        if ctx.four_octet_as {
            if self.contains(code::AS4_PATH) || self.contains(code::AS4_AGGREGATOR) {
                return Err(EncodeError::Invalid {
                    field: "AS4_PATH/AS4_AGGREGATOR",
                    reason: "must not be sent between 4-octet AS speakers (merge_as4 first)",
                });
            }
            return Ok(());
        }
        if self.as_path().is_some_and(AsPath::has_four_octet_asn) && !self.contains(code::AS4_PATH)
        {
            return Err(EncodeError::Invalid {
                field: "AS_PATH",
                reason: "4-octet AS number on a 2-octet session without AS4_PATH \
                         (use with_as4_for_two_octet_peer)",
            });
        }
        if self
            .aggregator()
            .is_some_and(|a| a.asn > u32::from(u16::MAX))
            && !self.contains(code::AS4_AGGREGATOR)
        {
            return Err(EncodeError::Invalid {
                field: "AGGREGATOR",
                reason: "4-octet AS number on a 2-octet session without AS4_AGGREGATOR \
                         (use with_as4_for_two_octet_peer)",
            });
        }
        Ok(())
    }
}

impl FromIterator<PathAttribute> for PathAttributes {
    /// A list in the order given.
    fn from_iter<I: IntoIterator<Item = PathAttribute>>(iter: I) -> Self {
        PathAttributes {
            attrs: iter.into_iter().collect(),
        }
    }
}

impl<'a> IntoIterator for &'a PathAttributes {
    type Item = &'a PathAttribute;
    type IntoIter = std::slice::Iter<'a, PathAttribute>;

    fn into_iter(self) -> Self::IntoIter {
        self.attrs.iter()
    }
}

impl fmt::Debug for PathAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.attrs.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::attr::Community;

    #[test]
    fn builders_produce_canonical_order_and_flags() {
        let attrs = PathAttributes::new()
            .with_med(5)
            .with_communities(Communities::new([Community::NO_EXPORT]))
            .with_origin(Origin::Igp)
            .with_next_hop(Ipv4Addr::new(192, 0, 2, 1))
            .with_as_path(AsPath::from_sequence([65001]));
        let codes: Vec<u8> = attrs.iter().map(PathAttribute::type_code).collect();
        assert_eq!(codes, [1, 2, 3, 4, 8]);
        let mut out = BytesMut::new();
        attrs.encode(&EncodeCtx::modern(), &mut out).unwrap();
        assert_eq!(
            &out[..],
            &[
                0x40, 1, 1, 0, // ORIGIN IGP
                0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH 65001
                0x40, 3, 4, 192, 0, 2, 1, // NEXT_HOP
                0x80, 4, 4, 0, 0, 0, 5, // MED
                0xc0, 8, 4, 0xff, 0xff, 0xff, 0x01, // COMMUNITIES no-export
            ][..]
        );
    }

    #[test]
    fn set_replaces_in_place_and_remove_drops_all_copies() {
        let mut attrs = PathAttributes::from_vec(vec![
            PathAttribute::new(AttrValue::Med(1)),
            PathAttribute::new(AttrValue::Origin(Origin::Egp)),
            PathAttribute::new(AttrValue::Med(2)),
        ]);
        attrs.set_origin(Origin::Igp);
        assert_eq!(
            attrs.iter().nth(1).map(PathAttribute::type_code),
            Some(code::ORIGIN)
        );
        assert_eq!(attrs.origin(), Some(Origin::Igp));
        assert_eq!(attrs.med(), Some(1));
        assert!(attrs.remove(code::MULTI_EXIT_DISC).is_some());
        assert_eq!(attrs.len(), 1);
    }

    #[test]
    fn long_values_get_an_extended_length() {
        let attrs = PathAttributes::new()
            .with_communities(Communities::new((0..100).map(|i| Community::new(65000, i))));
        let mut out = BytesMut::new();
        attrs.encode(&EncodeCtx::modern(), &mut out).unwrap();
        assert_eq!(&out[..4], &[0xd0, 8, 1, 144]);
    }

    #[test]
    fn detach_keeps_the_values_but_not_the_received_bytes() {
        let block = Bytes::from_static(&[0xc0, 8, 4, 0xff, 0xff, 0xff, 0x01, 0x40, 2, 0]);
        let decoded = crate::attr::decode_attributes(&block, 0, &crate::DecodeCtx::modern(), false)
            .unwrap()
            .attrs;
        let shared = decoded.communities().unwrap().as_bytes().as_ptr();
        assert_eq!(shared, block[3..].as_ptr());
        let mut kept = decoded.clone();
        kept.detach();
        assert_eq!(kept, decoded);
        assert_ne!(kept.communities().unwrap().as_bytes().as_ptr(), shared);
    }

    #[test]
    fn unknown_attributes_for_readvertisement() {
        let mut attrs = PathAttributes::from_vec(vec![
            PathAttribute::unknown(AttrFlags::OPTIONAL_TRANSITIVE, 99, Bytes::from_static(b"x")),
            PathAttribute::unknown(AttrFlags::OPTIONAL_NON_TRANSITIVE, 98, Bytes::new()),
            PathAttribute::new(AttrValue::Med(7)),
        ]);
        attrs.prepare_for_readvertisement();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs.get(99).map(|a| a.flags.0), Some(0xe0));
        assert_eq!(
            attrs.get(code::MULTI_EXIT_DISC).map(|a| a.flags.0),
            Some(0x80)
        );
    }

    #[test]
    fn four_octet_asns_need_as4_path_on_two_octet_sessions() {
        let attrs = PathAttributes::new()
            .with_origin(Origin::Igp)
            .with_as_path(AsPath::from_sequence([4_200_000_000]));
        let two = EncodeCtx::default();
        let mut out = BytesMut::new();
        assert!(matches!(
            attrs.encode(&two, &mut out),
            Err(EncodeError::Invalid { .. })
        ));
        assert!(out.is_empty());
        let fixed = attrs.with_as4_for_two_octet_peer();
        fixed.encode(&two, &mut out).unwrap();
        // AS_PATH carries AS_TRANS, AS4_PATH the real AS.
        assert_eq!(&out[4..11], &[0x40, 2, 4, 2, 1, 0x5b, 0xa0]);
        assert_eq!(&out[11..], &[0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x00]);
        assert!(
            fixed
                .encode(&EncodeCtx::modern(), &mut BytesMut::new())
                .is_err()
        );
    }
}
