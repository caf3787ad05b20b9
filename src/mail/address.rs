//! Subscriber addresses: parsed once at the edge (CLI, web form) into a type that cannot carry
//! a header injection or a malformed address into the store or an SMTP envelope.

use std::fmt;

/// Longest address SMTP can carry in a path (RFC 5321 §4.5.3.1.3 less the angle brackets).
const MAX_ADDRESS: usize = 254;
/// Longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL: usize = 64;

/// Why a string is not a subscriber address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is longer than {MAX_ADDRESS} characters")]
    TooLong,
    #[error("the part before @ is longer than {MAX_LOCAL} characters")]
    LocalTooLong,
    #[error("the address contains spaces or control characters")]
    Forbidden,
    #[error("the domain must be a name with a dot, like example.org")]
    Domain,
    #[error("not a mail address: {0}")]
    Syntax(String),
}

/// A validated mail address: one mailbox, no display name, no whitespace or control
/// characters, a domain name with a dot (no IP literals), within SMTP's length limits.
/// The domain is lowercased; the local part is kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubscriberEmail(lettre::Address);

impl SubscriberEmail {
    /// Parse user input; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<SubscriberEmail, AddressError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressError::Forbidden);
        }
        if s.len() > MAX_ADDRESS {
            return Err(AddressError::TooLong);
        }
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or_else(|| AddressError::Syntax("it has no @".into()))?;
        if local.len() > MAX_LOCAL {
            return Err(AddressError::LocalTooLong);
        }
        let domain = domain.to_ascii_lowercase();
        let labels_ok = domain.split('.').count() >= 2
            && domain
                .split('.')
                .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if domain.starts_with('[') || !labels_ok {
            return Err(AddressError::Domain);
        }
        let address = lettre::Address::new(local, &domain)
            .map_err(|e| AddressError::Syntax(e.to_string()))?;
        Ok(SubscriberEmail(address))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The address for lettre's envelope and headers.
    pub fn address(&self) -> &lettre::Address {
        &self.0
    }
}

impl fmt::Display for SubscriberEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        for ok in [
            "ada@example.org",
            "  Ada.Lovelace+news@Mail.Example.ORG ",
            "o'brien@example.co.uk",
            "x@a-b.example",
        ] {
            let e = SubscriberEmail::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(e.as_str(), e.as_str().trim());
        }
        assert_eq!(
            SubscriberEmail::parse("Ada@Example.ORG").unwrap().as_str(),
            "Ada@example.org"
        );
    }

    #[test]
    fn rejects_injection_and_malformed_input() {
        let cases = [
            ("", AddressError::Empty),
            (
                "ada@example.org\r\nBcc: evil@example.org",
                AddressError::Forbidden,
            ),
            ("ada@example.org\nX: y", AddressError::Forbidden),
            ("ada @example.org", AddressError::Forbidden),
            ("Ada <ada@example.org>", AddressError::Forbidden),
            ("ada@localhost", AddressError::Domain),
            ("ada@[127.0.0.1]", AddressError::Domain),
            ("ada@example..org", AddressError::Domain),
            ("ada@-example.org", AddressError::Domain),
        ];
        for (input, want) in cases {
            assert_eq!(SubscriberEmail::parse(input), Err(want), "{input:?}");
        }
        for bad in [
            "ada",
            "@example.org",
            "ada@",
            "a,b@example.org",
            "a@b@c.org",
        ] {
            assert!(SubscriberEmail::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert_eq!(
            SubscriberEmail::parse(&long_local),
            Err(AddressError::LocalTooLong)
        );
        let long = format!("a@{}.org", "b".repeat(260));
        assert_eq!(SubscriberEmail::parse(&long), Err(AddressError::TooLong));
    }
}
