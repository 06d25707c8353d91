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

/// `search_docs`'s readable text: how many hits for what, then each hit's heading path, path,
/// section and snippet, and the other variants of its page.
#[test]
fn a_search_reads_as_numbered_hits_with_their_places_and_variants() {
    let folder = std::env::temp_dir().join(format!("docs-search-text-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let page = |title: &str| {
        format!("# {title}\n\n## Draining\n\nTasks drain their streams before they stop.\n")
    };
    std::fs::write(folder.join("guide.md"), page("Guide")).unwrap();
    std::fs::write(folder.join("guide.ja.md"), page("ガイド")).unwrap();
    let library = super::super::library::Library::load(Some(&folder)).unwrap();
    std::fs::remove_dir_all(&folder).unwrap();
    let server = DocsServer::new(library);
    let args = super::SearchArgs {
        query: "drain".into(),
        limit: 5,
        version: None,
        language: None,
    };
    let snapshot = server.library.snapshot();
    let super::Answered::Output(text, output) = server.searched(args, &snapshot).unwrap() else {
        panic!("refused");
    };
    assert_eq!(
        text,
        "1 sections for \"drain\":\n\
         \n1. Guide › Draining (path: guide.md, section: draining)\n   \
         **Draining** Tasks **drain** their streams before they stop.\n   \
         also as: guide.ja.md\n"
    );
    assert_eq!(output.hits.len(), 1);
}
