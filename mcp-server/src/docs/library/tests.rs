//! Unit tests of the library: the embedded docs, and a folder's reload and its failures.

use super::*;

#[test]
fn the_embedded_docs_include_the_readme_and_the_docs_folder() {
    let library = Library::load(None).unwrap();
    let snapshot = library.snapshot();
    assert!(snapshot.corpus.page("README.md").is_some());
    assert!(
        snapshot.corpus.pages.len() > 1,
        "docs/ pages are embedded too"
    );
}

#[test]
fn reload_swaps_in_changes_and_keeps_the_old_pages_on_failure() {
    let folder = std::env::temp_dir().join(format!("docs-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.md"), "# Alpha\n\nfirst words\n").unwrap();
    let library = Library::load(Some(&folder)).unwrap();
    let mut changes = library.changes.subscribe();
    assert!(!library.reload_if_changed(), "nothing changed yet");
    let first = library.snapshot().version.clone();

    std::fs::write(folder.join("b.md"), "# Beta\n\nsecond words\n").unwrap();
    assert!(library.reload_if_changed());
    assert_eq!(library.snapshot().corpus.pages.len(), 2);
    assert_ne!(library.snapshot().version, first);
    assert_eq!(library.health()["refreshFailing"], false);
    assert_eq!(changes.try_recv().ok(), Some(Change::ResourcesListChanged));

    std::fs::remove_file(folder.join("a.md")).unwrap();
    std::fs::remove_file(folder.join("b.md")).unwrap();
    assert!(
        !library.reload_if_changed(),
        "an empty folder is not served"
    );
    assert_eq!(library.snapshot().corpus.pages.len(), 2, "old pages stay");
    let health = library.health();
    assert_eq!(health["refreshFailing"], true);
    assert_eq!(health["pages"], 2);
    assert!(
        health["lastError"]
            .as_str()
            .unwrap()
            .contains("no Markdown"),
        "{health}"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}
