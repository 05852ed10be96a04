//! Reads a table's columns and key from `information_schema` and checks the sync requirements.

use sha2::{Digest, Sha256};
use sqlx::MySqlPool;

use super::super::{
    ColumnInfo, ConnectorError, ForeignKey, KeyGeneration, Purpose, Result, TableSchema,
};
use super::quote;
use crate::connectors::sql_error::classify;
use crate::package::TableRef;
use crate::value::ColumnType;

fn requirement(message: String) -> ConnectorError {
    ConnectorError::Requirement(message)
}

struct ColumnRow {
    name: String,
    data_type: String,
    column_type: String,
    nullable: bool,
    default: Option<String>,
    extra: String,
    max_chars: Option<u64>,
    precision: Option<u64>,
    scale: Option<u64>,
}

fn column_type(c: &ColumnRow) -> ColumnType {
    let unsigned = c.column_type.contains("unsigned");
    let int = |bits| ColumnType::Int { bits, unsigned };
    match c.data_type.as_str() {
        "tinyint" if c.column_type.starts_with("tinyint(1)") => ColumnType::Bool,
        "bit" if c.column_type == "bit(1)" => ColumnType::Bool,
        // BIT(n) as the number its bits spell (read and written as an unsigned integer).
        "bit" => ColumnType::Int {
            bits: 64,
            unsigned: true,
        },
        "bool" | "boolean" => ColumnType::Bool,
        "tinyint" => int(8),
        "smallint" => int(16),
        "mediumint" => int(24),
        "int" | "integer" => int(32),
        "bigint" => int(64),
        "decimal" | "numeric" => ColumnType::Decimal {
            precision: c.precision.map(|p| p as u32),
            scale: c.scale.map(|s| s as u32),
        },
        "float" | "double" | "real" => ColumnType::Float,
        "char" | "varchar" => ColumnType::Text {
            max_chars: c.max_chars.map(|m| m as u32),
        },
        "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            ColumnType::Text { max_chars: None }
        }
        "json" => ColumnType::Json,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ColumnType::Bytes {
                max_bytes: c
                    .max_chars
                    .filter(|_| c.data_type.ends_with("binary"))
                    .map(|m| m as u32),
            }
        }
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "datetime" | "timestamp" => ColumnType::Timestamp,
        "uuid" => ColumnType::Uuid,
        _ => ColumnType::Other(c.column_type.clone()),
    }
}

