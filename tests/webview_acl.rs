//! The webview gets only what it needs, checked on the configuration itself: every app
//! command is declared in the app manifest (src-tauri/build.rs) and granted by name, the
//! capability holds nothing else than the permissions the UI uses, the end-to-end hooks are
//! compiled and granted only in an `e2e` build, and the CSP closes what the page never
//! uses. (tests/e2e/run.mjs checks in the real window that a command the UI does not need
//! is refused and that the prototypes are frozen.)

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap()
}

/// The quoted names in `const NAME: &[&str] = &[ ... ];` of build.rs.
fn build_list(name: &str) -> Vec<String> {
    let text = read("src-tauri/build.rs");
    let start = text
        .find(&format!("const {name}: &[&str] = &["))
        .unwrap_or_else(|| panic!("build.rs has no {name}"));
    let rest = &text[start..];
    let body = &rest[rest.find("= &[").unwrap() + 4..rest.find("];").unwrap()];
    body.split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The commands of `generate_handler!` in desktop/mod.rs: (name, only in e2e builds).
fn handler_commands() -> Vec<(String, bool)> {
    let text = read("src-tauri/src/desktop/mod.rs");
    let start = text.find("generate_handler![").expect("generate_handler!");
    let body = &text[start + "generate_handler![".len()..];
    let body = &body[..body.find("])").unwrap()];
    let mut out = Vec::new();
    let mut e2e = false;
    for item in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut name = item;
        if let Some(rest) = item.strip_prefix("#[cfg(feature = \"e2e\")]") {
            e2e = true;
            name = rest.trim();
        }
        // The last path segment: `commands::x` and `class_commands::x` are both `x`.
        let name = name.rsplit("::").next().unwrap_or(name).to_string();
        out.push((name, e2e));
        e2e = false;
    }
    out
}

fn permissions(rel: &str) -> BTreeSet<String> {
    json(rel)["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

fn allow(command: &str) -> String {
    format!("allow-{}", command.replace('_', "-"))
}

#[test]
fn each_command_is_declared_and_granted_by_name_and_nothing_else_is() {
    let handled = handler_commands();
    let app: Vec<String> = handled
        .iter()
        .filter(|(_, e2e)| !e2e)
        .map(|(n, _)| n.clone())
        .collect();
    let hooks: Vec<String> = handled
        .iter()
        .filter(|(_, e2e)| *e2e)
        .map(|(n, _)| n.clone())
        .collect();
    assert!(app.len() > 20, "{handled:?}");
    assert_eq!(
        build_list("COMMANDS"),
        app,
        "build.rs declares the app's commands"
    );
    assert_eq!(build_list("E2E_COMMANDS"), hooks, "and the e2e hooks apart");
    assert_eq!(
        hooks,
        ["e2e_probe_events", "e2e_drop_paths"],
        "the test hooks are compiled only with the e2e feature"
    );

    let granted = permissions("src-tauri/capabilities/default.json");
    let mut expected: BTreeSet<String> = app.iter().map(|c| allow(c)).collect();
    for p in [
        "core:event:allow-listen",
        "core:event:allow-unlisten",
        "notification:allow-notify",
        "notification:allow-is-permission-granted",
    ] {
        expected.insert(p.to_string());
    }
    assert_eq!(
        granted, expected,
        "the capability grants exactly what the UI uses"
    );
    assert!(!granted.iter().any(|p| p.ends_with(":default")));
    let capability = json("src-tauri/capabilities/default.json");
    assert_eq!(capability["windows"], serde_json::json!(["main"]));

    // The hooks' grant lives where only an e2e build reads it.
    let e2e = permissions("src-tauri/capabilities/e2e/e2e.json");
    let hook_grants: BTreeSet<String> = hooks.iter().map(|c| allow(c)).collect();
    assert_eq!(e2e, hook_grants);
    let build = read("src-tauri/build.rs");
    assert!(
        build.contains("\"./src-tauri/capabilities/*.json\""),
        "a normal build reads only the top-level capabilities"
    );
    // The commands module compiles the hooks only with the feature.
    let commands = read("src-tauri/src/desktop/commands.rs");
    for hook in &hooks {
        let at = commands
            .find(&format!("pub async fn {hook}("))
            .unwrap_or_else(|| panic!("{hook}"));
        let before = &commands[..at];
        let attrs = &before[before.rfind("\n\n").unwrap()..];
        assert!(
            attrs.contains("#[cfg(feature = \"e2e\")]"),
            "{hook} is cfg-gated"
        );
    }
}

#[test]
fn the_csp_closes_what_the_page_never_uses_and_prototypes_are_frozen() {
    let conf = json("tauri.conf.json");
    let security = &conf["app"]["security"];
    let csp = security["csp"].as_str().unwrap();
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for wanted in [
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
        "default-src 'self'",
    ] {
        assert!(directives.contains(&wanted), "the CSP has {wanted}: {csp}");
    }
    assert!(!csp.contains("unsafe-eval"));
    assert_eq!(security["freezePrototype"], true);
    assert!(
        security.get("devCsp").is_none()
            && security
                .get("dangerousDisableAssetCspModification")
                .is_none(),
        "no weaker CSP for any build"
    );
    assert!(!conf["app"]["withGlobalTauri"].as_bool().unwrap_or(false));
}

#[test]
fn the_package_declares_what_it_needs_to_run() {
    let conf = json("tauri.conf.json");
    let bundle = &conf["bundle"];
    assert_eq!(bundle["active"], true);
    assert_eq!(bundle["targets"], serde_json::json!(["deb"]));
    let depends: Vec<&str> = bundle["linux"]["deb"]["depends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    for needed in ["poppler-utils", "libheif-examples"] {
        assert!(depends.contains(&needed), "{needed}: {depends:?}");
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(bundle["icon"][0].as_str().unwrap())
        .exists());
}
