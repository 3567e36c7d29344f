//! `qifu demo`: fills an empty database with realistic, deterministic Tongzhou data.

mod content;
mod names;
mod rng;

use crate::accounts::{self, CreateUserError, NewUser};
use crate::context::Ctx;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use qifu_db::entity::{activity, article, category, enterprise, institution, organisation, policy, product, registry_entry};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::{BuiltinRole, InstitutionKind, OrgKind};
use qifu_domain::certification::{CreditCode, ResidentId, org_code_check_char};
use qifu_domain::content::ArticleKind;
use qifu_domain::content::ContentState;
use qifu_domain::demands::ProductState;
use qifu_domain::money::{FEN_PER_WAN, Money};
use qifu_domain::policy::PolicyState;
use qifu_domain::profiles::{Indicators, SizeClass, SizeGroup, classify};
use qifu_domain::reference::{division, industry};
use rng::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};
use std::collections::HashSet;

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "Demo@2026qifu";
pub const DEFAULT_ENTERPRISES: u32 = 2000;
pub const MAX_ENTERPRISES: u32 = 130_000;

/// The registry type of every demo enterprise.
const DEMO_ENTITY_TYPE: &str = "有限责任公司（自然人投资或控股）";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub enterprises: u32,
    pub seed: u64,
    /// Products in all (at least the hand-written ones); more are variants of them, for benchmarks.
    pub products: u32,
    /// Policies in all (at least the hand-written ones); more are variants of them, for benchmarks.
    pub policies: u32,
    /// Extra enterprise users (登录账号) for benchmarks: one per enterprise first (each such
    /// enterprise gets an organisation and is certified), then second users.
    pub users: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { enterprises: DEFAULT_ENTERPRISES, seed: 20261129, products: 0, policies: 0, users: 0 }
    }
}

/// One demo login.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: &'static str,
    pub username: &'static str,
    pub password: &'static str,
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub enterprises: u32,
    pub institutions: usize,
    pub products: usize,
    pub policies: usize,
    pub logins: Vec<DemoLogin>,
}

