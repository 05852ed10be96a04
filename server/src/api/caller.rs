//! Who an API request speaks for: the bearer token's member, workspace and role (with its
//! rate limit taken), or a problem answer.

use std::time::Instant;

use axum::extract::FromRequestParts;
use catalog::Role;
use catalog::api_tokens::{self, TokenCaller};
use http::header;
use http::request::Parts;

use super::ApiState;
use super::problem::Problem;

/// The authenticated caller of an API request.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub TokenCaller);

impl Caller {
    /// Refuses (403) unless the token may act with `min`.
    pub fn require(&self, min: Role) -> Result<&TokenCaller, Problem> {
        if self.0.role < min {
            return Err(Problem::new(
                http::StatusCode::FORBIDDEN,
                format!(
                    "This needs the {min} role; this token acts as a {} (the lower of its own role and its \
                     member's). Use a token with a higher role.",
                    self.0.role
                ),
            ));
        }
        Ok(&self.0)
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(Problem::unauthorized)?;
        let caller = api_tokens::authenticate(&state.app.pool, presented, chrono::Utc::now())
            .await
            .map_err(Problem::from)?
            .ok_or_else(Problem::unauthorized)?;
        state
            .limiter
            .check(caller.token, Instant::now())
            .map_err(Problem::too_many_requests)?;
        catalog::audit::act_with_token(caller.token);
        Ok(Caller(caller))
    }
}
