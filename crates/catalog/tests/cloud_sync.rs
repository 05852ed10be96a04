//! Cloud connectors against their emulators, synced with real databases and with each
//! other: convergence under random edits on both sides with injected 429/503 answers, the
//! source winning conflicts, no echo, late-indexed changes, the dedicated account, objects
//! without timestamps refused, and the API-call budget.

mod support;

use std::collections::BTreeMap;

use emulators::Faults;
use emulators::dynamics::Dynamics;
use emulators::hubspot::HubSpot;
use emulators::salesforce::Salesforce;
use engine::package::Package;
use sqlx::Executor;
use support::cloud::*;

/// Random inserts, updates and deletes on both sides, one conflicting edit per round; after
/// every run both sides hold the same records and the source's edit won the conflict. A
/// last run with nothing changed writes nothing (the engine's writes do not come back).
async fn converge(
    lockstep: &Lockstep,
    package: &Package,
    source: &dyn Side,
    target: &dyn Side,
    seed: u64,
    rounds: usize,
) {
    let mut dice = Dice(seed);
    for i in 0..20 {
        source.insert(&dice.rec(&format!("s{i}"))).await;
        target.insert(&dice.rec(&format!("t{i}"))).await;
    }
    let first = lockstep.run(package, 50).await;
    assert_eq!(first.state, wire::RunState::Succeeded, "{:?}", first.error);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(assert_converged(source, target, "first run").await, 40);

    for round in 0..rounds {
        for (side, tag) in [(source, "s"), (target, "t")] {
            for step in 0..6 {
                let ids: Vec<String> = side.all().await.into_keys().collect();
                let pick = &ids[dice.roll(ids.len() as u64) as usize];
                match dice.roll(3) {
                    0 => {
                        side.insert(&dice.rec(&format!("{tag}{round}.{step}")))
                            .await;
                    }
                    1 => {
                        side.update(pick, &dice.rec(&format!("{tag}{round}.{step}u")))
                            .await;
                    }
                    _ => {
                        side.delete(pick).await;
                    }
                }
            }
        }
        // Both sides edit the same record: the source wins.
        let pairs = paired(source, target).await;
        let (s_id, t_id) = pairs
            .iter()
            .next()
            .map(|(s, t)| (s.clone(), t.clone()))
            .unwrap();
        let source_edit = dice.rec(&format!("conflict {round} source"));
        let target_edit = dice.rec(&format!("conflict {round} target"));
        assert!(source.update(&s_id, &source_edit).await);
        assert!(target.update(&t_id, &target_edit).await);

        let report = lockstep.run(package, 50).await;
        assert_eq!(
            report.state,
            wire::RunState::Succeeded,
            "round {round}: {:?}",
            report.error
        );
        assert!(
            report.errors.is_empty(),
            "round {round}: {:?}",
            report.errors
        );
        assert_converged(source, target, &format!("round {round}")).await;
        let target_now: Vec<Rec> = target.all().await.into_values().collect();
        assert!(
            target_now.contains(&source_edit),
            "round {round}: the source's edit won"
        );
        assert!(
            !target_now.contains(&target_edit),
            "round {round}: the target's edit lost"
        );
    }
    let quiet = lockstep.run(package, 50).await;
    assert_eq!(
        written(&quiet),
        0,
        "nothing changed, nothing written: {:?}",
        quiet.tasks
    );
}

/// (source id, target id) of records holding the same values on both sides.
async fn paired(a: &dyn Side, b: &dyn Side) -> BTreeMap<String, String> {
    let right: BTreeMap<Rec, String> = b.all().await.into_iter().map(|(id, r)| (r, id)).collect();
    a.all()
        .await
        .into_iter()
        .filter_map(|(id, r)| Some((id, right.get(&r)?.clone())))
        .collect()
}

fn faults(rate_limit_every: u64, unavailable_every: u64) -> Faults {
    Faults {
        rate_limit_every: Some(rate_limit_every),
        retry_after_seconds: 0,
        unavailable_every: Some(unavailable_every),
    }
}

async fn postgres_accounts() -> sqlx::PgPool {
    let (_, pool) = support::fresh_pg("cloud").await;
    pool.execute(PG_TABLE).await.unwrap();
    pool
}

