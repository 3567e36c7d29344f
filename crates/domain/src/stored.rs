//! Stored enums: a state, kind or status that a table keeps as text.
//!
//! [`stored_enum!`] defines the enum with its stored code and its Chinese
//! label per variant, and generates `ALL`, `code()`, `label()`, `parse()`,
//! `Display` (the label) and serde as the code. With the `sea-orm` feature
//! (enabled by `qifu-db`) it also generates what lets the enum be a SeaORM
//! entity field stored as text: reading a value that is not one of the codes
//! is an error naming the table, column and value, never a silent fallback.
//! The feature only adds trait impls: the domain still does no I/O.

/// Defines a stored enum. `in [..]` names the `table.column`s that hold it
/// (for the error on an unknown stored value).
///
/// ```ignore
/// stored_enum! {
///     /// A demand's state.
///     pub enum DemandState in ["demands.status"] {
///         Submitted = "submitted" => "已提交",
///         Accepted = "accepted" => "已受理",
///     }
/// }
/// ```
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in [$($col:literal),+ $(,)?] {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$($code),+].len()] = [$(Self::$variant),+];
            /// Every stored code, in declaration order.
            pub const CODES: [&'static str; [$($code),+].len()] = [$($code),+];
            /// The `table.column`s that store this enum.
            pub const COLUMNS: &'static [&'static str] = &[$($col),+];

            /// The code stored in the database (and used in URLs, forms and JSON).
            pub const fn code(self) -> &'static str {
                match self {
                    $( Self::$variant => $code, )+
                }
            }

            /// The Chinese name shown to people.
            pub const fn label(self) -> &'static str {
                match self {
                    $( Self::$variant => $label, )+
                }
            }

            /// Whether this is the value chosen (a filter's, in a template:
            /// `{% if s.is_chosen(status) %} selected{% endif %}`).
            pub fn is_chosen(self, chosen: &Option<Self>) -> bool {
                *chosen == Some(self)
            }

            /// The variant stored as `code`, if any.
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $( $code => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(&code).ok_or_else(|| ::serde::de::Error::unknown_variant(&code, &Self::CODES))
            }
        }

        #[cfg(feature = "sea-orm")]
        impl ::sea_orm::sea_query::ValueType for $name {
            fn try_from(v: ::sea_orm::sea_query::Value) -> Result<Self, ::sea_orm::sea_query::ValueTypeErr> {
                let code = <String as ::sea_orm::sea_query::ValueType>::try_from(v)?;
                Self::parse(&code).ok_or(::sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($name).to_owned()
            }

            fn array_type() -> ::sea_orm::sea_query::ArrayType {
                <String as ::sea_orm::sea_query::ValueType>::array_type()
            }

            fn column_type() -> ::sea_orm::sea_query::ColumnType {
                ::sea_orm::sea_query::ColumnType::String(::sea_orm::sea_query::StringLen::None)
            }
        }

        #[cfg(feature = "sea-orm")]
        impl ::sea_orm::TryGetable for $name {
            fn try_get_by<I: ::sea_orm::ColIdx>(
                res: &::sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, ::sea_orm::TryGetError> {
                let code = <String as ::sea_orm::TryGetable>::try_get_by(res, idx)?;
                Self::parse(&code).ok_or_else(|| {
                    ::sea_orm::TryGetError::DbErr(::sea_orm::DbErr::Type($crate::stored::unknown_value(
                        stringify!($name),
                        Self::COLUMNS,
                        idx.as_str(),
                        &code,
                        &Self::CODES,
                    )))
                })
            }
        }

        #[cfg(feature = "sea-orm")]
        impl From<$name> for ::sea_orm::Value {
            fn from(v: $name) -> Self {
                ::sea_orm::Value::String(Some(v.code().to_owned()))
            }
        }

        #[cfg(feature = "sea-orm")]
        impl ::sea_orm::sea_query::Nullable for $name {
            fn null() -> ::sea_orm::Value {
                ::sea_orm::Value::String(None)
            }
        }

        /// A stored enum is never an auto-increment key (it may be part of a composite one).
        #[cfg(feature = "sea-orm")]
        impl ::sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, ::sea_orm::DbErr> {
                Err(::sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        #[cfg(feature = "sea-orm")]
        impl ::sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> ::sea_orm::ActiveValue<$name> {
                ::sea_orm::ActiveValue::Set(self)
            }
        }
    };
}

pub(crate) use stored_enum;

/// The message of the error on reading a stored value that is not one of
/// the enum's codes: names the table and column (the one whose name matches
/// the column read, or every candidate), the value and the codes expected.
pub fn unknown_value(ty: &str, columns: &[&str], read_as: Option<&str>, value: &str, codes: &[&str]) -> String {
    let matching: Vec<&str> =
        columns.iter().copied().filter(|c| read_as.is_some_and(|r| c.rsplit('.').next() == Some(r))).collect();
    let place = if matching.len() == 1 { matching[0].to_owned() } else { columns.join(" / ") };
    format!("unknown value {value:?} in {place} (a {ty}: one of {})", codes.join(", "))
}

#[cfg(test)]
mod tests {

    stored_enum! {
        /// A test enum stored in two columns.
        pub enum Light in ["lamps.state", "lamp_events.to_state"] {
            On = "on" => "开",
            Off = "off" => "关",
            Blinking = "blinking" => "闪烁",
        }
    }

    #[test]
    fn every_code_round_trips() {
        assert_eq!(Light::ALL.len(), 3);
        for l in Light::ALL {
            assert_eq!(Light::parse(l.code()), Some(l));
            assert_eq!(l.to_string(), l.label());
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(json, format!("\"{}\"", l.code()));
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), l);
        }
        assert_eq!(Light::CODES, ["on", "off", "blinking"]);
        assert_eq!(Light::parse("On"), None);
        assert_eq!(Light::parse(""), None);
        let err = serde_json::from_str::<Light>("\"dim\"").unwrap_err().to_string();
        assert!(err.contains("dim") && err.contains("blinking"), "{err}");
    }

    #[test]
    fn unknown_value_names_table_column_and_value() {
        let m = super::unknown_value("Light", Light::COLUMNS, Some("state"), "dim", &Light::CODES);
        assert_eq!(m, "unknown value \"dim\" in lamps.state (a Light: one of on, off, blinking)");
        let m = super::unknown_value("Light", Light::COLUMNS, Some("to_state"), "dim", &Light::CODES);
        assert!(m.contains("in lamp_events.to_state"), "{m}");
        // Read by position or under a name that matches no column: every candidate is named.
        let m = super::unknown_value("Light", Light::COLUMNS, None, "dim", &Light::CODES);
        assert!(m.contains("lamps.state / lamp_events.to_state") && m.contains("\"dim\""), "{m}");
    }

    #[cfg(feature = "sea-orm")]
    #[test]
    fn sea_orm_value_is_the_code() {
        use sea_orm::sea_query::{ColumnType, Nullable, StringLen, ValueType};
        assert_eq!(sea_orm::Value::from(Light::Blinking), sea_orm::Value::String(Some("blinking".to_owned())));
        assert!(matches!(<Light as ValueType>::try_from(sea_orm::Value::from("off")), Ok(Light::Off)));
        assert!(<Light as ValueType>::try_from(sea_orm::Value::from("dim")).is_err());
        assert_eq!(<Light as ValueType>::column_type(), ColumnType::String(StringLen::None));
        assert_eq!(Light::null(), sea_orm::Value::String(None));
    }
}
