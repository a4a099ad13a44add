//! `cargo bench --bench generate`: `synctl generate` on synthetic fleets of 10, 100 and 1,000
//! clusters × 100 components, into an empty folder and into an up-to-date one, next to the
//! floor — the time to merely write the same files. Also `validate` of a 100,000-component
//! chain. Peak memory comes from `/usr/bin/time -f %M` when it is installed.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn synctl(args: &[&str]) -> (Duration, Option<u64>) {
    let bin = env!("CARGO_BIN_EXE_synctl");
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let start = Instant::now();
    let out = cmd.args(args).arg("-q").output().expect("run synctl");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kb = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok());
    (took, kb)
}

fn best<T>(runs: impl Iterator<Item = (Duration, T)>) -> (Duration, T) {
    runs.min_by_key(|(d, _)| *d).expect("at least one run")
}

fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.file_name() != "fleet.yaml")
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn write_floor(files: &[(std::path::PathBuf, Vec<u8>)]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    for (rel, bytes) in files {
        let p = dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
    start.elapsed()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    println!(
        "| clusters × components | files | MiB | empty folder | up to date | write floor | × floor | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for clusters in [10, 100, 1000] {
        let spec_dir = tempfile::tempdir().unwrap();
        let spec = spec_dir.path().join("fleet.yaml");
        fs::write(&spec, synctl::synthetic::fleet(clusters, 100)).unwrap();
        let spec_s = spec.to_string_lossy().into_owned();
        let (empty, rss) = best((0..RUNS).map(|_| {
            let out = tempfile::tempdir().unwrap();
            synctl(&[
                "generate",
                "-f",
                &spec_s,
                "-o",
                &out.path().to_string_lossy(),
            ])
        }));
        let out = tempfile::tempdir().unwrap();
        let out_s = out.path().to_string_lossy().into_owned();
        synctl(&["generate", "-f", &spec_s, "-o", &out_s]);
        let (uptodate, _) =
            best((0..RUNS).map(|_| synctl(&["generate", "-f", &spec_s, "-o", &out_s])));
        let written = files(out.path());
        let bytes: usize = written.iter().map(|(_, b)| b.len()).sum();
        let floor = (0..RUNS).map(|_| write_floor(&written)).min().unwrap();
        println!(
            "| {clusters} × 100 | {} | {:.1} | {} | {} | {} | {:.1} | {} |",
            written.len(),
            bytes as f64 / 1048576.0,
            ms(empty),
            ms(uptodate),
            ms(floor),
            empty.as_secs_f64() / floor.as_secs_f64(),
            rss.map_or("n/a".to_owned(), |kb| format!("{} MiB", kb / 1024)),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("fleet.yaml");
    fs::write(&chain, synctl::synthetic::chain(100_000)).unwrap();
    let (took, rss) =
        best((0..RUNS).map(|_| synctl(&["validate", "-f", &chain.to_string_lossy()])));
    println!(
        "\nvalidate, 100,000-component chain: {} (peak RSS {})",
        ms(took),
        rss.map_or("n/a".to_owned(), |kb| format!("{} MiB", kb / 1024))
    );
}
