//! The README and docs/configuration.md document every environment variable the server reads,
//! with its default.

use mcp_server::config::VARIABLES;

#[test]
fn the_readme_documents_every_variable_with_its_default() {
    check(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
}

#[test]
fn the_configuration_page_documents_every_variable_with_its_default() {
    check(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/configuration.md"
    ));
}

fn check(file: &str) {
    let readme = std::fs::read_to_string(file).expect("documentation file exists");
    for variable in VARIABLES {
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", variable.name)))
            .unwrap_or_else(|| panic!("{file} has no table row for {}", variable.name));
        let default = if variable.default.is_empty() {
            "(empty)".to_string()
        } else {
            format!("`{}`", variable.default)
        };
        assert!(
            row.contains(&format!("| {default} |")),
            "{file}: the row for {} does not give the default {default}: {row}",
            variable.name
        );
    }
}
