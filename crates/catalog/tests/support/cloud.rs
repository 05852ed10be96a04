//! Cloud ↔ database sync tests: emulated CRMs and real databases seen as one kind of "side"
//! holding simple records, so one convergence check serves every pair.

use std::collections::BTreeMap;

use async_trait::async_trait;
use catalog::runner::{RunReport, RunRequest, run_package};
use emulators::dynamics::Dynamics;
use emulators::hubspot::HubSpot;
use emulators::salesforce::Salesforce;
use engine::package::{ConnectionSpec, Mapping, Package, TableRef, TaskSpec};
use engine::sync::{CancelToken, SyncOptions};
use serde_json::{Map, Value as Json, json};
use sqlx::{MySqlPool, PgPool};
use uuid::Uuid;

/// What every side holds, whatever its field names: a name, a note, a whole number and an
/// amount in cents.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rec {
    pub name: String,
    pub note: String,
    pub count: Option<i64>,
    pub cents: Option<i64>,
}

fn cents(json: &Json) -> Option<i64> {
    let f = match json {
        Json::Number(n) => n.as_f64()?,
        Json::String(s) if !s.is_empty() => s.parse().ok()?,
        _ => return None,
    };
    Some((f * 100.0).round() as i64)
}

fn whole(json: &Json) -> Option<i64> {
    match json {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) if !s.is_empty() => s.parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

fn text(json: Option<&Json>) -> String {
    json.and_then(Json::as_str).unwrap_or_default().to_owned()
}

fn amount(cents: Option<i64>) -> Json {
    cents.map_or(Json::Null, |c| json!(c as f64 / 100.0))
}

#[async_trait]
pub trait Side: Send + Sync {
    async fn insert(&self, rec: &Rec) -> String;
    async fn update(&self, id: &str, rec: &Rec) -> bool;
    async fn delete(&self, id: &str) -> bool;
    async fn all(&self) -> BTreeMap<String, Rec>;
}

/// Salesforce Accounts: Name, Phone, NumberOfEmployees, AnnualRevenue.
pub struct SfAccounts(pub Salesforce);

impl SfAccounts {
    fn fields(rec: &Rec) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("Name".into(), json!(rec.name));
        m.insert(
            "Phone".into(),
            if rec.note.is_empty() {
                Json::Null
            } else {
                json!(rec.note)
            },
        );
        m.insert(
            "NumberOfEmployees".into(),
            rec.count.map_or(Json::Null, |c| json!(c)),
        );
        m.insert("AnnualRevenue".into(), amount(rec.cents));
        m
    }

    pub fn mapping_to_db() -> Mapping {
        mapping(&[
            ("name", "Name"),
            ("note", "Phone"),
            ("employees", "NumberOfEmployees"),
            ("revenue", "AnnualRevenue"),
        ])
    }

    pub fn mapping_from_db() -> Mapping {
        mapping(&[
            ("Name", "name"),
            ("Phone", "note"),
            ("NumberOfEmployees", "employees"),
            ("AnnualRevenue", "revenue"),
        ])
    }
}

#[async_trait]
impl Side for SfAccounts {
    async fn insert(&self, rec: &Rec) -> String {
        self.0.user_insert("Account", Self::fields(rec))
    }
    async fn update(&self, id: &str, rec: &Rec) -> bool {
        self.0.user_update("Account", id, Self::fields(rec))
    }
    async fn delete(&self, id: &str) -> bool {
        self.0.user_delete("Account", id)
    }
    async fn all(&self) -> BTreeMap<String, Rec> {
        self.0
            .records("Account")
            .into_iter()
            .map(|r| {
                (
                    text(r.get("Id")),
                    Rec {
                        name: text(r.get("Name")),
                        note: text(r.get("Phone")),
                        count: r.get("NumberOfEmployees").and_then(whole),
                        cents: r.get("AnnualRevenue").and_then(cents),
                    },
                )
            })
            .collect()
    }
}

