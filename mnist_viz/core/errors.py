"""The project's exceptions: each one names what went wrong in words a user can act on."""


class MnistVizError(Exception):
    """Base class for every error this project raises on purpose."""


class DataError(MnistVizError):
    """A data file is missing, malformed or inconsistent; nothing from it is used."""


class ImageError(MnistVizError):
    """An input could not be read as an image (not an image, corrupt, or too large)."""


class ImageBusyError(ImageError):
    """Too many large pictures are being read at this moment: try again in a few seconds."""


class BlankImageError(ImageError):
    """The input holds no ink to read: a blank canvas or an empty photo."""


class ModelCacheError(MnistVizError):
    """The cached model could not be read or written."""


class NoCachedModel(ModelCacheError):
    """There is no cached model of that name yet (a first run)."""
