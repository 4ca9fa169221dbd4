#!/usr/bin/env python3
"""Tiny Hugging Face models and PEFT adapters, and their outputs, for qkv's fromPretrained tests.

Writes test/fixtures/hf/<name>/ (relative to the repository root, whatever the cwd):

  gpt2/        GPT2LMHeadModel (2 layers, d 32, 4 heads, a byte-level BPE vocab of 300)
  bert-token/  BertForTokenClassification (2 layers, d 32, 4 heads, WordPiece vocab of ~200, 5 labels)
  bert-seq/    BertForSequenceClassification with the same BertModel weights (3 labels, own pooler)
  gpt2-lora-peft/  a PEFT LoRA adapter (r 4, alpha 8) on GPT-2's c_attn
  bert-lora-peft/  a PEFT LoRA adapter (r 4, alpha 8) on BERT's query,value (over bert-seq)
  vit/         ViTForImageClassification (16×16 RGB, patches of 4, d 32, 2 layers, 3 labels) with the
               preprocessor_config.json of a ViTImageProcessor (its own mean/std); golden: two
               random 16×16 images (uint8), the processor's pixel_values, logits, hidden states, attentions
  vit-lora-peft/   a PEFT LoRA adapter on ViT's q_proj,v_proj (transformers 5's in-memory names)
  whisper/     WhisperForConditionalGeneration (80 mel bins, 3000 frames = 2 x max_source_positions, d 32,
               2+2 layers), generation_config.json with forced decoder ids, a WhisperFeatureExtractor's
               preprocessor_config.json, speech.wav (0.5 s); golden on the wav's features: teacher-forced
               logits, every hidden state and attention map (the encoder's sliced), a greedy
               transcription done by hand, the log-mel features (the first 60 of 3000 frames)

Each model directory holds what save_pretrained writes (config.json, model.safetensors), the
tokenizer.json made with `tokenizers`, and golden.safetensors + golden.json: the inputs (ids,
masks, token types), the logits, every hidden state and every attention map (attn_implementation
"eager", so they are formed), computed in float64 on exactly the stored float32 weights, so the
values are the exact answer for the stored weights. golden.json also holds tokenizer encodings
of edge cases (accents, punctuation, unknown and long words, CJK, empty text, pairs).

The weights are drawn with a fixed seed and then moved off their init (LayerNorm gains and
biases included), so a wrong layer norm or a missing bias shows up in the logits.

A second mode checks an adapter qkv trained (test/fixtures/hf/gpt2-lora-qkv/, written by
`node dist/test/nn/hf/make-qkv-adapter.js`): PEFT loads it over gpt2/ and the logits it gives
for the gpt2 golden input are written to gpt2-lora-qkv/peft.safetensors, which the qkv test
compares with its own loading of the same adapter.

`tokenizers`' WordPiece trainer breaks ties in no fixed order, so a full run may write another
(equally valid) BERT vocabulary and goldens; the tests read whatever the last run wrote.

Run with:  /work/venv/bin/python scripts/golden_hf.py            (everything above)
           /work/venv/bin/python scripts/golden_hf.py --only vit   (one model)
           /work/venv/bin/python scripts/golden_hf.py --qkv-adapter   (the second mode only)
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hf')

CORPUS = [
    'I saw a saw. The saw was sharp, and I saw it cut the wood.',
    'Can you can a can as a canner can can a can?',
    'Time flies like an arrow; fruit flies like a banana.',
    'The old man the boat. The complex houses married and single soldiers.',
    "Don't stop believing! Hold on to that feeling... 42 times, 3.14 or 1,000?",
    'Café naïve résumé Über straße Ångström façade jalapeño',
    'attention is all you need: queries, keys and values; multi-head self-attention.',
    '你好世界 中文 字符 测试 日本語 한국어',
    'transformers tokenizers wordpiece byte pair encoding unaffable unbelievable',
]

EDGE_TEXTS = [
    '',
    '   ',
    'Hello, World!',
    'Café naïve Ångström ÉCOLE',
    'unaffable unbelievably xylophone',
    '你好世界，中文！',
    'a' * 120,
    "Don't stop... (really?) [yes] {no} <maybe> 3.14 1,000 $5 #tag @you",
    'tab\tnew\nline  double  space',
    'I saw a saw',
    'emoji 🙂 and ½ and ﬁ ligature',
    'the [MASK] saw a[SEP]saw',
    'ＦＵＬＬＷＩＤＴＨ ǅ İstanbul ß',
]
PAIRS = [['I saw a saw.', 'The saw was sharp.'], ['', 'only the second']]


def seeded(seed):
    torch.manual_seed(seed)


def perturb(model, scale):
    """Moves every parameter off its init (LayerNorm gains included)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


