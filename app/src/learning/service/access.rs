//! Course access modes, enforced on the server in every learning function
//! (`course::model::AccessMode`): an *open* course lets anyone who can view
//! the page take it; *enrolled only* and *self-enrol* courses want an
//! enrolment (`store::enrolments`), which a space admin makes — or, for a
//! self-enrol course, the learner with *Enrol*.
//!
//! The mode of the latest published version decides. The check is one
//! primary-key read, and only for courses that need an enrolment; it is not
//! cached, so an unenrolled learner is refused on their very next call.

use connect::TenantKey;
use course::model::AccessMode;
use store::enrolments::Enrolment;

use super::{LearningService, Published};
use crate::{api::guards::Learner, error::AppError};

/// A learner's access to a course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The course is open, and the learner not enrolled.
    Open,
    /// Enrolled (whatever the mode).
    Enrolled(Enrolment),
    /// The course needs an enrolment the learner does not have.
    NotEnrolled(AccessMode),
}

impl Access {
    /// Whether the learner may take the course.
    pub fn allowed(&self) -> bool {
        !matches!(self, Access::NotEnrolled(_))
    }

    /// The refusal for a learner who may not.
    pub fn refusal(&self) -> Option<AppError> {
        match self {
            Access::NotEnrolled(AccessMode::SelfEnrol) => {
                Some(AppError::NotEnrolled(super::words::enrol_first()))
            }
            Access::NotEnrolled(_) => Some(AppError::NotEnrolled(super::words::ask_space_admin())),
            _ => None,
        }
    }
}

impl LearningService {
    /// The learner's access, with their enrolment if they have one (the
    /// course view shows its due date whatever the mode).
    pub(super) async fn access(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account: &str,
        p: &Published,
    ) -> Result<Access, AppError> {
        let mode = p.rendered.content.settings.access;
        Ok(match self.db.enrolment(tenant, course_id, account).await? {
            Some(e) => Access::Enrolled(e),
            None if mode.needs_enrolment() => Access::NotEnrolled(mode),
            None => Access::Open,
        })
    }

    /// 403 with an explanation unless the learner may take the course. An
    /// open course costs nothing here.
    pub(super) async fn require_access(
        &self,
        l: &Learner,
        course_id: &str,
        p: &Published,
    ) -> Result<(), AppError> {
        let mode = p.rendered.content.settings.access;
        if !mode.needs_enrolment() {
            return Ok(());
        }
        if self
            .db
            .is_enrolled(&l.who().tenant, course_id, &l.account)
            .await?
        {
            return Ok(());
        }
        Err(Access::NotEnrolled(mode)
            .refusal()
            .unwrap_or(AppError::Forbidden))
    }
}
