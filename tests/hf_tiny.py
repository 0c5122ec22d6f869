"""Builders for tiny, randomly initialised Hugging Face models saved to disk (no network).

Used by the ``hf:`` backend tests and by ``benchmarks/hf_throughput.py``.  Everything is built
locally: a byte-level BPE tokenizer trained in code on a small fixed corpus, a chat template we
set, a CLIP image processor with a tiny size, and model weights from small configs under a fixed
seed.  The folders are then loaded back through the real ``hf:<path>`` loading path.

Import only where torch/transformers are installed (the callers skip otherwise).
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>",
            "<|end|>", "<image>"]

# A Jinja chat template in the common "role header, content, end marker" shape.  Content may be
# a string or a list of {"type": "text"|"image"} parts; each image becomes one <image> marker.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for m in messages %}"
    "<|{{ m['role'] }}|>\n"
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for p in m['content'] %}"
    "{% if p['type'] == 'image' %}<image>\n"
    "{% elif p['type'] == 'text' %}{{ p['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_CORPUS = """
Is there evidence of a pneumothorax in the left lung? Is the heart enlarged on this chest x-ray?
What organ system is shown in this image? Is this an axial CT scan of the abdomen? Yes. No.
Which side is the lesion on, left or right? Is there free air under the diaphragm?
The liver appears normal. There is a mass in the right upper lobe. Answer with a single letter.
A. B. C. D. E. The answer is A. The answer is B. Options: A) cardiomegaly B) pleural effusion
C) atelectasis D) pneumonia. Brain MRI shows a ring enhancing lesion. Kidney stones present.
Is the image a plain film or a CT? How many ribs are visible? What is the modality?
"""


def _train_bpe(specials: list[str], vocab_size: int, unk: str | None):
    """A byte-level BPE model trained in code on ``_CORPUS`` (deterministic)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 3, trainer=trainer)
    return tok


def build_tokenizer(chat_template: str | None = CHAT_TEMPLATE, vocab_size: int = 320):
    """A byte-level BPE tokenizer trained in code (deterministic), wrapped as a fast tokenizer."""
    from transformers import PreTrainedTokenizerFast

    tok = _train_bpe(SPECIALS, vocab_size, "<unk>")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="<|end|>",
        unk_token="<unk>",
        pad_token="<pad>",
        additional_special_tokens=["<|system|>", "<|user|>", "<|assistant|>", "<image>"],
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def _llama_config(vocab_size: int, tok, hidden: int = 64, layers: int = 2):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        # a wider init than the default 0.02 spreads the logits of a random model, so that
        # greedy decoding never meets a near tie that float rounding could flip
        initializer_range=0.2,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )


def _boost_eos(model, eos_id: int, factor: float = 2.0) -> None:
    """Scale the end token's output row so a random model ends some replies early and runs
    others to the length limit: batches then mix finished and running rows."""
    import torch

    with torch.no_grad():
        model.get_output_embeddings().weight[eos_id] *= factor


