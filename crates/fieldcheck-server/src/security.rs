//! Security headers on every response: a Content-Security-Policy that allows only what the app needs,
//! no MIME sniffing, no referrer, no framing.
//!
//! The app is a WebAssembly module started by an inline module script that Trunk writes into
//! `index.html` (and the service worker registration beside it), styled by a stylesheet inlined in
//! the same page (it paints with the page, a round trip sooner). Rather than allowing every inline
//! script and style, the policy names each inline script and `<style>` of the built `index.html` by
//! its SHA-256, read once at start-up, so injected markup can run and restyle nothing even if it got
//! onto a page.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The headers every response carries.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    policy: HeaderValue,
}

impl SecurityHeaders {
    /// The policy for the app in `static_dir` (its `index.html` names the inline scripts to allow);
    /// without the app only the API is served and no script is allowed at all.
    pub fn for_app(static_dir: Option<&Path>) -> SecurityHeaders {
        let html = static_dir
            .map(|dir| dir.join("index.html"))
            .and_then(|index| std::fs::read_to_string(index).ok())
            .unwrap_or_default();
        let policy =
            content_security_policy(&inline_script_hashes(&html), &inline_style_hashes(&html));
        SecurityHeaders {
            // The policy is built from base64 digests and fixed text, always a valid header value.
            policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    }

    /// Sets the headers on a response, leaving any the handler set itself.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers
            .entry(CONTENT_SECURITY_POLICY)
            .or_insert_with(|| self.policy.clone());
        headers
            .entry(X_CONTENT_TYPE_OPTIONS)
            .or_insert(HeaderValue::from_static("nosniff"));
        headers
            .entry(REFERRER_POLICY)
            .or_insert(HeaderValue::from_static("no-referrer"));
        headers
            .entry(X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
    }
}

/// The policy: same-origin everything, WebAssembly compilation, the named inline scripts and styles,
/// no plugins, no framing, no `<base>` tricks, and no form submitted by the browser itself (every
/// form of the app is handled by its code; the login form `index.html` shows before the app starts
/// must never send a password on its own).
pub fn content_security_policy(script_hashes: &[String], style_hashes: &[String]) -> String {
    let named = |mut sources: String, hashes: &[String]| {
        for hash in hashes {
            sources.push_str(&format!(" 'sha256-{hash}'"));
        }
        sources
    };
    let script_src = named(String::from("'self' 'wasm-unsafe-eval'"), script_hashes);
    let style_src = named(String::from("'self'"), style_hashes);
    format!(
        "default-src 'self'; script-src {script_src}; style-src {style_src}; \
         img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The base64 SHA-256 of the text of every inline `<script>` (one without `src`) in `html`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    inline_hashes(html, "script")
}

/// The base64 SHA-256 of the text of every `<style>` in `html`.
pub fn inline_style_hashes(html: &str) -> Vec<String> {
    inline_hashes(html, "style")
}

/// The base64 SHA-256 of the text of every `<tag>` element in `html` that has no `src`.
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let opening = format!("<{tag}");
    let closing = format!("</{tag}>");
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&opening) {
        let after_tag = &rest[start..];
        // `<style>` or `<style media=…>`, never `<styles>` or `<style-x>`.
        let named = after_tag[opening.len()..]
            .chars()
            .next()
            .is_some_and(|next| next == '>' || next == '/' || next.is_ascii_whitespace());
        if !named {
            rest = &after_tag[opening.len()..];
            continue;
        }
        let Some(open_end) = after_tag.find('>') else {
            break;
        };
        let open_tag = &after_tag[..open_end];
        let body_and_rest = &after_tag[open_end + 1..];
        let Some(close) = body_and_rest.find(&closing) else {
            break;
        };
        if !open_tag.contains("src=") {
            let body = &body_and_rest[..close];
            hashes.push(STANDARD.encode(Sha256::digest(body.as_bytes())));
        }
        rest = &body_and_rest[close..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::{STANDARD, Sha256, inline_script_hashes, inline_style_hashes};
    use base64::Engine;
    use sha2::Digest;

    fn hash(text: &str) -> String {
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn only_inline_elements_of_the_tag_itself_are_named() {
        let html = "<styles>a{}</styles><style-x>b{}</style-x><style media=\"print\">c{}</style>\
                    <style>d{}</style><script src=\"/app.js\"></script><script>go()</script>";
        assert_eq!(inline_style_hashes(html), [hash("c{}"), hash("d{}")]);
        assert_eq!(inline_script_hashes(html), [hash("go()")]);
    }
}
