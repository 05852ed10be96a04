//! Reading a request's path ids, query and body into problem answers that name the field,
//! instead of the framework's plain-text rejections.

use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::problem::Problem;

/// An id from the path; one that is not an id cannot exist (404).
pub fn id(text: &str) -> Result<Uuid, Problem> {
    text.parse().map_err(|_| Problem::not_found())
}

/// The query string as `T`; a bad parameter is a 422 naming it.
pub fn query<T: DeserializeOwned + Default>(raw: Option<&str>) -> Result<T, Problem> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(T::default());
    };
    serde_urlencoded::from_str(raw).map_err(|e| {
        let text = e.to_string();
        // serde_urlencoded names the parameter in its message when it can.
        let field = text
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .unwrap_or_else(|| "query".to_owned());
        Problem::invalid(field, format!("a query parameter is not valid: {text}"))
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