/// Dynamics 365 accounts: name, telephone1, numberofemployees, revenue.
pub struct DynAccounts(pub Dynamics);

impl DynAccounts {
    fn fields(rec: &Rec) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("name".into(), json!(rec.name));
        m.insert(
            "telephone1".into(),
            if rec.note.is_empty() {
                Json::Null
            } else {
                json!(rec.note)
            },
        );
        m.insert(
            "numberofemployees".into(),
            rec.count.map_or(Json::Null, |c| json!(c)),
        );
        m.insert("revenue".into(), amount(rec.cents));
        m
    }

    pub fn mapping_to_db() -> Mapping {
        mapping(&[
            ("name", "name"),
            ("note", "telephone1"),
            ("employees", "numberofemployees"),
            ("revenue", "revenue"),
        ])
    }

    pub fn mapping_from_db() -> Mapping {
        mapping(&[
            ("name", "name"),
            ("telephone1", "note"),
            ("numberofemployees", "employees"),
            ("revenue", "revenue"),
        ])
    }
}

#[async_trait]
impl Side for DynAccounts {
    async fn insert(&self, rec: &Rec) -> String {
        self.0.user_insert("account", Self::fields(rec))
    }
    async fn update(&self, id: &str, rec: &Rec) -> bool {
        self.0.user_update("account", id, Self::fields(rec))
    }
    async fn delete(&self, id: &str) -> bool {
        self.0.user_delete("account", id)
    }
    async fn all(&self) -> BTreeMap<String, Rec> {
        self.0
            .records("account")
            .into_iter()
            .map(|r| {
                (
                    text(r.get("accountid")),
                    Rec {
                        name: text(r.get("name")),
                        note: text(r.get("telephone1")),
                        count: r.get("numberofemployees").and_then(whole),
                        cents: r.get("revenue").and_then(cents),
                    },
                )
            })
            .collect()
    }
}

pub fn dynamics_spec(base_url: &str) -> ConnectionSpec {
    ConnectionSpec::Dynamics {
        url: base_url.to_owned(),
        tenant_id: Dynamics::TENANT.into(),
        client_id: Dynamics::CLIENT_ID.into(),
        client_secret: Dynamics::CLIENT_SECRET.into(),
        authority: Some(base_url.to_owned()),
    }
}

/// HubSpot companies: name, description, numberofemployees, annualrevenue.
pub struct HsCompanies(pub HubSpot);

impl HsCompanies {
    fn properties(rec: &Rec) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("name".into(), json!(rec.name));
        m.insert("description".into(), json!(rec.note));
        m.insert(
            "numberofemployees".into(),
            json!(rec.count.map(|c| c.to_string()).unwrap_or_default()),
        );
        m.insert(
            "annualrevenue".into(),
            json!(
                rec.cents
                    .map(|c| format!("{}", c as f64 / 100.0))
                    .unwrap_or_default()
            ),
        );
        m
    }

    pub fn mapping_to_db() -> Mapping {
        mapping(&[
            ("name", "name"),
            ("note", "description"),
            ("employees", "numberofemployees"),
            ("revenue", "annualrevenue"),
        ])
    }

    pub fn mapping_from_db() -> Mapping {
        mapping(&[
            ("name", "name"),
            ("description", "note"),
            ("numberofemployees", "employees"),
            ("annualrevenue", "revenue"),
        ])
    }
}

#[async_trait]
impl Side for HsCompanies {
    async fn insert(&self, rec: &Rec) -> String {
        self.0.user_insert("companies", Self::properties(rec))
    }
    async fn update(&self, id: &str, rec: &Rec) -> bool {
        self.0.user_update("companies", id, Self::properties(rec))
    }
    async fn delete(&self, id: &str) -> bool {
        self.0.user_delete("companies", id)
    }
    async fn all(&self) -> BTreeMap<String, Rec> {
        self.0
            .records("companies")
            .into_iter()
            .map(|(id, p)| {
                (
                    id,
                    Rec {
                        name: text(p.get("name")),
                        note: text(p.get("description")),
                        count: p.get("numberofemployees").and_then(whole),
                        cents: p.get("annualrevenue").and_then(cents),
                    },
                )
            })
            .collect()
    }
}

