//! Lists a page at a time. The Runs log: every run shown once, in order, from either end,
//! whatever page one starts from, with filters, ties in time, and runs queued while someone
//! pages. The package list: by name, 50 at a time.

use catalog::runs::list::{self, COUNT_LIMIT, PageStart, RunFilter, RunPage};
use catalog::users;
use engine::package::{ConnectionSpec, Package};
use sqlx::PgPool;
use uuid::Uuid;

async fn package(pool: &PgPool, workspace: Uuid, name: &str) -> Uuid {
    let file = Package {
        name: name.into(),
        source: ConnectionSpec::Postgres {
            url: "postgres://somewhere/a".into(),
        },
        target: ConnectionSpec::Postgres {
            url: "postgres://somewhere/b".into(),
        },
        locale: "invariant".into(),
        dedicated_account: false,
        tasks: Vec::new(),
        schedule: None,
    };
    catalog::packages::save_from_file(pool, workspace, &file, true)
        .await
        .expect("save package")
        .id
}

/// `n` finished runs of `package`, a second apart, every third sharing its second with the
/// one before (ties broken by id), the first at `first_second`.
async fn runs(pool: &PgPool, workspace: Uuid, package: Uuid, n: i64, first_second: i64) {
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, package_id, state, started_by, queued_at, finished_at)
         SELECT gen_random_uuid(), $1, $2, CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'succeeded' END,
                'schedule', t, t
           FROM generate_series(1, $3) g,
                LATERAL (SELECT TIMESTAMPTZ '2026-01-01' + make_interval(secs => $4 + g - (g % 3 = 0)::int)) q(t)",
    )
    .bind(workspace)
    .bind(package)
    .bind(n)
    .bind(first_second as f64)
    .execute(pool)
    .await
    .unwrap();
}

/// Every run matching, newest first, as the database orders them.
async fn expected(
    pool: &PgPool,
    workspace: Uuid,
    package: Option<Uuid>,
    state: Option<&str>,
) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT id FROM runs WHERE workspace_id = $1 AND ($2::uuid IS NULL OR package_id = $2)
            AND ($3::text IS NULL OR state = $3)
          ORDER BY queued_at DESC, id DESC",
    )
    .bind(workspace)
    .bind(package)
    .bind(state)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn ids(page: &RunPage) -> Vec<Uuid> {
    page.runs.iter().map(|r| r.id).collect()
}

struct Log<'a> {
    pool: &'a PgPool,
    user: Uuid,
    workspace: Uuid,
    filter: RunFilter,
}

