//! The pages a person sees, rendered on the server with maud: the markup is
//! checked when this crate compiles, and every value spliced in is escaped.
//!
//! Pages speak Vietnamese or English, as the request's Accept-Language prefers
//! (Vietnamese when it names neither): the [`language`] middleware sets the
//! request's [`Lang`], and [`tr`] picks a text in it.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::store::Person;

/// A language the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Vietnamese, the default.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The language an Accept-Language header prefers among ours.
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let header = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // Only a sane header reaches the parser: a few entries, each with no
        // weight or a weight from 0 to 1 (a NaN weight would break its sort).
        let sane: Vec<&str> = header
            .split(',')
            .take(8)
            .filter(|entry| {
                entry.split(';').skip(1).all(|param| {
                    param.trim().strip_prefix("q=").is_none_or(|q| {
                        q.trim()
                            .parse::<f32>()
                            .is_ok_and(|q| (0.0..=1.0).contains(&q))
                    })
                })
            })
            .collect();
        accept_language::parse(&sane.join(","))
            .iter()
            .find_map(|tag| {
                match tag
                    .split('-')
                    .next()
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("vi") => Some(Self::Vi),
                    Some("en") => Some(Self::En),
                    _ => None,
                }
            })
            .unwrap_or(Self::Vi)
    }

    fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }
}

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being answered.
pub(crate) fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::Vi)
}

/// A text in the request's language.
pub(crate) fn tr(vi: &'static str, en: &'static str) -> &'static str {
    match lang() {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// Middleware: answers the request in the language it prefers, and says so on
/// pages (Content-Language; Vary, so that no cache serves one language for another).
pub(crate) async fn language(request: Request, next: Next) -> Response {
    let lang = Lang::of(request.headers());
    let mut response = LANG.scope(lang, next.run(request)).await;
    // Only pages depend on the language: JSON answers (discovery, JWKS, tokens)
    // stay one cacheable thing.
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if html {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.code()),
        );
        headers.append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    response
}

/// A page whose forms post to this server only (activation, account):
/// never cached or framed, and a CSP that keeps its forms and scripts here.
pub(crate) fn own_page(status: axum::http::StatusCode, html: String) -> Response {
    use axum::response::IntoResponse as _;
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; \
                 base-uri 'none'; form-action 'self'",
            ),
        ],
        axum::response::Html(html),
    )
        .into_response()
}

/// The page for a failure of the server's own (a database that did not answer).
pub(crate) fn failed() -> Response {
    own_page(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        error(
            tr("Lỗi máy chủ", "Server error"),
            tr(
                "Không có gì thay đổi: hãy thử lại sau ít phút.",
                "Nothing was changed: try again in a moment.",
            ),
        ),
    )
}

/// [`failed`], with what failed logged.
pub(crate) fn failed_with(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "{what}");
    failed()
}

const STYLE: &str = "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}\
     button{font-size:1em;padding:.4em 1em;margin:.2em 0}pre{background:#f4f4f4;padding:1em;overflow:auto}\
     .error{color:#a00}form.inline{display:inline}";

/// A whole page: the title is also its heading.
pub(crate) fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(lang().code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                (body)
            }
        }
    }
    .into_string()
}

/// A page that says what went wrong.
pub(crate) fn error(title: &str, detail: &str) -> String {
    page(title, html! { p.error role="alert" { (detail) } })
}

/// A page for a request the portal (not the person) got wrong: what to do,
/// then the technical detail for the portal's operators, as it is.
pub(crate) fn protocol_error(title: &str, detail: &str) -> String {
    page(
        title,
        html! {
            p.error role="alert" {
                (tr(
                    "Cổng dịch vụ đã gửi một yêu cầu mà máy chủ này không chấp nhận. Hãy quay \
                     lại cổng dịch vụ và báo cho họ chi tiết dưới đây.",
                    "The portal sent a request this server does not accept. Go back to the \
                     portal and tell its operators the details below.",
                ))
            }
            p { code { (detail) } }
        },
    )
}

/// A message above a form, if there is one.
fn alert(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p.error role="alert" { (message) }
        }
    }
}

/// The demo authenticator: pick a fictional resident. Only under `idp-server demo`.
pub(crate) fn demo_login(client_name: &str, people: &[Person], login_id: &str) -> String {
    page(
        tr("Đăng nhập — demo", "Sign in — demo"),
        html! {
            p { strong { (client_name) } " " (tr("muốn biết bạn là ai.", "asks who you are.")) }
            p {
                (tr(
                    "Đây là cách đăng nhập demo: chọn một cư dân hư cấu. Hệ thống thật dùng passkey.",
                    "This is the demo authenticator: pick a fictional resident. Real deployments \
                     log in with a passkey.",
                ))
            }
            (demo_residents(people, login_id))
        },
    )
}

