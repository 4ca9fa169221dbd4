#!/usr/bin/env python3
"""transformers and peft on the Whisper directories qkv fine-tuned (scripts/hf-qkv-whisper.mjs).

  whisper-ft-qkv/   qkv's full fine-tune (save_pretrained layout): WhisperForConditionalGeneration.from_pretrained
                    reads it; transformers.safetensors = its float64 logits on each WAV's features,
                    teacher-forced on the forced prefix + the transcript; beam.json = transformers'
                    beam search (GenerationMixin.generate, num_beams 3, from the forced prefix) on each WAV
  whisper-lora-qkv/ qkv's LoRA adapter (PEFT layout): PeftModel.from_pretrained(whisper/, it) reads it;
                    peft.safetensors = the logits it gives on the same inputs

Run with the venv: /work/venv/bin/python scripts/check_hf_whisper.py
"""
import json
import os
import wave

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
HF = os.path.join(ROOT, 'test', 'fixtures', 'hf')
WAVS = [os.path.join(HF, 'whisper', 'speech.wav'), os.path.join(ROOT, 'test', 'fixtures', 'audio', 'speech-16k.wav')]
TEXTS = ['hello', 'world']


def samples(path):
    with wave.open(path) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 16000
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768


def main():
    from transformers import GenerationMixin, PreTrainedTokenizerFast, WhisperFeatureExtractor, WhisperForConditionalGeneration
    from peft import PeftModel
    ft = os.path.join(HF, 'whisper-ft-qkv')
    fe = WhisperFeatureExtractor.from_pretrained(ft)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(ft, 'tokenizer.json'))
    with open(os.path.join(ft, 'generation_config.json')) as f:
        g = json.load(f)
    prefix = [g['decoder_start_token_id']] + [i for _, i in sorted(g['forced_decoder_ids'])]
    feats = torch.cat([fe(samples(p), sampling_rate=16000, return_tensors='pt')['input_features'] for p in WAVS])  # (2, 80, 3000)
    rows = [prefix + tok.encode(t) for t in TEXTS]
    T = max(len(r) for r in rows)
    dec = torch.tensor([r + [0] * (T - len(r)) for r in rows])
    inputs = {'decoder_ids': dec.to(torch.float32)}

    model = WhisperForConditionalGeneration.from_pretrained(ft).eval()
    with torch.no_grad():
        logits = model.to(torch.float64)(input_features=feats.to(torch.float64), decoder_input_ids=dec).logits
        model.to(torch.float32)
        beams = []
        for i in range(len(WAVS)):
            out = GenerationMixin.generate(model, input_features=feats[i:i + 1], decoder_input_ids=torch.tensor([prefix]), num_beams=3,
                                           do_sample=False, max_new_tokens=8, length_penalty=1.0, early_stopping=False, num_return_sequences=1)
            beams.append(out[0].tolist())
    save_file({'logits': logits.to(torch.float32).contiguous(), **inputs}, os.path.join(ft, 'transformers.safetensors'))
    with open(os.path.join(ft, 'beam.json'), 'w') as f:
        json.dump({'num_beams': 3, 'max_new_tokens': 8, 'length_penalty': 1.0, 'early_stopping': False, 'prefix': prefix, 'wavs': [os.path.relpath(p, ROOT) for p in WAVS], 'ids': beams}, f, indent=1)
        f.write('\n')
    print('transformers read', ft, 'logits', tuple(logits.shape), 'beam', beams)

    base = WhisperForConditionalGeneration.from_pretrained(os.path.join(HF, 'whisper'))
    lora = os.path.join(HF, 'whisper-lora-qkv')
    pm = PeftModel.from_pretrained(base, lora).eval()
    with torch.no_grad():
        logits = pm.to(torch.float64)(input_features=feats.to(torch.float64), decoder_input_ids=dec).logits
    save_file({'logits': logits.to(torch.float32).contiguous(), **inputs}, os.path.join(lora, 'peft.safetensors'))
    print('peft read', lora, 'logits', tuple(logits.shape))


if __name__ == '__main__':
    main()
