//! The README documents every environment variable the server reads, with its default.

use mcp_server::config::VARIABLES;

#[test]
fn the_readme_documents_every_variable_with_its_default() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the workspace root");
    for variable in VARIABLES {
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", variable.name)))
            .unwrap_or_else(|| panic!("README has no table row for {}", variable.name));
        let default = if variable.default.is_empty() {
            "(empty)".to_string()
        } else {
            format!("`{}`", variable.default)
        };
        assert!(
            row.contains(&format!("| {default} |")),
            "README row for {} does not give the default {default}: {row}",
            variable.name
        );
    }
}
