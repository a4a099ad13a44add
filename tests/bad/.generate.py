import os
BASE = """apiVersion: synctl.dev/v1alpha1
kind: Fleet
metadata:
  name: bad
spec:
  repository:
    url: https://github.com/acme/fleet
  clusters:
    - name: hub
      role: hub
    - name: dev
      environment: dev
  components:
    - name: cert-manager
      wave: controllers
      chart: {repository: https://charts.jetstack.io, name: cert-manager, version: "1.16.*"}
    - name: kyverno
      wave: controllers
      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}
"""
M = "  # <-"
cases = {}
def case(name, code, text, desc):
    cases[name] = (code, text, desc)
def rep(old, new, base=BASE):
    assert old in base, old
    return base.replace(old, new, 1)
TEN = "  tenants:\n"
case("yaml-duplicate-key", "yaml", rep("      wave: controllers\n      chart: {repository: https://kyverno", "      wave: controllers\n      wave: config" + M + "\n      chart: {repository: https://kyverno"), "a key given twice")
bomb = BASE + "  tenants:\n    - name: t\n      quota: {cpu: \"1\"}\n"
lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for i in range(1, 5):
    p = i - 1
    al = ", ".join(["*a%d" % p] * 10)
    lines.append("x-a%d: &a%d [%s]" % (i, i, al))