#[derive(Debug)]
pub enum DemoOutcome {
    /// The database already had data; nothing was changed.
    AlreadyHasData,
    Created(DemoReport),
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("企业数量应在 1 到 {MAX_ENTERPRISES} 之间")]
    BadCount,
    #[error(transparent)]
    User(#[from] CreateUserError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// (role, username, display name, organisation, phone)
const LOGINS: &[(BuiltinRole, &str, &str, &str, &str)] = &[
    (BuiltinRole::OperatorAdmin, "operator", "平台运营专员", "通州区中小微企业智慧服务平台运营中心", "13900000001"),
    (BuiltinRole::SystemAdmin, "sysadmin", "系统管理员", "通州区中小微企业智慧服务平台运营中心", "13900000002"),
    (BuiltinRole::SecurityAdmin, "secadmin", "安全管理员", "通州区中小微企业智慧服务平台运营中心", "13900000003"),
    (BuiltinRole::Auditor, "auditor", "审计员", "通州区中小微企业智慧服务平台运营中心", "13900000004"),
    (BuiltinRole::GovernmentViewer, "gov", "区经信局工作人员", "北京市通州区经济和信息化局", "13900000005"),
];

/// Phones of the institution and enterprise demo logins.
pub const INSTITUTION_PHONE: &str = "13900000006";
pub const ENTERPRISE_PHONE: &str = "13900000007";

/// Fills the database; does nothing if it already holds organisations or enterprises.
pub async fn run(ctx: &Ctx, opts: &DemoOptions) -> Result<DemoOutcome, DemoError> {
    if opts.enterprises == 0 || opts.enterprises > MAX_ENTERPRISES {
        return Err(DemoError::BadCount);
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    if organisation::Entity::find().count(&txn).await? > 0 || enterprise::Entity::find().count(&txn).await? > 0 {
        return Ok(DemoOutcome::AlreadyHasData);
    }
    let mut rng = Rng::new(opts.seed);
    let mut logins = Vec::new();
    for &(role, username, display, org, phone) in LOGINS {
        accounts::create_user_in(
            &txn,
            ctx,
            NewUser {
                username: username.to_owned(),
                display_name: display.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                role,
                org_name: org.to_owned(),
                must_change_password: false,
                phone: Some(phone.to_owned()),
            },
        )
        .await?;
        logins.push(DemoLogin { role: role.label(), username, password: DEMO_PASSWORD });
    }

    let institution_ids = insert_institutions(&txn, ctx, &mut rng).await?;
    // The first institution (a bank) gets the demo institution login.
    let bank_name = content::INSTITUTIONS[0].0;
    accounts::create_user_in(
        &txn,
        ctx,
        NewUser {
            username: "institution".to_owned(),
            display_name: "信贷经理".to_owned(),
            password: DEMO_PASSWORD.to_owned(),
            role: BuiltinRole::InstitutionAdmin,
            org_name: bank_name.to_owned(),
            must_change_password: false,
            phone: Some(INSTITUTION_PHONE.to_owned()),
        },
    )
    .await?;
    logins.push(DemoLogin { role: BuiltinRole::InstitutionAdmin.label(), username: "institution", password: DEMO_PASSWORD });

    let first = insert_enterprises(&txn, ctx, &mut rng, opts.enterprises).await?;
    // The demo enterprise login belongs to the first enterprise, which is certified.
    let ent_user = accounts::create_user_in(
        &txn,
        ctx,
        NewUser {
            username: "enterprise".to_owned(),
            display_name: first.legal_rep_name.clone(),
            password: DEMO_PASSWORD.to_owned(),
            role: BuiltinRole::EnterpriseAdmin,
            org_name: first.name.clone(),
            must_change_password: false,
            phone: Some(ENTERPRISE_PHONE.to_owned()),
        },
    )
    .await?;
    link_enterprise(&txn, ctx, ent_user, first).await?;
    logins.push(DemoLogin { role: BuiltinRole::EnterpriseAdmin.label(), username: "enterprise", password: DEMO_PASSWORD });

    let products = insert_catalog(&txn, ctx, &institution_ids, opts.products).await?;
    let policies = insert_content(&txn, ctx, opts.policies).await?;
    crate::index::request_rebuild(&txn, ctx.now()).await?;
    txn.commit().await?;
    crate::messages::wechat::seed_auto_replies(ctx).await?;
    if opts.users > 0 {
        insert_users(ctx, opts.users).await?;
    }
    Ok(DemoOutcome::Created(DemoReport {
        enterprises: opts.enterprises,
        institutions: institution_ids.len(),
        products,
        policies,
        logins,
    }))
}

async fn insert_institutions<C: ConnectionTrait>(conn: &C, ctx: &Ctx, rng: &mut Rng) -> Result<Vec<i64>, DbErr> {
    let now = ctx.now();
    let mut ids = Vec::new();
    for (i, &(name, kind, intro)) in content::INSTITUTIONS.iter().enumerate() {
        let code = credit_code(1_000_000 + i as u64, division::TONGZHOU);
        let org_id = accounts::insert_org(conn, ctx, OrgKind::Institution, name, Some(code.to_string())).await?;
        let inst = institution::ActiveModel {
            org_id: Set(org_id),
            kind: Set(kind),
            intro: Set(intro.to_owned()),
            contact_name: Set(Some(person_name(rng))),
            address: Set(Some(address(rng))),
            qualifications: Set(qualification(kind).to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        ids.push(inst.id);
    }
    Ok(ids)
}

/// The licence or registration a real institution of each kind holds.
fn qualification(kind: InstitutionKind) -> &'static str {
    match kind {
        InstitutionKind::Bank => "持有国家金融监督管理总局颁发的金融许可证；北京市普惠金融服务示范网点。",
        InstitutionKind::Guarantor => "持有北京市地方金融管理局颁发的融资担保业务经营许可证；国家融资担保基金合作机构。",
        InstitutionKind::Insurer => "持有保险许可证；开办科技保险、首台（套）重大技术装备保险业务。",
        InstitutionKind::LawFirm => "持有北京市司法局颁发的律师事务所执业许可证；执业律师12名。",
        InstitutionKind::TaxAccounting => "持有代理记账许可证；税务师事务所行政登记证书。",
        InstitutionKind::HumanResources => "持有人力资源服务许可证；劳务派遣经营许可证。",
        InstitutionKind::IntellectualProperty => "专利代理机构执业许可证；商标代理机构备案；贯标服务机构。",
        InstitutionKind::Certification => "国家认证认可监督管理委员会批准的认证机构（CNCA 批准号）；CNAS 认可。",
        InstitutionKind::DigitalService => "信息系统集成及服务资质；ISO/IEC 27001 信息安全管理体系认证。",
        InstitutionKind::TechnologyService => "北京市科技成果转化服务机构；技术合同登记服务点。",
    }
}

/// A credit code for the `n`-th generated organisation: 9 (market regulation),
/// 1 (enterprise), the division, an organisation code `MA0xxxxx` with its GB 11714
/// check character, and the GB 32100 check character.
pub fn credit_code(n: u64, division: &str) -> CreditCode {
    const CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const SPACE: u64 = 31 * 31 * 31 * 31 * 31;
    // A bijection on [0, 31^5) so consecutive numbers do not give consecutive codes.
    let mut p = (n.wrapping_mul(7_368_787).wrapping_add(12_345)) % SPACE;
    let mut tail = [b'0'; 5];
    for slot in tail.iter_mut().rev() {
        *slot = CHARS[(p % 31) as usize];
        p /= 31;
    }
    let body8 = format!("MA0{}", String::from_utf8_lossy(&tail));
    let check9 = org_code_check_char(&body8).unwrap_or('0');
    let body17 = format!("91{division}{body8}{check9}");
    CreditCode::from_body(&body17).unwrap_or_else(|| CreditCode::from_body("91110112MA0000000").unwrap_or_else(unreachable_code))
}

fn unreachable_code() -> CreditCode {
    // The fallback body above is valid; this keeps the function total without panicking.
    CreditCode::parse("91350100M000100Y43").unwrap_or_else(|_| unreachable_code())
}

fn person_name(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(names::SURNAMES), rng.pick(names::GIVEN))
}

fn address(rng: &mut Rng) -> String {
    format!("北京市通州区{}{}号", rng.pick(names::ROADS), rng.range(1, 300))
}

struct FirstEnterprise {
    id: i64,
    name: String,
    credit_code: String,
    legal_rep_name: String,
}

async fn insert_enterprises<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    rng: &mut Rng,
    count: u32,
) -> Result<FirstEnterprise, DbErr> {
    let now = ctx.now();
    let today = now.date_naive();
    let streets = division::tongzhou_streets();
    let classes_by_section: Vec<(&str, Vec<&'static industry::Industry>)> =
        names::SECTION_WEIGHTS.iter().map(|(s, _)| (*s, industry::classes().filter(|c| c.section == *s).collect())).collect();
    let size_weights = [(SizeClass::Micro, 70), (SizeClass::Small, 22), (SizeClass::Medium, 7), (SizeClass::Large, 1)];
    let other_divisions = ["110105", "110101", "110108", "131082"];
    let mut seen = HashSet::with_capacity(count as usize);
    let mut batch: Vec<enterprise::ActiveModel> = Vec::with_capacity(1000);
    let mut registry: Vec<registry_entry::ActiveModel> = Vec::with_capacity(1000);
    let mut first = None;
    for i in 0..count {
        let section = *rng.weighted(names::SECTION_WEIGHTS);
        let classes = classes_by_section.iter().find(|(s, _)| *s == section).map(|(_, c)| c.as_slice()).unwrap_or(&[]);
        let Some(&ind) = classes.get(rng.range(0, classes.len() as i64) as usize) else {
            continue;
        };
        // The demo enterprise login's company is a small industrial-computer maker.
        let ind = if i == 0 { industry::find("3914").unwrap_or(ind) } else { ind };
        let name = if i == 0 { "北京运河智造科技有限公司".to_owned() } else { unique_name(rng, section, &mut seen) };
        seen.insert(name.clone());
        let div = if i > 0 && rng.chance(5) { *rng.pick(&other_divisions) } else { division::TONGZHOU };
        let code = credit_code(u64::from(i), div);
        let street = if i == 0 { &streets[0] } else { rng.pick(streets) };
        let group = SizeGroup::of_industry(ind.code);
        let target = if i == 0 { SizeClass::Small } else { *rng.weighted(&size_weights) };
        let [e, r, a] = group.ranges(target);
        let employees = e.map(|(lo, hi)| rng.log_range(lo, hi)).unwrap_or_else(|| rng.log_range(1, 80));
        let revenue_wan = r.map(|(lo, hi)| rng.log_range(lo, hi)).unwrap_or_else(|| rng.log_range(20, 3000));
        let assets_wan = a.map(|(lo, hi)| rng.log_range(lo, hi)).unwrap_or_else(|| rng.log_range(10, 5000));
        let revenue = Money::from_fen(revenue_wan * FEN_PER_WAN + rng.range(0, FEN_PER_WAN));
        let assets = Money::from_fen(assets_wan * FEN_PER_WAN + rng.range(0, FEN_PER_WAN));
        let indicators = Indicators { employees: Some(employees), revenue: Some(revenue), total_assets: Some(assets) };
        let size = classify(group, &indicators).ok();
        let above = group.above_designated_size_revenue().is_some_and(|t| revenue >= t);
        let years_back = rng.log_range(1, 32);
        let founded = today.checked_sub_signed(Duration::days(years_back * 365 - rng.range(0, 365))).unwrap_or(today);
        let legal_rep = person_name(rng);
        if i == 0 {
            first = Some((name.clone(), code.to_string(), legal_rep.clone()));
        }
        let address = format!("北京市通州区{}{}{}号", street.name, rng.pick(names::ROADS), rng.range(1, 500));
        let capital = Money::fen(Money::from_wan(*rng.pick(&[10, 50, 100, 200, 500, 1000, 3000])));
        batch.push(enterprise::ActiveModel {
            org_id: Set(None),
            name: Set(name),
            credit_code: Set(code.to_string()),
            legal_rep_name: Set(legal_rep),
            industry_code: Set(ind.code.to_owned()),
            division_code: Set(street.code.to_owned()),
            address: Set(Some(address.clone())),
            founded_on: Set(founded),
            registered_capital_fen: Set(Some(capital)),
            entity_type: Set(Some(DEMO_ENTITY_TYPE.to_owned())),
            registry_status: Set(Some("存续".to_owned())),
            employees: Set(i32::try_from(employees).ok()),
            revenue_fen: Set(Some(revenue.fen())),
            total_assets_fen: Set(Some(assets.fen())),
            size_class: Set(size),
            above_designated_size: Set(above),
            certified: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        // The registry holds every demo enterprise with its legal representative's ID number.
        let rep_id = resident_id(rng, founded);
        registry.push(registry_entry::ActiveModel {
            credit_code: Set(code.to_string()),
            name: Set(batch_name(&batch)),
            legal_rep_name: Set(batch_rep(&batch)),
            legal_rep_id_enc: Set(Some(ctx.crypto.encrypt(rep_id.as_str()))),
            legal_rep_id_hash: Set(Some(ctx.crypto.blind_index(rep_id.as_str()))),
            status: Set("存续".to_owned()),
            source: Set("demo".to_owned()),
            updated_at: Set(now),
            entity_type: Set(Some(DEMO_ENTITY_TYPE.to_owned())),
            founded_on: Set(Some(founded)),
            registered_capital_fen: Set(Some(capital)),
            address: Set(Some(address)),
            division_code: Set(Some(street.code.to_owned())),
            industry_code: Set(Some(ind.code.to_owned())),
            ..Default::default()
        });
        if batch.len() == 1000 {
            enterprise::Entity::insert_many(std::mem::take(&mut batch)).exec(conn).await?;
            registry_entry::Entity::insert_many(std::mem::take(&mut registry)).exec(conn).await?;
        }
    }
    if !batch.is_empty() {
        enterprise::Entity::insert_many(batch).exec(conn).await?;
        registry_entry::Entity::insert_many(registry).exec(conn).await?;
    }
    let (name, credit_code, legal_rep_name) = first.unwrap_or_default();
    let id = {
        use sea_orm::{ColumnTrait, QueryFilter};
        enterprise::Entity::find()
            .filter(enterprise::Column::CreditCode.eq(credit_code.clone()))
            .one(conn)
            .await?
            .map(|e| e.id)
            .unwrap_or_default()
    };
    Ok(FirstEnterprise { id, name, credit_code, legal_rep_name })
}

fn batch_name(batch: &[enterprise::ActiveModel]) -> String {
    batch.last().and_then(|e| e.name.try_as_ref().cloned()).unwrap_or_default()
}

fn batch_rep(batch: &[enterprise::ActiveModel]) -> String {
    batch.last().and_then(|e| e.legal_rep_name.try_as_ref().cloned()).unwrap_or_default()
}

/// A valid ID number for a legal representative aged 25–65 when the company was founded.
fn resident_id(rng: &mut Rng, founded: NaiveDate) -> ResidentId {
    const AREAS: &[&str] = &["110112", "110105", "110101", "110108", "131082", "130100", "370100", "410100"];
    let age_days = rng.range(25 * 365, 65 * 365);
    let birth = founded - Duration::days(age_days);
    let body = format!("{}{}{:03}", rng.pick(AREAS), birth.format("%Y%m%d"), rng.range(0, 1000));
    ResidentId::from_body(&body).unwrap_or_else(|| ResidentId::from_body("11011219800101001").unwrap_or_else(unreachable_id))
}

fn unreachable_id() -> ResidentId {
    // GB 11643's own example is valid; this keeps the function total without panicking.
    ResidentId::parse("11010519491231002X").unwrap_or_else(|_| unreachable_id())
}

fn unique_name(rng: &mut Rng, section: &str, seen: &mut HashSet<String>) -> String {
    let words = names::industry_words(section);
    for len in [2, 2, 2, 3, 3, 3, 4] {
        let mut trade = String::new();
        while trade.chars().count() < len {
            let c = rng.pick(names::TRADE_CHARS);
            if !trade.contains(c) {
                trade.push_str(c);
            }
        }
        let name = format!("北京{trade}{}有限公司", rng.pick(words));
        if !seen.contains(&name) {
            return name;
        }
    }
    format!("北京{}{}有限公司", rng.pick(names::TRADE_CHARS), rng.next_u64() % 1_000_000)
}

/// Benchmark users: an organisation per enterprise (certified, linked), then
/// `n` users spread over them, all with the demo password (hashed once).
async fn insert_users(ctx: &Ctx, n: u32) -> Result<(), DbErr> {
    use qifu_db::entity::{role, user, user_role};
    use sea_orm::{QueryOrder, QuerySelect};
    let role_id = role::Entity::find()
        .filter(role::Column::Code.eq(BuiltinRole::EnterpriseAdmin.code()))
        .one(&ctx.db)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| DbErr::RecordNotFound("enterprise admin role".to_owned()))?;
    let hash = accounts::hash_password(DEMO_PASSWORD).map_err(|_| DbErr::Custom("password hash".to_owned()))?;
    let ents: Vec<(i64, String, String)> = enterprise::Entity::find()
        .select_only()
        .column(enterprise::Column::Id)
        .column(enterprise::Column::Name)
        .column(enterprise::Column::CreditCode)
        .filter(enterprise::Column::OrgId.is_null())
        .order_by_asc(enterprise::Column::Id)
        .limit(u64::from(n))
        .into_tuple()
        .all(&ctx.db)
        .await?;
    if ents.is_empty() {
        return Ok(());
    }
    let now = ctx.now();
    for chunk in ents.chunks(1000) {
        let txn = qifu_db::begin_write(&ctx.db).await?;
        let orgs = chunk.iter().map(|(_, name, code)| organisation::ActiveModel {
            kind: Set(OrgKind::Enterprise),
            name: Set(name.clone()),
            credit_code: Set(Some(code.clone())),
            status: Set(AccountStatus::Active),
            created_at: Set(now),
            updated_at: Set(now),
            channel: Set(None),
            certified_at: Set(Some(now)),
            policy_push_opt_out: Set(false),
            ..Default::default()
        });
        organisation::Entity::insert_many(orgs).exec(&txn).await?;
        let codes: Vec<String> = chunk.iter().map(|(_, _, c)| c.clone()).collect();
        let org_ids: Vec<(i64, Option<String>)> = organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .column(organisation::Column::CreditCode)
            .filter(organisation::Column::CreditCode.is_in(codes))
            .into_tuple()
            .all(&txn)
            .await?;
        for (eid, _, code) in chunk {
            if let Some((oid, _)) = org_ids.iter().find(|(_, c)| c.as_deref() == Some(code.as_str())) {
                enterprise::Entity::update_many()
                    .col_expr(enterprise::Column::OrgId, sea_orm::sea_query::Expr::value(*oid))
                    .col_expr(enterprise::Column::Certified, sea_orm::sea_query::Expr::value(true))
                    .filter(enterprise::Column::Id.eq(*eid))
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
    }
    let orgs: Vec<i64> = enterprise::Entity::find()
        .select_only()
        .column(enterprise::Column::OrgId)
        .filter(enterprise::Column::OrgId.is_not_null())
        .order_by_asc(enterprise::Column::Id)
        .into_tuple::<Option<i64>>()
        .all(&ctx.db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let total = n as usize;
    for start in (0..total).step_by(1000) {
        let txn = qifu_db::begin_write(&ctx.db).await?;
        let end = (start + 1000).min(total);
        let rows = (start..end).map(|i| user::ActiveModel {
            org_id: Set(orgs[i % orgs.len()]),
            username: Set(format!("qy{:06}", i + 1)),
            display_name: Set(format!("企业用户{}", i + 1)),
            password_hash: Set(hash.clone()),
            status: Set(AccountStatus::Active),
            must_change_password: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            failed_logins: Set(0),
            password_changed_at: Set(Some(now)),
            is_org_admin: Set(i < orgs.len()),
            ..Default::default()
        });
        user::Entity::insert_many(rows).exec(&txn).await?;
        let names: Vec<String> = (start..end).map(|i| format!("qy{:06}", i + 1)).collect();
        let ids: Vec<i64> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Username.is_in(names))
            .into_tuple()
            .all(&txn)
            .await?;
        user_role::Entity::insert_many(
            ids.into_iter().map(|id| user_role::ActiveModel { user_id: Set(id), role_id: Set(role_id) }),
        )
        .exec(&txn)
        .await?;
        txn.commit().await?;
    }
    Ok(())
}

async fn link_enterprise<C: ConnectionTrait>(conn: &C, ctx: &Ctx, user_id: i64, first: FirstEnterprise) -> Result<(), DbErr> {
    let Some(u) = qifu_db::entity::user::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(());
    };
    let Some(org) = organisation::Entity::find_by_id(u.org_id).one(conn).await? else {
        return Ok(());
    };
    let mut org: organisation::ActiveModel = org.into();
    org.credit_code = Set(Some(first.credit_code));
    org.certified_at = Set(Some(ctx.now()));
    org.update(conn).await?;
    if let Some(e) = enterprise::Entity::find_by_id(first.id).one(conn).await? {
        let mut e: enterprise::ActiveModel = e.into();
        e.org_id = Set(Some(u.org_id));
        e.certified = Set(true);
        e.updated_at = Set(ctx.now());
        e.update(conn).await?;
    }
    Ok(())
}

async fn insert_catalog<C: ConnectionTrait>(conn: &C, ctx: &Ctx, institutions: &[i64], products: u32) -> Result<usize, DbErr> {
    let now = ctx.now();
    let mut cat_ids: Vec<(&str, i64)> = Vec::new();
    for (sort, (top, kind, children)) in content::CATEGORIES.iter().enumerate() {
        let parent = category::ActiveModel {
            parent_id: Set(None),
            name: Set((*top).to_owned()),
            sort: Set(sort as i32),
            kind: Set(*kind),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        cat_ids.push((top, parent.id));
        for (csort, child) in children.iter().enumerate() {
            let c = category::ActiveModel {
                parent_id: Set(Some(parent.id)),
                name: Set((*child).to_owned()),
                sort: Set(csort as i32),
                kind: Set(*kind),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            cat_ids.push((child, c.id));
        }
    }
    let total = (products as usize).max(content::PRODUCTS.len());
    let mut batch = Vec::with_capacity(500);
    for i in 0..total {
        let (inst, cat, base, summary, pricing, price, mode) = content::PRODUCTS[i % content::PRODUCTS.len()];
        let round = i / content::PRODUCTS.len();
        // Beyond the hand-written set: the same services for other segments and packages.
        let name = if round == 0 {
            base.to_owned()
        } else {
            let seg = VARIANT_SEGMENTS[round % VARIANT_SEGMENTS.len()];
            let pkg = VARIANT_PACKAGES[(round / VARIANT_SEGMENTS.len()) % VARIANT_PACKAGES.len()];
            format!("{seg}{base}（{pkg}·{round}）")
        };
        let category_id = cat_ids.iter().find(|(n, _)| *n == cat).map(|(_, id)| *id).unwrap_or(cat_ids[0].1);
        let published = now - Duration::days((i % 700) as i64 * 3 / 2 + 1);
        // Financing products carry their amount (万元), term (months) and rate (basis points) ranges.
        let finance = content::FINANCING.iter().find(|f| f.0 == base);
        batch.push(product::ActiveModel {
            amount_min_fen: Set(finance.map(|f| Money::from_wan(f.1).fen())),
            amount_max_fen: Set(finance.map(|f| Money::from_wan(f.2).fen())),
            term_min_months: Set(finance.map(|f| f.3)),
            term_max_months: Set(finance.map(|f| f.4)),
            rate_min_bp: Set(finance.and_then(|f| (f.5 > 0).then_some(f.5))),
            rate_max_bp: Set(finance.and_then(|f| (f.6 > 0).then_some(f.6))),
            guarantee_modes: Set(finance.map(|f| f.7.to_owned()).unwrap_or_default()),
            institution_id: Set(institutions[inst.min(institutions.len() - 1)]),
            category_id: Set(category_id),
            name: Set(name),
            summary: Set(summary.to_owned()),
            description: Set(format!(
                "<p>{summary}</p><p>服务流程：在线提交需求 → 机构受理 → 提供服务 → 企业确认 → 满意度评价。</p>"
            )),
            pricing: Set(pricing),
            price_fen: Set(if price > 0 { Some(Money::from_yuan(price).fen()) } else { None }),
            delivery_mode: Set(mode),
            status: Set(ProductState::Online),
            applied_count: Set(((i * 37) % 90) as i32),
            published_at: Set(Some(published)),
            created_at: Set(published),
            updated_at: Set(published),
            ..Default::default()
        });
        if batch.len() == 500 {
            product::Entity::insert_many(std::mem::take(&mut batch)).exec(conn).await?;
        }
    }
    if !batch.is_empty() {
        product::Entity::insert_many(batch).exec(conn).await?;
    }
    Ok(total)
}

/// Segments and packages that vary the hand-written products for large demo sets.
const VARIANT_SEGMENTS: &[&str] = &[
    "小微企业",
    "科技型企业",
    "初创企业",
    "制造业企业",
    "商贸企业",
    "专精特新企业",
    "外贸企业",
    "文创企业",
    "物流企业",
    "餐饮企业",
];
const VARIANT_PACKAGES: &[&str] = &["基础版", "标准版", "年度套餐", "季度套餐", "专项方案", "一站式方案"];

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

async fn insert_content<C: ConnectionTrait>(conn: &C, ctx: &Ctx, policies: u32) -> Result<usize, DbErr> {
    let now = ctx.now();
    let total = (policies as usize).max(content::POLICIES.len());
    let mut batch = Vec::with_capacity(500);
    for i in 0..total {
        let (base, doc_no, issuer, level, published, until, support, summary) = content::POLICIES[i % content::POLICIES.len()];
        let round = i / content::POLICIES.len();
        let mut publish_date = date(published).unwrap_or(now.date_naive());
        let mut valid_until = date(until);
        // Beyond the hand-written set: the same measures in earlier years' editions.
        let (title, doc_no) = if round == 0 {
            (base.to_owned(), doc_no.to_owned())
        } else {
            let years = (round % 8) as i64 + 1;
            publish_date -= Duration::days(365 * years);
            valid_until = valid_until.map(|d| d - Duration::days(365 * years));
            let edition = publish_date.format("%Y");
            (
                format!("{base}（{edition}年版·第{round}号）"),
                if doc_no.is_empty() { String::new() } else { format!("{doc_no}-{round}") },
            )
        };
        let status =
            if valid_until.is_some_and(|d| d < now.date_naive()) { PolicyState::Expired } else { PolicyState::Published };
        batch.push(policy::ActiveModel {
            title: Set(title),
            doc_no: Set(if doc_no.is_empty() { None } else { Some(doc_no) }),
            issuer: Set(issuer.to_owned()),
            level: Set(level),
            publish_date: Set(publish_date),
            valid_until: Set(valid_until),
            support_type: Set(support.to_owned()),
            summary: Set(summary.to_owned()),
            body: Set(format!("<p>{summary}</p><p>具体申报条件、材料和流程以原文为准。</p>")),
            source_url: Set(None),
            status: Set(status),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        if batch.len() == 500 {
            policy::Entity::insert_many(std::mem::take(&mut batch)).exec(conn).await?;
        }
    }
    if !batch.is_empty() {
        policy::Entity::insert_many(batch).exec(conn).await?;
    }
    for (i, &(title, source, summary)) in content::NEWS.iter().enumerate() {
        insert_article(conn, now - Duration::days(i as i64 * 4 + 1), ArticleKind::News, title, source, summary).await?;
    }
    for (i, &(title, summary)) in content::ANNOUNCEMENTS.iter().enumerate() {
        insert_article(conn, now - Duration::days(i as i64 * 6 + 2), ArticleKind::Announcement, title, "平台运营中心", summary)
            .await?;
    }
    let start_time = NaiveTime::from_hms_opt(1, 30, 0).unwrap_or_default(); // 09:30 in Beijing
    for &(kind, title, organizer, location, days, hours, summary, capacity) in content::ACTIVITIES {
        let day = now.date_naive() + Duration::days(days);
        let starts = Utc.from_utc_datetime(&day.and_time(start_time));
        activity::ActiveModel {
            kind: Set(kind),
            title: Set(title.to_owned()),
            organizer: Set(organizer.to_owned()),
            location: Set(location.to_owned()),
            starts_at: Set(starts),
            ends_at: Set(starts + Duration::hours(hours)),
            summary: Set(summary.to_owned()),
            body: Set(format!("<p>{summary}</p>")),
            capacity: Set(capacity),
            status: Set(ContentState::Published),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(total)
}

async fn insert_article<C: ConnectionTrait>(
    conn: &C,
    at: chrono::DateTime<Utc>,
    kind: ArticleKind,
    title: &str,
    source: &str,
    summary: &str,
) -> Result<(), DbErr> {
    article::ActiveModel {
        kind: Set(kind),
        title: Set(title.to_owned()),
        source: Set(source.to_owned()),
        summary: Set(summary.to_owned()),
        body: Set(format!("<p>{summary}</p>")),
        status: Set(ContentState::Published),
        published_at: Set(Some(at)),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_valid_and_unique() {
        let mut seen = HashSet::new();
        for n in 0..200_000u64 {
            let c = credit_code(n, "110112");
            assert!(CreditCode::parse(c.as_str()).is_ok());
            assert!(seen.insert(c.to_string()), "duplicate at {n}");
        }
    }

    #[test]
    fn generator_is_deterministic() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }
}
