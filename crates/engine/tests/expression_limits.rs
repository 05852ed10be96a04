//! Expressions are user input evaluated inside the server: thousands of generated ones —
//! nested calls, huge literals and results, deep nesting, loops, closures, and functions
//! that are not there — are compiled and evaluated, and none may panic, abort, take longer
//! than its time limit or make a value larger than the text limit. Seeded (`EXPR_SEED` picks
//! another seed).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use engine::connectors::{ColumnInfo, KeyGeneration, Row, TableSchema};
use engine::mapping::expression::Expression;
use engine::mapping::expression::limits::{MAX_TEXT_BYTES, TIME_LIMIT};
use engine::mapping::locale::Locale;
use engine::package::TableRef;
use engine::value::{ColumnType, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const GENERATED: usize = 10_000;

fn column(name: &str, ty: ColumnType) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        ty,
        nullable: true,
        has_default: false,
        db_type: "test".into(),
        writable: true,
    }
}

fn schema() -> TableSchema {
    let int = ColumnType::Int {
        bits: 64,
        unsigned: false,
    };
    TableSchema {
        table: TableRef::parse("t").unwrap(),
        columns: vec![
            column("id", int.clone()),
            column("name", ColumnType::Text { max_chars: None }),
            column("big", ColumnType::Text { max_chars: None }),
            column("n", int),
            column(
                "price",
                ColumnType::Decimal {
                    precision: None,
                    scale: None,
                },
            ),
            column("at", ColumnType::Timestamp),
            column("on", ColumnType::Date),
            column("nothing", ColumnType::Text { max_chars: None }),
            column("First Name", ColumnType::Text { max_chars: None }),
        ],
        key: "id".into(),
        key_generation: KeyGeneration::Identity,
        log_name: String::new(),
        foreign_keys: Vec::new(),
    }
}

fn row() -> Row {
    let at = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    Row::from([
        ("id".into(), Value::Int(7)),
        ("name".into(), Value::Text("  Ann Émile  ".into())),
        ("big".into(), Value::Text("ab".repeat(100_000))),
        ("n".into(), Value::Int(i64::MAX)),
        ("price".into(), Value::Decimal("12.50".into())),
        (
            "at".into(),
            Value::Timestamp(at.and_hms_opt(9, 30, 0).unwrap()),
        ),
        ("on".into(), Value::Date(at)),
        ("nothing".into(), Value::Null),
        ("First Name".into(), Value::Text("Zoë".into())),
    ])
}

/// Generates expressions from the language's grammar, biased towards what costs the most.
struct Generator {
    rng: StdRng,
}

const TEXT_FUNCTIONS: &[(&str, usize)] = &[
    ("upper", 1),
    ("lower", 1),
    ("trim", 1),
    ("to_upper", 1),
    ("to_text", 1),
    ("left", 2),
    ("right", 2),
    ("replace_all", 3),
    ("concat", 2),
    ("coalesce", 2),
    ("sub_string", 3),
    ("sub_string", 2),
    ("split", 2),
    ("index_of", 2),
    ("contains", 2),
    ("len", 1),
    ("to_int", 1),
    ("to_decimal", 1),
    ("parse_date", 1),
    ("parse_timestamp", 1),
    ("format", 2),
    ("add_days", 2),
    ("add_hours", 2),
    ("add_minutes", 2),
    ("year", 1),
    ("date", 1),
    ("days_between", 2),
    ("seconds_between", 2),
    ("is_null", 1),
    // Not part of the language: must be refused, never run.
    ("sleep", 1),
    ("eval", 1),
    ("pad", 3),
    ("blob", 1),
    ("exit", 0),
    ("parse_json", 1),
];

impl Generator {
    fn atom(&mut self) -> String {
        match self.rng.gen_range(0..14) {
            0 => "name".into(),
            1 => "big".into(),
            2 => "n".into(),
            3 => "price".into(),
            4 => "at".into(),
            5 => "on".into(),
            6 => "nothing".into(),
            7 => "row[\"First Name\"]".into(),
            8 => format!("{}", self.number()),
            9 => format!("{:?}", self.text()),
            10 => "\"%Y-%m-%d %H:%M:%S %z\"".into(),
            11 => "()".into(),
            12 => format!(
                "{}.{}",
                self.rng.gen_range(-99..99),
                self.rng.gen_range(0..99)
            ),
            _ => "\"\"".into(),
        }
    }

