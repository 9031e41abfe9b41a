//! Path validation against certificate chains the real OpenSSL makes at test time.
//! For each rule the validator enforces there is a table of chains that must pass and
//! chains that must fail with a given ETSI sub-indication; a table reports every row
//! that went wrong at once.
//!
//! Every certificate is issued with `openssl ca` from one database per test, valid
//! from 2020-01-01 to 2049-12-31 unless a row says otherwise, and validated at 2030.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use identity_core::report::{SubIndication, ValidationReport};
use identity_core::x509::{Certificate, Crl, PolicyParams, Purpose, ValidationParams, validate};

use super::support::{openssl, run};

/// 2030-01-01T00:00:00Z.
const T: i64 = 1_893_456_000;

/// `genpkey` options.
const P256: &str = "-algorithm EC -pkeyopt ec_paramgen_curve:P-256";
const P384: &str = "-algorithm EC -pkeyopt ec_paramgen_curve:P-384";
const ED25519: &str = "-algorithm ED25519";
const RSA1024: &str = "-algorithm RSA -pkeyopt rsa_keygen_bits:1024";
const RSA2048: &str = "-algorithm RSA -pkeyopt rsa_keygen_bits:2048";
const RSA3072: &str = "-algorithm RSA -pkeyopt rsa_keygen_bits:3072";
/// `openssl ca` options for RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt.
const PSS: &str = "-md sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
                   -sigopt rsa_mgf1_md:sha256";

/// A CA's key usage, without basic constraints.
const CA_KU: &str = "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash";
const CA: &str = "basicConstraints = critical, CA:TRUE\n\
                  keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash";
const LEAF: &str = "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature";

/// id-kp-documentSigning (RFC 9336), which OpenSSL 3.0 knows only by number.
const DOCUMENT_SIGNING: &str = "1.3.6.1.5.5.7.3.36";
/// A policy under the documentation arc (RFC 5612).
const POLICY: &str = "1.3.6.1.4.1.32473.1";
/// A private extension OpenSSL does not know.
const PRIVATE: &str = "1.3.6.1.4.1.32473.99";
/// The DER of OID 1.3.6.1.4.1.32473.97; its last byte made 0x62 gives .98.
const OID_97: [u8; 11] = [
    0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x61,
];

/// `openssl ca`'s configuration: one database for every CA of a test (so serials are
/// distinct), fixed validity, subjects kept as asked.
const CA_CNF: &str = "\
[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = newcerts
serial = serial
crlnumber = crlnumber
default_md = sha256
default_startdate = 20200101000000Z
default_enddate = 20491231000000Z
default_crl_days = 30
policy = policy_any
unique_subject = no
[policy_any]
commonName = optional
";

/// What a row expects: TOTAL-PASSED (`None`), or a failure with this sub-indication.
type Expect = Option<SubIndication>;
const PASS: Expect = None;
const CONSTRAINTS: Expect = Some(SubIndication::ChainConstraintsFailure);

/// A row of a table: what it is, the verdict, the verdict expected.
type Row = (String, ValidationReport, Expect);

/// A table of rows written `"what" => report, expected;`, one a line.
macro_rules! table {
    ($($what:literal => $report:expr, $expect:expr;)*) => {
        vec![$(($what.to_owned(), $report, $expect)),*]
    };
}

