//! The shape of every integer id of the API.
//!
//! Each kind of id (tenant, division, API key, snapshot, ...) is its own type, so that the
//! compiler rejects an id of one kind where another belongs, and a string where an id
//! belongs. An integer converts into any of them (`.tenant_id(1042)`), because ids are
//! numbers the user reads from a console or a configuration file; getting the number back
//! out is explicit ([`i64::from`] or `.get()`), so that passing one kind of id as another
//! takes a deliberate step that stands out in review.
//!
//! The code generator defines each id with [`id_type!`](crate::id_type): once, in
//! `laserdata_core::shared`, for the ids every layer shares, and in a layer's `types` module
//! for the ids only that layer has.

/// Defines an id type: a 64-bit integer newtype that converts from `i64` (but not from a
/// string or another id), prints and parses as its number, and serializes as a bare number.
///
/// Used by generated code; see the [module documentation](crate::id) for why ids look so.
#[doc(hidden)]
#[macro_export]
macro_rules! id_type {
    ($(#[$attribute:meta])* $name:ident) => {
        $(#[$attribute])*
        #[derive(
            ::std::clone::Clone,
            ::std::marker::Copy,
            ::std::fmt::Debug,
            ::std::cmp::PartialEq,
            ::std::cmp::Eq,
            ::std::hash::Hash,
            ::std::cmp::PartialOrd,
            ::std::cmp::Ord,
            ::serde::Serialize,
            ::serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The id as a number.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl ::std::convert::From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }

        impl ::std::convert::From<$name> for i64 {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        /// Parses the decimal number, as ids appear in URLs and configuration.
        impl ::std::str::FromStr for $name {
            type Err = ::std::num::ParseIntError;

            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::id_type! {
        /// A test id.
        WidgetId
    }

    #[test]
    fn ids_are_numbers_on_the_wire_and_in_text() {
        let id = WidgetId::from(7_261_845_022_003_200_001);
        assert_eq!(serde_json::to_string(&id).unwrap(), "7261845022003200001");
        assert_eq!(serde_json::from_str::<WidgetId>("7261845022003200001").unwrap(), id);
        assert_eq!(id.to_string(), "7261845022003200001");
        assert_eq!("42".parse::<WidgetId>().unwrap(), WidgetId(42));
        assert!("4x2".parse::<WidgetId>().is_err());
        assert_eq!(i64::from(id), id.get());
    }
}
