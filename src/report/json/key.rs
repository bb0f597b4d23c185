//! The two restricted serializers of serde_json, for our writer: map keys (strings as
//! they are, numbers and booleans quoted, anything else an error) and the text of a raw
//! value (written as it is).

use super::fast::{Result, Ser};
use serde::ser::{self, Impossible, Serialize};
use serde_json::Error;
use std::fmt::Display;

/// Methods that only fail, with `$msg`.
macro_rules! reject {
    ($msg:expr; $($name:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ok> {
            Err(ser::Error::custom($msg))
        })*
    };
}

/// The same, for the generic methods taking a value.
macro_rules! reject_value {
    ($msg:expr; $($name:ident($($arg:ty),*);)*) => {
        $(fn $name<T: ?Sized + Serialize>(self, $(_: $arg,)* _: &T) -> Result<()> {
            Err(ser::Error::custom($msg))
        })*
    };
}

/// The associated types and compound methods of a serializer that writes one scalar:
/// no compound is possible, each compound method fails with `$msg`.
macro_rules! no_compounds {
    ($msg:expr) => {
        type Ok = ();
        type Error = Error;
        type SerializeSeq = Impossible<(), Error>;
        type SerializeTuple = Impossible<(), Error>;
        type SerializeTupleStruct = Impossible<(), Error>;
        type SerializeTupleVariant = Impossible<(), Error>;
        type SerializeMap = Impossible<(), Error>;
        type SerializeStruct = Impossible<(), Error>;
        type SerializeStructVariant = Impossible<(), Error>;
        reject! { $msg;
            serialize_seq(Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(usize) -> Self::SerializeTuple;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize)
                -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
            serialize_struct(&'static str, usize) -> Self::SerializeStruct;
            serialize_struct_variant(&'static str, u32, &'static str, usize)
                -> Self::SerializeStructVariant;
        }
    };
}

const NOT_A_STRING: &str = "key must be a string";
const NOT_RAW: &str = "expected RawValue";

/// A map key (serde_json's `MapKeySerializer`).
pub(super) struct Key<'s, 'a, const P: bool>(pub(super) &'s mut Ser<'a, P>);

impl<const P: bool> Key<'_, '_, P> {
    fn quoted_int<I: itoa::Integer>(self, v: I) -> Result<()> {
        self.0.out.push(b'"');
        self.0.int(v);
        self.0.out.push(b'"');
        Ok(())
    }

    fn quoted_float<F: zmij::Float>(self, v: F, finite: bool) -> Result<()> {
        if !finite {
            return Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.0.out.push(b'"');
        self.0.float(v);
        self.0.out.push(b'"');
        Ok(())
    }
}

impl<const P: bool> ser::Serializer for Key<'_, '_, P> {
    no_compounds!(NOT_A_STRING);

    fn serialize_str(self, v: &str) -> Result<()> {
        self.0.str(v);
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.0.str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_bool(self, v: bool) -> Result<()> {
        self.0
            .out
            .extend_from_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }
    integers!(|s, v| s.quoted_int(v));
    scalars!(|s, v| s.quoted_float(v, v.is_finite()); serialize_f32: f32, serialize_f64: f64);
    fn serialize_char(self, v: char) -> Result<()> {
        self.0.str(v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn collect_str<T: ?Sized + Display>(self, v: &T) -> Result<()> {
        self.0.display(v)
    }
    reject! { NOT_A_STRING;
        serialize_bytes(&[u8]) -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_none() -> ();
    }
    reject_value! { NOT_A_STRING;
        serialize_newtype_variant(&'static str, u32, &'static str);
    }
}

/// The text of a raw value (serde_json's `RawValueStrEmitter`): only a string is
/// accepted, and written without quotes or escapes.
pub(super) struct Raw<'s, 'a, const P: bool>(pub(super) &'s mut Ser<'a, P>);

impl<const P: bool> ser::Serializer for Raw<'_, '_, P> {
    no_compounds!(NOT_RAW);

    fn serialize_str(self, v: &str) -> Result<()> {
        self.0.out.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn collect_str<T: ?Sized + Display>(self, v: &T) -> Result<()> {
        self.serialize_str(&v.to_string())
    }
    reject! { NOT_RAW;
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_i128(i128) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_u128(u128) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
    }
    reject_value! { NOT_RAW;
        serialize_some();
        serialize_newtype_struct(&'static str);
        serialize_newtype_variant(&'static str, u32, &'static str);
    }
}
