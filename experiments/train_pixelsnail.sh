#!/usr/bin/env bash
# Trains the shipped PixelSNAIL (autoreg/assets/pixelsnail) on the 2-core CPU, as it was made:
# the reference preset, batch 16, Adam 2e-3 with 100 warm-up steps and EMA 0.998; 1,500 steps,
# then resumed with --steps 3000 (which stretches the cosine schedule), about 70 minutes in all
# on a shared CPU. Then the test bits/dim on the whole MNIST test set, and the copy shipped.
#
#   experiments/train_pixelsnail.sh DATA_DIR WORK_DIR
set -euo pipefail
data=$1
work=$2
common=(--model pixelsnail --data "$data/mnist.npz" --workdir "$work" --preset reference
        --batch-size 16 --lr 2e-3 --warmup-steps 100 --ema 0.998 --eval-every 500
        --eval-examples 1000 --checkpoint-every 250 --log-every 50 --no-progress)
python -m autoreg.cli train "${common[@]}" --steps 1500 --time-limit 55
python -m autoreg.cli train "${common[@]}" --steps 3000 --time-limit 20 --resume
python -m autoreg.cli eval --checkpoint "$work" --data "$data/mnist.npz" --batch-size 200 \
    --json "$work-test.json"
# To ship (the test bits/dim recorded beside the config):
# python -c "import json, autoreg; from autoreg.checkpoint import read_metadata as r; \
#   m = autoreg.load_checkpoint('$work'); t = json.load(open('$work-test.json')); \
#   autoreg.save_checkpoint(m, 'autoreg/assets/pixelsnail', extra={**r('$work'), \
#   'test_bits_per_dim': t['bits_per_dim']})"
