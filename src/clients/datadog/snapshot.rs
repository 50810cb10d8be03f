//! One listing of every AWS account config, shared by all the link reads of a run.
//!
//! A refresh of N links would otherwise make N `GET /accounts/{id}` requests: minutes
//! per plan at thousands of accounts, and a rate-limit risk. Datadog's listing has no
//! paging, so one request answers every read.
//!
//! Freshness rules, so a read never reports something older than what it must see:
//! - the snapshot belongs to one configured provider (a new run configures anew, so
//!   nothing crosses runs, not even in a long-lived `--debug` provider);
//! - every write this process makes (ours, or the StackSet's stacks that write to
//!   Datadog) calls [`AccountSnapshot::invalidate`], and the next read lists again;
//! - a config missing from the listing is confirmed with a `GET` before it is called
//!   gone, so a listing that lags behind never drops a link from state;
//! - writes themselves never read from here: they need what Datadog holds now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::{AccountConfig, DatadogApi, DatadogError};

type ById = Arc<HashMap<String, AccountConfig>>;

#[derive(Debug, Default)]
struct Slot {
    listing: Option<ById>,
    /// Bumped by every write, so a listing that was in flight during a write is
    /// used by the read that asked for it but never kept.
    generation: u64,
}

/// The shared listing, taken on the first read and dropped on every write.
#[derive(Debug, Default)]
pub struct AccountSnapshot {
    slot: Mutex<Slot>,
    /// Held while listing: concurrent first reads wait for one listing instead of
    /// each making their own.
    listing_gate: tokio::sync::Mutex<()>,
}

impl AccountSnapshot {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The config with this id, from the listing (taken now if there is none).
    pub async fn read(&self, api: &dyn DatadogApi, id: &str, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        let cached = self.slot().listing.clone();
        let listing = match cached {
            Some(l) => l,
            None => self.list(api, cancel).await?,
        };
        match listing.get(id) {
            Some(found) => Ok(found.clone()),
            None => api.get_account(id, cancel).await,
        }
    }

    /// Every config, from the listing (taken now if there is none): one request
    /// however many accounts the organization has.
    pub async fn all(&self, api: &dyn DatadogApi, cancel: &CancellationToken) -> Result<Vec<AccountConfig>, DatadogError> {
        let cached = self.slot().listing.clone();
        let listing = match cached {
            Some(l) => l,
            None => self.list(api, cancel).await?,
        };
        Ok(listing.values().cloned().collect())
    }

    async fn list(&self, api: &dyn DatadogApi, cancel: &CancellationToken) -> Result<ById, DatadogError> {
        let _gate = self.listing_gate.lock().await;
        let generation = {
            let slot = self.slot();
            if let Some(l) = &slot.listing {
                return Ok(Arc::clone(l)); // listed by whoever held the gate before us
            }
            slot.generation
        };
        let all = api.list_accounts(None, cancel).await?;
        let fresh: ById = Arc::new(all.into_iter().map(|a| (a.id.clone(), a)).collect());
        let mut slot = self.slot();
        if slot.generation == generation {
            slot.listing = Some(Arc::clone(&fresh));
        }
        Ok(fresh)
    }

    /// Forgets the listing: something in Datadog changed (or may have).
    pub fn invalidate(&self) {
        let mut slot = self.slot();
        slot.listing = None;
        slot.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::datadog::AccountAttributes;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Default)]
    struct Counting {
        lists: AtomicUsize,
        gets: AtomicUsize,
    }

    fn config(id: &str) -> AccountConfig {
        AccountConfig { id: id.to_owned(), attributes: AccountAttributes { aws_account_id: "123456789012".into(), ..Default::default() } }
    }

    #[async_trait]
    impl DatadogApi for Counting {
        async fn validate_api_key(&self, _: &CancellationToken) -> Result<(), DatadogError> {
            Ok(())
        }
        async fn list_accounts(&self, _: Option<&str>, _: &CancellationToken) -> Result<Vec<AccountConfig>, DatadogError> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(vec![config("a"), config("b")])
        }
        async fn get_account(&self, id: &str, _: &CancellationToken) -> Result<AccountConfig, DatadogError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            if id == "late" {
                Ok(config("late"))
            } else {
                Err(DatadogError::NotFound { message: "Account not found".into() })
            }
        }
        async fn create_account(&self, _: &AccountAttributes, _: &CancellationToken) -> Result<AccountConfig, DatadogError> {
            unreachable!()
        }
        async fn update_account(&self, _: &str, _: &AccountAttributes, _: &CancellationToken) -> Result<AccountConfig, DatadogError> {
            unreachable!()
        }
        async fn delete_account(&self, _: &str, _: &CancellationToken) -> Result<(), DatadogError> {
            unreachable!()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_reads_make_one_listing() {
        let api = Arc::new(Counting::default());
        let snap = Arc::new(AccountSnapshot::default());
        let reads = (0..50).map(|i| {
            let (api, snap) = (Arc::clone(&api), Arc::clone(&snap));
            tokio::spawn(async move { snap.read(api.as_ref(), if i % 2 == 0 { "a" } else { "b" }, &CancellationToken::new()).await })
        });
        for r in reads {
            assert!(r.await.expect("join").is_ok());
        }
        assert_eq!(api.lists.load(Ordering::SeqCst), 1);
        assert_eq!(api.gets.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_makes_the_next_read_list_again() {
        let api = Counting::default();
        let snap = AccountSnapshot::default();
        let cancel = CancellationToken::new();
        snap.read(&api, "a", &cancel).await.expect("read");
        snap.invalidate();
        snap.read(&api, "b", &cancel).await.expect("read");
        assert_eq!(api.lists.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_config_missing_from_the_listing_is_confirmed_before_it_is_gone() {
        let api = Counting::default();
        let snap = AccountSnapshot::default();
        let cancel = CancellationToken::new();
        assert_eq!(snap.read(&api, "late", &cancel).await.expect("found by GET").id, "late");
        assert!(matches!(snap.read(&api, "gone", &cancel).await, Err(DatadogError::NotFound { .. })));
        assert_eq!((api.lists.load(Ordering::SeqCst), api.gets.load(Ordering::SeqCst)), (1, 2));
    }
}
