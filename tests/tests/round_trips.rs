//! One round trip per operation of every layer, generated from the spec's examples by
//! `cargo xtask codegen`: see `laserdata_e2e::round_trip` for how each is checked.

use laserdata_e2e::round_trip::check_layer;
use laserdata_e2e::{audit_round_trips, main_round_trips, supervisor_round_trips};

#[tokio::test]
async fn every_main_operation_round_trips() {
    let (trips, not_generated) = (main_round_trips::ROUND_TRIPS, main_round_trips::NOT_GENERATED);
    check_layer("main", trips, not_generated, |client, _| client.main().clone()).await;
}

#[tokio::test]
async fn every_supervisor_operation_round_trips() {
    let (trips, not_generated) = (supervisor_round_trips::ROUND_TRIPS, supervisor_round_trips::NOT_GENERATED);
    check_layer("supervisor", trips, not_generated, |client, url| client.supervisor(url).expect("a loopback URL"))
        .await;
}

#[tokio::test]
async fn every_audit_operation_round_trips() {
    let (trips, not_generated) = (audit_round_trips::ROUND_TRIPS, audit_round_trips::NOT_GENERATED);
    check_layer("audit", trips, not_generated, |client, _| client.audit().clone()).await;
}
