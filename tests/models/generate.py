#!/usr/bin/python3
"""Export small configurations of real Transformer architectures to ONNX.

Usage:
    /usr/bin/python3 tests/models/generate.py --out-dir DIR [--only NAME ...]
    /usr/bin/python3 tests/models/generate.py --list

Every model is plain nn.Module code (no HuggingFace), randomly initialised
with a fixed seed, exported in eval() mode with dynamic batch (and, for token
models, sequence) axes. Each architecture is exported at opset 14, where
LayerNorm is decomposed into ReduceMean/Sub/Pow/Sqrt/Div, and at opset 17,
where it is a LayerNormalization node. The op14 and op17 variants of one
architecture share the same weights.

After each export the script runs the ONNX checker and strict shape
inference, and checks that every op is in ALLOWED_OPS, the dynamic axes
really are symbolic, and the file is under 2 MB.

Needs Debian's python3-torch (1.13), python3-onnx and python3-numpy, so run it
with /usr/bin/python3; a pyenv python3 will not see those packages.
"""

import argparse
import collections
import math
import os
import sys
import warnings

# Model names, usable without importing torch (for --list).
ARCHS = ["transformer", "bert", "gpt2", "vit", "llama", "llama_interleaved", "t5_encoder"]
MODEL_NAMES = [f"{a}_op{o}" for a in ARCHS for o in (14, 17)] + [
    "sdpa_op17",
    "distilbert_op17",
]
# KV-cache exports for generation (Hugging Face Optimum naming and layout).
KV_MODEL_NAMES = ["gpt2_kv_op17", "transformer_kv_encoder_op17", "transformer_kv_decoder_op17"]
MODEL_NAMES += KV_MODEL_NAMES
# Built with onnx.helper (the standard opset-23 Attention op).
MODEL_NAMES += ["attention23_op23"]

ALLOWED_OPS = set(
    """
    Add Sub Mul Div Pow Sqrt Reciprocal Neg Abs Exp Log Erf Tanh Sigmoid Relu
    Softmax LogSoftmax MatMul Gemm LayerNormalization ReduceMean ReduceSum
    ReduceMax ReduceMin Reshape Transpose Gather Shape Size Unsqueeze Squeeze
    Flatten Concat Slice Split Expand Tile Cast CastLike Constant
    ConstantOfShape Range Where Equal Less Greater LessOrEqual GreaterOrEqual
    Not And Or Max Min Clip Trilu Identity Dropout Conv Gelu Einsum
    """.split()
)

MAX_FILE_BYTES = 2 * 1024 * 1024
SEED = 0

# Shared small hyper-parameters.
VOCAB = 100
MAX_POS = 128


class GenerateError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export small Transformer models to ONNX (opset 14 and 17)."
    )
    p.add_argument("--out-dir", help="directory to write <name>.onnx files into")
    p.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="export only these models (see --list)",
    )
    p.add_argument("--list", action="store_true", help="print model names and exit")
    p.add_argument(
        "--verbose", action="store_true", help="show torch export warnings"
    )
    args = p.parse_args(argv)
    if args.list:
        return args
    if not args.out_dir:
        p.error("--out-dir is required (unless --list)")
    if args.only:
        unknown = [n for n in args.only if n not in MODEL_NAMES]
        if unknown:
            p.error(
                "unknown model(s): %s (choose from: %s)"
                % (", ".join(unknown), ", ".join(MODEL_NAMES))
            )
    return args


# --------------------------------------------------------------------------
# Model definitions. Defined inside a function so that --list works without
# importing torch.
# --------------------------------------------------------------------------


