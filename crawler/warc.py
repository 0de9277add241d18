"""WARC log of every fetch: ``warc/<db>-run<N>-<time>.warc.gz`` beside the archive database."""

from __future__ import annotations

import base64
import hashlib
import uuid
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, urlsplit

from crawler.items import DocumentItem

__all__ = ["URI_SAFE", "WarcLog"]

URI_SAFE = "%/:=&?~#+!$,;'@()*[]"  # kept as is in WARC-Target-URI; other non-ASCII bytes are percent-encoded


class WarcLog:
    """Appends every fetch (request + response records) to ``warc/<db>-run<N>-<time>.warc.gz`` beside the DB.

    Each record is its own gzip member (the usual ``.warc.gz`` layout, read by warcio and other tools) and is
    flushed as soon as it is written; the file is renamed from ``.open`` when the crawl closes cleanly. The
    records are built here rather than with warcio's writer, which costs ~3x more per record (profiled at
    ~10 % of the crawl process on the benchmark)."""

    def __init__(self, db_path: str, run_id: int | None) -> None:
        folder = Path(db_path).resolve().parent / "warc"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = folder / f"{Path(db_path).stem}-run{run_id or 0}-{stamp}.warc.gz"
        self.tmp = self.path.with_suffix(".gz.open")
        self.fh = self.tmp.open("ab")

    @staticmethod
    def _digest(data: bytes) -> str:
        return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")

    @staticmethod
    def _header_lines(pairs: Iterable[tuple[str, str]]) -> bytes:
        out = []
        for name, value in pairs:
            clean = str(value).replace("\r", " ").replace("\n", " ")
            out.append(f"{name}: {clean}\r\n".encode("latin-1", "replace"))
        return b"".join(out)

    def _record(self, rec_type: str, uri: str, date: str, content_type: str, block: bytes,
                payload: bytes | None) -> bytes:
        headers = [("WARC-Type", rec_type), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"), ("WARC-Date", date),
                   ("WARC-Target-URI", uri)]
        if payload is not None:
            headers.append(("WARC-Payload-Digest", self._digest(payload)))
        headers += [("WARC-Block-Digest", self._digest(block)), ("Content-Type", content_type),
                    ("Content-Length", str(len(block)))]
        record = b"WARC/1.0\r\n" + self._header_lines(headers) + b"\r\n" + block + b"\r\n\r\n"
        gz = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return gz.compress(record) + gz.flush()

    def write(self, item: DocumentItem) -> None:
        body: bytes = item["body"] or b""
        status = int(item.get("http_status") or 200)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        headers = [(k, v) for k, v in (item.get("headers") or {}).items()
                   if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")]
        headers.append(("Content-Length", str(len(body))))
        response = f"HTTP/1.1 {status} {phrase}\r\n".encode() + self._header_lines(headers) + b"\r\n" + body
        url = quote(item.get("final_url") or item["url"], safe=URI_SAFE)
        date = item.get("fetched_at") or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = list((item.get("request_headers") or {}).items())
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        request = (f"{item.get('method') or 'GET'} {target} HTTP/1.1\r\n".encode("latin-1", "replace")
                   + self._header_lines(req_headers) + b"\r\n")
        self.fh.write(self._record("response", url, date, "application/http; msgtype=response", response, body)
                      + self._record("request", url, date, "application/http; msgtype=request", request, None))
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()
        self.tmp.replace(self.path)
