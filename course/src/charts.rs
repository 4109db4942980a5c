//! Server-rendered SVG charts for the space admin's course report:
//! completions over time and learners per status.
//!
//! Why plain SVG strings instead of a JavaScript chart library: the report
//! renders on the server with the rest of the page, so the charts appear
//! without a script, without a layout jump and without another dependency
//! in the iframe (and under its content security policy); and this module
//! is plain string building, so it is available in every build — the
//! server renders the charts, the browser bundle can re-render them.
//!
//! Accessibility is the point, not an extra:
//! * every chart is one `<svg role="img">` named by `aria-labelledby` after
//!   its `<title>` and a `<desc>` that **states the data in words** ("42 of
//!   120 enrolled learners completed the course by 2026-11-30. 10 completed
//!   in the last 7 days."), so a screen reader user gets what the picture
//!   shows;
//! * every visible word or number is a real `<text>` element (selectable,
//!   zoomable, translatable), never outlines in a path;
//! * colours are Atlassian Design System tokens in presentation attributes,
//!   `fill="var(--ds-background-success-bold, #1f845a)"`, so the charts
//!   follow the light and dark themes and fall back to the light palette
//!   outside Atlassian (presentation attributes are not inline styles, so
//!   no CSP exception is needed);
//! * nothing relies on colour alone: each status has its own fill pattern,
//!   repeated in its legend swatch next to the label, count and percentage;
//!   the "enrolled" line is dashed, the completions line solid.
//!
//! Safety and size: every string that reaches the markup — data and labels
//! alike — goes through [`escape`] (which also replaces the characters XML
//! forbids); the ids inside a chart come from a sanitised
//! [`ChartLabels::id_prefix`] plus the chart's kind, so two charts on one
//! page never clash; and a series of any length is thinned to at most
//! [`MAX_VERTICES`] vertices (three years of days stay a few kilobytes).
//!
//! The user-facing strings live in [`ChartLabels`] (sentence templates with
//! `{named}` placeholders), so a translation replaces them without touching
//! the drawing.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Most vertices of the completions line, whatever the number of days.
pub const MAX_VERTICES: usize = 200;

/// "Completed in the last … days" in the completions description.
pub const RECENT_DAYS: i64 = 7;

/// Width of both charts in SVG user units (they scale with `width="100%"`).
const WIDTH: f64 = 640.0;
/// Height of the completions chart.
const LINE_HEIGHT: f64 = 280.0;
/// Height of a chart with nothing to draw but its message.
const EMPTY_HEIGHT: f64 = 80.0;
/// Rough advance of one character at the charts' 12px font, for layout.
const CHAR_WIDTH: f64 = 7.0;
/// Visible legend labels longer than this are shortened (the description
/// keeps them whole).
const LEGEND_LABEL_CHARS: usize = 60;

const TEXT: &str = "var(--ds-text, #292a2e)";
const TEXT_SUBTLE: &str = "var(--ds-text-subtle, #505258)";
const BORDER: &str = "var(--ds-border, #0b120e24)";
const BORDER_BOLD: &str = "var(--ds-border-bold, #7d818a)";
const SURFACE: &str = "var(--ds-surface, #fff)";
const SUCCESS: &str = "var(--ds-background-success-bold, #1f845a)";

/// The cumulative number of learners who had completed the course by the
/// end of `day`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// Days since the Unix epoch (1970-01-01 is day 0).
    pub day: i64,
    /// Learners completed by the end of that day (cumulative).
    pub completed: u32,
}

/// A learner status in the status breakdown; decides colour and pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SegmentKind {
    Completed,
    InProgress,
    NotStarted,
    Overdue,
    RecertificationDue,
    Expired,
}

impl SegmentKind {
    /// Every kind, in the report's usual order.
    pub const ALL: [Self; 6] = [
        Self::Completed,
        Self::InProgress,
        Self::NotStarted,
        Self::Overdue,
        Self::RecertificationDue,
        Self::Expired,
    ];

    /// A stable name for ids.
    fn slug(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::InProgress => "in-progress",
            Self::NotStarted => "not-started",
            Self::Overdue => "overdue",
            Self::RecertificationDue => "recertification-due",
            Self::Expired => "expired",
        }
    }

    /// The segment's fill: a design token with the light theme's value.
    fn colour(self) -> &'static str {
        match self {
            Self::Completed => SUCCESS,
            Self::InProgress => "var(--ds-background-information-bold, #1868db)",
            Self::NotStarted => "var(--ds-background-neutral-bold, #505258)",
            Self::Overdue => "var(--ds-background-danger-bold, #c9372c)",
            Self::RecertificationDue => "var(--ds-background-warning-bold, #f5cd47)",
            Self::Expired => "var(--ds-background-discovery-bold, #6e5dc6)",
        }
    }

    /// The tile drawn over the colour (8×8 user units), so that statuses
    /// differ without colour; `None` for solid (completed).
    fn pattern(self) -> Option<String> {
        // Light lines on the dark fills, dark lines on the yellow one.
        let ink = if self == Self::RecertificationDue {
            TEXT
        } else {
            SURFACE
        };
        let lines =
            |d: &str| format!(r#"<path d="{d}" stroke="{ink}" stroke-width="1.5" fill="none"/>"#);
        match self {
            Self::Completed => None,
            Self::InProgress => Some(lines("M-2 2L2-2M0 8L8 0M6 10L10 6")),
            Self::NotStarted => Some(format!(r#"<circle cx="4" cy="4" r="1.5" fill="{ink}"/>"#)),
            Self::Overdue => Some(lines("M0 0L8 8M8 0L0 8")),
            Self::RecertificationDue => Some(lines("M0 2H8M0 6H8")),
            Self::Expired => Some(lines("M2 0V8M6 0V8")),
        }
    }
}

/// One bar segment (and legend entry) of the status breakdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Shown in the legend and the description (escaped).
    pub label: String,
    pub count: u32,
    pub kind: SegmentKind,
}

/// The user-facing strings of the charts, so that a translation can replace
/// them. Templates name their values in braces (`{total}`); values are
/// substituted once (a value that contains `{total}` stays as it is), and
/// everything is escaped afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartLabels {
    /// Prefix of every id inside a chart; give each chart on a page its own.
    /// Sanitised: only ASCII letters, digits, `-` and `_` are kept, and a
    /// prefix that does not start with a letter gets a `c` in front.
    pub id_prefix: String,
    /// Accessible name of the completions chart.
    pub completion_title: String,
    /// Lead-in of its description; `{from}`, `{to}`: the first and last day.
    pub completion_lead: String,
    /// `{completed}`, `{total}` (enrolled), `{date}` (the last day).
    pub completion_summary: String,
    /// The same without an enrolment count (`total` 0): `{completed}`, `{date}`.
    pub completion_summary_no_total: String,
    /// `{recent}` learners completed in the last `{days}` days.
    pub completion_recent: String,
    /// Name of the x axis.
    pub x_axis: String,
    /// Name of the y axis.
    pub y_axis: String,
    /// Label of the enrolment line: `{total}`.
    pub enrolled: String,
    /// Shown (and described) when there is no completion data.
    pub empty: String,
    /// Accessible name of the status breakdown.
    pub status_title: String,
    /// Lead-in of its description: `{total}` learners.
    pub status_lead: String,
    /// One status in the legend and the description: `{label}`, `{count}`,
    /// `{percent}` (already formatted with [`Self::percent`]).
    pub status_entry: String,
    /// A percentage: `{percent}` (a whole number).
    pub percent: String,
    /// Shown (and described) when no learner has a status.
    pub status_empty: String,
    /// The language days are written in (axis ticks and descriptions):
    /// `2026-11-30` in English, `30.11.2026` in German.
    pub lang: crate::locale::Lang,
}

