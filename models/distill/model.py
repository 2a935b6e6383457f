"""CLIP in PyTorch with OpenAI's exact module structure and state-dict names.

``visual.conv1``, ``visual.class_embedding``, ``visual.positional_embedding``, ``visual.ln_pre``,
``visual.transformer.resblocks.N.{attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.*,
ln_1, mlp.c_fc, mlp.c_proj, ln_2}``, ``visual.ln_post``, ``visual.proj``, ``token_embedding``,
``positional_embedding``, ``transformer.resblocks.N...``, ``ln_final``, ``text_projection``,
``logit_scale``.  QuickGELU, causal text mask, EOT pooling by argmax of the token ids.

One optional extension: ``vocab`` (a list of kept CLIP token ids).  When given, the token
embedding only has rows for those ids (+1 shared row for every other id) and a buffer
``vocab_ids`` lists the kept ids.  The exported graph still takes plain CLIP ids; the
49408 x width table (25 MB at width 128) shrinks to a few KB.  OpenAI checkpoints never
have ``vocab_ids`` and load as full-vocabulary models.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

VOCAB_SIZE = 49408


@dataclass
class ClipConfig:
    embed_dim: int = 512
    image_resolution: int = 224
    vision_layers: int = 12
    vision_width: int = 768
    vision_heads: int = 12
    vision_patch_size: int = 32
    context_length: int = 77
    vocab_size: int = VOCAB_SIZE
    transformer_width: int = 512
    transformer_heads: int = 8
    transformer_layers: int = 12
    vocab: Optional[List[int]] = None  # reduced vocabulary (see module docstring)

    @classmethod
    def from_dict(cls, d: dict) -> "ClipConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict:
        return asdict(self)


class LayerNorm(nn.LayerNorm):
    """fp16-safe LayerNorm (computes in fp32) as in OpenAI's code."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        orig = x.dtype
        return super().forward(x.float()).to(orig)


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d_model: int, n_head: int, attn_mask: Optional[torch.Tensor] = None):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = LayerNorm(d_model)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(d_model, d_model * 4)),
            ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(d_model * 4, d_model)),
        ]))
        self.ln_2 = LayerNorm(d_model)
        self.attn_mask = attn_mask  # plain attribute, not in the state dict (as in OpenAI's code)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        mask = None
        if self.attn_mask is not None:
            n = x.shape[0]
            mask = self.attn_mask[:n, :n].to(dtype=x.dtype, device=x.device)
        return self.attn(x, x, x, need_weights=False, attn_mask=mask)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, attn_mask: Optional[torch.Tensor] = None):
        super().__init__()
        self.width, self.layers = width, layers
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, attn_mask) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, input_resolution: int, patch_size: int, width: int, layers: int, heads: int, output_dim: int):
        super().__init__()
        self.input_resolution, self.output_dim = input_resolution, output_dim
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((input_resolution // patch_size) ** 2 + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # [N, width, g, g]
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [N, g*g, width]
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype, device=x.device)
        x = torch.cat([cls, x], dim=1)
        x = x + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = x.permute(1, 0, 2)  # NLD -> LND
        x = self.transformer(x)
        x = x.permute(1, 0, 2)
        x = self.ln_post(x[:, 0, :])
        return x @ self.proj


class CLIP(nn.Module):
    def __init__(self, cfg: ClipConfig):
        super().__init__()
        self.cfg = cfg
        self.context_length = cfg.context_length
        vision_heads = cfg.vision_heads
        self.visual = VisionTransformer(cfg.image_resolution, cfg.vision_patch_size, cfg.vision_width,
                                        cfg.vision_layers, vision_heads, cfg.embed_dim)
        self.transformer = Transformer(cfg.transformer_width, cfg.transformer_layers, cfg.transformer_heads,
                                       attn_mask=self.build_attention_mask())
        if cfg.vocab:
            ids = sorted(set(int(i) for i in cfg.vocab))
            self.register_buffer("vocab_ids", torch.tensor(ids, dtype=torch.long))
            self.token_embedding = nn.Embedding(len(ids) + 1, cfg.transformer_width)  # last row: unknown ids
        else:
            self.vocab_ids = None
            self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.transformer_width)
        self.positional_embedding = nn.Parameter(torch.empty(cfg.context_length, cfg.transformer_width))
        self.ln_final = LayerNorm(cfg.transformer_width)
        self.text_projection = nn.Parameter(torch.empty(cfg.transformer_width, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self.initialize_parameters()

    def initialize_parameters(self):
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        for tr in (self.transformer, self.visual.transformer):
            proj_std = (tr.width ** -0.5) * ((2 * tr.layers) ** -0.5)
            attn_std = tr.width ** -0.5
            fc_std = (2 * tr.width) ** -0.5
            for block in tr.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=self.cfg.transformer_width ** -0.5)

    def build_attention_mask(self) -> torch.Tensor:
        mask = torch.empty(self.context_length, self.context_length)
        mask.fill_(float("-inf"))
        mask.triu_(1)
        return mask

    @property
    def dtype(self):
        return self.visual.conv1.weight.dtype

    def encode_image(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image.type(self.dtype))

    def encode_text(self, text: torch.Tensor, truncate: Optional[bool] = None) -> torch.Tensor:
        """``truncate``: run the transformer only up to the batch's last EOT position.  Exact
        (causal attention: positions <= EOT never see the padding), 3-4x cheaper for short
        captions; off while tracing/exporting so graphs keep the fixed [N, 77] signature."""
        if truncate is None:
            truncate = not torch.jit.is_tracing() and not _onnx_exporting()
        pos = self.positional_embedding
        if truncate:
            n = int(text.argmax(dim=-1).max()) + 1
            text, pos = text[:, :n], pos[:n]
        x = self.embed_tokens(text).type(self.dtype)
        x = x + pos.type(self.dtype)
        x = x.permute(1, 0, 2)
        x = self.transformer(x)
        x = x.permute(1, 0, 2)
        x = self.ln_final(x).type(self.dtype)
        x = x[torch.arange(x.shape[0], device=x.device), text.argmax(dim=-1)] @ self.text_projection
        return x

    def embed_tokens(self, text: torch.Tensor) -> torch.Tensor:
        if self.vocab_ids is None:
            return self.token_embedding(text)
        # reduced vocabulary: one-hot match against the kept ids (exact, tiny graph, no
        # 49408-entry lookup table); ids outside the vocabulary get the last row
        w = self.token_embedding.weight
        onehot = (text.unsqueeze(-1) == self.vocab_ids).to(w.dtype)  # [N, L, V]
        known = onehot.sum(-1, keepdim=True)
        return onehot @ w[:-1] + (1.0 - known) * w[-1]

    def forward(self, image, text):
        im = F.normalize(self.encode_image(image), dim=-1)
        tx = F.normalize(self.encode_text(text), dim=-1)
        s = self.logit_scale.exp()
        logits = s * im @ tx.t()
        return logits, logits.t()


# ----------------------------------------------------------------------------- helpers
def _onnx_exporting() -> bool:
    try:
        return bool(torch.onnx.is_in_onnx_export())
    except Exception:  # pragma: no cover
        return False


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tower_params(model: CLIP) -> Dict[str, int]:
    vis = count_params(model.visual)
    txt = count_params(model) - vis - 1  # minus logit_scale
    return {"image": vis, "text": txt, "total": count_params(model)}


def config_from_state_dict(sd: Dict[str, torch.Tensor]) -> ClipConfig:
    """Infer a ViT CLIP config from an OpenAI-format state dict (as OpenAI's ``build_model``)."""
    if "visual.proj" not in sd:
        raise ValueError("only ViT CLIP checkpoints are supported (no visual.proj found)")
    vision_width = sd["visual.conv1.weight"].shape[0]
    vision_layers = len({k.split(".")[3] for k in sd if k.startswith("visual.transformer.resblocks.") and k.endswith(".attn.in_proj_weight")})
    vision_patch_size = sd["visual.conv1.weight"].shape[-1]
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    embed_dim = sd["text_projection"].shape[1]
    context_length = sd["positional_embedding"].shape[0]
    transformer_width = sd["ln_final.weight"].shape[0]
    transformer_layers = len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks.") and k.endswith(".attn.in_proj_weight")})
    vocab = [int(i) for i in sd["vocab_ids"].tolist()] if "vocab_ids" in sd else None
    return ClipConfig(
        embed_dim=embed_dim, image_resolution=vision_patch_size * grid, vision_layers=vision_layers,
        vision_width=vision_width, vision_heads=max(1, vision_width // 64), vision_patch_size=vision_patch_size,
        context_length=context_length,
        vocab_size=(VOCAB_SIZE if "vocab_ids" in sd else sd["token_embedding.weight"].shape[0]),
        transformer_width=transformer_width, transformer_heads=max(1, transformer_width // 64),
        transformer_layers=transformer_layers, vocab=vocab)


def load_openai_state_dict(sd: Dict[str, torch.Tensor], cfg: Optional[ClipConfig] = None) -> CLIP:
    """Build a CLIP from an OpenAI-format state dict (``torch.load`` of a ``.pt``/``.bin`` or a
    TorchScript archive's ``state_dict()``).  Heads default to width/64 as in OpenAI's models;
    pass ``cfg`` to override.  Extra keys ``input_resolution``/``context_length``/``vocab_size``
    (present in TorchScript archives) are ignored.  Loads strictly: any missing or unexpected
    key raises."""
    sd = {k: v for k, v in sd.items() if k not in ("input_resolution", "context_length", "vocab_size")}
    cfg = cfg or config_from_state_dict(sd)
    model = CLIP(cfg)
    model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return model


def load_checkpoint_file(path: str) -> CLIP:
    """Load an OpenAI ``ViT-*.pt`` (TorchScript or plain state dict) or one of our checkpoints."""
    try:
        obj = torch.jit.load(path, map_location="cpu")
        sd = obj.state_dict()
    except Exception:
        obj = torch.load(path, map_location="cpu")
        sd = obj
        if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
            sd = obj["model"]
            if "config" in obj:
                return load_openai_state_dict(sd, ClipConfig.from_dict(obj["config"]))
    return load_openai_state_dict(sd)


def student_from_teacher(teacher: CLIP, cfg: ClipConfig, text_layers_from: Sequence[int]) -> CLIP:
    """A student CLIP whose text tower is initialised from chosen teacher layers.

    Copies token/positional embeddings, ln_final, text_projection, logit_scale and the
    resblocks listed in ``text_layers_from`` (e.g. [0, 2, 4, 6] of a 12-layer teacher...).
    The image tower (a different shape, ViT-S/16-like) starts random.
    """
    student = CLIP(cfg)
    tsd = teacher.state_dict()
    ssd = student.state_dict()
    assert cfg.transformer_width == teacher.cfg.transformer_width, "text width must match the teacher to copy layers"
    assert len(text_layers_from) == cfg.transformer_layers
    for k in ["token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias",
              "text_projection", "logit_scale"] + (["vocab_ids"] if "vocab_ids" in tsd else []):
        if k in ssd and ssd[k].shape == tsd[k].shape:
            ssd[k] = tsd[k].clone()
    for j, i in enumerate(text_layers_from):
        pre_t, pre_s = f"transformer.resblocks.{i}.", f"transformer.resblocks.{j}."
        for k, v in tsd.items():
            if k.startswith(pre_t):
                ssd[pre_s + k[len(pre_t):]] = v.clone()
    student.load_state_dict(ssd)
    return student


class ImageEncoder(nn.Module):
    """pixel_values float32 [N,3,224,224] -> image_embeds (L2-normalised) [N, dim]."""

    def __init__(self, clip: CLIP):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return F.normalize(self.clip.encode_image(pixel_values), dim=-1)


class TextEncoder(nn.Module):
    """input_ids int64 [N,77] -> text_embeds (L2-normalised) [N, dim]."""

    def __init__(self, clip: CLIP):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids):
        return F.normalize(self.clip.encode_text(input_ids), dim=-1)
