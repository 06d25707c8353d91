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

/// The fast path's `search_docs` answer, written from what each hit's unit keeps written, is
/// byte for byte the answer written from the hits, and both are `serde_json`'s writing of the
/// readable text and of the derived `Serialize` (rmcp's route writes the same value, its keys in
/// another order): on pages with variants, a fragment two pages include (`alsoIn`), and titles,
/// paths and queries with what JSON escapes; again once the units' parts are kept; and for
/// refusals.
#[test]
fn a_search_written_from_kept_parts_is_the_answer_written_from_its_hits() {
    let folder = std::env::temp_dir().join(format!("docs-search-kept-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    for (path, text) in [
        (
            "guide.md",
            "# Guide \"quoted\" \\ back\n\n## Draining\tnow\n\nTasks drain their streams before they stop. \"Drain\" \\ again.\n\n## Limits\n\nA drain limit.\n",
        ),
        (
            "guide.ja.md",
            "# ガイド\n\n## Draining\n\nTasks drain their streams before they stop.\n",
        ),
        (
            "v2.0/setup.md",
            "# Setup\n\n## Ports\n\nListen on a port; the drain waits.\n",
        ),
        (
            "v1.0/setup.md",
            "# Setup\n\n## Ports\n\nListen on an older port.\n",
        ),
        (
            "one \"odd\" page.md",
            "# Odd\n\n## Shared\n\n{% include '_shared.md' %}\n",
        ),
        (
            "two.md",
            "# Two\n\n## Shared\n\n{% include '_shared.md' %}\n",
        ),
        (
            "_shared.md",
            "Fragment words about drain timeouts, shared by two pages \u{1}.\n",
        ),
    ] {
        let path = folder.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let library = super::super::library::Library::load(Some(&folder)).unwrap();
    std::fs::remove_dir_all(&folder).unwrap();
    let server = DocsServer::new(library);
    let snapshot = server.library.snapshot();
    let args = |query: &str, language: Option<&str>| super::SearchArgs {
        query: query.into(),
        limit: 10,
        version: None,
        language: language.map(Into::into),
    };
    let written = |answer: crate::direct::Answer| match answer {
        crate::direct::Answer::Tool(tool) => (
            String::from_utf8(tool.text).unwrap(),
            String::from_utf8(tool.structured).unwrap(),
        ),
        crate::direct::Answer::Result(result) => {
            (serde_json::to_string(&result).unwrap(), String::new())
        }
    };
    let mut alsos = 0;
    let mut variants = 0;
    let mut kept = vec![snapshot.rendered.bytes()];
    for round in 0..2 {
        for (query, language) in [
            ("drain", None),
            ("drain", Some("ja")),
            ("\"drain their\" stop", None),
            ("fragment timeouts", None),
            ("quoted \\ back \"", None),
            ("port", None),
            ("nothing-matches-this", None),
            ("", None),
        ] {
            let (refused, fast) = server
                .searched_written(args(query, language), &snapshot)
                .unwrap();
            let answered = server.searched(args(query, language), &snapshot).unwrap();
            let serialised = match &answered {
                super::Answered::Output(text, output) => (
                    serde_json::to_string(text).unwrap(),
                    serde_json::to_string(output).unwrap(),
                ),
                super::Answered::Refused(_) => (String::new(), String::new()),
            };
            let (slow_refused, slow) = answered.answer().unwrap();
            assert_eq!(refused, slow_refused, "{query:?}");
            let (fast, slow) = (written(fast), written(slow));
            assert_eq!(fast, slow, "{query:?} {language:?}, round {round}");
            if !refused {
                assert_eq!(fast, serialised, "{query:?} {language:?}");
            }
            alsos += fast.1.matches("\"alsoIn\"").count();
            variants += fast.1.matches("\"variants\"").count();
        }
        kept.push(snapshot.rendered.bytes());
    }
    assert!(
        alsos > 0 && variants > 0,
        "{alsos} alsoIn, {variants} variants"
    );
    // Written on the first round, kept for the second.
    assert!(kept[1] > kept[0] && kept[2] == kept[1], "{kept:?}");
}

/// Every unit's kept parts written (as after searches that found each unit once) take less
/// than half a byte per byte of this project's documentation's text (a quarter; the Copilot
/// docs, with long paths and two languages, take one): what `docs/performance.md` counts.
#[test]
fn every_unit_s_kept_parts_take_less_than_half_the_text() {
    let server = DocsServer::new(super::super::library::Library::load(None).unwrap());
    let snapshot = server.library.snapshot();
    let before = snapshot.rendered.bytes();
    snapshot.rendered.write_all(&snapshot);
    let kept = snapshot.rendered.bytes();
    let per_byte = kept as f64 / snapshot.bytes as f64;
    eprintln!("kept parts: {before} bytes before, {kept} after, {per_byte:.2} per byte of text");
    assert!(
        kept > before && per_byte < 0.5,
        "{before} -> {kept}: {per_byte:.2}"
    );
}
