//! The Connect query string hash (`qsh`): the canonical form of an HTTP
//! request that a Connect JWT is bound to.
//!
//! Every JWT the product signs for a request to the app (iframe loads,
//! webhooks, lifecycle callbacks) carries a `qsh` claim: the hex SHA-256 of a
//! canonical `METHOD&PATH&QUERY` string. Checking it is what stops a token
//! captured from one URL from being replayed against another URL of the app.
//! The rules are in Atlassian's "Understanding JWT for Connect apps"
//! (<https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>)
//! and in the `HttpRequestCanonicalizer` of atlassian-connect-spring-boot
//! (ACSB, Java) and `createCanonicalRequest` of the `atlassian-jwt` npm
//! package (JS), which agree on everything below except where noted.
//!
//! This module only computes the value. Comparing it with the claim (and
//! deciding which endpoints accept [`CONTEXT_QSH`] instead) is the job of the
//! JWT verification code.
//!
//! # Decisions where the sources leave room
//!
//! - **`+` in the query is a space.** The product's servlet container and
//!   the JS libraries (`querystring`, `qs`) both decode the query as
//!   `application/x-www-form-urlencoded`, so `a+b`, `a%20b` and a literal
//!   `a b` all canonicalise to `a%20b`. A literal plus must arrive as `%2B`.
//! - **Decoding is lossy and never fails.** A malformed escape such as `%zz`
//!   or a lone `%` is kept as literal text (and then re-encoded as `%25zz`),
//!   which is what Node's `querystring.unescape` does. Bytes that are not
//!   valid UTF-8 after decoding become U+FFFD, as in Node's
//!   `Buffer.toString()` and Java's `URLDecoder`. Two different invalid byte
//!   sequences can therefore share a canonical form; that is harmless because
//!   the handlers decode the query the same lossy way.
//! - **Parameter order follows Java.** Parameters are sorted by their
//!   *encoded* name in byte order (ACSB; the product is Java). The JS library
//!   sorts by raw name instead, which differs only for names with characters
//!   outside `A-Z a-z 0-9 - . _ ~`.
//! - **Repeated values are sorted by their decoded text** in UTF-16 code-unit
//!   order, then encoded and joined with `,`. Both reference implementations
//!   do exactly this (Java `Collections.sort` on `String`, JS
//!   `Array.prototype.sort`), so `k=A&k=%5B` gives `k=A,%5B` even though
//!   `%5B` sorts before `A` once encoded.
//! - **The path is not decoded.** Both references hash the path as it
//!   appeared on the wire, so `/a%20b` stays `/a%20b`. Only `&` is rewritten.
//! - **The base path is stripped on a segment boundary only.** With base
//!   path `/wiki`, `/wiki/x` becomes `/x` but `/wikix` stays `/wikix`. The JS
//!   library strips any string prefix, which would let a token for
//!   `/wiki/x` also verify at `/wikix`; ACSB strips the servlet context path,
//!   which is always a whole segment. A trailing `/` on the base path is
//!   ignored, and `""` or `"/"` strips nothing.
//! - **Empty parameter names are kept** (`=x` gives `=x`), as Node's
//!   `querystring` does, so extra junk parameters still change the hash.
//!   Empty segments (`a=1&&b=2`) are skipped, as every parser does.
//! - **`jwt` is matched after decoding and case-sensitively**, like both
//!   references: `%6Awt=…` is dropped, `JWT=…` is kept.

use std::collections::BTreeMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The fixed `qsh` claim of context JWTs (`AP.context.getToken()`).
///
/// Context tokens are minted in the browser without knowing which app URL
/// they will be sent to, so the product puts this literal string in `qsh`
/// instead of a hash (the `apiMigrations.context-qsh` opt-in). It can never
/// equal a value returned by [`qsh`], which is always 64 hex digits; an
/// endpoint that accepts context tokens must require this exact value, and
/// every other endpoint must reject it. See
/// <https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>.
pub const CONTEXT_QSH: &str = "context-qsh";

