"""Find the system CJK and Latin fonts the generator renders with.

Documents are drawn with the Debian font packages (fonts-noto-cjk, fonts-wqy-microhei,
fonts-wqy-zenhei, fonts-arphic-ukai/uming, fonts-liberation, fonts-dejavu).  Nothing is
downloaded.  Fonts are chosen by *role* (serif, sans, kai, ...) so a layout says what it
wants and the document's seed picks one of the installed faces for that role.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from chatocr.errors import MissingDependencyError

FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
INSTALL_HINT = "install fonts-noto-cjk fonts-wqy-microhei fonts-arphic-ukai fonts-liberation (apt-get install ...)"


@dataclass(frozen=True)
class Face:
    """One font face inside a font file (TrueType collections hold several)."""

    path: str
    index: int
    name: str


# role -> candidate faces as (file name, face index in the collection, display name).
# Chinese roles need CJK coverage; the "latin" roles are for English receipts.
_CANDIDATES: dict[str, list[tuple[str, int, str]]] = {
    "serif": [("NotoSerifCJK-Regular.ttc", 2, "Noto Serif CJK SC"), ("uming.ttc", 0, "AR PL UMing CN")],
    "serif_bold": [("NotoSerifCJK-Bold.ttc", 2, "Noto Serif CJK SC Bold")],
    "sans": [
        ("NotoSansCJK-Regular.ttc", 2, "Noto Sans CJK SC"),
        ("wqy-microhei.ttc", 0, "WenQuanYi Micro Hei"),
        ("wqy-zenhei.ttc", 0, "WenQuanYi Zen Hei"),
    ],
    "sans_bold": [("NotoSansCJK-Bold.ttc", 2, "Noto Sans CJK SC Bold")],
    "kai": [("ukai.ttc", 0, "AR PL UKai CN")],
    "mono": [
        ("NotoSansCJK-Regular.ttc", 7, "Noto Sans Mono CJK SC"),
        ("wqy-microhei.ttc", 1, "WenQuanYi Micro Hei Mono"),
    ],
    "latin": [("LiberationSans-Regular.ttf", 0, "Liberation Sans"), ("DejaVuSans.ttf", 0, "DejaVu Sans")],
    "latin_bold": [
        ("LiberationSans-Bold.ttf", 0, "Liberation Sans Bold"),
        ("DejaVuSans-Bold.ttf", 0, "DejaVu Sans Bold"),
    ],
    "latin_mono": [("LiberationMono-Regular.ttf", 0, "Liberation Mono"), ("DejaVuSansMono.ttf", 0, "DejaVu Sans Mono")],
}

# When a role has no installed face, fall back along this chain (a bold serif can stand in
# for a missing bold serif face, any CJK face for any CJK role).
_FALLBACK: dict[str, list[str]] = {
    "serif": ["sans"],
    "serif_bold": ["sans_bold", "serif", "sans"],
    "sans": ["serif"],
    "sans_bold": ["serif_bold", "sans", "serif"],
    "kai": ["serif", "sans"],
    "mono": ["sans", "serif"],
    "latin": ["sans"],
    "latin_bold": ["latin", "sans_bold", "sans"],
    "latin_mono": ["latin", "mono", "sans"],
}


def _font_dirs() -> list[Path]:
    extra = os.environ.get("CHATOCR_FONT_DIRS", "")
    return [Path(p) for p in extra.split(os.pathsep) if p] + FONT_DIRS


@lru_cache(maxsize=1)
def _installed_files() -> dict[str, str]:
    """File name -> full path of every font file under the font folders (first one wins)."""
    found: dict[str, str] = {}
    for folder in _font_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in {".ttf", ".ttc", ".otf"}:
                found.setdefault(path.name, str(path))
    return found


class FontBook:
    """The installed faces per role; ``font(role, size)`` returns a cached PIL font."""

    def __init__(self) -> None:
        files = _installed_files()
        self.faces: dict[str, list[Face]] = {}
        for role, candidates in _CANDIDATES.items():
            self.faces[role] = [Face(files[f], i, name) for f, i, name in candidates if f in files]
        if not any(self.faces[r] for r in ("serif", "sans", "serif_bold", "sans_bold", "kai")):
            raise MissingDependencyError(
                "no Chinese (CJK) font is installed for rendering synthetic documents", hint=INSTALL_HINT
            )

    def has(self, role: str) -> bool:
        return bool(self.faces.get(role))

    def faces_for(self, role: str) -> list[Face]:
        if self.faces.get(role):
            return self.faces[role]
        for other in _FALLBACK.get(role, []):
            if self.faces.get(other):
                return self.faces[other]
        raise MissingDependencyError(f"no installed font can render the {role!r} role", hint=INSTALL_HINT)

    def pick(self, role: str, rng: random.Random) -> Face:
        """One installed face for ``role``, chosen by the document's random generator."""
        return rng.choice(self.faces_for(role))

    def first(self, role: str) -> Face:
        return self.faces_for(role)[0]


def load(face: Face, size: int) -> ImageFont.FreeTypeFont:
    return _load(face.path, face.index, max(6, int(size)))


@lru_cache(maxsize=512)
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


@lru_cache(maxsize=1)
def font_book() -> FontBook:
    """The process-wide font book (scanning font folders once)."""
    return FontBook()
