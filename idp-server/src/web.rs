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
    let fields = format!(
        "<input type=\"hidden\" name=\"login_id\" value=\"{}\">",
        escape(login_id)
    );
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
    page(
        "Đăng nhập — demo",
        &format!(
            "<p><strong>{client}</strong> asks who you are.</p>\
             <p>This is the <em>demo</em> authenticator: pick a fictional resident. \
             Real deployments log in with a passkey.</p>\
             <form method=\"post\" action=\"/authorize/login\">{fields}{choices}</form>",
            client = escape(client_name)
        ),
    )
}

pub(crate) fn error(title: &str, detail: &str) -> String {
    page(title, &format!("<p class=\"error\">{}</p>", escape(detail)))
}

/// Asks the person to confirm a logout that came without an ID token hint; the
/// form posts the request's parameters back with `confirm=yes`.
pub(crate) fn confirm_logout(params: &std::collections::HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = params.iter().filter(|(k, _)| *k != "confirm").collect();
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
             <form method=\"post\" action=\"/logout\">{fields}\
             <button name=\"confirm\" value=\"yes\">Đăng xuất — log out</button></form>"
        ),
    )
}
