//! A `serde::Serializer` writing the bytes serde_json writes (with our string escapes
//! and our two-space pretty layout), straight into a `Vec<u8>`: no `io::Write` layers,
//! no `Formatter` calls, struct field names copied without an escape scan. Each method
//! follows serde_json 1.0's `ser.rs` call for call, so the output is the same for any
//! value serde_json accepts (`tests` compares them).

use super::key::{Key, Raw};
use super::str::{is_plain, write_contents, write_str};
use serde::ser::{self, Serialize};
use serde_json::Error;
use std::fmt::{self, Display};

pub(super) type Result<T> = std::result::Result<T, Error>;

/// serde_json's raw-value token (`Ts::serialize` writes timestamps through it).
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// The writer; `PRETTY` picks serde_json's pretty layout (two spaces a level) over
/// the compact one.
pub(super) struct Ser<'a, const PRETTY: bool> {
    pub(super) out: &'a mut Vec<u8>,
    level: usize,
    has_value: bool,
}

impl<'a, const PRETTY: bool> Ser<'a, PRETTY> {
    pub(super) fn new(out: &'a mut Vec<u8>) -> Self {
        Ser {
            out,
            level: 0,
            has_value: false,
        }
    }

    /// A comma (unless `!comma`), the line break and the indentation: up to 15 levels
    /// as one fixed 32-byte copy cut to length (no `memcpy` call), deeper from `LINE`.
    fn newline(&mut self, comma: bool) {
        const SHORT: [[u8; 32]; 2] = [
            *b"\n                               ",
            *b",\n                              ",
        ];
        const LINE: &[u8; 130] = b",\n                                                                                                                                ";
        let mut n = self.level * 2;
        let from = usize::from(!comma);
        if n <= 30 {
            let len = self.out.len() + 2 - from + n;
            self.out.extend_from_slice(&SHORT[usize::from(comma)]);
            self.out.truncate(len);
            return;
        }
        let first = n.min(128);
        self.out.extend_from_slice(&LINE[from..2 + first]);
        n -= first;
        while n > 0 {
            let k = n.min(128);
            self.out.extend_from_slice(&LINE[2..2 + k]);
            n -= k;
        }
    }

    /// `[` or `{` (serde_json's `begin_array`/`begin_object`).
    fn open(&mut self, c: u8) {
        if PRETTY {
            self.level += 1;
            self.has_value = false;
        }
        self.out.push(c);
    }

    /// `]` or `}` (`end_array`/`end_object`).
    fn close(&mut self, c: u8) {
        if PRETTY {
            self.level -= 1;
            if self.has_value {
                self.newline(false);
            }
        }
        self.out.push(c);
    }

    /// Before an element or a key (`begin_array_value`/`begin_object_key`).
    fn item(&mut self, first: bool) {
        if PRETTY {
            self.newline(!first);
        } else if !first {
            self.out.push(b',');
        }
    }

    /// Between a key and its value (`begin_object_value`).
    fn colon(&mut self) {
        if PRETTY {
            self.out.extend_from_slice(b": ");
        } else {
            self.out.push(b':');
        }
    }

    /// After an element or a value (`end_array_value`/`end_object_value`).
    fn done(&mut self) {
        if PRETTY {
            self.has_value = true;
        }
    }

    pub(super) fn str(&mut self, s: &str) {
        write_str(self.out, s);
    }

    /// A struct field name: a `&'static str` of our own types, plain ASCII (checked in
    /// debug builds, which every test runs), so copied as it is.
    fn field_name(&mut self, key: &'static str) {
        debug_assert!(is_plain(key), "field name {key:?} needs escaping");
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.push(b'"');
    }

    pub(super) fn int<I: itoa::Integer>(&mut self, v: I) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    pub(super) fn float<F: zmij::Float>(&mut self, v: F) {
        self.out
            .extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    }

    /// `{"variant": ` of the variant forms (serde_json's newtype/tuple/struct variant).
    fn variant_head(&mut self, variant: &'static str) {
        self.open(b'{');
        self.item(true);
        self.str(variant);
        self.colon();
    }

    /// A `Display` value as an escaped string, without building a `String`.
    pub(super) fn display<T: ?Sized + Display>(&mut self, value: &T) -> Result<()> {
        struct Escaping<'v>(&'v mut Vec<u8>);
        impl fmt::Write for Escaping<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                write_contents(self.0, s);
                Ok(())
            }
        }
        self.out.push(b'"');
        fmt::write(&mut Escaping(self.out), format_args!("{value}"))
            .map_err(|_| ser::Error::custom("a Display implementation returned an error"))?;
        self.out.push(b'"');
        Ok(())
    }
}

/// Where a container is: serde_json's `State`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Written whole already (`[]`/`{}` for a length of 0).
    Empty,
    First,
    Rest,
}

/// A container being written (serde_json's `Compound`).
pub(super) enum Compound<'s, 'a, const P: bool> {
    Map {
        ser: &'s mut Ser<'a, P>,
        state: State,
    },
    /// A raw value: its one field's text is written as it is.
    Raw { ser: &'s mut Ser<'a, P> },
}

