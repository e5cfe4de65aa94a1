//! Columns read as Rust types beyond sqlx's own: `Json<T>`, a text column that holds JSON,
//! and `OptionalName`, a nullable column holding a core type's name. A value that does not
//! read as its type fails the read (`StoreError::Corrupt`), so a damaged survey or rule is
//! an error rather than an empty one.

use serde::{Serialize, de::DeserializeOwned};
use sqlx::{Database, Decode, Postgres, Sqlite, Type, error::BoxDynError};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Sent as the JSON text it is stored as, so the API reads as it did when these columns
/// were plain strings.
impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<T> Type<Sqlite> for Json<T> {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &<Sqlite as Database>::TypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<T> Type<Postgres> for Json<T> {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <String as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &<Postgres as Database>::TypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r, T, DB> Decode<'r, DB> for Json<T>
where
    T: DeserializeOwned,
    DB: Database,
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, DB>>::decode(value)?;
        Ok(Json(serde_json::from_str(&text)?))
    }
}

/// A nullable text column holding a core type's name, read through sqlx's `try_from` into
/// `Option<T>`: NULL is `None`, a name no version writes is an error naming the column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionalName(pub Option<String>);

impl Type<Sqlite> for OptionalName {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &<Sqlite as Database>::TypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Type<Postgres> for OptionalName {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <String as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &<Postgres as Database>::TypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r, DB> Decode<'r, DB> for OptionalName
where
    DB: Database,
    Option<String>: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(OptionalName(<Option<String> as Decode<'r, DB>>::decode(
            value,
        )?))
    }
}

/// `Option<T>` from an `OptionalName` for each core type stored that way.
macro_rules! optional_names {
    ($($t:ty),+ $(,)?) => {
        $(
            impl TryFrom<OptionalName> for Option<$t> {
                type Error = nunchi_core::CoreError;
                fn try_from(v: OptionalName) -> Result<Self, Self::Error> {
                    v.0.map(<$t>::try_from).transpose()
                }
            }
        )+
    };
}

optional_names!(nunchi_core::feedback::Metric, nunchi_core::feedback::Source);