def build_text_model(path: Path, seed: int = 0, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    """A Llama-style text model (hidden 64, 2 layers) with its tokenizer, saved to ``path``."""
    import torch
    from transformers import LlamaForCausalLM

    tok = build_tokenizer(chat_template)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(_llama_config(len(tok), tok)).eval()
    _boost_eos(model, tok.eos_token_id)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def build_llava_model(path: Path, seed: int = 0, image_size: int = 32, text_hidden: int = 64,
                      text_layers: int = 2, boost_eos: bool = True) -> Path:
    """A LLaVA-style VLM: CLIP vision tower (hidden 32, 2 layers, 32x32 input, 16 px patches:
    4 image tokens per image) + Llama text model (``text_hidden`` wide, ``text_layers`` deep),
    with a LlavaProcessor; saved to ``path``."""
    import torch
    from transformers import (
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tok = build_tokenizer(CHAT_TEMPLATE)
    image_token_id = tok.convert_tokens_to_ids("<image>")
    patch = 16
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch,
        projection_dim=32,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=_llama_config(len(tok), tok, text_hidden, text_layers),
        image_token_index=image_token_id,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    if boost_eos:  # tests: mixed early-stopping rows; benchmarks: fixed-length replies
        _boost_eos(model, tok.eos_token_id)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=patch,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # CLIP's CLS token, dropped by the "default" strategy
        chat_template=CHAT_TEMPLATE,
    )
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


# Qwen2-VL's special tokens (names as in the released tokenizer; ids are ours) and a chat template
# of the same shape as Qwen2-VL-Instruct's: ChatML turns, a default system turn, and each image
# part as <|vision_start|><|image_pad|><|vision_end|> (the processor repeats <|image_pad|> once per
# merged image patch).
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                 "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]

QWEN_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "{% for m in messages %}"
    "<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for p in m['content'] %}"
    "{% if p['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif p['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif p['type'] == 'text' %}{{ p['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_qwen_tokenizer(vocab_size: int = 320):
    """A byte-level BPE tokenizer with Qwen2-VL's special tokens: no BOS, ``<|im_end|>`` ends a
    turn, ``<|endoftext|>`` pads."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=_train_bpe(QWEN_SPECIALS, vocab_size, None),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=QWEN_SPECIALS[1:],
    )
    fast.chat_template = QWEN_CHAT_TEMPLATE
    return fast


#: the tiny Qwen2-VL's image geometry: 4 px patches merged 2x2, so every image token covers an
#: 8x8 pixel cell; images are resized (aspect kept, sides multiples of 8) to at most 24x24 = 576
#: pixels, i.e. at most 9 image tokens, and at least 256 pixels.
QWEN_PATCH, QWEN_MERGE = 4, 2
QWEN_MIN_PIXELS, QWEN_MAX_PIXELS = 16 * 16, 24 * 24


def build_qwen2vl_model(path: Path, seed: int = 0) -> Path:
    """A Qwen2-VL-style VLM: a 2-block vision tower (embed 32, 4 px patches, 2x2 merge) and a
    2-layer Qwen2 text model (hidden 64, M-RoPE), with a Qwen2VLProcessor (image processor with
    a small pixel budget, video processor, the tokenizer above); saved to ``path``.

    Needs torchvision (transformers 5's Qwen2-VL image and video processors use it)."""
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tok = build_qwen_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}
    hidden, heads = 64, 4
    text = {
        "vocab_size": len(tok),
        "hidden_size": hidden,
        "intermediate_size": hidden * 2,
        "num_hidden_layers": 2,
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "max_position_embeddings": 512,
        "initializer_range": 0.2,  # spread the logits (see _llama_config)
        # M-RoPE: the rotary half of each head (16 / 2 = 8 frequencies) split into
        # temporal / height / width sections
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                            "mrope_section": [2, 3, 3]},
        "bos_token_id": None,
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    vision = {
        "depth": 2,
        "embed_dim": 32,
        "num_heads": 2,
        "mlp_ratio": 2,
        "hidden_size": hidden,  # the merger projects into the text model's width
        "patch_size": QWEN_PATCH,
        "spatial_merge_size": QWEN_MERGE,
        "temporal_patch_size": 2,
        "initializer_range": 0.2,
    }
    config = Qwen2VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config).eval()
    _boost_eos(model, tok.eos_token_id)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    geometry = {"patch_size": QWEN_PATCH, "merge_size": QWEN_MERGE, "temporal_patch_size": 2,
                "min_pixels": QWEN_MIN_PIXELS, "max_pixels": QWEN_MAX_PIXELS}
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(**geometry),
        video_processor=Qwen2VLVideoProcessor(**geometry),
        tokenizer=tok,
        chat_template=QWEN_CHAT_TEMPLATE,
    )
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


_BUILDERS = {"llava": build_llava_model, "llama": build_text_model,
             "qwen2vl": build_qwen2vl_model}


def cached_model(base: Path, kind: str) -> Path:
    """Build the tiny ``kind`` model ("llava", "llama" or "qwen2vl") under ``base`` once;
    reuse it after."""
    path = base / f"tiny-{kind}"
    if not (path / "config.json").exists():
        _BUILDERS[kind](path)
    return path
