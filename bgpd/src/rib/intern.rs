//! Interning: one shared copy per distinct value (attribute sets, in the RIB).
//!
//! Millions of routes share a few hundred thousand attribute sets at most; storing each set
//! once and handing out `Arc`s keeps memory proportional to distinct sets, and makes
//! "same attributes?" a pointer comparison.

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// A set of shared values.
///
/// Each value's hash is computed once, when it is interned, and kept beside it: a lookup
/// that misses and the insert after it share that one hash, and growing the table never
/// hashes an attribute set again.
#[derive(Debug)]
pub struct Interner<T: Hash + Eq> {
    table: HashTable<(u64, Arc<T>)>,
    hasher: RandomState,
}

impl<T: Hash + Eq> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            table: HashTable::new(),
            hasher: RandomState::default(),
        }
    }
}

impl<T: Hash + Eq> Interner<T> {
    /// Returns the shared copy of `value`, storing `value` as that copy if it is new.
    pub fn intern(&mut self, value: T) -> Arc<T> {
        self.intern_with(value, |_| {})
    }

    /// Like [`Interner::intern`], but runs `prepare` on a value before it is stored as a
    /// new shared copy (not when an equal one exists). `prepare` must not change how the
    /// value compares or hashes.
    pub fn intern_with(&mut self, mut value: T, prepare: impl FnOnce(&mut T)) -> Arc<T> {
        let hash = self.hasher.hash_one(&value);
        if let Some((_, existing)) = self.table.find(hash, |(h, v)| *h == hash && **v == value) {
            return Arc::clone(existing);
        }
        prepare(&mut value);
        let shared = Arc::new(value);
        self.table
            .insert_unique(hash, (hash, Arc::clone(&shared)), |(h, _)| *h);
        shared
    }

    /// Drops one reference; forgets the value when only the interner holds it after
    /// that. Call this instead of dropping an `Arc` obtained from [`Interner::intern`].
    pub fn release(&mut self, value: Arc<T>) {
        if Arc::strong_count(&value) == 2 {
            let hash = self.hasher.hash_one(&*value);
            if let Ok(entry) = self.table.find_entry(hash, |(_, v)| Arc::ptr_eq(v, &value)) {
                entry.remove();
            }
        }
    }

    /// Number of distinct values held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy_until_the_last_release() {
        let mut i = Interner::default();
        let a = i.intern(String::from("65001 65002"));
        let b = i.intern(String::from("65001 65002"));
        let c = i.intern(String::from("65003"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 2);
        i.release(a);
        assert_eq!(i.len(), 2, "b still holds the value");
        i.release(b);
        assert_eq!(i.len(), 1);
        i.release(c);
        assert!(i.is_empty());
    }
}
