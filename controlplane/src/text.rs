//! Text that clients and nodes send: what may be stored. PostgreSQL cannot store NUL at all
//! and SQLite can, so control characters are refused up front and both stores answer alike.

use crate::error::ApiError;

const CONTROL: &str = "control characters (other than tab and line breaks) are not allowed";

/// Whether `s` holds a character no text field may hold. Tabs and line breaks are text (PEM
/// blocks, multi-line messages); every other C0/C1 control character is not.
pub fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Refuses a text field holding a control character, naming it by `path`.
pub fn check_text(path: &str, s: &str) -> Result<(), ApiError> {
    if has_control(s) {
        Err(ApiError::bad_field(path, CONTROL))
    } else {
        Ok(())
    }
}

/// `s` with control characters replaced, for text that is recorded rather than refused (a
/// node's NACK reason).
pub fn scrub(s: &str) -> String {
    if !has_control(s) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// The message of a refused control character.
pub fn control_message() -> &'static str {
    CONTROL
}
