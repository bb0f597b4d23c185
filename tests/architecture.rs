//! The house rules that a compiler does not check, read from the sources themselves
//! (docs/architecture.md, "Which layer may import which"):
//!
//! - no import cycle between modules: the top-level modules of `src/`, and the
//!   submodules of `ui/` (where one still exists, it is allow-listed below by name);
//! - core modules never import `pcap`, `ratatui` or `crossterm`, and never read the clock.
//!
//! Every `crate::` path counts, in a `use` line or inline (`crate::live::now_ts()`), as do
//! `super::` paths; comments, string literals and `#[cfg(test)]` items do not (a unit test
//! may time itself or build a capture).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The pipeline's core: sans-IO, fed by the edge, never reaching back out to it.
const CORE: &[&str] = &[
    "decode", "flow", "tcp", "tls", "http", "http2", "explain", "pipeline",
];
/// What a core module must not name.
const EDGE_CRATES: &[&str] = &["pcap", "ratatui", "crossterm"];
const CLOCKS: &[&str] = &["SystemTime::now", "Instant::now"];

/// Cycles between `ui/` submodules still present (the UI's own engineer untangles them):
/// `(from, to)` edges dropped before looking for cycles. An entry that no longer closes a
/// cycle fails the test, so this list only ever shrinks; no entry may leave `ui`.
const UI_CYCLES_ALLOWED: &[(&str, &str)] = &[];

/// Cycles between core modules found when this test was written, owned by the engineers of
/// those modules (this list, too, must only shrink; nothing may be added to it):
const CORE_CYCLES_KNOWN: &[(&str, &str)] = &[];

/// One source file: its module path (`["ui", "live"]`) and its code with comments,
/// literals and test-only items blanked out.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    code: String,
}

