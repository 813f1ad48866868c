//! Example integers that a JavaScript number cannot hold, shown exactly in the HTML reference.
//!
//! Redoc keeps the document it renders as JavaScript values, so an id beyond 2^53 such as
//! `610809900976570889` becomes the nearest double, `610809900976570900`: Redocly's CLI already
//! rounds it while building the page (Node's `JSON.parse`), and the page would round it again
//! when it reads its embedded document. So the document Redocly reads has each such integer of
//! an example replaced by a marked string, which Redocly passes on untouched, and the built page
//! has each marked string replaced by a BigInt literal (`610809900976570889n`), which keeps
//! every digit.
//!
//! Redoc serializes example values in two ways, and [`PRELUDE`] (run before Redoc) teaches
//! both about BigInt: `JSON.stringify` (the example panels and their "Copy" buttons) through
//! `BigInt.prototype.toJSON`, which hands back the digits as raw JSON (`JSON.rawJSON`), and the
//! YAML writer of the page's "Copy" action, which takes a value for an integer when
//! `Number.isInteger` says so and then writes `value.toString(10)`. Redoc's example panel names
//! a value's token after its JavaScript type (`token bigint`); a style rule gives it the colour
//! of numbers.
//!
//! Only examples change (an `example`, an Example Object's `value`, a 3.1 `examples` list):
//! a bound such as `maximum` feeds Redoc's arithmetic, which a BigInt would break.

/// The string that stands in for an integer between the two steps, followed by its digits.
const MARKER: &str = "laserdata-exact-integer:";

/// What the page needs before Redoc runs: the script that teaches Redoc's serializers about
/// BigInt, and the style that colours a BigInt token as a number.
const PRELUDE: &str = concat!(
    "<script>\n",
    include_str!("exact_integers.js"),
    "</script>\n",
    "<style>.token.bigint { color: var(--code-block-tokens-number-color); }</style>\n"
);

/// `json` (a whole OpenAPI document) with each example integer that JavaScript would not show
/// as written replaced by a marked string, and how many were replaced.
pub fn mark(json: &str) -> Result<(String, usize), String> {
    if let Some(at) = json.find(MARKER) {
        return Err(format!("the document already holds the marker `{MARKER}` (byte {at})"));
    }
    let mut scanner = Scanner { text: json, at: 0, out: String::with_capacity(json.len() + 1024), marked: 0 };
    scanner.space();
    scanner.value(Role::Keywords)?;
    scanner.space();
    if scanner.at != json.len() {
        return Err(format!("unexpected text after the document at byte {}", scanner.at));
    }
    Ok((scanner.out, scanner.marked))
}

/// The page Redocly built from a [`mark`]ed document, with each marked string turned back into
/// its integer: a BigInt literal in the page's embedded document, the bare digits anywhere
/// else (Redoc's pre-rendered markup); and with [`PRELUDE`] at the end of `<head>` when any
/// integer was restored.
pub fn restore(html: &str) -> Result<String, String> {
    let definition = html.find("const __redoc_definition").ok_or("the page embeds no `__redoc_definition`")?;
    let definition_end = html[definition..].find("const __redoc_options").map_or(html.len(), |end| definition + end);
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    let mut restored = 0;
    while let Some(found) = html[copied..].find(MARKER) {
        let start = copied + found;
        let digits_start = start + MARKER.len();
        let digits_end = digits_start + integer_length(&html[digits_start..]);
        if digits_end == digits_start {
            return Err(format!("the marker at byte {start} of the page is not followed by an integer"));
        }
        let digits = &html[digits_start..digits_end];
        let quoted = html[..start].ends_with('"') && html[digits_end..].starts_with('"');
        if quoted && (definition..definition_end).contains(&start) {
            out.push_str(&html[copied..start - 1]);
            out.push_str(digits);
            out.push('n');
            copied = digits_end + 1;
        } else {
            out.push_str(&html[copied..start]);
            out.push_str(digits);
            copied = digits_end;
        }
        restored += 1;
    }
    out.push_str(&html[copied..]);
    if restored > 0 {
        let head_end = out.find("</head>").ok_or("the page has no `</head>` to put the exact-integer script before")?;
        out.insert_str(head_end, PRELUDE);
    }
    Ok(out)
}

/// Whether JavaScript shows the JSON integer `literal` as written. It reads the nearest double
/// and writes that back with the fewest digits that read as the same double, padded with zeros
/// (an exponent from 10^21 on): `9007199254740993` comes back as `9007199254740992`, and even
/// 2^60, a double, as `1152921504606847000`. Rust writes a double the same way below 10^21.
pub fn shown_as_written(literal: &str) -> bool {
    literal.parse::<f64>().is_ok_and(|value| value.abs() < 1e21 && value.to_string() == literal)
}

