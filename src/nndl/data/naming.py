"""How reports, captions and MLflow descriptions name a run's data, by what the data is: the small
config's generated stand-in is not called Fashion-MNIST; and how MLflow names its test split. Kept
out of the training code (nndl.runs.code.TRAINING_CODE), so rewording a name retrains nothing.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import fields

from nndl.data.fashion_mnist import FILES
from nndl.data.sources import FashionData, SyntheticData, SyntheticSettings
from nndl.files import read_json

STAND_IN = "generated stand-in data"


def display_name(data: SyntheticData | FashionData) -> str:
    """'synthetic data', 'Fashion-MNIST', or for the generated stand-in a name of its own."""
    if isinstance(data, SyntheticData):  # a kind made as the synthetic data is, its own block aside
        return "synthetic data"
    return STAND_IN if data.stand_in else "Fashion-MNIST"


def titled(heading: str, data: SyntheticData | FashionData) -> str:
    """'Softmax regression on Fashion-MNIST': a task's heading and the data its runs trained on."""
    return f"{heading} on {display_name(data)}"


def about(data: SyntheticData | FashionData) -> str:
    """A sentence saying what the stand-in is, where it is shown ('' for any other data)."""
    if not data.stand_in:
        return ""
    return (f"The images are generated (data.fashion_mnist.generate: {data.generate['train']} training and "
            f"{data.generate['test']} test images, seed {data.generate['seed']}): each class is a random pattern "
            "plus noise, named with the notes' class names but not photos of clothing, so numbers trained on "
            "them are not comparable with the book's.")


def vector_text(values: list[float]) -> str:
    """A vector as a report prints it: '[2.0, -3.4]', or one value repeated said once, '[0.01] × 200'."""
    if len(values) > 4 and len(set(values)) == 1:
        return f"[{values[0]}] × {len(values)}"
    return str(list(values))


def described(data: SyntheticData | FashionData) -> str:
    """What a run's data is, as its report section says it: a generated set's truth, size and noise,
    with the keys its kind adds to the synthetic ones (`degree: 3`); the stand-in's `about`; '' for
    Fashion-MNIST."""
    if not isinstance(data, SyntheticData):
        return about(data)
    settings = data.settings
    added = [f"{item.name}: {getattr(settings, item.name)}" for item in fields(settings)
             if item.name not in {base.name for base in fields(SyntheticSettings)}]
    return (f"True w = {vector_text(settings.true_w)}, b = {settings.true_b}, {settings.n_train} training examples "
            f"with noise of standard deviation {settings.noise_std}{'; ' + ', '.join(added) if added else ''}.")


def test_split_identity(data: SyntheticData | FashionData, whole: dict[str, str]) -> dict[str, str]:
    """{'name', 'digest', 'source'} of the test split, MLflow's dataset in the context 'testing'
    beside `whole` (nndl.data.tensors.dataset_identity: the whole data set, in the context
    'training', whose digest is part of each run's key and so stays as it is). The digest is the
    test split's own: the checksums of Fashion-MNIST's two test files, or of the synthetic arrays'
    X_test and y_test as stored."""
    digest = hashlib.sha256()
    if isinstance(data, SyntheticData):
        with zipfile.ZipFile(data.path) as archive:
            for member in ("X_test.npy", "y_test.npy"):
                digest.update(archive.read(member))
    else:
        manifest = read_json(data.manifest)
        for key in ("test_images", "test_labels"):
            digest.update(manifest[f"{FILES[key].name}.gz"]["sha256_decompressed"].encode())
    return {"name": f"{whole['name']}-test", "digest": digest.hexdigest()[:16], "source": whole["source"]}
