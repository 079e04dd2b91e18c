"""Python scripts as thunk programs.

A thunk sees nothing but its inputs, so a Python program needs the
interpreter, the shared libraries it loads, the standard library (one tree
object, materialized once per machine) and this package among them.
PythonFunction gathers those once; ``fn.thunk(...)`` then makes thunks that
run the script with the given arguments. Inside a thunk,
``PythonFunction.current()`` gives the same function back, so a script can
make further thunks of itself (tail recursion, see examples/fibonacci/fib.py).
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time: thunks written in Python start faster
if TYPE_CHECKING:
    from typing import Iterable, Sequence

from .errors import NotFoundError
from .names import name_of
from .store import Store
from .thunk import Input, Thunk

ROOT = "/gg-py"                      # where the script and this package are seen
SPEC_PATH = ROOT + "/function"  # the function's own description, for current()
_EXCLUDE = ("__pycache__", "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
            "pydoc_data", "site-packages", "dist-packages")


def _shared_libraries(programs: Iterable[str]) -> dict[str, str]:
    """sandbox path -> host file of the libraries `programs` load (by ldd)."""
    import subprocess

    libs: dict[str, str] = {}
    p = subprocess.run(["ldd", *programs], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if not line.startswith(("\t", " ")):
            continue  # "PROGRAM:" headings when there are several
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs[parts[2]] = os.path.realpath(parts[2])
        elif parts and parts[0].startswith("/"):
            libs[parts[0]] = os.path.realpath(parts[0])
    return libs


def program_inputs(store: Store, path: str, sandbox_path: str | None = None) -> list[Input]:
    """A dynamically linked program (e.g. /usr/bin/vpxenc) as thunk inputs:
    the program itself, executable at `sandbox_path` (default: its own
    path), then every shared library it loads, at the paths it loads them
    from. Use the first input's name as the thunk's function."""
    exe = os.path.realpath(path)
    if not os.access(exe, os.X_OK):
        raise NotFoundError(f"{path} is not an executable program")
    inputs = [Input(store.put_file(exe), sandbox_path or path, True)]
    for where, host in sorted(_shared_libraries([exe]).items()):
        inputs.append(Input(store.put_file(host), where, "ld-linux" in where))
    return inputs


def _write_spec(interpreter: str, script: str, runtime: list[Input]) -> bytes:
    """The function's description: lines of tab-separated fields (no json:
    importing it inside every thunk costs more than this)."""
    lines = [f"gg-python-function 1\t{interpreter}\t{script}"]
    lines += [f"{i.name}\t{int(i.executable)}\t{i.path}" for i in runtime]
    return ("\n".join(lines) + "\n").encode()


def _read_spec(spec: bytes) -> tuple[str, str, list[Input]]:
    head, *rest = spec.decode().splitlines()
    _, interpreter, script = head.split("\t")
    runtime = []
    for line in rest:
        name, executable, path = line.split("\t", 2)
        runtime.append(Input(name, path, executable == "1"))
    return interpreter, script, runtime


class PythonFunction:
    """A Python script as the program of thunks.

    >>> fn = PythonFunction.create(store, "count.py")         # doctest: +SKIP
    >>> t = fn.thunk(["count", "in.txt"], outputs=["out"],     # doctest: +SKIP
    ...              inputs=[gg.Input(text, "in.txt")])
    """

    def __init__(self, interpreter: str, script: str, runtime: list[Input], spec: bytes) -> None:
        self.interpreter = interpreter  # the interpreter's value name
        self.script = script            # the script's path in the sandbox
        self.runtime = runtime          # interpreter, libraries, stdlib, package, script
        self.spec = spec                # stored as SPEC_PATH
        self.spec_name = name_of(spec)

    @classmethod
    def create(cls, store: Store, script: str, interpreter: str = "/usr/bin/python3",
               modules: Sequence[str] = ()) -> "PythonFunction":
        """Stores what running `script` takes: `interpreter` (a Debian-style
        Python whose standard library is under its prefix), its libraries,
        the standard library, this gg package and `modules` (extra .py files
        or packages, importable by the script)."""
        import glob
        import subprocess

        if not os.path.exists(interpreter):
            raise NotFoundError(f"no Python interpreter at {interpreter}")
        p = subprocess.run([interpreter, "-S", "-c", "import sys, sysconfig; "
                            "print(sysconfig.get_paths()['stdlib']); print(sys.executable)"],
                           capture_output=True, text=True, check=True)
        stdlib, sandbox_exe = p.stdout.split("\n")[:2]
        runtime = [Input(store.put_file(os.path.realpath(interpreter)), sandbox_exe, True)]
        dynload = glob.glob(os.path.join(stdlib, "lib-dynload", "*.so"))
        for where, host in sorted(_shared_libraries([interpreter, *dynload]).items()):
            runtime.append(Input(store.put_file(host), where, "ld-linux" in where))
        runtime.append(Input(store.collect(stdlib, exclude=_EXCLUDE), stdlib))
        package = os.path.dirname(os.path.abspath(__file__))
        runtime.append(Input(store.collect(package, exclude=("__pycache__",)), f"{ROOT}/gg"))
        for m in modules:
            runtime.append(Input(store.collect(m, exclude=("__pycache__",)), f"{ROOT}/{os.path.basename(m)}"))
        script_path = f"{ROOT}/{os.path.basename(script)}"
        runtime.append(Input(store.put_file(script), script_path))
        spec = _write_spec(runtime[0].name, script_path, runtime)
        store.put(spec)
        return cls(runtime[0].name, script_path, runtime, spec)

    @classmethod
    def current(cls) -> "PythonFunction":
        """Inside a thunk made by a PythonFunction: that function."""
        try:
            with open(SPEC_PATH, "rb") as f:
                spec = f.read()
        except FileNotFoundError:
            raise NotFoundError(f"{SPEC_PATH} is not here: current() works only inside a thunk "
                                "made by PythonFunction") from None
        interpreter, script, runtime = _read_spec(spec)
        return cls(interpreter, script, runtime, spec)

    def thunk(self, args: Sequence[str], outputs: Sequence[str], inputs: Iterable[Input] = (),
              env: Sequence[str] = (), timeout_ms: int = 0) -> Thunk:
        """A thunk running ``python3 SCRIPT ARGS...`` in its working directory
        (/work), seeing `inputs` besides the runtime. Its outputs are files
        the script leaves there; an output holding a serialized thunk (the
        first one) makes this a tail call."""
        t = Thunk(args=["python3", "-S", "-B", self.script, *args], outputs=list(outputs),
                  env=["LANG=C.UTF-8", "PYTHONHASHSEED=0", *env], timeout_ms=timeout_ms)
        t.function = self.interpreter
        t.inputs = [*self.runtime, Input(self.spec_name, SPEC_PATH), *inputs]
        return t
