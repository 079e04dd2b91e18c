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
    from typing import Sequence

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


def force(store: Store, targets: Sequence[str] | str, *, jobs: int | None = None,
          engines: Sequence[str] = (), storage: str | None = None, trace: str | None = None,
          straggler_seconds: float | None = None, max_attempts: int | None = None,
          progress: bool = False, timeout: float | None = None,
          secret_file: str | None = None) -> list[str]:
    """Forces each target (a thunk name, maybe ``#tag``, or a value name) and
    returns the value name each stands for, in order.

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

    names = [targets] if isinstance(targets, str) else list(targets)
    if not names:
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
    stderr = p.stderr or ""
    if p.returncode != 0:
        detail = stderr.strip() or "(see the output above)"
        raise ForceError(f"gg force failed (exit {p.returncode}):\n{detail}", stderr, p.returncode)
    outputs = p.stdout.split()
    if len(outputs) != len(names):
        raise ForceError(f"gg force printed {len(outputs)} names for {len(names)} targets:\n{p.stdout}{stderr}",
                         stderr, p.returncode)
    if stderr and not progress:
        sys.stderr.write(stderr)  # warnings (e.g. the sandbox fallback) are the user's to see
    return outputs


def force_output(store: Store, target: str, **options: object) -> bytes:
    """Forces one target and returns its content."""
    return store.get(force(store, [target], **options)[0])  # type: ignore[arg-type]
