//! The engine's top-level modules import one another without a cycle, so a
//! change to one never has to reach back into those that call it (lifecycle
//! records changes for people and scoring; people and scoring never get called
//! back). Cargo cannot check this inside one crate, so this test reads the
//! `crate::` paths in `core/src`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Names the crate root re-exports from `error`, which imports nothing.
const ROOT_REEXPORTS: [&str; 3] = ["CoreError", "CoreResult", "self"];

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules named after `crate::` in `source`, including each
/// item of a `crate::{a, b::c}` group.
fn imports(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        item_start = false;
                        out.insert(identifier(&group[i..]).to_owned());
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(identifier(rest).to_owned());
        }
    }
    out.retain(|name| !name.is_empty() && !ROOT_REEXPORTS.contains(&name.as_str()));
    out
}

fn read_graph(dir: &Path, top: Option<&str>, graph: &mut Graph) {
    for entry in fs::read_dir(dir).expect("read core/src") {
        let path = entry.expect("directory entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            read_graph(&path, Some(top.unwrap_or(&name)), graph);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = top.unwrap_or(&name).to_owned();
            if module == "lib" {
                continue;
            }
            let mut deps = imports(&fs::read_to_string(&path).expect("read a source file"));
            deps.remove(&module);
            graph.entry(module).or_default().extend(deps);
        }
    }
}

/// A cycle through `graph` as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn core_modules_import_each_other_without_a_cycle() {
    let mut graph = Graph::new();
    read_graph(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        None,
        &mut graph,
    );
    assert!(graph.contains_key("scoring") && graph.contains_key("lifecycle"));
    assert!(
        graph["scoring"].contains("lifecycle"),
        "the reader no longer sees scoring's import of lifecycle: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("core modules import in a cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_reader_sees_paths_and_groups_and_finds_cycles() {
    let source = "use crate::people::{accounts, stakeholders};\n\
                  use crate::{CoreError, db, journeys::{models, progression}, time};\n\
                  let x = crate::scoring::rescore(txn);";
    let found: Vec<_> = imports(source).into_iter().collect();
    assert_eq!(found, ["db", "journeys", "people", "scoring", "time"]);

    let graph: Graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&acyclic), None);
}
