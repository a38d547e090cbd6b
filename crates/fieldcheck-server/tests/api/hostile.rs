//! Hostile input: thousands of generated malformed or hostile requests over every endpoint. None may
//! answer 5xx, none may store anything, and every answer is the JSON error shape (or, for a push that
//! parsed, a refusal of every mutation) without internal text.

use super::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// How many requests the test sends.
const N_REQUESTS: usize = 12_000;

/// Strings that try to break out of SQL, HTML, JSON and paths.
const PAYLOADS: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE records; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "../../../../etc/passwd",
    "%00",
    "\u{0000}",
    "\u{202e}gnp.exe",
    "𠜎𠜱𠝹𠱓",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "NaN",
    "-0",
    "1e999",
];

struct Generator {
    rng: StdRng,
    token: String,
    venue_id: String,
}

/// One generated request and what kind of answer it may get.
struct Hostile {
    method: &'static str,
    uri: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// A push with a valid token and a well-formed envelope: may answer 200 with every mutation refused.
    may_parse: bool,
}

impl Generator {
    fn payload(&mut self) -> String {
        let base = (*PAYLOADS.choose(&mut self.rng).unwrap_or(&"x")).to_owned();
        match self.rng.gen_range(0..10) {
            0 => base.repeat(self.rng.gen_range(100..5_000)),
            _ => base,
        }
    }

    /// A payload short enough for a URI (the HTTP library itself refuses URIs over 64 KiB).
    fn short_payload(&mut self) -> String {
        (*PAYLOADS.choose(&mut self.rng).unwrap_or(&"x")).to_owned()
    }

