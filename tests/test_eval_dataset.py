"""The dataset loader: layout, --limit, options, and clear errors on malformed folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from chatocr.errors import DatasetError, OptionsError
from chatocr.eval.dataset import ground_truth_document, load_dataset

SHARED = Path("/work/shared/benchmarks")


def make_dataset(root: Path, docs: dict[str, dict[str, str]], absent: dict[str, list[str]] | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for doc_id, labels in docs.items():
        Image.new("RGB", (40, 20), "white").save(root / "images" / f"{doc_id}.png")
        (root / "labels" / f"{doc_id}.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    for doc_id, names in (absent or {}).items():
        (root / "absent").mkdir(exist_ok=True)
        (root / "absent" / f"{doc_id}.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
    return root


def test_loads_sorted_with_absent_and_limit(tmp_path: Path) -> None:
    root = make_dataset(
        tmp_path / "set",
        {"b": {"total": "2.00"}, "a": {"total": "1.00", "tel": ""}, "c": {"total": "3.00", "date": None}},  # type: ignore[dict-item]
        absent={"b": ["tel"]},
    )
    dataset = load_dataset(root)
    assert [item.id for item in dataset] == ["a", "b", "c"]
    assert dataset.total == 3
    a, b, c = dataset.items
    assert a.labels == {"total": "1.00"} and a.absent == {"tel"}  # an empty label means absent
    assert b.absent == {"tel"}
    assert c.absent == {"date"}
    assert b.field_names == ["total", "tel"]
    assert a.image.name == "a.png"
    limited = load_dataset(root, limit=2)
    assert [item.id for item in limited] == ["a", "b"]
    assert limited.total == 3


def test_image_without_label_names_the_file(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "set", {"a": {"x": "1"}})
    Image.new("RGB", (10, 10)).save(root / "images" / "orphan.jpg")
    with pytest.raises(DatasetError, match=r"orphan\.jpg.*no label file.*orphan\.json"):
        load_dataset(root)


def test_label_without_image_names_the_file(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "set", {"a": {"x": "1"}})
    (root / "labels" / "ghost.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"ghost\.json: has no document"):
        load_dataset(root)


def test_bad_json_names_the_file_and_line(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "set", {"a": {"x": "1"}, "b": {"x": "2"}})
    (root / "labels" / "b.json").write_text('{\n "x": "2",\n}', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"b\.json: bad JSON at line 3"):
        load_dataset(root)


@pytest.mark.parametrize("content", ['["a", "b"]', '{"x": {"nested": 1}}', '{"x": ["a"]}', '{"x": true}'])
def test_label_must_be_a_flat_object(tmp_path: Path, content: str) -> None:
    root = make_dataset(tmp_path / "set", {"a": {"x": "1"}})
    (root / "labels" / "a.json").write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=r"a\.json"):
        load_dataset(root)


def test_bad_absent_files(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "set", {"a": {"x": "1"}}, absent={"a": ["x"]})
    with pytest.raises(DatasetError, match=r"absent.*a\.json: lists x as absent"):
        load_dataset(root)
    (root / "absent" / "a.json").write_text('{"y": 1}', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"a\.json: an absent file must hold a JSON list"):
        load_dataset(root)


def test_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such dataset folder"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "empty" / "images").mkdir(parents=True)
    with pytest.raises(DatasetError, match="needs images/ and labels/"):
        load_dataset(tmp_path / "empty")
    (tmp_path / "empty" / "labels").mkdir()
    with pytest.raises(DatasetError, match="holds no documents"):
        load_dataset(tmp_path / "empty")
    root = make_dataset(tmp_path / "set", {"a": {"x": "1"}})
    with pytest.raises(OptionsError, match="--limit must be at least 1"):
        load_dataset(root, limit=0)
    (root / "images" / "notes.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"notes\.txt: not an image"):
        load_dataset(root)


def test_options_from_presets_and_dataset_json(tmp_path: Path) -> None:
    wild = make_dataset(tmp_path / "wildreceipt", {"a": {"x": "1"}})
    assert load_dataset(wild).options.match.ignore_whitespace is True
    plain = make_dataset(tmp_path / "plain", {"a": {"x": "1"}})
    assert load_dataset(plain).options.match.ignore_whitespace is False
    (plain / "dataset.json").write_text('{"ignore_punctuation": true, "missing_is_absent": true}', encoding="utf-8")
    options = load_dataset(plain).options
    assert options.match.ignore_punctuation is True and options.missing_is_absent is True
    (plain / "dataset.json").write_text('{"ignore_case": true}', encoding="utf-8")
    with pytest.raises(DatasetError, match="unknown option"):
        load_dataset(plain)


@pytest.mark.skipif(not (SHARED / "sroie").is_dir(), reason="shared benchmark data not available at /work/shared")
def test_shared_benchmarks_load() -> None:
    sroie = load_dataset(SHARED / "sroie")
    assert len(sroie) == 100
    assert all(set(item.labels) == {"company", "date", "address", "total"} for item in sroie)
    funsd = load_dataset(SHARED / "funsd", limit=5)
    assert len(funsd) == 5 and funsd.total == 149
    assert funsd.options.match.ignore_whitespace
    assert [item.id for item in funsd] == sorted(item.id for item in funsd)
    assert load_dataset(SHARED / "wildreceipt", limit=1).options.match.ignore_whitespace
    assert load_dataset(SHARED / "kleister_nda", limit=1).options.missing_is_absent


def test_ground_truth_document(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "set", {"a": {"total": "1.00"}, "b": {"total": "2.00"}})
    (root / "ocr").mkdir()
    lines = [
        {"box": [10, 50, 90, 50, 90, 60, 10, 60], "text": "TOTAL 1.00"},  # quadrilateral
        {"box": [10, 5, 90, 15], "text": "SHOP"},  # x0, y0, x1, y1
        {"box": [10, 30, 20, 35], "text": "  "},  # blank: dropped
    ]
    (root / "ocr" / "a.json").write_text(json.dumps(lines), encoding="utf-8")
    document = ground_truth_document(root / "images" / "a.png")
    page = document.pages[0]
    assert (page.width, page.height) == (40, 20)  # the image's size
    assert [line.text for line in page.lines] == ["SHOP", "TOTAL 1.00"]  # reading order
    assert page.lines[0].box == [[10, 5], [90, 5], [90, 15], [10, 15]]
    with pytest.raises(DatasetError, match=r"ocr.*b\.json: no ground-truth OCR"):
        ground_truth_document(root / "images" / "b.png")
    (root / "ocr" / "b.json").write_text('[{"box": [1, 2, 3], "text": "x"}]', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"b\.json: entry 1 needs"):
        ground_truth_document(root / "images" / "b.png")


@pytest.mark.skipif(not (SHARED / "sroie").is_dir(), reason="shared benchmark data not available at /work/shared")
def test_ground_truth_document_of_shared_sets() -> None:
    sroie = ground_truth_document(SHARED / "sroie" / "images" / "train_020.jpg")
    assert "SYL ROASTED DELIGHTS SDN. BHD." in sroie.to_text()
    funsd = ground_truth_document(SHARED / "funsd" / "images" / "0000971160.png")
    assert any(line.text == "Suggestion:" for line in funsd.pages[0].lines)


def test_a_first_ocr_read_equals_the_cached_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OCR cache rounds boxes and confidences: the first read returns the document as cached, so training
    from nothing gives the same rows (and model) as training from a warm cache."""
    from chatocr import pipeline
    from chatocr.document import Document, Line, Page, box_from_rect
    from chatocr.eval.ocr_cache import cached_ocr

    calls = []

    def fake_ocr(source: str, options: object, name: str | None = None) -> Document:
        calls.append(source)
        line = Line(text="TOTAL 9.00", box=box_from_rect(10.123, 20.456, 80.789, 30.01), confidence=0.987654321)
        return Document(file=name, pages=[Page(page=1, width=100, height=50, lines=[line])])

    monkeypatch.setattr(pipeline, "run_ocr", fake_ocr)
    image = tmp_path / "r.png"
    Image.new("RGB", (100, 50), "white").save(image)
    first, _ = cached_ocr("set", "r", image, root=tmp_path / "cache")
    second, _ = cached_ocr("set", "r", image, root=tmp_path / "cache")
    assert len(calls) == 1
    assert first == second
    assert first.pages[0].lines[0].confidence == 0.9877


