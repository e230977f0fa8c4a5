//! The documented example configuration is a valid configuration. (That `MERCATO_*`
//! variables override it is exercised by `tests/cli.rs`, which configures every
//! distributed process through the environment.)

use std::path::Path;

use platform::config::Settings;

fn example() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../mercato.example.toml"
    ))
}

#[test]
fn the_example_configuration_loads_and_matches_the_defaults() {
    let loaded = Settings::load(Some(example())).expect("the example parses");
    let defaults = Settings::default();
    assert_eq!(
        serde_json::to_value(&loaded).expect("json"),
        serde_json::to_value(&defaults).expect("json")
    );
}

#[test]
fn a_file_with_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[http]\nlisten = \"127.0.0.1:1\"\nlisen = \"typo\"\n",
    )
    .expect("written");
    let err = Settings::load(Some(&path)).expect_err("a typo must not be ignored");
    assert!(err.to_string().contains("lisen"), "{err}");
}
