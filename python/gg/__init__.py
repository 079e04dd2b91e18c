"""gg's Python SDK: describe a job as thunks, store them, force them, read
the outputs. See docs/sdk_python.md.

    import gg
    store = gg.Store.open()
    sh = store.collect("/usr/bin/busybox")
    t = gg.Thunk(args=["sh", "-c", "echo hi > out"], outputs=["out"]).set_function(sh, "/bin/sh")
    print(gg.force_output(store, store.put_thunk(t)))
"""
from .errors import CorruptError, ForceError, GGError, InvalidError, NotFoundError
from .force import force, force_output, gg_binary
from .names import Hasher, is_thunk, name_of, name_of_file, object_of, parse_name, with_tag
from .python import PythonFunction, program_inputs
from .store import Store, find_store_dir, read_placeholder
from .thunk import Input, Limits, Thunk, placeholder
from .tree import Tree, TreeEntry

__all__ = [
    "CorruptError", "ForceError", "GGError", "InvalidError", "NotFoundError",
    "force", "force_output", "gg_binary",
    "Hasher", "is_thunk", "name_of", "name_of_file", "object_of", "parse_name", "with_tag",
    "PythonFunction", "program_inputs", "Store", "find_store_dir", "read_placeholder",
    "Input", "Limits", "Thunk", "placeholder", "Tree", "TreeEntry",
]