def f64_outputs(model, **inputs):
    """Runs a float32-stored model in float64 (the exact answer for the stored weights)."""
    m = model.to(torch.float64).eval()
    with torch.no_grad():
        out = m(**inputs, output_hidden_states=True, output_attentions=True)
    model.to(torch.float32)
    return out


def golden_tensors(out):
    t = {'logits': out.logits.to(torch.float32).contiguous()}
    for i, h in enumerate(out.hidden_states):
        t[f'hidden_states.{i}'] = h.to(torch.float32).contiguous()
    for i, a in enumerate(out.attentions):
        t[f'attentions.{i}'] = a.to(torch.float32).contiguous()
    return t


# ---------------------------------------------------------------- tokenizers

def byte_level_bpe(vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=['<|endoftext|>'],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 3, trainer)
    return tok


def wordpiece(vocab_size):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.WordPiece(unk_token='[UNK]', max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix='##')
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    # leave some CJK characters out of the training text so they are unknown
    tok.train_from_iterator([t for t in CORPUS if '你' not in t] + ['你好 中文 世界'], trainer)
    cls, sep = tok.token_to_id('[CLS]'), tok.token_to_id('[SEP]')
    tok.post_processor = processors.TemplateProcessing(
        single='[CLS] $A [SEP]', pair='[CLS] $A [SEP] $B:1 [SEP]:1', special_tokens=[('[CLS]', cls), ('[SEP]', sep)])
    return tok


def encodings(tok):
    single = [{'text': t, 'ids': tok.encode(t).ids, 'tokens': tok.encode(t).tokens} for t in EDGE_TEXTS]
    pairs = []
    for a, b in PAIRS:
        e = tok.encode(a, b)
        pairs.append({'text': a, 'pair': b, 'ids': e.ids, 'type_ids': e.type_ids})
    plain = [{'text': t, 'ids': tok.encode(t, add_special_tokens=False).ids} for t in EDGE_TEXTS]
    return {'single': single, 'pairs': pairs, 'without_specials': plain}


# ---------------------------------------------------------------- GPT-2

def make_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel
    d = os.path.join(OUT, 'gpt2')
    os.makedirs(d, exist_ok=True)
    tok = byte_level_bpe(300)
    tok.save(os.path.join(d, 'tokenizer.json'))
    seeded(0)
    cfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=64, n_embd=32, n_layer=2, n_head=4,
                     activation_function='gelu_new', resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     bos_token_id=0, eos_token_id=0, attn_implementation='eager')
    model = GPT2LMHeadModel(cfg)
    perturb(model, 0.1)
    model.save_pretrained(d, safe_serialization=True)
    texts = ['I saw a saw.', 'Time flies like an arrow']
    ids = [tok.encode(t).ids for t in texts]
    T = min(len(i) for i in ids)
    input_ids = torch.tensor([i[:T] for i in ids])
    out = f64_outputs(model, input_ids=input_ids)
    t = golden_tensors(out)
    save_file(t, os.path.join(d, 'golden.safetensors'))
    # greedy continuation of the first text with the KV cache (float32, as qkv runs)
    with torch.no_grad():
        gen = model.eval().generate(input_ids[:1], max_new_tokens=6, do_sample=False, pad_token_id=0)
    write_json(os.path.join(d, 'golden.json'), {
        'input_ids': input_ids.tolist(), 'generated': gen[0].tolist(), 'tokenizer': encodings(tok)})
    for junk in ('generation_config.json',):  # written by transformers, read by no qkv test
        if os.path.exists(os.path.join(d, junk)):
            os.remove(os.path.join(d, junk))
    return model, input_ids


# ---------------------------------------------------------------- BERT

def make_bert():
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification
    dt, ds = os.path.join(OUT, 'bert-token'), os.path.join(OUT, 'bert-seq')
    for d in (dt, ds):
        os.makedirs(d, exist_ok=True)
    tok = wordpiece(200)
    common = dict(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, hidden_act='gelu',
                  hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0,
                  attn_implementation='eager')
    seeded(1)
    tags = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
    mt = BertForTokenClassification(BertConfig(**common, num_labels=5, id2label=dict(enumerate(tags)),
                                               label2id={t: i for i, t in enumerate(tags)}))
    perturb(mt, 0.1)
    seeded(2)
    sent = ['negative', 'neutral', 'positive']
    ms = BertForSequenceClassification(BertConfig(**common, num_labels=3, id2label=dict(enumerate(sent)),
                                                  label2id={t: i for i, t in enumerate(sent)}))
    perturb(ms, 0.1)
    ms.bert.load_state_dict(mt.bert.state_dict(), strict=False)  # the shared BertModel (its pooler stays its own)
    # a batch of a pair and a shorter single text, right-padded: masks and token types matter
    e1 = tok.encode('I saw a saw.', 'The saw was sharp.')
    e2 = tok.encode('Café naïve 你好')
    T = max(len(e1.ids), len(e2.ids))
    pad = lambda xs, v: xs + [v] * (T - len(xs))
    input_ids = torch.tensor([pad(e1.ids, 0), pad(e2.ids, 0)])
    token_type_ids = torch.tensor([pad(e1.type_ids, 0), pad(e2.type_ids, 0)])
    attention_mask = torch.tensor([pad([1] * len(e1.ids), 0), pad([1] * len(e2.ids), 0)])
    for m, d in ((mt, dt), (ms, ds)):
        m.save_pretrained(d, safe_serialization=True)
        tok.save(os.path.join(d, 'tokenizer.json'))
        out = f64_outputs(m, input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask)
        save_file(golden_tensors(out), os.path.join(d, 'golden.safetensors'))
        write_json(os.path.join(d, 'golden.json'), {
            'input_ids': input_ids.tolist(), 'token_type_ids': token_type_ids.tolist(),
            'attention_mask': attention_mask.tolist(),
            'tokenizer': encodings(tok) if d == dt else None})
    return ms, dict(input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask)


