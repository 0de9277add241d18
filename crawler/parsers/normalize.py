"""Text and value normalisation (spec/formats.md §8.1 and §9). Pure functions, no state."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WS_RE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_QUOTES_RE = re.compile("[\u201c\u201d\"'\u2018\u2019\u300c\u300d\u300e\u300f]")
_NUMBERING_RE = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[、.]|\([一二三四五六七八九十]{1,3}\)[、.]?|\d{1,2}(?:[.、](?!\d)|\))|\(\d{1,2}\)|[\u2460-\u2473])"
)
_TRAILING_PAREN_RE = re.compile(r"\(区分处理.*$")

# Printed placeholders that count as 0 (spec §9), mapped to their flag.
_DASHES = {"-", "--", "—", "——", "–", "－", "―", "─", "-—"}
_SLASHES = {"/", "//", "\\"}
_NA_TEXT = {"无", "不涉及", "不适用", "N/A", "n/a", "NA", "暂无", "空"}

_NUM_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_INT_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$")
_AMOUNT_UNIT_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)(万元|元|万|亿元)$")
_FOOTNOTE_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)(?:\*+|\(注\d*\)|注\d*|\[\d+\])$")
_WORD_DELTA_RE = re.compile(r"^(增加|减少|增|减)(\d+)$")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def clean_space(text: str) -> str:
    """NFKC and collapse whitespace runs (NBSP, ideographic space) to one ASCII space."""
    return _WS_RE.sub(" ", nfkc(text)).strip()


@lru_cache(maxsize=8192)
def norm_label(text: str) -> str:
    """Normalise a label for matching: NFKC, no whitespace, no quotes, 其它→其他, `，`→`,`."""
    t = _WS_RE.sub("", nfkc(text))
    t = _QUOTES_RE.sub("", t)
    return t.replace("其它", "其他").replace("，", ",").replace("：", ":")


def strip_numbering(label: str) -> str:
    """Remove leading numbering (一、 (一) 1. 1、 (1) ①), repeatedly (numbering may be doubled)."""
    prev = None
    while prev != label:
        prev = label
        label = _NUMBERING_RE.sub("", label, count=1)
    return label


def strip_row4_note(label: str) -> str:
    return _TRAILING_PAREN_RE.sub("", label)


@lru_cache(maxsize=8192)
def parse_value(raw: str) -> tuple[int | float | None, str, str | None]:
    """Parse one printed cell. Returns (value, flag, unit).

    Counts are ints; decimals stay floats; a placeholder (blank, dash, slash, 无…) is 0 with its flag.
    An unreadable cell is (None, "unknown", None). The unit is returned for amounts such as `251000元`.
    """
    t = _WS_RE.sub("", nfkc(raw)) if raw else ""
    if not t:
        return 0, "blank", None
    if t in _DASHES:
        return 0, "dash", None
    if t in _SLASHES or t == "／":
        return 0, "slash", None
    if t in _NA_TEXT:
        return 0, "na_text", None
    t = t.replace("，", ",")
    if _NUM_RE.match(t):
        return _num(t), "num", None
    if _INT_GROUPED_RE.match(t):
        return _num(t.replace(",", "").replace(" ", "")), "num", None
    m = _AMOUNT_UNIT_RE.match(t.replace(",", ""))
    if m:
        return _num(m.group(1)), "num", m.group(2)
    m = _FOOTNOTE_RE.match(t)
    if m:
        return _num(m.group(1)), "num", None
    m = _WORD_DELTA_RE.match(t)
    if m:
        sign = -1 if m.group(1).startswith("减") else 1
        return sign * int(m.group(2)), "num", None
    return None, "unknown", None


def _num(t: str) -> int | float:
    if "." in t:
        return float(t)
    return int(t)


@lru_cache(maxsize=8192)
def is_value_text(raw: str) -> bool:
    """True when a cell holds a value (a number or a placeholder), not a label."""
    t = _WS_RE.sub("", nfkc(raw)) if raw else ""
    if not t:
        return False
    if re.fullmatch(r"\d{1,2}[.、]", t):  # a bare list number such as "1." is numbering, not a value
        return False
    return parse_value(t)[1] != "unknown"


def to_wan(value: int | float, unit: str | None) -> int | float:
    """Convert an amount to 万元 (spec §6): 元 ÷ 10 000, 亿元 × 10 000."""
    if unit == "元":
        return round(value / 10000, 6)
    if unit == "亿元":
        return value * 10000
    return value