    /// A JSON value of a random wrong shape.
    fn wrong_value(&mut self) -> Value {
        match self.rng.gen_range(0..8) {
            0 => Value::Null,
            1 => json!(self.rng.r#gen::<i64>()),
            2 => json!(self.rng.r#gen::<f64>() * 1e300),
            3 => json!(self.payload()),
            4 => json!([self.payload(), 1, null]),
            5 => json!({"$ne": null, "a": self.payload()}),
            6 => json!(true),
            _ => json!(u64::MAX),
        }
    }

    /// A mutation the server must refuse, with hostile text wherever text goes.
    fn refused_mutation(&mut self) -> Value {
        let id = new_id();
        let mut body = json!({
            "id": id, "venue_id": self.venue_id, "kind": "routine", "template": "internet_cafe@1",
            "started_at": "2026-11-26T10:00:00+08:00", "inspectors": [self.payload()],
            "answers": [{"item": self.payload(), "result": "pass", "note": self.payload()}],
            "notes": self.payload(), "status": "draft"
        });
        // Every generated mutation breaks at least one rule that no payload can repair.
        match self.rng.gen_range(0..6) {
            0 => body["id"] = json!(new_id()),
            1 => {
                if let Some(fields) = body.as_object_mut() {
                    fields.remove("status");
                }
            }
            2 => body["venue_id"] = json!(new_id()),
            3 => body = self.wrong_value(),
            4 => body["inspectors"] = self.wrong_value(),
            _ => body["started_at"] = json!(self.payload()),
        }
        let entity = *["inspection", "inspection", "venue", "campaign"]
            .choose(&mut self.rng)
            .unwrap_or(&"inspection");
        json!({"op_id": new_id(), "entity": entity, "id": id, "base_rev": self.rng.gen_range(0..3), "body": body})
    }

    fn next(&mut self) -> Hostile {
        let token = self.token.clone();
        let bearer = |valid: bool, rng: &mut StdRng| -> Vec<(String, Vec<u8>)> {
            match (valid, rng.gen_range(0..4)) {
                (true, _) => vec![(
                    "authorization".into(),
                    format!("Bearer {token}").into_bytes(),
                )],
                (false, 0) => vec![],
                (false, 1) => vec![("authorization".into(), b"Bearer \xff\xfe".to_vec())],
                (false, 2) => vec![("authorization".into(), b"Basic Zm9vOmJhcg==".to_vec())],
                _ => vec![(
                    "authorization".into(),
                    format!("Bearer {}", "a".repeat(rng.gen_range(1..3000))).into_bytes(),
                )],
            }
        };
        let json_type = |rng: &mut StdRng| -> Vec<(String, Vec<u8>)> {
            let value: &[u8] = match rng.gen_range(0..10) {
                0 => b"text/plain",
                1 => b"application/x-www-form-urlencoded",
                2 => b"application/jsonp",
                3 => b"\xff\xfe",
                _ => b"application/json",
            };
            vec![("content-type".into(), value.to_vec())]
        };
        let valid_token = self.rng.gen_bool(0.7);
        let mut headers = bearer(valid_token, &mut self.rng);
        let kind = self.rng.gen_range(0..100);
        let (method, uri, body, envelope_ok) = match kind {
            // Login with wrong types, missing fields, hostile text.
            0..=14 => {
                let body = match self.rng.gen_range(0..5) {
                    0 => json!({"username": self.wrong_value(), "password": "x"}),
                    1 => json!({"username": self.payload()}),
                    2 => json!({"username": self.payload(), "password": self.payload()}),
                    3 => json!([self.payload()]),
                    _ => json!({"password": self.wrong_value()}),
                };
                headers = json_type(&mut self.rng);
                (
                    "POST",
                    "/api/auth/login".to_owned(),
                    body.to_string().into_bytes(),
                    false,
                )
            }
            // Push envelopes of the wrong shape.
            15..=39 => {
                let body = match self.rng.gen_range(0..7) {
                    0 => json!({"device_id": self.wrong_value(), "mutations": []}),
                    1 => json!({"device_id": self.payload(), "mutations": []}),
                    2 => json!({"device_id": DEVICE, "mutations": self.wrong_value()}),
                    3 => json!({"mutations": []}),
                    4 => {
                        json!({"device_id": DEVICE, "mutations": [{"op_id": self.payload(), "entity": self.payload()}]})
                    }
                    5 => json!({"device_id": DEVICE, "mutations": vec![json!({}); 501]}),
                    _ => self.wrong_value(),
                };
                headers.extend(json_type(&mut self.rng));
                (
                    "POST",
                    "/api/sync/push".to_owned(),
                    body.to_string().into_bytes(),
                    false,
                )
            }
            // Push envelopes that parse, with mutations that must all be refused.
            40..=59 => {
                let n_mutations = self.rng.gen_range(1..6);
                let mutations: Vec<Value> =
                    (0..n_mutations).map(|_| self.refused_mutation()).collect();
                let body = json!({"device_id": DEVICE, "mutations": mutations});
                headers.extend(json_type(&mut self.rng));
                (
                    "POST",
                    "/api/sync/push".to_owned(),
                    body.to_string().into_bytes(),
                    true,
                )
            }
            // Pull with cursors and limits that are not ours.
            60..=74 => {
                let since = urlencode(&self.short_payload());
                let limit = match self.rng.gen_range(0..4) {
                    0 => "-1".to_owned(),
                    1 => "99999999999999999999".to_owned(),
                    2 => urlencode(&self.short_payload()),
                    _ => "abc".to_owned(),
                };
                let uri = match self.rng.gen_range(0..3) {
                    0 => format!("/api/sync/pull?since={since}"),
                    1 => format!("/api/sync/pull?since=%FF%FE&limit={limit}"),
                    _ => format!("/api/sync/pull?limit={limit}&since=1"),
                };
                ("GET", uri, Vec::new(), false)
            }
            // Reviews of records that are not there, with wrong bodies.
            75..=84 => {
                let target = urlencode(&self.short_payload());
                let body = match self.rng.gen_range(0..3) {
                    0 => json!({"decision": self.payload(), "rev": 1}),
                    1 => json!({"decision": "approve", "rev": self.wrong_value()}),
                    _ => json!({"decision": "approve", "rev": 1, "comment": self.payload()}),
                };
                headers.extend(json_type(&mut self.rng));
                (
                    "POST",
                    format!("/api/inspections/{target}/review"),
                    body.to_string().into_bytes(),
                    false,
                )
            }
            // Photos under names that are no SHA-256 or not the bytes', bytes that are no image.
            85..=88 => {
                let bytes = self.payload().into_bytes();
                let name = match self.rng.gen_range(0..3) {
                    0 => urlencode(&self.short_payload()),
                    1 => photo_name(b"\xff\xd8\xff other bytes"),
                    _ => photo_name(&bytes),
                };
                let uri = format!("/api/photos/{name}");
                if self.rng.gen_bool(0.7) {
                    ("PUT", uri, bytes, false)
                } else {
                    ("GET", uri, Vec::new(), false)
                }
            }
            // Deep nesting, invalid UTF-8 and truncated JSON.
            89..=94 => {
                let body = match self.rng.gen_range(0..3) {
                    0 => {
                        let depth = self.rng.gen_range(200..20_000);
                        format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
                    }
                    1 => b"{\"device_id\": \"\xff\xfe\xfd\", \"mutations\": []}".to_vec(),
                    _ => br#"{"device_id": "0192f3a4-5b6c-7d8e-9f00-00000000d0d1", "mutations": [{"op_id":"#.to_vec(),
                };
                headers.extend(json_type(&mut self.rng));
                let path = *[
                    "/api/sync/push",
                    "/api/auth/login",
                    "/api/inspections/x/review",
                ]
                .choose(&mut self.rng)
                .unwrap_or(&"/api/sync/push");
                ("POST", path.to_owned(), body, false)
            }
            // Unknown paths and wrong methods.
            _ => {
                let (method, path) = *[
                    ("DELETE", "/api/sync/push"),
                    ("PUT", "/api/auth/login"),
                    ("GET", "/api/auth/logout"),
                    ("PATCH", "/api/inspections/x/review"),
                    ("GET", "/api/../../etc/passwd"),
                    ("POST", "/api/health"),
                    ("GET", "/api/sync/pull/%2e%2e"),
                ]
                .choose(&mut self.rng)
                .unwrap_or(&("GET", "/api/x"));
                (method, path.to_owned(), Vec::new(), false)
            }
        };
        Hostile {
            method,
            uri,
            headers,
            body,
            may_parse: envelope_ok && valid_token,
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Row counts of every table that holds stored data (the audit log grows by design: refusals are evidence).
async fn stored_counts(pool: &AnyPool) -> anyhow::Result<Vec<(String, i64)>> {
    let mut counts = Vec::new();
    for table in [
        "records",
        "changes",
        "ops",
        "units",
        "users",
        "tokens",
        "tombstones",
        "photos",
        "photo_refs",
    ] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await?;
        counts.push((table.to_owned(), count));
    }
    Ok(counts)
}

#[tokio::test]
async fn thousands_of_hostile_requests_get_clean_refusals_and_store_nothing() -> TestResult {
    let app = fixture().await?;
    let token = app.login("insp_a").await?;
    let venue_id = app
        .venue(&token, &app.insp_a, VenueKind::InternetCafe)
        .await?;
    let before = stored_counts(&app.state.pool).await?;
    let mut generator = Generator {
        rng: StdRng::seed_from_u64(0x0F1E_1DC4),
        token,
        venue_id,
    };
    let mut oversized = 0;
    for request_idx in 0..N_REQUESTS {
        let mut hostile = generator.next();
        // A few bodies over the 16 MiB limit (each costs a big allocation, so not thousands).
        if request_idx % 4_000 == 1 {
            hostile.method = "POST";
            hostile.uri = "/api/sync/push".to_owned();
            hostile.body = vec![b' '; fieldcheck_server::MAX_BODY_BYTES + 1];
            hostile
                .headers
                .push(("content-type".into(), b"application/json".to_vec()));
            hostile.may_parse = false;
            oversized += 1;
        }
        let mut request = Request::builder().method(hostile.method).uri(&hostile.uri);
        for (name, value) in &hostile.headers {
            request = request.header(name.as_str(), axum::http::HeaderValue::from_bytes(value)?);
        }
        let request = request.body(Body::from(hostile.body.clone()))?;
        let response = router(app.state.clone()).oneshot(request).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        let context = || {
            format!(
                "request {request_idx}: {} {} → {status}: {}",
                hostile.method,
                hostile.uri,
                text.chars().take(300).collect::<String>()
            )
        };
        assert!(!status.is_server_error(), "{}", context());
        for internal in ["sqlx", "sqlite", "panicked", "backtrace", "stack"] {
            assert!(!text.contains(internal), "internal text: {}", context());
        }
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|error| anyhow::anyhow!("not JSON ({error}): {}", context()))?;
        if status == StatusCode::OK {
            assert!(hostile.may_parse, "unexpected success: {}", context());
            let response: PushResponse = serde_json::from_value(body)?;
            for result in &response.results {
                assert_eq!(result.status, MutationStatus::Rejected, "{}", context());
                assert!(
                    result
                        .error
                        .as_ref()
                        .is_some_and(|e| !e.code.is_empty() && !e.message.is_empty()),
                    "{}",
                    context()
                );
            }
        } else {
            assert!(
                body["error"]["code"]
                    .as_str()
                    .is_some_and(|code| !code.is_empty()),
                "{}",
                context()
            );
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{}",
                context()
            );
        }
    }
    assert_eq!(
        stored_counts(&app.state.pool).await?,
        before,
        "nothing stored"
    );
    assert!(oversized >= 3);
    Ok(())
}