#[test]
fn no_import_cycle_between_modules() {
    let sources = sources();
    let ui_subs = ui_submodules(&sources);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &sources {
        let from = node(&s.module, &ui_subs);
        edges.entry(from.clone()).or_default();
        for path in referenced_paths(s) {
            let to = node(&path, &ui_subs);
            if to != from && !to.is_empty() {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    for &(a, b) in UI_CYCLES_ALLOWED {
        assert!(
            a.starts_with("ui::") && b.starts_with("ui::"),
            "UI_CYCLES_ALLOWED is for ui-internal pairs only: {a} -> {b}"
        );
    }
    let cycles_now = components(&edges);
    let mut kept = edges.clone();
    for &(a, b) in UI_CYCLES_ALLOWED.iter().chain(CORE_CYCLES_KNOWN) {
        let closes_cycle = edges.get(a).is_some_and(|t| t.contains(b))
            && cycles_now.iter().any(|c| c.contains(a) && c.contains(b));
        assert!(
            closes_cycle,
            "{a} -> {b} no longer closes a cycle: remove it from the allowed list"
        );
        if let Some(t) = kept.get_mut(a) {
            t.remove(b);
        }
    }
    let cycles: Vec<String> = components(&kept)
        .into_iter()
        .map(|c| {
            let inside: Vec<String> = c
                .iter()
                .flat_map(|a| {
                    kept[a]
                        .iter()
                        .filter(|b| c.contains(*b))
                        .map(move |b| format!("{a} -> {b}"))
                })
                .collect();
            inside.join(", ")
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles between modules (each line: the edges inside one cycle):\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn core_modules_stay_off_the_edge() {
    let mut found = Vec::new();
    for s in sources() {
        if !CORE.contains(&s.module[0].as_str()) {
            continue;
        }
        for name in EDGE_CRATES {
            if mentions_path(&s.code, &format!("{name}::")) {
                found.push(format!("{}: imports `{name}`", s.file.display()));
            }
        }
        for clock in CLOCKS {
            if mentions_path(&s.code, clock) {
                found.push(format!(
                    "{}: reads the clock (`{clock}`); time is the packet's timestamp",
                    s.file.display()
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The checker itself, on code written to break each rule.
#[test]
fn the_checker_sees_what_it_should() {
    let (code, test_mods) = strip_tests(&blank(concat!(
        "use crate::{flow::{self, Dir}, ui::app::App};\n",
        "// crate::comment::ignored\n",
        "let s = \"crate::string::ignored\";\n",
        "let t = crate::live::now_ts();\n",
        "use super::sibling;\n",
        "#[cfg(test)]\n",
        "mod tests { use crate::test_only::x; }\n",
        "let c = '{'; let lt: &'a str = r#\"crate::raw\"#;\n",
        "fn f() { std::time::Instant::now(); pcap::Capture::x(); my_pcap::y(); }\n",
        "#[cfg(test)]\n",
        "mod more_tests;\n",
    )));
    assert_eq!(test_mods, ["more_tests"]);
    let s = Source {
        file: PathBuf::from("x.rs"),
        module: vec!["ui".into(), "view".into()],
        code,
    };
    let paths: Vec<String> = referenced_paths(&s).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        paths,
        [
            "flow",
            "flow::Dir",
            "ui::app::App",
            "live::now_ts",
            "ui::sibling"
        ]
    );
    assert!(mentions_path(&s.code, "Instant::now"));
    assert!(mentions_path(&s.code, "pcap::"));
    assert!(!mentions_path("my_pcap::y()", "pcap::"));
    let subs = BTreeSet::from(["app".to_string(), "live".to_string()]);
    let n = |p: &[&str]| node(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &subs);
    assert_eq!(n(&["ui", "app", "App"]), "ui::app");
    assert_eq!(n(&["ui", "load_wanted"]), "ui");
    assert_eq!(n(&["capture", "live", "Live"]), "capture");
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &["a"][..]),
    ]
    .into_iter()
    .map(|(a, b)| (a.into(), b.iter().map(|s| s.to_string()).collect()))
    .collect();
    let c = components(&g);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0], BTreeSet::from(["a".into(), "b".into(), "c".into()]));
}

/// The graph's node for a module path: the top-level module, or `ui::NAME` for a `ui`
/// submodule (an item of `ui/mod.rs` itself is `ui`).
fn node(path: &[String], ui_subs: &BTreeSet<String>) -> String {
    match path {
        [] => String::new(),
        [ui, sub, ..] if ui == "ui" && ui_subs.contains(sub) => format!("ui::{sub}"),
        [top, ..] => top.clone(),
    }
}

fn ui_submodules(sources: &[Source]) -> BTreeSet<String> {
    sources
        .iter()
        .filter(|s| s.module.len() >= 2 && s.module[0] == "ui")
        .map(|s| s.module[1].clone())
        .collect()
}

/// Every src/**/*.rs of the library (main.rs is the binary: it names `tcpscope::`),
/// without the files of test-only modules.
fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = Vec::new();
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap();
        let mut module: Vec<String> = rel
            .with_extension("")
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        if module == ["main"] {
            continue;
        }
        if module == ["lib"] {
            module.clear();
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let (code, test_mods) = strip_tests(&blank(&text));
        for m in test_mods {
            let mut child = module.clone();
            child.push(m);
            test_only.insert(child);
        }
        out.push(Source {
            file: rel.to_path_buf(),
            module,
            code,
        });
    }
    out.retain(|s| !test_only.iter().any(|t| s.module.starts_with(t)));
    out.retain(|s| !s.module.is_empty());
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code with comments and the contents of string and char literals replaced by
/// spaces (line breaks kept), so that neither is read as a path or a brace.
fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let keep_lines = |s: &[char], out: &mut String| {
        for &ch in s {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let prev_ident = i > 0 && ident(c[i - 1]);
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            let end = c[i..]
                .iter()
                .position(|&x| x == '\n')
                .map_or(c.len(), |n| i + n);
            keep_lines(&c[i..end], &mut out);
            i = end;
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            let start = i;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            keep_lines(&c[start..i.min(c.len())], &mut out);
        } else if !prev_ident && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) && {
            let j = i + if c[i] == 'b' { 2 } else { 1 };
            let hashes = c[j..].iter().take_while(|&&x| x == '#').count();
            c.get(j + hashes) == Some(&'"')
        } {
            let j = i + if c[i] == 'b' { 2 } else { 1 };
            let hashes = c[j..].iter().take_while(|&&x| x == '#').count();
            let body = j + hashes + 1;
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let end = (body..c.len())
                .find(|&k| c[k..].starts_with(&close))
                .map_or(c.len(), |k| k + close.len());
            out.push('"');
            keep_lines(&c[i + 1..end.saturating_sub(1)], &mut out);
            out.push('"');
            i = end;
        } else if c[i] == '"' {
            let mut k = i + 1;
            while k < c.len() && c[k] != '"' {
                k += if c[k] == '\\' { 2 } else { 1 };
            }
            out.push('"');
            keep_lines(&c[i + 1..k.min(c.len())], &mut out);
            out.push('"');
            i = k + 1;
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{7f}') or a lifetime ('a).
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 2..c.len()).find(|&k| c[k] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    out.push('\'');
                    keep_lines(&c[i + 1..e], &mut out);
                    out.push('\'');
                    i = e + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Blanks each `#[cfg(test)]` item; returns the code and the names of test-only modules
/// kept in their own files (`#[cfg(test)] mod tests;`).
fn strip_tests(code: &str) -> (String, Vec<String>) {
    const ATTR: &str = "#[cfg(test)]";
    let mut out: Vec<char> = code.chars().collect();
    let mut mods = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&out, ATTR, from) {
        let start = at;
        let mut i = at + ATTR.chars().count();
        let mut depth = 0usize;
        let mut opened = false;
        while i < out.len() {
            match out[i] {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if opened && depth == 0 {
                        i += 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let i = i.min(out.len());
        let item: String = out[start..i].iter().collect();
        let words: Vec<&str> = item[ATTR.len()..]
            .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == ';'))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(p) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(p + 1).and_then(|n| n.strip_suffix(';'))
        {
            mods.push(name.to_string());
        }
        for ch in &mut out[start..i] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        from = i;
    }
    (out.into_iter().collect(), mods)
}

fn find(hay: &[char], needle: &str, from: usize) -> Option<usize> {
    let n: Vec<char> = needle.chars().collect();
    (from..hay.len()).find(|&k| hay[k..].starts_with(&n))
}

/// Whether `code` names `path` (`pcap::`, `Instant::now`) as a path of its own, not as the
/// end of a longer name (`my_pcap::`).
fn mentions_path(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The module paths a file names through `crate::` and `super::`, as absolute paths
/// (`["capture", "live", "Live"]`); a `use` group yields one path per member.
fn referenced_paths(s: &Source) -> Vec<Vec<String>> {
    let c: Vec<char> = s.code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let boundary =
            i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_' || c[i - 1] == ':');
        let base: Option<(Vec<String>, usize)> = if !boundary {
            None
        } else if c[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
            Some((Vec::new(), i + 7))
        } else if c[i..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
            // A file's `super` is its parent module.
            let mut m = s.module.clone();
            m.pop();
            Some((m, i + 7))
        } else {
            None
        };
        match base {
            Some((prefix, at)) => {
                let (paths, end) = use_tree(&c, at, prefix);
                out.extend(paths.into_iter().filter(|p| !p.is_empty()));
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// Reads `a::b::{c, d::e}` from `at`; returns every full path and where it ended.
fn use_tree(c: &[char], mut at: usize, mut prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    loop {
        while at < c.len() && c[at].is_whitespace() {
            at += 1;
        }
        if c.get(at) == Some(&'{') {
            let mut paths = Vec::new();
            at += 1;
            loop {
                let (p, end) = use_tree(c, at, prefix.clone());
                paths.extend(p);
                at = end;
                while at < c.len() && c[at].is_whitespace() {
                    at += 1;
                }
                match c.get(at) {
                    Some(',') => at += 1,
                    Some('}') => return (paths, at + 1),
                    _ => return (paths, at),
                }
                while at < c.len() && c[at].is_whitespace() {
                    at += 1;
                }
                if c.get(at) == Some(&'}') {
                    return (paths, at + 1);
                }
            }
        }
        let start = at;
        while at < c.len() && (c[at].is_alphanumeric() || c[at] == '_') {
            at += 1;
        }
        let word: String = c[start..at].iter().collect();
        if word == "super" {
            prefix.pop();
        } else if !word.is_empty() && word != "self" {
            prefix.push(word);
        }
        if c[at..].starts_with(&[':', ':']) {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn components(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = BTreeSet::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}
