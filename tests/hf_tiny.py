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


def build_tokenizer(chat_template: str | None = CHAT_TEMPLATE, vocab_size: int = 320):
    """A byte-level BPE tokenizer trained in code (deterministic), wrapped as a fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 3, trainer=trainer)
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


_BUILDERS = {"llava": build_llava_model, "llama": build_text_model}


def cached_model(base: Path, kind: str) -> Path:
    """Build the tiny ``kind`` model ("llava" or "llama") under ``base`` once; reuse it after."""
    path = base / f"tiny-{kind}"
    if not (path / "config.json").exists():
        _BUILDERS[kind](path)
    return path
