#!/usr/bin/env bash
# Makes every picture in the README (docs/*.png) with the shipped models and the CLI.
#   experiments/readme_figures.sh [DATA_DIR]   (default ../shared/data)
set -euo pipefail
data=${1:-../shared/data}
mkdir -p docs
if [ "${SKIP_DONE:-0}" = 0 ]; then
autoreg sample --model pixelcnn --num 16 --seed 0 --out docs/samples_pixelcnn.png
autoreg sample --model row_lstm --num 16 --seed 0 --out docs/samples_row_lstm.png
autoreg sample --model pixelsnail --num 16 --seed 0 --out docs/samples_pixelsnail.png
autoreg sample --model gated_pixelcnn --label 0 1 2 3 4 5 6 7 8 9 --num 20 --seed 0 \
    --out docs/samples_gated_pixelcnn_by_label.png
autoreg complete --model gated_pixelcnn --data "$data/mnist.npz" --index 0 1 2 3 --num 4 \
    --occlude bottom --out docs/complete_bottom.png
fi
autoreg complete --model gated_pixelcnn --data "$data/mnist.npz" --index 0 1 2 --num 3 \
    --occlude box:8,6,20,22 --particles 8 --out docs/complete_box_smc.png
autoreg eval --model pixelcnn --data "$data/mnist.npz" --limit 8 --heatmap docs/heatmap.png
for texture in brick grass gravel; do
    autoreg texture --image "$data/images/$texture.png" --size 96 --method efros-leung \
        --out "docs/texture_${texture}_efros_leung.png"
    autoreg texture --image "$data/images/$texture.png" --size 96 --method pixelcnn \
        --steps 300 --out "docs/texture_${texture}_pixelcnn.png"
done
python - "$data" <<'PY'
import sys

from autoreg.data.images import read_image
from autoreg.image_io import save_picture
from autoreg.texture import downscale

for name in ["brick", "grass", "gravel"]:  # upscaled as the textures are (the CLI's default)
    source = downscale(read_image(f"{sys.argv[1]}/images/{name}.png"), 128)[:96, :96, 0]
    save_picture(source, f"docs/texture_{name}_source.png")
PY
