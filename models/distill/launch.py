"""Start N ranks of ``python3 -m models.distill <command> ...`` with the environment torchrun sets.

    python3 -m models.distill.launch --nproc-per-node 2 all --config tiny
    # multi-node: the same line on every node, node ranks 0..M-1, one reachable rendezvous address
    python3 -m models.distill.launch --nnodes 2 --node-rank 0 --master-addr 10.0.0.1 --master-port 29500 \\
        --nproc-per-node 8 all --config paper

Why: Debian's torch 1.13 under Python 3.11 cannot run ``torchrun`` (its elastic agent fails at
start in ``to_map``), while the training code only needs the environment torchrun gives each
rank: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT.  On PyTorch 2.x
``torchrun --nproc_per_node N -m models.distill ...`` runs the same code.

When any rank exits non-zero (or is killed) the launcher stops the others (SIGTERM, then SIGKILL
after a grace period) and exits with that rank's status, so one failed rank never leaves the
rest waiting.  Ctrl-C / SIGTERM to the launcher stops every rank.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from typing import List


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free now (bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def rank_env(base: dict, local: int, nproc: int, node_rank: int, nnodes: int, addr: str, port: int) -> dict:
    env = dict(base)
    env.update({
        "RANK": str(node_rank * nproc + local),
        "LOCAL_RANK": str(local),
        "WORLD_SIZE": str(nproc * nnodes),
        "LOCAL_WORLD_SIZE": str(nproc),
        "GROUP_RANK": str(node_rank),
        "MASTER_ADDR": addr,
        "MASTER_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _stop(procs: List[subprocess.Popen], grace: float):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    end = time.time() + grace
    for p in procs:
        if p.poll() is None:
            try:
                p.wait(max(0.0, end - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run(cmd: List[str], nproc: int, nnodes: int = 1, node_rank: int = 0, addr: str = "127.0.0.1",
        port: int = 0, grace: float = 5.0, module: str = "models.distill") -> int:
    if nnodes > 1 and not port:
        raise SystemExit("--master-port is required with --nnodes > 1 (every node must use the same one)")
    port = port or free_port(addr if addr in ("127.0.0.1", "localhost") else "")
    procs: List[subprocess.Popen] = []
    stopping = {"sig": None}

    def on_signal(sig, _frame):
        stopping["sig"] = sig

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for local in range(nproc):
            env = rank_env(os.environ, local, nproc, node_rank, nnodes, addr, port)
            procs.append(subprocess.Popen([sys.executable, "-m", module] + cmd, env=env))
        while True:
            if stopping["sig"] is not None:
                print(f"[launch] signal {stopping['sig']}: stopping all ranks", file=sys.stderr, flush=True)
                _stop(procs, grace)
                return 128 + int(stopping["sig"])
            codes = [p.poll() for p in procs]
            bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                i, c = bad[0]
                print(f"[launch] rank {node_rank * nproc + i} exited with status {c}: stopping the others",
                      file=sys.stderr, flush=True)
                _stop(procs, grace)
                return c if c > 0 else 128 - c  # killed by signal -c
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.1)
    finally:
        _stop(procs, grace)
        for s, h in old.items():
            signal.signal(s, h)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m models.distill.launch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, dest="nproc")
    ap.add_argument("--nnodes", type=int, default=1)
    ap.add_argument("--node-rank", "--node_rank", type=int, default=0, dest="node_rank")
    ap.add_argument("--master-addr", "--master_addr", default="127.0.0.1", dest="addr")
    ap.add_argument("--master-port", "--master_port", type=int, default=0, dest="port",
                    help="default: a free port (single node only)")
    ap.add_argument("--grace", type=float, default=5.0, help="seconds between SIGTERM and SIGKILL when stopping ranks")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="models.distill command line (e.g. all --config tiny)")
    a = ap.parse_args(argv)
    if not a.command:
        ap.error("give the models.distill command to run, e.g. `all --config tiny`")
    if a.nproc < 1 or a.nnodes < 1 or not 0 <= a.node_rank < a.nnodes:
        ap.error("need --nproc-per-node >= 1, --nnodes >= 1 and 0 <= --node-rank < --nnodes")
    return run(a.command, a.nproc, a.nnodes, a.node_rank, a.addr, a.port, a.grace)


if __name__ == "__main__":
    sys.exit(main())
