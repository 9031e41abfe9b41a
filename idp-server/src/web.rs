//! The pages a person sees, rendered on the server. Every value is escaped.
//!
//! Pages speak Vietnamese or English, as the request's Accept-Language prefers
//! (Vietnamese when it names neither): the [`language`] middleware sets the
//! request's [`Lang`], and [`tr`] picks a text in it.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

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

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}\
         button{{font-size:1em;padding:.4em 1em;margin:.2em 0}}pre{{background:#f4f4f4;padding:1em;overflow:auto}}\
         .error{{color:#a00}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title),
        lang = lang().code()
    )
}

/// The demo authenticator: pick a fictional resident. Only under `idp-server demo`.
pub(crate) fn demo_login(client_name: &str, people: &[Person], login_id: &str) -> String {
    page(
        tr("Đăng nhập — demo", "Sign in — demo"),
        &format!(
            "<p><strong>{client}</strong> {}</p><p>{}</p>{}",
            tr("muốn biết bạn là ai.", "asks who you are."),
            tr(
                "Đây là cách đăng nhập demo: chọn một cư dân hư cấu. Hệ thống thật dùng passkey.",
                "This is the demo authenticator: pick a fictional resident. Real deployments \
                 log in with a passkey."
            ),
            demo_residents(people, login_id),
            client = escape(client_name)
        ),
    )
}

pub(crate) fn error(title: &str, detail: &str) -> String {
    page(title, &format!("<p class=\"error\">{}</p>", escape(detail)))
}

/// Asks the person to confirm a logout that came without an ID token hint; the
/// form posts the request's parameters back with `confirm=yes`.
pub(crate) fn confirm_logout(
    params: &std::collections::HashMap<String, String>,
    csrf: &str,
) -> String {
    let csrf_field = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    );
    let mut pairs: Vec<_> = params
        .iter()
        .filter(|(k, _)| *k != "confirm" && *k != "csrf")
        .collect();
    pairs.sort();
    let fields: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    page(
        tr("Đăng xuất?", "Log out?"),
        &format!(
            "<p>{}</p><form method=\"post\" action=\"/logout\">{csrf_field}{fields}\
             <button name=\"confirm\" value=\"yes\">{}</button></form>",
            tr("Bạn có muốn đăng xuất không?", "Do you want to log out?"),
            tr("Đăng xuất", "Log out")
        ),
    )
}

/// The demo authenticator's choice of fictional residents, as part of a login
/// page (under `idp-server demo` only).
pub(crate) fn demo_residents(people: &[Person], login_id: &str) -> String {
    let choices: String = people
        .iter()
        .map(|p| {
            format!(
                "<div><button name=\"personal_number\" value=\"{n}\">{name} ({n}, {level})</button></div>",
                n = escape(&p.personal_number),
                name = escape(&p.full_name),
                level = escape(&p.assurance)
            )
        })
        .collect();
    format!(
        "<h2>{}</h2>\
         <form method=\"post\" action=\"/authorize/login\">\
         <input type=\"hidden\" name=\"login_id\" value=\"{}\">\
         <input type=\"hidden\" name=\"method\" value=\"demo\">{choices}</form>",
        tr(
            "Demo: chọn một cư dân hư cấu",
            "Demo: pick a fictional resident"
        ),
        escape(login_id)
    )
}

/// JSON for a `<script type="application/json">` element: `<` escaped, so that
/// no value can close the element.
fn json_in_html(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// The passkey login page: "sign in with a passkey", or the number first.
pub(crate) fn passkey_login(
    client_name: &str,
    login_id: &str,
    options: Option<&str>,
    message: Option<&str>,
    login_hint: Option<&str>,
    number: Option<&str>,
    extra: &str,
) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    let id = escape(login_id);
    // The options are in the page for one person's passkeys; for a discoverable
    // login the script asks for them when the button is pressed.
    let options = match options {
        Some(json) => format!(
            "<script type=\"application/json\" id=\"webauthn-options\">{}</script>",
            json_in_html(json)
        ),
        None => String::new(),
    };
    let passkey_form = format!(
        "{options}\
         <form method=\"post\" action=\"/authorize/login\" id=\"webauthn-form\" \
         data-options=\"/authorize/passkey\">\
         <input type=\"hidden\" name=\"login_id\" value=\"{id}\">\
         <input type=\"hidden\" name=\"credential\" value=\"\">\
         <button type=\"button\" id=\"webauthn-start\">{}</button>\
         <p id=\"webauthn-status\" role=\"status\"></p></form>\
         <script src=\"/assets/webauthn.js\"></script>",
        tr("Đăng nhập bằng passkey", "Sign in with a passkey")
    );
    let fallback = match number {
        Some(n) => format!(
            "<p>{} {}.</p>",
            tr(
                "Dùng passkey đã đăng ký cho số",
                "Use a passkey registered for"
            ),
            escape(n)
        ),
        None => format!(
            "<form method=\"post\" action=\"/authorize/login\">\
             <input type=\"hidden\" name=\"login_id\" value=\"{id}\">\
             <p><label for=\"personal_number\">{}</label><br>\
             <input id=\"personal_number\" name=\"personal_number\" inputmode=\"numeric\" \
             autocomplete=\"username\" pattern=\"[0-9]{{12}}\" value=\"{}\"></p>\
             <button>{}</button></form>",
            tr("Số định danh cá nhân", "Personal identification number"),
            escape(login_hint.unwrap_or_default()),
            tr("Tiếp tục", "Continue")
        ),
    };
    page(
        tr("Đăng nhập", "Sign in"),
        &format!(
            "<p><strong>{}</strong> {}</p>{message}{passkey_form}<h2>{}</h2>{fallback}{extra}",
            escape(client_name),
            tr("muốn biết bạn là ai.", "asks who you are."),
            tr("Hoặc nhập số định danh trước", "Or with your number first")
        ),
    )
}

/// `/activate`: the number and the activation code.
pub(crate) fn activate_form(csrf: &str, message: Option<&str>, number: &str) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    page(
        tr("Kích hoạt tài khoản", "Activate your account"),
        &format!(
            "<p>{}</p>{message}\
             <form method=\"post\" action=\"/activate\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p><label for=\"personal_number\">{}</label><br>\
             <input id=\"personal_number\" name=\"personal_number\" inputmode=\"numeric\" \
             autocomplete=\"username\" required value=\"{}\"></p>\
             <p><label for=\"code\">{}</label><br>\
             <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" required></p>\
             <button>{}</button></form>",
            tr(
                "Nhập số định danh cá nhân và mã kích hoạt do nơi đăng ký cấp; sau đó tạo \
                 passkey trên thiết bị này.",
                "Enter your personal identification number and the activation code the \
                 registration office gave you; then create a passkey on this device."
            ),
            escape(csrf),
            tr("Số định danh cá nhân", "Personal identification number"),
            escape(number),
            tr("Mã kích hoạt", "Activation code"),
            tr("Tiếp tục", "Continue")
        ),
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
        &format!(
            "<p>{}: {}</p>\
             <script type=\"application/json\" id=\"webauthn-options\">{}</script>\
             <form method=\"post\" action=\"/activate/finish\" id=\"webauthn-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"enrolment\" value=\"{}\">\
             <input type=\"hidden\" name=\"credential\" value=\"\">\
             <p><label for=\"name\">{}</label><br>\
             <input id=\"name\" name=\"name\" maxlength=\"64\" value=\"passkey\"></p>\
             <button type=\"button\" id=\"webauthn-start\">{}</button>\
             <p id=\"webauthn-status\" role=\"status\"></p></form>\
             <script src=\"/assets/webauthn.js\"></script>",
            escape(full_name),
            tr(
                "hãy tạo passkey trên thiết bị này (điện thoại hoặc máy tính sẽ hỏi mã PIN, \
                 vân tay hoặc khuôn mặt).",
                "create a passkey on this device (your phone or computer asks for your PIN, \
                 fingerprint or face)."
            ),
            json_in_html(options),
            escape(csrf),
            escape(enrolment),
            tr("Tên passkey", "A name for it"),
            tr("Tạo passkey", "Create the passkey")
        ),
    )
}

