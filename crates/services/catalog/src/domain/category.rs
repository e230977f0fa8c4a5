//! The category tree: parents, descendants, and the rule that it has no cycles.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// Every category id with its parent.
pub struct Tree {
    parent: HashMap<Uuid, Option<Uuid>>,
}

impl Tree {
    pub fn new(pairs: impl IntoIterator<Item = (Uuid, Option<Uuid>)>) -> Self {
        Self {
            parent: pairs.into_iter().collect(),
        }
    }

    pub fn contains(&self, id: Uuid) -> bool {
        self.parent.contains_key(&id)
    }

    /// `id` and every category below it.
    pub fn with_descendants(&self, id: Uuid) -> Vec<Uuid> {
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (child, parent) in &self.parent {
            if let Some(p) = parent {
                children.entry(*p).or_default().push(*child);
            }
        }
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            for child in children.get(&out[i]).into_iter().flatten() {
                if !out.contains(child) {
                    out.push(*child);
                }
            }
            i += 1;
        }
        out
    }

    /// Whether making `new_parent` the parent of `id` would put `id` below itself.
    pub fn would_cycle(&self, id: Uuid, new_parent: Uuid) -> bool {
        let mut seen = HashSet::new();
        let mut at = Some(new_parent);
        while let Some(current) = at {
            if current == id || !seen.insert(current) {
                return true;
            }
            at = self.parent.get(&current).copied().flatten();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_and_cycles() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let tree = Tree::new([(a, None), (b, Some(a)), (c, Some(b)), (d, None)]);
        let mut below_a = tree.with_descendants(a);
        below_a.sort();
        let mut expected = vec![a, b, c];
        expected.sort();
        assert_eq!(below_a, expected);
        assert_eq!(tree.with_descendants(d), vec![d]);
        assert!(tree.would_cycle(a, c), "a under its grandchild");
        assert!(tree.would_cycle(a, a));
        assert!(!tree.would_cycle(c, d));
    }
}