impl ChartLabels {
    /// The English strings; `id_prefix` as in [`Self::id_prefix`].
    pub fn english(id_prefix: &str) -> Self {
        Self {
            id_prefix: id_prefix.to_owned(),
            completion_title: "Course completions over time".into(),
            completion_lead: "Learners who completed the course, cumulative per day, \
                              from {from} to {to}."
                .into(),
            completion_summary: "{completed} of {total} enrolled learners completed the \
                                 course by {date}."
                .into(),
            completion_summary_no_total: "{completed} learners completed the course by {date}."
                .into(),
            completion_recent: "{recent} completed in the last {days} days.".into(),
            x_axis: "Date".into(),
            y_axis: "Learners completed".into(),
            enrolled: "{total} enrolled".into(),
            empty: "No completions recorded yet.".into(),
            status_title: "Learners by status".into(),
            status_lead: "{total} learners by status:".into(),
            status_entry: "{label} {count} ({percent})".into(),
            percent: "{percent} %".into(),
            status_empty: "No learners enrolled yet.".into(),
            lang: crate::locale::Lang::En,
        }
    }

    /// A day as this chart writes it (see [`Self::lang`]).
    pub fn day(&self, day: i64) -> String {
        let iso = format_day(day);
        match self.lang {
            crate::locale::Lang::En => iso,
            // Reordered from the ISO text, which is exact for every day.
            crate::locale::Lang::De => match iso.rsplitn(3, '-').collect::<Vec<_>>()[..] {
                [d, m, y] => format!("{d}.{m}.{y}"),
                _ => iso,
            },
        }
    }
}

/// Escapes text for XML content and attribute values: `& < > " '`, and
/// replaces the control characters XML 1.0 forbids (all below U+0020 except
/// tab, line feed and carriage return; U+FFFE, U+FFFF) with U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01, proleptic
/// Gregorian; Howard Hinnant's civil-from-days algorithm, in `i128` so that
/// no `i64` overflows).
pub fn format_day(day: i64) -> String {
    let z = i128::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i128::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whole percentages of `counts` that add up to exactly 100 (largest
/// remainder; ties go to the earlier count). All zero when the total is.
pub fn percentages(counts: &[u32]) -> Vec<u32> {
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    if total == 0 {
        return vec![0; counts.len()];
    }
    let mut out: Vec<u32> = counts
        .iter()
        .map(|&c| (u64::from(c) * 100 / total) as u32)
        .collect();
    let given: u32 = out.iter().sum();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    // Stable: equal remainders keep their order.
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(u64::from(counts[i]) * 100 % total));
    for &i in by_remainder.iter().take((100 - given) as usize) {
        out[i] += 1;
    }
    out
}

/// The completions chart: a line of the cumulative number of learners who
/// completed the course per day, a dashed line at `total` enrolled learners
/// (when `total` > 0), gridlines, counts and dates.
///
/// `points` may come in any order; for a day given twice the later entry
/// wins. The y axis runs from 0 to at least `max(total, largest count)`.
/// Without points the chart says [`ChartLabels::empty`].
pub fn completion_over_time(points: &[DayCount], total: u32, labels: &ChartLabels) -> String {
    let id = format!("{}-completion", sanitize_id(&labels.id_prefix));
    let series = by_day(points);
    let (Some(&first), Some(&last)) = (series.first(), series.last()) else {
        return empty_chart(&id, &labels.completion_title, &labels.empty, EMPTY_HEIGHT);
    };
    let desc = completion_description(&series, total, labels);
    let mut out = svg_open(&id, LINE_HEIGHT, &labels.completion_title, &desc);

    // Scales.
    let largest = series.iter().map(|p| p.completed).max().unwrap_or(0);
    let (step, top) = y_scale(u64::from(total.max(largest)));
    let ticks: Vec<u64> = (0..=top / step).map(|i| i * step).collect();
    let tick_chars = ticks.last().map_or(1, |t| t.to_string().len());
    let x0 = (tick_chars as f64).mul_add(CHAR_WIDTH, 24.0);
    let x1 = WIDTH - 24.0;
    let (y0, y1) = (32.0, LINE_HEIGHT - 48.0);
    let span = i128::from(last.day) - i128::from(first.day);
    let x = |day: i64| {
        if span == 0 {
            f64::midpoint(x0, x1)
        } else {
            let f = (i128::from(day) - i128::from(first.day)) as f64 / span as f64;
            f.mul_add(x1 - x0, x0)
        }
    };
    let y = |v: u64| (-(v as f64 / top as f64)).mul_add(y1 - y0, y1);

    // Gridlines and the y axis labels.
    let _ = write!(out, r#"<g stroke="{BORDER}" stroke-width="1">"#);
    for &t in ticks.iter().filter(|&&t| t > 0) {
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}"/>"#,
            num(x0),
            num(x1),
            y = num(y(t))
        );
    }
    out.push_str("</g>");
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{BORDER_BOLD}" stroke-width="1"/>"#,
        num(x0),
        num(x1),
        y = num(y1)
    );
    let _ = write!(out, r#"<g fill="{TEXT_SUBTLE}" text-anchor="end">"#);
    for &t in &ticks {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}">{t}</text>"#,
            num(x0 - 8.0),
            num(y(t) + 4.0)
        );
    }
    out.push_str("</g>");

    // Dates along the x axis: a handful, evenly spread, first and last day
    // included.
    let date_ticks = span.clamp(0, 4) + 1;
    let _ = write!(out, r#"<g fill="{TEXT_SUBTLE}">"#);
    for i in 0..date_ticks {
        let day = if date_ticks == 1 {
            first.day
        } else {
            (i128::from(first.day) + span * i / (date_ticks - 1)) as i64
        };
        let anchor = match i {
            _ if date_ticks == 1 => "middle",
            0 => "start",
            i if i == date_ticks - 1 => "end",
            _ => "middle",
        };
        let xd = num(x(day));
        let _ = write!(
            out,
            r#"<line x1="{xd}" y1="{}" x2="{xd}" y2="{}" stroke="{BORDER_BOLD}"/><text x="{xd}" y="{}" text-anchor="{anchor}">{}</text>"#,
            num(y1),
            num(y1 + 4.0),
            num(y1 + 18.0),
            labels.day(day)
        );
    }
    out.push_str("</g>");

    // Axis names.
    let _ = write!(
        out,
        r#"<text x="8" y="16" fill="{TEXT}">{}</text><text x="{}" y="{}" fill="{TEXT}" text-anchor="middle">{}</text>"#,
        escape(&labels.y_axis),
        num(f64::midpoint(x0, x1)),
        num(LINE_HEIGHT - 8.0),
        escape(&labels.x_axis)
    );

    // The enrolment line: dashed, labelled at its right end.
    if total > 0 {
        let ye = num(y(u64::from(total)));
        let _ = write!(
            out,
            r#"<line class="sc-enrolled" x1="{}" y1="{ye}" x2="{}" y2="{ye}" stroke="{BORDER_BOLD}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{}" y="{}" fill="{TEXT_SUBTLE}" text-anchor="end">{}</text>"#,
            num(x0),
            num(x1),
            num(x1),
            num(y(u64::from(total)) - 6.0),
            escape(&fill(&labels.enrolled, &[("total", &total.to_string())]))
        );
    }

    // The series: a light area, the line, a marker on the last day.
    let vertices = thin(&series, MAX_VERTICES);
    let mut line = String::with_capacity(vertices.len() * 14);
    for (i, p) in vertices.iter().enumerate() {
        let _ = write!(
            line,
            "{}{} {}",
            if i == 0 { 'M' } else { 'L' },
            num(x(p.day)),
            num(y(u64::from(p.completed)))
        );
    }
    if vertices.len() > 1 {
        let _ = write!(
            out,
            r#"<path d="{line}L{} {b}L{} {b}Z" fill="{SUCCESS}" fill-opacity="0.12"/><path class="sc-line" d="{line}" fill="none" stroke="{SUCCESS}" stroke-width="2" stroke-linejoin="round"/>"#,
            num(x(last.day)),
            num(x(first.day)),
            b = num(y1)
        );
    }
    let _ = write!(
        out,
        r#"<circle cx="{}" cy="{}" r="4" fill="{SUCCESS}" stroke="{SURFACE}" stroke-width="1.5"/>"#,
        num(x(last.day)),
        num(y(u64::from(last.completed)))
    );
    out.push_str("</svg>");
    out
}

