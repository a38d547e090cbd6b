//! What the server benchmarks share: the records a phone pushes and how figures are printed.

#![allow(dead_code)] // each bench uses its own part

use anyhow::bail;
use fieldcheck_core::sync::PushResponse;
use fieldcheck_core::{Template, photo_name};
use serde_json::{Value, json};
use std::time::Duration;

/// A 1×1 PNG: the signatures every complete record carries.
pub const SIGNATURE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xe5, 0x27, 0xde, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A figure for BENCHMARKS.md: `FIGURE what: value`.
pub fn figure(what: &str, value: String) {
    println!("FIGURE {what}: {value}");
}

/// The `percent` percentile of sorted durations.
pub fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent)
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn device_id(n: usize) -> String {
    format!("0192f3a4-5b6c-7d8e-9f00-{n:012}")
}

/// A complete submitted internet-café inspection naming `photos` (uploaded before), as a phone
/// pushes it.
pub fn complete_inspection(venue_id: &str, officers: &[&str], photos: &[String]) -> Value {
    let id = uuid::Uuid::now_v7().to_string();
    let items = Template::by_id("internet_cafe@1").map_or_else(Vec::new, |template| template.items);
    let answers: Vec<Value> = items
        .iter()
        .map(|item| json!({"item": item.code, "result": "pass"}))
        .collect();
    let signature = photo_name(SIGNATURE_PNG);
    let body = json!({
        "id": id, "venue_id": venue_id, "kind": "routine", "template": "internet_cafe@1",
        "started_at": "2026-11-26T10:00:00+08:00", "finished_at": "2026-11-26T10:40:00+08:00",
        "inspectors": officers,
        "answers": answers,
        "party": {"name": "刘建军", "title": "负责人", "signature": signature, "refused": false},
        "officer_signatures": officers.iter().map(|officer| json!({"officer": officer, "signature": signature})).collect::<Vec<_>>(),
        "notes": "经营场所证照齐全，未发现未成年人。", "status": "submitted", "photos": photos
    });
    json!({"op_id": uuid::Uuid::now_v7().to_string(), "entity": "inspection", "id": id, "base_rev": 0, "body": body})
}

pub async fn push_to(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    device: &str,
    mutations: &[Value],
) -> anyhow::Result<PushResponse> {
    let response = client
        .post(format!("{base}/api/sync/push"))
        .bearer_auth(token)
        .json(&json!({"device_id": device, "mutations": mutations}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "push answered {}: {}",
            response.status(),
            response.text().await?
        );
    }
    Ok(response.json().await?)
}
