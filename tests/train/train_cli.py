#!/usr/bin/env python3
"""detkit-train / detkit-detect end to end on synthetic scenes made at test time (detkit-synth ->
detkit-prepare -> loader -> CPU twin).

  resume    a run interrupted with SIGINT (checkpoint at the iteration it stopped) and resumed
            logs bit-equal losses (and LRs) to an uninterrupted run of the same seed.
  learn     the main job's recipe from scratch (300 iterations, gradient norm clipped at 5), for
            two model seeds: both losses fall and held-out scenes (another generator seed, never
            trained on) reach mAP >= 0.5, AP50 >= 0.9, mAP at score >= 0.5 >= 0.4; and
            detkit-detect's COCO JSON of the model, read back by detkit-eval against
            detkit-prepare's COCO export, gives the in-training evaluation's mAP.

  newclasses  weights of a 3-class model load into a 2-class model only with --new-classes
            (the class head keeps its prior-probability init; 3 backbone stages trainable); and
            a non-finite number option (--base-lr nan) is refused with exit 2.

usage: train_cli.py BIN_DIR WORK_DIR (resume | learn | newclasses)
"""
import json
import os
import signal
import subprocess
import sys

BIN, WORK, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
# Measured on the 2-core box (2026-11-27, 300 iterations, model seeds 1 / 2 / 3): loss_cls ratio
# 0.074 / 0.054 / 0.060, loss_box ratio 0.31 / 0.27 / 0.33; held-out mAP 0.731 / 0.734 / 0.731,
# AP50 1.000 each, mAP(score >= 0.5) = mAP. Thresholds leave room for other BLAS builds.
CLS_RATIO, BOX_RATIO = 0.25, 0.5  # mean of the last 20 iterations / mean of the first 20
MIN_MAP, MIN_AP50, MIN_MAP_SCORE05 = 0.5, 0.9, 0.4
CLASSES = "Red square,Green disc,Blue triangle"


def run(*args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(map(str, args))} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def scenes(name, images, size, seed, id_base):
    d = os.path.join(WORK, name)
    run(f"{BIN}/detkit-synth", "--out", d, "--images", images, "--size", size, "--classes", 3,
        "--seed", seed, "--id-base", id_base)
    run(f"{BIN}/detkit-prepare", "--boxes", f"{d}/boxes.csv", "--classes", f"{d}/classes.csv",
        "--target", CLASSES, "--images", f"{d}/images", "--strict-images", "--out", f"{d}.dkc")
    return f"{d}.dkc", f"{d}/images"


def log(run_dir):
    steps, evals = {}, []
    with open(os.path.join(run_dir, "log.jsonl")) as f:
        for line in f:
            j = json.loads(line)
            if "iter" in j:
                steps[j["iter"]] = (j["lr"], j["loss_cls"], j["loss_box"])
            else:
                evals.append(j)
    return steps, evals


