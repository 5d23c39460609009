"""Figures render from plain data, with Chinese class names and no missing glyphs; the figures and
the summary's tables are the registry's, so a third task gets its own with no other change."""

import json
import warnings
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nndl.data import fashion_mnist, naming
from nndl.report import catalog, figures, fonts, plots, tables
from nndl.runs import names, outputs
from nndl.tasks.runspec import RunSpec
from nndl.tasks import registry
from nndl.tasks.types import IMPLS


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


def test_the_seed_figures_are_each_tasks_with_the_stems_and_sections_they_always_had():
    """The tasks so far keep their figures' stems (their files' names) and sections; a task added to
    the registry adds its own after them, and changes none of these."""
    so_far = ("linreg", "softmax", "mlp")
    assert [figure.stem for figure in catalog.SEED_FIGURES if figure.stem.split("-")[0] in so_far] == [
        "linreg-loss", "linreg-trajectory", "softmax-scratch-curves", "softmax-concise-curves", "softmax-comparison",
        "softmax-scratch-predictions", "softmax-concise-predictions", "softmax-scratch-confusion",
        "softmax-concise-confusion", "mlp-scratch-curves", "mlp-concise-curves", "mlp-comparison",
        "mlp-scratch-predictions", "mlp-concise-predictions", "mlp-scratch-confusion", "mlp-concise-confusion"]
    assert list(registry.TASKS)[:len(so_far)] == list(so_far)
    assert {figure.section for figure in catalog.SEED_FIGURES} == {task.heading for task in registry.TASKS.values()}
    assert catalog.in_section("Softmax regression")[0].title == "Softmax regression (scratch): training curves"
    assert catalog.SAMPLES.runs[:4] == ("softmax-scratch", "softmax-concise", "mlp-scratch", "mlp-concise")


MLP = registry.MLP
HIDDEN = {"mlp": {"num_hiddens": 256, "num_hiddens2": 0}}  # the settings a task has beyond softmax regression's


def classifier_run(folder: Path, task: str, impl: str, accuracy: float,
                   generate: dict | None = None) -> tuple[RunSpec, dict]:
    """A classifier's run of three epochs, its files written to `folder`: (its spec, {'history', 'metrics',
    'record'}); on the real images, or a generated stand-in's (`generate`: its size and seed)."""
    spec = RunSpec.from_json({**HIDDEN.get(task, {}),
        "name": f"{task}-{impl}-seed0", "task": task, "impl": impl, "seed": 0, "batch_size": 256, "learning_rate": 0.1,
        "epochs": 3, "init_std": 0.01, "init": "normal", "reduction": "mean", "shuffle": True, "formula": "stable",
        "pixel_scale": "1/255", "data": {"path": "fm", "manifest": "fm/manifest.json", "generate": generate}, "gates": {},
        "n_predictions": 10, "device": "cpu", "threads": 1, "dir": str(folder)})
    epochs = [{"epoch": e, "train/loss": 1 / e, "train/accuracy": 0.7 + e / 50, "test/loss": 1.1 / e,
               "test/accuracy": 0.7 + e / 60} for e in (1, 2, 3)]
    files = {"history": {"epochs": epochs, "untrained": {"untrained/test_accuracy": 0.1},
                         "seconds": {"train": 2.0, "evaluate": 0.1}},
             "metrics": {"test/loss": 0.55, "test/accuracy": accuracy, "confusion_matrix": np.eye(10, dtype=int).tolist(),
                         "per_class_accuracy": {name: 0.75 for name in fashion_mnist.CLASS_NAMES["en"]}},
             "predictions": predictions(10)}
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / f"{name}.json").write_text(json.dumps(content))
    return spec, {"history": files["history"], "metrics": files["metrics"], "record": SimpleNamespace(spec=spec)}


