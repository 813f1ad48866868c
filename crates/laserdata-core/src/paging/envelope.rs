//! Reading a paged envelope as its body arrives.
//!
//! Decoding a whole body with serde needs the whole body in memory next to the decoded page.
//! [`EnvelopeReader`] instead finds where each element of the `items` array ends while the
//! bytes come in, decodes it on the spot and lets its bytes go, so that only the element still
//! arriving stays buffered. The scan only finds boundaries (strings, escapes and nesting are
//! followed so that a `]` or `,` inside a value is not taken for one); whether a value is
//! valid JSON of the right shape is left to serde, element by element. The envelope's other
//! fields, a few numbers, are kept as they came and decoded at the end as the envelope type
//! with an empty `items`, so that they are checked exactly as a whole-body decode checks them.

use std::collections::VecDeque;

use serde::de::DeserializeOwned;

/// The field of a paged envelope that holds the list.
const ITEMS_FIELD: &str = "items";

/// Where the reader is in the envelope's grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the `{` of the envelope.
    Open,
    /// After `{` (`first`) or after a `,` between fields: a key comes next.
    Key { first: bool },
    /// After a key: the `:` comes next; `items` says whether the key was the list's.
    Colon { items: bool },
    /// After the `:` of a field other than the list.
    Value,
    /// After the `:` of the list: its `[` comes next.
    ListOpen,
    /// After the list's `[` (`first`) or after a `,` in it: an element (or, when `first`, the `]`).
    Element { first: bool },
    /// After an element: `,` or `]`.
    AfterElement,
    /// After a field's value: `,` or `}`.
    AfterField,
    /// After the envelope's `}`: only whitespace may follow.
    Closed,
}

