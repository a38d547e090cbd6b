//! /admin (人员与场所管理): officers (add, edit name, role and 执法证号, reset password, disable) and the
//! venue register imported from a spreadsheet with a preview that names each bad row. Supervisors
//! manage their own unit's inspectors; admins every unit. Needs the server: every change is audited
//! there.

use fieldcheck_core::import::{FileProblem, ImportReport, RowAction};
use fieldcheck_core::sync::{NewUserRequest, Officer, UserPatch};
use fieldcheck_core::{Role, UnitId, Venue, VenueKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::components::{Icon, IconName};
use crate::i18n::{Lang, use_i18n};
use crate::media::blob_bytes;
use crate::pages::record_actions::online_error;
use crate::store::use_store;
use crate::sync::{SyncError, use_sync};

/// How an action went: what to say, green or red.
type Said = Result<String, String>;
type Outcome = RwSignal<Option<Said>>;
/// Whose row an outcome is said in: an officer's id, or `None` for the new-officer form.
type Whose = Option<String>;

/// The administration screen. Each part says how its last action went beside its own form, not at
/// the top of a long page.
#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    view! {
        <section class="page admin-page">
            <h2 class="section-title">{move || i18n.lang().pick("执法人员", "Officers")}</h2>
            <Officers />
            <Show when=move || sync.session().is_some_and(|session| session.user.role == Role::Admin)>
                <h2 class="section-title">{move || i18n.lang().pick("单位", "Units")}</h2>
                <NewUnit />
            </Show>
            <h2 class="section-title">{move || i18n.lang().pick("场所台账", "Venue register")}</h2>
            <VenueRegister />
            <h2 class="section-title">{move || i18n.lang().pick("导入场所台账", "Import the venue register")}</h2>
            <VenueImport />
        </section>
    }
}

/// How an action went: a green status or a red alert, nothing before the first.
#[component]
fn OutcomeBanner(#[prop(into)] said: Signal<Option<Said>>) -> impl IntoView {
    move || {
        said.get().map(|said| match said {
            Ok(text) => view! { <p class="banner banner-ok" role="status" data-testid="admin-ok">{text}</p> }.into_any(),
            Err(text) => view! { <p class="banner banner-error" role="alert" data-testid="admin-error">{text}</p> }.into_any(),
        })
    }
}

/// Adds a unit (admins): a brigade or section whose officers see each other's records.
#[component]
fn NewUnit() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let message: Outcome = RwSignal::new(None);
    let name = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let add = move |_| {
        let lang = i18n.lang();
        let unit_name = name.get_untracked().trim().to_owned();
        if unit_name.is_empty() || sending.get_untracked() {
            return;
        }
        sending.set(true);
        spawn_local(async move {
            let result = sync.add_unit(&unit_name).await;
            sending.set(false);
            message.set(Some(match result {
                Ok(unit) => {
                    name.set(String::new());
                    Ok(format!(
                        "{}{}",
                        lang.pick("已添加单位：", "Unit added: "),
                        unit.name
                    ))
                }
                Err(error) => Err(online_error(lang, &error)),
            }));
        });
    };
    view! {
        <div class="group form">
            <input class="input" data-testid="new-unit" prop:value=move || name.get()
                on:input=move |e| name.set(event_target_value(&e))
                placeholder=move || i18n.lang().pick("单位名称，如 洛阳市涧西区文化市场综合执法大队", "Unit name") />
            <div class="actions">
                <button type="button" class="button button-secondary" disabled=move || sending.get() on:click=add>
                    {move || i18n.lang().pick("添加单位", "Add unit")}
                </button>
            </div>
        </div>
        <OutcomeBanner said=message />
    }
}

