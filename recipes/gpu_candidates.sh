#!/usr/bin/env bash
# Train candidate GAN and GPT recipes side by side on one GPU, then score them all.
#
# Usage (repo root, full MNIST and tiny-shakespeare under $GENLAB_DATA_DIR and its ../tinyshakespeare):
#   OUT=/tmp/candidates bash recipes/gpu_candidates.sh
# Each candidate is a plain `python -m genlab train ...` command, so the winner's recipe is the
# command recorded in its training.json. GAN runs use a constant learning rate and stop at the
# wall-time limit (--max-seconds; the CLI then saves): a GAN stopped at step N is the N-step recipe.
# GPT runs have fixed step counts (their cosine schedule needs its end); the limit only guards them.
# Environment: DEVICE (cuda), TRAIN_SECONDS (380), SCALE (1; divides every step count)
# and N (10000 samples per image model): smaller for a smoke run.
set -u
DEVICE=${DEVICE:-cuda}
TRAIN_SECONDS=${TRAIN_SECONDS:-380}
SCALE=${SCALE:-1}
N=${N:-10000}
OUT=${OUT:?set OUT to a folder for the results}
[ "$SCALE" -ge 1 ] 2>/dev/null || { echo "SCALE must be a whole number >= 1, got $SCALE" >&2; exit 2; }
RUN=$(mktemp -d /tmp/genlab-candidates.XXXXXX)  # runs, checkpoints and logs; only what is under $OUT is kept
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
steps() { echo $(( $1 / SCALE )); }

# name | family | flags (batch sizes explicit: the family recipe's default is the shipped one).
# The shipped GPT is gpt-l4d160 (1.4287 nats) from this script's first run, which had
# "--ema-decay 0.9999" (9.12x the FID floor) where gan-b256 is now. The shipped GAN came from a
# second run of batch 128 and 256 only (240 s, two jobs: 15,908 steps, 3.77x); on a busy GPU a
# wall-time-limited run reaches fewer steps, so `python -m genlab train gan` is its exact recipe.
CANDIDATES=(
  "gan-b64|gan|--steps $(steps 400000) --batch-size 64"
  "gan-b128|gan|--steps $(steps 400000) --batch-size 128"
  "gan-b256|gan|--steps $(steps 400000) --batch-size 256"
  "gan-w40|gan|--steps $(steps 400000) --batch-size 64 --g-width 40 --d-width 80"
  "gpt-l4d160|gpt|--steps $(steps 4000) --batch-size 64 --n-layer 4 --n-embd 160 --n-head 4"
  "gpt-l3d192|gpt|--steps $(steps 4000) --batch-size 64 --n-layer 3 --n-embd 192 --n-head 3"
  "gpt-l4d160-long|gpt|--steps $(steps 8000) --batch-size 64 --n-layer 4 --n-embd 160 --n-head 4 --dropout 0.2"
  "gpt-l4d160-ctx256|gpt|--steps $(steps 4000) --batch-size 64 --n-layer 4 --n-embd 160 --n-head 4 --context 256"
)

echo "== smoke: one short run of each family on $DEVICE"
for family in gan gpt; do
  python3 -m genlab --device "$DEVICE" train $family --steps 5 --batch-size 8 --log-every 1 --save-every 3 \
    --out "$RUN/smoke-$family" --checkpoint "$RUN/smoke-$family-ckpt" >"$RUN/smoke-$family.log" 2>&1 \
    || { cat "$RUN/smoke-$family.log"; echo "smoke run of $family failed"; exit 1; }
done

echo "== training ${#CANDIDATES[@]} candidates for at most $TRAIN_SECONDS s"
began=$(date +%s)
for entry in "${CANDIDATES[@]}"; do
  IFS='|' read -r name family flags <<<"$entry"
  # shellcheck disable=SC2086  # flags are word lists
  timeout -k 5 $(( TRAIN_SECONDS + 60 )) \
    python3 -m genlab --device "$DEVICE" train "$family" $flags --max-seconds "$TRAIN_SECONDS" \
    --log-every 500 --save-every 0 --out "$RUN/$name" --checkpoint "$RUN/$name-ckpt" >"$RUN/$name.log" 2>&1 &
done
wait
echo "training took $(( $(date +%s) - began )) s"
for entry in "${CANDIDATES[@]}"; do
  name=${entry%%|*}
  echo "-- $name: $(grep -E '^\[' "$RUN/$name.log" | tail -1)"
  tail -2 "$RUN/$name.log"
done

# weights first, so they come back even if scoring fails
mapfile -t folders < <(find "$RUN" -mindepth 1 -maxdepth 1 -type d \( -name 'gan-*' -o -name 'gpt-*' \) \
  ! -name '*-ckpt' | sort)
# two folders per archive: the device tool brings back at most 8 files of at most 16 MiB each
for ((i = 0; i < ${#folders[@]}; i += 2)); do
  pair=("${folders[@]:i:2}")
  tar -czf "$OUT/weights-$((i / 2)).tar.gz" -C "$RUN" "${pair[@]##*/}"
done
(cd "$RUN" && tar -czf "$OUT/logs.tar.gz" -- *.log)
ls -la "$OUT"
echo "== scoring"
timeout 150 python3 recipes/score_candidates.py --device "$DEVICE" --n "$N" --out "$OUT/scores.json" "${folders[@]}"