/// The end of an activation.
pub(crate) fn activated(name: &str) -> String {
    page(
        tr("Đã kích hoạt", "Activated"),
        &format!(
            "<p>{} {} {}</p>",
            tr("Passkey", "Your passkey"),
            escape(name),
            tr(
                "đã được đăng ký. Hãy dùng nó để đăng nhập các cổng dịch vụ công.",
                "is registered. Sign in to government portals with it."
            )
        ),
    )
}

/// The consent page: what the portal asks for, and (scope business) which
/// business the person acts for.
pub(crate) fn consent(
    client_name: &str,
    scopes: &[&str],
    businesses: &[crate::store::Represented],
    login_id: &str,
) -> String {
    let items: String = scopes
        .iter()
        .map(|s| match *s {
            "profile" => format!(
                "<li>{}</li>",
                tr("Họ tên và ngày sinh", "Your name and birth date")
            ),
            "national_id" => format!(
                "<li>{}</li>",
                tr(
                    "Số định danh cá nhân",
                    "Your personal identification number"
                )
            ),
            "business" => format!(
                "<li>{}</li>",
                tr("Doanh nghiệp bạn đại diện", "The business you act for")
            ),
            other => format!("<li>{}</li>", escape(other)),
        })
        .collect();
    let choices: String = businesses
        .iter()
        .enumerate()
        .map(|(i, b)| {
            format!(
                "<div><input type=\"radio\" name=\"business\" value=\"{code}\" id=\"business-{i}\"{checked}>\
                 <label for=\"business-{i}\">{name} ({code})</label></div>",
                code = escape(&b.enterprise_code),
                name = escape(&b.registered_name),
                checked = if i == 0 { " checked" } else { "" },
            )
        })
        .collect();
    let choices = if businesses.is_empty() {
        String::new()
    } else {
        format!(
            "<fieldset><legend>{}</legend>{choices}</fieldset>",
            tr("Bạn đại diện cho", "You act for")
        )
    };
    page(
        tr("Đồng ý chia sẻ", "Consent"),
        &format!(
            "<p><strong>{}</strong> {}</p><ul>{items}</ul>\
             <form method=\"post\" action=\"/authorize/consent\">\
             <input type=\"hidden\" name=\"login_id\" value=\"{}\">{choices}\
             <p>{}</p>\
             <button name=\"decision\" value=\"allow\">{}</button> \
             <button name=\"decision\" value=\"deny\">{}</button></form>",
            escape(client_name),
            tr("xin được biết:", "asks for:"),
            escape(login_id),
            tr(
                "Lựa chọn được ghi nhớ cho cổng này cho đến khi bạn rút lại.",
                "It is remembered for this portal until you withdraw it."
            ),
            tr("Đồng ý", "Allow"),
            tr("Từ chối", "Deny")
        ),
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
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"owner\" value=\"{}\">",
        escape(csrf),
        escape(owner)
    );
    let message = message
        .map(|m| format!("<p role=\"status\">{}</p>", escape(m)))
        .unwrap_or_default();
    let keys: String = passkeys
        .iter()
        .map(|p| {
            format!(
                "<li>{} — {} {}, {} {} \
                 <form method=\"post\" action=\"/account/passkeys/remove\" style=\"display:inline\">\
                 {hidden}\
                 <input type=\"hidden\" name=\"credential\" value=\"{}\">\
                 <button>{}</button></form></li>",
                escape(&p.name),
                tr("thêm lúc", "added"),
                when(p.created_at),
                tr("dùng lần cuối", "last used"),
                p.last_used_at
                    .map_or_else(|| tr("chưa dùng", "never").to_owned(), when),
                Base64UrlUnpadded::encode_string(&p.credential_id),
                tr("Xoá", "Remove"),
            )
        })
        .collect();
    let consents: String = portals
        .iter()
        .map(|(id, name, scope, at)| {
            format!(
                "<li>{} ({}) — {} {} \
                 <form method=\"post\" action=\"/account/consents/withdraw\" style=\"display:inline\">\
                 {hidden}\
                 <input type=\"hidden\" name=\"client_id\" value=\"{}\">\
                 <button>{}</button></form></li>",
                escape(name),
                escape(scope),
                tr("từ", "since"),
                when(*at),
                escape(id),
                tr("Rút lại", "Withdraw"),
            )
        })
        .collect();
    let consents = if consents.is_empty() {
        format!("<p>{}</p>", tr("Chưa có.", "None yet."))
    } else {
        format!("<ul>{consents}</ul>")
    };
    page(
        tr("Tài khoản của bạn", "Your account"),
        &format!(
            "<p>{} ({})</p>{message}\
             <h2>Passkeys</h2><ul>{keys}</ul>\
             <form method=\"post\" action=\"/account/passkeys/add\">\
             {hidden}\
             <button>{}</button></form>\
             <h2>{}</h2>{consents}",
            escape(&person.full_name),
            escape(&person.personal_number),
            tr("Thêm passkey", "Add a passkey"),
            tr(
                "Các cổng bạn đồng ý chia sẻ dữ liệu",
                "Portals you share your data with"
            ),
        ),
    )
}