/// The status breakdown: one horizontal bar split by status (each with its
/// colour and pattern, its percentage under it when there is room) and a
/// legend — swatch, label, count and percentage — for every status with
/// learners. Statuses with no learners are left out of the bar and the
/// legend but named in the description. Without learners the chart says
/// [`ChartLabels::status_empty`].
pub fn status_breakdown(segments: &[Segment], labels: &ChartLabels) -> String {
    let id = format!("{}-status", sanitize_id(&labels.id_prefix));
    let total: u64 = segments.iter().map(|s| u64::from(s.count)).sum();
    if total == 0 {
        return empty_chart(
            &id,
            &labels.status_title,
            &labels.status_empty,
            EMPTY_HEIGHT,
        );
    }
    let counts: Vec<u32> = segments.iter().map(|s| s.count).collect();
    let percents: Vec<String> = percentages(&counts)
        .iter()
        .map(|p| fill(&labels.percent, &[("percent", &p.to_string())]))
        .collect();
    let entry = |s: &Segment, label: &str, percent: &str| {
        fill(
            &labels.status_entry,
            &[
                ("label", label),
                ("count", &s.count.to_string()),
                ("percent", percent),
            ],
        )
    };
    let desc = format!(
        "{} {}.",
        fill(&labels.status_lead, &[("total", &total.to_string())]),
        segments
            .iter()
            .zip(&percents)
            .map(|(s, p)| entry(s, &s.label, p))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let shown: Vec<(&Segment, &String)> = segments
        .iter()
        .zip(&percents)
        .filter(|(s, _)| s.count > 0)
        .collect();
    let (bar_top, bar_height, legend_top, row) = (8.0, 32.0, 76.0, 22.0);
    let height = (shown.len() as f64).mul_add(row, legend_top + 4.0);
    let mut out = svg_open(&id, height, &labels.status_title, &desc);

    // One pattern per kind in use.
    let mut kinds: Vec<SegmentKind> = Vec::new();
    for (s, _) in &shown {
        if !kinds.contains(&s.kind) {
            kinds.push(s.kind);
        }
    }
    let patterns: Vec<(SegmentKind, String)> = kinds
        .iter()
        .filter_map(|&k| k.pattern().map(|p| (k, p)))
        .collect();
    if !patterns.is_empty() {
        out.push_str("<defs>");
        for (k, tile) in &patterns {
            let _ = write!(
                out,
                r#"<pattern id="{id}-pat-{}" width="8" height="8" patternUnits="userSpaceOnUse">{tile}</pattern>"#,
                k.slug()
            );
        }
        out.push_str("</defs>");
    }
    let paint = |out: &mut String, kind: SegmentKind, x: f64, y: f64, w: f64, h: f64| {
        let rect = format!(
            r#"x="{}" y="{}" width="{}" height="{}""#,
            num(x),
            num(y),
            num(w),
            num(h)
        );
        let _ = write!(
            out,
            r#"<rect {rect} fill="{}" stroke="{SURFACE}" stroke-width="1"/>"#,
            kind.colour()
        );
        if kind.pattern().is_some() {
            let _ = write!(
                out,
                r#"<rect {rect} fill="url(#{id}-pat-{})"/>"#,
                kind.slug()
            );
        }
    };

    // The bar, with each segment's percentage under it when it fits.
    let (x0, x1) = (8.0, WIDTH - 8.0);
    let mut before = 0u64;
    for (s, percent) in &shown {
        let left = (before as f64 / total as f64).mul_add(x1 - x0, x0);
        before += u64::from(s.count);
        let right = (before as f64 / total as f64).mul_add(x1 - x0, x0);
        out.push_str(r#"<g class="sc-segment">"#);
        paint(&mut out, s.kind, left, bar_top, right - left, bar_height);
        if right - left >= (percent.chars().count() as f64).mul_add(CHAR_WIDTH, 4.0) {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" fill="{TEXT_SUBTLE}" text-anchor="middle">{}</text>"#,
                num(f64::midpoint(left, right)),
                num(bar_top + bar_height + 16.0),
                escape(percent)
            );
        }
        out.push_str("</g>");
    }

    // The legend: same order, same swatches.
    for (i, (s, percent)) in shown.iter().enumerate() {
        let top = (i as f64).mul_add(row, legend_top);
        out.push_str(r#"<g class="sc-legend-entry">"#);
        paint(&mut out, s.kind, 8.0, top, 14.0, 14.0);
        let _ = write!(
            out,
            r#"<rect x="8" y="{}" width="14" height="14" fill="none" stroke="{BORDER_BOLD}" stroke-width="1"/><text x="30" y="{}" fill="{TEXT}">{}</text></g>"#,
            num(top),
            num(top + 11.5),
            escape(&entry(s, &shorten(&s.label, LEGEND_LABEL_CHARS), percent))
        );
    }
    out.push_str("</svg>");
    out
}

/// The opening `<svg>` with its accessible name and description.
fn svg_open(id: &str, height: f64, title: &str, desc: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="sc-chart" id="{id}" viewBox="0 0 {} {}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc" font-size="12" font-family="var(--ds-font-family-body, sans-serif)"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        num(WIDTH),
        num(height),
        escape(title),
        escape(desc)
    )
}

/// A chart with nothing to draw: the message, visible and as description.
fn empty_chart(id: &str, title: &str, message: &str, height: f64) -> String {
    let mut out = svg_open(id, height, title, message);
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" fill="{TEXT_SUBTLE}" text-anchor="middle">{}</text></svg>"#,
        num(WIDTH / 2.0),
        num(height / 2.0 + 4.0),
        escape(message)
    );
    out
}

