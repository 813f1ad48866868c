//! The string formats checked: `date-time`, `date` and `time` (RFC 3339), `email` (RFC 5321
//! mailbox, ASCII), `uri` (RFC 3986, absolute) and `uuid` (RFC 9562, hyphenated).

use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DateTime,
    Date,
    Time,
    Email,
    Uri,
    Uuid,
}

impl Format {
    pub fn named(name: &str) -> Option<Format> {
        Some(match name {
            "date-time" => Format::DateTime,
            "date" => Format::Date,
            "time" => Format::Time,
            "email" => Format::Email,
            "uri" => Format::Uri,
            "uuid" => Format::Uuid,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Time => "time",
            Format::Email => "email",
            Format::Uri => "uri",
            Format::Uuid => "uuid",
        }
    }

    pub fn holds(self, text: &str) -> bool {
        match self {
            Format::DateTime => date_time(text),
            Format::Date => date(text),
            Format::Time => time(text),
            Format::Email => email(text),
            Format::Uri => uri(text),
            Format::Uuid => uuid(text),
        }
    }
}

/// `full-date "T" full-time`; the `T` may be lower case.
fn date_time(text: &str) -> bool {
    match text.find(['T', 't']) {
        Some(at) => date(&text[..at]) && time(&text[at + 1..]),
        None => false,
    }
}

/// A number of exactly `digits` ASCII digits.
fn digits(text: &str, digits: usize) -> Option<u32> {
    (text.len() == digits && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// `YYYY-MM-DD`, a day that exists (29 February only in leap years).
fn date(text: &str) -> bool {
    let mut parts = text.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let (Some(year), Some(month), Some(day)) = (digits(year, 4), digits(month, 2), digits(day, 2)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `HH:MM:SS[.fraction]` and an offset, `Z` or `±HH:MM`; second 60 only as a leap second,
/// at 23:59 UTC.
fn time(text: &str) -> bool {
    let (clock, offset) = match text.find(['Z', 'z', '+', '-']) {
        Some(at) => text.split_at(at),
        None => return false,
    };
    let (clock, fraction) = match clock.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (clock, None),
    };
    if fraction.is_some_and(|fraction| fraction.is_empty() || !fraction.bytes().all(|byte| byte.is_ascii_digit())) {
        return false;
    }
    let in_range = |text: &str, max: u32| digits(text, 2).filter(|value| *value <= max);
    let hms: Vec<&str> = clock.split(':').collect();
    let [hour, minute, second] = hms[..] else { return false };
    let (Some(hour), Some(minute), Some(second)) = (in_range(hour, 23), in_range(minute, 59), in_range(second, 60))
    else {
        return false;
    };
    // Minutes east of UTC.
    let east: i64 = match offset.as_bytes()[0] {
        b'Z' | b'z' if offset.len() == 1 => 0,
        b'+' | b'-' => {
            let Some((hours, minutes)) = offset[1..].split_once(':') else { return false };
            let (Some(hours), Some(minutes)) = (in_range(hours, 23), in_range(minutes, 59)) else { return false };
            let minutes = i64::from(hours * 60 + minutes);
            if offset.starts_with('-') { -minutes } else { minutes }
        }
        _ => return false,
    };
    let utc_minute = (i64::from(hour * 60 + minute) - east).rem_euclid(24 * 60);
    second < 60 || utc_minute == 23 * 60 + 59
}

/// Eight, four, four, four and twelve hexadecimal digits, joined by hyphens.
fn uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, length)| group.len() == length && group.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// `local-part "@" domain`: a dot-atom or quoted local part of at most 64 characters, and a
/// host name or an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
fn email(text: &str) -> bool {
    let Some(at) = text.rfind('@') else { return false };
    let (local, domain) = (&text[..at], &text[at + 1..]);
    if local.is_empty() || local.len() > 64 || !text.is_ascii() {
        return false;
    }
    let local_ok = match local.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')) {
        Some(quoted) => quoted_string(quoted),
        None => local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(is_atext)),
    };
    let domain_ok = match domain.strip_prefix('[').and_then(|inner| inner.strip_suffix(']')) {
        Some(literal) => match literal.get(..5).filter(|tag| tag.eq_ignore_ascii_case("IPv6:")) {
            Some(_) => literal[5..].parse::<Ipv6Addr>().is_ok(),
            None => literal.parse::<Ipv4Addr>().is_ok(),
        },
        None => host_name(domain),
    };
    local_ok && domain_ok
}

/// The characters of an atom of an address (RFC 5322 `atext`).
fn is_atext(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&byte)
}

