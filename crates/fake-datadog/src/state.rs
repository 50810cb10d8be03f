//! The account store: config UUID → account, the external IDs this fake
//! issued, and the rules that need both (duplicate `aws_account_id`, which
//! `external_id` values are acceptable, role↔keys switches).
//!
//! Every operation takes the lock once and does its checks and its write
//! under it, so concurrent creates of one AWS account cannot both succeed.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::errors::ApiError;
use crate::input::{AttributesPatch, AuthPatch};
use crate::model::{Account, Attributes, AuthConfig};

/// Locks a mutex, recovering from poisoning: a panicked handler must not
/// turn every later request into a 500.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: HashMap<Uuid, Account>,
    /// Every external ID handed out, by `generate_new_external_id` or by a
    /// create that omitted one. Live also expires them after 48 h; the fake
    /// does not (tests never run that long).
    issued_external_ids: HashSet<String>,
    next_seq: u64,
}

/// A new 32-lowercase-hex external ID, shaped like live ones (a UUIDv4 in
/// simple form).
fn new_external_id() -> String {
    Uuid::new_v4().simple().to_string()
}

impl Store {
    /// Issues and remembers a new external ID.
    pub(crate) fn issue_external_id(&self) -> String {
        let id = new_external_id();
        lock(&self.inner).issued_external_ids.insert(id.clone());
        id
    }

    /// Creates an account from a request whose required fields were checked.
    pub(crate) fn create(&self, mut patch: AttributesPatch) -> Result<Account, ApiError> {
        let aws_account_id = patch
            .aws_account_id
            .clone()
            .ok_or_else(|| ApiError::invalid("aws_account_id", "required"))?;
        let partition = patch
            .partition()?
            .ok_or_else(|| ApiError::invalid("aws_partition", "required"))?;
        let auth = patch
            .auth_config
            .take()
            .ok_or_else(|| ApiError::invalid("auth_config", "required"))?;

        let mut inner = lock(&self.inner);
        let auth = inner.resolve_auth(None, auth)?;
        if inner.owner_of(&aws_account_id).is_some() {
            return Err(ApiError::AccountExists);
        }
        let mut attrs = Attributes::with_defaults(aws_account_id, partition, auth);
        patch.apply_to(&mut attrs)?;
        let now = Timestamp::now();
        let account = Account {
            id: Uuid::new_v4(),
            seq: inner.next_seq,
            created_at: now,
            modified_at: now,
            attrs,
        };
        inner.next_seq += 1;
        if let AuthConfig::Role { external_id, .. } = &account.attrs.auth_config {
            inner.issued_external_ids.insert(external_id.clone());
        }
        inner.accounts.insert(account.id, account.clone());
        Ok(account)
    }

    /// Applies a PATCH; `aws_account_id` was required by the caller.
    pub(crate) fn update(&self, id: Uuid, mut patch: AttributesPatch) -> Result<Account, ApiError> {
        let mut inner = lock(&self.inner);
        let current = inner
            .accounts
            .get(&id)
            .cloned()
            .ok_or(ApiError::AccountNotFound)?;
        if let Some(new_id) = &patch.aws_account_id {
            if matches!(inner.owner_of(new_id), Some(owner) if owner != id) {
                return Err(ApiError::AccountExists);
            }
        }
        let mut attrs = current.attrs.clone();
        if let Some(auth) = patch.auth_config.take() {
            attrs.auth_config = inner.resolve_auth(Some(&current.attrs.auth_config), auth)?;
        }
        patch.apply_to(&mut attrs)?;
        let updated = Account {
            attrs,
            modified_at: Timestamp::now(),
            ..current
        };
        inner.accounts.insert(id, updated.clone());
        Ok(updated)
    }

    pub(crate) fn get(&self, id: Uuid) -> Result<Account, ApiError> {
        lock(&self.inner)
            .accounts
            .get(&id)
            .cloned()
            .ok_or(ApiError::AccountNotFound)
    }

    pub(crate) fn delete(&self, id: Uuid) -> Result<(), ApiError> {
        lock(&self.inner)
            .accounts
            .remove(&id)
            .map(|_| ())
            .ok_or(ApiError::AccountNotFound)
    }

