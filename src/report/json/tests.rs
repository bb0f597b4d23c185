//! The new writer against the former one (serde_json with the `Safe` and `Pretty`
//! formatters, in `legacy`): the same bytes, compact and pretty, for generated values
//! and for every shape serde's derive produces.

use super::legacy;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Both writers, both layouts; the new bytes are returned when they agree.
fn same<T: ?Sized + Serialize>(v: &T) -> (String, String) {
    let (mut old_c, mut new_c, mut old_p, mut new_p) = (vec![], vec![], vec![], vec![]);
    legacy::to_writer(&mut old_c, v).unwrap();
    super::to_writer(&mut new_c, v).unwrap();
    legacy::to_writer_pretty(&mut old_p, v).unwrap();
    super::to_writer_pretty(&mut new_p, v).unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    let (old_c, new_c, old_p, new_p) = (text(old_c), text(new_c), text(old_p), text(new_p));
    assert_eq!(new_c, old_c, "compact");
    assert_eq!(new_p, old_p, "pretty");
    (new_c, new_p)
}

/// Every escape class: quote, backslash, the named controls, the other C0 controls,
/// DEL (not escaped), C1, bidi, zero-width, BOM, soft hyphen, private use, specials,
/// supplementary private use (a surrogate pair), and plain non-ASCII around them.
const NASTY: &str = "a\"b\\c/\u{8}\u{c}\n\r\t\u{0}\u{1b}[31m\u{1f}\u{7f}\u{80}\u{9b}\u{9f}\u{a0}\
    \u{ad}é\u{200b}\u{200f}\u{2010}\u{202a}\u{202e}\u{2066}\u{2069}\u{e000}\u{f8ff}\u{feff}\
    \u{fff0}\u{ffff}\u{1f600}\u{effff}\u{f0000}\u{10ffff}z";

#[test]
fn strings_escape_every_class_as_before() {
    let (compact, _) = same(NASTY);
    assert!(compact.contains("\\u202e") && compact.contains("\\udb80\\udc00"));
    assert!(compact.contains("\\u001b") && compact.contains("\\t") && compact.contains("é"));
    assert_eq!(serde_json::from_str::<String>(&compact).unwrap(), NASTY);
    for c in NASTY.chars() {
        same(&c);
        same(&c.to_string());
        let mut m = BTreeMap::new();
        m.insert(c.to_string(), c);
        same(&m);
    }
    same("");
}

#[test]
fn numbers_at_their_bounds() {
    same(&json!([
        i64::MIN,
        i64::MAX,
        u64::MAX,
        0,
        -1,
        1e300,
        -1e300,
        1e-300,
        0.1,
        -0.0,
        0.0,
        1.5,
        123456789.125,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::EPSILON
    ]));
    same(&(
        i8::MIN,
        i16::MIN,
        i32::MIN,
        i128::MIN,
        u8::MAX,
        u16::MAX,
        u32::MAX,
        u128::MAX,
    ));
    same(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 5e-324]);
    same(&[f32::NAN, f32::INFINITY, 0.1f32, -3.4e38f32, 1e-45f32]);
    let (c, _) = same(&[f64::NAN]);
    assert_eq!(c, "[null]");
}

#[test]
fn empty_and_nested_containers() {
    let mut deep = json!({"leaf": [1, [], {}, "x", [[]], [{}], {"e": {}}]});
    for i in 0..80 {
        deep = json!({ format!("k{i}"): [deep, {"a": null, "b": []}], "z": {} });
    }
    for v in [
        json!([]),
        json!({}),
        json!([[{}]]),
        json!({"a": {"b": []}}),
        deep,
    ] {
        same(&v);
    }
    let (_, p) = same(&json!({"a": [], "b": {}, "c": [1]}));
    assert_eq!(
        p,
        "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1\n  ]\n}"
    );
}

