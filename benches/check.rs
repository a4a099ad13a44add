//! `cargo bench --bench check`: `synctl check` on synctl's own tree of a synthetic 1,000-cluster
//! × 100-component fleet (issue 22's bar: 2 s), on a hand-written Flux repository of about 500
//! objects (bar: 1 s: 40 Kustomizations with `dependsOn`, folders with and without a
//! kustomization, `namespace`, JSON 6902 and merge patches, `postBuild` substitution), and on
//! each real repository in `../shared/realtrees/` when it is there. Best and median of 5, release
//! build, trees on tmpfs when there is one.
#![allow(
    clippy::print_stdout,
    reason = "the bench prints its table to the terminal"
)]

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

/// Best and median of `RUNS` runs of `synctl check` with `args`; the status of the last.
fn check(args: &[&str]) -> (Duration, Duration, i32, usize) {
    let bin = env!("CARGO_BIN_EXE_synctl");
    let mut runs = Vec::new();
    let mut status = 0;
    let mut lines = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = Command::new(bin)
            .arg("check")
            .args(args)
            .output()
            .expect("run synctl");
        runs.push(start.elapsed());
        status = out.status.code().unwrap_or(-1);
        lines = String::from_utf8_lossy(&out.stdout).lines().count();
    }
    runs.sort();
    (runs[0], runs[RUNS / 2], status, lines)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn scratch() -> std::path::PathBuf {
    if Path::new("/dev/shm").is_dir() {
        "/dev/shm".into()
    } else {
        std::env::temp_dir()
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// A hand-written Flux repository: `flux bootstrap`'s entry `clusters/prod`, `infra` of
/// `kustomizations` Kustomizations each waiting for the one before, each applying a folder of
/// `per` objects (a `Namespace`, `Deployment`s, `Service`s, `ConfigMap`s), every other one through a
/// kustomization with `namespace` and a patch, substituted with the cluster's variables.
fn hand_written(dir: &Path, kustomizations: usize, per: usize) -> usize {
    write(
        dir,
        "clusters/prod/flux-system/gotk-sync.yaml",
        "# placeholder\n",
    );
    let mut entry = String::new();
    let mut objects = 0;
    for k in 0..kustomizations {
        let depends = if k == 0 {
            String::new()
        } else {
            format!("  dependsOn:\n    - name: app{}\n", k - 1)
        };
        let _ = write!(
            entry,
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app{k}\n  namespace: flux-system\nspec:\n  interval: 10m\n{depends}  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: ./apps/app{k}\n  prune: true\n  postBuild:\n    substitute:\n      DOMAIN: prod.example.com\n"
        );
        let mut folder = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app{k}\n");
        objects += 1;
        for o in 1..per {
            let _ = match o % 3 {
                0 => write!(
                    folder,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{o}\n  namespace: app{k}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: d{o}}}\n  template:\n    metadata:\n      labels: {{app: d{o}}}\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/app:1.{o}\n          env:\n            - {{name: HOST, value: \"d{o}.${{DOMAIN}}\"}}\n"
                ),
                1 => write!(
                    folder,
                    "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{o}\n  namespace: app{k}\nspec:\n  selector: {{app: d{o}}}\n  ports:\n    - port: 80\n"
                ),
                _ => write!(
                    folder,
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{o}\n  namespace: app{k}\ndata:\n  host: \"c{o}.${{DOMAIN}}\"\n"
                ),
            };
            objects += 1;
        }
        if k % 2 == 0 {
            write(dir, &format!("apps/app{k}/objects.yaml"), &folder);
        } else {
            write(dir, &format!("apps/app{k}/base/objects.yaml"), &folder);
            write(
                dir,
                &format!("apps/app{k}/base/kustomization.yaml"),
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - objects.yaml\n",
            );
            write(
                dir,
                &format!("apps/app{k}/kustomization.yaml"),
                &format!(
                    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: app{k}\nresources:\n  - ../app{k}/base\npatches:\n  - target: {{kind: ConfigMap, name: c2}}\n    patch: |\n      - op: add\n        path: /data/extra\n        value: \"yes\"\n"
                ),
            );
        }
    }
    write(dir, "clusters/prod/apps.yaml", &entry);
    objects + kustomizations
}

fn main() {
    let base = scratch();
    println!(
        "| tree | Kustomizations and objects | best | median | plan lines | exit |\n|---|---|---|---|---|---|"
    );
    let fleet = tempfile::tempdir_in(&base).unwrap();
    let spec = fleet.path().join("fleet.yaml");
    fs::write(&spec, synctl::synthetic::fleet(1000, 100)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_synctl"))
        .args(["generate", "-q", "-f", &spec.to_string_lossy()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = fleet.path().to_string_lossy().into_owned();
    let (best, median, status, lines) = check(&[&dir, "-f", &spec.to_string_lossy()]);
    println!(
        "| synctl's tree of 1000 × 100 | | {} | {} | {lines} | {status} |",
        ms(best),
        ms(median)
    );

    let hand = tempfile::tempdir_in(&base).unwrap();
    let objects = hand_written(hand.path(), 40, 12);
    let dir = hand.path().to_string_lossy().into_owned();
    let (best, median, status, lines) = check(&[&dir]);
    println!(
        "| hand-written, 40 Kustomizations | {objects} | {} | {} | {lines} | {status} |",
        ms(best),
        ms(median)
    );

    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realtrees");
    for name in [
        "d1-fleet",
        "flux2-kustomize-helm-example",
        "flux2-hub-spoke-example",
        "flux2-multi-tenancy",
    ] {
        let dir = real.join(name);
        if dir.is_dir() {
            let (best, median, status, lines) = check(&[&dir.to_string_lossy()]);
            println!(
                "| realtrees/{name} | | {} | {} | {lines} | {status} |",
                ms(best),
                ms(median)
            );
        }
    }
}
