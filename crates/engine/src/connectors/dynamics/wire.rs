//! The Dataverse Web API's JSON: who the connection is (`WhoAmI`) and a page of records
//! (discovery's are in `describe`, `$batch` answers in `batch`).

use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WhoAmI {
    pub user_id: String,
}

#[derive(Deserialize)]
pub struct Page {
    pub value: Vec<Map<String, Json>>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}
