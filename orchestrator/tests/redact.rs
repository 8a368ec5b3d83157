//! Secret redaction of `cluster.conf`: every secret value becomes the quoted placeholder,
//! every other byte stays, the result parses to the same tree with the secrets substituted,
//! and redacting twice is redacting once. Checked on hand-written documents (every quoting
//! form, nested maps, arrays of maps, CRLF) and on generated ones.
#![cfg(test)]

use continuum_orchestrator::{
    ClusterConf, DconfEntry, DconfValue, Position, REDACTED_PLACEHOLDER, is_secret_key,
    parse_dconf, redact_secrets,
};

/// The placeholder as it is written into the document.
const QUOTED: &str = "\"REDACTED-BY-CONTINUUM-BACKUP\"";

const DEMO: &str = include_str!("../../examples/demo-cluster/cluster.conf");

/// The tree with columns zeroed: a replaced value may move later keys on its line, but never
/// to another line.
fn lines_only(v: &DconfValue) -> DconfValue {
    match v {
        DconfValue::Map(entries) => DconfValue::Map(
            entries
                .iter()
                .map(|e| DconfEntry {
                    key: e.key.clone(),
                    value: lines_only(&e.value),
                    position: Position {
                        line: e.position.line,
                        column: 0,
                    },
                })
                .collect(),
        ),
        DconfValue::Array(items) => DconfValue::Array(items.iter().map(lines_only).collect()),
        other => other.clone(),
    }
}

/// The tree with every scalar under a secret key replaced by the placeholder: what the
/// redacted document must parse to.
fn substituted(v: &DconfValue, secret: bool) -> DconfValue {
    match v {
        DconfValue::Map(entries) => DconfValue::Map(
            entries
                .iter()
                .map(|e| DconfEntry {
                    key: e.key.clone(),
                    value: substituted(&e.value, secret || is_secret_key(&e.key)),
                    position: e.position,
                })
                .collect(),
        ),
        DconfValue::Array(items) => {
            DconfValue::Array(items.iter().map(|i| substituted(i, secret)).collect())
        }
        _ if secret => DconfValue::String(REDACTED_PLACEHOLDER.to_string()),
        other => other.clone(),
    }
}

/// The scalar texts under secret keys.
fn secret_texts(v: &DconfValue, secret: bool, out: &mut Vec<String>) {
    match v {
        DconfValue::Map(entries) => {
            for e in entries {
                secret_texts(&e.value, secret || is_secret_key(&e.key), out);
            }
        }
        DconfValue::Array(items) => {
            for i in items {
                secret_texts(i, secret, out);
            }
        }
        other if secret => out.extend(other.as_text()),
        _ => {}
    }
}

/// Redacts `text` and checks everything that must hold for any document; returns the result.
fn check(text: &str) -> continuum_orchestrator::DconfRedacted {
    let original = parse_dconf(text, "cluster.conf").unwrap();
    let r = redact_secrets(text, "cluster.conf").unwrap();
    let tree = parse_dconf(&r.text, "cluster.conf.redacted")
        .unwrap_or_else(|e| panic!("the redacted text does not parse: {e}\n{}", r.text));
    assert_eq!(
        lines_only(&tree),
        lines_only(&substituted(&original, false)),
        "the redacted tree differs:\n{}",
        r.text
    );
    let mut secrets = Vec::new();
    secret_texts(&original, false, &mut secrets);
    for s in secrets.iter().filter(|s| s.len() >= 6) {
        assert!(
            s == REDACTED_PLACEHOLDER || !r.text.contains(s.as_str()),
            "`{s}` is still in:\n{}",
            r.text
        );
    }
    let again = redact_secrets(&r.text, "cluster.conf.redacted").unwrap();
    assert_eq!(again.text, r.text, "redacting twice differs from once");
    assert_eq!(again.redacted, r.redacted);
    r
}

#[test]
fn placeholder_is_the_documented_text() {
    assert_eq!(REDACTED_PLACEHOLDER, "REDACTED-BY-CONTINUUM-BACKUP");
    assert_eq!(format!("{REDACTED_PLACEHOLDER:?}"), QUOTED);
}

