#!/bin/bash
# usage: sweep.sh "biases" "seeds" [extra args]
cd /work/main
for s in $2; do for b in $1; do
  d=/tmp/s13/b$b-s$s
  [ -f $d/scores.json ] || nice .venv/bin/python -m modeling.eval.run --bundle resources/models/atelier-nano --out $d --seed $s --single 0 --count 0 --sign 0 --pair 0 --novel 0 --edits 48 --edit-copy-bias $b $3 > $d.log 2>&1
done; done