/// Fails with every row whose verdict is not the one expected.
fn judge(rule: &str, rows: &[Row]) {
    let wrong: Vec<String> = rows
        .iter()
        .filter(|(_, report, expect)| match expect {
            None => !report.passed(),
            Some(sub) => report.sub_indication != Some(*sub),
        })
        .map(|(what, report, expect)| {
            let wanted = expect.map_or_else(|| "TOTAL-PASSED".to_owned(), |s| s.to_string());
            format!("- {what}: expected {wanted}, got {report}")
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{rule}: {} of {} rows wrong:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

/// Validates `leaf` through `intermediates` (in the order given) to `anchors`.
fn check(
    leaf: &Certificate,
    intermediates: &[&Certificate],
    anchors: &[&Certificate],
    params: &ValidationParams<'_>,
) -> ValidationReport {
    let owned = |certs: &[&Certificate]| certs.iter().copied().cloned().collect::<Vec<_>>();
    validate(leaf, &owned(intermediates), &owned(anchors), params)
}

fn at(time: i64) -> ValidationParams<'static> {
    ValidationParams::new(time)
}

fn for_purpose(purpose: Purpose) -> ValidationParams<'static> {
    ValidationParams { purpose, ..at(T) }
}

fn server(dns: Option<&str>, ip: Option<&str>) -> ValidationParams<'static> {
    ValidationParams {
        purpose: Purpose::ServerAuth,
        dns_name: dns.map(str::to_owned),
        ip_address: ip.map(|a| a.parse::<IpAddr>().unwrap()),
        ..at(T)
    }
}

fn with_policy(set: &[&str], explicit_policy: bool) -> ValidationParams<'static> {
    ValidationParams {
        policy: PolicyParams {
            initial_policy_set: set.iter().map(|&p| p.to_owned()).collect(),
            explicit_policy,
            ..PolicyParams::default()
        },
        ..at(T)
    }
}

fn with_crls(time: i64, crls: &[Crl]) -> ValidationParams<'_> {
    ValidationParams {
        crls,
        require_revocation: true,
        ..at(time)
    }
}

fn now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// A DER header's length and the content length it announces.
fn tlv(der: &[u8]) -> (usize, usize) {
    match der[1] {
        n @ 0..=0x7f => (2, usize::from(n)),
        0x81 => (3, usize::from(der[2])),
        0x82 => (4, (usize::from(der[2]) << 8) | usize::from(der[3])),
        n => panic!("unexpected DER length form {n:#04x}"),
    }
}

/// A DER header for `len` bytes of content.
fn header(tag: u8, len: usize) -> Vec<u8> {
    let [.., high, low] = len.to_be_bytes();
    match len {
        0..0x80 => vec![tag, low],
        0x80..0x100 => vec![tag, 0x81, low],
        0x100..0x10000 => vec![tag, 0x82, high, low],
        _ => panic!("{len} bytes is too long for this test"),
    }
}

