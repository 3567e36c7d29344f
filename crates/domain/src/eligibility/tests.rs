use super::*;

fn c(attr: Attribute, op: Op, texts: &[&str], numbers: &[f64]) -> Rule {
    Rule::Cond { cond: Condition { attr, op, texts: texts.iter().map(|s| s.to_string()).collect(), numbers: numbers.to_vec() } }
}

fn profile() -> Profile {
    Profile {
        division: Some("110112001".into()),
        industry: Some("3919".into()),
        size_class: Some("small".into()),
        above_designated_size: Some(true),
        years_since_founding: Some(3.0),
        employees: Some(120.0),
        revenue: Some(1800.0),
        total_assets: Some(5000.0),
        rd_ratio: Some(4.5),
        qualifications: Some(vec!["高新技术企业".into()]),
        credit_standing: Some("A".into()),
        certified: Some(true),
        custom: [("出口额".to_owned(), 300.0)].into_iter().collect(),
    }
}

fn met(rule: &Rule, p: &Profile) -> Verdict {
    evaluate(rule, p).verdict
}

#[test]
fn every_operator_on_every_kind_of_value() {
    use Attribute::*;
    let p = profile();
    let cases: Vec<(Rule, Verdict)> = vec![
        (c(Division, Op::Eq, &["110112001"], &[]), Verdict::Eligible),
        (c(Division, Op::Eq, &["110112002"], &[]), Verdict::Ineligible),
        (c(Division, Op::Ne, &["110112002"], &[]), Verdict::Eligible),
        (c(Division, Op::In, &["110112002", "110112001"], &[]), Verdict::Eligible),
        (c(Division, Op::NotIn, &["110112001"], &[]), Verdict::Ineligible),
        (c(Industry, Op::PrefixIn, &["39", "65"], &[]), Verdict::Eligible),
        (c(Industry, Op::PrefixIn, &["65"], &[]), Verdict::Ineligible),
        (c(SizeClass, Op::In, &["micro", "small"], &[]), Verdict::Eligible),
        (c(AboveDesignatedSize, Op::Has, &[], &[]), Verdict::Eligible),
        (c(AboveDesignatedSize, Op::NotHas, &[], &[]), Verdict::Ineligible),
        (c(AboveDesignatedSize, Op::Eq, &["否"], &[]), Verdict::Ineligible),
        (c(YearsSinceFounding, Op::Ge, &[], &[1.0]), Verdict::Eligible),
        (c(Employees, Op::Lt, &[], &[300.0]), Verdict::Eligible),
        (c(Employees, Op::Le, &[], &[120.0]), Verdict::Eligible),
        (c(Employees, Op::Gt, &[], &[120.0]), Verdict::Near),
        (c(Revenue, Op::Ge, &[], &[2000.0]), Verdict::Near),
        (c(Revenue, Op::Ge, &[], &[5000.0]), Verdict::Ineligible),
        (c(Revenue, Op::Between, &[], &[1000.0, 2000.0]), Verdict::Eligible),
        (c(Revenue, Op::Between, &[], &[2000.0, 3000.0]), Verdict::Near),
        (c(TotalAssets, Op::Eq, &[], &[5000.0]), Verdict::Eligible),
        (c(TotalAssets, Op::Ne, &[], &[5000.0]), Verdict::Ineligible),
        (c(RdRatio, Op::Ge, &[], &[5.0]), Verdict::Near),
        (c(RdRatio, Op::Ge, &[], &[3.0]), Verdict::Eligible),
        (c(Qualification, Op::Has, &["高新技术企业"], &[]), Verdict::Eligible),
        (c(Qualification, Op::Has, &["专精特新中小企业"], &[]), Verdict::Ineligible),
        (c(Qualification, Op::NotHas, &["专精特新中小企业"], &[]), Verdict::Eligible),
        (c(CreditStanding, Op::In, &["A", "B"], &[]), Verdict::Eligible),
        (c(Custom("出口额".into()), Op::Ge, &[], &[200.0]), Verdict::Eligible),
        (c(Custom("进口额".into()), Op::Ge, &[], &[200.0]), Verdict::Incomplete),
    ];
    for (i, (rule, want)) in cases.iter().enumerate() {
        assert_eq!(met(rule, &p), *want, "case {i}: {}", conditions(rule)[0].describe());
    }
}

