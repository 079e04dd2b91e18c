"""A real single-node Slurm cluster (slurmctld + slurmd, AuthType=auth/none)
in a scratch directory, on free loopback ports, stopped by PID."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from ggtest import free_port


class SlurmCluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gg-slurm-")
        self.procs = []
        host = socket.gethostname()
        for sub in ("state", "spool", "log"):
            os.makedirs(os.path.join(self.dir, sub))
        self.conf = os.path.join(self.dir, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=ggtest
SlurmctldHost={host}(127.0.0.1)
AuthType=auth/none
CredType=cred/none
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={self.dir}/state
SlurmdSpoolDir={self.dir}/spool
SlurmctldPidFile={self.dir}/slurmctld.pid
SlurmdPidFile={self.dir}/slurmd.pid
SlurmctldLogFile={self.dir}/log/slurmctld.log
SlurmdLogFile={self.dir}/log/slurmd.log
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=gg Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:50
""")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        log = open(os.path.join(self.dir, "log", "daemons.out"), "w")
        self.procs.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", self.conf], env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(["slurmd", "-D", "-N", host, "-f", self.conf], env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT))
        log.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            p = subprocess.run(["sinfo", "--noheader", "--format=%t"], env=self.env, capture_output=True, text=True)
            if p.returncode == 0 and p.stdout.strip() in ("idle", "mix", "alloc"):
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the Slurm cluster did not come up; see " + self.dir)

    def squeue(self):
        p = subprocess.run(["squeue", "--noheader", "--format=%i"], env=self.env, capture_output=True, text=True)
        return p.stdout.split()

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
