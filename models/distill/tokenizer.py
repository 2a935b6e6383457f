"""CLIP's BPE tokenizer (byte-level BPE, 49408 tokens) and the app's image preprocessing.

Port of OpenAI's ``simple_tokenizer.py``.  CLIP splits words with the third-party ``regex``
module (``\\p{L}``, ``\\p{N}``); when that module is missing we use an equivalent ``re``
pattern: ``[^\\W\\d_]`` for letters and ``\\d`` for numbers.  ``ftfy`` is optional too.
"""
from __future__ import annotations

import gzip
import html
import os
from functools import lru_cache
from typing import Iterable, List, Sequence, Union

import numpy as np

try:  # pragma: no cover - depends on the machine
    import regex as _re  # type: ignore
    _PAT = _re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                       _re.IGNORECASE)
except ImportError:
    import re as _re
    _PAT = _re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
                       _re.IGNORECASE)

try:  # pragma: no cover
    import ftfy  # type: ignore
except ImportError:
    ftfy = None

import re

DEFAULT_BPE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bpe_simple_vocab_16e6.txt.gz")
CONTEXT_LENGTH = 77
SOT, EOT = 49406, 49407
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    pairs = set()
    prev = word[0]
    for ch in word[1:]:
        pairs.add((prev, ch))
        prev = ch
    return pairs


def basic_clean(text: str) -> str:
    if ftfy is not None:
        text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class SimpleTokenizer:
    def __init__(self, bpe_path: str = DEFAULT_BPE):
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        with gzip.open(bpe_path) as f:
            merges = f.read().decode("utf-8").split("\n")
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        for m in merges:
            vocab.append("".join(m))
        vocab.extend(["<|startoftext|>", "<|endoftext|>"])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = _PAT
        self.vocab_size = len(self.encoder)

    def bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text: str) -> List[int]:
        bpe_tokens: List[int] = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in self.pat.findall(text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            bpe_tokens.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return bpe_tokens

    def decode(self, tokens: Iterable[int]) -> str:
        text = "".join(self.decoder[int(t)] for t in tokens)
        return bytearray([self.byte_decoder[c] for c in text]).decode("utf-8", errors="replace").replace("</w>", " ")

    def __call__(self, texts: Union[str, Sequence[str]], context_length: int = CONTEXT_LENGTH,
                 truncate: bool = True) -> np.ndarray:
        """Tokenize to int64 [N, context_length] like ``clip.tokenize`` (SOT ... EOT, zero padded)."""
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), context_length), np.int64)
        for i, t in enumerate(texts):
            toks = [SOT] + self.encode(t) + [EOT]
            if len(toks) > context_length:
                if not truncate:
                    raise ValueError(f"text too long for context {context_length}: {t!r}")
                toks = toks[:context_length]
                toks[-1] = EOT
            out[i, : len(toks)] = toks
        return out


@lru_cache()
def get_tokenizer() -> SimpleTokenizer:
    return SimpleTokenizer()


def tokenize(texts, context_length: int = CONTEXT_LENGTH):
    """Returns a torch.LongTensor [N, 77] (numpy when torch is missing)."""
    arr = get_tokenizer()(texts, context_length)
    try:
        import torch
        return torch.from_numpy(arr)
    except ImportError:  # pragma: no cover
        return arr


def preprocess_uint8(images: np.ndarray, size: int = 224):
    """The app's preprocessing for uint8 HWC images (one or a batch) -> float32 NCHW tensor.

    Shortest side to ``size`` (bicubic) then centre crop, then CLIP mean/std.  ShapesWorld
    images are already 224x224 so only the normalisation applies.
    """
    import torch
    # DataLoader workers hand batches over as tensors; plain calls pass numpy arrays
    x = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(images))
    if x.ndim == 3:
        x = x[None]
    h, w = x.shape[1:3]
    if (h, w) == (size, size):  # fast path: one fused pass, NCHW contiguous output
        scale = torch.tensor([1.0 / (255.0 * s) for s in CLIP_STD]).view(1, 3, 1, 1)
        shift = torch.tensor([m / s for m, s in zip(CLIP_MEAN, CLIP_STD)]).view(1, 3, 1, 1)
        out = torch.empty((x.shape[0], 3, h, w), dtype=torch.float32)
        out.copy_(x.permute(0, 3, 1, 2))
        return out.mul_(scale).sub_(shift)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    if (h, w) != (size, size):
        s = size / min(h, w)
        nh, nw = max(size, round(h * s)), max(size, round(w * s))
        x = torch.nn.functional.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False).clamp_(0, 1)
        top, left = (nh - size) // 2, (nw - size) // 2
        x = x[:, :, top:top + size, left:left + size]
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std