    fn number(&mut self) -> i64 {
        match self.rng.gen_range(0..6) {
            0 => i64::MAX,
            1 => i64::MIN + 1,
            2 => self.rng.gen_range(-3..3),
            3 => 1_000_000_000_000,
            _ => self.rng.gen_range(-10_000..10_000),
        }
    }

    fn text(&mut self) -> String {
        let len = match self.rng.gen_range(0..10) {
            0 => self.rng.gen_range(1_000..12_000),
            _ => self.rng.gen_range(0..8),
        };
        let pool = ['a', 'b', 'É', 'ß', ' ', '%', 'Y', '-', 'ﬃ'];
        (0..len)
            .map(|_| pool[self.rng.gen_range(0..pool.len())])
            .collect()
    }

    fn expression(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.atom();
        }
        match self.rng.gen_range(0..12) {
            0..=4 => {
                let (name, arity) = TEXT_FUNCTIONS[self.rng.gen_range(0..TEXT_FUNCTIONS.len())];
                let args: Vec<String> = (0..arity).map(|_| self.expression(depth - 1)).collect();
                format!("{name}({})", args.join(", "))
            }
            5 => {
                let op = ["+", "-", "*", "/", "%", "**", "==", "<", "&&", "in"]
                    [self.rng.gen_range(0..10)];
                format!(
                    "({} {op} {})",
                    self.expression(depth - 1),
                    self.expression(depth - 1)
                )
            }
            6 => format!(
                "if {} {{ {} }} else {{ {} }}",
                self.expression(depth - 1),
                self.expression(depth - 1),
                self.expression(depth - 1)
            ),
            7 => format!(
                "[{}, {}]",
                self.expression(depth - 1),
                self.expression(depth - 1)
            ),
            8 => format!("{}.len()", self.expression(depth - 1)),
            9 => {
                // The amplifier of the original finding: each level multiplies the size.
                let mut e = self.expression(depth - 1);
                for _ in 0..self.rng.gen_range(1..30) {
                    e = format!("replace_all({e}, \"a\", \"aaaaaaaaaaaaaaaa\")");
                }
                e
            }
            10 => format!(
                "split({}, \"\")[{}]",
                self.expression(depth - 1),
                self.number()
            ),
            _ => self.atom(),
        }
    }
}

/// Hand-written attempts that each once had, or could have had, a cost without bound.
fn attacks() -> Vec<String> {
    // About 370 characters asking for a terabyte, as in the original finding.
    let mut nested = "\"ab\"".to_owned();
    for _ in 0..12 {
        nested = format!("replace_all({nested},\"a\",\"aaaaaaaaaa\")");
    }
    vec![
        nested,
        "loop { }".into(),
        "while true { }".into(),
        "{ let x = 1; x }".into(),
        "(|c| c + c).call(big)".into(),
        "sleep(100000)".into(),
        "eval(\"1\")".into(),
        "exit()".into(),
        "big.pad(1000000000, \"x\")".into(),
        "[big].pad(1000000000, 1)".into(),
        "blob(1000000000)".into(),
        "big.to_chars()".into(),
        "split(big, \"\").len()".into(),
        "format(at, \"%z\")".into(),
        format!("format(at, {:?})", "%Y".repeat(5_000)),
        "add_days(at, 9223372036854775807)".into(),
        "add_days(on, -9223372036854775807)".into(),
        "add_minutes(at, 9223372036854775807)".into(),
        "sub_string(big, -9223372036854775807, 9223372036854775807)".into(),
        "left(big, -1) + right(big, 9223372036854775807)".into(),
        "n + 1".into(),
        "n * n".into(),
        "2 ** 4000".into(),
        "price ** 400".into(),
        "to_decimal(big)".into(),
        format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("\"{}\"", "x".repeat(20_000)),
        format!("[{}]", ["big + big"; 400].join(", ")),
        "concat(concat(big, big), big)".into(),
        format!("{}big{}", "upper(concat(big, ".repeat(60), "))".repeat(60)),
    ]
}

struct Outcome {
    compiled: bool,
    ok: bool,
    took: Duration,
}

fn run(text: &str, schema: &TableSchema, row: &Row) -> Outcome {
    if std::env::var_os("EXPR_TRACE").is_some() {
        eprintln!("{text:.200}");
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        let Ok(expression) = Expression::compile(text, schema) else {
            return (false, false, Duration::ZERO);
        };
        let started = Instant::now();
        let value = expression.evaluate(row, Locale::Invariant);
        let took = started.elapsed();
        if let Ok(Value::Text(s) | Value::Json(serde_json::Value::String(s))) = &value {
            assert!(
                s.len() <= MAX_TEXT_BYTES,
                "{} bytes from {text:.200}",
                s.len()
            );
        }
        (true, value.is_ok(), took)
    }));
    match result {
        Ok((compiled, ok, took)) => Outcome { compiled, ok, took },
        Err(_) => panic!("evaluating {text:.300} panicked"),
    }
}