/// A scratch folder where OpenSSL keeps keys, certificates, CRLs and its CA
/// database; every file is named after its certificate (`name.key`, `name.pem`, …).
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("newcerts")).unwrap();
        for (name, text) in [
            ("ca.cnf", CA_CNF),
            ("index.txt", ""),
            ("serial", "1000\n"),
            ("crlnumber", "1000\n"),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Self { dir }
    }

    /// Runs `openssl` in the folder with `args` (split at white space) and `more`.
    fn openssl(&self, args: &str, more: &[&str]) -> String {
        let mut all: Vec<&str> = args.split_whitespace().collect();
        all.extend_from_slice(more);
        run(openssl(&all).current_dir(self.dir.path()))
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(file)).unwrap()
    }

    fn write(&self, file: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.dir.path().join(file), bytes).unwrap();
    }

    /// The certificate OpenSSL wrote to `name.pem`.
    fn certificate(&self, name: &str) -> Certificate {
        let certs = Certificate::parse_all(&self.read(&format!("{name}.pem"))).unwrap();
        certs.into_iter().next().unwrap()
    }

    /// Makes `name.key` with these `genpkey` options, unless it exists.
    fn key(&self, name: &str, genpkey: &str) {
        let file = format!("{name}.key");
        if !self.dir.path().join(&file).exists() {
            self.openssl(&format!("genpkey {genpkey}"), &["-out", &file]);
        }
    }

    /// Issues `name` (subject `CN=name`, key `name.key`, made P-256 if missing) with
    /// `openssl ca`, by `issuer` or self-signed, with the extension section `ext`
    /// (which sections it refers to may follow) and `extra` options.
    fn cert(&self, name: &str, issuer: Option<&str>, ext: &str, extra: &[&str]) -> Certificate {
        self.key(name, P256);
        self.write(&format!("{name}.ext"), format!("[ext]\n{ext}\n"));
        let subject = format!("/CN={name}");
        self.openssl(
            &format!("req -new -key {name}.key -out {name}.csr"),
            &["-subj", &subject],
        );
        let signer = match issuer {
            Some(issuer) => format!("-cert {issuer}.pem -keyfile {issuer}.key"),
            None => format!("-selfsign -keyfile {name}.key"),
        };
        let ca = format!(
            "ca -batch -config ca.cnf -notext -preserveDN {signer} -in {name}.csr \
             -out {name}.pem -extfile {name}.ext -extensions ext"
        );
        self.openssl(&ca, extra);
        self.certificate(name)
    }

    /// A root and an intermediate below it, named `root` and `ca`.
    fn hierarchy(&self) -> (Certificate, Certificate) {
        let root = self.cert("root", None, CA, &[]);
        (root, self.cert("ca", Some("root"), CA, &[]))
    }

    /// A CRL from `openssl ca -gencrl`, signed by `issuer`, kept as `out`.
    fn gencrl(&self, issuer: &str, out: &str) -> Crl {
        self.openssl(
            &format!("ca -batch -config ca.cnf -gencrl -cert {issuer}.pem -keyfile {issuer}.key"),
            &["-out", out],
        );
        let crls = Crl::parse_all(&self.read(out)).unwrap();
        crls.into_iter().next().unwrap()
    }

    /// OpenSSL will not write an extension twice, so: `cert`, which carries
    /// extensions 1.3.6.1.4.1.32473.97 and .98, with the first renamed .98 and signed
    /// again by `issuer`'s (P-256) key with `openssl dgst`.
    fn with_duplicate_extension(&self, cert: &Certificate, issuer: &str) -> Certificate {
        let der = cert.der();
        let body = &der[tlv(der).0..];
        let (tbs_header, tbs_len) = tlv(body);
        let mut tbs = body[..tbs_header + tbs_len].to_vec();
        let rest = &body[tbs_header + tbs_len..];
        let (alg_header, alg_len) = tlv(rest);
        let index = tbs
            .windows(OID_97.len())
            .position(|w| w == OID_97.as_slice())
            .expect("the certificate has extension 1.3.6.1.4.1.32473.97");
        tbs[index + OID_97.len() - 1] = 0x62;
        self.write("twice.tbs", &tbs);
        let sign = format!("dgst -sha256 -sign {issuer}.key -out twice.sig twice.tbs");
        self.openssl(&sign, &[]);
        let signature = self.read("twice.sig");
        let mut content = tbs;
        content.extend_from_slice(&rest[..alg_header + alg_len]);
        content.extend(header(0x03, signature.len() + 1));
        content.push(0);
        content.extend(signature);
        let mut out = header(0x30, content.len());
        out.extend(content);
        Certificate::from_der(&out).unwrap()
    }
}

