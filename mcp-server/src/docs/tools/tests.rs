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
