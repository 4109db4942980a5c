//! Typed calls of every server function: the request in the function's own
//! input encoding, the answer as the app's own DTO, a refusal as the status
//! and the app's error. Ids go in as text, so a test can also send ones the
//! app must refuse. (Leak tests that look for text anywhere in an answer use
//! [`TestApp::call_fn`] and the raw JSON instead.)

use app::{
    api::WhoAmI,
    authoring::api::{EditorState, ImportFormat, SavedDraft, VersionInfo},
    course::model::{CourseContent, ImportReport, Response},
    error::AppError,
    learning::api::{
        AttemptResult, AttemptSummary, AttemptView, Certificate, LearnerCourse, ProgressDto,
        SavedAnswer,
    },
    space_admin::api::{CourseReport, SpaceOverview},
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::test_app::TestApp;

/// A server function refused: the HTTP status and the app's error.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Refused {
    pub status: u16,
    pub error: AppError,
}

/// What a typed call returns.
pub(crate) type Reply<T> = Result<T, Refused>;

/// The DTO of a 200, or the status and error of a refusal. Panics (with the
/// body) when the answer is neither — the app broke its own contract.
pub(crate) async fn typed<T: DeserializeOwned>(resp: reqwest::Response) -> Reply<T> {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    if status == 200 {
        Ok(serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("200 with an unexpected body ({e}): {text}")))
    } else {
        let error = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status} without an AppError body ({e}): {text}"));
        Err(Refused { status, error })
    }
}

impl TestApp {
    async fn form<T: DeserializeOwned>(
        &self,
        token: &str,
        name: &str,
        form: &[(&str, &str)],
    ) -> Reply<T> {
        typed(self.call_fn(name, Some(token), form).await).await
    }

    async fn json<T: DeserializeOwned>(&self, token: &str, name: &str, body: Value) -> Reply<T> {
        typed(self.call_fn_json(name, Some(token), &body).await).await
    }

    // ---- learning ------------------------------------------------------------

    /// `learning/course`.
    pub(crate) async fn learner_course(
        &self,
        token: &str,
        course_id: &str,
    ) -> Reply<LearnerCourse> {
        self.form(token, "learning/course", &[("course_id", course_id)])
            .await
    }

    /// `learning/open-lesson`.
    pub(crate) async fn open_lesson(
        &self,
        token: &str,
        course_id: &str,
        version: i64,
        lesson_id: &str,
    ) -> Reply<ProgressDto> {
        let v = version.to_string();
        self.form(
            token,
            "learning/open-lesson",
            &[
                ("course_id", course_id),
                ("version", &v),
                ("lesson_id", lesson_id),
            ],
        )
        .await
    }

    /// `learning/start-attempt`.
    pub(crate) async fn start_attempt(
        &self,
        token: &str,
        course_id: &str,
        module_id: &str,
        client_token: &str,
    ) -> Reply<AttemptView> {
        self.form(
            token,
            "learning/start-attempt",
            &[
                ("course_id", course_id),
                ("module_id", module_id),
                ("client_token", client_token),
            ],
        )
        .await
    }

    /// `learning/save-answer`.
    pub(crate) async fn save_answer(
        &self,
        token: &str,
        attempt_id: &str,
        question_id: &str,
        response: &Response,
        answered_at_ms: i64,
    ) -> Reply<SavedAnswer> {
        self.json(
            token,
            "learning/save-answer",
            json!({"attempt_id": attempt_id, "question_id": question_id,
                   "response": response, "answered_at_ms": answered_at_ms}),
        )
        .await
    }

    /// `learning/save-answer` carrying the offline journal's checkpoint.
    pub(crate) async fn save_answer_with_checkpoint(
        &self,
        token: &str,
        attempt_id: &str,
        question_id: &str,
        response: &Response,
        answered_at_ms: i64,
        checkpoint: Option<&str>,
    ) -> Reply<SavedAnswer> {
        self.json(
            token,
            "learning/save-answer",
            json!({"attempt_id": attempt_id, "question_id": question_id,
                   "response": response, "answered_at_ms": answered_at_ms,
                   "checkpoint": checkpoint}),
        )
        .await
    }

    /// `learning/submit` with a journal and the offline journal's checkpoint.
    pub(crate) async fn submit_attempt_with_checkpoint(
        &self,
        token: &str,
        attempt_id: &str,
        answers: &[(&str, Response, i64)],
        checkpoint: Option<&str>,
    ) -> Reply<AttemptResult> {
        self.json(
            token,
            "learning/submit",
            json!({"attempt_id": attempt_id, "answers": answers, "checkpoint": checkpoint}),
        )
        .await
    }

    /// `whoami`.
    pub(crate) async fn whoami(&self, token: &str) -> Reply<WhoAmI> {
        self.form(token, "whoami", &[]).await
    }

