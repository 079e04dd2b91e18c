"""The Python SDK's names, thunks and trees: the golden bytes shared with the
C++ SDK, parsing, validation, and the store (no gg program needed)."""
from __future__ import annotations

import mmap
import os
import shutil
import tempfile
import unittest

import gg
from golden_cases import cases, full_thunk, load_golden, minimal_thunk, sample_tree


class GoldenTest(unittest.TestCase):
    def test_bytes_and_names_match_the_cpp_golden_file(self):
        golden = load_golden()
        built = cases()
        self.assertEqual(sorted(golden), sorted(built))
        for ident, data in built.items():
            with self.subTest(ident):
                self.assertEqual(data.hex(), golden[ident][1])
                self.assertEqual(gg.name_of(data), golden[ident][0])

    def test_parse_gives_back_the_same_bytes(self):
        for ident, data in cases().items():
            with self.subTest(ident):
                parsed = gg.Thunk.parse(data) if ident.startswith("thunk") else gg.Tree.parse(data)
                self.assertEqual(parsed.serialize(), data)

    def test_output_names(self):
        t = minimal_thunk()
        self.assertEqual(t.output(), t.name)
        self.assertEqual(t.output("log"), t.name + "#log")
        self.assertEqual(gg.with_tag(t.name + "#x", "log"), t.name + "#log")


class NameTest(unittest.TestCase):
    def test_known_names(self):
        self.assertEqual(gg.name_of(b""), "V47DEQpj8HBSa._TImW.5JCeuQeRkm5NMpJWZG3hSuFU00000000")
        self.assertTrue(sample_tree().name.startswith("D"))
        self.assertTrue(full_thunk().name.startswith("T"))

    def test_streaming_equals_whole(self):
        data = gg.thunk.THUNK_MAGIC + os.urandom(300000)
        h = gg.Hasher()
        for i in range(0, len(data), 7777):
            h.update(data[i:i + 7777])
        self.assertEqual(h.name(), gg.name_of(data))
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            self.assertEqual(gg.name_of_file(f.name), gg.name_of(data))

    def test_parse_name_explains(self):
        for bad in ["", "X" * 52, "V47DEQpj8HBSa._TImW.5JCeuQeRkm5NMpJWZG3hSuFV00000000",
                    "V47DEQpj8HBSa._TImW.5JCeuQeRkm5NMpJWZG3hSuFU00000000#tag"]:
            with self.subTest(bad), self.assertRaises(gg.InvalidError) as e:
                gg.parse_name(bad)
            self.assertIn("not an object name", str(e.exception))


class ValidationTest(unittest.TestCase):
    def check(self, change, message):
        t = full_thunk()
        change(t)
        with self.assertRaises(gg.InvalidError) as e:
            t.serialize()
        self.assertIn(message, str(e.exception))

    def test_malformed_thunks_are_refused_with_the_reason(self):
        self.check(lambda t: t.outputs.clear(), "at least one output")
        self.check(lambda t: t.args.clear(), "argv is empty")
        self.check(lambda t: setattr(t, "function", gg.name_of(b"other")), "not among the executable inputs")
        self.check(lambda t: t.add_input(gg.name_of(b"x"), "in/hello.txt"), "share the path")
        self.check(lambda t: t.add_input(gg.name_of(b"x"), "../up"), "clean relative path")
        self.check(lambda t: t.env.append("NOEQUALS"), "has no '='")
        self.check(lambda t: t.add_input("Vnot-a-name", "x"), "not an object name")
        self.check(lambda t: t.env.append("=x"), "empty name")
        self.check(lambda t: t.args.append("a\0b"), "NUL byte")
        self.check(lambda t: t.env.append("A=\0"), "NUL byte")
        self.check(lambda t: setattr(t, "timeout_ms", 31 * 24 * 3600 * 1000), "30 days")
        # The same bounds as gg's own ValidateLimits.
        self.check(lambda t: setattr(t, "limits", gg.Limits(memory_bytes=1 << 20)), "at least 16 MiB")
        self.check(lambda t: setattr(t, "limits", gg.Limits(tmp_bytes=1 << 51)), "above the maximum of 1 PiB")
        self.check(lambda t: setattr(t, "limits", gg.Limits(processes=1 << 23)), "above the maximum")
        self.check(lambda t: setattr(t, "limits", gg.Limits(file_bytes=-1)), "non-negative integer")

    def test_corrupt_bytes(self):
        with self.assertRaises(gg.CorruptError):
            gg.Thunk.parse(b"not a thunk")
        with self.assertRaises(gg.CorruptError):
            gg.Thunk.parse(gg.thunk.THUNK_MAGIC + b"\xff\xff\xff")
        bad_version = minimal_thunk().serialize().replace(b"\x08\x01", b"\x08\x02", 1)
        with self.assertRaises(gg.CorruptError) as e:
            gg.Thunk.parse(bad_version)
        self.assertIn("upgrade gg", str(e.exception))
        # A limits message (field 9) that sets nothing: gg refuses it too, since
        # the thunk would otherwise have two names for one meaning.
        empty_limits = minimal_thunk().serialize() + b"\x4a\x00"
        with self.assertRaises(gg.CorruptError) as e:
            gg.Thunk.parse(empty_limits)
        self.assertIn("sets no limit", str(e.exception))


