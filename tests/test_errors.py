"""The error hierarchy: the documented table is current, codes are unique, and the CLI maps
each user error to its exit code with a one-line message and no traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from chatocr import errors
from chatocr.cli import _load_commands
from chatocr.cli.app import app

REPO_ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
_load_commands()


def test_docs_errors_md_holds_the_current_table() -> None:
    text = (REPO_ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    start, end = "<!-- error-table:start -->\n", "<!-- error-table:end -->"
    assert start in text and end in text
    documented = text.split(start, 1)[1].split(end, 1)[0]
    assert documented == errors.error_table_markdown(), "docs/errors.md is stale: paste the output of `chatocr errors`"


def test_chatocr_errors_prints_the_table() -> None:
    result = runner.invoke(app, ["errors"])
    assert result.exit_code == 0
    assert result.stdout == errors.error_table_markdown()


def test_codes_and_exit_codes_are_unique_and_usable() -> None:
    classes = errors.all_error_classes()
    assert len({cls.code for cls in classes}) == len(classes)
    assert len({cls.exit_code for cls in classes}) == len(classes)
    for cls in classes:
        assert 1 <= cls.exit_code < 126, cls  # shells reserve 126+
        assert 400 <= cls.http_status < 600, cls
        assert cls.summary and cls.code.replace("_", "").isalpha()


def test_input_problems_share_one_parent() -> None:
    for cls in (errors.UnsupportedFormatError, errors.EncryptedPdfError, errors.LimitExceededError):
        assert issubclass(cls, errors.InputFileError)


def test_message_and_hint_reach_the_json_record() -> None:
    error = errors.EncryptedPdfError("a.pdf: the PDF is password-protected", hint="remove the password")
    assert error.to_dict() == {
        "code": "encrypted_pdf",
        "message": "a.pdf: the PDF is password-protected (remove the password)",
    }


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) encrypts the test PDF")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("pw")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("case", "extra_args", "error_class"),
    [
        ("missing", [], errors.InputFileError),
        ("empty", [], errors.InputFileError),
        ("wrong_type", [], errors.UnsupportedFormatError),
        ("encrypted", [], errors.EncryptedPdfError),
        ("too_big", ["--max-megapixels", "0.001"], errors.LimitExceededError),
        ("png", ["--engine", "no-such-engine"], errors.OptionsError),
        ("png", ["--dpi", "5"], errors.OptionsError),
    ],
)
def test_cli_exit_code_matches_the_error_class(
    tmp_path: Path, case: str, extra_args: list[str], error_class: type[errors.ChatOCRError]
) -> None:
    path = tmp_path / f"{case}.bin"
    contents = {
        "empty": b"",
        "wrong_type": b"just some text\n",
        "too_big": _png(100, 100),
        "png": _png(10, 10),
    }
    if case == "encrypted":
        path.write_bytes(_encrypted_pdf())
    elif case in contents:
        path.write_bytes(contents[case])
    result = runner.invoke(app, ["ocr", str(path), "--no-orientation", *extra_args])
    assert result.exit_code == error_class.exit_code, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped exception
    assert f"[{error_class.code}]" in result.stderr