# ---------------------------------------------------------------- ViT

def make_vit():
    import numpy as np
    from PIL import Image
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor
    d = os.path.join(OUT, 'vit')
    os.makedirs(d, exist_ok=True)
    seeded(4)
    shapes = ['circle', 'square', 'triangle']
    cfg = ViTConfig(image_size=16, patch_size=4, num_channels=3, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=64, hidden_act='gelu', hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                    num_labels=3, id2label=dict(enumerate(shapes)), label2id={s: i for i, s in enumerate(shapes)},
                    attn_implementation='eager')
    model = ViTForImageClassification(cfg)
    perturb(model, 0.1)
    model.save_pretrained(d, safe_serialization=True)
    proc = ViTImageProcessor(do_resize=True, size={'height': 16, 'width': 16}, do_rescale=True, rescale_factor=1 / 255,
                             do_normalize=True, image_mean=[0.5, 0.4, 0.3], image_std=[0.2, 0.25, 0.3])
    proc.save_pretrained(d)
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8) for _ in range(2)]
    pixel_values = proc(images=[Image.fromarray(im) for im in images], return_tensors='pt')['pixel_values']
    out = f64_outputs(model, pixel_values=pixel_values.to(torch.float64))
    t = golden_tensors(out)
    t['pixel_values'] = pixel_values.to(torch.float32).contiguous()
    save_file(t, os.path.join(d, 'golden.safetensors'))
    write_json(os.path.join(d, 'golden.json'), {'images': [im.reshape(-1).tolist() for im in images], 'height': 16, 'width': 16})
    return model, pixel_values


def make_vit_and_lora():
    vit, pixel_values = make_vit()
    # transformers 5 names ViT's modules q_proj, v_proj, ... in memory: PEFT targets and keys follow
    make_lora(vit, dict(pixel_values=pixel_values), 'vit-lora-peft', ['q_proj', 'v_proj'], False)


# ---------------------------------------------------------------- Whisper

