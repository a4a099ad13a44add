//! The `dependsOn` graph of components: topological order (ties broken by wave, then name, so
//! output is deterministic), each component's depth inside its wave (its Argo CD sync wave is
//! the wave's base plus that depth), and the cycles, each as a full path. Linear in
//! components + edges, and iterative, so a 100,000-long chain neither slows nor overflows.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::model::{Component, Fleet, Ref};

/// The analysed graph.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Components in dependency order (dependencies first); cyclic ones are left out.
    pub order: Vec<usize>,
    /// Depth of each component among the dependencies of its own wave (0 = no such dependency).
    pub depth: Vec<u32>,
    /// Each cycle as the edges walked: `(component, the dependsOn entry leading to the next)`.
    pub cycles: Vec<Vec<(usize, Ref)>>,
}

impl Graph {
    /// Builds the graph of `fleet`'s components.
    #[must_use]
    pub fn build(fleet: &Fleet) -> Graph {
        build(&fleet.components)
    }

    /// Components of wave `wave` in dependency order.
    pub fn wave_order<'a>(
        &'a self,
        fleet: &'a Fleet,
        wave: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        self.order
            .iter()
            .copied()
            .filter(move |&c| fleet.components[c].wave == wave)
    }

    /// The Argo CD sync wave of component `c`: its wave's base plus its depth in the wave.
    #[must_use]
    pub fn sync_wave(&self, fleet: &Fleet, c: usize) -> i64 {
        let comp = &fleet.components[c];
        fleet.waves[comp.wave].base + i64::from(self.depth[c])
    }

    /// The deepest component depth of each wave.
    #[must_use]
    pub fn max_depth_per_wave(&self, fleet: &Fleet) -> Vec<u32> {
        let mut out = vec![0; fleet.waves.len()];
        for (c, comp) in fleet.components.iter().enumerate() {
            if let Some(slot) = out.get_mut(comp.wave) {
                *slot = (*slot).max(self.depth[c]);
            }
        }
        out
    }
}

