# Varnish in front of `cms serve`, used as shipped by the tests (tests/integration/varnish/).
#
# - What the CMS purges: every delivery, feed, sitemap and search answer names what it depends
#   on in `xkey`; the purge consumer sends `PURGE` with `xkey-purge: <keys>` (xkey vmod, from
#   Debian's varnish-modules), or `BAN` with `xkey-ban: <regex>` where an operator prefers bans.
#   bench/README.md says why xkey is the default (measured). Only `acl purgers` may do either.
# - Never stale after a change: while the backend answers, an expired or soft-purged object is
#   not served (req.grace 0s); waiting requests for one URL share one backend fetch.
# - Stale on error: when the backend fails (5xx, refused, timeout), the request restarts and
#   gets the last good copy for as long as its `stale-if-error` allows.
# - Never cached: requests with Cookie or Authorization, anything but GET and HEAD, the admin,
#   auth, preview and webhooks APIs, health and metrics, and answers that are private, no-store,
#   set a cookie or do not say they may be kept (no default TTL).
#
# The backend and the purgers are the site's own: `cms-backend.vcl`, which Varnish finds on
# vcl_path (Debian's default: /etc/varnish). Write it from cms-backend.example.vcl and start
# `varnishd -f <this file> -p vcl_path=<its dir>:/usr/share/varnish/vcl`. See
# docs/operations.md, "Varnish".
vcl 4.1;

import std;
import xkey;

include "cms-backend.vcl";

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "xkey-purge header required"));
        }
        if (req.http.xkey-soft == "1") {
            set req.http.x-purged = xkey.softpurge(req.http.xkey-purge);
        } else {
            set req.http.x-purged = xkey.purge(req.http.xkey-purge);
        }
        return (synth(200, "Purged " + req.http.x-purged));
    }
    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-ban) {
            return (synth(400, "xkey-ban header required"));
        }
        # obj.* only, so the ban lurker can retire it in the background. The ban parser splits
        # on spaces: a regex naming the separator says [[:space:]].
        if (std.ban("obj.http.xkey ~ " + req.http.xkey-ban)) {
            return (synth(200, "Banned"));
        }
        return (synth(400, std.ban_error()));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.http.Authorization || req.http.Cookie) {
        return (pass);
    }
    if (req.url ~ "^/v1/(admin|auth|preview|webhooks)(/|\?|$)" || req.url ~ "^/(healthz|readyz|metrics)") {
        return (pass);
    }
    if (req.restarts == 0) {
        # A purge must be seen at once: no stale copy while the backend can answer.
        set req.grace = 0s;
    } else {
        # The backend failed (vcl_synth): any copy within its own grace (stale-if-error) will do.
        set req.grace = 3650d;
    }
    return (hash);
}

sub vcl_backend_response {
    if (beresp.status >= 500) {
        # Keep the last good copy; the client side restarts and serves it (vcl_synth).
        return (abandon);
    }
    # Only what the CMS says may be shared is kept; no default TTL for anything else.
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control !~ "(?i)(s-maxage|max-age)=[1-9]"
        || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)"
        || beresp.ttl <= 0s) {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # How long a copy may stand in for a failing backend (RFC 5861 stale-if-error).
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, "^.*stale-if-error=([0-9]+).*$", "\1s"), 0s);
    }
    # Revalidate an expired copy with If-None-Match instead of fetching it whole.
    set beresp.keep = 1h;
    return (deliver);
}

sub vcl_backend_error {
    return (abandon);
}

sub vcl_synth {
    if (resp.status == 503 && req.restarts == 0 && req.method != "PURGE" && req.method != "BAN") {
        # The backend failed: try again allowing the grace a copy was given.
        return (restart);
    }
}

sub vcl_deliver {
    # Keys are for this cache, not for browsers.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
