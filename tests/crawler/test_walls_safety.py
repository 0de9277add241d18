from __future__ import annotations

import pytest

from crawler.middlewares import mapped_proxy, retry_after_seconds
from crawler.safety import UnsafeURL, check_address, check_url, registrable_domain, same_site
from crawler.spiders.walls import classify

HTML = {"Content-Type": "text/html"}


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (412, HTML, b"<html><script>$_ts=window['$_ts'];</script></html>", "blocked/412-challenge"),
        (521, HTML, b"<script>document.cookie='__jsl_clearance_s=1|0|a';location.href=location.pathname</script>",
         "blocked/521-jsl"),
        (403, HTML, "<html>访问被拦截 Web应用防火墙</html>".encode(), "blocked/waf-403"),
        (404, HTML, b"not found", "http/404"),
        (503, HTML, b"busy", "http/503"),
        (200, HTML, "<html><body>对不起，您访问的页面不存在！</body></html>".encode(), "soft-404"),
        (200, HTML, b"<html><body></body></html>", "stub"),
        (200, HTML, "<html>请求已被拦截 WAF</html>".encode() + b" " * 600, "blocked/waf-200"),
        (200, HTML, b"<html><body>" + "正文".encode() * 400 + b"</body></html>", None),
        (200, {"Content-Type": "application/json"}, b"{}", None),
        (304, {}, b"", None),
    ],
)
def test_classify(status, headers, body, expected):
    assert classify(status, headers, body) == expected


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "reserved"),
        ("202.108.22.5", None),
    ],
)
def test_check_address(ip, expected):
    assert check_address(ip) == expected


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/x", "http://localhost/x", "http://169.254.169.254/latest/meta-data/",
     "http://[::1]/", "http://10.0.0.8/zfxxgknb/", "file:///etc/passwd", "ftp://x.gov.cn/a",
     "http://metadata.google.internal/"],
)
def test_check_url_refuses_private(url):
    with pytest.raises(UnsafeURL):
        check_url(url, resolve=False)


def test_check_url_allow_private():
    check_url("http://127.0.0.1:8000/x", allow_private=True)
    with pytest.raises(UnsafeURL):  # the scheme is refused even then
        check_url("file:///etc/passwd", allow_private=True)


def test_sites():
    assert registrable_domain("www.gz.gov.cn") == "gz.gov.cn"
    assert registrable_domain("a.b.example.com") == "example.com"
    assert same_site("http://city-a.fixture.test/art/1.html", "http://province.fixture.test/col/col1/index.html",
                     ("fixture.test",))
    # OGI_EXTRA_SITES: every host under a named domain is one site, whatever its depth
    assert registrable_domain("a.b.portal.example.org", ("portal.example.org",)) == "portal.example.org"
    assert not same_site("http://a.other.example.org/", "http://b.portal.example.org/", ("portal.example.org",))
    assert same_site("http://www.gz.gov.cn/a", "http://gz.gov.cn/b")
    assert same_site("http://rsj.km.gov.cn/a", "http://czj.km.gov.cn/b")
    assert same_site("http://www.other.gov.cn/a", "http://www.gz.gov.cn/b")  # gov.cn to gov.cn is allowed
    assert not same_site("http://mirror-spam.example/a", "http://province.fixture.test/")
    assert not same_site("http://156152.com/zfxxgknb/a.html", "http://www.gz.gov.cn/")


def test_host_map_and_retry_after():
    assert mapped_proxy("city.fixture.test", {"fixture.test": "127.0.0.1:9"}) == "127.0.0.1:9"
    assert mapped_proxy("fixture.test.evil.com", {"fixture.test": "127.0.0.1:9"}) is None
    assert retry_after_seconds(b"2") == 2.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
