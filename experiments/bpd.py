"""Bits-per-dim benchmark: every model on real data, beside published numbers.

    python experiments/bpd.py --data ../shared/data --workdir runs/bpd --budget gpu --parallel 13
    python experiments/bpd.py --workdir runs/bpd --report-only      # print the tables again
    python experiments/bpd.py --tables speech --uncapped-steps ...  # speech without its step cap

Each row trains one model with ``autoreg train`` (same budget for every model of a table: the
same number of steps and batch size; reference presets, PixelCNN, Row LSTM and Diagonal BiLSTM
within 20% in parameters, Gated PixelCNN about twice as large) and evaluates
the test split with ``autoreg eval --json``. Results land in WORKDIR/<table>-<model>/ and the
tables in WORKDIR/bpd.md. Published numbers are quoted with their source; theirs come from far
longer training (and CIFAR-10, where ours are 32x32 patches of three photographs).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

BUDGETS = {
    # steps, batch size, minutes cap per run
    "smoke": dict(steps=2, batch=4, minutes=5),  # checks the pipeline, numbers mean nothing
    "cpu": dict(steps=300, batch=16, minutes=60),
    "gpu": dict(steps=1000, batch=64, minutes=6),
}

PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png"]
SPEECH = [
    "librispeech-198-209-0000.ogg",
    "librispeech-3436-172162-0000.ogg",
    "librispeech-5703-47212-0000.ogg",
]


IMAGE_MODELS = ["pixelcnn", "gated_pixelcnn", "row_lstm", "diagonal_bilstm", "pixelsnail"]


class Table(NamedTuple):
    """One results table: its data, its models and the published numbers beside them."""

    title: str
    unit: str  # "bits/dim", "nats/image" or "bits/sample"
    data_args: Callable[[str], list]  # data folder -> train/eval data arguments
    models: list
    published: list  # [(model, value, source)]
    caps: dict = {}  # caps on the budget's "steps" and "batch" for this table


TABLES = {
    "mnist": Table(
        "MNIST, 8-bit (256-way softmax), test bits/dim",
        "bits/dim",
        lambda d: ["--data", f"{d}/mnist.npz"],
        IMAGE_MODELS,
        [
            (
                "gated_pixelcnn",
                0.81,
                "Gated PixelCNN, 256-way softmax, 150 epochs "
                "(UvA Deep Learning Tutorial 12, Lippe: 0.808)",
            )
        ],
    ),
    "binarized": Table(
        "Stochastically binarized MNIST (K = 2, one fixed draw: `--binarize stochastic`), "
        "test NLL in nats per image",
        "nats/image",
        lambda d: ["--data", f"{d}/mnist.npz", "--binarize", "stochastic"],
        IMAGE_MODELS,
        [
            ("pixelcnn", 81.30, "PixelRNN paper, Table 4"),
            ("row_lstm", 80.54, "PixelRNN paper, Table 4"),
            ("diagonal_bilstm", 79.20, "PixelRNN paper, Table 4"),
            ("pixelsnail", 78.61, "pytorch-generative (PixelSNAIL)"),
        ],
    ),
    "threshold": Table(
        "Threshold-binarized MNIST (K = 2, `--binarize threshold`), test NLL in nats per image: "
        "an easier set than the papers', NOT comparable with their numbers",
        "nats/image",
        lambda d: ["--data", f"{d}/mnist.npz", "--binarize", "threshold"],
        IMAGE_MODELS,
        [],
    ),
    "rgb": Table(
        "32x32 RGB patches of three photographs, test bits/dim",
        "bits/dim",
        lambda d: [
            "--data",
            ",".join(f"{d}/images/{p}" for p in PHOTOS),
            "--patch-size",
            "32",
            "--num-patches",
            "20000",
        ],
        IMAGE_MODELS,
        [
            ("pixelcnn", 3.14, "PixelRNN paper, CIFAR-10"),
            ("row_lstm", 3.07, "PixelRNN paper, CIFAR-10"),
            ("diagonal_bilstm", 3.00, "PixelRNN paper, CIFAR-10"),
            ("gated_pixelcnn", 3.03, "Conditional PixelCNN paper, CIFAR-10"),
            ("pixelcnn++", 2.92, "PixelCNN++ paper, CIFAR-10"),
            ("pixelsnail", 2.85, "PixelSNAIL paper, CIFAR-10"),
        ],
    ),
    "speech": Table(
        "Speech (LibriSpeech clips, last 2 s of each held out), bits per sample",
        "bits/sample",
        lambda d: ["--data", ",".join(f"{d}/audio/{p}" for p in SPEECH), "--window", "8000"],
        ["wavenet"],
        [],
        # 16 windows of 8,000 samples (128,000 samples) per step. The training audio is only
        # 40 s: 1000 such steps are 200 epochs and overfit (held-out 5.88 bits/sample at step
        # 500, 7.39 at 1000 on the H200), so the table stops at 250 steps (50 epochs).
        caps=dict(batch=16, steps=250),
    ),
}


def table_budget(table: str, budget: dict) -> dict:
    """The budget with the table's caps on steps and batch size applied."""
    caps = TABLES[table].caps
    return {key: min(value, caps.get(key, value)) for key, value in budget.items()}


