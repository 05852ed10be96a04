//! Team workspaces over HTTP: invitations, roles enforced on the server, and ids from other
//! workspaces answering "not found".

mod support;

use reqwest::StatusCode;
use support::{Browser, TestApp, failure};

/// Ann signs up and invites `email` with `role`; returns Ann's browser, her workspace id and
/// the invitation token.
async fn ann_invites(app: &TestApp, email: &str, role: &str) -> (Browser, String, String) {
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let created = ann
        .call_ok(
            "invite_member",
            &[("workspace_id", &ws), ("email", email), ("role", role)],
        )
        .await;
    let link = created["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{}/invite/", app.url)), "{link}");
    let token = link.rsplit('/').next().unwrap().to_owned();
    (ann, ws, token)
}

#[tokio::test]
async fn an_invited_viewer_sees_the_workspace_but_cannot_change_it() {
    let app = TestApp::spawn().await;
    let (ann, ws, token) = ann_invites(&app, "vic@example.com", "viewer").await;

    let vic = app.browser();
    // The link's page works signed out and says what it offers.
    let page = vic
        .get(&format!("/invite/{token}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("vic@example.com") && page.contains("Viewer"),
        "{page}"
    );
    vic.sign_up("vic@example.com").await;
    vic.call_ok("accept_invitation", &[("token", &token)]).await;
    let shell = vic.shell().await;
    assert_eq!(shell["current"]["id"], ws.as_str());
    assert_eq!(shell["current"]["role"], "viewer");
    // Vic's own "My workspace" and Ann's are told apart by their owners.
    let owners: Vec<(String, String)> = shell["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_owned(),
                w["owner"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        owners.contains(&("My workspace".into(), "ann@example.com".into()))
            && owners.contains(&("My workspace".into(), "vic@example.com".into())),
        "{owners:?}"
    );

    let members = vic.call_ok("load_members", &[]).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        members["invitations"].as_array().unwrap().len(),
        0,
        "only Admins see invitations"
    );

    // Writes are refused by the server, whatever the page shows.
    let (status, body) = failure(
        vic.call(
            "invite_member",
            &[
                ("workspace_id", &ws),
                ("email", "eve@example.com"),
                ("role", "admin"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = failure(
        vic.call(
            "rename_workspace",
            &[("workspace_id", &ws), ("name", "Mine")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let vic_id = shell["user_id"].as_str().unwrap();
    let (status, _) = failure(
        vic.call(
            "change_member_role",
            &[
                ("workspace_id", &ws),
                ("user_id", vic_id),
                ("role", "admin"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The editor pages say so.
    let editor = vic.get("/connections/new/postgres").await;
    assert_eq!(editor.status(), StatusCode::FORBIDDEN);
    let html = editor.text().await.unwrap();
    assert!(html.contains("needs the Developer role"), "{html}");

    // Ann still sees Vic as Viewer; the workspace name is unchanged.
    let ann_view = ann.call_ok("load_members", &[]).await;
    assert!(
        ann_view["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == "vic@example.com" && m["role"] == "viewer")
    );
    assert_eq!(ann.shell().await["current"]["name"], "My workspace");
}

#[tokio::test]
async fn developers_may_open_editors_and_admins_may_promote() {
    let app = TestApp::spawn().await;
    let (ann, ws, token) = ann_invites(&app, "dev@example.com", "developer").await;
    let dev = app.browser();
    dev.sign_up("dev@example.com").await;
    dev.call_ok("accept_invitation", &[("token", &token)]).await;
    assert_eq!(dev.get("/packages/new").await.status(), StatusCode::OK);

    let dev_id = dev.shell().await["user_id"].as_str().unwrap().to_owned();
    ann.call_ok(
        "change_member_role",
        &[
            ("workspace_id", &ws),
            ("user_id", &dev_id),
            ("role", "admin"),
        ],
    )
    .await;
    dev.call_ok(
        "rename_workspace",
        &[("workspace_id", &ws), ("name", "Integrations")],
    )
    .await;
    assert_eq!(ann.shell().await["current"]["name"], "Integrations");
}

#[tokio::test]
async fn ids_from_another_workspace_answer_not_found() {
    let app = TestApp::spawn().await;
    let (ann, anns_ws, _) = ann_invites(&app, "vic@example.com", "viewer").await;
    let invitation = ann.call_ok("load_members", &[]).await["invitations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ann_id = ann.shell().await["user_id"].as_str().unwrap().to_owned();

    let bob = app.browser();
    bob.sign_up("bob@example.com").await;
    let bobs_ws = bob.current_workspace_id().await;
    for (endpoint, form) in [
        (
            "rename_workspace",
            vec![("workspace_id", anns_ws.as_str()), ("name", "Hijacked")],
        ),
        ("switch_workspace", vec![("workspace_id", anns_ws.as_str())]),
        (
            "invite_member",
            vec![
                ("workspace_id", anns_ws.as_str()),
                ("email", "eve@example.com"),
                ("role", "admin"),
            ],
        ),
        (
            "revoke_invitation",
            vec![
                ("workspace_id", bobs_ws.as_str()),
                ("invitation_id", invitation.as_str()),
            ],
        ),
        (
            "remove_member",
            vec![
                ("workspace_id", bobs_ws.as_str()),
                ("user_id", ann_id.as_str()),
            ],
        ),
    ] {
        let (status, body) = failure(bob.call(endpoint, &form).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint}: {body}");
        assert_eq!(
            body,
            serde_json::json!("NotFound"),
            "{endpoint} must reveal nothing"
        );
    }
    assert_eq!(ann.shell().await["current"]["name"], "My workspace");
    assert_eq!(
        ann.call_ok("load_members", &[]).await["invitations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_invitation_is_for_its_email_only() {
    let app = TestApp::spawn().await;
    let (_, ws, token) = ann_invites(&app, "vic@example.com", "viewer").await;
    let eve = app.browser();
    eve.sign_up("eve@example.com").await;
    let page = eve
        .get(&format!("/invite/{token}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Invitation email mismatch"), "{page}");
    let (status, body) = failure(eve.call("accept_invitation", &[("token", &token)]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["Forbidden"]
            .as_str()
            .unwrap()
            .contains("vic@example.com"),
        "{body}"
    );
    assert_ne!(eve.current_workspace_id().await, ws);
}

#[tokio::test]
async fn a_revoked_invitation_stops_working() {
    let app = TestApp::spawn().await;
    let (ann, ws, token) = ann_invites(&app, "vic@example.com", "viewer").await;
    let id = ann.call_ok("load_members", &[]).await["invitations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ann.call_ok(
        "revoke_invitation",
        &[("workspace_id", &ws), ("invitation_id", &id)],
    )
    .await;
    let vic = app.browser();
    vic.sign_up("vic@example.com").await;
    let (status, body) = failure(vic.call("accept_invitation", &[("token", &token)]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["Validation"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{body}"
    );
}

#[tokio::test]
async fn creating_and_switching_workspaces_is_remembered() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let first = ann.current_workspace_id().await;
    let created = ann
        .call_ok("create_workspace", &[("name", "Finance")])
        .await;
    assert_eq!(
        ann.current_workspace_id().await,
        created["id"].as_str().unwrap()
    );
    ann.call_ok("switch_workspace", &[("workspace_id", &first)])
        .await;
    // A new sign-in (another browser) opens the remembered default.
    let again = app.browser();
    again.sign_in("ann@example.com").await;
    assert_eq!(again.current_workspace_id().await, first);
    assert_eq!(
        again.shell().await["workspaces"].as_array().unwrap().len(),
        2
    );
}