#[test]
fn every_quoting_form_is_replaced_and_nothing_else_moves() {
    let text = concat!(
        "# secrets in every form\n",
        "bare_password: hunter2 with spaces   # trailing comment\n",
        "double_password = \"dq \\\"escaped\\\" secret\";\n",
        "single_password 'sq secret'\n",
        "raw_password: (inline (nested) raw)\n",
        "number_password: 123456,\n",
        "bool_password: yes\n",
        "token://comment after a bare value\n",
        "  abcdef012345//trailing\n",
        "secret_key:\n",
        "  # a comment between key and value\n",
        "  \"on-the-next-line\"\n",
        "name: visible   # not a secret\n",
    );
    let r = check(text);
    let expected = concat!(
        "# secrets in every form\n",
        "bare_password: \"REDACTED-BY-CONTINUUM-BACKUP\"   # trailing comment\n",
        "double_password = \"REDACTED-BY-CONTINUUM-BACKUP\";\n",
        "single_password \"REDACTED-BY-CONTINUUM-BACKUP\"\n",
        "raw_password: \"REDACTED-BY-CONTINUUM-BACKUP\"\n",
        "number_password: \"REDACTED-BY-CONTINUUM-BACKUP\",\n",
        "bool_password: \"REDACTED-BY-CONTINUUM-BACKUP\"\n",
        "token://comment after a bare value\n",
        "  \"REDACTED-BY-CONTINUUM-BACKUP\"//trailing\n",
        "secret_key:\n",
        "  # a comment between key and value\n",
        "  \"REDACTED-BY-CONTINUUM-BACKUP\"\n",
        "name: visible   # not a secret\n",
    );
    assert_eq!(r.text, expected);
    assert_eq!(
        r.redacted,
        [
            "bare_password",
            "double_password",
            "single_password",
            "raw_password",
            "number_password",
            "bool_password",
            "token",
            "secret_key",
        ]
    );
}

#[test]
fn a_multi_line_raw_block_keeps_later_lines_in_place() {
    let text = "ssl: {\n  private_key: (\n-----BEGIN KEY-----\nAAAA\n-----END KEY-----\n)  # was here\n  cert: (\nPUBLIC\n)\n}\nafter: 1\n";
    let r = check(text);
    assert_eq!(
        r.text,
        "ssl: {\n  private_key: \"REDACTED-BY-CONTINUUM-BACKUP\"\n\n\n\n  # was here\n  cert: (\nPUBLIC\n)\n}\nafter: 1\n"
    );
    assert_eq!(r.text.lines().count(), text.lines().count());
    assert_eq!(r.redacted, ["ssl.private_key"]);
}

#[test]
fn crlf_files_stay_crlf() {
    let text = "a: 1\r\npassword: (\r\nline one\r\nline two\r\n)\r\ntoken: bare secret value\r\nb: 'x'\r\n";
    let r = check(text);
    assert_eq!(
        r.text,
        "a: 1\r\npassword: \"REDACTED-BY-CONTINUUM-BACKUP\"\r\n\r\n\r\n\r\ntoken: \"REDACTED-BY-CONTINUUM-BACKUP\"\r\nb: 'x'\r\n"
    );
}

#[test]
fn nested_maps_and_secret_maps_keep_their_shape() {
    let text = r#"
chef: {
  continuum: {
    database_backups: { access_key: AKIAONE, secret_key: "two/secret", endpoint: us-east-1, bucket: b }
    deep: { deeper: { deepest: { password: 'deep-secret' } } }
  }
}
# a secret whose value is a map: each scalar inside is replaced, the shape stays
private_settings {
  user: opsuser
  inner: { port: 5432, enabled: true, list: [alpha, "beta", ('gamma')] }
  empty: {}
}
tokens: [ tok-aaaa, "tok-bbbb"  # comment in an array
  'tok-cccc' ]
"#;
    let r = check(text);
    assert_eq!(
        r.redacted,
        [
            "chef.continuum.database_backups.access_key",
            "chef.continuum.database_backups.secret_key",
            "chef.continuum.deep.deeper.deepest.password",
            "private_settings",
            "tokens",
        ]
    );
    assert!(r.text.contains(
        "database_backups: { access_key: \"REDACTED-BY-CONTINUUM-BACKUP\", secret_key: \"REDACTED-BY-CONTINUUM-BACKUP\", endpoint: us-east-1, bucket: b }"
    ));
    assert!(r.text.contains(
        "  inner: { port: \"REDACTED-BY-CONTINUUM-BACKUP\", enabled: \"REDACTED-BY-CONTINUUM-BACKUP\", list: [\"REDACTED-BY-CONTINUUM-BACKUP\", \"REDACTED-BY-CONTINUUM-BACKUP\", \"REDACTED-BY-CONTINUUM-BACKUP\"] }\n  empty: {}\n"
    ));
    assert!(r.text.contains(
        "tokens: [ \"REDACTED-BY-CONTINUUM-BACKUP\", \"REDACTED-BY-CONTINUUM-BACKUP\"  # comment in an array\n  \"REDACTED-BY-CONTINUUM-BACKUP\" ]"
    ));
    let tree = parse_dconf(&r.text, "c").unwrap();
    assert!(matches!(
        tree.path(&["private_settings", "inner"]),
        Some(DconfValue::Map(_))
    ));
}

