//! A BPF filter libpcap rejected: where in it the complaint points, marked with carets.

use super::LiveError;
use crate::capture::libpcap_message;

/// Split a filter into tokens with their byte offsets: words, and each bracket or
/// operator character on its own.
fn tokens(f: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in f.char_indices() {
        let punct = "()[]!=<>&|+*/%^".contains(ch);
        if ch.is_whitespace() || punct {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
            if punct {
                out.push((i, i + ch.len_utf8()));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, f.len()));
    }
    out
}

/// Where in `filter` libpcap's complaint points: a quoted token it names, a number it
/// names, or (for a bare "syntax error") the first token after which no completion of
/// the filter parses.
pub fn locate_error(filter: &str, message: &str, parses: &dyn Fn(&str) -> bool) -> (usize, usize) {
    for q in ['\'', '"'] {
        let mut parts = message.split(q);
        if let (Some(_), Some(tok)) = (parts.next(), parts.next())
            && !tok.is_empty()
            && let Some(at) = filter.find(tok)
        {
            return (at, tok.len());
        }
    }
    for (s, e) in tokens(filter) {
        let t = &filter[s..e];
        if t.chars().any(|c| c.is_ascii_digit()) && message.split_whitespace().any(|w| w == t) {
            return (s, e - s);
        }
    }
    let toks = tokens(filter);
    if message.contains("syntax error") {
        for k in 0..toks.len() {
            let prefix = &filter[..toks[k].1];
            let depth = prefix
                .matches('(')
                .count()
                .saturating_sub(prefix.matches(')').count());
            let close = ")".repeat(depth);
            let viable = ["", " 1", " tcp", " and tcp", " 1.2.3.4", "]"]
                .iter()
                .any(|c| parses(&format!("{prefix}{c}{close}")));
            if !viable {
                let (s, e) = toks[k];
                return (s, e - s);
            }
        }
        // Everything parsed up to the end: the filter stops too early.
        return (filter.len(), 1);
    }
    (0, filter.len().max(1))
}

/// The caret line under `filter` for a span.
pub fn marker(filter: &str, (at, len): (usize, usize)) -> String {
    let pad = filter[..at.min(filter.len())].chars().count();
    format!("{}{}", " ".repeat(pad), "^".repeat(len.max(1)))
}

pub(super) fn bad_filter(
    filter: &str,
    e: &pcap::Error,
    cap: &pcap::Capture<pcap::Active>,
) -> LiveError {
    let message = libpcap_message(e);
    // A syntax error is one the parser reports; "unknown host" and the like are not.
    let parses = |f: &str| match cap.compile(f, false) {
        Ok(_) => true,
        Err(e) => !e.to_string().contains("syntax error"),
    };
    let span = locate_error(filter, &message, &parses);
    LiveError::BadFilter {
        filter: filter.to_string(),
        marker: marker(filter, span),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_syntax(f: &str) -> bool {
        // A toy grammar: "tcp port N" where N is a number, optionally in parentheses.
        let t: Vec<&str> = f
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .filter(|s| !s.is_empty())
            .collect();
        match t.as_slice() {
            ["tcp"] | ["tcp", "and", "tcp"] => true,
            ["tcp", "port", n] | ["tcp", "port", n, "and", "tcp"] => {
                n.chars().all(|c| c.is_ascii_digit())
            }
            _ => false,
        }
    }

    #[test]
    fn quoted_token_is_marked() {
        let f = "tcp port foo";
        let span = locate_error(f, "unknown port 'foo'", &no_syntax);
        assert_eq!(span, (9, 3));
        assert_eq!(marker(f, span), "         ^^^");
    }

    #[test]
    fn number_named_is_marked() {
        let f = "tcp and port 99999";
        let span = locate_error(f, "illegal port number 99999 > 65535", &no_syntax);
        assert_eq!(&f[span.0..span.0 + span.1], "99999");
    }

    #[test]
    fn bare_syntax_error_marks_first_dead_token() {
        let f = "tcp prot 80";
        let span = locate_error(f, "can't parse filter expression: syntax error", &no_syntax);
        assert_eq!(&f[span.0..span.0 + span.1], "prot");
    }

    #[test]
    fn truncated_filter_marks_the_end() {
        let f = "tcp port";
        let span = locate_error(f, "can't parse filter expression: syntax error", &no_syntax);
        assert_eq!(span.0, f.len());
        assert_eq!(marker(f, span), "        ^");
    }

    #[test]
    fn tokens_split_brackets() {
        let f = "tcp[13]&2!=0";
        let t: Vec<&str> = tokens(f).iter().map(|&(s, e)| &f[s..e]).collect();
        assert_eq!(t, ["tcp", "[", "13", "]", "&", "2", "!", "=", "0"]);
    }
}