/// The length of the JSON integer (an optional minus and digits) at the start of `text`.
fn integer_length(text: &str) -> usize {
    let sign = usize::from(text.starts_with('-'));
    let digits = text[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 { 0 } else { sign + digits }
}

/// What the values at a place of an OpenAPI document are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// An OpenAPI or JSON Schema object (or a list of them): its keys are keywords.
    Keywords,
    /// A map whose keys are names the author chose (`properties`): each value is `Keywords`.
    Names,
    /// The value of `examples`: a list of examples (JSON Schema) or a map of Example Objects.
    Examples,
    /// An Example Object: its `value` is an example.
    ExampleObject,
    /// An example: everything inside is data.
    Example,
}

impl Role {
    /// The role of the value under `key` in an object of this role.
    fn member(self, key: &str) -> Role {
        match (self, key) {
            (Role::Example, _) => Role::Example,
            (Role::Names, _) => Role::Keywords,
            (Role::Examples, _) => Role::ExampleObject,
            (Role::ExampleObject, "value") => Role::Example,
            (Role::Keywords, "example") => Role::Example,
            (Role::Keywords, "examples") => Role::Examples,
            (Role::Keywords, "properties" | "patternProperties") => Role::Names,
            _ => Role::Keywords,
        }
    }

    /// The role of the items of a list in a place of this role.
    fn item(self) -> Role {
        match self {
            Role::Example | Role::Examples => Role::Example,
            _ => Role::Keywords,
        }
    }
}

/// Copies a JSON text to `out`, replacing the integers of examples that need it.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
    out: String,
    marked: usize,
}

