#!/usr/bin/env bash
# The video results: the shipped Video PixelCNN on the Moving MNIST test split in the VPN's
# protocol, its sampler against a forward pass at 64x64, and the README's GIFs (the model's
# futures beside the nearest neighbour's), with the shipped model and the CLI.
#   experiments/video_results.sh [DATA_DIR]   (default ../shared/data)
set -euo pipefail
data=${1:-../shared/data}
results=experiments/results
python experiments/video_eval.py video_pixelcnn "$data/mnist.npz" --clips 1000 \
    --json "$results/video_moving_mnist_cpu.json"
(cd experiments && python video_speed.py --json "results/video_speed_cpu.json")
clip=(--video "moving_mnist:$data/mnist.npz" --index 0 --context 10 --frames 10 --num 3)
autoreg predict --model video_pixelcnn "${clip[@]}" --seed 0 --out docs/video_model.gif
autoreg predict --model video_pixelcnn "${clip[@]}" --method nearest --out docs/video_nearest.gif