impl<'s, 'a, const P: bool> Compound<'s, 'a, P> {
    fn ser(&mut self) -> &mut Ser<'a, P> {
        match self {
            Compound::Map { ser, .. } | Compound::Raw { ser } => ser,
        }
    }

    /// The start of an element or key: the separator before it.
    fn next(&mut self) {
        if let Compound::Map { ser, state } = self {
            ser.item(*state == State::First);
            *state = State::Rest;
        }
    }

    /// The closing bracket, unless written already.
    fn finish(self, c: u8) -> &'s mut Ser<'a, P> {
        match self {
            Compound::Map { ser, state } => {
                if state != State::Empty {
                    ser.close(c);
                }
                ser
            }
            Compound::Raw { ser } => ser,
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.next();
        let ser = self.ser();
        value.serialize(&mut *ser)?;
        ser.done();
        Ok(())
    }

    /// `value` after a key: `: value`.
    fn value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let ser = self.ser();
        ser.colon();
        value.serialize(&mut *ser)?;
        ser.done();
        Ok(())
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
        match self {
            Compound::Map { .. } => {
                self.next();
                self.ser().field_name(key);
                self.value(value)
            }
            Compound::Raw { ser } if key == RAW_TOKEN => value.serialize(Raw(&mut **ser)),
            Compound::Raw { .. } => Err(ser::Error::custom("expected RawValue")),
        }
    }

    /// The end of an array or object: its closing bracket.
    fn end_plain(self, c: u8) -> Result<()> {
        self.finish(c);
        Ok(())
    }

    /// The end of a variant form: the inner container, then the outer object.
    fn end_variant(self, c: u8) -> Result<()> {
        let ser = self.finish(c);
        ser.done();
        ser.close(b'}');
        Ok(())
    }
}

/// The tuple and struct variant forms: `{"variant": ` then the array or object that
/// `$inner` opens (serde_json's `serialize_tuple_variant`/`serialize_struct_variant`).
macro_rules! variants {
    ($out:ty; $($name:ident => $inner:ident;)*) => {$(
        fn $name(self, _: &'static str, _: u32, variant: &'static str, len: usize) -> Result<$out> {
            self.variant_head(variant);
            self.$inner(Some(len))
        }
    )*};
}

impl<'s, 'a, const P: bool> ser::Serializer for &'s mut Ser<'a, P> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'a, P>;
    type SerializeTuple = Compound<'s, 'a, P>;
    type SerializeTupleStruct = Compound<'s, 'a, P>;
    type SerializeTupleVariant = Compound<'s, 'a, P>;
    type SerializeMap = Compound<'s, 'a, P>;
    type SerializeStruct = Compound<'s, 'a, P>;
    type SerializeStructVariant = Compound<'s, 'a, P>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(|s, v| {
        s.int(v);
        Ok(())
    });
    scalars!(|s, v| if v.is_finite() {
        s.float(v);
        Ok(())
    } else {
        s.serialize_unit()
    }; serialize_f32: f32, serialize_f64: f64);
    fn serialize_char(self, v: char) -> Result<()> {
        self.str(v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.str(v);
        Ok(())
    }
    /// An array of numbers, as serde_json's `write_byte_array`.
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.open(b'[');
        for (i, &b) in v.iter().enumerate() {
            self.item(i == 0);
            self.int(b);
            self.done();
        }
        self.close(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.variant_head(variant);
        value.serialize(&mut *self)?;
        self.done();
        self.close(b'}');
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'s, 'a, P>> {
        Ok(container(self, b'[', b']', len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'a, P>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'s, 'a, P>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'s, 'a, P>> {
        Ok(container(self, b'{', b'}', len))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'s, 'a, P>> {
        if name == RAW_TOKEN {
            return Ok(Compound::Raw { ser: self });
        }
        self.serialize_map(Some(len))
    }
    variants! { Compound<'s, 'a, P>;
        serialize_tuple_variant => serialize_seq;
        serialize_struct_variant => serialize_map;
    }
    fn collect_str<T: ?Sized + Display>(self, value: &T) -> Result<()> {
        self.display(value)
    }
}

/// An array or object opened; closed at once when its length is 0, as serde_json does.
fn container<'s, 'a, const P: bool>(
    ser: &'s mut Ser<'a, P>,
    open: u8,
    close: u8,
    len: Option<usize>,
) -> Compound<'s, 'a, P> {
    ser.open(open);
    let state = if len == Some(0) {
        ser.close(close);
        State::Empty
    } else {
        State::First
    };
    Compound::Map { ser, state }
}

/// The array forms: each element after its separator, `]` at the end (`$end`:
/// `end_plain`, or `end_variant` for a variant's).
macro_rules! elements {
    ($($tr:ident::$method:ident => $end:ident;)*) => {$(
        impl<const P: bool> ser::$tr for Compound<'_, '_, P> {
            type Ok = ();
            type Error = Error;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
                self.element(value)
            }
            fn end(self) -> Result<()> {
                self.$end(b']')
            }
        }
    )*};
}

elements! {
    SerializeSeq::serialize_element => end_plain;
    SerializeTuple::serialize_element => end_plain;
    SerializeTupleStruct::serialize_field => end_plain;
    SerializeTupleVariant::serialize_field => end_variant;
}

/// The struct forms: each field as `"name": value`, `}` at the end.
macro_rules! fields {
    ($($tr:ident => $end:ident;)*) => {$(
        impl<const P: bool> ser::$tr for Compound<'_, '_, P> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                k: &'static str,
                v: &T,
            ) -> Result<()> {
                self.field(k, v)
            }
            fn end(self) -> Result<()> {
                self.$end(b'}')
            }
        }
    )*};
}

fields! {
    SerializeStruct => end_plain;
    SerializeStructVariant => end_variant;
}

impl<const P: bool> ser::SerializeMap for Compound<'_, '_, P> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.next();
        key.serialize(Key(self.ser()))
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.value(value)
    }
    fn end(self) -> Result<()> {
        self.end_plain(b'}')
    }
}
