//! Editor state: [`Ctx`] holds every signal the panels share (the draft,
//! the selection, the save state, …) and its methods are the only way the
//! panels change the draft, so every edit marks the draft dirty and
//! schedules an autosave. Also the selection ([`Sel`]), the save and load
//! states, the per-question analytics of the latest published version
//! ([`Analytics`]), and [`fresh_id`] for new items.

use std::{collections::HashMap, time::Duration};

use leptos::{prelude::*, task::spawn_local};

use crate::{
    ap,
    authoring::api::{self, EditorState, Outline, VersionInfo},
    course::model::{CourseContent, Question},
    error::AppError,
    space_admin::api::CourseAnalytics,
};
use course::ids::CourseId;

/// What the right-hand panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sel {
    Course,
    Module(usize),
    Lesson(usize, usize),
    Quiz(usize),
    Versions,
}

/// Autosave state, shown in the header (and announced politely).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum SaveState {
    Saved,
    Dirty,
    Saving,
    Offline,
    Failed(String),
}

/// How the questions of the latest published version performed, shown
/// beside each question in the quiz panel. Loaded once when the editor
/// opens (and again after publishing).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Analytics {
    /// The course has no published version: no learner has seen a question.
    Unpublished,
    Loading,
    Ready {
        figures: CourseAnalytics,
        /// The questions as published in `figures.version`, by (module id,
        /// question id): a draft question that differs is a new question to
        /// learners.
        published: HashMap<(String, String), Question>,
    },
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Phase {
    Loading,
    Ready,
    Failed(String),
}

/// All editor state, as signals (cheap to copy into closures).
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub(super) phase: RwSignal<Phase>,
    pub(super) course_id: RwSignal<Option<CourseId>>,
    pub(super) can_edit: RwSignal<bool>,
    pub(super) draft: RwSignal<CourseContent>,
    pub(super) outline: RwSignal<Outline>,
    pub(super) revision: RwSignal<i64>,
    pub(super) latest_version: RwSignal<Option<i64>>,
    pub(super) versions: RwSignal<Vec<VersionInfo>>,
    pub(super) other_page: RwSignal<bool>,
    pub(super) sel: RwSignal<Sel>,
    pub(super) structure: RwSignal<u64>,
    pub(super) save: RwSignal<SaveState>,
    pub(super) edit_gen: RwSignal<u64>,
    pub(super) notice: RwSignal<Option<(bool, String)>>,
    pub(super) busy: RwSignal<bool>,
    /// Publishing is under way (the publish button says so).
    pub(super) publishing: RwSignal<bool>,
    /// The author marks the change as material (re-certification due).
    pub(super) material: RwSignal<bool>,
    pub(super) analytics: RwSignal<Analytics>,
    /// What the polite live region says after an item was added, moved or
    /// deleted (screen readers announce it; focus moves silently).
    pub(super) live: RwSignal<String>,
    /// The page's language (Confluence's `loc`), for every text the panels show.
    pub(super) loc: crate::locale::Locale,
}

/// How long typing must pause before the draft is saved.
const AUTOSAVE_AFTER: Duration = Duration::from_millis(700);
/// Retry interval while the server cannot be reached.
const RETRY_AFTER: Duration = Duration::from_secs(3);