    /// Accounts in creation order, optionally only those of one AWS account.
    pub(crate) fn list(&self, aws_account_id: Option<&str>) -> Vec<Account> {
        let inner = lock(&self.inner);
        let mut out: Vec<Account> = inner
            .accounts
            .values()
            .filter(|a| aws_account_id.is_none_or(|want| a.attrs.aws_account_id == want))
            .cloned()
            .collect();
        out.sort_by_key(|a| a.seq);
        out
    }

    pub(crate) fn reset(&self) {
        *lock(&self.inner) = Inner::default();
    }

    /// Everything stored, secrets included, for `GET /_fake/accounts`.
    pub(crate) fn dump(&self) -> StoreDump {
        let inner = lock(&self.inner);
        let mut accounts: Vec<&Account> = inner.accounts.values().collect();
        accounts.sort_by_key(|a| a.seq);
        let mut issued: Vec<String> = inner.issued_external_ids.iter().cloned().collect();
        issued.sort();
        StoreDump {
            accounts: accounts.into_iter().map(RawAccount::from).collect(),
            issued_external_ids: issued,
        }
    }
}

impl Inner {
    fn owner_of(&self, aws_account_id: &str) -> Option<Uuid> {
        self.accounts
            .values()
            .find(|a| a.attrs.aws_account_id == aws_account_id)
            .map(|a| a.id)
    }

    /// The auth config to store, given the stored one (None on create).
    fn resolve_auth(
        &self,
        stored: Option<&AuthConfig>,
        patch: AuthPatch,
    ) -> Result<AuthConfig, ApiError> {
        match (stored, patch) {
            (Some(AuthConfig::Keys { .. }), AuthPatch::Role { .. })
            | (Some(AuthConfig::Role { .. }), AuthPatch::Keys { .. }) => Err(ApiError::AuthSwitch),
            (
                stored,
                AuthPatch::Role {
                    role_name,
                    external_id,
                },
            ) => {
                let kept = match stored {
                    Some(AuthConfig::Role { external_id, .. }) => Some(external_id.as_str()),
                    _ => None,
                };
                let external_id = match external_id {
                    // Omitted: keep the stored one, or issue one on create.
                    None => kept.map_or_else(new_external_id, str::to_owned),
                    Some(e) if Some(e.as_str()) == kept => e,
                    Some(e) if self.issued_external_ids.contains(&e) => e,
                    Some(_) => return Err(ApiError::InvalidExternalId),
                };
                Ok(AuthConfig::Role {
                    role_name,
                    external_id,
                })
            }
            (
                stored,
                AuthPatch::Keys {
                    access_key_id,
                    secret_access_key,
                },
            ) => {
                let kept = match stored {
                    Some(AuthConfig::Keys {
                        secret_access_key, ..
                    }) => secret_access_key.clone(),
                    _ => None,
                };
                Ok(AuthConfig::Keys {
                    access_key_id,
                    secret_access_key: secret_access_key.or(kept),
                })
            }
        }
    }
}

/// The admin dump of the store.
#[derive(Debug, Serialize)]
pub(crate) struct StoreDump {
    accounts: Vec<RawAccount>,
    issued_external_ids: Vec<String>,
}

/// One account as stored: the API view plus what the API hides.
#[derive(Debug, Serialize)]
struct RawAccount {
    id: String,
    seq: u64,
    /// Only here, never in an API answer, so tests can check what a client sent.
    secret_access_key: Option<String>,
    data: crate::model::AccountData,
}

impl From<&Account> for RawAccount {
    fn from(a: &Account) -> Self {
        let secret_access_key = match &a.attrs.auth_config {
            AuthConfig::Keys {
                secret_access_key, ..
            } => secret_access_key.clone(),
            AuthConfig::Role { .. } => None,
        };
        Self {
            id: a.id.to_string(),
            seq: a.seq,
            secret_access_key,
            data: crate::model::AccountData::render(a, crate::model::Freshness::Stored),
        }
    }
}