#[test]
fn a_missing_attribute_is_never_a_failure() {
    let p = Profile::default();
    let r = c(Attribute::Revenue, Op::Ge, &[], &[2000.0]);
    let o = evaluate(&r, &p);
    assert_eq!(o.verdict, Verdict::Incomplete);
    assert_eq!(o.trace[0].value, "未填写");
    assert_eq!(o.trace[0].check, Check::Missing);
    assert_eq!(o.trace[0].attr, "revenue");
    // But a failure elsewhere decides an all.
    let p = Profile { employees: Some(900.0), ..Default::default() };
    let all = Rule::All { rules: vec![r, c(Attribute::Employees, Op::Lt, &[], &[300.0])] };
    assert_eq!(met(&all, &p), Verdict::Ineligible);
}

#[test]
fn all_any_not_give_each_verdict_with_its_trace() {
    use Attribute::*;
    // Registered in 永顺镇 or 梨园镇, revenue at least 2000万元, and not a 规模以上 enterprise's … R&D ≥ 3 %.
    let rule = Rule::All {
        rules: vec![
            Rule::Any { rules: vec![c(Division, Op::Eq, &["110112001"], &[]), c(Division, Op::Eq, &["110112002"], &[])] },
            c(Revenue, Op::Ge, &[], &[2000.0]),
            Rule::Not { rule: Box::new(c(Qualification, Op::Has, &["专精特新“小巨人”"], &[])) },
            c(RdRatio, Op::Ge, &[], &[3.0]),
        ],
    };
    let mut p = profile();
    p.revenue = Some(2500.0);
    let o = evaluate(&rule, &p);
    assert_eq!(o.verdict, Verdict::Eligible);
    assert_eq!(o.trace.len(), 5);
    assert!(o.trace[2].condition.starts_with("年营业收入 不低于 2000万元"), "{:?}", o.trace[2]);
    assert_eq!(o.trace[2].value, "2500万元");
    assert!(o.trace[3].negated && o.trace[3].check == Check::Met, "not holding 小巨人 is met");

    p.revenue = Some(1800.0);
    let o = evaluate(&rule, &p);
    assert_eq!(o.verdict, Verdict::Near);
    assert_eq!(o.trace[2].check, Check::NotMet { gap: Some(200.0), relative: Some(0.1) });

    p.revenue = None;
    let o = evaluate(&rule, &p);
    assert_eq!(o.verdict, Verdict::Incomplete);
    assert_eq!(o.trace[2].check, Check::Missing);

    p.revenue = Some(2500.0);
    p.qualifications = Some(vec!["专精特新“小巨人”".into()]);
    let o = evaluate(&rule, &p);
    assert_eq!(o.verdict, Verdict::Ineligible, "the not-condition fails");
    assert_eq!(o.trace[3].check, Check::NotMet { gap: None, relative: None });
    assert!(o.trace[3].condition.starts_with("不满足："));
}

#[test]
fn near_needs_few_small_numeric_gaps() {
    let p = profile();
    let two_small =
        Rule::All { rules: vec![c(Attribute::Revenue, Op::Ge, &[], &[2000.0]), c(Attribute::RdRatio, Op::Ge, &[], &[5.0])] };
    assert_eq!(met(&two_small, &p), Verdict::Near);
    let three = Rule::All {
        rules: vec![
            c(Attribute::Revenue, Op::Ge, &[], &[2000.0]),
            c(Attribute::RdRatio, Op::Ge, &[], &[5.0]),
            c(Attribute::Employees, Op::Ge, &[], &[130.0]),
        ],
    };
    assert_eq!(met(&three, &p), Verdict::Ineligible, "three misses are not near");
    let text_miss = Rule::All {
        rules: vec![c(Attribute::Revenue, Op::Ge, &[], &[2000.0]), c(Attribute::CreditStanding, Op::Eq, &["AAA"], &[])],
    };
    assert_eq!(met(&text_miss, &p), Verdict::Ineligible, "a failed text condition is not near");
}