pub async fn describe(pool: &MySqlPool, table: &TableRef, purpose: Purpose) -> Result<TableSchema> {
    let database: String = match &table.schema {
        Some(s) => s.clone(),
        None => sqlx::query_scalar::<_, Option<String>>("SELECT DATABASE()")
            .fetch_one(pool)
            .await
            .map_err(classify)?
            .ok_or_else(|| {
                requirement("the connection URL names no database: add /database to it".into())
            })?,
    };
    // information_schema columns are cast to CHAR: MariaDB reports some as binary strings.
    type Columns = Vec<(
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<u64>,
        Option<u64>,
        Option<u64>,
    )>;
    let rows: Columns = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR),
                CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR),
                CAST(CHARACTER_MAXIMUM_LENGTH AS UNSIGNED), CAST(NUMERIC_PRECISION AS UNSIGNED), CAST(NUMERIC_SCALE AS UNSIGNED)
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(&database)
    .bind(&table.name)
    .fetch_all(pool)
    .await
    .map_err(classify)?;
    let table = TableRef {
        schema: Some(database.clone()),
        name: table.name.clone(),
    };
    if rows.is_empty() {
        return Err(requirement(format!(
            "table {table} does not exist in this MySQL/MariaDB server. Check the spelling (names may be case-sensitive) \
             and write database.table for tables outside the connection's database"
        )));
    }
    let key_columns: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
    )
    .bind(&database)
    .bind(&table.name)
    .fetch_all(pool)
    .await
    .map_err(classify)?;
    let key = match key_columns.as_slice() {
        // A looked-up table is only searched by its columns: any key will do.
        [] if purpose == Purpose::Lookup => String::new(),
        [one, ..] if purpose == Purpose::Lookup => one.clone(),
        [] => {
            return Err(requirement(format!(
                "table {table} has no primary key. Sync needs a single-column primary key generated by the database, \
                 e.g. ALTER TABLE {} ADD COLUMN id BIGINT AUTO_INCREMENT PRIMARY KEY",
                quote(&table.name)
            )));
        }
        [one] => one.clone(),
        many => {
            return Err(requirement(format!(
                "table {table} has a composite primary key ({}); sync needs a single-column primary key generated by the database",
                many.join(", ")
            )));
        }
    };

    let mut columns = Vec::new();
    let mut key_generation = None;
    for (
        name,
        data_type,
        column_type_text,
        nullable,
        default,
        extra,
        max_chars,
        precision,
        scale,
    ) in rows
    {
        let c = ColumnRow {
            name,
            data_type: data_type.to_lowercase(),
            column_type: column_type_text.to_lowercase(),
            nullable: nullable == "YES",
            default,
            extra: extra.to_lowercase(),
            max_chars,
            precision,
            scale,
        };
        if c.extra.contains("virtual generated") || c.extra.contains("stored generated") {
            continue;
        }
        let ty = column_type(&c);
        if c.name == key && purpose == Purpose::Sync {
            let integer = matches!(ty, ColumnType::Int { .. });
            if !integer && ty != ColumnType::Uuid {
                return Err(requirement(format!(
                    "the primary key {table}.{} is of type {}; sync supports generated integer or uuid keys",
                    c.name, c.column_type
                )));
            }
            key_generation = if integer && c.extra.contains("auto_increment") {
                Some(KeyGeneration::AutoIncrement)
            } else if ty == ColumnType::Uuid && c.default.is_some() {
                Some(KeyGeneration::UuidDefault)
            } else {
                None
            };
            if key_generation.is_none() {
                return Err(requirement(format!(
                    "the primary key {table}.{} is assigned by the application, not generated by the database. \
                     Make it generated, e.g. ALTER TABLE {} MODIFY {} {} NOT NULL AUTO_INCREMENT",
                    c.name,
                    quote(&table.name),
                    quote(&c.name),
                    c.column_type
                )));
            }
        }
        let has_default = c.default.is_some()
            || c.extra.contains("auto_increment")
            || c.extra.contains("default_generated");
        columns.push(ColumnInfo {
            name: c.name,
            nullable: c.nullable,
            has_default,
            db_type: c.column_type,
            writable: true,
            ty,
        });
    }
    // Single-column foreign keys (a composite one cannot be a relation between two keys).
    let references: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_SCHEMA AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR),
                CAST(k.REFERENCED_COLUMN_NAME AS CHAR)
         FROM information_schema.KEY_COLUMN_USAGE k
         WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
           AND (SELECT count(*) FROM information_schema.KEY_COLUMN_USAGE o
                 WHERE o.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND o.TABLE_NAME = k.TABLE_NAME
                   AND o.CONSTRAINT_NAME = k.CONSTRAINT_NAME) = 1
         ORDER BY k.CONSTRAINT_NAME",
    )
    .bind(&database)
    .bind(&table.name)
    .fetch_all(pool)
    .await
    .map_err(classify)?;
    let foreign_keys = references
        .into_iter()
        .map(|(column, schema, name, referenced)| ForeignKey {
            column,
            references: TableRef {
                schema: Some(schema),
                name,
            },
            referenced_column: Some(referenced),
        })
        .collect();
    let digest = Sha256::digest(format!("{database}.{}", table.name).as_bytes());
    Ok(TableSchema {
        table,
        columns,
        key,
        key_generation: match purpose {
            Purpose::Sync => key_generation.expect("the key column is among the columns"),
            Purpose::Lookup => key_generation.unwrap_or(KeyGeneration::Vendor),
        },
        log_name: format!("table{}", &hex::encode(digest)[..16]),
        foreign_keys,
    })
}
