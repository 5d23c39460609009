"""How reports, captions and MLflow descriptions name a run's data, by what the data is: the small
config's generated stand-in is not called Fashion-MNIST. Words only: kept out of the training code
(nndl.runs.code.TRAINING_CODE), so rewording a name retrains nothing.
"""

from __future__ import annotations

from nndl.data.sources import SYNTHETIC, FashionData, SyntheticData

STAND_IN = "generated stand-in data"


def display_name(data: SyntheticData | FashionData) -> str:
    """'synthetic data', 'Fashion-MNIST', or for the generated stand-in a name of its own."""
    if data.kind == SYNTHETIC:
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