/// Asks the person to confirm a logout that came without an ID token hint; the
/// form posts the request's parameters back with `confirm=yes`.
pub(crate) fn confirm_logout(
    params: &std::collections::HashMap<String, String>,
    csrf: &str,
) -> String {
    let mut pairs: Vec<_> = params
        .iter()
        .filter(|(k, _)| *k != "confirm" && *k != "csrf")
        .collect();
    pairs.sort();
    page(
        tr("Đăng xuất?", "Log out?"),
        html! {
            p { (tr("Bạn có muốn đăng xuất không?", "Do you want to log out?")) }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(csrf);
                @for (name, value) in pairs {
                    input type="hidden" name=(name) value=(value);
                }
                button name="confirm" value="yes" { (tr("Đăng xuất", "Log out")) }
            }
        },
    )
}

/// The end of a logout without a way back to the portal.
pub(crate) fn logged_out() -> String {
    page(
        tr("Đã đăng xuất", "Logged out"),
        html! {
            p {
                (tr(
                    "Bạn đã đăng xuất; có thể đóng trang này.",
                    "You are logged out; you may close this page.",
                ))
            }
        },
    )
}

/// The demo authenticator's choice of fictional residents, as part of a login
/// page (under `idp-server demo` only).
pub(crate) fn demo_residents(people: &[Person], login_id: &str) -> Markup {
    html! {
        h2 { (tr("Demo: chọn một cư dân hư cấu", "Demo: pick a fictional resident")) }
        form method="post" action="/authorize/login" {
            input type="hidden" name="login_id" value=(login_id);
            input type="hidden" name="method" value="demo";
            @for p in people {
                div {
                    button name="personal_number" value=(p.personal_number) {
                        (p.full_name) " (" (p.personal_number) ", " (p.assurance) ")"
                    }
                }
            }
        }
    }
}

/// JSON for a `<script type="application/json">` element: `<` escaped, so that
/// no value can close the element.
fn json_in_html(json: &str) -> Markup {
    PreEscaped(json.replace('<', "\\u003c"))
}

/// What the passkey login page shows besides its button.
pub(crate) struct LoginView<'a> {
    pub(crate) client_name: &'a str,
    pub(crate) login_id: &'a str,
    /// The WebAuthn options for one person's passkeys (number step); `None`
    /// for a discoverable login, whose options the script asks for.
    pub(crate) options: Option<&'a str>,
    pub(crate) message: Option<&'a str>,
    pub(crate) login_hint: Option<&'a str>,
    /// The number given at the number step.
    pub(crate) number: Option<&'a str>,
    /// More ways in (the demo residents, under `idp-server demo`).
    pub(crate) extra: Markup,
}

/// The passkey login page: "sign in with a passkey", or the number first.
pub(crate) fn passkey_login(view: LoginView<'_>) -> String {
    page(
        tr("Đăng nhập", "Sign in"),
        html! {
            p { strong { (view.client_name) } " " (tr("muốn biết bạn là ai.", "asks who you are.")) }
            (alert(view.message))
            @if let Some(options) = view.options {
                script type="application/json" id="webauthn-options" { (json_in_html(options)) }
            }
            form method="post" action="/authorize/login" id="webauthn-form" data-options="/authorize/passkey" {
                input type="hidden" name="login_id" value=(view.login_id);
                input type="hidden" name="credential" value="";
                button type="button" id="webauthn-start" {
                    (tr("Đăng nhập bằng passkey", "Sign in with a passkey"))
                }
                p id="webauthn-status" role="status" {}
            }
            script src="/assets/webauthn.js" {}
            h2 { (tr("Hoặc nhập số định danh trước", "Or with your number first")) }
            @if let Some(number) = view.number {
                p {
                    (tr("Dùng passkey đã đăng ký cho số", "Use a passkey registered for"))
                    " " (number) "."
                }
            } @else {
                form method="post" action="/authorize/login" {
                    input type="hidden" name="login_id" value=(view.login_id);
                    p {
                        label for="personal_number" {
                            (tr("Số định danh cá nhân", "Personal identification number"))
                        }
                        br;
                        input id="personal_number" name="personal_number" inputmode="numeric"
                            autocomplete="username" pattern="[0-9]{12}"
                            value=(view.login_hint.unwrap_or_default());
                    }
                    button { (tr("Tiếp tục", "Continue")) }
                }
            }
            (view.extra)
        },
    )
}