fn build(components: &[Component]) -> Graph {
    let n = components.len();
    // Rank of each component by (wave, name): the tie-break of the topological sort.
    let mut by_name: Vec<usize> = (0..n).collect();
    by_name.sort_by(|&a, &b| {
        (components[a].wave, &components[a].name).cmp(&(components[b].wave, &components[b].name))
    });
    let mut rank = vec![0usize; n];
    for (r, &c) in by_name.iter().enumerate() {
        rank[c] = r;
    }

    let mut deps: Vec<Vec<usize>> = components
        .iter()
        .map(|c| {
            c.depends_on
                .iter()
                .map(|r| r.index)
                .filter(|&d| d < n)
                .collect()
        })
        .collect();
    for d in &mut deps {
        d.sort_unstable();
        d.dedup();
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending: Vec<usize> = vec![0; n];
    for (c, ds) in deps.iter().enumerate() {
        pending[c] = ds.len();
        for &d in ds {
            dependents[d].push(c);
        }
    }

    let mut heap: BinaryHeap<Reverse<(usize, usize)>> = (0..n)
        .filter(|&c| pending[c] == 0)
        .map(|c| Reverse((rank[c], c)))
        .collect();
    let mut order = Vec::with_capacity(n);
    let mut depth = vec![0u32; n];
    while let Some(Reverse((_, c))) = heap.pop() {
        order.push(c);
        depth[c] = deps[c]
            .iter()
            .filter(|&&d| components[d].wave == components[c].wave)
            .map(|&d| depth[d] + 1)
            .max()
            .unwrap_or(0);
        for &next in &dependents[c] {
            pending[next] -= 1;
            if pending[next] == 0 {
                heap.push(Reverse((rank[next], next)));
            }
        }
    }

    let cycles = if order.len() == n {
        Vec::new()
    } else {
        find_cycles(components, &pending, &by_name)
    };
    Graph {
        order,
        depth,
        cycles,
    }
}

/// Walks the components left over by the sort (each still waits on a left-over dependency)
/// and records every distinct cycle met, starting from the first name in order.
fn find_cycles(
    components: &[Component],
    pending: &[usize],
    by_name: &[usize],
) -> Vec<Vec<(usize, Ref)>> {
    let stuck = |c: usize| pending[c] > 0;
    let mut seen = vec![false; components.len()];
    let mut on_path: Vec<Option<usize>> = vec![None; components.len()];
    let mut cycles = Vec::new();
    for &start in by_name.iter().filter(|&&c| stuck(c)) {
        if seen[start] {
            continue;
        }
        let mut path: Vec<(usize, Ref)> = Vec::new();
        let mut cur = start;
        loop {
            if let Some(pos) = on_path[cur] {
                cycles.push(path[pos..].to_vec());
                break;
            }
            if seen[cur] {
                break;
            }
            seen[cur] = true;
            let Some(edge) = components[cur].depends_on.iter().find(|r| stuck(r.index)) else {
                break;
            };
            on_path[cur] = Some(path.len());
            path.push((cur, *edge));
            cur = edge.index;
        }
        for (c, _) in &path {
            on_path[*c] = None;
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentSource, Knobs};
    use crate::spec::source::Span;
    use std::collections::BTreeMap;

    fn comp(name: &str, wave: usize, deps: &[usize]) -> Component {
        Component {
            name: name.to_owned(),
            span: Span::default(),
            wave,
            wave_known: true,
            namespace_written: false,
            namespace: name.to_owned(),
            namespace_span: Span::default(),
            source: ComponentSource::Path(String::new()),
            source_span: Span::default(),
            values: serde_json::Value::Null,
            values_span: Span::default(),
            values_tree: None,
            depends_on: deps
                .iter()
                .map(|&index| Ref {
                    index,
                    span: Span::new(index, 1),
                })
                .collect(),
            clusters: Vec::new(),
            placement_span: Span::default(),
            environments: BTreeMap::default(),
            provides: Vec::new(),
            requires: Vec::new(),
            knobs: Knobs::default(),
        }
    }

    fn names(cs: &[Component], order: &[usize]) -> Vec<String> {
        order.iter().map(|&i| cs[i].name.clone()).collect()
    }

    #[test]
    fn order_puts_dependencies_first_and_breaks_ties_by_wave_then_name() {
        let cs = vec![
            comp("zeta", 0, &[]),
            comp("alpha", 1, &[0]),
            comp("beta", 0, &[]),
            comp("gamma", 1, &[1]),
        ];
        let g = build(&cs);
        assert_eq!(names(&cs, &g.order), ["beta", "zeta", "alpha", "gamma"]);
        assert_eq!(g.depth, vec![0, 0, 0, 1]);
        assert!(g.cycles.is_empty());
    }

    #[test]
    fn a_three_cycle_is_reported_once_as_a_full_path() {
        let cs = vec![
            comp("a", 0, &[1]),
            comp("b", 0, &[2]),
            comp("c", 0, &[0]),
            comp("d", 0, &[0]),
        ];
        let g = build(&cs);
        assert_eq!(g.cycles.len(), 1);
        let walked: Vec<&str> = g.cycles[0]
            .iter()
            .map(|(c, _)| cs[*c].name.as_str())
            .collect();
        assert_eq!(walked, ["a", "b", "c"]);
        assert!(g.order.is_empty());
    }

    #[test]
    fn two_separate_cycles_are_both_found() {
        let cs = vec![
            comp("a", 0, &[1]),
            comp("b", 0, &[0]),
            comp("c", 0, &[3]),
            comp("d", 0, &[2]),
        ];
        assert_eq!(build(&cs).cycles.len(), 2);
    }

    #[test]
    fn self_dependency_is_a_cycle() {
        let cs = vec![comp("a", 0, &[0])];
        let g = build(&cs);
        assert_eq!(g.cycles.len(), 1);
        assert_eq!(g.cycles[0].len(), 1);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let cs: Vec<Component> = (0..200_000)
            .map(|i| comp(&format!("c{i:06}"), 0, &[]))
            .enumerate()
            .map(|(i, mut c)| {
                if i > 0 {
                    c.depends_on.push(Ref {
                        index: i - 1,
                        span: Span::default(),
                    });
                }
                c
            })
            .collect();
        let g = build(&cs);
        assert_eq!(g.order.len(), 200_000);
        assert_eq!(g.depth[199_999], 199_999);
    }

    #[test]
    fn depth_counts_only_dependencies_in_the_same_wave() {
        let cs = vec![comp("a", 0, &[]), comp("b", 1, &[0]), comp("c", 1, &[1, 0])];
        let g = build(&cs);
        assert_eq!(g.depth, vec![0, 0, 1]);
    }
}
