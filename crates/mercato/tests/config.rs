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

/// Every leaf key of `value`, dotted (`http.listen`).
fn keys(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    match value.as_object() {
        // A rate limit `{limit, window_secs}` is one setting.
        Some(map) if !(map.contains_key("limit") && map.contains_key("window_secs")) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                keys(&key, v, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

#[test]
fn serve_help_lists_every_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["serve", "--help"])
        .output()
        .expect("mercato runs");
    let help = String::from_utf8_lossy(&out.stdout);
    let mut all = Vec::new();
    keys(
        "",
        &serde_json::to_value(Settings::default()).expect("json"),
        &mut all,
    );
    let missing: Vec<_> = all
        .iter()
        .filter(|k| !help.contains(&format!("  {k} ")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in `mercato serve --help`: {missing:?}"
    );
}