os.makedirs(WORK, exist_ok=True)
if MODE == "resume":
    cache, imgs = scenes("resume_scenes", 12, 64, 3, 0)
    common = ["--train", cache, "--train-images", imgs, "--min-size", 64, "--max-size", 64,
              "--batch", 2, "--fpn-channels", 16, "--warmup", 3, "--steps", 5, "--base-lr", 0.05,
              "--eval-every", 0, "--checkpoint-every", 0, "--log-every", 1, "--seed", 9,
              "--iters", 8]
    full = os.path.join(WORK, "resume_full")
    run(f"{BIN}/detkit-train", "--out", full, *common)
    part = os.path.join(WORK, "resume_part")
    p = subprocess.Popen([f"{BIN}/detkit-train", "--out", part, *map(str, common)],
                         stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.startswith("iter 3/"):
            p.send_signal(signal.SIGINT)
            break
    p.stdout.read()
    rc = p.wait()
    assert rc == 130, f"interrupted run exited {rc}, expected 130"
    ckpt = os.path.join(part, "checkpoint.safetensors")
    assert os.path.exists(ckpt), "no checkpoint after SIGINT"
    out = run(f"{BIN}/detkit-train", "--out", part, "--resume", ckpt, *common)
    start = int(out.split("at iteration ")[1].split()[0])
    assert 3 <= start < 8, f"resumed at {start}"
    a, _ = log(full)
    b, _ = log(part)
    assert sorted(a) == list(range(8)) and sorted(b) == list(range(8)), (sorted(a), sorted(b))
    for it in range(8):
        assert a[it] == b[it], f"iteration {it}: {a[it]} vs resumed {b[it]}"
    assert a[0][1] != a[7][1]
    print(f"resume: interrupted at {start}, resumed; 8/8 iterations bit-equal "
          f"(loss_cls {a[0][1]} -> {a[7][1]})")
elif MODE == "learn":
    tr, tr_imgs = scenes("learn_train", 160, 96, 1, 0)
    va, va_imgs = scenes("learn_val", 40, 96, 2, 100000)
    iters = int(os.environ.get("DETKIT_TRAIN_ITERS", "300"))
    for seed in (1, 2):
        out_dir = os.path.join(WORK, f"learn_run_{seed}")
        run(f"{BIN}/detkit-train", "--train", tr, "--train-images", tr_imgs, "--val", va,
            "--val-images", va_imgs, "--out", out_dir, "--min-size", 96, "--max-size", 96,
            "--batch", 4, "--fpn-channels", 64, "--head-init-std", 0.03, "--base-lr", 0.04,
            "--clip-grad-norm", 5, "--warmup", 30, "--steps", iters * 5 // 6, "--iters", iters,
            "--eval-every", 0, "--checkpoint-every", 0, "--log-every", 10, "--seed", seed)
        steps, evals = log(out_dir)
        first = [steps[i] for i in range(20)]
        last = [steps[i] for i in range(iters - 20, iters)]
        mean = lambda xs, k: sum(x[k] for x in xs) / len(xs)
        c0, c1, b0, b1 = mean(first, 1), mean(last, 1), mean(first, 2), mean(last, 2)
        final = evals[-1]
        print(f"learn (seed {seed}): {iters} iterations; loss_cls {c0:.4f} -> {c1:.4f} "
              f"({c1 / c0:.3f}), loss_box {b0:.4f} -> {b1:.4f} ({b1 / b0:.3f}); held-out mAP "
              f"{final['map']:.4f}, AP50 {final['ap50']:.4f}, "
              f"mAP(score>=0.5) {final['map_score05']:.4f}")
        assert c1 < CLS_RATIO * c0, f"classification loss did not fall below {CLS_RATIO} of its start"
        assert b1 < BOX_RATIO * b0, f"box loss did not fall below {BOX_RATIO} of its start"
        assert final["map"] >= MIN_MAP and final["ap50"] >= MIN_AP50, \
            f"held-out mAP {final['map']} / AP50 {final['ap50']} below {MIN_MAP} / {MIN_AP50}"
        assert final["map_score05"] >= MIN_MAP_SCORE05, \
            f"held-out mAP at score >= 0.5 {final['map_score05']} below {MIN_MAP_SCORE05}"
    det = os.path.join(WORK, "learn_detect")
    run(f"{BIN}/detkit-detect", "--weights", f"{out_dir}/model.safetensors", "--classes",
        f"{out_dir}/classes.csv", "--min-size", 96, "--max-size", 96, "--fpn-channels", 64,
        "--cache", va, "--images", va_imgs, "--out", det, "--draw", 2)
    dets = json.load(open(f"{det}/detections.json"))
    # Score threshold 0.05 on both sides; every held-out scene holds objects the model finds.
    assert 0 < len(dets) <= 40 * 300 and len({d["image_id"] for d in dets}) == 40, len(dets)
    run(f"{BIN}/detkit-eval", "--gt", f"{det}/gt.json", "--dt", f"{det}/detections.json",
        "--json", f"{det}/eval.json")
    ev = json.load(open(f"{det}/eval.json"))
    print(f"detkit-eval on detkit-detect's JSON: AP {ev['stats'][0]:.6f} "
          f"(training's evaluation {final['map']:.6f}), {len(dets)} detections")
    assert abs(ev["stats"][0] - final["map"]) < 2e-4, "detect + eval disagree with training's eval"
    assert len(os.listdir(f"{det}/drawn")) == 2
elif MODE == "newclasses":
    cache, imgs = scenes("nc_scenes", 6, 64, 4, 0)
    base = ["--train-images", imgs, "--min-size", 64, "--max-size", 64, "--batch", 2,
            "--fpn-channels", 16, "--iters", 1, "--eval-every", 0, "--log-every", 1]
    three = os.path.join(WORK, "nc_three")
    run(f"{BIN}/detkit-train", "--train", cache, "--out", three, *base)
    d = os.path.join(WORK, "nc_scenes")
    two = f"{d}-two.dkc"
    run(f"{BIN}/detkit-prepare", "--boxes", f"{d}/boxes.csv", "--classes", f"{d}/classes.csv",
        "--target", "Red square,Green disc", "--images", f"{d}/images", "--out", two)
    w = f"{three}/model.safetensors"
    r = subprocess.run([f"{BIN}/detkit-train", "--train", two, "--out", os.path.join(WORK, "nc_bad"),
                        "--weights", w, *map(str, base)], capture_output=True, text=True)
    assert r.returncode == 2 and "cls_logits" in r.stderr, (r.returncode, r.stderr)
    out = run(f"{BIN}/detkit-train", "--train", two, "--out", os.path.join(WORK, "nc_two"),
              "--weights", w, "--new-classes", *base)
    assert "class head replaced" in out and "trainable backbone layers 3" in out, out
    print("new classes: 3-class weights refused for 2 classes without --new-classes, loaded with it")
    # Numbers must be finite: a NaN learning rate would only show up as a non-finite loss later.
    for prog, flag in (("detkit-train", "--base-lr"), ("detkit-detect", "--score-thr")):
        r = subprocess.run([f"{BIN}/{prog}", flag, "nan"], capture_output=True, text=True)
        assert r.returncode == 2 and f"not a number: {flag} nan" in r.stderr, (prog, r.stderr)
    print("non-finite numbers refused by detkit-train and detkit-detect")
else:
    sys.exit("mode is resume, learn or newclasses")
print("OK")