/// `/activate`: the number and the activation code.
pub(crate) fn activate_form(csrf: &str, message: Option<&str>, number: &str) -> String {
    page(
        tr("Kích hoạt tài khoản", "Activate your account"),
        html! {
            p {
                (tr(
                    "Nhập số định danh cá nhân và mã kích hoạt do nơi đăng ký cấp; sau đó tạo \
                     passkey trên thiết bị này.",
                    "Enter your personal identification number and the activation code the \
                     registration office gave you; then create a passkey on this device.",
                ))
            }
            (alert(message))
            form method="post" action="/activate" {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="personal_number" {
                        (tr("Số định danh cá nhân", "Personal identification number"))
                    }
                    br;
                    input id="personal_number" name="personal_number" inputmode="numeric"
                        autocomplete="username" required value=(number);
                }
                p {
                    label for="code" { (tr("Mã kích hoạt", "Activation code")) }
                    br;
                    input id="code" name="code" autocomplete="one-time-code" required;
                }
                button { (tr("Tiếp tục", "Continue")) }
            }
        },
    )
}

/// The passkey creation step of an activation.
pub(crate) fn activate_passkey(
    full_name: &str,
    enrolment: &str,
    csrf: &str,
    options: &str,
) -> String {
    page(
        tr("Tạo passkey", "Create a passkey"),
        html! {
            p {
                (full_name) ": "
                (tr(
                    "hãy tạo passkey trên thiết bị này (điện thoại hoặc máy tính sẽ hỏi mã PIN, \
                     vân tay hoặc khuôn mặt).",
                    "create a passkey on this device (your phone or computer asks for your PIN, \
                     fingerprint or face).",
                ))
            }
            script type="application/json" id="webauthn-options" { (json_in_html(options)) }
            form method="post" action="/activate/finish" id="webauthn-form" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="enrolment" value=(enrolment);
                input type="hidden" name="credential" value="";
                p {
                    label for="name" { (tr("Tên passkey", "A name for it")) }
                    br;
                    input id="name" name="name" maxlength="64" value="passkey";
                }
                button type="button" id="webauthn-start" { (tr("Tạo passkey", "Create the passkey")) }
                p id="webauthn-status" role="status" {}
            }
            script src="/assets/webauthn.js" {}
        },
    )
}

/// The end of an activation.
pub(crate) fn activated(name: &str) -> String {
    page(
        tr("Đã kích hoạt", "Activated"),
        html! {
            p {
                (tr("Passkey", "Your passkey")) " " (name) " "
                (tr(
                    "đã được đăng ký. Hãy dùng nó để đăng nhập các cổng dịch vụ công.",
                    "is registered. Sign in to government portals with it.",
                ))
            }
        },
    )
}

/// What a scope lets a portal know, for people.
fn scope_meaning(scope: &str) -> &str {
    match scope {
        "profile" => tr("Họ tên và ngày sinh", "Your name and birth date"),
        "national_id" => tr(
            "Số định danh cá nhân",
            "Your personal identification number",
        ),
        "business" => tr("Doanh nghiệp bạn đại diện", "The business you act for"),
        "openid" => tr(
            "Biết bạn là ai (một mã định danh riêng cho ứng dụng này)",
            "Who you are (an identifier for this application only)",
        ),
        crate::device::PKI_ENROLL => tr(
            "Xin chứng thư số ký mang tên và số định danh của bạn",
            "Get a signing certificate in your name and identification number",
        ),
        other => other,
    }
}

/// The consent page: what the portal asks for, and (scope business) which
/// business the person acts for.
pub(crate) fn consent(
    client_name: &str,
    scopes: &[&str],
    businesses: &[crate::store::Represented],
    login_id: &str,
) -> String {
    page(
        tr("Đồng ý chia sẻ", "Consent"),
        html! {
            p { strong { (client_name) } " " (tr("xin được biết:", "asks for:")) }
            ul {
                @for scope in scopes { li { (scope_meaning(scope)) } }
            }
            form method="post" action="/authorize/consent" {
                input type="hidden" name="login_id" value=(login_id);
                @if !businesses.is_empty() {
                    fieldset {
                        legend { (tr("Bạn đại diện cho", "You act for")) }
                        @for (i, b) in businesses.iter().enumerate() {
                            div {
                                input type="radio" name="business" value=(b.enterprise_code)
                                    id={ "business-" (i) } checked[i == 0];
                                label for={ "business-" (i) } {
                                    (b.registered_name) " (" (b.enterprise_code) ")"
                                }
                            }
                        }
                    }
                }
                p {
                    (tr(
                        "Lựa chọn được ghi nhớ cho cổng này cho đến khi bạn rút lại.",
                        "It is remembered for this portal until you withdraw it.",
                    ))
                }
                button name="decision" value="allow" { (tr("Đồng ý", "Allow")) }
                " "
                button name="decision" value="deny" { (tr("Từ chối", "Deny")) }
            }
        },
    )
}

