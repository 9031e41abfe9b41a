//! Distinguished names, general names, and the name constraints that bind them.

use std::fmt;

use x509_parser::asn1_rs::Tag;
use x509_parser::extensions::{
    GeneralName as ParsedGeneralName, NameConstraints as ParsedNameConstraints,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{RelativeDistinguishedName, X509Name};

/// emailAddress (PKCS #9), which RFC 5280 §4.2.1.10 subjects to rfc822Name constraints.
const EMAIL_ADDRESS: &str = "1.2.840.113549.1.9.1";

/// One attribute of a relative distinguished name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Attribute {
    oid: String,
    value: AttributeValue,
}

/// An attribute value, as compared: directory strings caseless and with white space
/// folded (RFC 5280 §7.1, a practical subset of RFC 4518), anything else by its DER.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum AttributeValue {
    Text(String),
    Other(u32, Vec<u8>),
}

fn fold(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A distinguished name.
#[derive(Debug, Clone)]
pub struct Name {
    /// Each RDN's attributes, sorted so that sets compare as sets.
    rdns: Vec<Vec<Attribute>>,
    /// Emails in emailAddress attributes, as written.
    emails: Vec<String>,
    /// Every text attribute as written (OID, value), for display.
    texts: Vec<(String, String)>,
    display: String,
    der: Vec<u8>,
}

/// Control characters as `\u{..}` escapes, so that a name printed to a terminal
/// cannot forge lines or colours of the report around it.
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One RDN's attributes, sorted, and the emailAddress values among them.
fn read_rdn(
    rdn: &RelativeDistinguishedName<'_>,
    emails: &mut Vec<String>,
    texts: &mut Vec<(String, String)>,
) -> Vec<Attribute> {
    let mut attrs: Vec<Attribute> = rdn
        .iter()
        .map(|atv| {
            let oid = atv.attr_type().to_id_string();
            let value = match atv.as_str() {
                Ok(text) => {
                    if oid == EMAIL_ADDRESS {
                        emails.push(text.to_owned());
                    }
                    texts.push((oid.clone(), text.to_owned()));
                    AttributeValue::Text(fold(text))
                }
                Err(_) => {
                    let any = atv.attr_value();
                    AttributeValue::Other(any.tag().0, any.data.to_vec())
                }
            };
            Attribute { oid, value }
        })
        .collect();
    attrs.sort();
    attrs
}

impl Name {
    pub(crate) fn from_parsed(name: &X509Name<'_>) -> Self {
        let mut emails = Vec::new();
        let mut texts = Vec::new();
        let rdns = name
            .iter()
            .map(|rdn| read_rdn(rdn, &mut emails, &mut texts))
            .collect();
        let display = escape_controls(&name.to_string());
        Self {
            rdns,
            emails,
            texts,
            display,
            der: name.as_raw().to_vec(),
        }
    }

    /// This name with one more RDN (given as DER) appended: how a distribution point
    /// named relative to its CRL issuer is resolved (RFC 5280 §4.2.1.13).
    pub(crate) fn with_relative(&self, rdn_der: &[u8]) -> Option<Name> {
        let (_, rdn) = RelativeDistinguishedName::from_der(rdn_der).ok()?;
        let mut name = self.clone();
        name.rdns
            .push(read_rdn(&rdn, &mut name.emails, &mut name.texts));
        let extra: Vec<String> = rdn
            .iter()
            .map(|atv| format!("{}={}", atv.attr_type(), atv.as_str().unwrap_or("?")))
            .collect();
        name.display = escape_controls(&format!("{}, {}", self.display, extra.join("+")));
        Some(name)
    }

    /// The first value of a text attribute, as written (`2.5.4.3` for the common
    /// name, `0.9.2342.19200300.100.1.1` for the user ID that carries `CCCD:…`).
    pub fn attribute(&self, oid: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_str())
    }

    /// The common name.
    pub fn common_name(&self) -> Option<&str> {
        self.attribute("2.5.4.3")
    }

    /// The user ID (UID), where Vietnamese certificates carry `CCCD:<number>` or
    /// `MST:<enterprise code>`.
    pub fn user_id(&self) -> Option<&str> {
        self.attribute("0.9.2342.19200300.100.1.1")
    }

    /// Whether the name has no RDNs.
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// The DER encoding, as it appeared.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Whether `self` lies within the subtree rooted at `base`: `base`'s RDNs are a
    /// prefix of `self`'s.
    fn is_within(&self, base: &Name) -> bool {
        base.rdns.len() <= self.rdns.len() && base.rdns.iter().zip(&self.rdns).all(|(a, b)| a == b)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.rdns == other.rdns
    }
}

