//! Back-office pages. Who may see what is decided in `app`.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts;
use qifu_app::actor::Actor;
use qifu_domain::accounts::Permission;
use serde::Deserialize;

pub(crate) async fn chrome(
    st: &AppState,
    v: &Viewer,
    actor: &Actor,
    title: &str,
    active: &'static str,
) -> Result<AdminChrome, WebError> {
    Ok(AdminChrome { base: PageChrome::new(st, v, title, ""), menu: accounts::back_office_menu(&st.ctx, actor).await?, active })
}

/// Signed in, and allowed into the back office.
pub(crate) fn staff(v: &Viewer) -> Result<&Actor, WebError> {
    let actor = v.require()?;
    qifu_app::actor::require(actor, Permission::BackOffice)?;
    Ok(actor)
}

pub async fn show_dashboard(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let home = qifu_db::read::home(&st.ctx.db, st.ctx.now()).await?;
    let jobs = if actor.can(Permission::JobView) { Some(qifu_db::jobs::stats(&st.ctx.db).await?) } else { None };
    let page = DashboardPage { admin: chrome(&st, &v, actor, "工作台", "dashboard").await?, counts: home.counts, jobs };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct EnterpriseQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    export: String,
}

pub async fn list_enterprises(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<EnterpriseQuery>,
) -> Result<Response, WebError> {
    let actor = staff(&v)?;
    let term: String = q.q.trim().chars().take(100).collect();
    let filter = qifu_app::profiles::EnterpriseFilter {
        q: term.clone(),
        size_class: Some(q.size.clone()),
        division_code: Some(q.street.clone()),
    };
    if q.export == "xlsx" {
        return export_enterprises(&st, actor, &filter).await;
    }
    let page = qifu_app::profiles::list_enterprises(&st.ctx, actor, &filter, q.page, 20).await?;
    let base = format!(
        "/admin/enterprises?{}",
        serde_urlencoded::to_string([("q", term.as_str()), ("size", q.size.as_str()), ("street", q.street.as_str())])
            .unwrap_or_default()
    );
    let pager = Pager::new(page.page, page.per_page, page.total, base);
    let page = EnterprisesPage {
        admin: chrome(&st, &v, actor, "企业管理", "enterprises").await?,
        items: page.items,
        pager,
        q: term,
        size: q.size,
        street: q.street,
        streets: qifu_domain::reference::division::tongzhou_streets(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The enterprise list as xlsx, written to a temporary file in constant memory
/// and streamed from it (130,000 rows never sit in memory at once).
async fn export_enterprises(
    st: &AppState,
    actor: &Actor,
    filter: &qifu_app::profiles::EnterpriseFilter,
) -> Result<Response, WebError> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| WebError::Internal(e.into()))?;
    // Writing 130,000 rows and zipping them is seconds of CPU: it runs on a
    // blocking thread (driving its database reads from there), not on the
    // workers that serve everyone else's pages.
    let (ctx, who, f, path) = (st.ctx.clone(), actor.clone(), filter.clone(), tmp.path().to_owned());
    let handle = tokio::runtime::Handle::current();
    let done =
        tokio::task::spawn_blocking(move || handle.block_on(qifu_app::profiles::export_enterprises(&ctx, &who, &f, &path)))
            .await
            .map_err(|e| WebError::Internal(anyhow::anyhow!("导出任务异常结束：{e}")))?;
    match done {
        Ok(_) => {}
        Err(qifu_app::profiles::ExportError::Access(a)) => return Err(a.into()),
        Err(e) => return Err(WebError::Internal(e.into())),
    }
    // Unlinked now; the open handle keeps the data readable until the stream ends.
    let file = tokio::fs::File::from_std(tmp.reopen().map_err(|e| WebError::Internal(e.into()))?);
    drop(tmp);
    let mut r = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    xlsx_headers(&mut r, "enterprises");
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct JobQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
}

pub async fn list_jobs(State(st): State<AppState>, v: Viewer, Query(q): Query<JobQuery>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let status = Some(q.status.as_str()).filter(|s| !s.is_empty());
    let overview = qifu_app::system::job_overview(&st.ctx, actor, status, q.page).await?;
    let status =
        if ["queued", "running", "done", "dead"].contains(&q.status.as_str()) { q.status.clone() } else { String::new() };
    let base = if status.is_empty() { "/admin/jobs".to_owned() } else { format!("/admin/jobs?status={status}") };
    let pager = Pager::new(q.page, 50, overview.total, base);
    let page = JobsPage { admin: chrome(&st, &v, actor, "任务队列", "jobs").await?, overview, status, pager };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn retry_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    qifu_app::system::retry_job(&st.ctx, actor, &viewer.meta, id).await?;
    Ok(Redirect::to("/admin/jobs?status=queued").into_response())
}

// ---- users ----

use super::account::{SubAccountForm, user_error_fields};
use axum::http::{HeaderValue, StatusCode, header};
use qifu_app::accounts::{NewSubAccount, UserFilter};

#[derive(Debug, Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    org_kind: String,
    #[serde(default)]
    done: String,
}