/// A page that says what was done.
pub(crate) fn notice(title: &str, text: &str) -> String {
    page(title, html! { p role="status" { (text) } })
}

/// `/device`: the code a device shows.
pub(crate) fn device_entry(csrf: &str, owner: &str, typed: &str, refusal: Option<&str>) -> String {
    page(
        tr("Kết nối thiết bị", "Connect a device"),
        html! {
            p {
                (tr(
                    "Nhập mã mà thiết bị (ví dụ chương trình ký signer) đang hiển thị.",
                    "Enter the code your device (such as the signer program) shows.",
                ))
            }
            (alert(refusal))
            form method="post" action="/device" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="owner" value=(owner);
                p {
                    label for="user_code" { (tr("Mã thiết bị", "Device code")) }
                    br;
                    input id="user_code" name="user_code" value=(typed) autocomplete="off"
                        autocapitalize="characters" spellcheck="false" required;
                }
                button { (tr("Tiếp tục", "Continue")) }
            }
        },
    )
}

/// The approval of a device's request: who asks, for what, and the code to
/// compare with the device's screen.
pub(crate) fn device_approval(
    csrf: &str,
    owner: &str,
    client_name: &str,
    user_code: &str,
    scopes: &[&str],
) -> String {
    page(
        tr("Cho phép thiết bị?", "Approve the device?"),
        html! {
            p { strong { (client_name) } " " (tr("xin được hành động nhân danh bạn:", "asks to act as you:")) }
            ul {
                @for scope in scopes { li { (scope_meaning(scope)) } }
            }
            p {
                (tr(
                    "Chỉ cho phép nếu chính bạn vừa khởi động thiết bị và nó hiển thị đúng mã",
                    "Approve only if you started the device yourself and it shows the code",
                ))
                " " strong { (user_code) } "."
            }
            form method="post" action="/device/decide" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="owner" value=(owner);
                input type="hidden" name="user_code" value=(user_code);
                button name="decision" value="approve" { (tr("Cho phép", "Approve")) }
                " "
                button name="decision" value="refuse" { (tr("Từ chối", "Refuse")) }
            }
        },
    )
}

/// A date and time for people, from seconds since the epoch (UTC).
fn when(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// `/account`: the person's passkeys and consents.
pub(crate) fn account(
    person: &Person,
    passkeys: &[crate::store::StoredPasskey],
    portals: &[(String, String, String, i64)],
    csrf: &str,
    owner: &str,
    message: Option<&str>,
) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    // Every form carries the browser's CSRF token and whose page it is.
    let hidden = html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="owner" value=(owner);
    };
    page(
        tr("Tài khoản của bạn", "Your account"),
        html! {
            p { (person.full_name) " (" (person.personal_number) ")" }
            @if let Some(message) = message {
                p role="status" { (message) }
            }
            h2 { "Passkeys" }
            ul {
                @for p in passkeys {
                    li {
                        (p.name) " — " (tr("thêm lúc", "added")) " " (when(p.created_at)) ", "
                        (tr("dùng lần cuối", "last used")) " "
                        (p.last_used_at.map_or_else(|| tr("chưa dùng", "never").to_owned(), when))
                        " "
                        form.inline method="post" action="/account/passkeys/remove" {
                            (hidden)
                            input type="hidden" name="credential"
                                value=(Base64UrlUnpadded::encode_string(&p.credential_id));
                            button { (tr("Xoá", "Remove")) }
                        }
                    }
                }
            }
            form method="post" action="/account/passkeys/add" {
                (hidden)
                button { (tr("Thêm passkey", "Add a passkey")) }
            }
            h2 { (tr("Các cổng bạn đồng ý chia sẻ dữ liệu", "Portals you share your data with")) }
            @if portals.is_empty() {
                p { (tr("Chưa có.", "None yet.")) }
            } @else {
                ul {
                    @for (id, name, scope, at) in portals {
                        li {
                            (name) " (" (scope) ") — " (tr("từ", "since")) " " (when(*at)) " "
                            form.inline method="post" action="/account/consents/withdraw" {
                                (hidden)
                                input type="hidden" name="client_id" value=(id);
                                button { (tr("Rút lại", "Withdraw")) }
                            }
                        }
                    }
                }
            }
        },
    )
}
