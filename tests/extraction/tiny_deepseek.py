"""A tiny random DeepSeek-OCR-2 of the real architecture, saved natively or like the official download.

The real checkpoint (6.8 GB, CUDA) cannot be had here; these builders give the same classes, the same
tensor names and the same file layouts at a size that runs on a laptop CPU in seconds.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

SPECIALS = [
    "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>",
    "<｜▁pad▁｜>",
    "<image>",
    "<|grounding|>",
    "<|ref|>",
    "<|/ref|>",
    "<|det|>",
    "<|/det|>",
]
TABLE_TOKENS = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>"]
SAM = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "global_attn_indexes": [1]}


def build_tokenizer():
    """A byte-level BPE tokenizer (every byte is a token) with DeepSeek-OCR's special tokens."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    tok.add_tokens([AddedToken(s, normalized=False) for s in TABLE_TOKENS])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=SPECIALS[0], eos_token=SPECIALS[1], pad_token=SPECIALS[2]
    )


def tiny_config(tokenizer):
    """DeepSeek-OCR-2 at toy size; the query encoder keeps the real 64-wide heads and rope theta."""
    from transformers import DeepseekOcr2Config

    return DeepseekOcr2Config(
        vision_config={
            # 96 px views, SAM patches of 2 px and a 4x downsample: 12x12 = 144 query tokens per view, which
            # is what the vision tower yields for views of up to 144 patches.
            "sam_config": {
                **SAM,
                "output_channels": 16,
                "image_size": 96,
                "patch_size": 2,
                "window_size": 4,
                "downsample_channels": [32, 64],
            },
            "encoder_config": {
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 1,
                "num_key_value_heads": 1,
                "max_position_embeddings": 512,
                "rms_norm_eps": 1e-6,
                "rope_parameters": {"rope_theta": 1_000_000.0, "rope_type": "default"},
                "vocab_size": 1,
            },
        },
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 4,
            "max_position_embeddings": 4096,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "n_routed_experts": 4,
            "n_shared_experts": 1,
            "num_experts_per_tok": 2,
            "moe_intermediate_size": 32,
            "mlp_layer_types": ["dense", "sparse"],
        },
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
    )


def tiny_model_and_processor():
    """The tiny model (seeded random weights, eval mode) and its processor."""
    from transformers import DeepseekOcr2ForConditionalGeneration, DeepseekOcr2ImageProcessorPil, DeepseekOcr2Processor

    tokenizer = build_tokenizer()
    image_processor = DeepseekOcr2ImageProcessorPil(size={"height": 96, "width": 96}, tile_size=96)
    processor = DeepseekOcr2Processor(image_processor=image_processor, tokenizer=tokenizer, patch_size=2)
    torch.manual_seed(0)
    model = DeepseekOcr2ForConditionalGeneration(tiny_config(tokenizer)).eval()
    return model, processor


def build_tiny_model(path: Path) -> Path:
    """Save the tiny model natively (model_type deepseek_ocr2) with processor and tokenizer."""
    model, processor = tiny_model_and_processor()
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return Path(path)


