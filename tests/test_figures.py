"""Figures render from plain data, with Chinese class names and no missing glyphs."""

import warnings

import numpy as np
import pytest

from nndl.data import fashion_mnist
from nndl.report import fonts, plots


def predictions(count=12):
    rng = np.random.default_rng(0)
    true = rng.integers(0, 10, count).tolist()
    predicted = [t if i % 4 else (t + 1) % 10 for i, t in enumerate(true)]
    return {"true": true, "predicted": predicted, "confidence": [0.9] * count,
            "images": rng.integers(0, 255, (count, 28, 28)).tolist()}


@pytest.mark.skipif(fonts.cjk_font() is None, reason="no CJK font (apt-get install fonts-wqy-microhei)")
def test_chinese_titles_render_without_missing_glyphs(tmp_path):
    names = fashion_mnist.CLASS_NAMES["zh"]
    plots.use_fonts("zh")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib reports a missing glyph as a UserWarning
        figure = plots.prediction_grid(predictions(), names)
        paths = plots.save(figure, tmp_path / "grid", ["png", "svg"])
        matrix = {"confusion_matrix": np.eye(10, dtype=int).tolist(), "test/accuracy": 1.0,
                  "per_class_accuracy": {name: 1.0 for name in fashion_mnist.CLASS_NAMES["en"]}}
        plots.save(plots.confusion_matrix(matrix, names, "测试"), tmp_path / "confusion", ["png"])
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)


def test_a_missing_glyph_would_be_caught():
    # The guard above is real: DejaVu Sans alone has no CJK glyphs and matplotlib warns.
    plots.use_fonts("en")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = plots.image_grid(np.zeros((1, 28, 28), dtype=np.uint8), ["短靴"], 1, 1)
        figure.canvas.draw()
        plots.save(figure, "unused", [])  # no formats: only closes the figure
    assert any("missing from font" in str(w.message) for w in caught)


def test_without_a_cjk_font_labels_fall_back_to_english_with_one_warning(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    fonts.label_language.cache_clear()
    try:
        with pytest.warns(UserWarning, match="no CJK font is installed; using English") as caught:
            assert fonts.label_language("zh") == "en"
            assert fonts.label_language("zh") == "en"
        assert len(caught) == 1
        assert fonts.label_language("en") == "en"
    finally:
        fonts.label_language.cache_clear()


def test_same_figure_same_svg(tmp_path):
    history = {"epochs": [{"epoch": e, "train/loss": 1 / e, "train/accuracy": 0.5 + e / 40,
                           "test/accuracy": 0.5 + e / 50} for e in range(1, 6)]}
    plots.use_fonts("en")
    plots.save(plots.training_curves(history, "a"), tmp_path / "one", ["svg"])
    plots.save(plots.training_curves(history, "a"), tmp_path / "two", ["svg"])
    assert (tmp_path / "one.svg").read_bytes() == (tmp_path / "two.svg").read_bytes()


def test_prediction_grid_marks_the_wrong_ones():
    plots.use_fonts("en")
    data = predictions(8)
    figure = plots.prediction_grid(data, fashion_mnist.CLASS_NAMES["en"], cols=4)
    wrong = sum(t != p for t, p in zip(data["true"], data["predicted"]))
    red_titles = [ax for ax in figure.axes if ax.title.get_color() == plots.WRONG]
    assert len(red_titles) == wrong == 2
    assert f"{wrong} wrong" in figure._suptitle.get_text()
