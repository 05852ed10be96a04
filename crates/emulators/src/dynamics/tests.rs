//! The emulator over HTTP, as the connector sees it.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Map, Value, json};

use super::Dynamics;
use crate::{Faults, Running};

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

struct Api {
    dynamics: Dynamics,
    running: Running,
    client: Client,
    token: String,
}

/// (status, headers, body text)
type Answer = (StatusCode, HeaderMap, String);

fn json_of(answer: &Answer) -> Value {
    serde_json::from_str(&answer.2).unwrap_or_else(|e| panic!("not JSON ({e}): {}", answer.2))
}

impl Api {
    async fn start() -> Api {
        let dynamics = Dynamics::new();
        let running = dynamics.start().await.unwrap();
        let client = Client::new();
        let mut api = Api {
            dynamics,
            running,
            client,
            token: String::new(),
        };
        let answer = api
            .token_request(
                Dynamics::TENANT,
                Dynamics::CLIENT_ID,
                Dynamics::CLIENT_SECRET,
            )
            .await;
        assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
        api.token = json_of(&answer)["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        api
    }

    fn base(&self) -> String {
        self.running.base_url()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/data/v9.2/{path}", self.base())
    }

    async fn token_request(&self, tenant: &str, client_id: &str, secret: &str) -> Answer {
        let scope = format!("{}/.default", self.base());
        let response = self
            .client
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", scope.as_str()),
            ])
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, url)
            .bearer_auth(&self.token)
            .header("OData-MaxVersion", "4.0")
            .header("OData-Version", "4.0")
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        answer(request.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let answer = self.send(Method::GET, &self.url(path), &[], None).await;
        let body = json_of(&answer);
        (answer.0, body)
    }

    async fn write(&self, method: Method, path: &str, body: Value, prefer: &[&str]) -> Answer {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(prefer.iter().map(|p| ("Prefer", *p)));
        self.send(method, &self.url(path), &headers, Some(body.to_string()))
            .await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn tokens_and_who_am_i() {
    let api = Api::start().await;

    let (status, headers, _) = api.token_request("wrong-tenant", "x", "y").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.contains_key("x-ms-service-request-id"));
    let bad_tenant = api
        .token_request("wrong-tenant", Dynamics::CLIENT_ID, "y")
        .await;
    assert_eq!(json_of(&bad_tenant)["error"], "invalid_request");
    assert!(
        json_of(&bad_tenant)["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS90002: Tenant 'wrong-tenant' not found.")
    );
    let bad_client = api
        .token_request(
            Dynamics::TENANT,
            "99999999-1111-1111-1111-111111111111",
            "y",
        )
        .await;
    assert_eq!(bad_client.0, StatusCode::BAD_REQUEST);
    assert_eq!(json_of(&bad_client)["error"], "unauthorized_client");
    assert!(
        json_of(&bad_client)["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700016:")
    );
    let bad_secret = api
        .token_request(Dynamics::TENANT, Dynamics::CLIENT_ID, "nope")
        .await;
    assert_eq!(bad_secret.0, StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(&bad_secret)["error"], "invalid_client");
    assert_eq!(json_of(&bad_secret)["error_codes"], json!([7000215]));

    let good = api
        .token_request(
            Dynamics::TENANT,
            Dynamics::CLIENT_ID,
            Dynamics::CLIENT_SECRET,
        )
        .await;
    let token = json_of(&good);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3599);
    assert_eq!(token["ext_expires_in"], 3599);

    let who = api.send(Method::GET, &api.url("WhoAmI"), &[], None).await;
    assert_eq!(who.0, StatusCode::OK);
    assert!(who.1.contains_key("date"));
    assert!(who.1.contains_key("x-ms-service-request-id"));
    assert_eq!(who.1["odata-version"], "4.0");
    let body = json_of(&who);
    assert_eq!(body["UserId"], Dynamics::APPLICATION_USER_ID);
    assert!(body["BusinessUnitId"].is_string() && body["OrganizationId"].is_string());
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
    );

    let post = api.send(Method::POST, &api.url("WhoAmI"), &[], None).await;
    assert_eq!(post.0, StatusCode::NOT_FOUND);
    let (status, body) = api.get("Accounts").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "0x8006088a");

    let anonymous = api.client.get(api.url("WhoAmI")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer authorization_uri=")
    );

    api.dynamics.expire_tokens();
    let expired = api.send(Method::GET, &api.url("WhoAmI"), &[], None).await;
    assert_eq!(expired.0, StatusCode::UNAUTHORIZED);
    assert!(expired.2.is_empty());
}