/// The name of the query parameter that carries the JWT itself. It cannot
/// be part of what the token signs, so it is left out of the canonical query.
const JWT_PARAM: &str = "jwt";

/// Everything except the RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, as in OAuth 1.0. So a space
/// becomes `%20` (never `+`) and `*` becomes `%2A`.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Builds the canonical request string `METHOD&PATH&QUERY` that a Connect
/// JWT's `qsh` claim is the hash of.
///
/// The product computes this string from the URL it signs and the app must
/// compute the same string from the request it receives; any difference
/// makes a genuine request fail, and any input the canonical form ignores is
/// something an attacker can change without invalidating the token. The
/// rules are Atlassian's
/// (<https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>);
/// the module documentation lists the choices made where they are silent.
///
/// - `method`: the HTTP method; it is upper-cased.
/// - `path`: the request path exactly as received, still percent-encoded
///   (for example `http::Uri::path()`). It is not decoded.
/// - `query`: the raw query string without the leading `?`, still
///   percent-encoded; `+` means a space. `None` and `Some("")` are the same.
///   The `jwt` parameter is dropped.
/// - `base_path`: the path of the app's `baseUrl` (for example `""`,
///   `"/wiki"` or `"/base"`). It is removed from the front of `path` when
///   `path` is that prefix or continues it with `/`.
///
/// Never panics: malformed escapes are kept literally and invalid UTF-8 is
/// replaced by U+FFFD.
pub fn canonical_request(method: &str, path: &str, query: Option<&str>, base_path: &str) -> String {
    let method = method.to_uppercase();
    let uri = canonical_uri(path, base_path);
    let query = canonical_query(query.unwrap_or(""));
    format!("{method}&{uri}&{query}")
}

/// The `qsh` claim value for a request: lowercase hex SHA-256 of the UTF-8
/// bytes of [`canonical_request`].
///
/// This is what the product puts in the JWT it signs for this request, so the
/// app compares the token's claim with this value to make sure the token was
/// issued for this method, path and query and not for another URL of the app
/// (<https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>).
/// The arguments are the same as for [`canonical_request`].
pub fn qsh(method: &str, path: &str, query: Option<&str>, base_path: &str) -> String {
    let canonical = canonical_request(method, path, query, base_path);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// The canonical path: base path removed, a leading `/`, no trailing `/`
/// (unless it is the whole path) and every `&` written as `%26`.
fn canonical_uri(path: &str, base_path: &str) -> String {
    let relative = strip_base_path(path, base_path);
    let mut uri = String::with_capacity(relative.len() + 1);
    if !relative.starts_with('/') {
        // Also turns an empty path into "/".
        uri.push('/');
    }
    uri.push_str(relative);
    if uri.len() > 1 && uri.ends_with('/') {
        uri.pop();
    }
    // Without this, `/project&a=b?x=y` and `/project?a=b&x=y` would hash the
    // same, and a token for one would verify for the other.
    uri.replace('&', "%26")
}

/// Removes `base_path` from the front of `path` when it matches whole
/// segments; otherwise returns `path` unchanged.
fn strip_base_path<'a>(path: &'a str, base_path: &str) -> &'a str {
    let base = base_path.trim_end_matches('/');
    if base.is_empty() {
        return path;
    }
    let base = base.strip_prefix('/').unwrap_or(base);
    let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(base)) else {
        return path;
    };
    if rest.is_empty() || rest.starts_with('/') {
        rest
    } else {
        path
    }
}

/// The canonical query: `jwt` removed, names and values decoded and
/// re-encoded, values of a repeated name sorted and joined with `,`, names
/// sorted by their encoded form, `name=value` pairs joined with `&`.
fn canonical_query(query: &str) -> String {
    // Keyed by the encoded name, so the map's byte order is the output order.
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(raw_name);
        if name == JWT_PARAM {
            continue;
        }
        params
            .entry(encode(&name))
            .or_default()
            .push(form_decode(raw_value));
    }

    let mut out = String::with_capacity(query.len());
    for (name, mut values) in params {
        values.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&name);
        out.push('=');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&encode(value));
        }
    }
    out
}

