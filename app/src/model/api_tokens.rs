//! API tokens as the settings page shows them: never a hash; the secret only once, right
//! after it was made.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Role, WorkspaceView};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl TokenState {
    pub fn label(self) -> &'static str {
        match self {
            TokenState::Active => "Active",
            TokenState::Expired => "Expired",
            TokenState::Revoked => "Revoked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// `lst_ab12cd…`
    pub prefix: String,
    pub owner_email: String,
    pub mine: bool,
    pub created: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
    pub state: TokenState,
}

/// Shown once to whoever made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub name: String,
    pub role: Role,
    pub secret: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensData {
    pub workspace: WorkspaceView,
    /// The caller's own tokens, or every token of the workspace for an Admin.
    pub tokens: Vec<TokenView>,
    /// A token made by a form posted without WASM, handed over once through the session.
    pub created: Option<TokenCreated>,
}