fn pg_spec(pool: &sqlx::PgPool) -> engine::package::ConnectionSpec {
    let options = pool.connect_options();
    engine::package::ConnectionSpec::Postgres {
        url: format!(
            "{}/{}",
            support::pg_server(),
            options.get_database().unwrap()
        ),
    }
}

fn mysql_server() -> String {
    std::env::var("TEST_MYSQL_SERVER").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

async fn mariadb_accounts() -> (String, sqlx::MySqlPool) {
    let name = format!("lockstep_test_cloud_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::MySqlPool::connect(&mysql_server()).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE `{name}`").as_str())
        .await
        .unwrap();
    let url = format!("{}/{name}", mysql_server());
    let pool = sqlx::MySqlPool::connect(&url).await.unwrap();
    pool.execute(MYSQL_TABLE).await.unwrap();
    (url, pool)
}

#[tokio::test]
async fn salesforce_and_postgres_converge_through_rate_limits_and_outages() {
    let sf = Salesforce::new();
    let running = sf.start().await.unwrap();
    sf.gate().set_faults(faults(7, 11));
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let package = package(
        "salesforce ↔ postgres",
        salesforce_spec(&running.base_url()),
        pg_spec(&pg),
        task(
            "Account",
            "accounts",
            SfAccounts::mapping_to_db(),
            SfAccounts::mapping_from_db(),
        ),
    );
    let source = SfAccounts(sf.clone());
    let target = PgAccounts(pg.clone());
    converge(&lockstep, &package, &source, &target, 0x5EED_0001, 4).await;

    // An update Salesforce stamps two seconds in the past (a transaction that committed
    // late), after a run has moved the checkpoint past that stamp, is still found by the
    // next run (the overlap window). Its session expired meanwhile and is renewed.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    lockstep.run(&package, 50).await;
    sf.expire_tokens();
    let (id, _) = source.all().await.into_iter().next().unwrap();
    let late = Rec {
        name: "committed late".into(),
        note: String::new(),
        count: Some(7),
        cents: None,
    };
    let mut fields = serde_json::Map::new();
    fields.insert("Name".into(), serde_json::json!(late.name));
    fields.insert("NumberOfEmployees".into(), serde_json::json!(7));
    fields.insert("Phone".into(), serde_json::Value::Null);
    fields.insert("AnnualRevenue".into(), serde_json::Value::Null);
    assert!(sf.user_update_late("Account", &id, fields, chrono::Duration::seconds(2)));
    let report = lockstep.run(&package, 50).await;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    assert!(target.all().await.values().any(|r| *r == late));
    assert_converged(&source, &target, "after the late update").await;
    let calls = report.api_calls.expect("a cloud side counts its calls");
    assert!(calls.source > 0 && calls.target == 0, "{calls:?}");
}

#[tokio::test]
async fn hubspot_and_mariadb_converge_through_rate_limits_and_outages() {
    let hs = HubSpot::new();
    let running = hs.start().await.unwrap();
    hs.gate().set_faults(faults(5, 13));
    let (url, my) = mariadb_accounts().await;
    let lockstep = Lockstep::new().await;
    let package = package(
        "mariadb ↔ hubspot",
        engine::package::ConnectionSpec::Mysql { url },
        hubspot_spec(&running.base_url()),
        task(
            "accounts",
            "companies",
            HsCompanies::mapping_from_db(),
            HsCompanies::mapping_to_db(),
        ),
    );
    converge(
        &lockstep,
        &package,
        &MyAccounts(my),
        &HsCompanies(hs.clone()),
        0x5EED_0002,
        4,
    )
    .await;
}

#[tokio::test]
async fn salesforce_and_hubspot_converge() {
    let sf = Salesforce::new();
    let sf_running = sf.start().await.unwrap();
    let hs = HubSpot::new();
    let hs_running = hs.start().await.unwrap();
    sf.gate().set_faults(faults(9, 17));
    hs.gate().set_faults(faults(8, 19));
    let lockstep = Lockstep::new().await;
    let s2t = mapping(&[
        ("name", "Name"),
        ("description", "Phone"),
        ("numberofemployees", "NumberOfEmployees"),
        ("annualrevenue", "AnnualRevenue"),
    ]);
    let t2s = mapping(&[
        ("Name", "name"),
        ("Phone", "description"),
        ("NumberOfEmployees", "numberofemployees"),
        ("AnnualRevenue", "annualrevenue"),
    ]);
    let package = package(
        "salesforce ↔ hubspot",
        salesforce_spec(&sf_running.base_url()),
        hubspot_spec(&hs_running.base_url()),
        task("Account", "companies", s2t, t2s),
    );
    converge(
        &lockstep,
        &package,
        &SfAccounts(sf.clone()),
        &HsCompanies(hs.clone()),
        0x5EED_0003,
        3,
    )
    .await;
}

