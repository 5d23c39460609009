import json

import numpy as np
import torch

from nndl.data import synthetic
from nndl.learn import evaluation

SPEC = {"true_w": [2.0, -3.4], "true_b": 4.2, "n_train": 1000, "n_test": 200, "noise_std": 0.01, "seed": 0}


def make(seed=0):
    return synthetic.make_dataset(SPEC["true_w"], SPEC["true_b"], SPEC["n_train"], SPEC["n_test"],
                                  SPEC["noise_std"], seed)


def test_shapes_and_truth():
    data = make()
    assert data["X_train"].shape == (1000, 2) and data["y_train"].shape == (1000, 1)
    assert data["X_test"].shape == (200, 2)
    assert data["X_train"].dtype == np.float32
    assert np.array_equal(data["true_w"], np.array([2.0, -3.4], dtype=np.float32))


def test_noise_level_matches_the_model():
    data = make()
    residual = data["y_train"].reshape(-1) - (data["X_train"] @ data["true_w"] + np.float32(4.2))
    assert 0.008 < residual.std().item() < 0.012


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    for name, seed in [("a", 0), ("b", 0), ("c", 1)]:
        synthetic.save_dataset(make(seed), tmp_path / f"{name}.npz", tmp_path / f"{name}.json", SPEC)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "c.npz").read_bytes()
    description = json.loads((tmp_path / "a.json").read_text())
    assert description["shapes"]["X_train"] == [1000, 2] and len(description["arrays_sha256"]) == 64
    loaded = synthetic.load_dataset(tmp_path / "a.npz")
    assert np.array_equal(loaded["X_train"], make()["X_train"]) and loaded["true_b"].tolist() == [np.float32(4.2)]


def test_closed_form_recovers_the_truth():
    data = make()
    w, b = evaluation.closed_form(torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"]))
    assert torch.allclose(w, torch.from_numpy(data["true_w"]), atol=2e-3) and abs(b.item() - 4.2) < 2e-3


def test_polynomial_features_of_any_degree_share_one_draw_and_keep_the_first_columns():
    """d2l 4.4's data: x^i / i!, the labels from the truth's degree whatever the fit's; a fit of
    degree 1 sees the first column of the degree-19 one, the truth padded with zeros or cut."""
    truth = {"true_w": [1.2, -3.4, 5.6], "true_b": 5.0, "n_train": 100, "n_test": 100, "noise_std": 0.1, "seed": 0}
    fits = {degree: synthetic.dataset_from({**truth, "noise": "gaussian", "outliers": 0, "outlier_size": 10.0,
                                            "degree": degree}) for degree in (1, 3, 19)}
    x = fits[19]["X_train"][:, 0].astype(np.float64)
    assert np.allclose(fits[19]["X_train"][:, 3], x ** 4 / 24, rtol=1e-6)
    assert all(np.array_equal(fits[degree]["X_train"], fits[19]["X_train"][:, :degree]) for degree in (1, 3))
    assert all(np.array_equal(fits[degree]["y_test"], fits[19]["y_test"]) for degree in (1, 3))
    assert fits[1]["true_w"].tolist() == [np.float32(1.2)] and fits[19]["true_w"][3:].tolist() == [0.0] * 16
    residual = fits[3]["y_train"].reshape(-1) - (fits[3]["X_train"] @ fits[3]["true_w"] + np.float32(5.0))
    assert 0.07 < residual.std().item() < 0.13
