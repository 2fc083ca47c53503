"""One error family. Library code raises these; only the CLI turns them into `Error: ...`.

Every message says what to do next.
"""

from __future__ import annotations


class TastemakerError(Exception):
    """Base of every error a user can act on; the CLI prints it as one line and exits 1."""


class StoreError(TastemakerError):
    """The store file cannot be opened or is not a tastemaker store."""


class SchemaTooNew(StoreError):
    """The store was written by a newer tastemaker than this one."""


class IngestError(TastemakerError):
    """A file could not be imported; the store is left exactly as it was."""


class UnknownFormat(IngestError):
    """The import format named on the command line does not exist."""


class UnknownListener(TastemakerError):
    """No listener of that name is in the store."""


class UnknownArtist(TastemakerError):
    """No artist of that name is in the store."""


class UnknownTag(TastemakerError):
    """No artist in the store carries that tag."""


class InvalidTerms(TastemakerError):
    """A term was given a value outside its range, or a term that does not exist."""


class ModelMissing(TastemakerError):
    """No trained model exists for this store yet."""


class ModelStale(TastemakerError):
    """The newest model was trained on data that has since been forgotten or changed."""


class BundleError(TastemakerError):
    """A saved model bundle is torn, tampered with, or not a tastemaker bundle."""


class ModelNotSaved(TastemakerError):
    """A trained model could not be written (a full disk, a read-only models folder)."""


class UnsafeArchive(IngestError):
    """A zip that is refused as suspicious (too many files, paths leading outside it)."""


class ExportTooLarge(IngestError):
    """A file inside an export is larger than tastemaker will unpack (1 GiB)."""


class UnknownLayout(IngestError):
    """A file whose columns or shape match none of the layouts the reader knows."""


class NothingRead(IngestError):
    """Not one row of the file could be read in the named format (it is another format)."""


class InvalidForget(TastemakerError):
    """`forget` was asked for an impossible or ambiguous selection of listens."""


class NothingToTrain(TastemakerError):
    """The store holds no listens a model could learn from."""


class BadArgument(TastemakerError):
    """A library call was given a value it does not accept; the message names what it takes."""


class ModelConfigError(BadArgument):
    """A model setting has the wrong type or is out of range."""


class UnknownModel(BadArgument):
    """No model of that name is registered."""


class UnknownSplit(BadArgument):
    """No evaluation split of that name exists."""


class NotFitted(TastemakerError):
    """A model was asked for scores before it was fitted or loaded."""


class TooLittleData(NothingToTrain):
    """The listening is too thin for the chosen model (for example no artist with 2 listeners)."""


class TooBigForMemory(TastemakerError):
    """Training this store would need more memory than the budget allows (checked up front)."""


class DivergedFit(TastemakerError):
    """Training produced non-finite values; nothing was saved."""


class GraphFileError(BundleError):
    """A saved artist graph is missing, torn or not a tastemaker graph."""


class NothingToEvaluate(TastemakerError):
    """The store has too few listens to hold any out."""


class OutputError(TastemakerError):
    """A file the listener asked for (`-o`, `--html`) could not be written; none was left."""


class UnsafeOutput(OutputError):
    """The output path is a device, folder, FIFO or dangling link: only files are replaced."""


class ForgottenWhileTraining(TastemakerError):
    """Listens were forgotten while a model trained, so that model was discarded."""


class InvalidFeedback(TastemakerError):
    """A love, hate or skip that names no item, two items, or an unknown kind."""


class NoSuchFeedback(InvalidFeedback):
    """There is no feedback of that kind on that item to take back."""


class LibraryError(TastemakerError):
    """A music folder cannot be scanned as asked (it does not exist, or is not a folder)."""
