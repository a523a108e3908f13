#!/usr/bin/env bash
# Train the shipped mel-conditioned WaveNet vocoder (autoreg/assets/wavenet_vocoder) on the CPU.
#
#   experiments/train_vocoder.sh ../shared/data [runs/vocoder]
#
# The `vocoder` preset (2 stacks of 8 layers, 32 residual / 64 gate / 64 skip channels, 80
# log-mel bands every 256 samples, 194,944 parameters), trained on the three LibriSpeech clips
# with the last 2 s of each held out (as the speech table of experiments/bpd.py), 1,000 steps of
# 8 windows of 4,096 samples (16 frames), Adam 2e-3 with 100 warm-up steps, EMA 0.998: about
# 26 minutes on the 2-core CPU shared with other jobs. Then the EMA model is exported to the package's assets.
set -euo pipefail
DATA=${1:?usage: experiments/train_vocoder.sh DATA_DIR [WORKDIR]}
WORKDIR=${2:-runs/vocoder}
A=$DATA/audio
CLIPS=$A/librispeech-198-209-0000.ogg,$A/librispeech-3436-172162-0000.ogg,$A/librispeech-5703-47212-0000.ogg
autoreg train --model wavenet --preset vocoder --data "$CLIPS" --window 4096 \
  --workdir "$WORKDIR" --steps 1000 --batch-size 8 --lr 2e-3 --warmup-steps 100 --ema 0.998 \
  --eval-every 200 --eval-examples 64 --checkpoint-every 50 --log-every 10 --sample-every -1 \
  --time-limit 40 --no-progress
python - "$WORKDIR" <<'PY'
import sys

import autoreg

model = autoreg.load_checkpoint(sys.argv[1])
trained = {
    "data": "LibriSpeech 198-209-0000, 3436-172162-0000, 5703-47212-0000 minus the last 2 s each",
    "steps": 1000,
    "batch_size": 8,
    "window": 4096,
    "device": "the 2-core CPU",
    "command": "experiments/train_vocoder.sh",
    "ema_decay": 0.998,
}
autoreg.save_checkpoint(
    model, "autoreg/assets/wavenet_vocoder", extra={"trained": trained}, overwrite=True
)
PY
autoreg eval --model wavenet_vocoder --data "$CLIPS"
