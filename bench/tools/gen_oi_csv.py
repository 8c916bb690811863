# Copied verbatim (apart from this comment) from the project's shared research tools,
# shared/tools/gen_oi_csv.py (2026-11-27), so that the project stands alone: bench/run_join_bench.sh
# regenerates the full-size synthetic train file with it (`--full --out-dir bench/data`, ~75 s,
# byte-identical across runs; bench/data is git-ignored, never committed).
"""Deterministic generator of synthetic Open Images (V4/V5 layout) CSV files.

Standard library only (Python 3.7+).  Same arguments -> byte-identical output.

Writes into --out-dir (file names as in the real release):
  train-annotations-bbox.csv             N box rows, 13 columns, grouped by ImageID
  class-descriptions-boxable.csv         601 rows "MID,Display Name", no header
  train-images-boxable-with-rotation.csv one row per image of the bbox file, 12 columns,
                                         RFC-4180 quoting (Author/Title have , and ")
  amenity-classes.txt                    the 30 Airbnb amenity display names, one a line
  amenity-image-ids.txt                  ImageIDs having >= 1 amenity box (the "target
                                         images", unsorted like an os.listdir result)

Run `gen_oi_csv.py --help` and see README.md next to this file.
"""
import argparse
import base64
import bisect
import math
import os
import random
import sys
import time

FULL_ROWS = 14610229  # rows of the real V4 train-annotations-bbox.csv

BBOX_HEADER = ("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,"
               "IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside\n")
IMAGES_HEADER = ("ImageID,Subset,OriginalURL,OriginalLandingURL,License,"
                 "AuthorProfileURL,Author,Title,OriginalSize,OriginalMD5,"
                 "Thumbnail300KURL,Rotation\n")

# The 30 Airbnb amenity classes with their real Open Images MIDs.
AMENITIES = [
    ("/m/03dnzn", "Bathtub"), ("/m/03ssj5", "Bed"), ("/m/04p0qw", "Billiard table"),
    ("/m/03ldnb", "Ceiling fan"), ("/m/07xyvk", "Coffeemaker"), ("/m/02crq1", "Couch"),
    ("/m/0b3fp9", "Countertop"), ("/m/0ky7b", "Dishwasher"), ("/m/03tw93", "Fireplace"),
    ("/m/0220r2", "Fountain"), ("/m/02wv84t", "Gas stove"), ("/m/065h6l", "Jacuzzi"),
    ("/m/0h8n5zk", "Kitchen & dining room table"), ("/m/0fx9l", "Microwave oven"),
    ("/m/054_l", "Mirror"), ("/m/029bxz", "Oven"), ("/m/034c16", "Pillow"),
    ("/m/04m6gz", "Porch"), ("/m/040b_t", "Refrigerator"), ("/m/02f9f_", "Shower"),
    ("/m/0130jx", "Sink"), ("/m/03m3pdh", "Sofa bed"), ("/m/01lynh", "Stairs"),
    ("/m/0b_rs", "Swimming pool"), ("/m/07c52", "Television"), ("/m/09g1w", "Toilet"),
    ("/m/0162_1", "Towel"), ("/m/02wg_p", "Tree house"), ("/m/0174k2", "Washing machine"),
    ("/m/0271qf7", "Wine rack"),
]
# Relative frequency of the amenities inside "home interior" images (rough guess:
# pillows/mirrors/tables common, tree houses/wine racks rare).
AMENITY_WEIGHTS = [3, 6, 2, 2, 1, 8, 5, 1, 4, 3, 1.5, 0.7, 9, 2, 10, 2, 12, 2.5, 3,
                   2, 5, 1.5, 5, 3, 6, 3, 2.5, 0.4, 1.2, 0.5]

# A few frequent real classes (real MIDs) to head the Zipf ranking; "Table" and
# "Chair" are near-misses of amenity names, handy for filter tests.
HEAD = [
    ("/m/09j2d", "Clothing"), ("/m/04yx4", "Man"), ("/m/07j7r", "Tree"),
    ("/m/0dzct", "Human face"), ("/m/01g317", "Person"), ("/m/03bt1vf", "Woman"),
    ("/m/09j5n", "Footwear"), ("/m/0d4v4", "Window"), ("/m/083wq", "Wheel"),
    ("/m/0k4j", "Car"), ("/m/0cgh4", "Building"), ("/m/05s2s", "Plant"),
    ("/m/01mzpv", "Chair"), ("/m/04bcr3", "Table"), ("/m/03q69", "Human hair"),
]

