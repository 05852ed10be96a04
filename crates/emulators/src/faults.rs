//! Injected API faults and the call counter every emulator shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Which calls fail, counted over all API calls (token requests included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every Nth call answers 429 Too Many Requests with `Retry-After: retry_after_seconds`.
    pub rate_limit_every: Option<u64>,
    pub retry_after_seconds: u64,
    /// Every Nth call answers 503 Service Unavailable (no `Retry-After`).
    pub unavailable_every: Option<u64>,
}

/// Counts calls and decides which ones fail. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct CallGate {
    inner: Arc<GateInner>,
}

#[derive(Debug, Default)]
struct GateInner {
    calls: AtomicU64,
    /// Calls that reached the API (not refused by an injected fault).
    served: AtomicU64,
    faults: std::sync::Mutex<Faults>,
}

/// What an injected fault answers.
pub enum Refusal {
    RateLimited { retry_after_seconds: u64 },
    Unavailable,
}

impl CallGate {
    pub fn set_faults(&self, faults: Faults) {
        *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Counts one call; `Some` when an injected fault refuses it.
    pub fn admit(&self) -> Option<Refusal> {
        let n = self.inner.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let faults = *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner());
        if faults
            .rate_limit_every
            .is_some_and(|every| every > 0 && n.is_multiple_of(every))
        {
            return Some(Refusal::RateLimited {
                retry_after_seconds: faults.retry_after_seconds,
            });
        }
        if faults
            .unavailable_every
            .is_some_and(|every| every > 0 && n.is_multiple_of(every))
        {
            return Some(Refusal::Unavailable);
        }
        self.inner.served.fetch_add(1, Ordering::SeqCst);
        None
    }

    /// All calls so far, refused ones included.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// Calls that were served (not refused by an injected fault).
    pub fn served(&self) -> u64 {
        self.inner.served.load(Ordering::SeqCst)
    }
}

impl Refusal {
    /// The answer, with the vendor's body shape given by the emulator.
    pub fn into_response_with(self, body: serde_json::Value) -> Response {
        match self {
            Refusal::RateLimited {
                retry_after_seconds,
            } => {
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(retry_after_seconds));
                response
            }
            Refusal::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
            }
        }
    }
}
