# An example of the site's own part of default.vcl: where `cms serve` listens and who may
# purge. Copy it as `cms-backend.vcl` into a directory on vcl_path (e.g. /etc/varnish/).
backend cms {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 1s;
    .first_byte_timeout = 10s;
    .between_bytes_timeout = 10s;
}

acl purgers {
    "127.0.0.1";
    "::1";
}
