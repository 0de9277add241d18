"""What the sample portal serves: an answer, what a crawl must find, and the page chrome of every host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["HTML", "LAST_MODIFIED", "Answer", "Expected", "Handler", "page"]

LAST_MODIFIED = "Mon, 29 Jan 2024 08:00:00 GMT"
HTML = "text/html; charset=utf-8"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    ctype: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    cache: bool = True  # ETag/Last-Modified and 304 for conditional requests


Handler = Callable[[str, dict[str, list[str]], bytes], Answer]


@dataclass
class Expected:
    url: str
    agency: str
    year: int
    kind: str = "article"  # article | attachment


def page(title: str, body: str, *, charset: str = "utf-8", head: str = "") -> bytes:
    html = (
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>{title}</title>{head}</head><body>"
        f'<div class="nav"><a href="/">首页</a> <a href="/zfxxgk/">政府信息公开</a></div>{body}'
        f'<div class="footer">主办单位：测试门户 ICP备案 0000</div></body></html>'
    )
    return html.encode("gbk" if charset == "gb2312" else "utf-8", errors="xmlcharrefreplace")
