//! A process that commits a step and dies before publishing it: after the restart the
//! outbox publishes what was committed and the saga completes.

use std::time::Duration;

use testkit::shop::{CARD_OK, order_when, pay};
use testkit::{Backend, TestApp};

use crate::{Unpaid, eventually, payment_path, stock_when, unpaid};

pub async fn a_saga_interrupted_after_commit_completes_after_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: me,
        inventory,
        product: mug,
        order: id,
        payment,
    } = unpaid(&app, 2).await;
    let (id, payment) = (id.as_str(), payment.as_str());

    // From now on no process publishes what it commits: as if each died right after
    // its commit.
    app.restart(|s| s.bus.relay_enabled = false).await;
    pay(&app, &me, payment, CARD_OK).await.assert_status(202);
    // Payments took the webhook and committed the success...
    eventually(&app, &me, &payment_path(payment), "succeeded", |p| {
        p["status"] == "succeeded"
    })
    .await;
    // ...but nobody heard of it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stuck = app.get(&format!("/api/v1/orders/{id}"), Some(&me)).await;
    assert_eq!(stuck.body["status"], "awaiting_payment");

    app.restart(|s| s.bus.relay_enabled = true).await;
    order_when(&app, &me, id, "paid", |o| o["status"] == "paid").await;
    let sold = stock_when(&app, &inventory, &mug, "sold", |p| p["units_sold"] == 2).await;
    assert_eq!(sold["stock"]["on_hand"], 3);
    assert_eq!(sold["stock"]["reserved"], 0);
}

testkit::backend_tests!(a_saga_interrupted_after_commit_completes_after_restart,);