/// Off: only Lockstep's own writes are left out, so an edit someone makes with the same
/// Salesforce user is synced. On: everything that user does is taken for Lockstep's.
#[tokio::test]
async fn the_dedicated_account_decides_whether_the_integration_users_edits_sync() {
    for dedicated in [false, true] {
        let sf = Salesforce::new();
        let running = sf.start().await.unwrap();
        let pg = postgres_accounts().await;
        let lockstep = Lockstep::new().await;
        let mut package = package(
            "dedicated",
            salesforce_spec(&running.base_url()),
            pg_spec(&pg),
            task(
                "Account",
                "accounts",
                SfAccounts::mapping_to_db(),
                SfAccounts::mapping_from_db(),
            ),
        );
        package.dedicated_account = dedicated;
        let source = SfAccounts(sf.clone());
        let target = PgAccounts(pg.clone());
        let id = source
            .insert(&Rec {
                name: "Acme".into(),
                note: String::new(),
                count: Some(1),
                cents: None,
            })
            .await;
        lockstep.run(&package, 50).await;
        // Someone signs in to Salesforce as the integration user and edits the record, a
        // while after the run.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let mut fields = serde_json::Map::new();
        fields.insert(
            "Name".into(),
            serde_json::json!("Acme (edited by the integration user)"),
        );
        assert!(sf.user_update_as(Salesforce::INTEGRATION_USER_ID, "Account", &id, fields));
        let report = lockstep.run(&package, 50).await;
        let names: Vec<String> = target.all().await.into_values().map(|r| r.name).collect();
        if dedicated {
            assert_eq!(
                names,
                ["Acme"],
                "dedicated: the user's edit is Lockstep's own"
            );
            assert_eq!(written(&report), 0);
        } else {
            assert_eq!(names, ["Acme (edited by the integration user)"]);
        }
    }
}

#[tokio::test]
async fn an_object_without_a_modified_timestamp_is_refused_before_anything_is_written() {
    let sf = Salesforce::new();
    let running = sf.start().await.unwrap();
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let package = package(
        "history",
        salesforce_spec(&running.base_url()),
        pg_spec(&pg),
        task(
            "AccountHistory",
            "accounts",
            mapping(&[("name", "Field")]),
            mapping(&[("Field", "name")]),
        ),
    );
    let message = lockstep.refusal(&package).await;
    assert!(message.contains("AccountHistory"), "{message}");
    assert!(message.contains("LastModifiedDate"), "{message}");
    assert!(PgAccounts(pg).all().await.is_empty());
}