pub const PG_TABLE: &str = "CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL, note text, employees int, revenue numeric(18, 2))";

pub const MYSQL_TABLE: &str = "CREATE TABLE accounts (
    id bigint AUTO_INCREMENT PRIMARY KEY,
    name varchar(200) NOT NULL, note varchar(500), employees int, revenue decimal(18, 2))";

/// The `accounts` table of a PostgreSQL database.
pub struct PgAccounts(pub PgPool);

#[async_trait]
impl Side for PgAccounts {
    async fn insert(&self, rec: &Rec) -> String {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (name, note, employees, revenue) VALUES ($1, $2, $3, $4::numeric / 100) RETURNING id",
        )
        .bind(&rec.name)
        .bind(&rec.note)
        .bind(rec.count.map(|c| c as i32))
        .bind(rec.cents)
        .fetch_one(&self.0)
        .await
        .unwrap();
        id.to_string()
    }
    async fn update(&self, id: &str, rec: &Rec) -> bool {
        sqlx::query("UPDATE accounts SET name = $2, note = $3, employees = $4, revenue = $5::numeric / 100 WHERE id = $1")
            .bind(id.parse::<i64>().unwrap())
            .bind(&rec.name)
            .bind(&rec.note)
            .bind(rec.count.map(|c| c as i32))
            .bind(rec.cents)
            .execute(&self.0)
            .await
            .unwrap()
            .rows_affected()
            == 1
    }
    async fn delete(&self, id: &str) -> bool {
        sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(id.parse::<i64>().unwrap())
            .execute(&self.0)
            .await
            .unwrap()
            .rows_affected()
            == 1
    }
    async fn all(&self) -> BTreeMap<String, Rec> {
        let rows: Vec<(i64, String, Option<String>, Option<i32>, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, note, employees, (revenue * 100)::bigint FROM accounts",
        )
        .fetch_all(&self.0)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(id, name, note, count, cents)| {
                (
                    id.to_string(),
                    Rec {
                        name,
                        note: note.unwrap_or_default(),
                        count: count.map(i64::from),
                        cents,
                    },
                )
            })
            .collect()
    }
}

/// The `accounts` table of a MariaDB database.
pub struct MyAccounts(pub MySqlPool);

#[async_trait]
impl Side for MyAccounts {
    async fn insert(&self, rec: &Rec) -> String {
        let done = sqlx::query(
            "INSERT INTO accounts (name, note, employees, revenue) VALUES (?, ?, ?, ? / 100)",
        )
        .bind(&rec.name)
        .bind(&rec.note)
        .bind(rec.count)
        .bind(rec.cents)
        .execute(&self.0)
        .await
        .unwrap();
        done.last_insert_id().to_string()
    }
    async fn update(&self, id: &str, rec: &Rec) -> bool {
        sqlx::query(
            "UPDATE accounts SET name = ?, note = ?, employees = ?, revenue = ? / 100 WHERE id = ?",
        )
        .bind(&rec.name)
        .bind(&rec.note)
        .bind(rec.count)
        .bind(rec.cents)
        .bind(id.parse::<i64>().unwrap())
        .execute(&self.0)
        .await
        .unwrap()
        .rows_affected()
            == 1
    }
    async fn delete(&self, id: &str) -> bool {
        sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(id.parse::<i64>().unwrap())
            .execute(&self.0)
            .await
            .unwrap()
            .rows_affected()
            == 1
    }
    async fn all(&self) -> BTreeMap<String, Rec> {
        let rows: Vec<(i64, String, Option<String>, Option<i32>, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, note, employees, CAST(revenue * 100 AS SIGNED) FROM accounts",
        )
        .fetch_all(&self.0)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(id, name, note, count, cents)| {
                (
                    id.to_string(),
                    Rec {
                        name,
                        note: note.unwrap_or_default(),
                        count: count.map(i64::from),
                        cents,
                    },
                )
            })
            .collect()
    }
}