#[test]
fn arrays_of_maps() {
    let text = r#"users: [
  { name: alice, password: "alice-pw-1" }
  { name: bob, password: bob-pw-2, roles: [admin] },
  { name: carol, keys: { api_token: (carol-token-3) } }
]
"#;
    let r = check(text);
    assert_eq!(
        r.redacted,
        [
            "users[0].password",
            "users[1].password",
            "users[2].keys.api_token"
        ]
    );
    assert_eq!(
        r.text,
        r#"users: [
  { name: alice, password: "REDACTED-BY-CONTINUUM-BACKUP" }
  { name: bob, password: "REDACTED-BY-CONTINUUM-BACKUP", roles: [admin] },
  { name: carol, keys: { api_token: "REDACTED-BY-CONTINUUM-BACKUP" } }
]
"#
    );
}

#[test]
fn duplicate_keys_are_all_redacted() {
    let r = check("password: first-one\npassword: second-one\n");
    assert_eq!(r.text, format!("password: {QUOTED}\npassword: {QUOTED}\n"));
    assert_eq!(r.redacted, ["password", "password"]);
}

#[test]
fn a_file_without_secrets_comes_back_identical() {
    for text in [
        "",
        "# only a comment\n",
        "a: 1\nb: { c: [x y z], d: (raw) }  // done\n",
        "machines: { central: { hosts: ['10.0.0.1'] } }",
    ] {
        let r = check(text);
        assert_eq!(r.text, text);
        assert!(r.redacted.is_empty());
    }
}

#[test]
fn invalid_text_is_refused_like_parse() {
    for text in ["a: {", "password: (never closed", "a: \"open\n"] {
        let e = redact_secrets(text, "c.conf").unwrap_err();
        assert_eq!(e, parse_dconf(text, "c.conf").unwrap_err());
    }
}

#[test]
fn the_demo_cluster_conf() {
    let r = check(DEMO);
    assert_eq!(
        r.redacted,
        [
            "chef.continuum.database_backups.access_key",
            "chef.continuum.database_backups.secret_key",
            "chef.continuum.package_manager.s3_store.access_key",
            "chef.continuum.package_manager.s3_store.secret_key",
            "chef.continuum.auth_server.google.client_secret",
            "chef.continuum.ssl.tlshosts.*.demo.continuum.example.private_key",
            "chef.continuum.monitoring.admin_password",
        ]
    );
    for secret in ["AKIADEMO", "FAKE", "PRIVATE KEY"] {
        assert!(!r.text.contains(secret), "{secret}");
    }
    assert!(r.text.contains("BEGIN CERTIFICATE"));
    assert_eq!(r.text.lines().count(), DEMO.lines().count());
    // The redacted copy still reads as a cluster.conf with the same shape.
    let before = ClusterConf::parse(DEMO, "cluster.conf").unwrap();
    let after = ClusterConf::parse(&r.text, "cluster.conf").unwrap();
    assert_eq!(after.cluster_name, before.cluster_name);
    assert_eq!(after.machine_groups, before.machine_groups);
    assert_eq!(after.components, before.components);
    let backups = after.database_backups.unwrap();
    assert_eq!(backups.secret_key.expose(), REDACTED_PLACEHOLDER);
    assert_eq!(backups.bucket, "demo-continuum-db-backups");
}

