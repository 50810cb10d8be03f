//! Assembles the fake: its configuration, the shared state every handler
//! sees, and the router (API routes behind request logging, fault injection
//! and key checks; admin routes under `/_fake/` behind none of them).

use std::fmt;
use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

use crate::faults::FaultQueue;
use crate::observe::{RateCounter, RequestLog};
use crate::shuffle::Shuffler;
use crate::state::Store;
use crate::{admin, api, auth, faults, observe};

/// How the fake behaves. Key values are secrets: `Debug` hides them.
#[derive(Clone)]
pub struct Config {
    /// Expected `DD-API-KEY`.
    pub api_key: String,
    /// Expected `DD-APPLICATION-KEY`.
    pub app_key: String,
    /// Start with list shuffling on (switchable at runtime).
    pub shuffle_lists: bool,
    /// Seed of the shuffling RNG.
    pub seed: u64,
    /// Print one line per API request to stderr (method, path, status).
    pub verbose: bool,
}

impl Config {
    /// A config expecting these keys, shuffling off, seed 0, quiet.
    #[must_use]
    pub fn new(api_key: impl Into<String>, app_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            app_key: app_key.into(),
            shuffle_lists: false,
            seed: 0,
            verbose: false,
        }
    }

    /// Sets whether lists start shuffled.
    #[must_use]
    pub fn shuffle_lists(mut self, on: bool) -> Self {
        self.shuffle_lists = on;
        self
    }

    /// Sets the shuffling seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &"** redacted **")
            .field("app_key", &"** redacted **")
            .field("shuffle_lists", &self.shuffle_lists)
            .field("seed", &self.seed)
            .field("verbose", &self.verbose)
            .finish()
    }
}

/// Everything the handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) faults: FaultQueue,
    pub(crate) log: RequestLog,
    pub(crate) rate: RateCounter,
    pub(crate) shuffler: Shuffler,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole fake as an axum router (for `oneshot` tests, or [`crate::serve`]).
pub fn router(config: Config) -> Router {
    let state = AppState(Arc::new(Shared {
        shuffler: Shuffler::new(config.shuffle_lists, config.seed),
        config,
        store: Store::default(),
        faults: FaultQueue::default(),
        log: RequestLog::default(),
        rate: RateCounter::default(),
    }));

    const ACCOUNTS: &str = "/api/v2/integration/aws/accounts";
    let v2 = Router::new()
        .route(ACCOUNTS, get(api::list_accounts).post(api::create_account))
        .route(
            &format!("{ACCOUNTS}/{{id}}"),
            get(api::get_account)
                .patch(api::patch_account)
                .delete(api::delete_account),
        )
        .route(
            "/api/v2/integration/aws/generate_new_external_id",
            post(api::generate_external_id),
        )
        // route_layer: only matched v2 routes need keys; unknown paths 404.
        .route_layer(from_fn_with_state(state.clone(), auth::require_keys));

    // Layers run outside-in: observe (log + headers) sees the final answer,
    // including injected faults, which come before the key check as a real
    // rate limiter in front of the API would.
    let api = Router::new()
        .merge(v2)
        .route("/api/v1/validate", get(api::validate))
        .fallback(api::route_not_found)
        .layer(from_fn_with_state(state.clone(), faults::inject))
        .layer(from_fn_with_state(state.clone(), observe::observe))
        .with_state(state.clone());

    Router::new()
        .nest("/_fake", admin::router(state))
        .merge(api)
}
