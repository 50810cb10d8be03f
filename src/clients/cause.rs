//! An error with its causes, for messages: HTTP clients and the AWS SDK put the
//! useful part ("connection refused", "dns error") in a source, not in Display.

use std::error::Error;

/// `outer: inner: innermost`, skipping a cause its parent already printed.
pub(crate) fn chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Inner;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure: connection refused")]
    struct Repeating(#[source] Inner);

    #[test]
    fn causes_are_joined_once() {
        assert_eq!(super::chain(&Outer(Inner)), "error sending request: connection refused");
        assert_eq!(super::chain(&Repeating(Inner)), "dispatch failure: connection refused");
    }
}
