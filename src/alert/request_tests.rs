use super::*;
use crate::alert::payload::{sample, StoryRef};
use crate::config::AlertConfig;

fn target(kind: &str, extra: &str) -> Target {
    let text = format!(
        "[[alert]]\nid = \"a1\"\nstory = \"llama-4\"\nkind = \"{kind}\"\n\
         url = \"https://push.example.org/base/\"\n{extra}"
    );
    let c = crate::config::Config::parse(&text, crate::config::Origin::Preset).unwrap();
    let cfg: AlertConfig = c.alerts[0].clone();
    Target::resolve(&cfg, &|_| Some("s".repeat(32))).unwrap()
}

fn payload() -> Payload {
    let mut p = sample(
        StoryRef {
            id: "llama-4".into(),
            title: "Meta’s Llama 4".into(),
            url: Some("https://news.example.org/".into()),
        },
        DateTime::parse_from_rfc3339("2025-04-07T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    );
    p.kind = PayloadKind::Development;
    p.event.headline = "Meta’s lab walks away\r\nfrom Behemoth".into();
    p.event.link = Some("https://wire.example/a".into());
    p.event.outlets = vec!["Wire".into(), "AIM".into()];
    p
}

#[test]
fn webhook_bodies_carry_the_key_and_a_verifiable_signature() {
    let t = target("webhook", "secret_env = \"K\"\n");
    let now = Utc::now();
    let r = build(&t, &payload(), "storyline-k1", now).unwrap();
    assert_eq!(r.method, Method::Post);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["id"], "storyline-k1");
    assert_eq!(v["alert"], "a1");
    assert_eq!(v["type"], "development");
    assert_eq!(v["event"]["outlets"][1], "AIM");
    let header = |n: &str| {
        r.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header(KEY_HEADER).as_deref(), Some("storyline-k1"));
    let sig = header(SIGNATURE_HEADER).unwrap();
    let (t_part, v1) = sig.split_once(",v1=").unwrap();
    assert_eq!(t_part, format!("t={}", now.timestamp()));
    let mut mac = Hmac::<Sha256>::new_from_slice("s".repeat(32).as_bytes()).unwrap();
    mac.update(format!("{}.", now.timestamp()).as_bytes());
    mac.update(&r.body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, want);
    // A resend: the same body; only the signature's time moves.
    let again = build(
        &t,
        &payload(),
        "storyline-k1",
        now + chrono::Duration::seconds(90),
    );
    assert_eq!(again.unwrap().body, r.body);
    let prefix = format!("t={},v1=", now.timestamp());
    assert_eq!(signature("x", now, b"").len(), prefix.len() + 64);
}

#[test]
fn ntfy_gets_text_with_title_click_tags_and_a_sequence_id() {
    let r = build(&target("ntfy", ""), &payload(), "storyline-k2", Utc::now()).unwrap();
    let header = |n: &str| {
        r.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    let title = header("title").unwrap();
    assert!(
        title.starts_with("=?UTF-8?B?") && !title.contains('\n'),
        "{title}"
    );
    let b64 = title
        .trim_start_matches("=?UTF-8?B?")
        .trim_end_matches("?=");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "Meta’s lab walks away from Behemoth"
    );
    assert_eq!(header("click").as_deref(), Some("https://wire.example/a"));
    assert_eq!(header("tags").as_deref(), Some("newspaper,llama-4"));
    assert_eq!(header("x-sequence-id").as_deref(), Some("storyline-k2"));
    assert_eq!(
        header("actions").as_deref(),
        Some("view, Story so far, https://news.example.org/")
    );
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.starts_with("Meta’s Llama 4: new development, reported by 2 outlets (Wire, AIM)."),
        "{text}"
    );
    assert!(text.contains("\nhttps://wire.example/a\nStory: https://news.example.org/"));
}

#[test]
fn matrix_puts_into_the_room_with_the_key_as_transaction_id() {
    let t = target(
        "matrix",
        "room = \"!room:example.org\"\ntoken_env = \"T\"\n",
    );
    let r = build(&t, &payload(), "storyline-k3", Utc::now()).unwrap();
    assert_eq!(r.method, Method::Put);
    assert_eq!(
        r.url.path(),
        "/base/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/storyline-k3"
    );
    let header = |n: &str| {
        r.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("authorization"),
        Some(format!("Bearer {}", "s".repeat(32)))
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["msgtype"], "m.text");
    assert_eq!(v["org.storyline.alert"]["id"], "storyline-k3");
    let html = v["formatted_body"].as_str().unwrap();
    assert!(
        html.contains("<a href=\"https://wire.example/a\">"),
        "{html}"
    );
    assert!(
        html.contains("Meta’s lab walks away from Behemoth</a>"),
        "{html}"
    );
}
