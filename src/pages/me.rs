//! /me (我的): who is logged in, the language, whether the browser keeps the data, sync, log out.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ConflictTable, Icon, IconName, InstallCell, SyncChip};
use crate::i18n::{Lang, use_i18n};
use crate::router::use_navigate;
use crate::store::{
    Awaiting, Resolution, StorageEstimate, is_persisted, meta_keys, storage_estimate, use_store,
};
use crate::sync::use_sync;
use fieldcheck_core::merge::diff_since;
use fieldcheck_core::sync::Entity;

/// What the browser says about keeping this site's data.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StorageState {
    /// The answer to `persist()` at login, if it was asked.
    asked: Option<Option<bool>>,
    /// `persisted()` now.
    now: Option<bool>,
    estimate: Option<StorageEstimate>,
}

/// Where 退出登录 stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logout {
    /// A tap logs out, once the counts say nothing waits to be sent.
    Ready,
    /// The counts are awaited (they come with the sync's code): the button waits too.
    Checking,
    /// Records wait to be sent: a second tap logs out anyway.
    Unsynced,
    /// The counts could not be read in time: whether anything waits is unknown, and said so.
    Unknown,
}

impl Logout {
    fn asks_to_confirm(self) -> bool {
        matches!(self, Logout::Unsynced | Logout::Unknown)
    }
}

/// How long 退出登录 waits for the counts of what waits to be sent before it asks to confirm.
const COUNTED_WITHIN_MS: u32 = 3_000;

