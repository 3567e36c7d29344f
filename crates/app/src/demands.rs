//! Demands (需求): an enterprise applies for a product or for financing; the
//! product's institution accepts or declines, serves, delivers; the enterprise
//! confirms; the institution closes. Both sides see one timeline and talk in a
//! thread on the demand. Transitions are decided by `qifu_domain::demands`.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::certification::require_certified;
use crate::context::{Ctx, Meta};
use crate::{files, messages};
use chrono::{DateTime, NaiveDate, Utc};
use qifu_db::entity::{demand, demand_event, demand_message, file, institution, organisation, product, user};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::{OrgKind, Permission, Phone};
use qifu_domain::catalog::CategoryKind;
use qifu_domain::demands::{DemandEvent, DemandState, Party, add_working_days, next};
use qifu_domain::demands::{DemandKind, HistoryEvent, ProductState};
use qifu_domain::files::FilePurpose;
use qifu_domain::messages::MessageCategory;
use qifu_domain::money::{FEN_PER_WAN, parse_amount, parse_percent_bp};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

#[derive(Debug, thiserror::Error)]
pub enum DemandError {
    #[error("表单有误")]
    Fields(Vec<(&'static str, String)>),
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for DemandError {
    fn from(e: DbErr) -> Self {
        DemandError::Access(AccessError::Db(e))
    }
}

impl From<crate::certification::CertError> for DemandError {
    fn from(e: crate::certification::CertError) -> Self {
        match e {
            crate::certification::CertError::Access(a) => DemandError::Access(a),
            other => DemandError::State(other.to_string()),
        }
    }
}

/// The application form.
#[derive(Debug, Clone, Default)]
pub struct ApplyForm {
    pub needs: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub expected_date: String,
    pub amount_wan: String,
    pub term_months: String,
    pub purpose: String,
    pub guarantee_mode: String,
    pub financial_summary: String,
    /// An attachment (附件) such as a business plan: a PDF or image, optional.
    pub attachment: Option<crate::files::Upload>,
}

/// Whether a product is a financing product: its top-level category is of
/// the financing kind (children inherit their parent's kind).
pub async fn is_financing<C: ConnectionTrait>(conn: &C, p: &product::Model) -> Result<bool, DbErr> {
    Ok(crate::catalog::category_kind(conn, p.category_id).await?.is_some_and(CategoryKind::is_financing))
}

fn text(s: &str, max: usize, field: &'static str, label: &str, required: bool, e: &mut Vec<(&'static str, String)>) -> String {
    let v = s.trim().to_owned();
    if required && v.is_empty() {
        e.push((field, format!("请填写{label}")));
    } else if v.chars().count() > max {
        e.push((field, format!("{label}不能超过{max}个字")));
    }
    v
}

#[allow(clippy::too_many_arguments)] // one timeline row: every argument is a column
async fn add_event<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    id: i64,
    actor: Option<&Actor>,
    event: HistoryEvent,
    from: Option<DemandState>,
    to: DemandState,
    note: &str,
) -> Result<(), DbErr> {
    demand_event::ActiveModel {
        demand_id: Set(id),
        at: Set(ctx.now()),
        actor_user_id: Set(actor.map(|a| a.user_id)),
        actor_name: Set(actor
            .map(|a| format!("{}（{}）", a.display_name, a.org_name))
            .unwrap_or_else(|| "系统".to_owned())
            .chars()
            .take(64)
            .collect()),
        event: Set(event),
        // Text: empty when there was no state before (a demand submitted).
        from_status: Set(from.map_or("", DemandState::code).to_owned()),
        to_status: Set(to),
        note: Set(note.chars().take(500).collect()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Users of an organisation, to notify.
async fn org_users<C: ConnectionTrait>(conn: &C, org_id: i64) -> Result<Vec<i64>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect())
}

async fn institution_org<C: ConnectionTrait>(conn: &C, institution_id: i64) -> Result<i64, DbErr> {
    Ok(institution::Entity::find_by_id(institution_id).one(conn).await?.map(|i| i.org_id).unwrap_or_default())
}

/// An enterprise applies for an online product.
pub async fn apply(ctx: &Ctx, actor: &Actor, meta: &Meta, product_id: i64, f: &ApplyForm) -> Result<i64, DemandError> {
    if actor.org_kind != OrgKind::Enterprise {
        return Err(DemandError::State("只有企业用户可以申请服务".to_owned()));
    }
    require_certified(ctx, actor).await?;
    let p = product::Entity::find_by_id(product_id)
        .one(&ctx.db)
        .await?
        .filter(|p| p.status == ProductState::Online)
        .ok_or(AccessError::NotFound)?;
    let financing = is_financing(&ctx.db, &p).await?;
    let mut e = Vec::new();
    let needs = text(&f.needs, 1000, "needs", "需求说明", true, &mut e);
    let contact = text(&f.contact_name, 32, "contact_name", "联系人", true, &mut e);
    let phone = Phone::parse(&f.contact_phone).map_err(|err| e.push(("contact_phone", err.to_string()))).ok();
    let expected = if f.expected_date.trim().is_empty() {
        None
    } else {
        match NaiveDate::parse_from_str(f.expected_date.trim(), "%Y-%m-%d") {
            Ok(d) if d >= ctx.now().date_naive() => Some(d),
            _ => {
                e.push(("expected_date", "期望时间应为今天或以后的日期".to_owned()));
                None
            }
        }
    };
    let (mut amount, mut term, mut purpose, mut guarantee, mut summary) = (None, None, None, None, None);
    if financing {
        amount = parse_amount(&f.amount_wan, FEN_PER_WAN, 1_000_000)
            .map_err(|m| e.push(("amount_wan", m.replace("金额", "融资金额"))))
            .ok()
            .map(|m| m.fen());
        if let (Some(a), Some(min)) = (amount, p.amount_min_fen)
            && a < min
        {
            e.push(("amount_wan", "融资金额低于该产品的最低金额".to_owned()));
        }
        if let (Some(a), Some(max)) = (amount, p.amount_max_fen)
            && a > max
        {
            e.push(("amount_wan", "融资金额超过该产品的最高金额".to_owned()));
        }
        term = match f.term_months.trim().parse::<i32>() {
            Ok(n) if (1..=360).contains(&n) => Some(n),
            _ => {
                e.push(("term_months", "融资期限应为1到360个月".to_owned()));
                None
            }
        };
        purpose = Some(text(&f.purpose, 200, "purpose", "资金用途", true, &mut e));
        guarantee = Some(text(&f.guarantee_mode, 32, "guarantee_mode", "担保方式", true, &mut e));
        summary = Some(text(&f.financial_summary, 1000, "financial_summary", "财务概况", true, &mut e));
    }
    let attachment = match check_file(f.attachment.as_ref(), "attachment") {
        Ok(a) => a,
        Err(DemandError::Fields(mut list)) => {
            e.append(&mut list);
            None
        }
        Err(other) => return Err(other),
    };
    let Some(phone) = phone.filter(|_| e.is_empty()) else {
        return Err(DemandError::Fields(e));
    };
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let attachment_file_id = match attachment {
        Some(a) => Some(store_file(&txn, ctx, actor.org_id, FilePurpose::DemandAttachment, "attachment", a).await?),
        None => None,
    };
    let d = demand::ActiveModel {
        product_id: Set(p.id),
        institution_id: Set(p.institution_id),
        enterprise_org_id: Set(actor.org_id),
        applicant_user_id: Set(actor.user_id),
        kind: Set(if financing { DemandKind::Financing } else { DemandKind::Service }),
        status: Set(DemandState::Submitted),
        needs: Set(needs),
        contact_name: Set(contact),
        contact_phone_enc: Set(ctx.crypto.encrypt(phone.as_str())),
        contact_phone_masked: Set(phone.masked()),
        expected_date: Set(expected),
        amount_fen: Set(amount),
        term_months: Set(term),
        purpose: Set(purpose),
        guarantee_mode: Set(guarantee),
        financial_summary: Set(summary),
        attachment_file_id: Set(attachment_file_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // An atomic increment in this transaction: a count read earlier and written
    // back would lose concurrent applications.
    product::Entity::update_many()
        .col_expr(product::Column::AppliedCount, sea_orm::sea_query::ExprTrait::add(Expr::col(product::Column::AppliedCount), 1))
        .filter(product::Column::Id.eq(p.id))
        .exec(&txn)
        .await?;
    add_event(&txn, ctx, d.id, Some(actor), HistoryEvent::Submit, None, DemandState::Submitted, "").await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("demand.submit", "demand", d.id, serde_json::json!({"after": {"product": p.id, "kind": d.kind.code()}})),
    )
    .await?;
    let inst_org = institution_org(&txn, p.institution_id).await?;
    for uid in org_users(&txn, inst_org).await? {
        messages::notify_with_sms(
            &txn,
            ctx,
            uid,
            MessageCategory::Demand,
            &format!("新的服务需求：{}", p.name),
            &format!("{} 提交了需求，请及时受理。", actor.org_name),
            Some(&format!("/admin/demands/{}", d.id)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(d.id)
}

/// The side an actor is on for a demand, or not found when outside its scope.
async fn party(ctx: &Ctx, actor: &Actor, d: &demand::Model) -> Result<Party, AccessError> {
    if actor.org_kind == OrgKind::Enterprise && d.enterprise_org_id == actor.org_id {
        return Ok(Party::Enterprise);
    }
    if actor.org_kind == OrgKind::Institution && institution_org(&ctx.db, d.institution_id).await? == actor.org_id {
        return Ok(Party::Institution);
    }
    if actor.can(Permission::DemandOversee) {
        return Ok(Party::Operator);
    }
    Err(AccessError::NotFound)
}

/// A demand with what its pages show.
#[derive(Debug, Clone)]
pub struct DemandView {
    pub demand: demand::Model,
    pub product_name: String,
    pub institution_name: String,
    pub enterprise_name: String,
    pub assignee_name: Option<String>,
    pub events: Vec<demand_event::Model>,
    pub messages: Vec<demand_message::Model>,
    pub party: Party,
    pub overdue: bool,
}

/// When a submitted demand becomes overdue.
pub fn accept_deadline(ctx: &Ctx, created_at: DateTime<Utc>) -> NaiveDate {
    let local = (created_at + chrono::Duration::hours(8)).date_naive();
    add_working_days(local, ctx.settings.demands.accept_working_days)
}

fn is_overdue(ctx: &Ctx, d: &demand::Model) -> bool {
    d.status.awaits_acceptance() && (ctx.now() + chrono::Duration::hours(8)).date_naive() > accept_deadline(ctx, d.created_at)
}

pub async fn view(ctx: &Ctx, actor: &Actor, id: i64) -> Result<DemandView, AccessError> {
    let d = demand::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let p = party(ctx, actor, &d).await?;
    let product_name = product::Entity::find_by_id(d.product_id).one(&ctx.db).await?.map(|p| p.name).unwrap_or_default();
    let inst_org = institution_org(&ctx.db, d.institution_id).await?;
    let institution_name = organisation::Entity::find_by_id(inst_org).one(&ctx.db).await?.map(|o| o.name).unwrap_or_default();
    let enterprise_name =
        organisation::Entity::find_by_id(d.enterprise_org_id).one(&ctx.db).await?.map(|o| o.name).unwrap_or_default();
    let assignee_name = match d.assignee_user_id {
        Some(uid) => user::Entity::find_by_id(uid).one(&ctx.db).await?.map(|u| u.display_name),
        None => None,
    };
    let events = demand_event::Entity::find()
        .filter(demand_event::Column::DemandId.eq(id))
        .order_by_asc(demand_event::Column::Id)
        .all(&ctx.db)
        .await?;
    let messages = demand_message::Entity::find()
        .filter(demand_message::Column::DemandId.eq(id))
        .order_by_asc(demand_message::Column::Id)
        .all(&ctx.db)
        .await?;
    Ok(DemandView {
        overdue: is_overdue(ctx, &d),
        demand: d,
        product_name,
        institution_name,
        enterprise_name,
        assignee_name,
        events,
        messages,
        party: p,
    })
}

/// A demand's files: the enterprise's attachment and the institution's proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandFile {
    Attachment,
    Proof,
}

/// A file of a demand, for either side of it (or the operator).
pub async fn demand_file(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    id: i64,
    which: DemandFile,
) -> Result<(file::Model, Vec<u8>), AccessError> {
    let d = demand::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    party(ctx, actor, &d).await?;
    let fid = match which {
        DemandFile::Attachment => d.attachment_file_id,
        DemandFile::Proof => d.proof_file_id,
    }
    .ok_or(AccessError::NotFound)?;
    let f = file::Entity::find_by_id(fid).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let bytes = files::read_bytes(ctx, &f).await?;
    audit::record_read(ctx, actor, meta, "demand", id, serde_json::json!({"file": f.id, "purpose": f.purpose})).await?;
    Ok((f, bytes))
}

/// What an action carries.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub note: String,
    pub assignee_user_id: Option<i64>,
    pub granted_amount_wan: String,
    pub granted_rate: String,
    pub granted_term_months: String,
    pub to_institution_id: Option<i64>,
    /// The delivery proof (交付凭证): a PDF or image, optional.
    pub proof: Option<crate::files::Upload>,
}

/// Largest attachment or delivery proof accepted.
pub const FILE_MAX_BYTES: usize = 8 * 1024 * 1024;
const FILE_KINDS: &[files::Kind] = &[files::Kind::Pdf, files::Kind::Png, files::Kind::Jpeg];
const FILE_KINDS_LABEL: &str = "PDF、JPG 或 PNG 文件";

/// Checks an optional upload; `None` when nothing was chosen.
fn check_file<'a>(
    up: Option<&'a crate::files::Upload>,
    field: &'static str,
) -> Result<Option<(files::Kind, &'a crate::files::Upload)>, DemandError> {
    let Some(up) = up.filter(|u| !u.bytes.is_empty()) else { return Ok(None) };
    let kind = files::check(&up.bytes, FILE_MAX_BYTES, FILE_KINDS, FILE_KINDS_LABEL)
        .map_err(|e| DemandError::Fields(vec![(field, e.to_string())]))?;
    Ok(Some((kind, up)))
}

async fn store_file<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    org_id: i64,
    purpose: FilePurpose,
    field: &'static str,
    (kind, up): (files::Kind, &crate::files::Upload),
) -> Result<i64, DemandError> {
    let f = files::store(conn, ctx, org_id, purpose, &up.file_name, kind, &up.bytes).await.map_err(|e| match e {
        files::UploadError::Db(e) => DemandError::from(e),
        other => DemandError::Fields(vec![(field, other.to_string())]),
    })?;
    Ok(f.id)
}

/// Moves a demand through its lifecycle on behalf of the actor.
pub async fn act(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    id: i64,
    event: DemandEvent,
    input: &ActionInput,
) -> Result<(), DemandError> {
    let d = demand::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let by = party(ctx, actor, &d).await?;
    let from = d.status;
    let to = next(from, event, by).map_err(|e| DemandError::State(e.to_string()))?;
    let note = input.note.trim().chars().take(500).collect::<String>();
    let d_proof_before = d.proof_file_id;
    let mut am: demand::ActiveModel = d.clone().into();
    let now = ctx.now();
    let mut proof = None;
    match event {
        DemandEvent::Accept => {
            let assignee = input.assignee_user_id.unwrap_or(actor.user_id);
            let u = user::Entity::find_by_id(assignee).one(&ctx.db).await?.filter(|u| u.org_id == actor.org_id);
            if u.is_none() {
                return Err(DemandError::Fields(vec![("assignee", "请选择本机构的工作人员".to_owned())]));
            }
            am.assignee_user_id = Set(Some(assignee));
            am.accepted_at = Set(Some(now));
        }
        DemandEvent::Decline => {
            if note.chars().count() < 2 {
                return Err(DemandError::Fields(vec![("note", "不予受理时请填写原因".to_owned())]));
            }
            am.decline_reason = Set(Some(note.clone()));
        }
        DemandEvent::Deliver => {
            if note.chars().count() < 2 {
                return Err(DemandError::Fields(vec![("note", "交付时请填写服务成果说明".to_owned())]));
            }
            am.proof_note = Set(Some(note.clone()));
            proof = check_file(input.proof.as_ref(), "proof")?;
        }
        DemandEvent::Close if d.kind.is_financing() => {
            let amount = parse_amount(&input.granted_amount_wan, FEN_PER_WAN, 1_000_000)
                .map_err(|m| DemandError::Fields(vec![("granted", m.replace("金额", "放款金额"))]))?;
            let rate = parse_percent_bp(&input.granted_rate).map_err(|m| DemandError::Fields(vec![("granted", m.to_owned())]))?;
            let term = input
                .granted_term_months
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=360).contains(n))
                .ok_or_else(|| DemandError::Fields(vec![("granted", "期限应为1到360个月".to_owned())]))?;
            am.granted_amount_fen = Set(Some(amount.fen()));
            am.granted_rate_bp = Set(Some(rate));
            am.granted_term_months = Set(Some(term));
        }
        DemandEvent::Reassign => {
            if actor.org_kind != OrgKind::Operator {
                return Err(AccessError::Forbidden.into());
            }
            let target = input
                .to_institution_id
                .ok_or_else(|| DemandError::Fields(vec![("to_institution", "请选择改派的服务机构".to_owned())]))?;
            if institution::Entity::find_by_id(target).one(&ctx.db).await?.is_none() || target == d.institution_id {
                return Err(DemandError::Fields(vec![("to_institution", "请选择另一家服务机构".to_owned())]));
            }
            if note.chars().count() < 2 {
                return Err(DemandError::Fields(vec![("note", "改派时请填写原因".to_owned())]));
            }
            am.institution_id = Set(target);
            am.reminded_at = Set(None);
            am.escalated_at = Set(None);
        }
        _ => {}
    }
    am.status = Set(to);
    am.updated_at = Set(now);
    let txn = qifu_db::begin_write(&ctx.db).await?;
    if let Some(p) = proof {
        am.proof_file_id = Set(Some(store_file(&txn, ctx, actor.org_id, FilePurpose::DemandProof, "proof", p).await?));
        // The replaced proof goes once nothing points at it.
        if let Some(old) = d_proof_before {
            files::release(&txn, ctx, old).await?;
        }
    }
    am.update(&txn).await?;
    add_event(&txn, ctx, id, Some(actor), event.into(), Some(from), to, &note).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "demand.transition",
            "demand",
            id,
            serde_json::json!({"event": HistoryEvent::from(event).code(), "before": {"status": from.code()}, "after": {"status": to.code()}, "note": note}),
        ),
    )
    .await?;
    let title = format!("需求状态更新：{}", to.label());
    let body = format!(
        "您的需求（编号 {id}）已{}。{}",
        event.label(),
        if note.is_empty() { String::new() } else { format!("说明：{note}") }
    );
    let (enterprise_link, admin_link) = (format!("/account/demands/{id}"), format!("/admin/demands/{id}"));
    if by != Party::Enterprise {
        messages::notify_with_sms(&txn, ctx, d.applicant_user_id, MessageCategory::Demand, &title, &body, Some(&enterprise_link))
            .await?;
    }
    if by != Party::Institution {
        let inst =
            if event == DemandEvent::Reassign { input.to_institution_id.unwrap_or(d.institution_id) } else { d.institution_id };
        for uid in org_users(&txn, institution_org(&txn, inst).await?).await? {
            messages::notify_with_sms(
                &txn,
                ctx,
                uid,
                MessageCategory::Demand,
                &title,
                &format!("需求（编号 {id}）{}。", event.label()),
                Some(&admin_link),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// The enterprise rates a finished service (confirmed or closed), once: 1–5
/// stars and an optional comment. The product's totals move in the same transaction.
pub async fn rate(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, stars: &str, comment: &str) -> Result<(), DemandError> {
    use sea_orm::sea_query::ExprTrait as _;
    let d = demand::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    if party(ctx, actor, &d).await? != Party::Enterprise {
        return Err(DemandError::State("只有提出需求的企业可以评价".to_owned()));
    }
    if !matches!(d.status, DemandState::Confirmed | DemandState::Closed) {
        return Err(DemandError::State("确认服务完成后才能评价".to_owned()));
    }
    if d.rating.is_some() {
        return Err(DemandError::State("该需求已评价，不能重复评价".to_owned()));
    }
    let mut e = Vec::new();
    let stars = stars.trim().parse::<i32>().ok().filter(|n| (1..=5).contains(n));
    if stars.is_none() {
        e.push(("rating", "请选择1到5星的评分".to_owned()));
    }
    let comment = comment.trim();
    if comment.chars().count() > 300 {
        e.push(("comment", "评价内容不能超过300字".to_owned()));
    }
    let Some(stars) = stars.filter(|_| e.is_empty()) else { return Err(DemandError::Fields(e)) };
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    // Only an unrated demand is updated, so two quick submissions count once.
    let res = demand::Entity::update_many()
        .col_expr(demand::Column::Rating, Expr::value(stars))
        .col_expr(demand::Column::RatingComment, Expr::value(comment.to_owned()))
        .col_expr(demand::Column::RatedAt, Expr::value(now))
        .filter(demand::Column::Id.eq(id))
        .filter(demand::Column::Rating.is_null())
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(DemandError::State("该需求已评价，不能重复评价".to_owned()));
    }
    product::Entity::update_many()
        .col_expr(product::Column::RatingCount, sea_orm::sea_query::ExprTrait::add(Expr::col(product::Column::RatingCount), 1))
        .col_expr(product::Column::RatingSum, Expr::col(product::Column::RatingSum).add(stars))
        .filter(product::Column::Id.eq(d.product_id))
        .exec(&txn)
        .await?;
    let note = if comment.is_empty() { format!("{stars}星") } else { format!("{stars}星：{comment}") };
    add_event(&txn, ctx, id, Some(actor), HistoryEvent::Rate, Some(d.status), d.status, &note).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("demand.rate", "demand", id, serde_json::json!({"after": {"rating": stars}})),
    )
    .await?;
    let inst_org = institution_org(&txn, d.institution_id).await?;
    for uid in org_users(&txn, inst_org).await? {
        messages::notify(
            &txn,
            ctx,
            uid,
            MessageCategory::Demand,
            &format!("需求 {id} 收到评价：{stars}星"),
            &note,
            Some(&format!("/admin/demands/{id}")),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Posts to the demand's message thread (服务直连互动).
pub async fn post_message(ctx: &Ctx, actor: &Actor, id: i64, body: &str) -> Result<(), DemandError> {
    let d = demand::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let side = party(ctx, actor, &d).await?;
    // The thread is between the enterprise and the institution; overseers
    // (the operator, government viewers) read it but do not speak in it.
    if side == Party::Operator {
        return Err(AccessError::Forbidden.into());
    }
    let body = body.trim();
    if body.is_empty() {
        return Err(DemandError::Fields(vec![("body", "请填写留言内容".to_owned())]));
    }
    if body.chars().count() > 1000 {
        return Err(DemandError::Fields(vec![("body", "留言不能超过1000个字".to_owned())]));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    demand_message::ActiveModel {
        demand_id: Set(id),
        at: Set(ctx.now()),
        user_id: Set(actor.user_id),
        author_name: Set(format!("{}（{}）", actor.display_name, actor.org_name).chars().take(64).collect()),
        side: Set(side),
        body: Set(body.to_owned()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if side == Party::Enterprise {
        for uid in org_users(&txn, institution_org(&txn, d.institution_id).await?).await? {
            messages::notify_with_sms(
                &txn,
                ctx,
                uid,
                MessageCategory::Demand,
                "需求有新留言",
                &format!("企业在需求（编号 {id}）中留言。"),
                Some(&format!("/admin/demands/{id}")),
            )
            .await?;
        }
    } else {
        messages::notify_with_sms(
            &txn,
            ctx,
            d.applicant_user_id,
            MessageCategory::Demand,
            "需求有新留言",
            &format!("需求（编号 {id}）有新的回复。"),
            Some(&format!("/account/demands/{id}")),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Filters of demand lists.
#[derive(Debug, Clone, Default)]
pub struct DemandFilter {
    pub status: String,
    pub product_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub overdue_only: bool,
}

/// Demands the actor may see: the enterprise's own, the institution's inbox, or all for the operator.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    f: &DemandFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<demand::Model>, u64), AccessError> {
    let mut q = demand::Entity::find().order_by_desc(demand::Column::Id);
    match actor.org_kind {
        OrgKind::Enterprise => q = q.filter(demand::Column::EnterpriseOrgId.eq(actor.org_id)),
        OrgKind::Institution => {
            let inst = institution::Entity::find()
                .filter(institution::Column::OrgId.eq(actor.org_id))
                .one(&ctx.db)
                .await?
                .ok_or(AccessError::Forbidden)?;
            q = q.filter(demand::Column::InstitutionId.eq(inst.id));
        }
        _ => {
            crate::actor::require(actor, Permission::DemandOversee)?;
        }
    }
    if DemandState::parse(&f.status).is_some() {
        q = q.filter(demand::Column::Status.eq(f.status.as_str()));
    }
    if let Some(p) = f.product_id {
        q = q.filter(demand::Column::ProductId.eq(p));
    }
    if let Some(t) = f.from {
        q = q.filter(demand::Column::CreatedAt.gte(t));
    }
    if let Some(t) = f.to {
        q = q.filter(demand::Column::CreatedAt.lt(t));
    }
    if f.overdue_only {
        // Overdue = still submitted past the deadline; candidates are those submitted before
        // the latest possible creation time, refined in memory (a page at most).
        let cutoff = ctx.now() - chrono::Duration::days(i64::from(ctx.settings.demands.accept_working_days));
        q = q.filter(demand::Column::Status.eq(DemandState::Submitted)).filter(demand::Column::CreatedAt.lt(cutoff));
        let all: Vec<demand::Model> = q.all(&ctx.db).await?.into_iter().filter(|d| is_overdue(ctx, d)).collect();
        let total = all.len() as u64;
        let start = usize::try_from(page.max(1).saturating_sub(1) * per_page).unwrap_or(usize::MAX);
        return Ok((all.into_iter().skip(start).take(usize::try_from(per_page).unwrap_or(20)).collect(), total));
    }
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * per_page).limit(per_page).all(&ctx.db).await?, total))
}

/// The institution's inbox as xlsx.
pub async fn export(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &DemandFilter) -> Result<Vec<u8>, AccessError> {
    let (rows, _) = list(ctx, actor, f, 1, crate::audit::EXPORT_LIMIT).await?;
    audit::record_export(
        ctx,
        actor,
        meta,
        "demands",
        serde_json::json!({"status": f.status, "from": f.from, "to": f.to, "overdue_only": f.overdue_only}),
        rows.len(),
    )
    .await?;
    let products = product::Entity::find()
        .filter(product::Column::Id.is_in(rows.iter().map(|d| d.product_id).collect::<Vec<_>>()))
        .all(&ctx.db)
        .await?;
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|d| d.enterprise_org_id).collect::<Vec<_>>()))
        .all(&ctx.db)
        .await?;
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                (d.created_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string(),
                orgs.iter().find(|o| o.id == d.enterprise_org_id).map(|o| o.name.clone()).unwrap_or_default(),
                products.iter().find(|p| p.id == d.product_id).map(|p| p.name.clone()).unwrap_or_default(),
                d.kind.label().to_owned(),
                d.status.label().to_owned(),
                d.contact_name.clone(),
                d.contact_phone_masked.clone(),
                if is_overdue(ctx, d) { "是".into() } else { String::new() },
            ]
        })
        .collect();
    crate::export::xlsx(
        "服务需求",
        &["编号", "提交时间", "企业", "产品", "类型", "状态", "联系人", "联系电话", "超时未受理"],
        &data,
    )
    .map_err(|e| AccessError::Db(DbErr::Custom(e.to_string())))
}

/// Staff of the actor's organisation, to assign a demand to.
pub async fn assignable_staff(ctx: &Ctx, actor: &Actor) -> Result<Vec<(i64, String)>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::OrgId.eq(actor.org_id))
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

