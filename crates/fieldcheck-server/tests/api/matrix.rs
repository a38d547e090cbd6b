//! The authorization matrix: every endpoint × every kind of caller × a record of their own unit or of
//! another, each cell with the answer it must get.

use super::*;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    NoToken,
    Expired,
    Revoked,
    Disabled,
    Inspector,
    Supervisor,
    Admin,
}

const CALLERS: [Caller; 7] = [
    Caller::NoToken,
    Caller::Expired,
    Caller::Revoked,
    Caller::Disabled,
    Caller::Inspector,
    Caller::Supervisor,
    Caller::Admin,
];

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    Pull,
    PushVenue,
    PushCampaign,
    EditInspection,
    CreateInspection,
    Review,
    Logout,
    Stats,
    Export,
    AddUser,
    PatchUser,
    ImportVenues,
}

/// What the cell must answer: an HTTP error status and code, or for a 200 push the mutation's outcome
/// (`applied` or the refusal code), or for a pull whether the unit's records are in it.
type Expected = &'static str;

/// One row per endpoint: for each caller in [`CALLERS`] order, (own unit, other unit).
const TABLE: [(Endpoint, [(Expected, Expected); 7]); 13] = {
    const DENIED: (Expected, Expected) = ("401 unauthorized", "401 unauthorized");
    [
        (Endpoint::Health, [("200", "200"); 7]),
        (
            Endpoint::Pull,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("sees", "blind"),
                ("sees", "blind"),
                ("sees", "sees"),
            ],
        ),
        (
            Endpoint::PushVenue,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("applied", "forbidden"),
                ("applied", "forbidden"),
                ("applied", "applied"),
            ],
        ),
        (
            Endpoint::PushCampaign,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("forbidden", "forbidden"),
                ("applied", "forbidden"),
                ("applied", "applied"),
            ],
        ),
        (
            // An edit of a colleague's submitted record: never without being named on it.
            Endpoint::EditInspection,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("not_yours", "forbidden"),
                ("not_yours", "forbidden"),
                ("not_yours", "not_yours"),
            ],
        ),
        (
            // A new record of one's own at a venue of the unit. An admin sees every unit, but a record
            // names only officers of its own unit.
            Endpoint::CreateInspection,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("applied", "forbidden"),
                ("applied", "forbidden"),
                ("applied", "unknown_inspector"),
            ],
        ),
        (
            Endpoint::Review,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("403 forbidden", "403 forbidden"),
                ("200", "404 not_found"),
                ("200", "200"),
            ],
        ),
        (
            Endpoint::Logout,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("204", "204"),
                ("204", "204"),
                ("204", "204"),
            ],
        ),
        // The unit's figures; "other" asks for unit B's with `unit=`, which only admins may.
        (
            Endpoint::Stats,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("403 forbidden", "403 forbidden"),
                ("200", "403 forbidden"),
                ("200", "200"),
            ],
        ),
        (
            Endpoint::Export,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("403 forbidden", "403 forbidden"),
                ("200", "403 forbidden"),
                ("200", "200"),
            ],
        ),
        // A new inspector in the unit.
        (
            Endpoint::AddUser,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("403 forbidden", "403 forbidden"),
                ("201", "403 forbidden"),
                ("201", "201"),
            ],
        ),
        // Renaming an inspector of the unit; another unit's users are not even found.
        (
            Endpoint::PatchUser,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("403 forbidden", "404 not_found"),
                ("200", "404 not_found"),
                ("200", "200"),
            ],
        ),
        (
            Endpoint::ImportVenues,
            [
                DENIED,
                DENIED,
                DENIED,
                DENIED,
                ("403 forbidden", "403 forbidden"),
                ("200", "403 forbidden"),
                ("200", "200"),
            ],
        ),
    ]
};

/// Unit A's and unit B's people and a venue each.
struct World {
    fixture: Fixture,
    insp_a_token: String,
    insp_b_token: String,
    venue_a: String,
    venue_b: String,
    admin: User,
    supervisor: User,
}

