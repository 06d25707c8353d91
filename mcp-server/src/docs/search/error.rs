//! Why a search could not run, and what the caller is told: each refusal says how to ask.

use std::fmt;

use super::{MAX_QUERY_CHARS, MAX_QUERY_NESTING};

/// Why a search could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchError {
    /// Nothing searchable in the query (empty, punctuation, or only stop words).
    EmptyQuery,
    /// More than [`MAX_QUERY_CHARS`] characters (how many it had).
    QueryTooLong(usize),
    /// Brackets nested deeper than [`MAX_QUERY_NESTING`].
    QueryTooNested,
    /// The query parsed but names something the index lacks (a field, say).
    BadQuery(String),
    /// The query has a syntax error (an unclosed quote or bracket, an operator with nothing
    /// after it), and what the lenient parse could read of it matches nothing.
    Unparsed,
    /// A `version` or `language` the corpus does not have (what was asked, what exists).
    UnknownVariant(String),
    /// The engine failed (an internal error, not the caller's).
    Engine(String),
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchError::EmptyQuery => write!(
                f,
                "the query has no searchable words; ask with a few keywords, e.g. \"idle timeout\""
            ),
            SearchError::QueryTooLong(chars) => write!(
                f,
                "the query has {chars} characters; at most {MAX_QUERY_CHARS} are allowed: ask with a few keywords"
            ),
            SearchError::QueryTooNested => write!(
                f,
                "the query nests brackets more than {MAX_QUERY_NESTING} deep; ask with plain keywords"
            ),
            SearchError::BadQuery(why) => write!(
                f,
                "the query cannot run ({why}); ask with plain keywords or a \"quoted phrase\""
            ),
            SearchError::Unparsed => write!(
                f,
                "the query does not parse (an unclosed quote or bracket, or an operator with nothing after it) and what could be read of it matches nothing; ask with plain keywords or a \"quoted phrase\""
            ),
            SearchError::UnknownVariant(why) => write!(f, "{why}"),
            SearchError::Engine(error) => write!(f, "search failed: {error}"),
        }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Engine(error.to_string())
    }
}