#[test]
fn signature_algorithms() {
    let pki = Pki::new();
    let algorithms = [
        ("ECDSA P-256 with SHA-256", P256, "-md sha256"),
        ("ECDSA P-384 with SHA-384", P384, "-md sha384"),
        ("Ed25519", ED25519, ""),
        ("RSA-2048 PKCS #1 v1.5 with SHA-256", RSA2048, "-md sha256"),
        ("RSA-3072 RSASSA-PSS with SHA-256", RSA3072, PSS),
    ];
    let mut rows = Vec::new();
    for (i, (what, genpkey, sign)) in algorithms.into_iter().enumerate() {
        let sign: Vec<&str> = sign.split_whitespace().collect();
        let (root, ca, leaf) = (format!("root{i}"), format!("ca{i}"), format!("leaf{i}"));
        pki.key(&root, genpkey);
        pki.key(&ca, genpkey);
        let root_cert = pki.cert(&root, None, CA, &sign);
        let ca_cert = pki.cert(&ca, Some(root.as_str()), CA, &sign);
        let leaf_cert = pki.cert(&leaf, Some(ca.as_str()), LEAF, &sign);
        let report = check(&leaf_cert, &[&ca_cert], &[&root_cert], &at(T));
        rows.push((format!("{what} CAs"), report, PASS));
    }

    // Below the P-256 hierarchy.
    let (root, ca) = (pki.certificate("root0"), pki.certificate("ca0"));
    let mut der = pki.certificate("leaf0").der().to_vec();
    *der.last_mut().unwrap() ^= 0x01;
    let corrupted = Certificate::from_der(&der).unwrap();
    let sha1 = pki.cert("sha1", Some("ca0"), LEAF, &["-md", "sha1"]);
    pki.key("rsa1024", RSA1024);
    let weak_ca = pki.cert("rsa1024", Some("root0"), CA, &[]);
    let under_weak = pki.cert("under-rsa1024", Some("rsa1024"), LEAF, &[]);
    let v = |leaf: &Certificate, ca: &Certificate| check(leaf, &[ca], &[&root], &at(T));
    let refused = Some(SubIndication::CryptoConstraintsFailureNoPoe);
    rows.extend(table![
        "leaf signature with its last byte flipped"
            => v(&corrupted, &ca), Some(SubIndication::SigCryptoFailure);
        "leaf signed with ECDSA and SHA-1" => v(&sha1, &ca), refused;
        "leaf signed by an RSA-1024 CA key" => v(&under_weak, &weak_ca), refused;
    ]);
    judge("signature algorithms", &rows);
}

#[test]
fn validity_periods() {
    let pki = Pki::new();
    let (root, ca) = pki.hierarchy();
    let dates = [
        "-startdate",
        "20250101000000Z",
        "-enddate",
        "20260101000000Z",
    ];
    let leaf = pki.cert("leaf", Some("ca"), LEAF, &dates);
    let (start, end) = (leaf.not_before(), leaf.not_after());
    assert_eq!(
        (start, end),
        (1_735_689_600, 1_767_225_600),
        "not 2025-01-01 to 2026-01-01"
    );
    let v = |time: i64| check(&leaf, &[&ca], &[&root], &at(time));
    let expired = Some(SubIndication::OutOfBoundsNoPoe);
    let early = Some(SubIndication::NotYetValid);
    let rows = table![
        "2025-06-01, inside every period" => v(1_748_736_000), PASS;
        "at the leaf's notBefore" => v(start), PASS;
        "at the leaf's notAfter" => v(end), PASS;
        "a second after the leaf's notAfter" => v(end + 1), expired;
        "2026-06-01, after the leaf's notAfter" => v(1_780_272_000), expired;
        "2050-01-01, after every notAfter" => v(2_524_608_000), expired;
        "a second before the leaf's notBefore" => v(start - 1), early;
        "2024-06-01, before the leaf's notBefore" => v(1_717_200_000), early;
    ];
    judge("validity", &rows);
}

