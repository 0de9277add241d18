"""Text and value normalisation (spec/formats.md §8.1 and §9). Pure functions, no state."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.parsers.model import Extracted

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

# A printed count or amount has at most 15 digits, a glued digit run of a table row a few dozen; a longer
# digit string is not a value (and int() refuses more than 4,300 digits with a ValueError).
MAX_NUMBER_DIGITS = 100
_NUM_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_INT_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$")
_AMOUNT_UNIT_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)(万元|元|万|亿元)$")
_FOOTNOTE_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)(?:\*+|\(注\d*\)|注\d*|\[\d+\])$")
_WORD_DELTA_RE = re.compile(r"^(增加|减少|增|减)(\d+)$")


# CJK Radicals Supplement (U+2E80–U+2EFF) → the equivalent unified ideograph, from Unicode's
# EquivalentUnifiedIdeograph.txt (15.0): every assigned code point but U+2E80 ⺀ CJK RADICAL REPEAT, for which
# Unicode lists none (it stays as printed). NFKC leaves this block alone (only ⺟ and ⻳ decompose).
# PDFs printed by Chromium and Word carry these glyphs in their text layer: `北京市⺠政局` is 北京市民政局.
_SUPPLEMENT_PAIRS = (
    "⺁厂⺂乛⺃乚⺄乙⺅亻⺆冂⺇𠘨⺈刀⺉刂⺊卜⺋㔾⺌小⺍小⺎兀⺏尣⺐尢⺑𡯂⺒巳⺓幺⺔彑"
    "⺕\U0002b739⺖忄⺗心⺘扌⺙攵⺛旡⺜日⺝月⺞歺⺟母⺠民⺡氵⺢氺⺣灬⺤爫⺥爫⺦丬⺧牛⺨犭⺩王"
    "⺪𤴔⺫目⺬示⺭礻⺮𥫗⺯糹⺰纟⺱罓⺲罒⺳㓁⺴冗⺵𦉫⺶羊⺷𦍌⺸𦍋⺹耂⺺肀⺻聿⺼肉⺽𦥑"
    "⺾艹⺿艹⻀艹⻁虎⻂衤⻃覀⻄西⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻍辶⻎辶⻏邑⻐钅⻑長"
    "⻒镸⻓长⻔门⻕𨸏⻖阝⻗雨⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼"
    "⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟"
)
RADICALS: dict[str, str] = dict(zip(_SUPPLEMENT_PAIRS[::2], _SUPPLEMENT_PAIRS[1::2], strict=True))
# Kangxi Radicals (U+2F00–U+2FD5): NFKC maps each to its unified ideograph; folded here too so that text
# stored without NFKC (the readable text of a document) reads the same.
RADICALS.update({chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0x2F00, 0x2FD6)})
_RADICAL_TABLE = str.maketrans(RADICALS)
_RADICAL_RE = re.compile("[\u2e81-\u2fd5]")


def fold_radicals(text: str) -> str:
    """Given text, return it with CJK radical code points (Radicals Supplement, Kangxi) replaced by the
    unified ideographs they stand for; text without any is returned as is (one regex scan)."""
    if not _RADICAL_RE.search(text):
        return text
    return text.translate(_RADICAL_TABLE)


def fold_extracted(ex: Extracted) -> Extracted:
    """Given a reader's Extracted, return it with radicals folded in its text, title hint and every cell
    (the stored text is what readers and search see: it must read 民, not ⺠)."""
    ex.text = fold_radicals(ex.text)
    if ex.title_hint:
        ex.title_hint = fold_radicals(ex.title_hint)
    for row in ex.rows:
        for cell in row:
            if cell.text:
                cell.text = fold_radicals(cell.text)
    return ex


_OFFICE_PREFIX_RE = re.compile(r"^(?:Microsoft\s+(?:Word|Excel)\s*-\s*|WPS\s*文字\s*-\s*)", re.IGNORECASE)
_FILE_EXT_RE = re.compile(r"\.(?:docx?|wps|pdf|xlsx?|rtf)$", re.IGNORECASE)


def document_title(title: str | None, text: str) -> str | None:
    """Given a file's own title property (PDF /Title, DOCX core title) and its readable text, return it as a
    title hint only when it can be trusted: printed in the text (whitespace ignored), or the text is too short
    to hold a title (a scan); `Microsoft Word - ` and a file extension are dropped. Else None: a property
    copied from a template or another file must not outrank the title the document prints."""
    if not title:
        return None
    t = _FILE_EXT_RE.sub("", _OFFICE_PREFIX_RE.sub("", clean_space(title))).strip()
    if not t:
        return None
    flat = _WS_RE.sub("", nfkc(text[:6000]))
    if len(flat) < 200 or _WS_RE.sub("", t) in flat:
        return t
    return None


def nfkc(text: str) -> str:
    """Given text, return its NFKC form with CJK radicals folded to unified ideographs (before any matching)."""
    return unicodedata.normalize("NFKC", fold_radicals(text))


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
    if len(t) > MAX_NUMBER_DIGITS and sum(ch.isdigit() for ch in t) > MAX_NUMBER_DIGITS:
        return None, "unknown", None
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
    """Given a matched number (at most MAX_NUMBER_DIGITS digits), return it as an int, or a float if it has a
    decimal point."""
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
