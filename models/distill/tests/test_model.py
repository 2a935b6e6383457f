import math

import pytest
import torch

from models.distill.model import (CLIP, ClipConfig, config_from_state_dict, load_openai_state_dict,
                                  student_from_teacher, ImageEncoder, TextEncoder)
from models.distill.tokenizer import tokenize


def openai_state_dict_shapes(embed=32, res=64, patch=32, vw=64, vl=2, tw=64, tl=3, ctx=77, vocab=49408):
    """Names and shapes of an OpenAI ViT CLIP state dict, written out independently of model.py
    (from OpenAI's clip/model.py)."""
    s = {}
    s["visual.class_embedding"] = (vw,)
    s["visual.positional_embedding"] = ((res // patch) ** 2 + 1, vw)
    s["visual.proj"] = (vw, embed)
    s["visual.conv1.weight"] = (vw, 3, patch, patch)
    s["visual.ln_pre.weight"] = s["visual.ln_pre.bias"] = (vw,)
    s["visual.ln_post.weight"] = s["visual.ln_post.bias"] = (vw,)

    def blocks(prefix, w, n):
        for i in range(n):
            p = f"{prefix}.resblocks.{i}."
            s[p + "attn.in_proj_weight"] = (3 * w, w)
            s[p + "attn.in_proj_bias"] = (3 * w,)
            s[p + "attn.out_proj.weight"] = (w, w)
            s[p + "attn.out_proj.bias"] = (w,)
            s[p + "ln_1.weight"] = s[p + "ln_1.bias"] = (w,)
            s[p + "mlp.c_fc.weight"] = (4 * w, w)
            s[p + "mlp.c_fc.bias"] = (4 * w,)
            s[p + "mlp.c_proj.weight"] = (w, 4 * w)
            s[p + "mlp.c_proj.bias"] = (w,)
            s[p + "ln_2.weight"] = s[p + "ln_2.bias"] = (w,)
    blocks("visual.transformer", vw, vl)
    blocks("transformer", tw, tl)
    s["positional_embedding"] = (ctx, tw)
    s["text_projection"] = (tw, embed)
    s["logit_scale"] = ()
    s["token_embedding.weight"] = (vocab, tw)
    s["ln_final.weight"] = s["ln_final.bias"] = (tw,)
    return s


def test_random_openai_state_dict_roundtrips():
    g = torch.Generator().manual_seed(0)
    shapes = openai_state_dict_shapes()
    sd = {k: torch.randn(v, generator=g) * 0.05 for k, v in shapes.items()}
    sd["logit_scale"] = torch.tensor(math.log(1 / 0.07))
    # TorchScript archives carry these extra scalars
    sd.update({"input_resolution": torch.tensor(64), "context_length": torch.tensor(77), "vocab_size": torch.tensor(49408)})
    sd = {k: v.half() if v.is_floating_point() and k not in ("logit_scale",) else v for k, v in sd.items()}
    model = load_openai_state_dict(sd)
    cfg = model.cfg
    assert (cfg.embed_dim, cfg.image_resolution, cfg.vision_patch_size, cfg.vision_width, cfg.vision_layers) == (32, 64, 32, 64, 2)
    assert (cfg.transformer_width, cfg.transformer_layers, cfg.context_length) == (64, 3, 77)
    out = model.state_dict()
    assert set(out) == set(shapes)
    for k in shapes:
        assert torch.equal(out[k], sd[k].float()), k
    ids = tokenize(["a photo of a cat", "two red circles"])
    with torch.no_grad():
        te = model.encode_text(ids)
        ie = model.encode_image(torch.randn(2, 3, 64, 64))
    assert te.shape == (2, 32) and ie.shape == (2, 32) and torch.isfinite(te).all()
    # and back: our state dict loads into a fresh model with identical outputs
    m2 = load_openai_state_dict(out)
    with torch.no_grad():
        assert torch.allclose(m2.encode_text(ids), te)


def test_missing_key_is_an_error():
    shapes = openai_state_dict_shapes()
    sd = {k: torch.zeros(v) for k, v in shapes.items()}
    del sd["ln_final.bias"]
    with pytest.raises(RuntimeError):
        load_openai_state_dict(sd)


def small_cfg(**kw):
    c = dict(embed_dim=16, image_resolution=224, vision_layers=1, vision_width=32, vision_heads=2, vision_patch_size=32,
             transformer_width=32, transformer_heads=2, transformer_layers=4)
    c.update(kw)
    return ClipConfig(**c)


def test_reduced_vocab_matches_full_embedding():
    torch.manual_seed(0)
    full = CLIP(small_cfg())
    ids = tokenize(["a red star above a blue ring", "a photo of a cat"])
    keep = sorted(set(ids.flatten().tolist()) - {2368})  # drop "cat"
    red = CLIP(small_cfg(vocab=keep))
    sd = full.state_dict()
    rsd = red.state_dict()
    for k in rsd:
        if k not in ("token_embedding.weight", "vocab_ids"):
            rsd[k] = sd[k]
    rsd["token_embedding.weight"][:-1] = sd["token_embedding.weight"][torch.tensor(keep)]
    red.load_state_dict(rsd)
    with torch.no_grad():
        a, b = full.encode_text(ids[:1]), red.encode_text(ids[:1])
        assert torch.allclose(a, b, atol=1e-6)
        emb = red.embed_tokens(torch.tensor([[2368]]))  # unknown id -> shared last row
        assert torch.equal(emb[0, 0], red.token_embedding.weight[-1])
    assert config_from_state_dict(red.state_dict()).vocab == keep


def test_truncated_text_is_exact():
    torch.manual_seed(0)
    m = CLIP(small_cfg()).eval()
    ids = tokenize(["a red circle", "four little blue hearts on a noisy backdrop"])
    with torch.no_grad():
        assert torch.allclose(m.encode_text(ids, truncate=True), m.encode_text(ids, truncate=False), atol=1e-6)


def test_student_text_layers_copied_from_teacher():
    torch.manual_seed(0)
    t = CLIP(small_cfg())
    s = student_from_teacher(t, small_cfg(vision_width=16, vision_heads=1, transformer_layers=2), [1, 3])
    ts, ss = t.state_dict(), s.state_dict()
    assert torch.equal(ss["transformer.resblocks.0.attn.in_proj_weight"], ts["transformer.resblocks.1.attn.in_proj_weight"])
    assert torch.equal(ss["transformer.resblocks.1.mlp.c_fc.weight"], ts["transformer.resblocks.3.mlp.c_fc.weight"])
    assert torch.equal(ss["token_embedding.weight"], ts["token_embedding.weight"])
    assert ss["visual.conv1.weight"].shape[0] == 16


def test_encoders_are_normalised():
    m = CLIP(small_cfg()).eval()
    with torch.no_grad():
        e = ImageEncoder(m)(torch.randn(3, 3, 224, 224))
        t = TextEncoder(m)(tokenize(["a", "b c"]))
    assert torch.allclose(e.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(t.norm(dim=-1), torch.ones(2), atol=1e-5)
