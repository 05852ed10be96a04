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

impl Api {
    /// A stored property of a live record (`None` when it has no value).
    fn property(&self, object_type: &str, id: &str, name: &str) -> Option<String> {
        self.hubspot
            .records(object_type)
            .into_iter()
            .find(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("no live {object_type} {id}"))
            .1
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn modified(&self, contact: &str) -> String {
        self.property("contacts", contact, "hs_lastmodifieddate")
            .expect("hs_lastmodifieddate")
    }
}

/// A v4 input `{from, to, types}` with one HUBSPOT_DEFINED type.
fn pair_input(from: &str, to: &str, type_id: u64) -> Value {
    json!({
        "from": {"id": from},
        "to": {"id": to},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    })
}

async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

const V4: &str = "/crm/v4/associations/contacts/companies/batch";

#[tokio::test]
async fn primary_company_follows_v4_associations_and_bumps_the_stamps() {
    let api = start().await;
    let acme = api.insert("companies", json!({"name": "Acme"}));
    let beta = api.insert("companies", json!({"name": "Beta"}));
    let ann = api.insert("contacts", json!({"firstname": "Ann"}));
    let created = api.modified(&ann);
    assert_eq!(api.property("contacts", &ann, "associatedcompanyid"), None);
    tick().await;

    // Type 1 makes Acme the primary: the property follows and the stamps move.
    let answer = api
        .post(
            &format!("{V4}/create"),
            json!({"inputs": [pair_input(&ann, &acme, 1)]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["status"], "COMPLETE");
    let result = &answer.body["results"][0];
    assert_eq!(result["fromObjectTypeId"], "0-1");
    assert_eq!(result["toObjectTypeId"], "0-2");
    assert_eq!(result["fromObjectId"], json!(ann.parse::<u64>().unwrap()));
    assert_eq!(result["toObjectId"], json!(acme.parse::<u64>().unwrap()));
    assert_eq!(result["labels"], json!(["Primary"]));
    assert_eq!(
        api.property("contacts", &ann, "associatedcompanyid"),
        Some(acme.clone())
    );
    let first = api.modified(&ann);
    assert!(first > created, "{first} > {created}");
    assert_eq!(
        api.property("contacts", &ann, "lastmodifieddate"),
        Some(first.clone())
    );
    let read = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"properties": ["associatedcompanyid"], "inputs": [{"id": ann}]}),
        )
        .await;
    assert_eq!(read.body["results"][0]["updatedAt"], json!(first));
    assert_eq!(
        read.body["results"][0]["properties"]["associatedcompanyid"],
        json!(acme)
    );
    assert_eq!(api.hubspot.associations(&ann), vec![(acme.clone(), true)]);

    // An unlabeled association (279) changes no property and bumps no stamp.
    tick().await;
    let unlabeled = api
        .post(
            &format!("{V4}/create"),
            json!({"inputs": [pair_input(&ann, &beta, 279)]}),
        )
        .await;
    assert_eq!(unlabeled.status, StatusCode::CREATED, "{}", unlabeled.body);
    assert_eq!(unlabeled.body["results"][0]["labels"], json!([]));
    assert_eq!(api.modified(&ann), first);

