//! Who is asking, looked up once per page.
//!
//! A page renders several server functions on the server (the shell, the page's data, its
//! panels), and each begins by asking who is signed in and which workspace they work in: four
//! to six lookups of the same two rows per page. Within one GET request the answers cannot
//! change, so the page's request keeps the first answer ([`Asker`], provided per request by
//! the server) and the rest reuse it; lookups that run at the same time wait for the first.
//! Requests that change things (POST) get no `Asker` and look up afresh every time: a sign-in,
//! a sign-out or a switch of workspace is seen by the very next call.
//!
//! Only the lookups are kept, not the checks: every catalog call still checks the caller's
//! role in the workspace it acts on, in its own statement.

use std::sync::Arc;

use catalog::users::User;
use catalog::workspaces::WorkspaceSummary;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The signed-in person and their current workspace, as first looked up in this request.
#[derive(Clone, Default)]
pub struct Asker {
    user: Arc<OnceCell<Option<User>>>,
    /// Keyed by the user it was looked up for.
    workspace: Arc<OnceCell<(Uuid, Option<WorkspaceSummary>)>>,
}

impl Asker {
    /// The person, looked up by `find` the first time only.
    pub async fn user<E, F>(&self, find: impl FnOnce() -> F) -> Result<Option<User>, E>
    where
        F: Future<Output = Result<Option<User>, E>>,
    {
        self.user.get_or_try_init(find).await.cloned()
    }

    /// `user_id`'s current workspace, looked up by `find` the first time only.
    pub async fn workspace<E, F>(
        &self,
        user_id: Uuid,
        find: impl Fn() -> F,
    ) -> Result<Option<WorkspaceSummary>, E>
    where
        F: Future<Output = Result<Option<WorkspaceSummary>, E>>,
    {
        let (for_user, workspace) = self
            .workspace
            .get_or_try_init(|| async { Ok((user_id, find().await?)) })
            .await?;
        if *for_user == user_id {
            Ok(workspace.clone())
        } else {
            // One request has one person; anyone else is looked up, not served from here.
            find().await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn person(id: Uuid) -> User {
        User {
            id,
            email: format!("{id}@example.com"),
            default_workspace_id: None,
        }
    }

    fn workspace(name: &str) -> WorkspaceSummary {
        WorkspaceSummary {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            role: catalog::Role::Admin,
            owner: None,
        }
    }

    #[tokio::test]
    async fn the_server_functions_of_one_page_share_one_lookup() {
        let asker = Asker::default();
        let id = Uuid::new_v4();
        let lookups = AtomicUsize::new(0);
        let find = || async {
            lookups.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, ()>(Some(person(id)))
        };
        // Two at the same time (the second waits for the first), then one more later.
        let (first, second) = tokio::join!(asker.user(find), asker.user(find));
        let third = asker.user(find).await;
        for found in [first, second, third] {
            assert_eq!(found.unwrap().map(|u| u.id), Some(id));
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_lookup_is_not_kept() {
        let asker = Asker::default();
        let id = Uuid::new_v4();
        assert!(asker.user(|| async { Err("store down") }).await.is_err());
        let found = asker
            .user(|| async { Ok::<_, &str>(Some(person(id))) })
            .await;
        assert_eq!(found.unwrap().map(|u| u.id), Some(id));
    }

    #[tokio::test]
    async fn a_workspace_is_only_served_to_the_person_it_was_looked_up_for() {
        let asker = Asker::default();
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let anns = workspace("Ann's");
        let bobs = workspace("Bob's");
        let of = |user: Uuid| {
            let (anns, bobs) = (anns.clone(), bobs.clone());
            move || {
                let found = if user == ann {
                    anns.clone()
                } else {
                    bobs.clone()
                };
                async move { Ok::<_, ()>(Some(found)) }
            }
        };
        assert_eq!(asker.workspace(ann, of(ann)).await, Ok(Some(anns.clone())));
        assert_eq!(asker.workspace(bob, of(bob)).await, Ok(Some(bobs.clone())));
        assert_eq!(asker.workspace(ann, of(ann)).await, Ok(Some(anns)));
    }
}