#[component]
fn Officers() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let version = RwSignal::new(0u32);
    let officers = LocalResource::new(move || {
        let _ = version.get();
        async move { sync.officers_online().await }
    });
    let is_admin = move || {
        sync.session()
            .is_some_and(|session| session.user.role == Role::Admin)
    };
    // The last action's outcome: of the new-officer form (`None`), or of the officer with this id,
    // said in that officer's row. Kept here, not in the row: a change redraws the list, rows and all.
    let said: RwSignal<Option<(Whose, Said)>> = RwSignal::new(None);
    let said_of = move |who: Whose| {
        Signal::derive(move || {
            said.with(|said| {
                said.as_ref()
                    .filter(|(of, _)| *of == who)
                    .map(|(_, result)| result.clone())
            })
        })
    };
    let done_of = move |who: Whose| {
        Callback::new(move |result: Result<String, String>| {
            if result.is_ok() {
                version.update(|version| *version += 1);
            }
            said.set(Some((who.clone(), result)));
        })
    };
    view! {
        <NewOfficer done=done_of(None) is_admin=Signal::derive(is_admin) />
        <OutcomeBanner said=said_of(None) />
        {move || match officers.get() {
            None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
            Some(Err(error)) => view! {
                <p class="banner banner-error" role="alert">{online_error(i18n.lang(), &error)}</p>
            }.into_any(),
            Some(Ok(officers)) => view! {
                <ul class="group list" data-testid="officers">
                    {officers.into_iter().map(|officer| {
                        let who = Some(officer.user.id.to_string());
                        view! {
                            <OfficerRow officer done=done_of(who.clone()) said=said_of(who) is_admin=Signal::derive(is_admin) />
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        }}
    }
}

fn role_options(lang: Lang, is_admin: bool) -> Vec<(Role, &'static str)> {
    let all = [Role::Inspector, Role::Supervisor, Role::Admin];
    all.into_iter()
        .filter(|role| is_admin || *role == Role::Inspector)
        .map(|role| (role, lang.role(role)))
        .collect()
}

#[component]
fn OfficerRow(
    officer: Officer,
    done: Callback<Result<String, String>>,
    said: Signal<Option<Result<String, String>>>,
    is_admin: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let editing = RwSignal::new(false);
    let name = RwSignal::new(officer.user.name.clone());
    let cert = RwSignal::new(officer.user.cert_no.clone().unwrap_or_default());
    let role = RwSignal::new(officer.user.role);
    let password = RwSignal::new(String::new());
    let id = StoredValue::new(officer.user.id.to_string());
    let active = officer.active;
    let patch = move |patch: UserPatch, said: (&'static str, &'static str)| {
        let lang = i18n.lang();
        spawn_local(async move {
            let result = sync.patch_user(&id.get_value(), &patch).await;
            done.run(
                result
                    .map(|_| lang.pick(said.0, said.1).to_owned())
                    .map_err(|error| online_error(lang, &error)),
            );
        });
    };
    let save = move |_| {
        patch(
            UserPatch {
                name: Some(name.get_untracked()),
                cert_no: Some(cert.get_untracked()),
                role: Some(role.get_untracked()),
                active: None,
            },
            ("已保存。", "Saved."),
        );
        editing.set(false);
    };
    let reset = move |_| {
        let lang = i18n.lang();
        let new_password = password.get_untracked();
        // What the server would refuse, said before anything is sent; the typed password is kept.
        if let Some(problem) = password_problem(&new_password) {
            done.run(Err(lang.pick(problem.0, problem.1).to_owned()));
            return;
        }
        spawn_local(async move {
            let result = sync.reset_password(&id.get_value(), new_password).await;
            if result.is_ok() {
                password.set(String::new());
            }
            done.run(
                result
                    .map(|()| {
                        lang.pick(
                            "密码已重置，该人员需用新密码重新登录。",
                            "Password reset: they log in again with the new one.",
                        )
                        .to_owned()
                    })
                    .map_err(|error| online_error(lang, &error)),
            );
        });
    };
    let username = officer.user.username.clone();
    let username_attr = username.clone();
    let cert_no = officer.user.cert_no.clone().filter(|cert| !cert.is_empty());
    let unit_name = officer.user.unit_name.clone();
    let role_now = officer.user.role;
    view! {
        <li class="cell officer-row" data-testid="officer" data-username=username_attr data-active=active.to_string()>
            <span class="cell-main">
                <span class="cell-title">{officer.user.name.clone()} {(!active).then(|| view! { <span class="chip">{move || i18n.lang().pick("已停用", "Disabled")}</span> })}</span>
                <span class="cell-sub">{move || {
                    let lang = i18n.lang();
                    let mut parts = vec![username.clone(), lang.role(role_now).to_owned()];
                    parts.extend(cert_no.clone());
                    // An admin sees every unit's officers: say whose they are.
                    if is_admin.get() {
                        parts.push(unit_name.clone());
                    }
                    parts.join(" · ")
                }}</span>
                <Show when=move || editing.get()>
                    <div class="form">
                        <input class="input" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))
                            aria-label=move || i18n.lang().pick("姓名", "Name") />
                        <input class="input" prop:value=move || cert.get() on:input=move |e| cert.set(event_target_value(&e))
                            placeholder=move || i18n.lang().pick("执法证号", "Certificate no.") />
                        <select class="input" on:change=move |e| {
                            if let Some(picked) = Role::from_code(&event_target_value(&e)) { role.set(picked); }
                        }>
                            {move || role_options(i18n.lang(), is_admin.get()).into_iter().map(|(option, label)| view! {
                                <option value=option.code() selected=move || role.get() == option>{label}</option>
                            }).collect_view()}
                        </select>
                        <div class="actions">
                            <button type="button" class="button button-primary" on:click=save>{move || i18n.lang().pick("保存", "Save")}</button>
                        </div>
                        <input class="input" type="password" autocomplete="new-password" prop:value=move || password.get()
                            on:input=move |e| password.set(event_target_value(&e))
                            placeholder=move || i18n.lang().pick("新密码（至少8位）", "New password (8+ characters)") />
                        <div class="actions actions-wrap">
                            <button type="button" class="button button-secondary" data-testid="reset-password" on:click=reset>
                                {move || i18n.lang().pick("重置密码", "Reset password")}
                            </button>
                            <button type="button" class="button button-secondary" data-testid="toggle-active"
                                on:click=move |_| patch(
                                    UserPatch { active: Some(!active), ..UserPatch::default() },
                                    if active { ("已停用，其登录已全部失效。", "Disabled: every login of theirs is revoked.") } else { ("已启用。", "Enabled.") },
                                )>
                                {move || if active { i18n.lang().pick("停用", "Disable") } else { i18n.lang().pick("启用", "Enable") }}
                            </button>
                        </div>
                    </div>
                </Show>
                <OutcomeBanner said />
            </span>
            <button type="button" class="button button-secondary button-small" data-testid="edit-officer"
                on:click=move |_| editing.update(|editing| *editing = !*editing)>
                {move || i18n.lang().pick("编辑", "Edit")}
            </button>
        </li>
    }
}

#[component]
fn NewOfficer(done: Callback<Result<String, String>>, is_admin: Signal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let open = RwSignal::new(false);
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let cert = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Inspector);
    let password = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let units = LocalResource::new(move || async move { sync.units().await });
    let own_unit = StoredValue::new(
        sync.session_untracked()
            .map(|session| session.user.unit_id.to_string()),
    );
    // The unit the form shows and sends: the one picked, else the administrator's own.
    let shown_unit = move |picked: &String| -> Option<String> {
        if picked.is_empty() {
            own_unit.get_value()
        } else {
            Some(picked.clone())
        }
    };
    let add = move |_| {
        let lang = i18n.lang();
        // What the server would refuse, said here in the officer's words before anything is sent.
        if let Some(problem) = new_officer_problem(
            &username.get_untracked(),
            &name.get_untracked(),
            &password.get_untracked(),
        ) {
            done.run(Err(lang.pick(problem.0, problem.1).to_owned()));
            return;
        }
        let request = NewUserRequest {
            username: username.get_untracked().trim().to_owned(),
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            cert_no: Some(cert.get_untracked()).filter(|cert| !cert.trim().is_empty()),
            password: password.get_untracked(),
            // The unit the form shows, sent as shown (an administrator's only: a team leader files
            // officers in their own unit, which the server takes when none is named).
            unit_id: is_admin
                .get_untracked()
                .then(|| shown_unit(&unit.get_untracked()))
                .flatten()
                .map(UnitId),
        };
        spawn_local(async move {
            match sync.add_user(&request).await {
                Ok(officer) => {
                    open.set(false);
                    username.set(String::new());
                    name.set(String::new());
                    cert.set(String::new());
                    password.set(String::new());
                    done.run(Ok(format!(
                        "{}{}",
                        lang.pick("已添加：", "Added: "),
                        officer.user.name
                    )));
                }
                Err(error) => done.run(Err(online_error(lang, &error))),
            }
        });
    };
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button type="button" class="button button-primary button-block" data-testid="add-officer"
                on:click=move |_| open.set(true)>
                {move || i18n.lang().pick("添加人员", "Add an officer")}
            </button>
        }>
            <div class="group form" data-testid="officer-form">
                // Labelled, not only by placeholders: once filled, each field still says what it is.
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("登录名", "Username")}</span>
                    <input class="input" data-testid="new-username" autocomplete="off" prop:value=move || username.get()
                        on:input=move |e| username.set(event_target_value(&e)) />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("姓名", "Name")}</span>
                    <input class="input" data-testid="new-name" prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e)) />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("执法证号", "Certificate no.")}</span>
                    <input class="input" data-testid="new-cert" prop:value=move || cert.get()
                        on:input=move |e| cert.set(event_target_value(&e)) />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("角色", "Role")}</span>
                    <select class="input" on:change=move |e| {
                        if let Some(picked) = Role::from_code(&event_target_value(&e)) { role.set(picked); }
                    }>
                        {move || role_options(i18n.lang(), is_admin.get()).into_iter().map(|(option, label)| view! {
                            <option value=option.code() selected=move || role.get() == option>{label}</option>
                        }).collect_view()}
                    </select>
                </label>
                {move || (is_admin.get()).then(|| view! {
                    <label class="field">
                        <span class="field-label">{move || i18n.lang().pick("所属单位", "Unit")}</span>
                        <select class="input" on:change=move |e| unit.set(event_target_value(&e))>
                            // The unit shown is the one sent: none picked yet is the administrator's own,
                            // which the server files the officer in, whatever unit the list names first.
                            {move || units.get().and_then(Result::ok).map(|units| units.units.into_iter().map(|option| {
                                let id = option.id.to_string();
                                let shown = id.clone();
                                view! {
                                    <option value=id selected=move || {
                                        unit.with(|unit| shown_unit(unit)).as_deref() == Some(shown.as_str())
                                    }>{option.name}</option>
                                }
                            }).collect_view())}
                        </select>
                    </label>
                })}
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("初始密码", "First password")}</span>
                    <input class="input" type="password" data-testid="new-password" autocomplete="new-password" prop:value=move || password.get()
                        on:input=move |e| password.set(event_target_value(&e)) placeholder=move || i18n.lang().pick("至少8位", "8+ characters") />
                </label>
                <div class="actions">
                    <button type="button" class="button button-secondary" on:click=move |_| open.set(false)>{move || i18n.t().cancel}</button>
                    <button type="button" class="button button-primary" data-testid="save-officer" on:click=add>{move || i18n.lang().pick("添加", "Add")}</button>
                </div>
            </div>
        </Show>
    }
}

