//! The learning rules: what counts, when, and what follows from it. Pure
//! functions over the learner's records; the app's learning service reads
//! the records from the store, asks these modules, and writes what they
//! decide. The store uses [`answers`] for the one answer-merge rule.
//!
//! | module | rule |
//! |---|---|
//! | [`clock`] | the server's clock, injected (tests move it) |
//! | [`records`] | the learner's stored records: attempts, answers, completions |
//! | [`timing`] | time limits, grace, offline journal, attempt states |
//! | [`answers`] | which of two answers to one question counts |
//! | [`cycle`] | re-certification cycles, attempt limits, passes |
//! | [`progress`] | progress, completion, where to resume |
//! | [`status`] | one learner's standing (learner view and admin report) |
//! | [`certificate`] | certificate id and expiry |
//! | [`checkpoint`] | the server's marks that tie offline answers to an open attempt |
//! | [`reminders`] | which reminder e-mails a learner is due (due dates, certificate expiry), and their text |
//! | [`analytics`] | item analysis of a quiz: facility, discrimination, option counts, time, flags (computed on the server) |

pub mod analytics;
pub mod answers;
#[cfg(feature = "server")]
pub mod certificate;
#[cfg(feature = "server")]
pub mod checkpoint;
pub mod clock;
pub mod cycle;
pub mod progress;
pub mod records;
pub mod reminders;
pub mod status;
pub mod timing;
