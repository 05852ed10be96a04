//! A table named by the user: `table`, `schema.table`, or with double quotes around names
//! that contain dots, spaces or quotes (`"my schema"."order ""lines"""`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableRef {
    pub schema: Option<String>,
    pub name: String,
}

impl TableRef {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        TableRef {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    pub fn parse(text: &str) -> Result<TableRef, String> {
        let parts = split_quoted(text.trim())?;
        match parts.as_slice() {
            [name] => Ok(TableRef {
                schema: None,
                name: name.clone(),
            }),
            [schema, name] => Ok(TableRef {
                schema: Some(schema.clone()),
                name: name.clone(),
            }),
            _ => Err(format!(
                "“{text}” is not a table name: use table or schema.table, with double quotes around names that contain dots"
            )),
        }
    }
}

fn split_quoted(text: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => {
                        return Err(format!("“{text}” has a double quote that is never closed"));
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return Err(format!(
                        "“{text}”: put double quotes around a whole name, not inside it"
                    ));
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(format!("“{text}” has an empty name part"));
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some('.') => continue,
            Some(c) => return Err(format!("“{text}”: unexpected “{c}” after a quoted name")),
        }
    }
}

fn needs_quotes(name: &str) -> bool {
    name.contains(['.', '"']) || name.trim() != name
}

fn write_part(f: &mut fmt::Formatter<'_>, part: &str) -> fmt::Result {
    if needs_quotes(part) {
        write!(f, "\"{}\"", part.replace('"', "\"\""))
    } else {
        f.write_str(part)
    }
}

impl fmt::Display for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write_part(f, schema)?;
            f.write_str(".")?;
        }
        write_part(f, &self.name)
    }
}

impl Serialize for TableRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TableRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TableRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_qualified_names() {
        assert_eq!(
            TableRef::parse("customers").unwrap(),
            TableRef::new(None, "customers")
        );
        assert_eq!(
            TableRef::parse("public.customers").unwrap(),
            TableRef::new(Some("public"), "customers")
        );
    }

    #[test]
    fn quoted_names_keep_dots_spaces_and_quotes_and_round_trip() {
        let t = TableRef::parse(r#""my schema"."order ""lines"".v2""#).unwrap();
        assert_eq!(t, TableRef::new(Some("my schema"), r#"order "lines".v2"#));
        assert_eq!(TableRef::parse(&t.to_string()).unwrap(), t);
        let unicode = TableRef::parse("crm.Kundenübersicht").unwrap();
        assert_eq!(unicode.to_string(), "crm.Kundenübersicht");
    }

    #[test]
    fn malformed_names_say_what_is_wrong() {
        assert!(
            TableRef::parse("a.b.c")
                .unwrap_err()
                .contains("schema.table")
        );
        assert!(
            TableRef::parse(r#""open"#)
                .unwrap_err()
                .contains("never closed")
        );
        assert!(TableRef::parse("a..b").unwrap_err().contains("empty"));
    }
}
