//! `GET /atlassian-connect.json`: the app descriptor, rendered from the
//! `atlassian-connect.json` template at the repository root with the
//! configured base URL and app key.
//! Reference: <https://developer.atlassian.com/cloud/confluence/connect-app-descriptor/>

use anyhow::Context;
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use app::state::AppState;

/// The template, compiled in so the binary is self-contained.
const TEMPLATE: &str = include_str!("../../atlassian-connect.json");

/// Renders the descriptor once at start-up (and checks it is valid JSON).
pub fn render(base_url: &str, app_key: &str) -> anyhow::Result<String> {
    let text = TEMPLATE
        .replace("{{baseUrl}}", base_url)
        .replace("{{appKey}}", app_key);
    let value: serde_json::Value =
        serde_json::from_str(&text).context("atlassian-connect.json is not valid JSON")?;
    Ok(serde_json::to_string_pretty(&value)?)
}

/// Serves the descriptor. Public by design: Confluence fetches it to install.
pub async fn get(State(state): State<AppState>) -> Response {
    let settings = &state.connect.settings;
    match render(&settings.base_url_str(), &settings.app_key) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "descriptor rendering failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_has_base_url_and_exactly_the_six_scopes() {
        let text = render("https://courses.example.com", "smart-courses").unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["baseUrl"], "https://courses.example.com");
        assert_eq!(v["key"], "smart-courses");
        let scopes: Vec<&str> = v["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(
            scopes,
            [
                "READ",
                "WRITE",
                "DELETE",
                "ACT_AS_USER",
                "ACCESS_EMAIL_ADDRESSES",
                "SPACE_ADMIN"
            ]
        );
        assert!(!text.contains("{{"), "unrendered placeholder left: {text}");
    }
}
