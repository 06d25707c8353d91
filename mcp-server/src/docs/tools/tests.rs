use super::DocsServer;

#[test]
fn schemas_are_plain_json_schema_without_rust_number_formats() {
    let tools = DocsServer::tool_router().list_all();
    assert_eq!(tools.len(), 3);
    for tool in tools {
        let text = format!(
            "{} {}",
            serde_json::Value::Object((*tool.input_schema).clone()),
            serde_json::Value::Object((*tool.output_schema.clone().unwrap()).clone())
        );
        assert!(!text.contains("\"format\""), "{}: {text}", tool.name);
        assert!(
            text.contains("\"minimum\""),
            "{}: unsigned bounds kept",
            tool.name
        );
    }
}

/// The fast path answers these tools' calls without checking `Mcp-Param-*` headers against
/// their schemas (see `Direct::answer_directly`): that holds only while no schema asks for one.
#[test]
fn no_tool_asks_for_mcp_param_headers() {
    for tool in DocsServer::tool_router().list_all() {
        let schema = serde_json::Value::Object((*tool.input_schema).clone()).to_string();
        assert!(!schema.contains("x-mcp-header"), "{}: {schema}", tool.name);
    }
}
