"""A sweep on a real single-node SLURM cluster (Debian slurm-wlm + munge, started here and
stopped after, see ../shared/ECOSYSTEM.md): Hydra's submitit launcher submits a job array, the
runs land in the sweep folder, and they are the same runs the local launcher makes."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SMALL = ["n_firms=150", "end_year=2026", "write_firm_panel=false"]


def _need(cond: bool, why: str):
    if not cond:
        if os.environ.get("CI"):  # CI installs slurm-wlm + munge (make sysdeps) and runs as root
            pytest.fail(f"SLURM test cannot run in CI: {why}")
        pytest.skip(why)


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


@pytest.fixture(scope="module")
def slurm():
    """munged + slurmctld + slurmd on this machine; yields the env for SLURM clients."""
    _need(hasattr(os, "geteuid") and os.geteuid() == 0, "needs root to start munged/slurmctld/slurmd")
    for exe in ("munged", "slurmctld", "slurmd", "sbatch", "sinfo"):
        _need(shutil.which(exe) is not None or Path(f"/usr/sbin/{exe}").exists(), f"{exe} not installed (make sysdeps)")
    base = Path(tempfile.mkdtemp(prefix="slurm-"))
    os.chmod(base, 0o755)
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool", "log"):
        (base / sub).mkdir()
    conf = base / "slurm.conf"
    ports = []
    for _ in range(2):  # free ports: no clash with another SLURM (or another test session) on this machine
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            ports.append(sk.getsockname()[1])
    mem_mb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1]) // 1024
    conf.write_text(f"""ClusterName=simtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/log/slurmctld.log
SlurmdLogFile={base}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory={mem_mb * 9 // 10} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started_munge = None
    if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:
        munge = pwd.getpwnam("munge")
        for d in ("/run/munge", "/var/lib/munge", "/var/log/munge"):
            Path(d).mkdir(parents=True, exist_ok=True)
            os.chown(d, munge.pw_uid, munge.pw_gid)
        key = Path("/etc/munge/munge.key")
        if not key.exists():  # the Debian package creates it; a trimmed image may not have
            subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True, timeout=30)
            os.chown(key, munge.pw_uid, munge.pw_gid)
            os.chmod(key, 0o600)
        subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True, timeout=30)
        for _ in range(50):
            if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        started_munge = _pid(Path("/run/munge/munged.pid"))
    try:
        subprocess.run(["/usr/sbin/slurmctld", "-f", str(conf)], check=True, env=env, timeout=30)
        subprocess.run(["/usr/sbin/slurmd", "-f", str(conf)], check=True, env=env, timeout=30)
        t0 = time.time()
        state = ""
        while time.time() - t0 < 30:
            r = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env)
            state = r.stdout.strip()
            if r.returncode == 0 and state.startswith("idle"):
                break
            time.sleep(0.3)
        assert state.startswith("idle"), f"SLURM node not idle: {state!r} {(base / 'log' / 'slurmctld.log').read_text()[-2000:]}"
        yield env
    finally:
        subprocess.run(["scancel", "--user=root"], env=env, capture_output=True)
        _stop(_pid(base / "slurmd.pid"))
        _stop(_pid(base / "slurmctld.pid"))
        _stop(started_munge)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_sweep_runs_as_a_slurm_job_array(slurm, tmp_path):
    out = tmp_path / "slurm_sweep"
    r = subprocess.run([sys.executable, "-m", "sim.run", "--multirun", *SMALL, "seed=0,1,2",
                        "hydra/launcher=slurm", "hydra.launcher.timeout_min=5", f"hydra.sweep.dir={out}"],
                       cwd=REPO, capture_output=True, text=True, env=slurm, timeout=400)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    runs = sorted(out.glob("*/summary.json"))
    assert len(runs) == 3
    # the runs went through SLURM: submitit's job folders hold the array's logs
    logs = list((out / ".submitit").rglob("*_log.out"))
    assert len(logs) == 3, sorted(p.name for p in (out / ".submitit").rglob("*"))
    assert any("SLURM" in p.read_text() or "submitit" in p.read_text() for p in logs)
    # the same config + seed on SLURM gives the same run as a local in-process run
    from hydra.core.global_hydra import GlobalHydra

    from sim.params import to_config
    from sim.run import compose, run_model

    cfg = compose(SMALL + ["seed=1"])
    GlobalHydra.instance().clear()
    local = run_model(to_config(cfg)).summary
    remote = json.loads(next(p for p in runs if "seed=1" in str(p)).read_text())
    assert remote["emissions_t_co2_by_year"] == {str(k): v for k, v in local["emissions_t_co2_by_year"].items()}
    assert remote["adoptions"] == local["adoptions"]


@pytest.mark.slow
def test_unknown_partition_stops_the_sweep(slurm, tmp_path):
    out = tmp_path / "x"
    r = subprocess.run([sys.executable, "-m", "sim.run", "--multirun", *SMALL, "seed=0,1", "hydra/launcher=slurm",
                        "hydra.launcher.partition=gpu_nowhere", f"hydra.sweep.dir={out}"],
                       cwd=REPO, capture_output=True, text=True, env=slurm, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "error: hydra.launcher.partition = 'gpu_nowhere': no such SLURM partition; available: debug"]
    assert not out.exists()


@pytest.mark.slow
def test_a_request_the_cluster_cannot_satisfy_stops_the_sweep(slurm, tmp_path):
    out = tmp_path / "x"
    r = subprocess.run([sys.executable, "-m", "sim.run", "--multirun", *SMALL, "seed=0,1", "hydra/launcher=slurm",
                        "hydra.launcher.mem_gb=100000", f"hydra.sweep.dir={out}"],
                       cwd=REPO, capture_output=True, text=True, env=slurm, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: hydra/launcher=slurm: SLURM would not accept the jobs ("), r.stderr
    assert "mem" in lines[0].lower()
    assert not out.exists()
