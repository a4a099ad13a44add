//! Table-driven tests of the rules over small specs.

use crate::diag::{Code, Severity};
use crate::pipeline::check_text;

const HEAD: &str = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://x/y}\n";

#[track_caller]
fn codes(body: &str) -> Vec<(Code, Severity)> {
    let checked = check_text("fleet.yaml", format!("{HEAD}{body}"), None);
    checked
        .problems
        .iter()
        .map(|p| (p.code, p.severity))
        .collect()
}

#[track_caller]
fn errors(body: &str) -> Vec<Code> {
    codes(body)
        .into_iter()
        .filter(|(_, s)| *s == Severity::Error)
        .map(|(c, _)| c)
        .collect()
}

const CLUSTERS: &str = "  clusters:\n    - {name: hub, role: hub}\n    - {name: a, environment: prod}\n    - {name: b, environment: prod}\n";

#[test]
fn rules_fire_on_their_input_only() {
    let cases: &[(&str, &[Code])] = &[
        (
            "  components:\n    - {name: x, wave: config, path: p}\n",
            &[],
        ),
        (
            "  components:\n    - {name: x, wave: config, path: p, clusters: [a]}\n",
            &[Code::Placement],
        ),
        (
            "  components:\n    - {name: x, wave: config, path: p, selector: {matchLabels: {tier: x}}}\n",
            &[],
        ),
        (
            "  components:\n    - {name: x, wave: controllers, path: p, dependsOn: [y]}\n    - {name: y, wave: config, path: p}\n",
            &[Code::WaveOrder],
        ),
        (
            "  components:\n    - {name: x, wave: config, path: p, requires: [argocd]}\n    - {name: y, wave: config, path: p, provides: [argocd]}\n",
            &[],
        ),
        (
            "  components:\n    - {name: x, wave: config, path: p, requires: [argocd]}\n    - {name: y, wave: config, path: p, provides: [argocd], clusters: [hub]}\n",
            &[Code::Placement],
        ),
        (
            "  tenants:\n    - {name: t1, namespaces: [a1]}\n    - {name: t2, namespaces: [a2]}\n",
            &[],
        ),
        ("  tenants:\n    - {name: a}\n", &[Code::Reserved]),
    ];
    for (body, want) in cases {
        assert_eq!(errors(&format!("{CLUSTERS}{body}")), *want, "{body}");
    }
}

#[test]
fn a_selector_matching_nothing_is_a_warning() {
    let got = codes(&format!(
        "{CLUSTERS}  components:\n    - {{name: x, wave: config, path: p, selector: {{matchLabels: {{tier: none}}}}}}\n"
    ));
    assert_eq!(got, [(Code::Placement, Severity::Warning)]);
}

#[test]
fn argocd_waves_need_room_for_their_depth() {
    let spec = "  engine: argocd\n  waves: [{name: w1, syncWave: 0}, {name: w2, syncWave: 1}]\n  clusters: [{name: hub, role: hub}]\n  components:\n    - {name: x, wave: w1, path: p}\n    - {name: y, wave: w1, path: p, dependsOn: [x]}\n";
    assert_eq!(errors(spec), [Code::WaveOrder]);
    let roomy = spec.replace("syncWave: 1", "syncWave: 2");
    assert_eq!(errors(&roomy), []);
}

#[test]
fn a_path_component_named_like_a_wave_collides_only_when_the_wave_exists() {
    let body = "  clusters: [{name: hub, role: hub}]\n  components:\n    - {name: controllers, wave: config, path: p}\n";
    assert_eq!(errors(body), []);
    let with_chart = format!(
        "{body}    - {{name: c, wave: controllers, chart: {{repository: https://c, name: c}}}}\n"
    );
    assert_eq!(errors(&with_chart), [Code::Reserved]);
}

/// Argo CD from a `path:` folder gets the health check as a kustomize patch (tested with
/// its folder in `tests/cli`): nothing to warn about.
#[test]
fn argocd_from_a_path_is_no_warning() {
    let spec = "  engine: argocd\n  clusters: [{name: hub, role: hub}]\n  components:\n    - {name: argo, wave: controllers, path: p, provides: [argocd]}\n";
    assert_eq!(codes(spec), []);
}

#[test]
fn argocd_cannot_substitute_in_path_manifests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("p")).unwrap();
    std::fs::write(
        dir.path().join("p/cm.yaml"),
        "data: {host: \"${DOMAIN}\"}\n",
    )
    .unwrap();
    let spec = format!(
        "{HEAD}  engine: argocd\n  clusters: [{{name: hub, role: hub, vars: {{DOMAIN: x}}}}]\n  components:\n    - {{name: c, wave: controllers, path: p}}\n"
    );
    let checked = check_text("fleet.yaml", spec, Some(dir.path()));
    let got: Vec<Code> = checked.problems.iter().map(|p| p.code).collect();
    assert_eq!(got, [Code::Substitution]);
}