/// The inside of a quoted local part: printable characters and spaces, with `"` and `\` only
/// escaped by a backslash.
fn quoted_string(text: &str) -> bool {
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'\\' => {
                if !bytes.next().is_some_and(|escaped| (b' '..=b'~').contains(&escaped)) {
                    return false;
                }
            }
            b'"' => return false,
            b' '..=b'~' => {}
            _ => return false,
        }
    }
    true
}

/// Labels of letters, digits and inner hyphens, each 1 to 63 characters, at most 253 in all.
fn host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

/// An absolute URI: `scheme ":" hier-part ["?" query] ["#" fragment]`, every character one the
/// grammar allows where it is, every `%` followed by two hexadecimal digits.
fn uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else { return false };
    let mut scheme_bytes = scheme.bytes();
    if !scheme_bytes.next().is_some_and(|first| first.is_ascii_alphabetic())
        || !scheme_bytes.all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte))
    {
        return false;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let (hier, query) = match rest.split_once('?') {
        Some((hier, query)) => (hier, Some(query)),
        None => (rest, None),
    };
    let path = match hier.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            if !authority(&after[..end]) {
                return false;
            }
            &after[end..]
        }
        None => hier,
    };
    let query_chars = |text: &str| encoded(text, |byte| is_pchar(byte) || b"/?".contains(&byte));
    encoded(path, |byte| is_pchar(byte) || byte == b'/')
        && query.is_none_or(query_chars)
        && fragment.is_none_or(query_chars)
}

/// `[userinfo "@"] host [":" port]`.
fn authority(text: &str) -> bool {
    let (userinfo, host_port) = match text.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, text),
    };
    if userinfo
        .is_some_and(|userinfo| !encoded(userinfo, |byte| is_unreserved(byte) || is_sub_delim(byte) || byte == b':'))
    {
        return false;
    }
    let (host, port) = match host_port.strip_prefix('[') {
        // An address literal is checked here; what follows it is nothing or a port.
        Some(literal) => {
            let Some((address, after)) = literal.split_once(']') else { return false };
            if address.parse::<Ipv6Addr>().is_err() && !ip_future(address) {
                return false;
            }
            match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None if after.is_empty() => ("", None),
                None => return false,
            }
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    encoded(host, |byte| is_unreserved(byte) || is_sub_delim(byte))
        && port.is_none_or(|port| port.bytes().all(|byte| byte.is_ascii_digit()))
}

/// `"v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )`, an address of a future kind.
fn ip_future(text: &str) -> bool {
    let Some(rest) = text.strip_prefix(['v', 'V']) else { return false };
    let Some((version, address)) = rest.split_once('.') else { return false };
    !version.is_empty()
        && version.bytes().all(|byte| byte.is_ascii_hexdigit())
        && !address.is_empty()
        && address.bytes().all(|byte| is_unreserved(byte) || is_sub_delim(byte) || byte == b':')
}

/// Every character either `allowed` or a `%` with two hexadecimal digits.
fn encoded(text: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            if !bytes.get(index + 1..index + 3).is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
        } else if allowed(bytes[index]) {
            index += 1;
        } else {
            return false;
        }
    }
    true
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)
}

fn is_sub_delim(byte: u8) -> bool {
    b"!$&'()*+,;=".contains(&byte)
}