async fn users_page(
    st: &AppState,
    v: &Viewer,
    q: &UsersQuery,
    form: NewUserForm,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = staff(v)?;
    let term: String = q.q.trim().chars().take(64).collect();
    let f = UserFilter { q: term.clone(), status: q.status.clone(), org_kind: q.org_kind.clone() };
    let (users, total) = accounts::list_users(&st.ctx, actor, &f, q.page).await?;
    let base = format!(
        "/admin/users?{}",
        serde_urlencoded::to_string([("q", term.as_str()), ("status", q.status.as_str()), ("org_kind", q.org_kind.as_str())])
            .unwrap_or_default()
    );
    let page = UsersPage {
        admin: chrome(st, v, actor, "用户管理", "users").await?,
        users,
        pager: Pager::new(q.page, 20, total, base),
        q: term,
        status: q.status.clone(),
        org_kind: q.org_kind.clone(),
        form,
        errors,
        notice: notice.or_else(|| done_notice(&q.done)),
        all_orgs: actor.scope(Permission::UserManage) == Some(qifu_domain::accounts::Scope::All),
    };
    Ok(page.render()?)
}

fn done_notice(code: &str) -> Option<String> {
    Some(
        match code {
            "disabled" => "账号已停用，其登录会话已结束。",
            "enabled" => "账号已启用。",
            "unlocked" => "账号已解锁。",
            "org_disabled" => "组织已停用，其所有账号已退出登录。",
            "org_enabled" => "组织已启用。",
            "saved" => "已保存。",
            "forced_out" => "该用户已被强制下线。",
            _ => return None,
        }
        .to_owned(),
    )
}

pub async fn list_users(State(st): State<AppState>, v: Viewer, Query(q): Query<UsersQuery>) -> Result<Html<String>, WebError> {
    Ok(Html(users_page(&st, &v, &q, NewUserForm::default(), FieldErrors::default(), None).await?))
}

pub async fn create_user(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<SubAccountForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let org_id = form.org_id.trim().parse::<i64>().ok();
    let n = NewSubAccount {
        org_id,
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        phone: form.phone.clone(),
        role_id: None,
    };
    let keep = NewUserForm { username: form.username, display_name: form.display_name, phone: form.phone, org_id: form.org_id };
    let q = UsersQuery::default();
    match accounts::create_sub_account(&st.ctx, actor, &viewer.meta, &n).await {
        Ok((_, password)) => {
            let notice = format!("账号 {} 已创建，初始密码：{password}（仅显示这一次，首次登录须修改）", keep.username);
            Ok(Html(users_page(&st, &viewer, &q, NewUserForm::default(), FieldErrors::default(), Some(notice)).await?)
                .into_response())
        }
        Err(e) => {
            let errors = user_error_fields(e)?;
            let notice = errors.get("form").map(str::to_owned);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(users_page(&st, &viewer, &q, keep, errors, notice).await?))
                .into_response())
        }
    }
}

