//! The shape of the code (issue 14): no module import loop in `app` or `web`;
//! the kernel of `app` imports no business area; the business areas of `web`
//! import only the shared kit, never each other. Read from the sources, so a
//! change that breaks the shape fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Source without comments (line comments and doc comments).
fn code_of(text: &str) -> String {
    text.lines().map(|l| if let Some(i) = l.find("//") { &l[..i] } else { l }).collect::<Vec<_>>().join("\n")
}

/// The top-level modules of a crate and which others each one refers to
/// (`crate::x`, `use crate::{x, y}`), from its sources.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let top_of = |p: &Path| -> Option<String> {
        let rel = p.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?.trim_end_matches(".rs").to_owned();
        (first != "lib" && first != "main").then_some(first)
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|p| top_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    let single = regex::Regex::new(r"\bcrate::([a-z_][a-z0-9_]*)").unwrap();
    let group = regex::Regex::new(r"\bcrate::\{([^}]*)\}").unwrap();
    for f in &files {
        let Some(m) = top_of(f) else { continue };
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        let mut refs: BTreeSet<String> = single.captures_iter(&code).map(|c| c[1].to_owned()).collect();
        for g in group.captures_iter(&code) {
            for part in g[1].split(',') {
                let name = part.trim().split("::").next().unwrap_or("").trim().to_owned();
                refs.insert(name);
            }
        }
        for r in refs {
            if r != m && modules.contains(&r) {
                graph.get_mut(&m).unwrap().insert(r);
            }
        }
    }
    graph
}

/// Every cycle's members (strongly connected components of more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    fn visit(n: &str, g: &BTreeMap<String, BTreeSet<String>>, seen: &mut BTreeSet<String>, order: &mut Vec<String>) {
        if !seen.insert(n.to_owned()) {
            return;
        }
        for m in &g[n] {
            visit(m, g, seen, order);
        }
        order.push(n.to_owned());
    }
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    for n in graph.keys() {
        visit(n, graph, &mut seen, &mut order);
    }
    let mut rev: BTreeMap<String, BTreeSet<String>> = graph.keys().map(|k| (k.clone(), BTreeSet::new())).collect();
    for (a, bs) in graph {
        for b in bs {
            rev.get_mut(b).unwrap().insert(a.clone());
        }
    }
    let mut assigned = BTreeSet::new();
    let mut out = Vec::new();
    for n in order.iter().rev() {
        if assigned.contains(n) {
            continue;
        }
        let mut comp = Vec::new();
        let mut stack = vec![n.clone()];
        while let Some(x) = stack.pop() {
            if !assigned.insert(x.clone()) {
                continue;
            }
            comp.push(x.clone());
            stack.extend(rev[&x].iter().filter(|y| !assigned.contains(*y)).cloned());
        }
        if comp.len() > 1 {
            comp.sort();
            out.push(comp);
        }
    }
    out
}

/// The kernel of `app`: the basics every area uses. It imports no area.
const APP_KERNEL: &[&str] = &[
    "actor",
    "attachments",
    "audit",
    "clock",
    "config",
    "context",
    "crypto",
    "export",
    "files",
    "html",
    "index",
    "integrations",
    "jobs",
    "netguard",
    "outbox",
    "signing",
];

/// The shared kit of `web`: what areas use instead of each other.
const WEB_KIT: &[&str] = &["assets", "error", "extract", "guard", "kit", "middleware", "openapi", "router"];

#[test]
fn app_has_no_import_loop_and_its_kernel_imports_no_area() {
    let g = module_graph(&crate_src("app"));
    assert!(g.contains_key("actor") && g.contains_key("accounts"), "read the app sources: {:?}", g.keys());
    assert_eq!(cycles(&g), Vec::<Vec<String>>::new(), "import loops in app");
    for k in APP_KERNEL {
        let deps = g.get(*k).unwrap_or_else(|| panic!("kernel module {k} exists"));
        let areas: Vec<&String> = deps.iter().filter(|d| !APP_KERNEL.contains(&d.as_str())).collect();
        assert!(areas.is_empty(), "kernel module {k} imports areas {areas:?}");
    }
}

#[test]
fn web_has_no_import_loop_and_its_areas_use_only_the_kit() {
    let g = module_graph(&crate_src("web"));
    assert!(g.contains_key("kit") && g.contains_key("policies"), "read the web sources: {:?}", g.keys());
    assert_eq!(cycles(&g), Vec::<Vec<String>>::new(), "import loops in web");
    for (m, deps) in &g {
        if WEB_KIT.contains(&m.as_str()) {
            continue;
        }
        let others: Vec<&String> = deps.iter().filter(|d| !WEB_KIT.contains(&d.as_str())).collect();
        assert!(others.is_empty(), "web area {m} imports other areas {others:?}; move what they share to the kit");
    }
    // Only the composition modules (router, openapi) mount areas; the rest of the kit imports none.
    for k in WEB_KIT.iter().filter(|k| !["router", "openapi"].contains(k)) {
        let areas: Vec<&String> = g[*k].iter().filter(|d| !WEB_KIT.contains(&d.as_str())).collect();
        assert!(areas.is_empty(), "kit module {k} imports areas {areas:?}");
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycles(&g), vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
}