pub fn mapping(pairs: &[(&str, &str)]) -> Mapping {
    pairs
        .iter()
        .map(|(to, from)| {
            (
                (*to).to_owned(),
                engine::package::FieldSource::Column((*from).to_owned()),
            )
        })
        .collect()
}

pub fn salesforce_spec(base_url: &str) -> ConnectionSpec {
    ConnectionSpec::Salesforce {
        login_url: base_url.to_owned(),
        client_id: Salesforce::CLIENT_ID.into(),
        client_secret: Salesforce::CLIENT_SECRET.into(),
        username: String::new(),
        password: String::new(),
    }
}

pub fn hubspot_spec(base_url: &str) -> ConnectionSpec {
    ConnectionSpec::Hubspot {
        base_url: base_url.to_owned(),
        token: HubSpot::TOKEN.into(),
    }
}

pub fn package(
    name: &str,
    source: ConnectionSpec,
    target: ConnectionSpec,
    task: TaskSpec,
) -> Package {
    Package {
        name: name.into(),
        source,
        target,
        locale: "invariant".into(),
        dedicated_account: false,
        tasks: vec![task],
        schedule: None,
    }
}

pub fn task(source: &str, target: &str, s2t: Mapping, t2s: Mapping) -> TaskSpec {
    TaskSpec {
        source: TableRef::parse(source).unwrap(),
        target: TableRef::parse(target).unwrap(),
        source_to_target: s2t,
        target_to_source: t2s,
        matching: None,
    }
}

/// Lockstep's metadata database for one test, with the command line's workspace.
pub struct Lockstep {
    pub pool: PgPool,
    pub workspace: Uuid,
}

impl Lockstep {
    pub async fn new() -> Lockstep {
        let (_, pool) = super::fresh_pg("cloud").await;
        catalog::migrate(&pool).await.unwrap();
        let workspace = catalog::workspaces::resolve_for_command(&pool, None)
            .await
            .unwrap()
            .id;
        Lockstep { pool, workspace }
    }