pub async fn user_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let ctx = &st.ctx;
    let meta = &viewer.meta;
    let result = match action.as_str() {
        "disable" => accounts::set_user_status(ctx, actor, meta, id, false).await.map(|_| "disabled".to_owned()),
        "enable" => accounts::set_user_status(ctx, actor, meta, id, true).await.map(|_| "enabled".to_owned()),
        "unlock" => accounts::unlock_user(ctx, actor, meta, id).await.map(|_| "unlocked".to_owned()),
        "reset-password" => accounts::reset_user_password(ctx, actor, meta, id).await.map(|p| format!("password:{p}")),
        _ => return Err(WebError::NotFound),
    };
    match result {
        Ok(done) if done.starts_with("password:") => {
            let notice = format!("密码已重置，新的初始密码：{}（仅显示这一次，首次登录须修改）", &done["password:".len()..]);
            Ok(Html(
                users_page(&st, &viewer, &UsersQuery::default(), NewUserForm::default(), FieldErrors::default(), Some(notice))
                    .await?,
            )
            .into_response())
        }
        Ok(done) => Ok(Redirect::to(&format!("/admin/users?done={done}")).into_response()),
        Err(e) => {
            let errors = user_error_fields(e)?;
            let notice = errors.get("form").map(str::to_owned);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(
                    users_page(&st, &viewer, &UsersQuery::default(), NewUserForm::default(), FieldErrors::default(), notice)
                        .await?,
                ),
            )
                .into_response())
        }
    }
}

// ---- organisations ----

#[derive(Debug, Deserialize, Default)]
pub struct OrgsQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    done: String,
}

pub async fn list_orgs(State(st): State<AppState>, v: Viewer, Query(q): Query<OrgsQuery>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let term: String = q.q.trim().chars().take(100).collect();
    let (orgs, total) = accounts::list_orgs(&st.ctx, actor, &q.kind, &term, q.page).await?;
    let base = format!(
        "/admin/orgs?{}",
        serde_urlencoded::to_string([("q", term.as_str()), ("kind", q.kind.as_str())]).unwrap_or_default()
    );
    let page = OrgsPage {
        admin: chrome(&st, &v, actor, "组织管理", "orgs").await?,
        orgs,
        pager: Pager::new(q.page, 20, total, base),
        q: term,
        kind: q.kind,
        notice: done_notice(&q.done),
    };
    Ok(Html(page.render()?))
}

pub async fn org_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let active = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(WebError::NotFound),
    };
    match accounts::set_org_status(&st.ctx, actor, &viewer.meta, id, active).await {
        Ok(()) => {
            Ok(Redirect::to(if active { "/admin/orgs?done=org_enabled" } else { "/admin/orgs?done=org_disabled" })
                .into_response())
        }
        Err(e) => {
            let errors = user_error_fields(e)?;
            Err(WebError::BadRequest(errors.get("form").unwrap_or("操作无法完成").to_owned()))
        }
    }
}

pub(crate) fn institution_kinds() -> Vec<(&'static str, &'static str)> {
    qifu_domain::accounts::InstitutionKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect()
}

pub async fn show_new_institution(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    qifu_app::actor::require(actor, Permission::OrgManage)?;
    let page = InstitutionNewPage {
        admin: chrome(&st, &v, actor, "注册机构账号", "orgs").await?,
        f: InstitutionForm::default(),
        errors: FieldErrors::default(),
        kinds: institution_kinds(),
    };
    Ok(Html(page.render()?))
}

