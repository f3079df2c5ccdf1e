"""The public contracts that plugins implement: Proxy, SearchSpace, Metric and Benchmark.

These classes are what third-party authors code against. They import nothing heavy at
module level (torch only for type checking), so listing plugins stays fast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover - typing only
    import random

    import numpy as np
    import pandas as pd
    import torch

    from zsbench.downloads import DataFile


@dataclass(frozen=True)
class Batch:
    """One minibatch handed to every proxy.

    Attributes:
        inputs: float tensor of shape ``N x C x H x W``.
        targets: long tensor of shape ``N`` with class indices.
        num_classes: number of classes of the task the model is built for.
        source: what the inputs are, recorded in every run contract, e.g.
            ``"cifar10:train:augmented"`` or ``"gaussian"`` when no dataset was found.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    num_classes: int
    source: str = "unspecified"

    @property
    def size(self) -> int:
        """Number of samples in the batch."""
        return int(self.inputs.shape[0])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one sample."""
        _, c, h, w = self.inputs.shape
        return int(c), int(h), int(w)


class SharedPass(ABC):
    """Work several proxies can read from one run on one freshly built model.

    A proxy that can be computed from a shared pass says so in :meth:`Proxy.requires`.
    The scoring engine (:func:`zsbench.engine.harness.score_model`) groups the requested proxies
    whose requests name passes with equal :attr:`key`, builds one model for the group
    (seeded exactly as it would be for one proxy), calls :meth:`run` once with the union
    of the products the group needs, and hands the products to each proxy's
    :meth:`Proxy.score_shared`. A pass must give every proxy the same quantity that
    proxy's own :meth:`Proxy.score` computes on a fresh model (within float rounding);
    proxies that request nothing, or whose pass declines a model, are scored one at a time.

    Attributes:
        key: identifies the pass; requests naming passes with equal keys share one model
            and one run. Namespace it with the plugin's name (``"myplugin:forward"``).
    """

    key: ClassVar[str]

    def accepts(self, model: torch.nn.Module) -> bool:
        """Whether this model can be scored in one shared run; when ``False`` every proxy
        of the group is scored on its own model instead (e.g. when shared passes would
        consume the RNG differently from separate ones)."""
        return True

    def product_seconds(self) -> Mapping[str, float]:
        """Seconds the last :meth:`run` spent on work that only the named product needed.

        The engine charges each to the proxies that read that product (split among them) and
        splits the rest of the run's time (the work all of them share) equally, so a proxy's
        seconds say what it costs. The default names nothing: the whole run is split equally.
        """
        return {}

    @abstractmethod
    def run(self, model: torch.nn.Module, batch: Batch, products: frozenset[str]) -> Mapping[str, Any]:
        """Compute ``products`` (names this pass defines) on ``model`` (train mode) and ``batch``.

        A product that cannot be computed may be returned as the exception instance: the
        engine raises it for the proxies that read it only, so one failing product does
        not fail the others. An exception raised by ``run`` itself makes the engine score
        every proxy of the group on its own model.
        """


@dataclass(frozen=True)
class PassRequest:
    """What a proxy reads from a shared pass (see :meth:`Proxy.requires`).

    Attributes:
        shared_pass: the pass.
        products: the names of the pass's products the proxy reads (may be empty for a
            proxy that only reads the model, such as a parameter count).
    """

    shared_pass: SharedPass
    products: frozenset[str] = frozenset()


class Proxy(ABC):
    """A zero-shot proxy: a number computed from an untrained network that should rank
    architectures like their trained accuracy does.

    Subclasses set the class attributes and implement :meth:`score`. The host hands every
    proxy its own freshly built, identically initialised model in train mode, so a proxy
    may modify the model it gets (re-initialise it, cast it, replace layers). A proxy that
    can be computed from a pass other proxies share also implements :meth:`requires` and
    :meth:`score_shared` (see :class:`SharedPass`); :meth:`score` stays its reference path.

    Attributes:
        name: registry name, ``[a-z][a-z0-9_]*`` (literature spelling: ``snip``, ``synflow``).
        higher_is_better: the direction of the raw score. Never flip signs to make this
            ``True``: indices apply the direction themselves.
        version: part of every cache key; bump it whenever the value a proxy computes changes.
        description: one line shown by ``zsbench proxies``.
        input_kind: which inputs the score depends on: ``"batch"`` (the host's batch and its
            labels), ``"batch-shape"`` (only the batch's shape, e.g. synflow's all-ones input),
            ``"gaussian"`` (draws its own N(0, 1) inputs), or ``"none"`` (a pure function of
            the architecture, e.g. params). Recorded in the run contract.
        bn_mode: how BatchNorm behaves while scoring (``"train"``, ``"identity"``, ...).
        dtype: the floating-point type the score is computed in.
        tolerance: the relative difference within which two computations of one score agree
            (the shared pass against :meth:`score`, a score pack against a recomputation):
            float sums in another order differ in their last bits, more so after long chains
            such as an eigen-decomposition. ``zsbench packs verify`` and the pack golden test
            use it.
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    input_kind: ClassVar[str] = "batch"
    bn_mode: ClassVar[str] = "train"
    dtype: ClassVar[str] = "float32"
    tolerance: ClassVar[float] = 1e-6

    @abstractmethod
    def score(self, model: torch.nn.Module, batch: Batch) -> float:
        """Return the proxy's value for ``model`` on ``batch``.

        Return ``float('nan')`` or raise when no value can be computed; the host records
        that as a failure with its reason and never substitutes a number.
        """

    def requires(self) -> PassRequest | None:
        """The shared pass this proxy can be computed from, or ``None`` (the default): the
        proxy is then always scored by :meth:`score` on its own fresh model."""
        return None

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: Batch) -> float:
        """Return the same value as :meth:`score` from the products of the pass named by
        :meth:`requires`. ``model`` is the group's model after the pass ran (it must not be
        modified); ``products`` holds at least the products requested."""
        raise NotImplementedError(f"proxy {self.name!r} declares a shared pass but does not implement score_shared")

    def contract(self) -> dict[str, Any]:
        """The proxy's own part of the run contract (recorded with every score)."""
        return {
            "proxy": self.name,
            "proxy_version": self.version,
            "input_kind": self.input_kind,
            "bn_mode": self.bn_mode,
            "dtype": self.dtype,
        }

    def __repr__(self) -> str:
        return f"<Proxy {self.name} v{self.version}>"


