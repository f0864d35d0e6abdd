//! Sorted vectors where the run needs a set of table names or a small map keyed by name: what
//! `BTreeSet<String>` and `BTreeMap` did, in the same (sorted) order, with a fraction of their
//! code in every program that applies migrations (each `BTreeMap` key and value type
//! instantiates its node code anew: `bench/*/size`, BENCHMARKS.md "Binary size").

use std::borrow::Borrow;

/// A set of names, sorted, without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Names(Vec<String>);

impl Names {
    /// Adds `name`; whether it was new.
    pub(crate) fn insert(&mut self, name: String) -> bool {
        match self.0.binary_search(&name) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, name);
                true
            }
        }
    }

    /// Removes `name`; whether it was there.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        match self.0.binary_search_by(|n| n.as_str().cmp(name)) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether `name` is in the set.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|n| n.as_str().cmp(name)).is_ok()
    }

    /// Removes every name of `other`.
    pub(crate) fn remove_all(&mut self, other: &Names) {
        if !other.is_empty() {
            self.0.retain(|name| !other.contains(name));
        }
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether no name is in both sets.
    pub(crate) fn is_disjoint(&self, other: &Names) -> bool {
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => return false,
            }
        }
        true
    }

    /// Adds every name of `other`.
    pub(crate) fn extend(&mut self, other: Names) {
        if self.0.is_empty() {
            *self = other;
            return;
        }
        for name in other.0 {
            self.insert(name);
        }
    }
}

impl FromIterator<String> for Names {
    fn from_iter<I: IntoIterator<Item = String>>(names: I) -> Self {
        // One by one: no sort instantiated for it (the sets are a migration's tables).
        let mut set = Names::default();
        for name in names {
            set.insert(name);
        }
        set
    }
}

impl IntoIterator for Names {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Names {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A map sorted by key, one value per key.
#[derive(Clone, Debug)]
pub(crate) struct SortedMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value of `key`.
    pub(crate) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    /// The value of `key`, to change.
    pub(crate) fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| &mut self.0[at].1)
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets the value of `key`; the value it replaces.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// Removes `key` and returns its value.
    pub(crate) fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| self.0.remove(at).1)
    }

    /// The value of `key`, added as the default when there is none.
    pub(crate) fn entry_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let at = match self.find(&key) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (key, V::default()));
                at
            }
        };
        &mut self.0[at].1
    }

    /// The smallest key.
    pub(crate) fn first_key(&self) -> Option<&K> {
        self.0.first().map(|(k, _)| k)
    }

    /// The keys and values, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut map = SortedMap::default();
        for (key, value) in pairs {
            map.insert(key, value);
        }
        map
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_sorted_and_unique() {
        let mut names: Names = ["b", "a", "b"].map(String::from).into_iter().collect();
        assert!(names.insert("c".to_owned()));
        assert!(!names.insert("a".to_owned()));
        assert_eq!((&names).into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(names.remove("b") && !names.remove("b"));
        names.extend(["d", "a"].map(String::from).into_iter().collect());
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["a", "c", "d"]);
    }

    #[test]
    fn disjoint_sets() {
        let set = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Names>();
        assert!(set(&["a", "c"]).is_disjoint(&set(&["b", "d"])));
        assert!(!set(&["a", "c"]).is_disjoint(&set(&["b", "c"])));
        assert!(set(&[]).is_disjoint(&set(&["a"])));
    }

    #[test]
    fn map_in_key_order() {
        let mut map = SortedMap::default();
        map.insert("b".to_owned(), 2);
        map.insert("a".to_owned(), 1);
        map.insert("b".to_owned(), 3);
        *map.entry_or_default("c".to_owned()) += 4;
        assert_eq!(map.get("b"), Some(&3));
        assert!(map.contains_key("a"));
        assert_eq!(map.remove("a"), Some(1));
        let pairs: Vec<_> = map.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(pairs, [("b", 3), ("c", 4)]);
        if let Some(v) = map.get_mut("c") {
            *v = 5;
        }
        assert_eq!(map.get("c"), Some(&5));
    }
}
