//! The README and docs/configuration.md document every setting the server declares (read from
//! clap's own command description), with its default; the configuration page also gives each
//! flag, and documents no setting the server does not have.

use mcp_server::config::{Variable, variables};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
const CONFIGURATION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/configuration.md");

#[test]
fn the_readme_documents_every_variable_with_its_default() {
    check(README, false);
}

#[test]
fn the_configuration_page_documents_every_variable_with_its_default_and_flag() {
    check(CONFIGURATION, true);
}

#[test]
fn the_configuration_page_documents_no_setting_the_server_lacks() {
    let page = std::fs::read_to_string(CONFIGURATION).unwrap();
    let declared = variables();
    for row in page.lines().filter(|l| l.starts_with("| `")) {
        let name = row.trim_start_matches("| `").split('`').next().unwrap();
        assert!(
            declared.iter().any(|v| v.name == name),
            "docs/configuration.md documents {name}, which the server does not declare"
        );
    }
}

fn default_cell(variable: &Variable) -> String {
    if variable.default.is_empty() {
        "(empty)".to_string()
    } else {
        // A `|` inside a table cell is written `\|`, even in code.
        format!("`{}`", variable.default.replace('|', "\\|"))
    }
}

fn check(file: &str, with_flag: bool) {
    let text = std::fs::read_to_string(file).expect("documentation file exists");
    for variable in variables() {
        let row = text
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", variable.name)))
            .unwrap_or_else(|| panic!("{file} has no table row for {}", variable.name));
        let default = default_cell(&variable);
        assert!(
            row.contains(&format!("| {default} |")),
            "{file}: the row for {} does not give the default {default}: {row}",
            variable.name
        );
        if with_flag {
            assert!(
                row.contains(&format!("| `{}` |", variable.flag)),
                "{file}: the row for {} does not give the flag {}: {row}",
                variable.name,
                variable.flag
            );
        }
    }
}
