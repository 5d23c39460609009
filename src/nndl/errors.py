"""Errors a user can meet, each with a message that says what is wrong and how to fix it."""


class NndlError(Exception):
    """Base class: a problem with the user's input or environment, not a bug in nndl."""


class ConfigError(NndlError):
    """A config key is missing, misspelled or out of range."""


class DataError(NndlError):
    """A data file is missing, malformed or fails its checksum."""


class DeviceError(NndlError):
    """The configured device does not exist on this machine."""


class GateError(NndlError):
    """A trained model missed a quality gate."""


class DivergenceError(NndlError):
    """A loss became NaN or infinite during training."""


class DamagedFileError(NndlError):
    """A file the pipeline wrote can no longer be read (cut short, edited by hand)."""


class TrackingError(NndlError):
    """The MLflow store is damaged, or its server does not answer or keep up."""


class WriteError(NndlError):
    """A result could not be written: the disk is full, or the folder is not writable."""


class NumericsError(NndlError):
    """Portable numerics were asked for where torch already runs without them (nndl.numerics)."""