/// The completions chart's `<desc>` text (unescaped).
fn completion_description(series: &[DayCount], total: u32, labels: &ChartLabels) -> String {
    let (Some(first), Some(last)) = (series.first(), series.last()) else {
        return labels.empty.clone();
    };
    let date = labels.day(last.day);
    let completed = last.completed.to_string();
    let lead = fill(
        &labels.completion_lead,
        &[("from", &labels.day(first.day)), ("to", &date)],
    );
    let summary = if total > 0 {
        fill(
            &labels.completion_summary,
            &[
                ("completed", &completed),
                ("total", &total.to_string()),
                ("date", &date),
            ],
        )
    } else {
        fill(
            &labels.completion_summary_no_total,
            &[("completed", &completed), ("date", &date)],
        )
    };
    // Before the first point nobody had completed.
    let cutoff = last.day.saturating_sub(RECENT_DAYS);
    let baseline = series
        .iter()
        .rev()
        .find(|p| p.day <= cutoff)
        .map_or(0, |p| p.completed);
    let recent = fill(
        &labels.completion_recent,
        &[
            (
                "recent",
                &last.completed.saturating_sub(baseline).to_string(),
            ),
            ("days", &RECENT_DAYS.to_string()),
        ],
    );
    format!("{lead} {summary} {recent}")
}

/// The points sorted by day, one per day (the later entry wins).
fn by_day(points: &[DayCount]) -> Vec<DayCount> {
    let mut sorted = points.to_vec();
    sorted.sort_by_key(|p| p.day); // stable
    let mut out: Vec<DayCount> = Vec::with_capacity(sorted.len());
    for p in sorted {
        match out.last_mut() {
            Some(prev) if prev.day == p.day => *prev = p,
            _ => out.push(p),
        }
    }
    out
}

/// At most `max` (≥ 2) points of a day-sorted series: the first point, then
/// the last point of each of `max - 1` equal stretches of days. Counts are
/// cumulative, so the last point of a stretch stands for it; the last point
/// of the series is always kept.
fn thin(series: &[DayCount], max: usize) -> Vec<DayCount> {
    let (Some(first), Some(last)) = (series.first(), series.last()) else {
        return Vec::new();
    };
    if series.len() <= max {
        return series.to_vec();
    }
    let span = i128::from(last.day) - i128::from(first.day);
    let stretches = (max - 1) as i128;
    let mut out: Vec<(i128, DayCount)> = vec![(-1, *first)];
    for p in &series[1..] {
        let stretch = (i128::from(p.day) - i128::from(first.day)) * (stretches - 1) / span;
        match out.last_mut() {
            Some((s, prev)) if *s == stretch => *prev = *p,
            _ => out.push((stretch, *p)),
        }
    }
    out.into_iter().map(|(_, p)| p).collect()
}

/// `(step, top)` of a y axis that must reach `max`: a round step (1, 2 or 5
/// times a power of ten, at least 1) giving about four intervals, and the
/// first multiple of it at or above `max` (at least one step).
fn y_scale(max: u64) -> (u64, u64) {
    let target = max.div_ceil(4).max(1);
    let mut power = 1u64;
    while power <= target / 10 {
        power *= 10;
    }
    let step = [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= target)
        .unwrap_or(10 * power);
    (step, max.div_ceil(step).max(1) * step)
}

/// Substitutes `{name}` placeholders in one pass (substituted text is not
/// searched again); unknown placeholders stay as written.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// An id prefix reduced to `[A-Za-z0-9_-]`, starting with a letter.
fn sanitize_id(prefix: &str) -> String {
    let kept: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    if kept.starts_with(|c: char| c.is_ascii_alphabetic()) {
        kept
    } else {
        format!("c{kept}")
    }
}

