"""Builds the near-duplicate benchmark set from the real photos in the dev-data folder.

For N seeded originals it writes copies of every kind issue 6 lists (re-encoded, resized to a quarter
and back, downscaled, cropped to 60% off-centre in two aspects, mirrored, rotated 90/180/270 in the
pixels, letterboxed, framed, a screenshot in a viewer window, captioned, watermarked, grayscale,
colour-edited); every other photo goes in unchanged as a distractor. Hard negatives come from the
data itself: stereo pairs and calibration series (left01..14 / right01..14, aloeL/aloeR,
leuvenA/B, graf1/3, basketball1/2, rubberwhale1/2, Blender_Suzanne1/2, aero1/3) are different shots
of one scene or subject. truth.csv: path,family (same family = duplicates); ignore.csv lists pairs
whose truth is debatable (colourways of one wallpaper) and that are left out of the scores.
"""
import argparse, csv, glob, os, random, shutil
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.path.expanduser("~/.cache/corral-dev-data"))
ap.add_argument("--out", required=True)
ap.add_argument("--originals", type=int, default=24)
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()

paths = sorted(glob.glob(os.path.join(args.data, "photos/*/*")) + glob.glob(os.path.join(args.data, "known/*")))
def load(p):
    im = Image.open(p)
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA"); bg = Image.new("RGBA", im.size, (255, 255, 255, 255)); im = Image.alpha_composite(bg, im)
    return im.convert("RGB")

# Known copies in the data itself share a family.
same = {"Elephants": "Elephants", "Elephants_3840x2160": "Elephants", "Elephants_5640x3172": "Elephants",
        "ela_modified": "ela", "ela_original": "ela"}
ignore_groups = [["Ubuntu-Mate-Cold-no-logo", "Ubuntu-Mate-Dark-no-logo", "Ubuntu-Mate-Radioactive-no-logo", "Ubuntu-Mate-Warm-no-logo"],
                 ["MATE-Stripes-Dark", "MATE-Stripes-Light"]]

if os.path.exists(args.out): shutil.rmtree(args.out)
os.makedirs(args.out)
rows, stems = [], {}
usable = []
for p in paths:
    try:
        im = load(p)
    except Exception:
        continue
    stem = os.path.splitext(os.path.basename(p))[0]
    fam = same.get(stem, stem)
    # Downscale huge wallpapers once so the set stays small; the copies derive from this.
    im.thumbnail((1600, 1600))
    name = f"{stem}.jpg"
    im.save(os.path.join(args.out, name), quality=92)
    rows.append((name, fam)); stems[stem] = name
    if min(im.size) >= 240: usable.append((stem, fam, im))

rng = random.Random(args.seed)
originals = rng.sample(usable, min(args.originals, len(usable)))

def viewer_screenshot(im):
    W, H = 1280, 860
    canvas = Image.new("RGB", (W, H), (45, 45, 48))
    d = ImageDraw.Draw(canvas)
    d.rectangle([0, 0, W, 34], fill=(70, 70, 74)); d.text((12, 10), "Image Viewer - photo.jpg", fill=(230, 230, 230))
    for i, c in enumerate([(230, 80, 80), (230, 190, 60), (90, 200, 90)]): d.ellipse([W - 90 + i * 26, 9, W - 74 + i * 26, 25], fill=c)
    d.rectangle([0, H - 40, W, H], fill=(60, 60, 64)); d.text((12, H - 28), "1 / 24   100%   zoom: fit", fill=(200, 200, 200))
    s = im.copy(); s.thumbnail((W - 80, H - 100))
    canvas.paste(s, ((W - s.width) // 2, 34 + (H - 74 - s.height) // 2))
    return canvas

def caption(im):
    im = im.copy(); d = ImageDraw.Draw(im); h = max(24, im.height // 9)
    d.rectangle([0, im.height - h, im.width, im.height], fill=(250, 250, 250))
    d.text((im.width // 20, im.height - h * 0.7), "Summer holiday 2019 - best day ever! #travel", fill=(10, 10, 10), font_size=max(10, h // 2))
    return im

def watermark(im):
    base = im.convert("RGBA"); layer = Image.new("RGBA", base.size, (0, 0, 0, 0)); d = ImageDraw.Draw(layer)
    fs = max(12, im.width // 14)
    for k in range(3):
        d.text((im.width * (0.1 + 0.3 * k), im.height * (0.2 + 0.25 * k)), "(c) STOCKPHOTO", fill=(255, 255, 255, 110), font_size=fs)
    return Image.alpha_composite(base, layer).convert("RGB")

def letterbox(im):
    W = max(im.width, int(im.height * 16 / 9) + 2); H = max(im.height, int(im.width * 9 / 16))
    if W == im.width: H = int(im.height * 1.3)
    c = Image.new("RGB", (W, H), (0, 0, 0)); c.paste(im, ((W - im.width) // 2, (H - im.height) // 2)); return c

def crop(im, fw, fh, ox, oy):
    w, h = im.size; cw, ch = int(w * fw), int(h * fh); x, y = int((w - cw) * ox), int((h - ch) * oy)
    return im.crop((x, y, x + cw, y + ch))

variants = {
    "reencoded": (lambda im: im, 45),
    "quarter-and-back": (lambda im: im.resize((max(1, im.width // 4), max(1, im.height // 4)), Image.BILINEAR).resize(im.size, Image.BICUBIC), 90),
    "downscaled": (lambda im: im.resize((im.width * 2 // 5, im.height * 2 // 5), Image.LANCZOS), 85),
    "crop60": (lambda im: crop(im, 0.775, 0.775, 0.85, 0.2), 90),
    "crop60-tall": (lambda im: crop(im, 0.6, 1.0, 0.25, 0), 90),
    "mirrored": (ImageOps.mirror, 90),
    "rot90": (lambda im: im.transpose(Image.ROTATE_90), 90),
    "rot180": (lambda im: im.transpose(Image.ROTATE_180), 90),
    "rot270": (lambda im: im.transpose(Image.ROTATE_270), 90),
    "letterbox": (letterbox, 90),
    "frame": (lambda im: ImageOps.expand(im, border=max(8, im.width // 14), fill=(250, 250, 245)), 90),
    "screenshot": (viewer_screenshot, 90),
    "caption": (caption, 90),
    "watermark": (watermark, 90),
    "grayscale": (lambda im: ImageOps.grayscale(im).convert("RGB"), 90),
    "colour-edit": (lambda im: ImageEnhance.Contrast(ImageEnhance.Color(ImageEnhance.Brightness(im).enhance(1.1)).enhance(1.6)).enhance(1.2), 90),
}
for stem, fam, im in originals:
    for vname, (f, q) in variants.items():
        name = f"{stem}__{vname}.jpg"
        f(im).save(os.path.join(args.out, name), quality=q)
        rows.append((name, fam))

with open(os.path.join(args.out, "truth.csv"), "w", newline="") as fh:
    w = csv.writer(fh); w.writerow(["path", "family"])
    for name, fam in rows: w.writerow([os.path.join(os.path.abspath(args.out), name), fam])
with open(os.path.join(args.out, "ignore.csv"), "w", newline="") as fh:
    w = csv.writer(fh); w.writerow(["a", "b"])
    for g in ignore_groups:
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                if g[i] in stems and g[j] in stems:
                    w.writerow([os.path.join(os.path.abspath(args.out), stems[g[i]]), os.path.join(os.path.abspath(args.out), stems[g[j]])])
print(f"{len(rows)} images, {len(originals)} originals x {len(variants)} copies -> {args.out}")
