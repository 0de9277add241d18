"""Renderers for synthetic reports: one :class:`~ogi.demo.synth.SynthReport` into the layouts portals publish.

:func:`render` writes ``official_html``, ``word_html``, ``tsv_text``, ``pdf_text`` or ``markdown_text`` (the
layouts are described in :mod:`ogi.demo.synth`); the grid model below is shared by all of them.
"""

from __future__ import annotations

import html
import random
import zlib
from dataclasses import dataclass

from crawler.parsers.keys import T3_C6, T3_COLS, T3_ROWS, T4_COLS, T4_GROUPS
from ogi.demo.synth import (
    GBK_ONLY_PLACES,
    LAYOUTS,
    SECTION_TITLES,
    T2_BLOCKS,
    T3_COL_LABELS,
    T3_LABELS,
    T3_NOTE,
    T3_TOP_OUTCOME,
    T4_COL_LABELS,
    SynthReport,
    cell_text,
)

# --- layout model ------------------------------------------------------------------------------------------


@dataclass
class _GCell:
    text: str
    col: int
    colspan: int = 1
    rowspan: int = 1
    header: bool = False
    key: str | None = None  # value cell key


def _t2_grid(report: SynthReport, layout: str) -> list[list[_GCell]]:
    rows: list[list[_GCell]] = []
    for caption, headers, labels, cols in T2_BLOCKS[report.fmt]:
        rows.append([_GCell(caption, 0, 4, header=True)])
        spans = _t2_spans(len(headers))
        hdr = [_GCell("信息内容", 0, header=True)]
        col = 1
        for h, s in zip(headers, spans, strict=True):
            hdr.append(_GCell(h, col, s, header=True))
            col += s
        rows.append(hdr)
        for label, rkey in labels:
            row = [_GCell(label, 0)]
            col = 1
            for ckey, s in zip(cols, spans, strict=True):
                key = f"{rkey}.{ckey}"
                row.append(_GCell(cell_text(report, key, layout), col, s, key=key))
                col += s
            rows.append(row)
    return rows


def _t2_spans(n: int) -> tuple[int, ...]:
    return {1: (3,), 2: (1, 2), 3: (1, 1, 1)}[n]


def _t3_header() -> list[list[_GCell]]:
    return [
        [_GCell(T3_NOTE, 0, 3, 3, header=True), _GCell("申请人情况", 3, 7, header=True)],
        [
            _GCell("自然人", 3, 1, 2, header=True),
            _GCell("法人或其他组织", 4, 5, header=True),
            _GCell("总计", 9, 1, 2, header=True),
        ],
        [_GCell(T3_COL_LABELS[c], 4 + i, header=True) for i, c in enumerate(T3_C6[1:])],
    ]


def _t3_label_cells(fmt: str) -> list[tuple[str, list[_GCell]]]:
    """(row key, label cells starting in that row) for every data row of table 三."""
    rows = T3_ROWS[fmt]
    n_outcome = sum(1 for r in rows if r.startswith("t3.outcome."))
    group_sizes: dict[str, int] = {}
    for r in rows:
        g = T3_LABELS[r][0]
        if g:
            group_sizes[g] = group_sizes.get(g, 0) + 1
    out: list[tuple[str, list[_GCell]]] = []
    seen_groups: set[str] = set()
    for r in rows:
        group, label = T3_LABELS[r]
        cells: list[_GCell] = []
        if r in ("t3.received_new", "t3.carried_in", "t3.carried_out"):
            cells.append(_GCell(label, 0, 3))
        else:
            if r == "t3.outcome.granted":
                cells.append(_GCell(T3_TOP_OUTCOME, 0, 1, n_outcome))
            if group is None:
                cells.append(_GCell(label, 1, 2))
            else:
                if group not in seen_groups:
                    seen_groups.add(group)
                    cells.append(_GCell(group, 1, 1, group_sizes[group]))
                cells.append(_GCell(label, 2))
        out.append((r, cells))
    return out