def official_config(model) -> dict:
    """config.json as deepseek-ai/DeepSeek-OCR-2 ships it (remote code, model_type deepseek_vl_v2)."""
    text = model.config.text_config
    encoder = model.config.vision_config.encoder_config
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    language = {
        "architectures": ["DeepseekV2ForCausalLM"],
        "model_type": "deepseek_v2",
        "vocab_size": text.vocab_size,
        "hidden_size": text.hidden_size,
        "intermediate_size": text.intermediate_size,
        "moe_intermediate_size": text.moe_intermediate_size,
        "num_hidden_layers": text.num_hidden_layers,
        "num_attention_heads": text.num_attention_heads,
        "num_key_value_heads": text.num_key_value_heads,
        "n_routed_experts": text.n_routed_experts,
        "n_shared_experts": text.n_shared_experts,
        "num_experts_per_tok": text.num_experts_per_tok,
        "first_k_dense_replace": text.mlp_layer_types.index("sparse"),
        "moe_layer_freq": 1,
        "topk_method": "greedy",
        "n_group": 1,
        "topk_group": 1,
        "bos_token_id": text.bos_token_id,
        "eos_token_id": text.eos_token_id,
        "max_position_embeddings": text.max_position_embeddings,
        "kv_lora_rank": None,
        "q_lora_rank": None,
        "qk_nope_head_dim": 0,
        "qk_rope_head_dim": 0,
        "v_head_dim": 0,
        "use_mla": False,
        "lm_head": True,
        "rm_head": False,
        "torch_dtype": dtype,
    }
    return {
        "_name_or_path": "deepseek-ai/DeepSeek-OCR-2",
        "architectures": ["DeepseekOCR2ForCausalLM"],
        "auto_map": {
            "AutoConfig": "modeling_deepseekocr2.DeepseekOCR2Config",
            "AutoModel": "modeling_deepseekocr2.DeepseekOCR2ForCausalLM",
        },
        "candidate_resolutions": [[1024, 1024]],
        "global_view_pos": "head",
        "model_type": "deepseek_vl_v2",
        "tile_tag": "2D",
        "torch_dtype": dtype,
        "language_config": language,
        "vision_config": {
            "image_size": 1024,
            "mlp_ratio": 3.7362,
            "model_name": "deepencoderv2",
            "model_type": "vision",
            "width": {
                "sam_vit_b": {
                    "width": SAM["hidden_size"],
                    "layers": SAM["num_hidden_layers"],
                    "heads": SAM["num_attention_heads"],
                    "global_attn_indexes": SAM["global_attn_indexes"],
                    "downsample_channels": [512, 1024],
                },
                "qwen2-0-5b": {"dim": encoder.hidden_size},
            },
        },
        "projector_config": {
            "input_dim": encoder.hidden_size,
            "n_embed": text.hidden_size,
            "projector_type": "linear",
            "model_type": "mlp_projector",
        },
        "bos_token_id": text.bos_token_id,
        "eos_token_id": text.eos_token_id,
        "vocab_size": text.vocab_size,
    }


def save_official_layout(model, processor, path: Path, shards: int = 2) -> Path:
    """Write `model` as the official download looks: remote-code config, DeepSeek's tensor names, shards."""
    from safetensors.torch import load_file, save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # transformers writes DeepSeek-OCR-2 under the official tensor names (it reverses its own mapping).
        model.save_pretrained(tmp)
        tensors = load_file(str(Path(tmp) / "model.safetensors"))
    official = (
        "model.sam_model.blocks.0.norm1.weight" in tensors and "model.layers.1.mlp.experts.3.up_proj.weight" in tensors
    )
    assert official, "this transformers no longer saves DeepSeek-OCR-2 under the official tensor names"
    names = list(tensors)
    per_shard = -(-len(names) // shards)
    weight_map = {}
    for i in range(shards):
        part = names[i * per_shard : (i + 1) * per_shard]
        file = f"model-{i + 1:05d}-of-{shards:06d}.safetensors"
        save_file({k: tensors[k] for k in part}, str(path / file), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, file))
    index = {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in tensors.values())}}
    (path / "model.safetensors.index.json").write_text(json.dumps({**index, "weight_map": weight_map}))
    (path / "config.json").write_text(json.dumps(official_config(model), indent=2))
    processor.tokenizer.save_pretrained(path)
    tokenizer_config = json.loads((path / "tokenizer_config.json").read_text())
    tokenizer_config["tokenizer_class"] = "LlamaTokenizerFast"
    (path / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    (path / "processor_config.json").write_text(
        json.dumps(
            {
                "processor_class": "DeepseekVLV2Processor",
                "candidate_resolutions": [[1024, 1024]],
                "patch_size": 16,
                "downsample_ratio": 4,
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
                "normalize": True,
                "image_token": "<image>",
                "pad_token": "<｜▁pad▁｜>",
                "sft_format": "deepseek",
                "mask_prompt": False,
                "ignore_id": -100,
            }
        )
    )
    for name in ("modeling_deepseekocr2.py", "deepencoderv2.py", "conversation.py"):
        (path / name).write_text("# remote code of the official download (never imported here)\n")
    return path
