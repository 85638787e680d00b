//! One address family's routes: prefix -> paths, with a stable small id per prefix.
//!
//! Ids let per-peer export state be a bitset and a queue of `u32`s instead of copies of
//! prefixes. An entry lives while it has paths or while some peer still has it advertised
//! or queued (`out_refs`), so that a withdrawal can be sent after the last path is gone.

use std::cell::Cell;
use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use smallvec::SmallVec;

use super::bitset::BitSet;

/// Marks "no best path".
pub const NO_BEST: u16 = u16::MAX;
/// Marks "the best path was changed or removed; decide again".
pub const BEST_STALE: u16 = u16::MAX - 1;

/// The routes of one prefix.
#[derive(Debug, Clone)]
pub struct Entry<K, P> {
    /// The prefix.
    pub prefix: K,
    /// Every path received for it (Adj-RIB-In, post-policy), one per peer and path id.
    pub paths: SmallVec<[P; 1]>,
    /// Index of the best path in `paths`, or [`NO_BEST`].
    pub best: u16,
    /// Bit `i` set: `paths[i]` is in the multipath set (only the first 64 paths can be).
    pub multipath: u64,
    /// Peers that have this prefix advertised or queued for export.
    pub out_refs: u16,
}

impl<K, P> Entry<K, P> {
    /// The best path, if any (none while stale).
    pub fn best(&self) -> Option<&P> {
        self.paths.get(usize::from(self.best))
    }

    /// Notes that the path at `index` changed; if it was the best or in the multipath set,
    /// the decision is stale (what was chosen, or forwarded over, changed).
    pub fn touch(&mut self, index: usize) {
        let in_multipath = index < 64 && self.multipath & (1 << index) != 0;
        if usize::from(self.best) == index || in_multipath {
            self.best = BEST_STALE;
        }
    }

    /// Removes the path at `index`, keeping `best` pointing at the same path (or stale
    /// if it was this one).
    pub fn remove_path(&mut self, index: usize) -> P {
        self.touch(index);
        if self.best != NO_BEST && self.best != BEST_STALE && index < usize::from(self.best) {
            self.best -= 1;
        }
        // Keep the multipath bits of the other paths on their paths.
        if index < 64 {
            let low = self.multipath & ((1u64 << index) - 1);
            let high = self
                .multipath
                .checked_shr(u32::try_from(index + 1).unwrap_or(64))
                .unwrap_or(0)
                << index;
            self.multipath = low | high;
        }
        self.paths.remove(index)
    }
}

/// Slots per chunk of [`Slots`].
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A vector that grows by whole chunks and never moves what it holds: a table of a
/// million prefixes is not copied (and its pages faulted in again) at every doubling,
/// and growing it does not briefly need one and a half times its size.
struct Slots<T> {
    chunks: Vec<Box<[Option<T>]>>,
    len: usize,
}

