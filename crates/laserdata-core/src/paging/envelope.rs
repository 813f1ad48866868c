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
    /// Continues the value through `bytes`, which follow those scanned so far; where in
    /// `bytes` the value ends (exclusive), once it has.
    fn end(&mut self, bytes: &[u8]) -> Option<usize> {
        for (index, &byte) in bytes.iter().enumerate() {
            if !self.started {
                self.started = true;
                self.scalar = !matches!(byte, b'"' | b'{' | b'[');
            }
            if self.scalar {
                if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    return Some(index);
                }
                continue;
            }
            if self.in_string {
                match byte {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => {
                        self.in_string = false;
                        if self.depth == 0 {
                            return Some(index + 1);
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
                        return Some(index + 1);
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
    /// The start of the value (an element, seldom a key or another field's value) that a
    /// chunk ended in the middle of; everything else is read where it arrived.
    pending: Vec<u8>,
    /// Bytes of the body before the chunk being read (or before `pending`), for error positions.
    dropped: usize,
    /// How far the value in `pending` has been scanned.
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
        let mut rest = chunk;
        if !self.pending.is_empty() {
            // Only the value the last chunk ended in is copied, up to its end.
            let Some(end) = self.value.end(chunk) else {
                self.pending.extend_from_slice(chunk);
                return Ok(());
            };
            self.value = ValueScan::default();
            self.pending.extend_from_slice(&chunk[..end]);
            let value = std::mem::take(&mut self.pending);
            let completed = self.complete(&value, self.dropped, items);
            self.dropped += value.len();
            // Keep the buffer for the next value cut in two.
            self.pending = value;
            self.pending.clear();
            completed?;
            rest = &chunk[end..];
        }
        let used = self.advance(rest, items)?;
        self.dropped += used;
        self.pending.extend_from_slice(&rest[used..]);
        Ok(())
    }

    /// After the last chunk: the envelope's fields other than the list, decoded as `P` (whose
    /// `items` is then empty).
    pub(crate) fn finish<P: DeserializeOwned>(self) -> Result<P, Malformed> {
        if self.state != State::Closed || !self.pending.is_empty() {
            let end = self.dropped + self.pending.len();
            return Err(Malformed(format!("the body ended at byte {end} inside the envelope")));
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

    /// Reads as much of `bytes` as it can; how many bytes it used. The rest is the start of a
    /// value still arriving, already scanned into `self.value`.
    fn advance<T: DeserializeOwned>(&mut self, bytes: &[u8], items: &mut VecDeque<T>) -> Result<usize, Malformed> {
        let mut at = 0;
        loop {
            // Whitespace between tokens means nothing; scanned values start at their first byte.
            while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
            let Some(&byte) = bytes.get(at) else { return Ok(at) };
            let single = match (self.state, byte) {
                (State::Open, b'{') => State::Key { first: true },
                (State::Key { first: true }, b'}') => State::Closed,
                (State::Key { .. }, b'"') | (State::Value, _) | (State::Element { first: false }, _) => {
                    let Some(end) = self.value.end(&bytes[at..]) else { return Ok(at) };
                    self.value = ValueScan::default();
                    self.complete(&bytes[at..at + end], self.dropped + at, items)?;
                    at += end;
                    continue;
                }
                (State::Element { first: true }, b']') => State::AfterField,
                (State::Element { first: true }, _) => {
                    self.state = State::Element { first: false };
                    continue;
                }
                (State::Colon { items: true }, b':') => State::ListOpen,
                (State::Colon { items: false }, b':') => State::Value,
                (State::ListOpen, b'[') => {
                    self.seen_items = true;
                    State::Element { first: true }
                }
                (State::AfterElement, b',') => State::Element { first: false },
                (State::AfterElement, b']') => State::AfterField,
                (State::AfterField, b',') => State::Key { first: false },
                (State::AfterField, b'}') => State::Closed,
                (state, byte) => {
                    return Err(Malformed(format!(
                        "unexpected {:?} at byte {} ({})",
                        char::from(byte),
                        self.dropped + at,
                        expectation(state)
                    )));
                }
            };
            // The tokens of one byte: `{`, `}`, `[`, `]`, `:` and `,`.
            self.state = single;
            at += 1;
        }
    }

    /// Uses a key, another field's value or an element, now that all of it (`value`, starting
    /// at byte `position` of the body) has arrived.
    fn complete<T: DeserializeOwned>(
        &mut self,
        value: &[u8],
        position: usize,
        items: &mut VecDeque<T>,
    ) -> Result<(), Malformed> {
        self.state = match self.state {
            State::Key { .. } => {
                let key: String = serde_json::from_slice(value)
                    .map_err(|error| Malformed(format!("a key at byte {position}: {error}")))?;
                // A second `items` goes with the other fields, where decoding them rejects the
                // duplicate as a whole-body decode would.
                let items = key == ITEMS_FIELD && !self.seen_items;
                if !items {
                    if self.others.len() > 1 {
                        self.others.push(b',');
                    }
                    self.others.extend_from_slice(value);
                    self.others.push(b':');
                }
                State::Colon { items }
            }
            State::Value => {
                self.others.extend_from_slice(value);
                State::AfterField
            }
            State::Element { .. } => {
                let item = serde_json::from_slice(value)
                    .map_err(|error| Malformed(format!("item {} (at byte {position}): {error}", self.elements)))?;
                items.push_back(item);
                self.elements += 1;
                State::AfterElement
            }
            state => unreachable!("only keys, values and elements are scanned, not in {state:?}"),
        };
        Ok(())
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
            assert!(reader.pending.len() < element.len(), "{} bytes kept", reader.pending.len());
        }
        assert_eq!(items.len(), 1000);
        let _: Envelope = reader.finish().unwrap();
    }
}
