//! The emulator over HTTP, as a connector sees it.

use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use super::HubSpot;
use crate::{Faults, Running};

struct Api {
    hubspot: HubSpot,
    running: Running,
    http: reqwest::Client,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn start() -> Api {
    let hubspot = HubSpot::new();
    let running = hubspot.start().await.expect("emulator starts");
    Api {
        hubspot,
        running,
        http: reqwest::Client::new(),
    }
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.running.base_url()))
            .bearer_auth(HubSpot::TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    fn insert(&self, object_type: &str, properties: Value) -> String {
        self.hubspot.user_insert(object_type, props(properties))
    }
}

fn props(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

fn ids(results: &Value) -> Vec<String> {
    results
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn auth_properties_and_unknown_routes() {
    let api = start().await;
    let anonymous = api
        .http
        .get(format!(
            "{}/crm/v3/objects/contacts",
            api.running.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("date"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    assert_eq!(body["status"], "error");
    assert!(body["correlationId"].is_string());

    let contacts = api.get("/crm/v3/properties/contacts").await;
    assert_eq!(contacts.status, StatusCode::OK);
    assert!(
        contacts
            .headers
            .contains_key("x-hubspot-ratelimit-daily-remaining")
    );
    let find = |name: &str| {
        contacts.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("property {name}"))
    };
    assert_eq!(find("email")["hasUniqueValue"], true);
    assert_eq!(find("lifecyclestage")["type"], "enumeration");
    assert_eq!(find("lifecyclestage")["options"][1]["value"], "lead");
    assert_eq!(find("annualrevenue")["type"], "number");
    assert_eq!(
        find("hs_object_id")["modificationMetadata"]["readOnlyValue"],
        true
    );
    assert_eq!(
        find("firstname")["modificationMetadata"]["readOnlyValue"],
        false
    );
    let industry = api.get("/crm/v3/properties/company/industry").await;
    assert_eq!(industry.body["options"][0]["value"], "COMPUTER_SOFTWARE");

    let unknown = api.get("/crm/v3/properties/xyz").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.body["message"],
        "Unable to infer object type from: xyz"
    );
    let nowhere = api.get("/crm/v4/nowhere").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.body["status"], "error");
}

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let api = start().await;
    let mut all = Vec::new();
    for i in 0..25 {
        all.push(api.insert(
            "contacts",
            json!({"email": format!("p{i}@example.com"), "firstname": format!("P{i}")}),
        ));
    }
    // Everything but the last five was last modified an hour ago.
    for id in &all[..20] {
        assert!(api.hubspot.user_update_late(
            "contacts",
            id,
            props(json!({"lastname": "Old"})),
            chrono::Duration::hours(1),
        ));
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut body = json!({
            "filterGroups": [{"filters": [
                {"propertyName": "hs_object_id", "operator": "GT", "value": all[2]}
            ]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": ["email", "lastname"],
            "limit": 10,
        });
        if let Some(after) = &after {
            body["after"] = json!(after);
        }
        let page = api.post("/crm/v3/objects/contacts/search", body).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(page.body["total"], 22);
        let first = &page.body["results"][0]["properties"];
        assert!(first["email"].is_string() && first["hs_object_id"].is_string());
        assert!(first["createdate"].is_string() && first["lastmodifieddate"].is_string());
        assert!(first.get("firstname").is_none());
        seen.extend(ids(&page.body["results"]));
        match page.body["paging"]["next"]["after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, all[3..].to_vec());

    let since = chrono::Utc::now() - chrono::Duration::minutes(30);
    for value in [
        json!(since.timestamp_millis().to_string()),
        json!(since.to_rfc3339()),
    ] {
        let recent = api
            .post(
                "/crm/v3/objects/contacts/search",
                json!({
                    "filterGroups": [{"filters": [
                        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": value}
                    ]}],
                    "sorts": ["-hs_lastmodifieddate"],
                    "limit": 200,
                }),
            )
            .await;
        assert_eq!(recent.body["total"], 5, "{}", recent.body);
    }

    let too_far = api
        .post("/crm/v3/objects/contacts/search", json!({"after": "10000"}))
        .await;
    assert_eq!(too_far.status, StatusCode::BAD_REQUEST);
    let filter = json!({"propertyName": "email", "operator": "HAS_PROPERTY"});
    let too_many = api
        .post(
            "/crm/v3/objects/contacts/search",
            json!({"filterGroups": [{"filters": vec![filter; 7]}]}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_many.body["category"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn list_pages_and_archived() {
    let api = start().await;
    let a = api.insert(
        "companies",
        json!({"name": "Acme", "domain": "acme.example"}),
    );
    let b = api.insert("companies", json!({"name": "Beta"}));
    let c = api.insert("companies", json!({}));
    assert!(api.hubspot.user_delete("companies", &b));
    assert!(!api.hubspot.user_delete("companies", &b));

    let first = api
        .get("/crm/v3/objects/companies?limit=1&properties=name,industry")
        .await;
    assert_eq!(ids(&first.body["results"]), vec![a.clone()]);
    let properties = &first.body["results"][0]["properties"];
    assert_eq!(properties["name"], "Acme");
    assert!(properties["industry"].is_null());
    assert!(properties["hs_lastmodifieddate"].is_string());
    let after = first.body["paging"]["next"]["after"].as_str().unwrap();
    let second = api
        .get(&format!("/crm/v3/objects/companies?limit=1&after={after}"))
        .await;
    assert_eq!(ids(&second.body["results"]), vec![c.clone()]);
    assert!(second.body.get("paging").is_none());

    let archived = api.get("/crm/v3/objects/companies?archived=true").await;
    assert_eq!(ids(&archived.body["results"]), vec![b.clone()]);
    assert_eq!(archived.body["results"][0]["archived"], true);
    assert!(archived.body["results"][0]["archivedAt"].is_string());

    let one = api.get(&format!("/crm/v3/objects/companies/{a}")).await;
    assert_eq!(one.body["properties"]["domain"], "acme.example");
    let gone = api.get(&format!("/crm/v3/objects/companies/{b}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batch_create_with_trace_ids_reports_refused_inputs() {
    let api = start().await;
    let existing = api.insert("contacts", json!({"email": "taken@example.com"}));
    let answer = api
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [
                {"objectWriteTraceId": "t1", "properties": {"email": "Ann@Example.com", "annualrevenue": 1200}},
                {"objectWriteTraceId": "t2", "properties": {"email": "not an email"}},
                {"objectWriteTraceId": "t3", "properties": {}},
                {"objectWriteTraceId": "t4", "properties": {"email": "taken@example.com"}},
            ]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
    assert_eq!(answer.body["status"], "COMPLETE");
    assert_eq!(answer.body["numErrors"], 2);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["objectWriteTraceId"], "t1");
    assert_eq!(results[0]["properties"]["email"], "ann@example.com");
    assert_eq!(results[0]["properties"]["annualrevenue"], "1200");
    assert_eq!(
        results[0]["properties"]["hs_object_id"],
        results[0]["id"].clone()
    );
    assert_eq!(
        results[0]["createdAt"],
        results[0]["properties"]["createdate"]
    );
    let errors = answer.body["errors"].as_array().unwrap();
    assert_eq!(errors[0]["category"], "VALIDATION_ERROR");
    assert_eq!(errors[0]["context"]["objectWriteTraceId"], json!(["t2"]));
    assert_eq!(errors[0]["errors"][0]["code"], "INVALID_EMAIL");
    assert_eq!(errors[1]["category"], "CONFLICT");
    assert_eq!(errors[1]["context"]["objectWriteTraceId"], json!(["t4"]));
    assert_eq!(errors[1]["context"]["existingId"], json!([existing]));
    assert_eq!(api.hubspot.records("contacts").len(), 3);
}

#[tokio::test]
async fn batch_create_without_trace_ids_is_all_or_nothing() {
    let api = start().await;
    let answer = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [
                {"properties": {"name": "Fine"}},
                {"properties": {"name": "Bad", "numberofemployees": "many"}},
                {"properties": {"industry": "Retail", "hs_object_id": "7"}},
            ]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.body["category"], "VALIDATION_ERROR");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Property values were not valid: ")
    );
    assert_eq!(answer.body["errors"][0]["code"], "INVALID_INTEGER");
    assert!(api.hubspot.records("companies").is_empty());

    let refused = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [{"properties": {"industry": "Retail", "hs_object_id": "7", "nope": "x"}}]}),
        )
        .await;
    let mut codes: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        vec!["INVALID_OPTION", "PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"]
    );
}

#[tokio::test]
async fn batch_update_reports_archived_ids_and_applies_the_rest() {
    let api = start().await;
    let live = api.insert("contacts", json!({"firstname": "Ann", "phone": "123"}));
    let archived = api.insert("contacts", json!({"firstname": "Bob"}));
    assert!(api.hubspot.user_delete("contacts", &archived));
    let before = api.hubspot.records("contacts")[0].1.clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let answer = api
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [
                {"id": live, "properties": {"lastname": "Smith", "phone": "", "lifecyclestage": "lead"}},
                {"id": archived, "properties": {"lastname": "Jones"}},
                {"id": "999999", "properties": {"lastname": "Nobody"}},
            ]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["properties"]["lastname"], "Smith");
    let error = &answer.body["errors"][0];
    assert_eq!(error["category"], "OBJECT_NOT_FOUND");
    assert_eq!(error["context"]["ids"], json!([archived, "999999"]));

    let after = api.hubspot.records("contacts");
    assert_eq!(after.len(), 1);
    let after = &after[0].1;
    assert_eq!(after["lastname"], "Smith");
    assert!(after.get("phone").is_none());
    assert_eq!(after["createdate"], before["createdate"]);
    assert!(after["hs_lastmodifieddate"].as_str() > before["hs_lastmodifieddate"].as_str());
    assert_eq!(after["lastmodifieddate"], after["hs_lastmodifieddate"]);

    let invalid = api
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": live, "properties": {"lifecyclestage": "nope"}}]}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.body["errors"][0]["code"], "INVALID_OPTION");
}

#[tokio::test]
async fn batch_read_and_the_input_limit() {
    let api = start().await;
    let ann = api.insert(
        "contacts",
        json!({"email": "ann@example.com", "firstname": "Ann"}),
    );
    let answer = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"properties": ["firstname"], "inputs": [{"id": ann}, {"id": "4242"}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["properties"]["firstname"], "Ann");
    assert_eq!(answer.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        answer.body["errors"][0]["message"],
        "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
    );
    assert_eq!(answer.body["errors"][0]["context"]["ids"], json!(["4242"]));

    let by_email = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"idProperty": "email", "inputs": [{"id": "ANN@example.com"}]}),
        )
        .await;
    assert_eq!(by_email.status, StatusCode::OK);
    assert_eq!(ids(&by_email.body["results"]), vec![ann]);

    let inputs: Vec<Value> = (0..101).map(|_| json!({"properties": {}})).collect();
    let too_many = api
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": inputs}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_many.body["category"], "VALIDATION_ERROR");
    assert_eq!(api.hubspot.records("contacts").len(), 1);
}

#[tokio::test]
async fn faults_refuse_every_third_call() {
    let api = start().await;
    api.hubspot.gate().set_faults(Faults {
        rate_limit_every: Some(3),
        retry_after_seconds: 2,
        unavailable_every: None,
    });
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let answer = api.get("/crm/v3/objects/contacts").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.headers["retry-after"], "2");
            assert_eq!(answer.body["errorType"], "RATE_LIMIT");
            assert_eq!(answer.body["policyName"], "SECONDLY");
            assert!(answer.headers.contains_key("date"));
        }
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 429, 200, 200, 429]);
    assert_eq!(api.hubspot.gate().calls(), 6);
    assert_eq!(api.hubspot.gate().served(), 4);
}