def make_whisper():
    import wave
    import numpy as np
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration
    d = os.path.join(OUT, 'whisper')
    os.makedirs(d, exist_ok=True)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ['<|endoftext|>', '<|startoftranscript|>', '<|en|>', '<|transcribe|>', '<|notimestamps|>']
    tok.train_from_iterator(CORPUS * 3, trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok.save(os.path.join(d, 'tokenizer.json'))
    start, en, transcribe, notimestamps = (tok.token_to_id(t) for t in specials[1:])
    seeded(6)
    # max_source_positions 1500: the encoder reads 30 s of log-mel frames (3000), as every Whisper does
    cfg = WhisperConfig(vocab_size=tok.get_vocab_size(), num_mel_bins=80, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=4, decoder_attention_heads=4, d_model=32, encoder_ffn_dim=64, decoder_ffn_dim=64,
                        max_source_positions=1500, max_target_positions=32, decoder_start_token_id=start, pad_token_id=0,
                        eos_token_id=0, bos_token_id=0, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                        begin_suppress_tokens=None, suppress_tokens=None, attn_implementation='eager')
    model = WhisperForConditionalGeneration(cfg)
    perturb(model, 0.1)
    model.generation_config.forced_decoder_ids = [[1, en], [2, transcribe], [3, notimestamps]]
    model.save_pretrained(d, safe_serialization=True)
    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400)
    fe.save_pretrained(d)
    # 0.5 s of a chirp and noise as 16-bit PCM, through the feature extractor (3000 frames)
    rng = np.random.default_rng(8)
    n = 8000
    tt = np.arange(n) / 16000
    audio = 0.5 * np.sin(2 * np.pi * (300 + 1500 * tt) * tt) + 0.05 * rng.standard_normal(n)
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    with wave.open(os.path.join(d, 'speech.wav'), 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    feats = fe(pcm.astype(np.float32) / 32768, sampling_rate=16000, return_tensors='pt')['input_features']  # (1, 80, 3000)
    prefix = [start, en, transcribe, notimestamps]
    dec = torch.tensor([prefix + [tok.token_to_id('Ġsaw') or 10, 11, 12]])
    m = model.to(torch.float64).eval()
    x = feats.to(torch.float64)
    with torch.no_grad():
        out = m(input_features=x, decoder_input_ids=dec, output_hidden_states=True, output_attentions=True)
        ids = list(prefix)
        for _ in range(8):  # greedy, by hand: the forced prefix, then argmax until end of text
            nxt = int(m(input_features=x, decoder_input_ids=torch.tensor([ids])).logits[0, -1].argmax())
            if nxt == 0:
                break
            ids.append(nxt)
    model.to(torch.float32)
    # the encoder's tensors are 1500 positions long: slices keep the fixture small
    t = {'logits': out.logits, 'wav_features': feats[0, :, :60]}
    for i, h in enumerate(out.encoder_hidden_states):
        t[f'encoder_hidden_states.{i}'] = h[:, :64]
    for i, h in enumerate(out.decoder_hidden_states):
        t[f'decoder_hidden_states.{i}'] = h
    for i, a in enumerate(out.encoder_attentions):
        t[f'encoder_attentions.{i}'] = a[:, :, :8, :64]
    for i, a in enumerate(out.decoder_attentions):
        t[f'decoder_attentions.{i}'] = a
    for i, a in enumerate(out.cross_attentions):
        t[f'cross_attentions.{i}'] = a[:, :, :, :128]
    save_file({k: v.to(torch.float32).contiguous() for k, v in t.items()}, os.path.join(d, 'golden.safetensors'))
    write_json(os.path.join(d, 'golden.json'), {
        'decoder_input_ids': dec.tolist(), 'generated': ids, 'features_shape': list(feats.shape[1:]),
        'slices': {'encoder_hidden_states': [64, None], 'encoder_attentions': [8, 64], 'cross_attentions': [None, 128]},
        'text': tok.decode(ids[len(prefix):], skip_special_tokens=True)})


# ---------------------------------------------------------------- PEFT LoRA

def make_lora(base, inputs, name, targets, fan_in_fan_out):
    from peft import LoraConfig, get_peft_model
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    seeded(3)
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=targets, fan_in_fan_out=fan_in_fan_out,
                     init_lora_weights=False)  # B random too: a zero B would leave the logits unchanged
    pm = get_peft_model(base, cfg)
    pm.save_pretrained(d, safe_serialization=True)
    os.remove(os.path.join(d, 'README.md'))  # PEFT's model card template
    m = pm.to(torch.float64).eval()
    with torch.no_grad():
        logits = m(**inputs).logits
    pm.to(torch.float32)
    save_file({'logits': logits.to(torch.float32).contiguous()}, os.path.join(d, 'golden.safetensors'))
    return pm.unload()


def check_qkv_adapter():
    """PEFT loads the adapter qkv trained and writes the logits it gives (gpt2-lora-qkv/peft.safetensors)."""
    from peft import PeftModel
    from transformers import GPT2LMHeadModel
    base = GPT2LMHeadModel.from_pretrained(os.path.join(OUT, 'gpt2'))
    d = os.path.join(OUT, 'gpt2-lora-qkv')
    pm = PeftModel.from_pretrained(base, d)
    with open(os.path.join(OUT, 'gpt2', 'golden.json')) as f:
        input_ids = torch.tensor(json.load(f)['input_ids'])
    m = pm.to(torch.float64).eval()
    with torch.no_grad():
        logits = m(input_ids=input_ids).logits
    save_file({'logits': logits.to(torch.float32).contiguous()}, os.path.join(d, 'peft.safetensors'))
    print('peft loaded', d, 'logits', tuple(logits.shape))


def main():
    if '--qkv-adapter' in sys.argv:
        check_qkv_adapter()
        return
    if '--only' in sys.argv:  # one model: the others' fixtures stay as committed
        {'vit': make_vit_and_lora, 'whisper': make_whisper}[sys.argv[sys.argv.index('--only') + 1]]()
        return
    os.makedirs(OUT, exist_ok=True)
    gpt2, gpt2_ids = make_gpt2()
    make_lora(gpt2, dict(input_ids=gpt2_ids), 'gpt2-lora-peft', ['c_attn'], True)
    bert, bert_inputs = make_bert()
    make_lora(bert, bert_inputs, 'bert-lora-peft', ['query', 'value'], False)
    make_vit_and_lora()
    make_whisper()
    print('wrote', OUT)


if __name__ == '__main__':
    main()
