//! SOQL text to a query: the subset
//! `SELECT fields | COUNT() FROM Object [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …]
//! [LIMIT n] [OFFSET n]`. Conditions: `= != <> < <= > >=`, `[NOT] IN (…)`, `LIKE`, `NOT`, and
//! `AND`/`OR`, which (as in SOQL) can't be mixed without parentheses.

use chrono::{DateTime, NaiveDate, Utc};

use super::time;

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        field: String,
        op: CmpOp,
        value: Lit,
    },
    In {
        field: String,
        negated: bool,
        values: Vec<Lit>,
    },
    Like {
        field: String,
        pattern: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub field: String,
    pub descending: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Count,
    Fields(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub selection: Selection,
    pub object: String,
    pub filter: Option<Cond>,
    pub order: Vec<OrderBy>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(f64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Comma,
    Open,
    Close,
    Op(CmpOp),
}

impl Token {
    fn is_word(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn show(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Str(s) => format!("'{s}'"),
            Token::Num(n) => n.to_string(),
            Token::Date(d) => d.to_string(),
            Token::DateTime(at) => time::render(*at),
            Token::Comma => ",".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Op(op) => format!("{op:?}"),
        }
    }
}

/// A MALFORMED_QUERY message.
pub type SyntaxError = String;

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN", "LIKE",
    "ASC", "DESC", "NULLS", "TRUE", "FALSE", "NULL",
];

pub fn parse(text: &str) -> Result<Query, SyntaxError> {
    let tokens = lex(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let query = parser.query()?;
    if let Some(token) = parser.peek() {
        return Err(format!("unexpected token: '{}'", token.show()));
    }
    Ok(query)
}

fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '=' => {
                tokens.push(Token::Op(CmpOp::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                tokens.push(Token::Op(CmpOp::Ne));
                i += 2;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('<', Some('>')) => (CmpOp::Ne, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    _ => (CmpOp::Gt, 1),
                };
                tokens.push(Token::Op(op));
                i += len;
            }
            '\'' => {
                let (s, next) = lex_string(&chars, i + 1)?;
                tokens.push(Token::Str(s));
                i = next;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || matches!(chars[i], '.' | ':' | '-' | '+'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(lex_number_or_date(&word)?);
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.'))
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected token: '{other}'")),
        }
    }
    Ok(tokens)
}

/// A quoted string's value (after the opening quote) and the index after its closing quote.
fn lex_string(chars: &[char], mut i: usize) -> Result<(String, usize), SyntaxError> {
    let mut value = String::new();
    while i < chars.len() {
        match chars[i] {
            '\'' => return Ok((value, i + 1)),
            '\\' => {
                let escaped = chars.get(i + 1).ok_or("unterminated string")?;
                let unescaped = match escaped {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    '\'' | '"' | '\\' => *escaped,
                    // LIKE wildcards stay escaped for the pattern matcher.
                    '%' | '_' => {
                        value.push('\\');
                        *escaped
                    }
                    other => return Err(format!("Invalid string literal escape: \\{other}")),
                };
                value.push(unescaped);
                i += 2;
            }
            c => {
                value.push(c);
                i += 1;
            }
        }
    }
    Err("unterminated string literal".into())
}

fn lex_number_or_date(word: &str) -> Result<Token, SyntaxError> {
    let looks_like_date =
        word.len() >= 10 && word.as_bytes()[4] == b'-' && word.as_bytes()[7] == b'-';
    if looks_like_date {
        if word.len() == 10 {
            return time::parse_date(word)
                .map(Token::Date)
                .ok_or_else(|| format!("line 1: invalid date: {word}"));
        }
        return time::parse_datetime(word)
            .map(Token::DateTime)
            .ok_or_else(|| format!("line 1: invalid datetime: {word}"));
    }
    word.parse::<f64>()
        .map(Token::Num)
        .map_err(|_| format!("unexpected token: '{word}'"))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<Token, SyntaxError> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or_else(|| "unexpected end of query".to_string())?;
        self.at += 1;
        Ok(token)
    }

    fn at_word(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(keyword))
    }

    fn eat_word(&mut self, keyword: &str) -> bool {
        let found = self.at_word(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_word(&mut self, keyword: &str) -> Result<(), SyntaxError> {
        if self.eat_word(keyword) {
            return Ok(());
        }
        Err(match self.peek() {
            Some(t) => format!("unexpected token: '{}', expecting {keyword}", t.show()),
            None => format!("unexpected end of query, expecting {keyword}"),
        })
    }

    fn expect(&mut self, token: Token) -> Result<(), SyntaxError> {
        let got = self.next()?;
        if got == token {
            Ok(())
        } else {
            Err(format!("unexpected token: '{}'", got.show()))
        }
    }

    /// A field or object name (not a reserved word).
    fn name(&mut self) -> Result<String, SyntaxError> {
        match self.next()? {
            Token::Word(w) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&w)) => Ok(w),
            other => Err(format!("unexpected token: '{}'", other.show())),
        }
    }

    fn count(&mut self) -> Result<usize, SyntaxError> {
        match self.next()? {
            Token::Num(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as usize),
            other => Err(format!("unexpected token: '{}'", other.show())),
        }
    }

    fn query(&mut self) -> Result<Query, SyntaxError> {
        self.expect_word("SELECT")?;
        let selection = if self.at_word("COUNT")
            && self.tokens.get(self.at + 1) == Some(&Token::Open)
            && self.tokens.get(self.at + 2) == Some(&Token::Close)
        {
            self.at += 3;
            Selection::Count
        } else {
            let mut fields = vec![self.name()?];
            while self.peek() == Some(&Token::Comma) {
                self.at += 1;
                fields.push(self.name()?);
            }
            Selection::Fields(fields)
        };
        self.expect_word("FROM")?;
        let object = self.name()?;
        let filter = if self.eat_word("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_word("ORDER") {
            self.expect_word("BY")?;
            loop {
                let field = self.name()?;
                let descending = if self.eat_word("DESC") {
                    true
                } else {
                    self.eat_word("ASC");
                    false
                };
                let nulls_last = if self.eat_word("NULLS") {
                    if self.eat_word("LAST") {
                        true
                    } else {
                        self.expect_word("FIRST")?;
                        false
                    }
                } else {
                    descending
                };
                order.push(OrderBy {
                    field,
                    descending,
                    nulls_last,
                });
                if self.peek() != Some(&Token::Comma) {
                    break;
                }
                self.at += 1;
            }
        }
        let limit = if self.eat_word("LIMIT") {
            Some(self.count()?)
        } else {
            None
        };
        let offset = if self.eat_word("OFFSET") {
            Some(self.count()?)
        } else {
            None
        };
        Ok(Query {
            selection,
            object,
            filter,
            order,
            limit,
            offset,
        })
    }

    /// Terms joined by one kind of connective: AND and OR together need parentheses.
    fn condition(&mut self) -> Result<Cond, SyntaxError> {
        let mut terms = vec![self.term()?];
        let mut connective: Option<&str> = None;
        loop {
            let this = if self.at_word("AND") {
                "AND"
            } else if self.at_word("OR") {
                "OR"
            } else {
                break;
            };
            if connective.is_some_and(|c| c != this) {
                return Err(format!(
                    "unexpected token: '{this}' (use parentheses to mix AND and OR)"
                ));
            }
            connective = Some(this);
            self.at += 1;
            terms.push(self.term()?);
        }
        Ok(match connective {
            None => terms.pop().expect("one term"),
            Some("AND") => Cond::And(terms),
            Some(_) => Cond::Or(terms),
        })
    }

    fn term(&mut self) -> Result<Cond, SyntaxError> {
        if self.eat_word("NOT") {
            return Ok(Cond::Not(Box::new(self.term()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.condition()?;
            self.expect(Token::Close)?;
            return Ok(inner);
        }
        let field = self.name()?;
        if self.eat_word("LIKE") {
            return match self.next()? {
                Token::Str(pattern) => Ok(Cond::Like { field, pattern }),
                other => Err(format!("unexpected token: '{}'", other.show())),
            };
        }
        let negated = self.eat_word("NOT");
        if negated || self.at_word("IN") {
            self.expect_word("IN")?;
            self.expect(Token::Open)?;
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Token::Comma) {
                self.at += 1;
                values.push(self.literal()?);
            }
            self.expect(Token::Close)?;
            return Ok(Cond::In {
                field,
                negated,
                values,
            });
        }
        let op = match self.next()? {
            Token::Op(op) => op,
            other => return Err(format!("unexpected token: '{}'", other.show())),
        };
        let value = self.literal()?;
        Ok(Cond::Cmp { field, op, value })
    }

    fn literal(&mut self) -> Result<Lit, SyntaxError> {
        Ok(match self.next()? {
            Token::Str(s) => Lit::Str(s),
            Token::Num(n) => Lit::Num(n),
            Token::Date(d) => Lit::Date(d),
            Token::DateTime(at) => Lit::DateTime(at),
            Token::Word(w) if w.eq_ignore_ascii_case("true") => Lit::Bool(true),
            Token::Word(w) if w.eq_ignore_ascii_case("false") => Lit::Bool(false),
            Token::Word(w) if w.eq_ignore_ascii_case("null") => Lit::Null,
            other => return Err(format!("unexpected token: '{}'", other.show())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_grammar() {
        let q = parse(
            "select Id, name FROM Account WHERE (SystemModstamp > 2026-11-25T15:04:05.000+0000 \
             OR (SystemModstamp = 2026-11-25T15:04:05Z AND Id > '001000000000001AAA')) \
             AND Industry NOT IN ('Banking', 'O\\'Neil') ORDER BY SystemModstamp ASC, Id \
             LIMIT 10",
        )
        .unwrap();
        assert_eq!(q.object, "Account");
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.order.len(), 2);
        let Some(Cond::And(terms)) = q.filter else {
            panic!("expected AND")
        };
        assert!(matches!(&terms[1], Cond::In { negated: true, values, .. }
            if values[1] == Lit::Str("O'Neil".into())));
    }

    #[test]
    fn refuses_malformed_queries() {
        for bad in [
            "SELECT FROM Account",
            "SELECT Id FROM Account WHERE Name = 'a' AND Phone = 'b' OR Id = 'c'",
            "SELECT Id FROM Account WHERE CreatedDate > 2026-11-25T15:04:05",
            "SELECT Id FROM Account WHERE Name = 'open",
            "SELECT Id FROM Account LIMIT",
            "SELECT Id FROM Account extra",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
