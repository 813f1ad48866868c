//! JSON pointers (RFC 6901) and the URI fragments that carry them in `$ref`s.

/// Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 requires.
pub fn push_token(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// Splits a JSON pointer into its unescaped reference tokens.
pub fn tokens(pointer: &str) -> Vec<String> {
    pointer.split('/').skip(1).map(|token| token.replace("~1", "/").replace("~0", "~")).collect()
}

/// Undoes the percent-encoding a URI fragment may use (`%7B` for `{`), leaving a JSON pointer.
pub fn decode_fragment(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|pair| u8::from_str_radix(pair, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_round_trip_through_escaping() {
        let pointer = push_token(&push_token("", "paths"), "/tenants/{tenant_id}/a~b");
        assert_eq!(pointer, "/paths/~1tenants~1{tenant_id}~1a~0b");
        assert_eq!(tokens(&pointer), vec!["paths", "/tenants/{tenant_id}/a~b"]);
    }

    #[test]
    fn fragments_are_percent_decoded() {
        assert_eq!(decode_fragment("/paths/~1a~1%7Bid%7D"), "/paths/~1a~1{id}");
        // A lone or broken escape is kept as it is.
        assert_eq!(decode_fragment("/a%2"), "/a%2");
        assert_eq!(decode_fragment("/a%zz"), "/a%zz");
    }
}