#[tokio::test]
async fn entity_definitions() {
    let api = Api::start().await;
    let (status, body) = api
        .get("EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,IsValidForAdvancedFind")
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["LogicalName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["account", "contact", "annotationlog"]);
    let account = &body["value"][0];
    assert_eq!(account["EntitySetName"], "accounts");
    assert_eq!(account["PrimaryIdAttribute"], "accountid");
    assert!(account["MetadataId"].is_string());
    assert!(account.get("SchemaName").is_none(), "not selected");

    let (_, filtered) = api
        .get("EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'contact'")
        .await;
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);

    let (status, account) = api
        .get(
            "EntityDefinitions(LogicalName='account')?$select=LogicalName,EntitySetName,\
             PrimaryIdAttribute&$expand=Attributes($select=LogicalName,AttributeType,\
             IsValidForCreate,IsValidForUpdate,IsValidForRead,RequiredLevel)",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["LogicalName"], "account");
    let attributes = account["Attributes"].as_array().unwrap();
    let attribute = |name: &str| {
        attributes
            .iter()
            .find(|a| a["LogicalName"] == name)
            .unwrap_or_else(|| panic!("no attribute {name}"))
    };
    let name = attribute("name");
    assert_eq!(name["AttributeType"], "String");
    assert_eq!(name["MaxLength"], 160);
    assert_eq!(name["RequiredLevel"]["Value"], "ApplicationRequired");
    assert_eq!(attribute("accountid")["IsValidForUpdate"], false);
    assert_eq!(attribute("accountid")["IsValidForCreate"], true);
    assert_eq!(attribute("revenue")["Precision"], 2);
    assert_eq!(attribute("description")["AttributeType"], "Memo");
    assert_eq!(attribute("industrycode")["AttributeType"], "Picklist");
    assert_eq!(attribute("modifiedon")["IsValidForUpdate"], false);
    assert_eq!(attribute("modifiedby")["AttributeType"], "Lookup");
    assert_eq!(attribute("statecode")["AttributeType"], "State");

    let (_, log) = api
        .get("EntityDefinitions(LogicalName='annotationlog')/Attributes")
        .await;
    let log_names: Vec<&str> = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["LogicalName"].as_str().unwrap())
        .collect();
    assert_eq!(log_names, ["annotationlogid", "subject", "createdon"]);

    let (status, missing) = api.get("EntityDefinitions(LogicalName='nope')").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&missing), "0x80040217");
}