#[test]
fn basic_constraints_and_path_length() {
    let pki = Pki::new();
    let (root, ca) = pki.hierarchy();
    let leaf = pki.cert("leaf", Some("ca"), LEAF, &[]);
    let not_ca_ext = format!("basicConstraints = critical, CA:FALSE\n{CA_KU}");
    let not_ca = pki.cert("not-ca", Some("root"), &not_ca_ext, &[]);
    let under_not_ca = pki.cert("under-not-ca", Some("not-ca"), LEAF, &[]);
    let no_bc = pki.cert("no-bc", Some("root"), CA_KU, &[]);
    let under_no_bc = pki.cert("under-no-bc", Some("no-bc"), LEAF, &[]);
    let v = |leaf: &Certificate, path: &[&Certificate]| check(leaf, path, &[&root], &at(T));
    let mut rows = table![
        "intermediate with CA:TRUE" => v(&leaf, &[&ca]), PASS;
        "intermediate with CA:FALSE issued the leaf" => v(&under_not_ca, &[&not_ca]), CONSTRAINTS;
        "intermediate without basicConstraints issued the leaf"
            => v(&under_no_bc, &[&no_bc]), CONSTRAINTS;
    ];
    // root → top (pathlen:n) → sub (a CA) → leaf, and top issuing a leaf itself. The
    // constraint sits on an intermediate, not on the root: the trust anchor is input
    // to RFC 5280 §6.1, and its own basicConstraints are not processed.
    for n in [0, 1] {
        let (top, sub) = (format!("top{n}"), format!("sub{n}"));
        let top_ext = format!("basicConstraints = critical, CA:TRUE, pathlen:{n}\n{CA_KU}");
        let top_cert = pki.cert(&top, Some("root"), &top_ext, &[]);
        let sub_cert = pki.cert(&sub, Some(top.as_str()), CA, &[]);
        let deep = pki.cert(&format!("deep{n}"), Some(sub.as_str()), LEAF, &[]);
        let direct = pki.cert(&format!("direct{n}"), Some(top.as_str()), LEAF, &[]);
        rows.push((
            format!("pathlen:{n} intermediate with one more CA below it"),
            v(&deep, &[&sub_cert, &top_cert]),
            if n == 0 { CONSTRAINTS } else { PASS },
        ));
        rows.push((
            format!("pathlen:{n} intermediate issuing the leaf itself"),
            v(&direct, &[&top_cert]),
            PASS,
        ));
    }
    judge("basic constraints", &rows);
}

#[test]
fn key_usage() {
    let pki = Pki::new();
    let (root, ca) = pki.hierarchy();
    let leaf = pki.cert("leaf", Some("ca"), LEAF, &[]);
    let no_cert_sign_ext = "basicConstraints = critical, CA:TRUE\n\
                            keyUsage = critical, digitalSignature, cRLSign";
    let no_cert_sign = pki.cert("no-cert-sign", Some("root"), no_cert_sign_ext, &[]);
    let under = pki.cert("under-no-cert-sign", Some("no-cert-sign"), LEAF, &[]);
    let document = |name: &str, ku: &str| {
        let ext = format!(
            "basicConstraints = CA:FALSE\nkeyUsage = critical, {ku}\n\
             extendedKeyUsage = {DOCUMENT_SIGNING}"
        );
        pki.cert(name, Some("ca"), &ext, &[])
    };
    let signing = document("signing", "digitalSignature, nonRepudiation");
    let enciphering = document("enciphering", "keyEncipherment");
    let docs = for_purpose(Purpose::DocumentSigning);
    let v = |leaf: &Certificate, ca: &Certificate, params: &ValidationParams<'_>| {
        check(leaf, &[ca], &[&root], params)
    };
    let rows = table![
        "intermediate with keyCertSign" => v(&leaf, &ca, &at(T)), PASS;
        "intermediate whose keyUsage lacks keyCertSign"
            => v(&under, &no_cert_sign, &at(T)), CONSTRAINTS;
        "document signing, digitalSignature and nonRepudiation" => v(&signing, &ca, &docs), PASS;
        "document signing, keyEncipherment only" => v(&enciphering, &ca, &docs), CONSTRAINTS;
    ];
    judge("key usage", &rows);
}

