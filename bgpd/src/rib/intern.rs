//! Interning: one shared copy per distinct value (attribute sets, in the RIB).
//!
//! Millions of routes share a few hundred thousand attribute sets at most; storing each set
//! once and handing out `Arc`s keeps memory proportional to distinct sets, and makes
//! "same attributes?" a pointer comparison.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

/// A set of shared values.
#[derive(Debug)]
pub struct Interner<T: Hash + Eq> {
    set: HashSet<Arc<T>, foldhash::fast::RandomState>,
}

impl<T: Hash + Eq> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            set: HashSet::default(),
        }
    }
}

impl<T: Hash + Eq> Interner<T> {
    /// Returns the shared copy equal to `value`, storing `value` if there is none.
    pub fn intern(&mut self, value: T) -> Arc<T> {
        self.intern_with(value, |_| {})
    }

    /// Like [`Interner::intern`], running `prepare` on a value before it is stored (not
    /// when an equal one is already there).
    pub fn intern_with(&mut self, mut value: T, prepare: impl FnOnce(&mut T)) -> Arc<T> {
        if let Some(existing) = self.set.get(&value) {
            return Arc::clone(existing);
        }
        prepare(&mut value);
        let shared = Arc::new(value);
        self.set.insert(Arc::clone(&shared));
        shared
    }

    /// Gives back a reference; the shared copy is dropped once nothing but the interner
    /// holds it.
    pub fn release(&mut self, value: Arc<T>) {
        // One count is the interner's, one is `value`'s.
        if Arc::strong_count(&value) == 2 {
            self.set.remove(&*value);
        }
    }

    /// Number of distinct values held.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
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
