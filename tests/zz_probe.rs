#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[test]
#[ignore]
fn probe() {
    use std::time::Instant;
    let text = std::fs::read_to_string("/tmp/perf/chain.yaml").unwrap();
    let t = Instant::now();
    let src = synctl::spec::source::Source::new("f", text);
    let root = synctl::spec::yaml::parse(&src).unwrap();
    eprintln!("parse {:?}", t.elapsed());
    let t = Instant::now();
    let json = root.to_json();
    eprintln!("to_json {:?}", t.elapsed());
    let t = Instant::now();
    let p = synctl::spec::schema::check(&root, &json);
    eprintln!("schema {:?} {}", t.elapsed(), p.len());
    let t = Instant::now();
    let raw: synctl::spec::raw::Fleet = serde_json::from_value(json).unwrap();
    eprintln!("serde {:?}", t.elapsed());
    let loaded = synctl::spec::Loaded {
        source: src,
        root,
        raw,
    };
    let t = Instant::now();
    let (fleet, _) = synctl::model::build(&loaded);
    eprintln!("model {:?}", t.elapsed());
    let t = Instant::now();
    let g = synctl::graph::Graph::build(&fleet);
    eprintln!("graph {:?}", t.elapsed());
    let t = Instant::now();
    let p = synctl::check::check(&fleet, &g, &loaded.root, None);
    eprintln!("check {:?} {}", t.elapsed(), p.len());
    std::mem::forget(loaded);
}