/// A small deterministic generator (xorshift), so that the property test needs no extra
/// dependency and every failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// Writes a random document twice at once: as written, and as it must read once redacted.
struct Gen {
    rng: Rng,
    original: String,
    redacted: String,
    serial: usize,
}

const KEYS: &[&str] = &[
    "name",
    "host",
    "port",
    "enabled",
    "\"quoted key\"",
    "'single key'",
    "password",
    "secret_key",
    "access_key",
    "api_token",
    "private",
    "db_passwd",
];
const SPACES: &[&str] = &["", " ", "  ", "\t", "\n", " # c\n", " // c\n", "\r\n"];

impl Gen {
    fn both(&mut self, s: &str) {
        self.original.push_str(s);
        self.redacted.push_str(s);
    }

    fn space(&mut self) {
        let s = self.rng.pick(SPACES);
        self.both(s);
    }

    /// A scalar; `in_map` allows bare values with inner spaces (they run to the line's end).
    fn scalar(&mut self, secret: bool, in_map: bool) {
        self.serial += 1;
        let word = if secret {
            format!("SECRET-{:05}", self.serial)
        } else {
            format!("plain-{:05}", self.serial)
        };
        let written = match self.rng.below(8) {
            0 => word,
            1 if in_map => format!("{word} more words"),
            2 => format!("\"{word} \\\"quoted\\\"\""),
            3 => format!("'{word}'"),
            4 => format!("({word} (nested))"),
            5 => format!("(\n{word}\r\nsecond line\n)"),
            6 => format!("{}", self.serial * 7),
            _ => self.rng.pick(&["true", "no", "on"]).to_string(),
        };
        self.original.push_str(&written);
        if secret {
            self.redacted.push_str(QUOTED);
            self.redacted.push_str(
                &written
                    .match_indices('\n')
                    .map(|(i, _)| {
                        if written[..i].ends_with('\r') {
                            "\r\n"
                        } else {
                            "\n"
                        }
                    })
                    .collect::<String>(),
            );
        } else {
            self.redacted.push_str(&written);
        }
        // a bare map value runs to the end of the line: close it
        if in_map {
            let end = self.rng.pick(&["\n", ",", ";", " # end\n", "//end\n"]);
            self.both(end);
        }
    }

    fn value(&mut self, secret: bool, depth: usize, in_map: bool) {
        match self.rng.below(if depth >= 3 { 1 } else { 4 }) {
            0 | 1 => self.scalar(secret, in_map),
            2 => {
                self.both("{");
                self.members(secret, depth + 1);
                self.both("}");
                if in_map {
                    self.both("\n");
                }
            }
            _ => {
                self.both("[");
                for _ in 0..self.rng.below(4) {
                    self.space();
                    self.value(secret, depth + 1, false);
                    let sep = self.rng.pick(&[",", " ", "\n", " # in array\n"]);
                    self.both(sep);
                }
                self.both("]");
                if in_map {
                    self.both("\n");
                }
            }
        }
    }

    fn members(&mut self, secret: bool, depth: usize) {
        for _ in 0..self.rng.below(5) {
            self.space();
            let key = self.rng.pick(KEYS);
            self.both(key);
            let sep = self.rng.pick(&[": ", ":", " = ", " ", ":\n  "]);
            self.both(sep);
            let unquoted = key.trim_matches(['"', '\'']);
            self.value(secret || is_secret_key(unquoted), depth, true);
            self.space();
        }
    }
}

#[test]
fn generated_documents() {
    let (mut secrets, mut multi_line) = (0, 0);
    for seed in 1..=2_000u64 {
        let mut g = Gen {
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            original: String::new(),
            redacted: String::new(),
            serial: 0,
        };
        g.members(false, 0);
        let text = g.original;
        if let Err(e) = parse_dconf(&text, "gen.conf") {
            panic!("seed {seed}: the generator wrote an invalid document: {e}\n{text}");
        }
        let r = check(&text);
        assert_eq!(r.text, g.redacted, "seed {seed}:\n{text}");
        assert!(!r.text.contains("SECRET-"), "seed {seed}:\n{}", r.text);
        secrets += r.redacted.len();
        multi_line += usize::from(text.contains("(\nSECRET-"));
    }
    // the generator does reach what it is meant to
    assert!(
        secrets > 2_000 && multi_line > 100,
        "{secrets} {multi_line}"
    );
}
