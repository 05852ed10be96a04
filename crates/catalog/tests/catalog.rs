//! The catalog's rules on a real PostgreSQL, a fresh database per test.
//! Needs DATABASE_URL pointing at a server where the user may create databases.

use catalog::{CatalogError, Role, invitations, members, sign_in_limits, users, workspaces};
use sqlx::PgPool;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

async fn account(pool: &PgPool, email: &str) -> users::User {
    users::sign_up(pool, email, PASSWORD)
        .await
        .expect("sign up")
}

async fn role_in(pool: &PgPool, workspace: Uuid, user: Uuid) -> Result<Role, CatalogError> {
    let mut conn = pool.acquire().await.unwrap();
    workspaces::require_role(&mut conn, workspace, user, Role::Viewer).await
}

/// `admin` invites `email` with `role` into their first workspace; returns (workspace, token).
async fn invite(pool: &PgPool, admin: &users::User, email: &str, role: Role) -> (Uuid, String) {
    let ws = admin.default_workspace_id.unwrap();
    let (_, token) = invitations::create(pool, admin.id, ws, email, role)
        .await
        .expect("invite");
    (ws, token)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_new_account_gets_its_own_workspace_as_admin(pool: PgPool) {
    let ann = account(&pool, "  Ann@Example.com ").await;
    assert_eq!(ann.email, "ann@example.com");
    let current = workspaces::current_for_user(&pool, ann.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.name, users::FIRST_WORKSPACE_NAME);
    assert_eq!(current.role, Role::Admin);
    assert_eq!(Some(current.id), ann.default_workspace_id);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_same_email_cannot_sign_up_twice_whatever_its_case(pool: PgPool) {
    account(&pool, "ann@example.com").await;
    let err = users::sign_up(&pool, "ANN@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CatalogError::Conflict { field: "email", .. }),
        "{err:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_sign_up_input_names_the_field(pool: PgPool) {
    let err = users::sign_up(&pool, "not-an-email", PASSWORD)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CatalogError::Validation { field: "email", .. }),
        "{err:?}"
    );
    let err = users::sign_up(&pool, "ann@example.com", "short")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CatalogError::Validation {
                field: "password",
                ..
            }
        ),
        "{err:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "a refused sign-up leaves nothing behind");
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_email_and_wrong_password_answer_the_same(pool: PgPool) {
    account(&pool, "ann@example.com").await;
    let unknown = users::sign_in(&pool, "bob@example.com", PASSWORD, "10.0.0.1")
        .await
        .unwrap_err();
    let wrong = users::sign_in(&pool, "ann@example.com", "wrong password!", "10.0.0.1")
        .await
        .unwrap_err();
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert!(matches!(unknown, CatalogError::InvalidCredentials));
    let ok = users::sign_in(&pool, "ANN@example.com", PASSWORD, "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(ok.email, "ann@example.com");
}

#[sqlx::test(migrations = "../../migrations")]
async fn repeated_failures_lock_the_email_even_for_the_right_password(pool: PgPool) {
    account(&pool, "ann@example.com").await;
    for _ in 0..sign_in_limits::MAX_FAILURES_PER_EMAIL {
        let err = users::sign_in(&pool, "ann@example.com", "guess guess guess", "10.0.0.2")
            .await
            .unwrap_err();
        assert!(matches!(err, CatalogError::InvalidCredentials));
    }
    let err = users::sign_in(&pool, "ann@example.com", PASSWORD, "10.0.0.3")
        .await
        .unwrap_err();
    match err {
        CatalogError::RateLimited { retry_after_secs } => {
            assert!(retry_after_secs > 0 && retry_after_secs <= sign_in_limits::WINDOW_MINUTES * 60)
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    // Other accounts are unaffected from another address.
    account(&pool, "bob@example.com").await;
    users::sign_in(&pool, "bob@example.com", PASSWORD, "10.0.0.4")
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn repeated_failures_from_one_address_are_limited_across_emails(pool: PgPool) {
    account(&pool, "ann@example.com").await;
    for i in 0..sign_in_limits::MAX_FAILURES_PER_IP {
        let _ = users::sign_in(&pool, &format!("nobody{i}@example.com"), "x", "10.9.9.9").await;
    }
    let err = users::sign_in(&pool, "ann@example.com", PASSWORD, "10.9.9.9")
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::RateLimited { .. }), "{err:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_workspace_of_someone_else_is_not_found_not_forbidden(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let bob = account(&pool, "bob@example.com").await;
    let anns = ann.default_workspace_id.unwrap();
    assert!(matches!(
        role_in(&pool, anns, bob.id).await,
        Err(CatalogError::NotFound)
    ));
    let err = workspaces::rename(&pool, bob.id, anns, "Taken over")
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::NotFound), "{err:?}");
    let err = workspaces::switch(&pool, bob.id, anns).await.unwrap_err();
    assert!(matches!(err, CatalogError::NotFound), "{err:?}");
    let err = members::list(&pool, bob.id, anns).await.unwrap_err();
    assert!(matches!(err, CatalogError::NotFound), "{err:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn create_switch_and_rename_workspaces(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let second = workspaces::create(&pool, ann.id, "  Sales ops ")
        .await
        .unwrap();
    assert_eq!(second.name, "Sales ops");
    assert_eq!(
        workspaces::current_for_user(&pool, ann.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );
    workspaces::switch(&pool, ann.id, ann.default_workspace_id.unwrap())
        .await
        .unwrap();
    assert_eq!(
        workspaces::current_for_user(&pool, ann.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        ann.default_workspace_id.unwrap()
    );
    workspaces::rename(&pool, ann.id, second.id, "Finance")
        .await
        .unwrap();
    let names: Vec<String> = workspaces::list_for_user(&pool, ann.id)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["Finance", users::FIRST_WORKSPACE_NAME]);
    let err = workspaces::rename(&pool, ann.id, second.id, "   ")
        .await
        .unwrap_err();
    assert!(
        matches!(err, CatalogError::Validation { field: "name", .. }),
        "{err:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_person_is_found_with_their_workspaces_and_the_one_they_work_in(pool: PgPool) {
    assert!(
        workspaces::of_user(&pool, Uuid::new_v4())
            .await
            .unwrap()
            .is_none(),
        "no account, nobody"
    );
    let ann = account(&pool, "ann@example.com").await;
    let (anns, token) = invite(&pool, &ann, "vic@example.com", Role::Viewer).await;
    let vic = account(&pool, "vic@example.com").await;
    invitations::accept(&pool, &vic, &token).await.unwrap();
    let found = workspaces::of_user(&pool, vic.id).await.unwrap().unwrap();
    assert_eq!(found.user.email, "vic@example.com");
    let roles: Vec<(Uuid, Role, Option<String>)> = found
        .workspaces
        .iter()
        .map(|w| (w.id, w.role, w.owner.clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (anns, Role::Viewer, Some("ann@example.com".into())),
            (
                vic.default_workspace_id.unwrap(),
                Role::Admin,
                Some("vic@example.com".into())
            ),
        ],
        "both of one name, the older first"
    );
    assert_eq!(found.current().map(|w| w.id), Some(anns), "the joined one");

    // Removed from the workspace they worked in: they work in the first one they still have.
    members::remove(&pool, ann.id, anns, vic.id).await.unwrap();
    let found = workspaces::of_user(&pool, vic.id).await.unwrap().unwrap();
    assert_eq!(found.workspaces.len(), 1);
    assert_eq!(found.current().map(|w| w.id), vic.default_workspace_id);
    assert_eq!(
        workspaces::current_for_user(&pool, vic.id)
            .await
            .unwrap()
            .map(|w| w.id),
        vic.default_workspace_id
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_invited_viewer_joins_and_can_read_but_not_administer(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let (ws, token) = invite(&pool, &ann, "Vic@Example.com", Role::Viewer).await;
    let preview = invitations::preview(&pool, &token).await.unwrap();
    assert_eq!(preview.email, "vic@example.com");
    assert_eq!(preview.state, invitations::InvitationState::Pending);

    let vic = account(&pool, "vic@example.com").await;
    assert_eq!(invitations::accept(&pool, &vic, &token).await.unwrap(), ws);
    assert_eq!(role_in(&pool, ws, vic.id).await.unwrap(), Role::Viewer);
    assert_eq!(
        workspaces::current_for_user(&pool, vic.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        ws,
        "switched to the joined workspace"
    );
    assert_eq!(members::list(&pool, vic.id, ws).await.unwrap().len(), 2);

    let err = workspaces::rename(&pool, vic.id, ws, "Mine now")
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Forbidden(_)), "{err:?}");
    let err = invitations::create(&pool, vic.id, ws, "eve@example.com", Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Forbidden(_)), "{err:?}");
    let err = members::change_role(&pool, vic.id, ws, vic.id, Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Forbidden(_)), "{err:?}");

    let err = invitations::accept(&pool, &vic, &token).await.unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_the_invited_email_can_accept(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let (ws, token) = invite(&pool, &ann, "vic@example.com", Role::Developer).await;
    let eve = account(&pool, "eve@example.com").await;
    let err = invitations::accept(&pool, &eve, &token).await.unwrap_err();
    assert!(
        err.to_string().contains("Invitation email mismatch"),
        "{err}"
    );
    assert!(matches!(
        role_in(&pool, ws, eve.id).await,
        Err(CatalogError::NotFound)
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn revoked_expired_and_unknown_links_do_not_work(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let vic = account(&pool, "vic@example.com").await;

    let (ws, revoked) = invite(&pool, &ann, "vic@example.com", Role::Viewer).await;
    let id = invitations::list_pending(&pool, ann.id, ws).await.unwrap()[0].id;
    invitations::revoke(&pool, ann.id, ws, id).await.unwrap();
    let err = invitations::accept(&pool, &vic, &revoked)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no longer exists"), "{err}");
    assert!(
        invitations::list_pending(&pool, ann.id, ws)
            .await
            .unwrap()
            .is_empty()
    );

    let (_, expired) = invite(&pool, &ann, "vic@example.com", Role::Viewer).await;
    sqlx::query(
        "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE revoked_at IS NULL",
    )
    .execute(&pool)
    .await
    .unwrap();
    let err = invitations::accept(&pool, &vic, &expired)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(
        invitations::preview(&pool, &expired).await.unwrap().state,
        invitations::InvitationState::Expired
    );

    let err = invitations::accept(&pool, &vic, "0000").await.unwrap_err();
    assert!(err.to_string().contains("no longer exists"), "{err}");
    assert!(matches!(
        invitations::preview(&pool, "0000").await,
        Err(CatalogError::NotFound)
    ));
    assert!(matches!(
        role_in(&pool, ws, vic.id).await,
        Err(CatalogError::NotFound)
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_new_link_for_the_same_email_replaces_the_old_one(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let (ws, first) = invite(&pool, &ann, "vic@example.com", Role::Viewer).await;
    let (_, second) = invite(&pool, &ann, "vic@example.com", Role::Developer).await;
    assert_eq!(
        invitations::list_pending(&pool, ann.id, ws)
            .await
            .unwrap()
            .len(),
        1
    );
    let vic = account(&pool, "vic@example.com").await;
    assert!(invitations::accept(&pool, &vic, &first).await.is_err());
    invitations::accept(&pool, &vic, &second).await.unwrap();
    assert_eq!(role_in(&pool, ws, vic.id).await.unwrap(), Role::Developer);
    let err = invitations::create(&pool, ann.id, ws, "vic@example.com", Role::Viewer)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CatalogError::Conflict { field: "email", .. }),
        "already a member: {err:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_last_admin_can_be_neither_demoted_nor_removed(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let ws = ann.default_workspace_id.unwrap();
    let err = members::change_role(&pool, ann.id, ws, ann.id, Role::Viewer)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least one Admin"), "{err}");
    let err = members::remove(&pool, ann.id, ws, ann.id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least one Admin"), "{err}");

    let (_, token) = invite(&pool, &ann, "bob@example.com", Role::Admin).await;
    let bob = account(&pool, "bob@example.com").await;
    invitations::accept(&pool, &bob, &token).await.unwrap();
    members::change_role(&pool, bob.id, ws, ann.id, Role::Viewer)
        .await
        .unwrap();
    assert_eq!(role_in(&pool, ws, ann.id).await.unwrap(), Role::Viewer);
    members::remove(&pool, bob.id, ws, ann.id).await.unwrap();
    assert!(matches!(
        role_in(&pool, ws, ann.id).await,
        Err(CatalogError::NotFound)
    ));
    let err = members::remove(&pool, bob.id, ws, bob.id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least one Admin"), "{err}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn ids_from_another_workspace_are_not_found_in_member_operations(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let bob = account(&pool, "bob@example.com").await;
    let anns = ann.default_workspace_id.unwrap();
    let bobs = bob.default_workspace_id.unwrap();
    let (_, _) = invite(&pool, &ann, "vic@example.com", Role::Viewer).await;
    let anns_invitation = invitations::list_pending(&pool, ann.id, anns)
        .await
        .unwrap()[0]
        .id;
    // Bob is Admin of his own workspace but names Ann's invitation and Ann herself.
    assert!(matches!(
        invitations::revoke(&pool, bob.id, bobs, anns_invitation).await,
        Err(CatalogError::NotFound)
    ));
    assert!(matches!(
        members::remove(&pool, bob.id, bobs, ann.id).await,
        Err(CatalogError::NotFound)
    ));
    assert!(matches!(
        members::change_role(&pool, bob.id, bobs, ann.id, Role::Viewer).await,
        Err(CatalogError::NotFound)
    ));
    assert_eq!(
        invitations::list_pending(&pool, ann.id, anns)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_removed_member_falls_back_to_a_workspace_they_still_belong_to(pool: PgPool) {
    let ann = account(&pool, "ann@example.com").await;
    let (ws, token) = invite(&pool, &ann, "vic@example.com", Role::Viewer).await;
    let vic = account(&pool, "vic@example.com").await;
    invitations::accept(&pool, &vic, &token).await.unwrap();
    members::remove(&pool, ann.id, ws, vic.id).await.unwrap();
    // Vic falls back to the workspace his account started with.
    let current = workspaces::current_for_user(&pool, vic.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(current.id), vic.default_workspace_id);
}
