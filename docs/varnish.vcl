# Varnish 7 in front of the integrations GraphQL server (docs/caching.md).
#
# - Caches GraphQL GET answers the server marks `Cache-Control: public` (guest-alike answers), for their max-age,
#   and serves them stale for stale-while-revalidate while it fetches a fresh copy. Everything else passes:
#   POST, requests with credentials (Authorization), and answers marked private.
# - Purge by tag: the server sends `PURGE /` with `xkey-purge: <tags>` after each write (CACHE_PURGE_URLS); every
#   stored answer carrying one of those tags in its `xkey` header is dropped at once. Needs varnish-modules (xkey).
vcl 4.1;

import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
}

# Who may purge: the server's own hosts.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "xkey-purge header missing"));
        }
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.n-gone));
    }
    if (req.url !~ "^/graphql\?" || req.method != "GET") {
        return (pass);
    }
    # Credentials: the server decides per caller; the built-in rules pass these too.
    if (req.http.Authorization) {
        return (pass);
    }
    # Two spellings of one media type preference are one variant (the server varies on Accept).
    if (req.http.Accept ~ "application/graphql-response\+json") {
        set req.http.Accept = "application/graphql-response+json";
    } else {
        set req.http.Accept = "application/json";
    }
    unset req.http.Cookie;
    return (hash);
}

sub vcl_deliver {
    # The tags are for Varnish only.
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
