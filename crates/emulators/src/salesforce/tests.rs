//! The emulator over HTTP, as the connector sees it.

use chrono::{DateTime, Duration, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Map, Value, json};

use super::Salesforce;
use crate::{Faults, Running};

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

async fn token(client: &Client, base: &str) -> String {
    let answer: Value = client
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", Salesforce::CLIENT_ID),
            ("client_secret", Salesforce::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

struct Api {
    sf: Salesforce,
    running: Running,
    client: Client,
    token: String,
}

impl Api {
    async fn start() -> Api {
        let sf = Salesforce::new();
        let running = sf.start().await.unwrap();
        let client = Client::new();
        let token = token(&client, &running.base_url()).await;
        Api {
            sf,
            running,
            client,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/services/data/v60.0/{path}", self.running.base_url())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn query(&self, resource: &str, soql: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(resource))
            .query(&[("q", soql)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

fn error_code(body: &Value) -> &str {
    body[0]["errorCode"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn token_flows_and_expired_sessions() {
    let sf = Salesforce::new();
    let running = sf.start().await.unwrap();
    let base = running.base_url();
    let client = Client::new();
    let ask = |form: Vec<(&'static str, &'static str)>| {
        let request = client
            .post(format!("{base}/services/oauth2/token"))
            .form(&form);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, good) = ask(vec![
        ("grant_type", "password"),
        ("client_id", Salesforce::CLIENT_ID),
        ("client_secret", Salesforce::CLIENT_SECRET),
        ("username", Salesforce::USERNAME),
        ("password", Salesforce::PASSWORD),
    ])
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(good["instance_url"], base.as_str());
    assert_eq!(good["token_type"], "Bearer");
    assert_eq!(
        good["id"],
        format!(
            "{base}/id/00D000000000001AAA/{}",
            Salesforce::INTEGRATION_USER_ID
        )
    );
    assert!(good["issued_at"].as_str().unwrap().parse::<i64>().is_ok());

    let cases = [
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "nope"),
                ("client_secret", Salesforce::CLIENT_SECRET),
            ],
            "invalid_client_id",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", Salesforce::CLIENT_ID),
                ("client_secret", "nope"),
            ],
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", Salesforce::CLIENT_ID),
                ("client_secret", Salesforce::CLIENT_SECRET),
                ("username", Salesforce::USERNAME),
                ("password", "nope"),
            ],
            "invalid_grant",
        ),
        (
            vec![("grant_type", "authorization_code")],
            "unsupported_grant_type",
        ),
    ];
    for (form, error) in cases {
        let (status, body) = ask(form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error))
        );
    }

    let sobjects = format!("{base}/services/data/v60.0/sobjects");
    let token = good["access_token"].as_str().unwrap();
    let response = client
        .get(&sobjects)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("date"));
    assert!(
        response.headers()["sforce-limit-info"]
            .to_str()
            .unwrap()
            .starts_with("api-usage=")
    );

    sf.expire_tokens();
    for request in [
        client.get(&sobjects).bearer_auth(token),
        client.get(&sobjects),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "INVALID_SESSION_ID");
    }
    let unknown = client.get(format!("{base}/nowhere")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn describes_objects_and_fields() {
    let api = Api::start().await;
    let (_, global) = api.get("sobjects").await;
    assert_eq!(global["maxBatchSize"], 200);
    let account = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Account")
        .unwrap();
    assert_eq!(account["keyPrefix"], "001");

    let (status, describe) = api.get("sobjects/account/describe").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(describe["name"], "Account");
    let field = |name: &str| {
        describe["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap()
    };
    let name = field("Name");
    assert_eq!(
        (
            name["nillable"].as_bool(),
            name["createable"].as_bool(),
            name["defaultedOnCreate"].as_bool()
        ),
        (Some(false), Some(true), Some(false))
    );
    assert_eq!(field("Industry")["picklistValues"][1]["value"], "Banking");
    assert_eq!(field("AnnualRevenue")["scale"], 2);
    assert_eq!(field("SystemModstamp")["updateable"], false);

    let (_, history) = api.get("sobjects/AccountHistory/describe").await;
    let names: Vec<&str> = history["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"CreatedDate") && !names.contains(&"SystemModstamp"));
    assert_eq!(history["createable"], false);

    let (status, body) = api.get("sobjects/Nope/describe").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
}

#[tokio::test]
async fn query_pages_over_2500_records() {
    let api = Api::start().await;
    for i in 0..2500 {
        api.sf
            .user_insert("Account", fields(json!({ "Name": format!("Account {i}") })));
    }
    let (status, first) = api
        .query("query", "SELECT Id, name FROM Account ORDER BY Id")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (first["totalSize"].as_u64(), first["done"].as_bool()),
        (Some(2500), Some(false))
    );
    let records = first["records"].as_array().unwrap();
    assert_eq!(records.len(), 2000);
    assert_eq!(records[0]["attributes"]["type"], "Account");
    assert!(records[0].get("Name").is_some(), "describe spelling");
    let next = first["nextRecordsUrl"].as_str().unwrap();
    assert!(next.starts_with("/services/data/v60.0/query/"));

    let url = format!("{}{next}", api.running.base_url());
    let second: Value = api
        .client
        .get(url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["done"], true);
    assert!(second.get("nextRecordsUrl").is_none());
    let ids: Vec<&str> = records
        .iter()
        .chain(second["records"].as_array().unwrap())
        .map(|r| r["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2500);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids sort in creation order"
    );

    let (_, limited) = api.query("query", "SELECT Id FROM Account LIMIT 10").await;
    assert_eq!(
        (limited["totalSize"].as_u64(), limited["done"].as_bool()),
        (Some(10), Some(true))
    );
}

#[tokio::test]
async fn where_with_datetimes_and_in() {
    let api = Api::start().await;
    let old = api.sf.user_insert(
        "Account",
        fields(json!({ "Name": "Old", "Industry": "Banking" })),
    );
    let new = api.sf.user_insert(
        "Account",
        fields(json!({ "Name": "New", "Industry": "Retail" })),
    );
    api.sf.user_insert(
        "Account",
        fields(json!({ "Name": "Other", "Industry": "Other" })),
    );
    assert!(api.sf.user_update_late(
        "Account",
        &old,
        fields(json!({ "Phone": "1" })),
        Duration::hours(2)
    ));
    let cutoff = (Utc::now() - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");

    let (status, body) = api
        .query("query", &format!("SELECT Id FROM Account WHERE systemmodstamp > {cutoff} AND Industry IN ('banking', 'Retail')"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [new.as_str()]);

    let (_, body) = api
        .query("query", &format!("SELECT Id FROM Account WHERE SystemModstamp <= {cutoff} OR Industry NOT IN ('Retail', 'Other')"))
        .await;
    assert_eq!(body["totalSize"], 1);

    for (soql, code) in [
        ("SELECT Id, Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Account WHERE CreatedDate > '2026-01-01T00:00:00Z'",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        (
            "SELECT Id FROM AccountHistory WHERE SystemModstamp > 2026-01-01T00:00:00Z",
            "INVALID_FIELD",
        ),
    ] {
        let (status, body) = api.query("query", soql).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{soql}"
        );
    }
}

#[tokio::test]
async fn deleted_records_in_query_all_and_the_deleted_resource() {
    let api = Api::start().await;
    let kept = api
        .sf
        .user_insert("Contact", fields(json!({ "LastName": "Kept" })));
    let gone = api
        .sf
        .user_insert("Contact", fields(json!({ "LastName": "Gone" })));
    assert!(api.sf.user_delete("Contact", &gone));
    assert!(!api.sf.user_delete("Contact", &gone));
    assert_eq!(api.sf.records("Contact").len(), 1);

    let (_, live) = api.query("query", "SELECT Id FROM Contact").await;
    assert_eq!(live["records"][0]["Id"], kept.as_str());
    assert_eq!(live["totalSize"], 1);
    let (_, all) = api
        .query(
            "queryAll",
            "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true",
        )
        .await;
    assert_eq!(all["totalSize"], 1);
    assert_eq!(all["records"][0]["Id"], gone.as_str());

    let start = (Utc::now() - Duration::minutes(5)).to_rfc3339();
    let end = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    let response = api
        .client
        .get(api.url("sobjects/Contact/deleted/"))
        .query(&[("start", &start), ("end", &end)])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let deleted = body["deletedRecords"].as_array().unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["id"], gone.as_str());
    assert!(
        deleted[0]["deletedDate"]
            .as_str()
            .unwrap()
            .ends_with(".000+0000")
    );
    assert!(body["earliestDateAvailable"].is_string());
    // Seconds are ignored: the end covered is the minute-aligned end asked for.
    let covered = body["latestDateCovered"].as_str().unwrap();
    assert!(covered.ends_with(":00.000+0000"), "{covered}");
    assert_eq!(&covered[..16], &end[..16]);

    let (status, body) = api.get("sobjects/Contact/deleted/?start=yesterday").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_REPLICATION_DATE")
    );
}

#[tokio::test]
async fn collections_apply_good_records_around_a_bad_one() {
    let api = Api::start().await;
    use reqwest::Method;
    let (status, created) = api
        .send(Method::POST, "composite/sobjects", Some(json!({ "allOrNone": false, "records": [
            { "attributes": { "type": "Account" }, "Name": "A", "Industry": "Banking" },
            { "attributes": { "type": "Account" }, "Phone": "555" },
            { "attributes": { "type": "Contact" }, "LastName": "C", "Email": "c@example.com" },
            { "attributes": { "type": "Contact" }, "LastName": "D", "Email": "not-an-address" },
            { "attributes": { "type": "Account" }, "Name": "E", "Industry": "Mining" },
            { "attributes": { "type": "Account" }, "Name": "x".repeat(256) },
            { "attributes": { "type": "Account" }, "Name": "F", "CreatedDate": "2026-01-01T00:00:00Z" },
        ] })))
        .await;
    assert_eq!(status, StatusCode::OK);
    let codes: Vec<&str> = created
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["statusCode"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "REQUIRED_FIELD_MISSING",
            "ok",
            "INVALID_EMAIL_ADDRESS",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "STRING_TOO_LONG",
            "INVALID_FIELD_FOR_INSERT_UPDATE"
        ]
    );
    assert_eq!(created[1]["errors"][0]["fields"], json!(["Name"]));
    assert_eq!(created[1]["id"], Value::Null);
    let account = created[0]["id"].as_str().unwrap().to_string();
    let contact = created[2]["id"].as_str().unwrap().to_string();
    assert_eq!(api.sf.records("Account").len(), 1);

    let doomed = api
        .sf
        .user_insert("Account", fields(json!({ "Name": "Doomed" })));
    api.sf.user_delete("Account", &doomed);
    let (_, updated) = api
        .send(
            Method::PATCH,
            "composite/sobjects",
            Some(json!({ "records": [
            { "attributes": { "type": "Account" }, "Id": account, "NumberOfEmployees": 12 },
            { "attributes": { "type": "Account" }, "Id": doomed, "Name": "Back?" },
            { "attributes": { "type": "Account" }, "Id": "001000000000999AAA", "Name": "Never" },
            { "attributes": { "type": "Contact" }, "Id": contact, "AccountId": account },
        ] })),
        )
        .await;
    let codes: Vec<&str> = updated
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["statusCode"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "ENTITY_IS_DELETED",
            "INVALID_CROSS_REFERENCE_KEY",
            "ok"
        ]
    );
    let stored = &api.sf.records("Account")[0];
    assert_eq!(stored["NumberOfEmployees"], 12);
    assert_eq!(stored["LastModifiedById"], Salesforce::INTEGRATION_USER_ID);

    // allOrNone: nothing applied, the good record reports the rollback.
    let (_, rolled) = api
        .send(
            Method::POST,
            "composite/sobjects",
            Some(json!({ "allOrNone": true, "records": [
            { "attributes": { "type": "Account" }, "Name": "G" },
            { "attributes": { "type": "Account" }, "NumberOfEmployees": "many" },
        ] })),
        )
        .await;
    assert_eq!(
        rolled[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(rolled[1]["errors"][0]["statusCode"], "JSON_PARSER_ERROR");
    assert_eq!(api.sf.records("Account").len(), 1);

    let (_, deleted) = api
        .send(
            Method::DELETE,
            &format!("composite/sobjects?ids={contact},{doomed}&allOrNone=false"),
            None,
        )
        .await;
    assert_eq!(deleted[0]["success"], true);
    assert_eq!(deleted[1]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    assert!(api.sf.records("Contact").is_empty());

    // The single-record resources share the checks.
    let (status, one) = api
        .send(
            Method::POST,
            "sobjects/Contact",
            Some(json!({ "LastName": "Solo" })),
        )
        .await;
    assert_eq!(
        (status, one["success"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    let solo = one["id"].as_str().unwrap().to_string();
    let (status, body) = api
        .send(
            Method::PATCH,
            &format!("sobjects/Contact/{solo}"),
            Some(json!({ "LastName": null })),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "REQUIRED_FIELD_MISSING")
    );
    let deleted = api
        .client
        .delete(api.url(&format!("sobjects/Contact/{solo}")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, body) = api.get(&format!("sobjects/Contact/{solo}")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "ENTITY_IS_DELETED")
    );
    let (status, _) = api
        .send(Method::PUT, "composite/sobjects", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    let too_many: Vec<Value> = (0..201)
        .map(|i| json!({ "attributes": { "type": "Account" }, "Name": format!("N{i}") }))
        .collect();
    let (status, body) = api
        .send(
            Method::POST,
            "composite/sobjects",
            Some(json!({ "records": too_many })),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "EXCEEDED_ID_LIMIT")
    );
    assert_eq!(api.sf.records("Account").len(), 1);
}

#[tokio::test]
async fn every_third_call_is_rate_limited() {
    let api = Api::start().await; // the token request was call 1
    api.sf.gate().set_faults(Faults {
        rate_limit_every: Some(3),
        retry_after_seconds: 7,
        unavailable_every: None,
    });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = api
            .client
            .get(api.url("sobjects"))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(response.headers()["retry-after"], "7");
            let body: Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "REQUEST_LIMIT_EXCEEDED");
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::OK,
            StatusCode::OK
        ]
    );
    assert_eq!((api.sf.gate().calls(), api.sf.gate().served()), (5, 4));

    api.sf.gate().set_faults(Faults {
        unavailable_every: Some(1),
        ..Faults::default()
    });
    let (status, body) = api.get("sobjects").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "SERVER_UNAVAILABLE")
    );
    // The UI isn't the API: not refused, not counted.
    api.sf
        .user_insert("Account", fields(json!({ "Name": "UI" })));
    assert_eq!(api.sf.gate().calls(), 6);
}

#[tokio::test]
async fn stamps_are_whole_seconds_and_name_the_user() {
    let api = Api::start().await;
    let id = api.sf.user_insert(
        "Account",
        fields(json!({ "Name": "Stamped", "AnnualRevenue": 10.005 })),
    );
    assert!(api.sf.user_update_as(
        "005000000000003AAA",
        "Account",
        &id,
        fields(json!({ "Website": "https://example.com" }))
    ));
    assert!(!api.sf.user_update(
        "Account",
        "001000000000777AAA",
        fields(json!({ "Name": "x" }))
    ));
    let record = &api.sf.records("Account")[0];
    for stamp in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
        let text = record[stamp].as_str().unwrap();
        assert!(text.ends_with(".000+0000"), "{stamp}: {text}");
        DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z").unwrap();
    }
    assert_eq!(record["CreatedById"], Salesforce::HUMAN_USER_ID);
    assert_eq!(record["LastModifiedById"], "005000000000003AAA");
    assert_eq!(record["IsDeleted"], false);

    let (_, body) = api
        .query(
            "query",
            &format!(
                "SELECT CreatedDate, AnnualRevenue FROM Account WHERE Id = '{}'",
                &id[..15]
            ),
        )
        .await;
    assert_eq!(body["records"][0]["CreatedDate"], record["CreatedDate"]);
    assert!(body["records"][0]["AnnualRevenue"].is_number());

    let late = api
        .sf
        .user_insert("Account", fields(json!({ "Name": "Late" })));
    assert!(
        api.sf
            .user_update_late("Account", &late, fields(json!({})), Duration::seconds(90))
    );
    let late = api
        .sf
        .records("Account")
        .into_iter()
        .find(|r| r["Id"] == late.as_str())
        .unwrap();
    let created = DateTime::parse_from_str(
        late["CreatedDate"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap();
    let modified = DateTime::parse_from_str(
        late["SystemModstamp"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap();
    assert!(modified < created - Duration::seconds(80));
}
