//! A package as a file to share or keep: its settings and tasks, and which kind of
//! connection each side was, by name only. No host, user or password leaves the workspace;
//! importing asks for the connections to use.

use serde::{Deserialize, Serialize};

use super::Mapping;

/// The file format's version.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageExport {
    /// Always `FORMAT`; a file from a later version is refused by name.
    pub lockstep_package: u32,
    pub name: String,
    pub locale: String,
    pub source: ExportedSide,
    pub target: ExportedSide,
    pub tasks: Vec<ExportedTask>,
}

/// The connection a side used, as a hint for the person importing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedSide {
    pub kind: String,
    pub connection: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedTask {
    pub source: String,
    pub target: String,
    pub source_to_target: Mapping,
    pub target_to_source: Mapping,
}

impl PackageExport {
    /// Reads an exported file; the error says where and what is wrong.
    pub fn parse(text: &str) -> Result<PackageExport, String> {
        let export: PackageExport = serde_json::from_str(text).map_err(|e| {
            format!(
                "this is not a Lockstep package file: line {}, column {}: {e}",
                e.line(),
                e.column()
            )
        })?;
        if export.lockstep_package != FORMAT {
            return Err(format!(
                "this file is version {} of the package format; this Lockstep reads version {FORMAT}",
                export.lockstep_package
            ));
        }
        if export.name.trim().is_empty() {
            return Err("the file's package has no name".into());
        }
        Ok(export)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an export serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips_and_bad_files_say_where() {
        let file = PackageExport {
            lockstep_package: FORMAT,
            name: "Customers".into(),
            locale: "invariant".into(),
            source: ExportedSide {
                kind: "postgres".into(),
                connection: "CRM".into(),
            },
            target: ExportedSide {
                kind: "mysql".into(),
                connection: "Shop".into(),
            },
            tasks: vec![ExportedTask {
                source: "customers".into(),
                target: "clients".into(),
                source_to_target: Mapping::from([(
                    "name".to_owned(),
                    super::super::FieldSource::Column("name".into()),
                )]),
                target_to_source: Mapping::new(),
            }],
        };
        assert_eq!(PackageExport::parse(&file.to_json()).unwrap(), file);
        let err =
            PackageExport::parse("{\n  \"lockstep_package\": 1,\n  \"nme\": 2\n}").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        let later = file
            .to_json()
            .replace("\"lockstep_package\": 1", "\"lockstep_package\": 2");
        assert!(
            PackageExport::parse(&later)
                .unwrap_err()
                .contains("version 2")
        );
    }
}