    // A second primary, given from the company's side (type 2), moves it; Acme stays
    // associated, unlabeled.
    tick().await;
    let moved = api
        .post(
            "/crm/v4/associations/companies/contacts/batch/create",
            json!({"inputs": [pair_input(&beta, &ann, 2)]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    assert_eq!(moved.body["results"][0]["fromObjectTypeId"], "0-2");
    assert_eq!(
        api.property("contacts", &ann, "associatedcompanyid"),
        Some(beta.clone())
    );
    let second = api.modified(&ann);
    assert!(second > first, "{second} > {first}");
    let read = api
        .post(&format!("{V4}/read"), json!({"inputs": [{"id": ann}]}))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["status"], "COMPLETE");
    assert_eq!(read.body["results"][0]["from"]["id"], json!(ann));
    assert_eq!(
        read.body["results"][0]["to"],
        json!([
            {"toObjectId": acme.parse::<u64>().unwrap(), "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": null},
            ]},
            {"toObjectId": beta.parse::<u64>().unwrap(), "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": null},
            ]},
        ])
    );
    let reverse = api
        .post(
            "/crm/v4/associations/company/contact/batch/read",
            json!({"inputs": [{"id": beta.parse::<u64>().unwrap()}]}),
        )
        .await;
    assert_eq!(
        reverse.body["results"][0]["to"][0]["associationTypes"],
        json!([
            {"category": "HUBSPOT_DEFINED", "typeId": 2, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": null},
        ])
    );

    // Removing the primary label (type 1) clears the property; the pair stays, unlabeled.
    tick().await;
    let cleared = api
        .post(
            &format!("{V4}/labels/archive"),
            json!({"inputs": [pair_input(&ann, &beta, 1)]}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT, "{}", cleared.body);
    assert_eq!(api.property("contacts", &ann, "associatedcompanyid"), None);
    assert!(api.modified(&ann) > second);
    assert_eq!(
        api.hubspot.associations(&ann),
        vec![(acme.clone(), false), (beta.clone(), false)]
    );

    // batch/archive removes pairs entirely; a contact without any is reported as HubSpot
    // does, with 207.
    let archived = api
        .post(
            &format!("{V4}/archive"),
            json!({"inputs": [{"from": {"id": ann}, "to": [{"id": acme}, {"id": beta}]}]}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);
    assert!(api.hubspot.associations(&ann).is_empty());
    let none = api
        .post(&format!("{V4}/read"), json!({"inputs": [{"id": ann}]}))
        .await;
    assert_eq!(none.status, StatusCode::MULTI_STATUS, "{}", none.body);
    let error = &none.body["errors"][0];
    assert_eq!(
        error["subCategory"],
        "crm.associations.NO_ASSOCIATIONS_FOUND"
    );
    assert_eq!(error["context"]["fromObjectId"], json!([ann]));
}

#[tokio::test]
async fn v4_single_put_delete_and_refused_inputs() {
    let api = start().await;
    let acme = api.insert("companies", json!({"name": "Acme"}));
    let ann = api.insert("contacts", json!({"firstname": "Ann"}));
    let bob = api.insert("contacts", json!({"firstname": "Bob"}));

    // One bad company id: 207 naming that input only; the others are applied.
    let answer = api
        .post(
            &format!("{V4}/create"),
            json!({"inputs": [pair_input(&ann, &acme, 1), pair_input(&bob, "424242", 1)]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
    assert_eq!(answer.body["numErrors"], 1);
    assert_eq!(answer.body["results"].as_array().unwrap().len(), 1);
    let error = &answer.body["errors"][0];
    assert_eq!(error["category"], "OBJECT_NOT_FOUND");
    assert!(error["message"].as_str().unwrap().contains("COMPANY"));
    assert_eq!(error["context"]["ids"], json!(["424242"]));
    assert_eq!(error["context"]["fromObjectId"], json!([bob]));
    assert_eq!(
        api.property("contacts", &ann, "associatedcompanyid"),
        Some(acme.clone())
    );
    assert_eq!(api.property("contacts", &bob, "associatedcompanyid"), None);

    // Other types and object pairs are refused as a whole.
    for (path, type_id) in [
        (format!("{V4}/create"), 2),
        (format!("{V4}/create"), 280),
        (
            "/crm/v4/associations/contacts/contacts/batch/create".to_owned(),
            1,
        ),
    ] {
        let refused = api
            .post(&path, json!({"inputs": [pair_input(&bob, &acme, type_id)]}))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path} {type_id}");
        assert_eq!(refused.body["category"], "VALIDATION_ERROR");
    }
    assert!(api.hubspot.associations(&bob).is_empty());

    // Single PUT with a spec list (numbers as ids), then DELETE.
    let put = api
        .send(
            reqwest::Method::PUT,
            &format!("/crm/v4/objects/contacts/{bob}/associations/companies/{acme}"),
            Some(json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": "1"}])),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert_eq!(put.body["labels"], json!(["Primary"]));
    assert_eq!(
        api.property("contacts", &bob, "associatedcompanyid"),
        Some(acme.clone())
    );
    let missing = api
        .send(
            reqwest::Method::PUT,
            &format!("/crm/v4/objects/contacts/{bob}/associations/companies/999999"),
            Some(json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}])),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let deleted = api
        .send(
            reqwest::Method::DELETE,
            &format!("/crm/v4/objects/companies/{acme}/associations/contacts/{bob}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(api.property("contacts", &bob, "associatedcompanyid"), None);
    assert!(api.hubspot.associations(&bob).is_empty());
    // Every call went through the gate.
    assert_eq!(api.hubspot.gate().calls(), 7);
}

#[tokio::test]
async fn v3_create_with_associations_and_the_read_only_property() {
    let api = start().await;
    let acme = api.insert("companies", json!({"name": "Acme"}));
    let beta = api.insert("companies", json!({"name": "Beta"}));

    let created = api
        .post(
            "/crm/v3/objects/contacts",
            json!({
                "properties": {"firstname": "Ann"},
                "associations": [
                    {"to": {"id": acme.parse::<u64>().unwrap()}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
                    ]},
                    {"to": {"id": beta}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
                    ]},
                ],
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ann = created.body["id"].as_str().unwrap().to_owned();
    let properties = &created.body["properties"];
    assert_eq!(properties["associatedcompanyid"], json!(acme));
    assert_eq!(properties["hs_lastmodifieddate"], properties["createdate"]);
    assert_eq!(
        api.hubspot.associations(&ann),
        vec![(acme.clone(), true), (beta.clone(), false)]
    );

    // A company created with a contact (company→contact, unlabeled 280): no new primary.
    let gamma = api
        .post(
            "/crm/v3/objects/companies",
            json!({
                "properties": {"name": "Gamma"},
                "associations": [{"to": {"id": ann}, "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}
                ]}],
            }),
        )
        .await;
    assert_eq!(gamma.status, StatusCode::CREATED, "{}", gamma.body);
    let gamma = gamma.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.hubspot.associations(&ann),
        vec![(acme.clone(), true), (beta.clone(), false), (gamma, false)]
    );
    assert_eq!(
        api.property("contacts", &ann, "hs_lastmodifieddate"),
        properties["hs_lastmodifieddate"]
            .as_str()
            .map(str::to_owned)
    );
    let wrong_type = api
        .post(
            "/crm/v3/objects/contacts",
            json!({"associations": [{"to": {"id": acme}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 2}
            ]}]}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);

    // Batch create: a traced input with a company that does not exist fails alone.
    let batch = api
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [
                {"objectWriteTraceId": "t1", "properties": {"firstname": "Bob"}, "associations": [
                    {"to": {"id": beta}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
                    ]},
                ]},
                {"objectWriteTraceId": "t2", "properties": {"firstname": "Cy"}, "associations": [
                    {"to": {"id": "999999"}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
                    ]},
                ]},
            ]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::MULTI_STATUS, "{}", batch.body);
    assert_eq!(batch.body["results"][0]["objectWriteTraceId"], "t1");
    assert_eq!(
        batch.body["results"][0]["properties"]["associatedcompanyid"],
        json!(beta)
    );
    let error = &batch.body["errors"][0];
    assert_eq!(error["category"], "VALIDATION_ERROR");
    assert_eq!(error["context"]["objectWriteTraceId"], json!(["t2"]));
    assert!(error["message"].as_str().unwrap().contains("999999"));
    assert_eq!(api.hubspot.records("contacts").len(), 2);

    // Untraced: all or nothing, associations included.
    let untraced = api
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [
                {"properties": {"firstname": "Dee"}, "associations": [
                    {"to": {"id": acme}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
                    ]},
                ]},
                {"properties": {"firstname": "Eve"}, "associations": [
                    {"to": {"id": "999999"}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
                    ]},
                ]},
            ]}),
        )
        .await;
    assert_eq!(
        untraced.status,
        StatusCode::BAD_REQUEST,
        "{}",
        untraced.body
    );
    assert_eq!(api.hubspot.records("contacts").len(), 2);
    let acme_contacts = api
        .post(
            "/crm/v4/associations/companies/contacts/batch/read",
            json!({"inputs": [{"id": acme}]}),
        )
        .await;
    assert_eq!(
        acme_contacts.body["results"][0]["to"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{}",
        acme_contacts.body
    );

    // associatedcompanyid is read-only: refused on create and update, naming it.
    for (path, body) in [
        (
            "/crm/v3/objects/contacts".to_owned(),
            json!({"properties": {"firstname": "Fay", "associatedcompanyid": acme}}),
        ),
        (
            format!("/crm/v3/objects/contacts/{ann}"),
            json!({"properties": {"associatedcompanyid": ""}}),
        ),
    ] {
        let method = if path.ends_with("contacts") {
            reqwest::Method::POST
        } else {
            reqwest::Method::PATCH
        };
        let refused = api.send(method, &path, Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.body["category"], "VALIDATION_ERROR");
        assert_eq!(refused.body["errors"][0]["code"], "READ_ONLY_VALUE");
        assert_eq!(
            refused.body["errors"][0]["context"]["propertyName"],
            json!(["associatedcompanyid"])
        );
    }
    assert_eq!(api.hubspot.records("contacts").len(), 2);
    assert_eq!(
        api.property("contacts", &ann, "associatedcompanyid"),
        Some(acme.clone())
    );

    // The property as the properties API shows it.
    let definition = api
        .get("/crm/v3/properties/contacts/associatedcompanyid")
        .await;
    assert_eq!(definition.status, StatusCode::OK);
    assert_eq!(definition.body["type"], "number");
    assert_eq!(definition.body["label"], "Primary Associated Company ID");
    assert_eq!(definition.body["hidden"], true);
    assert_eq!(definition.body["referencedObjectType"], "COMPANY");
    assert_eq!(
        definition.body["modificationMetadata"]["readOnlyValue"],
        false
    );
}