#[test]
fn a_long_cycle_is_printed_elided_with_a_bounded_number_of_labels() {
    let n = 500;
    let mut body = String::from("  clusters: [{name: hub, role: hub}]\n  components:\n");
    for i in 0..n {
        body.push_str(&format!(
            "    - {{name: c{i}, wave: config, path: p, dependsOn: [c{}]}}\n",
            (i + 1) % n
        ));
    }
    let checked = check_text("fleet.yaml", format!("{HEAD}{body}"), None);
    let cycle: Vec<_> = checked
        .problems
        .iter()
        .filter(|p| p.code == Code::Cycle)
        .collect();
    assert_eq!(cycle.len(), 1);
    let p = cycle[0];
    assert!(
        p.message.contains("cycle of 500 components"),
        "{}",
        p.message
    );
    assert!(p.message.contains("480 more"), "{}", p.message);
    assert_eq!(1 + p.secondary.len(), 20, "labels are capped");
}

/// A variable some clusters lack is reported for exactly those of the component's clusters,
/// in spec order, whether or not an environment adds values (two ways of finding them).
#[test]
fn a_missing_variable_names_the_clusters_that_lack_it_with_or_without_overrides() {
    let clusters = "  clusters:\n    - {name: hub, role: hub, vars: {X: h}}\n    - {name: a, environment: prod}\n    - {name: b, environment: prod, vars: {X: b}}\n    - {name: c, environment: prod}\n    - {name: d, environment: prod}\n";
    let messages = |extra: &str| -> Vec<String> {
        let body = format!(
            "{clusters}  components:\n    - name: x\n      wave: config\n      clusters: [d, b, a]\n      chart: {{repository: https://c, name: x}}\n      values: {{host: \"${{X}}.example\"}}\n{extra}"
        );
        check_text("fleet.yaml", format!("{HEAD}{body}"), None)
            .problems
            .iter()
            .filter(|p| p.code == Code::Substitution)
            .map(|p| p.message.clone())
            .collect()
    };
    let plain = messages("");
    assert_eq!(
        plain,
        ["`${X}` in `x` is not defined for clusters `a`, `d`"],
        "{plain:?}"
    );
    let overridden = messages("      environments:\n        prod: {values: {replicas: 2}}\n");
    assert_eq!(overridden, plain);
}

/// The schema's list of built-in variables (which `vars` may not set) is exactly what a
/// cluster's `variables()` sets besides its `vars`, for either kubeconfig reference; each is
/// refused in `vars` as `synctl::reserved`.
#[test]
fn the_built_in_variables_are_the_schemas_list() {
    let body = "  clusters:\n    - {name: hub, role: hub}\n    - {name: a}\n    - {name: b, kubeconfig: {configMapRef: b-kc}}\n";
    let checked = check_text("fleet.yaml", format!("{HEAD}{body}"), None);
    let (fleet, _) = checked.fleet.as_ref().expect("a fleet");
    let mut set: Vec<String> = fleet.clusters[1..]
        .iter()
        .flat_map(|c| c.variables().into_keys())
        .collect();
    set.sort();
    set.dedup();
    let schema: serde_json::Value = serde_json::from_str(crate::spec::schema::SCHEMA).unwrap();
    let mut listed: Vec<String> = schema
        .pointer("/definitions/vars/propertyNames/not/enum")
        .and_then(serde_json::Value::as_array)
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(set, listed);
    let mut constant: Vec<String> = crate::subst::BUILT_INS
        .iter()
        .map(|b| (*b).to_owned())
        .collect();
    constant.sort();
    assert_eq!(constant, listed);
    for name in &listed {
        let body = format!(
            "  clusters:\n    - {{name: hub, role: hub}}\n    - {{name: a, vars: {{{name}: x}}}}\n"
        );
        assert_eq!(errors(&body), [Code::Reserved], "{name}");
    }
}

/// A tenant's written `namespaceMetadata.labels` replace the default pod-security label (as
/// docs/spec.md says, and as any default is replaced); annotations alone keep it.
#[test]
fn tenant_namespace_labels_replace_the_default() {
    let labels = |meta: &str| {
        let body = format!(
            "  clusters:\n    - {{name: hub, role: hub}}\n  tenants:\n    - name: team\n{meta}"
        );
        let checked = check_text("fleet.yaml", format!("{HEAD}{body}"), None);
        let (fleet, _) = checked.fleet.as_ref().expect("a fleet");
        fleet.tenants[0]
            .namespace_labels
            .clone()
            .into_iter()
            .collect::<Vec<_>>()
    };
    let default = vec![(
        "pod-security.kubernetes.io/enforce".to_owned(),
        "baseline".to_owned(),
    )];
    assert_eq!(labels(""), default);
    assert_eq!(
        labels("      namespaceMetadata: {annotations: {a: b}}\n"),
        default
    );
    assert_eq!(
        labels("      namespaceMetadata: {labels: {team: web}}\n"),
        [("team".to_owned(), "web".to_owned())]
    );
    assert_eq!(labels("      namespaceMetadata: {labels: {}}\n"), []);
}