    /// Runs a package that must be refused before anything is written; the reason.
    pub async fn refusal(&self, package: &Package) -> String {
        let outcome = run_package(
            &self.pool,
            self.workspace,
            package,
            RunRequest {
                allow_connection_change: false,
                reset: None,
                started_by: "cli",
            },
            &SyncOptions::default(),
            &CancelToken::default(),
        )
        .await;
        match outcome {
            Err(catalog::runner::RunnerError::Invalid(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    pub async fn run(&self, package: &Package, batch_size: usize) -> RunReport {
        run_package(
            &self.pool,
            self.workspace,
            package,
            RunRequest {
                allow_connection_change: false,
                reset: None,
                started_by: "cli",
            },
            &SyncOptions {
                batch_size,
                ..Default::default()
            },
            &CancelToken::default(),
        )
        .await
        .unwrap()
    }
}

/// Records written by a run, both directions.
pub fn written(report: &RunReport) -> u64 {
    report
        .tasks
        .iter()
        .map(|t| {
            let a = &t.source_to_target;
            let b = &t.target_to_source;
            a.inserted + a.updated + a.deleted + b.inserted + b.updated + b.deleted
        })
        .sum()
}

/// A small deterministic generator (xorshift), so a failing sequence can be replayed.
pub struct Dice(pub u64);

impl Dice {
    pub fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    pub fn rec(&mut self, tag: &str) -> Rec {
        let n = self.roll(1_000_000);
        Rec {
            name: format!("{tag} {n}"),
            note: if self.roll(4) == 0 {
                String::new()
            } else {
                format!("+1 555 {n:06}")
            },
            count: (self.roll(5) != 0).then(|| self.roll(5000) as i64),
            cents: (self.roll(5) != 0).then(|| self.roll(10_000_000) as i64),
        }
    }
}

/// The two sides hold the same records (as multisets), and as many as the ID map pairs.
pub async fn assert_converged(a: &dyn Side, b: &dyn Side, context: &str) -> usize {
    let mut left: Vec<Rec> = a.all().await.into_values().collect();
    let mut right: Vec<Rec> = b.all().await.into_values().collect();
    left.sort();
    right.sort();
    assert_eq!(left.len(), right.len(), "{context}: record counts differ");
    assert_eq!(left, right, "{context}: the sides differ");
    left.len()
}

/// Edits made with the cloud connection's own credentials (the user Lockstep writes as), as
/// someone using the integration user would make them.
#[async_trait]
pub trait OwnUser: Side {
    /// Now.
    async fn own_update(&self, id: &str, rec: &Rec) -> bool;
    /// Stamped with the record's current stamp (the vendor's precision): the edit lands
    /// within the second (Salesforce, Dynamics 365) or millisecond (HubSpot) of the last
    /// write, which is what a stamp cannot tell apart.
    async fn own_update_same_stamp(&self, id: &str, rec: &Rec) -> bool;
}

fn stamp_of(record: Option<&Map<String, Json>>, field: &str) -> chrono::DateTime<chrono::Utc> {
    let text = record
        .and_then(|r| r.get(field))
        .and_then(Json::as_str)
        .unwrap_or_else(|| panic!("the record has no {field}"));
    if let Some(at) = text
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        return at;
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .unwrap_or_else(|e| panic!("{field} “{text}”: {e}"))
        .with_timezone(&chrono::Utc)
}

#[async_trait]
impl OwnUser for SfAccounts {
    async fn own_update(&self, id: &str, rec: &Rec) -> bool {
        self.0.user_update_as(
            Salesforce::INTEGRATION_USER_ID,
            "Account",
            id,
            Self::fields(rec),
        )
    }
    async fn own_update_same_stamp(&self, id: &str, rec: &Rec) -> bool {
        let records = self.0.records("Account");
        let at = stamp_of(
            records.iter().find(|r| text(r.get("Id")) == id),
            "SystemModstamp",
        );
        self.0.user_update_at(
            Salesforce::INTEGRATION_USER_ID,
            "Account",
            id,
            Self::fields(rec),
            at,
        )
    }
}

#[async_trait]
impl OwnUser for DynAccounts {
    async fn own_update(&self, id: &str, rec: &Rec) -> bool {
        self.0.user_update_as(
            Dynamics::APPLICATION_USER_ID,
            "account",
            id,
            Self::fields(rec),
        )
    }
    async fn own_update_same_stamp(&self, id: &str, rec: &Rec) -> bool {
        let records = self.0.records("account");
        let at = stamp_of(
            records.iter().find(|r| text(r.get("accountid")) == id),
            "modifiedon",
        );
        self.0.user_update_at(
            Dynamics::APPLICATION_USER_ID,
            "account",
            id,
            Self::fields(rec),
            at,
        )
    }
}

/// HubSpot does not tell who made a change: any edit through the API is the connection's.
#[async_trait]
impl OwnUser for HsCompanies {
    async fn own_update(&self, id: &str, rec: &Rec) -> bool {
        self.0.user_update("companies", id, Self::properties(rec))
    }
    async fn own_update_same_stamp(&self, id: &str, rec: &Rec) -> bool {
        let records = self.0.records("companies");
        let at = stamp_of(
            records.iter().find(|(i, _)| i == id).map(|(_, p)| p),
            "hs_lastmodifieddate",
        );
        self.0
            .user_update_at("companies", id, Self::properties(rec), at)
    }
}