ADJ = ["Red", "Blue", "Green", "Wild", "Common", "Giant", "Little", "Golden", "Sea",
       "Desert", "Mountain", "Kitchen", "Garden", "Office", "Musical", "Electric",
       "Wooden", "Paper", "Plastic", "Steel", "Glass", "Winter", "Summer", "Night",
       "Polar", "Royal", "Street", "Water", "Fire", "Snow", "Rock", "Stone", "Bath",
       "Table", "Coffee", "Sports", "Toy", "Hand", "Baby", "Pocket"]
NOUN = ["bird", "lamp", "knife", "drum", "boot", "hat", "cart", "turtle", "fox", "bear",
        "clock", "fan", "kettle", "plate", "bowl", "helmet", "flag", "kite", "rope",
        "ladder", "box", "bench", "bottle", "cup", "shark", "whale", "lizard", "snake",
        "scarf", "glove", "brush", "tool", "mixer", "sign", "light", "cabinet",
        "shelf", "tray", "basket", "bag", "ball", "racket", "board", "stool"]
WORDS = ["Appliance", "Equipment", "Accessory", "Vehicle", "Furniture", "Instrument",
         "Container", "Utensil", "Decoration", "Food", "Animal", "Fruit", "Vegetable"]

FIRST = ["Michael", "Karen", "David", "Anna", "John", "Maria", "Peter", "Laura", "Chris",
         "Sarah", "Tom", "Emma", "José", "Zoë", "Björn", "François", "Jürgen", "Ana",
         "Luca", "Mei", "Hiro", "Olga", "Dmitri", "Sean", "Ines", "Kai", "Noor"]
LAST = ["Beat", "Smith", "Müller", "García", "Rossi", "Dubois", "Nguyen", "O'Brien",
        "Kowalski", "Tanaka", "Silva", "Johnson", "van der Berg", "Ødegaard", "Lee"]
NICK = ["drstarbuck", "brokentaco", "michael-beat", "jvinc", "mwvchamber", "ersupalermo",
        "photo_guy", "wanderlust", "k.t.", "the.lens", "urban-eye", "travelbug"]