#[derive(Serialize)]
struct Unit;
#[derive(Serialize)]
struct Newtype(u32);
#[derive(Serialize)]
struct Pair(i8, &'static str);
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(Vec<u8>),
    Tuple(u8, Option<u8>),
    EmptyTuple(),
    Struct { a: u8, b: Vec<()> },
    EmptyStruct {},
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
struct Inner {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u64>,
    when: crate::ts::Ts,
}

#[derive(Serialize)]
struct Outer {
    kind: &'static str,
    #[serde(flatten)]
    inner: Inner,
    shapes: Vec<Shape>,
    unit: Unit,
    newtype: Newtype,
    pair: Pair,
    empty: Empty,
    unit_value: (),
    none: Option<String>,
    chars: [char; 2],
    int_keys: BTreeMap<i64, &'static str>,
    u8_keys: BTreeMap<u8, Vec<Empty>>,
    bool_keys: BTreeMap<bool, bool>,
    char_keys: BTreeMap<char, ()>,
    unit_keys: BTreeMap<Shape2, u8>,
    ip: std::net::IpAddr,
    socket: std::net::SocketAddr,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
enum Shape2 {
    A,
    B,
}

/// Bytes through `serialize_bytes` (an array of numbers in serde_json).
struct Bytes(&'static [u8]);
impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A string through `collect_str`.
struct Shown(f64);
impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}\u{202e}\"{}", self.0, NASTY))
    }
}

#[test]
fn every_derived_shape_and_the_raw_timestamp() {
    let outer = Outer {
        kind: "connection",
        inner: Inner {
            name: NASTY.to_string(),
            skipped: None,
            when: crate::ts::Ts::from_parts(1_700_000_000, 123_456_789),
        },
        shapes: vec![
            Shape::Unit,
            Shape::Newtype(vec![]),
            Shape::Newtype(vec![0, 255]),
            Shape::Tuple(1, None),
            Shape::EmptyTuple(),
            Shape::Struct {
                a: 2,
                b: vec![(), ()],
            },
            Shape::EmptyStruct {},
        ],
        unit: Unit,
        newtype: Newtype(7),
        pair: Pair(-8, "p"),
        empty: Empty {},
        unit_value: (),
        none: None,
        chars: ['\u{202e}', 'x'],
        int_keys: [(i64::MIN, "min"), (-1, ""), (i64::MAX, "max")].into(),
        u8_keys: [(0, vec![]), (255, vec![Empty {}, Empty {}])].into(),
        bool_keys: [(false, true), (true, false)].into(),
        char_keys: [('"', ()), ('\u{f0000}', ())].into(),
        unit_keys: [(Shape2::A, 1), (Shape2::B, 2)].into(),
        ip: "2001:db8::1".parse().unwrap(),
        socket: "192.0.2.1:443".parse().unwrap(),
    };
    let (compact, pretty) = same(&outer);
    assert!(
        compact.contains("\"when\":1700000000.123456789,"),
        "{compact}"
    );
    assert!(
        pretty.contains("\"-9223372036854775808\": \"min\""),
        "{pretty}"
    );
    same(&Bytes(b""));
    same(&Bytes(b"\x00\x7f\xff"));
    same(&vec![Shown(1.5), Shown(-0.0)]);
    same(&Some(Unit));
    same(&Shape::Unit);
    same(&Shape::Struct { a: 1, b: vec![] });
    let mut floats = BTreeMap::new();
    floats.insert("k", json!({"x": 1.0}));
    same(&floats);
}

/// What serde_json refuses, the new writer refuses too.
#[test]
fn the_same_errors() {
    let mut m = BTreeMap::new();
    m.insert(vec![1u8], 1);
    assert!(super::to_writer(vec![], &m).is_err());
    assert!(legacy::to_writer(vec![], &m).is_err());
    let mut f = std::collections::HashMap::new();
    f.insert(Newtype(1), 2);
    same(&f);
}

impl std::hash::Hash for Newtype {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash(h);
    }
}
impl PartialEq for Newtype {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Newtype {}

/// Any JSON value: nested arrays and objects (empty ones too), every kind of number,
/// strings drawn from the escape classes above and from anywhere in Unicode.
fn value() -> impl Strategy<Value = Value> {
    let string = prop_oneof![
        proptest::sample::subsequence(NASTY.chars().collect::<Vec<_>>(), 0..12)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        any::<String>(),
        "[a-z_]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![Just(1e300), Just(-0.0), Just(f64::MAX), Just(5e-324)].prop_map(Value::from),
        string.clone().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 96, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(string.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn generated_values_write_the_same_bytes(v in value()) {
        same(&v);
    }
}
