#!/usr/bin/env bash
# Renders perf/out/perf.data (or the file given) as an interactive flame
# graph (perf/out/flame.svg: hover for names and shares, click to zoom) and
# prints the functions with the most self samples.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-perf/out/perf.data}
perf script -i "$DATA" 2> /dev/null | python3 perf/flamegraph.py \
	--title "myring: $(basename "$DATA")" --svg perf/out/flame.svg --top 20
echo "flame: wrote perf/out/flame.svg"