def test_a_third_classifier_gets_its_figures_section_and_tables_from_its_registry_entry(tmp_path, monkeypatch):
    assert [figure.stem for figure in catalog.task_figures(MLP)] == [
        "mlp-scratch-curves", "mlp-concise-curves", "mlp-comparison", "mlp-scratch-predictions",
        "mlp-concise-predictions", "mlp-scratch-confusion", "mlp-concise-confusion"]
    assert {figure.section for figure in catalog.task_figures(MLP)} == {"Multilayer perceptron"}
    made = {names.learner(task, impl): classifier_run(tmp_path / "runs" / task / impl, task, impl, accuracy)
            for task, accuracy in (("softmax", 0.75), ("mlp", 0.8)) for impl in IMPLS}
    for reader in ("history", "metrics", "predictions"):  # the files as written, without a record to check them by
        monkeypatch.setattr(outputs, f"read_{reader}", lambda folder, name=reader: json.loads(
            (Path(folder) / f"{name}.json").read_text()))
    monkeypatch.setattr(catalog, "SEED_FIGURES", catalog.task_figures(MLP))
    monkeypatch.chdir(tmp_path)
    manifest = figures.draw_seed([spec for spec, _ in made.values() if spec.task == "mlp"], 0, "en", ["png"])
    assert all(Path(path).is_file() for figure in manifest["figures"].values() for path in figure["files"])
    runs = {learner: run for learner, (_, run) in made.items()}
    assert tables.section_intro(MLP, runs).startswith(
        f'<h2 id="mlp">Multilayer perceptron on Fashion-MNIST</h2>\n\n{MLP.about}\n\nBatch size 256')
    classifier, baseline, book, per_class = tables.task_tables(MLP, runs)
    assert "untrained test accuracy" in classifier and "Trouser (裤子)" in per_class
    assert "softmax regression → multilayer perceptron" in baseline and "0.7500 → 0.8000 (+0.0500)" in baseline
    assert all(result.source in book for result in MLP.book) and "0.8372 / 0.8000" in book  # the book's, then ours


def test_the_book_table_puts_each_editions_numbers_beside_the_runs(tmp_path):
    runs = {names.learner("softmax", impl): classifier_run(tmp_path / impl, "softmax", impl, 0.75)[1] for impl in IMPLS}
    table = tables.book_table(registry.SOFTMAX, runs)
    rows = [line for line in table.splitlines() if line.startswith("| d2l")]
    assert len(rows) == len(registry.SOFTMAX.book) == 4
    assert "| d2l 0.17.5 | scratch | 0.4475 / 0.3333 | 0.8483 / 0.7600 | 0.8279 / 0.7500 |" in table
    assert "| d2l 1.0.3 | concise | - / 0.3333 | - / 0.7600 | 0.8354 / 0.7500 |" in table  # test accuracy only
    assert all(result.source in table for result in registry.SOFTMAX.book)


def test_the_generated_stand_in_is_named_as_such_and_never_set_beside_the_book(tmp_path):
    """The small config's images are generated: every title, caption, description and table names
    them so, none calls them Fashion-MNIST, and the book's numbers are not set beside theirs."""
    from nndl.data.stand_in import generate_stand_in
    from nndl.tracking.recording import describe_run

    stand_in = {"train": 20, "test": 5, "seed": 0}
    made = {names.learner(task, impl): classifier_run(tmp_path / "runs" / task / impl, task, impl, 1.0, stand_in)
            for task in ("softmax", "mlp") for impl in IMPLS}
    runs = {learner: run for learner, (_, run) in made.items()}
    spec, data = made["mlp-scratch"][0], made["mlp-scratch"][0].data
    intro = tables.section_intro(MLP, runs)
    assert intro.startswith('<h2 id="mlp">Multilayer perceptron on generated stand-in data</h2>\n')
    assert "each class is a random pattern plus noise" in intro and "Fashion-MNIST" not in intro
    book = tables.book_table(MLP, runs)
    assert "not comparable" in book and "1.0000" not in book and "/ here" not in book
    assert all(result.source in book for result in MLP.book) and "| 0.8372 |" in book  # the book's numbers alone
    samples = catalog.samples(data)
    assert samples.title == "Samples of generated stand-in data" and samples.stem == catalog.SAMPLES.stem
    assert "Fashion-MNIST" not in samples.title + samples.caption and "not photos of clothing" in samples.caption
    captions = catalog.write_captions(tmp_path / "captions", data)
    assert Path(captions[catalog.SAMPLES.stem]).read_text() == samples.caption + "\n"
    assert describe_run(spec).startswith("Multilayer perceptron on generated stand-in data (scratch), seed 0")
    generate_stand_in(tmp_path / "fm", 20, 5, 0)
    [png] = figures.draw_samples(replace(data, path=str(tmp_path / "fm")), tmp_path / "samples", "en", ["png"])
    assert png.is_file()
    # The real data keeps its name, and its runs stand beside the book.
    real = replace(data, generate=None)
    assert catalog.samples(real).title == "Samples of Fashion-MNIST" and naming.about(real) == ""
    assert "The first 18 training images of Fashion-MNIST with their class names" in catalog.samples(real).caption
