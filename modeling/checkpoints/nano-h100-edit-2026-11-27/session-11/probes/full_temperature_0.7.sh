# Probe (session 11): the full text-to-image evaluation at AR temperature 0.7, four seeds (no edits). Log: seed, overall, categories, OCR similarity, never-seen objects.
for s in 0 1 2 3; do
  nice .venv/bin/python -m modeling.eval.run --bundle resources/models/atelier-nano --out /tmp/probe/full-t0.7-s$s --seed $s --edits 0 --temperature 0.7 > /dev/null 2>&1
  python3 -c "import json;d=json.load(open('/tmp/probe/full-t0.7-s$s/scores.json'));c=d['categories'];print(0.7,$s,round(d['overall'],4),{k:round(v,3) for k,v in c.items()},round(d['text_detail']['text_similarity'],3),d['novel_objects'],flush=True)"
done