#[tokio::test]
async fn queries_filter_by_stamps_and_guids() {
    let api = Api::start().await;
    let mut ids: Vec<String> = (0..6)
        .map(|i| {
            api.dynamics.user_insert(
                "account",
                fields(json!({"name": format!("Account {i}"), "numberofemployees": i})),
            )
        })
        .collect();
    ids.sort();

    let (status, all) = api.get("accounts?$select=name,modifiedon").await;
    assert_eq!(status, StatusCode::OK);
    let rows = all["value"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let returned: Vec<&str> = rows
        .iter()
        .map(|r| r["accountid"].as_str().unwrap())
        .collect();
    assert_eq!(returned, ids, "ordered by primary id");
    let first = &rows[0];
    assert!(first["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    let stamp = first["modifiedon"].as_str().unwrap().to_string();
    assert_eq!(stamp.len(), "2026-11-25T15:04:05Z".len());
    assert!(first.get("numberofemployees").is_none());
    assert!(
        all["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#accounts(name,modifiedon)")
    );

    let (_, since) = api
        .get(&format!(
            "accounts?$select=name&$filter=modifiedon ge {stamp}"
        ))
        .await;
    assert_eq!(since["value"].as_array().unwrap().len(), 6);
    let (_, later) = api
        .get("accounts?$select=name&$filter=modifiedon gt 2999-01-01T00:00:00Z")
        .await;
    assert!(later["value"].as_array().unwrap().is_empty());

    let (_, after) = api
        .get(&format!(
            "accounts?$select=name&$filter=modifiedon ge {stamp} and accountid gt {}&$orderby=accountid asc",
            ids[2]
        ))
        .await;
    let after_ids: Vec<&str> = after["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accountid"].as_str().unwrap())
        .collect();
    assert_eq!(after_ids, &ids[3..]);

    let (_, top) = api
        .get("accounts?$select=numberofemployees&$orderby=numberofemployees desc&$top=2")
        .await;
    let top: Vec<i64> = top["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["numberofemployees"].as_i64().unwrap())
        .collect();
    assert_eq!(top, [5, 4]);
    assert!(
        !api.get("accounts?$top=2")
            .await
            .1
            .as_object()
            .unwrap()
            .contains_key("@odata.nextLink")
    );

    let (status, error) = api.get("accounts?$select=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&error), "0x80060888");
    assert_eq!(
        error["error"]["message"],
        "Could not find a property named 'nope' on type 'Microsoft.Dynamics.CRM.account'."
    );
    let (status, _) = api.get("accounts?$filter=modifiedon ge '2026-01-01'").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, single) = api.get(&format!("accounts({})?$select=name", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(single["accountid"], ids[0].as_str());
    let missing = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let (status, error) = api.get(&format!("accounts({missing})")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error["error"]["message"],
        format!("account With Id = {missing} Does Not Exist")
    );
}

#[tokio::test]
async fn pages_follow_next_links() {
    let api = Api::start().await;
    for i in 0..5_100 {
        api.dynamics
            .user_insert("contact", fields(json!({"lastname": format!("L{i:05}")})));
    }
    let mut url = api.url("contacts?$select=lastname,modifiedon");
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let answer = api
            .send(
                Method::GET,
                &url,
                &[("Prefer", "odata.maxpagesize=2000")],
                None,
            )
            .await;
        assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
        assert_eq!(answer.1["preference-applied"], "odata.maxpagesize=2000");
        let body = json_of(&answer);
        let rows = body["value"].as_array().unwrap();
        sizes.push(rows.len());
        seen.extend(
            rows.iter()
                .map(|r| r["contactid"].as_str().unwrap().to_string()),
        );
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&api.url("contacts?")), "absolute: {next}");
                assert!(next.contains("$skiptoken="));
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(sizes, [2000, 2000, 1100]);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "each row once, in id order");

    // Sorted by another column, the default page of 5,000.
    let (_, first) = api
        .get("contacts?$select=lastname&$orderby=lastname desc")
        .await;
    let rows = first["value"].as_array().unwrap();
    assert_eq!(rows.len(), 5000);
    assert_eq!(rows[0]["lastname"], "L05099");
    let next = first["@odata.nextLink"].as_str().unwrap();
    let answer = api.send(Method::GET, next, &[], None).await;
    let rest = json_of(&answer);
    let rest = rest["value"].as_array().unwrap();
    assert_eq!(rest.len(), 100);
    assert_eq!(rest[0]["lastname"], "L00099");
    assert_eq!(rest[99]["lastname"], "L00000");
}

#[tokio::test]
async fn in_query_function() {
    let api = Api::start().await;
    let a = api
        .dynamics
        .user_insert("account", fields(json!({"name": "A", "industrycode": 1})));
    let b = api
        .dynamics
        .user_insert("account", fields(json!({"name": "B", "industrycode": 2})));
    api.dynamics
        .user_insert("account", fields(json!({"name": "C", "industrycode": 3})));

    let (status, by_id) = api
        .get(&format!(
            "accounts?$select=name&$filter=Microsoft.Dynamics.CRM.In(PropertyName='accountid',PropertyValues=['{a}','{}'])",
            b.to_uppercase()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{by_id}");
    let mut names: Vec<&str> = by_id["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["A", "B"]);

    let (_, by_code) = api
        .get("accounts?$select=name&$filter=Microsoft.Dynamics.CRM.In(PropertyName='industrycode',PropertyValues=[\"2\",\"3\"]) and name ne 'C'")
        .await;
    assert_eq!(by_code["value"][0]["name"], "B");
    assert_eq!(by_code["value"].as_array().unwrap().len(), 1);

    let (status, error) = api
        .get("accounts?$filter=Microsoft.Dynamics.CRM.In(PropertyName='nope',PropertyValues=['1'])")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&error), "0x80060888");
}

#[tokio::test]
async fn create_update_delete_and_validation() {
    let api = Api::start().await;
    let created = api
        .write(
            Method::POST,
            "accounts",
            json!({"name": "Contoso", "revenue": 12.345}),
            &[],
        )
        .await;
    assert_eq!(created.0, StatusCode::NO_CONTENT);
    let entity_url = created.1["odata-entityid"].to_str().unwrap().to_string();
    let id = entity_url
        .rsplit_once('(')
        .unwrap()
        .1
        .trim_end_matches(')')
        .to_string();
    assert_eq!(entity_url, api.url(&format!("accounts({id})")));

    let record = &api.dynamics.records("account")[0];
    assert_eq!(record["accountid"], id.as_str());
    assert_eq!(record["revenue"], 12.35);
    assert_eq!(record["_createdby_value"], Dynamics::APPLICATION_USER_ID);
    assert_eq!(record["_modifiedby_value"], Dynamics::APPLICATION_USER_ID);
    assert_eq!(record["statecode"], 0);

    let represented = api
        .write(
            Method::POST,
            "contacts",
            json!({"firstname": "Ada", "lastname": "Lovelace", "birthdate": "1815-12-10"}),
            &["return=representation"],
        )
        .await;
    assert_eq!(represented.0, StatusCode::CREATED);
    let contact = json_of(&represented);
    assert_eq!(contact["fullname"], "Ada Lovelace");
    assert_eq!(contact["birthdate"], "1815-12-10");
    assert!(contact["modifiedon"].is_string());
    assert!(contact["@odata.etag"].is_string());

    let updated = api
        .write(
            Method::PATCH,
            &format!("accounts({id})"),
            json!({"telephone1": "555-0100"}),
            &["return=representation"],
        )
        .await;
    assert_eq!(updated.0, StatusCode::OK);
    assert_eq!(json_of(&updated)["telephone1"], "555-0100");

    // If-Match: * means "must exist".
    let missing = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let must_exist = api
        .send(
            Method::PATCH,
            &api.url(&format!("accounts({missing})")),
            &[("Content-Type", "application/json"), ("If-Match", "*")],
            Some(json!({"name": "x"}).to_string()),
        )
        .await;
    assert_eq!(must_exist.0, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&json_of(&must_exist)), "0x80040217");

    for (body, code) in [
        (json!({"telephone1": "1"}), "0x80040203"),
        (json!({"name": "x".repeat(161)}), "0x80044331"),
        (json!({"name": "x", "industrycode": 7}), "0x8004431a"),
        (
            json!({"name": "x", "createdon": "2026-01-01T00:00:00Z"}),
            "0x80040203",
        ),
        (json!({"name": "x", "Name": "y"}), "0x0"),
    ] {
        let refused = api.write(Method::POST, "accounts", body.clone(), &[]).await;
        assert_eq!(refused.0, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&json_of(&refused)), code, "{body}");
    }
    let bad_email = api
        .write(
            Method::POST,
            "contacts",
            json!({"lastname": "x", "emailaddress1": "not-an-email"}),
            &[],
        )
        .await;
    assert_eq!(bad_email.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.dynamics.records("account").len(), 1);

    let deleted = api
        .send(
            Method::DELETE,
            &api.url(&format!("accounts({id})")),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT);
    let again = api
        .send(
            Method::DELETE,
            &api.url(&format!("accounts({id})")),
            &[],
            None,
        )
        .await;
    assert_eq!(again.0, StatusCode::NOT_FOUND);
    assert!(api.dynamics.records("account").is_empty());
}

#[tokio::test]
async fn user_edits_are_stamped() {
    let api = Api::start().await;
    let id = api
        .dynamics
        .user_insert("account", fields(json!({"name": "UI"})));
    assert_eq!(id, id.to_lowercase());
    let record = &api.dynamics.records("account")[0];
    assert_eq!(record["_modifiedby_value"], Dynamics::HUMAN_USER_ID);
    let version = record["versionnumber"].as_u64().unwrap();
    let other = "66666666-6666-6666-6666-666666666666";
    assert!(
        api.dynamics
            .user_update_as(other, "account", &id, fields(json!({"name": "Renamed"})))
    );
    let record = &api.dynamics.records("account")[0];
    assert_eq!(record["_modifiedby_value"], other);
    assert_eq!(record["_createdby_value"], Dynamics::HUMAN_USER_ID);
    assert!(record["versionnumber"].as_u64().unwrap() > version);
    assert!(!api.dynamics.user_update(
        "account",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        fields(json!({"name": "x"}))
    ));
    let log = api
        .dynamics
        .user_insert("annotationlog", fields(json!({"subject": "s"})));
    let row = &api.dynamics.records("annotationlog")[0];
    assert!(row.contains_key("createdon") && !row.contains_key("modifiedon"));
    assert!(api.dynamics.user_delete("annotationlog", &log));
    assert!(!api.dynamics.user_delete("annotationlog", &log));
    assert_eq!(
        api.dynamics.gate().calls(),
        1,
        "only the token request was an API call"
    );
}

fn batch_part(method: &str, url: &str, body: Option<Value>) -> String {
    let mut part = format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         {method} {url} HTTP/1.1\r\n"
    );
    match body {
        Some(body) => part.push_str(&format!(
            "Content-Type: application/json; type=entry\r\n\r\n{body}\r\n"
        )),
        None => part.push_str("\r\n"),
    }
    part
}