impl<T> Slots<T> {
    fn new() -> Self {
        Slots {
            chunks: Vec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn split(i: usize) -> (usize, usize) {
        (i >> CHUNK_BITS, i & (CHUNK - 1))
    }

    fn get(&self, i: usize) -> Option<&Option<T>> {
        let (c, j) = Self::split(i);
        self.chunks.get(c)?.get(j).filter(|_| i < self.len)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Option<T>> {
        let (c, j) = Self::split(i);
        if i >= self.len {
            return None;
        }
        self.chunks.get_mut(c)?.get_mut(j)
    }

    fn push(&mut self, value: T) {
        let (c, j) = Self::split(self.len);
        if c == self.chunks.len() {
            self.chunks
                .push(std::iter::repeat_with(|| None).take(CHUNK).collect());
        }
        if let Some(slot) = self.chunks.get_mut(c).and_then(|chunk| chunk.get_mut(j)) {
            *slot = Some(value);
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Option<T>> {
        self.chunks.iter().flat_map(|c| c.iter()).take(self.len)
    }
}

/// A table of prefixes with stable ids.
///
/// The index holds ids with 32 bits of their prefix's hash (8 bytes a prefix, plus
/// hashbrown's control byte): the prefix an id stands for is read from its entry, which
/// holds it anyway, and growing the index rehashes from the stored bits without reading
/// a million entries out of cache; a lookup reads an entry only when its 32 bits match.
/// A million prefixes cost 18 MB of index instead of 26 MB with prefix keys.
///
/// A freed entry leaves the index in bulk: its id waits in `doomed` (its slot empty, so
/// lookups pass over it) until half of the index is doomed, and then one sequential
/// pass drops them all. Withdrawing a full table is then not a million random reads of
/// the index, one per prefix.
pub struct Table<K, P> {
    index: HashTable<Indexed>,
    hasher: RandomState,
    slots: Slots<Entry<K, P>>,
    free: Vec<u32>,
    doomed: BitSet,
    doomed_count: usize,
    /// The id last looked up or inserted, for [`Table::predicted`].
    last: Cell<u32>,
}

/// The index is purged once `1 / PURGE_RATIO` of it is doomed.
const PURGE_RATIO: usize = 2;

impl<K: std::fmt::Debug, P: std::fmt::Debug> std::fmt::Debug for Table<K, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("len", &(self.index.len() - self.doomed_count))
            .field("slots", &self.slots.len())
            .field("free", &self.free.len())
            .field("doomed", &self.doomed_count)
            .finish()
    }
}

impl<K: Hash + Eq + Copy, P> Default for Table<K, P> {
    fn default() -> Self {
        Table {
            index: HashTable::new(),
            hasher: RandomState::default(),
            slots: Slots::new(),
            free: Vec::new(),
            doomed: BitSet::default(),
            doomed_count: 0,
            last: Cell::new(u32::MAX),
        }
    }
}

/// An id in the index, with the bits of its prefix's hash the index needs.
#[derive(Debug, Clone, Copy)]
struct Indexed {
    id: u32,
    hash: u32,
}

impl Indexed {
    /// The 64-bit hash hashbrown is given: the stored 32 bits spread over all 64, since it
    /// takes its control byte from the top bits and its bucket from the bottom ones.
    fn hash(self) -> u64 {
        spread(self.hash)
    }
}

fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The prefix of the entry in slot `id` (every id in the index has one).
fn key_of<K: Copy, P>(slots: &Slots<Entry<K, P>>, id: u32) -> Option<K> {
    slots
        .get(id as usize)
        .and_then(Option::as_ref)
        .map(|e| e.prefix)
}

impl<K: Hash + Eq + Copy, P> Table<K, P> {
    /// The hash hashbrown sees for `prefix`, and the 32 bits it is made from.
    fn hash(&self, prefix: &K) -> (u64, u32) {
        // Truncation intended: 32 bits of the hash are kept.
        #[allow(clippy::cast_possible_truncation)]
        let short = self.hasher.hash_one(prefix) as u32;
        (spread(short), short)
    }

    /// The id of `prefix`, if present.
    pub fn id(&self, prefix: &K) -> Option<u32> {
        if let Some(id) = self.predicted(prefix) {
            return Some(id);
        }
        let (hash, short) = self.hash(prefix);
        let id = self
            .index
            .find(hash, |i| {
                i.hash == short && key_of(&self.slots, i.id).as_ref() == Some(prefix)
            })
            .map(|i| i.id)?;
        self.last.set(id);
        Some(id)
    }

    /// `prefix`'s id if it is the one after the last id looked up. Peers often send a
    /// table in the same order each time (withdrawing it, refreshing it, after a restart),
    /// and ids follow the order prefixes first arrived in, so this one compare with an entry
    /// next to the last one read often saves a read of the index (a cache and TLB miss
    /// once the table is large).
    fn predicted(&self, prefix: &K) -> Option<u32> {
        let next = self.last.get().wrapping_add(1);
        if key_of(&self.slots, next).as_ref() == Some(prefix) {
            self.last.set(next);
            Some(next)
        } else {
            None
        }
    }

    /// The id of `prefix`, creating an empty entry if needed.
    pub fn get_or_insert(&mut self, prefix: K) -> u32 {
        if let Some(id) = self.predicted(&prefix) {
            return id;
        }
        let (hash, short) = self.hash(&prefix);
        let slots = &self.slots;
        if let Some(i) = self.index.find(hash, |i| {
            i.hash == short && key_of(slots, i.id).as_ref() == Some(&prefix)
        }) {
            let id = i.id;
            self.last.set(id);
            return id;
        }
        let entry = Entry {
            prefix,
            paths: SmallVec::new(),
            best: NO_BEST,
            multipath: 0,
            out_refs: 0,
        };
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.slots.get_mut(id as usize) {
                    *slot = Some(entry);
                }
                id
            }
            None => {
                // More than 4 billion prefixes do not fit a machine anyway.
                let id = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(entry);
                id
            }
        };
        self.index
            .insert_unique(hash, Indexed { id, hash: short }, |i| i.hash());
        self.last.set(id);
        id
    }

    /// The entry with `id`.
    pub fn get(&self, id: u32) -> Option<&Entry<K, P>> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// The entry with `id`, mutably.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Entry<K, P>> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Frees the entry if it has no paths and no peer refers to it. Returns whether it
    /// was freed.
    pub fn remove_if_unused(&mut self, id: u32) -> bool {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return false;
        };
        match slot {
            Some(e) if e.paths.is_empty() && e.out_refs == 0 => {
                *slot = None;
                if self.doomed.insert(id) {
                    self.doomed_count += 1;
                }
                if self.doomed_count * PURGE_RATIO >= self.index.len() {
                    self.purge();
                }
                true
            }
            _ => false,
        }
    }

