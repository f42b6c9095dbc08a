# Probe (session 11): sign prompts only (24 a seed), AR temperature 1.0 / 0.7 / 0.5, four seeds. Log: temperature, seed, categories, OCR similarity.
for t in 1.0 0.7 0.5; do for s in 0 1 2 3; do
  nice .venv/bin/python -m modeling.eval.run --bundle resources/models/atelier-nano --out /tmp/probe/sign-t$t-s$s --seed $s --single 0 --count 0 --pair 0 --novel 0 --edits 0 --sign 24 --temperature $t > /dev/null 2>&1
  python3 -c "import json;d=json.load(open('/tmp/probe/sign-t$t-s$s/scores.json'));c=d['categories'];print('$t',$s,c,round(d['text_detail']['text_similarity'],3),flush=True)"
done; done
