//! JSON numbers compared by value, exactly: `serde_json` keeps integers beyond 2^53 exact
//! (int64 ids), and a bound such as `maximum: 9223372036854775807` must hold for them, which
//! comparing as `f64` would not do.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// A number as an exact integer when it is one (and small enough for `i128`), else a float.
enum Exact {
    Integer(i128),
    Float(f64),
}

/// Every integral `f64` below this in magnitude converts to `i128` exactly.
const EXACT_FLOAT_LIMIT: f64 = 1e38;

fn exact(number: &Number) -> Exact {
    if let Some(integer) = number.as_i64() {
        return Exact::Integer(integer.into());
    }
    if let Some(integer) = number.as_u64() {
        return Exact::Integer(integer.into());
    }
    let float = number.as_f64().unwrap_or(f64::NAN);
    if float.fract() == 0.0 && float.abs() < EXACT_FLOAT_LIMIT {
        Exact::Integer(float as i128)
    } else {
        Exact::Float(float)
    }
}

/// How `a` compares with `b` by value (JSON numbers are never NaN).
pub fn compare(a: &Number, b: &Number) -> Ordering {
    match (exact(a), exact(b)) {
        (Exact::Integer(a), Exact::Integer(b)) => a.cmp(&b),
        // A float here has a fraction or is beyond every integer of the other side, so the
        // nearest `f64` of that integer orders the same way.
        (Exact::Integer(a), Exact::Float(b)) => (a as f64).partial_cmp(&b).unwrap_or(Ordering::Equal),
        (Exact::Float(a), Exact::Integer(b)) => a.partial_cmp(&(b as f64)).unwrap_or(Ordering::Equal),
        (Exact::Float(a), Exact::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Whether a number is an integer, as JSON Schema counts them: `1.0` is one.
pub fn is_integer(number: &Number) -> bool {
    number.is_i64() || number.is_u64() || number.as_f64().is_some_and(|float| float.fract() == 0.0)
}

/// JSON Schema's equality (for `enum`, `const`, `uniqueItems`): numbers equal by value,
/// objects whatever the order of their members.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => compare(a, b) == Ordering::Equal,
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(key, value)| b.get(key).is_some_and(|other| equal(value, other)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn number(value: Value) -> Number {
        match value {
            Value::Number(number) => number,
            other => panic!("not a number: {other}"),
        }
    }

    #[test]
    fn integers_beyond_2_pow_53_compare_exactly() {
        let max = number(json!(i64::MAX));
        assert_eq!(compare(&number(json!(i64::MAX as u64 + 1)), &max), Ordering::Greater);
        assert_eq!(compare(&number(json!(i64::MAX)), &max), Ordering::Equal);
        // `i64::MAX as f64` is 2^63: compared as floats, these two would be equal.
        assert_eq!(compare(&number(json!(i64::MAX as f64)), &max), Ordering::Greater);
        assert_eq!(compare(&number(json!(i64::MIN)), &number(json!(u64::MAX))), Ordering::Less);
        assert_eq!(compare(&number(json!(1e19)), &max), Ordering::Greater);
        assert_eq!(compare(&number(json!(1e300)), &number(json!(u64::MAX))), Ordering::Greater);
        assert_eq!(compare(&number(json!(-1e300)), &number(json!(i64::MIN))), Ordering::Less);
    }

    #[test]
    fn fractions_compare_with_integers() {
        assert_eq!(compare(&number(json!(0.5)), &number(json!(0))), Ordering::Greater);
        assert_eq!(compare(&number(json!(99.99)), &number(json!(100))), Ordering::Less);
        assert_eq!(compare(&number(json!(100.0)), &number(json!(100))), Ordering::Equal);
        assert_eq!(compare(&number(json!(-0.5)), &number(json!(-0.25))), Ordering::Less);
    }

    #[test]
    fn integers_are_numbers_without_a_fraction() {
        assert!(is_integer(&number(json!(7))));
        assert!(is_integer(&number(json!(u64::MAX))));
        assert!(is_integer(&number(json!(7.0))));
        assert!(!is_integer(&number(json!(7.5))));
    }

    #[test]
    fn equality_is_by_value() {
        assert!(equal(&json!(1), &json!(1.0)));
        assert!(equal(&json!({"a": [1, {"b": null}], "c": "x"}), &json!({"c": "x", "a": [1.0, {"b": null}]})));
        assert!(!equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!equal(&json!([1, 2]), &json!([2, 1])));
        assert!(!equal(&json!("1"), &json!(1)));
        assert!(!equal(&json!(null), &json!(false)));
    }
}