impl Eq for Name {}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.display.is_empty() {
            f.write_str("(empty name)")
        } else {
            f.write_str(&self.display)
        }
    }
}

/// A general name (RFC 5280 §4.2.1.6), in the forms this crate checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GeneralName {
    Dns(String),
    Email(String),
    Uri(String),
    /// 4 or 16 bytes in a subjectAltName; address and mask (8 or 32) in a constraint.
    Ip(Vec<u8>),
    Directory(Name),
    /// otherName, x400Address, ediPartyName, registeredID, or a malformed entry.
    Other(&'static str),
}

impl GeneralName {
    /// Reads a DER GeneralName.
    pub(crate) fn from_der(der: &[u8]) -> Self {
        match ParsedGeneralName::from_der(der) {
            Ok((_, name)) => Self::from_parsed(&name),
            Err(_) => Self::Other("malformed general name"),
        }
    }

    pub(crate) fn from_parsed(name: &ParsedGeneralName<'_>) -> Self {
        match name {
            ParsedGeneralName::DNSName(s) => Self::Dns((*s).to_owned()),
            ParsedGeneralName::RFC822Name(s) => Self::Email((*s).to_owned()),
            ParsedGeneralName::URI(s) => Self::Uri((*s).to_owned()),
            ParsedGeneralName::IPAddress(b) => Self::Ip(b.to_vec()),
            ParsedGeneralName::DirectoryName(n) => Self::Directory(Name::from_parsed(n)),
            ParsedGeneralName::OtherName(..) => Self::Other("otherName"),
            ParsedGeneralName::X400Address(_) => Self::Other("x400Address"),
            ParsedGeneralName::EDIPartyName(_) => Self::Other("ediPartyName"),
            ParsedGeneralName::RegisteredID(_) => Self::Other("registeredID"),
            ParsedGeneralName::Invalid(Tag(t), _) => Self::Other(match t {
                1 => "malformed rfc822Name",
                2 => "malformed dNSName",
                6 => "malformed URI",
                _ => "malformed general name",
            }),
        }
    }

    /// The name form, for constraint bookkeeping.
    fn form(&self) -> &'static str {
        match self {
            Self::Dns(_) => "dNSName",
            Self::Email(_) => "rfc822Name",
            Self::Uri(_) => "uniformResourceIdentifier",
            Self::Ip(_) => "iPAddress",
            Self::Directory(_) => "directoryName",
            Self::Other(kind) => kind,
        }
    }

    /// Whether this name (from a certificate) lies within the subtree `base` (from a
    /// name constraint of the same form).
    fn within(&self, base: &GeneralName) -> bool {
        match (self, base) {
            (Self::Dns(name), Self::Dns(base)) => dns_within(name, base),
            (Self::Email(name), Self::Email(base)) => email_within(name, base),
            (Self::Uri(name), Self::Uri(base)) => {
                uri_host(name).is_some_and(|host| host_within(&host, base))
            }
            (Self::Ip(addr), Self::Ip(base)) => ip_within(addr, base),
            (Self::Directory(name), Self::Directory(base)) => name.is_within(base),
            _ => false,
        }
    }
}

impl fmt::Display for GeneralName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(s) => write!(f, "DNS:{s}"),
            Self::Email(s) => write!(f, "email:{s}"),
            Self::Uri(s) => write!(f, "URI:{s}"),
            Self::Ip(b) if b.len() == 4 => {
                write!(
                    f,
                    "IP:{}",
                    b.iter().map(u8::to_string).collect::<Vec<_>>().join(".")
                )
            }
            Self::Ip(b) => write!(
                f,
                "IP:{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
            Self::Directory(n) => write!(f, "DirName:{n}"),
            Self::Other(kind) => f.write_str(kind),
        }
    }
}

/// `name` is `base` or a subdomain of it; a `base` with a leading dot admits only
/// subdomains; an empty `base` admits every name.
fn dns_within(name: &str, base: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        return true;
    }
    if let Some(domain) = base.strip_prefix('.') {
        return name.len() > domain.len() && name.ends_with(&format!(".{domain}"));
    }
    name == base || name.ends_with(&format!(".{base}"))
}

/// A host against a constraint: `.example.com` admits hosts in the domain, a plain
/// `example.com` that host only (RFC 5280 §4.2.1.10 for rfc822Name and URI).
fn host_within(host: &str, base: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    match base.strip_prefix('.') {
        Some(domain) => host.len() > domain.len() && host.ends_with(&format!(".{domain}")),
        None => host == base,
    }
}