def _t3_grid(report: SynthReport, layout: str) -> list[list[_GCell]]:
    grid = _t3_header()
    for r, labels in _t3_label_cells(report.fmt):
        row = list(labels)
        for i, c in enumerate(T3_COLS):
            key = f"{r}.{c}"
            row.append(_GCell(cell_text(report, key, layout), 3 + i, key=key))
        grid.append(row)
    return grid


def _t4_grid(report: SynthReport, layout: str) -> list[list[_GCell]]:
    r1 = [_GCell("行政复议", 0, 5, header=True), _GCell("行政诉讼", 5, 10, header=True)]
    r2 = [_GCell(T4_COL_LABELS[c], i, 1, 2, header=True) for i, c in enumerate(T4_COLS)]
    r2 += [_GCell("未经复议直接起诉", 5, 5, header=True), _GCell("复议后起诉", 10, 5, header=True)]
    r3 = [
        _GCell(T4_COL_LABELS[c], 5 + j * 5 + i, header=True) for j in range(2) for i, c in enumerate(T4_COLS)
    ]
    r4 = []
    for j, g in enumerate(T4_GROUPS):
        for i, c in enumerate(T4_COLS):
            key = f"{g}.{c}"
            r4.append(_GCell(cell_text(report, key, layout), j * 5 + i, key=key))
    return [r1, r2, r3, r4]


def _preface(report: SynthReport) -> list[str]:
    y = report.year
    basis = "本报告由本机关根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制"
    if report.scope == "aggregate":
        basis = f"本报告根据《中华人民共和国政府信息公开条例》要求，由{report.agency}汇总全市各级行政机关政府信息公开工作情况编制而成"
    return [
        f"{basis}，全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
        "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
        f"本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。"
        f"如对本报告有疑问，请联系{report.agency}（地址：{GBK_ONLY_PLACES[y % 3]}政务服务中心{y % 17 + 1}号楼，"
        f"电话：0391-{8000000 + (y * 37) % 999999}）。",
    ]


_TABLE_AFTER = {"s2.proactive": "t2", "s3.requests": "t3", "s4.review_litigation": "t4"}


def _blocks(report: SynthReport) -> list[tuple[str, str]]:
    """The document as (kind, payload) blocks: title, meta, para, heading, table."""
    out: list[tuple[str, str]] = [("title", report.title), ("meta", f"发布日期：{report.published}")]
    out += [("para", p) for p in _preface(report)]
    for skey, heading in SECTION_TITLES.items():
        out.append(("heading", heading))
        body = report.sections.get(skey, "")
        out += [("para", p) for p in body.split("\n") if p]
        if skey in _TABLE_AFTER:
            out.append(("table", _TABLE_AFTER[skey]))
    return out


def _grid(report: SynthReport, table: str, layout: str) -> list[list[_GCell]]:
    if table == "t2":
        return _t2_grid(report, layout)
    if table == "t3":
        return _t3_grid(report, layout)
    return _t4_grid(report, layout)


_NCOLS = {"t2": 4, "t3": 10, "t4": 15}


# --- renderers ----------------------------------------------------------------------------------------------


def _esc(s: str) -> str:
    return html.escape(s, quote=False)


def _render_official_html(report: SynthReport, rng: random.Random, charset: str) -> str:
    parts = [
        "<!DOCTYPE html>\n<html>\n<head>\n",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n',
        f"<title>{_esc(report.title)}</title>\n</head>\n<body>\n",
        '<div class="header"><a href="/">首页</a> &gt; <a href="/zfxxgk/">政府信息公开</a> &gt; 年度报告</div>\n',
        '<div class="article">\n',
    ]
    for kind, payload in _blocks(report):
        if kind == "title":
            parts.append(f'<h1 class="title">{_esc(payload)}</h1>\n')
        elif kind == "meta":
            parts.append(
                f'<div class="info"><span>{_esc(payload)}</span> <span>来源：{_esc(report.agency)}</span></div>\n'
            )
        elif kind == "heading":
            parts.append(f"<p><strong>{_esc(payload)}</strong></p>\n")
        elif kind == "para":
            parts.append(f'<p style="text-indent:2em">{_esc(payload)}</p>\n')
        else:
            parts.append(_html_table(_grid(report, payload, "official_html")))
    parts.append('</div>\n<div class="footer">主办：' + _esc(report.agency) + "</div>\n</body>\n</html>\n")
    return "".join(parts)


