//! Message templates (消息模板): each category's texts per channel, with a preview.

use super::Manager;
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::kit::{self, AdminChrome, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::messages::templates::{self, TemplateForm};
use qifu_db::entity::message_template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "messages/admin_message_templates.html")]
pub struct TemplatesPage {
    pub admin: AdminChrome,
    pub items: Vec<message_template::Model>,
}

#[derive(Template)]
#[template(path = "messages/admin_message_template.html")]
pub struct TemplatePage {
    pub admin: AdminChrome,
    pub t: message_template::Model,
    pub form: TemplateForm,
    pub preview: templates::Rendered,
    pub vars: Vec<String>,
    pub errors: Vec<String>,
    pub notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

pub async fn list_templates(State(st): State<AppState>, staff: Manager) -> Result<Html<String>, WebError> {
    let items = templates::list(&st.ctx, &staff.actor).await?;
    let admin = staff.chrome(&st, "消息模板", "message_templates").await?;
    kit::render(&TemplatesPage { admin, items })
}

async fn template_page(
    st: &AppState,
    staff: &Manager,
    id: i64,
    form: Option<TemplateForm>,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<TemplatePage, WebError> {
    let t = templates::show(&st.ctx, &staff.actor, id).await?;
    let form = form.unwrap_or_else(|| TemplateForm::from_model(&t));
    // The preview renders what was typed (or saved) with sample values.
    let mut shown = t.clone();
    shown.inbox_title = form.inbox_title.clone();
    shown.inbox_body = form.inbox_body.clone();
    shown.sms_text = form.sms_text.clone();
    shown.wechat_fields = form.wechat_fields.clone();
    shown.email_subject = form.email_subject.clone();
    shown.email_body = form.email_body.clone();
    let preview = templates::render(&shown, &templates::sample_vars(&t.variables));
    let vars = t.variables.split(',').map(|s| format!("{{{{{}}}}}", s.trim())).collect();
    let admin = staff.chrome(st, &format!("消息模板：{}", t.name), "message_templates").await?;
    Ok(TemplatePage { admin, t, form, preview, vars, errors, notice })
}

pub async fn show_template(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(&q.done, &[("saved", "模板已保存，之后发出的消息使用新内容。")]);
    kit::render(&template_page(&st, &staff, parse_id(&id)?, None, Vec::new(), notice).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct TemplateSubmit {
    #[serde(flatten)]
    form: TemplateForm,
    #[serde(default)]
    action: String,
}

/// Saves the template, or (`action=preview`) shows it as typed with its problems.
pub async fn save_template(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<TemplateSubmit>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    if form.action == "preview" {
        let t = templates::show(&st.ctx, &staff.actor, id).await?;
        let errors = templates::check(&form.form, &t.variables);
        return Ok(kit::render(&template_page(&st, &staff, id, Some(form.form), errors, None).await?)?.into_response());
    }
    match templates::save(&st.ctx, &staff.actor, &staff.viewer.meta, id, &form.form).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/message-templates/{id}?done=saved")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            form::invalid(&template_page(&st, &staff, id, Some(form.form), errors, None).await?)
        }
    }
}
