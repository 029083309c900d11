"""``random``: Katib's random search (hyperopt ``rand.suggest``, docs/katib-behaviour.md §5.3), reproducible and restart-safe.

Each value is drawn from its parameter's distribution by :meth:`katibsim.spec.space.Parameter.sample`
(normal / logNormal truncated to [min, max], unlike Katib's hyperopt; see docs/algorithms.md).
The generator of a call is ``default_rng([seed, number of trials in the history])``, never hidden
state, so a rebuilt algorithm (Katib restarts suggestion pods) gives the same answer
(:class:`CallGenerators` builds it cheaply for successive calls).
On a finite space no assignment of the history (any condition) is suggested again until every
point has been used; after that, repeats are allowed (the host counts them as duplicates).
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import numpy as np

from katibsim.algorithm import (
    Algorithm,
    Capabilities,
    HistoryKeys,
    ObjectiveInfo,
    SettingSpec,
    Trial,
    random_state_setting,
)
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace, Value

# Beyond this many points a finite space is never enumerated (rejection sampling only).
ENUMERATION_LIMIT = 1_000_000
# Draws tried before falling back to picking among the unused points of a finite space.
REJECTION_TRIES = 64


class CallGenerators:
    """``numpy.random.default_rng([seed, n])`` for the n of successive calls, at a fraction of the cost.

    The generator of a call must be exactly that one (it is what makes a rebuilt algorithm give
    the same answer), but building it costs ~10 µs — a SeedSequence, its state, a PCG64 —, as
    much as the rest of a call. Calls usually come with n, n+1, n+2, ... (the history grows), so
    this computes numpy's SeedSequence hash (O'Neill's ``seed_seq_fe``, pool of 4 words, as numpy
    implements it) for a block of consecutive n at once on uint32 arrays, and turns each into a
    PCG64 state (``pcg64_set_seed``: 128-bit state and increment) set on one reused generator.
    Every block is checked against numpy's own generator for its first n, and anything outside the
    fast case (a seed or n of 2**32 or more, a jump away from the block and the last n) uses
    ``default_rng``. Blocks start small and double while calls keep coming in order, so a short
    run computes little it does not use.
    """

    MIN_BLOCK, MAX_BLOCK = 32, 4096  # a block doubles while calls keep coming in order
    STRIDE = 64  # a call at most this far past the last one counts as "in order"
    _INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    _MIX_L, _MIX_R, _SHIFT = 0xCA01F9DD, 0x4973F715, 16
    _PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
    _M32, _M128 = (1 << 32) - 1, (1 << 128) - 1

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._fast = 0 <= seed < 2**32
        self._n0 = 0  # the block holds the seed words of n0, n0 + 1, ...
        self._words: list[list[int]] = []
        self._last: int | None = None
        self._bits = np.random.PCG64(0)
        self._rng = np.random.Generator(self._bits)

    def __call__(self, n: int) -> np.random.Generator:
        last, self._last = self._last, n
        if self._fast and 0 <= n < 2**32:
            i = n - self._n0
            if 0 <= i < len(self._words):
                return self._seeded(self._words[i])
            if last is not None and last <= n <= last + self.STRIDE:
                size = min(self.MAX_BLOCK, max(self.MIN_BLOCK, 2 * len(self._words)))
                words = self._seed_words(n, size)
                if words is not None:
                    self._n0, self._words = n, words
                    return self._seeded(words[0])
                self._fast = False
        return np.random.default_rng([self.seed, n])

    def _seeded(self, words: list[int]) -> np.random.Generator:
        state, inc = self._pcg_state(words)
        self._bits.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                            "has_uint32": 0, "uinteger": 0}
        return self._rng

    @classmethod
    def _pcg_state(cls, w: list[int]) -> tuple[int, int]:
        # pcg64_set_seed(seed=w[0:2], inc=w[2:4]): state 0, inc = 2*initseq + 1, step, add, step.
        initstate, initseq = (w[0] << 64) | w[1], (w[2] << 64) | w[3]
        m = cls._M128
        inc = ((initseq << 1) | 1) & m
        return (((inc + initstate) & m) * cls._PCG_MULT + inc) & m, inc

    def _seed_words(self, n0: int, size: int) -> list[list[int]] | None:
        """The 4 uint64 words PCG64 takes from ``SeedSequence([seed, n])`` for n0 <= n < n0 + size."""
        n1 = min(n0 + size, 2**32)
        u32 = np.uint32
        with np.errstate(over="ignore"):
            hc = self._INIT_A

            def hashmix(v: np.ndarray) -> np.ndarray:
                nonlocal hc
                v = v ^ u32(hc)
                hc = (hc * self._MULT_A) & self._M32
                v = v * u32(hc)
                return v ^ (v >> u32(self._SHIFT))

            def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
                r = u32(self._MIX_L) * x - u32(self._MIX_R) * y
                return r ^ (r >> u32(self._SHIFT))

            k = n1 - n0
            # The entropy [seed, n] is two uint32 words; the pool's other two start from 0.
            entropy = [np.full(k, self.seed, dtype=u32), np.arange(n0, n1, dtype=np.uint64).astype(u32),
                       np.zeros(k, dtype=u32), np.zeros(k, dtype=u32)]
            pool = [hashmix(e) for e in entropy]
            for src in range(4):
                for dst in range(4):
                    if src != dst:
                        pool[dst] = mix(pool[dst], hashmix(pool[src]))
            hb = self._INIT_B
            out32 = []
            for i in range(8):  # generate_state(4, uint64): 8 uint32 words, little-endian pairs
                v = pool[i % 4] ^ u32(hb)
                hb = (hb * self._MULT_B) & self._M32
                v = v * u32(hb)
                out32.append((v ^ (v >> u32(self._SHIFT))).astype(np.uint64))
        words = np.stack([out32[j] | (out32[j + 1] << np.uint64(32)) for j in range(0, 8, 2)], axis=1).tolist()
        # numpy's own answer for the first n of the block: any difference turns the fast path off.
        ref = np.random.PCG64(np.random.SeedSequence([self.seed, n0])).state["state"]
        if self._pcg_state(words[0]) != (ref["state"], ref["inc"]):
            return None
        return words


def sampler(p: Parameter) -> Callable[[np.random.Generator], Value]:
    """A function drawing one value of ``p`` exactly as :meth:`Parameter.sample` does.

    The same generator calls with the same arguments, so the same numbers come out; it only
    leaves out the per-call dispatch on type and distribution (a run of 100,000 trials draws
    every parameter 100,000 times). Cases other than these common ones use ``p.sample`` itself;
    ``tests/plugins/test_random_sampler.py`` checks each fast case against it.
    """
    if p.type == ParameterType.DOUBLE and p.step is None and p.distribution in (
        Distribution.UNIFORM, Distribution.LOG_UNIFORM
    ):
        lo, hi = p.bounds
        if p.is_log and lo > 0:  # Parameter._t / _tinv: log scale only when min > 0
            tlo, thi, exp = math.log(lo), math.log(hi), math.exp

            def draw_log(rng: np.random.Generator) -> Value:
                x = exp(rng.uniform(tlo, thi))
                # Parameter.snap of a double without step: float(min(hi, max(lo, x))), which is x
                # itself strictly inside (at a bound it is the bound: -0.0 stays -0.0).
                return x if lo < x < hi else float(min(hi, max(lo, x)))

            return draw_log

        def draw_uniform(rng: np.random.Generator) -> Value:
            x = rng.uniform(lo, hi)
            return x if lo < x < hi else float(min(hi, max(lo, x)))

        return draw_uniform
    if p.type == ParameterType.INT and p.distribution == Distribution.UNIFORM and not p.step:
        ilo, ihi = int(p.bounds[0]), int(p.bounds[1]) + 1

        def draw_int(rng: np.random.Generator) -> Value:
            return int(rng.integers(ilo, ihi))

        return draw_int
    if p.type == ParameterType.CATEGORICAL:
        values, k = p.values, len(p.values)

        def draw_categorical(rng: np.random.Generator) -> Value:
            return values[int(rng.integers(k))]

        return draw_categorical
    return p.sample


def axis_length(p: Parameter) -> int | None:
    """Number of values of one parameter without building them; None for a continuous double."""
    if p.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
        return len(p.values)
    if p.type == ParameterType.DOUBLE and p.step is None:
        return None
    lo, hi = float(p.min), float(p.max)
    step = float(p.step) if p.step else 1.0
    return int(math.floor((hi - lo) / step + 1e-9)) + 1


class RandomSearch(Algorithm):
    """Random search: independent draws from each parameter's distribution."""

    name = "random"
    description = "Random search: independent draws from each parameter's distribution (Katib's hyperopt random)."
    capabilities = Capabilities()
    settings_spec = (
        SettingSpec("random_state", None, "seed of the generator, an int >= 0; overrides the run's seed"),
    )

    def __init__(
        self,
        space: SearchSpace,
        objective: ObjectiveInfo,
        settings: Mapping[str, str] | None = None,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(space, objective, settings, seed, **kwargs)
        random_state = random_state_setting(self.settings.get("random_state"))
        base = random_state if random_state is not None else seed
        if base is None:  # no seed at all: fixed at construction, so this object stays consistent
            base = int(np.random.SeedSequence().entropy % (2**63))
        self.base_seed = abs(int(base))
        lengths = [axis_length(p) for p in space]
        self.finite = all(n is not None for n in lengths)
        self.size: int | None = math.prod(lengths) if self.finite else None  # type: ignore[arg-type]
        # Doubles with a step are mapped onto Katib's grid values (numpy.arange), so the same
        # point always has the same Katib string and repeats are recognised.
        self._grids: dict[str, np.ndarray] = {}
        for p, n in zip(space, lengths):
            if p.type == ParameterType.DOUBLE and n is not None and n <= ENUMERATION_LIMIT:
                self._grids[p.name] = np.asarray(p.grid_values(), dtype=float)
        if self.finite and self.size is not None and self.size <= ENUMERATION_LIMIT:
            self.size = space.size()  # exact (Katib's grid and list semantics)
        self._history = HistoryKeys(space, key=self._feasible_key) if self.finite else None
        self._prepare()

    def _prepare(self) -> None:
        """The per-object speed-ups: prepared samplers and the call generators (rebuilt, not pickled)."""
        self._samplers = tuple((p.name, sampler(p)) for p in self.space)
        self._generator = CallGenerators(self.base_seed)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_samplers"], state["_generator"]  # closures do not pickle; both follow from the rest
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._prepare()

    # -- helpers -----------------------------------------------------------------------------------
    def _feasible_key(self, assignment: Mapping[str, Value]):
        return self.space.key(assignment) if self.space.contains(assignment) else None

    def _canonical(self, assignment: dict[str, Value]) -> dict[str, Value]:
        for name, grid in self._grids.items():
            x = float(assignment[name])
            i = int(np.clip(np.searchsorted(grid, x), 1, len(grid) - 1)) if len(grid) > 1 else 0
            if len(grid) > 1 and abs(grid[i - 1] - x) <= abs(grid[i] - x):
                i -= 1
            assignment[name] = float(grid[i])
        return assignment

    def draw(self, rng: np.random.Generator) -> dict[str, Value]:
        """One assignment under ``rng`` (canonical values)."""
        # SearchSpace.sample, parameter by parameter in the same order, with prepared samplers.
        a = {name: draw(rng) for name, draw in self._samplers}
        return self._canonical(a) if self._grids else a

    def _unused(self, used: set) -> list[dict[str, Value]]:
        out = []
        for a in self.space.grid():
            a = self._canonical(self.space.coerce(a))
            if self.space.key(a) not in used:
                out.append(a)
        return out

    # -- the contract ----------------------------------------------------------------------------------
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        rng = self._generator(len(trials))  # default_rng([base_seed, len(trials)])
        if not self.finite:
            return [self.draw(rng) for _ in range(count)]
        assert self._history is not None
        self._history.update(trials)
        seen = self._history.keys  # the cache's own set: read, never copied (O(new trials) per call)
        batch: set = set()

        def used(key) -> bool:
            return key in seen or key in batch

        out: list[dict[str, Value]] = []
        unused: list[dict[str, Value]] | None = None
        for _ in range(count):
            if self.size is not None and len(seen) + len(batch - seen) >= self.size:
                out.append(self.draw(rng))  # exhausted: repeats allowed from here on
                continue
            choice = None
            for _ in range(REJECTION_TRIES):
                a = self.draw(rng)
                if not used(self.space.key(a)):
                    choice = a
                    break
            if choice is None and self.size is not None and self.size <= ENUMERATION_LIMIT:
                # Nearly exhausted: pick uniformly among what is left (not by the distribution).
                if unused is None:
                    unused = self._unused(seen)
                unused = [a for a in unused if not used(self.space.key(a))]
                if unused:
                    choice = unused.pop(int(rng.integers(len(unused))))
            if choice is None:
                choice = self.draw(rng)
            batch.add(self.space.key(choice))
            out.append(choice)
        return out


@hookimpl
def katibsim_register_algorithms(register):
    register(RandomSearch)
