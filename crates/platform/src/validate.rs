//! Field validation that collects every problem before answering, so a client fixes a
//! form in one round trip. Parsers for values several services accept live here too.

use crate::error::{ApiError, FieldError};

/// Collects per-field errors; `finish` turns them into one 422.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Records the error of a fallible parse and returns the value when it succeeded.
    pub fn parse<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(msg) => {
                self.add(field, msg);
                None
            }
        }
    }

    /// Trims `value` and checks its length in characters; an empty required text fails.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> Option<String> {
        let trimmed = value.trim();
        let len = trimmed.chars().count();
        if len < min {
            self.add(
                field,
                if min <= 1 {
                    "must not be empty".into()
                } else {
                    format!("must be at least {min} characters")
                },
            );
            None
        } else if len > max {
            self.add(field, format!("must be at most {max} characters"));
            None
        } else if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.add(field, "must not contain control characters");
            None
        } else {
            Some(trimmed.to_owned())
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// ISO 4217: three upper-case letters.
pub fn parse_currency(raw: &str) -> Result<String, String> {
    let c = raw.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err("must be an ISO 4217 currency code like USD or IDR".into())
    }
}

/// ISO 3166-1 alpha-2 codes currently assigned.
pub fn is_country_code(code: &str) -> bool {
    const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";
    code.len() == 2 && CODES.split(' ').any(|c| c == code)
}

/// Parses an email address into its canonical form: trimmed and lower-cased. The local
/// part is case-sensitive in theory; no mail provider treats it so, and treating
/// `Ann@x.com` and `ann@x.com` as two accounts would only help impostors.
///
/// Deliberately simple: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces, at most 254 characters. Whether the address really
/// receives mail is what verification is for.
pub fn parse_email(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err("must be an email address like name@example.com".into());
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !local_ok || !domain_ok {
        return Err("must be an email address like name@example.com".into());
    }
    Ok(s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_canonicalised_and_bad_ones_refused() {
        assert_eq!(
            parse_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@exa_mple.com",
            "ann@@example.com",
            "ann@-x.com",
            "a..b@example.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut f = Fields::new();
        assert_eq!(f.text("name", "  Ann  ", 1, 10).as_deref(), Some("Ann"));
        assert!(f.text("name", "   ", 1, 10).is_none());
        assert!(f.text("name", "abcdefghijk", 1, 10).is_none());
        assert!(f.text("name", "a\u{0}b", 1, 10).is_none());
        assert!(f.finish().is_err());
    }

    proptest! {
        #[test]
        fn parse_email_never_panics_and_accepts_its_own_output(s in "\\PC{0,80}") {
            if let Ok(canon) = parse_email(&s) {
                prop_assert_eq!(parse_email(&canon).unwrap(), canon);
            }
        }
    }
}