fn batch_body(boundary: &str, parts: &[String]) -> String {
    let mut body = String::new();
    for part in parts {
        body.push_str(&format!("--{boundary}\r\n{part}"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// The status lines of a batch response, in order.
fn statuses(text: &str) -> Vec<u16> {
    text.lines()
        .filter_map(|l| l.strip_prefix("HTTP/1.1 "))
        .map(|l| l[..3].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn batch_continues_on_error() {
    let api = Api::start().await;
    let existing = api
        .dynamics
        .user_insert("account", fields(json!({"name": "Old"})));
    let boundary = "batch_4f2b1c";
    let parts = [
        batch_part("POST", &api.url("accounts"), Some(json!({"name": "One"}))),
        batch_part(
            "POST",
            "/api/data/v9.2/accounts",
            Some(json!({"name": "x".repeat(200)})),
        ),
        batch_part(
            "PATCH",
            &format!("/api/data/v9.2/accounts({existing})"),
            Some(json!({"name": "Renamed"})),
        ),
        batch_part("POST", "accounts", Some(json!({"name": "Three"}))),
        batch_part("GET", "accounts?$select=name", None),
    ];
    let content_type = format!("multipart/mixed; boundary=\"{boundary}\"");
    let answer = api
        .send(
            Method::POST,
            &api.url("$batch"),
            &[
                ("Content-Type", content_type.as_str()),
                ("Prefer", "odata.continue-on-error"),
            ],
            Some(batch_body(boundary, &parts)),
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.2);
    let response_type = answer.1["content-type"].to_str().unwrap();
    let response_boundary = response_type
        .strip_prefix("multipart/mixed; boundary=")
        .unwrap();
    assert!(response_boundary.starts_with("batchresponse_"));
    let text = &answer.2;
    assert_eq!(statuses(text), [204, 400, 204, 204, 200]);
    assert_eq!(
        text.matches(&format!("--{response_boundary}\r\n")).count(),
        5
    );
    assert!(text.ends_with(&format!("--{response_boundary}--\r\n")));
    assert!(text.contains("OData-EntityId: http://"));
    assert!(text.contains("\"code\":\"0x80044331\""));
    let mut names: Vec<String> = api
        .dynamics
        .records("account")
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["One", "Renamed", "Three"]);
    assert!(text.contains("\"name\":\"Renamed\""), "the GET ran last");

    // Without continue-on-error the first failure ends the batch.
    let stopping = api
        .send(
            Method::POST,
            &api.url("$batch"),
            &[("Content-Type", content_type.as_str())],
            Some(batch_body(boundary, &parts).replace("\r\n", "\n")),
        )
        .await;
    assert_eq!(stopping.0, StatusCode::BAD_REQUEST);
    assert_eq!(statuses(&stopping.2), [204, 400]);
    assert_eq!(api.dynamics.records("account").len(), 4);

    // A change set is all or nothing.
    let change_set = format!(
        "Content-Type: multipart/mixed; boundary=changeset_9\r\n\r\n--changeset_9\r\n\
         Content-ID: 1\r\n{}--changeset_9\r\nContent-ID: 2\r\n{}--changeset_9--\r\n",
        batch_part("POST", "accounts", Some(json!({"name": "Kept?"}))),
        batch_part(
            "POST",
            "accounts",
            Some(json!({"industrycode": 99, "name": "n"}))
        ),
    );
    let rolled_back = api
        .send(
            Method::POST,
            &api.url("$batch"),
            &[
                ("Content-Type", content_type.as_str()),
                ("Prefer", "odata.continue-on-error"),
            ],
            Some(batch_body(boundary, &[change_set])),
        )
        .await;
    assert_eq!(rolled_back.0, StatusCode::OK);
    assert_eq!(statuses(&rolled_back.2), [400]);
    assert_eq!(api.dynamics.records("account").len(), 4);

    let too_many: Vec<String> = (0..1001)
        .map(|_| batch_part("GET", "WhoAmI", None))
        .collect();
    let refused = api
        .send(
            Method::POST,
            &api.url("$batch"),
            &[("Content-Type", content_type.as_str())],
            Some(batch_body(boundary, &too_many)),
        )
        .await;
    assert_eq!(refused.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn faults_refuse_every_third_call() {
    let api = Api::start().await; // call 1: the token
    api.dynamics.gate().set_faults(Faults {
        rate_limit_every: Some(3),
        retry_after_seconds: 7,
        unavailable_every: None,
    });
    let mut refused = Vec::new();
    for call in 2..=7 {
        let answer = api.send(Method::GET, &api.url("WhoAmI"), &[], None).await;
        if answer.0 == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.1["retry-after"], "7");
            assert!(answer.1.contains_key("date"));
            let body = json_of(&answer);
            assert_eq!(error_code(&body), "0x80072322");
            assert_eq!(
                body["error"]["message"],
                "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
            );
            refused.push(call);
        } else {
            assert_eq!(answer.0, StatusCode::OK);
        }
    }
    assert_eq!(refused, [3, 6]);
    assert_eq!(api.dynamics.gate().calls(), 7);

    api.dynamics.gate().set_faults(Faults {
        rate_limit_every: None,
        retry_after_seconds: 0,
        unavailable_every: Some(1),
    });
    let answer = api.send(Method::GET, &api.url("WhoAmI"), &[], None).await;
    assert_eq!(answer.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&json_of(&answer)), "0x80040216");
}
