//! The valid_policy_tree of RFC 5280 §6.1, with a bound on its size (a crafted chain
//! can otherwise make it grow exponentially: CVE-2023-0464).

use std::collections::BTreeSet;

/// anyPolicy.
pub(crate) const ANY_POLICY: &str = "2.5.29.32.0";

/// Most nodes the tree may hold.
const MAX_NODES: usize = 10_000;

#[derive(Debug, Clone)]
struct Node {
    policy: String,
    expected: BTreeSet<String>,
    parent: Option<usize>,
    depth: usize,
    alive: bool,
}

/// The policy tree; `None` inside [`PolicyTree::nodes`] means the tree is NULL.
#[derive(Debug, Clone)]
pub(crate) struct PolicyTree {
    nodes: Option<Vec<Node>>,
}

/// The tree grew past its bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooLarge;

impl PolicyTree {
    /// The initial tree: one anyPolicy node at depth 0.
    pub(crate) fn new() -> Self {
        let root = Node {
            policy: ANY_POLICY.into(),
            expected: BTreeSet::from([ANY_POLICY.to_owned()]),
            parent: None,
            depth: 0,
            alive: true,
        };
        Self {
            nodes: Some(vec![root]),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        self.nodes.is_none()
    }

    pub(crate) fn make_null(&mut self) {
        self.nodes = None;
    }

    fn at_depth(nodes: &[Node], depth: usize) -> impl Iterator<Item = usize> + '_ {
        nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.alive && n.depth == depth)
            .map(|(i, _)| i)
    }

    fn push(nodes: &mut Vec<Node>, node: Node) -> Result<(), TooLarge> {
        if nodes.len() >= MAX_NODES {
            return Err(TooLarge);
        }
        nodes.push(node);
        Ok(())
    }

    /// RFC 5280 §6.1.3 (d) for certificate `depth` (1-based) with these policies;
    /// `any_allowed` is whether anyPolicy in the certificate is honoured (inhibit_anyPolicy
    /// is positive, or the certificate is self-issued and not the last).
    pub(crate) fn process(
        &mut self,
        depth: usize,
        policies: &[String],
        any_allowed: bool,
    ) -> Result<(), TooLarge> {
        let Some(nodes) = self.nodes.as_mut() else {
            return Ok(());
        };
        let parents: Vec<usize> = Self::at_depth(nodes, depth - 1).collect();
        // (d)(1)
        for p in policies.iter().filter(|p| *p != ANY_POLICY) {
            let matching: Vec<usize> = parents
                .iter()
                .copied()
                .filter(|&i| nodes[i].expected.contains(p))
                .collect();
            let chosen = if matching.is_empty() {
                parents
                    .iter()
                    .copied()
                    .filter(|&i| nodes[i].policy == ANY_POLICY)
                    .collect()
            } else {
                matching
            };
            for parent in chosen {
                let node = Node {
                    policy: p.clone(),
                    expected: BTreeSet::from([p.clone()]),
                    parent: Some(parent),
                    depth,
                    alive: true,
                };
                Self::push(nodes, node)?;
            }
        }
        // (d)(2)
        if any_allowed && policies.iter().any(|p| p == ANY_POLICY) {
            for &parent in &parents {
                let children: BTreeSet<String> = nodes
                    .iter()
                    .filter(|n| n.alive && n.parent == Some(parent))
                    .map(|n| n.policy.clone())
                    .collect();
                let missing: Vec<String> = nodes[parent]
                    .expected
                    .iter()
                    .filter(|e| !children.contains(*e))
                    .cloned()
                    .collect();
                for value in missing {
                    let node = Node {
                        policy: value.clone(),
                        expected: BTreeSet::from([value]),
                        parent: Some(parent),
                        depth,
                        alive: true,
                    };
                    Self::push(nodes, node)?;
                }
            }
        }
        // (d)(3)
        self.prune(depth);
        Ok(())
    }

    /// Deletes, repeatedly, nodes above `depth` that have no children; a tree left
    /// without its root is NULL.
    fn prune(&mut self, depth: usize) {
        let Some(nodes) = self.nodes.as_mut() else {
            return;
        };
        for d in (0..depth).rev() {
            let with_children: std::collections::HashSet<usize> = nodes
                .iter()
                .filter(|n| n.alive)
                .filter_map(|n| n.parent)
                .collect();
            for (i, node) in nodes.iter_mut().enumerate() {
                if node.alive && node.depth == d && !with_children.contains(&i) {
                    node.alive = false;
                }
            }
        }
        if !nodes.first().is_some_and(|root| root.alive) {
            self.nodes = None;
        }
    }

    fn kill_subtree(nodes: &mut [Node], root: usize) {
        nodes[root].alive = false;
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..nodes.len() {
                if nodes[i].alive && nodes[i].parent.is_some_and(|p| !nodes[p].alive) {
                    nodes[i].alive = false;
                    changed = true;
                }
            }
        }
    }

    /// RFC 5280 §6.1.4 (b) for the certificate at `depth`: apply its policy mappings
    /// (`mapping_allowed` is policy_mapping > 0).
    pub(crate) fn map(
        &mut self,
        depth: usize,
        mappings: &[(String, String)],
        mapping_allowed: bool,
    ) -> Result<(), TooLarge> {
        let Some(nodes) = self.nodes.as_mut() else {
            return Ok(());
        };
        let issuer_policies: BTreeSet<&String> = mappings.iter().map(|(i, _)| i).collect();
        for id_p in issuer_policies {
            let mapped: BTreeSet<String> = mappings
                .iter()
                .filter(|(i, _)| i == id_p)
                .map(|(_, s)| s.clone())
                .collect();
            let with_p: Vec<usize> = Self::at_depth(nodes, depth)
                .filter(|&i| nodes[i].policy == *id_p)
                .collect();
            if mapping_allowed {
                if with_p.is_empty() {
                    let any = Self::at_depth(nodes, depth).find(|&i| nodes[i].policy == ANY_POLICY);
                    if let Some(parent) = any.and_then(|i| nodes[i].parent) {
                        let node = Node {
                            policy: id_p.clone(),
                            expected: mapped,
                            parent: Some(parent),
                            depth,
                            alive: true,
                        };
                        Self::push(nodes, node)?;
                    }
                } else {
                    for i in with_p {
                        nodes[i].expected = mapped.clone();
                    }
                }
            } else {
                for i in with_p {
                    Self::kill_subtree(nodes, i);
                }
            }
        }
        if !mapping_allowed {
            self.prune(depth);
        }
        Ok(())
    }

    /// RFC 5280 §6.1.5 (g): intersects the tree with the user's initial policy set
    /// (empty = any-policy) and returns the valid policies of the path (the
    /// valid_policy values at depth `n`), or `None` for a NULL tree.
    pub(crate) fn intersect(
        &mut self,
        n: usize,
        user_initial: &[String],
    ) -> Result<Option<BTreeSet<String>>, TooLarge> {
        let any_user = user_initial.is_empty() || user_initial.iter().any(|p| p == ANY_POLICY);
        if !any_user && let Some(nodes) = self.nodes.as_mut() {
            // (iii)(1): nodes whose parent is an anyPolicy node.
            let valid_set: Vec<usize> = (0..nodes.len())
                .filter(|&i| {
                    nodes[i].alive
                        && nodes[i]
                            .parent
                            .is_some_and(|p| nodes[p].policy == ANY_POLICY)
                })
                .collect();
            // (iii)(2)
            for &i in &valid_set {
                if nodes[i].alive
                    && nodes[i].policy != ANY_POLICY
                    && !user_initial.contains(&nodes[i].policy)
                {
                    Self::kill_subtree(nodes, i);
                }
            }
            // (iii)(3)
            let any_leaf = Self::at_depth(nodes, n).find(|&i| nodes[i].policy == ANY_POLICY);
            if let Some(leaf) = any_leaf {
                let present: BTreeSet<String> = valid_set
                    .iter()
                    .filter(|&&i| nodes[i].alive)
                    .map(|&i| nodes[i].policy.clone())
                    .collect();
                let parent = nodes[leaf].parent;
                for p in user_initial.iter().filter(|p| !present.contains(*p)) {
                    let node = Node {
                        policy: p.clone(),
                        expected: BTreeSet::from([p.clone()]),
                        parent,
                        depth: n,
                        alive: true,
                    };
                    Self::push(nodes, node)?;
                }
                nodes[leaf].alive = false;
            }
            // (iii)(4)
            self.prune(n);
        }
        Ok(self.nodes.as_ref().map(|nodes| {
            Self::at_depth(nodes, n)
                .map(|i| nodes[i].policy.clone())
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn simple_chain_keeps_common_policy() {
        let mut t = PolicyTree::new();
        t.process(1, &s(&["1.1", "1.2"]), true).unwrap();
        t.process(2, &s(&["1.1"]), true).unwrap();
        assert_eq!(
            t.intersect(2, &[]).unwrap(),
            Some(BTreeSet::from(["1.1".to_owned()]))
        );
        let mut t2 = t.clone();
        assert_eq!(t2.intersect(2, &s(&["1.2"])).unwrap(), None);
    }

    #[test]
    fn disjoint_policies_null_the_tree() {
        let mut t = PolicyTree::new();
        t.process(1, &s(&["1.1"]), true).unwrap();
        t.process(2, &s(&["1.2"]), true).unwrap();
        assert!(t.is_null());
    }

    #[test]
    fn mapping_renames_expected_policy() {
        let mut t = PolicyTree::new();
        t.process(1, &s(&["1.1"]), true).unwrap();
        t.map(1, &[("1.1".into(), "2.2".into())], true).unwrap();
        t.process(2, &s(&["2.2"]), true).unwrap();
        assert_eq!(
            t.intersect(2, &s(&["1.1"])).unwrap(),
            Some(BTreeSet::from(["2.2".to_owned()]))
        );
    }

    #[test]
    fn growth_is_bounded() {
        // Every certificate asserting many policies and mapping each to all others
        // would grow the tree exponentially; it stops with TooLarge instead.
        let policies: Vec<String> = (0..40).map(|i| format!("1.{i}")).collect();
        let mappings: Vec<(String, String)> = policies
            .iter()
            .flat_map(|a| policies.iter().map(move |b| (a.clone(), b.clone())))
            .collect();
        let mut t = PolicyTree::new();
        let mut result = Ok(());
        for depth in 1..10 {
            result = t
                .process(depth, &policies, true)
                .and_then(|()| t.map(depth, &mappings, true));
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(TooLarge));
    }
}
