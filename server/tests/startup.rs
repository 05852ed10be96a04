//! Start-up against missing and unreachable databases.

mod support;

use secrecy::SecretString;

#[tokio::test]
async fn a_missing_metadata_database_is_created_and_migrated() {
    let url = format!(
        "{}/lockstep_test_{}",
        support::admin_url(),
        uuid::Uuid::new_v4().simple()
    );
    let pool = server::database::prepare(&SecretString::from(url.clone()))
        .await
        .expect("created");
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('users', 'workspaces', 'memberships', 'invitations')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 4);
    // Running it again (a second process, a restart) is harmless.
    server::database::prepare(&SecretString::from(url))
        .await
        .expect("idempotent");
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_the_fix_and_no_password() {
    let err = server::database::prepare(&SecretString::from(
        "postgres://app:hunter2@127.0.0.1:1/lockstep".to_owned(),
    ))
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("postgres://app:***@127.0.0.1:1/lockstep"),
        "{err}"
    );
    assert!(err.contains("Fix:"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
