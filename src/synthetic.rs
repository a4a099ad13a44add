//! Synthetic fleets for benchmarks and scale tests: a long `dependsOn` chain, and N clusters
//! × M components spread over a few environments.

use std::fmt::Write as _;

const HEAD: &str = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata:\n  name: synthetic\nspec:\n  repository:\n    url: https://github.com/acme/fleet\n";

/// A fleet whose `n` components form one chain in one wave, each depending on the previous.
#[must_use]
pub fn chain(n: usize) -> String {
    let mut s = String::from(HEAD);
    s.push_str("  clusters:\n    - name: hub\n      role: hub\n  components:\n");
    for i in 0..n {
        let _ = write!(
            s,
            "    - name: c{i}\n      wave: controllers\n      chart: {{repository: https://charts.example.com, name: c{i}}}\n"
        );
        if i > 0 {
            let _ = writeln!(s, "      dependsOn: [c{}]", i - 1);
        }
    }
    s
}

/// A fleet of one hub and `clusters - 1` fleet clusters (ten per environment), with
/// `components` chart components in three waves, every fifth depending on the one before.
#[must_use]
pub fn fleet(clusters: usize, components: usize) -> String {
    let mut s = String::from(HEAD);
    s.push_str("  clusters:\n    - name: hub\n      role: hub\n      vars: {CLUSTER_DOMAIN: hub.example.com}\n");
    for i in 1..clusters {
        let _ = write!(
            s,
            "    - name: c{i}\n      environment: env{}\n      vars: {{CLUSTER_DOMAIN: c{i}.example.com}}\n",
            i / 10
        );
    }
    s.push_str("  components:\n");
    let waves = ["tenants", "controllers", "config"];
    for i in 0..components {
        let _ = write!(
            s,
            "    - name: comp{i}\n      wave: {}\n      chart: {{repository: https://charts.example.com/{i}, name: comp{i}, version: \"1.{i}.*\"}}\n      values: {{replicaCount: 2, host: \"comp{i}.${{CLUSTER_DOMAIN}}\"}}\n",
            waves[i * 3 / components.max(1)]
        );
        if i % 5 != 0 && (i - 1) * 3 / components.max(1) == i * 3 / components.max(1) {
            let _ = writeln!(s, "      dependsOn: [comp{}]", i - 1);
        }
    }
    s.push_str(
        "  tenants:\n    - name: team-a\n      quota: {cpu: \"8\", memory: 16Gi, pods: \"50\"}\n",
    );
    s
}
