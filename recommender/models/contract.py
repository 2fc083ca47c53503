"""The one shape every model has, its typed settings, and the registry that finds it by name.

Training, loading and evaluation all speak to a model through `Scorer`, which follows
scikit-learn's conventions:

- `Model(config)` only stores the (frozen, already validated) settings;
- `fit(interactions)` checks its input, learns, and returns the model itself; everything it
  learns is an attribute whose name ends in `_`;
- `score_rows(train, rows)` gives, for each listener row of `train` (listener x artist
  weights), one score per artist; a model that learns per-listener parameters uses the row
  number, a model that scores from history uses the row's weights;
- `to_arrays()` / `from_arrays(...)` move a fitted model in and out of a bundle as plain
  numbers (no pickle, nothing that runs code when loaded).

Bad input raises the library's errors only (`recommender.errors`), never a bare ValueError,
IndexError or a LAPACK message. A new model is one module with a config dataclass and a
`@register`ed `Scorer` subclass, imported in `recommender/models/__init__.py`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import numpy as np
import scipy.sparse as sp

from recommender.errors import (
    BadArgument,
    BundleError,
    ModelConfigError,
    NotFitted,
    NothingToTrain,
    UnknownModel,
)
from recommender.interactions import Interactions

# The seed of everything random in training (LightFM, the graph's community search) unless a
# model's settings name their own.
DEFAULT_SEED = 42
DEFAULT_THREADS = 2

_T = TypeVar("_T")


def setting(
    default: _T,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> _T:
    """A config field with its allowed range: `minimum`/`maximum` inclusive, `above` exclusive."""
    bounds = {"minimum": minimum, "maximum": maximum, "above": above}
    return dataclasses.field(default=default, metadata={"bounds": bounds})


class ModelConfig:
    """Base of every model's settings: a frozen dataclass whose fields are checked on creation.

    Integer fields take integers (not bools), float fields any finite real number (stored as
    float, so a saved config reads back identically); ranges come from `setting(...)`.
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for spec in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _checked(self, spec, hints[spec.name], getattr(self, spec.name))
            object.__setattr__(self, spec.name, value)

    @property
    def seed(self) -> int:
        """The seed training uses for this model (and for the graph built beside it)."""
        return DEFAULT_SEED

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values (what a bundle's manifest records)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Settings from a mapping (a manifest, JSON); unknown or bad keys are refused."""
        if not isinstance(values, Mapping):
            raise ModelConfigError(f"{cls.__name__} settings must be a mapping of name to value")
        known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ModelConfigError(
                f"unknown {cls.__name__} setting(s) {', '.join(map(str, unknown))}: "
                f"the settings are {', '.join(known)}"
            )
        return cls(**values)


def _checked(config: ModelConfig, spec: dataclasses.Field[Any], kind: Any, value: Any) -> Any:
    """`value` as the field's type, or ModelConfigError naming the field and its range."""
    label = f"{type(config).__name__}.{spec.name}"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ModelConfigError(f"{label} must be a whole number, not {value!r}")
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ModelConfigError(f"{label} must be a number, not {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ModelConfigError(f"{label} must be a finite number, not {value!r}")
    bounds = spec.metadata.get("bounds", {})
    low, high, above = bounds.get("minimum"), bounds.get("maximum"), bounds.get("above")
    if (
        (low is not None and value < low)
        or (high is not None and value > high)
        or (above is not None and value <= above)
    ):
        wanted = [
            f">= {low}" if low is not None else "",
            f"> {above}" if above is not None else "",
            f"<= {high}" if high is not None else "",
        ]
        allowed = " and ".join(w for w in wanted if w)
        raise ModelConfigError(f"{label} = {value!r} is out of range: it must be {allowed}")
    return value


C = TypeVar("C", bound=ModelConfig)


class RowScorer(Protocol):
    """Anything that scores listener rows; what evaluation needs from a model."""

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray: ...


class Scorer(ABC, Generic[C]):
    """A model: settings in, `fit` on interactions, scores out; see the module docstring."""

    name: ClassVar[str]  # the registry name (`tastemaker train --model NAME`)
    config_class: ClassVar[type[ModelConfig]]
    # Can `score_rows` rank a listener's unheard artist above the rest from their history?
    # (Most-popular cannot: it gives every listener the same list.)
    personal: ClassVar[bool] = True

    def __init__(self, config: C | None = None, *, num_threads: int = DEFAULT_THREADS) -> None:
        if config is None:
            config = typing.cast(C, self.config_class())
        if not isinstance(config, self.config_class):
            raise ModelConfigError(
                f"the {self.name} model takes a {self.config_class.__name__}, "
                f"not a {type(config).__name__}"
            )
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise BadArgument(
                f"num_threads must be a whole number of at least 1, not {num_threads!r}"
            )
        self.config: C = config
        self.num_threads = num_threads

    def get_params(self) -> dict[str, Any]:
        return self.config.as_dict()

    # -- fitting --------------------------------------------------------------------------

    def fit(self, interactions: Interactions) -> Self:
        """Learn from `interactions` (their `weights` are the model input); returns self."""
        if not isinstance(interactions, Interactions):
            raise BadArgument(
                "fit takes recommender.interactions.Interactions, "
                f"not {type(interactions).__name__}"
            )
        n_listeners, n_items = interactions.weights.shape
        if interactions.weights.nnz == 0:
            raise NothingToTrain("there are no listens to train on: import some history first")
        self.notes_: tuple[str, ...] = ()
        self._fit(interactions)
        self.n_listeners_ = int(n_listeners)
        self.n_items_ = int(n_items)
        return self

    @abstractmethod
    def _fit(self, interactions: Interactions) -> None:
        """Learn; may set `notes_` to say what was left out and why."""

    # -- scoring --------------------------------------------------------------------------

    def score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        """Scores (float32, len(rows) x artists) for the listeners at `rows` of `train`."""
        if not hasattr(self, "n_items_"):
            raise NotFitted(f"the {self.name} model has no scores yet: fit or load it first")
        if not sp.issparse(train) or train.ndim != 2 or train.shape[1] != self.n_items_:
            raise BadArgument(
                f"train must be a sparse listener x artist matrix with {self.n_items_} columns"
            )
        picked = np.asarray(rows)
        if picked.ndim != 1 or (picked.size and not np.issubdtype(picked.dtype, np.integer)):
            raise BadArgument("rows must be a one-dimensional array of listener row numbers")
        limit = min(train.shape[0], self._row_limit())
        if picked.size and (picked.min() < 0 or picked.max() >= limit):
            raise BadArgument(f"rows must lie in 0..{limit - 1}, the listeners the model knows")
        scores = self._score_rows(sp.csr_matrix(train), picked.astype(np.int64))
        return np.asarray(scores, dtype=np.float32)

    def _row_limit(self) -> int:
        """How many listener rows can be scored (models with per-listener parameters: theirs)."""
        return np.iinfo(np.int64).max

    @abstractmethod
    def _score_rows(self, train: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        """Scores for already-checked rows."""

    def artist_vectors(self) -> np.ndarray | None:
        """Artists as points in a learned space (one row per artist), or None without one."""
        return None

    # -- plain arrays in, plain arrays out (the bundle holds numbers only) -------------------

    @abstractmethod
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every learned number, by a name unique within the bundle."""

    @classmethod
    def from_arrays(
        cls,
        config: C,
        arrays: Mapping[str, np.ndarray],
        n_listeners: int,
        n_items: int,
        notes: tuple[str, ...] = (),
    ) -> Self:
        """A fitted model from `to_arrays()` output; BundleError when anything does not fit."""
        scorer = cls(config)
        scorer._load(arrays, n_listeners, n_items)
        scorer.notes_ = tuple(notes)
        scorer.n_listeners_ = int(n_listeners)
        scorer.n_items_ = int(n_items)
        return scorer

    @abstractmethod
    def _load(self, arrays: Mapping[str, np.ndarray], n_listeners: int, n_items: int) -> None:
        """Set the learned attributes from arrays, checking every shape and index."""


def array(arrays: Mapping[str, np.ndarray], name: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """`arrays[name]`, refused (BundleError) when missing or not of `shape` (None: any size)."""
    found = arrays.get(name)
    if found is None:
        raise BundleError(f"the {name} array is missing")
    if found.ndim != len(shape) or any(
        want is not None and have != want for have, want in zip(found.shape, shape, strict=True)
    ):
        raise BundleError(f"the {name} array has shape {found.shape}, expected {shape}")
    return found


def positions(arrays: Mapping[str, np.ndarray], name: str, limit: int) -> np.ndarray:
    """An integer array of positions in 0..limit-1, refused (BundleError) when out of range."""
    found = array(arrays, name, (None,))
    if not np.issubdtype(found.dtype, np.integer):
        raise BundleError(f"the {name} array does not hold positions")
    if found.size and (found.min() < 0 or found.max() >= limit):
        raise BundleError(f"the {name} array points outside the catalogue")
    return found.astype(np.int64)


# -- the registry ------------------------------------------------------------------------------

_SCORERS: dict[str, type[Scorer[Any]]] = {}
S = TypeVar("S", bound=type[Scorer[Any]])


def register(cls: S) -> S:
    """Class decorator: make a scorer available by its `name` to train, load and evaluate."""
    known = _SCORERS.get(cls.name)
    if known is not None and known is not cls:
        raise ModelConfigError(f"two models are registered as {cls.name!r}")
    _SCORERS[cls.name] = cls
    return cls


def model_names() -> tuple[str, ...]:
    """Every registered model name, sorted."""
    return tuple(sorted(_SCORERS))


def scorer_class(name: str) -> type[Scorer[Any]]:
    """The model registered as `name`; UnknownModel (listing the names) otherwise."""
    found = _SCORERS.get(name)
    if found is None:
        raise UnknownModel(f"no model named {name!r}: choose one of {', '.join(model_names())}")
    return found


def make_scorer(
    name: str, config: ModelConfig | None = None, *, num_threads: int = DEFAULT_THREADS
) -> Scorer[Any]:
    """An unfitted model by name, with `config` (its defaults when None)."""
    return scorer_class(name)(config, num_threads=num_threads)
