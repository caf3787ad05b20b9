//! Signed tokens for links in mail and for web forms: HMAC-SHA256 over the subscriber id, a
//! keyed digest of their address, the purpose and the expiry, so a token works only for the
//! address and the action it was made for, cannot be forged without the key, and (where it has
//! one) stops at its expiry.
//!
//! Format: `base64url(payload) "." base64url(tag)`, payload
//! `v2|<id>|<purpose>|<expiry>|<address digest>` (expiry in unix seconds, 0 for never).
//! Unsubscribe links never expire, because people unsubscribe from old mail; confirmation and
//! form tokens do.
//!
//! Why the address and not just the id: SQLite hands a deleted subscriber's id to the next one
//! (the highest rowid is reused), and a database started afresh with the same secret numbers
//! everyone from 1 again. A link in an old mail must not act on whoever holds that id now.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::value::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted; real ones are about 100 characters.
const MAX_TOKEN: usize = 1024;

/// What a token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm the subscriber's pending subscriptions to these stories.
    Confirm(Vec<String>),
    /// Leave this story's list.
    Unsubscribe(String),
    /// Submit a form rendered by this site (subscriber id 0).
    Csrf,
}

impl Purpose {
    fn encode(&self) -> String {
        match self {
            Purpose::Confirm(stories) => format!("confirm:{}", stories.join(",")),
            Purpose::Unsubscribe(story) => format!("unsubscribe:{story}"),
            Purpose::Csrf => "csrf".into(),
        }
    }

    fn decode(s: &str) -> Option<Purpose> {
        if s == "csrf" {
            return Some(Purpose::Csrf);
        }
        if let Some(story) = s.strip_prefix("unsubscribe:") {
            return Some(Purpose::Unsubscribe(story.to_string()));
        }
        let stories = s.strip_prefix("confirm:")?;
        Some(Purpose::Confirm(
            stories.split(',').map(str::to_string).collect(),
        ))
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub subscriber_id: i64,
    pub purpose: Purpose,
    pub expires: Option<DateTime<Utc>>,
    /// Keyed digest of the address the token was made for; see [`TokenKey::is_for`].
    address: String,
}

/// Why a token was refused. Deliberately coarse: a caller learns nothing that helps forge one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is not valid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
}

/// The signing key, ready to use.
#[derive(Clone)]
pub struct TokenKey(HmacSha256);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

/// The key could not be used (HMAC takes any length, so this does not happen in practice).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the signing key cannot be used for HMAC-SHA256")]
pub struct KeyError;

impl TokenKey {
    /// A key from the configured secret.
    pub fn new(secret: &Secret) -> Result<TokenKey, KeyError> {
        HmacSha256::new_from_slice(secret.expose().as_bytes())
            .map(TokenKey)
            .map_err(|_| KeyError)
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        // Length-prefixed domain separation: a token tag never doubles as a Message-ID hash.
        mac.update(&(domain.len() as u64).to_be_bytes());
        mac.update(domain);
        mac.update(data);
        mac
    }

    /// Sign a token for the subscriber `subscriber_id` at `address` (empty for form tokens,
    /// which belong to nobody) and `purpose`, valid until `expires` (or forever).
    pub fn sign(
        &self,
        subscriber_id: i64,
        address: &str,
        purpose: &Purpose,
        expires: Option<DateTime<Utc>>,
    ) -> String {
        let payload = format!(
            "v2|{subscriber_id}|{}|{}|{}",
            purpose.encode(),
            expires.map_or(0, |t| t.timestamp()),
            self.address_digest(address)
        );
        let tag = self
            .mac(b"token", payload.as_bytes())
            .finalize()
            .into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Whether a verified token was made for `address` (case does not matter). The id in a
    /// token may belong to someone else by now; callers check this once they have loaded the
    /// subscriber the id names.
    pub fn is_for(&self, claims: &Claims, address: &str) -> bool {
        claims.address == self.address_digest(address)
    }

    fn address_digest(&self, address: &str) -> String {
        self.digest_hex("address", &address.to_lowercase(), 12)
    }

    /// Check the signature (in constant time) and the expiry, and return what the token says.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN {
            return Err(TokenError::Invalid);
        }
        let (payload_b64, tag_b64) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| TokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag_b64)
            .map_err(|_| TokenError::Invalid)?;
        self.mac(b"token", &payload)
            .verify_slice(&tag)
            .map_err(|_| TokenError::Invalid)?;
        let claims = parse_payload(&payload).ok_or(TokenError::Invalid)?;
        match claims.expires {
            Some(t) if now >= t => Err(TokenError::Expired),
            _ => Ok(claims),
        }
    }

    /// A short keyed digest of `data` in hex, for identifiers that must be stable and
    /// unguessable (Message-IDs, MIME boundaries).
    pub fn digest_hex(&self, domain: &str, data: &str, bytes: usize) -> String {
        let tag = self
            .mac(domain.as_bytes(), data.as_bytes())
            .finalize()
            .into_bytes();
        tag.iter().take(bytes).map(|b| format!("{b:02x}")).collect()
    }
}

fn parse_payload(payload: &[u8]) -> Option<Claims> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.split('|');
    if parts.next()? != "v2" {
        return None;
    }
    let subscriber_id: i64 = parts.next()?.parse().ok()?;
    let purpose = Purpose::decode(parts.next()?)?;
    let expiry: i64 = parts.next()?.parse().ok()?;
    let address = parts.next()?.to_string();
    if parts.next().is_some() {
        return None;
    }
    let expires = match expiry {
        0 => None,
        t => Some(DateTime::from_timestamp(t, 0)?),
    };
    Some(Claims {
        subscriber_id,
        purpose,
        expires,
        address,
    })
}