#[tokio::test]
async fn search_returns_the_primary_company_and_archiving_cascades() {
    let api = start().await;
    let acme = api.insert("companies", json!({"name": "Acme"}));
    let beta = api.insert("companies", json!({"name": "Beta"}));
    let ann = api.insert("contacts", json!({"firstname": "Ann"}));
    let bob = api.insert("contacts", json!({"firstname": "Bob"}));
    assert!(api.hubspot.user_associate(&ann, &acme, true));
    assert!(api.hubspot.user_associate(&bob, &acme, false));
    assert!(api.hubspot.user_associate(&bob, &beta, true));
    assert!(!api.hubspot.user_associate(&ann, "999999", true));

    let search = api
        .post(
            "/crm/v3/objects/contacts/search",
            json!({
                "filterGroups": [{"filters": [
                    {"propertyName": "associatedcompanyid", "operator": "HAS_PROPERTY"}
                ]}],
                "properties": ["firstname", "associatedcompanyid"],
            }),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.body);
    assert_eq!(search.body["total"], 2);
    assert_eq!(
        search.body["results"][0]["properties"]["associatedcompanyid"],
        json!(acme)
    );
    assert_eq!(
        search.body["results"][1]["properties"]["associatedcompanyid"],
        json!(beta)
    );
    let by_company = api
        .post(
            "/crm/v3/objects/contacts/search",
            json!({"filterGroups": [{"filters": [
                {"propertyName": "associatedcompanyid", "operator": "EQ", "value": acme}
            ]}]}),
        )
        .await;
    assert_eq!(ids(&by_company.body["results"]), vec![ann.clone()]);

    // Archiving a company removes its pairs; its contacts lose the property, restamped.
    let before = api.modified(&ann);
    let bob_before = api.modified(&bob);
    tick().await;
    let deleted = api
        .send(
            reqwest::Method::DELETE,
            &format!("/crm/v3/objects/companies/{acme}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(api.property("contacts", &ann, "associatedcompanyid"), None);
    assert!(api.modified(&ann) > before);
    assert!(api.hubspot.associations(&ann).is_empty());
    // Bob's primary was Beta: only the unlabeled pair went, no stamp.
    assert_eq!(api.hubspot.associations(&bob), vec![(beta.clone(), true)]);
    assert_eq!(api.modified(&bob), bob_before);

    // Archiving a contact removes its pairs.
    assert!(api.hubspot.user_delete("contacts", &bob));
    let beta_contacts = api
        .post(
            "/crm/v4/associations/companies/contacts/batch/read",
            json!({"inputs": [{"id": beta}]}),
        )
        .await;
    assert_eq!(beta_contacts.status, StatusCode::MULTI_STATUS);

    // The UI helpers: unlabel, then dissociate.
    assert!(api.hubspot.user_associate(&ann, &beta, true));
    assert_eq!(
        api.property("contacts", &ann, "associatedcompanyid"),
        Some(beta.clone())
    );
    assert!(api.hubspot.user_associate(&ann, &beta, false));
    assert_eq!(api.property("contacts", &ann, "associatedcompanyid"), None);
    assert_eq!(api.hubspot.associations(&ann), vec![(beta.clone(), false)]);
    assert!(api.hubspot.user_dissociate(&ann, &beta));
    assert!(!api.hubspot.user_dissociate(&ann, &beta));
    assert!(api.hubspot.associations(&ann).is_empty());
}