def run_dir(workdir: Path, table: str, model: str) -> Path:
    return workdir / f"{table}-{model}"


def commands(
    table: str, model: str, data: str, workdir: Path, budget: dict, preset: str = "reference"
) -> list:
    """The train and eval commands of one row."""
    data_args = TABLES[table].data_args
    budget = table_budget(table, budget)
    out = run_dir(workdir, table, model)
    cli = [sys.executable, "-m", "autoreg.cli"]
    train = [
        *cli,
        "train",
        "--model",
        model,
        "--preset",
        preset,
        *data_args(data),
        "--workdir",
        str(out),
        "--steps",
        str(budget["steps"]),
        "--batch-size",
        str(budget["batch"]),
        "--lr",
        "2e-3",
        "--warmup-steps",
        "100",
        "--ema",
        "0.998",
        "--eval-every",
        "500",
        "--eval-examples",
        "500",
        "--checkpoint-every",
        "500",
        "--log-every",
        "50",
        "--sample-every",
        "-1",
        "--time-limit",
        str(budget["minutes"]),
        "--no-progress",
    ]
    evaluate = [*cli, "eval", "--checkpoint", str(out), "--json", str(out / "test.json")]
    # eval reads the same source, binarized the same way, and its test split
    skip = {"--num-patches", "20000"}
    evaluate += [a for a in data_args(data) if a not in skip]
    if table == "speech":
        evaluate += ["--holdout-seconds", "2"]
    return [train, evaluate]


def run_all(rows: list, data: str, workdir: Path, budget: dict, parallel: int, preset: str):
    """Run every row's commands (rows in parallel, each row's commands in order)."""
    pending = [(t, m, commands(t, m, data, workdir, budget, preset)) for t, m in rows]
    running = []
    while pending or running:
        while pending and len(running) < parallel:
            table, model, cmds = pending.pop(0)
            out = run_dir(workdir, table, model)
            out.mkdir(parents=True, exist_ok=True)
            train, *rest = (shlex.join(cmd) for cmd in cmds)
            clock = shlex.quote(str(out / "train_clock.txt"))  # start and end, in seconds
            timed = f"start=$(date +%s.%N) && {train} && echo $start $(date +%s.%N) > {clock}"
            script = " && ".join([timed, *rest])
            script = f"({script}) > {shlex.quote(str(out / 'log.txt'))} 2>&1"
            running.append((table, model, subprocess.Popen(script, shell=True)))
            print(f"started {table}/{model}", flush=True)
        for item in list(running):
            if item[2].poll() is not None:
                running.remove(item)
                print(f"finished {item[0]}/{item[1]} (exit {item[2].returncode})", flush=True)
        time.sleep(1)


