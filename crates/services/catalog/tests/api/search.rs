//! `GET /api/v1/products?q=`: full-text search over names and descriptions, with
//! prefixes, English stemming, every word required, and relevance order by default.

use std::collections::BTreeMap;

use serde_json::json;
use testkit::{Backend, TestApp};

use crate::helpers::{create_product_with, id_of, ids, inventory, list, product_body};

/// The search fixtures by short name: `(name, description)`.
const SHELF: &[(&str, &str, &str)] = &[
    ("red", "Red Running Shoes", "Light and quick on the road."),
    ("blue", "Blue Walking Shoes", "Comfortable all day long."),
    (
        "lantern",
        "Trail Lantern",
        "A bright lamp for camping trips.",
    ),
    (
        "stove",
        "Camping Stove",
        "Cooks dinner quickly and pairs well with a lantern.",
    ),
    ("tee", "Morning Run Tee", "Breathable cotton shirt."),
    ("blanket", "Wool Blanket", "Warm and soft."),
];

struct Shelf {
    app: TestApp,
    ids: BTreeMap<&'static str, String>,
}

impl Shelf {
    async fn stocked(backend: Backend) -> Self {
        let app = TestApp::spawn(backend).await;
        let token = inventory(&app).await;
        let mut ids = BTreeMap::new();
        for (key, name, description) in SHELF {
            let mut body = product_body(name, 1000);
            body["description"] = json!(description);
            ids.insert(*key, id_of(&create_product_with(&app, &token, body).await));
        }
        Self { app, ids }
    }

    /// The fixture names found by `query`, in answer order.
    async fn found(&self, query: &str) -> Vec<&'static str> {
        ids(&list(&self.app, query).await)
            .iter()
            .map(|id| {
                *self
                    .ids
                    .iter()
                    .find(|(_, v)| *v == id)
                    .map(|(k, _)| k)
                    .expect("a known product")
            })
            .collect()
    }

    /// Like [`found`](Self::found), sorted, for when the order does not matter.
    async fn found_set(&self, query: &str) -> Vec<&'static str> {
        let mut found = self.found(query).await;
        found.sort_unstable();
        found
    }
}

pub async fn search_finds_a_word_in_the_name_or_only_in_the_description(backend: Backend) {
    let shelf = Shelf::stocked(backend).await;

    assert_eq!(shelf.found_set("q=blanket").await, ["blanket"]);
    assert_eq!(shelf.found_set("q=dinner").await, ["stove"]);
    assert_eq!(shelf.found_set("q=BREATHABLE").await, ["tee"]);
}

pub async fn search_matches_prefixes_and_stems(backend: Backend) {
    let shelf = Shelf::stocked(backend).await;

    assert_eq!(shelf.found_set("q=shoe").await, ["blue", "red"]);
    assert_eq!(shelf.found_set("q=lant").await, ["lantern", "stove"]);
    assert_eq!(shelf.found_set("q=running").await, ["red", "tee"]);
    assert_eq!(shelf.found_set("q=run").await, ["red", "tee"]);
}

pub async fn every_search_word_must_match(backend: Backend) {
    let shelf = Shelf::stocked(backend).await;

    assert_eq!(shelf.found_set("q=red%20shoes").await, ["red"]);
    assert_eq!(
        shelf.found_set("q=camping%20lantern").await,
        ["lantern", "stove"]
    );
    assert!(shelf.found("q=blue%20running").await.is_empty());
}

pub async fn search_results_come_in_relevance_order(backend: Backend) {
    let shelf = Shelf::stocked(backend).await;

    // "lantern" is the stove's last word but the lantern's name.
    assert_eq!(shelf.found("q=lantern").await, ["lantern", "stove"]);
    assert_eq!(
        shelf.found("q=lantern&sort=relevance").await,
        ["lantern", "stove"]
    );
    assert_eq!(
        shelf.found("q=lantern&sort=newest").await,
        ["stove", "lantern"]
    );
    assert_eq!(shelf.found("q=lantern&limit=1").await, ["lantern"]);
    let first = list(&shelf.app, "q=lantern&limit=1").await;
    let cursor = first.body["next_cursor"].as_str().expect("a second page");
    let second = format!(
        "q=lantern&limit=1&cursor={}",
        crate::helpers::encode(cursor)
    );
    assert_eq!(shelf.found(&second).await, ["stove"]);
}

pub async fn a_search_without_matches_is_an_empty_page(backend: Backend) {
    let shelf = Shelf::stocked(backend).await;

    let res = list(&shelf.app, "q=zebra").await;

    assert_eq!(res.body["items"], json!([]));
    assert_eq!(res.body["next_cursor"], json!(null));
    assert!(shelf.found("q=shoes&max_price=10").await.is_empty());
}

pub async fn a_punctuation_only_search_lists_everything(backend: Backend) {
    let shelf = Shelf::stocked(backend).await;

    let everything = shelf.found("").await;
    let punctuation = shelf.found("q=%21%2A%22%27%20%3A%26%7C-").await;
    let blank = shelf.found("q=%20%20").await;

    assert_eq!(everything.len(), SHELF.len());
    assert_eq!(punctuation, everything);
    assert_eq!(blank, everything);
    let sql_ish = shelf.found("q=shoe%27%20OR%201%3D1%20--").await;
    assert!(sql_ish.is_empty(), "{sql_ish:?}");
}

pub async fn search_keeps_accented_and_non_latin_letters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let naive =
        id_of(&create_product_with(&app, &token, product_body("Naïve Art Print", 900)).await);
    let mut umbrella = product_body("Зонт складной", 900);
    umbrella["slug"] = json!("folding-umbrella");
    let umbrella = id_of(&create_product_with(&app, &token, umbrella).await);
    create_product_with(&app, &token, product_body("Nave Model Kit", 900)).await;

    let accented = list(&app, "q=na%C3%AFve").await;
    let cyrillic = list(&app, "q=%D0%B7%D0%BE%D0%BD%D1%82").await;

    // Both are checked together so a failure shows each answer.
    assert_eq!(
        (ids(&accented), ids(&cyrillic)),
        (vec![naive], vec![umbrella])
    );
}

testkit::backend_tests!(
    search_keeps_accented_and_non_latin_letters,
    search_finds_a_word_in_the_name_or_only_in_the_description,
    search_matches_prefixes_and_stems,
    every_search_word_must_match,
    search_results_come_in_relevance_order,
    a_search_without_matches_is_an_empty_page,
    a_punctuation_only_search_lists_everything,
);