def _span_attrs(c: _GCell) -> str:
    a = ""
    if c.colspan > 1:
        a += f' colspan="{c.colspan}"'
    if c.rowspan > 1:
        a += f' rowspan="{c.rowspan}"'
    return a


def _html_table(grid: list[list[_GCell]]) -> str:
    out = ['<table border="1" cellspacing="0" cellpadding="0" style="border-collapse:collapse">\n<tbody>\n']
    for row in grid:
        out.append("<tr>")
        for c in row:
            out.append(f'<td{_span_attrs(c)}><p align="center">{_esc(c.text)}</p></td>')
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


_WORD_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset={charset}">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<title>{title}</title>
<!--[if gte mso 9]><xml><w:WordDocument><w:View>Print</w:View></w:WordDocument></xml><![endif]-->
<style>
<!--
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{{margin:0cm;text-align:justify;font-size:10.5pt;font-family:等线;}}
table.MsoNormalTable {{mso-style-name:普通表格;}}
-->
</style>
</head>
<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>
<div class=WordSection1 style='layout-grid:15.6pt'>
"""


def _word_split(rng: random.Random, text: str, *, br: bool = False) -> str:
    """Split a label into <span> runs (and maybe a <br>), as Word does."""
    if len(text) < 4:
        return f"<span style='font-family:宋体'>{_esc(text)}</span>"
    cuts = sorted(rng.sample(range(1, len(text)), k=min(2, len(text) - 1)))
    pieces = [text[: cuts[0]], text[cuts[0] : cuts[1]], text[cuts[1] :]]
    runs = []
    for i, p in enumerate(pieces):
        lang = " lang=EN-US" if any(ch.isdigit() for ch in p) else ""
        runs.append(
            f"<span{lang} style='font-size:10.0pt;font-family:宋体;mso-bidi-font-family:宋体'>{_esc(p)}</span>"
        )
        if br and i == 0:
            runs.append("<br>\n")
    return "".join(runs)


def _word_cell(rng: random.Random, c: _GCell) -> str:
    width = 60 * c.colspan
    attrs = f" width={width} valign=middle{_span_attrs(c).replace(chr(34), '')}"
    style = " style='border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'"
    if c.key is not None:
        if c.text:
            inner = f"<span lang=EN-US style='font-size:10.0pt'>{_esc(c.text)}<o:p></o:p></span>"
        else:
            inner = "<span lang=EN-US style='font-size:10.0pt'><o:p>&nbsp;</o:p></span>"
    else:
        text = c.text
        if text.startswith(("结果", "其他结果", "尚未")) and len(text) == 4 and rng.random() < 0.5:
            text = text[:2] + "\u00a0" + text[2:]
        inner = (
            _word_split(rng, text, br=c.header and len(text) >= 6 and rng.random() < 0.6)
            + "<span lang=EN-US><o:p></o:p></span>"
        )
    return f"<td{attrs}{style}><p class=MsoNormal align=center style='text-align:center'>{inner}</p></td>"


def _render_word_html(report: SynthReport, rng: random.Random, charset: str) -> str:
    parts = [_WORD_HEAD.format(charset=charset, title=_esc(report.title))]
    for kind, payload in _blocks(report):
        if kind == "title":
            parts.append(
                "<p class=MsoNormal align=center style='text-align:center'><b><span style='font-size:22.0pt;"
                f"font-family:方正小标宋简体'>{_esc(payload)}<span lang=EN-US><o:p></o:p></span></span></b></p>\n"
            )
        elif kind == "meta":
            parts.append(
                f"<p class=MsoNormal><span style='font-family:仿宋'>{_esc(payload)}<o:p></o:p></span></p>\n"
            )
        elif kind == "heading":
            parts.append(
                f"<p class=MsoNormal style='text-indent:32.0pt'><b><span style='font-family:黑体'>{_esc(payload)}"
                "<span lang=EN-US><o:p></o:p></span></span></b></p>\n"
            )
        elif kind == "para":
            parts.append(
                "<p class=MsoNormal style='text-indent:32.0pt;line-height:28.0pt'><span style='font-size:16.0pt;"
                f"font-family:仿宋_GB2312'>{_esc(payload)}<span lang=EN-US><o:p></o:p></span></span></p>\n"
            )
        else:
            grid = _grid(report, payload, "word_html")
            parts.append(
                "<div align=center><table class=MsoNormalTable border=0 cellspacing=0 cellpadding=0 "
                "style='border-collapse:collapse;mso-table-layout-alt:fixed;mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>\n"
            )
            for i, row in enumerate(grid):
                parts.append(f" <tr style='mso-yfti-irow:{i};height:20.0pt'>\n  ")
                parts.append("\n  ".join(_word_cell(rng, c) for c in row))
                parts.append("\n </tr>\n")
            parts.append("</table></div>\n<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>\n")
    parts.append("</div>\n</body>\n</html>\n")
    return "".join(parts)


def _flat_row(row: list[_GCell], ncols: int) -> list[str]:
    """A grid row as exactly-positioned cells (merged-cell residue left empty)."""
    cells = [""] * ncols
    for c in row:
        cells[c.col] = c.text
    return cells


def _tsv_row(rng: random.Random, row: list[_GCell], ncols: int, table: str) -> list[str]:
    """A grid row flattened the way the seed is: constant width, drifting leading empties."""
    cells = _flat_row(row, ncols)
    if table != "t3" or not any(c.key for c in row):
        return cells
    first_val = 3
    labels = cells[:first_val]
    values = cells[first_val:]
    mode = rng.choice(("grid", "grid", "shift1", "left", "left_gap"))
    if mode == "grid":
        return cells
    if mode == "shift1":
        # drop the last empty label slot (001: "一、…\t\t57…\t58\t")
        for i in range(len(labels) - 1, -1, -1):
            if not labels[i]:
                labels = labels[:i] + labels[i + 1 :]
                break
    else:
        labels = [t for t in labels if t]
        if mode == "left_gap":
            labels.append("")
    out = labels + values
    return out + [""] * (ncols - len(out))


def _render_tsv(report: SynthReport, rng: random.Random) -> str:
    lines: list[str] = [""]
    for kind, payload in _blocks(report):
        if kind == "title":
            lines.append(f"# {payload}")
        elif kind == "meta":
            lines.append(payload)
        elif kind == "heading":
            lines.append(f"{rng.choice(('##', '###', '####'))} {payload}")
        elif kind == "para":
            lines.append(payload)
        else:
            grid = _grid(report, payload, "tsv_text")
            n = _NCOLS[payload]
            if payload == "t3":
                lines.append(f"{T3_NOTE}\t\t申请人情况\t\t\t\t\t\t总计\t")
                lines.append("\t\t自然人\t法人或其他组织\t\t\t\t\t\t")
                lines.append("\t\t\t" + "\t".join(T3_COL_LABELS[c] for c in T3_C6[1:]) + "\t\t")
                body = grid[3:]
            elif payload == "t4":
                lines.append("行政复议\t\t\t\t\t行政诉讼" + "\t" * 9)
                hdr = ["结果 维持", "结果 纠正", "其他 结果", "尚未 审结", "总计"]
                lines.append("\t".join(hdr) + "\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t")
                lines.append("\t" * 5 + "\t".join(hdr + hdr))
                body = grid[3:]
            else:
                body = grid
            for row in body:
                lines.append("\t".join(_tsv_row(rng, row, n, payload)))
        lines.append("")
    return "\n".join(lines)


def _footer(page: int) -> str:
    return f"— {page} —"


def _wrap(text: str, width: int) -> list[str]:
    """Wrap a paragraph at about ``width`` characters, as PDF text does (never inside a digit run)."""
    out: list[str] = []
    while len(text) > width:
        cut = width
        while cut < len(text) and (text[cut - 1].isdigit() or text[cut - 1] == ".") and text[cut].isdigit():
            cut += 1
        out.append(text[:cut])
        text = text[cut:]
    if text:
        out.append(text)
    return out


def _render_pdf_text(report: SynthReport, rng: random.Random) -> str:
    lines: list[str] = []
    page = 1
    since_footer = 0

    def emit(line: str, *, in_table: bool = False) -> None:
        nonlocal page, since_footer
        lines.append(line)
        since_footer += 1
        limit = 9 if in_table else 14
        if since_footer >= limit and rng.random() < 0.35:
            lines.append(_footer(page))
            page += 1
            since_footer = 0

    for kind, payload in _blocks(report):
        if kind in ("title", "meta", "heading"):
            emit(payload)
        elif kind == "para":
            for line in _wrap(payload, 34):
                emit(line)
        else:
            grid = _grid(report, payload, "pdf_text")
            if payload == "t2":
                for row in grid:
                    texts = [c.text for c in row if c.text]
                    emit(" ".join(texts), in_table=True)
            elif payload == "t4":
                emit("行政复议 行政诉讼", in_table=True)
                emit("结果维持 结果纠正 其他结果 尚未审结 总计 未经复议直接起诉 复议后起诉", in_table=True)
                emit(" ".join(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2), in_table=True)
                emit(" ".join(c.text for c in grid[3]), in_table=True)
            else:
                emit(T3_NOTE, in_table=True)
                emit("申请人情况", in_table=True)
                emit("自然人 法人或其他组织 总计", in_table=True)
                emit(" ".join(T3_COL_LABELS[c] for c in T3_C6[1:]), in_table=True)
                for row in grid[3:]:
                    labels = [c.text for c in row if c.key is None]
                    values = " ".join(c.text for c in row if c.key is not None)
                    mode = rng.choice(("inline", "inline", "detached", "group_line"))
                    if mode == "group_line" and len(labels) > 1:
                        for lab in labels[:-1]:
                            emit(lab, in_table=True)
                        emit(f"{labels[-1]} {values}", in_table=True)
                    elif mode == "detached":
                        emit(" ".join(labels), in_table=True)
                        emit(values, in_table=True)
                    else:
                        emit(f"{' '.join(labels)} {values}", in_table=True)
    lines.append(_footer(page))
    return "\n".join(lines) + "\n"


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|")


def _render_markdown(report: SynthReport, rng: random.Random) -> str:
    lines: list[str] = []
    for kind, payload in _blocks(report):
        if kind == "title":
            lines.append(f"# {payload}")
        elif kind == "meta":
            lines.append(payload)
        elif kind == "heading":
            lines.append(f"## {payload}")
        elif kind == "para":
            lines.append(payload)
        else:
            grid = _grid(report, payload, "markdown_text")
            n = _NCOLS[payload]
            for i, row in enumerate(grid):
                cells = _flat_row(row, n)
                lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
                if i == 0:
                    lines.append("|" + "---|" * n)
        lines.append("")
    return "\n".join(lines)


def render(report: SynthReport, layout: str, *, encoding: str = "utf-8", seed: int | None = None) -> bytes:
    """The report as document bytes in ``layout`` (one of :data:`LAYOUTS`).

    ``encoding="gbk"`` (HTML layouts) declares ``charset=gb2312`` and encodes in GBK; characters outside
    GB2312 but inside GBK then occur in the page, as on real portals. ``seed`` fixes the layout's random
    choices (span splits, drift, detached labels, footers); by default they derive from the title.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown layout: {layout!r} (expected one of {LAYOUTS})")
    enc = encoding.lower().replace("-", "")
    if enc not in ("utf8", "gbk", "gb2312", "gb18030"):
        raise ValueError(f"Unsupported encoding: {encoding!r}")
    rng = random.Random(seed if seed is not None else zlib.crc32(f"{report.title}|{layout}".encode()))
    charset = "utf-8" if enc == "utf8" else "gb2312"
    if layout == "official_html":
        text = _render_official_html(report, rng, charset)
    elif layout == "word_html":
        text = _render_word_html(report, rng, charset)
    elif layout == "tsv_text":
        text = _render_tsv(report, rng)
    elif layout == "pdf_text":
        text = _render_pdf_text(report, rng)
    else:
        text = _render_markdown(report, rng)
    if enc == "utf8":
        return text.encode("utf-8")
    return text.encode("gbk" if enc != "gb18030" else "gb18030", errors="xmlcharrefreplace")