impl World {
    async fn new() -> anyhow::Result<World> {
        let fixture = fixture().await?;
        for name in ["expired_a", "revoked_a", "disabled_a"] {
            add(&fixture.state.pool, name, Role::Inspector, UNIT_A).await?;
        }
        let insp_a_token = fixture.login("insp_a").await?;
        let insp_b_token = fixture.login("insp_b").await?;
        let venue_a = fixture
            .venue(&insp_a_token, &fixture.insp_a, VenueKind::InternetCafe)
            .await?;
        let venue_b = fixture
            .venue(&insp_b_token, &fixture.insp_b, VenueKind::InternetCafe)
            .await?;
        let user_of = |username: &str| {
            let fixture = &fixture;
            let username = username.to_owned();
            async move {
                let answer = fixture
                    .post(
                        "/api/auth/login",
                        None,
                        &json!({"username": username, "password": PASSWORD}),
                    )
                    .await?;
                anyhow::Ok(serde_json::from_value::<User>(answer.body["user"].clone())?)
            }
        };
        let admin = user_of("admin").await?;
        let supervisor = user_of("super_a").await?;
        Ok(World {
            fixture,
            insp_a_token,
            insp_b_token,
            venue_a,
            venue_b,
            admin,
            supervisor,
        })
    }

    /// A fresh token for the caller (a fresh one per cell: logout revokes it).
    async fn token(&self, caller: Caller) -> anyhow::Result<Option<String>> {
        let app = &self.fixture;
        Ok(match caller {
            Caller::NoToken => None,
            Caller::Expired => {
                let token = app.login("expired_a").await?;
                sqlx::query("UPDATE tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE user_id = (SELECT id FROM users WHERE username = 'expired_a')")
                    .execute(&app.state.pool)
                    .await?;
                Some(token)
            }
            Caller::Revoked => {
                let token = app.login("revoked_a").await?;
                app.call("POST", "/api/auth/logout", Some(&token), None)
                    .await?;
                Some(token)
            }
            Caller::Disabled => {
                sqlx::query("UPDATE users SET disabled_at = NULL WHERE username = 'disabled_a'")
                    .execute(&app.state.pool)
                    .await?;
                let token = app.login("disabled_a").await?;
                // Disabled behind the token's back: the token itself is not revoked, the account is.
                sqlx::query("UPDATE users SET disabled_at = '2026-01-01T00:00:00.000Z' WHERE username = 'disabled_a'")
                    .execute(&app.state.pool)
                    .await?;
                Some(token)
            }
            Caller::Inspector => Some(app.login("insp_a2").await?),
            Caller::Supervisor => Some(app.login("super_a").await?),
            Caller::Admin => Some(app.login("admin").await?),
        })
    }

    fn caller_user(&self, caller: Caller) -> User {
        match caller {
            Caller::Supervisor => self.supervisor.clone(),
            Caller::Admin => self.admin.clone(),
            _ => self.fixture.insp_a2.clone(),
        }
    }

    /// A submitted inspection by the unit's own inspector, for edits and reviews.
    async fn colleagues_record(&self, own_unit: bool) -> anyhow::Result<(String, Value)> {
        let (token, venue, author) = if own_unit {
            (&self.insp_a_token, &self.venue_a, &self.fixture.insp_a)
        } else {
            (&self.insp_b_token, &self.venue_b, &self.fixture.insp_b)
        };
        let id = new_id();
        let body = self.fixture.inspection_body(&id, venue, author);
        self.fixture
            .push_ok(token, mutation("inspection", &id, 0, body.clone()))
            .await?;
        Ok((id, body))
    }

