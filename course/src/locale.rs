//! The languages the app speaks and how dates and numbers are written in
//! each. Pure and small on purpose: the browser bundles carry it (an ICU
//! formatter with its data would cost the editor bundle more than its
//! budget has left), and the server's CSV downloads and messages use the
//! same functions, so a date reads the same on the page and in the file.
//!
//! Which language a page speaks comes from Confluence: the `loc` parameter
//! it puts in every iframe URL (covered by the page JWT's qsh), see
//! [`Lang::from_tag`]. The words themselves live in the `app` crate's
//! locale files (`app/locales/*.json`, leptos_i18n).

use serde::{Deserialize, Serialize};

/// A language the app's text is written in. English is the fallback for
/// every locale we have no words for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The language for a locale as Confluence and browsers write it
    /// (`de-DE`, `de_AT`, `de`, `en-US`; Accept-Language lists such as
    /// `de-CH, en;q=0.8` take their first entry). Any German region is
    /// German; anything else, or nothing, is English.
    pub fn from_tag(tag: &str) -> Lang {
        let first = tag.split(',').next().unwrap_or("");
        let first = first.split(';').next().unwrap_or("").trim();
        let primary = first.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    /// The BCP 47 tag for `<html lang>`, `Intl` and the Accept-Language
    /// header the browser sends with server-function calls.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The decimal separator and the thousands separator.
    fn separators(self) -> (char, char) {
        match self {
            Lang::En => ('.', ','),
            Lang::De => (',', '.'),
        }
    }

    /// A whole number with thousands grouping: `12,345` / `12.345`.
    pub fn integer(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let (_, group) = self.separators();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(group);
            }
            out.push(c);
        }
        out
    }

    /// A number with at most `decimals` decimals, trailing zeros dropped:
    /// `1.5` / `1,5`, `2` / `2`. Not finite numbers are written as `—`.
    pub fn decimal(self, x: f64, decimals: u8) -> String {
        if !x.is_finite() {
            return "—".to_owned();
        }
        let fixed = format!("{:.*}", usize::from(decimals), x.abs());
        let (int_part, frac) = match fixed.split_once('.') {
            Some((i, f)) => (i, f.trim_end_matches('0')),
            None => (fixed.as_str(), ""),
        };
        let whole: i64 = int_part.parse().unwrap_or(i64::MAX);
        let negative = x < 0.0 && (whole != 0 || !frac.is_empty());
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(&self.integer(whole));
        if !frac.is_empty() {
            out.push(self.separators().0);
            out.push_str(frac);
        }
        out
    }

    /// A number with exactly `decimals` decimals and no grouping (a
    /// steady column, a spreadsheet cell): `0.50` / `0,50`.
    pub fn fixed(self, x: f64, decimals: u8) -> String {
        let s = format!("{x:.*}", usize::from(decimals));
        match self {
            Lang::En => s,
            Lang::De => s.replace('.', ","),
        }
    }

    /// A percentage, rounded to a whole number: `87%` / `87 %` (German
    /// puts a space before the sign, DIN 5008).
    pub fn percent(self, p: f64) -> String {
        let n = self.decimal(p.round(), 0);
        match self {
            Lang::En => format!("{n}%"),
            Lang::De => format!("{n}\u{a0}%"),
        }
    }

    /// A day: `30 Nov 2026` / `30.11.2026`.
    pub fn date(self, secs: i64) -> String {
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        match self {
            Lang::En => format!("{d} {} {y}", MONTHS_EN[(m - 1) as usize]),
            Lang::De => format!("{d:02}.{m:02}.{y}"),
        }
    }

    /// A moment in UTC: `30 Nov 2026, 09:05 UTC` / `30.11.2026, 09:05 UTC`.
    pub fn date_time(self, secs: i64) -> String {
        let rem = secs.rem_euclid(86_400);
        format!(
            "{}, {:02}:{:02} UTC",
            self.date(secs),
            rem / 3600,
            (rem % 3600) / 60
        )
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01
/// (Howard Hinnant's civil-from-days algorithm; no date crate in the
/// browser bundle).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::Lang;
    use proptest::prelude::*;

    #[test]
    fn confluence_locales_choose_the_language() {
        for tag in [
            "de",
            "de-DE",
            "de-AT",
            "de-CH",
            "de_DE",
            "DE-de",
            "de-CH, en;q=0.8",
        ] {
            assert_eq!(Lang::from_tag(tag), Lang::De, "{tag}");
        }
        for tag in [
            "", "en", "en-US", "en-GB", "fr-FR", "ja", "deu", "xx-DE", "en, de",
        ] {
            assert_eq!(Lang::from_tag(tag), Lang::En, "{tag}");
        }
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), lang);
        }
    }

    #[test]
    fn numbers_are_grouped_and_separated_per_language() {
        assert_eq!(Lang::En.integer(0), "0");
        assert_eq!(Lang::En.integer(999), "999");
        assert_eq!(Lang::En.integer(1234), "1,234");
        assert_eq!(Lang::De.integer(1_234_567), "1.234.567");
        assert_eq!(Lang::De.integer(-12_345), "-12.345");
        assert_eq!(Lang::En.decimal(1.5, 1), "1.5");
        assert_eq!(Lang::De.decimal(1.5, 1), "1,5");
        assert_eq!(Lang::De.decimal(2.0, 1), "2");
        assert_eq!(Lang::De.decimal(1234.25, 2), "1.234,25");
        assert_eq!(Lang::En.decimal(-0.04, 1), "0");
        assert_eq!(Lang::En.decimal(-0.25, 1), "-0.2");
        assert_eq!(Lang::De.decimal(f64::NAN, 1), "—");
        assert_eq!(Lang::En.fixed(0.5, 2), "0.50");
        assert_eq!(Lang::De.fixed(-1234.5, 1), "-1234,5");
        assert_eq!(Lang::En.percent(87.4), "87%");
        assert_eq!(Lang::De.percent(87.5), "88\u{a0}%");
    }

    #[test]
    fn dates_are_written_per_language() {
        // 2026-11-30 09:05:00 UTC
        let t = 1_796_029_500;
        assert_eq!(Lang::En.date(t), "30 Nov 2026");
        assert_eq!(Lang::De.date(t), "30.11.2026");
        assert_eq!(Lang::En.date_time(t), "30 Nov 2026, 09:05 UTC");
        assert_eq!(Lang::De.date_time(t), "30.11.2026, 09:05 UTC");
        assert_eq!(Lang::De.date(951_782_400), "29.02.2000");
        assert_eq!(Lang::En.date(-1), "31 Dec 1969");
    }

    proptest! {
        /// Reading a German number back (drop the grouping dots, the comma
        /// is the point) gives the English one's value: the two differ in
        /// separators only.
        #[test]
        fn german_and_english_numbers_carry_the_same_value(x in -1.0e9f64..1.0e9, d in 0u8..4) {
            let en = Lang::En.decimal(x, d).replace(',', "");
            let de = Lang::De.decimal(x, d).replace('.', "").replace(',', ".");
            prop_assert_eq!(en, de);
        }

        /// Every day's German date names the same year, month and day as
        /// the English one.
        #[test]
        fn german_and_english_dates_name_the_same_day(secs in -5_000_000_000i64..5_000_000_000) {
            let de = Lang::De.date(secs);
            let en = Lang::En.date(secs);
            let mut de_parts = de.split('.');
            let d: u32 = de_parts.next().unwrap().parse().unwrap();
            let m: usize = de_parts.next().unwrap().parse().unwrap();
            let y = de_parts.next().unwrap();
            prop_assert_eq!(en, format!("{d} {} {y}", super::MONTHS_EN[m - 1]));
        }
    }
}