#[test]
fn rules_round_trip_through_json_and_attribute_codes() {
    let rule = Rule::All {
        rules: vec![
            c(Attribute::Custom("出口额".into()), Op::Between, &[], &[1.0, 2.0]),
            Rule::Not { rule: Box::new(c(Attribute::Industry, Op::PrefixIn, &["65"], &[])) },
        ],
    };
    let json = serde_json::to_string(&rule).unwrap();
    assert_eq!(serde_json::from_str::<Rule>(&json).unwrap(), rule);
    for a in Attribute::BUILT_IN {
        assert_eq!(Attribute::parse_code(&a.code()), Some(a.clone()), "{}", a.code());
    }
    assert_eq!(Attribute::parse_code("custom:出口额"), Some(Attribute::Custom("出口额".into())));
    assert_eq!(Attribute::parse_code("nonsense"), None);
    assert_eq!(conditions(&rule)[0].describe(), "出口额 介于 1–2");
}

#[test]
fn the_fast_verdict_agrees_with_the_traced_one() {
    use Attribute::*;
    let rules = vec![
        Rule::All {
            rules: vec![
                Rule::Any { rules: vec![c(Division, Op::Eq, &["110112001"], &[]), c(Division, Op::Eq, &["110112002"], &[])] },
                c(Revenue, Op::Ge, &[], &[2000.0]),
                Rule::Not { rule: Box::new(c(Qualification, Op::Has, &["专精特新“小巨人”"], &[])) },
                c(RdRatio, Op::Ge, &[], &[3.0]),
            ],
        },
        Rule::Any { rules: vec![c(Employees, Op::Ge, &[], &[130.0]), c(Revenue, Op::Ge, &[], &[1900.0])] },
        Rule::Not {
            rule: Box::new(Rule::All { rules: vec![c(Employees, Op::Lt, &[], &[100.0]), c(RdRatio, Op::Gt, &[], &[4.0])] }),
        },
        c(Custom("出口额".into()), Op::Between, &[], &[250.0, 280.0]),
    ];
    let mut profiles = vec![profile(), Profile::default()];
    for rev in [1500.0, 1800.0, 1950.0, 2500.0] {
        for emp in [50.0, 120.0, 135.0] {
            let mut p = profile();
            p.revenue = Some(rev);
            p.employees = Some(emp);
            profiles.push(p.clone());
            p.division = Some("110112009".into());
            p.rd_ratio = None;
            profiles.push(p);
        }
    }
    for r in &rules {
        for p in &profiles {
            assert_eq!(verdict(r, p), evaluate(r, p).verdict, "{r:?} / {p:?}");
        }
    }
}

#[test]
fn an_industry_section_letter_matches_its_codes() {
    use Attribute::*;
    let p = profile(); // 3919: section C (制造业)
    assert_eq!(met(&c(Industry, Op::PrefixIn, &["C"], &[]), &p), Verdict::Eligible);
    assert_eq!(met(&c(Industry, Op::In, &["I", "C"], &[]), &p), Verdict::Eligible);
    assert_eq!(met(&c(Industry, Op::PrefixIn, &["I"], &[]), &p), Verdict::Ineligible);
    assert_eq!(met(&c(Industry, Op::NotIn, &["C"], &[]), &p), Verdict::Ineligible);
    assert_eq!(met(&c(Industry, Op::PrefixIn, &["39"], &[]), &p), Verdict::Eligible);
    // A letter means a section only for the industry.
    assert_eq!(met(&c(CreditStanding, Op::In, &["A"], &[]), &p), Verdict::Eligible);
}

#[test]
fn certification_is_a_flag_and_unknown_is_missing() {
    let rule = c(Attribute::Certified, Op::Has, &[], &[]);
    assert_eq!(met(&rule, &profile()), Verdict::Eligible);
    assert_eq!(met(&rule, &Profile { certified: Some(false), ..profile() }), Verdict::Ineligible);
    assert_eq!(met(&rule, &Profile { certified: None, ..profile() }), Verdict::Incomplete);
}
