//! The parameters the fast path does not name, read as rmcp reads them: as JSON values, every
//! one checked.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Any JSON value, read as `serde_json` reads a `Value` (every string unescaped, every number
/// parsed, nesting counted), but kept nowhere. rmcp reads a whole body into values first and
/// refuses it (415) for a lone surrogate escape (`"\ud800"`), a number beyond a float (`1e400`)
/// or nesting past `serde_json`'s limit anywhere in it. The envelope the fast path reads names
/// every field of the request but in `params`, whose fields it does not name (a tool's
/// arguments, kept as text until the tool reads them, and any other) are read as these, in the
/// same pass and at the same depth: passed over, they would have let such a body be answered.
pub(super) struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyValue)
    }
}

impl<'de> Visitor<'de> for AnyValue {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_unit<E: de::Error>(self) -> Result<AnyValue, E> {
        Ok(AnyValue)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<AnyValue, A::Error> {
        while items.next_element::<AnyValue>()?.is_some() {}
        Ok(AnyValue)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<AnyValue, A::Error> {
        while entries.next_key::<AnyValue>()?.is_some() {
            entries.next_value::<AnyValue>()?;
        }
        Ok(AnyValue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// JSON-ish texts: escapes (surrogates among them), numbers of any size, nesting.
    fn texts() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            "-?[0-9]{1,4}(\\.[0-9]{1,3})?([eE][-+]?[0-9]{1,4})?",
            "\"([a-z]|\\\\u[dD][89abAB][0-9a-f]{2}|\\\\u00e9|\\\\n|\\\\x)*\"",
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(|v| {
                    let entries: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", entries.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// It reads exactly the texts a `Value` reads.
        #[test]
        fn reads_what_a_value_reads(text in texts()) {
            prop_assert_eq!(
                serde_json::from_str::<AnyValue>(&text).is_ok(),
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "{}", text
            );
        }
    }

    #[test]
    fn refuses_what_rmcp_refuses_and_reads_the_rest() {
        for bad in [
            r#"{"a":"\ud800"}"#,
            r#"{"a":1e400}"#,
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
            r#"{"a":1,}"#,
        ] {
            assert!(serde_json::from_str::<AnyValue>(bad).is_err(), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
        }
        for good in [r#"{"a":"\ud83d\ude00","a":[1.5e3,-2,null,true,{}]}"#, "[]"] {
            assert!(serde_json::from_str::<AnyValue>(good).is_ok(), "{good}");
        }
    }
}
