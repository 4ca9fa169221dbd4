#!/usr/bin/python3
"""Writes test/fixtures/image/: small PNG and JPEG files made with Python PIL (python3-pil),
the RGBA pixels PIL decodes from them (reference.json), broken files, and bilinear resizing
by torch.nn.functional.interpolate. Run with
Debian's python3:  /usr/bin/python3 scripts/image_fixtures.py  (outputs are committed)."""
import json, os
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image')
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)
ref = {}


def save(img, name, **kw):
    path = os.path.join(OUT, name)
    img.save(path, **kw)
    back = Image.open(path)
    ref[name] = {'mode': back.mode, 'width': back.width, 'height': back.height,
                 'rgba': np.asarray(back.convert('RGBA'), dtype=np.uint8).reshape(-1).tolist()}


rgb = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
save(Image.fromarray(rgb, 'RGB'), 'rgb.png')
rgba = rng.integers(0, 256, size=(4, 6, 4), dtype=np.uint8)
save(Image.fromarray(rgba, 'RGBA'), 'rgba.png')
gray = rng.integers(0, 256, size=(6, 5), dtype=np.uint8)
save(Image.fromarray(gray, 'L'), 'gray.png')
save(Image.fromarray(rgb, 'RGB').convert('P', palette=Image.ADAPTIVE, colors=8), 'palette.png')
# 16-bit gray: PIL reads it as mode I; the reference is its 16-bit values
g16 = rng.integers(0, 65536, size=(3, 4), dtype=np.uint16)
Image.fromarray(g16.astype(np.int32), 'I').save(os.path.join(OUT, 'gray16.png'))
ref['gray16.png'] = {'mode': 'I;16', 'width': 4, 'height': 3, 'values16': np.asarray(Image.open(os.path.join(OUT, 'gray16.png')), dtype=np.int64).reshape(-1).tolist()}
# JPEG: a smooth image (decoders differ by rounding only), baseline and progressive, and gray
y, x = np.mgrid[0:16, 0:24]
smooth = np.stack([x * 10, y * 15, (x + y) * 6], -1).astype(np.uint8)
# full-resolution colour (4:4:4): decoders differ only by IDCT rounding
save(Image.fromarray(smooth, 'RGB'), 'smooth.jpg', quality=95, subsampling=0)
save(Image.fromarray(smooth, 'RGB'), 'progressive.jpg', quality=90, progressive=True, subsampling=0)
# 4:2:0 colour: libjpeg interpolates the chroma planes ("fancy upsampling"), jpeg-js repeats them
save(Image.fromarray(smooth, 'RGB'), 'subsampled.jpg', quality=95, subsampling=2)
save(Image.fromarray(smooth[..., 0], 'L'), 'gray.jpg', quality=95)
# broken: a PNG cut in half, a JPEG with its scan data overwritten, and a zero-length file
with open(os.path.join(OUT, 'rgb.png'), 'rb') as f:
    png = f.read()
with open(os.path.join(OUT, 'truncated.png'), 'wb') as f:
    f.write(png[: len(png) // 2])
with open(os.path.join(OUT, 'smooth.jpg'), 'rb') as f:
    jpg = bytearray(f.read())
with open(os.path.join(OUT, 'corrupt.jpg'), 'wb') as f:
    f.write(bytes(jpg[:200]))
open(os.path.join(OUT, 'empty.png'), 'wb').close()
# resizing: torch.nn.functional.interpolate(bilinear, align_corners=False), down and up
import torch
src = rng.uniform(0, 1, size=(2, 5, 7)).astype(np.float32)  # (C, H, W)
ref['resize'] = {'input': src.astype(float).tolist(), 'out': {}}
for h, w in ((3, 4), (8, 10)):
    y = torch.nn.functional.interpolate(torch.tensor(src)[None], size=(h, w), mode='bilinear', align_corners=False)[0]
    ref['resize']['out'][f'{h}x{w}'] = np.round(y.numpy().astype(float), 7).tolist()
with open(os.path.join(OUT, 'reference.json'), 'w') as f:
    json.dump(ref, f, separators=(',', ':'))
print('wrote', OUT)