#[test]
fn extended_key_usage_and_server_names() {
    let pki = Pki::new();
    let (root, ca) = pki.hierarchy();
    let leaf = |name: &str, ext: &str| pki.cert(name, Some("ca"), &format!("{LEAF}\n{ext}"), &[]);
    let tls = leaf(
        "tls",
        "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:a.example.com, IP:192.0.2.1",
    );
    let wildcard = leaf(
        "wildcard",
        "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:*.example.com",
    );
    let document_ext = format!(
        "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, nonRepudiation\n\
         extendedKeyUsage = {DOCUMENT_SIGNING}"
    );
    let document = pki.cert("document", Some("ca"), &document_ext, &[]);
    let v =
        |leaf: &Certificate, params: &ValidationParams<'_>| check(leaf, &[&ca], &[&root], params);
    let dns = |name: &str| server(Some(name), None);
    let ip = |address: &str| server(None, Some(address));
    let docs = for_purpose(Purpose::DocumentSigning);
    let mut rows = table![
        "serverAuth for a.example.com" => v(&tls, &dns("a.example.com")), PASS;
        "serverAuth for document signing" => v(&tls, &docs), CONSTRAINTS;
        "documentSigning for document signing" => v(&document, &docs), PASS;
        "documentSigning for a.example.com" => v(&document, &dns("a.example.com")), CONSTRAINTS;
        "SAN a.example.com for b.example.com" => v(&tls, &dns("b.example.com")), CONSTRAINTS;
        "SAN *.example.com for x.example.com" => v(&wildcard, &dns("x.example.com")), PASS;
        "SAN *.example.com for x.y.example.com"
            => v(&wildcard, &dns("x.y.example.com")), CONSTRAINTS;
        "SAN IP 192.0.2.1 for 192.0.2.1" => v(&tls, &ip("192.0.2.1")), PASS;
        "SAN IP 192.0.2.1 for 192.0.2.2" => v(&tls, &ip("192.0.2.2")), CONSTRAINTS;
    ];
    // OpenSSL's TSA wants timeStamping critical; the validator takes it either way.
    let others = [
        (Purpose::EmailProtection, "emailProtection"),
        (Purpose::CodeSigning, "codeSigning"),
        (Purpose::ClientAuth, "clientAuth"),
        (Purpose::OcspSigning, "OCSPSigning"),
        (Purpose::TimeStamping, "critical, timeStamping"),
        (Purpose::TimeStamping, "timeStamping"),
    ];
    for (i, (purpose, eku)) in others.into_iter().enumerate() {
        let cert = leaf(&format!("eku{i}"), &format!("extendedKeyUsage = {eku}"));
        let report = v(&cert, &for_purpose(purpose));
        rows.push((format!("{eku} for {purpose}"), report, PASS));
        let report = v(&cert, &docs);
        rows.push((format!("{eku} for document signing"), report, CONSTRAINTS));
    }
    judge("extended key usage", &rows);
}

#[test]
fn name_constraints() {
    let pki = Pki::new();
    let root = pki.cert("root", None, CA, &[]);
    let constrained = |name: &str, nc: &str| {
        let ext = format!("{CA}\nnameConstraints = critical, {nc}");
        pki.cert(name, Some("root"), &ext, &[]);
    };
    constrained("nc-dns", "permitted;DNS:.example.com");
    constrained("nc-email", "excluded;email:.bad.example");
    constrained(
        "nc-dir",
        "permitted;dirName:dir_sect\n[dir_sect]\nC = VN\nO = Permitted Org",
    );
    constrained("nc-ip", "permitted;IP:10.0.0.0/255.0.0.0");
    constrained("nc-wild", "excluded;DNS:bad.example.com");
    // A leaf `name` issued by the intermediate `nc-{form}`, validated.
    let v = |name: &str, form: &str, ext: &str, extra: &[&str]| {
        let ca = format!("nc-{form}");
        let leaf = pki.cert(name, Some(ca.as_str()), &format!("{LEAF}\n{ext}"), extra);
        check(&leaf, &[&pki.certificate(&ca)], &[&root], &at(T))
    };
    let san = |name: &str, form: &str, names: &str| {
        v(name, form, &format!("subjectAltName = {names}"), &[])
    };
    let dir = |name: &str, subject: &str| v(name, "dir", "", &["-subj", subject]);
    // A wildcard certificate must not cover a name the constraints exclude.
    let wildcard_leaf = pki.cert(
        "wild",
        Some("nc-wild"),
        &format!("{LEAF}\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:*.example.com"),
        &[],
    );
    let wildcard = |asked: &str| {
        check(
            &wildcard_leaf,
            &[&pki.certificate("nc-wild")],
            &[&root],
            &server(Some(asked), None),
        )
    };
    let rows = table![
        "permitted .example.com, www.example.com"
            => san("dns-in", "dns", "DNS:www.example.com"), PASS;
        "permitted .example.com, www.other.com"
            => san("dns-out", "dns", "DNS:www.other.com"), CONSTRAINTS;
        "excluded .bad.example, x@mail.good.example"
            => san("mail-in", "email", "email:x@mail.good.example"), PASS;
        "excluded .bad.example, x@mail.bad.example"
            => san("mail-out", "email", "email:x@mail.bad.example"), CONSTRAINTS;
        "permitted C=VN, O=Permitted Org, a subject under it"
            => dir("dir-in", "/C=VN/O=Permitted Org/CN=dir-in"), PASS;
        "permitted C=VN, O=Permitted Org, O=Other Org"
            => dir("dir-out", "/C=VN/O=Other Org/CN=dir-out"), CONSTRAINTS;
        "permitted 10.0.0.0/8, 10.1.2.3" => san("ip-in", "ip", "IP:10.1.2.3"), PASS;
        "permitted 10.0.0.0/8, 192.0.2.1" => san("ip-out", "ip", "IP:192.0.2.1"), CONSTRAINTS;
        "excluded bad.example.com, *.example.com asked for good.example.com"
            => wildcard("good.example.com"), PASS;
        "excluded bad.example.com, *.example.com asked for bad.example.com"
            => wildcard("bad.example.com"), CONSTRAINTS;
    ];
    judge("name constraints", &rows);
}