TWORDS = ["Our", "new", "house", "Three", "boys", "on", "a", "hill", "kitchen", "view",
          "from", "the", "hotel", "room", "day", "trip", "beach", "party", "dinner",
          "IMG", "DSC", "Paris", "Tokyo", "Berlin", "summer", "winter", "2010", "2012",
          "Nov", "birthday", "wedding", "garden", "living", "bathroom", "sunset", "pool",
          "die", "FNF-Kerze", "Kerze", "l'été", "café", "naïve", "Straße", "日本", "雪"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

MID_CHARS = "0123456789bcdfghjklmnpqrstvwxyz_"
SIZES = [(1024, 768)] * 6 + [(1024, 683)] * 5 + [(768, 1024)] * 3 + [(1024, 1024)] * 2 + [
    (1024, 576), (640, 480), (800, 600), (1024, 680), (683, 1024), (1024, 731), (500, 375)]


class Rng(object):
    """Thin deterministic wrapper: uses only random() and getrandbits()."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.random = self.r.random
        self.bits = self.r.getrandbits

    def below(self, n):
        return int(self.random() * n)

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def geometric(self, p):  # number of failures before success, >= 0
        u = self.random()
        return int(math.log(1.0 - u) / math.log(1.0 - p))


def make_classes(rng, n_classes, quoted_names):
    """Returns [(mid, name)] in Zipf rank order (index 0 = most frequent);
    amenities are appended (their frequency is handled separately)."""
    used_mid = set(m for m, _ in AMENITIES) | set(m for m, _ in HEAD)
    used_name = set(n for _, n in AMENITIES) | set(n for _, n in HEAD)
    out = list(HEAD)
    n_syn = n_classes - len(HEAD) - len(AMENITIES)
    specials = 0
    while len(out) < len(HEAD) + n_syn:
        mid = "/m/0" + "".join(rng.pick(MID_CHARS) for _ in range(3 + rng.below(5)))
        if mid in used_mid or mid.endswith("_"):
            continue
        kind = rng.below(20)
        a, n = rng.pick(ADJ), rng.pick(NOUN)
        if kind == 0:
            name = "%s & %s" % (rng.pick(WORDS), rng.pick(WORDS).lower())
        elif kind == 1:
            name = "%s (%s)" % ((a + " " + n).capitalize(), rng.pick(WORDS).lower())
        elif kind == 2:
            name = "%s-%s" % (a, n)
        elif kind == 3:
            name = "%s's %s" % (rng.pick(NOUN).capitalize(), n + "s")
        elif kind <= 8:
            name = n.capitalize()
        elif kind <= 10:
            name = "%s %s %s" % (a, rng.pick(ADJ).lower(), n)
        else:
            name = "%s %s" % (a, n)
        if quoted_names and specials < 6 and rng.below(40) == 0:
            name = [name + ", " + rng.pick(NOUN), '%s "%s"' % (name, rng.pick(NOUN))][specials % 2]
            specials += 1
        if name in used_name:
            continue
        used_mid.add(mid)
        used_name.add(name)
        out.append((mid, name))
    return out + list(AMENITIES)


def csv_field(s):
    if '"' in s or "," in s or "\n" in s or "\r" in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def image_plans(seed, args):
    """Yields, per image, the box count of each of its classes (head classes first,
    then amenities) and stops once args.rows rows are covered.  Uses its own random
    stream, so a cheap first pass can count the images before the real pass."""
    rng = Rng(seed)
    rand, geo = rng.random, rng.geometric
    n = 0
    while n < args.rows:
        k = min(1 + geo(0.38), 25)                        # distinct classes
        n_am = min(1 + geo(0.6), 6) if rand() < args.amenity_image_rate else 0
        nbs = []
        for _ in range(k + n_am):
            nb = 1 if rand() < 0.5 else min(2 + geo(0.23), 120)  # boxes of one class
            nbs.append(nb)
        n += sum(nbs)
        yield k, nbs


def gen_bbox(args, seed, classes, out_path):
    n_head = len(classes) - len(AMENITIES)
    # Zipf-like with an exponential cut-off: rank 1 ~ 13% of rows, last ~ 0.003%.
    w = [(1.0 / r) * math.exp(-r / 160.0) for r in range(1, n_head + 1)]
    cum, t = [], 0.0
    for x in w:
        t += x
        cum.append(t)
    total = t
    am_cum, t = [], 0.0
    for x in AMENITY_WEIGHTS:
        t += x
        am_cum.append(t)
    am_total = t
    mids = [m for m, _ in classes]
    am_mids = [m for m, _ in AMENITIES]

    # pass 1: count images, so that sorted ImageIDs can span the whole 64-bit range
    n_images = sum(1 for _ in image_plans(seed + 11, args))
    gap = (1 << 64) // (n_images + 1)

    lrng = Rng(seed + 12)    # labels
    brng = Rng(seed + 13)    # boxes, flags, sizes
    lrand = lrng.random
    rand = brng.random
    bis = bisect.bisect
    N = args.rows
    written = 0
    images = []            # (id, w, h) in file order
    amenity_imgs = []
    amenity_rows = 0
    neg_rows = 0
    buf = []
    nl = args.newline
    f = open(out_path, "w", encoding="ascii", newline="")
    f.write(BBOX_HEADER.replace("\n", nl))
    for idx, (k, nbs) in enumerate(image_plans(seed + 11, args)):
        img_id = idx * gap + 1 + int(rand() * (gap - 1))
        W, H = SIZES[int(rand() * len(SIZES))]
        labels = []
        while len(labels) < k:
            m = mids[bis(cum, lrand() * total)]
            if m not in labels:
                labels.append(m)
        am = []
        while len(am) < len(nbs) - k:
            m = am_mids[bis(am_cum, lrand() * am_total)]
            if m not in am:
                am.append(m)
        rows = []
        for lab, nb in zip(labels + am, nbs):
            for _ in range(nb):
                src = "activemil" if rand() < 0.11 else "xclick"
                # integer pixel boxes -> %.6f exactly like the real file
                bw = 1 + int(W * rand() ** 1.6)
                bh = 1 + int(H * rand() ** 1.6)
                x0 = int((W - bw + 1) * rand())
                y0 = int((H - bh + 1) * rand())
                trunc = 0
                if rand() < 0.12:
                    x0 = 0
                    trunc = 1
                if rand() < 0.10:
                    bw = W - x0
                    trunc = 1
                if rand() < 0.08:
                    y0 = 0
                    trunc = 1
                if rand() < 0.10:
                    bh = H - y0
                    trunc = 1
                x1 = min(W, x0 + bw)
                y1 = min(H, y0 + bh)
                u = rand()
                if src == "activemil" and u < 0.35:
                    flags = "-1,-1,-1,-1,-1"
                    neg_rows += 1
                else:
                    occ = 1 if rand() < 0.45 else 0
                    grp = 1 if rand() < 0.06 else 0
                    dep = 1 if rand() < 0.05 else 0
                    ins = 1 if rand() < 0.01 else 0
                    if u > 0.9985:          # a stray unknown on a single flag
                        occ = -1
                        neg_rows += 1
                    flags = "%d,%d,%d,%d,%d" % (occ, trunc, grp, dep, ins)
                rows.append((src, lab, x0 / W, x1 / W, y0 / H, y1 / H, flags))
        # the real file is sorted by ImageID, then (roughly) Source, LabelName
        rows.sort(key=lambda r: (r[0], r[1]))
        if written + len(rows) > N:
            rows = rows[:N - written]
        hid = "%016x" % img_id
        img_has_am = False
        for src, lab, a, b, c, d, flags in rows:
            buf.append("%s,%s,%s,1,%.6f,%.6f,%.6f,%.6f,%s%s" % (hid, src, lab, a, b, c, d, flags, nl))
            if lab in am:
                img_has_am = True
                amenity_rows += 1
        written += len(rows)
        images.append((img_id, W, H))
        if img_has_am:
            amenity_imgs.append(img_id)
        if len(buf) >= 4096:
            f.write("".join(buf))
            buf = []
    f.write("".join(buf))
    f.close()
    assert written == N and len(images) == n_images
    return images, amenity_imgs, amenity_rows, neg_rows


def gen_images(args, rng, images, out_path):
    order = list(range(len(images)))
    if args.images_order == "shuffled":
        rng.r.shuffle(order)
    rand = rng.random
    pick = rng.pick
    nl = args.newline
    buf = []
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        f.write(IMAGES_HEADER.replace("\n", nl))
        for i in order:
            iid, W, H = images[i]
            hid = "%016x" % iid
            farm = 1 + int(rand() * 9)
            server = 1 + int(rand() * 8999)
            photo = 10000000 + int(rand() * 39990000000)
            sec = "%010x" % rng.bits(40)
            sec2 = "%010x" % rng.bits(40)
            nick = pick(NICK) if rand() < 0.5 else "%d@N0%d" % (10000000 + int(rand() * 89999999), 1 + int(rand() * 8))
            if rand() < 0.5:
                orig = "https://farm%d.staticflickr.com/%d/%d_%s_o.jpg" % (farm, server, photo, sec)
            else:
                orig = "https://c%d.staticflickr.com/%d/%d/%d_%s_o.jpg" % (1 + int(rand() * 8), farm, server, photo, sec)
            landing = "https://www.flickr.com/photos/%s/%d" % (nick, photo)
            lic = "https://creativecommons.org/licenses/by/2.0/"
            prof = "https://www.flickr.com/people/%s/" % nick
            u = rand()
            if u < 0.35:
                author = pick(FIRST)
            elif u < 0.75:
                author = "%s %s" % (pick(FIRST), pick(LAST))
            elif u < 0.82:
                author = "%s, %s" % (pick(LAST), pick(FIRST))           # needs quoting
            elif u < 0.86:
                author = '%s "%s" %s' % (pick(FIRST), pick(NICK), pick(LAST))  # quotes
            elif u < 0.97:
                author = pick(NICK)
            else:
                author = ""
            u = rand()
            nw = 1 + int(rand() * 6)
            words = " ".join(pick(TWORDS) for _ in range(nw))
            if u < 0.15:
                title = "%s_%04d" % (pick(["IMG", "DSC", "DSCF", "P"]), int(rand() * 10000))
            elif u < 0.60:
                title = words.capitalize()
            elif u < 0.78:
                title = "%s, %s" % (words, pick(TWORDS))                   # comma
            elif u < 0.86:
                title = '"%s" %s' % (words, pick(TWORDS))                  # quotes
            elif u < 0.90:
                title = '%d %s %d %s, "%s"' % (1 + int(rand() * 28), pick(MONTHS),
                                               2005 + int(rand() * 10), words, pick(TWORDS))
            elif u < 0.93:
                title = "..." + words
            elif u < 0.97:
                title = ""
            else:
                title = words + " " + words + " - " + words
            if args.title_newline_rate and rand() < args.title_newline_rate:
                title = title + "\n" + pick(TWORDS)
            size = 20000 + int(rand() ** 2 * 12000000)
            md5 = base64.b64encode(rng.bits(128).to_bytes(16, "big")).decode("ascii")
            u = rand()
            if u < 0.06:
                thumb = ""
            else:
                thumb = "https://c%d.staticflickr.com/%d/%d/%d_%s_z.jpg" % (1 + int(rand() * 8), farm, server, photo, sec2)
                if u > 0.93:
                    thumb += "?zz=1"
            u = rand()
            rot = "0.0" if u < 0.80 else ("" if u < 0.95 else pick(["90.0", "180.0", "270.0"]))
            buf.append(",".join((hid, "train", orig, landing, lic, prof, csv_field(author),
                                 csv_field(title), str(size), md5, thumb, rot)) + nl)
            if len(buf) >= 4096:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100000,
                   help="bbox rows (default 100000; the real train file has %d, ~1.2e9 bytes)" % FULL_ROWS)
    p.add_argument("--full", action="store_true", help="same as --rows %d" % FULL_ROWS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out-dir", default=".")
    p.add_argument("--only", default="bbox,classes,images,extras",
                   help="comma list of outputs: bbox,classes,images,extras (images/extras need bbox)")
    p.add_argument("--prefix", default="train", help="file name prefix (train/validation/test)")
    p.add_argument("--amenity-image-rate", type=float, default=0.02,
                   help="fraction of images that are home interiors with amenity boxes (default 0.02)")
    p.add_argument("--images-order", choices=["shuffled", "sorted"], default="shuffled",
                   help="row order of the image-ids file (real file is not sorted)")
    p.add_argument("--quoted-class-names", action="store_true",
                   help="give ~6 class names a comma or quotes (the real boxable file has none)")
    p.add_argument("--title-newline-rate", type=float, default=0.0,
                   help="fraction of Titles with an embedded newline (quoted); default 0")
    p.add_argument("--crlf", action="store_true", help="CRLF line ends (real files use LF)")
    args = p.parse_args(argv)
    if args.full:
        args.rows = FULL_ROWS
    args.newline = "\r\n" if args.crlf else "\n"
    what = set(x.strip() for x in args.only.split(",") if x.strip())
    os.makedirs(args.out_dir, exist_ok=True)
    t0 = time.time()
    # independent streams so that e.g. --only images does not change bbox output
    classes = make_classes(Rng(args.seed * 1000003 + 1), 601, args.quoted_class_names)
    if "classes" in what:
        with open(os.path.join(args.out_dir, "class-descriptions-boxable.csv"), "w",
                  encoding="utf-8", newline="") as f:
            for mid, name in sorted(classes):
                f.write("%s,%s%s" % (mid, csv_field(name), args.newline))
    if what & {"bbox", "images", "extras"}:
        bbox_path = os.path.join(args.out_dir, "%s-annotations-bbox.csv" % args.prefix)
        if "bbox" not in what:
            bbox_path = os.devnull
        images, am_imgs, am_rows, neg = gen_bbox(args, args.seed * 1000003 + 20, classes, bbox_path)
        sys.stderr.write("bbox: %d rows, %d images, %d amenity rows in %d images, %d rows with -1 (%.1fs)\n"
                         % (args.rows, len(images), am_rows, len(am_imgs), neg, time.time() - t0))
        if "images" in what:
            gen_images(args, Rng(args.seed * 1000003 + 3), images,
                       os.path.join(args.out_dir, "%s-images-boxable-with-rotation.csv" % args.prefix))
        if "extras" in what:
            with open(os.path.join(args.out_dir, "amenity-classes.txt"), "w", encoding="utf-8", newline="") as f:
                for _, name in AMENITIES:
                    f.write(name + "\n")
            rng = Rng(args.seed * 1000003 + 4)
            rng.r.shuffle(am_imgs)
            with open(os.path.join(args.out_dir, "amenity-image-ids.txt"), "w", encoding="ascii", newline="") as f:
                f.write("".join("%016x\n" % i for i in am_imgs))
    sys.stderr.write("done in %.1fs\n" % (time.time() - t0))


if __name__ == "__main__":
    main()
