//! Writers racing on the same version: exactly one wins, the other is told its view is
//! stale, and concurrent stock write-offs never take stock below zero.

use serde_json::{Value, json};
use testkit::{Backend, TestApp, TestResponse};

use crate::helpers::{create_product, inventory, product_path, put_stock, staff_view, text};

const ROUNDS: i64 = 20;

/// Of two answers to the same race, the winner's index; asserts one 200 and one 412.
fn winner(a: &TestResponse, b: &TestResponse, round: i64) -> usize {
    match (a.status.as_u16(), b.status.as_u16()) {
        (200, 412) => {
            b.assert_problem(412);
            0
        }
        (412, 200) => {
            a.assert_problem(412);
            1
        }
        other => panic!(
            "round {round}: expected one 200 and one 412, got {other:?}: {} / {}",
            a.text, b.text
        ),
    }
}

pub async fn two_edits_with_the_same_version_have_exactly_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Contested", 1000).await;
    let id = text(&p, "id");
    let path = product_path(id);

    for round in 0..ROUNDS {
        let version = round + 1;
        let prices = [2 * round + 10_000, 2 * round + 10_001];
        let body = |price: i64| json!({"price": price, "name": format!("Contested {price}"), "version": version});
        let (a, b) = tokio::join!(
            app.patch(&path, Some(&token), body(prices[0])),
            app.patch(&path, Some(&token), body(prices[1])),
        );

        let won = winner(&a, &b, round);
        let read = staff_view(&app, &token, id).await;
        assert_eq!(read["version"], version + 1, "round {round}");
        assert_eq!(
            read["price"], prices[won],
            "round {round}: the loser's edit leaked"
        );
        assert_eq!(read["name"], format!("Contested {}", prices[won]));
    }
    let public = app.get(&path, None).await;
    assert_eq!(public.body["version"], ROUNDS + 1);
}

pub async fn two_stock_changes_with_the_same_version_have_exactly_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Counted", 1000).await;
    let id = text(&p, "id");

    for round in 0..ROUNDS {
        let version = round + 1;
        let counts = [100 + 2 * round, 101 + 2 * round];
        let (a, b) = tokio::join!(
            put_stock(
                &app,
                Some(&token),
                id,
                json!({"on_hand": counts[0], "version": version})
            ),
            put_stock(
                &app,
                Some(&token),
                id,
                json!({"on_hand": counts[1], "version": version})
            ),
        );

        let won = winner(&a, &b, round);
        let stock = &staff_view(&app, &token, id).await["stock"];
        assert_eq!(stock["version"], version + 1, "round {round}");
        assert_eq!(
            stock["on_hand"], counts[won],
            "round {round}: the loser's count leaked"
        );
    }
}

/// Takes one unit: reads the stock, writes `adjust_by: -1` at that version, and retries
/// on 412. `true` when a unit was taken, `false` when the stock ran out (409).
async fn take_one(app: &TestApp, token: &str, id: &str) -> bool {
    for _ in 0..200 {
        let read: Value = staff_view(app, token, id).await;
        let version = read["stock"]["version"].clone();
        let res = put_stock(
            app,
            Some(token),
            id,
            json!({"adjust_by": -1, "version": version}),
        )
        .await;
        match res.status.as_u16() {
            200 => {
                assert!(
                    res.body["on_hand"].as_i64().expect("on_hand") >= 0,
                    "{}",
                    res.text
                );
                return true;
            }
            409 => return false,
            412 => continue,
            other => panic!("unexpected {other}: {}", res.text),
        }
    }
    panic!("a write-off never got through");
}

pub async fn concurrent_write_offs_never_take_stock_below_zero(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = inventory(&app).await;
    let p = create_product(&app, &token, "Scarce", 1000).await;
    let id = text(&p, "id");
    put_stock(&app, Some(&token), id, json!({"on_hand": 6, "version": 1}))
        .await
        .assert_status(200);

    let (a, b, c, d, e, f, g, h, i, j) = tokio::join!(
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
        take_one(&app, &token, id),
    );

    let taken = [a, b, c, d, e, f, g, h, i, j]
        .iter()
        .filter(|t| **t)
        .count();
    assert_eq!(taken, 6, "exactly the units on hand were taken");
    let read = staff_view(&app, &token, id).await;
    assert_eq!(read["stock"]["on_hand"], 0);
    assert_eq!(read["stock"]["available"], 0);
    assert_eq!(read["in_stock"], false);
    assert_eq!(
        read["stock"]["version"], 8,
        "one version per successful change"
    );
}

testkit::backend_tests!(
    two_edits_with_the_same_version_have_exactly_one_winner,
    two_stock_changes_with_the_same_version_have_exactly_one_winner,
    concurrent_write_offs_never_take_stock_below_zero,
);