#[test]
fn certificate_policies() {
    let pki = Pki::new();
    let root = pki.cert("root", None, CA, &[]);
    let policies = format!("certificatePolicies = {POLICY}");
    let ca = pki.cert("ca", Some("root"), &format!("{CA}\n{policies}"), &[]);
    let asserting = pki.cert("asserting", Some("ca"), &format!("{LEAF}\n{policies}"), &[]);
    let silent = pki.cert("silent", Some("ca"), LEAF, &[]);
    let v = |leaf: &Certificate, set: &[&str], explicit: bool| {
        check(leaf, &[&ca], &[&root], &with_policy(set, explicit))
    };
    let other = "1.3.6.1.4.1.32473.2";
    let rows = table![
        "both assert .1, .1 required explicitly" => v(&asserting, &[POLICY], true), PASS;
        "both assert .1, any policy required explicitly" => v(&asserting, &[], true), PASS;
        "both assert .1, .2 required explicitly" => v(&asserting, &[other], true), CONSTRAINTS;
        "leaf asserts none, .1 required explicitly" => v(&silent, &[POLICY], true), CONSTRAINTS;
        "leaf asserts none, no policy required" => v(&silent, &[], false), PASS;
    ];
    judge("certificate policies", &rows);
}

#[test]
fn critical_and_duplicate_extensions() {
    let pki = Pki::new();
    let (root, ca) = pki.hierarchy();
    let with = |name: &str, issuer: &str, base: &str, ext: &str| {
        pki.cert(name, Some(issuer), &format!("{base}\n{ext}"), &[])
    };
    let critical_ext = format!("{PRIVATE} = critical, ASN1:NULL");
    let critical = with("critical", "ca", LEAF, &critical_ext);
    let plain = with("plain", "ca", LEAF, &format!("{PRIVATE} = ASN1:NULL"));
    let critical_ca = with("critical-ca", "root", CA, &critical_ext);
    let under_critical_ca = pki.cert("under-critical-ca", Some("critical-ca"), LEAF, &[]);
    let pair = "1.3.6.1.4.1.32473.97 = ASN1:NULL\n1.3.6.1.4.1.32473.98 = ASN1:NULL";
    let two = with("two", "ca", LEAF, pair);
    let twice = pki.with_duplicate_extension(&two, "ca");
    let v = |leaf: &Certificate, ca: &Certificate| check(leaf, &[ca], &[&root], &at(T));
    let rows = table![
        "unknown critical extension in the leaf" => v(&critical, &ca), CONSTRAINTS;
        "the same extension, not critical" => v(&plain, &ca), PASS;
        "unknown critical extension in the intermediate"
            => v(&under_critical_ca, &critical_ca), CONSTRAINTS;
        "two different private extensions" => v(&two, &ca), PASS;
        "one extension twice (re-signed by OpenSSL)"
            => v(&twice, &ca), Some(SubIndication::FormatFailure);
    ];
    judge("critical and duplicate extensions", &rows);
}

