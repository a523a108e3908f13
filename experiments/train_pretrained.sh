#!/usr/bin/env bash
# Trains the pretrained image models shipped in autoreg/assets, all at once on one machine
# (they were trained on one NVIDIA H200, concurrently, each capped at MINUTES of training).
#
#   experiments/train_pretrained.sh DATA_DIR WORK_DIR [MINUTES]
#
# DATA_DIR holds mnist.npz (../shared/data). Then, to ship a model:
#   python -c "import autoreg; autoreg.save_checkpoint(autoreg.load_checkpoint('WORK_DIR/pixelcnn'), 'autoreg/assets/pixelcnn')"
set -euo pipefail
data=$1
work=$2
minutes=${3:-5}
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.25  # three trainings share one accelerator
common=(--data "$data/mnist.npz" --preset reference --batch-size 128 --steps 5000 --lr 2e-3
        --warmup-steps 200 --ema 0.999 --time-limit "$minutes" --eval-every 1000
        --eval-examples 2000 --checkpoint-every 1000 --log-every 100 --no-progress)
python -m autoreg.cli train --model pixelcnn --workdir "$work/pixelcnn" "${common[@]}" &
python -m autoreg.cli train --model gated_pixelcnn --num-classes 10 \
    --workdir "$work/gated_pixelcnn" "${common[@]}" &
python -m autoreg.cli train --model row_lstm --workdir "$work/row_lstm" "${common[@]}" &
wait
for model in pixelcnn gated_pixelcnn row_lstm; do
    python -m autoreg.cli eval --checkpoint "$work/$model" --data "$data/mnist.npz" \
        --batch-size 500 --json "$work/$model-test.json"
done