/// Decodes one name or value of an `application/x-www-form-urlencoded`
/// query: `+` is a space, `%XX` is a byte, malformed escapes stay as they
/// are and invalid UTF-8 becomes U+FFFD.
fn form_decode(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// RFC 3986 percent-encoding of everything but the unreserved characters,
/// with upper-case hex digits.
fn encode(text: &str) -> String {
    utf8_percent_encode(text, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One row of the §2.2 tables: inputs, the expected canonical request
    /// and, where the source gives one, the expected hash.
    struct Vector {
        name: &'static str,
        method: &'static str,
        path: &'static str,
        query: Option<&'static str>,
        base_path: &'static str,
        canonical: &'static str,
        qsh: Option<&'static str>,
    }

    /// The query of vector 4 (the jwt value is irrelevant: it is dropped).
    const HELLO_WORLD_QUERY: &str =
        "lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=\
        &jwt=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJqaXJhOjE1NDg5NTk1In0.sig\
        &xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1";

    const SERVICE_QUERY: &str =
        "zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2&repeated=Parameter 2";

    const SERVICE_CANONICAL: &str = "GET&/path/to/service&first=param&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param";

    const SERVICE_QSH: &str = "9ae6056cf66c00e76fa15e66fd26091fecd7356eec2f2c30629835b656799f66";

    const VECTORS: &[Vector] = &[
        Vector {
            name: "1: GET /path, no query",
            method: "GET",
            path: "/path",
            query: None,
            base_path: "",
            canonical: "GET&/path&",
            qsh: Some("799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"),
        },
        Vector {
            name: "2: GET, no path",
            method: "GET",
            path: "",
            query: None,
            base_path: "",
            canonical: "GET&/&",
            qsh: Some("c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
        },
        Vector {
            name: "3: GET /",
            method: "GET",
            path: "/",
            query: None,
            base_path: "",
            canonical: "GET&/&",
            qsh: Some("c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
        },
        Vector {
            name: "4: GET /hello-world with product parameters and jwt",
            method: "GET",
            path: "/hello-world",
            query: Some(HELLO_WORLD_QUERY),
            base_path: "",
            canonical: "GET&/hello-world&cp=%2Fjira&lic=none&loc=en-US&tz=Australia%2FSydney\
                        &user_id=&user_key=&xdm_c=channel-servlet-hello-world&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_p=1",
            qsh: Some("8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9"),
        },
        Vector {
            // checkBody=true: the caller hands the form body over as the
            // query, which is what ACE's "Apache HTTP client" retry does.
            name: "5: POST /hello-world, form-body parameters used as the query",
            method: "POST",
            path: "/hello-world",
            query: Some(HELLO_WORLD_QUERY),
            base_path: "",
            canonical: "POST&/hello-world&cp=%2Fjira&lic=none&loc=en-US&tz=Australia%2FSydney\
                        &user_id=&user_key=&xdm_c=channel-servlet-hello-world&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_p=1",
            qsh: Some("d7e7f00660965fc15745b2c423a89b85d0853c4463faca362e0371d008eb0927"),
        },
        Vector {
            name: "6: POST /hello-world, body ignored",
            method: "POST",
            path: "/hello-world",
            query: None,
            base_path: "",
            canonical: "POST&/hello-world&",
            qsh: Some("6f95f3738e1b037a3bebbe0ad237d80fdbc1d5ae452e98ce03a9c004c178ebb4"),
        },
        Vector {
            name: "repeated parameters, unencoded spaces",
            method: "GET",
            path: "/path/to/service",
            query: Some(SERVICE_QUERY),
            base_path: "",
            canonical: SERVICE_CANONICAL,
            qsh: Some(SERVICE_QSH),
        },
        Vector {
            name: "repeated parameters, %20 spaces",
            method: "GET",
            path: "/path/to/service",
            query: Some(
                "zee_last=param&repeated=parameter%201&first=param&repeated=parameter%202&repeated=Parameter%202",
            ),
            base_path: "",
            canonical: SERVICE_CANONICAL,
            qsh: Some(SERVICE_QSH),
        },
        Vector {
            name: "repeated parameters, + spaces",
            method: "GET",
            path: "/path/to/service",
            query: Some("zee_last=param&repeated=parameter+1&first=param&repeated=parameter+2&repeated=Parameter+2"),
            base_path: "",
            canonical: SERVICE_CANONICAL,
            qsh: Some(SERVICE_QSH),
        },
        Vector {
            name: "repeated parameters under base path /base",
            method: "GET",
            path: "/base/path/to/service",
            query: Some(SERVICE_QUERY),
            base_path: "/base",
            canonical: SERVICE_CANONICAL,
            qsh: Some(SERVICE_QSH),
        },
        Vector {
            name: "parameters without values",
            method: "GET",
            path: "/hello-world",
            query: Some("a&b=foo&c"),
            base_path: "",
            canonical: "GET&/hello-world&a=&b=foo&c=",
            qsh: Some("05a07346264b590803b827ab297a7fcb7e250fe5fa8c66187a9131b0934496b2"),
        },
        Vector {
            name: "& in path under base path /jira",
            method: "POST",
            path: "/jira/rest/api/2/project/jira&a=b&c=d",
            query: Some("x=y"),
            base_path: "/jira",
            canonical: "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y",
            qsh: None,
        },
        Vector {
            name: "& in path",
            method: "POST",
            path: "/rest/api/2/project&a=b&c=d",
            query: Some("x=y"),
            base_path: "",
            canonical: "POST&/rest/api/2/project%26a=b%26c=d&x=y",
            qsh: Some("0d387fa561b533084921196db33213335ba61ca2c78b6690c5811518d035d850"),
        },
        Vector {
            name: "base path /jira stripped, /jira later in the path kept",
            method: "GET",
            path: "/jira/rest/api/2/project/jira",
            query: Some("x=y"),
            base_path: "/jira",
            canonical: "GET&/rest/api/2/project/jira&x=y",
            qsh: Some("9584d4a30447c0235df4aabcca0512ae8b4a17a47c10cad8ba23a64b40cc6b4c"),
        },
        Vector {
            name: "ACSB Javadoc example",
            method: "GET",
            path: "/path/to/service",
            query: Some("zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2"),
            base_path: "",
            canonical: "GET&/path/to/service&first=param&repeated=parameter%201,parameter%202&zee_last=param",
            qsh: Some("e52bb281606c3bd9ca16cfe96fe2df78f5d9ffa126f06befd750dfa10fa1a897"),
        },
        Vector {
            name: "product-issued pair (gist moskrc/8453971)",
            method: "GET",
            path: "/addon",
            query: Some(
                "tz=Europe%2FMoscow&loc=en-US&user_id=admin&user_key=admin&xdm_e=http%3A%2F%2Flocalhost%3A2990\
                 &xdm_c=channel-servlet-click-me&cp=%2Fjira&xdm_p=1&lic=none&jwt=eyJ0eXAiOiJKV1QifQ.e30.x",
            ),
            base_path: "",
            canonical: "GET&/addon&cp=%2Fjira&lic=none&loc=en-US&tz=Europe%2FMoscow&user_id=admin&user_key=admin\
                        &xdm_c=channel-servlet-click-me&xdm_e=http%3A%2F%2Flocalhost%3A2990&xdm_p=1",
            qsh: Some("3a6ff1b66f60eb275d0e4cb6be4261d5d3b0216b91c58dc6524509227ef346de"),
        },
    ];

    #[test]
    fn every_protocol_vector_canonicalises_and_hashes_as_documented() {
        for v in VECTORS {
            let canonical = canonical_request(v.method, v.path, v.query, v.base_path);
            assert_eq!(
                canonical, v.canonical,
                "canonical request of vector {:?}",
                v.name
            );
            let hash = qsh(v.method, v.path, v.query, v.base_path);
            if let Some(expected) = v.qsh {
                assert_eq!(hash, expected, "qsh of vector {:?}", v.name);
            }
            assert_eq!(hash, hex::encode(Sha256::digest(v.canonical.as_bytes())));
        }
    }

    #[test]
    fn sha256_matches_the_acsb_sanity_constant() {
        // Guards the hashing half on its own: sha256("foo") from the ACSB doc.
        assert_eq!(
            hex::encode(Sha256::digest(b"foo")),
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
        );
    }

    #[test]
    fn context_qsh_can_never_equal_a_computed_hash() {
        let hash = qsh("GET", "/", None, "");
        assert_eq!(hash.len(), 64);
        assert!(hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(CONTEXT_QSH, "context-qsh");
        assert_ne!(CONTEXT_QSH.len(), 64);
    }

    #[test]
    fn method_is_upper_cased() {
        assert_eq!(canonical_request("get", "/p", None, ""), "GET&/p&");
        assert_eq!(canonical_request("Post", "/p", None, ""), "POST&/p&");
    }

    #[test]
    fn path_normalisation() {
        let uri = |path, base| canonical_uri(path, base);
        assert_eq!(uri("/a/", ""), "/a");
        assert_eq!(uri("/a//", ""), "/a/");
        assert_eq!(uri("//", ""), "/");
        assert_eq!(uri("a/b", ""), "/a/b");
        // The path is hashed as it was on the wire: not decoded.
        assert_eq!(uri("/a%20b/%26", ""), "/a%20b/%26");
        assert_eq!(uri("/a&b", ""), "/a%26b");
    }

    #[test]
    fn base_path_is_stripped_on_segment_boundaries_only() {
        let uri = |path, base| canonical_uri(path, base);
        assert_eq!(uri("/wiki/x", "/wiki"), "/x");
        assert_eq!(uri("/wiki/x", "/wiki/"), "/x");
        assert_eq!(uri("/wiki/x", "wiki"), "/x");
        assert_eq!(uri("/wiki", "/wiki"), "/");
        assert_eq!(uri("/wiki/", "/wiki"), "/");
        assert_eq!(uri("/wikix", "/wiki"), "/wikix");
        assert_eq!(uri("/other/wiki/x", "/wiki"), "/other/wiki/x");
        assert_eq!(uri("/x", "/"), "/x");
        assert_eq!(uri("/x", ""), "/x");
        assert_eq!(uri("/a/b/c", "/a/b"), "/c");
    }

    #[test]
    fn plus_is_a_space_and_encoded_plus_is_a_plus() {
        let q = |query| canonical_query(query);
        assert_eq!(q("a=x+y"), "a=x%20y");
        assert_eq!(q("a=x%20y"), "a=x%20y");
        assert_eq!(q("a=x y"), "a=x%20y");
        assert_eq!(q("a=x%2By"), "a=x%2By");
        assert_eq!(q("a+b=1"), "a%20b=1");
    }

    #[test]
    fn rfc3986_encoding_of_special_characters() {
        let q = |query| canonical_query(query);
        assert_eq!(q("a=*"), "a=%2A");
        assert_eq!(q("a=~"), "a=~");
        assert_eq!(q("a=%7E"), "a=~");
        assert_eq!(q("a=-._"), "a=-._");
        assert_eq!(q("a=!'()"), "a=%21%27%28%29");
        assert_eq!(q("a=%2f"), "a=%2F");
        assert_eq!(q("a=%C3%A9"), "a=%C3%A9");
        assert_eq!(q("a=é"), "a=%C3%A9");
        assert_eq!(q("a=x,y"), "a=x%2Cy");
        assert_eq!(q("a=b=c"), "a=b%3Dc");
    }

    #[test]
    fn malformed_input_is_decoded_lossily() {
        let q = |query| canonical_query(query);
        assert_eq!(q("a=%zz"), "a=%25zz");
        assert_eq!(q("a=%"), "a=%25");
        assert_eq!(q("a=%4"), "a=%254");
        assert_eq!(q("a=%FF"), "a=%EF%BF%BD");
        assert_eq!(q("a=%C3"), "a=%EF%BF%BD");
        assert_eq!(q("%FF=1"), "%EF%BF%BD=1");
    }

    #[test]
    fn empty_segments_are_skipped_and_empty_names_kept() {
        let q = |query| canonical_query(query);
        assert_eq!(q("a=1&&b=2&"), "a=1&b=2");
        assert_eq!(q("&"), "");
        assert_eq!(q("=x"), "=x");
        assert_eq!(q("="), "=");
        assert_eq!(canonical_request("GET", "/p", Some(""), ""), "GET&/p&");
    }

    #[test]
    fn jwt_is_dropped_after_decoding_and_case_sensitively() {
        let q = |query| canonical_query(query);
        assert_eq!(q("jwt=abc"), "");
        assert_eq!(q("jwt"), "");
        assert_eq!(q("jwt=a&jwt=b&x=1"), "x=1");
        assert_eq!(q("%6Awt=abc&x=1"), "x=1");
        assert_eq!(q("JWT=abc"), "JWT=abc");
        assert_eq!(q("jwt_=abc"), "jwt_=abc");
        assert_eq!(
            canonical_request("GET", "/p", Some("jwt=abc"), ""),
            "GET&/p&"
        );
    }

    #[test]
    fn names_sort_by_encoded_form_in_byte_order() {
        let q = |query| canonical_query(query);
        assert_eq!(q("b=1&a=2&B=3&A=4"), "A=4&B=3&a=2&b=1");
        // Raw order would put "~" first; encoded, "%C3%A9" < "~" (Java order).
        assert_eq!(q("~=1&%C3%A9=2"), "%C3%A9=2&~=1");
        // A name that is a prefix of another comes first.
        assert_eq!(q("ab=1&a=2"), "a=2&ab=1");
    }

    #[test]
    fn repeated_values_sort_by_decoded_text_in_utf16_order() {
        let q = |query| canonical_query(query);
        // Decoded "A" < "[", although encoded "%5B" < "A".
        assert_eq!(q("k=%5B&k=A"), "k=A,%5B");
        // U+1F600 is a surrogate pair (D83D ..) and sorts before U+E000 in
        // UTF-16, though not in code-point order.
        assert_eq!(q("k=%EE%80%80&k=%F0%9F%98%80"), "k=%F0%9F%98%80,%EE%80%80");
        // Duplicates are kept.
        assert_eq!(q("k=1&k=1"), "k=1,1");
        // Names spelt differently on the wire are the same parameter.
        assert_eq!(q("k=2&%6B=1"), "k=1,2");
    }

    // ---- property tests -------------------------------------------------

    /// Any text, including non-ASCII, controls and the query's own
    /// delimiters.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter)
    }

    /// A parameter whose name is not `jwt` (that one is dropped on purpose).
    fn param() -> impl Strategy<Value = (String, String)> {
        (text(), text()).prop_filter("jwt is dropped by design", |(name, _)| name != JWT_PARAM)
    }

    fn params() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec(param(), 0..6)
    }

    /// Encodes a query as a client would. `plus_for_space` picks the form
    /// style (`+`) over the RFC 3986 style (`%20`); both must be accepted.
    fn build_query(params: &[(String, String)], plus_for_space: bool) -> String {
        const SPACE_KEPT: &AsciiSet = &NOT_UNRESERVED.remove(b' ');
        let enc = |s: &str| {
            if plus_for_space {
                utf8_percent_encode(s, SPACE_KEPT)
                    .to_string()
                    .replace(' ', "+")
            } else {
                utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
            }
        };
        params
            .iter()
            .map(|(n, v)| format!("{}={}", enc(n), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The QUERY part of a canonical request. Neither METHOD (from the
    /// strategies used here) nor the canonical path contains `&`.
    fn query_part(canonical: &str) -> &str {
        canonical.splitn(3, '&').nth(2).expect("three parts")
    }

    fn method() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "get"])
    }

    proptest! {
        #[test]
        fn parameter_order_does_not_matter(
            (original, shuffled) in params().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
            plus in any::<bool>(),
        ) {
            prop_assert_eq!(
                qsh("GET", "/p", Some(&build_query(&original, plus)), ""),
                qsh("GET", "/p", Some(&build_query(&shuffled, plus)), ""),
            );
        }

        #[test]
        fn repeated_keys_in_any_order_give_the_same_result(
            name in text().prop_filter("not jwt", |n| n != JWT_PARAM),
            (values, shuffled) in prop::collection::vec(text(), 1..6)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
            others in params(),
        ) {
            let with = |values: &[String]| {
                let mut all: Vec<(String, String)> =
                    values.iter().map(|v| (name.clone(), v.clone())).collect();
                all.extend(others.iter().cloned());
                build_query(&all, false)
            };
            let a = canonical_request("GET", "/p", Some(&with(&values)), "");
            let b = canonical_request("GET", "/p", Some(&with(&shuffled)), "");
            prop_assert_eq!(&a, &b);
            // The name appears once, with all its values.
            let prefix = format!("{}=", encode(&name));
            let group = query_part(&a)
                .split('&')
                .find(|p| p.starts_with(&prefix))
                .expect("the repeated name is present");
            let merged = others.iter().filter(|(n, _)| *n == name).count();
            prop_assert_eq!(group.split(',').count(), values.len() + merged);
        }

        #[test]
        fn jwt_param_never_influences_the_result(
            query in params(),
            tokens in prop::collection::vec((text(), any::<prop::sample::Index>()), 1..3),
            plus in any::<bool>(),
        ) {
            let without = build_query(&query, plus);
            let mut with_jwt = query.clone();
            for (token, at) in &tokens {
                let index = at.index(with_jwt.len() + 1);
                with_jwt.insert(index, (JWT_PARAM.to_owned(), token.clone()));
            }
            let with_jwt = build_query(&with_jwt, plus);
            prop_assert_eq!(
                canonical_request("GET", "/p", Some(&without), ""),
                canonical_request("GET", "/p", Some(&with_jwt), ""),
            );
        }

        #[test]
        fn ampersand_in_path_never_equals_the_split_request(
            method in method(),
            path in "/?[a-zA-Z0-9/._%~=-]{0,12}",
            query in "[a-zA-Z0-9/._%~=&+-]{0,12}",
            base in prop::sample::select(vec!["", "/base"]),
        ) {
            let spoofed = format!("{path}&{query}");
            let joined = canonical_request(method, &spoofed, None, base);
            let split = canonical_request(method, &path, Some(&query), base);
            prop_assert_ne!(&joined, &split);
            prop_assert_ne!(qsh(method, &spoofed, None, base), qsh(method, &path, Some(&query), base));
            // The canonical path never contains a raw '&'.
            prop_assert!(!canonical_uri(&spoofed, base).contains('&'));
        }

        #[test]
        fn encoded_parameters_round_trip_through_the_canonical_form(
            original in params(),
            plus in any::<bool>(),
        ) {
            let canonical = canonical_request("GET", "/p", Some(&build_query(&original, plus)), "");
            let query = query_part(&canonical);
            prop_assert!(query.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&,".contains(&b)));

            let decode = |s: &str| percent_decode_str(s).decode_utf8().expect("valid UTF-8").into_owned();
            let mut decoded: Vec<(String, String)> = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (name, values) = pair.split_once('=').expect("every pair has '='");
                for value in values.split(',') {
                    decoded.push((decode(name), decode(value)));
                }
            }
            let mut expected = original.clone();
            expected.sort();
            decoded.sort();
            prop_assert_eq!(decoded, expected);
        }

        #[test]
        fn arbitrary_input_never_panics(
            method in any::<String>(),
            path in any::<String>(),
            query in proptest::option::of(any::<String>()),
            base in any::<String>(),
        ) {
            let hash = qsh(&method, &path, query.as_deref(), &base);
            prop_assert_eq!(hash.len(), 64);
        }

        #[test]
        fn escape_heavy_input_never_panics(
            path in "[%a-fA-F0-9&=+/,é ]{0,24}",
            query in "[%a-fA-F0-9&=+/,é ]{0,24}",
            base in "[%a-f/]{0,6}",
        ) {
            let canonical = canonical_request("GET", &path, Some(&query), &base);
            prop_assert!(canonical.starts_with("GET&/"));
        }
    }
}