def test_an_image_regenerated_under_the_same_id_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A synthetic set regenerated with other code keeps its ids: the cache must not hand back the old
    image's OCR, and reads the same bytes only once."""
    from chatocr import pipeline
    from chatocr.document import Document, Line, Page, box_from_rect
    from chatocr.eval.ocr_cache import cached_ocr

    calls = []

    def fake_ocr(source: str, options: object, name: str | None = None) -> Document:
        calls.append(source)
        width = Image.open(source).width
        line = Line(text=f"WIDTH {width}", box=box_from_rect(1, 1, 20, 10), confidence=0.9)
        return Document(file=name, pages=[Page(page=1, width=width, height=50, lines=[line])])

    monkeypatch.setattr(pipeline, "run_ocr", fake_ocr)
    image = tmp_path / "r.png"
    Image.new("RGB", (100, 50), "white").save(image)
    assert cached_ocr("set", "r", image, root=tmp_path / "cache")[0].pages[0].lines[0].text == "WIDTH 100"
    Image.new("RGB", (120, 50), "white").save(image)
    assert cached_ocr("set", "r", image, root=tmp_path / "cache")[0].pages[0].lines[0].text == "WIDTH 120"
    assert cached_ocr("set", "r", image, root=tmp_path / "cache")[0].pages[0].lines[0].text == "WIDTH 120"
    assert len(calls) == 2