pub async fn create_institution(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<InstitutionForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let n = accounts::NewInstitution {
        name: form.name.clone(),
        credit_code: form.credit_code.clone(),
        kind: form.kind.clone(),
        intro: form.intro.clone(),
        admin_username: form.admin_username.clone(),
        admin_name: form.admin_name.clone(),
        admin_phone: form.admin_phone.clone(),
    };
    match accounts::create_institution(&st.ctx, actor, &viewer.meta, &n).await {
        Ok((_, username, password)) => {
            let (orgs, total) = accounts::list_orgs(&st.ctx, actor, "institution", "", 1).await?;
            let page = OrgsPage {
                admin: chrome(&st, &viewer, actor, "组织管理", "orgs").await?,
                orgs,
                pager: Pager::new(1, 20, total, "/admin/orgs?kind=institution".to_owned()),
                q: String::new(),
                kind: "institution".to_owned(),
                notice: Some(format!(
                    "机构账号已注册。管理员用户名：{username}，初始密码：{password}（仅显示这一次，首次登录须修改）"
                )),
            };
            Ok(Html(page.render()?).into_response())
        }
        Err(e) => {
            let errors = user_error_fields(e)?;
            let page = InstitutionNewPage {
                admin: chrome(&st, &viewer, actor, "注册机构账号", "orgs").await?,
                f: form,
                errors,
                kinds: institution_kinds(),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

// ---- roles ----

pub async fn list_roles(State(st): State<AppState>, v: Viewer, Query(q): Query<OrgsQuery>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let roles = accounts::list_roles(&st.ctx, actor).await?;
    let page = RolesPage { admin: chrome(&st, &v, actor, "角色管理", "roles").await?, roles, notice: done_notice(&q.done) };
    Ok(Html(page.render()?))
}

fn perm_rows(grants: &[(Permission, qifu_domain::accounts::Scope)]) -> Vec<(&'static str, &'static str, String)> {
    Permission::ALL
        .iter()
        .map(|p| (p.code(), p.label(), grants.iter().find(|(g, _)| g == p).map(|(_, s)| s.code().to_owned()).unwrap_or_default()))
        .collect()
}

pub async fn show_role(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let roles = accounts::list_roles(&st.ctx, actor).await?;
    let page = if id == "new" {
        RoleEditPage {
            admin: chrome(&st, &v, actor, "新增角色", "roles").await?,
            id: None,
            code: String::new(),
            name: String::new(),
            org_kind: "operator".to_owned(),
            builtin: false,
            perms: perm_rows(&[]),
            errors: FieldErrors::default(),
        }
    } else {
        let id = parse_id(&id)?;
        let r = roles.into_iter().find(|r| r.id == id).ok_or(WebError::NotFound)?;
        RoleEditPage {
            admin: chrome(&st, &v, actor, "编辑角色", "roles").await?,
            id: Some(r.id),
            perms: perm_rows(&r.grants),
            code: r.code,
            name: r.name,
            org_kind: r.org_kind,
            builtin: r.builtin,
            errors: FieldErrors::default(),
        }
    };
    Ok(Html(page.render()?))
}

pub async fn save_role(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = if id == "new" { None } else { Some(parse_id(&id)?) };
    let get = |k: &str| form.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let grants: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("perm:").filter(|_| !v.is_empty()).map(|p| (p.to_owned(), v.clone())))
        .collect();
    let existing = accounts::list_roles(&st.ctx, actor).await?;
    let current = id.and_then(|i| existing.iter().find(|r| r.id == i));
    if id.is_some() && current.is_none() {
        return Err(WebError::NotFound);
    }
    let rf = accounts::RoleForm {
        code: current.map(|r| r.code.clone()).unwrap_or_else(|| get("code")),
        name: get("name"),
        org_kind: current.map(|r| r.org_kind.clone()).unwrap_or_else(|| get("org_kind")),
        grants: grants.clone(),
    };
    match accounts::save_role(&st.ctx, actor, &viewer.meta, id, &rf).await {
        Ok(_) => Ok(Redirect::to("/admin/roles?done=saved").into_response()),
        Err(e) => {
            let errors = user_error_fields(e)?;
            let chosen: Vec<(Permission, qifu_domain::accounts::Scope)> = grants
                .iter()
                .filter_map(|(p, s)| Some((Permission::parse(p)?, qifu_domain::accounts::Scope::parse(s)?)))
                .collect();
            let page = RoleEditPage {
                admin: chrome(&st, &viewer, actor, if id.is_some() { "编辑角色" } else { "新增角色" }, "roles").await?,
                id,
                code: rf.code,
                name: rf.name,
                org_kind: rf.org_kind,
                builtin: current.is_some_and(|r| r.builtin),
                perms: perm_rows(&chosen),
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

// ---- menus ----

fn perm_options() -> Vec<(&'static str, &'static str)> {
    Permission::ALL.iter().map(|p| (p.code(), p.label())).collect()
}

pub async fn list_menus(State(st): State<AppState>, v: Viewer, Query(q): Query<OrgsQuery>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let menus = accounts::list_menus(&st.ctx, actor).await?;
    let page = MenusPage {
        admin: chrome(&st, &v, actor, "菜单管理", "menus").await?,
        menus,
        perms: perm_options(),
        notice: done_notice(&q.done),
        error: None,
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct MenuForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    permission: String,
    #[serde(default)]
    visible: String,
}

pub async fn update_menu(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<MenuForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let upd = accounts::MenuUpdate {
        label: form.label,
        sort: form.sort.trim().parse().unwrap_or(0),
        visible: form.visible != "0",
        permission: form.permission,
    };
    match accounts::update_menu(&st.ctx, actor, &viewer.meta, id, upd).await {
        Ok(()) => Ok(Redirect::to("/admin/menus?done=saved").into_response()),
        Err(accounts::MenuError::Access(a)) => Err(a.into()),
        Err(e) => {
            let menus = accounts::list_menus(&st.ctx, actor).await?;
            let page = MenusPage {
                admin: chrome(&st, &viewer, actor, "菜单管理", "menus").await?,
                menus,
                perms: perm_options(),
                notice: None,
                error: Some(e.to_string()),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

// ---- online users ----

pub async fn list_online(State(st): State<AppState>, v: Viewer, Query(q): Query<PageOnly>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let (sessions, total) = accounts::list_online(&st.ctx, actor, q.page).await?;
    let page = OnlinePage {
        admin: chrome(&st, &v, actor, "在线用户", "online").await?,
        sessions,
        pager: Pager::new(q.page, 50, total, "/admin/online".to_owned()),
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct PageOnly {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
}

pub async fn force_out(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::NotFound);
    }
    accounts::force_out(&st.ctx, actor, &viewer.meta, &id).await?;
    Ok(Redirect::to("/admin/online").into_response())
}

// ---- logs ----

#[derive(Debug, Deserialize, Default)]
pub struct LogQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    who: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    export: String,
    #[serde(default)]
    verify: String,
}

/// A `YYYY-MM-DD` date as the start of that day in Beijing, in UTC.
fn day_start(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let t = d.and_hms_opt(0, 0, 0)? - chrono::Duration::hours(8);
    Some(chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc))
}

impl LogQuery {
    fn view(&self) -> LogQueryView {
        let keep = |s: &str| s.trim().chars().take(64).collect::<String>();
        let date = |s: &str| if day_start(s).is_some() { s.trim().to_owned() } else { String::new() };
        LogQueryView {
            who: keep(&self.who),
            action: keep(&self.action),
            result: keep(&self.result),
            from: date(&self.from),
            to: date(&self.to),
        }
    }

    fn query_string(&self) -> String {
        let v = self.view();
        serde_urlencoded::to_string([("who", v.who), ("action", v.action), ("result", v.result), ("from", v.from), ("to", v.to)])
            .unwrap_or_default()
    }

    fn range(&self) -> (Option<chrono::DateTime<chrono::Utc>>, Option<chrono::DateTime<chrono::Utc>>) {
        (day_start(&self.from), day_start(&self.to).map(|t| t + chrono::Duration::days(1)))
    }
}

pub(crate) fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut r = bytes.into_response();
    xlsx_headers(&mut r, name);
    r
}

fn xlsx_headers(r: &mut Response, name: &str) {
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    );
    let disposition = format!("attachment; filename=\"{name}.xlsx\"; filename*=UTF-8''{}.xlsx", crate::error::urlencode(name));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
}

pub async fn login_log(State(st): State<AppState>, v: Viewer, Query(q): Query<LogQuery>) -> Result<Response, WebError> {
    let actor = staff(&v)?;
    let (from, to) = q.range();
    let view = q.view();
    let f = qifu_app::audit::LoginLogFilter { username: view.who.clone(), result: view.result.clone(), from, to };
    if q.export == "xlsx" {
        let bytes = qifu_app::audit::login_log_xlsx(&st.ctx, actor, &f).await?;
        return Ok(xlsx_response(bytes, "login-log"));
    }
    let (rows, total) = qifu_app::audit::login_log(&st.ctx, actor, &f, q.page).await?;
    let qs = q.query_string();
    let page = LoginLogPage {
        admin: chrome(&st, &v, actor, "登录日志", "login_log").await?,
        rows,
        pager: Pager::new(q.page, 30, total, format!("/admin/login-log?{qs}")),
        f: view,
        export_href: format!("/admin/login-log?{qs}&export=xlsx"),
    };
    Ok(Html(page.render()?).into_response())
}

async fn op_log(st: &AppState, v: &Viewer, q: &LogQuery, audit: bool) -> Result<Response, WebError> {
    let actor = staff(v)?;
    let (from, to) = q.range();
    let view = q.view();
    let f = qifu_app::audit::LogFilter { actor: view.who.clone(), action: view.action.clone(), from, to };
    if q.export == "xlsx" {
        let bytes = qifu_app::audit::operation_log_xlsx(&st.ctx, actor, &f, audit).await?;
        return Ok(xlsx_response(bytes, if audit { "audit-log" } else { "operation-log" }));
    }
    let (rows, total) = if audit {
        qifu_app::audit::audit_log(&st.ctx, actor, &f, q.page).await?
    } else {
        qifu_app::audit::operation_log(&st.ctx, actor, &f, q.page).await?
    };
    let verification = if audit && q.verify == "1" { Some(qifu_app::audit::verify_as(&st.ctx, actor).await?) } else { None };
    let path = if audit { "/admin/audit" } else { "/admin/operation-log" };
    let qs = q.query_string();
    let page = OperationLogPage {
        admin: chrome(st, v, actor, if audit { "审计日志" } else { "操作日志" }, if audit { "audit" } else { "operation_log" })
            .await?,
        rows,
        pager: Pager::new(q.page, 30, total, format!("{path}?{qs}")),
        f: view,
        export_href: format!("{path}?{qs}&export=xlsx"),
        audit,
        verification,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn operation_log(State(st): State<AppState>, v: Viewer, Query(q): Query<LogQuery>) -> Result<Response, WebError> {
    op_log(&st, &v, &q, false).await
}

pub async fn audit_log(State(st): State<AppState>, v: Viewer, Query(q): Query<LogQuery>) -> Result<Response, WebError> {
    op_log(&st, &v, &q, true).await
}

pub async fn sms_outbox(State(st): State<AppState>, v: Viewer, Query(q): Query<PageOnly>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let (rows, total) = qifu_app::outbox::list(&st.ctx, actor, q.page).await?;
    let page = SmsPage {
        admin: chrome(&st, &v, actor, "短信发件箱", "sms").await?,
        rows,
        pager: Pager::new(q.page, 30, total, "/admin/sms".to_owned()),
    };
    Ok(Html(page.render()?))
}

// ---- catalogue: categories ----

use qifu_app::catalog::{self, CatalogError, CategoryForm};

async fn categories_page(
    st: &AppState,
    v: &Viewer,
    errors: FieldErrors,
    notice: Option<String>,
    keep: (String, String, String),
) -> Result<String, WebError> {
    let actor = staff(v)?;
    let tree = catalog::tree_for_admin(&st.ctx, actor).await?;
    let page = CategoriesPage {
        admin: chrome(st, v, actor, "产品分类", "categories").await?,
        tree,
        errors,
        notice,
        name: keep.0,
        parent: keep.1,
        sort: keep.2,
    };
    Ok(page.render()?)
}

pub async fn list_categories(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<OrgsQuery>,
) -> Result<Html<String>, WebError> {
    Ok(Html(categories_page(&st, &v, FieldErrors::default(), done_notice(&q.done), Default::default()).await?))
}

#[derive(Debug, Deserialize)]
pub struct CategoryFormInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    sort: String,
}

impl CategoryFormInput {
    fn to_form(&self) -> CategoryForm {
        CategoryForm {
            name: self.name.chars().take(100).collect(),
            parent_id: self.parent_id.trim().parse().ok().filter(|n: &i64| *n > 0),
            sort: self.sort.trim().parse().unwrap_or(0),
        }
    }
}

async fn catalog_result(
    st: &AppState,
    v: &Viewer,
    r: Result<(), CatalogError>,
    keep: (String, String, String),
) -> Result<Response, WebError> {
    match r {
        Ok(()) => Ok(Redirect::to("/admin/categories?done=saved").into_response()),
        Err(CatalogError::Access(a)) => Err(a.into()),
        Err(CatalogError::Fields(list)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(categories_page(st, v, FieldErrors::from(list), None, keep).await?))
                .into_response())
        }
        Err(e @ (CatalogError::State(_) | CatalogError::StateOwned(_))) => {
            let mut f = FieldErrors::default();
            f.add("form", e.to_string());
            Ok((StatusCode::CONFLICT, Html(categories_page(st, v, f, None, Default::default()).await?)).into_response())
        }
    }
}

pub async fn create_category(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<CategoryFormInput>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let r = catalog::create_category(&st.ctx, actor, &viewer.meta, &form.to_form()).await.map(|_| ());
    catalog_result(&st, &viewer, r, (form.name.clone(), form.parent_id.clone(), form.sort.clone())).await
}

pub async fn update_category(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<CategoryFormInput>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let r = catalog::update_category(&st.ctx, actor, &viewer.meta, id, &form.to_form()).await;
    catalog_result(&st, &viewer, r, Default::default()).await
}

pub async fn delete_category(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let r = catalog::delete_category(&st.ctx, actor, &viewer.meta, id).await;
    catalog_result(&st, &viewer, r, Default::default()).await
}

// ---- catalogue: products ----

use qifu_app::catalog::products as prod;
use qifu_domain::demands::ProductEvent;

#[derive(Debug, Deserialize, Default)]
pub struct ProductsQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    done: String,
}

fn product_notice(code: &str) -> Option<String> {
    Some(
        match code {
            "saved" => "已保存。",
            "submitted" => "已提交审核，运营人员审核通过后上架。",
            "approved" => "已审核通过并上架。",
            "rejected" => "已驳回，机构已收到站内信。",
            "offline" => "已下架。",
            "online" => "已重新上架。",
            "attachment_added" => "附件已上传。",
            "attachment_removed" => "附件已删除。",
            _ => return None,
        }
        .to_owned(),
    )
}

fn catalog_err(e: CatalogError) -> Result<FieldErrors, WebError> {
    match e {
        CatalogError::Access(a) => Err(a.into()),
        CatalogError::Fields(list) => Ok(FieldErrors::from(list)),
        CatalogError::State(m) => {
            let mut f = FieldErrors::default();
            f.add("form", m.to_owned());
            Ok(f)
        }
        CatalogError::StateOwned(m) => {
            let mut f = FieldErrors::default();
            f.add("form", m);
            Ok(f)
        }
    }
}

pub async fn list_admin_products(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<ProductsQuery>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let (rows, total) = prod::list_for_admin(&st.ctx, actor, &q.status, q.page).await.map_err(|e| match catalog_err(e) {
        Err(w) => w,
        Ok(_) => WebError::Forbidden,
    })?;
    let active = if q.status == "submitted" && actor.can(Permission::CatalogManage) { "product_review" } else { "products" };
    let page = AdminProductsPage {
        admin: chrome(&st, &v, actor, if active == "product_review" { "产品审核" } else { "服务产品" }, active).await?,
        rows,
        pager: Pager::new(q.page, 20, total, format!("/admin/products?status={}", q.status)),
        status: q.status.clone(),
        can_create: actor.can(Permission::ProductManage),
        reviewer: actor.can(Permission::CatalogManage),
        notice: product_notice(&q.done),
    };
    Ok(Html(page.render()?))
}

async fn product_page(
    st: &AppState,
    v: &Viewer,
    id: Option<i64>,
    form: Option<ProductFormView>,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = staff(v)?;
    let (product, related) = match id {
        Some(id) => {
            let p = prod::product_for(&st.ctx, actor, id).await.map_err(|e| match catalog_err(e) {
                Err(w) => w,
                Ok(_) => WebError::NotFound,
            })?;
            let r = prod::related(&st.ctx, &p).await?;
            (Some(p), r)
        }
        None => {
            qifu_app::actor::require(actor, Permission::ProductManage)?;
            (None, None)
        }
    };
    let f = form.unwrap_or_else(|| {
        product.as_ref().map(ProductFormView::from_model).unwrap_or(ProductFormView {
            certification_required: "1".into(),
            service_area: "通州区".into(),
            ..Default::default()
        })
    });
    let can_edit = actor.can(Permission::ProductManage) && product.as_ref().is_none_or(|p| p.status != "submitted");
    let attachments = match id {
        Some(id) => qifu_app::catalog::attachments::list(&st.ctx.db, id).await?,
        None => Vec::new(),
    };
    let page = ProductFormPage {
        admin: chrome(st, v, actor, if id.is_some() { "服务产品详情" } else { "发布新产品" }, "products").await?,
        id,
        product,
        related,
        f,
        tree: qifu_db::read::category_tree(&st.ctx.db).await?,
        errors,
        can_edit,
        reviewer: actor.can(Permission::CatalogManage),
        attachments,
        notice,
    };
    Ok(page.render()?)
}

pub async fn show_new_product(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    Ok(Html(product_page(&st, &v, None, None, FieldErrors::default(), None).await?))
}

pub async fn create_product(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<ProductFormView>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    match prod::create_product(&st.ctx, actor, &viewer.meta, &form.to_form()).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/products/{id}?done=saved")).into_response()),
        Err(e) => {
            let errors = catalog_err(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(product_page(&st, &viewer, None, Some(form), errors, None).await?))
                .into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DoneOnly {
    #[serde(default)]
    done: String,
}

pub async fn show_admin_product(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneOnly>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    Ok(Html(product_page(&st, &v, Some(id), None, FieldErrors::default(), product_notice(&q.done)).await?))
}

pub async fn update_product(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<ProductFormView>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    match prod::update_product(&st.ctx, actor, &viewer.meta, id, &form.to_form()).await {
        Ok(edited) => Ok(Redirect::to(&format!("/admin/products/{edited}?done=saved")).into_response()),
        Err(e) => {
            let errors = catalog_err(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(product_page(&st, &viewer, Some(id), Some(form), errors, None).await?))
                .into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn product_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, form }: CsrfForm<ReviewForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let (result, done) = match action.as_str() {
        "submit" => (prod::act(&st.ctx, actor, &viewer.meta, id, ProductEvent::Submit).await, "submitted"),
        "offline" => (prod::act(&st.ctx, actor, &viewer.meta, id, ProductEvent::TakeOffline).await, "offline"),
        "online" => (prod::act(&st.ctx, actor, &viewer.meta, id, ProductEvent::PutOnline).await, "online"),
        "review" => {
            let approve = match form.decision.as_str() {
                "approve" => true,
                "reject" => false,
                _ => return Err(WebError::BadRequest("请选择通过或驳回".to_owned())),
            };
            (
                prod::review(&st.ctx, actor, &viewer.meta, id, approve, &form.reason).await,
                if approve { "approved" } else { "rejected" },
            )
        }
        _ => return Err(WebError::NotFound),
    };
    match result {
        Ok(()) if action == "review" => {
            Ok(Redirect::to(&format!("/admin/products?status=submitted&done={done}")).into_response())
        }
        Ok(()) => Ok(Redirect::to(&format!("/admin/products/{id}?done={done}")).into_response()),
        Err(e) => {
            let errors = catalog_err(e)?;
            let still = prod::product_for(&st.ctx, actor, id).await.is_ok();
            if !still {
                return Err(WebError::NotFound);
            }
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(product_page(&st, &viewer, Some(id), None, errors, None).await?))
                .into_response())
        }
    }
}

// ---- product attachments ----

pub async fn add_product_file(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    mp: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mp = crate::extract::MultipartForm::read(mp, "attachment", qifu_app::catalog::attachments::ATTACHMENT_MAX_BYTES).await?;
    crate::extract::check_csrf(&v, &mp.csrf)?;
    let actor = staff(&v)?;
    match qifu_app::catalog::attachments::add(&st.ctx, actor, &v.meta, id, &mp.file).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/products/{id}?done=attachment_added")).into_response()),
        Err(e) => {
            let errors = catalog_err(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(product_page(&st, &v, Some(id), None, errors, None).await?))
                .into_response())
        }
    }
}

pub async fn remove_product_file(
    State(st): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let (id, fid) = (parse_id(&id)?, parse_id(&fid)?);
    let actor = staff(&viewer)?;
    match qifu_app::catalog::attachments::remove(&st.ctx, actor, &viewer.meta, id, fid).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/products/{id}?done=attachment_removed")).into_response()),
        Err(e) => {
            let errors = catalog_err(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(product_page(&st, &viewer, Some(id), None, errors, None).await?))
                .into_response())
        }
    }
}

pub async fn product_file(
    State(st): State<AppState>,
    v: Viewer,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let actor = staff(&v)?;
    let (f, bytes) =
        qifu_app::catalog::attachments::admin_file(&st.ctx, actor, parse_id(&id)?, parse_id(&fid)?).await.map_err(|e| {
            match catalog_err(e) {
                Err(w) => w,
                Ok(_) => WebError::NotFound,
            }
        })?;
    Ok(super::file_response(&f, bytes))
}