    /// Drops the doomed ids from the index in one pass and makes them free for reuse.
    fn purge(&mut self) {
        let Table {
            index,
            doomed,
            free,
            ..
        } = self;
        index.retain(|i| {
            if doomed.remove(i.id) {
                free.push(i.id);
                false
            } else {
                true
            }
        });
        self.doomed_count = 0;
    }

    /// Number of prefixes held (with or without paths).
    pub fn len(&self) -> usize {
        self.index.len() - self.doomed_count
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One past the largest id in use; the size a per-id bitset needs.
    pub fn id_bound(&self) -> usize {
        self.slots.len()
    }

    /// Every entry with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Entry<K, P>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((u32::try_from(i).ok()?, e.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_reused_after_free() {
        let mut t: Table<u32, u8> = Table::default();
        let a = t.get_or_insert(10);
        let b = t.get_or_insert(20);
        assert_eq!(t.get_or_insert(10), a);
        assert_ne!(a, b);
        t.get_mut(b).unwrap().paths.push(1);
        assert!(!t.remove_if_unused(b), "has a path");
        t.get_mut(b).unwrap().paths.clear();
        t.get_mut(b).unwrap().out_refs = 1;
        assert!(!t.remove_if_unused(b), "a peer still refers to it");
        t.get_mut(b).unwrap().out_refs = 0;
        assert!(t.remove_if_unused(b));
        assert_eq!(t.id(&20), None);
        assert_eq!(t.len(), 1);
        let c = t.get_or_insert(30);
        assert_eq!(c, b, "freed id is reused");
        assert_eq!(
            t.iter().map(|(_, e)| e.prefix).collect::<Vec<_>>(),
            vec![10, 30]
        );
    }

    #[test]
    fn entries_past_many_chunks_keep_their_ids() {
        let mut t: Table<u32, u8> = Table::default();
        let n = u32::try_from(3 * CHUNK + 5).unwrap();
        let ids: Vec<u32> = (0..n).map(|k| t.get_or_insert(k * 7)).collect();
        for (k, &id) in (0..n).zip(&ids) {
            assert_eq!(t.id(&(k * 7)), Some(id));
            assert_eq!(t.get(id).map(|e| e.prefix), Some(k * 7));
        }
        assert_eq!(t.id_bound(), n as usize);
        // Out of order, and repeated, lookups find the same ids as in-order ones.
        for k in (0..n).rev().step_by(3).chain([5, 5, 4, 6, 6]) {
            assert_eq!(t.id(&(k * 7)), Some(ids[k as usize]));
            assert_eq!(t.get_or_insert(k * 7), ids[k as usize]);
        }
        assert_eq!(t.id(&1), None, "never inserted");
        assert!(t.get(n).is_none(), "no entry past the last id");
        assert_eq!(t.iter().count(), n as usize);
        assert!(t.remove_if_unused(ids[CHUNK + 1]));
        assert_eq!(t.iter().count(), n as usize - 1);
        assert_eq!(t.len(), n as usize - 1);
        assert_eq!(t.id(&((CHUNK as u32 + 1) * 7)), None);
    }

    #[test]
    fn freed_entries_leave_the_index_in_bulk_and_their_ids_are_reused() {
        let mut t: Table<u32, u8> = Table::default();
        let n = 10_000u32;
        let ids: Vec<u32> = (0..n).map(|k| t.get_or_insert(k)).collect();
        // Free every other prefix: lookups of freed ones fail at once, the others hold.
        for k in (0..n).step_by(2) {
            assert!(t.remove_if_unused(ids[k as usize]));
            assert_eq!(t.id(&k), None);
        }
        assert_eq!(t.len(), n as usize / 2);
        for k in (1..n).step_by(2) {
            assert_eq!(t.id(&k), Some(ids[k as usize]));
        }
        // A freed prefix comes back under a new id, and freed ids are handed out again
        // (the purges have run) instead of the table growing.
        let back = t.get_or_insert(0);
        assert_eq!(t.id(&0), Some(back));
        let fresh: Vec<u32> = (n..n + 1000).map(|k| t.get_or_insert(k)).collect();
        assert!(
            fresh.iter().all(|&id| id < n),
            "ids of freed entries are reused"
        );
        assert_eq!(t.id_bound(), n as usize);
        assert_eq!(t.len(), n as usize / 2 + 1001);
        for (k, id) in (n..n + 1000).zip(fresh) {
            assert_eq!(t.get(id).map(|e| e.prefix), Some(k));
        }
    }
}
