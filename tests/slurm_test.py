"""`gg force --engine slurm=N` against a real single-node Slurm cluster."""
import os
import shutil
import subprocess
import unittest

from ggtest import GG, GGTestCase
from slurm_cluster import SlurmCluster


@unittest.skipUnless(shutil.which("slurmctld") and os.geteuid() == 0, "needs slurm-wlm and root")
class SlurmTest(GGTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = SlurmCluster()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_workers_run_through_slurm_and_are_cancelled(self):
        targets = [self.sh_thunk(f"sleep 0.3; echo slurm {i} > out") for i in range(10)]
        trace = os.path.join(self.dir, "trace.json")
        env = dict(self.env, SLURM_CONF=self.cluster.conf, GG_COORDINATOR_HOST="127.0.0.1")
        p = subprocess.run([GG, "force", "--engine", "slurm=2,slots=3,partition=gg", "--trace", trace, *targets],
                           cwd=self.dir, env=env, capture_output=True, text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([self.cat(o) for o in p.stdout.split()], [f"slurm {i}\n" for i in range(10)])
        engines = {e["args"]["engine"] for e in self.trace(trace) if e["cat"].startswith("running")}
        self.assertEqual(engines, {"slurm"})
        self.assertEqual(self.cluster.squeue(), [])

    def test_bad_partition_is_a_clear_error(self):
        t = self.sh_thunk("echo > out")
        env = dict(self.env, SLURM_CONF=self.cluster.conf)
        p = subprocess.run([GG, "force", "--engine", "slurm=1,partition=nope", t], cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 3)
        self.assertIn("cannot submit the Slurm workers", p.stderr)
        self.assertIn("partition", p.stderr.lower())


if __name__ == "__main__":
    unittest.main()
