//! The subset of the Logs Insights query language the saved queries use, parsed and evaluated
//! over log lines as Logs Insights sees them.

use regex::Regex;
use serde_json::Value;

use crate::observability::queries::{QUERIES, saved_queries};
use crate::observability::stack::Stack;

/// One condition of a `filter` command.
#[derive(Debug)]
enum Term {
    /// `field like /regex/`
    Like(String, Regex),
    /// `field = "text"`
    Equals(String, String),
}

/// The parts of a saved query these checks evaluate.
#[derive(Debug)]
pub(super) struct Query {
    /// The `fields` command's fields.
    pub(super) fields: Vec<String>,
    /// The `filter` command: terms joined by `or`.
    filter: Vec<Term>,
    /// Fields a `stats` command groups by or aggregates.
    pub(super) stats_fields: Vec<String>,
}

/// Parses the subset of the Logs Insights language the saved queries use: one command per
/// line, `fields a, b`, `filter x like /re/ or y = "v"`, `stats f(x) ... by y`, `sort`, `limit`.
pub(super) fn parse(name: &str, text: &str) -> Query {
    let mut query = Query {
        fields: Vec::new(),
        filter: Vec::new(),
        stats_fields: Vec::new(),
    };
    let like = Regex::new(r#"^([@\w.]+) like /((?:[^/\\]|\\.)*)/$"#).unwrap();
    let equals = Regex::new(r#"^([@\w.]+) = "([^"]*)"$"#).unwrap();
    let stats_field = Regex::new(r"\((\w+)\)|\bby (?:bin\(\w+\)|(\w+))").unwrap();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let command = if i == 0 {
            line
        } else {
            line.strip_prefix("| ")
                .unwrap_or_else(|| panic!("{name}: one command per line, after `| `: {line}"))
        };
        let (verb, rest) = command.split_once(' ').unwrap();
        match verb {
            "fields" => query.fields = rest.split(", ").map(String::from).collect(),
            "filter" => {
                // Split on ` or ` outside a /regex/.
                let mut terms = Vec::new();
                let (mut current, mut in_regex) = (String::new(), false);
                for c in rest.chars() {
                    if c == '/' && !current.ends_with('\\') {
                        in_regex = !in_regex;
                    }
                    current.push(c);
                    if !in_regex && current.ends_with(" or ") {
                        terms.push(current.trim_end_matches(" or ").to_string());
                        current.clear();
                    }
                }
                terms.push(current);
                for term in terms {
                    assert!(
                        !term.contains(" and "),
                        "{name}: only `or` is evaluated here: {term}"
                    );
                    query.filter.push(if let Some(c) = like.captures(&term) {
                        Term::Like(c[1].to_string(), Regex::new(&c[2]).unwrap())
                    } else if let Some(c) = equals.captures(&term) {
                        Term::Equals(c[1].to_string(), c[2].to_string())
                    } else {
                        panic!("{name}: cannot read the condition {term:?}")
                    });
                }
            }
            "stats" => {
                for c in stats_field.captures_iter(rest) {
                    if let Some(f) = c.get(1).or(c.get(2)) {
                        query.stats_fields.push(f.as_str().to_string());
                    }
                }
            }
            "sort" | "limit" => {}
            other => panic!("{name}: command {other} is not evaluated here"),
        }
    }
    assert!(!query.filter.is_empty(), "{name}: has a filter");
    query
}

/// A log line as Logs Insights sees it: `@message` is the whole line, JSON keys are fields.
pub(super) struct Line {
    pub(super) raw: String,
    pub(super) json: Value,
}

impl Line {
    pub(super) fn field(&self, name: &str) -> Option<String> {
        if name == "@message" {
            return Some(self.raw.clone());
        }
        match self.json.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub(super) fn message(&self) -> String {
        self.field("message").unwrap_or_default()
    }

    pub(super) fn is_emf(&self) -> bool {
        self.json.get("_aws").is_some()
    }
}

impl Query {
    pub(super) fn matches(&self, line: &Line) -> bool {
        self.filter.iter().any(|term| match term {
            Term::Like(field, re) => line.field(field).is_some_and(|v| re.is_match(&v)),
            Term::Equals(field, value) => line.field(field).as_deref() == Some(value.as_str()),
        })
    }
}

pub(super) fn line(raw: &str) -> Line {
    Line {
        raw: raw.to_string(),
        json: serde_json::from_str(raw).unwrap_or(Value::Null),
    }
}

/// The plain template's four queries, parsed.
pub(super) fn queries(settings: &Value) -> Vec<(String, Query)> {
    let plain = Stack::plain(settings);
    saved_queries(&plain)
        .into_iter()
        .map(|(name, text)| {
            let query = parse(&name, &text);
            (name, query)
        })
        .collect()
}

pub(super) fn query<'a>(all: &'a [(String, Query)], name: &str) -> &'a Query {
    assert!(QUERIES.contains(&name));
    &all.iter().find(|(n, _)| n == name).unwrap().1
}
