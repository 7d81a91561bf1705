//! One line of typed text with the reason it was last refused: the rate and node prompts. A
//! prompt that opens with the current value shows it selected: typing replaces it (appending
//! made `220/600` + `600/1200` into `220/600600/1200`), a backspace edits it.

/// A prompt's text as typed so far, and why its last submission was refused (cleared by the
/// next key, so a stale reason never sits under new text).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextInput {
    pub text: String,
    pub error: Option<String>,
    /// The text is the value the prompt opened with, untouched: the next character replaces it.
    pub selected: bool,
}

impl TextInput {
    /// A prompt that opens with `text`.
    #[must_use]
    pub fn with_text(text: String) -> Self {
        Self {
            text,
            error: None,
            selected: true,
        }
    }

    pub fn push(&mut self, c: char) {
        if std::mem::take(&mut self.selected) {
            self.text.clear();
        }
        self.text.push(c);
        self.error = None;
    }

    pub fn backspace(&mut self) {
        self.selected = false;
        self.text.pop();
        self.error = None;
    }

    /// Keeps the text and says why it was refused.
    pub fn refuse(&mut self, reason: String) {
        self.error = Some(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_replaces_the_opening_value_and_a_backspace_edits_it() {
        let mut input = TextInput::with_text("220/600".to_owned());
        for c in "600/1200".chars() {
            input.push(c);
        }
        assert_eq!(input.text, "600/1200");
        let mut input = TextInput::with_text("220/600".to_owned());
        input.backspace();
        input.push('5');
        assert_eq!(input.text, "220/605");
    }

    #[test]
    fn a_key_clears_the_last_refusal() {
        let mut input = TextInput::with_text("12".to_owned());
        input.backspace();
        input.refuse("too high".to_owned());
        assert_eq!(input.error.as_deref(), Some("too high"));
        input.push('3');
        assert_eq!((input.text.as_str(), input.error.as_ref()), ("13", None));
        input.refuse("again".to_owned());
        input.backspace();
        assert_eq!((input.text.as_str(), input.error.as_ref()), ("1", None));
    }
}
