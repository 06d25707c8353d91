//! How a setting's text becomes a value. Each parser's error says what the setting accepts;
//! clap puts the flag and the variable in front of it.

use std::ffi::{OsStr, OsString};
use std::net::IpAddr;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Arg, Command};

use crate::access::origin::{HostPolicy, OriginPolicy};
use crate::lifecycle::drain::IdleGuess;

/// An optional setting: blank means unset. (A type alias rather than `Option` so that clap
/// treats the setting as one that always has a value, its default, and parses blanks too.)
pub type Maybe<T> = Option<T>;

/// Trims the value and reads a blank one as the setting's default, then hands it to `P`: the
/// rule every setting follows, so `PORT=` and `PORT=" 3100 "` mean what they always meant.
#[derive(Clone)]
pub struct Setting<P>(pub P);

impl<P: TypedValueParser> TypedValueParser for Setting<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let value = match value.to_str() {
            Some(text) if text.trim().is_empty() => arg
                .and_then(|arg| arg.get_default_values().first())
                .map(|default| default.to_os_string())
                .unwrap_or_default(),
            Some(text) => OsString::from(text.trim()),
            // Not UTF-8: the inner parser says so.
            None => value.to_os_string(),
        };
        self.0.parse_ref(cmd, arg, &value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// `P`, or `None` for an empty value.
#[derive(Clone)]
pub struct Optional<P>(pub P);

impl<P: TypedValueParser> TypedValueParser for Optional<P> {
    type Value = Option<P::Value>;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        if value.is_empty() {
            return Ok(None);
        }
        self.0.parse_ref(cmd, arg, value).map(Some)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

pub fn port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| "expected a TCP port number from 0 to 65535".into())
}

pub fn ip_address(text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|_| "expected an IP address such as 127.0.0.1 or 0.0.0.0".into())
}

/// `DOCS_DIR`: a folder, or `s3://bucket/prefix/`.
pub fn docs_source(text: &str) -> Result<crate::docs::source::DocsSource, String> {
    crate::docs::source::DocsSource::parse(text)
}

pub fn millis(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(
            "expected a whole number of milliseconds greater than 0, e.g. 30000 for 30 s".into(),
        ),
    }
}

/// A CloudWatch namespace or dimension value: printable ASCII, at most 255 characters (the
/// limit of a namespace; a dimension value may have 1024), no leading `:`, and not in the
/// `AWS/` namespaces, which are AWS's own.
pub fn metric_dimension(text: &str) -> Result<String, String> {
    let printable = text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if text.is_empty()
        || text.len() > 255
        || !printable
        || text.starts_with(':')
        || text.to_ascii_uppercase().starts_with("AWS/")
    {
        return Err(
            "expected 1 to 255 printable ASCII characters, not starting with ':' or 'AWS/'".into(),
        );
    }
    Ok(text.to_string())
}

/// `METRICS_EMF_INTERVAL`: 0 (off), or 100 ms to an hour (CloudWatch keeps one value a minute
/// unless told otherwise; shorter only writes more lines, longer leaves gaps in the graphs).
pub fn emf_interval(text: &str) -> Result<Option<Duration>, String> {
    match text.parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(ms @ 100..=3_600_000) => Ok(Some(Duration::from_millis(ms))),
        _ => Err("expected 0 (off) or a whole number of milliseconds from 100 to 3600000".into()),
    }
}

/// A regular expression (kept as text; compiled where it is used).
pub fn regex(text: &str) -> Result<String, String> {
    regex::Regex::new(text)
        .map(|_| text.to_string())
        .map_err(|e| format!("expected a regular expression: {e}"))
}

/// A regular expression with a capture group.
pub fn regex_with_group(text: &str) -> Result<String, String> {
    let compiled =
        regex::Regex::new(text).map_err(|e| format!("expected a regular expression: {e}"))?;
    if compiled.captures_len() < 2 {
        return Err("expected a regular expression with a (group) around the language".into());
    }
    Ok(text.to_string())
}

/// Milliseconds, where 0 turns the feature off.
pub fn millis_or_off(text: &str) -> Result<Option<Duration>, String> {
    match text.parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(Duration::from_millis(ms))),
        Err(_) => Err("expected a whole number of milliseconds, or 0 to turn it off".into()),
    }
}

pub fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number greater than 0".into()),
    }
}

pub fn positive_u64(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => {
            Err("expected a whole number of bytes greater than 0, e.g. 1073741824 for 1 GiB".into())
        }
    }
}

pub fn positive_u32(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number from 1 to 4294967295".into()),
    }
}

pub fn whole(text: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| "expected a whole number from 0 to 4294967295".into())
}

pub fn whole_usize(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n <= 16 => Ok(n),
        _ => Err("expected a whole number of proxies from 0 to 16".into()),
    }
}

pub fn origin_list(text: &str) -> Result<OriginPolicy, String> {
    OriginPolicy::parse(text).map_err(|why| {
        format!(
            "expected comma-separated origins such as https://app.example.com or https://*.example.com ({why})"
        )
    })
}

pub fn host_list(text: &str) -> Result<HostPolicy, String> {
    HostPolicy::parse(text).map_err(|why| {
        format!(
            "expected comma-separated host names such as docs.example.com, localhost:3100, *.example.com or * ({why})"
        )
    })
}

pub fn idle_guess() -> impl TypedValueParser<Value = IdleGuess> {
    PossibleValuesParser::new(["auto", "on", "off"]).map(|text| match text.as_str() {
        "on" => IdleGuess::On,
        "off" => IdleGuess::Off,
        _ => IdleGuess::Auto,
    })
}
