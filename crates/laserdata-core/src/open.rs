//! Enums that tolerate values added after the client was built.

use std::fmt;
use std::str::FromStr;

use serde::de::{DeserializeOwned, IntoDeserializer, value::Error as ValueError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value of the string enum `T`, or a value the API has added since `T` was generated.
///
/// The generated clients use `Open<T>` wherever the API sends or takes a value of a string
/// enum, so that a new cloud, status or message kind on the server does not make whole answers
/// fail to decode. Match on [`Open::Known`] for the values this client knows; an
/// [`Open::Unknown`] keeps the text as sent and encodes back to it unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Open<T> {
    /// A value this client knows.
    Known(T),
    /// A value the API added after this client was generated, as the API wrote it.
    Unknown(String),
}

impl<T> Open<T> {
    /// The value, when it is one this client knows.
    pub fn known(&self) -> Option<&T> {
        match self {
            Open::Known(value) => Some(value),
            Open::Unknown(_) => None,
        }
    }

    /// Whether the value is one this client knows.
    pub fn is_known(&self) -> bool {
        matches!(self, Open::Known(_))
    }
}

impl<T> From<T> for Open<T> {
    fn from(value: T) -> Self {
        Open::Known(value)
    }
}

impl<T: PartialEq> PartialEq<T> for Open<T> {
    fn eq(&self, other: &T) -> bool {
        self.known() == Some(other)
    }
}

impl<T: Serialize> Serialize for Open<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Open::Known(value) => value.serialize(serializer),
            Open::Unknown(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Open<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let known = T::deserialize(IntoDeserializer::<ValueError>::into_deserializer(text.as_str()));
        Ok(known.map(Open::Known).unwrap_or(Open::Unknown(text)))
    }
}

impl<T: fmt::Display> fmt::Display for Open<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Open::Known(value) => value.fmt(f),
            Open::Unknown(text) => f.write_str(text),
        }
    }
}

/// Parsing never fails: text that is no known value becomes [`Open::Unknown`].
impl<T: FromStr> FromStr for Open<T> {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(text.parse().map(Open::Known).unwrap_or_else(|_| Open::Unknown(text.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Cloud {
        #[serde(rename = "aws")]
        Aws,
    }

    #[test]
    fn known_values_decode_as_known_and_new_ones_are_kept() {
        let known: Open<Cloud> = serde_json::from_str("\"aws\"").unwrap();
        assert_eq!(known, Open::Known(Cloud::Aws));
        assert!(known == Cloud::Aws);
        let new: Open<Cloud> = serde_json::from_str("\"azure\"").unwrap();
        assert_eq!(new, Open::Unknown("azure".into()));
        assert_eq!(serde_json::to_string(&new).unwrap(), "\"azure\"");
        assert_eq!(serde_json::to_string(&known).unwrap(), "\"aws\"");
        assert!(serde_json::from_str::<Open<Cloud>>("17").is_err(), "a non-string is still an error");
    }
}
