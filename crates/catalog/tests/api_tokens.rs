//! API tokens: shown once and stored as a hash; never more than their member may do, now;
//! dead when revoked, expired, or when the member leaves.

use catalog::api_tokens::{self, TOKEN_PREFIX};
use catalog::{CatalogError, Role, invitations, members, users};
use chrono::{Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

/// Ann (Admin of her workspace) and Bob, whom she invites with `role`.
async fn team(pool: &PgPool, role: Role) -> (Uuid, Uuid, Uuid) {
    let ann = users::sign_up(pool, "ann@example.com", PASSWORD)
        .await
        .unwrap();
    let ws = ann.default_workspace_id.unwrap();
    let bob = users::sign_up(pool, "bob@example.com", PASSWORD)
        .await
        .unwrap();
    let (_, token) = invitations::create(pool, ann.id, ws, "bob@example.com", role)
        .await
        .unwrap();
    invitations::accept(pool, &bob, &token).await.unwrap();
    (ann.id, bob.id, ws)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_token_is_shown_once_stored_as_a_hash_and_speaks_for_its_member(pool: PgPool) {
    let (ann, _, ws) = team(&pool, Role::Viewer).await;
    let now = Utc::now();
    let made = api_tokens::create(&pool, ann, ws, "  nightly CI ", Role::Developer, None, now)
        .await
        .unwrap();
    assert!(made.secret.starts_with(TOKEN_PREFIX));
    assert!(!format!("{made:?}").contains(&made.secret[TOKEN_PREFIX.len()..]));
    assert_eq!(made.token.name, "nightly CI");
    // Nothing stored holds the secret.
    let stored: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT prefix, token_hash FROM api_tokens")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(made.secret.starts_with(&stored[0].0) && stored[0].0.len() < 16);
    assert!(!hex::encode(&stored[0].1).contains(&made.secret[TOKEN_PREFIX.len()..]));

    let caller = api_tokens::authenticate(&pool, &made.secret, now)
        .await
        .unwrap()
        .expect("the token works");
    assert_eq!(
        (caller.user, caller.workspace, caller.role),
        (ann, ws, Role::Developer)
    );
    let listed = api_tokens::list(&pool, ann, ws).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "its use is recorded");

    // Near misses are strangers.
    let mut wrong = made.secret.clone();
    wrong.pop();
    wrong.push(if made.secret.ends_with('0') { '1' } else { '0' });
    for presented in [wrong.as_str(), "", "lst_", &made.secret[1..], "Bearer x"] {
        assert_eq!(
            api_tokens::authenticate(&pool, presented, now)
                .await
                .unwrap(),
            None
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_token_never_outranks_its_member(pool: PgPool) {
    let (ann, bob, ws) = team(&pool, Role::Developer).await;
    let now = Utc::now();
    // More than the member has is refused at creation.
    let refused = api_tokens::create(&pool, bob, ws, "too much", Role::Admin, None, now)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, CatalogError::Validation { field: "role", .. }),
        "{refused:?}"
    );
    let token = api_tokens::create(&pool, bob, ws, "deploys", Role::Developer, None, now)
        .await
        .unwrap();
    let role_now = || async {
        api_tokens::authenticate(&pool, &token.secret, Utc::now())
            .await
            .unwrap()
            .map(|c| c.role)
    };
    assert_eq!(role_now().await, Some(Role::Developer));
    // Demoted: the token is limited at once; promoted again: back to its own role (never
    // above it).
    members::change_role(&pool, ann, ws, bob, Role::Viewer)
        .await
        .unwrap();
    assert_eq!(role_now().await, Some(Role::Viewer));
    members::change_role(&pool, ann, ws, bob, Role::Admin)
        .await
        .unwrap();
    assert_eq!(role_now().await, Some(Role::Developer));
    // Removed: the token is gone with the membership.
    members::remove(&pool, ann, ws, bob).await.unwrap();
    assert_eq!(role_now().await, None);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn revoked_and_expired_tokens_are_refused(pool: PgPool) {
    let (ann, bob, ws) = team(&pool, Role::Developer).await;
    let now = Utc::now();
    let past = api_tokens::create(
        &pool,
        ann,
        ws,
        "old",
        Role::Viewer,
        Some(now - Duration::hours(1)),
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        past,
        CatalogError::Validation {
            field: "expires_at",
            ..
        }
    ));
    let short = api_tokens::create(
        &pool,
        bob,
        ws,
        "short",
        Role::Viewer,
        Some(now + Duration::hours(1)),
        now,
    )
    .await
    .unwrap();
    assert!(
        api_tokens::authenticate(&pool, &short.secret, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        api_tokens::authenticate(&pool, &short.secret, now + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );
    let bobs = api_tokens::create(&pool, bob, ws, "ci", Role::Viewer, None, now)
        .await
        .unwrap();
    let anns = api_tokens::create(&pool, ann, ws, "admin script", Role::Admin, None, now)
        .await
        .unwrap();
    // Bob sees and revokes only his own; Ann (Admin) sees and revokes everyone's.
    let bob_sees: Vec<String> = api_tokens::list(&pool, bob, ws)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(bob_sees, ["ci", "short"]);
    assert_eq!(api_tokens::list(&pool, ann, ws).await.unwrap().len(), 3);
    assert!(matches!(
        api_tokens::revoke(&pool, bob, ws, anns.token.id).await,
        Err(CatalogError::NotFound)
    ));
    let revoked = api_tokens::revoke(&pool, ann, ws, bobs.token.id)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        api_tokens::authenticate(&pool, &bobs.secret, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        api_tokens::authenticate(&pool, &anns.secret, now)
            .await
            .unwrap()
            .is_some()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn another_workspace_sees_nothing(pool: PgPool) {
    let (ann, _, ws) = team(&pool, Role::Viewer).await;
    let eve = users::sign_up(&pool, "eve@example.com", PASSWORD)
        .await
        .unwrap();
    let eve_ws = eve.default_workspace_id.unwrap();
    let now = Utc::now();
    let token = api_tokens::create(&pool, ann, ws, "mine", Role::Viewer, None, now)
        .await
        .unwrap();
    // Eve cannot make a token in Ann's workspace, list its tokens, or revoke them.
    assert!(matches!(
        api_tokens::create(&pool, eve.id, ws, "x", Role::Viewer, None, now).await,
        Err(CatalogError::NotFound)
    ));
    assert!(matches!(
        api_tokens::list(&pool, eve.id, ws).await,
        Err(CatalogError::NotFound)
    ));
    assert!(matches!(
        api_tokens::revoke(&pool, eve.id, eve_ws, token.token.id).await,
        Err(CatalogError::NotFound)
    ));
    assert!(
        api_tokens::list(&pool, eve.id, eve_ws)
            .await
            .unwrap()
            .is_empty()
    );
}
