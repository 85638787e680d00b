//! A growable bitset over prefix ids, for per-peer export state.

/// A set of `u32` ids.
#[derive(Debug, Clone, Default)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        let (w, b) = Self::pos(id);
        self.words.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    /// Adds `id`; returns whether it was absent.
    pub fn insert(&mut self, id: u32) -> bool {
        let (w, b) = Self::pos(id);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let was = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        !was
    }

    /// Removes `id`; returns whether it was present.
    pub fn remove(&mut self, id: u32) -> bool {
        let (w, b) = Self::pos(id);
        match self.words.get_mut(w) {
            Some(word) => {
                let was = *word & (1 << b) != 0;
                *word &= !(1 << b);
                was
            }
            None => false,
        }
    }

    /// Every id in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let b = word.trailing_zeros();
                word &= word - 1;
                u32::try_from(w * 64).ok().map(|base| base + b)
            })
        })
    }

    /// The smallest id in the set that is at least `start`.
    pub fn next_from(&self, start: u32) -> Option<u32> {
        let (mut w, b) = Self::pos(start);
        let mut word = self.words.get(w)? & (u64::MAX << b);
        loop {
            if word != 0 {
                let base = u32::try_from(w * 64).ok()?;
                return Some(base + word.trailing_zeros());
            }
            w += 1;
            word = *self.words.get(w)?;
        }
    }

    fn pos(id: u32) -> (usize, u32) {
        ((id / 64) as usize, id % 64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_iterate() {
        let mut s = BitSet::default();
        assert!(s.insert(3));
        assert!(!s.insert(3));
        assert!(s.insert(200));
        assert!(s.insert(64));
        assert!(s.contains(200) && s.contains(3) && !s.contains(4) && !s.contains(100_000));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 64, 200]);
        assert!(s.remove(64));
        assert!(!s.remove(64));
        assert!(!s.remove(1_000_000));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 200]);
    }

    #[test]
    fn next_from_finds_the_next_member() {
        let mut s = BitSet::default();
        assert_eq!(s.next_from(0), None);
        for id in [5, 63, 64, 700] {
            s.insert(id);
        }
        assert_eq!(s.next_from(0), Some(5));
        assert_eq!(s.next_from(5), Some(5));
        assert_eq!(s.next_from(6), Some(63));
        assert_eq!(s.next_from(64), Some(64));
        assert_eq!(s.next_from(65), Some(700));
        assert_eq!(s.next_from(701), None);
        assert_eq!(s.next_from(u32::MAX), None);
    }
}
