//! What `/mcp` reads of a JSON-RPC body before rmcp does: its id and method (to cap sessions and
//! know how a stream ends) and the shape of `params.arguments`, without building the values.

use serde::Deserialize;
use serde_json::Value;

/// The fields of a JSON-RPC message this layer needs; rmcp parses the rest.
#[derive(Deserialize)]
pub struct Peek {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub params: ParamsShape,
}

/// Whether `params.arguments` is present and not an object (rmcp takes that for an unknown
/// method, 404 -32601, where the client needs -32602). Read without building the values.
#[derive(Default)]
pub struct ParamsShape {
    /// `params.arguments` is there and is not an object.
    pub arguments_not_an_object: bool,
}

impl<'de> Deserialize<'de> for ParamsShape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor {
            inside_params: true,
        })
    }
}

/// `true` for an object or null, `false` for anything else.
struct IsObject(bool);

impl<'de> Deserialize<'de> for IsObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ShapeVisitor {
                inside_params: false,
            })
            .map(|shape| IsObject(!shape.arguments_not_an_object))
    }
}

/// Walks `params` (looking for `arguments`) or `arguments` itself (is it an object?), skipping
/// everything else with `IgnoredAny`.
struct ShapeVisitor {
    inside_params: bool,
}

impl ShapeVisitor {
    /// A scalar or an array: no `arguments` in params; not an object as arguments.
    fn other<E>(self) -> Result<ParamsShape, E> {
        Ok(ParamsShape {
            arguments_not_an_object: !self.inside_params,
        })
    }
}

impl<'de> serde::de::Visitor<'de> for ShapeVisitor {
    type Value = ParamsShape;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ParamsShape, A::Error> {
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "lowercase")]
        enum Key {
            Arguments,
            #[serde(other)]
            Other,
        }
        use serde::de::IgnoredAny;
        let mut shape = ParamsShape::default();
        if !self.inside_params {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(shape);
        }
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Arguments => {
                    shape.arguments_not_an_object = !map.next_value::<IsObject>()?.0;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(shape)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ParamsShape, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        self.other()
    }

    fn visit_unit<E>(self) -> Result<ParamsShape, E> {
        Ok(ParamsShape::default())
    }

    fn visit_none<E>(self) -> Result<ParamsShape, E> {
        Ok(ParamsShape::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<ParamsShape, E> {
        self.other()
    }

    fn visit_i64<E>(self, _: i64) -> Result<ParamsShape, E> {
        self.other()
    }

    fn visit_u64<E>(self, _: u64) -> Result<ParamsShape, E> {
        self.other()
    }

    fn visit_f64<E>(self, _: f64) -> Result<ParamsShape, E> {
        self.other()
    }

    fn visit_str<E>(self, _: &str) -> Result<ParamsShape, E> {
        self.other()
    }
}

#[cfg(test)]
mod tests {
    use super::Peek;

    fn peek(body: &str) -> Peek {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn arguments_that_are_not_an_object_are_noticed_and_nothing_else_is() {
        let bad = peek(
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x","arguments":[1,2]}}"#,
        );
        assert!(bad.params.arguments_not_an_object);
        assert_eq!(bad.method.as_deref(), Some("tools/call"));
        assert_eq!(bad.id, Some(serde_json::json!(3)));
        for fine in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"a":[1]},"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":null}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1,{"arguments":5}]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":"text"}"#,
        ] {
            assert!(!peek(fine).params.arguments_not_an_object, "{fine}");
        }
        for bad in ["5", "\"text\"", "true", "[]"] {
            let body =
                format!(r#"{{"id":1,"method":"tools/call","params":{{"arguments":{bad}}}}}"#);
            assert!(peek(&body).params.arguments_not_an_object, "{bad}");
        }
    }
}
