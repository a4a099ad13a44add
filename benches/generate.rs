//! `cargo bench --bench generate`: `synctl generate` on synthetic fleets of 10, 100 and 1,000
//! clusters × 100 components and 1,000 to 8,000 clusters × 20 (the per-cluster cost shows the
//! scaling), into an empty folder and into an up-to-date one, each next to its floor: a
//! temporary file and a rename per file (what synctl does) for the empty folder, reading and
//! comparing every file for the up-to-date one. Also `validate` of a 100,000-component chain,
//! and of `examples/cortex` with its committed tree (median of 51: the pre-commit hook's case).
//! Trees go to tmpfs (`/dev/shm`) when there is one, so the disk's file-creation cost does not
//! hide synctl's own; the bench prints which filesystem it used. Peak memory comes from
//! `/usr/bin/time -f %M` when it is installed.
#![expect(
    clippy::cast_precision_loss,
    reason = "sizes and times printed in a table, to one decimal"
)]
#![allow(
    clippy::print_stdout,
    reason = "the bench prints its table to the terminal"
)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
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

/// Where the trees go: `/dev/shm` when it is a tmpfs, else the system's temporary folder.
fn scratch() -> (std::path::PathBuf, String) {
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let fs_of = |dir: &str| {
        mounts
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (_, at, kind) = (f.next()?, f.next()?, f.next()?);
                dir.starts_with(at).then(|| (at.len(), kind.to_owned()))
            })
            .max()
            .map_or_else(|| "unknown".to_owned(), |(_, kind)| kind)
    };
    if fs_of("/dev/shm") == "tmpfs" {
        return ("/dev/shm".into(), "tmpfs (/dev/shm)".to_owned());
    }
    let tmp = std::env::temp_dir();
    let kind = fs_of(&tmp.to_string_lossy());
    (tmp.clone(), format!("{kind} ({})", tmp.display()))
}

fn tempdir(base: &Path) -> tempfile::TempDir {
    tempfile::tempdir_in(base).unwrap()
}

/// A temporary file and a rename per file, as synctl writes: the floor of an empty folder.
fn write_floor(base: &Path, files: &[(std::path::PathBuf, Vec<u8>)]) -> Duration {
    let dir = tempdir(base);
    let start = Instant::now();
    for (rel, bytes) in files {
        let p = dir.path().join(rel);
        let parent = p.parent().unwrap();
        fs::create_dir_all(parent).unwrap();
        let tmp = parent.join(format!(
            ".{}.tmp",
            rel.file_name().unwrap().to_string_lossy()
        ));
        fs::write(&tmp, bytes).unwrap();
        fs::rename(&tmp, &p).unwrap();
    }
    start.elapsed()
}

/// Reading every file and comparing it: the floor of an up-to-date tree.
fn compare_floor(dir: &Path, files: &[(std::path::PathBuf, Vec<u8>)]) -> Duration {
    let start = Instant::now();
    let same = files
        .iter()
        .all(|(rel, bytes)| fs::read(dir.join(rel)).is_ok_and(|b| b == *bytes));
    assert!(same);
    start.elapsed()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let (base, fs_name) = scratch();
    validate_cortex();
    println!("trees on {fs_name}\n");
    println!(
        "| clusters × components | files | MiB | empty folder | temp+rename floor | × | up to date | compare floor | × | per cluster (empty) | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (clusters, components) in [
        (10, 100),
        (100, 100),
        (1000, 100),
        (1000, 20),
        (2000, 20),
        (4000, 20),
        (8000, 20),
    ] {
        tree_row(&base, clusters, components);
    }
    validate_chain(&base);
}

/// `validate` of the cortex example, the pre-commit hook's case.
fn validate_cortex() {
    // The pre-commit hook's case, first (before the large runs disturb the machine): a real
    // spec with its committed tree (read only), without /usr/bin/time, which adds its own
    // start-up to a run this short.
    let cortex = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cortex/fleet.yaml");
    let runs: Vec<Duration> = (0..51)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_synctl"))
                .args(["validate", "-q", "-f", cortex])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run synctl");
            assert!(status.success());
            start.elapsed()
        })
        .collect();
    let (median, least) = median_and_min(runs);
    println!(
        "validate examples/cortex with its tree: median of 51 {:.2} ms, best {:.2} ms\n",
        median.as_secs_f64() * 1e3,
        least.as_secs_f64() * 1e3
    );
}

/// One row of the trees table: `generate` of a synthetic fleet into an empty folder and into
/// an up-to-date one, next to their floors.
fn tree_row(base: &Path, clusters: usize, components: usize) {
    let spec_dir = tempdir(base);
    let spec = spec_dir.path().join("fleet.yaml");
    fs::write(&spec, synctl::synthetic::fleet(clusters, components)).unwrap();
    let spec_s = spec.to_string_lossy().into_owned();
    let (empty, rss) = best((0..RUNS).map(|_| {
        let out = tempdir(base);
        synctl(&[
            "generate",
            "-f",
            &spec_s,
            "-o",
            &out.path().to_string_lossy(),
        ])
    }));
    let out = tempdir(base);
    let out_s = out.path().to_string_lossy().into_owned();
    synctl(&["generate", "-f", &spec_s, "-o", &out_s]);
    let (uptodate, _) = best((0..RUNS).map(|_| synctl(&["generate", "-f", &spec_s, "-o", &out_s])));
    let written = files(out.path());
    let bytes: usize = written.iter().map(|(_, b)| b.len()).sum();
    let floor = (0..RUNS)
        .map(|_| write_floor(base, &written))
        .min()
        .unwrap();
    let cmp = (0..RUNS)
        .map(|_| compare_floor(out.path(), &written))
        .min()
        .unwrap();
    println!(
        "| {clusters} × {components} | {} | {:.1} | {} | {} | {:.1} | {} | {} | {:.1} | {:.0} µs | {} |",
        written.len(),
        bytes as f64 / 1_048_576.0,
        ms(empty),
        ms(floor),
        empty.as_secs_f64() / floor.as_secs_f64(),
        ms(uptodate),
        ms(cmp),
        uptodate.as_secs_f64() / cmp.as_secs_f64(),
        empty.as_secs_f64() * 1e6 / clusters as f64,
        rss.map_or("n/a".to_owned(), |kb| format!("{} MiB", kb / 1024)),
    );
}

/// `validate` of a 100,000-component chain.
fn validate_chain(base: &Path) {
    let dir = tempdir(base);
    let chain = dir.path().join("fleet.yaml");
    fs::write(&chain, synctl::synthetic::chain(100_000)).unwrap();
    let runs: Vec<(Duration, Option<u64>)> = (0..RUNS)
        .map(|_| synctl(&["validate", "-f", &chain.to_string_lossy()]))
        .collect();
    let rss = runs.iter().filter_map(|(_, kb)| *kb).max();
    let (median, least) = median_and_min(runs.into_iter().map(|(d, _)| d).collect());
    println!(
        "\nvalidate, 100,000-component chain: median of {RUNS} {}, best {} (peak RSS {})",
        ms(median),
        ms(least),
        rss.map_or("n/a".to_owned(), |kb| format!("{} MiB", kb / 1024))
    );
}

fn median_and_min(mut runs: Vec<Duration>) -> (Duration, Duration) {
    runs.sort();
    (runs[runs.len() / 2], runs[0])
}
