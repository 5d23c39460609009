"""Find a font that has Chinese glyphs, so the notes' class names (T恤, 裤子, ...) render as text."""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

# Families known to cover the simplified Chinese class names, in order of preference.
CJK_FAMILIES = [
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
    "Noto Sans CJK JP", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN",
]
# Where Debian's font packages put them; used when matplotlib's font cache predates the install.
FONT_FOLDERS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
FILE_HINTS = ("wqy", "notosanscjk", "notosanssc", "sourcehansans", "simhei", "uming", "msyh")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK font, registering font files matplotlib has not seen."""
    from matplotlib import font_manager

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for folder in FONT_FOLDERS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in (".ttf", ".ttc", ".otf") and any(
                hint in path.name.lower().replace("-", "").replace("_", "") for hint in FILE_HINTS
            ):
                font_manager.fontManager.addfont(str(path))
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in known), None)


@lru_cache(maxsize=2)
def label_language(requested: str) -> str:
    """`requested` ('zh' or 'en'), or 'en' with one warning when no CJK font is installed."""
    if requested == "zh" and cjk_font() is None:
        warnings.warn(
            "figures.labels is 'zh' but no CJK font is installed; using English class names. "
            "Install one (sudo apt-get install fonts-wqy-microhei) to get the Chinese names.",
            stacklevel=2,
        )
        return "en"
    return requested
