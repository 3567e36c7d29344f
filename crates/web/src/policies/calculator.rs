//! The policy calculator: an enterprise's matches from its registry record and
//! profile (which it completes here), or a visitor's from what they type.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::guard::SignedIn;
use crate::kit::{self, PageChrome, form};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::policies::{self, MatchRow};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "policies/calculator.html")]
pub struct CalculatorPage {
    pub chrome: PageChrome,
    /// The signed-in enterprise's registry row, when there is one.
    pub enterprise: Option<qifu_db::entity::enterprise::Model>,
    pub rows: Vec<MatchRow>,
    /// A visitor's form was submitted.
    pub ran: bool,
    pub form: CalcForm,
    pub streets: &'static [qifu_domain::reference::division::Street],
    pub quals: Vec<String>,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    /// The enterprise turned policy pushes off.
    pub opted_out: bool,
}

impl CalculatorPage {
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rows
            .iter()
            .flat_map(|r| r.outcome.trace.iter())
            .filter(|t| t.check == qifu_domain::policy::Check::Missing)
            .map(|t| t.attr.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
    pub fn count(&self, v: &str) -> usize {
        self.rows.iter().filter(|r| r.outcome.verdict.code() == v).count()
    }
}

/// The visitor calculator's fields as typed.
#[derive(Debug, Clone, Default)]
pub struct CalcForm {
    pub division: String,
    pub industry: String,
    pub size_class: String,
    pub above: String,
    pub years: String,
    pub employees: String,
    pub revenue: String,
    pub assets: String,
    pub rd: String,
    pub credit: String,
    pub quals: Vec<String>,
}

impl CalcForm {
    pub fn has(&self, q: &str) -> bool {
        self.quals.iter().any(|x| x == q)
    }
}

/// The visitor's form as typed (query pairs; qualifications repeat), to show it again.
fn calc_form(pairs: &[(String, String)]) -> CalcForm {
    let get = |k: &str| {
        pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.trim().chars().take(40).collect::<String>()).unwrap_or_default()
    };
    CalcForm {
        division: get("division"),
        industry: get("industry"),
        size_class: get("size_class"),
        above: get("above"),
        years: get("years"),
        employees: get("employees"),
        revenue: get("revenue"),
        assets: get("assets"),
        rd: get("rd"),
        credit: get("credit"),
        quals: pairs.iter().filter(|(k, _)| k == "qual").map(|(_, v)| v.clone()).collect(),
    }
}

pub async fn show_calculator(
    State(st): State<AppState>,
    v: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, WebError> {
    let chrome = PageChrome::new(&st, &v, "政策计算器", "policies");
    let mine = match v.actor() {
        Some(actor) => policies::calculate_for(&st.ctx, actor).await?,
        None => None,
    };
    let quals = policies::qualification_kinds(&st.ctx.db).await?;
    let profile = policies::visitor_profile(&pairs, &quals);
    let form = calc_form(&pairs);
    let ran = pairs.iter().any(|(k, _)| k == "run");
    let (enterprise, rows) = match mine {
        Some((e, rows)) if !ran => (Some(e), rows),
        _ if ran => (None, policies::calculate_visitor(&st.ctx, &profile).await?),
        _ => (None, Vec::new()),
    };
    let notice = pairs.iter().find(|(k, _)| k == "done").map(|_| "已保存，以下结果已按最新信息重新计算。".to_owned());
    let opted_out = match (v.actor(), &enterprise) {
        (Some(a), Some(_)) => policies::push_opted_out(&st.ctx, a).await?,
        _ => false,
    };
    kit::render(&CalculatorPage {
        chrome,
        enterprise,
        rows,
        ran,
        form,
        streets: qifu_domain::reference::division::tongzhou_streets(),
        quals,
        errors: Vec::new(),
        notice,
        opted_out,
    })
}

/// The enterprise completes its profile (employees, revenue, qualifications…).
pub async fn fill_profile(
    State(st): State<AppState>,
    me: SignedIn,
    CsrfForm { form, .. }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get =
        |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.chars().take(40).collect::<String>()).unwrap_or_default();
    let f = policies::ProfileForm {
        employees: get("employees"),
        revenue_wan: get("revenue"),
        total_assets_wan: get("assets"),
        rd_ratio: get("rd"),
        qualifications: form.iter().filter(|(k, _)| k == "qual").map(|(_, v)| v.clone()).collect(),
        credit_standing: get("credit"),
        qualifications_given: get("quals_given"),
        custom: form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("custom:").map(|name| (name.to_owned(), v.chars().take(20).collect())))
            .collect(),
    };
    match policies::fill_profile(&st.ctx, &me.actor, &me.viewer.meta, &f).await {
        Ok(()) => Ok(Redirect::to("/policies/calculator?done=1").into_response()),
        Err(e) => {
            let errors = form::errors(e)?.messages();
            let chrome = PageChrome::new(&st, &me.viewer, "政策计算器", "policies");
            let (enterprise, rows) = match policies::calculate_for(&st.ctx, &me.actor).await? {
                Some((e, r)) => (Some(e), r),
                None => (None, Vec::new()),
            };
            form::invalid(&CalculatorPage {
                chrome,
                enterprise,
                rows,
                ran: false,
                form: CalcForm::default(),
                streets: qifu_domain::reference::division::tongzhou_streets(),
                quals: policies::qualification_kinds(&st.ctx.db).await?,
                errors,
                notice: None,
                opted_out: false,
            })
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PushForm {
    receive: String,
}

/// The enterprise turns policy pushes on or off.
pub async fn set_push(
    State(st): State<AppState>,
    me: SignedIn,
    CsrfForm { form, .. }: CsrfForm<PushForm>,
) -> Result<Response, WebError> {
    policies::set_push_opt_out(&st.ctx, &me.actor, &me.viewer.meta, form.receive != "1").await?;
    Ok(Redirect::to("/policies/calculator?done=1").into_response())
}
