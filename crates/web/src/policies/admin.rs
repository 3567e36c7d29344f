//! The back office's policies: list, new, edit, the rule editor with suggested
//! conditions, tags, publish/withdraw, attachments, and the qualification list.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm};
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, form, parse_id};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::policies::{self, PolicyForm, RuleRow};
use qifu_domain::policy::{PolicyLevel, PolicyState};
use serde::Deserialize;

type Manager = Staff<perm::PolicyManage>;

#[derive(Template)]
#[template(path = "policies/admin_policies.html")]
pub struct PoliciesAdminPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::policy::Model>,
    pub notice: Option<String>,
    /// The qualification list (资质名录).
    pub quals: Vec<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "policies/admin_policy_new.html")]
pub struct PolicyNewPage {
    pub admin: AdminChrome,
    pub f: PolicyForm,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "policies/admin_policy.html")]
pub struct PolicyAdminPage {
    pub admin: AdminChrome,
    pub p: qifu_db::entity::policy::Model,
    pub rows: Vec<RuleRow>,
    pub pushes: u64,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    /// Conditions proposed from the policy's text.
    pub suggested: Vec<qifu_domain::policy::parse::Suggestion>,
    /// Keywords proposed as tags.
    pub keywords: Vec<String>,
    /// The suggestions were added to the editor's rows.
    pub adopt: bool,
    /// The record's form (edited in place).
    pub f: PolicyForm,
    pub attachments: Vec<qifu_app::attachments::Attachment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
    suggest: String,
}

async fn list_page(
    st: &AppState,
    staff: &Manager,
    notice: Option<String>,
    error: Option<String>,
) -> Result<PoliciesAdminPage, WebError> {
    let rows = policies::list_admin(&st.ctx, &staff.actor).await?;
    let quals = policies::qualification_kinds(&st.ctx.db).await?;
    Ok(PoliciesAdminPage { admin: staff.chrome(st, "政策管理", "policies").await?, rows, notice, quals, error })
}

pub async fn list_policies(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(
        &q.done,
        &[
            ("created", "政策已保存为草稿，请设置申报条件后发布。"),
            ("qualification", "资质已加入名录，企业可在政策计算器中勾选。"),
        ],
    );
    kit::render(&list_page(&st, &staff, notice, None).await?)
}

async fn new_page(st: &AppState, staff: &Manager, f: PolicyForm, errors: Vec<String>) -> Result<PolicyNewPage, WebError> {
    Ok(PolicyNewPage { admin: staff.chrome(st, "新建政策", "policies").await?, f, errors })
}

pub async fn show_new_policy(State(st): State<AppState>, staff: Manager) -> Result<Html<String>, WebError> {
    kit::render(&new_page(&st, &staff, PolicyForm::default(), Vec::new()).await?)
}

pub async fn create_policy(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<PolicyForm>,
) -> Result<Response, WebError> {
    match policies::create_policy(&st.ctx, &staff.actor, &staff.viewer.meta, &form).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=created")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            form::invalid(&new_page(&st, &staff, form, errors).await?)
        }
    }
}

/// Blank rows offered below the existing ones.
const BLANK_ROWS: usize = 6;

/// What a policy's page shows besides the saved record.
#[derive(Default)]
struct Shown {
    /// The editor's rows as submitted (instead of the saved rule).
    rows: Option<Vec<RuleRow>>,
    errors: Vec<String>,
    notice: Option<String>,
    /// Add the suggested conditions to the editor.
    adopt: bool,
    /// The record's form as submitted.
    form: Option<PolicyForm>,
}

async fn policy_page(st: &AppState, staff: &Manager, id: i64, shown: Shown) -> Result<PolicyAdminPage, WebError> {
    let actor = &staff.actor;
    let (p, saved, pushes) = policies::admin_policy(&st.ctx, actor, id).await?;
    let (suggested, keywords) = policies::suggestions(&st.ctx, actor, id).await?;
    let mut rows = shown.rows.unwrap_or(saved);
    if shown.adopt {
        rows.extend(policies::suggestion_rows(&suggested));
    }
    rows.extend(std::iter::repeat_n(RuleRow::default(), BLANK_ROWS));
    let admin = staff.chrome(st, "政策详情", "policies").await?;
    let f = shown.form.unwrap_or_else(|| PolicyForm::of(&p));
    let attachments = policies::attachments(&st.ctx.db, id).await?;
    Ok(PolicyAdminPage {
        admin,
        p,
        rows,
        pushes,
        errors: shown.errors,
        notice: shown.notice,
        suggested,
        keywords,
        adopt: shown.adopt,
        f,
        attachments,
    })
}

