//! The pages a person sees, rendered on the server. Every value is escaped.

use crate::store::Person;

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

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}\
         button{{font-size:1em;padding:.4em 1em;margin:.2em 0}}pre{{background:#f4f4f4;padding:1em;overflow:auto}}\
         .error{{color:#a00}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

/// The demo authenticator: pick a fictional resident. Only under `idp-server demo`.
pub(crate) fn demo_login(client_name: &str, people: &[Person], login_id: &str) -> String {
    page(
        "Đăng nhập — demo",
        &format!(
            "<p><strong>{client}</strong> asks who you are.</p>\
             <p>This is the <em>demo</em> authenticator: pick a fictional resident. \
             Real deployments log in with a passkey.</p>{}",
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
        "Đăng xuất? — log out?",
        &format!(
            "<p>Bạn có muốn đăng xuất không? Do you want to log out?</p>\
                          <form method=\"post\" action=\"/logout\">{csrf_field}{fields}\
             <button name=\"confirm\" value=\"yes\">Đăng xuất — log out</button></form>"
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
        "<h2>Demo: pick a fictional resident</h2>\
         <form method=\"post\" action=\"/authorize/login\">\
         <input type=\"hidden\" name=\"login_id\" value=\"{}\">\
         <input type=\"hidden\" name=\"method\" value=\"demo\">{choices}</form>",
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
    options: &str,
    message: Option<&str>,
    login_hint: Option<&str>,
    number: Option<&str>,
    extra: &str,
) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    let id = escape(login_id);
    let passkey_form = format!(
        "<script type=\"application/json\" id=\"webauthn-options\">{}</script>\
         <form method=\"post\" action=\"/authorize/login\" id=\"webauthn-form\">\
         <input type=\"hidden\" name=\"login_id\" value=\"{id}\">\
         <input type=\"hidden\" name=\"credential\" value=\"\">\
         <button type=\"button\" id=\"webauthn-start\">Đăng nhập bằng passkey — Sign in with a passkey</button>\
         <p id=\"webauthn-status\" role=\"status\"></p></form>\
         <script src=\"/assets/webauthn.js\"></script>",
        json_in_html(options)
    );
    let fallback = match number {
        Some(n) => format!("<p>Use a passkey registered for {}.</p>", escape(n)),
        None => format!(
            "<form method=\"post\" action=\"/authorize/login\">\
             <input type=\"hidden\" name=\"login_id\" value=\"{id}\">\
             <p><label for=\"personal_number\">Số định danh cá nhân — personal identification number</label><br>\
             <input id=\"personal_number\" name=\"personal_number\" inputmode=\"numeric\" \
             autocomplete=\"username\" pattern=\"[0-9]{{12}}\" value=\"{}\"></p>\
             <button>Tiếp tục — continue</button></form>",
            escape(login_hint.unwrap_or_default())
        ),
    };
    page(
        "Đăng nhập — sign in",
        &format!(
            "<p><strong>{}</strong> asks who you are.</p>{message}{passkey_form}\
             <h2>Or with your number first</h2>{fallback}{extra}",
            escape(client_name)
        ),
    )
}

/// `/activate`: the number and the activation code.
pub(crate) fn activate_form(csrf: &str, message: Option<&str>, number: &str) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    page(
        "Kích hoạt tài khoản — activate your account",
        &format!(
            "<p>Enter your personal identification number and the activation code the \
             registration office gave you; then create a passkey on this device.</p>{message}\
             <form method=\"post\" action=\"/activate\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p><label for=\"personal_number\">Số định danh cá nhân — personal identification number</label><br>\
             <input id=\"personal_number\" name=\"personal_number\" inputmode=\"numeric\" \
             autocomplete=\"username\" required value=\"{}\"></p>\
             <p><label for=\"code\">Mã kích hoạt — activation code</label><br>\
             <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" required></p>\
             <button>Tiếp tục — continue</button></form>",
            escape(csrf),
            escape(number)
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
        "Tạo passkey — create a passkey",
        &format!(
            "<p>{}: your code is right. Create a passkey on this device (your phone or \
             computer asks for your PIN, fingerprint or face).</p>\
             <script type=\"application/json\" id=\"webauthn-options\">{}</script>\
             <form method=\"post\" action=\"/activate/finish\" id=\"webauthn-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"enrolment\" value=\"{}\">\
             <input type=\"hidden\" name=\"credential\" value=\"\">\
             <p><label for=\"name\">Tên passkey — a name for it</label><br>\
             <input id=\"name\" name=\"name\" maxlength=\"64\" value=\"passkey\"></p>\
             <button type=\"button\" id=\"webauthn-start\">Tạo passkey — create the passkey</button>\
             <p id=\"webauthn-status\" role=\"status\"></p></form>\
             <script src=\"/assets/webauthn.js\"></script>",
            escape(full_name),
            json_in_html(options),
            escape(csrf),
            escape(enrolment)
        ),
    )
}

/// The end of an activation.
pub(crate) fn activated(name: &str) -> String {
    page(
        "Đã kích hoạt — activated",
        &format!(
            "<p>Your passkey {} is registered. Sign in to government portals with it.</p>",
            escape(name)
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
            "profile" => "<li>Họ tên và ngày sinh — your name and birth date</li>".to_owned(),
            "national_id" => {
                "<li>Số định danh cá nhân — your personal identification number</li>".to_owned()
            }
            "business" => {
                "<li>Doanh nghiệp bạn đại diện — the business you act for</li>".to_owned()
            }
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
        format!("<fieldset><legend>Bạn đại diện cho — you act for</legend>{choices}</fieldset>")
    };
    page(
        "Đồng ý chia sẻ — consent",
        &format!(
            "<p><strong>{}</strong> asks for:</p><ul>{items}</ul>\
             <form method=\"post\" action=\"/authorize/consent\">\
             <input type=\"hidden\" name=\"login_id\" value=\"{}\">{choices}\
             <p>It is remembered for this portal until you withdraw it.</p>\
             <button name=\"decision\" value=\"allow\">Đồng ý — allow</button> \
             <button name=\"decision\" value=\"deny\">Từ chối — deny</button></form>",
            escape(client_name),
            escape(login_id)
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
    message: Option<&str>,
) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    let csrf = escape(csrf);
    let message = message
        .map(|m| format!("<p role=\"status\">{}</p>", escape(m)))
        .unwrap_or_default();
    let keys: String = passkeys
        .iter()
        .map(|p| {
            format!(
                "<li>{} — added {}, last used {} \
                 <form method=\"post\" action=\"/account/passkeys/remove\" style=\"display:inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"credential\" value=\"{}\">\
                 <button>Xoá — remove</button></form></li>",
                escape(&p.name),
                when(p.created_at),
                p.last_used_at.map_or_else(|| "never".to_owned(), when),
                Base64UrlUnpadded::encode_string(&p.credential_id),
            )
        })
        .collect();
    let consents: String = portals
        .iter()
        .map(|(id, name, scope, at)| {
            format!(
                "<li>{} ({}) — since {} \
                 <form method=\"post\" action=\"/account/consents/withdraw\" style=\"display:inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"client_id\" value=\"{}\">\
                 <button>Rút lại — withdraw</button></form></li>",
                escape(name),
                escape(scope),
                when(*at),
                escape(id),
            )
        })
        .collect();
    let consents = if consents.is_empty() {
        "<p>None yet.</p>".to_owned()
    } else {
        format!("<ul>{consents}</ul>")
    };
    page(
        "Tài khoản — your account",
        &format!(
            "<p>{} ({})</p>{message}\
             <h2>Passkeys</h2><ul>{keys}</ul>\
             <form method=\"post\" action=\"/account/passkeys/add\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button>Thêm passkey — add a passkey</button></form>\
             <h2>Portals you share your data with</h2>{consents}",
            escape(&person.full_name),
            escape(&person.personal_number),
        ),
    )
}
