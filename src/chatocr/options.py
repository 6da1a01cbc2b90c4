"""The one options model shared by the Python API, the CLI, the server and the UI.

Every section forbids unknown keys, so a misspelled option is an error rather than
a silently ignored default.  ``Options.create(**overrides)`` accepts dotted keys
(``"ocr.engine"``) or section dicts, and turns pydantic's complaints into
:class:`~chatocr.errors.OptionsError`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatocr.errors import OptionsError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Limits(_Section):
    """Budgets for every input, each checked before the expensive work it guards (see docs/errors.md).

    ``max_file_mb`` also bounds what is read from a stream or a device (stdin, ``/dev/zero``).
    """

    max_megapixels: float = Field(180.0, gt=0, description="largest decoded image, in megapixels")
    max_pages: int = Field(500, gt=0, description="most pages (PDF pages or TIFF frames) per document")
    max_file_mb: float = Field(200.0, gt=0, description="largest input file, in MB")
    pdf_dpi: int = Field(200, ge=36, le=1200, description="render resolution for PDF pages that are not one scan")
    max_render_side: int = Field(4000, ge=256, description="longest side of a rendered PDF page, in pixels")
    max_document_megapixels: float = Field(
        2000.0,
        gt=0,
        description="pixels decoded or rendered per document, summed over its TIFF frames or PDF pages, in"
        " megapixels (checked from headers before any page is decoded; pages are decoded one at a time)",
    )
    max_pdf_page_content_mb: float = Field(
        64.0,
        gt=0,
        description="decompressed content streams (and form XObjects) of one PDF page, in MB; checked before"
        " pdfium parses the page, so a small PDF that inflates to gigabytes is refused",
    )
    max_fields: int = Field(200, ge=1, description="most fields one field list, schema or template may ask for")
    max_field_name_chars: int = Field(100, ge=1, description="longest field name, in characters")
    max_schema_kb: float = Field(256.0, gt=0, description="largest schema document (JSON or YAML), in KiB")
    max_schema_depth: int = Field(16, ge=4, description="deepest nesting of lists and mappings in a schema document")
    max_pattern_chars: int = Field(300, ge=1, description="longest `pattern` (regular expression) of a field")
    pattern_timeout_s: float = Field(
        0.05, gt=0, description="time bound for matching one value against a field's `pattern`"
    )


class OcrOptions(_Section):
    engine: str = Field("rapidocr", description="OCR engine name (see `chatocr engines`)")
    orientation: bool = Field(True, description="detect and undo 90/180/270 degree page rotation")
    pdf_text_layer: Literal["auto", "never"] = Field(
        "auto", description="auto: use a PDF page's embedded text when it has some; never: always render and OCR"
    )
    languages: list[str] = Field(default_factory=lambda: ["chi_sim", "eng"], description="languages (tesseract)")
    threads: int | None = Field(None, ge=1, description="CPU threads for the OCR engine; None means all cores")
    line_orientation: bool = Field(
        False,
        description="also classify each text line as upright or upside down (rapidocr's cls model); the page"
        " is already turned upright, and on short lines the classifier errs more often than it helps",
    )
    remove_seals: bool = Field(
        True, description="lift the red ink of stamps (印章) off the page before recognition; text under them stays"
    )
    memory_arena: bool = Field(
        True,
        description="keep onnxruntime's memory arena (rapidocr): pages 9-15% faster for about 280 MB more"
        " resident memory per engine",
    )
    limits: Limits = Field(default_factory=Limits)


class BackendOptions(_Section):
    name: str = Field("local", description="LLM backend (see `chatocr backends`)")
    model: str | None = Field(None, description="model inside the backend; None means the backend's default")
    base_url: str | None = Field(None, description="OpenAI-compatible server URL (openai backend)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    n_threads: int | None = Field(None, ge=1, description="CPU threads for local inference")
    n_ctx: int = Field(2048, ge=256, le=32768, description="context window in tokens (local backend)")
    context_tokens: int | None = Field(
        None,
        ge=512,
        le=1_048_576,
        description="the model's context window in tokens, which prompts are fitted to (generate strategy); "
        "None: what the server reports (vLLM's max_model_len), else the backend's own figure",
    )
    max_in_flight: int = Field(
        4,
        ge=1,
        le=256,
        description="most requests one backend has in flight to its server at once (openai), shared by every "
        "thread of the process; a GPU server batches concurrent requests, so more keeps it busy",
    )


class ExtractOptions(_Section):
    language: Literal["auto", "zh", "en"] = "auto"
    use_candidates: bool = Field(True, description="offer regex/layout candidates to the model")
    max_prompt_lines: int = Field(60, ge=5, description="most OCR lines sent per field group")
    strategy: Literal["auto", "learned", "generate", "hybrid", "model", "rules"] = Field(
        "auto",
        description="learned: the trained reader scores every proposal (no language model); "
        "generate: the model reads the whole (line-numbered) text and writes every value, which chatocr "
        "grounds in the OCR text; "
        "hybrid: take a decisive candidate, ask the model otherwise; model: always ask; "
        "rules: the hand-set candidate ranking, never ask; "
        "auto: generate on the openai and transformers backends, learned on local (hybrid when a local "
        "model is chosen explicitly)",
    )
    reader_model: str | None = Field(
        None, description="folder holding a reader model (reader.txt + reader.json); default: the shipped one"
    )
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="learned strategy: answer null below this confidence (default: the model's learned threshold; "
        "lower it when the asked fields are known to be printed, raise it when a wrong value costs more than none)",
    )
    max_candidates: int = Field(6, ge=1, le=20, description="most candidates offered to the model per field")


class Options(_Section):
    ocr: OcrOptions = Field(default_factory=OcrOptions)
    backend: BackendOptions = Field(default_factory=BackendOptions)
    extract: ExtractOptions = Field(default_factory=ExtractOptions)

    @classmethod
    def create(cls, base: Options | None = None, **overrides: Any) -> Options:
        """Build options from a base plus overrides such as ``ocr__engine="tesseract"``
        or ``{"ocr": {"engine": ...}}``; unknown or invalid keys raise OptionsError."""
        data: dict[str, Any] = (base or cls()).model_dump()
        for key, value in overrides.items():
            if value is None:
                continue
            parts = key.replace("__", ".").split(".")
            node = data
            for part in parts[:-1]:
                if part not in node or not isinstance(node[part], dict):
                    raise OptionsError(f"unknown option section {part!r} in {key!r}")
                node = node[part]
            if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
                node[parts[-1]].update(value)
            else:
                node[parts[-1]] = value
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
            raise OptionsError(f"invalid options: {problems}") from None
