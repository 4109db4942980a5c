//! Course fixtures.

use serde_json::{json, Value};

/// A publishable course with two lessons and one question of every kind,
/// in its canonical JSON form (every defaulted field spelled out, as the
/// server stores and returns it). Every answer-bearing text contains
/// `hidden-`, so a test can prove no answer reached someone who must not see it.
pub(crate) fn valid_course(title: &str) -> Value {
    canonical_course(&json!({
        "title": title,
        "description_md": "Learn **fire** safety.",
        "modules": [{
            "id": "m1",
            "title": "Basics",
            "lessons": [
                {"id": "l1", "title": "Why it matters", "body_md": "hidden-body Fires spread fast."},
                {"id": "l2", "title": "Extinguishers", "body_md": "Use the *right* one."}
            ],
            "quiz": {"questions": [
                {"id": "q1", "prompt_md": "hidden-prompt Electrical fire?", "points": 1.0,
                 "kind": {"type": "single_choice", "options": [
                    {"id": "a", "text": "hidden-water", "correct": false},
                    {"id": "b", "text": "hidden-co2", "correct": true}]}},
                {"id": "q2", "prompt_md": "Which are exits?", "points": 2.0,
                 "kind": {"type": "multiple_choice", "partial_credit": true, "options": [
                    {"id": "a", "text": "hidden-door", "correct": true},
                    {"id": "b", "text": "hidden-window", "correct": true},
                    {"id": "c", "text": "hidden-lift", "correct": false}]}},
                {"id": "q3", "prompt_md": "Smoke rises.", "points": 1.0,
                 "kind": {"type": "true_false", "answer": true}},
                {"id": "q4", "prompt_md": "Minutes to evacuate?", "points": 1.0,
                 "kind": {"type": "numeric", "answer": 4242.5, "tolerance": 0.5}},
                {"id": "q5", "prompt_md": "Assembly point?", "points": 1.0,
                 "kind": {"type": "short_text", "accepted": [
                    {"text": "hidden-car park", "mode": "case_insensitive"}]}},
                {"id": "q6", "prompt_md": "Order the steps.", "points": 1.0,
                 "kind": {"type": "ordering", "items": [
                    {"id": "i1", "text": "hidden-raise the alarm"},
                    {"id": "i2", "text": "hidden-leave"}]}},
                {"id": "q7", "prompt_md": "Match the class.", "points": 1.0,
                 "kind": {"type": "matching", "pairs": [
                    {"id": "p1", "prompt": "Class A", "answer": "hidden-wood"},
                    {"id": "p2", "prompt": "Class B", "answer": "hidden-petrol"}]}}
            ]}
        }],
        "settings": {"pass_mark_percent": 80}
    }))
}

/// `content` as the server stores it: parsed as a course and written back.
pub(crate) fn canonical_course(content: &Value) -> Value {
    let parsed: app::course::model::CourseContent =
        serde_json::from_value(content.clone()).expect("a course");
    serde_json::to_value(parsed).unwrap()
}
