import json,glob,collections,sys,statistics as st
rows=collections.defaultdict(list)
for f in sorted(glob.glob('/tmp/s13/b*-s*/scores.json')):
    tag=f.split('/')[3].rsplit('-s',1)[0]; e=json.load(open(f))['edits']
    items=json.load(open(f))['edit_items']
    rows[tag].append((e['done'],e['psnr_outside_edit_ge_30db'],e['done_and_ge_30db'],e['cells_kept'],e['diagnostics']['sampled_codes_copied_where_unchanged'],items))
for tag,r in sorted(rows.items()):
    m=lambda i: sum(x[i] for x in r)/len(r)
    kinds=collections.defaultdict(list)
    for x in r:
        for it in x[5]: kinds[it['kind']].append(it['done']>=0.5 and it['psnr_outside_edit']>=30)
    print(f"{tag:10s} n={len(r)} done {m(0):.3f} ge30 {m(1):.3f} both {m(2):.3f} kept {m(3):.3f} copied {m(4):.3f} | "+" ".join(f"{k[:4]} {sum(v)/len(v):.2f}" for k,v in sorted(kinds.items())))