impl Log<'_> {
    /// A page, reached the way the browser does: through the link's text.
    async fn page(&self, start: PageStart) -> RunPage {
        let param = start.to_param().unwrap_or_default();
        let start = PageStart::parse(&param).expect("a link's page parses");
        list::list(
            self.pool,
            self.user,
            self.workspace,
            &self.filter,
            start,
            25,
        )
        .await
        .unwrap()
    }

    /// Older → Older → … from the newest page, then Newer → … back.
    async fn walk(&self) -> (Vec<Uuid>, Vec<Uuid>) {
        let mut down = Vec::new();
        let mut page = self.page(PageStart::Newest).await;
        assert_eq!(page.newer, None, "the newest page has nothing newer");
        loop {
            down.extend(ids(&page));
            match page.older {
                Some(p) => page = self.page(PageStart::Older(p)).await,
                None => break,
            }
        }
        let mut up = Vec::new();
        loop {
            up.splice(0..0, ids(&page));
            match page.newer {
                Some(p) => page = self.page(PageStart::Newer(p)).await,
                None => break,
            }
        }
        (down, up)
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_run_is_listed_once_in_order_paging_either_way(pool: PgPool) {
    let ann = users::sign_up(&pool, "ann@example.com", "correct horse battery")
        .await
        .unwrap();
    let ws = ann.default_workspace_id.unwrap();
    let orders = package(&pool, ws, "orders").await;
    let people = package(&pool, ws, "people").await;
    runs(&pool, ws, orders, 70, 0).await;
    runs(&pool, ws, people, 40, 20).await;

    let all = Log {
        pool: &pool,
        user: ann.id,
        workspace: ws,
        filter: RunFilter::default(),
    };
    let everything = expected(&pool, ws, None, None).await;
    assert_eq!(everything.len(), 110);
    let (down, up) = all.walk().await;
    assert_eq!(down, everything, "Older from the newest page");
    assert_eq!(up, everything, "Newer back from the oldest page");

    // The oldest page is full, and ends the list.
    let oldest = all.page(PageStart::Oldest).await;
    assert_eq!(ids(&oldest), everything[everything.len() - 25..]);
    assert_eq!(oldest.older, None);
    assert_eq!(
        oldest.newer.map(|p| p.id),
        Some(everything[everything.len() - 25])
    );

    // Filters page the same way.
    for (package, state) in [
        (Some(orders), None),
        (None, Some("failed")),
        (Some(people), Some("succeeded")),
    ] {
        let log = Log {
            filter: RunFilter {
                package,
                state: state.map(|s| s.parse().unwrap()),
                ..Default::default()
            },
            ..all
        };
        let want = expected(&pool, ws, package, state).await;
        let (down, up) = log.walk().await;
        assert_eq!(down, want, "{package:?} {state:?}");
        assert_eq!(up, want, "{package:?} {state:?}");
        let (count, exact) = list::count(&pool, ann.id, ws, &log.filter).await.unwrap();
        assert_eq!((count, exact), (want.len() as i64, true));
    }

    // A run queued while someone reads page 2 does not shift page 3 onto rows they saw.
    let first = all.page(PageStart::Newest).await;
    let second = all.page(PageStart::Older(first.older.unwrap())).await;
    runs(&pool, ws, orders, 3, 1000).await;
    let third = all.page(PageStart::Older(second.older.unwrap())).await;
    assert_eq!(ids(&third), everything[50..75]);
    // Newer from the second page gives the first page's runs, and then the new ones: the
    // newest page, full.
    let back = all.page(PageStart::Newer(second.newer.unwrap())).await;
    assert_eq!(ids(&back), everything[..25]);
    let top = all
        .page(PageStart::Newer(back.newer.expect("the new runs")))
        .await;
    assert_eq!(top.runs.len(), 25);
    assert_eq!(top.newer, None);
    assert_eq!(ids(&top)[3..], everything[..22]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn counts_stop_at_the_limit_and_other_workspaces_are_not_listed(pool: PgPool) {
    let ann = users::sign_up(&pool, "ann@example.com", "correct horse battery")
        .await
        .unwrap();
    let eve = users::sign_up(&pool, "eve@example.com", "correct horse battery")
        .await
        .unwrap();
    let ws = ann.default_workspace_id.unwrap();
    let orders = package(&pool, ws, "orders").await;
    runs(&pool, ws, orders, COUNT_LIMIT + 5, 0).await;
    let filter = RunFilter::default();
    assert_eq!(
        list::count(&pool, ann.id, ws, &filter).await.unwrap(),
        (COUNT_LIMIT, false)
    );

    // Eve's own workspace has none; Ann's is not hers to read.
    let eve_ws = eve.default_workspace_id.unwrap();
    let page = list::list(&pool, eve.id, eve_ws, &filter, PageStart::Newest, 25)
        .await
        .unwrap();
    assert!(page.runs.is_empty() && page.older.is_none() && page.newer.is_none());
    assert!(matches!(
        list::list(&pool, eve.id, ws, &filter, PageStart::Newest, 25).await,
        Err(catalog::CatalogError::NotFound)
    ));

    // Links that are not ours are refused, not guessed at.
    for bad in [
        "older",
        "older.12",
        "older.x.y",
        "sideways.1.00000000000000000000000000000000",
        "1",
    ] {
        assert_eq!(PageStart::parse(bad), None, "{bad}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_package_list_pages_by_name_and_starts_over_after_a_deleted_package(pool: PgPool) {
    let ann = users::sign_up(&pool, "ann@example.com", "correct horse battery")
        .await
        .unwrap();
    let ws = ann.default_workspace_id.unwrap();
    // Names whose case differs from their order by code point: listed as people read them.
    let mut names: Vec<String> = (0..120)
        .map(|i| {
            if i % 2 == 0 {
                format!("orders {i:03}")
            } else {
                format!("Orders {i:03}")
            }
        })
        .collect();
    for name in &names {
        package(&pool, ws, name).await;
    }
    names.sort_by_key(|n| n.to_lowercase());
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = catalog::packages::list(&pool, ann.id, ws, after)
            .await
            .unwrap();
        assert_eq!(page.total, 120);
        assert!(page.packages.len() <= catalog::packages::PACKAGES_PER_PAGE as usize);
        seen.extend(page.packages.iter().map(|p| p.name.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, names, "every package once, by name");

    // A page that starts after a package deleted since starts the list over.
    let first = catalog::packages::list(&pool, ann.id, ws, None)
        .await
        .unwrap();
    let gone = first.next.unwrap();
    sqlx::query("DELETE FROM packages WHERE id = $1")
        .bind(gone)
        .execute(&pool)
        .await
        .unwrap();
    let again = catalog::packages::list(&pool, ann.id, ws, Some(gone))
        .await
        .unwrap();
    assert_eq!(again.packages[0].name, names[0]);
    assert_eq!(again.total, 119);
}