/// Syncing N changed records costs ceil(N / 200) Salesforce write calls (ceil(N / 100) for
/// HubSpot) plus a few reads: sign-in, describe, the change query and the deletions.
#[tokio::test]
async fn syncing_changed_records_costs_one_call_per_vendor_batch_plus_a_few_reads() {
    const N: usize = 450;
    let sf = Salesforce::new();
    let sf_running = sf.start().await.unwrap();
    let hs = HubSpot::new();
    let hs_running = hs.start().await.unwrap();
    let lockstep = Lockstep::new().await;
    let pg = postgres_accounts().await;
    let pg_side = PgAccounts(pg.clone());
    let mut dice = Dice(42);
    let to_sf = package(
        "budget salesforce",
        pg_spec(&pg),
        salesforce_spec(&sf_running.base_url()),
        task(
            "accounts",
            "Account",
            SfAccounts::mapping_from_db(),
            SfAccounts::mapping_to_db(),
        ),
    );
    let to_hs = package(
        "budget hubspot",
        pg_spec(&pg),
        hubspot_spec(&hs_running.base_url()),
        task(
            "accounts",
            "companies",
            HsCompanies::mapping_from_db(),
            HsCompanies::mapping_to_db(),
        ),
    );
    // First runs on an empty table: tracking installed, nothing to copy.
    lockstep.run(&to_sf, 1000).await;
    lockstep.run(&to_hs, 1000).await;
    for i in 0..N {
        pg_side.insert(&dice.rec(&format!("b{i}"))).await;
    }
    let before = sf.gate().calls();
    let report = lockstep.run(&to_sf, 1000).await;
    let sf_calls = sf.gate().calls() - before;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    assert_eq!(sf.records("Account").len(), N);
    // sign-in, describe, changes query, deletions: 4 reads; 3 writes of 200.
    assert_eq!(sf_calls, 4 + N.div_ceil(200) as u64, "Salesforce calls");
    assert_eq!(report.api_calls.unwrap().target, sf_calls);

    let before = hs.gate().calls();
    let report = lockstep.run(&to_hs, 1000).await;
    let hs_calls = hs.gate().calls() - before;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    assert_eq!(hs.records("companies").len(), N);
    // describe, changes search, archived list: 3 reads; 5 writes of 100.
    assert_eq!(hs_calls, 3 + N.div_ceil(100) as u64, "HubSpot calls");

    // The next runs find nothing new: the records Lockstep created are not changes.
    let before = (sf.gate().calls(), hs.gate().calls());
    assert_eq!(written(&lockstep.run(&to_sf, 1000).await), 0);
    assert_eq!(written(&lockstep.run(&to_hs, 1000).await), 0);
    assert_eq!(sf.gate().calls() - before.0, 4);
    // Each poll re-reads what changed within the overlap window (here all N records, 200
    // per search page; Salesforce pages by 2,000).
    assert_eq!(hs.gate().calls() - before.1, 2 + N.div_ceil(200) as u64);
}

#[tokio::test]
async fn dynamics_and_postgres_converge_through_rate_limits_and_outages() {
    let dynamics = Dynamics::new();
    let running = dynamics.start().await.unwrap();
    dynamics.gate().set_faults(faults(6, 13));
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let package = package(
        "postgres ↔ dynamics",
        pg_spec(&pg),
        dynamics_spec(&running.base_url()),
        task(
            "accounts",
            "account",
            DynAccounts::mapping_from_db(),
            DynAccounts::mapping_to_db(),
        ),
    );
    let source = PgAccounts(pg.clone());
    let target = DynAccounts(dynamics.clone());
    converge(&lockstep, &package, &source, &target, 0x5EED_0004, 4).await;

    // An expired token is renewed; each run's calls are counted.
    dynamics.expire_tokens();
    source
        .insert(&Rec {
            name: "after the token expired".into(),
            note: String::new(),
            count: None,
            cents: None,
        })
        .await;
    let report = lockstep.run(&package, 50).await;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    assert_converged(&source, &target, "after the token expired").await;
    assert!(report.api_calls.unwrap().target > 0);
}

/// With a dedicated account, a Dynamics 365 change made by the application user is not
/// synced; one made by a person is.
#[tokio::test]
async fn a_dedicated_dynamics_account_ignores_its_own_users_changes_only() {
    let dynamics = Dynamics::new();
    let running = dynamics.start().await.unwrap();
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let mut package = package(
        "dedicated dynamics",
        dynamics_spec(&running.base_url()),
        pg_spec(&pg),
        task(
            "account",
            "accounts",
            DynAccounts::mapping_to_db(),
            DynAccounts::mapping_from_db(),
        ),
    );
    package.dedicated_account = true;
    let source = DynAccounts(dynamics.clone());
    let a = source
        .insert(&Rec {
            name: "A".into(),
            note: String::new(),
            count: None,
            cents: None,
        })
        .await;
    let b = source
        .insert(&Rec {
            name: "B".into(),
            note: String::new(),
            count: None,
            cents: None,
        })
        .await;
    lockstep.run(&package, 50).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let rename = |name: &str| {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), serde_json::json!(name));
        m
    };
    assert!(dynamics.user_update_as(
        Dynamics::APPLICATION_USER_ID,
        "account",
        &a,
        rename("A by the application user")
    ));
    assert!(dynamics.user_update("account", &b, rename("B by a person")));
    lockstep.run(&package, 50).await;
    let mut names: Vec<String> = PgAccounts(pg)
        .all()
        .await
        .into_values()
        .map(|r| r.name)
        .collect();
    names.sort();
    assert_eq!(names, ["A", "B by a person"]);
}