/// A character of a path segment, apart from `%` escapes.
fn is_pchar(byte: u8) -> bool {
    is_unreserved(byte) || is_sub_delim(byte) || b":@".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_follow_rfc_3339() {
        for valid in [
            "2026-10-01T00:00:00Z",
            "2026-10-01t23:59:59z",
            "2024-02-29T12:30:00.123456+05:30",
            "2026-12-31T15:59:60-08:00",
            "2026-12-31T23:59:60Z",
            "2027-01-01T05:29:60+05:30",
            "0001-01-01T00:00:00.0Z",
        ] {
            assert!(Format::DateTime.holds(valid), "{valid}");
        }
        for invalid in [
            "yesterday",
            "2026-10-01",
            "2026-10-01 00:00:00Z",
            "2026-10-01T00:00:00",
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-10-00T00:00:00Z",
            "2026-10-01T24:00:00Z",
            "2026-10-01T00:60:00Z",
            "2026-10-01T00:00:61Z",
            "2026-10-01T00:00:60Z",
            "2026-12-31T23:59:60-08:00",
            "2026-10-01T00:00:00.Z",
            "2026-10-01T00:00:00+5:30",
            "2026-10-01T00:00:00+05:60",
            "2026-10-01T00:00:00+0530",
            "2026-10-01T00:00:00Z05:30",
            "2026-10-01T00:00:00Zulu",
            "26-10-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026-10-01T0:00:00Z",
            "２０２６-10-01T00:00:00Z",
        ] {
            assert!(!Format::DateTime.holds(invalid), "{invalid}");
        }
    }

    #[test]
    fn dates_and_times_alone() {
        assert!(Format::Date.holds("2000-02-29"));
        assert!(!Format::Date.holds("1900-02-29"), "1900 was no leap year");
        assert!(!Format::Date.holds("2026-10-01T00:00:00Z"));
        assert!(Format::Time.holds("08:30:00+01:00"));
        assert!(!Format::Time.holds("08:30:00"));
        assert!(!Format::Time.holds("08:30Z"));
    }

    #[test]
    fn uuids_are_hyphenated_hexadecimal() {
        assert!(Format::Uuid.holds("0b9f1c1e-6a1d-4c8e-9a3b-2f4d5e6a7b8c"));
        assert!(Format::Uuid.holds("0B9F1C1E-6A1D-4C8E-9A3B-2F4D5E6A7B8C"));
        assert!(!Format::Uuid.holds("0b9f1c1e6a1d4c8e9a3b2f4d5e6a7b8c"));
        assert!(!Format::Uuid.holds("0b9f1c1e-6a1d-4c8e-9a3b-2f4d5e6a7b8"));
        assert!(!Format::Uuid.holds("0b9f1c1e-6a1d-4c8e-9a3b-2f4d5e6a7b8g"));
    }

    #[test]
    fn emails_are_mailboxes() {
        for valid in [
            "ops@example.com",
            "first.last+tag@sub.example.co.uk",
            "x@localhost",
            "!#$%&'*+-/=?^_`{|}~@example.com",
            "\"with space\"@example.com",
            "\"quote\\\"d\"@example.com",
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
        ] {
            assert!(Format::Email.holds(valid), "{valid}");
        }
        for invalid in [
            "",
            "plain",
            "@example.com",
            "user@",
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "user@-example.com",
            "user@example-.com",
            "user@exa_mple.com",
            "user@example.com.",
            "user@[300.0.0.1]",
            "user@[IPv6:zz::1]",
            "\"unclosed@example.com",
            "us er@example.com",
            "usér@example.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("a@{}.com", "b".repeat(64)),
        ] {
            assert!(!Format::Email.holds(invalid), "{invalid}");
        }
    }

    #[test]
    fn uris_are_absolute_and_well_formed() {
        for valid in [
            "https://cloud.laserdata.com/tenants/1042?page=2#top",
            "https://user:secret@example.com:8443/a%20b/c",
            "http://[2001:db8::1]:8080/",
            "http://[v1.fe80::a+en1]/",
            "urn:uuid:0b9f1c1e-6a1d-4c8e-9a3b-2f4d5e6a7b8c",
            "mailto:ops@example.com",
            "file:///etc/hosts",
            "s3+https://bucket/key?x=a/b?c",
        ] {
            assert!(Format::Uri.holds(valid), "{valid}");
        }
        for invalid in [
            "",
            "/relative/path",
            "no-scheme",
            "1http://example.com",
            "https://exa mple.com",
            "https://example.com/a b",
            "https://example.com/%zz",
            "https://example.com/%2",
            "https://example.com:80a/",
            "https://[::1/",
            "https://[not-ip]/",
            "https://[::1]x/",
            "https://[::1]:8a/",
            "https://example.com/#a#b",
            "https://example.com/<tag>",
            "https://example.com/ü",
        ] {
            assert!(!Format::Uri.holds(invalid), "{invalid}");
        }
    }
}
