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

    /// A one-line field (a name, a label, an address line): trimmed, `min..=max`
    /// characters, and free of control characters (newline and tab included), bidi
    /// embeddings, overrides and isolates, line separators and the byte-order mark.
    /// Those are invisible or reorder what readers see, so a product or a recipient
    /// name that carries one can pass for another.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> Option<String> {
        let trimmed = self.bounded(field, value, min, max)?;
        if let Some(bad) = trimmed.chars().find(|c| is_invisible_or_reordering(*c)) {
            self.add(field, refusal_of(bad));
            return None;
        }
        Some(trimmed)
    }

    /// A multi-line field (a description, a review): as [`Fields::text`], but newlines
    /// and tabs are allowed. CRLF is stored as LF, so a browser's text area passes and
    /// lengths count what readers see.
    pub fn multiline(
        &mut self,
        field: &str,
        value: &str,
        min: usize,
        max: usize,
    ) -> Option<String> {
        let normalized = value.replace("\r\n", "\n");
        let trimmed = self.bounded(field, &normalized, min, max)?;
        if let Some(bad) = trimmed
            .chars()
            .find(|c| *c != '\n' && *c != '\t' && is_invisible_or_reordering(*c))
        {
            self.add(field, refusal_of(bad));
            return None;
        }
        Some(trimmed)
    }

    /// Trims and checks the length in characters; an empty required text fails.
    fn bounded(&mut self, field: &str, value: &str, min: usize, max: usize) -> Option<String> {
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
        } else {
            Some(trimmed.to_owned())
        }
    }

    /// Checks a count (stock, a quantity, an adjustment's size) against
    /// `0..=`[`MAX_COUNT`]; negative values are refused unless `signed`.
    pub fn count(&mut self, field: &str, value: i64, signed: bool) -> Option<i64> {
        if !signed && value < 0 {
            self.add(field, "must not be negative");
            None
        } else if value.unsigned_abs() > MAX_COUNT as u64 {
            self.add(field, format!("must be at most {MAX_COUNT} in size"));
            None
        } else {
            Some(value)
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

/// The largest count the shop accepts anywhere: units in stock, an adjustment, units
/// ordered or sold. A billion is beyond any shop's shelf and far inside every integer
/// column and sum the shop keeps, so no arithmetic on counts can overflow.
pub const MAX_COUNT: i64 = 1_000_000_000;

/// Whether a character is invisible or changes the order text is displayed in: control
/// characters, bidi embeddings, overrides, isolates and marks, zero-width joiners and
/// spaces, line and paragraph separators and the byte-order mark.
pub fn is_invisible_or_reordering(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

fn refusal_of(c: char) -> String {
    match c {
        '\n' | '\r' => "must be a single line".into(),
        c if c.is_control() => "must not contain control characters".into(),
        c => format!(
            "must not contain invisible or direction-changing characters (U+{:04X})",
            u32::from(c)
        ),
    }
}

/// ISO 4217 currency codes in use (the active list, without funds, metals and testing
/// codes), so a typo like `USB` or a made-up `XYZ` is refused rather than stored.
pub const CURRENCY_CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// An ISO 4217 currency code in use, upper-cased (`idr` is `IDR`).
pub fn parse_currency(raw: &str) -> Result<String, String> {
    let c = raw.trim().to_ascii_uppercase();
    if c.len() == 3 && CURRENCY_CODES.split(' ').any(|known| known == c) {
        Ok(c)
    } else {
        Err("must be an ISO 4217 currency code in use, like USD, EUR or IDR".into())
    }
}

/// ISO 3166-1 alpha-2 codes currently assigned.
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && COUNTRY_CODES.split(' ').any(|c| c == code)
}

/// ISO 3166-1 alpha-2 codes currently assigned, space-separated.
pub const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

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

    #[test]
    fn one_line_text_refuses_what_hides_or_reorders_it() {
        for bad in [
            "Ann\nSmith",
            "Ann\tSmith",
            "Ann\rSmith",
            "evil\u{202E}gnp.exe",
            "\u{FEFF}Ann",
            "An\u{200B}n",
            "Ann\u{2066}x\u{2069}",
            "Ann\u{2028}Smith",
        ] {
            let mut f = Fields::new();
            assert!(f.text("name", bad, 1, 40).is_none(), "{bad:?} accepted");
            assert!(f.finish().is_err());
        }
        let mut f = Fields::new();
        assert_eq!(
            f.text("name", "Zoë Ødegård 李", 1, 40).as_deref(),
            Some("Zoë Ødegård 李")
        );
        assert_eq!(
            f.text("name", "مرحبا بالعالم", 1, 40).as_deref(),
            Some("مرحبا بالعالم")
        );
        assert!(f.finish().is_ok());
    }

    #[test]
    fn multi_line_text_keeps_lines_and_tabs_only() {
        let mut f = Fields::new();
        assert_eq!(
            f.multiline("body", "first\r\nsecond\tend", 0, 100)
                .as_deref(),
            Some("first\nsecond\tend")
        );
        assert!(f.multiline("body", "a\u{7}b", 0, 100).is_none());
        assert!(f.multiline("body", "a\u{202D}b", 0, 100).is_none());
        assert!(f.finish().is_err());
    }

    #[test]
    fn counts_are_bounded_by_a_billion() {
        let mut f = Fields::new();
        assert_eq!(f.count("on_hand", MAX_COUNT, false), Some(MAX_COUNT));
        assert_eq!(f.count("adjust_by", -MAX_COUNT, true), Some(-MAX_COUNT));
        assert!(f.is_empty());
        assert_eq!(f.count("on_hand", i64::MAX, false), None);
        assert_eq!(f.count("on_hand", -1, false), None);
        assert_eq!(f.count("adjust_by", i64::MIN, true), None);
        assert!(f.finish().is_err());
    }

    #[test]
    fn only_currencies_in_use_are_accepted() {
        assert_eq!(parse_currency(" idr ").unwrap(), "IDR");
        assert_eq!(parse_currency("EUR").unwrap(), "EUR");
        for bad in ["XYZ", "USB", "US", "EURO", "", "XAU", "XTS"] {
            assert!(parse_currency(bad).is_err(), "{bad:?} accepted");
        }
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
