//! One line of typed text with the reason it was last refused: the rate and node prompts.

/// A prompt's text as typed so far, and why its last submission was refused (cleared by the
/// next key, so a stale reason never sits under new text).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextInput {
    pub text: String,
    pub error: Option<String>,
}

impl TextInput {
    /// A prompt that opens with `text`.
    #[must_use]
    pub fn with_text(text: String) -> Self {
        Self { text, error: None }
    }

    pub fn push(&mut self, c: char) {
        self.text.push(c);
        self.error = None;
    }

    pub fn backspace(&mut self) {
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
    fn a_key_clears_the_last_refusal() {
        let mut input = TextInput::with_text("12".to_owned());
        input.refuse("too high".to_owned());
        assert_eq!(input.error.as_deref(), Some("too high"));
        input.push('3');
        assert_eq!((input.text.as_str(), input.error.as_ref()), ("123", None));
        input.refuse("again".to_owned());
        input.backspace();
        assert_eq!((input.text.as_str(), input.error.as_ref()), ("12", None));
    }
}