/// Reminds institutions of demands past the acceptance deadline, and escalates
/// to the operator those still unaccepted after the further grace period.
/// Idempotent: each demand is reminded and escalated once.
pub async fn check_overdue(ctx: &Ctx) -> Result<(u64, u64), DbErr> {
    let today = (ctx.now() + chrono::Duration::hours(8)).date_naive();
    let open = demand::Entity::find().filter(demand::Column::Status.eq(DemandState::Submitted)).all(&ctx.db).await?;
    let (mut reminded, mut escalated) = (0, 0);
    for d in open {
        let deadline = accept_deadline(ctx, d.created_at);
        if today <= deadline {
            continue;
        }
        let txn = qifu_db::begin_write(&ctx.db).await?;
        let mut am: demand::ActiveModel = d.clone().into();
        if d.reminded_at.is_none() {
            for uid in org_users(&txn, institution_org(&txn, d.institution_id).await?).await? {
                messages::notify_with_sms(
                    &txn,
                    ctx,
                    uid,
                    MessageCategory::Demand,
                    "超时催办：需求待受理",
                    &format!(
                        "需求（编号 {}）已超过{}个工作日未受理，请尽快处理。",
                        d.id, ctx.settings.demands.accept_working_days
                    ),
                    Some(&format!("/admin/demands/{}", d.id)),
                )
                .await?;
            }
            am.reminded_at = Set(Some(ctx.now()));
            add_event(&txn, ctx, d.id, None, HistoryEvent::Remind, Some(d.status), d.status, "超时未受理，已催办服务机构")
                .await?;
            reminded += 1;
        } else if d.escalated_at.is_none() && today > add_working_days(deadline, ctx.settings.demands.escalate_after_working_days)
        {
            let operators = crate::actor::operator_users(&txn).await?;
            for u in operators {
                messages::notify_with_sms(
                    &txn,
                    ctx,
                    u.id,
                    MessageCategory::Demand,
                    "需求超时升级",
                    &format!("需求（编号 {}）催办后仍未受理，请协调或改派。", d.id),
                    Some(&format!("/admin/demands/{}", d.id)),
                )
                .await?;
            }
            am.escalated_at = Set(Some(ctx.now()));
            add_event(&txn, ctx, d.id, None, HistoryEvent::Escalate, Some(d.status), d.status, "催办后仍未受理，已升级至运营方")
                .await?;
            escalated += 1;
        } else {
            continue;
        }
        am.update(&txn).await?;
        txn.commit().await?;
    }
    Ok((reminded, escalated))
}

/// Reminds and escalates demands not accepted in time.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckOverdueDemands;

impl crate::jobs::Job for CheckOverdueDemands {
    const KIND: &'static str = "demands.check_overdue";
}

/// The demands area's jobs and schedules.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, _: CheckOverdueDemands| async move {
        let (reminded, escalated) = check_overdue(&ctx).await?;
        tracing::info!(reminded, escalated, "checked overdue demands");
        Ok(())
    });
    r.schedule("overdue_demands", "0 0 * * * *", &CheckOverdueDemands);
}