case("yaml-alias-bomb", "yaml", "\n".join(lines[:-1]) + "\n" + lines[-1] + M + "\n" + BASE, "billion laughs")
case("yaml-syntax", "yaml", rep("      environment: dev\n", "      environment: dev\n      labels: {tier: dev\n").replace("  components:\n", "  components:" + M + "\n"), "an unclosed flow mapping (found where the next key starts)")
case("yaml-several-documents", "yaml", BASE + "---" + M + "\nkind: Fleet\n", "two documents in one file")
case("schema-unknown-top-field", "schema", rep("spec:\n", "spec:\n  clustrs: []" + M + "\n"), "a misspelled field of spec")
case("schema-unknown-component-field", "schema", rep("    - name: kyverno\n", "    - name: kyverno\n      dependOn: [cert-manager]" + M + "\n"), "dependOn instead of dependsOn")
case("schema-missing-url", "schema", rep("  repository:\n    url: https://github.com/acme/fleet\n", "  repository:" + M + "\n    branch: main\n"), "repository without url")
case("schema-wrong-type", "schema", rep("    - name: kyverno\n", "    - name: kyverno\n      dependsOn: cert-manager" + M + "\n"), "a string where a list is expected")
case("schema-engine-enum", "schema", rep("spec:\n", "spec:\n  engine: fluxcd" + M + "\n"), "an engine that does not exist")
case("schema-chart-and-path", "schema", rep("    - name: kyverno\n      wave: controllers\n", "    - name: kyverno" + M + "\n      wave: controllers\n      path: policies\n"), "a component with both chart and path")
case("schema-neither-chart-nor-path", "schema", BASE + "    - name: empty" + M + "\n      wave: config\n", "a component with neither chart nor path")
case("schema-api-version", "schema", rep("apiVersion: synctl.dev/v1alpha1", "apiVersion: synctl.dev/v1" + M), "a wrong apiVersion")
case("schema-duration", "schema", rep("spec:\n", "spec:\n  defaults:\n    interval: 10 minutes" + M + "\n"), "a duration that is not a Go duration")
case("schema-var-name", "schema", rep("      environment: dev\n", "      environment: dev\n      vars: {cluster-domain: dev.example.com}" + M + "\n"), "a variable name with a dash")
case("name-not-dns-label", "name", rep("    - name: kyverno\n", "    - name: Kyverno_Policies" + M + "\n"), "a component name with capitals")
case("name-path-dotdot", "name", BASE + "    - name: policies\n      wave: config\n      path: ../outside" + M + "\n", "a path that climbs out of the repository")
case("name-path-absolute", "name", BASE + "    - name: policies\n      wave: config\n      path: /etc/policies" + M + "\n", "an absolute path")
case("duplicate-component", "duplicate", rep("    - name: kyverno\n", "    - name: cert-manager" + M + "\n"), "two components with one name")
case("duplicate-cluster", "duplicate", rep("    - name: dev\n      environment: dev\n", "    - name: dev\n      environment: dev\n    - name: dev" + M + "\n"), "two clusters with one name")
case("duplicate-wave", "duplicate", rep("spec:\n", "spec:\n  waves:\n    - name: controllers\n    - name: config\n    - name: controllers" + M + "\n"), "two waves with one name")
case("duplicate-tenant-namespace", "duplicate", BASE + TEN + "    - name: team-a\n      namespaces: [shared]\n    - name: team-b\n      namespaces: [shared]" + M + "\n", "two tenants claim one namespace")
case("duplicate-tenant-component-namespace", "duplicate", rep("    - name: kyverno\n", "    - name: kyverno" + M + "\n") + TEN + "    - name: team-a\n      namespaces: [kyverno]\n", "a component deploys into a tenant namespace")
case("unknown-ref-depends-on-typo", "unknown-ref", rep("    - name: kyverno\n", "    - name: kyverno\n      dependsOn: [cert-manger]" + M + "\n"), "a typo in dependsOn")
case("unknown-ref-wave", "unknown-ref", rep("      wave: controllers\n      chart: {repository: https://kyverno", "      wave: controlers" + M + "\n      chart: {repository: https://kyverno"), "a typo in wave")
case("unknown-ref-cluster", "unknown-ref", rep("    - name: kyverno\n", "    - name: kyverno\n      clusters: [hub, deev]" + M + "\n"), "a typo in clusters")
case("unknown-ref-requires", "unknown-ref", rep("    - name: kyverno\n", "    - name: kyverno\n      requires: [prometheus]" + M + "\n"), "a requirement nothing provides")
case("unknown-ref-missing-path", "unknown-ref", BASE + "    - name: policies\n      wave: config\n      path: policies/missing" + M + "\n", "a path that does not exist")
case("unknown-ref-environment", "unknown-ref", rep("    - name: kyverno\n", "    - name: kyverno\n      environments:\n        prod: {version: \"3.0.0\"}" + M + "\n"), "an override for an environment no cluster has")
case("cycle-three", "cycle", rep("    - name: cert-manager\n", "    - name: cert-manager\n      dependsOn: [kyverno]" + M + "\n").replace("    - name: kyverno\n", "    - name: kyverno\n      dependsOn: [trust]\n") + "    - name: trust\n      wave: controllers\n      dependsOn: [cert-manager]\n      chart: {repository: https://charts.jetstack.io, name: trust-manager}\n", "a 3-cycle cert-manager → kyverno → trust → cert-manager")
case("cycle-self", "cycle", rep("    - name: kyverno\n", "    - name: kyverno\n      dependsOn: [kyverno]" + M + "\n"), "a component depending on itself")
case("wave-order-later-wave", "wave-order", rep("    - name: cert-manager\n      wave: controllers\n", "    - name: cert-manager\n      wave: controllers\n      dependsOn: [policies]" + M + "\n") + "    - name: policies\n      wave: config\n      path: manifests\n", "a dependency on a later wave")
case("wave-order-chart-on-path", "wave-order", rep("    - name: kyverno\n", "    - name: kyverno\n      dependsOn: [crds]" + M + "\n") + "    - name: crds\n      wave: controllers\n      path: manifests\n", "a chart depending on a path component of its wave")
ARGO = rep("spec:\n", "spec:\n  engine: argocd\n")
case("wave-order-argocd-bases", "wave-order", rep("spec:\n", "spec:\n  waves:\n    - {name: tenants, syncWave: 10}\n    - {name: controllers, syncWave: 10}" + M + "\n", ARGO), "sync-wave bases that do not increase")
case("wave-order-argocd-too-deep", "wave-order", rep("    - name: kyverno\n", "    - name: kyverno" + M + "\n      dependsOn: [cert-manager]\n", rep("    - name: cert-manager\n", "    - name: cert-manager\n      dependsOn: [trust]\n", rep("spec:\n", "spec:\n  waves:\n    - {name: controllers, syncWave: 0}\n    - {name: config, syncWave: 2}\n", ARGO))) + "    - name: trust\n      wave: controllers\n      chart: {repository: https://charts.jetstack.io, name: trust-manager}\n", "a wave 2 deep below a gap of 2")
case("placement-dependency-missing", "placement", rep("    - name: kyverno\n", "    - name: kyverno\n      dependsOn: [cert-manager]" + M + "\n").replace("      chart: {repository: https://charts.jetstack.io, name: cert-manager, version: \"1.16.*\"}\n", "      clusters: [hub]\n      chart: {repository: https://charts.jetstack.io, name: cert-manager, version: \"1.16.*\"}\n"), "a dependency not placed on a cluster of its dependent")
case("placement-partial-environment", "placement", rep("    - name: dev\n      environment: dev\n", "    - name: dev\n      environment: dev\n    - name: dev-2\n      environment: dev\n").replace("    - name: kyverno\n", "    - name: kyverno\n      clusters: [hub, dev]" + M + "\n"), "a component on one of two clusters of an environment")
case("placement-argocd-delivery", "placement", BASE + TEN + "    - name: team-a\n      apps:\n        repository: {url: https://github.com/acme/team-a}\n        delivery: argocd" + M + "\n", "Argo CD delivery where nothing provides argocd")
case("hub-none", "hub", rep("      role: hub\n", "").replace("  clusters:\n", "  clusters:" + M + "\n"), "no hub cluster")
case("hub-two", "hub", rep("      environment: dev\n", "      role: hub" + M + "\n"), "two hub clusters")
case("reserved-cluster-name", "reserved", rep("    - name: dev\n", "    - name: flux-system" + M + "\n"), "a fleet cluster named like a hub namespace")
case("reserved-kustomization-name", "reserved", BASE + "    - name: controllers" + M + "\n      wave: config\n      path: manifests\n", "a path component named like a wave")
case("secret-password-in-values", "secret", rep("      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}\n", "      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}\n      values:\n        admin:\n          password: hunter2" + M + "\n"), "a literal password")
case("secret-private-key", "secret", rep("      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}\n", "      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}\n      values:\n        tls: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\"" + M + "\n"), "a private key")
case("substitution-undefined-var", "substitution", rep("      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}\n", "      chart: {repository: https://kyverno.github.io/kyverno, name: kyverno}\n      values:\n        host: \"kyverno.${CLUSTER_DOMAN}\"" + M + "\n").replace("      environment: dev\n", "      environment: dev\n      vars: {CLUSTER_DOMAIN: dev.example.com}\n").replace("      role: hub\n", "      role: hub\n      vars: {CLUSTER_DOMAIN: example.com}\n"), "a misspelled variable")
case("placement-flux-delivery-on-argocd", "placement", ARGO + TEN + "    - name: team-a\n      clusters: [hub]\n      apps:\n        repository: {url: https://github.com/acme/team-a}\n        delivery: flux" + M + "\n", "Flux delivery where Argo CD is the engine")
case("placement-mixed-kubeconfigs", "placement", rep("    - name: dev\n      environment: dev\n", "    - name: dev\n      environment: dev\n    - name: dev-2" + M + "\n      environment: dev\n      kubeconfig: {configMapRef: dev-2-identity}\n"), "one environment with a kubeconfig Secret and a ConfigMap")
os.makedirs("tests/bad", exist_ok=True)
for name, (code, text, desc) in cases.items():
    with open(f"tests/bad/{name}.yaml", "w") as f:
        f.write(f"# expect: synctl::{code} — {desc}\n" + text)
print(len(cases))
