//! The FQDN capability (code 73, draft-walton-bgp-hostname-capability-02): the speaker's
//! host and domain name, for operators' displays.

use bytes::{BufMut, BytesMut};

use crate::error::EncodeError;

/// Host and domain name of the speaker.
///
/// ```text
/// +--------------------------------+
/// | Hostname Length (1 octet)      |
/// +--------------------------------+
/// | Hostname (variable)            |
/// +--------------------------------+
/// | Domain Name Length (1 octet)   |
/// +--------------------------------+
/// | Domain Name (variable)         |
/// +--------------------------------+
/// ```
///
/// Either name may be empty. Both lengths must account for the whole value; names that
/// are not UTF-8 make the capability [`super::Capability::Unknown`] (see the module
/// documentation of [`super`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Fqdn {
    /// Host name.
    pub hostname: String,
    /// Domain name.
    pub domain: String,
}

impl Fqdn {
    /// `Ok(None)` when the framing is sound but a name is not UTF-8.
    pub(super) fn decode(value: &[u8]) -> Result<Option<Self>, &'static str> {
        let (host, rest) = length_prefixed(value).ok_or("host name length runs past the end")?;
        let (domain, rest) =
            length_prefixed(rest).ok_or("domain name length is missing or runs past the end")?;
        if !rest.is_empty() {
            return Err("trailing bytes after the domain name");
        }
        let (Ok(hostname), Ok(domain)) = (std::str::from_utf8(host), std::str::from_utf8(domain))
        else {
            return Ok(None);
        };
        Ok(Some(Fqdn {
            hostname: hostname.to_owned(),
            domain: domain.to_owned(),
        }))
    }

    pub(super) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        for (field, name) in [
            ("FQDN host name", &self.hostname),
            ("FQDN domain name", &self.domain),
        ] {
            let len = u8::try_from(name.len()).map_err(|_| EncodeError::FieldTooLong {
                field,
                len: name.len(),
                max: usize::from(u8::MAX),
            })?;
            out.put_u8(len);
            out.put_slice(name.as_bytes());
        }
        Ok(())
    }
}

/// Splits a one-octet length and that many bytes off the front of `input`.
fn length_prefixed(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = input.split_first()?;
    let len = usize::from(len);
    Some((rest.get(..len)?, rest.get(len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_cover_the_value_exactly() {
        assert_eq!(
            Fqdn::decode(&[2, b'r', b'1', 0]),
            Ok(Some(Fqdn {
                hostname: "r1".into(),
                domain: String::new()
            }))
        );
        // Domain length missing, host length too long, trailing byte.
        assert!(Fqdn::decode(&[2, b'r', b'1']).is_err());
        assert!(Fqdn::decode(&[3, b'r', b'1']).is_err());
        assert!(Fqdn::decode(&[1, b'r', 0, 0]).is_err());
        assert!(Fqdn::decode(&[]).is_err());
    }

    #[test]
    fn non_utf8_names_are_not_an_error() {
        assert_eq!(Fqdn::decode(&[1, 0xff, 0]), Ok(None));
    }
}