pub async fn show_policy(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let adopt = q.suggest == "1";
    let notice = if adopt {
        Some("已把建议的条件加入下方表格：请逐条核对、修改或删除后再保存。".to_owned())
    } else {
        kit::notice(
            &q.done,
            &[
                ("created", "政策已保存为草稿，请设置申报条件后发布。"),
                ("rule", "申报条件已保存为新版本；已发布的政策将重新匹配并推送给新符合的企业。"),
                ("published", "已发布，正在后台匹配全部企业并推送给符合条件的企业。"),
                ("withdrawn", "已撤回，门户不再显示，也不再参与匹配。"),
                ("tags", "标签已保存。"),
                ("edited", "政策信息已保存。"),
                ("attached", "附件已上传。"),
                ("detached", "附件已删除。"),
            ],
        )
    };
    kit::render(&policy_page(&st, &staff, parse_id(&id)?, Shown { notice, adopt, ..Default::default() }).await?)
}

/// The editor posts `attr_N`, `op_N`, `value_N`, `group_N` and `negate_N`.
fn rows_from(fields: &[(String, String)]) -> Vec<RuleRow> {
    let mut rows: std::collections::BTreeMap<usize, RuleRow> = Default::default();
    for (k, v) in fields {
        let Some((name, idx)) = k.rsplit_once('_') else { continue };
        let Ok(i) = idx.parse::<usize>() else { continue };
        if i >= policies::RULE_MAX_ROWS + BLANK_ROWS {
            continue;
        }
        let r = rows.entry(i).or_default();
        let v: String = v.chars().take(500).collect();
        match name {
            "attr" => r.attr = v,
            "op" => r.op = v,
            "value" => r.value = v,
            "group" => r.group = v,
            "negate" => r.negate = v == "1",
            _ => {}
        }
    }
    rows.into_values().collect()
}

pub async fn save_rule(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let rows = rows_from(&form);
    match policies::save_rule(&st.ctx, &staff.actor, &staff.viewer.meta, id, &rows).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=rule")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            let kept: Vec<RuleRow> = rows.into_iter().filter(|r| !(r.attr.is_empty() && r.value.trim().is_empty())).collect();
            form::invalid(&policy_page(&st, &staff, id, Shown { rows: Some(kept), errors, ..Default::default() }).await?)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TagsForm {
    tags: String,
}

pub async fn save_tags(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<TagsForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    match policies::save_tags(&st.ctx, &staff.actor, &staff.viewer.meta, id, &form.tags).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=tags")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            form::invalid(&policy_page(&st, &staff, id, Shown { errors, ..Default::default() }).await?)
        }
    }
}

pub async fn update_policy(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<PolicyForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    match policies::update_policy(&st.ctx, &staff.actor, &staff.viewer.meta, id, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=edited")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            form::invalid(&policy_page(&st, &staff, id, Shown { errors, form: Some(form), ..Default::default() }).await?)
        }
    }
}

/// publish, withdraw: refused ones (no rule yet, already withdrawn) are 409.
pub async fn policy_action(
    State(st): State<AppState>,
    staff: Manager,
    Path((id, action)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (ctx, actor, meta) = (&st.ctx, &staff.actor, &staff.viewer.meta);
    let r = match action.as_str() {
        "publish" => policies::publish(ctx, actor, meta, id).await,
        "withdraw" => policies::withdraw(ctx, actor, meta, id).await,
        _ => return Err(WebError::NotFound),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done={action}ed")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            form::conflict(&policy_page(&st, &staff, id, Shown { errors, ..Default::default() }).await?)
        }
    }
}

pub async fn add_attachment(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mp = MultipartForm::read_for(&staff.viewer, mp, "attachment", qifu_app::attachments::MAX_BYTES).await?;
    match policies::add_attachment(&st.ctx, &staff.actor, &staff.viewer.meta, id, &mp.file).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=attached")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            form::invalid(&policy_page(&st, &staff, id, Shown { errors, ..Default::default() }).await?)
        }
    }
}

pub async fn remove_attachment(
    State(st): State<AppState>,
    staff: Manager,
    Path((id, fid)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    policies::remove_attachment(&st.ctx, &staff.actor, &staff.viewer.meta, id, parse_id(&fid)?).await?;
    Ok(Redirect::to(&format!("/admin/policies/{id}?done=detached")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QualificationForm {
    name: String,
}

pub async fn add_qualification(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<QualificationForm>,
) -> Result<Response, WebError> {
    match policies::add_qualification_kind(&st.ctx, &staff.actor, &staff.viewer.meta, &form.name).await {
        Ok(()) => Ok(Redirect::to("/admin/policies?done=qualification").into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            form::invalid(&list_page(&st, &staff, None, Some(error)).await?)
        }
    }
}