/// The first thing wrong with a new officer's form, in Chinese and English; `None` when it may go.
fn new_officer_problem(
    username: &str,
    name: &str,
    password: &str,
) -> Option<(&'static str, &'static str)> {
    let username = username.trim();
    if username.is_empty() {
        return Some(("请填写登录名。", "Enter a username."));
    }
    if username.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Some((
            "登录名不能含空格。",
            "The username must not contain spaces.",
        ));
    }
    if name.trim().is_empty() {
        return Some(("请填写姓名。", "Enter the officer's name."));
    }
    password_problem(password)
}

/// What is wrong with a password an officer is given (the server's rule), or `None`.
fn password_problem(password: &str) -> Option<(&'static str, &'static str)> {
    (password.trim().is_empty() || password.chars().count() < 8).then_some((
        "密码至少8位，且不能全是空格。",
        "The password needs 8 or more characters, not only spaces.",
    ))
}

/// The unit's venues on the phone: field registrations to confirm first, closed ones marked, each
/// with its edit form.
#[component]
fn VenueRegister() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let search = RwSignal::new(String::new());
    let venues = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        async move { store.list_venues("").await }
    });
    view! {
        <div class="group form">
            <input class="input" type="search" data-testid="register-search" prop:value=move || search.get()
                on:input=move |e| search.set(event_target_value(&e))
                placeholder=move || i18n.lang().pick("场所名称/拼音首字母/许可证号", "Name, initials or licence no.") />
        </div>
        // Borrowed, not cloned: a keystroke copies nothing of the register but what it draws.
        {move || venues.with(|listed| listed.as_ref().map(|listed| match listed {
            Err(error) => view! { <p class="banner banner-error" role="alert">{error.to_string()}</p> }.into_any(),
            Ok(listed) => {
                let lang = i18n.lang();
                let query = search.get();
                let mut matching: Vec<&Venue> = listed.items.iter().filter(|venue| venue.matches(&query)).collect();
                matching.sort_by_key(|venue| !venue.field_registered);
                let total = matching.len();
                view! {
                    <ul class="group list" data-testid="register">
                        {matching.into_iter().take(50).map(|venue| view! {
                            <li>
                                <a class="cell cell-link" data-testid="register-venue" href=format!("/venues/{}/edit", venue.id)>
                                    <span class="cell-main">
                                        <span class="cell-title">{venue.name.clone()}</span>
                                        <span class="cell-sub">{
                                            [lang.venue_kind(venue.kind).to_owned(), venue.licence_no.clone(), venue.address.clone()]
                                                .into_iter()
                                                .filter(|part| !part.is_empty())
                                                .collect::<Vec<_>>()
                                                .join(" · ")
                                        }</span>
                                        <span class="chips">
                                            {venue.field_registered.then(|| view! { <span class="chip chip-returned">{lang.pick("现场登记待核实", "Registered in the field: check")}</span> })}
                                            {(!venue.active).then(|| view! { <span class="chip">{lang.pick("停业", "Closed")}</span> })}
                                        </span>
                                    </span>
                                    <Icon name=IconName::Chevron />
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                    {(total > 50).then(|| view! { <p class="small records-count">{match lang {
                        Lang::Zh => format!("共 {total} 家，请搜索查找其余场所"),
                        Lang::En => format!("{total} venues: search to find the rest"),
                    }}</p> })}
                }.into_any()
            }
        }))}
    }
}

#[component]
fn VenueImport() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let message: Outcome = RwSignal::new(None);
    let file = RwSignal::new(None::<(String, Vec<u8>)>);
    let report = RwSignal::new(None::<ImportReport>);
    let busy = RwSignal::new(false);
    let send = move |commit: bool| {
        let Some((content_type, bytes)) = file.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        let lang = i18n.lang();
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            let result = sync.import_venues(&content_type, &bytes, commit).await;
            busy.set(false);
            match result {
                Ok(answer) => {
                    if answer.committed {
                        message.set(Some(Ok(match lang {
                            Lang::Zh => format!(
                                "已导入：新增{}家，更新{}家。",
                                answer.created, answer.updated
                            ),
                            Lang::En => format!(
                                "Imported: {} new, {} updated.",
                                answer.created, answer.updated
                            ),
                        })));
                    }
                    report.set(Some(answer));
                }
                Err(error) => {
                    // A report of an earlier file would read as this one's.
                    report.set(None);
                    message.set(Some(Err(import_refused(lang, &error))));
                }
            }
        });
    };
    let picked = move |event: leptos::ev::Event| {
        let Some(input) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(picked) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        let content_type = if picked.name().to_lowercase().ends_with(".csv") {
            "text/csv".to_owned()
        } else {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()
        };
        spawn_local(async move {
            match blob_bytes(&picked).await {
                Ok(bytes) => {
                    file.set(Some((content_type, bytes)));
                    send(false);
                }
                Err(error) => message.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        <div class="group">
            <p class="small">{move || i18n.lang().pick(
                "Excel（.xlsx）或 CSV，第1行为表头：场所名称、场所类型、许可证号、地址、联系人、联系电话、纬度、经度、状态。许可证号已存在的场所会被更新。",
                "Excel (.xlsx) or CSV; row 1 names the columns: 场所名称 (name), 场所类型 (kind), 许可证号 (licence no.), 地址 (address), 联系人 (contact), 联系电话 (phone), 纬度 (latitude), 经度 (longitude), 状态 (正常 open or 停业 closed). A licence number already in the register updates that venue.",
            )}</p>
            <p class="small" data-testid="import-kinds">{move || {
                let lang = i18n.lang();
                let kinds: Vec<&str> = VenueKind::ALL.into_iter().map(|kind| lang.venue_kind(kind)).collect();
                match lang {
                    Lang::Zh => format!("场所类型填以下之一：{}。", kinds.join("、")),
                    Lang::En => format!("场所类型 is one of: {} (or its Chinese name).", kinds.join(", ")),
                }
            }}</p>
            <input type="file" class="input" data-testid="import-file"
                accept=".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                on:change=picked />
        </div>
        {move || busy.get().then(|| view! { <p class="empty" role="status">{i18n.t().loading}</p> })}
        {move || report.get().map(|report| {
            let lang = i18n.lang();
            let committed = report.committed;
            let n_good = report.created + report.updated;
            view! {
                <p class="small" data-testid="import-summary">{match lang {
                    Lang::Zh => format!("新增{}家，更新{}家，无变化{}家，有问题{}行。", report.created, report.updated, report.unchanged, report.bad),
                    Lang::En => format!("{} new, {} updated, {} unchanged, {} bad rows.", report.created, report.updated, report.unchanged, report.bad),
                }}</p>
                <ul class="group list" data-testid="import-rows">
                    {report.rows.into_iter().map(|row| {
                        let bad = !row.problems.is_empty();
                        let action = match row.action {
                            RowAction::Create => lang.pick("新增", "New"),
                            RowAction::Update => lang.pick("更新", "Update"),
                            RowAction::Unchanged => lang.pick("无变化", "Unchanged"),
                            RowAction::Skip => lang.pick("跳过", "Skipped"),
                        };
                        view! {
                            <li class=if bad { "cell import-row bad" } else { "cell import-row" } data-testid="import-row" data-bad=bad.to_string()>
                                <span class="cell-main">
                                    <span class="cell-title">{match lang { Lang::Zh => format!("第{}行 {}", row.row, row.name), Lang::En => format!("Row {} {}", row.row, row.name) }}</span>
                                    {row.problems.into_iter().map(|problem| view! {
                                        <span class="cell-sub problem">{match lang { Lang::Zh => problem.zh, Lang::En => problem.en }}</span>
                                    }).collect_view()}
                                </span>
                                <span class="chip">{action}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {(!committed && n_good > 0).then(|| view! {
                    <button type="button" class="button button-primary button-block" data-testid="import-commit"
                        disabled=move || busy.get() on:click=move |_| send(true)>
                        {match lang {
                            Lang::Zh => format!("导入{n_good}家（跳过有问题的行）"),
                            Lang::En => format!("Import {n_good} venues (skipping bad rows)"),
                        }}
                    </button>
                })}
            }
        })}
        <OutcomeBanner said=message />
    }
}

/// Why a file was not read as a register, in the officer's language when the server named it.
fn import_refused(lang: Lang, error: &SyncError) -> String {
    match error {
        SyncError::Server { code, .. } => match FileProblem::from_code(code) {
            Some(problem) => match lang {
                Lang::Zh => problem.zh(),
                Lang::En => problem.en(),
            },
            None => online_error(lang, error),
        },
        other => online_error(lang, other),
    }
}