/// Wall-clock limit plus the last step's own time on a slow, shared machine.
fn allowed() -> Duration {
    TIME_LIMIT * 2 + Duration::from_millis(500)
}

#[test]
fn no_expression_panics_or_exceeds_its_limits() {
    let seed = std::env::var("EXPR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261128);
    let schema = schema();
    let row = row();
    let mut generator = Generator {
        rng: StdRng::seed_from_u64(seed),
    };
    let mut texts: Vec<String> = attacks();
    texts.extend((0..GENERATED).map(|_| {
        let depth = generator.rng.gen_range(1..6);
        generator.expression(depth)
    }));

    let started = Instant::now();
    let (mut compiled, mut ok, mut slowest) = (0, 0, (Duration::ZERO, String::new()));
    for text in &texts {
        let outcome = run(text, &schema, &row);
        compiled += usize::from(outcome.compiled);
        ok += usize::from(outcome.ok);
        assert!(
            outcome.took <= allowed(),
            "{text:.300} took {:?} (limit {TIME_LIMIT:?})",
            outcome.took
        );
        if outcome.took > slowest.0 {
            slowest = (outcome.took, text.chars().take(120).collect());
        }
    }
    println!(
        "seed {seed}: {} expressions in {:.1} s — {compiled} compiled, {ok} evaluated to a value, slowest {:?}: {}",
        texts.len(),
        started.elapsed().as_secs_f64(),
        slowest.0,
        slowest.1
    );
    assert!(texts.len() > GENERATED);
    // The generator must exercise evaluation, not only the parser's refusals.
    assert!(compiled > GENERATED / 2, "only {compiled} compiled");
    assert!(ok > GENERATED / 10, "only {ok} evaluated");
}

#[test]
fn the_attacks_are_refused_with_a_message_naming_the_limit() {
    let schema = schema();
    let row = row();
    let message = |text: &str| -> String {
        match Expression::compile(text, &schema) {
            Err(e) => format!("compile: {e}"),
            Ok(e) => match e.evaluate(&row, Locale::Invariant) {
                Err(e) => format!("evaluate: {e}"),
                Ok(v) => format!("value: {v:?}"),
            },
        }
    };
    let nested = attacks().remove(0);
    assert!(
        message(&nested).contains("replace_all() would make a text of"),
        "{}",
        message(&nested)
    );
    // Not in the language: refused at once (Rhai resolves functions when it calls them).
    assert!(
        message("sleep(100000)").contains("Function not found: sleep"),
        "{}",
        message("sleep(100000)")
    );
    assert!(message("loop { }").starts_with("compile:"));
    assert!(message("(|c| c + c).call(big)").starts_with("compile:"));
    let long = format!("\"{}\"", "x".repeat(20_000));
    assert!(
        message(&long).contains("at most 10000 are allowed"),
        "{}",
        message(&long)
    );
    assert!(
        message("add_days(at, 9223372036854775807)").contains("out of the range of dates"),
        "{}",
        message("add_days(at, 9223372036854775807)")
    );
    assert!(message("format(at, \"%z\")").starts_with("evaluate:"));
    // Values held while others are computed add up against one budget per evaluation.
    // Nine texts of 4 MB each, all held at once as arguments: none is too long by itself.
    let four_mb = "replace_all(big, \"a\", \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\")";
    let many = (0..9).fold("\"\"".to_owned(), |inner, _| {
        format!("coalesce({four_mb}, {inner})")
    });
    assert!(
        message(&many).contains("more than 32 MB of text"),
        "{}",
        message(&many)
    );
    // What people write keeps working.
    assert_eq!(
        message("upper(trim(name)) + \" (\" + n + \")\""),
        format!("value: Text(\"ANN ÉMILE ({})\")", i64::MAX)
    );
    assert_eq!(message("row[\"First Name\"].len()"), "value: Int(3)");
    assert_eq!(
        message("sub_string(\"abcdef\", 1, 3)"),
        "value: Text(\"bcd\")"
    );
    assert_eq!(message("split(\"a,b,c\", \",\")[1]"), "value: Text(\"b\")");
}