def result(workdir: Path, table: str, model: str) -> dict | None:
    path = run_dir(workdir, table, model) / "test.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_facts(workdir: Path, table: str, model: str) -> tuple:
    """(steps trained, training wall-clock minutes) of a row, from its metrics and clock."""
    out = run_dir(workdir, table, model)
    metrics = out / "metrics.jsonl"
    if not metrics.exists():
        return None, None
    records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    steps = max((r["step"] for r in records), default=0)
    clock = out / "train_clock.txt"
    minutes = None
    if clock.exists():
        start, end = (float(v) for v in clock.read_text().split())
        minutes = (end - start) / 60
    return steps, minutes


def parameters(model: str, table: str) -> int:
    """Parameters of the reference preset of ``model`` on ``table``'s data."""
    from flax import nnx

    import autoreg
    from autoreg.models.config_io import count_params

    shape = {"rgb": (32, 32, 3)}.get(table, (28, 28, 1))
    levels = 2 if table in ("binarized", "threshold") else 256
    if model == "wavenet":
        return count_params(nnx.eval_shape(lambda: autoreg.create_model(model)))
    return count_params(
        nnx.eval_shape(lambda: autoreg.create_model(model, levels=levels, image_shape=shape))
    )


def report(workdir: Path, tables: list, budget: dict, budget_note: str) -> str:
    """Markdown tables: ours (with steps trained) beside published numbers."""
    lines = [f"Budget: {budget_note}", ""]
    for table in tables:
        title, unit, _, models, published, _ = TABLES[table]
        lines += [f"### {title}", ""]
        capped = table_budget(table, budget)
        if capped != budget:
            lines += [f"(this table: {capped['steps']} steps at batch {capped['batch']})", ""]
        lines += [
            f"| model | parameters | ours ({unit}) | steps | train minutes | published | source |",
            "|---|---|---|---|---|---|---|",
        ]
        quoted = {m: (v, s) for m, v, s in published}
        for model in models:
            res = result(workdir, table, model)
            if res is None:
                ours = "not run"
            else:
                value = res["nats_per_example"] if unit == "nats/image" else res["bits_per_dim"]
                ours = f"{value:.3f}" if unit != "nats/image" else f"{value:.2f}"
            value, source = quoted.pop(model, ("", ""))
            steps, minutes = run_facts(workdir, table, model)
            lines.append(
                f"| {model} | {parameters(model, table):,} | {ours} | {steps or ''} | "
                f"{'' if minutes is None else f'{minutes:.1f}'} | {value} | {source} |"
            )
        for model, (value, source) in quoted.items():
            lines.append(f"| {model} | | - | | | {value} | {source} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", help="folder of mnist.npz etc.")
    parser.add_argument("--workdir", default="runs/bpd", help="where runs and results go")
    parser.add_argument("--budget", default="cpu", choices=sorted(BUDGETS))
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated tables")
    parser.add_argument("--models", help="comma-separated models (default: every model of a table)")
    parser.add_argument("--preset", default="reference", help="model size (tiny: smoke test)")
    parser.add_argument("--parallel", type=int, default=1, help="rows trained at once")
    parser.add_argument(
        "--uncapped-steps",
        action="store_true",
        help="ignore the tables' caps on steps (their caps on batch size stay)",
    )
    parser.add_argument("--report-only", action="store_true", help="only print the tables")
    parser.add_argument("--device", default="", help="machine description for the report")
    args = parser.parse_args()
    tables = args.tables.split(",")
    if args.uncapped_steps:
        for name, table in TABLES.items():
            caps = {key: cap for key, cap in table.caps.items() if key != "steps"}
            TABLES[name] = table._replace(caps=caps)
    workdir = Path(args.workdir)
    budget = BUDGETS[args.budget]
    note = (
        f"`--budget {args.budget}`: {budget['steps']} steps at batch {budget['batch']} "
        f"(at most {budget['minutes']} min per run) on {args.device or 'this machine'}"
    )
    if not args.report_only:
        if args.parallel > 1:  # runs share the GPU: each takes memory as it needs it
            os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        wanted = args.models.split(",") if args.models else None
        rows = [(t, m) for t in tables for m in TABLES[t].models if not wanted or m in wanted]
        run_all(rows, args.data, workdir, budget, args.parallel, args.preset)
    text = report(workdir, tables, budget, note)
    (workdir / "bpd.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