/// The "me" screen.
#[component]
pub fn MePage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let navigate = use_navigate();
    let logout = RwSignal::new(Logout::Ready);
    let error = RwSignal::new(None::<String>);

    let storage_store = store.clone();
    let storage = LocalResource::new(move || {
        let store = storage_store.clone();
        async move {
            let asked = match store
                .meta_get::<Option<bool>>(meta_keys::STORAGE_PERSISTED)
                .await
            {
                Ok(asked) => asked,
                Err(meta_error) => {
                    leptos::logging::error!("{meta_error}");
                    None
                }
            };
            StorageState {
                asked,
                now: is_persisted().await,
                estimate: storage_estimate().await,
            }
        }
    });

    // How many months of colleagues' records the phone keeps (older settled ones go after a sync).
    let keep_months = RwSignal::new(None::<u32>);
    {
        let store = store.clone();
        leptos::task::spawn_local(async move {
            match store.keep_months().await {
                Ok(months) => keep_months.set(Some(months)),
                Err(meta_error) => leptos::logging::error!("{meta_error}"),
            }
        });
    }
    let keep_store = store.clone();
    let choose_keep = move |value: String| {
        let Ok(months) = value.parse::<u32>() else {
            return;
        };
        let store = keep_store.clone();
        leptos::task::spawn_local(async move {
            match store.set_keep_months(months).await {
                Ok(()) => {
                    keep_months.set(Some(months));
                    sync.kick();
                }
                Err(store_error) => error.set(Some(store_error.to_string())),
            }
        });
    };

    let awaiting_store = store.clone();
    let awaiting = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = awaiting_store.clone();
        async move { store.awaiting_person().await }
    });
    let export_store = store.clone();
    let export_error = RwSignal::new(None::<String>);
    let export = move |_| {
        let store = export_store.clone();
        spawn_local(async move {
            let saved = crate::download::save_unsynced(store).await;
            export_error.set(saved.err().map(|failed| i18n.lang().save_failed(failed)));
        });
    };
    // The last resort's other half: a backup file brought back onto this phone, then synced.
    let import_store = store.clone();
    let imported = RwSignal::new(None::<String>);
    let import_error = RwSignal::new(None::<String>);
    let import = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&event);
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        // The same file picked again must fire `change` again.
        input.set_value("");
        let store = import_store.clone();
        spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            let Some(text) = text.ok().and_then(|text| text.as_string()) else {
                import_error.set(Some(i18n.t().import_unreadable.to_owned()));
                return;
            };
            match store.import_unsynced(&text).await {
                Ok(done) => {
                    import_error.set(None);
                    imported.set(Some(imported_text(i18n.lang(), &done)));
                    sync.resolved();
                }
                Err(store_error) => {
                    // What exactly did not read is for whoever supports the officer.
                    leptos::logging::warn!("import refused: {store_error}");
                    imported.set(None);
                    import_error.set(Some(import_refused(i18n.lang(), &store_error)));
                }
            }
        });
    };
    // A person's way out for records that need them: their edit kept, merged, the server's copy
    // (when known), or discard — the last two after a second tap, since they drop this phone's edit.
    let resolve_store = store.clone();
    // The record and the choice a first tap armed: each way out that drops this phone's edit asks
    // for a second tap.
    let armed = RwSignal::new(None::<(String, Resolution)>);
    let reviews = move || {
        sync.session()
            .is_some_and(|session| session.user.role.reviews())
    };
    // A first tap is for the copies shown then: the list read again (a pull may have brought a newer
    // server copy) asks for the first tap again.
    Effect::new(move |_| {
        awaiting.track();
        armed.set(None);
    });
    let resolve = Callback::new(
        move |(entity, id, resolution): (Entity, String, Resolution)| {
            let store = resolve_store.clone();
            spawn_local(async move {
                match store.resolve(entity, &id, resolution).await {
                    Ok(()) => {
                        armed.set(None);
                        sync.resolved();
                    }
                    Err(store_error) => {
                        armed.set(None);
                        error.set(Some(store_error.to_string()));
                    }
                }
            });
        },
    );
    let is_armed = move |id: &str, choice: Resolution| {
        armed.with(|armed| {
            armed
                .as_ref()
                .is_some_and(|(armed_id, armed_choice)| armed_id == id && *armed_choice == choice)
        })
    };
    let tap_twice = move |entity: Entity, id: &str, choice: Resolution| {
        if is_armed(id, choice) {
            resolve.run((entity, id.to_owned(), choice));
        } else {
            armed.set(Some((id.to_owned(), choice)));
        }
    };
    let awaiting_list = move || {
        let t = i18n.t();
        awaiting.get().map(|listed| match listed {
            Err(store_error) => view! {
                <p class="banner banner-error" role="alert">{t.err_store} ": " {store_error.to_string()}</p>
            }
            .into_any(),
            Ok(items) if items.is_empty() => {
                view! { <p class="empty" data-testid="awaiting-none">{t.awaiting_none}</p> }.into_any()
            }
            Ok(items) => view! {
                <ul class="group list" data-testid="awaiting">
                    {items
                        .into_iter()
                        .map(|item| {
                            let href = (item.entity == Entity::Inspection)
                                .then(|| format!("/records/{}", item.id));
                            let (entity, id) = (item.entity, item.id.clone());
                            // What it means for the officer, then the server's own words (which
                            // name the field at fault).
                            let meaning = i18n
                                .lang()
                                .refusal(&item.code)
                                .or_else(|| item.mergeable.then_some(t.merge_hint))
                                .or_else(|| {
                                    entity_compared(&item).then_some(i18n.lang().pick(
                                        "你修改这个场所期间，服务器上的场所信息也有了新的修改（可能来自同事或名录导入）。请对照下表，选择保留哪个版本。",
                                        "While you corrected this venue, the server's copy changed too (a colleague, or an import of the register). Compare them below and choose which to keep.",
                                    ))
                                });
                            let reason = (!item.reason.is_empty()).then(|| item.reason.clone());
                            // Known by the venue and the time; the record's number only when the
                            // phone cannot name it (unknown venue, unreadable record).
                            let title = if item.title.is_empty() {
                                format!("{} {}", i18n.lang().pick("记录", "Record"), item.id)
                            } else {
                                item.title.clone()
                            };
                            let when = item.started_at.map(|at| i18n.lang().datetime(&at));
                            // An inspection's conflict is settled on its own page, beside both copies;
                            // a venue has no page of its own, so both copies are compared here, and
                            // its ways out are offered beside them.
                            let compared = entity_compared(&item)
                                .then_some(item.sides)
                                .flatten()
                                .map(|sides| {
                                    // The initials follow the name on the server: not a choice.
                                    let rows: Vec<_> = diff_since(sides.base.as_ref(), &sides.mine, &sides.theirs)
                                        .into_iter()
                                        .filter(|row| row.field != "initials")
                                        .collect();
                                    view! { <ConflictTable entity=Entity::Venue rows /> }
                                });
                            // A venue of the register is the team leader's to change: an
                            // inspector's edit of one would only be refused.
                            let keepable = compared.is_some() && reviews();
                            let merge_id = (keepable && item.mergeable).then(|| id.clone());
                            let mine_id = keepable.then(|| id.clone());
                            let take_id = id.clone();
                            let take_label_id = id.clone();
                            let armed_id = id.clone();
                            let discard_id = id.clone();
                            view! {
                                <li class="cell cell-stack" data-testid="awaiting-row" data-state=item.mark.code()>
                                    <span class="cell-main">
                                        {match href {
                                            Some(href) => view! { <a href=href class="cell-title">{title}</a> }.into_any(),
                                            None => view! { <span class="cell-title">{title}</span> }.into_any(),
                                        }}
                                        {when.map(|when| view! { <span class="cell-sub">{when}</span> })}
                                        {meaning.map(|meaning| view! { <span class="cell-sub">{meaning}</span> })}
                                        {reason.map(|reason| view! { <span class="cell-sub small">{reason}</span> })}
                                        <SyncChip mark=item.mark />
                                        {compared}
                                    </span>
                                    <span class="actions actions-wrap">
                                        {merge_id.map(|merge_id| view! {
                                            <button type="button" class="button button-small" data-testid="awaiting-merge"
                                                on:click=move |_| resolve.run((entity, merge_id.clone(), Resolution::KeepMerged))>
                                                {t.keep_merged}
                                            </button>
                                        })}
                                        {mine_id.map(|mine_id| view! {
                                            <button type="button" class="button button-small" data-testid="awaiting-keep-mine"
                                                on:click=move |_| resolve.run((entity, mine_id.clone(), Resolution::KeepMine))>
                                                {t.keep_mine}
                                            </button>
                                        })}
                                        {item.server_copy.then(|| view! {
                                            <button type="button" class="button button-small" data-testid="awaiting-take-theirs"
                                                on:click=move |_| tap_twice(entity, &take_id, Resolution::TakeTheirs)>
                                                {move || if is_armed(&take_label_id, Resolution::TakeTheirs) { t.discard_confirm } else { t.take_server }}
                                            </button>
                                        })}
                                        <button type="button" class="button button-small button-danger" data-testid="awaiting-discard"
                                            on:click=move |_| tap_twice(entity, &discard_id, Resolution::Discard)>
                                            {move || if is_armed(&armed_id, Resolution::Discard) { t.discard_confirm } else { t.discard_mine }}
                                        </button>
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        })
    };

    let lang_store = store.clone();
    let switch_language = move |_| {
        let next = match i18n.lang() {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        };
        i18n.set(next);
        let store = lang_store.clone();
        spawn_local(async move {
            if let Err(store_error) = store.meta_set(meta_keys::LANG, &next).await {
                error.set(Some(store_error.to_string()));
            }
        });
    };

    let draft_keeper = crate::components::use_draft_keeper();
    let log_out = move |_| {
        let asked = logout.get_untracked();
        if asked == Logout::Checking {
            return;
        }
        // Given up if the officer leaves 我的 while the counts are waited for.
        leptos::task::spawn_local_scoped_with_cancellation(async move {
            if asked == Logout::Ready {
                // The counts come with the sync's code, a moment after the start, and again after
                // each save: waited for a little (the button says so meanwhile), and the officer
                // asked to confirm if they are still unread.
                if !sync.status().counted {
                    logout.set(Logout::Checking);
                }
                let mut waited_ms = 0;
                while !sync.status().counted && waited_ms < COUNTED_WITHIN_MS {
                    gloo_timers::future::TimeoutFuture::new(100).await;
                    waited_ms += 100;
                }
                let status = sync.status();
                if !status.counted {
                    logout.set(Logout::Unknown);
                    return;
                }
                if status.pending + status.waiting > 0 {
                    logout.set(Logout::Unsynced);
                    return;
                }
                logout.set(Logout::Ready);
            }
            match sync.log_out().await {
                Ok(()) => {
                    // The next officer is not told of this one's forms.
                    draft_keeper.forget_not_kept();
                    navigate.replace("/login");
                }
                Err(store_error) => error.set(Some(store_error.to_string())),
            }
        });
    };

    let storage_text = move || {
        let t = i18n.t();
        let lang = i18n.lang();
        storage.get().map(|state| {
            let persisted = state.now.or(state.asked.flatten());
            let verdict = match persisted {
                Some(true) => t.storage_persisted,
                Some(false) => t.storage_not_persisted,
                None => t.storage_unknown,
            };
            let used = state.estimate.map(|estimate| {
                lang.storage_used(estimate.usage / 1_048_576.0, estimate.quota / 1_048_576.0)
            });
            view! {
                <span class="cell-main">
                    <span data-testid="storage-persisted" data-persisted=persisted.map_or("unknown", |p| if p { "true" } else { "false" })>
                        {verdict}
                    </span>
                    {used.map(|used| view! { <span class="cell-sub">{used}</span> })}
                </span>
            }
        })
    };

    view! {
        <section class="page">
            {move || {
                let t = i18n.t();
                let lang = i18n.lang();
                sync.session()
                    .map(|session| {
                        let user = session.user;
                        let unit = unit_label(&user);
                        view! {
                            <div class="group">
                                <div class="cell">
                                    <span class="field-label">{t.name}</span>
                                    <span class="cell-value">{user.name}</span>
                                </div>
                                <div class="cell">
                                    <span class="field-label">{t.username}</span>
                                    <span class="cell-value">{user.username}</span>
                                </div>
                                <div class="cell">
                                    <span class="field-label">{t.role}</span>
                                    <span class="cell-value">{lang.role(user.role)}</span>
                                </div>
                                <div class="cell">
                                    <span class="field-label">{t.unit}</span>
                                    <span class="cell-value">{unit}</span>
                                </div>
                                {user.cert_no.map(|cert_no| view! {
                                    <div class="cell">
                                        <span class="field-label">{t.cert_no}</span>
                                        <span class="cell-value">{cert_no}</span>
                                    </div>
                                })}
                            </div>
                            <WorkLinks role=user.role />
                        }
                    })
            }}
            <div class="group">
                <div class="cell">
                    <span class="field-label" id="lang-label">{move || i18n.t().language}</span>
                    <button
                        type="button"
                        class="button button-small"
                        data-testid="lang-switch"
                        aria-describedby="lang-label"
                        on:click=switch_language
                    >
                        {move || match i18n.lang() {
                            Lang::Zh => view! { <span lang="en">"English"</span> },
                            Lang::En => view! { <span lang="zh-CN">"中文"</span> },
                        }}
                    </button>
                </div>
                <div class="cell">
                    <span class="field-label">{move || i18n.t().storage}</span>
                    {storage_text}
                </div>
                <div class="cell">
                    <label class="cell-main" for="keep-months">
                        <span class="field-label">{move || i18n.lang().pick("保留同事的记录", "Keep colleagues' records")}</span>
                        <span class="cell-sub">
                            {move || i18n.lang().pick(
                                "更早且已审核的同事记录在同步后从本机清理，服务器上仍保留",
                                "Older approved records of colleagues leave this phone after a sync; the server keeps them",
                            )}
                        </span>
                    </label>
                    <select id="keep-months" class="input input-inline" data-testid="keep-months"
                        on:change=move |e| choose_keep(event_target_value(&e))>
                        {move || fieldcheck_core::retention::KEEP_MONTHS_CHOICES.into_iter().map(|months| {
                            let lang = i18n.lang();
                            let label = if months == 0 {
                                lang.pick("全部保留", "All").to_owned()
                            } else {
                                format!("{}{months}{}", lang.pick("近", "Last "), lang.pick("个月", " months"))
                            };
                            view! {
                                <option value=months.to_string() selected=move || keep_months.get() == Some(months)>{label}</option>
                            }
                        }).collect_view()}
                    </select>
                </div>
                <InstallCell />
                <div class="cell">
                    <span class="field-label">{move || i18n.t().sync_state}</span>
                    <button type="button" class="button button-small" data-testid="sync-now" on:click=move |_| sync.kick()>
                        {move || i18n.t().sync_now}
                    </button>
                </div>
            </div>
            <h2 class="section-title">{move || i18n.t().awaiting_title}</h2>
            {awaiting_list}
            <div class="group">
                <div class="cell">
                    <span class="cell-main">
                        <span class="cell-sub">{move || i18n.t().export_hint}</span>
                    </span>
                    <button type="button" class="button button-small" data-testid="export-unsynced" on:click=export>
                        {move || i18n.t().export_unsynced}
                    </button>
                </div>
                <div class="cell">
                    <span class="cell-main">
                        <span class="cell-sub">{move || i18n.t().import_hint}</span>
                    </span>
                    <label class="button button-small" data-testid="import-unsynced">
                        {move || i18n.t().import_unsynced}
                        <input type="file" accept=".json,application/json" class="visually-hidden" on:change=import />
                    </label>
                </div>
            </div>
            {move || imported.get().map(|message| view! {
                <p class="banner banner-ok" role="status" data-testid="import-done">{message}</p>
            })}
            {move || import_error.get().map(|message| view! {
                <p class="banner banner-error" role="alert" data-testid="import-refused">{message}</p>
            })}
            {move || export_error.get().map(|message| view! {
                <p class="banner banner-error" role="alert" data-testid="export-failed">{message}</p>
            })}
            {move || error.get().map(|message| view! {
                <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {message}</p>
            })}
            {move || {
                let t = i18n.t();
                match logout.get() {
                    Logout::Unsynced => Some(t.logout_pending_warning),
                    Logout::Unknown => Some(t.logout_unknown_warning),
                    Logout::Ready | Logout::Checking => None,
                }
                .map(|warning| view! { <p class="banner banner-warn" role="alert">{warning}</p> })
            }}
            <div class="actions">
                <Show when=move || logout.get().asks_to_confirm()>
                    <button type="button" class="button button-secondary" on:click=move |_| logout.set(Logout::Ready)>
                        {move || i18n.t().cancel}
                    </button>
                </Show>
                <button
                    type="button"
                    class="button button-danger"
                    data-testid="logout"
                    disabled=move || logout.get() == Logout::Checking
                    on:click=log_out
                >
                    {move || {
                        let t = i18n.t();
                        match logout.get() {
                            Logout::Ready => t.logout,
                            Logout::Checking => t.logout_checking,
                            Logout::Unsynced | Logout::Unknown => t.logout_confirm,
                        }
                    }}
                </button>
            </div>
        </section>
    }
}

/// The unit's name; a session saved before the server sent names shows the id until the next login.
fn unit_label(user: &fieldcheck_core::User) -> String {
    if user.unit_name.is_empty() {
        user.unit_id.to_string()
    } else {
        user.unit_name.clone()
    }
}

/// The supervisor's and administrator's screens (officers see the hazards and campaigns too).
#[component]
fn WorkLinks(role: fieldcheck_core::Role) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let mut links = vec![
        (
            "/hazards",
            lang.pick("隐患跟踪", "Hazard board"),
            "link-hazards",
        ),
        (
            "/campaigns",
            lang.pick("专项行动", "Campaigns"),
            "link-campaigns",
        ),
    ];
    if role.reviews() {
        links.insert(
            0,
            (
                "/records?status=submitted",
                lang.pick("待审核记录", "Records to review"),
                "link-review",
            ),
        );
        links.push((
            "/stats",
            lang.pick("统计与导出", "Statistics and export"),
            "link-stats",
        ));
        links.push((
            "/admin",
            lang.pick("人员与场所管理", "Officers and venues"),
            "link-admin",
        ));
    }
    view! {
        <ul class="group list work-links">
            {links.into_iter().map(|(href, label, testid)| view! {
                <li>
                    <a class="cell cell-link" href=href data-testid=testid>
                        <span class="cell-main"><span class="cell-title">{label}</span></span>
                        <Icon name=IconName::Chevron />
                    </a>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// A conflict 我的 settles itself, beside both copies: a venue's (an inspection's has its page).
fn entity_compared(item: &Awaiting) -> bool {
    item.entity == Entity::Venue && item.sides.is_some()
}

/// Why a backup file was not imported (nothing of it was), in the officer's words: what exactly
/// does not read in the file is for a developer, not for the officer holding the phone.
fn import_refused(lang: Lang, error: &crate::store::StoreError) -> String {
    use crate::store::StoreError;
    match (lang, error) {
        (Lang::Zh, StoreError::ImportOtherOwner { name }) => {
            format!("此备份文件是{name}的记录，请用其账号登录后再导入。")
        }
        (Lang::En, StoreError::ImportOtherOwner { name }) => {
            format!("This backup holds the records of {name}: log in as them to import it.")
        }
        (Lang::Zh, StoreError::BadImport(_)) => {
            "无法导入：这不是本应用导出的备份文件，或文件已损坏。本机数据未改动。".to_owned()
        }
        (Lang::En, StoreError::BadImport(_)) => {
            "Not imported: this is not a FieldCheck backup file, or it is damaged. Nothing on this phone changed."
                .to_owned()
        }
        (Lang::Zh, StoreError::OwnerChanged) => {
            "导入中断：本机刚有其他账号登录。请重新登录后再导入同一文件。".to_owned()
        }
        (Lang::En, StoreError::OwnerChanged) => {
            "Import stopped: another account logged in on this phone meanwhile. Log in again and import the same file again."
                .to_owned()
        }
        (Lang::Zh, other) => {
            format!("未能导入：{}。可以再次导入同一文件。", lang.store_failure(other))
        }
        (Lang::En, other) => format!(
            "Not imported: {}. Importing the same file again is safe.",
            lang.store_failure(other)
        ),
    }
}

/// What an import of a backup file put on the phone; a file whose work the phone already holds
/// says that nothing was new, not "imported 0".
fn imported_text(lang: Lang, imported: &crate::store::Imported) -> String {
    let crate::store::Imported {
        records,
        already_here,
        forms,
        forms_unreadable,
        photos,
    } = *imported;
    let nothing_new = records + forms + photos == 0;
    let mut parts = Vec::new();
    match lang {
        Lang::Zh => {
            parts.push(if nothing_new {
                "没有需要导入的新内容".to_owned()
            } else {
                format!("已导入 {records} 条记录、{forms} 份未保存表单、{photos} 张照片")
            });
            if already_here > 0 {
                parts.push(format!("{already_here} 条本机已有，保留本机的版本"));
            }
            if forms_unreadable > 0 {
                parts.push(format!(
                    "{forms_unreadable} 份未保存表单无法读取，未导入（仍保留在文件中）"
                ));
            }
            format!("{}。", parts.join("；"))
        }
        Lang::En => {
            parts.push(if nothing_new {
                "Nothing new to import".to_owned()
            } else {
                format!("Imported {records} records, {forms} unsaved forms and {photos} photos")
            });
            if already_here > 0 {
                parts.push(format!(
                    "already on this phone: {already_here} (the phone's copies kept)"
                ));
            }
            if forms_unreadable > 0 {
                parts.push(format!(
                    "unsaved forms that cannot be read here: {forms_unreadable} (they stay in the file)"
                ));
            }
            format!("{}.", parts.join("; "))
        }
    }
}