#[test]
fn revocation_from_openssl_crls() {
    let pki = Pki::new();
    let (root, ca) = pki.hierarchy();
    let leaf = pki.cert("leaf", Some("ca"), LEAF, &[]);
    let root_crl = pki.gencrl("root", "root.crl");
    let good = pki.gencrl("ca", "ca-good.crl");
    // Another key, under the intermediate's name, signs a CRL for it.
    pki.cert("impostor", None, CA, &["-subj", "/CN=ca"]);
    let forged = pki.gencrl("impostor", "ca-forged.crl");
    assert_eq!(forged.issuer(), good.issuer());
    let revoke = "ca -batch -config ca.cnf -revoke leaf.pem -cert ca.pem -keyfile ca.key";
    pki.openssl(revoke, &["-crl_reason", "keyCompromise"]);
    let revoked = pki.gencrl("ca", "ca-revoked.crl");
    assert_eq!((good.len(), revoked.len()), (0, 1));
    // OpenSSL dates the revocation and the CRLs now: validate an hour later.
    let time = now() + 3_600;
    let v = |crls: &[Crl]| check(&leaf, &[&ca], &[&root], &with_crls(time, crls));
    let try_later = Some(SubIndication::TryLater);
    let rows = table![
        "not revoked, CRLs of both CAs" => v(&[good.clone(), root_crl.clone()]), PASS;
        "revoked (keyCompromise), CRLs of both CAs"
            => v(&[revoked, root_crl.clone()]), Some(SubIndication::RevokedNoPoe);
        "no CRL for the intermediate" => v(&[good]), try_later;
        "leaf's CRL signed by another key under its CA's name" => v(&[forged, root_crl]), try_later;
        "no CRL at all" => v(&[]), try_later;
    ];
    judge("revocation", &rows);
}

#[test]
fn path_building() {
    let pki = Pki::new();
    let root = pki.cert("root", None, CA, &[]);
    let upper = pki.cert("upper", Some("root"), CA, &[]);
    let lower = pki.cert("lower", Some("upper"), CA, &[]);
    let leaf = pki.cert("leaf", Some("lower"), LEAF, &[]);
    let stray = pki.cert("stray", Some("root"), CA, &[]);
    let other_root = pki.cert("other-root", None, CA, &[]);
    // The names of `upper` and `root` on other keys.
    let false_upper = pki.cert("false-upper", None, CA, &["-subj", "/CN=upper"]);
    let false_root = pki.cert("false-root", None, CA, &["-subj", "/CN=root"]);
    let v = |path: &[&Certificate], anchors: &[&Certificate]| check(&leaf, path, anchors, &at(T));
    let both = [&lower, &upper];
    let no_chain = Some(SubIndication::NoCertificateChainFound);
    let rows = table![
        "intermediates in order" => v(&both, &[&root]), PASS;
        "shuffled, with an unrelated CA and a namesake"
            => v(&[&stray, &lower, &false_upper, &upper], &[&root]), PASS;
        "upper intermediate missing" => v(&[&stray, &lower], &[&root]), no_chain;
        "two roots, the unrelated one first" => v(&both, &[&other_root, &root]), PASS;
        "two roots, a namesake on another key first" => v(&both, &[&false_root, &root]), PASS;
        "only an unrelated root" => v(&both, &[&other_root]), no_chain;
    ];
    judge("path building", &rows);
}