#[tokio::test]
async fn a_dynamics_entity_without_modifiedon_is_refused_and_writes_cost_one_batch_call() {
    let dynamics = Dynamics::new();
    let running = dynamics.start().await.unwrap();
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let refused = package(
        "log",
        dynamics_spec(&running.base_url()),
        pg_spec(&pg),
        task(
            "annotationlog",
            "accounts",
            mapping(&[("name", "subject")]),
            mapping(&[("subject", "name")]),
        ),
    );
    let message = lockstep.refusal(&refused).await;
    assert!(
        message.contains("annotationlog") && message.contains("modifiedon"),
        "{message}"
    );

    const N: usize = 450;
    let into = package(
        "budget dynamics",
        pg_spec(&pg),
        dynamics_spec(&running.base_url()),
        task(
            "accounts",
            "account",
            DynAccounts::mapping_from_db(),
            DynAccounts::mapping_to_db(),
        ),
    );
    lockstep.run(&into, 1000).await;
    let mut dice = Dice(7);
    let side = PgAccounts(pg.clone());
    for i in 0..N {
        side.insert(&dice.rec(&format!("d{i}"))).await;
    }
    let before = dynamics.gate().calls();
    let report = lockstep.run(&into, 1000).await;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    assert_eq!(dynamics.records("account").len(), N);
    // sign-in, WhoAmI, describe, the lookups' targets (account has a writable lookup), the
    // changes query, the id list: 6 reads; one $batch.
    assert_eq!(
        dynamics.gate().calls() - before,
        6 + N.div_ceil(1000) as u64
    );
}

/// A record edited in Salesforce minutes before the package's first run is copied by that
/// run; the next run must not take it for a new source change and overwrite what the other
/// side edited since (source wins only over real conflicts).
#[tokio::test]
async fn a_record_edited_just_before_the_first_run_does_not_win_over_a_later_edit_of_its_copy() {
    let sf = Salesforce::new();
    let running = sf.start().await.unwrap();
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let package = package(
        "recent",
        salesforce_spec(&running.base_url()),
        pg_spec(&pg),
        task(
            "Account",
            "accounts",
            SfAccounts::mapping_to_db(),
            SfAccounts::mapping_from_db(),
        ),
    );
    let source = SfAccounts(sf.clone());
    let target = PgAccounts(pg.clone());
    let rec = |name: &str| Rec {
        name: name.into(),
        note: String::new(),
        count: Some(3),
        cents: None,
    };
    source.insert(&rec("Acme")).await;
    // Edited a while before the run (seconds here, minutes in life: within the overlap).
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        lockstep.run(&package, 50).await.state,
        wire::RunState::Succeeded
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (copy, _) = target.all().await.into_iter().next().unwrap();
    assert!(
        target
            .update(&copy, &rec("Acme (edited in the shop)"))
            .await
    );
    let report = lockstep.run(&package, 50).await;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    assert_converged(&source, &target, "after the shop's edit").await;
    assert_eq!(
        source.all().await.into_values().next().unwrap().name,
        "Acme (edited in the shop)"
    );
}