    /// `learning/submit` with a journal of `(question id, response, answered at)`.
    pub(crate) async fn submit_attempt(
        &self,
        token: &str,
        attempt_id: &str,
        answers: &[(&str, Response, i64)],
    ) -> Reply<AttemptResult> {
        self.json(
            token,
            "learning/submit",
            json!({"attempt_id": attempt_id, "answers": answers}),
        )
        .await
    }

    /// `learning/history`.
    pub(crate) async fn attempt_history(
        &self,
        token: &str,
        course_id: &str,
        module_id: &str,
    ) -> Reply<Vec<AttemptSummary>> {
        self.form(
            token,
            "learning/history",
            &[("course_id", course_id), ("module_id", module_id)],
        )
        .await
    }

    /// `learning/certificate`.
    pub(crate) async fn certificate(&self, token: &str, course_id: &str) -> Reply<Certificate> {
        self.form(token, "learning/certificate", &[("course_id", course_id)])
            .await
    }

    // ---- authoring -----------------------------------------------------------

    /// `authoring/open` (`None`: a new macro).
    pub(crate) async fn editor_open(
        &self,
        token: &str,
        course_id: Option<&str>,
    ) -> Reply<EditorState> {
        match course_id {
            Some(id) => {
                self.form(token, "authoring/open", &[("course_id", id)])
                    .await
            }
            None => self.form(token, "authoring/open", &[]).await,
        }
    }

    /// `authoring/save-draft`.
    pub(crate) async fn save_draft(
        &self,
        token: &str,
        course_id: Option<&str>,
        revision: i64,
        content: &Value,
    ) -> Reply<SavedDraft> {
        self.json(
            token,
            "authoring/save-draft",
            json!({"course_id": course_id, "revision": revision, "content": content}),
        )
        .await
    }

    /// `authoring/publish`.
    pub(crate) async fn publish(
        &self,
        token: &str,
        course_id: &str,
        revision: i64,
        material: bool,
    ) -> Reply<VersionInfo> {
        let (r, m) = (revision.to_string(), material.to_string());
        self.form(
            token,
            "authoring/publish",
            &[("course_id", course_id), ("revision", &r), ("material", &m)],
        )
        .await
    }

    /// `authoring/version`.
    pub(crate) async fn version_content(
        &self,
        token: &str,
        course_id: &str,
        version: i64,
    ) -> Reply<CourseContent> {
        let v = version.to_string();
        self.form(
            token,
            "authoring/version",
            &[("course_id", course_id), ("version", &v)],
        )
        .await
    }

    /// `authoring/restore`.
    pub(crate) async fn restore_version(
        &self,
        token: &str,
        course_id: &str,
        version: i64,
        revision: i64,
    ) -> Reply<SavedDraft> {
        let (v, r) = (version.to_string(), revision.to_string());
        self.form(
            token,
            "authoring/restore",
            &[("course_id", course_id), ("version", &v), ("revision", &r)],
        )
        .await
    }

    /// `authoring/copy`.
    pub(crate) async fn copy_course(&self, token: &str, course_id: &str) -> Reply<EditorState> {
        self.form(token, "authoring/copy", &[("course_id", course_id)])
            .await
    }

    /// `authoring/preview`.
    pub(crate) async fn preview_markdown(&self, token: &str, markdown: &str) -> Reply<String> {
        self.form(token, "authoring/preview", &[("markdown", markdown)])
            .await
    }

    /// `authoring/import-questions`.
    pub(crate) async fn import_questions(
        &self,
        token: &str,
        format: ImportFormat,
        text: &str,
    ) -> Reply<ImportReport> {
        let f = match format {
            ImportFormat::Gift => "Gift",
            ImportFormat::Aiken => "Aiken",
        };
        self.form(
            token,
            "authoring/import-questions",
            &[("format", f), ("text", text)],
        )
        .await
    }

    /// `authoring/export`.
    pub(crate) async fn export_course(&self, token: &str, course_id: &str) -> Reply<String> {
        self.form(token, "authoring/export", &[("course_id", course_id)])
            .await
    }

    /// `authoring/import-course`.
    pub(crate) async fn import_course(&self, token: &str, json: &str) -> Reply<CourseContent> {
        self.form(token, "authoring/import-course", &[("json", json)])
            .await
    }

    // ---- space admin -----------------------------------------------------------

    /// `space-admin/overview`.
    pub(crate) async fn space_overview(&self, token: &str) -> Reply<SpaceOverview> {
        self.form(token, "space-admin/overview", &[]).await
    }

    /// `space-admin/course-report`.
    pub(crate) async fn course_report(&self, token: &str, course_id: &str) -> Reply<CourseReport> {
        self.form(
            token,
            "space-admin/course-report",
            &[("course_id", course_id)],
        )
        .await
    }

    /// `space-admin/course-report-csv`.
    pub(crate) async fn course_report_csv(&self, token: &str, course_id: &str) -> Reply<String> {
        self.form(
            token,
            "space-admin/course-report-csv",
            &[("course_id", course_id)],
        )
        .await
    }
}
