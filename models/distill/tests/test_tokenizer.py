from models.distill.tokenizer import get_tokenizer, preprocess_uint8, CLIP_MEAN, CLIP_STD
import numpy as np


def test_clip_ids():
    tok = get_tokenizer()
    ids = tok(["a photo of a cat"])[0]
    assert ids[:7].tolist() == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert ids.shape == (77,) and ids[7:].sum() == 0 and ids.dtype == np.int64


def test_roundtrip_and_punctuation():
    tok = get_tokenizer()
    text = "two small green triangles, a red star above a blue ring!"
    assert tok.decode(tok.encode(text)).strip().replace(" ,", ",").replace(" !", "!") == text
    # numbers split per digit, punctuation runs kept together (as CLIP's regex does)
    assert tok.decode(tok.encode("2024")).split() == ["2", "0", "2", "4"]
    assert len(tok.encode("hello...")) == 2


def test_truncation_keeps_eot():
    tok = get_tokenizer()
    ids = tok(["red " * 100])[0]
    assert ids[0] == 49406 and ids[-1] == 49407


def test_preprocess_matches_clip_normalisation():
    x = np.random.default_rng(0).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    out = preprocess_uint8(x).numpy()
    ref = (x.transpose(0, 3, 1, 2) / 255.0 - np.array(CLIP_MEAN)[None, :, None, None]) / np.array(CLIP_STD)[None, :, None, None]
    assert out.shape == (2, 3, 224, 224) and np.abs(out - ref).max() < 1e-5
    big = np.zeros((300, 400, 3), np.uint8)
    assert tuple(preprocess_uint8(big).shape) == (1, 3, 224, 224)