/// Issue 11, item 7: with the dedicated account off, an edit made with the connection's own
/// credentials right after a run (no pause; even within the stamp of Lockstep's write) holds
/// other values than Lockstep wrote, so the next run syncs it to the database. Lockstep's
/// own writes read back are still not changes: the runs write nothing else, and a last run
/// with nothing changed writes nothing.
async fn own_users_edits_right_after_a_run_are_synced(crm: &dyn OwnUser, target: TargetSpec) {
    let pg = postgres_accounts().await;
    let lockstep = Lockstep::new().await;
    let (object, to_crm, from_crm) = target.task;
    let package = package(
        "own user",
        pg_spec(&pg),
        target.spec,
        task("accounts", object, to_crm, from_crm),
    );
    let db = PgAccounts(pg.clone());
    let rec = |name: &str, count: i64| Rec {
        name: name.into(),
        note: format!("+1 555 {count:04}"),
        count: Some(count),
        cents: Some(count * 125),
    };
    for (i, name) in ["A", "B", "C"].into_iter().enumerate() {
        db.insert(&rec(name, i as i64 + 1)).await;
    }
    let first = lockstep.run(&package, 50).await;
    assert_eq!(first.state, wire::RunState::Succeeded, "{:?}", first.error);
    let copy_of = |recs: &BTreeMap<String, Rec>, name: &str| {
        recs.iter()
            .find(|(_, r)| r.name == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no copy of {name}"))
    };
    let copies = crm.all().await;
    let (a, b, c) = (
        copy_of(&copies, "A"),
        copy_of(&copies, "B"),
        copy_of(&copies, "C"),
    );

    // Records Lockstep just created, edited at once.
    assert!(
        crm.own_update(&a, &rec("A by the integration user", 10))
            .await
    );
    assert!(
        crm.own_update_same_stamp(&b, &rec("B within the write's stamp", 20))
            .await
    );
    let report = lockstep.run(&package, 50).await;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    let names: Vec<String> = db.all().await.into_values().map(|r| r.name).collect();
    assert!(
        names.contains(&"A by the integration user".to_owned()),
        "the edit made right after the run is synced: {names:?}"
    );
    assert!(
        names.contains(&"B within the write's stamp".to_owned()),
        "the edit made within the stamp of Lockstep's write is synced: {names:?}"
    );
    assert_eq!(
        written(&report),
        2,
        "C (Lockstep's write) did not come back"
    );
    assert_converged(&db, crm, "after the created records' edits").await;

    // Records Lockstep just updated, edited at once.
    let ids = db.all().await;
    let db_id = |name: &str| copy_of(&ids, name);
    assert!(db.update(&db_id("C"), &rec("C from the shop", 3)).await);
    assert!(
        db.update(
            &db_id("A by the integration user"),
            &rec("A from the shop", 4)
        )
        .await
    );
    let report = lockstep.run(&package, 50).await;
    assert_eq!(written(&report), 2, "{:?}", report.tasks);
    assert!(
        crm.own_update(&c, &rec("C by the integration user", 30))
            .await
    );
    assert!(
        crm.own_update_same_stamp(&a, &rec("A within the write's stamp", 40))
            .await
    );
    let report = lockstep.run(&package, 50).await;
    assert_eq!(
        report.state,
        wire::RunState::Succeeded,
        "{:?}",
        report.error
    );
    let names: Vec<String> = db.all().await.into_values().map(|r| r.name).collect();
    assert!(
        names.contains(&"C by the integration user".to_owned())
            && names.contains(&"A within the write's stamp".to_owned()),
        "the edits of updated records are synced: {names:?}"
    );
    assert_eq!(written(&report), 2, "{:?}", report.tasks);
    assert_converged(&db, crm, "after the updated records' edits").await;

    let quiet = lockstep.run(&package, 50).await;
    assert_eq!(
        written(&quiet),
        0,
        "nothing changed, nothing written: {:?}",
        quiet.tasks
    );
}

/// A CRM as the package's target: its connection and the task's object and mappings.
struct TargetSpec {
    spec: engine::package::ConnectionSpec,
    task: (
        &'static str,
        engine::package::Mapping,
        engine::package::Mapping,
    ),
}

#[tokio::test]
async fn salesforce_syncs_the_integration_users_edit_made_right_after_a_run() {
    let sf = Salesforce::new();
    let running = sf.start().await.unwrap();
    let target = TargetSpec {
        spec: salesforce_spec(&running.base_url()),
        task: (
            "Account",
            SfAccounts::mapping_from_db(),
            SfAccounts::mapping_to_db(),
        ),
    };
    own_users_edits_right_after_a_run_are_synced(&SfAccounts(sf.clone()), target).await;
}

#[tokio::test]
async fn hubspot_syncs_an_api_edit_made_right_after_a_run() {
    let hs = HubSpot::new();
    let running = hs.start().await.unwrap();
    let target = TargetSpec {
        spec: hubspot_spec(&running.base_url()),
        task: (
            "companies",
            HsCompanies::mapping_from_db(),
            HsCompanies::mapping_to_db(),
        ),
    };
    own_users_edits_right_after_a_run_are_synced(&HsCompanies(hs.clone()), target).await;
}

#[tokio::test]
async fn dynamics_syncs_the_application_users_edit_made_right_after_a_run() {
    let dynamics = Dynamics::new();
    let running = dynamics.start().await.unwrap();
    let target = TargetSpec {
        spec: dynamics_spec(&running.base_url()),
        task: (
            "account",
            DynAccounts::mapping_from_db(),
            DynAccounts::mapping_to_db(),
        ),
    };
    own_users_edits_right_after_a_run_are_synced(&DynAccounts(dynamics.clone()), target).await;
}