class TreeValidationTest(unittest.TestCase):
    """Hostile trees (issue 10): refused when built and when parsed, as gg does."""
    V = gg.name_of(b"x")
    HOSTILE = {
        "appears twice": [("a", 0o100644, V, ""), ("a", 0o100644, V, "")],
        "is below 'l'": [("l", 0o120777, "", "/etc"), ("l/evil", 0o100644, V, "")],
        "is below 'f'": [("f", 0o100644, V, ""), ("f/x", 0o100644, V, "")],
        "is below 'missing'": [("missing/x", 0o100644, V, "")],
        "not a clean relative path": [("../up", 0o100644, V, "")],
        "empty or NUL-bearing target": [("l", 0o120777, "", "")],
    }

    @staticmethod
    def raw(entries):
        fb = gg._wire.field_bytes
        body = b"".join(fb(2, fb(1, p.encode()) + gg._wire.field_varint(2, m) + (fb(3, n.encode()) if n else b"")
                              + (fb(4, t.encode()) if t else b"")) for p, m, n, t in entries)
        return gg.tree.TREE_MAGIC + b"\x08\x01" + body

    def test_hostile_trees_are_refused(self):
        for why, entries in self.HOSTILE.items():
            with self.subTest(why):
                with self.assertRaises(gg.CorruptError) as e:
                    gg.Tree.parse(self.raw(entries))
                self.assertIn(why, str(e.exception))
                kinds = {0o100644: "file", 0o120777: "symlink"}
                built = gg.Tree([gg.TreeEntry(p, kinds[m], n, False, t) for p, m, n, t in entries])
                with self.assertRaises(gg.InvalidError) as e:
                    built.serialize()
                self.assertIn(why, str(e.exception))

    def test_out_of_order_bytes_are_refused(self):
        with self.assertRaises(gg.CorruptError) as e:
            gg.Tree.parse(self.raw([("b", 0o100644, self.V, ""), ("a", 0o100644, self.V, "")]))
        self.assertIn("out of order", str(e.exception))


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gg-py-")
        self.store = gg.Store.init(os.path.join(self.dir, ".gg"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_put_get_and_missing(self):
        n = self.store.put(b"content")
        self.assertEqual(self.store.get(n), b"content")
        self.assertEqual(os.stat(os.path.join(self.store.dir, "blobs", n)).st_mode & 0o777, 0o444)
        missing = gg.name_of(b"never stored")
        with self.assertRaises(gg.NotFoundError) as e:
            self.store.get(missing)
        self.assertIn(missing, str(e.exception))

    def test_damaged_object_is_corrupt(self):
        n = self.store.put(b"content")
        path = os.path.join(self.store.dir, "blobs", n)
        os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(b"changed")
        with self.assertRaises(gg.CorruptError):
            self.store.get(n)

    def test_large_file_is_streamed(self):
        path = os.path.join(self.dir, "big")
        with open(path, "wb") as f:
            f.write(os.urandom(3 << 20))
        n = self.store.put_file(path)
        self.assertEqual(n, gg.name_of_file(path))
        self.assertEqual(len(self.store.get(n)), 3 << 20)

    def test_put_parts_stores_the_concatenation_and_records_large_blobs_hashed(self):
        big = os.urandom(2 << 20)
        path = os.path.join(self.dir, "big")
        with open(path, "wb") as f:
            f.write(big)
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
            view = memoryview(mapped)
            n = self.store.put_parts([b"head\n", view[5:]])
            view.release()
        self.assertEqual(n, gg.name_of(b"head\n" + big[5:]))
        self.assertEqual(self.store.get(n), b"head\n" + big[5:])
        self.assertEqual(self.store.put_parts([b"head\n" + big[5:]]), n)  # already there
        # gg's hash cache (docs/store_format.md) knows the blob by its stat,
        # so gg need not hash it again; small blobs are left out of it.
        small = self.store.put_parts([b"small"])
        st = os.stat(os.path.join(self.store.dir, "blobs", n))
        with open(os.path.join(self.store.dir, "hashcache")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, [f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {n}"])
        self.assertNotIn(small, " ".join(lines))

    def test_put_parts_in_one_pass_names_and_stores_the_same(self):
        big = os.urandom((3 << 20) + 123)  # more than one 1 MB piece, and a part of one
        n = self.store.put_parts([b"head\n", memoryview(big)], one_pass=True)
        self.assertEqual(n, gg.name_of(b"head\n" + big))
        self.assertEqual(self.store.get(n), b"head\n" + big)
        with open(os.path.join(self.store.dir, "hashcache")) as f:
            self.assertIn(n, f.read())
        # Already stored: the same name, the blob untouched, no temporary left.
        before = os.stat(os.path.join(self.store.dir, "blobs", n)).st_ino
        self.assertEqual(self.store.put_parts([b"head\n" + big], one_pass=True), n)
        self.assertEqual(os.stat(os.path.join(self.store.dir, "blobs", n)).st_ino, before)
        self.assertEqual(os.listdir(os.path.join(self.store.dir, "tmp")), [])
        self.assertEqual(self.store.put_parts([b"#!x"], one_pass=True), gg.name_of(b"#!x"))

    def test_collect_directory(self):
        root = os.path.join(self.dir, "tree")
        os.makedirs(os.path.join(root, "sub"))
        with open(os.path.join(root, "sub", "a"), "w") as f:
            f.write("a")
        os.symlink("sub/a", os.path.join(root, "link"))
        tree = self.store.get_tree(self.store.collect(root))
        kinds = {e.path: e.kind for e in tree.entries}
        self.assertEqual(kinds, {"sub": "dir", "sub/a": "file", "link": "symlink"})

    def test_put_thunk_and_placeholder(self):
        t = full_thunk()
        n = self.store.put_thunk(t)
        self.assertEqual(self.store.get_thunk(n), gg.Thunk.parse(t.serialize()))
        ph = os.path.join(self.dir, "out.o")
        self.store.write_placeholder(ph, n)
        self.assertEqual(gg.read_placeholder(ph), n)
        self.assertIsNone(self.store.reduced_to(n))
        self.assertIsNone(self.store.output(n))


if __name__ == "__main__":
    unittest.main()
