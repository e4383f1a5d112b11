"""CompileWhenWorthIt: eager until the eager time spent on a setting pays for a compilation."""

from __future__ import annotations

from conformance.adapters.jax_adapter import CompileWhenWorthIt


class Clock:
    """A fake clock: eager calls and compilations advance it by fixed amounts (no flakes)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeJax:
    """Stands in for ``jax``: ``jit`` wraps the function; a first call per setting compiles."""

    def __init__(self, clock: Clock, compile_s: float) -> None:
        self.clock, self.compile_s = clock, compile_s
        self.compiled: set = set()

    def jit(self, fn, static_argnums=()):
        def jitted(*args):
            if args not in self.compiled:
                self.clock.now += self.compile_s
                self.compiled.add(args)
            return ("jit", fn(*args))

        return jitted


def make(compile_s: float, eager_s: float, guess_s: float):
    clock = Clock()
    fake = FakeJax(clock, compile_s)

    def double(x: int) -> int:
        clock.now += eager_s
        return 2 * x

    step = CompileWhenWorthIt(fake, double, clock=clock)
    step.GUESS_S = guess_s
    return step, fake


def test_a_setting_runs_eagerly_until_its_eager_time_reaches_the_compile_estimate():
    step, _ = make(compile_s=0.0, eager_s=0.125, guess_s=1.25)  # binary-exact sums
    results = [step("a", 3) for _ in range(30)]
    # ten eager calls pay for the guessed compilation; then jitted for good
    assert results == [6] * 10 + [("jit", 6)] * 20, results
    assert step.compiled() == 1


def test_rare_settings_never_compile_and_the_estimate_follows_measured_compilations():
    step, fake = make(compile_s=3.125, eager_s=0.125, guess_s=0.0)
    assert step("first", 1) == ("jit", 2)  # a zero guess compiles at once
    assert step._compile_estimate() == 3.25  # the compilation and its first run
    # other settings now run eagerly until they have spent as much: 26 calls
    results = [step("rare", 4) for _ in range(27)]
    assert results == [8] * 26 + [("jit", 8)], results
    assert [step(f"once-{i}", i) for i in range(5)] == [0, 2, 4, 6, 8]
    assert step.compiled() == 2 and len(fake.compiled) == 2
