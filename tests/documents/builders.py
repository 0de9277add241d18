"""Build report documents (DOCX, then PDF/DOC/XLS through LibreOffice) from the real fixtures' expected cells.

A fixture JSON (`tests/fixtures/real/NNN.json`) gives the hand-checked `expected_cells`. From them we
rebuild the official table structure (merged label cells, 3-row headers) as a small grid model, then
render the grid with python-docx (gridSpan / vMerge merges, text split into several runs) in one of
several layouts. LibreOffice turns those DOCX files into PDF, DOC and XLS inside the tests.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from crawler.parsers import keys

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"

T3_COL_LABELS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
T4_COL_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

LEAF_LABELS: dict[str, str] = {
    "t3.received_new": "一、本年新收政府信息公开申请数量",
    "t3.carried_in": "二、上年结转政府信息公开申请数量",
    "t3.outcome.granted": "（一）予以公开",
    "t3.outcome.partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "t3.outcome.withheld.state_secret": "1.属于国家秘密",
    "t3.outcome.withheld.law_prohibited": "2.其他法律行政法规禁止公开",
    "t3.outcome.withheld.security_stability": "3.危及“三安全一稳定”",
    "t3.outcome.withheld.third_party": "4.保护第三方合法权益",
    "t3.outcome.withheld.internal_affairs": "5.属于三类内部事务信息",
    "t3.outcome.withheld.process_info": "6.属于四类过程性信息",
    "t3.outcome.withheld.enforcement_file": "7.属于行政执法案卷",
    "t3.outcome.withheld.admin_query": "8.属于行政查询事项",
    "t3.outcome.unavailable.not_held": "1.本机关不掌握相关政府信息",
    "t3.outcome.unavailable.needs_creation": "2.没有现成信息需要另行制作",
    "t3.outcome.unavailable.unclear": "3.补正后申请内容仍不明确",
    "t3.outcome.not_processed.petition": "1.信访举报投诉类申请",
    "t3.outcome.not_processed.duplicate": "2.重复申请",
    "t3.outcome.not_processed.publication": "3.要求提供公开出版物",
    "t3.outcome.not_processed.excessive": "4.无正当理由大量反复申请",
    "t3.outcome.not_processed.confirm_reissue": "5.要求行政机关确认或重新出具已获取信息",
    "t3.outcome.other.no_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "t3.outcome.other.unpaid_fee": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "t3.outcome.other.misc": "3.其他",
    "t3.outcome.other.sum": "（六）其他处理",
    "t3.outcome.total": "（七）总计",
    "t3.carried_out": "四、结转下年度继续办理",
}
GROUPS: tuple[tuple[str, str], ...] = (
    ("t3.outcome.withheld.", "（三）不予公开"),
    ("t3.outcome.unavailable.", "（四）无法提供"),
    ("t3.outcome.not_processed.", "（五）不予处理"),
    ("t3.outcome.other.", "（六）其他处理"),
)
SECTIONS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)


@dataclass(slots=True)
class GridCell:
    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass(slots=True)
class Grid:
    name: str
    n_cols: int
    n_rows: int
    header_rows: int
    cells: list[GridCell] = field(default_factory=list)
    data_rows: dict[str, int] = field(default_factory=dict)  # row key -> grid row


@dataclass(slots=True)
class ReportModel:
    case: str
    fmt: str
    title: str
    agency: str
    year: int
    expected: dict[str, int | float | None]
    overview: str
    t2: Grid
    t3: Grid
    t4: Grid


# --- the model ------------------------------------------------------------------------------------------


def load_fixture(case: str) -> dict:
    return json.loads((REAL / f"{case}.json").read_text(encoding="utf-8"))


def table_cases() -> list[str]:
    """Real fixtures that carry table 三/四 cells (gov2019 / gov2021)."""
    return [p.stem for p in sorted(REAL.glob("*.json")) if load_fixture(p.stem).get("expected_cells")]


def _printed(key: str, value: int | float | None, blanks: set[str]) -> str:
    if key in blanks:
        return ""
    if value is None:
        return ""
    return str(value)


def build_t3(fmt: str, expected: dict, blanks: set[str]) -> Grid:
    rows = keys.T3_ROWS[fmt]
    grid = Grid("t3", n_cols=10, n_rows=3 + len(rows), header_rows=3)
    add = grid.cells.append
    add(GridCell(0, 0, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3))
    add(GridCell(0, 3, "申请人情况", 1, 7))
    add(GridCell(1, 3, "自然人", 2, 1))
    add(GridCell(1, 4, "法人或其他组织", 1, 5))
    add(GridCell(1, 9, "总计", 2, 1))
    for i, label in enumerate(T3_COL_LABELS):
        add(GridCell(2, 4 + i, label))
    outcome_rows = [r for r in rows if r.startswith("t3.outcome.")]
    r0 = 3
    for i, row_key in enumerate(rows):
        r = r0 + i
        grid.data_rows[row_key] = r
        if not row_key.startswith("t3.outcome."):
            add(GridCell(r, 0, LEAF_LABELS[row_key], 1, 3))
        else:
            if row_key == outcome_rows[0]:
                add(GridCell(r, 0, "三、本年度办理结果", len(outcome_rows), 1))
            group = next((g for g in GROUPS if row_key.startswith(g[0]) and row_key != "t3.outcome.other.sum"), None)
            if group is None:
                add(GridCell(r, 1, LEAF_LABELS[row_key], 1, 2))
            else:
                members = [k for k in rows if k.startswith(group[0])]
                if row_key == members[0]:
                    add(GridCell(r, 1, group[1], len(members), 1))
                add(GridCell(r, 2, LEAF_LABELS[row_key]))
        for j, col in enumerate(keys.T3_COLS):
            key = f"{row_key}.{col}"
            add(GridCell(r, 3 + j, _printed(key, expected.get(key), blanks)))
    return grid


def build_t4(expected: dict, blanks: set[str]) -> Grid:
    grid = Grid("t4", n_cols=15, n_rows=4, header_rows=3)
    add = grid.cells.append
    add(GridCell(0, 0, "行政复议", 1, 5))
    add(GridCell(0, 5, "行政诉讼", 1, 10))
    for i, label in enumerate(T4_COL_LABELS):
        add(GridCell(1, i, label, 2, 1))
    add(GridCell(1, 5, "未经复议直接起诉", 1, 5))
    add(GridCell(1, 10, "复议后起诉", 1, 5))
    for k in range(2):
        for i, label in enumerate(T4_COL_LABELS):
            add(GridCell(2, 5 + 5 * k + i, label))
    for i, key in enumerate(keys.T4_KEYS):
        add(GridCell(3, i, _printed(key, expected.get(key), blanks)))
    grid.data_rows["t4"] = 3
    return grid


def _t2_value(v: object) -> str:
    return "" if v is None or isinstance(v, dict) else str(v)


def build_t2(fmt: str, printed: dict | None) -> Grid:
    printed = printed or {}

    def get(label: str) -> object:
        for k, v in printed.items():
            if k.split(" ")[0].split("(")[0] == label:
                return v
        return None

    blocks: list[tuple[str, list[str], list[tuple[str, list[str]]]]]
    if fmt == "gov2021":
        h1 = ["本年制发件数", "本年废止件数", "现行有效件数"]
        reg, norm = get("规章") or {}, get("行政规范性文件") or get("规范性文件") or {}
        norm_label = "规范性文件" if any(k.startswith("规范性文件") for k in printed) else "行政规范性文件"
        blocks = [
            ("第二十条第（一）项", h1, [("规章", [_t2_value(reg.get(h)) for h in h1]),
                                   (norm_label, [_t2_value(norm.get(h)) for h in h1])]),
            ("第二十条第（五）项", ["本年处理决定数量"], [("行政许可", [_t2_value(get("行政许可"))])]),
            ("第二十条第（六）项", ["本年处理决定数量"],
             [("行政处罚", [_t2_value(get("行政处罚"))]), ("行政强制", [_t2_value(get("行政强制"))])]),
            ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("行政事业性收费", [_t2_value(get("行政事业性收费"))])]),
        ]
    else:
        h1 = ["本年新制作数量", "本年新公开数量", "对外公开总数量"]
        h5 = ["上一年项目数量", "本年增/减", "处理决定数量"]

        def vals(label: str, heads: list[str]) -> list[str]:
            v = get(label)
            return [_t2_value(v.get(h)) if isinstance(v, dict) else "" for h in heads]

        blocks = [
            ("第二十条第（一）项", h1, [("规章", vals("规章", h1)), ("规范性文件", vals("规范性文件", h1))]),
            ("第二十条第（五）项", h5, [("行政许可", vals("行政许可", h5)),
                                   ("其他对外管理服务事项", vals("其他对外管理服务事项", h5))]),
            ("第二十条第（六）项", h5, [("行政处罚", vals("行政处罚", h5)), ("行政强制", vals("行政强制", h5))]),
            ("第二十条第（八）项", h5[:2], [("行政事业性收费", vals("行政事业性收费", h5[:2]))]),
            ("第二十条第（九）项", ["采购项目数量", "采购总金额"],
             [("政府集中采购", vals("政府集中采购", ["采购项目数量", "采购总金额"]))]),
        ]
    grid = Grid("t2", n_cols=4, n_rows=0, header_rows=0)
    r = 0
    for caption, heads, body in blocks:
        grid.cells.append(GridCell(r, 0, caption, 1, 4))
        r += 1
        for line in [("信息内容", heads), *body]:
            label, cells = line
            grid.cells.append(GridCell(r, 0, label))
            spans = _spans(len(cells))
            c = 1
            for text, span in zip(cells, spans, strict=True):
                grid.cells.append(GridCell(r, c, text, 1, span))
                c += span
            r += 1
    grid.n_rows = r
    return grid


def _spans(n: int) -> list[int]:
    return {1: [3], 2: [1, 2], 3: [1, 1, 1]}[n]


def build_model(case: str) -> ReportModel:
    fx = load_fixture(case)
    fmt = fx["format"]
    expected = fx["expected_cells"]
    blanks = set(fx.get("printed_blank_or_dash") or []) | set(fx.get("derived_from_blank") or [])
    blanks = {k for k in blanks if expected.get(k) in (0, None) or k in set(fx.get("derived_from_blank") or [])}
    title = f"{fx['agency']}{fx['year']}年政府信息公开工作年度报告"
    overview = (
        f"本报告根据《中华人民共和国政府信息公开条例》要求，由{fx['agency']}编制。"
        f"报告所列数据的统计期限自{fx['year']}年1月1日起至{fx['year']}年12月31日止。"
    )
    return ReportModel(
        case=case,
        fmt=fmt,
        title=title,
        agency=fx["agency"],
        year=fx["year"],
        expected=expected,
        overview=overview,
        t2=build_t2(fmt, fx.get("section2_as_printed")),
        t3=build_t3(fmt, expected, blanks),
        t4=build_t4(expected, blanks),
    )


# --- DOCX rendering -------------------------------------------------------------------------------------

LAYOUTS = ("plain", "page_per_table", "split_t3", "split_t3_repeat", "landscape", "narrow")
# no ruling lines: the PDF reader falls back to the positional page text
UNRULED = "unruled"


def _set_cell_text(cell, text: str, *, split_runs: bool) -> None:  # type: ignore[no-untyped-def]
    para = cell.paragraphs[0]
    if not text:
        return
    if split_runs and len(text) > 1:
        mid = len(text) // 2
        parts = [text[:mid], text[mid:]]
    else:
        parts = [text]
    for part in parts:
        run = para.add_run(part)
        run.font.size = Pt(9)


def _mark_header(row) -> None:  # type: ignore[no-untyped-def]
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _set_borders(table) -> None:  # type: ignore[no-untyped-def]
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)


def render_grid(container, grid: Grid, *, layout: str, split_runs: bool = True):  # type: ignore[no-untyped-def]
    """Add `grid` as a table to a python-docx container (document or cell), merging cells as printed."""
    table = container.add_table(rows=grid.n_rows, cols=grid.n_cols)
    if layout != UNRULED:
        _set_borders(table)
    table.autofit = False
    if layout == "narrow" and grid.name == "t3":
        widths = [Cm(1.0), Cm(1.3), Cm(1.6)] + [Cm(1.3)] * 7
        for row in table.rows:
            for w, cell in zip(widths, row.cells, strict=True):
                cell.width = w
    proxies = table._cells  # python-docx recomputes this list on every table.cell() call: once is enough
    n = grid.n_cols
    for gc in grid.cells:  # merged rectangles never overlap, so the cached proxies stay valid
        cell = proxies[gc.row * n + gc.col]
        if gc.rowspan > 1 or gc.colspan > 1:
            cell = cell.merge(proxies[(gc.row + gc.rowspan - 1) * n + gc.col + gc.colspan - 1])
        _set_cell_text(cell, gc.text, split_runs=split_runs)
    if layout == "split_t3_repeat":
        for i in range(grid.header_rows):
            _mark_header(table.rows[i])
    return table


def _page_break(doc) -> None:  # type: ignore[no-untyped-def]
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


FILLER = (
    "本机关坚持以公开为常态、不公开为例外，持续推进决策、执行、管理、服务、结果公开，"
    "进一步完善政府信息公开工作机制，提升公开质量和实效。"
)


def build_docx(model: ReportModel, layout: str = "plain", *, nested: bool = False, image: bytes | None = None) -> bytes:
    """Render the model as a DOCX in a layout (see LAYOUTS)."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Noto Sans CJK SC"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
    section = doc.sections[0]
    if layout == "landscape":
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    section.header.paragraphs[0].text = f"{model.agency}政府信息公开"
    section.footer.paragraphs[0].text = "第 1 页"
    doc.add_heading(model.title, level=1)
    doc.add_paragraph(SECTIONS[0])
    doc.add_paragraph(model.overview)
    doc.add_paragraph(SECTIONS[1])
    if layout == "page_per_table":
        _page_break(doc)
    render_grid(doc, model.t2, layout=layout)
    doc.add_paragraph(SECTIONS[2])
    if layout == "page_per_table":
        _page_break(doc)
    elif layout in ("split_t3", "split_t3_repeat"):
        for _ in range(14):
            doc.add_paragraph(FILLER)
    if nested:
        outer = doc.add_table(rows=1, cols=1)
        cell = outer.cell(0, 0)
        cell.paragraphs[0].add_run("表三")
        render_grid(cell, model.t3, layout=layout)
    else:
        render_grid(doc, model.t3, layout=layout)
    doc.add_paragraph(SECTIONS[3])
    if layout == "page_per_table":
        _page_break(doc)
    render_grid(doc, model.t4, layout=layout)
    if image is not None:
        doc.add_picture(io.BytesIO(image), width=Cm(4))
    doc.add_paragraph(SECTIONS[4])
    doc.add_paragraph("存在的问题：" + FILLER)
    doc.add_paragraph(SECTIONS[5])
    doc.add_paragraph("本年度未收取信息处理费。")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def build_image_only_docx(title: str, image: bytes) -> bytes:
    """A report whose tables are pictures: a title and images, no tables."""
    doc = Document()
    doc.add_heading(title, level=1)
    for _ in range(3):
        doc.add_picture(io.BytesIO(image), width=Cm(15))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- LibreOffice helpers for the tests (library code uses crawler.parsers.office) -----------------------


