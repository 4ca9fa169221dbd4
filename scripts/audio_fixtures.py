#!/usr/bin/python3
"""Writes test/fixtures/audio/: WAV files in every encoding qkv reads (written by Python's
`wave` module, float and the refused encodings by hand with `struct`), and reference values
from torchaudio: Kaldi-compatible fbank (torchaudio.compliance.kaldi.fbank) and
torchaudio.functional.resample. Run with Debian's python3 (python3-torchaudio):
    /usr/bin/python3 scripts/audio_fixtures.py
The outputs are committed, so the tests need neither Python nor torchaudio."""
import json, math, os, struct, wave
import numpy as np
import torch, torchaudio
import torchaudio.compliance.kaldi as kaldi

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'audio')
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(11)
ref = {'pcm': {}, 'fbank': [], 'resample': []}


def write_pcm(name, ints, width, rate, channels):
    """ints: (n, channels) integer samples, stored as `wave` stores them."""
    with wave.open(os.path.join(OUT, name), 'wb') as w:
        w.setnchannels(channels); w.setsampwidth(width); w.setframerate(rate)
        if width == 1:
            data = (ints + 128).astype(np.uint8).tobytes()
        elif width == 3:
            b = ints.astype('<i4').reshape(-1).view(np.uint8).reshape(-1, 4)[:, :3]
            data = b.tobytes()
        else:
            data = ints.astype({2: '<i2', 4: '<i4'}[width]).tobytes()
        w.writeframes(data)


def write_raw(name, fmt_tag, bits, rate, channels, data):
    """A WAV with a hand-made header (float and the encodings qkv refuses)."""
    align = channels * bits // 8
    fmt = struct.pack('<HHIIHH', fmt_tag, channels, rate, rate * align, align, bits)
    body = b'WAVE' + b'fmt ' + struct.pack('<I', len(fmt)) + fmt + b'data' + struct.pack('<I', len(data)) + data
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(b'RIFF' + struct.pack('<I', len(body)) + body)


# every PCM width, mono and stereo: the integers go to JSON, the test divides by 2^(bits-1)
for bits in (8, 16, 24, 32):
    for ch in (1, 2):
        full = 2 ** (bits - 1)
        ints = rng.integers(-full, full, size=(37, ch), dtype=np.int64)
        ints[0] = -full; ints[1] = full - 1  # the extremes
        name = f'pcm{bits}-{ch}ch.wav'
        write_pcm(name, ints, bits // 8, 8000 if ch == 1 else 22050, ch)
        ref['pcm'][name] = {'bits': bits, 'channels': ch, 'rate': 8000 if ch == 1 else 22050, 'ints': ints.tolist()}
floats = rng.uniform(-1, 1, size=(29, 2)).astype(np.float32)
write_raw('float32-2ch.wav', 3, 32, 16000, 2, floats.astype('<f4').tobytes())
ref['float'] = {'name': 'float32-2ch.wav', 'rate': 16000, 'values': floats.astype(float).tolist()}
# refused: 64-bit float, µ-law, A-law; a header cut short; a zero-length file
write_raw('float64.wav', 3, 64, 16000, 1, np.zeros(8, '<f8').tobytes())
write_raw('mulaw.wav', 7, 8, 8000, 1, bytes(16))
write_raw('alaw.wav', 6, 8, 8000, 1, bytes(16))
with open(os.path.join(OUT, 'pcm16-1ch.wav'), 'rb') as f:
    head = f.read(30)
with open(os.path.join(OUT, 'truncated.wav'), 'wb') as f:
    f.write(head)
open(os.path.join(OUT, 'empty.wav'), 'wb').close()


def signal(rate, seconds, seed):
    """A chirp plus two tones plus noise, in [-1, 1] and exactly representable as 16-bit."""
    r = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    x = 0.3 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 2500 * t)
    x += 0.05 * r.standard_normal(len(t))
    return np.round(np.clip(x, -1, 1) * 32767).astype(np.int64)


# log-mel: torchaudio's Kaldi fbank on the 16-bit integers (Kaldi's scale), dither off
cases = [
    ('speech-16k.wav', 16000, 0.3, dict(num_mel_bins=80, window_type='povey')),
    ('speech-8k.wav', 8000, 0.25, dict(num_mel_bins=23, window_type='hanning')),
    ('speech-16k.wav', 16000, 0.3, dict(num_mel_bins=40, window_type='hamming', preemphasis_coefficient=0.0, remove_dc_offset=False, low_freq=64, high_freq=-400)),
]
for i, (name, rate, sec, kw) in enumerate(cases):
    ints = signal(rate, sec, i if name != 'speech-16k.wav' else 0)
    if not os.path.exists(os.path.join(OUT, name)) or i == 0:
        write_pcm(name, ints.reshape(-1, 1), 2, rate, 1)
    wavform = torch.tensor(ints, dtype=torch.float32)[None]
    feats = kaldi.fbank(wavform, sample_frequency=rate, dither=0.0, energy_floor=0.0, **kw)
    cmvn = (feats - feats.mean(0)) / feats.std(0, unbiased=False)
    ref['fbank'].append({'file': name, 'rate': rate, 'options': kw, 'features': np.round(feats.numpy().astype(float), 6).tolist(),
                         'meanvar': np.round(cmvn.numpy().astype(float), 6).tolist()})

# resampling: torchaudio.functional.resample (sinc_interp_hann, width 6, rolloff 0.99)
for src, dst in ((8000, 16000), (44100, 16000), (16000, 8000)):
    x = (signal(src, 0.02, 5).astype(np.float32) / 32768)
    y = torchaudio.functional.resample(torch.tensor(x)[None], src, dst)[0]
    ref['resample'].append({'from': src, 'to': dst, 'x': x.astype(float).tolist(), 'y': np.round(y.numpy().astype(float), 7).tolist()})

with open(os.path.join(OUT, 'reference.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'torchaudio': torchaudio.__version__, **ref}, f, separators=(',', ':'))
print('wrote', OUT)