def define_models():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    # ---------------------------------------------------------------- 1
    class Seq2SeqTransformer(nn.Module):
        """Encoder-decoder Transformer ("Attention Is All You Need")."""

        def __init__(self, vocab=VOCAB, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            self.d = d
            self.embed = nn.Embedding(vocab, d)  # shared by encoder/decoder/output
            pos = torch.arange(MAX_POS, dtype=torch.float32).unsqueeze(1)
            div = torch.exp(
                torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d)
            )
            pe = torch.zeros(MAX_POS, d)
            pe[:, 0::2] = torch.sin(pos * div)
            pe[:, 1::2] = torch.cos(pos * div)
            self.register_buffer("pe", pe)
            self.transformer = nn.Transformer(
                d_model=d,
                nhead=heads,
                num_encoder_layers=layers,
                num_decoder_layers=layers,
                dim_feedforward=ff,
                dropout=0.1,
                batch_first=True,
            )

        def embed_tokens(self, ids):
            x = self.embed(ids) * math.sqrt(self.d)
            return x + self.pe[: ids.size(1)]

        def forward(self, src_ids, tgt_ids):
            t = tgt_ids.size(1)
            # Causal mask computed in-graph: True above the diagonal = masked.
            causal = torch.triu(
                torch.ones(t, t, dtype=torch.bool, device=tgt_ids.device), diagonal=1
            )
            h = self.transformer(
                self.embed_tokens(src_ids),
                self.embed_tokens(tgt_ids),
                tgt_mask=causal,
            )
            return F.linear(h, self.embed.weight)  # tied output projection

    # ---------------------------------------------------------------- 2
    def split_heads(x, h):
        b, s, d = x.size()
        return x.view(b, s, h, d // h).transpose(1, 2)

    def merge_heads(x):
        b, h, s, dh = x.size()
        return x.transpose(1, 2).contiguous().view(b, s, h * dh)

    class BertLayer(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.h = heads
            self.dh = d // heads
            self.query = nn.Linear(d, d)
            self.key = nn.Linear(d, d)
            self.value = nn.Linear(d, d)
            self.attn_out = nn.Linear(d, d)
            self.attn_norm = nn.LayerNorm(d, eps=1e-12)
            self.intermediate = nn.Linear(d, ff)
            self.output = nn.Linear(ff, d)
            self.out_norm = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, ext_mask):
            q = split_heads(self.query(x), self.h)
            k = split_heads(self.key(x), self.h)
            v = split_heads(self.value(x), self.h)
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh)
            scores = scores + ext_mask
            probs = F.softmax(scores, dim=-1)
            ctx = merge_heads(torch.matmul(probs, v))
            x = self.attn_norm(self.attn_out(ctx) + x)
            y = self.output(F.gelu(self.intermediate(x)))
            return self.out_norm(y + x)

    class Bert(nn.Module):
        def __init__(self, vocab=VOCAB, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            self.word = nn.Embedding(vocab, d)
            self.position = nn.Embedding(MAX_POS, d)
            self.token_type = nn.Embedding(2, d)
            self.emb_norm = nn.LayerNorm(d, eps=1e-12)
            self.register_buffer("position_ids", torch.arange(MAX_POS).unsqueeze(0))
            self.register_buffer(
                "token_type_ids", torch.zeros(1, MAX_POS, dtype=torch.long)
            )
            self.layers = nn.ModuleList(BertLayer(d, heads, ff) for _ in range(layers))

        def forward(self, input_ids, attention_mask):
            b, s = input_ids.size()
            pos = self.position_ids[:, :s]
            tt = self.token_type_ids[:, :s].expand(b, s)
            x = self.word(input_ids) + self.token_type(tt) + self.position(pos)
            x = self.emb_norm(x)
            ext = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
            for layer in self.layers:
                x = layer(x, ext)
            return x

    # ---------------------------------------------------------------- 3
    class GPT2Block(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.d = d
            self.h = heads
            self.dh = d // heads
            self.ln_1 = nn.LayerNorm(d, eps=1e-5)
            self.c_attn = nn.Linear(d, 3 * d)
            self.c_proj = nn.Linear(d, d)
            self.ln_2 = nn.LayerNorm(d, eps=1e-5)
            self.c_fc = nn.Linear(d, ff)
            self.c_proj_mlp = nn.Linear(ff, d)
            self.register_buffer(
                "bias",
                torch.tril(torch.ones(MAX_POS, MAX_POS, dtype=torch.bool)).view(
                    1, 1, MAX_POS, MAX_POS
                ),
            )

        def attn(self, x):
            q, k, v = self.c_attn(x).split(self.d, dim=2)
            q, k, v = (split_heads(t, self.h) for t in (q, k, v))
            w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh)
            s = w.size(-1)
            causal = self.bias[:, :, :s, :s]
            min_value = torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype)
            w = torch.where(causal, w, min_value)
            w = F.softmax(w, dim=-1)
            return self.c_proj(merge_heads(torch.matmul(w, v)))

        def mlp(self, x):
            return self.c_proj_mlp(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(x)

        def attn_with_past(self, x, past_k, past_v, pad):
            """Hugging Face GPT-2's attention with a key/value cache: K and V
            are Concat(past, new) (also the `present` outputs), the causal
            mask is the rows [Sk - Sq, Sk) of the tril buffer, and `pad` is
            the additive (1 - attention_mask) * finfo.min."""
            q, k, v = self.c_attn(x).split(self.d, dim=2)
            q, k, v = (split_heads(t, self.h) for t in (q, k, v))
            k = torch.cat((past_k, k), dim=-2)
            v = torch.cat((past_v, v), dim=-2)
            w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh)
            sq, sk = q.size(-2), k.size(-2)
            causal = self.bias[:, :, sk - sq : sk, :sk]
            min_value = torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype)
            w = torch.where(causal, w, min_value) + pad
            w = F.softmax(w, dim=-1)
            return self.c_proj(merge_heads(torch.matmul(w, v))), k, v

    class GPT2(nn.Module):
        def __init__(self, vocab=VOCAB, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            self.wte = nn.Embedding(vocab, d)
            self.wpe = nn.Embedding(MAX_POS, d)
            self.blocks = nn.ModuleList(GPT2Block(d, heads, ff) for _ in range(layers))
            self.ln_f = nn.LayerNorm(d, eps=1e-5)

        def forward(self, input_ids):
            s = input_ids.size(1)
            pos = torch.arange(s, dtype=torch.long, device=input_ids.device)
            x = self.wte(input_ids) + self.wpe(pos).unsqueeze(0)
            for blk in self.blocks:
                x = blk(x)
            return F.linear(self.ln_f(x), self.wte.weight)  # tied LM head

    class GPT2KV(GPT2):
        """GPT2 (same weights) with past_key_values inputs and present
        outputs, positions P..P+S-1."""

        def forward(self, input_ids, attention_mask, *past):
            s = input_ids.size(1)
            p = past[0].size(2)
            pos = torch.arange(p, p + s, dtype=torch.long, device=input_ids.device)
            x = self.wte(input_ids) + self.wpe(pos).unsqueeze(0)
            pad = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(
                torch.float32
            ).min
            presents = []
            for i, blk in enumerate(self.blocks):
                a, k, v = blk.attn_with_past(blk.ln_1(x), past[2 * i], past[2 * i + 1], pad)
                x = x + a
                x = x + blk.mlp(x)
                presents += [k, v]
            return (F.linear(self.ln_f(x), self.wte.weight), *presents)

    # ---------------------------------------------------------------- 1b
    def mha_heads(mha, x, which):
        """Q (0), K (1) or V (2) of nn.MultiheadAttention `mha` applied to x,
        split into [B, H, S, Dh] heads."""
        w = mha.in_proj_weight.chunk(3)[which]
        b = mha.in_proj_bias.chunk(3)[which]
        return split_heads(F.linear(x, w, b), mha.num_heads)

    def mha_attend(mha, q, k, v, masked=None):
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.size(-1))
        if masked is not None:
            w = w.masked_fill(masked, float("-inf"))
        return mha.out_proj(merge_heads(torch.matmul(F.softmax(w, dim=-1), v)))

    class TransformerKVEncoder(Seq2SeqTransformer):
        """The encoder of Seq2SeqTransformer (same weights), returning its
        output and every decoder layer's cross-attention K and V, computed
        once per source."""

        def forward(self, src_ids):
            mem = self.transformer.encoder(self.embed_tokens(src_ids))
            kv = []
            for layer in self.transformer.decoder.layers:
                kv += [mha_heads(layer.multihead_attn, mem, i) for i in (1, 2)]
            return (mem, *kv)

    class TransformerKVDecoder(Seq2SeqTransformer):
        """One step of Seq2SeqTransformer's decoder (same weights, post-LN)
        with a self-attention key/value cache; the cross-attention K/V come
        from TransformerKVEncoder. The causal mask is built from Range
        comparisons offset by the past length."""

        def forward(self, input_ids, *past):
            layers = self.transformer.decoder.layers
            s = input_ids.size(1)
            p = past[0].size(2)
            x = self.embed(input_ids) * math.sqrt(self.d) + self.pe[p : p + s]
            keys = torch.arange(p + s, device=input_ids.device)
            queries = torch.arange(s, device=input_ids.device) + p
            masked = keys[None, :] > queries[:, None]  # key after the query
            presents = []
            for i, layer in enumerate(layers):
                past_k, past_v, cross_k, cross_v = past[4 * i : 4 * i + 4]
                sa = layer.self_attn
                q = mha_heads(sa, x, 0)
                k = torch.cat((past_k, mha_heads(sa, x, 1)), dim=2)
                v = torch.cat((past_v, mha_heads(sa, x, 2)), dim=2)
                x = layer.norm1(x + mha_attend(sa, q, k, v, masked))
                ca = layer.multihead_attn
                x = layer.norm2(x + mha_attend(ca, mha_heads(ca, x, 0), cross_k, cross_v))
                x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
                presents += [k, v]
            x = self.transformer.decoder.norm(x)
            return (F.linear(x, self.embed.weight), *presents)

    # ---------------------------------------------------------------- 4
    class ViTBlock(nn.Module):
        """A pre-LN encoder layer with a GELU MLP (ViT's, and Whisper's with
        eps 1e-5 and no key bias)."""

        def __init__(self, d, heads, ff, eps=1e-12, key_bias=True):
            super().__init__()
            self.h = heads
            self.dh = d // heads
            self.ln1 = nn.LayerNorm(d, eps=eps)
            self.query = nn.Linear(d, d)
            self.key = nn.Linear(d, d, bias=key_bias)
            self.value = nn.Linear(d, d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d, eps=eps)
            self.fc1 = nn.Linear(d, ff)
            self.fc2 = nn.Linear(ff, d)

        def forward(self, x):
            y = self.ln1(x)
            q = split_heads(self.query(y), self.h)
            k = split_heads(self.key(y), self.h)
            v = split_heads(self.value(y), self.h)
            w = F.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh), -1)
            x = x + self.proj(merge_heads(torch.matmul(w, v)))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class ViT(nn.Module):
        def __init__(self, image=32, patch=8, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            n = (image // patch) ** 2
            self.patch = nn.Conv2d(3, d, kernel_size=patch, stride=patch)
            self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
            self.pos = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
            self.blocks = nn.ModuleList(ViTBlock(d, heads, ff) for _ in range(layers))
            self.ln = nn.LayerNorm(d, eps=1e-12)
            self.d = d

        def forward(self, pixel_values):
            b = pixel_values.size(0)
            x = self.patch(pixel_values).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(b, 1, self.d), x], dim=1) + self.pos
            for blk in self.blocks:
                x = blk(x)
            return self.ln(x)

    # ---------------------------------------------------------------- 5
    class SdpaLayer(nn.Module):
        """Pre-LN layer whose attention follows the SDPA decomposition."""

        def __init__(self, d, heads, ff):
            super().__init__()
            self.h = heads
            self.dh = d // heads
            self.ln1 = nn.LayerNorm(d)
            self.q = nn.Linear(d, d)
            self.k = nn.Linear(d, d)
            self.v = nn.Linear(d, d)
            self.o = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, ff)
            self.fc2 = nn.Linear(ff, d)

        def forward(self, x, keep):
            y = self.ln1(x)
            q = split_heads(self.q(y), self.h)
            k = split_heads(self.k(y), self.h)
            v = split_heads(self.v(y), self.h)
            sqrt_scale = self.dh ** -0.25
            scores = torch.matmul(q * sqrt_scale, k.transpose(-2, -1) * sqrt_scale)
            scores = scores.masked_fill(~keep, float("-inf"))
            attn = F.softmax(scores, dim=-1)
            x = x + self.o(merge_heads(torch.matmul(attn, v)))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class SdpaEncoder(nn.Module):
        def __init__(self, vocab=VOCAB, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(MAX_POS, d)
            self.layers = nn.ModuleList(SdpaLayer(d, heads, ff) for _ in range(layers))
            self.ln = nn.LayerNorm(d)

        def forward(self, input_ids, attention_mask):
            s = input_ids.size(1)
            pos = torch.arange(s, device=input_ids.device)
            x = self.tok(input_ids) + self.pos(pos)
            keep = attention_mask.bool()[:, None, None, :]
            for layer in self.layers:
                x = layer(x, keep)
            return self.ln(x)

    # ---------------------------------------------------------------- 6
    class DistilBertLayer(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.h = heads
            self.dh = d // heads
            self.q_lin = nn.Linear(d, d)
            self.k_lin = nn.Linear(d, d)
            self.v_lin = nn.Linear(d, d)
            self.out_lin = nn.Linear(d, d)
            self.sa_layer_norm = nn.LayerNorm(d, eps=1e-12)
            self.lin1 = nn.Linear(d, ff)
            self.lin2 = nn.Linear(ff, d)
            self.output_layer_norm = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, attention_mask):
            bs, s, _ = x.size()
            q = split_heads(self.q_lin(x), self.h)
            k = split_heads(self.k_lin(x), self.h)
            v = split_heads(self.v_lin(x), self.h)
            q = q / math.sqrt(self.dh)
            scores = torch.matmul(q, k.transpose(2, 3))
            mask = (attention_mask == 0).view(bs, 1, 1, s).expand_as(scores)
            scores = scores.masked_fill(mask, float("-inf"))
            w = F.softmax(scores, dim=-1)
            ctx = merge_heads(torch.matmul(w, v))
            x = self.sa_layer_norm(self.out_lin(ctx) + x)
            return self.output_layer_norm(self.lin2(F.gelu(self.lin1(x))) + x)

    class DistilBert(nn.Module):
        def __init__(self, vocab=VOCAB, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            self.word = nn.Embedding(vocab, d)
            self.position = nn.Embedding(MAX_POS, d)
            self.emb_norm = nn.LayerNorm(d, eps=1e-12)
            self.register_buffer("position_ids", torch.arange(MAX_POS).unsqueeze(0))
            self.layers = nn.ModuleList(
                DistilBertLayer(d, heads, ff) for _ in range(layers)
            )

        def forward(self, input_ids, attention_mask):
            s = input_ids.size(1)
            x = self.word(input_ids) + self.position(self.position_ids[:, :s])
            x = self.emb_norm(x)
            for layer in self.layers:
                x = layer(x, attention_mask)
            return x

    # ---------------------------------------------------------------- 7
    # LLaMA- and T5-style blocks, written as Hugging Face writes them (the
    # 4.3x forms that the opset 14/17 exporters see).
    class RMSNorm(nn.Module):
        def __init__(self, d, eps=1e-6):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))
            self.eps = eps

        def forward(self, x):
            var = x.pow(2).mean(-1, keepdim=True)
            return self.weight * (x * torch.rsqrt(var + self.eps))

    def rotate_half(x):
        half = x.size(-1) // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def rope_half(x, cos, sin):
        return x * cos + rotate_half(x) * sin

    def rope_interleaved(x, cos, sin):
        # cos/sin hold one value per pair: [.., S, Dh / 2].
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
        return out.flatten(-2)

    def repeat_kv(x, n):
        """Hugging Face's repeat_kv: [B, Hkv, S, Dh] -> [B, Hkv * n, S, Dh]."""
        b, h, s, dh = x.shape
        if n == 1:
            return x
        x = x[:, :, None, :, :].expand(b, h, n, s, dh)
        return x.reshape(b, h * n, s, dh)

    class LlamaLayer(nn.Module):
        def __init__(self, d, heads, kv_heads, ff, interleaved):
            super().__init__()
            self.h, self.kvh, self.dh = heads, kv_heads, d // heads
            self.interleaved = interleaved
            self.input_layernorm = RMSNorm(d)
            self.q_proj = nn.Linear(d, heads * self.dh, bias=False)
            self.k_proj = nn.Linear(d, kv_heads * self.dh, bias=False)
            self.v_proj = nn.Linear(d, kv_heads * self.dh, bias=False)
            self.o_proj = nn.Linear(heads * self.dh, d, bias=False)
            self.post_attention_layernorm = RMSNorm(d)
            self.ff = ff
            if interleaved:  # packed gate and up projections
                self.gate_up_proj = nn.Linear(d, 2 * ff, bias=False)
            else:
                self.gate_proj = nn.Linear(d, ff, bias=False)
                self.up_proj = nn.Linear(d, ff, bias=False)
            self.down_proj = nn.Linear(ff, d, bias=False)

        def heads(self, x, n):
            b, s, _ = x.size()
            return x.view(b, s, n, self.dh).transpose(1, 2)

        def attn(self, x, cos, sin, mask):
            q = self.heads(self.q_proj(x), self.h)
            k = self.heads(self.k_proj(x), self.kvh)
            v = self.heads(self.v_proj(x), self.kvh)
            rope = rope_interleaved if self.interleaved else rope_half
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            n = self.h // self.kvh
            if self.interleaved:  # Tile of the unsqueezed heads
                # (torch 1.13 exports repeat_interleave as a Loop).
                k = k[:, :, None].repeat(1, 1, n, 1, 1).flatten(1, 2)
                v = v[:, :, None].repeat(1, 1, n, 1, 1).flatten(1, 2)
            else:
                k, v = repeat_kv(k, n), repeat_kv(v, n)
            w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.dh)
            w = F.softmax(w + mask, dim=-1)
            return self.o_proj(merge_heads(torch.matmul(w, v)))

        def mlp(self, x):
            if self.interleaved:
                gate, up = self.gate_up_proj(x).split(self.ff, dim=-1)
            else:
                gate, up = self.gate_proj(x), self.up_proj(x)
            return self.down_proj(F.silu(gate) * up)

        def forward(self, x, cos, sin, mask):
            x = x + self.attn(self.input_layernorm(x), cos, sin, mask)
            return x + self.mlp(self.post_attention_layernorm(x))

    class Llama(nn.Module):
        """A LLaMA-style decoder: RMSNorm, rotary (half-split, or interleaved
        with a packed gate/up projection), 8 query / 2 KV heads, SwiGLU, no
        biases; the causal mask as Hugging Face builds it."""

        def __init__(self, interleaved=False, vocab=VOCAB, d=64, heads=8, kv_heads=2,
                     layers=2, ff=96):
            super().__init__()
            self.embed_tokens = nn.Embedding(vocab, d)
            self.layers = nn.ModuleList(
                LlamaLayer(d, heads, kv_heads, ff, interleaved) for _ in range(layers))
            self.norm = RMSNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)
            self.interleaved = interleaved
            dh = d // heads
            inv = 1.0 / (10000 ** (torch.arange(0, dh, 2).float() / dh))
            freqs = torch.outer(torch.arange(MAX_POS).float(), inv)  # [P, Dh/2]
            if not interleaved:
                freqs = torch.cat((freqs, freqs), dim=-1)  # [P, Dh]
            self.register_buffer("cos_cached", freqs.cos())
            self.register_buffer("sin_cached", freqs.sin())

        def causal_mask(self, b, s, dtype):
            if self.interleaved:
                # AttentionMaskConverter's triu of finfo.min.
                mask = torch.full((s, s), torch.finfo(dtype).min)
                mask = torch.triu(mask, diagonal=1)
            else:
                # _make_causal_mask: masked_fill of finfo.min where j < i + 1.
                mask = torch.full((s, s), torch.finfo(dtype).min)
                cond = torch.arange(mask.size(-1))
                mask.masked_fill_(cond < (cond + 1).view(mask.size(-1), 1), 0)
            return mask[None, None, :, :].expand(b, 1, s, s)

        def forward(self, input_ids, attention_mask):
            b, s = input_ids.size()
            dtype = torch.float32
            # _expand_mask: (1 - mask) filled with finfo.min, plus the causal.
            expanded = attention_mask[:, None, None, :].expand(b, 1, s, s).to(dtype)
            inverted = 1.0 - expanded
            pad = inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)
            mask = pad + self.causal_mask(b, s, dtype)
            position_ids = torch.arange(s, dtype=torch.long).unsqueeze(0)
            cos = self.cos_cached[position_ids].unsqueeze(1)  # [1, 1, S, .]
            sin = self.sin_cached[position_ids].unsqueeze(1)
            x = self.embed_tokens(input_ids)
            for layer in self.layers:
                x = layer(x, cos, sin, mask)
            return self.lm_head(self.norm(x))

    class T5Layer(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.h, self.dh = heads, d // heads
            self.q = nn.Linear(d, d, bias=False)
            self.k = nn.Linear(d, d, bias=False)
            self.v = nn.Linear(d, d, bias=False)
            self.o = nn.Linear(d, d, bias=False)
            self.ln1 = RMSNorm(d)
            self.wi = nn.Linear(d, ff, bias=False)
            self.wo = nn.Linear(ff, d, bias=False)
            self.ln2 = RMSNorm(d)

        def forward(self, x, position_bias):
            y = self.ln1(x)
            q, k, v = (split_heads(p(y), self.h) for p in (self.q, self.k, self.v))
            scores = torch.matmul(q, k.transpose(3, 2))  # T5: no 1/sqrt(Dh)
            scores = scores + position_bias
            w = F.softmax(scores.float(), dim=-1).type_as(scores)
            x = x + self.o(merge_heads(torch.matmul(w, v)))
            return x + self.wo(F.relu(self.wi(self.ln2(x))))

    class T5Encoder(nn.Module):
        """A T5-style encoder: RMSNorm, unscaled attention with T5's bucketed
        relative-position bias (plus the padding mask), ReLU FFN."""

        def __init__(self, vocab=VOCAB, d=64, heads=4, layers=2, ff=128, buckets=32,
                     max_distance=128):
            super().__init__()
            self.embed = nn.Embedding(vocab, d)
            self.relative_attention_bias = nn.Embedding(buckets, heads)
            self.layers = nn.ModuleList(T5Layer(d, heads, ff) for _ in range(layers))
            self.final_layer_norm = RMSNorm(d)
            self.buckets, self.max_distance = buckets, max_distance

        def bucket(self, rel):
            n = self.buckets // 2  # bidirectional
            out = (rel > 0).to(torch.long) * n
            rel = torch.abs(rel)
            exact = n // 2
            small = rel < exact
            large = exact + (
                torch.log(rel.float() / exact) / math.log(self.max_distance / exact) * (n - exact)
            ).to(torch.long)
            large = torch.min(large, torch.full_like(large, n - 1))
            return out + torch.where(small, rel, large)

        def forward(self, input_ids, attention_mask):
            s = input_ids.size(1)
            ctx = torch.arange(s, dtype=torch.long)[:, None]
            mem = torch.arange(s, dtype=torch.long)[None, :]
            bias = self.relative_attention_bias(self.bucket(mem - ctx))  # [S, S, H]
            bias = bias.permute([2, 0, 1]).unsqueeze(0)  # [1, H, S, S]
            ext = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(
                torch.float32).min
            position_bias = bias + ext
            x = self.embed(input_ids)
            for layer in self.layers:
                x = layer(x, position_bias)
            return self.final_layer_norm(x)

    # ---------------------------------------------------------------- 8
    def sinusoids(length, channels):
        """Whisper's positional embedding: sines then cosines, [length, channels]."""
        step = math.log(10000) / (channels // 2 - 1)
        inv = torch.exp(-step * torch.arange(channels // 2, dtype=torch.float32))
        t = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
        return torch.cat([torch.sin(t), torch.cos(t)], dim=1)

    class WhisperEncoder(nn.Module):
        """Whisper's audio encoder: log-mel [B, mels, 2 * MAX_POS] -> two
        Conv1d + GELU (the second strides 2) -> [B, MAX_POS, d] + constant
        sinusoids -> pre-LN layers -> LayerNorm."""

        def __init__(self, mels=80, d=64, heads=4, layers=2, ff=128):
            super().__init__()
            self.conv1 = nn.Conv1d(mels, d, kernel_size=3, padding=1)
            self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
            self.register_buffer("positional_embedding", sinusoids(MAX_POS, d))
            self.layers = nn.ModuleList(
                ViTBlock(d, heads, ff, eps=1e-5, key_bias=False) for _ in range(layers))
            self.ln_post = nn.LayerNorm(d)

        def forward(self, input_features):
            x = F.gelu(self.conv1(input_features))
            x = F.gelu(self.conv2(x)).permute(0, 2, 1)
            x = x + self.positional_embedding
            for layer in self.layers:
                x = layer(x)
            return self.ln_post(x)

    # ------------------------------------------------------------ inputs
    def token_ids(b, s, seed):
        g = torch.Generator().manual_seed(seed)
        return torch.randint(0, VOCAB, (b, s), generator=g, dtype=torch.long)

    def padding_mask(b, s):
        m = torch.ones(b, s, dtype=torch.long)
        for i in range(1, b):  # row i has i padded positions at the end
            m[i, s - min(i, s - 1):] = 0
        return m

    def ids_and_mask(b, s):
        return (token_ids(b, s, 1), padding_mask(b, s))

    def pixels(b):
        g = torch.Generator().manual_seed(2)
        return (torch.randn(b, 3, 32, 32, generator=g),)

    def log_mel(b):  # 80 mel bins, twice as many frames as positions
        g = torch.Generator().manual_seed(3)
        return (torch.randn(b, 80, 2 * MAX_POS, generator=g),)

    bs = {0: "batch", 1: "seq"}
    b_only = {0: "batch"}
    Spec = collections.namedtuple(
        "Spec",
        "build inputs check_inputs input_names output_names dynamic_axes out_shape check",
        defaults=(None,),
    )
    def token_model(build, output, width):
        """A model of input_ids and attention_mask [batch, seq] -> [batch, seq,
        width]."""
        return Spec(
            build,
            lambda: ids_and_mask(2, 7),
            lambda: ids_and_mask(3, 11),
            ["input_ids", "attention_mask"],
            [output],
            {"input_ids": bs, "attention_mask": bs, output: bs},
            lambda ins: (ins[0].size(0), ins[0].size(1), width),
        )

    specs = {
        "transformer": Spec(
            Seq2SeqTransformer,
            lambda: (token_ids(2, 7, 1), token_ids(2, 5, 3)),
            lambda: (token_ids(3, 11, 4), token_ids(3, 4, 5)),
            ["src_ids", "tgt_ids"],
            ["logits"],
            {
                "src_ids": {0: "batch", 1: "src_seq"},
                "tgt_ids": {0: "batch", 1: "tgt_seq"},
                "logits": {0: "batch", 1: "tgt_seq"},
            },
            lambda ins: (ins[1].size(0), ins[1].size(1), VOCAB),
        ),
        "bert": Spec(
            Bert,
            lambda: ids_and_mask(2, 7),
            lambda: ids_and_mask(3, 11),
            ["input_ids", "attention_mask"],
            ["last_hidden_state"],
            {"input_ids": bs, "attention_mask": bs, "last_hidden_state": bs},
            lambda ins: (ins[0].size(0), ins[0].size(1), 64),
        ),
        "gpt2": Spec(
            GPT2,
            lambda: (token_ids(2, 7, 1),),
            lambda: (token_ids(3, 11, 4),),
            ["input_ids"],
            ["logits"],
            {"input_ids": bs, "logits": bs},
            lambda ins: (ins[0].size(0), ins[0].size(1), VOCAB),
        ),
        "vit": Spec(
            ViT,
            lambda: pixels(2),
            lambda: pixels(3),
            ["pixel_values"],
            ["last_hidden_state"],
            {"pixel_values": b_only, "last_hidden_state": b_only},
            lambda ins: (ins[0].size(0), 17, 64),
        ),
        "sdpa": Spec(
            SdpaEncoder,
            lambda: ids_and_mask(2, 7),
            lambda: ids_and_mask(3, 11),
            ["input_ids", "attention_mask"],
            ["last_hidden_state"],
            {"input_ids": bs, "attention_mask": bs, "last_hidden_state": bs},
            lambda ins: (ins[0].size(0), ins[0].size(1), 64),
        ),
        "distilbert": Spec(
            DistilBert,
            lambda: ids_and_mask(2, 7),
            lambda: ids_and_mask(3, 11),
            ["input_ids", "attention_mask"],
            ["last_hidden_state"],
            {"input_ids": bs, "attention_mask": bs, "last_hidden_state": bs},
            lambda ins: (ins[0].size(0), ins[0].size(1), 64),
        ),
        "llama": token_model(Llama, "logits", VOCAB),
        # Heads of 32 (256 wide, one layer for size): the rotary epilogue of
        # the Q/K projection runs in the GEMM's register tiles
        # (FusedQKVProjection.cpp); the 8-wide heads of "llama" take its path
        # outside them.
        "llama_interleaved": token_model(
            lambda: Llama(interleaved=True, d=256, layers=1), "logits", VOCAB),
        "t5_encoder": token_model(T5Encoder, "last_hidden_state", 64),
        # Not in MODEL_NAMES (no model test): bench.py's --whisper-base.
        "whisper_encoder": Spec(
            WhisperEncoder,
            lambda: log_mel(2),
            lambda: log_mel(3),
            ["input_features"],
            ["last_hidden_state"],
            {"input_features": b_only, "last_hidden_state": b_only},
            lambda ins: (ins[0].size(0), ins[0].size(2) // 2, 64),
        ),
    }
    specs.update(kv_specs(Spec, locals()))
    return specs


# Hugging Face Optimum's dimension names.
KV_BATCH = "batch_size"
KV_SEQ = "sequence_length"
KV_PAST = "past_sequence_length"
KV_TOTAL = "past_sequence_length + sequence_length"
KV_ENC = "encoder_sequence_length"
HEADS, HEAD_DIM, LAYERS = 4, 16, 2


def kv_specs(Spec, defs):
    """The KV-cache exports: GPT2KV and the encoder-decoder Transformer's
    encoder (source -> cross-attention K/V) and decoder step. They have the
    weights of gpt2_op17 and transformer_op17 (same seed, same modules), and
    their checks run those models on the whole sequence and require the
    cached steps (prefill, then decode) to give the same logits."""
    import torch

    token_ids, GPT2, Seq2Seq = defs["token_ids"], defs["GPT2"], defs["Seq2SeqTransformer"]

    def cache(b, p, seed, n=LAYERS * 2):
        g = torch.Generator().manual_seed(seed)
        return tuple(torch.randn(b, HEADS, p, HEAD_DIM, generator=g) for _ in range(n))

    def gpt2_inputs(b, s, p, seed):
        return (token_ids(b, s, seed), torch.ones(b, p + s, dtype=torch.long)) + cache(b, p, seed)

    def check_gpt2(model):
        ids = token_ids(3, 9, 7)
        full = GPT2.forward(model, ids)
        step = model(ids[:, :5], torch.ones(3, 5, dtype=torch.long), *cache(3, 0, 0))
        step2 = model(ids[:, 5:], torch.ones(3, 9, dtype=torch.long), *step[1:])
        return full, torch.cat((step[0], step2[0]), dim=1)

    def check_transformer(model):
        src, tgt = token_ids(2, 7, 4), token_ids(2, 6, 5)
        full = Seq2Seq.forward(model, src, tgt)
        enc = TransformerKVEncoderOf(model)(src)
        cross = enc[1:]
        def past_of(selfkv):
            out = []
            for i in range(LAYERS):
                out += list(selfkv[2 * i : 2 * i + 2]) + list(cross[2 * i : 2 * i + 2])
            return out
        step = model(tgt[:, :4], *past_of(cache(2, 0, 0)))
        step2 = model(tgt[:, 4:], *past_of(step[1:]))
        return full, torch.cat((step[0], step2[0]), dim=1)

    def TransformerKVEncoderOf(model):
        return lambda src: defs["TransformerKVEncoder"].forward(model, src)

    cache_axes = {0: KV_BATCH, 2: KV_PAST}
    present_axes = {0: KV_BATCH, 2: KV_TOTAL}
    gpt2_past = ["past_key_values.%d.%s" % (i, t) for i in range(LAYERS) for t in ("key", "value")]
    gpt2_present = [n.replace("past_key_values", "present") for n in gpt2_past]
    dec_past = ["past_key_values.%d.%s.%s" % (i, side, t) for i in range(LAYERS)
                for side in ("decoder", "encoder") for t in ("key", "value")]
    dec_present = [n.replace("past_key_values", "present") for n in dec_past if ".decoder." in n]
    enc_present = [n.replace("past_key_values", "present") for n in dec_past if ".encoder." in n]

    def transformer_past(b, p, se, seed):
        self_kv, cross = cache(b, p, seed), cache(b, se, seed + 1)
        out = []
        for i in range(LAYERS):
            out += list(self_kv[2 * i : 2 * i + 2]) + list(cross[2 * i : 2 * i + 2])
        return tuple(out)

    def heads(b, s):
        return (b, HEADS, s, HEAD_DIM)

    return {
        "gpt2_kv": Spec(
            defs["GPT2KV"],
            lambda: gpt2_inputs(2, 3, 4, 1),
            lambda: gpt2_inputs(3, 1, 5, 4),
            ["input_ids", "attention_mask"] + gpt2_past,
            ["logits"] + gpt2_present,
            dict(
                {"input_ids": {0: KV_BATCH, 1: KV_SEQ},
                 "attention_mask": {0: KV_BATCH, 1: KV_TOTAL},
                 "logits": {0: KV_BATCH, 1: KV_SEQ}},
                **{n: cache_axes for n in gpt2_past},
                **{n: present_axes for n in gpt2_present},
            ),
            lambda ins: [(ins[0].size(0), ins[0].size(1), VOCAB)]
            + [heads(ins[0].size(0), ins[1].size(1))] * len(gpt2_present),
            check_gpt2,
        ),
        "transformer_kv_encoder": Spec(
            defs["TransformerKVEncoder"],
            lambda: (token_ids(2, 7, 1),),
            lambda: (token_ids(3, 11, 4),),
            ["src_ids"],
            ["encoder_hidden_states"] + enc_present,
            dict(
                {"src_ids": {0: KV_BATCH, 1: KV_ENC},
                 "encoder_hidden_states": {0: KV_BATCH, 1: KV_ENC}},
                **{n: {0: KV_BATCH, 2: KV_ENC} for n in enc_present},
            ),
            lambda ins: [(ins[0].size(0), ins[0].size(1), 64)]
            + [heads(ins[0].size(0), ins[0].size(1))] * len(enc_present),
        ),
        "transformer_kv_decoder": Spec(
            defs["TransformerKVDecoder"],
            lambda: (token_ids(2, 3, 1),) + transformer_past(2, 4, 7, 1),
            lambda: (token_ids(3, 1, 4),) + transformer_past(3, 5, 11, 4),
            ["input_ids"] + dec_past,
            ["logits"] + dec_present,
            dict(
                {"input_ids": {0: KV_BATCH, 1: KV_SEQ},
                 "logits": {0: KV_BATCH, 1: KV_SEQ}},
                **{n: (cache_axes if ".decoder." in n else {0: KV_BATCH, 2: KV_ENC})
                   for n in dec_past},
                **{n: present_axes for n in dec_present},
            ),
            lambda ins: [(ins[0].size(0), ins[0].size(1), VOCAB)]
            + [heads(ins[0].size(0), ins[1].size(2) + ins[0].size(1))] * len(dec_present),
            check_transformer,
        ),
    }


# --------------------------------------------------------------------------
# Export and verification
# --------------------------------------------------------------------------


def run_torch(model, spec, inputs, label):
    import torch

    with torch.no_grad():
        outs = as_tuple(model(*inputs))
        wants = spec.out_shape(inputs)
        if not isinstance(wants, list):
            wants = [wants]
        for out, want, name in zip(outs, wants, spec.output_names):
            if tuple(out.shape) != tuple(want):
                raise GenerateError(
                    "%s: torch output %s has shape %s, expected %s"
                    % (label, name, tuple(out.shape), tuple(want))
                )
            if not torch.isfinite(out).all():
                raise GenerateError("%s: torch output %s has non-finite values" % (label, name))
        if spec.check:
            # The cached steps give the logits of the whole sequence.
            full, cached = spec.check(model)
            err = float((full - cached).abs().max())
            if err > 1e-5 * max(1.0, float(full.abs().max())):
                raise GenerateError(
                    "%s: cached steps differ from the whole sequence by %g" % (label, err)
                )


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def verify_onnx(path, name, spec, opset):
    import onnx

    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise GenerateError("%s: file is %d bytes (limit %d)" % (name, size, MAX_FILE_BYTES))
    try:
        onnx.checker.check_model(path, full_check=False)
    except onnx.checker.ValidationError as e:
        raise GenerateError("%s: ONNX checker failed: %s" % (name, e))
    model = onnx.load(path)
    try:
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:  # onnx raises InferenceError / ValidationError
        raise GenerateError("%s: ONNX shape inference failed: %s" % (name, e))

    default_opsets = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if default_opsets != [opset]:
        raise GenerateError("%s: opset_import is %s, expected %d" % (name, default_opsets, opset))

    bad = []

    def walk(graph):
        for node in graph.node:
            if node.domain not in ("", "ai.onnx") or node.op_type not in ALLOWED_OPS:
                bad.append((node.domain or "ai.onnx") + "::" + node.op_type)
            for attr in node.attribute:
                if attr.HasField("g"):
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    if bad:
        raise GenerateError(
            "%s: graph contains op(s) outside the allowed list: %s"
            % (name, ", ".join(sorted(set(bad))))
        )

    # The dynamic axes must really be symbolic in the graph signature.
    values = {v.name: v for v in list(model.graph.input) + list(model.graph.output)}
    for vname, axes in spec.dynamic_axes.items():
        if vname not in values:
            raise GenerateError("%s: graph has no input/output named %r" % (name, vname))
        dims = values[vname].type.tensor_type.shape.dim
        for axis, sym in axes.items():
            if dims[axis].dim_param != sym:
                raise GenerateError(
                    "%s: %s axis %d is %r, expected symbolic %r"
                    % (name, vname, axis, dims[axis].dim_param or dims[axis].dim_value, sym)
                )
    return model


def randomize_defaults(model):
    """Give parameters that PyTorch initialises to constants random values.

    LayerNorm starts at weight=1/bias=0 and nn.MultiheadAttention's biases at
    0, and nn.Transformer's stacked layers start with equal biases. Left
    alone, a compiler that ignored gamma/beta, a bias or mixed up layers
    would still match the reference, and the exporter folds the identical
    initializers together into Identity nodes. Uses the seeded torch RNG.
    """
    import torch

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm) or type(module).__name__ == "RMSNorm":
                module.weight.normal_(1.0, 0.1)
                if getattr(module, "bias", None) is not None:
                    module.bias.normal_(0.0, 0.1)
        seen = []
        for _, p in sorted(model.named_parameters()):
            if not p.any():
                p.normal_(0.0, 0.02)
            # nn.Transformer deep-copies one layer N times and re-initialises
            # only the matrices, so the 1-D biases of all layers are equal.
            if any(q.shape == p.shape and torch.equal(q, p) for q in seen):
                bound = float(p.abs().max())
                p.uniform_(-bound, bound)
            seen.append(p)


def pin_static_output_dims(path, torch_out, spec):
    """Write concrete sizes for output axes that are not dynamic.

    The exporter sometimes leaves a static axis symbolic (ViT: the CLS concat
    goes through an Expand whose shape is computed at run time), naming it
    e.g. 'Addlast_hidden_state_dim_1'. The real size is known, so record it.
    """
    import onnx

    model = onnx.load(path)
    changed = False
    for out, value in zip(model.graph.output, torch_out):
        dyn = spec.dynamic_axes.get(out.name, {})
        for axis, dim in enumerate(out.type.tensor_type.shape.dim):
            if axis not in dyn and not dim.HasField("dim_value"):
                dim.dim_value = value.size(axis)
                changed = True
    if changed:
        onnx.save(model, path)


def export_one(name, specs, out_dir):
    import torch

    arch, _, op = name.rpartition("_op")
    opset = int(op)
    spec = specs[arch]

    torch.manual_seed(SEED)  # same weights for the op14 and op17 variants
    model = spec.build().eval()
    randomize_defaults(model)
    inputs = spec.inputs()
    run_torch(model, spec, inputs, name)
    run_torch(model, spec, spec.check_inputs(), name + " (other batch/seq)")

    path = os.path.join(out_dir, name + ".onnx")
    tmp = path + ".tmp"
    try:
        # Grad mode stays on during tracing and the parameters require grad,
        # which keeps torch 1.13's nn.TransformerEncoderLayer / nn.MultiheadAttention
        # off their fused "fast path" (aten::_transformer_encoder_layer_fwd,
        # aten::_native_multi_head_attention have no ONNX export).
        with torch.enable_grad():
            torch.onnx.export(
                model,
                inputs,
                tmp,
                input_names=spec.input_names,
                output_names=spec.output_names,
                dynamic_axes=spec.dynamic_axes,
                opset_version=opset,
                do_constant_folding=True,
                export_params=True,
                training=torch.onnx.TrainingMode.EVAL,
                operator_export_type=torch.onnx.OperatorExportTypes.ONNX,
            )
        with torch.no_grad():
            torch_out = model(*inputs)
        pin_static_output_dims(tmp, as_tuple(torch_out), spec)
        model_proto = verify_onnx(tmp, name, spec, opset)
        os.replace(tmp, path)
    except GenerateError:
        raise
    except Exception as e:
        raise GenerateError("%s: export failed: %s: %s" % (name, type(e).__name__, e))
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path, model_proto


# --------------------------------------------------------------------------
# The opset-23 Attention model (built with onnx.helper: torch 1.13 exports
# opset 17 at most)
# --------------------------------------------------------------------------

ATTENTION23 = "attention23_op23"


def build_attention23():
    """Two layers using the standard Attention op: a 3-D grouped-query causal
    self-attention (8 query / 2 KV heads) and a 4-D one with a key/value
    cache (past/present), a boolean padding mask and an explicit scale."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(SEED)
    d, heads, kv_heads, dh = 64, 8, 2, 8
    inits = []

    def weight(name, *shape, scale=0.1):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def const(name, values):
        inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    nodes = []

    def node(op, inputs, outputs, **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name="/" + outputs[0], **attrs))
        return outputs[0]

    def heads_of(x, n, name):  # [B, S, n * Dh] -> [B, n, S, Dh]
        r = node("Reshape", [x, const(name + "_shape", [0, 0, n, dh])], [name + "_split"])
        return node("Transpose", [r], [name + "_heads"], perm=[0, 2, 1, 3])

    x = node("Gather", [weight("embed", VOCAB, d, scale=1.0), "input_ids"], ["x0"])
    # Layer 1: 3-D inputs, causal.
    q = node("MatMul", [x, weight("l1_wq", d, heads * dh)], ["l1_q"])
    k = node("MatMul", [x, weight("l1_wk", d, kv_heads * dh)], ["l1_k"])
    v = node("MatMul", [x, weight("l1_wv", d, kv_heads * dh)], ["l1_v"])
    y = node("Attention", [q, k, v], ["l1_attn"], q_num_heads=heads,
             kv_num_heads=kv_heads, is_causal=1)
    x = node("Add", [x, node("MatMul", [y, weight("l1_wo", heads * dh, d)], ["l1_o"])], ["x1"])
    # Layer 2: 4-D inputs, cache and padding mask.
    q = heads_of(node("MatMul", [x, weight("l2_wq", d, heads * dh)], ["l2_q"]), heads, "l2_q")
    k = heads_of(node("MatMul", [x, weight("l2_wk", d, kv_heads * dh)], ["l2_k"]), kv_heads, "l2_k")
    v = heads_of(node("MatMul", [x, weight("l2_wv", d, kv_heads * dh)], ["l2_v"]), kv_heads, "l2_v")
    keep = node("Cast", ["attention_mask"], ["keep"], to=TensorProto.BOOL)
    keep = node("Unsqueeze", [keep, const("axes12", [1, 2])], ["keep4"])
    # ONNX Runtime wants the mask's query axis to be Sq: [B, 1, S, P + S].
    ids_shape = node("Shape", ["input_ids"], ["ids_shape"])
    mask_shape = node("Shape", ["attention_mask"], ["mask_shape"])
    full = node("Concat", [node("Slice", [ids_shape, const("s0", [0]), const("s1", [1])],
                                ["batch_dim"]),
                           const("one", [1]),
                           node("Slice", [ids_shape, const("s1b", [1]), const("s2", [2])],
                                ["seq_dim"]),
                           node("Slice", [mask_shape, const("s1c", [1]), const("s2b", [2])],
                                ["total_dim"])], ["mask_full_shape"], axis=0)
    keep = node("Expand", [keep, full], ["keep_full"])
    node("Attention", [q, k, v, keep, "past_key_values.0.key", "past_key_values.0.value"],
         ["l2_attn", "present.0.key", "present.0.value"], scale=0.3)
    merged = node("Transpose", ["l2_attn"], ["l2_merge_t"], perm=[0, 2, 1, 3])
    merged = node("Reshape", [merged, const("merge_shape", [0, 0, heads * dh])], ["l2_merge"])
    x = node("Add", [x, node("MatMul", [merged, weight("l2_wo", heads * dh, d)], ["l2_o"])],
             ["x2"])
    node("MatMul", [x, weight("lm_head", d, VOCAB)], ["logits"])

    seq, total, past = KV_SEQ, KV_TOTAL, KV_PAST
    cache = [KV_BATCH, kv_heads, past, dh]
    present = [KV_BATCH, kv_heads, total, dh]
    graph = helper.make_graph(
        nodes, "attention23",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [KV_BATCH, seq]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [KV_BATCH, total]),
         helper.make_tensor_value_info("past_key_values.0.key", TensorProto.FLOAT, cache),
         helper.make_tensor_value_info("past_key_values.0.value", TensorProto.FLOAT, cache)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [KV_BATCH, seq, VOCAB]),
         helper.make_tensor_value_info("present.0.key", TensorProto.FLOAT, present),
         helper.make_tensor_value_info("present.0.value", TensorProto.FLOAT, present)],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)],
                              producer_name="tessera-generate")
    model.ir_version = 10
    return model


def export_attention23(out_dir):
    """Writes attention23_op23.onnx. libonnx 1.12's Python checker knows
    opset 17 at most, so only the graph's structure is checked here (every
    value defined before use); tessera-compile checks the rest."""
    import onnx

    model = build_attention23()
    defined = {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}
    for n in model.graph.node:
        missing = [i for i in n.input if i and i not in defined]
        if missing:
            raise GenerateError("%s: node %s uses undefined %s" % (ATTENTION23, n.name, missing))
        defined.update(n.output)
    path = os.path.join(out_dir, ATTENTION23 + ".onnx")
    onnx.save(model, path)
    return path, model


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        print("\n".join(MODEL_NAMES))
        return 0

    try:
        import torch
        __import__("onnx")
    except ImportError as e:
        print(
            "generate.py: error: %s\n(needs Debian's python3-torch and python3-onnx; "
            "run it with /usr/bin/python3)" % e,
            file=sys.stderr,
        )
        return 2

    if not args.verbose:
        warnings.filterwarnings("ignore")
    torch.set_num_threads(1)

    names = args.only or MODEL_NAMES
    os.makedirs(args.out_dir, exist_ok=True)
    specs = define_models()
    for name in names:
        try:
            if name == ATTENTION23:
                path, proto = export_attention23(args.out_dir)
            else:
                path, proto = export_one(name, specs, args.out_dir)
        except GenerateError as e:
            print("generate.py: error: %s" % e, file=sys.stderr)
            return 1
        print("wrote %s (%d nodes, %d bytes)" % (path, len(proto.graph.node), os.path.getsize(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
