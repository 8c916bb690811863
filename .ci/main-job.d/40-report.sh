#!/usr/bin/env bash
# Main job step 40: one HTML page ($OUT/report.html) from steps 30 and 35: the training curves
# (plots.svg inline), the run summary, the held-out per-class table (detkit-train's last
# evaluation and detkit-eval's numbers on detkit-detect's JSON), the cost report, the drawn
# held-out scenes, and the fine-tune on the 8 real photos (curves, scores, the photos with boxes).
# Only reads files; writes the page atomically.
# Env: ROOT, BIN, OUT, DATA (see .ci/main-job).
set -euo pipefail
T=$OUT/train
[ -f "$T/run/log.jsonl" ] || { echo "no training run in $T (step 30 did not run)"; exit 1; }
python3 - "$OUT" <<'PY'
import html, json, os, sys
out = sys.argv[1]
t = os.path.join(out, "train")
steps, evals = [], []
for line in open(os.path.join(t, "run/log.jsonl")):
    j = json.loads(line)
    (steps if "iter" in j else evals).append(j)
ev = json.load(open(os.path.join(t, "detect-val/eval.json")))
svg = open(os.path.join(t, "run/plots.svg")).read()
last = evals[-1]
first10 = steps[:10]
last10 = steps[-10:]
avg = lambda xs, k: sum(x[k] for x in xs) / len(xs)
rows = "".join(
    f"<tr><td>{html.escape(c['name'])}</td><td>{c['ap']:.4f}</td><td>{c['ap50']:.4f}</td></tr>"
    for c in last["per_class"])
def gallery(sub):
    d = os.path.join(t, sub, "drawn")
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    return "".join(f'<figure><img src="train/{sub}/drawn/{n}" width="192"><figcaption>{n}'
                   f"</figcaption></figure>" for n in names)
tt = os.path.join(t, "train.txt")
def summary_of(path):
    keep = ("memory estimate", "summary:", "frozen BN", "head:", "weights:", "bn_eps")
    return "".join(l for l in open(path) if l.startswith(keep)) if os.path.exists(path) else ""
summary = summary_of(tt)
ft_summary = summary_of(os.path.join(t, "finetune.txt"))
ft_svg = open(os.path.join(t, "finetune/plots.svg")).read()
ft_ev = json.load(open(os.path.join(t, "detect-real/eval.json")))
ft_last = [json.loads(l) for l in open(os.path.join(t, "finetune/log.jsonl")) if '"eval_iter"' in l][-1]
ft_rows = "".join(
    f"<tr><td>{html.escape(c['name'])}</td><td>{c['ap']:.4f}</td><td>{c['ap50']:.4f}</td></tr>"
    for c in ft_last["per_class"])
bench = open(os.path.join(t, "bench.txt")).read() if os.path.exists(os.path.join(t, "bench.txt")) else ""
page = f"""<!doctype html><html><head><meta charset="utf-8"><title>detkit main job report</title>
<style>body{{font-family:sans-serif;max-width:1300px;margin:auto}}figure{{display:inline-block;margin:4px}}
td,th{{padding:2px 10px;text-align:right}}td:first-child{{text-align:left}}</style></head><body>
<h1>detkit: train → detect → evaluate (CPU twin)</h1>
<p>Data: <b>synthetic scenes</b> (detkit-synth, 3 classes of coloured shapes on textured backgrounds,
96 px, 160 training / 40 held-out images of another seed) taken through JPEG → detkit-prepare → label
cache → loader, trained from scratch. Then a <b>fine-tune on the 8 bundled real Open Images photos</b>
(Apple, Orange; 23 real boxes) from that model with the class head replaced for the 2 new classes.
The 8 photos are the fine-tune's own training images: their boxes show the pipeline on real photos,
not generalisation (the held-out score is the synthetic scenes').</p>
<h2>Run summary</h2><pre>{html.escape(summary)}</pre>
<h2>Training curves</h2>{svg}
<p>{len(steps)} iterations; mean of the first 10 → last 10: classification loss
{avg(first10,'loss_cls'):.4f} → {avg(last10,'loss_cls'):.4f}, box loss {avg(first10,'loss_box'):.4f}
→ {avg(last10,'loss_box'):.4f}.</p>
<h2>Held-out evaluation (iteration {last['eval_iter']})</h2>
<p>detkit-train: mAP@[.5:.95] {last['map']:.4f}, AP50 {last['ap50']:.4f}, mAP at score ≥ 0.5
{last['map_score05']:.4f}. detkit-eval on detkit-detect's COCO JSON: AP {ev['stats'][0]:.4f},
AP50 {ev['stats'][1]:.4f}.</p>
<table><tr><th>class</th><th>AP</th><th>AP50</th></tr>{rows}</table>
<h2>Cost report (detkit-detect --bench on this machine's CPU)</h2><pre>{html.escape(bench)}</pre>
<h2>Held-out scenes (boxes with score ≥ 0.5)</h2>{gallery('detect-val')}
<h2>Fine-tune on the 8 real photos (training images, boxes with score ≥ 0.5)</h2>
<pre>{html.escape(ft_summary)}</pre>{ft_svg}
<p>detkit-train's evaluation on the same photos: mAP {ft_last['map']:.4f}, AP50 {ft_last['ap50']:.4f},
mAP at score ≥ 0.5 {ft_last['map_score05']:.4f}; detkit-eval on detkit-detect's COCO JSON: AP
{ft_ev['stats'][0]:.4f}, AP50 {ft_ev['stats'][1]:.4f}.</p>
<table><tr><th>class</th><th>AP</th><th>AP50</th></tr>{ft_rows}</table>
{gallery('detect-real')}
</body></html>"""
tmp = os.path.join(out, "report.html.tmp")
open(tmp, "w").write(page)
os.replace(tmp, os.path.join(out, "report.html"))
print(f"wrote {os.path.join(out, 'report.html')}")
PY
