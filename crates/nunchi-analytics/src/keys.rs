//! Dense numbering: customer keys and event names become small integers so the log can
//! store them in a few bits, and come back as their original values for display.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

use crate::AnalyticsError;

/// Maps any customer key (a database id, a CSV string) to a dense `u32` index.
#[derive(Debug, Clone)]
pub struct Keys<K> {
    index: HashMap<K, u32>,
    keys: Vec<K>,
}

impl<K: Hash + Eq + Clone> Default for Keys<K> {
    fn default() -> Self {
        Keys {
            index: HashMap::new(),
            keys: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Keys<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `key`, numbering it if it is new. Borrowed forms (`&str` for
    /// `Box<str>`) look up without allocating; only a new key is copied.
    pub fn index<Q>(&mut self, key: &Q) -> u32
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        for<'q> &'q Q: Into<K>,
    {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.keys.len() as u32;
        let owned: K = key.into();
        self.index.insert(owned.clone(), i);
        self.keys.push(owned);
        i
    }

    pub fn get<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.index.get(key).copied()
    }

    pub fn key(&self, index: u32) -> &K {
        &self.keys[index as usize]
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Event names as 16-bit codes, as the packed event holds them.
#[derive(Debug, Clone, Default)]
pub struct Names {
    index: HashMap<Box<str>, u16>,
    names: Vec<Box<str>>,
}

impl Names {
    pub const LIMIT: usize = u16::MAX as usize;

    pub fn intern(&mut self, name: &str) -> Result<u16, AnalyticsError> {
        if let Some(&code) = self.index.get(name) {
            return Ok(code);
        }
        if self.names.len() >= Self::LIMIT {
            return Err(AnalyticsError::TooManyNames(Self::LIMIT));
        }
        let code = self.names.len() as u16;
        self.index.insert(name.into(), code);
        self.names.push(name.into());
        Ok(code)
    }

    pub fn code(&self, name: &str) -> Option<u16> {
        self.index.get(name).copied()
    }

    /// Codes for names that must already be known, e.g. a funnel's steps.
    pub fn codes(&self, names: &[impl AsRef<str>]) -> Result<Vec<u16>, AnalyticsError> {
        names
            .iter()
            .map(|n| {
                self.code(n.as_ref())
                    .ok_or_else(|| AnalyticsError::UnknownEvent(n.as_ref().to_string()))
            })
            .collect()
    }

    pub fn name(&self, code: u16) -> &str {
        &self.names[code as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_names_number_densely_and_round_trip() {
        let mut keys: Keys<Box<str>> = Keys::new();
        assert_eq!(keys.index("b"), 0);
        assert_eq!(keys.index("a"), 1);
        assert_eq!(keys.index("b"), 0);
        assert_eq!(&**keys.key(1), "a");
        assert_eq!(keys.get("zz"), None);
        let mut names = Names::default();
        let visit = names.intern("visit").unwrap();
        let buy = names.intern("purchase").unwrap();
        assert_ne!(visit, buy);
        assert_eq!(names.name(buy), "purchase");
        assert_eq!(
            names.codes(&["visit", "nope"]),
            Err(AnalyticsError::UnknownEvent("nope".into()))
        );
    }
}