/// A fresh id for a new module, lesson, question, option, item or pair.
pub(super) fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    #[cfg(feature = "hydrate")]
    let t = js_sys::Date::now() as u64;
    #[cfg(not(feature = "hydrate"))]
    let t = 0u64;
    crate::course::model::new_id(t.wrapping_mul(1_000_003) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl Ctx {
    pub(super) fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Loading),
            course_id: RwSignal::new(None),
            can_edit: RwSignal::new(false),
            draft: RwSignal::new(CourseContent {
                title: String::new(),
                description_md: String::new(),
                modules: Vec::new(),
                settings: Default::default(),
            }),
            outline: RwSignal::new(Outline::default()),
            revision: RwSignal::new(0),
            latest_version: RwSignal::new(None),
            versions: RwSignal::new(Vec::new()),
            other_page: RwSignal::new(false),
            sel: RwSignal::new(Sel::Course),
            structure: RwSignal::new(0),
            save: RwSignal::new(SaveState::Saved),
            edit_gen: RwSignal::new(0),
            notice: RwSignal::new(None),
            busy: RwSignal::new(false),
            publishing: RwSignal::new(false),
            material: RwSignal::new(false),
            analytics: RwSignal::new(Analytics::Unpublished),
            live: RwSignal::new(String::new()),
            loc: crate::locale::use_locale(),
        }
    }

    pub(super) fn apply(self, s: EditorState) {
        self.course_id.set(s.course_id);
        self.can_edit.set(s.can_edit);
        if let Some(c) = s.content.and_then(api::Draft::into_content) {
            self.draft.set(c);
        }
        self.outline.set(s.outline);
        self.revision.set(s.revision);
        self.latest_version.set(s.latest_version);
        self.versions.set(s.versions);
        self.other_page.set(s.belongs_to_other_page);
        self.save.set(SaveState::Saved);
        self.structure.update(|n| *n += 1);
        self.phase.set(Phase::Ready);
        self.load_analytics();
    }

    /// Loads the analytics of the latest published version (editors only;
    /// nothing to load before the first publish).
    pub(super) fn load_analytics(self) {
        let (Some(id), Some(version), true) = (
            self.course_id.get_untracked(),
            self.latest_version.get_untracked(),
            self.can_edit.get_untracked(),
        ) else {
            self.analytics.set(Analytics::Unpublished);
            return;
        };
        self.analytics.set(Analytics::Loading);
        spawn_local(async move {
            let loaded = async {
                let figures = api::editor_analytics(id.clone(), Some(version)).await?;
                let content = api::version_content(id, figures.version).await?;
                let published = content
                    .modules
                    .into_iter()
                    .filter_map(|m| Some((m.id, m.quiz?)))
                    .flat_map(|(m, quiz)| {
                        quiz.questions
                            .into_iter()
                            .map(move |q| ((m.clone(), q.id.clone()), q))
                    })
                    .collect();
                Ok::<_, AppError>(Analytics::Ready { figures, published })
            };
            let state = loaded
                .await
                .unwrap_or_else(|e| Analytics::Failed(e.text(self.loc)));
            // The editor may be gone (closed) by the time the answer arrives.
            self.analytics.try_set(state);
            ap::resize();
        });
    }

    /// A text edit: change the draft, mark dirty, schedule an autosave.
    pub(super) fn edit(self, f: impl FnOnce(&mut CourseContent)) {
        self.draft.update(f);
        self.edit_gen.update(|g| *g += 1);
        if self.save.get_untracked() != SaveState::Saving {
            self.save.set(SaveState::Dirty);
        }
        self.schedule_save(AUTOSAVE_AFTER);
    }

    /// A structural edit (add/remove/move): also re-render the panels.
    pub(super) fn edit_structure(self, f: impl FnOnce(&mut CourseContent)) {
        self.edit(f);
        self.structure.update(|n| *n += 1);
    }

    fn schedule_save(self, after: Duration) {
        let gen = self.edit_gen.get_untracked();
        set_timeout(
            move || {
                if self.edit_gen.get_untracked() == gen {
                    self.save_now();
                }
            },
            after,
        );
    }

    fn save_now(self) {
        if !self.can_edit.get_untracked() || self.other_page.get_untracked() {
            return;
        }
        match self.save.get_untracked() {
            SaveState::Saving | SaveState::Saved => return,
            SaveState::Failed(_) => return,
            _ => {}
        }
        self.save.set(SaveState::Saving);
        let gen = self.edit_gen.get_untracked();
        spawn_local(async move {
            let result = api::save_draft(
                self.course_id.get_untracked(),
                self.revision.get_untracked(),
                self.draft.get_untracked(),
            )
            .await;
            match result {
                Ok(saved) => {
                    self.course_id.set(Some(saved.course_id));
                    self.revision.set(saved.revision);
                    if self.edit_gen.get_untracked() == gen {
                        self.save.set(SaveState::Saved);
                    } else {
                        self.save.set(SaveState::Dirty);
                        self.schedule_save(Duration::from_millis(50));
                    }
                }
                Err(AppError::Transport(_) | AppError::RateLimited { .. }) => {
                    self.save.set(SaveState::Offline);
                    self.schedule_save(RETRY_AFTER);
                }
                Err(e) => self.save.set(SaveState::Failed(e.text(self.loc))),
            }
        });
    }

    pub(super) fn say(self, ok: bool, text: impl Into<String>) {
        self.notice.set(Some((ok, text.into())));
        ap::resize();
    }

    /// After a move or delete: once the panels are rebuilt, focuses the
    /// first of `ids` that is on the screen and enabled (the moved item's
    /// button, the next item after a deleted one, else the previous, else
    /// the Add button), and has screen readers say `what`.
    pub(super) fn focus_after(self, ids: Vec<String>, what: impl Into<String>) {
        self.focus_soon(ids, what.into(), false);
    }

    /// After an add: focuses the new item's first field `id` with its text
    /// selected (typing replaces a suggested title), and says `what`.
    pub(super) fn focus_new(self, id: String, what: impl Into<String>) {
        self.focus_soon(vec![id], what.into(), true);
    }

    fn focus_soon(self, ids: Vec<String>, what: String, select: bool) {
        // Emptied first, so the same words twice are announced twice.
        self.live.set(String::new());
        request_animation_frame(move || {
            self.live.try_set(what);
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                let el = ids.iter().find_map(|id| {
                    document()
                        .get_element_by_id(id)
                        .filter(|e| !e.has_attribute("disabled"))
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                });
                if let Some(el) = el {
                    let _ = el.focus();
                    if let (true, Some(input)) = (select, el.dyn_ref::<web_sys::HtmlInputElement>())
                    {
                        input.select();
                    }
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (ids, select);
            ap::resize();
        });
    }
}