/// A fresh random key for `config init`: 32 bytes from the OS, base64url (43 characters).
pub fn generate_secret() -> Result<Secret, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> TokenKey {
        TokenKey::new(&Secret::new(s)).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_token_round_trips_its_claims() {
        let k = key("k".repeat(32).as_str());
        let now = at("2025-04-14T09:00:00Z");
        let p = Purpose::Confirm(vec!["llama-4".into(), "other".into()]);
        let t = k.sign(42, "ada@example.org", &p, Some(at("2025-04-16T09:00:00Z")));
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        let c = k.verify(&t, now).unwrap();
        assert_eq!(c.subscriber_id, 42);
        assert_eq!(c.purpose, p);
        let u = k.sign(
            7,
            "bob@example.org",
            &Purpose::Unsubscribe("llama-4".into()),
            None,
        );
        let c = k.verify(&u, at("2099-01-01T00:00:00Z")).unwrap();
        assert_eq!(c.purpose, Purpose::Unsubscribe("llama-4".into()));
        assert_eq!(c.expires, None);
    }

    #[test]
    fn confirmation_tokens_expire() {
        let k = key(&"k".repeat(32));
        let t = k.sign(1, "", &Purpose::Csrf, Some(at("2025-04-14T10:00:00Z")));
        assert!(k.verify(&t, at("2025-04-14T09:59:59Z")).is_ok());
        assert_eq!(
            k.verify(&t, at("2025-04-14T10:00:00Z")),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let k = key(&"k".repeat(32));
        let now = at("2025-04-14T09:00:00Z");
        let t = k.sign(
            5,
            "ada@example.org",
            &Purpose::Unsubscribe("llama-4".into()),
            None,
        );
        // Someone else's key.
        assert_eq!(
            key(&"x".repeat(32)).verify(&t, now),
            Err(TokenError::Invalid)
        );
        // A payload edited to another subscriber keeps the old tag.
        let (_, tag) = t.split_once('.').unwrap();
        let (payload, _) = t.split_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(payload.replacen("|5|", "|6|", 1))
        );
        assert_eq!(k.verify(&forged, now), Err(TokenError::Invalid));
        // An expired token re-dated to "never".
        let exp = k.sign(5, "", &Purpose::Csrf, Some(at("2025-01-01T00:00:00Z")));
        let (_, tag) = exp.split_once('.').unwrap();
        let redated = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(format!("v2|5|csrf|0|{}", k.address_digest("")))
        );
        assert_eq!(k.verify(&redated, now), Err(TokenError::Invalid));
        for junk in ["", ".", "abc", "a.b", "!!.??", &"a".repeat(5000)] {
            assert_eq!(k.verify(junk, now), Err(TokenError::Invalid), "{junk}");
        }
        // Truncated tag.
        assert_eq!(k.verify(&t[..t.len() - 2], now), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_is_for_its_address_only() {
        let k = key(&"k".repeat(32));
        let now = at("2025-04-14T09:00:00Z");
        let t = k.sign(
            3,
            "Ada@Example.org",
            &Purpose::Unsubscribe("s".into()),
            None,
        );
        let c = k.verify(&t, now).unwrap();
        assert!(k.is_for(&c, "ada@example.org"), "case does not matter");
        assert!(!k.is_for(&c, "bob@example.org"), "same id, another address");
        assert!(!k.is_for(&c, ""));
        // The digest depends on the key: another site's token names nobody here.
        let other = key(&"o".repeat(32));
        let t2 = other.sign(
            3,
            "ada@example.org",
            &Purpose::Unsubscribe("s".into()),
            None,
        );
        assert_eq!(k.verify(&t2, now), Err(TokenError::Invalid));
    }

    /// Every single-bit change anywhere in a token, and every truncation, is refused.
    #[test]
    fn any_flipped_bit_or_truncation_is_refused() {
        let k = key(&"k".repeat(32));
        let now = at("2025-04-14T09:00:00Z");
        let t = k.sign(
            12,
            "ada@example.org",
            &Purpose::Confirm(vec!["llama-4".into()]),
            Some(at("2025-04-16T09:00:00Z")),
        );
        let bytes = t.as_bytes();
        let mut tried = 0;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.to_vec();
                b[i] ^= 1 << bit;
                let Ok(s) = String::from_utf8(b) else {
                    continue;
                };
                let r = k.verify(&s, now);
                // base64url without padding can spell the same bytes two ways only in the
                // unused low bits of the last character; those decode to the same token.
                if r.is_ok() {
                    let same = URL_SAFE_NO_PAD.decode(s.split_once('.').unwrap().1).ok()
                        == URL_SAFE_NO_PAD.decode(t.split_once('.').unwrap().1).ok()
                        && s.split_once('.').unwrap().0 == t.split_once('.').unwrap().0;
                    assert!(same, "flipped bit {bit} of byte {i} verified: {s}");
                }
                tried += 1;
            }
        }
        assert!(tried > 8 * 100, "{tried}");
        for cut in 0..t.len() {
            assert!(k.verify(&t[..cut], now).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn keyed_digests_are_stable_and_key_dependent() {
        let a = key(&"a".repeat(32));
        let b = key(&"b".repeat(32));
        assert_eq!(a.digest_hex("mid", "1.2", 8), a.digest_hex("mid", "1.2", 8));
        assert_eq!(a.digest_hex("mid", "1.2", 8).len(), 16);
        assert_ne!(a.digest_hex("mid", "1.2", 8), b.digest_hex("mid", "1.2", 8));
        assert_ne!(a.digest_hex("mid", "1.2", 8), a.digest_hex("bnd", "1.2", 8));
    }
}