/// At most `max` characters, the last one `…` when shortened.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A coordinate with at most one decimal (`12`, `12.5`).
fn num(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!(
            "{}{}.{}",
            if tenths < 0 { "-" } else { "" },
            tenths.abs() / 10,
            tenths.abs() % 10
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use quick_xml::{escape::resolve_predefined_entity, events::Event, Reader, XmlVersion};
    use std::collections::BTreeMap;

    /// One element of a parsed chart.
    #[derive(Debug)]
    struct El {
        name: String,
        attrs: BTreeMap<String, String>,
        /// Text directly inside (entities resolved).
        text: String,
        parent: Option<usize>,
    }

    impl El {
        fn attr(&self, name: &str) -> &str {
            self.attrs.get(name).map_or("", String::as_str)
        }
        fn class(&self) -> &str {
            self.attr("class")
        }
    }

    fn xml_char(c: char) -> bool {
        let legal = ['\t', '\n', '\r'].contains(&c);
        legal
            || ('\u{20}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}'
    }

    /// Parses `svg` as XML (panicking when it is not well-formed: one `svg`
    /// root, balanced tags, known entities, legal characters, no `<` in
    /// attribute values, unique attributes) into its elements, in order.
    fn parse(svg: &str) -> Vec<El> {
        assert!(
            svg.chars().all(xml_char),
            "illegal XML character in {svg:?}"
        );
        let mut reader = Reader::from_str(svg);
        let mut els: Vec<El> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut roots = 0;
        loop {
            let event = reader
                .read_event()
                .unwrap_or_else(|e| panic!("not well-formed ({e}): {svg}"));
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if stack.is_empty() {
                        roots += 1;
                    }
                    let mut attrs = BTreeMap::new();
                    for a in e.attributes() {
                        let a = a.unwrap_or_else(|err| panic!("attribute ({err}): {svg}"));
                        assert!(!a.value.contains('<'), "`<` in an attribute: {svg}");
                        let key = a.key.as_ref().to_owned();
                        let value = a
                            .normalized_value(XmlVersion::Implicit1_0)
                            .unwrap_or_else(|err| panic!("attribute value ({err}): {svg}"))
                            .into_owned();
                        assert!(attrs.insert(key, value).is_none(), "duplicate attribute");
                    }
                    els.push(El {
                        name: e.name().as_ref().to_owned(),
                        attrs,
                        text: String::new(),
                        parent: stack.last().copied(),
                    });
                    if matches!(event, Event::Start(_)) {
                        stack.push(els.len() - 1);
                    }
                }
                Event::End(e) => {
                    let open = stack.pop().expect("end tag without start");
                    assert_eq!(els[open].name, e.name().as_ref(), "mismatched end tag");
                }
                Event::Text(t) => {
                    let &top = stack.last().expect("text outside the root");
                    els[top].text.push_str(&t);
                }
                Event::GeneralRef(r) => {
                    let &top = stack.last().expect("reference outside the root");
                    if let Some(c) = r.resolve_char_ref().expect("character reference") {
                        els[top].text.push(c);
                    } else {
                        let resolved = resolve_predefined_entity(&r)
                            .unwrap_or_else(|| panic!("unknown entity &{};", &*r));
                        els[top].text.push_str(resolved);
                    }
                }
                Event::Eof => break,
                other => panic!("unexpected {other:?} in {svg}"),
            }
        }
        assert!(stack.is_empty(), "unclosed elements in {svg}");
        assert_eq!(roots, 1, "one root element");
        assert_eq!(els[0].name, "svg");
        els
    }

    #[test]
    fn the_parser_rejects_what_is_not_well_formed() {
        for bad in [
            "<svg><g></svg>",
            "<svg><g>",
            "<svg></svg><svg></svg>",
            "<svg>a & b</svg>",
            "<svg>&nbsp;</svg>",
            "<svg>a < b</svg>",
            "<svg a=\"<\"/>",
            "<svg a=\"1\" a=\"2\"/>",
            "<svg>\u{1}</svg>",
            "text<svg/>",
        ] {
            let outcome = std::panic::catch_unwind(|| parse(bad));
            assert!(outcome.is_err(), "accepted {bad:?}");
        }
        let els = parse("<svg a=\"&quot;&#39;\"><text>&lt;&amp;&#x41;</text></svg>");
        assert_eq!((els[0].attr("a"), els[1].text.as_str()), ("\"'", "<&A"));
    }

    /// The accessibility contract; returns the `<desc>` text.
    fn check_accessible(els: &[El]) -> String {
        let svg = &els[0];
        assert_eq!(svg.attr("role"), "img");
        assert_eq!(svg.attr("xmlns"), "http://www.w3.org/2000/svg");
        let ids: Vec<&str> = svg.attr("aria-labelledby").split(' ').collect();
        assert_eq!(ids.len(), 2, "{:?}", svg.attrs);
        let find = |id: &str| {
            els.iter()
                .find(|e| e.attr("id") == id)
                .unwrap_or_else(|| panic!("no element #{id}"))
        };
        let (title, desc) = (find(ids[0]), find(ids[1]));
        assert_eq!((title.name.as_str(), title.parent), ("title", Some(0)));
        assert_eq!((desc.name.as_str(), desc.parent), ("desc", Some(0)));
        assert_eq!(els[1].name, "title", "the title comes first");
        assert!(!title.text.is_empty() && !desc.text.is_empty());
        // Ids are unique.
        let mut seen = std::collections::HashSet::new();
        for e in els.iter().filter(|e| e.attrs.contains_key("id")) {
            assert!(seen.insert(e.attr("id")), "duplicate id {}", e.attr("id"));
        }
        // Visible words only in <text>; no text in paths.
        for e in els {
            if !e.text.trim().is_empty() {
                assert!(
                    ["text", "title", "desc"].contains(&e.name.as_str()),
                    "text in <{}>",
                    e.name
                );
            }
        }
        // Colours: theme tokens with fallbacks, patterns, or none.
        for e in els {
            for key in ["fill", "stroke"] {
                if let Some(v) = e.attrs.get(key) {
                    let themed =
                        v.starts_with("var(--ds-") && v.contains(", #") && v.ends_with(')');
                    assert!(
                        themed || v == "none" || v.starts_with("url(#"),
                        "{key}={v:?} on <{}>",
                        e.name
                    );
                    if let Some(target) = v.strip_prefix("url(#").and_then(|t| t.strip_suffix(')'))
                    {
                        assert_eq!(find(target).name, "pattern");
                    }
                }
            }
        }
        desc.text.clone()
    }

    fn texts(els: &[El]) -> Vec<&str> {
        els.iter()
            .filter(|e| e.name == "text")
            .map(|e| e.text.as_str())
            .collect()
    }

    /// Vertices of the completions line (0 when there is none).
    fn vertices(els: &[El]) -> usize {
        els.iter()
            .find(|e| e.class() == "sc-line")
            .map_or(0, |e| e.attr("d").matches(['M', 'L']).count())
    }

    fn days(start: i64, counts: &[u32]) -> Vec<DayCount> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &completed)| DayCount {
                day: start + i as i64,
                completed,
            })
            .collect()
    }

    fn segments(counts: &[u32]) -> Vec<Segment> {
        let names = [
            "Completed",
            "In progress",
            "Not started",
            "Overdue",
            "Recertification due",
            "Expired",
        ];
        counts
            .iter()
            .zip(SegmentKind::ALL.iter().zip(names))
            .map(|(&count, (&kind, label))| Segment {
                label: label.into(),
                count,
                kind,
            })
            .collect()
    }

    /// The `(N %)` percentages in a status description.
    fn described_percents(desc: &str) -> Vec<u32> {
        desc.split('(')
            .skip(1)
            .filter_map(|part| part.split_once(" %)"))
            .filter_map(|(n, _)| n.parse().ok())
            .collect()
    }

    /// 2026-11-30.
    const NOV_30: i64 = 20_787;

    #[test]
    fn escape_covers_markup_quotes_and_forbidden_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert_eq!(
            escape("a\u{0}b\u{1b}c\u{ffff}\td\n"),
            "a\u{fffd}b\u{fffd}c\u{fffd}\td\n"
        );
        assert_eq!(escape("&amp;"), "&amp;amp;", "no double-decoding");
    }

    #[test]
    fn days_format_as_iso_dates() {
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(format_day(-1), "1969-12-31");
        assert_eq!(format_day(11_016), "2000-02-29");
        assert_eq!(format_day(NOV_30), "2026-11-30");
        assert_eq!(format_day(NOV_30 + 32), "2027-01-01");
        let mut german = ChartLabels::english("x");
        german.lang = crate::locale::Lang::De;
        assert_eq!(german.day(NOV_30), "30.11.2026");
        assert_eq!(german.day(-1), "31.12.1969");
        assert_eq!(ChartLabels::english("x").day(NOV_30), "2026-11-30");
        // No overflow at the ends of the range.
        assert!(format_day(i64::MAX).ends_with(|c: char| c.is_ascii_digit()));
        assert!(format_day(i64::MIN).starts_with('-'));
    }

    #[test]
    fn percentages_add_up_to_exactly_100() {
        assert_eq!(percentages(&[42, 50, 28]), [35, 42, 23]);
        assert_eq!(percentages(&[1, 1, 1]), [34, 33, 33]);
        assert_eq!(percentages(&[0, 5, 0]), [0, 100, 0]);
        assert_eq!(percentages(&[0, 0]), [0, 0]);
        assert_eq!(percentages(&[]), Vec::<u32>::new());
        assert_eq!(percentages(&[u32::MAX, u32::MAX, 1]), [50, 50, 0]);
    }

    #[test]
    fn templates_fill_once_and_keep_unknown_placeholders() {
        assert_eq!(fill("{a} of {b}", &[("a", "1"), ("b", "2")]), "1 of 2");
        assert_eq!(fill("{a}", &[("a", "{a}{b}"), ("b", "x")]), "{a}{b}");
        assert_eq!(fill("{x} {", &[("a", "1")]), "{x} {");
        assert_eq!(fill("ü{a}ß", &[("a", "é")]), "üéß");
    }

    #[test]
    fn y_scales_are_round() {
        assert_eq!(y_scale(0), (1, 1));
        assert_eq!(y_scale(1), (1, 1));
        assert_eq!(y_scale(3), (1, 3));
        assert_eq!(y_scale(7), (2, 8));
        assert_eq!(y_scale(120), (50, 150));
        assert_eq!(y_scale(1_000), (500, 1_000));
        let (step, top) = y_scale(u64::from(u32::MAX));
        assert_eq!((step, top), (2_000_000_000, 6_000_000_000));
    }

    #[test]
    fn ids_are_sanitised() {
        assert_eq!(sanitize_id("report-1_a"), "report-1_a");
        assert_eq!(sanitize_id("1st"), "c1st");
        assert_eq!(sanitize_id(""), "c");
        assert_eq!(sanitize_id("a b\"><script>"), "abscript");
    }

    #[test]
    fn completions_describe_the_data_in_words() {
        // 120 enrolled; 42 completed by 2026-11-30, 32 of them by 2026-11-23.
        let mut points = days(NOV_30 - 60, &[0; 50]);
        for (i, p) in points.iter_mut().enumerate() {
            p.completed = (i as u32 * 32) / 49;
        }
        points.push(DayCount {
            day: NOV_30 - 7,
            completed: 32,
        });
        points.push(DayCount {
            day: NOV_30 - 3,
            completed: 40,
        });
        points.push(DayCount {
            day: NOV_30,
            completed: 42,
        });
        let svg = completion_over_time(&points, 120, &ChartLabels::english("report"));
        let els = parse(&svg);
        let desc = check_accessible(&els);
        assert_eq!(
            desc,
            "Learners who completed the course, cumulative per day, from 2026-10-01 to \
             2026-11-30. 42 of 120 enrolled learners completed the course by 2026-11-30. \
             10 completed in the last 7 days."
        );
        let title = els.iter().find(|e| e.name == "title").unwrap();
        assert_eq!(title.text, "Course completions over time");
        assert_eq!(
            els[0].attr("aria-labelledby"),
            "report-completion-title report-completion-desc"
        );
        let texts = texts(&els);
        for expected in [
            "Learners completed",
            "Date",
            "120 enrolled",
            "0",
            "150",
            "2026-10-01",
            "2026-11-30",
        ] {
            assert!(texts.contains(&expected), "{expected:?} not in {texts:?}");
        }
        assert_eq!(vertices(&els), 53);
        assert_eq!(
            els.iter().filter(|e| e.class() == "sc-enrolled").count(),
            1,
            "the enrolment line"
        );
        assert_eq!(
            els.iter()
                .find(|e| e.class() == "sc-enrolled")
                .unwrap()
                .attr("stroke-dasharray"),
            "6 4",
            "dashed, not only another colour"
        );
    }

    #[test]
    fn without_enrolment_the_line_and_its_words_go() {
        let svg = completion_over_time(&days(NOV_30 - 1, &[3, 5]), 0, &ChartLabels::english("r"));
        let els = parse(&svg);
        let desc = check_accessible(&els);
        assert!(
            desc.contains("5 learners completed the course by 2026-11-30."),
            "{desc}"
        );
        assert!(desc.ends_with("5 completed in the last 7 days."), "{desc}");
        assert!(!els.iter().any(|e| e.class() == "sc-enrolled"));
    }

    #[test]
    fn no_points_make_an_empty_state_chart() {
        let labels = ChartLabels::english("r");
        let els = parse(&completion_over_time(&[], 120, &labels));
        let desc = check_accessible(&els);
        assert_eq!(desc, "No completions recorded yet.");
        assert_eq!(texts(&els), ["No completions recorded yet."]);
        assert_eq!(vertices(&els), 0);
    }

    #[test]
    fn one_point_is_a_marker_with_one_date() {
        let svg = completion_over_time(
            &[DayCount {
                day: NOV_30,
                completed: 7,
            }],
            10,
            &ChartLabels::english("r"),
        );
        let els = parse(&svg);
        let desc = check_accessible(&els);
        assert!(desc.contains("7 of 10 enrolled learners completed the course by 2026-11-30"));
        assert!(desc.ends_with("7 completed in the last 7 days."), "{desc}");
        assert_eq!(els.iter().filter(|e| e.name == "circle").count(), 1);
        assert_eq!(
            texts(&els).iter().filter(|t| **t == "2026-11-30").count(),
            1
        );
        assert_eq!(vertices(&els), 0, "no line through a single point");
    }

    #[test]
    fn unsorted_and_repeated_days_are_put_in_order() {
        let points = [
            DayCount {
                day: 12,
                completed: 9,
            },
            DayCount {
                day: 10,
                completed: 1,
            },
            DayCount {
                day: 12,
                completed: 11,
            },
            DayCount {
                day: 11,
                completed: 4,
            },
        ];
        assert_eq!(
            by_day(&points),
            [
                DayCount {
                    day: 10,
                    completed: 1
                },
                DayCount {
                    day: 11,
                    completed: 4
                },
                DayCount {
                    day: 12,
                    completed: 11
                },
            ]
        );
        let els = parse(&completion_over_time(
            &points,
            0,
            &ChartLabels::english("r"),
        ));
        assert!(check_accessible(&els).contains("11 learners completed"));
        assert_eq!(vertices(&els), 3);
    }

    #[test]
    fn three_years_of_days_stay_small() {
        let counts: Vec<u32> = (0..1_096).map(|i| i * 3).collect();
        let svg = completion_over_time(
            &days(NOV_30 - 1_095, &counts),
            4_000,
            &ChartLabels::english("r"),
        );
        let els = parse(&svg);
        let desc = check_accessible(&els);
        assert!(desc.contains("3285 of 4000 enrolled learners completed the course by 2026-11-30"));
        assert!(desc.ends_with("21 completed in the last 7 days."), "{desc}");
        assert!(vertices(&els) <= MAX_VERTICES, "{}", vertices(&els));
        assert!(vertices(&els) >= MAX_VERTICES - 1);
        assert!(svg.len() < 30_000, "{} bytes", svg.len());
        // The line still ends on the last day.
        let d = els
            .iter()
            .find(|e| e.class() == "sc-line")
            .unwrap()
            .attr("d");
        let circle = els.iter().find(|e| e.name == "circle").unwrap();
        assert!(
            d.ends_with(&format!("{} {}", circle.attr("cx"), circle.attr("cy"))),
            "{d}"
        );
    }

    #[test]
    fn a_thousand_points_report_their_size() {
        let counts: Vec<u32> = (0..1_000).map(|i| i * i / 10).collect();
        let svg = completion_over_time(
            &days(NOV_30 - 999, &counts),
            120_000,
            &ChartLabels::english("r"),
        );
        let els = parse(&svg);
        check_accessible(&els);
        assert!(vertices(&els) <= MAX_VERTICES);
        assert!(svg.len() < 30_000);
        println!("a 1000-point completions chart: {} bytes", svg.len());
    }

    #[test]
    fn sparse_days_over_a_long_span_are_thinned_too() {
        // Irregular days: weekly for 40 years.
        let points: Vec<DayCount> = (0..2_100)
            .map(|i| DayCount {
                day: i * 7,
                completed: i as u32,
            })
            .collect();
        let kept = thin(&points, MAX_VERTICES);
        assert!(kept.len() <= MAX_VERTICES);
        assert_eq!(kept.first(), points.first());
        assert_eq!(kept.last(), points.last());
        assert!(kept.windows(2).all(|w| w[0].day < w[1].day));
    }

    #[test]
    fn huge_counts_fit() {
        let points = days(NOV_30 - 2, &[u32::MAX - 2, u32::MAX - 1, u32::MAX]);
        let els = parse(&completion_over_time(
            &points,
            u32::MAX,
            &ChartLabels::english("r"),
        ));
        let desc = check_accessible(&els);
        assert!(desc.contains("4294967295 of 4294967295 enrolled"), "{desc}");
        assert!(texts(&els).contains(&"6000000000"));
        let els = parse(&status_breakdown(
            &segments(&[u32::MAX; 6]),
            &ChartLabels::english("r"),
        ));
        let desc = check_accessible(&els);
        assert!(desc.starts_with("25769803770 learners by status: Completed 4294967295 (17 %)"));
        assert_eq!(described_percents(&desc).iter().sum::<u32>(), 100);
    }

    #[test]
    fn status_breakdown_lists_every_status_in_words() {
        let segs = segments(&[42, 50, 28, 0, 0, 0]);
        let els = parse(&status_breakdown(&segs, &ChartLabels::english("report")));
        let desc = check_accessible(&els);
        assert_eq!(
            desc,
            "120 learners by status: Completed 42 (35 %), In progress 50 (42 %), \
             Not started 28 (23 %), Overdue 0 (0 %), Recertification due 0 (0 %), \
             Expired 0 (0 %)."
        );
        assert_eq!(
            els.iter().find(|e| e.name == "title").unwrap().text,
            "Learners by status"
        );
        let legend: Vec<&El> = els
            .iter()
            .filter(|e| e.class() == "sc-legend-entry")
            .collect();
        assert_eq!(legend.len(), 3, "empty statuses are not drawn");
        let texts = texts(&els);
        for expected in [
            "Completed 42 (35 %)",
            "In progress 50 (42 %)",
            "Not started 28 (23 %)",
            "35 %",
        ] {
            assert!(texts.contains(&expected), "{expected:?} not in {texts:?}");
        }
        // Two of the three statuses are patterned; the legend swatches use
        // the same patterns as the bar.
        let patterns: Vec<&str> = els
            .iter()
            .filter(|e| e.name == "pattern")
            .map(|e| e.attr("id"))
            .collect();
        assert_eq!(
            patterns,
            [
                "report-status-pat-in-progress",
                "report-status-pat-not-started"
            ]
        );
        let uses = |id: &str| {
            els.iter()
                .filter(|e| e.attr("fill") == format!("url(#{id})"))
                .count()
        };
        assert!(patterns.iter().all(|p| uses(p) == 2));
    }

    #[test]
    fn every_status_has_its_own_pattern_or_none() {
        let patterns: Vec<Option<String>> = SegmentKind::ALL.iter().map(|k| k.pattern()).collect();
        assert_eq!(patterns.iter().filter(|p| p.is_none()).count(), 1);
        for (i, a) in patterns.iter().enumerate() {
            for b in &patterns[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let els = parse(&status_breakdown(
            &segments(&[1, 2, 3, 4, 5, 6]),
            &ChartLabels::english("r"),
        ));
        check_accessible(&els);
        assert_eq!(els.iter().filter(|e| e.name == "pattern").count(), 5);
        assert_eq!(els.iter().filter(|e| e.class() == "sc-segment").count(), 6);
    }

    #[test]
    fn no_learners_make_an_empty_status_chart() {
        for segs in [Vec::new(), segments(&[0, 0, 0])] {
            let els = parse(&status_breakdown(&segs, &ChartLabels::english("r")));
            assert_eq!(check_accessible(&els), "No learners enrolled yet.");
            assert_eq!(texts(&els), ["No learners enrolled yet."]);
        }
    }

    #[test]
    fn hostile_labels_are_escaped() {
        let evil = r#"<script>alert('x')</script> & "quoted" ]]> &amp;"#;
        let mut labels = ChartLabels::english(r#"x" onload="alert(1)"#);
        labels.completion_title = evil.into();
        labels.y_axis = evil.into();
        labels.status_title = evil.into();
        let segs = vec![
            Segment {
                label: evil.into(),
                count: 3,
                kind: SegmentKind::Overdue,
            },
            Segment {
                label: "{count} {percent}".into(),
                count: 1,
                kind: SegmentKind::Completed,
            },
        ];
        for svg in [
            completion_over_time(&days(NOV_30, &[1, 2]), 3, &labels),
            status_breakdown(&segs, &labels),
        ] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains(" onload"), "{svg}");
            let els = parse(&svg);
            let desc = check_accessible(&els);
            assert_eq!(els[1].text, evil, "the title round-trips");
            assert!(els[0].attr("id").starts_with("xonloadalert1-"));
            if svg.contains("-status") {
                assert!(desc.contains(&format!("{evil} 3 (75 %)")), "{desc}");
                assert!(desc.contains("{count} {percent} 1 (25 %)"), "{desc}");
                assert!(texts(&els).contains(&format!("{evil} 3 (75 %)").as_str()));
            } else {
                assert!(texts(&els).contains(&evil));
            }
        }
    }

    #[test]
    fn long_labels_are_shortened_in_the_legend_only() {
        let long = "x".repeat(200);
        let segs = vec![Segment {
            label: long.clone(),
            count: 1,
            kind: SegmentKind::Expired,
        }];
        let els = parse(&status_breakdown(&segs, &ChartLabels::english("r")));
        assert!(check_accessible(&els).contains(&long));
        let legend = texts(&els)
            .into_iter()
            .find(|t| t.starts_with('x'))
            .unwrap();
        assert!(
            legend.starts_with(&format!("{}…", "x".repeat(59))),
            "{legend}"
        );
    }

    #[test]
    fn two_charts_on_one_page_have_no_common_ids() {
        let ids = |svg: &str| -> Vec<String> {
            parse(svg)
                .into_iter()
                .filter_map(|e| e.attrs.get("id").cloned())
                .collect()
        };
        let segs = segments(&[1, 2, 3, 4, 5, 6]);
        let points = days(NOV_30, &[1, 2]);
        let same = ChartLabels::english("report");
        let charts = [
            completion_over_time(&points, 3, &same),
            status_breakdown(&segs, &same),
            completion_over_time(&points, 3, &ChartLabels::english("other")),
            status_breakdown(&segs, &ChartLabels::english("other")),
        ];
        let all: Vec<String> = charts.iter().flat_map(|c| ids(c)).collect();
        let unique: std::collections::HashSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.04), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-0.5), "-0.5");
        assert_eq!(num(-3.0), "-3");
    }

    proptest! {
        #[test]
        fn completion_charts_are_always_well_formed(
            points in proptest::collection::vec(
                (-1_000_000i64..1_000_000, any::<u32>()),
                0..1_500,
            ),
            total in any::<u32>(),
            prefix in any::<String>(),
        ) {
            let points: Vec<DayCount> = points
                .into_iter()
                .map(|(day, completed)| DayCount { day, completed })
                .collect();
            let svg = completion_over_time(&points, total, &ChartLabels::english(&prefix));
            let els = parse(&svg);
            let desc = check_accessible(&els);
            let series = by_day(&points);
            prop_assert!(vertices(&els) <= MAX_VERTICES);
            prop_assert!(svg.len() < 30_000, "{} bytes", svg.len());
            match series.last() {
                Some(last) => {
                    prop_assert!(desc.contains(&format!(" {} ", last.completed)), "{}", desc);
                    prop_assert!(desc.contains(&format_day(last.day)));
                }
                None => prop_assert_eq!(desc, "No completions recorded yet."),
            }
        }

        #[test]
        fn status_charts_are_always_well_formed(
            segs in proptest::collection::vec(
                ("[^(]{0,24}", prop_oneof![Just(0u32), 0u32..1_000, any::<u32>()], 0usize..6),
                0..10,
            ),
            prefix in any::<String>(),
        ) {
            let segs: Vec<Segment> = segs
                .into_iter()
                .map(|(label, count, kind)| Segment { label, count, kind: SegmentKind::ALL[kind] })
                .collect();
            let svg = status_breakdown(&segs, &ChartLabels::english(&prefix));
            let els = parse(&svg);
            let desc = check_accessible(&els);
            let non_empty = segs.iter().filter(|s| s.count > 0).count();
            let legend = els.iter().filter(|e| e.class() == "sc-legend-entry").count();
            prop_assert_eq!(legend, non_empty);
            if non_empty == 0 {
                prop_assert_eq!(desc, "No learners enrolled yet.");
            } else {
                let percents = described_percents(&desc);
                prop_assert_eq!(percents.len(), segs.len(), "{}", desc);
                prop_assert_eq!(percents.iter().sum::<u32>(), 100);
                // Labels come back as written (legend text is shortened).
                for s in &segs {
                    prop_assert!(desc.contains(&escape_roundtrip(&s.label)), "{}", desc);
                }
            }
        }
    }

    /// What a label reads as once escaped and parsed again: itself, except
    /// for the characters XML forbids and XML's line-ending normalisation.
    fn escape_roundtrip(s: &str) -> String {
        let els = parse(&format!("<svg>{}</svg>", escape(s)));
        els[0].text.clone()
    }
}
