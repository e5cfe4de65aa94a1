//! Enums that are stored and sent as a fixed name (`"active"`, `"queued"`): one macro
//! gives each its names, parsing that rejects anything else, `Display`, serde as the name,
//! and `TryFrom<String>`, which the store uses to read a column so that a corrupt value is
//! an error rather than a silent default.

/// Declares an enum whose variants are written as fixed names, e.g.
/// `named_enum! { /// doc  pub enum JobStatus("job status") { Queued = "queued", … } }`.
/// The string in parentheses names the field in parse errors.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($field:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> $crate::CoreResult<Self> {
                let s = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        $crate::CoreError::new(
                            $field,
                            format!(
                                "unknown {} {s:?}; one of {}",
                                $field,
                                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        )
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::CoreError;
            fn try_from(s: String) -> $crate::CoreResult<Self> {
                Self::parse(&s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// `TryFrom<String>` through a type's own `parse` (`fn parse(&str) -> CoreResult<Self>`) and
/// `Display` as its `as_str`, for the types stored as a name whose parsing is more forgiving
/// than `named_enum!`'s (aliases, case): the store reads their columns with it, so a corrupt
/// value is an error.
#[macro_export]
macro_rules! read_by_name {
    ($($t:ty),+ $(,)?) => {
        $(
            impl TryFrom<String> for $t {
                type Error = $crate::CoreError;
                fn try_from(s: String) -> $crate::CoreResult<Self> {
                    <$t>::parse(&s)
                }
            }

            impl std::fmt::Display for $t {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    named_enum! {
        /// A test enum.
        pub enum Light("light") {
            Red = "red",
            /// Go.
            Green = "green",
        }
    }

    #[test]
    fn names_round_trip_and_anything_else_is_refused() {
        for l in Light::ALL {
            assert_eq!(Light::parse(l.as_str()).unwrap(), *l);
            assert_eq!(Light::try_from(l.to_string()).unwrap(), *l);
            let json = serde_json::to_string(l).unwrap();
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), *l);
        }
        let e = Light::parse("amber").unwrap_err();
        assert_eq!(e.field, "light");
        assert!(e.message.contains("red, green"), "{}", e.message);
        assert!(serde_json::from_str::<Light>("\"RED\"").is_err());
    }
}
