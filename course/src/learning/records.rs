//! The learner's stored records, as the rules see them (the store reads and
//! writes exactly these).

/// One quiz attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub id: String,
    pub course_id: String,
    pub module_id: String,
    pub account_id: String,
    pub client_token: String,
    /// The course version the questions come from (pinned at start).
    pub course_version: i64,
    pub page_version: Option<i64>,
    /// The first version of the re-certification cycle it was started in.
    pub cycle_version: i64,
    /// 1-based within its cycle.
    pub number: i64,
    /// The shuffle seed.
    pub seed: u64,
    pub started_at_ms: i64,
    pub deadline_ms: Option<i64>,
    pub last_activity_ms: i64,
    pub submitted_at_ms: Option<i64>,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub percent: Option<f64>,
    pub passed: Option<bool>,
    /// The attempt's secret for its offline-journal checkpoints (see
    /// [`super::checkpoint`]); never leaves the server. `None` for attempts
    /// started before checkpoints existed.
    pub checkpoint_key: Option<String>,
}

/// One stored answer of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    pub question_id: String,
    /// The learner's `Response`, as JSON.
    pub response_json: String,
    /// When the learner answered (server time).
    pub answered_at_ms: i64,
    /// When the server received it.
    pub received_at_ms: i64,
}

/// An answer on its way into the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAnswer<'a> {
    pub question_id: &'a str,
    pub response_json: &'a str,
    pub answered_at_ms: i64,
}

/// A course completion (one per re-certification cycle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The latest published version when it was recorded.
    pub version: i64,
    /// Seconds since the Unix epoch.
    pub completed_at: i64,
}

/// A submit's grade, stored with the attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRecord {
    pub score: f64,
    pub max_score: f64,
    pub percent: f64,
    pub passed: bool,
}

/// The same JSON document (so the same response), whatever the formatting.
pub fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use super::same_json;

    #[test]
    fn same_json_ignores_formatting_only() {
        assert!(same_json(r#"{"a":1,"b":[2]}"#, r#"{ "b": [2], "a": 1 }"#));
        assert!(!same_json(r#"{"a":1}"#, r#"{"a":2}"#));
        assert!(!same_json("not json", "not  json"));
        assert!(same_json("not json", "not json"));
    }
}