@dataclass(frozen=True)
class Cost:
    """Cost figures of one architecture.

    Attributes:
        flops: multiply-accumulate operations (MACs) of one forward pass on one image,
            counted by ``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 per MAC)
            and halved. Convolutions, linear layers and matmuls only.
        params: number of parameters (all ``model.parameters()``).
        depth: number of weight layers (conv / linear) on the longest input-to-output path.
    """

    flops: float
    params: int
    depth: int


class SearchSpace(ABC):
    """A family of architectures with a canonical string encoding.

    An architecture is always passed around as its canonical string; ``parse`` turns it
    into the space's own structured form and ``encode`` turns that back, exactly.

    Attributes:
        name: registry name (``R1``, ``R2``, ``MB``, ``nb201``, ``nasbench-macro``).
        description: one line shown by ``zsbench spaces``.
        default_input_size: spatial size of the images the space is designed for.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    default_input_size: ClassVar[int] = 32

    @abstractmethod
    def size(self) -> int:
        """Number of distinct architectures in the full space."""

    @abstractmethod
    def parse(self, arch: str) -> Any:
        """Parse an encoding into the space's structured form.

        Raises:
            InvalidArchitectureError: with one line saying which part is wrong and what
                values are allowed.
        """

    @abstractmethod
    def encode(self, spec: Any) -> str:
        """The canonical string of a parsed architecture (``encode(parse(s)) == s`` for
        canonical ``s``)."""

    def canonical(self, arch: str) -> str:
        """Validate ``arch`` and return its canonical encoding."""
        return self.encode(self.parse(arch))

    @abstractmethod
    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        """Draw ``n`` distinct architectures, deterministically for a given seed.

        With ``max_flops``, draw only architectures whose FLOPs (``cost(arch).flops``: MACs at
        :attr:`default_input_size`, 10 classes) are at most ``max_flops``. A space without a
        faster way (such as analytic costs) hands a bounded draw to the default,
        :meth:`sample_by_rejection`::

            def sample(self, n, seed=0, *, max_flops=None):
                if max_flops is not None:
                    return self.sample_by_rejection(n, seed, max_flops)
                ...  # the unbounded draw

        A space written before ``max_flops`` joined this contract keeps working: where its
        ``sample`` does not take the keyword, a bounded pool is drawn with
        :meth:`sample_by_rejection` instead.

        Raises:
            ValueError: ``n`` is negative or larger than the space, or fewer than ``n``
                architectures were found within ``max_flops``.
        """

    def sample_by_rejection(self, n: int, seed: int, max_flops: float, *, max_candidates: int | None = None) -> list[str]:
        """The default budget-bounded draw: unbounded draws of :meth:`sample` (seeds derived
        from ``seed``), kept in the order drawn when ``cost(arch).flops <= max_flops``,
        duplicates skipped, until ``n`` are found.

        Args:
            n: how many architectures.
            seed: seed of the draw (the same seed gives the same architectures).
            max_flops: the bound on ``cost(arch).flops``.
            max_candidates: how many distinct candidates to cost before giving up
                (default ``100 * n + 1000``, or the whole space when it is smaller).

        Raises:
            ValueError: ``max_flops`` is not positive, or fewer than ``n`` of the candidates
                are within it (the message says how many were found).
        """
        if not max_flops > 0:
            raise ValueError(f"max_flops must be positive, got {max_flops!r}")
        size = self.size()
        if n < 0 or n > size:
            raise ValueError(f"cannot draw {n} distinct architectures from space {self.name!r} of size {size}")
        limit = min(size, max_candidates if max_candidates is not None else 100 * n + 1000)
        seen: set[str] = set()
        found: list[str] = []
        round_size = limit if limit == size else min(size, max(4 * n, 64))
        for round_number in range(limit):  # every round sees at least one new candidate, or stops
            fresh = [a for a in self.sample(round_size, seed * 1_000_003 + round_number) if a not in seen]
            for arch in fresh[: limit - len(seen)]:
                seen.add(arch)
                if self.cost(arch).flops <= max_flops:
                    found.append(arch)
                    if len(found) == n:
                        return found
            if len(seen) >= limit or not fresh:
                break
        raise ValueError(
            f"found only {len(found)} of {n} architectures of space {self.name!r} within max_flops={max_flops:g} "
            f"among {len(seen)} candidates; raise max_flops or lower n"
        )

    def mutate(self, arch: str, rng: random.Random) -> str:
        """A neighbour of ``arch``: the move an evolutionary search (``zsbench search``) makes.

        A space declares its mutation by overriding this method: change one or two parts of
        the architecture (one cell edge's operation, one layer's choice, a stage's width or
        depth) and return the canonical string of the result, drawing every random choice
        from ``rng`` so that a seeded search is repeatable. The result should differ from
        ``arch``; the search discards a mutation that gives ``arch`` back and tries again.

        The default, for a space that declares none, is a fresh draw of :meth:`sample`
        (seeded from ``rng``): every space is searchable, but without a neighbourhood an
        evolutionary search is only a random search (``zsbench search`` says so).
        """
        return self.sample(1, rng.randrange(2**31))[0]

    def declares_mutation(self) -> bool:
        """Whether the space overrides :meth:`mutate` (else it is the random default)."""
        return type(self).mutate is not SearchSpace.mutate

    def enumerate(self) -> Iterator[str]:
        """Every architecture of the space, for spaces small enough to list.

        Raises:
            NotImplementedError: for spaces too large to enumerate.
        """
        raise NotImplementedError(f"space {self.name!r} is too large to enumerate; use sample()")

    @abstractmethod
    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        seed: int | None = None,
        input_size: int | None = None,
    ) -> torch.nn.Module:
        """Build the network for ``arch``; with ``seed`` set, its initial weights are a
        pure function of the seed (the global RNG state is restored afterwards)."""

    @abstractmethod
    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> Cost:
        """FLOPs (MACs), params and depth of ``arch`` (see :class:`Cost`)."""

    @abstractmethod
    def features(self, arch: str) -> dict[str, float]:
        """Numeric architecture features for factor analysis, e.g. per stage
        ``S1_in``, ``S1_out``, ``S1_stride``, ``S1_depth``."""


@dataclass
class MetricInput:
    """What an index is computed from.

    Attributes:
        scores: proxy scores, one per architecture, NaN where the proxy failed.
        accuracy: ground-truth accuracy, one per architecture.
        higher_is_better: the proxy's declared direction.
        costs: a frame aligned with ``scores`` holding ``flops``, ``params`` and ``depth``.
        options: the index's own options (every one it declares in :attr:`Metric.options`,
            at its default unless the user gave it), e.g. ``{"k": (0.001, 0.05)}``.
    """

    scores: np.ndarray
    accuracy: np.ndarray
    higher_is_better: bool = True
    costs: pd.DataFrame | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricOption:
    """One option an index declares; the user sets it with ``--metric-option NAME.KEY=VALUE``
    and ``zsbench metrics NAME`` lists it.

    Attributes:
        key: the option's name, ``[a-z][a-z0-9_]*``.
        parse: turns the user's value (the command line's string, or a Python value given to
            :func:`zsbench.evaluate`) into the typed value; raises ``ValueError`` with a one-line
            reason when it is not valid.
        default: the typed value used when the user gives none.
        help: one line: what it sets, its unit or range.
    """

    key: str
    parse: Callable[[Any], Any]
    default: Any
    help: str = ""


#: What an entry of :meth:`Metric.compute`'s result is (see :meth:`Metric.entry_role`):
#: ``index`` (the index's value), ``estimate`` (another value of the index, e.g. at a second
#: K: it gets a bootstrap interval and a table column), ``setting`` (a figure the values were
#: computed with, e.g. the K used), ``pick`` (the accuracy of an architecture the proxy picked,
#: shown in the table's picks column) and ``detail`` (anything else: in the JSON only).
ENTRY_ROLES = ("index", "estimate", "setting", "pick", "detail")


class Metric(ABC):
    """An index measuring how well a proxy's scores rank architectures.

    Attributes:
        name: registry name (``kendall``, ``mbr_flops``, ...).
        higher_is_better: direction of the index itself (Kendall: higher; mBR: lower).
        description: one line shown by ``zsbench metrics``.
        group: the family the index belongs to (``correlation``, ``top-k``, ``budget``, ...),
            shown by ``zsbench metrics``.
        order: where the index stands in results (ascending, then by name); the default puts
            an index after the ones that declare a place.
        companions: the roles of companion entries, as ``(prefix, role)`` pairs: a companion
            ``f"{name}/{rest}"`` takes the role of the first pair whose prefix starts ``rest``
            (the empty prefix matches every one); unmatched companions are ``detail``. Roles
            are listed in :data:`ENTRY_ROLES`.
        options: the options the index takes (see :class:`MetricOption`).
        headline: shown in the default (narrow) result table, with its picks; the other
            indices appear with ``zsbench evaluate --wide`` and in the JSON.
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    group: ClassVar[str] = ""
    order: ClassVar[int] = 1000
    companions: ClassVar[tuple[tuple[str, str], ...]] = ()
    options: ClassVar[tuple[MetricOption, ...]] = ()
    headline: ClassVar[bool] = False

    @abstractmethod
    def compute(self, data: MetricInput) -> dict[str, float]:
        """Compute the index.

        Returns:
            A mapping whose entry ``self.name`` is the index value; further entries are
            companion figures (e.g. the accuracy of each budget's pick for mBR), named
            ``f"{self.name}/<what>"``, whose roles :attr:`companions` declares.
        """

    def entry_role(self, key: str) -> str:
        """The role (one of :data:`ENTRY_ROLES`) of the entry ``key`` of :meth:`compute`'s result."""
        if key == self.name:
            return "index"
        prefix = f"{self.name}/"
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            for start, role in self.companions:
                if rest.startswith(start):
                    return role
        return "detail"

    def entry_label(self, key: str) -> str:
        """What a companion entry is for, as displays show it: the rest of its key after the
        prefix that gave it its role (``br_at_k/K@5%`` -> ``5%``, ``mbr_flops/acc@20%`` -> ``20%``,
        ``br_at_k/5%`` -> ``5%``); ``""`` for the index itself."""
        prefix = f"{self.name}/"
        if not key.startswith(prefix):
            return ""
        rest = key[len(prefix) :]
        for start, _ in self.companions:
            if rest.startswith(start):
                return rest[len(start) :]
        return rest

    def default_options(self) -> dict[str, Any]:
        """Every declared option at its default."""
        return {option.key: option.default for option in self.options}

    def compute_many(self, scores: np.ndarray, data: MetricInput) -> dict[str, np.ndarray]:
        """The index of many candidate score vectors over the same architectures at once.

        Used where thousands of candidate rankings are judged on one pool (the hybrid-proxy
        search). Every row of ``scores`` is read exactly as :meth:`compute` reads
        ``data.scores`` (NaN where a score failed, ``data.higher_is_better`` applied).

        Args:
            scores: a ``C x N`` array, one candidate per row, aligned with ``data.accuracy``.
            data: the accuracy, costs, direction and options shared by every row
                (``data.scores`` is ignored).

        Returns:
            Every entry :meth:`compute` returns, as an array of ``C`` values (NaN where a
            row lacks the entry). The default calls :meth:`compute` once per row; indices
            override it with a vectorised version giving the same values.
        """
        import dataclasses

        import numpy as np

        rows = [self.compute(dataclasses.replace(data, scores=np.asarray(row, dtype=float))) for row in scores]
        keys = list(dict.fromkeys(key for row in rows for key in row))
        return {key: np.array([row.get(key, np.nan) for row in rows], dtype=float) for key in keys}