    async fn run(
        &self,
        endpoint: Endpoint,
        caller: Caller,
        own_unit: bool,
    ) -> anyhow::Result<String> {
        let app = &self.fixture;
        let token = self.token(caller).await?;
        let token = token.as_deref();
        let unit_user = if own_unit { &app.insp_a } else { &app.insp_b };
        let venue = if own_unit {
            &self.venue_a
        } else {
            &self.venue_b
        };
        let push = |mutation: Value| async move {
            app.post(
                "/api/sync/push",
                token,
                &json!({"device_id": DEVICE, "mutations": [mutation]}),
            )
            .await
        };
        let unit_query = if own_unit {
            String::new()
        } else {
            format!("&unit={}", app.insp_b.unit_id)
        };
        let answer = match endpoint {
            Endpoint::Stats => {
                let path = format!("/api/stats?from=2026-01-01&to=2026-12-31{unit_query}");
                app.call("GET", &path, token, None).await?
            }
            Endpoint::Export => {
                let path = format!("/api/export.csv?from=2026-01-01&to=2026-12-31{unit_query}");
                app.call("GET", &path, token, None).await?
            }
            Endpoint::AddUser => {
                app.post(
                    "/api/users",
                    token,
                    &json!({"username": format!("new_{}", new_id()), "name": "新队员",
                            "role": "inspector", "password": "a long password",
                            "unit_id": unit_user.unit_id}),
                )
                .await?
            }
            Endpoint::PatchUser => {
                let target = if own_unit {
                    &app.partner_a
                } else {
                    &app.partner_b
                };
                app.call(
                    "PATCH",
                    &format!("/api/users/{}", target.id),
                    token,
                    Some(json!({"name": "改名"}).to_string()),
                )
                .await?
            }
            Endpoint::ImportVenues => {
                let query = if own_unit {
                    String::new()
                } else {
                    format!("?unit={}", app.insp_b.unit_id)
                };
                let csv = "场所名称,场所类型\r\n导入网吧,网吧\r\n".as_bytes().to_vec();
                match token {
                    Some(token) => {
                        super::supervisor::import(app, token, &query, "text/csv", csv).await?
                    }
                    None => app.call("POST", "/api/venues/import", None, None).await?,
                }
            }
            Endpoint::Health => app.call("GET", "/api/health", token, None).await?,
            Endpoint::Logout => app.call("POST", "/api/auth/logout", token, None).await?,
            Endpoint::Pull => {
                app.call("GET", "/api/sync/pull?limit=1000", token, None)
                    .await?
            }
            Endpoint::PushVenue => {
                let id = new_id();
                push(mutation(
                    "venue",
                    &id,
                    0,
                    venue_body(&id, unit_user, VenueKind::Arcade),
                ))
                .await?
            }
            Endpoint::PushCampaign => {
                let id = new_id();
                push(mutation(
                    "campaign",
                    &id,
                    0,
                    json!({"id": id, "name": "专项", "venue_kinds": ["hotel"], "starts_on": "2026-11-01",
                           "ends_on": "2026-12-31", "unit_id": unit_user.unit_id}),
                ))
                .await?
            }
            Endpoint::EditInspection => {
                let (id, body) = self.colleagues_record(own_unit).await?;
                push(mutation(
                    "inspection",
                    &id,
                    1,
                    with(body, "/notes", json!("改写")),
                ))
                .await?
            }
            Endpoint::CreateInspection => {
                let id = new_id();
                let me = self.caller_user(caller);
                push(mutation(
                    "inspection",
                    &id,
                    0,
                    app.inspection_body(&id, venue, &me),
                ))
                .await?
            }
            Endpoint::Review => {
                let (id, _) = self.colleagues_record(own_unit).await?;
                app.post(
                    &format!("/api/inspections/{id}/review"),
                    token,
                    &json!({"decision": "approve", "rev": 1}),
                )
                .await?
            }
        };
        Ok(match (endpoint, answer.status) {
            (Endpoint::Pull, StatusCode::OK) => {
                let sees = answer.body["changes"].as_array().is_some_and(|changes| {
                    changes.iter().any(|change| change["id"] == json!(venue))
                });
                if sees { "sees" } else { "blind" }.to_owned()
            }
            (
                Endpoint::PushVenue
                | Endpoint::PushCampaign
                | Endpoint::EditInspection
                | Endpoint::CreateInspection,
                StatusCode::OK,
            ) => {
                let result = &answer.body["results"][0];
                match result["status"].as_str() {
                    Some("applied") => "applied".to_owned(),
                    _ => result["error"]["code"]
                        .as_str()
                        .unwrap_or("no code")
                        .to_owned(),
                }
            }
            (_, status) if status.is_success() => status.as_u16().to_string(),
            (_, status) => format!(
                "{} {}",
                status.as_u16(),
                answer.body["error"]["code"].as_str().unwrap_or("?")
            ),
        })
    }
}

#[tokio::test]
async fn every_endpoint_checks_role_and_unit_for_every_kind_of_caller() -> TestResult {
    let world = World::new().await?;
    let mut n_cells = 0;
    let mut wrong = Vec::new();
    for (endpoint, row) in TABLE {
        for (caller, (own, other)) in CALLERS.into_iter().zip(row) {
            for (own_unit, expected) in [(true, own), (false, other)] {
                let got = world.run(endpoint, caller, own_unit).await?;
                n_cells += 1;
                if got != expected {
                    wrong.push(format!(
                        "{endpoint:?} × {caller:?} × {}: expected {expected}, got {got}",
                        if own_unit { "own" } else { "other" }
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {n_cells} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(n_cells, 182);
    Ok(())
}
