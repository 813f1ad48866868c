use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret handed out by the API, such as a new API key's token.
///
/// `Debug` and `Display` print `[redacted]`, so the secret cannot leak through logs, panics or
/// error messages by accident. Read it deliberately with [`SecretString::expose`], once, to
/// store it somewhere safe. Serializing writes the real value (the type is also used in request
/// bodies and must round-trip), so never serialize a value holding one into a log.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper and returns the secret.
    pub fn into_exposed(self) -> String {
        self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> Self {
        SecretString(secret)
    }
}

impl From<&str> for SecretString {
    fn from(secret: &str) -> Self {
        SecretString(secret.to_owned())
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_secret() {
        let secret = SecretString::new("ld_api_key_very_secret");
        assert_eq!(format!("{secret:?}"), "SecretString([redacted])");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:#?}"), "SecretString([redacted])");
        assert_eq!(secret.expose(), "ld_api_key_very_secret");
    }

    #[test]
    fn serde_round_trips_the_real_value() {
        let secret: SecretString = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"abc\"");
    }
}