@dataclass(frozen=True)
class ScorePack:
    """A file of precomputed scores a plugin ships (``zsbench packs``): the engine reads a score
    from it when the score's key and run contract match exactly, as a read-only layer under
    the user's cache.

    Attributes:
        name: registry name (``nasbench-macro-cifar10``).
        path: the pack file, written by ``zsbench packs build`` (JSON lines, gzip-compressed).
        description: one line shown by ``zsbench packs list``.
    """

    name: str
    path: Path
    description: str = ""


class Benchmark(ABC):
    """Ground truth: a table of architectures of one search space with their accuracy.

    Attributes:
        name: registry name (``nb201-cifar10``).
        space: name of the search space that builds the architectures.
        dataset: dataset the accuracies were measured on (``cifar10``).
        num_classes: classifier width for that dataset.
        input_size: image size for that dataset.
        description: one line shown by ``zsbench benchmarks``.
        licence: the licence of the ground-truth data (``""`` when not stated).
        citation: the work to cite when using it (``""`` when not stated).
        data_files: files :meth:`load` reads from the data root that ``zsbench data download
            GROUP`` can fetch (:class:`zsbench.downloads.DataFile`: path, pinned URL, sha256);
            empty for benchmarks that ship their tables.
    """

    name: ClassVar[str]
    space: ClassVar[str]
    dataset: ClassVar[str]
    num_classes: ClassVar[int] = 10
    input_size: ClassVar[int] = 32
    description: ClassVar[str] = ""
    licence: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    data_files: ClassVar[tuple[DataFile, ...]] = ()

    @abstractmethod
    def load(self, data_root: Path | None = None) -> pd.DataFrame:
        """The benchmark table: columns ``arch`` (the benchmark's own key, a string the
        space parses), ``accuracy``, and optionally ``flops``, ``params``, ``depth``.

        Raises:
            DataMissingError: naming the file that is needed and its format.
        """

    def noise_ceiling(self, data_root: Path | None = None) -> dict[str, Any] | None:
        """How well the ground truth agrees with itself: rank correlations between two
        independent trainings of the same networks, ``{"spearman", "kendall", "pairs"}``
        plus optional ``"spearman_ci"`` (its interval), ``"bound"`` and ``"bound_ci"``, a
        ``"note"`` (:func:`zsbench.builds.retrain_agreement` computes them all) and
        ``"trainings_per_side"`` (when the accuracy is a mean of k trainings and the two
        sides compared are two such means: k); ``None`` (the default) when the benchmark
        cannot say.

        A proxy is compared with one noisy measurement of each network's quality, so its
        correlation with the benchmark's accuracy is bounded by about the square root of the
        accuracy's test-retest reliability (``bound``), not by the test-retest correlation
        itself: a proxy may well exceed the latter."""
        return None

    def caveat(self) -> str | None:
        """One line that every results table on this ground truth must carry (for example, a
        build still in progress, whose indices will move as it fills), or ``None`` (the
        default)."""
        return None
