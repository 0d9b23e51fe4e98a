"""Training speed with 1 and 2 processes: `python -m genlab train` alone, then through `accelerate launch`.

Usage: python benchmarks/train_processes.py [--steps 60] [--families gan gpt] [--processes 1 2] [--repeats 3]
Every run trains the family's shipped model with its shipped global batch, so a step is the same
work whatever the process count. Steps/s is timed here, from the arrival of the CLI's log line of
step WARMUP to that of the last step (start-up, the first steps and the final save left out).
On GPUs each process takes one GPU; on CPUs the cores are shared out
(`--num_cpu_threads_per_process`), so 2 processes use no more cores than 1. Data as for
`python -m genlab train`: set GENLAB_DATA_DIR and GENLAB_TEXT_PATH to train offline.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab.registry import FAMILIES  # noqa: E402

WARMUP = 5  # steps before the clock starts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(processes: int, threads: int, argv: list) -> list:
    """`python -m genlab ...` for the plain row, `accelerate launch ... -m genlab ...` for the others."""
    if processes == 0:
        return [sys.executable, "-m", "genlab", *argv]
    accelerate = str(Path(sys.executable).with_name("accelerate"))
    many = ["--multi_gpu"] if processes > 1 else []
    return [accelerate, "launch", *many, "--num_processes", str(processes), "--num_machines", "1",
            "--num_cpu_threads_per_process", str(threads), "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", str(free_port()), "-m", "genlab", *argv]


def steps_per_second(family, steps: int, processes: int, threads: int) -> float:
    """Steps per second between the log lines of step WARMUP and step `steps` (one line per step)."""
    seen = {}
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["train", family.name, "--steps", str(steps), "--out", f"{tmp}/out", "--checkpoint", f"{tmp}/ckpt",
                "--save-every", "0", "--log-every", "1"]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        process = subprocess.Popen(command(processes, threads, argv), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        lines = []
        for line in process.stderr:
            lines.append(line)
            logged = re.match(r"\[\s*(\d+)/", line)
            if logged:
                seen[int(logged[1])] = time.perf_counter()
        if process.wait() != 0 or WARMUP not in seen or steps not in seen:
            raise RuntimeError(f"{family.name} with {processes} processes failed:\n{''.join(lines)[-2000:]}")
    return (steps - WARMUP) / (seen[steps] - seen[WARMUP])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--families", nargs="+", default=["gan", "gpt"])
    parser.add_argument("--processes", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    args = parser.parse_args()
    gpus = torch.cuda.device_count()
    cores = os.cpu_count() or 1
    where = f"{gpus} x {torch.cuda.get_device_name(0)}" if gpus else f"CPU, {cores} cores"
    print(f"torch {torch.__version__}, {where}, {args.steps} steps per run (timed from step {WARMUP}), the shipped "
          f"model and global batch, medians of {args.repeats} interleaved rounds")
    print("| family | global batch | launched by | processes | threads each | steps/s | vs. plain |")
    print("|---|---|---|---|---|---|---|")
    runs = [(0, cores)] + [(n, max(1, cores // n)) for n in args.processes if not gpus or n <= gpus]  # NCCL: 1 GPU each
    for name in args.families:
        family = FAMILIES[name]
        rounds = [[steps_per_second(family, args.steps, n, threads) for n, threads in runs]
                  for _ in range(args.repeats)]  # interleaved: drift and other load hit every row alike
        rates = [statistics.median(r[i] for r in rounds) for i in range(len(runs))]
        for (processes, threads), rate in zip(runs, rates):
            launcher = "accelerate launch" if processes else "python -m genlab"
            print(f"| {name} | {family.recipe.batch_size} | {launcher} | {max(processes, 1)} | {threads} | "
                  f"{rate:.2f} | {rate / rates[0]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
