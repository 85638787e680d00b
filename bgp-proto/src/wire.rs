//! Small private helpers shared by the decoders. nom stays inside this crate: parsers use
//! `nom` with the unit error type and report failures as our own [`crate::DecodeError`],
//! computing offsets with [`offset`].

use bytes::{BufMut, BytesMut};

/// A nom parse result with no nom error payload; callers turn failures into our errors.
pub(crate) type IResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

/// Bytes consumed from `whole` when `rest` remains (both from the same buffer).
pub(crate) fn offset(whole: &[u8], rest: &[u8]) -> usize {
    whole.len().saturating_sub(rest.len())
}

/// Reserves a length field of `width` (1 or 2) bytes at the end of `out` and returns its
/// position, for [`patch_len`] once the value is written.
pub(crate) fn reserve_len(out: &mut BytesMut, width: usize) -> usize {
    let at = out.len();
    out.put_bytes(0, width);
    at
}

/// Writes the number of bytes written after the length field reserved at `at`. Returns
/// the length, or `None` (leaving the field zero) if it does not fit the field.
pub(crate) fn patch_len(out: &mut BytesMut, at: usize, width: usize) -> Option<usize> {
    let len = out.len().checked_sub(at + width)?;
    match width {
        1 => out[at] = u8::try_from(len).ok()?,
        2 => out[at..at + 2].copy_from_slice(&u16::try_from(len).ok()?.to_be_bytes()),
        _ => return None,
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_len_refuses_values_that_do_not_fit() {
        let mut out = BytesMut::new();
        let at = reserve_len(&mut out, 1);
        out.put_bytes(7, 300);
        assert_eq!(patch_len(&mut out, at, 1), None);
        let mut out = BytesMut::new();
        let at = reserve_len(&mut out, 2);
        out.put_bytes(7, 300);
        assert_eq!(patch_len(&mut out, at, 2), Some(300));
        assert_eq!(&out[..2], &[1, 44]);
    }
}
