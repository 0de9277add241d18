"""Shared fixtures for the document readers: generated DOCX/PDF/DOC/XLS reports, built once per session."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from . import builders as b

PDF_LAYOUTS = (*b.LAYOUTS, b.UNRULED)


def require_binary(name: str) -> str:
    """The path of a Debian binary the test needs: skip when it is missing, but FAIL when CI is set."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not installed (scripts/setup-system.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    attempts: list[object] = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"network touched: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture(scope="session")
def models() -> dict[str, b.ReportModel]:
    return {case: b.build_model(case) for case in b.table_cases()}


@pytest.fixture(scope="session")
def docx_files(models) -> dict[tuple[str, str], bytes]:
    """(case, layout) -> DOCX bytes; layout "nested" wraps table 三 in a one-cell layout table."""
    out = {}
    for case, model in models.items():
        for layout in PDF_LAYOUTS:
            out[(case, layout)] = b.build_docx(model, layout)
        out[(case, "nested")] = b.build_docx(model, "plain", nested=True)
    return out


@pytest.fixture(scope="session")
def pdf_files(docx_files, tmp_path_factory) -> dict[tuple[str, str], bytes]:
    """(case, layout) -> PDF bytes, converted by LibreOffice in one run (cached for the session)."""
    require_binary("soffice")
    sources = {f"{case}__{layout}.docx": data for (case, layout), data in docx_files.items()}
    converted = b.soffice_convert_many(sources, "pdf", tmp_path_factory.mktemp("pdf"))
    out = {}
    for name, data in converted.items():
        case, layout = Path(name).stem.split("__")
        out[(case, layout)] = data
    return out


@pytest.fixture(scope="session")
def legacy_files(models, tmp_path_factory) -> dict[str, bytes]:
    """001 as DOC (from DOCX) and as XLS (from an XLSX with merged cells), made by LibreOffice."""
    require_binary("soffice")
    tmp = tmp_path_factory.mktemp("legacy")
    model = models["001"]
    docs = b.soffice_convert_many({"r001.docx": b.build_docx(model, "plain")}, "doc", tmp / "doc")
    xls = b.soffice_convert_many({"r001.xlsx": b.build_xlsx(model)}, "xls", tmp / "xls")
    return {"doc": docs["r001.docx"], "xls": xls["r001.xlsx"]}
