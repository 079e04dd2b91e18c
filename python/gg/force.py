"""Forcing targets: through the ``gg force`` program.

Why the program and not a binding: the coordinator, the sandbox server and
the engines are C++ and a thunk's sandbox is served by gg itself anyway; a
binding would need a compiled extension per Python version, and the cost
here is one process per force (a batch of any number of targets), not per
thunk. Every ``gg force`` option is available, and a failure is raised with
gg's own message: the thunk's name, command line, exit status and stderr.
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: thunks written in Python start faster
if TYPE_CHECKING:
    from typing import Iterable, Iterator, Sequence

from .errors import ForceError, NotFoundError
from .store import Store


def gg_binary() -> str:
    """The gg program: $GG_BINARY, else ``gg`` on $PATH."""
    import shutil

    env = os.environ.get("GG_BINARY")
    if env:
        return env
    found = shutil.which("gg")
    if found:
        return found
    raise NotFoundError("the gg program is not on $PATH: install gg (cmake --install build) "
                        "or set GG_BINARY to its path")


def force(store: Store, targets: Iterable[str] | str, *, jobs: int | None = None,
          engines: Sequence[str] = (), storage: str | None = None, trace: str | None = None,
          straggler_seconds: float | None = None, max_attempts: int | None = None,
          progress: bool = False, timeout: float | None = None,
          secret_file: str | None = None) -> list[str]:
    """Forces each target (a thunk name, maybe ``#tag``, or a value name) and
    returns the value name each stands for, in order.

    `targets` may be an iterator (a generator): gg then starts each target
    as soon as it is yielded (``gg force @-``), while the generator still
    stores the ones after it, so storing a job's inputs and running its
    first thunks overlap. If the generator raises, gg is stopped and the
    exception passes on.

    jobs: thunks at once on the local engine (``-j``); engines: as after
    ``gg force --engine`` (``local``, ``remote=HOST:PORT``, ``lambda=F`` ...);
    storage: a shared store's URI; trace: write a Chrome trace there;
    secret_file: the secret remote workers must know (``--secret-file``);
    progress: let gg print its status line on this terminal (its stderr is
    then not captured); timeout: seconds before the force is abandoned.
    Raises ForceError (with gg's stderr) if anything fails.
    """
    import subprocess  # here, not at the top: thunks written in Python import gg and start faster
    import tempfile

    streamed = hasattr(targets, "__next__")  # an iterator: its names are not all known yet
    names: list[str] = [] if streamed else [targets] if isinstance(targets, str) else list(targets)
    if not names and not streamed:
        return []
    args = [gg_binary(), "force"]
    if jobs is not None:
        args += ["-j", str(jobs)]
    for e in engines:
        args += ["--engine", e]
    if storage:
        args += ["--storage", storage]
    if trace:
        args += ["--trace", trace]
    if straggler_seconds is not None:
        args += ["--timeout", str(straggler_seconds)]
    if secret_file:
        args += ["--secret-file", secret_file]
    if max_attempts is not None:
        args += ["--max-attempts", str(max_attempts)]
    env = dict(os.environ, GG_DIR=store.dir)
    if streamed:
        return _force_streamed(args + ["@-"], env, targets, progress, timeout)  # type: ignore[arg-type]
    with tempfile.NamedTemporaryFile("w", dir=os.path.join(store.dir, "tmp"), prefix="targets.",
                                     suffix=".txt") as listing:
        listing.write("".join(n + "\n" for n in names))
        listing.flush()
        args.append("@" + listing.name)
        try:
            p = subprocess.run(args, env=env, stdout=subprocess.PIPE,
                               stderr=None if progress else subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ForceError(f"forcing {len(names)} target(s) took longer than {timeout} s") from None
    return _outputs(len(names), p.returncode, p.stdout, p.stderr or "", progress)


def _force_streamed(args: list[str], env: dict[str, str], targets: Iterator[str], progress: bool,
                    timeout: float | None) -> list[str]:
    """gg force reading its targets from a pipe as `targets` yields them.
    Its output goes to files, not pipes, so nothing it writes can block it
    while this process is busy producing targets."""
    import subprocess
    import tempfile
    import time

    deadline = None if timeout is None else time.monotonic() + timeout
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=out,
                             stderr=None if progress else err, text=True)
        count = 0
        try:
            try:
                for name in targets:
                    if "\n" in name or not name:
                        raise ValueError(f"not a target name: {name!r}")
                    count += 1
                    p.stdin.write(name + "\n")  # type: ignore[union-attr]
                    p.stdin.flush()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass  # gg stopped (a thunk failed): its own message says why
            finally:
                try:
                    p.stdin.close()  # type: ignore[union-attr]
                except BrokenPipeError:
                    pass
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            p.wait(timeout=left)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise ForceError(f"forcing {count} target(s) took longer than {timeout} s") from None
        except BaseException:
            p.terminate()  # gg cancels its running thunks and records the finished ones
            p.wait()
            raise
        out.seek(0)
        err.seek(0)
        return _outputs(count, p.returncode, out.read(), err.read(), progress)


def _outputs(count: int, returncode: int, stdout: str, stderr: str, progress: bool) -> list[str]:
    if returncode != 0:
        detail = stderr.strip() or "(see the output above)"
        raise ForceError(f"gg force failed (exit {returncode}):\n{detail}", stderr, returncode)
    outputs = stdout.split()
    if len(outputs) != count:
        raise ForceError(f"gg force printed {len(outputs)} names for {count} targets:\n{stdout}{stderr}",
                         stderr, returncode)
    if stderr and not progress:
        sys.stderr.write(stderr)  # warnings (e.g. the sandbox fallback) are the user's to see
    return outputs


def force_output(store: Store, target: str, **options: object) -> bytes:
    """Forces one target and returns its content."""
    return store.get(force(store, [target], **options)[0])  # type: ignore[arg-type]
