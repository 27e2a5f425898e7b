import numpy as np
import pytest

from safevla_policy.configuration_safevla import CLIP_MEAN, CLIP_STD, make_config
from safevla_policy.processor_safevla import ByteTokenizer, HFTokenizer, SafeVLAProcessor, make_tokenizer


@pytest.fixture
def processor():
    return SafeVLAProcessor(make_config("small"), ByteTokenizer())


def test_images_are_scaled_normalised_and_cropped(processor):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (224, 384, 3), dtype=np.uint8)
    out = processor.preprocess_image(rgb)
    assert out.shape == (3, 224, 378) and out.dtype == np.float32 and out.flags.c_contiguous
    reference = (rgb[:, 3:-3].astype(np.float64) / 255.0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    np.testing.assert_allclose(out, reference.transpose(2, 0, 1), atol=1e-6)
    marked = np.zeros_like(rgb)
    marked[:, 3] = 255  # first kept column
    marked[:, :3] = marked[:, -3:] = 128  # cut columns
    out = processor.preprocess_image(marked)
    np.testing.assert_allclose(out[:, 0, 0], (1.0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD), rtol=1e-6)
    nav, manip = processor.preprocess_images(rgb, marked)
    assert nav.shape == manip.shape == (1, 3, 224, 378)


@pytest.mark.parametrize("frame", [np.zeros((224, 396, 3), np.uint8), np.zeros((224, 384, 3), np.float32),
                                   np.zeros((224, 384), np.uint8), "not an image"])
def test_malformed_frames_are_rejected(processor, frame):
    with pytest.raises(ValueError, match=r"uint8 array of shape \(224, 384, 3\)"):
        processor.preprocess_image(frame)


def test_byte_tokenizer_is_deterministic_with_eos_and_truncation(processor):
    ids, mask = processor.tokenize("go to a mug")
    assert ids.dtype == np.int64 and ids.shape == mask.shape == (1, 12)
    assert ids[0, -1] == ByteTokenizer.eos_id and ids[0, 0] == ord("g") + ByteTokenizer.offset
    long_ids, _ = processor.tokenize("x" * 500)
    assert long_ids.shape[1] == processor.config.text_max_length and long_ids[0, -1] == ByteTokenizer.eos_id
    batch, batch_mask = processor.tokenize(["find a mug", "go to a sofa now"])
    assert batch.shape == (2, 17) and batch_mask[0].sum() == 11 and batch[0, 11:].tolist() == [0] * 6
    with pytest.raises(ValueError, match="non-empty"):
        processor.tokenize("   ")


def test_t5_tokenizer_loads_from_a_local_folder_only(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, "find": 3, "a": 4, "mug": 5}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="</s>",
                            unk_token="<unk>").save_pretrained(tmp_path)
    cfg = make_config("safevla")
    tok = make_tokenizer(cfg, tmp_path)
    assert isinstance(tok, HFTokenizer) and tok.encode("find a mug", 64) == [3, 4, 5, 1]
    ids, _ = SafeVLAProcessor(cfg, tok).tokenize("find a vase")
    assert ids.tolist() == [[3, 4, 2, 1]]
    with pytest.raises(ValueError, match="tokenizer_path"):
        make_tokenizer(cfg, None)
    assert isinstance(make_tokenizer(cfg, None, allow_byte_fallback=True), ByteTokenizer)
    with pytest.raises(FileNotFoundError, match="no tokenizer folder"):
        make_tokenizer(cfg, tmp_path / "missing")
