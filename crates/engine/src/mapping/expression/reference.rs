//! The functions an expression can call, as the task editor lists them: a signature, what it
//! does, and an example that the tests evaluate (so the list never names a function the
//! library lacks).

/// One function of the expression library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionDoc {
    pub signature: &'static str,
    pub summary: &'static str,
    pub example: &'static str,
}

const fn doc(signature: &'static str, summary: &'static str, example: &'static str) -> FunctionDoc {
    FunctionDoc {
        signature,
        summary,
        example,
    }
}

/// Every function, grouped: null and conversion, text, dates.
pub const FUNCTIONS: &[FunctionDoc] = &[
    doc("is_null(x)", "true when x is null", "is_null(())"),
    doc(
        "coalesce(a, b)",
        "a, or b when a is null",
        "coalesce((), \"none\")",
    ),
    doc(
        "to_text(x)",
        "x as text, in the package's locale",
        "to_text(42)",
    ),
    doc(
        "to_int(text)",
        "a whole number read from text",
        "to_int(\" 42 \")",
    ),
    doc(
        "to_decimal(text)",
        "a decimal number read from text",
        "to_decimal(\"3.50\")",
    ),
    doc(
        "a + b",
        "text joined (null adds nothing); numbers added",
        "\"Dr. \" + \"Who\"",
    ),
    doc("concat(a, b)", "a and b joined as text", "concat(\"A\", 1)"),
    doc("upper(text)", "upper case", "upper(\"abc\")"),
    doc("lower(text)", "lower case", "lower(\"ABC\")"),
    doc(
        "trim(text)",
        "without surrounding spaces",
        "trim(\"  a  \")",
    ),
    doc(
        "left(text, n)",
        "the first n characters",
        "left(\"abcdef\", 3)",
    ),
    doc(
        "right(text, n)",
        "the last n characters",
        "right(\"abcdef\", 2)",
    ),
    doc(
        "sub_string(text, start, len)",
        "len characters from start (0-based; negative counts from the end)",
        "sub_string(\"abcdef\", 1, 3)",
    ),
    doc(
        "replace_all(text, from, to)",
        "every from replaced by to",
        "replace_all(\"a-b-c\", \"-\", \"/\")",
    ),
    doc("len(text)", "the number of characters", "len(\"héllo\")"),
    doc("is_empty(text)", "true for \"\"", "is_empty(\"\")"),
    doc(
        "contains(text, part)",
        "true when part occurs in text",
        "contains(\"abc\", \"b\")",
    ),
    doc(
        "starts_with(text, part)",
        "true when text starts with part",
        "starts_with(\"abc\", \"a\")",
    ),
    doc(
        "ends_with(text, part)",
        "true when text ends with part",
        "ends_with(\"abc\", \"c\")",
    ),
    doc(
        "index_of(text, part)",
        "where part starts (characters), or -1",
        "index_of(\"abc\", \"c\")",
    ),
    doc(
        "split(text, delimiter)",
        "a list of the pieces; [i] picks one",
        "split(\"a,b\", \",\")[1]",
    ),
    doc(
        "parse_timestamp(text)",
        "a timestamp read from text",
        "parse_timestamp(\"2024-05-01 10:30:00\")",
    ),
    doc(
        "parse_date(text)",
        "a date read from YYYY-MM-DD",
        "parse_date(\"2024-05-01\")",
    ),
    doc(
        "format(t, pattern)",
        "a date or timestamp as text (strftime pattern)",
        "format(parse_date(\"2024-05-01\"), \"%d.%m.%Y\")",
    ),
    doc(
        "add_days(t, n)",
        "n days later (negative: earlier)",
        "add_days(parse_date(\"2024-05-01\"), 30)",
    ),
    doc(
        "add_hours(t, n)",
        "n hours later",
        "add_hours(parse_timestamp(\"2024-05-01 10:00:00\"), 2)",
    ),
    doc(
        "add_minutes(t, n)",
        "n minutes later",
        "add_minutes(parse_timestamp(\"2024-05-01 10:00:00\"), 90)",
    ),
    doc(
        "date(timestamp)",
        "the timestamp's date",
        "date(parse_timestamp(\"2024-05-01 10:00:00\"))",
    ),
    doc(
        "at_midnight(date)",
        "the date's timestamp at 00:00",
        "at_midnight(parse_date(\"2024-05-01\"))",
    ),
    doc(
        "year(t), month(t), day(t)",
        "parts of a date or timestamp",
        "year(parse_date(\"2024-05-01\"))",
    ),
    doc(
        "seconds_between(a, b)",
        "b − a in seconds (timestamps)",
        "seconds_between(parse_timestamp(\"2024-05-01 10:00:00\"), parse_timestamp(\"2024-05-01 10:01:00\"))",
    ),
    doc(
        "days_between(a, b)",
        "b − a in days (dates)",
        "days_between(parse_date(\"2024-05-01\"), parse_date(\"2024-05-31\"))",
    ),
    doc(
        "if c { a } else { b }",
        "a when c holds, else b",
        "if 1 > 2 { \"yes\" } else { \"no\" }",
    ),
];

#[cfg(test)]
mod tests {
    use super::FUNCTIONS;
    use crate::connectors::{KeyGeneration, Row, TableSchema};
    use crate::mapping::expression::Expression;
    use crate::mapping::locale::Locale;
    use crate::package::TableRef;

    #[test]
    fn every_listed_function_exists_and_its_example_evaluates() {
        let table = TableSchema {
            table: TableRef::parse("t").unwrap(),
            columns: Vec::new(),
            key: "id".into(),
            key_generation: KeyGeneration::Identity,
            log_name: String::new(),
            foreign_keys: Vec::new(),
        };
        for f in FUNCTIONS {
            let expression = Expression::compile(f.example, &table)
                .unwrap_or_else(|e| panic!("{}: {e}", f.example));
            if let Err(e) = expression.evaluate(&Row::new(), Locale::default()) {
                panic!("{} ({}): {e}", f.signature, f.example);
            }
        }
    }
}
