//! Where the API key may go. Both HTTP clients are built here: the key (and the students'
//! answers) travel only to the configured base URL's host, over https — plain http only to
//! this computer (a local model server, the test stand-in) — and never along a redirect.
//!
//! Whether a host needs the teacher's confirmation is the settings' rule
//! ([`Endpoint::needs_confirmation`]); what a client refuses whatever the settings say is
//! [`Endpoint::parse`]'s.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::header::{HeaderValue, InvalidHeaderValue};
use reqwest::Url;

use super::GradeError;

/// Google's Gemini endpoint: the one host the key goes to without a confirmation.
pub const GOOGLE_HOST: &str = "generativelanguage.googleapis.com";

/// Why a base URL was refused, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

/// Why a grader could not be set up: its base URL or model was refused, or the HTTP
/// client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error("could not set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A base URL that passed the checks every client makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: Url,
    host: String,
    loopback: bool,
}

impl Endpoint {
    /// Parses a base URL and refuses what no client may use: another scheme than https
    /// (or http to a loopback address), a user name or password, a query or fragment.
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        let text = text.trim();
        let refuse = |why: String| Err(EndpointError(why));
        let url = match Url::parse(text) {
            Ok(url) => url,
            Err(e) => return refuse(format!("\"{text}\" is not a URL ({e})")),
        };
        if !matches!(url.scheme(), "https" | "http") {
            return refuse(format!(
                "a base URL must start with https:// (\"{text}\" does not)"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse(
                "a base URL must not carry a user name or password: set the API key instead".into(),
            );
        }
        if url.query().is_some() || url.fragment().is_some() {
            return refuse(format!(
                "a base URL has no ?query or #fragment (\"{text}\" does)"
            ));
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return refuse(format!("\"{text}\" names no host"));
        };
        let loopback = is_loopback(&url);
        if url.scheme() == "http" && !loopback {
            return refuse(format!(
                "plain http is only allowed to this computer (127.0.0.1, ::1 or localhost): use https://{host} — over http the API key and the students' answers would cross the network unencrypted"
            ));
        }
        Ok(Self {
            url,
            host,
            loopback,
        })
    }

    /// The host the key goes to (lowercase; an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host with its port when one is written, for messages ("127.0.0.1:8765").
    pub fn authority(&self) -> String {
        match self.url.port() {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// Whether the host is this computer: the key never leaves the machine.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Whether the teacher must confirm this host before the key is sent to it: any host
    /// but Google's endpoint and this computer.
    pub fn needs_confirmation(&self) -> bool {
        !(self.loopback || self.host == GOOGLE_HOST)
    }

    /// The base URL as written, without a trailing slash, to append API paths to.
    pub fn base(&self) -> String {
        self.url.as_str().trim_end_matches('/').to_string()
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The HTTP client for one endpoint: no redirects are followed (the key would go along),
/// and `localhost` is pinned to the loopback addresses rather than looked up.
pub fn http_client(
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    if endpoint.loopback && endpoint.host == "localhost" {
        builder = builder.resolve_to_addrs(
            "localhost",
            &[
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
            ],
        );
    }
    builder.build()
}

/// A header value holding a secret: marked sensitive, so it is never printed or logged
/// and HTTP/2 never indexes it.
pub fn secret_header(value: &str) -> Result<HeaderValue, InvalidHeaderValue> {
    let mut header = HeaderValue::from_str(value)?;
    header.set_sensitive(true);
    Ok(header)
}

/// A redirect answer is an error that names both hosts: the request (key and answer) is
/// not sent again anywhere.
pub fn redirect_error(
    endpoint: &Endpoint,
    status: u16,
    location: Option<&str>,
    provider: &str,
) -> GradeError {
    let target = location
        .and_then(|l| endpoint.url.join(l).ok())
        .map(|u| match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => u.to_string(),
        })
        .unwrap_or_else(|| "another address".into());
    GradeError::NeedsTeacher {
        message: format!(
            "{provider} at {} answered with a redirect (HTTP {status}) to {target}; GradeDesk does not follow redirects, so your API key was sent to {} only. Set the base URL in Settings to the address that should receive it",
            endpoint.authority(),
            endpoint.authority()
        ),
    }
}

/// Whether `id` is a model id GradeDesk puts in a URL path: an optional `models/` prefix,
/// then letters, digits, `.`, `_` and `-` only.
pub fn valid_model_id(id: &str) -> bool {
    let name = id.strip_prefix("models/").unwrap_or(id);
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_to_this_computer() {
        for ok in [
            "https://generativelanguage.googleapis.com",
            "https://proxy.school.example/gemini/",
            "http://127.0.0.1:8765",
            "http://127.8.9.10",
            "http://[::1]:11434/v1",
            "http://LOCALHOST:11434/v1",
        ] {
            Endpoint::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "http://192.168.1.20:11434/v1",
            "http://10.0.0.1",
            "http://example.com",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?key=x",
            "https://example.com/#x",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad} was accepted");
        }
        let http = Endpoint::parse("http://192.168.1.20/v1").unwrap_err();
        assert!(http.0.contains("https://192.168.1.20"), "{http}");
    }

    #[test]
    fn only_google_and_this_computer_go_without_a_confirmation() {
        let host = |u: &str| Endpoint::parse(u).unwrap();
        assert!(!host("https://generativelanguage.googleapis.com/").needs_confirmation());
        assert!(!host("http://127.0.0.1:8765").needs_confirmation());
        assert!(!host("http://localhost:11434/v1").needs_confirmation());
        let proxy = host("https://Proxy.School.example:8443/g");
        assert!(proxy.needs_confirmation());
        assert_eq!(proxy.host(), "proxy.school.example");
        assert_eq!(proxy.authority(), "proxy.school.example:8443");
        assert!(
            host("https://generativelanguage.googleapis.com.evil.example").needs_confirmation()
        );
    }

    #[test]
    fn model_ids_are_plain_names() {
        for ok in ["gemini-2.5-flash", "models/gemini-3-flash-preview", "a_b.c"] {
            assert!(valid_model_id(ok), "{ok}");
        }
        for bad in [
            "",
            "models/",
            "../../v1/files",
            "gemini-2.5-flash:generateContent?alt=sse",
            "gemini 2.5",
            "gemini/2.5",
            "models/models/x",
            "gemini%2F..",
            "ge\u{0}mini",
        ] {
            assert!(!valid_model_id(bad), "{bad} was accepted");
        }
    }

    #[test]
    fn the_key_header_is_sensitive() {
        assert!(secret_header("AIzaSyExample").unwrap().is_sensitive());
        assert!(secret_header("a\nb").is_err());
    }
}
