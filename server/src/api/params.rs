//! Reading a request's path ids, query and body into problem answers that name the field,
//! instead of the framework's plain-text rejections.

use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::problem::Problem;

/// An id from the path; one that is not an id cannot exist (404).
pub fn id(text: &str) -> Result<Uuid, Problem> {
    text.parse().map_err(|_| Problem::not_found())
}

/// The query string as `T` (whose fields are all optional); a bad parameter is a 422
/// naming it.
pub fn query<T: DeserializeOwned + Default>(raw: Option<&str>) -> Result<T, Problem> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(T::default());
    };
    serde_urlencoded::from_str(raw).map_err(|e| {
        // serde_urlencoded does not say which parameter failed: find it by reading each
        // alone (every field is optional, so one parameter makes a whole `T`).
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
        let field = pairs
            .iter()
            .find(|pair| {
                serde_urlencoded::to_string([pair])
                    .ok()
                    .is_some_and(|one| serde_urlencoded::from_str::<T>(&one).is_err())
            })
            .map_or_else(|| "query".to_owned(), |(key, _)| key.clone());
        Problem::invalid(
            field.clone(),
            format!("the query parameter `{field}` is not valid: {e}"),
        )
    })
}

/// A JSON body as `T`; a body that does not parse is a 422 naming the place
/// (`line 3, column 7: …`).
pub fn json<T: DeserializeOwned>(body: &str, field: &str) -> Result<T, Problem> {
    serde_json::from_str(body).map_err(|e| {
        Problem::invalid(
            field,
            format!("the body is not valid JSON for this request: {e}"),
        )
    })
}
