//! NATS subject wildcard matching, so the embedded bus filters exactly like JetStream.

/// `*` matches one token, `>` matches one or more trailing tokens.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for f in filter.split('.') {
        match (f, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (f, Some(s)) if f == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn wildcards_follow_nats_rules() {
        assert!(subject_matches(
            "identity.>",
            "identity.customer.registered.v1"
        ));
        assert!(!subject_matches("identity.>", "identity"));
        assert!(subject_matches(
            "identity.customer.*.v1",
            "identity.customer.verified.v1"
        ));
        assert!(!subject_matches(
            "identity.customer.*.v1",
            "identity.staff.created.v1"
        ));
        assert!(!subject_matches(
            "identity.customer",
            "identity.customer.verified.v1"
        ));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches(
            "catalog.>",
            "identity.customer.verified.v1"
        ));
    }
}