def soffice_convert_many(sources: dict[str, bytes], target: str, out_dir: Path, timeout: float = 240) -> dict[str, bytes]:
    """Convert several files in one soffice run (much faster than one run per file)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise FileNotFoundError("soffice")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ogi-fixture-") as tmp:
        tmpdir = Path(tmp)
        inputs = []
        for name, data in sources.items():
            p = tmpdir / name
            p.write_bytes(data)
            inputs.append(str(p))
        profile = (tmpdir / "profile").as_uri()
        subprocess.run(
            [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", target,
             "--outdir", str(out_dir), *inputs],
            check=True, capture_output=True, timeout=timeout,
        )
    result = {}
    for name in sources:
        stem = Path(name).stem
        produced = out_dir / f"{stem}.{target.split(':')[0]}"
        if produced.exists():
            result[name] = produced.read_bytes()
    return result


# --- checking extracted rows against the model -------------------------------------------------------------


def _norm(text: str) -> str:
    return "".join(text.split())


def printed_value(model: ReportModel, key: str) -> str:
    grid = model.t4 if key.startswith("t4.") else model.t3
    if key.startswith("t4."):
        r, c = 3, keys.T4_KEYS.index(key)
    else:
        row_key, col = key.rsplit(".", 1)
        r, c = grid.data_rows[row_key], 3 + keys.T3_COLS.index(col)
    return next(g.text for g in grid.cells if g.row == r and g.col == c)


def row_mismatches(rows: list, model: ReportModel) -> list[str]:
    """Compare intake rows (``Extracted.rows``) with the model: every table 三 data row in order with its
    leaf label and its 7 printed values in grid columns 3–9, and the 15 table 四 numbers in columns 0–14."""
    problems: list[str] = []
    texts = [[_norm(c.text) for c in row] for row in rows]
    start = next((i for i, t in enumerate(texts) if "申请人情况" in t), None)
    if start is None:
        return ["table 三 header not found"]
    i = start + 1
    for row_key in keys.T3_ROWS[model.fmt]:
        label = _norm(LEAF_LABELS[row_key])
        while i < len(rows) and not any(label == _norm(c.text) and not c.copy for c in rows[i]):
            i += 1
        if i >= len(rows):
            problems.append(f"{row_key}: row with label {label!r} not found")
            i = start + 1
            continue
        context = {_norm(c.text) for c in rows[i]}
        group = next((g for prefix, g in GROUPS if row_key.startswith(prefix) and row_key != "t3.outcome.other.sum"), None)
        if group is not None and _norm(group) not in context:
            problems.append(f"{row_key}: group label {group!r} not carried to the row")
        if row_key.startswith("t3.outcome.") and "三、本年度办理结果" not in context:
            problems.append(f"{row_key}: 三、本年度办理结果 not carried to the row")
        values = {c.col: c.text for c in rows[i] if not c.copy and c.col is not None and c.col >= 3}
        for j, col in enumerate(keys.T3_COLS):
            key = f"{row_key}.{col}"
            want = printed_value(model, key)
            got = values.get(3 + j)
            if got is None or _norm(got) != want:
                problems.append(f"{key}: got {got!r}, want {want!r}")
        i += 1
    t4 = next((k for k in range(len(rows)) if "复议后起诉" in texts[k]), None)
    if t4 is None:
        return [*problems, "table 四 header not found"]
    data = next((rows[k] for k in range(t4 + 1, len(rows)) if len([c for c in rows[k] if not c.copy]) == 15
                 and "结果维持" not in texts[k]), None)
    if data is None:
        return [*problems, "table 四 data row not found"]
    for j, key in enumerate(keys.T4_KEYS):
        cell = next((c for c in data if c.col == j and not c.copy), None)
        want = printed_value(model, key)
        if cell is None or _norm(cell.text) != want:
            problems.append(f"{key}: got {cell and cell.text!r}, want {want!r}")
    return problems


# --- XLSX rendering (openpyxl, merged ranges) ------------------------------------------------------------


def build_xlsx(model: ReportModel) -> bytes:
    """All three tables on one sheet, one below the other, with the printed merges."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "报告"
    ws.cell(1, 1, model.title)
    r0 = 3
    for heading, grid in ((SECTIONS[1], model.t2), (SECTIONS[2], model.t3), (SECTIONS[3], model.t4)):
        ws.cell(r0, 1, heading)
        r0 += 1
        for gc in grid.cells:
            cell = ws.cell(r0 + gc.row, 1 + gc.col)
            if gc.text:
                cell.value = int(gc.text) if gc.text.isdigit() else gc.text
            if gc.rowspan > 1 or gc.colspan > 1:
                ws.merge_cells(start_row=r0 + gc.row, start_column=1 + gc.col,
                               end_row=r0 + gc.row + gc.rowspan - 1, end_column=gc.col + gc.colspan)
        r0 += grid.n_rows + 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def expected_mismatches(report, model: ReportModel) -> list[str]:  # type: ignore[no-untyped-def]
    """Every expected cell of the fixture against the parsed Report."""
    return [
        f"{k}: got {report.value(k)!r} ({report.cells[k].path if k in report.cells else 'missing'}), want {v!r}"
        for k, v in model.expected.items()
        if report.value(k) != v or k not in report.cells
    ]