/// Follows one JSON value through the bytes, across chunks, to find where it ends.
#[derive(Debug, Default)]
struct ValueScan {
    /// How far into the reader's buffer the value has been scanned.
    cursor: usize,
    /// Whether the value started (its first byte was seen).
    started: bool,
    /// Whether the value is a number, `true`, `false` or `null`: it ends before the next
    /// delimiter rather than at a closing character.
    scalar: bool,
    /// Open `{` and `[` not yet closed.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl ValueScan {
    /// Continues through `bytes` (the reader's buffer); the end of the value (exclusive) once
    /// it has arrived.
    fn end(&mut self, bytes: &[u8]) -> Option<usize> {
        while self.cursor < bytes.len() {
            let byte = bytes[self.cursor];
            if !self.started {
                self.started = true;
                self.scalar = !matches!(byte, b'"' | b'{' | b'[');
            }
            if self.scalar {
                if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    return Some(self.cursor);
                }
                self.cursor += 1;
                continue;
            }
            self.cursor += 1;
            if self.in_string {
                match byte {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => {
                        self.in_string = false;
                        if self.depth == 0 {
                            return Some(self.cursor);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    // A stray closer ends the value; serde then rejects what was scanned.
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(self.cursor);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// Why a body could not be read as a paged envelope.
#[derive(Debug)]
pub(crate) struct Malformed(pub(crate) String);

/// Reads one paged envelope from chunks of its body, in order.
#[derive(Debug)]
pub(crate) struct EnvelopeReader {
    state: State,
    /// Bytes received but not used yet: the start of the element (or other value) still
    /// arriving, seldom more.
    pending: Vec<u8>,
    /// Bytes of the body dropped from the front of `pending` so far, for error positions.
    dropped: usize,
    value: ValueScan,
    /// The envelope's other fields as they came, as a JSON object still open: `{"page":1`.
    others: Vec<u8>,
    seen_items: bool,
    /// Elements decoded so far, for error messages.
    elements: usize,
}

impl EnvelopeReader {
    pub(crate) fn new() -> Self {
        EnvelopeReader {
            state: State::Open,
            pending: Vec::new(),
            dropped: 0,
            value: ValueScan::default(),
            others: vec![b'{'],
            seen_items: false,
            elements: 0,
        }
    }

    /// Takes the next chunk of the body, and decodes into `items` every element it completes.
    pub(crate) fn feed<T: DeserializeOwned>(&mut self, chunk: &[u8], items: &mut VecDeque<T>) -> Result<(), Malformed> {
        self.pending.extend_from_slice(chunk);
        let used = self.advance(items)?;
        // What is left is the part of a value still arriving: shift it to the front rather
        // than keep the bytes already used.
        self.pending.drain(..used);
        self.value.cursor -= used.min(self.value.cursor);
        self.dropped += used;
        Ok(())
    }

    /// After the last chunk: the envelope's fields other than the list, decoded as `P` (whose
    /// `items` is then empty).
    pub(crate) fn finish<P: DeserializeOwned>(self) -> Result<P, Malformed> {
        if self.state != State::Closed {
            return Err(Malformed(format!("the body ended at byte {} inside the envelope", self.position(0))));
        }
        let mut others = self.others;
        if self.seen_items {
            if others.len() > 1 {
                others.push(b',');
            }
            others.extend_from_slice(b"\"items\":[]");
        }
        others.push(b'}');
        serde_json::from_slice(&others).map_err(|error| Malformed(format!("the envelope's fields: {error}")))
    }

    /// Uses as much of `pending` as the state allows; how many bytes were used up.
    fn advance<T: DeserializeOwned>(&mut self, items: &mut VecDeque<T>) -> Result<usize, Malformed> {
        let mut at = 0;
        loop {
            // Whitespace between tokens means nothing; scanned values start at their first byte.
            while at < self.pending.len() && matches!(self.pending[at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
            let Some(&byte) = self.pending.get(at) else { return Ok(at) };
            self.state = match (self.state, byte) {
                (State::Open, b'{') => {
                    at += 1;
                    State::Key { first: true }
                }
                (State::Key { first: true }, b'}') => {
                    at += 1;
                    State::Closed
                }
                (State::Key { .. }, b'"') => {
                    let Some(end) = self.scan(at) else { return Ok(at) };
                    let key: String = serde_json::from_slice(&self.pending[at..end])
                        .map_err(|error| Malformed(format!("a key at byte {}: {error}", self.position(at))))?;
                    // A second `items` goes with the other fields, where decoding them rejects
                    // the duplicate as a whole-body decode would.
                    let items = key == ITEMS_FIELD && !self.seen_items;
                    if !items {
                        self.keep_other(at, end);
                        self.others.push(b':');
                    }
                    at = end;
                    State::Colon { items }
                }
                (State::Colon { items }, b':') => {
                    at += 1;
                    if items { State::ListOpen } else { State::Value }
                }
                (State::Value, _) => {
                    let Some(end) = self.scan(at) else { return Ok(at) };
                    self.others.extend_from_slice(&self.pending[at..end]);
                    at = end;
                    State::AfterField
                }
                (State::ListOpen, b'[') => {
                    self.seen_items = true;
                    at += 1;
                    State::Element { first: true }
                }
                (State::Element { first: true }, b']') => {
                    at += 1;
                    State::AfterField
                }
                (State::Element { .. }, _) => {
                    let Some(end) = self.scan(at) else { return Ok(at) };
                    let item = serde_json::from_slice(&self.pending[at..end]).map_err(|error| {
                        Malformed(format!("item {} (at byte {}): {error}", self.elements, self.position(at)))
                    })?;
                    items.push_back(item);
                    self.elements += 1;
                    at = end;
                    State::AfterElement
                }
                (State::AfterElement, b',') => {
                    at += 1;
                    State::Element { first: false }
                }
                (State::AfterElement, b']') => {
                    at += 1;
                    State::AfterField
                }
                (State::AfterField, b',') => {
                    at += 1;
                    State::Key { first: false }
                }
                (State::AfterField, b'}') => {
                    at += 1;
                    State::Closed
                }
                (state, byte) => {
                    return Err(Malformed(format!(
                        "unexpected {:?} at byte {} ({})",
                        char::from(byte),
                        self.position(at),
                        expectation(state)
                    )));
                }
            };
        }
    }

    /// The end of the value starting at `start`, once it has all arrived; the scan resumes
    /// where it stopped when more bytes come.
    fn scan(&mut self, start: usize) -> Option<usize> {
        if !self.value.started {
            self.value.cursor = start;
        }
        let end = self.value.end(&self.pending)?;
        self.value = ValueScan::default();
        Some(end)
    }

    /// Adds the key at `start..end` to the other fields.
    fn keep_other(&mut self, start: usize, end: usize) {
        if self.others.len() > 1 {
            self.others.push(b',');
        }
        self.others.extend_from_slice(&self.pending[start..end]);
    }

    /// The position in the whole body of `pending[at]`.
    fn position(&self, at: usize) -> usize {
        self.dropped + at
    }
}

/// What may come in `state`, for the error message.
fn expectation(state: State) -> &'static str {
    match state {
        State::Open => "a paged envelope is a JSON object",
        State::Key { first: true } => "expected a key or `}`",
        State::Key { first: false } => "expected a key",
        State::Colon { .. } => "expected `:`",
        State::Value => "expected a value",
        State::ListOpen => "`items` must be an array",
        State::Element { .. } | State::AfterElement => "expected `,` or `]` in `items`",
        State::AfterField => "expected `,` or `}`",
        State::Closed => "nothing may follow the envelope",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small envelope with every kind of field the real ones have.
    #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
    struct Envelope {
        items: Vec<serde_json::Value>,
        page: u64,
        total_pages: u64,
    }

    /// Reads `body` in chunks of `size` bytes: the items and the envelope, or the error.
    fn read(body: &[u8], size: usize) -> Result<(Vec<serde_json::Value>, Envelope), String> {
        let mut reader = EnvelopeReader::new();
        let mut items = VecDeque::new();
        for chunk in body.chunks(size.max(1)) {
            reader.feed(chunk, &mut items).map_err(|Malformed(message)| message)?;
        }
        let envelope: Envelope = reader.finish().map_err(|Malformed(message)| message)?;
        Ok((items.into(), envelope))
    }

    /// The same body decoded whole by serde, the reference.
    fn whole(body: &[u8]) -> Result<(Vec<serde_json::Value>, Envelope), String> {
        let mut envelope: Envelope = serde_json::from_slice(body).map_err(|error| error.to_string())?;
        Ok((std::mem::take(&mut envelope.items), envelope))
    }

    const TRICKY: &str = r#" { "page" : 2 , "items" : [
        {"name": "a]b,c{d}", "quote": "say \"hi\" \\", "nested": {"list": [1, [2, {"x": "]"}]]}},
        "plain \u00e9 string with \\\" and ] and }",
        -12.5e3, true, null, [], {},
        {"unicode": "日本語 🚀", "empty": ""}
    ], "total_pages": 3 }
    "#;

    #[test]
    fn every_split_of_a_tricky_body_reads_as_serde_reads_it_whole() {
        let expected = whole(TRICKY.as_bytes()).unwrap();
        assert_eq!(expected.0.len(), 8);
        for size in 1..=TRICKY.len() {
            assert_eq!(read(TRICKY.as_bytes(), size), Ok(expected.clone()), "chunks of {size} bytes");
        }
        // Two chunks, split at every byte.
        for split in 0..=TRICKY.len() {
            let mut reader = EnvelopeReader::new();
            let mut items = VecDeque::new();
            reader.feed(&TRICKY.as_bytes()[..split], &mut items).unwrap();
            reader.feed(&TRICKY.as_bytes()[split..], &mut items).unwrap();
            let envelope: Envelope = reader.finish().unwrap();
            assert_eq!((Vec::from(items), envelope), expected.clone(), "split at {split}");
        }
    }

    #[test]
    fn fields_may_come_in_any_order_and_the_list_may_be_empty() {
        for body in [
            r#"{"items":[1,2],"page":1,"total_pages":1}"#,
            r#"{"page":1,"total_pages":1,"items":[1,2]}"#,
            r#"{"page":1,"items":[1,2],"total_pages":1,"unknown":{"a":[1]}}"#,
            r#"{"total_pages":1,"items":[],"page":1}"#,
        ] {
            assert_eq!(read(body.as_bytes(), 3), whole(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn what_serde_rejects_whole_is_rejected() {
        for body in [
            "<html>bad gateway</html>",
            "",
            "[1,2]",
            r#"{"page":1,"total_pages":1}"#,
            r#"{"items":[1,2],"page":1}"#,
            r#"{"items":[1,2],"items":[3],"page":1,"total_pages":1}"#,
            r#"{"items":[1,2,],"page":1,"total_pages":1}"#,
            r#"{"items":[1 2],"page":1,"total_pages":1}"#,
            r#"{"items":[{"a":1]],"page":1,"total_pages":1}"#,
            r#"{"items":[tru],"page":1,"total_pages":1}"#,
            r#"{"items":{},"page":1,"total_pages":1}"#,
            r#"{"items":[1],"page":"one","total_pages":1}"#,
            r#"{"items":[1],"page":1,"total_pages":1} trailing"#,
            r#"{"items":[1],"page":1,"total_pages":1"#,
            r#"{"items":[{"name":"cut short"#,
        ] {
            assert!(whole(body.as_bytes()).is_err(), "serde accepts {body}");
            for size in [1, 4, body.len()] {
                assert!(read(body.as_bytes(), size).is_err(), "accepted in chunks of {size}: {body}");
            }
        }
    }

    #[test]
    fn only_the_element_still_arriving_stays_buffered() {
        let element = format!(r#"{{"name":"{}"}}"#, "x".repeat(100));
        let body = format!(r#"{{"page":1,"total_pages":1,"items":[{}]}}"#, vec![element.as_str(); 1000].join(","));
        let mut reader = EnvelopeReader::new();
        let mut items: VecDeque<serde_json::Value> = VecDeque::new();
        for chunk in body.as_bytes().chunks(64) {
            reader.feed(chunk, &mut items).unwrap();
            assert!(reader.pending.len() < element.len() + 64, "{} bytes kept", reader.pending.len());
        }
        assert_eq!(items.len(), 1000);
        let _: Envelope = reader.finish().unwrap();
    }
}
