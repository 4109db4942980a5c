//! The JSON file shape for exporting and importing a whole course (shared).
//!
//! ```json
//! { "format": "smart-courses/course", "version": 1, "content": { "title": "…", … } }
//! ```
//!
//! Ids are kept as they are; an imported course is validated like any other
//! before it can be published.

use serde::{Deserialize, Serialize};

use super::model::CourseContent;

/// The `format` value of a course export.
pub const EXPORT_FORMAT: &str = "smart-courses/course";
/// The only `version` this build reads and writes.
pub const EXPORT_VERSION: u32 = 1;

/// A whole course as a self-describing JSON document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseExport {
    pub format: String,
    pub version: u32,
    pub content: CourseContent,
}

impl CourseExport {
    /// Wraps content in the current format and version.
    pub fn new(content: CourseContent) -> Self {
        CourseExport {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            content,
        }
    }
}

/// The export file of a course (pretty-printed JSON).
pub fn to_export_json(content: &CourseContent) -> String {
    serde_json::to_string_pretty(&CourseExport::new(content.clone()))
        .unwrap_or_else(|_| String::from("{}"))
}

/// Reads an export file. The error says, for a person, what is wrong: not
/// JSON, not a Smart Courses course, a version this build cannot read, or
/// which part of the course is malformed.
pub fn parse_export(json: &str) -> Result<CourseContent, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("The file is not valid JSON ({e})."))?;
    let Some(object) = value.as_object() else {
        return Err(
            "The file is not a Smart Courses course export (expected a JSON object).".into(),
        );
    };
    match object.get("format").and_then(|f| f.as_str()) {
        Some(EXPORT_FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "The file is not a Smart Courses course export (its format is \"{other}\", \
                 expected \"{EXPORT_FORMAT}\")."
            ))
        }
        None => {
            return Err(format!(
                "The file is not a Smart Courses course export (it has no \"format\": \
                 \"{EXPORT_FORMAT}\")."
            ))
        }
    }
    match object.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(EXPORT_VERSION) => {}
        Some(v) if v > u64::from(EXPORT_VERSION) => {
            return Err(format!(
                "The course was exported by a newer version of Smart Courses (format version \
                 {v}); this version reads version {EXPORT_VERSION}."
            ))
        }
        Some(v) => {
            return Err(format!(
                "Unsupported course export version {v}; this version reads version \
                 {EXPORT_VERSION}."
            ))
        }
        None => {
            return Err(format!(
                "The course export has no valid \"version\" (expected {EXPORT_VERSION})."
            ))
        }
    }
    let content = object
        .get("content")
        .ok_or_else(|| String::from("The course export has no \"content\"."))?;
    serde_json::from_value::<CourseContent>(content.clone())
        .map_err(|e| format!("The course in the file is malformed: {e}."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CourseSettings, Lesson, Module};

    fn content() -> CourseContent {
        CourseContent {
            title: "Fire safety".into(),
            description_md: "**Read me**".into(),
            modules: vec![Module {
                id: "m1".into(),
                title: "Extinguishers".into(),
                lessons: vec![Lesson {
                    id: "l1".into(),
                    title: "Types".into(),
                    body_md: "Water, foam, CO₂".into(),
                }],
                quiz: None,
            }],
            settings: CourseSettings::default(),
        }
    }

    #[test]
    fn round_trip() {
        let json = to_export_json(&content());
        assert!(json.contains("\"format\": \"smart-courses/course\""));
        assert!(json.contains("\"version\": 1"));
        assert_eq!(parse_export(&json).unwrap(), content());
    }

    #[test]
    fn rejects_wrong_format_version_and_garbage_clearly() {
        let with = |format: &str, version: &str| {
            format!(r#"{{"format": {format}, "version": {version}, "content": {{"title": "x"}}}}"#)
        };
        let err = parse_export(&with("\"moodle/xml\"", "1")).unwrap_err();
        assert!(err.contains("its format is \"moodle/xml\""), "{err}");
        let err = parse_export(&with("\"smart-courses/course\"", "2")).unwrap_err();
        assert!(err.contains("newer version"), "{err}");
        let err = parse_export(&with("\"smart-courses/course\"", "0")).unwrap_err();
        assert!(err.contains("Unsupported course export version 0"), "{err}");
        let err = parse_export(&with("\"smart-courses/course\"", "\"1\"")).unwrap_err();
        assert!(err.contains("no valid \"version\""), "{err}");
        let err = parse_export(r#"{"version": 1}"#).unwrap_err();
        assert!(err.contains("has no \"format\""), "{err}");
        let err = parse_export("[1, 2]").unwrap_err();
        assert!(err.contains("expected a JSON object"), "{err}");
        let err = parse_export("not json").unwrap_err();
        assert!(err.starts_with("The file is not valid JSON"), "{err}");
        let err = parse_export(r#"{"format": "smart-courses/course", "version": 1}"#).unwrap_err();
        assert!(err.contains("no \"content\""), "{err}");
        let err = parse_export(
            r#"{"format": "smart-courses/course", "version": 1, "content": {"modules": []}}"#,
        )
        .unwrap_err();
        assert!(err.contains("malformed") && err.contains("title"), "{err}");
    }

    #[test]
    fn minimal_content_gets_defaults() {
        let c = parse_export(
            r#"{"format": "smart-courses/course", "version": 1, "content": {"title": "T"}}"#,
        )
        .unwrap();
        assert_eq!(c.settings.pass_mark_percent, 80);
        assert!(c.modules.is_empty());
    }
}