impl Scanner<'_> {
    fn value(&mut self, role: Role) -> Result<(), String> {
        match self.text.as_bytes().get(self.at) {
            Some(b'{') => self.object(role),
            Some(b'[') => self.array(role),
            Some(b'"') => self.string().map(drop),
            Some(b'-' | b'0'..=b'9') => {
                self.number(role);
                Ok(())
            }
            Some(b't' | b'f' | b'n') => {
                let length = ["true", "false", "null"]
                    .into_iter()
                    .find(|word| self.text[self.at..].starts_with(word))
                    .map(str::len)
                    .ok_or_else(|| self.unexpected())?;
                self.copy(length);
                Ok(())
            }
            _ => Err(self.unexpected()),
        }
    }

    fn object(&mut self, role: Role) -> Result<(), String> {
        self.copy(1);
        self.space();
        if self.punctuation(b'}') {
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.space();
            self.expect(b':')?;
            self.space();
            self.value(role.member(&key))?;
            self.space();
            if self.punctuation(b'}') {
                return Ok(());
            }
            self.expect(b',')?;
            self.space();
        }
    }

    fn array(&mut self, role: Role) -> Result<(), String> {
        self.copy(1);
        self.space();
        if self.punctuation(b']') {
            return Ok(());
        }
        loop {
            self.value(role.item())?;
            self.space();
            if self.punctuation(b']') {
                return Ok(());
            }
            self.expect(b',')?;
            self.space();
        }
    }

    /// Copies a string and returns its value.
    fn string(&mut self) -> Result<String, String> {
        let bytes = self.text.as_bytes();
        if bytes.get(self.at) != Some(&b'"') {
            return Err(self.unexpected());
        }
        let mut end = self.at + 1;
        while let Some(&byte) = bytes.get(end) {
            match byte {
                b'"' => break,
                b'\\' => end += 2,
                _ => end += 1,
            }
        }
        if end >= bytes.len() {
            return Err(format!("a string at byte {} is not closed", self.at));
        }
        let raw = &self.text[self.at..=end];
        let value = if raw.contains('\\') {
            serde_json::from_str(raw).map_err(|error| format!("bad string at byte {}: {error}", self.at))?
        } else {
            raw[1..raw.len() - 1].to_owned()
        };
        self.copy(raw.len());
        Ok(value)
    }

    fn number(&mut self, role: Role) {
        let rest = &self.text[self.at..];
        let length =
            rest.bytes().take_while(|byte| matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')).count();
        let literal = &rest[..length];
        let integer = integer_length(literal) == length;
        if role == Role::Example && integer && !shown_as_written(literal) {
            self.out.push('"');
            self.out.push_str(MARKER);
            self.out.push_str(literal);
            self.out.push('"');
            self.at += length;
            self.marked += 1;
        } else {
            self.copy(length);
        }
    }

    fn space(&mut self) {
        let length =
            self.text[self.at..].bytes().take_while(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')).count();
        self.copy(length);
    }

    /// Copies `byte` when it comes next.
    fn punctuation(&mut self, byte: u8) -> bool {
        let next = self.text.as_bytes().get(self.at) == Some(&byte);
        if next {
            self.copy(1);
        }
        next
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.punctuation(byte) { Ok(()) } else { Err(self.unexpected()) }
    }

    fn copy(&mut self, length: usize) {
        self.out.push_str(&self.text[self.at..self.at + length]);
        self.at += length;
    }

    fn unexpected(&self) -> String {
        match self.text[self.at..].chars().next() {
            Some(found) => format!("unexpected {found:?} at byte {}", self.at),
            None => "unexpected end of the document".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MARKER, mark, restore, shown_as_written};

    #[test]
    fn integers_beyond_doubles_are_not_shown_as_written() {
        for exact in
            ["0", "-1", "41208", "9007199254740992", "9007199254740994", "1152921504606847000", "100000000000000000000"]
        {
            assert!(shown_as_written(exact), "{exact}");
        }
        for inexact in [
            "9007199254740993",
            "610809900976570889",
            "7261845022003200001",
            "1152921504606846976",
            "-610809900976570889",
            "1000000000000000000000",
            "123456789012345678901234567890123456789012",
        ] {
            assert!(!shown_as_written(inexact), "{inexact}");
        }
    }

    #[test]
    fn only_example_integers_are_marked() {
        let document = r#"{
  "paths": {"/nodes": {"post": {"requestBody": {"content": {"application/json": {
    "schema": {"type": "integer", "maximum": 610809900976570889, "example": 610809900976570890},
    "examples": {"two": {"summary": "n 610809900976570891", "value": {"nodes": [610809900976570892, 7, 1.5e300]}}}
  }}}}}},
  "components": {"schemas": {"Node": {
    "properties": {"example": {"type": "integer", "maximum": 610809900976570893}},
    "examples": [{"id": 610809900976570894}]
  }}}
}"#;
        let (marked, count) = mark(document).unwrap();
        assert_eq!(count, 3);
        for kept in [
            "\"maximum\": 610809900976570889,",
            "\"n 610809900976570891\"",
            "7, 1.5e300]",
            "\"maximum\": 610809900976570893}",
        ] {
            assert!(marked.contains(kept), "{kept} in {marked}");
        }
        for replaced in ["610809900976570890", "610809900976570892", "610809900976570894"] {
            assert!(marked.contains(&format!("\"{MARKER}{replaced}\"")), "{replaced} in {marked}");
        }
        // Still JSON, with only the marked values changed.
        let before: serde_json::Value = serde_json::from_str(document).unwrap();
        let after: serde_json::Value = serde_json::from_str(&marked).unwrap();
        assert_eq!(
            after["components"]["schemas"]["Node"]["properties"],
            before["components"]["schemas"]["Node"]["properties"]
        );
    }

    #[test]
    fn a_document_holding_the_marker_is_refused() {
        let error = mark(&format!("{{\"example\": \"{MARKER}1\"}}")).unwrap_err();
        assert!(error.contains(MARKER), "{error}");
        assert!(mark("{\"example\": [1,]}").unwrap_err().contains("unexpected ']' at byte 15"));
    }

    #[test]
    fn marked_strings_become_bigints_in_the_definition_and_digits_elsewhere() {
        let page = format!(
            "<html><head><title>t</title></head><body><div>\"{MARKER}7261845022003200001\"</div><script type=\"module\">\n\
             const __redoc_definition = {{\"example\":{{\"ids\":[\"{MARKER}610809900976570889\",\"{MARKER}-610809900976570890\"]}}}};\n\
             const __redoc_options = {{}};</script></body></html>"
        );
        let restored = restore(&page).unwrap();
        assert!(restored.contains("{\"example\":{\"ids\":[610809900976570889n,-610809900976570890n]}};"), "{restored}");
        assert!(restored.contains("<div>\"7261845022003200001\"</div>"), "{restored}");
        assert!(!restored.contains(MARKER));
        let head = restored.find("</head>").unwrap();
        assert!(restored[..head].contains("BigInt.prototype"), "the script comes before Redoc: {restored}");
        assert_eq!(
            restore("<head></head><script>const __redoc_definition = {};</script>").unwrap(),
            "<head></head><script>const __redoc_definition = {};</script>"
        );
    }
}