/// A mailbox against an rfc822Name constraint: a full mailbox, a host, or a domain.
fn email_within(mailbox: &str, base: &str) -> bool {
    let Some((local, host)) = mailbox.rsplit_once('@') else {
        return false;
    };
    match base.rsplit_once('@') {
        Some((base_local, base_host)) => {
            local == base_local && host.eq_ignore_ascii_case(base_host)
        }
        None => host_within(host, base),
    }
}

/// The host of a URI with an authority (`scheme://[user@]host[:port]/…`).
fn uri_host(uri: &str) -> Option<String> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

fn ip_within(addr: &[u8], base: &[u8]) -> bool {
    if base.len() != addr.len() * 2 {
        return false;
    }
    let (net, mask) = base.split_at(addr.len());
    addr.iter()
        .zip(net)
        .zip(mask)
        .all(|((a, n), m)| a & m == n & m)
}

/// The names a certificate asserts, for name constraints: its subject (when not
/// empty), its subjectAltName entries, and emailAddress attributes of the subject
/// when it has no rfc822Name alternative name.
pub(crate) fn constrained_names(subject: &Name, alt_names: &[GeneralName]) -> Vec<GeneralName> {
    let mut names: Vec<GeneralName> = Vec::new();
    if !subject.is_empty() {
        names.push(GeneralName::Directory(subject.clone()));
    }
    names.extend(alt_names.iter().cloned());
    if !alt_names.iter().any(|n| matches!(n, GeneralName::Email(_))) {
        names.extend(subject.emails.iter().cloned().map(GeneralName::Email));
    }
    names
}

/// A name constraints extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameConstraints {
    pub(crate) permitted: Vec<GeneralName>,
    pub(crate) excluded: Vec<GeneralName>,
}

impl NameConstraints {
    pub(crate) fn from_parsed(nc: &ParsedNameConstraints<'_>) -> Self {
        let bases = |subtrees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
            subtrees
                .iter()
                .flatten()
                .map(|s| GeneralName::from_parsed(&s.base))
                .collect()
        };
        Self {
            permitted: bases(&nc.permitted_subtrees),
            excluded: bases(&nc.excluded_subtrees),
        }
    }
}

/// The name constraints in force along a path: every permitted set met so far (a
/// name must fall within each of them, for its form: RFC 5280's intersection) and
/// every excluded subtree (a name must fall within none: the union).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConstraintState {
    permitted: Vec<Vec<GeneralName>>,
    excluded: Vec<GeneralName>,
}

impl ConstraintState {
    pub(crate) fn add(&mut self, nc: &NameConstraints) {
        if !nc.permitted.is_empty() {
            self.permitted.push(nc.permitted.clone());
        }
        self.excluded.extend(nc.excluded.iter().cloned());
    }

    /// Checks every name; the error names the first one refused and why.
    pub(crate) fn check(&self, names: &[GeneralName]) -> Result<(), String> {
        for name in names {
            let form = name.form();
            for set in &self.permitted {
                let same_form: Vec<&GeneralName> =
                    set.iter().filter(|b| b.form() == form).collect();
                if same_form.is_empty() {
                    continue;
                }
                if matches!(name, GeneralName::Other(_)) {
                    return Err(format!(
                        "{name} names cannot be checked against the constraints on them"
                    ));
                }
                if !same_form.iter().any(|b| name.within(b)) {
                    return Err(format!("{name} is outside the permitted subtrees"));
                }
            }
            if let Some(base) = self
                .excluded
                .iter()
                .find(|b| b.form() == form && name.within(b))
            {
                return Err(format!("{name} is within the excluded subtree {base}"));
            }
            if matches!(name, GeneralName::Other(_))
                && self.excluded.iter().any(|b| b.form() == form)
            {
                return Err(format!(
                    "{name} names cannot be checked against the constraints on them"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_hosts() {
        assert!(dns_within("a.example.com", "example.com"));
        assert!(dns_within("example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(dns_within("www.example.com", ".example.com"));
        assert!(dns_within("anything", ""));
        assert!(email_within("an@Example.com", "example.com"));
        assert!(!email_within("an@sub.example.com", "example.com"));
        assert!(email_within("an@sub.example.com", ".example.com"));
        assert!(email_within("an@example.com", "an@EXAMPLE.com"));
        assert!(!email_within("bo@example.com", "an@example.com"));
        assert_eq!(
            uri_host("http://user@host.example:8080/x").as_deref(),
            Some("host.example")
        );
        assert_eq!(uri_host("urn:isbn:1"), None);
        assert!(ip_within(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[10, 1, 2, 3], &[0; 32]));
    }
}
