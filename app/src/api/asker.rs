//! Who is asking, looked up once per page.
//!
//! A page renders several server functions on the server (the shell, the page's data, its
//! panels), and each begins by asking who is signed in and which workspace they work in: four
//! to six lookups of the same rows per page. Within one GET request the answers cannot
//! change, so the page's request keeps the first answer ([`Asker`], provided per request by
//! the server) and the rest reuse it; lookups that run at the same time wait for the first.
//! One lookup finds the person with all their workspaces
//! (`catalog::workspaces::of_user`): the top bar lists them and the current one is among them.
//! Requests that change things (POST) get no `Asker` and look up afresh every time: a sign-in,
//! a sign-out or a switch of workspace is seen by the very next call.
//!
//! Only the lookups are kept, not the checks: every catalog call still checks the caller's
//! role in the workspace it acts on, in its own statement.

use std::sync::Arc;

use catalog::workspaces::UserWorkspaces;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The signed-in person with their workspaces, as first looked up in this request.
#[derive(Clone, Default)]
pub struct Asker {
    signed_in: Arc<OnceCell<Option<UserWorkspaces>>>,
}

impl Asker {
    /// The person, looked up by `find` the first time only.
    pub async fn signed_in<E, F>(
        &self,
        find: impl FnOnce() -> F,
    ) -> Result<Option<UserWorkspaces>, E>
    where
        F: Future<Output = Result<Option<UserWorkspaces>, E>>,
    {
        self.signed_in.get_or_try_init(find).await.cloned()
    }

    /// What was looked up, if it was looked up and is `user_id`'s: one request has one
    /// person, and anyone else is looked up, not served from here.
    pub fn looked_up(&self, user_id: Uuid) -> Option<UserWorkspaces> {
        self.signed_in
            .get()
            .and_then(Option::as_ref)
            .filter(|found| found.user.id == user_id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use catalog::users::User;

    use super::*;

    fn person(id: Uuid) -> UserWorkspaces {
        UserWorkspaces {
            user: User {
                id,
                email: format!("{id}@example.com"),
                default_workspace_id: None,
            },
            workspaces: Vec::new(),
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
        let (first, second) = tokio::join!(asker.signed_in(find), asker.signed_in(find));
        let third = asker.signed_in(find).await;
        for found in [first, second, third] {
            assert_eq!(found.unwrap().map(|p| p.user.id), Some(id));
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_lookup_is_not_kept() {
        let asker = Asker::default();
        let id = Uuid::new_v4();
        assert!(
            asker
                .signed_in(|| async { Err("store down") })
                .await
                .is_err()
        );
        assert!(asker.looked_up(id).is_none());
        let found = asker
            .signed_in(|| async { Ok::<_, &str>(Some(person(id))) })
            .await;
        assert_eq!(found.unwrap().map(|p| p.user.id), Some(id));
    }

    #[tokio::test]
    async fn what_was_looked_up_is_only_served_to_its_person() {
        let asker = Asker::default();
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(asker.looked_up(ann).is_none(), "nothing looked up yet");
        asker
            .signed_in(|| async { Ok::<_, ()>(Some(person(ann))) })
            .await
            .unwrap();
        assert_eq!(asker.looked_up(ann).map(|p| p.user.id), Some(ann));
        assert!(asker.looked_up(bob).is_none());
    }
}
