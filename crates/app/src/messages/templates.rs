//! Message templates (消息模板): one per event, with a version per channel.
//! Text uses `{{变量}}` placeholders; the variables a template may use are
//! fixed by its event and checked when the operator saves it.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::message_template;
use qifu_domain::messages::MessageCategory;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, TryIntoModel,
};
use serde::Deserialize;

/// (key, name, category, urgent, variables, inbox title, inbox body, SMS, WeChat fields, email subject, email body)
type Seed = (
    &'static str,
    &'static str,
    MessageCategory,
    bool,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The notice of each category: the use cases give a title, a body and a link.
const NOTICE_VARS: &str = "title,body,link";

const SEED: &[Seed] = &[
    (
        "demand",
        "服务需求进展",
        MessageCategory::Demand,
        false,
        NOTICE_VARS,
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "policy",
        "政策推送",
        MessageCategory::Policy,
        false,
        NOTICE_VARS,
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看政策详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "certification",
        "实名认证结果",
        MessageCategory::Certification,
        false,
        NOTICE_VARS,
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "product",
        "服务产品审核",
        MessageCategory::Product,
        false,
        NOTICE_VARS,
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "authorization",
        "数据授权",
        MessageCategory::Authorization,
        false,
        NOTICE_VARS,
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "account",
        "账号与入驻",
        MessageCategory::Account,
        true,
        NOTICE_VARS,
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "broadcast",
        "平台通知（群发）",
        MessageCategory::Broadcast,
        false,
        "title,body",
        "{{title}}",
        "{{body}}",
        "{{title}}，请登录平台查看。",
        "first={{title}}\nkeyword1={{body}}\nremark=点击查看详情",
        "{{title}}",
        "{{body}}",
    ),
    (
        "marketing",
        "活动推广（群发）",
        MessageCategory::Marketing,
        false,
        "title,body",
        "{{title}}",
        "{{body}}",
        "{{title}}，详见平台。不想再收到可在平台“消息设置”中退订",
        "first={{title}}\nkeyword1={{body}}\nremark=不想再收到此类消息？可在“消息设置”中退订",
        "{{title}}",
        "{{body}}\n\n不想再收到此类邮件？请登录平台，在“我的账号 › 消息设置”中退订活动推广。",
    ),
];

/// Inserts the seeded templates that are missing. Idempotent; edits are kept.
pub async fn ensure_templates<C: ConnectionTrait>(conn: &C, now: chrono::DateTime<chrono::Utc>) -> Result<(), DbErr> {
    let existing: Vec<String> = message_template::Entity::find().all(conn).await?.into_iter().map(|t| t.key).collect();
    for s in SEED {
        if existing.iter().any(|k| k == s.0) {
            continue;
        }
        seed_model(s, now).insert(conn).await?;
    }
    Ok(())
}

fn seed_model(s: &Seed, now: chrono::DateTime<chrono::Utc>) -> message_template::ActiveModel {
    message_template::ActiveModel {
        key: Set(s.0.to_owned()),
        name: Set(s.1.to_owned()),
        category: Set(s.2),
        urgent: Set(s.3),
        variables: Set(s.4.to_owned()),
        inbox_title: Set(s.5.to_owned()),
        inbox_body: Set(s.6.to_owned()),
        sms_text: Set(s.7.to_owned()),
        sms_template_code: Set(String::new()),
        wechat_template_id: Set(String::new()),
        wechat_subscribe_template_id: Set(String::new()),
        wechat_fields: Set(s.8.to_owned()),
        email_subject: Set(s.9.to_owned()),
        email_body: Set(s.10.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The template of `key`; an unknown key falls back to the general notice.
pub async fn get<C: ConnectionTrait>(conn: &C, key: &str) -> Result<message_template::Model, DbErr> {
    if let Some(t) = message_template::Entity::find().filter(message_template::Column::Key.eq(key)).one(conn).await? {
        return Ok(t);
    }
    // Not in the table (a seed not yet inserted, or an unknown key): the seed, or the general notice.
    let seed = SEED.iter().find(|s| s.0 == key).or_else(|| SEED.iter().find(|s| s.0 == MessageCategory::Broadcast.code()));
    let Some(seed) = seed else { return Err(DbErr::RecordNotFound(format!("message template {key}"))) };
    let mut am = seed_model(seed, chrono::DateTime::UNIX_EPOCH);
    am.id = Set(0);
    am.try_into_model()
}

/// A template with the variables filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub inbox_title: String,
    pub inbox_body: String,
    pub sms_text: String,
    pub wechat_fields: Vec<(String, String)>,
    pub email_subject: String,
    pub email_body: String,
}

/// Replaces every `{{name}}` with its value; unknown names become empty.
pub fn fill(text: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find("}}") {
            Some(j) => {
                let name = after[..j].trim();
                if let Some((_, v)) = vars.iter().find(|(k, _)| k == name) {
                    out.push_str(v);
                }
                rest = &after[j + 2..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `key=value` lines → fields.
pub fn fields(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

pub fn render(t: &message_template::Model, vars: &[(String, String)]) -> Rendered {
    Rendered {
        inbox_title: fill(&t.inbox_title, vars),
        inbox_body: fill(&t.inbox_body, vars),
        sms_text: fill(&t.sms_text, vars).trim().to_owned(),
        wechat_fields: fields(&t.wechat_fields).into_iter().map(|(k, v)| (k, fill(&v, vars))).collect(),
        email_subject: fill(&t.email_subject, vars).trim().to_owned(),
        email_body: fill(&t.email_body, vars),
    }
}

/// The `{{names}}` a text uses, or the first malformed placeholder.
pub fn placeholders(text: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err(format!("“{}”缺少结尾的 }}}}", rest[i..].chars().take(20).collect::<String>()));
        };
        names.push(after[..j].trim().to_owned());
        rest = &after[j + 2..];
    }
    Ok(names)
}

/// What the operator types into the template form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub urgent: Option<String>,
    #[serde(default)]
    pub inbox_title: String,
    #[serde(default)]
    pub inbox_body: String,
    #[serde(default)]
    pub sms_text: String,
    #[serde(default)]
    pub sms_template_code: String,
    #[serde(default)]
    pub wechat_template_id: String,
    #[serde(default)]
    pub wechat_subscribe_template_id: String,
    #[serde(default)]
    pub wechat_fields: String,
    #[serde(default)]
    pub email_subject: String,
    #[serde(default)]
    pub email_body: String,
}

impl TemplateForm {
    pub fn from_model(t: &message_template::Model) -> Self {
        TemplateForm {
            name: t.name.clone(),
            urgent: t.urgent.then(|| "1".to_owned()),
            inbox_title: t.inbox_title.clone(),
            inbox_body: t.inbox_body.clone(),
            sms_text: t.sms_text.clone(),
            sms_template_code: t.sms_template_code.clone(),
            wechat_template_id: t.wechat_template_id.clone(),
            wechat_subscribe_template_id: t.wechat_subscribe_template_id.clone(),
            wechat_fields: t.wechat_fields.clone(),
            email_subject: t.email_subject.clone(),
            email_body: t.email_body.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{}", .0.join("；"))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for TemplateError {
    fn from(e: DbErr) -> Self {
        TemplateError::Access(AccessError::Db(e))
    }
}

/// Checks a form against the variables the template's event gives.
pub fn check(form: &TemplateForm, variables: &str) -> Vec<String> {
    let allowed: Vec<&str> = variables.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
    let mut errors = Vec::new();
    let fields: [(&str, &str, usize); 10] = [
        ("模板名称", &form.name, 100),
        ("站内信标题", &form.inbox_title, 200),
        ("站内信内容", &form.inbox_body, 5000),
        ("短信内容", &form.sms_text, 300),
        ("短信模板编号", &form.sms_template_code, 64),
        ("微信模板消息编号", &form.wechat_template_id, 128),
        ("微信订阅消息编号", &form.wechat_subscribe_template_id, 128),
        ("微信消息字段", &form.wechat_fields, 2000),
        ("邮件主题", &form.email_subject, 200),
        ("邮件正文", &form.email_body, 10000),
    ];
    for (label, value, max) in fields {
        if value.chars().count() > max {
            errors.push(format!("{label}不能超过 {max} 个字"));
        }
        match placeholders(value) {
            Err(e) => errors.push(format!("{label}：{e}")),
            Ok(names) => {
                for n in names {
                    if !allowed.contains(&n.as_str()) {
                        errors.push(format!(
                            "{label}中的变量 {{{{{n}}}}} 不存在；此模板可用的变量：{}",
                            allowed.iter().map(|a| format!("{{{{{a}}}}}")).collect::<Vec<_>>().join("、")
                        ));
                    }
                }
            }
        }
    }
    if form.name.trim().is_empty() {
        errors.push("请填写模板名称".to_owned());
    }
    if form.inbox_title.trim().is_empty() {
        errors.push("请填写站内信标题".to_owned());
    }
    for line in form.wechat_fields.lines().filter(|l| !l.trim().is_empty()) {
        match line.split_once('=') {
            Some((k, _)) if !k.trim().is_empty() && k.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {}
            _ => errors.push(format!(
                "微信消息字段每行应为“字段名=内容”，字段名为英文字母、数字或下划线：{}",
                line.chars().take(30).collect::<String>()
            )),
        }
    }
    for (label, v) in [
        ("短信模板编号", &form.sms_template_code),
        ("微信模板消息编号", &form.wechat_template_id),
        ("微信订阅消息编号", &form.wechat_subscribe_template_id),
    ] {
        if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            errors.push(format!("{label}只能包含英文字母、数字、下划线和连字符"));
        }
    }
    errors
}

pub async fn list(ctx: &Ctx, actor: &Actor) -> Result<Vec<message_template::Model>, AccessError> {
    crate::messages::require_manage(actor)?;
    Ok(message_template::Entity::find().order_by_asc(message_template::Column::Id).all(&ctx.db).await?)
}

pub async fn show(ctx: &Ctx, actor: &Actor, id: i64) -> Result<message_template::Model, AccessError> {
    crate::messages::require_manage(actor)?;
    message_template::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)
}

/// Sample values for the preview: each variable shows its own name.
pub fn sample_vars(variables: &str) -> Vec<(String, String)> {
    variables
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            let sample = match v {
                "title" => "需求已受理：知识产权贯标辅导".to_owned(),
                "body" => "北京某某知识产权代理有限公司已受理您的需求，将在 3 个工作日内与您联系。".to_owned(),
                "link" => "/account/demands/1".to_owned(),
                other => format!("〔{other}〕"),
            };
            (v.to_owned(), sample)
        })
        .collect()
}

/// Saves an edited template after checking its variables; audited.
pub async fn save(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, form: &TemplateForm) -> Result<(), TemplateError> {
    crate::messages::require_manage(actor)?;
    let t = message_template::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let errors = check(form, &t.variables);
    if !errors.is_empty() {
        return Err(TemplateError::Invalid(errors));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let key = t.key.clone();
    let mut am: message_template::ActiveModel = t.into();
    am.name = Set(form.name.trim().to_owned());
    am.urgent = Set(form.urgent.is_some());
    am.inbox_title = Set(form.inbox_title.trim().to_owned());
    am.inbox_body = Set(form.inbox_body.trim().to_owned());
    am.sms_text = Set(form.sms_text.trim().to_owned());
    am.sms_template_code = Set(form.sms_template_code.trim().to_owned());
    am.wechat_template_id = Set(form.wechat_template_id.trim().to_owned());
    am.wechat_subscribe_template_id = Set(form.wechat_subscribe_template_id.trim().to_owned());
    am.wechat_fields = Set(form.wechat_fields.trim().to_owned());
    am.email_subject = Set(form.email_subject.trim().to_owned());
    am.email_body = Set(form.email_body.trim().to_owned());
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("message.template_update", "message_template", key, serde_json::json!({})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_checks() {
        let vars = vec![("title".to_owned(), "需求已受理".to_owned())];
        assert_eq!(fill("【{{title}}】{{ title }}，{{nope}}!", &vars), "【需求已受理】需求已受理，!");
        assert_eq!(fill("没有结尾 {{title", &vars), "没有结尾 {{title");
        let mut f = TemplateForm { name: "x".into(), inbox_title: "{{title}}".into(), ..Default::default() };
        assert!(check(&f, NOTICE_VARS).is_empty());
        f.sms_text = "您好 {{company}}".into();
        let e = check(&f, NOTICE_VARS);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("{{company}}") && e[0].contains("短信内容"), "{e:?}");
        f.sms_text = "坏的 {{title".into();
        assert!(check(&f, NOTICE_VARS)[0].contains("缺少结尾"));
        f.sms_text.clear();
        f.wechat_fields = "first={{title}}\n没有等号".into();
        assert_eq!(check(&f, NOTICE_VARS).len(), 1);
    }
}
