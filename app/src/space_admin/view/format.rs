//! Words and numbers as the space tools tab shows them: dates in the
//! viewer's own locale and time zone, due dates from `<input type="date">`,
//! enrolment reasons, due rules, file names.
//!
//! Everything data-dependent in the tab is rendered in the browser (the
//! server renders the "Loading…" shell only), so the locale-aware helpers
//! may ask the browser's `Intl`; the server build falls back to UTC text
//! (`crate::pages::format_epoch`) so the module compiles on both sides.

use crate::space_admin::api::{DueRule, EnrolmentReasons, LearnerState};

/// One day in milliseconds.
const DAY_MS: i64 = 86_400_000;

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Array, Date, Intl::DateTimeFormat, Object, Reflect};
    use wasm_bindgen::JsValue;

    fn options(pairs: &[(&str, &str)]) -> Object {
        let o = Object::new();
        for (k, v) in pairs {
            let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        o
    }

    /// `Intl.DateTimeFormat([<the page's language>], options).format(date)`:
    /// the page's language (Confluence's `loc`), the viewer's time zone.
    pub(super) fn local(ms: i64, pairs: &[(&str, &str)]) -> String {
        let date = Date::new(&JsValue::from_f64(ms as f64));
        let lang = crate::locale::page_lang().tag();
        DateTimeFormat::new(&Array::of1(&JsValue::from_str(lang)), &options(pairs))
            .format()
            .call1(&JsValue::NULL, &date)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| super::iso_day(ms))
    }

    /// The last millisecond of the day `y-m-d` in the viewer's time zone.
    pub(super) fn local_end_of_day(y: i32, m: u32, d: u32) -> i64 {
        let date = Date::new_with_year_month_day_hr_min_sec_milli(
            y as u32,
            m as i32 - 1,
            d as i32,
            23,
            59,
            59,
            999,
        );
        date.get_time() as i64
    }

    /// Today in the viewer's time zone, `YYYY-MM-DD`.
    pub(super) fn today() -> String {
        let d = Date::new_0();
        format!(
            "{:04}-{:02}-{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date()
        )
    }
}

/// A moment, as date and time in the viewer's locale ("30 Nov 2026, 09:05").
pub(crate) fn when(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        browser::local(ms, &[("dateStyle", "medium"), ("timeStyle", "short")])
    }
    #[cfg(not(feature = "hydrate"))]
    {
        crate::pages::format_epoch(ms.div_euclid(1000))
    }
}

/// A day, in the viewer's locale ("30 Nov 2026").
pub(crate) fn day(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        browser::local(ms, &[("dateStyle", "medium")])
    }
    #[cfg(not(feature = "hydrate"))]
    {
        iso_day(ms)
    }
}

/// A time of day, in the viewer's locale ("09:05").
pub(crate) fn time(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        browser::local(ms, &[("timeStyle", "short")])
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let secs = ms.rem_euclid(DAY_MS) / 1000;
        format!("{:02}:{:02} UTC", secs / 3600, secs / 60 % 60)
    }
}

/// [`when`] or a dash.
pub(crate) fn opt_when(ms: Option<i64>) -> String {
    ms.map(when).unwrap_or_else(|| "—".into())
}

/// [`day`] or a dash.
pub(crate) fn opt_day(ms: Option<i64>) -> String {
    ms.map(day).unwrap_or_else(|| "—".into())
}

/// `YYYY-MM-DD` of a moment, in UTC ([`course::locale::civil_from_days`]).
pub(crate) fn iso_day(ms: i64) -> String {
    let (y, m, d) = course::locale::civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's date for file names (the viewer's day; UTC on the server).
pub(crate) fn today() -> String {
    #[cfg(feature = "hydrate")]
    {
        browser::today()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        iso_day(0)
    }
}

/// The value of an `<input type="date">` (`YYYY-MM-DD`) as year, month, day.
pub(crate) fn parse_date_input(s: &str) -> Option<(i32, u32, u32)> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    ((1000..=9999).contains(&y) && (1..=days_in_month).contains(&d)).then_some((y, m, d))
}

