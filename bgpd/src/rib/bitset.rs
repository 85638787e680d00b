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
}
