//! `--shuffle-lists`: permutes every list in account answers with a seeded
//! RNG, because the live API does not keep list order (official provider
//! issues #2912, #3887, #2903, #2904, #2908) and clients must compare these
//! lists as sets.
//!
//! A list of two or more distinct items never comes back in its stored
//! order: if the draw happens to be the identity, it is rotated by one, so an
//! order-sensitive client fails every time, not one run in N.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::model::{AccountData, IncludeSet};
use crate::state::lock;

#[derive(Debug)]
pub(crate) struct Shuffler {
    enabled: AtomicBool,
    seed: u64,
    rng: Mutex<StdRng>,
}

impl Shuffler {
    pub(crate) fn new(enabled: bool, seed: u64) -> Self {
        Self {
            enabled: AtomicBool::new(enabled),
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Restarts the RNG from the seed, so a reset fake replays the same
    /// permutations for the same requests.
    pub(crate) fn reseed(&self) {
        *lock(&self.rng) = StdRng::seed_from_u64(self.seed);
    }

    /// Permutes a list of documents (the list endpoint's `data`), if enabled.
    pub(crate) fn list<T>(&self, items: &mut [T]) {
        if self.enabled() {
            permute(items, &mut lock(&self.rng));
        }
    }

    /// Permutes every list inside one account document, if enabled.
    pub(crate) fn account(&self, data: &mut AccountData) {
        if !self.enabled() {
            return;
        }
        let rng = &mut *lock(&self.rng);
        let a = &mut data.attributes;
        if let Some(tags) = &mut a.account_tags {
            permute(tags, rng);
        }
        if let IncludeSet::Only(v) = &mut a.aws_regions {
            permute(v, rng);
        }
        let fwd = &mut a.logs_config.lambda_forwarder;
        permute(&mut fwd.lambdas, rng);
        permute(&mut fwd.sources, rng);
        let log_filters = &mut fwd.log_source_config.tag_filters;
        for f in log_filters.iter_mut() {
            if let Some(tags) = &mut f.tags {
                permute(tags, rng);
            }
        }
        permute(log_filters, rng);
        let m = &mut a.metrics_config;
        for f in m.tag_filters.iter_mut() {
            if let Some(tags) = &mut f.tags {
                permute(tags, rng);
            }
        }
        permute(&mut m.tag_filters, rng);
        permute(m.namespace_filters.items_mut(), rng);
        if let Some(filters) = &mut m.metric_name_filters {
            for f in filters.iter_mut() {
                permute(f.filter.items_mut(), rng);
            }
            permute(filters, rng);
        }
        if let IncludeSet::Only(v) = &mut a.traces_config.xray_services {
            permute(v, rng);
        }
    }
}

/// Shuffles, and never leaves a list of 2+ items in an order equal to the
/// one it came in (see the module doc).
fn permute<T>(items: &mut [T], rng: &mut StdRng) {
    if items.len() < 2 {
        return;
    }
    // Track where each original position went, to compare with the input
    // without requiring `Clone`.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.shuffle(rng);
    if order.iter().enumerate().all(|(i, &o)| i == o) {
        order.rotate_left(1);
    }
    apply_order(items, &order);
}

/// Rearranges `items` so that `items[i]` becomes the old `items[order[i]]`.
fn apply_order<T>(items: &mut [T], order: &[usize]) {
    // Follow each permutation cycle once, swapping in place.
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        let mut i = start;
        loop {
            done[i] = true;
            let next = order[i];
            if next == start {
                break;
            }
            items.swap(i, next);
            i = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_order_moves_items_where_asked() {
        let mut v = vec!['a', 'b', 'c', 'd'];
        apply_order(&mut v, &[2, 0, 3, 1]);
        assert_eq!(v, vec!['c', 'a', 'd', 'b']);
    }

    #[test]
    fn permute_never_returns_identity_and_keeps_the_set() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let mut v = vec![1, 2];
            permute(&mut v, &mut rng);
            assert_eq!(v, vec![2, 1]);
            let mut w: Vec<u32> = (0..5).collect();
            permute(&mut w, &mut rng);
            assert_ne!(w, (0..5).collect::<Vec<_>>());
            w.sort_unstable();
            assert_eq!(w, (0..5).collect::<Vec<_>>());
        }
    }

    #[test]
    fn same_seed_same_permutations() {
        let draw = || {
            let s = Shuffler::new(true, 42);
            let mut v: Vec<u32> = (0..8).collect();
            s.list(&mut v);
            v
        };
        assert_eq!(draw(), draw());
    }
}
