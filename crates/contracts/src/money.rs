//! Money as people read it. Amounts travel as integer minor units with an ISO 4217
//! code (`1250` `USD`); this turns them into text with the currency's own number of
//! decimals, by integer arithmetic only.

/// An amount in minor units as people read it (mails, pages): the currency code, then the amount with as
/// many decimals as the currency has (`USD 12.50`, `JPY 1250`, `KWD 1.250`,
/// `EUR -3.05`). Integer arithmetic only, so nothing is ever rounded.
pub fn display(minor_units: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    let sign = if minor_units < 0 { "-" } else { "" };
    // `unsigned_abs`, because `i64::MIN` has no positive `i64`.
    let units = minor_units.unsigned_abs();
    match decimals(&code) {
        0 => format!("{code} {sign}{units}"),
        decimals => {
            let per_major = 10_u64.pow(decimals);
            let (major, minor) = (units / per_major, units % per_major);
            let width = decimals as usize;
            format!("{code} {sign}{major}.{minor:0width$}")
        }
    }
}

/// How many of an amount's digits are minor units (the ISO 4217 exponent): two, unless
/// the currency has none or three.
pub fn decimals(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shows_two_decimals_by_default() {
        assert_eq!(display(1250, "USD"), "USD 12.50");
        assert_eq!(display(5, "EUR"), "EUR 0.05");
        assert_eq!(display(0, "GBP"), "GBP 0.00");
        assert_eq!(display(100_000_000, "USD"), "USD 1000000.00");
    }

    #[test]
    fn money_shows_no_decimals_for_zero_decimal_currencies() {
        assert_eq!(display(1250, "JPY"), "JPY 1250");
        assert_eq!(display(0, "KRW"), "KRW 0");
        assert_eq!(display(15_000, "VND"), "VND 15000");
    }

    #[test]
    fn money_shows_three_decimals_for_three_decimal_currencies() {
        assert_eq!(display(1250, "KWD"), "KWD 1.250");
        assert_eq!(display(7, "BHD"), "BHD 0.007");
        assert_eq!(display(-1001, "TND"), "TND -1.001");
    }

    #[test]
    fn money_keeps_the_sign_of_negative_amounts() {
        assert_eq!(display(-1250, "USD"), "USD -12.50");
        assert_eq!(
            display(-5, "USD"),
            "USD -0.05",
            "the sign survives a zero major part"
        );
        assert_eq!(display(-1250, "JPY"), "JPY -1250");
        assert_eq!(display(i64::MIN, "USD"), "USD -92233720368547758.08");
        assert_eq!(display(i64::MAX, "USD"), "USD 92233720368547758.07");
    }

    #[test]
    fn money_reads_the_currency_code_in_any_case() {
        assert_eq!(display(1250, "jpy"), "JPY 1250");
        assert_eq!(display(1250, "usd"), "USD 12.50");
    }
}
