//! The official account's server (`/wechat`): URL verification, messages and
//! events in plain and safe (AES) mode, passive replies from the keyword
//! auto-replies, follower bookkeeping; and the back office's auto-replies, the
//! custom menu and web OAuth binding.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::Committed;
use qifu_db::entity::{policy, wechat_auto_reply, wechat_binding, wechat_log, wechat_menu};
use qifu_domain::messages::{ReplyKind, ReplyMatch, WechatLogKind};
use qifu_domain::policy::PolicyState;
use qifu_wechat as wx;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;

/// Largest body `/wechat` accepts (WeChat's own messages are a few KB).
pub const MAX_BODY: usize = 64 * 1024;

/// The query string WeChat sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WxQuery {
    #[serde(default)]
    pub signature: String,
    #[serde(default)]
    pub timestamp: String,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub echostr: String,
    #[serde(default)]
    pub encrypt_type: String,
    #[serde(default)]
    pub msg_signature: String,
    #[serde(default)]
    pub openid: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("签名校验失败")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("未配置公众号服务器令牌（QIFU_WECHAT_TOKEN）")]
    NotConfigured,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Refused requests are logged for the back office, at most 20 a minute (an
/// unauthenticated flood must not fill the table); a failed write never turns
/// the 403 into a 500.
async fn log_refusal(ctx: &Ctx, openid: &str, detail: &str) {
    tracing::warn!(openid = %openid.chars().take(64).collect::<String>(), detail, "wechat: request refused");
    let recent = wechat_log::Entity::find()
        .filter(wechat_log::Column::Kind.eq(WechatLogKind::BadSignature))
        .filter(wechat_log::Column::At.gt(ctx.now() - chrono::Duration::minutes(1)))
        .count(&ctx.db)
        .await
        .unwrap_or(u64::MAX);
    if recent < 20 {
        let _ = log(ctx, WechatLogKind::BadSignature, openid, detail).await;
    }
}

/// A timestamp too far from now (a replay), when the check is on.
fn stale(ctx: &Ctx, timestamp: &str) -> bool {
    let skew = ctx.settings.wechat.max_clock_skew_secs;
    if skew <= 0 {
        return false;
    }
    timestamp.parse::<i64>().map_or(true, |t| (ctx.now().timestamp() - t).abs() > skew)
}

async fn log(ctx: &Ctx, kind: WechatLogKind, openid: &str, detail: &str) -> Result<(), DbErr> {
    wechat_log::ActiveModel {
        at: Set(ctx.now()),
        kind: Set(kind),
        openid: Set(openid.chars().take(64).collect()),
        detail: Set(detail.chars().take(500).collect()),
        ..Default::default()
    }
    .insert_committed(&ctx.db)
    .await?;
    Ok(())
}

fn token(ctx: &Ctx) -> Result<&str, ServerError> {
    let t = ctx.settings.wechat.token.expose();
    if t.is_empty() { Err(ServerError::NotConfigured) } else { Ok(t) }
}

/// GET: WeChat checks the server — echo `echostr` when the signature is right.
pub async fn verify_url(ctx: &Ctx, q: &WxQuery) -> Result<String, ServerError> {
    let token = token(ctx)?;
    let expected = wx::signature(token, &q.timestamp, &q.nonce);
    if q.signature.is_empty() || !wx::verify(&q.signature, &expected) {
        log_refusal(ctx, &q.openid, "URL 验证签名不符").await;
        return Err(ServerError::Forbidden);
    }
    if stale(ctx, &q.timestamp) {
        log_refusal(ctx, &q.openid, "URL 验证时间戳过期").await;
        return Err(ServerError::Forbidden);
    }
    Ok(q.echostr.clone())
}

/// POST: a message or event. Returns the passive reply (`success` for none).
pub async fn handle(ctx: &Ctx, q: &WxQuery, body: &str) -> Result<String, ServerError> {
    let token = token(ctx)?;
    if body.len() > MAX_BODY {
        return Err(ServerError::BadRequest("消息过大".to_owned()));
    }
    let safe = q.encrypt_type == "aes";
    // With a key configured the account is in safe mode: a plain message (whose
    // signature does not cover the body) is refused, not trusted.
    if !safe && !ctx.settings.wechat.aes_key.is_empty() {
        log_refusal(ctx, &q.openid, "安全模式下收到未加密的消息").await;
        return Err(ServerError::Forbidden);
    }
    // The plain signature comes with every request; in safe mode the message
    // signature covers the ciphertext too.
    let plain_ok = !q.signature.is_empty() && wx::verify(&q.signature, &wx::signature(token, &q.timestamp, &q.nonce));
    let (xml, crypto) = if safe {
        let env = wx::parse_envelope(body).map_err(|e| ServerError::BadRequest(e.to_string()))?;
        let expected = wx::msg_signature(token, &q.timestamp, &q.nonce, &env.encrypt);
        if q.msg_signature.is_empty() || !wx::verify(&q.msg_signature, &expected) {
            log_refusal(ctx, &q.openid, "安全模式消息签名不符").await;
            return Err(ServerError::Forbidden);
        }
        let crypto = wx::Crypto::new(ctx.settings.wechat.aes_key.expose(), &ctx.settings.wechat.app_id)
            .map_err(|_| ServerError::BadRequest("未配置或配置了无效的消息加解密密钥".to_owned()))?;
        let xml = crypto.decrypt(&env.encrypt).map_err(|e| ServerError::BadRequest(e.to_string()))?;
        (xml, Some(crypto))
    } else {
        if !plain_ok {
            log_refusal(ctx, &q.openid, "消息签名不符").await;
            return Err(ServerError::Forbidden);
        }
        (body.to_owned(), None)
    };
    if stale(ctx, &q.timestamp) {
        log_refusal(ctx, &q.openid, "消息时间戳过期（可能是重放）").await;
        return Err(ServerError::Forbidden);
    }
    let msg = wx::parse_message(&xml).map_err(|e| ServerError::BadRequest(e.to_string()))?;
    // A signed message stays valid for the whole clock-skew window: a replay
    // within it is answered as WeChat expects, without acting a second time.
    if !first_delivery(ctx, &msg).await? {
        log_refusal(ctx, &q.openid, "重复的消息（可能是重放），已忽略").await;
        return Ok("success".to_owned());
    }
    let reply = respond(ctx, &msg).await?;
    let Some(reply) = reply else { return Ok("success".to_owned()) };
    match crypto {
        Some(c) => wx::encrypted_reply(&c, token, &reply, q.timestamp.parse().unwrap_or(ctx.now().timestamp()), &q.nonce)
            .map_err(|e| ServerError::BadRequest(e.to_string())),
        None => Ok(reply),
    }
}

/// Records a message as handled; `false` when it already was (a replay, or
/// WeChat's own retry of one we answered). Messages are told apart by MsgId,
/// events by sender, time and event; entries expire with the skew window.
async fn first_delivery(ctx: &Ctx, m: &wx::Message) -> Result<bool, DbErr> {
    use qifu_db::entity::wechat_seen;
    use sea_orm::sea_query::OnConflict;
    let key = match m.msg_id.as_deref().filter(|id| !id.trim().is_empty()) {
        Some(id) => format!("msg:{}", id.trim()),
        None => format!(
            "evt:{}:{}:{}:{}",
            m.from_user_name,
            m.create_time,
            m.event.as_deref().unwrap_or_default(),
            m.event_key.as_deref().unwrap_or_default()
        ),
    };
    let key: String = crate::crypto::sm3_hex(key.as_bytes());
    let now = ctx.now();
    let keep = ctx.settings.wechat.max_clock_skew_secs.max(300) * 2;
    wechat_seen::Entity::delete_many().filter(wechat_seen::Column::ExpiresAt.lt(now)).exec(&ctx.db).await?;
    let inserted = wechat_seen::Entity::insert(wechat_seen::ActiveModel {
        key: Set(key),
        expires_at: Set(now + chrono::Duration::seconds(keep)),
    })
    .on_conflict(OnConflict::column(wechat_seen::Column::Key).do_nothing().to_owned())
    .exec_without_returning(&ctx.db)
    .await?;
    Ok(inserted > 0)
}

/// The reply XML to a message or event, if any.
async fn respond(ctx: &Ctx, m: &wx::Message) -> Result<Option<String>, DbErr> {
    let now = ctx.now().timestamp();
    let (to, from) = (m.from_user_name.as_str(), m.to_user_name.as_str());
    let text = |s: &str| Some(wx::text_reply(to, from, now, s));
    match (m.msg_type.as_str(), m.event.as_deref().map(str::to_ascii_lowercase).as_deref()) {
        ("text", _) => {
            let content = m.content.clone().unwrap_or_default();
            log(ctx, WechatLogKind::Text, &m.from_user_name, &content).await?;
            match auto_reply(ctx, content.trim()).await? {
                Some(r) => Ok(Some(render_reply(ctx, &r, to, from, now).await?)),
                None => Ok(text(&default_reply(ctx))),
            }
        }
        ("event", Some("subscribe")) => {
            let scene = m.scene().unwrap_or_default().to_owned();
            follow(ctx, &m.from_user_name, true, &scene).await?;
            log(ctx, WechatLogKind::Subscribe, &m.from_user_name, &scene).await?;
            Ok(text(&format!("欢迎关注{}！回复“政策”查看最新惠企政策，或点击菜单进入平台办理服务。", ctx.settings.platform.name)))
        }
        ("event", Some("unsubscribe")) => {
            follow(ctx, &m.from_user_name, false, "").await?;
            log(ctx, WechatLogKind::Unsubscribe, &m.from_user_name, "").await?;
            Ok(None)
        }
        ("event", Some("scan")) => {
            let scene = m.scene().unwrap_or_default().to_owned();
            log(ctx, WechatLogKind::Scan, &m.from_user_name, &scene).await?;
            Ok(text(&format!("已收到您的扫码（场景 {scene}）。回复“政策”查看最新惠企政策。")))
        }
        ("event", Some("click")) => {
            let key = m.event_key.clone().unwrap_or_default();
            log(ctx, WechatLogKind::Click, &m.from_user_name, &key).await?;
            match auto_reply(ctx, &key).await? {
                Some(r) => Ok(Some(render_reply(ctx, &r, to, from, now).await?)),
                None => Ok(text(&default_reply(ctx))),
            }
        }
        ("event", Some("view")) => {
            log(ctx, WechatLogKind::View, &m.from_user_name, m.event_key.as_deref().unwrap_or_default()).await?;
            Ok(None)
        }
        (t, e) => {
            log(ctx, WechatLogKind::Other, &m.from_user_name, &format!("{t} {}", e.unwrap_or_default())).await?;
            Ok(text(&default_reply(ctx)))
        }
    }
}

fn default_reply(ctx: &Ctx) -> String {
    format!("您好，这里是{}。回复“政策”查看最新惠企政策；办理服务请点击菜单进入平台。", ctx.settings.platform.name)
}

async fn follow(ctx: &Ctx, openid: &str, subscribed: bool, scene: &str) -> Result<(), DbErr> {
    let now = ctx.now();
    let existing = wechat_binding::Entity::find().filter(wechat_binding::Column::Openid.eq(openid)).one(&ctx.db).await?;
    match existing {
        Some(b) => {
            let mut am: wechat_binding::ActiveModel = b.into();
            am.subscribed = Set(subscribed);
            if !scene.is_empty() {
                am.scene = Set(scene.to_owned());
            }
            am.updated_at = Set(now);
            am.update_committed(&ctx.db).await?;
        }
        None => {
            wechat_binding::ActiveModel {
                openid: Set(openid.chars().take(64).collect()),
                user_id: Set(None),
                subscribed: Set(subscribed),
                scene: Set(scene.chars().take(64).collect()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert_committed(&ctx.db)
            .await?;
        }
    }
    Ok(())
}

/// The rule for `text`: an exact keyword first, then the longest keyword it contains.
pub async fn auto_reply(ctx: &Ctx, text: &str) -> Result<Option<wechat_auto_reply::Model>, DbErr> {
    if text.is_empty() {
        return Ok(None);
    }
    let rules = wechat_auto_reply::Entity::find().filter(wechat_auto_reply::Column::Enabled.eq(true)).all(&ctx.db).await?;
    if let Some(r) = rules.iter().find(|r| r.keyword == text) {
        return Ok(Some(r.clone()));
    }
    Ok(rules
        .into_iter()
        .filter(|r| r.match_kind == ReplyMatch::Contains && text.contains(&r.keyword))
        .max_by_key(|r| r.keyword.chars().count()))
}

/// Newest published policies whose title or tags contain `term` (all when empty).
pub async fn newest_policies(ctx: &Ctx, term: &str, n: u64) -> Result<Vec<policy::Model>, DbErr> {
    let mut q = policy::Entity::find().filter(policy::Column::Status.eq(PolicyState::Published));
    if !term.is_empty() {
        q = q.filter(Condition::any().add(policy::Column::Title.contains(term)).add(policy::Column::Tags.contains(term)));
    }
    q.order_by_desc(policy::Column::PublishDate).order_by_desc(policy::Column::Id).limit(n).all(&ctx.db).await
}

async fn render_reply(ctx: &Ctx, r: &wechat_auto_reply::Model, to: &str, from: &str, now: i64) -> Result<String, DbErr> {
    if r.reply_kind == ReplyKind::Policies {
        let list = newest_policies(ctx, r.content.trim(), 5).await?;
        if list.is_empty() {
            return Ok(wx::text_reply(to, from, now, "暂时没有找到相关政策，请稍后再试或访问平台政策专栏。"));
        }
        let articles: Vec<wx::Article> = list
            .iter()
            .map(|p| wx::Article {
                title: p.title.clone(),
                description: format!("{} · {}", p.issuer, p.publish_date),
                pic_url: String::new(),
                url: super::center::absolute(ctx, &format!("/policies/{}", p.id)),
            })
            .collect();
        return Ok(wx::news_reply(to, from, now, &articles));
    }
    Ok(wx::text_reply(to, from, now, &r.content))
}

// ---- back office: auto-replies ----

/// What a follower typing `text` would get back: the rule it hits and the
/// reply as the back office shows it (text, or the titles of a news reply).
pub async fn try_reply(ctx: &Ctx, actor: &Actor, text: &str) -> Result<(Option<String>, Vec<String>), AccessError> {
    crate::messages::require_manage(actor)?;
    let text: String = text.trim().chars().take(60).collect();
    match auto_reply(ctx, &text).await? {
        None => Ok((None, vec![default_reply(ctx)])),
        Some(r) if r.reply_kind == ReplyKind::Policies => {
            let list = newest_policies(ctx, r.content.trim(), 5).await?;
            let lines = if list.is_empty() {
                vec!["暂时没有找到相关政策，请稍后再试或访问平台政策专栏。".to_owned()]
            } else {
                list.into_iter().map(|p| format!("〔图文〕{}", p.title)).collect()
            };
            Ok((Some(r.keyword), lines))
        }
        Some(r) => Ok((Some(r.keyword), vec![r.content])),
    }
}

/// The rules a fresh install starts with (demo data).
pub async fn seed_auto_replies(ctx: &Ctx) -> Result<(), DbErr> {
    if wechat_auto_reply::Entity::find().one(&ctx.db).await?.is_some() {
        return Ok(());
    }
    let rules = [
        ("政策", ReplyMatch::Exact, ReplyKind::Policies, ""),
        ("补贴", ReplyMatch::Contains, ReplyKind::Policies, "补贴"),
        ("人工", ReplyMatch::Contains, ReplyKind::Text, "请拨打平台服务热线，工作日 9:00–17:00 有专人为您解答。"),
    ];
    for (k, m, r, c) in rules {
        wechat_auto_reply::ActiveModel {
            keyword: Set(k.to_owned()),
            match_kind: Set(m),
            reply_kind: Set(r),
            content: Set(c.to_owned()),
            enabled: Set(true),
            created_at: Set(ctx.now()),
            ..Default::default()
        }
        .insert_committed(&ctx.db)
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AutoReplyForm {
    #[serde(default)]
    pub keyword: String,
    #[serde(default)]
    pub match_kind: String,
    #[serde(default)]
    pub reply_kind: String,
    #[serde(default)]
    pub content: String,
}

pub async fn list_auto_replies(ctx: &Ctx, actor: &Actor) -> Result<Vec<wechat_auto_reply::Model>, AccessError> {
    crate::messages::require_manage(actor)?;
    Ok(wechat_auto_reply::Entity::find().order_by_asc(wechat_auto_reply::Column::Id).all(&ctx.db).await?)
}

pub async fn add_auto_reply(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &AutoReplyForm) -> Result<i64, ServerErrorForm> {
    crate::messages::require_manage(actor)?;
    let keyword = f.keyword.trim();
    if keyword.is_empty() || keyword.chars().count() > 30 {
        return Err(ServerErrorForm::Invalid("请填写关键词（不超过 30 个字）".to_owned()));
    }
    let (Some(match_kind), Some(reply_kind)) = (ReplyMatch::parse(&f.match_kind), ReplyKind::parse(&f.reply_kind)) else {
        return Err(ServerErrorForm::Invalid("请选择匹配方式和回复类型".to_owned()));
    };
    let content = f.content.trim();
    if reply_kind == ReplyKind::Text && content.is_empty() {
        return Err(ServerErrorForm::Invalid("请填写回复内容".to_owned()));
    }
    if content.chars().count() > 600 {
        return Err(ServerErrorForm::Invalid("回复内容不能超过 600 个字".to_owned()));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let dup = wechat_auto_reply::Entity::find().filter(wechat_auto_reply::Column::Keyword.eq(keyword)).one(&txn).await?;
    if dup.is_some() {
        return Err(ServerErrorForm::Invalid(format!("关键词“{keyword}”已有自动回复")));
    }
    let r = wechat_auto_reply::ActiveModel {
        keyword: Set(keyword.to_owned()),
        match_kind: Set(match_kind),
        reply_kind: Set(reply_kind),
        content: Set(content.to_owned()),
        enabled: Set(true),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("wechat.auto_reply_add", "wechat_auto_reply", r.id, serde_json::json!({ "keyword": keyword })),
    )
    .await?;
    txn.commit().await?;
    Ok(r.id)
}

pub async fn delete_auto_reply(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), AccessError> {
    crate::messages::require_manage(actor)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let r = wechat_auto_reply::Entity::delete_by_id(id).exec(&txn).await?;
    if r.rows_affected == 0 {
        return Err(AccessError::NotFound);
    }
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("wechat.auto_reply_delete", "wechat_auto_reply", id, serde_json::json!({})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ServerErrorForm {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for ServerErrorForm {
    fn from(e: DbErr) -> Self {
        ServerErrorForm::Access(AccessError::Db(e))
    }
}

// ---- back office: the custom menu ----

/// One line per button: `名称 | click | KEY` or `名称 | view | https://…`;
/// a line starting with `-` is a sub-button of the line above; a top line
/// without type holds sub-buttons. WeChat allows 3 top buttons, 5 each.
pub fn parse_menu(text: &str) -> Result<serde_json::Value, String> {
    use serde_json::{Value, json};
    let mut top: Vec<Value> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        let (sub, line) = match line.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = parts.first().copied().unwrap_or_default();
        let max = if sub { 60 } else { 16 };
        if name.is_empty() || name.len() > max {
            return Err(format!("第 {n} 行：按钮名称不能为空，一级菜单不超过 5 个汉字，二级菜单不超过 20 个汉字"));
        }
        let button = match parts.as_slice() {
            [_] if !sub => json!({ "name": name, "sub_button": [] }),
            [_, "click", key]
                if !key.is_empty() && key.len() <= 128 && key.chars().all(|c| c.is_ascii_graphic() || !c.is_ascii()) =>
            {
                json!({ "type": "click", "name": name, "key": key })
            }
            [_, "view", url]
                if (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() <= 1000
                    && !url.contains(char::is_whitespace) =>
            {
                json!({ "type": "view", "name": name, "url": url })
            }
            _ => return Err(format!("第 {n} 行应为“名称 | click | 关键词”或“名称 | view | 网址”")),
        };
        if sub {
            let Some(parent) = top.last_mut() else { return Err(format!("第 {n} 行：二级菜单前须有一级菜单")) };
            let Some(list) = parent.get_mut("sub_button").and_then(Value::as_array_mut) else {
                return Err(format!("第 {n} 行：上一行一级菜单已设了动作，不能再有二级菜单"));
            };
            if list.len() >= 5 {
                return Err(format!("第 {n} 行：每个一级菜单最多 5 个二级菜单"));
            }
            list.push(button);
        } else {
            if top.len() >= 3 {
                return Err(format!("第 {n} 行：最多 3 个一级菜单"));
            }
            top.push(button);
        }
    }
    if top.is_empty() {
        return Err("菜单不能为空".to_owned());
    }
    for b in &top {
        if b.get("sub_button").and_then(Value::as_array).is_some_and(Vec::is_empty) {
            return Err(format!(
                "一级菜单“{}”没有设置动作，也没有二级菜单",
                b.get("name").and_then(Value::as_str).unwrap_or_default()
            ));
        }
    }
    Ok(json!({ "button": top }))
}

pub async fn current_menu(ctx: &Ctx, actor: &Actor) -> Result<Option<wechat_menu::Model>, AccessError> {
    crate::messages::require_manage(actor)?;
    Ok(wechat_menu::Entity::find().order_by_desc(wechat_menu::Column::Id).one(&ctx.db).await?)
}

/// Saves the menu and publishes it through the API; returns the publish result.
pub async fn save_menu(ctx: &Ctx, actor: &Actor, meta: &Meta, text: &str) -> Result<String, ServerErrorForm> {
    crate::messages::require_manage(actor)?;
    if text.len() > 8000 {
        return Err(ServerErrorForm::Invalid("菜单内容过长".to_owned()));
    }
    let menu = parse_menu(text).map_err(ServerErrorForm::Invalid)?;
    let now = ctx.now();
    let published = ctx.wechat.create_menu(&menu, now).await;
    let status = match &published {
        Ok(()) => "已发布到公众号".to_owned(),
        Err(e) => format!("已保存，未发布：{e}"),
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let m = wechat_menu::ActiveModel {
        body: Set(text.trim().to_owned()),
        updated_at: Set(now),
        published_at: Set(published.is_ok().then_some(now)),
        publish_status: Set(Some(status.chars().take(500).collect())),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("wechat.menu_save", "wechat_menu", m.id, serde_json::json!({ "published": published.is_ok() })),
    )
    .await?;
    txn.commit().await?;
    Ok(status)
}

// ---- web OAuth ----

/// Binds the openid WeChat's OAuth gave for `code` to the signed-in user.
pub async fn bind_by_code(ctx: &Ctx, actor: &Actor, meta: &Meta, code: &str) -> Result<String, ServerErrorForm> {
    if code.is_empty() || code.len() > 128 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ServerErrorForm::Invalid("微信授权码无效".to_owned()));
    }
    let openid = ctx.wechat.oauth_openid(code).await.map_err(|e| ServerErrorForm::Invalid(e.to_string()))?;
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let existing = wechat_binding::Entity::find().filter(wechat_binding::Column::Openid.eq(openid.clone())).one(&txn).await?;
    match existing {
        Some(b) => {
            let mut am: wechat_binding::ActiveModel = b.into();
            am.user_id = Set(Some(actor.user_id));
            am.updated_at = Set(now);
            am.update(&txn).await?;
        }
        None => {
            wechat_binding::ActiveModel {
                openid: Set(openid.clone()),
                user_id: Set(Some(actor.user_id)),
                // Known to WeChat through OAuth, but not (yet) a follower.
                subscribed: Set(false),
                scene: Set(String::new()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("wechat.bind", "user", actor.user_id, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(openid)
}

/// Whether the user has a bound WeChat, and whether it follows the account.
pub async fn binding_of(ctx: &Ctx, user_id: i64) -> Result<Option<wechat_binding::Model>, DbErr> {
    wechat_binding::Entity::find()
        .filter(wechat_binding::Column::UserId.eq(user_id))
        .order_by_desc(wechat_binding::Column::UpdatedAt)
        .one(&ctx.db)
        .await
}

/// Unbinds the user's WeChat.
pub async fn unbind(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    wechat_binding::Entity::update_many()
        .col_expr(wechat_binding::Column::UserId, sea_orm::sea_query::Expr::value(Option::<i64>::None))
        .filter(wechat_binding::Column::UserId.eq(actor.user_id))
        .exec(&txn)
        .await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("wechat.unbind", "user", actor.user_id, serde_json::json!({}))).await?;
    txn.commit().await
}

/// The event log for the back office.
pub async fn recent_logs(ctx: &Ctx, actor: &Actor) -> Result<Vec<wechat_log::Model>, AccessError> {
    crate::messages::require_manage(actor)?;
    Ok(wechat_log::Entity::find().order_by_desc(wechat_log::Column::Id).limit(50).all(&ctx.db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus() {
        let m = parse_menu("政策服务\n- 最新政策 | click | 政策\n- 政策计算器 | view | https://qifu.example.cn/policies/calculator\n办事 | view | https://qifu.example.cn/")
            .unwrap_or_default();
        assert_eq!(m["button"][0]["sub_button"][1]["type"], "view");
        assert_eq!(m["button"][1]["url"], "https://qifu.example.cn/");
        assert!(parse_menu("").is_err());
        assert!(
            parse_menu("a|view|https://x\nb|view|https://x\nc|view|https://x\nd|view|https://x")
                .is_err_and(|e| e.contains("最多 3 个"))
        );
        assert!(parse_menu("- 孤儿 | click | K").is_err());
        assert!(parse_menu("名称 | view | javascript:alert(1)").is_err());
        assert!(parse_menu("空的一级").is_err_and(|e| e.contains("没有设置动作")));
    }
}
