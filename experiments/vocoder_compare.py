"""The shipped WaveNet vocoder beside Griffin-Lim on the held-out seconds of each speech clip.

For the last ``--holdout-seconds`` of each LibriSpeech clip (never seen in training), prints and
saves per clip:

- bits per sample of the audio given its mel under the vocoder (``wavenet_vocoder``), and under
  the shipped unconditional ``wavenet`` (the same mu-law codes, the same zero context before);
- for the WaveNet resynthesis (``autoreg.vocode.vocode``, seed 0) and for Griffin-Lim (32
  iterations, ``librosa``) from the same mel: the log-mel spectral distance to the original
  (RMS over the 80 bands of the difference of the log-mel in dB, averaged over frames), the
  correlation of the frame energy envelopes (per-frame RMS in dB, floor -80 dB, Pearson), and
  the wall time on this machine.

Writes the table to ``--out`` (markdown + JSON beside it) and the spectrograms of the first
clip (original / WaveNet / Griffin-Lim, one above another, axes in seconds and Hz, one colour
bar in dB: ``autoreg.spectrogram``) to ``--figures``/vocoder_spectrograms.png.

    python experiments/vocoder_compare.py --data ../shared/data \
        --out experiments/results/vocoder_cpu.md --figures docs

The figure alone, from the first clip (half a minute on a 2-core CPU; the table goes to /tmp):

    python experiments/vocoder_compare.py --clips 1 --out /tmp/vocoder.md --figures docs
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import autoreg
from autoreg.data.audio import mu_law_encode, read_audio
from autoreg.data.mel import log_mel
from autoreg.image_io import check_writable
from autoreg.pretrained import load_pretrained
from autoreg.spectrogram import save_spectrogram_comparison
from autoreg.vocode import griffin_lim, vocode

CLIPS = (
    "librispeech-198-209-0000.ogg",
    "librispeech-3436-172162-0000.ogg",
    "librispeech-5703-47212-0000.ogg",
)

FIGURE = "vocoder_spectrograms.png"
PANELS = ("original", "WaveNet vocoder (seed 0)", "Griffin-Lim (32 iterations)")


def spectral_distance_db(reference: np.ndarray, other: np.ndarray, analysis) -> float:
    """Mean over frames of the RMS over bands of the log-mel difference, in dB."""
    to_db = analysis.log_scale * 20.0 / math.log(10.0)  # log_mel units -> dB of magnitude
    diff = (reference - other) * to_db  # (frames, bands)
    return float(np.sqrt((diff**2).mean(axis=1)).mean())


def energy_envelope_db(audio: np.ndarray, hop: int) -> np.ndarray:
    """Per-frame RMS in dB (floor -80 dB): (len // hop,)."""
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    return 20.0 * np.log10(np.maximum(np.sqrt((frames**2).mean(axis=1)), 1e-4))


def timed(fn):
    """(result, seconds) of ``fn()``."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def compare_clip(vocoder, unconditional, path: Path, holdout: float) -> dict:
    """The row of one clip, and the three spectrograms (original, WaveNet, Griffin-Lim)."""
    analysis = vocoder.config.mel
    audio = read_audio(path, analysis.sample_rate)
    tail = audio[len(audio) - round(holdout * analysis.sample_rate) :]
    mel = log_mel(tail, analysis)  # (frames, 80)
    tail = tail[: len(mel) * analysis.hop_length]
    codes = mu_law_encode(tail, vocoder.levels)[None]
    row = {
        "clip": path.name,
        "seconds": len(tail) / analysis.sample_rate,
        "vocoder_bits_given_mel": autoreg.bits_per_dim(vocoder, codes, features=mel[None]),
        "wavenet_bits": autoreg.bits_per_dim(unconditional, codes),
    }
    vocode(vocoder, mel, seed=1)  # compile first: the time below is generation only
    griffin_lim(mel[:8], analysis)
    wavenet_audio, row["wavenet_seconds"] = timed(lambda: vocode(vocoder, mel, seed=0))
    gl_audio, row["griffin_lim_seconds"] = timed(lambda: griffin_lim(mel, analysis))
    spectrograms = {"original": mel}
    original_energy = energy_envelope_db(tail, analysis.hop_length)
    for name, resynthesis in (("wavenet", wavenet_audio), ("griffin_lim", gl_audio)):
        again = log_mel(resynthesis, analysis)
        spectrograms[name] = again
        row[f"{name}_distance_db"] = spectral_distance_db(mel, again, analysis)
        envelope = energy_envelope_db(resynthesis, analysis.hop_length)
        row[f"{name}_envelope_corr"] = float(np.corrcoef(original_energy, envelope)[0, 1])
    return row, spectrograms


def markdown(rows: list) -> str:
    """The table of ``rows`` as markdown."""
    head = (
        "| clip | vocoder bits/sample given mel | unconditional wavenet bits/sample | difference "
        "| log-mel distance WaveNet / Griffin-Lim (dB) | envelope corr. WaveNet / Griffin-Lim "
        "| time WaveNet / Griffin-Lim (s) |\n|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['clip']} | {r['vocoder_bits_given_mel']:.3f} | {r['wavenet_bits']:.3f} | "
        f"{r['vocoder_bits_given_mel'] - r['wavenet_bits']:+.3f} | "
        f"{r['wavenet_distance_db']:.2f} / {r['griffin_lim_distance_db']:.2f} | "
        f"{r['wavenet_envelope_corr']:.3f} / {r['griffin_lim_envelope_corr']:.3f} | "
        f"{r['wavenet_seconds']:.1f} / {r['griffin_lim_seconds']:.1f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", help="folder with audio/")
    parser.add_argument("--holdout-seconds", type=float, default=2.0)
    parser.add_argument("--out", default="experiments/results/vocoder_cpu.md")
    parser.add_argument("--figures", default="docs", help="folder for the spectrogram PNG")
    parser.add_argument("--clips", type=int, default=len(CLIPS), help="compare the first N clips")
    args = parser.parse_args()
    figure = check_writable(Path(args.figures) / FIGURE)  # before the work, not after
    vocoder, unconditional = load_pretrained("wavenet_vocoder"), load_pretrained("wavenet")
    rows = []
    for i, clip in enumerate(CLIPS[: args.clips]):
        row, spectrograms = compare_clip(
            vocoder, unconditional, Path(args.data) / "audio" / clip, args.holdout_seconds
        )
        rows.append(row)
        print(json.dumps(row))
        if i == 0:
            named = dict(zip(PANELS, spectrograms.values(), strict=True))
            title = f"held-out {args.holdout_seconds:g} s of {Path(clip).stem}"
            save_spectrogram_comparison(named, vocoder.config.mel, figure, title=title)
            print(f"wrote {figure}")
    table = markdown(rows)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