/// Days since the epoch of a civil date (the inverse of [`iso_day`]).
#[cfg(any(test, not(feature = "hydrate")))]
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A due date typed as a day: the end of that day where the admin is (a
/// course due "on 1 December" may be finished all that day). `None` for
/// an empty or malformed value.
pub(crate) fn due_from_input(s: &str) -> Option<i64> {
    let (y, m, d) = parse_date_input(s)?;
    #[cfg(feature = "hydrate")]
    {
        Some(browser::local_end_of_day(y, m, d))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Some(days_from_civil(y, m, d) * DAY_MS + DAY_MS - 1)
    }
}

/// The end of day `YYYY-MM-DD` in UTC.
#[cfg(test)]
fn utc_end_of_day(s: &str) -> Option<i64> {
    let (y, m, d) = parse_date_input(s)?;
    Some(days_from_civil(y, m, d) * DAY_MS + DAY_MS - 1)
}

/// The page's locale, for the words below.
fn loc() -> crate::locale::Locale {
    crate::locale::locale_of(crate::locale::page_lang())
}

/// "1 person", "3 people".
pub(crate) fn people(n: u32) -> String {
    let loc = loc();
    if n == 1 {
        leptos_i18n::td_string!(loc, format.one_person).into()
    } else {
        crate::locale::fill(leptos_i18n::td_string!(loc, format.n_people), &[&n])
    }
}

/// A group rule's due date in words.
pub(crate) fn due_rule_text(due: DueRule) -> String {
    let loc = loc();
    match due {
        DueRule::None => leptos_i18n::td_string!(loc, format.no_due).into(),
        DueRule::At(ms) => {
            crate::locale::fill(leptos_i18n::td_string!(loc, format.due_by), &[&day(ms)])
        }
        DueRule::DaysAfter(1) => leptos_i18n::td_string!(loc, format.due_one_day).into(),
        DueRule::DaysAfter(n) => {
            crate::locale::fill(leptos_i18n::td_string!(loc, format.due_days), &[&n])
        }
    }
}

/// [`due_rule_text`] inside a sentence ("…; due by 30 Nov 2026").
pub(crate) fn due_rule_phrase(due: DueRule) -> String {
    let text = due_rule_text(due);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Why someone is enrolled, in short words ("admin", "self", "group x").
pub(crate) fn reasons(r: &EnrolmentReasons) -> Vec<String> {
    let loc = loc();
    let mut out = Vec::new();
    if r.direct {
        out.push(leptos_i18n::td_string!(loc, report.by_admin).to_owned());
    }
    if r.self_enrolled {
        out.push(leptos_i18n::td_string!(loc, report.self_enrolled).to_owned());
    }
    out.extend(
        r.groups
            .iter()
            .map(|g| crate::locale::fill(leptos_i18n::td_string!(loc, report.group), &[g])),
    );
    out
}

/// The lozenge class of a learner state.
pub(crate) fn state_class(s: LearnerState) -> &'static str {
    match s {
        LearnerState::Completed => "sc-status sc-status-ok",
        LearnerState::NotStarted => "sc-status",
        LearnerState::InProgress => "sc-status sc-admin-status-progress",
        LearnerState::RecertificationDue | LearnerState::Expired => "sc-status sc-status-warn",
    }
}

/// A question kind's code (`QuestionKind::name`) as the editor labels it.
pub(crate) fn kind_label(code: &str) -> &str {
    let loc = loc();
    match code {
        "single_choice" => leptos_i18n::td_string!(loc, kind.single_choice),
        "multiple_choice" => leptos_i18n::td_string!(loc, kind.multiple_choice),
        "true_false" => leptos_i18n::td_string!(loc, kind.true_false),
        "short_text" => leptos_i18n::td_string!(loc, kind.short_text),
        "numeric" => leptos_i18n::td_string!(loc, kind.numeric),
        "ordering" => leptos_i18n::td_string!(loc, kind.ordering),
        "matching" => leptos_i18n::td_string!(loc, kind.matching),
        other => other,
    }
}

/// A percentage without decimals ("87%", German "87 %").
pub(crate) fn percent(p: f64) -> String {
    crate::locale::page_lang().percent(p)
}

/// A score: whole numbers without decimals, else one ("2", "1.5", German "1,5").
pub(crate) fn points(x: f64) -> String {
    crate::locale::page_lang().decimal(x, 1)
}

/// A file name for a download: the course's title made safe, what it is,
/// and the day (`fire-safety-learners-2026-11-30.csv`).
pub(crate) fn file_name(title: &str, kind: &str, day: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(60).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("{kind}-{day}.csv")
    } else {
        format!("{slug}-{kind}-{day}.csv")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_inputs_parse_real_days_only() {
        assert_eq!(parse_date_input("2026-12-01"), Some((2026, 12, 1)));
        assert_eq!(parse_date_input("2028-02-29"), Some((2028, 2, 29)));
        for bad in [
            "",
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "26-1-1",
            "x-y-z",
        ] {
            assert_eq!(parse_date_input(bad), None, "{bad}");
        }
    }

    #[test]
    fn due_dates_are_the_end_of_the_day() {
        // 2026-12-01T23:59:59.999Z
        assert_eq!(utc_end_of_day("2026-12-01"), Some(1_796_169_599_999));
        assert_eq!(iso_day(1_796_169_599_999), "2026-12-01");
        assert_eq!(iso_day(0), "1970-01-01");
        assert_eq!(utc_end_of_day("nope"), None);
    }

    #[test]
    fn file_names_are_safe_and_dated() {
        assert_eq!(
            file_name("Fire safety: Basics!", "learners", "2026-11-30"),
            "fire-safety-basics-learners-2026-11-30.csv"
        );
        assert_eq!(
            file_name("../..", "audit-log", "2026-11-30"),
            "audit-log-2026-11-30.csv"
        );
        assert_eq!(
            file_name("Ärzte café", "attempts", "d"),
            "ärzte-café-attempts-d.csv"
        );
    }

    #[test]
    fn words() {
        assert_eq!(people(1), "1 person");
        assert_eq!(people(0), "0 people");
        assert_eq!(points(2.0), "2");
        assert_eq!(points(1.5), "1.5");
        assert_eq!(
            due_rule_text(DueRule::DaysAfter(14)),
            "Due 14 days after enrolment"
        );
        assert_eq!(
            reasons(&EnrolmentReasons {
                direct: true,
                self_enrolled: false,
                groups: vec!["new-starters".into()],
            }),
            ["Enrolled by an admin", "Group new-starters"]
        );
    }
}
