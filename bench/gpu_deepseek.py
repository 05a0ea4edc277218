"""GPU throughput of DeepSeek-OCR-2 in-process (transformers, bf16), its bandwidth bound, and FAISS GPU vs CPU.

No checkpoint is needed: the model is built at its published size (config below) with random weights,
and every page is forced to generate exactly `--new-tokens` tokens (min_new_tokens = max_new_tokens, so
the end token cannot stop it early). For each batch size it reports pages/s, generated tokens/s, time
to first token, the time of a whole page at batch 1, and peak GPU memory; then the memory-bandwidth bound
of decoding (bytes each decode step must read over the bandwidth measured by a device-to-device copy)
and how far the measured rate is from it. Last, FAISS on 1M x 384 vectors: flat index, GPU vs CPU.

    python -m bench.gpu_deepseek                 # full run (CUDA machine)
    python -m bench.gpu_deepseek --quick         # smaller sizes
    python -m bench.gpu_deepseek --describe      # parameter counts only (no GPU needed)

Results go to --out, else $OUT, else ./bench-results (gpu_deepseek.json and gpu_deepseek.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

# DeepSeek-OCR-2 as published (deepseek-ai/DeepSeek-OCR-2 config.json, converted to transformers' native
# layout the way transformers' convert_deepseek_ocr2_weights_to_hf.py does): a SAM ViT-B image encoder,
# a Qwen2-0.5B-sized causal-flow encoder, and the DeepSeek-3B-MoE decoder (64 routed experts, 6 active,
# 2 shared, first layer dense).
TEXT_CONFIG: dict[str, Any] = {
    "vocab_size": 129280,
    "hidden_size": 1280,
    "intermediate_size": 6848,
    "moe_intermediate_size": 896,
    "num_hidden_layers": 12,
    "num_attention_heads": 10,
    "num_key_value_heads": 10,
    "n_routed_experts": 64,
    "n_shared_experts": 2,
    "num_experts_per_tok": 6,
    "n_group": 1,
    "topk_group": 1,
    "topk_method": "greedy",
    "max_position_embeddings": 8192,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "mlp_layer_types": ["dense"] + ["sparse"] * 11,
}
SAM_CONFIG: dict[str, Any] = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "global_attn_indexes": [2, 5, 8, 11],
    "downsample_channels": [512, 896],
}
ENCODER_CONFIG: dict[str, Any] = {
    "hidden_size": 896,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "intermediate_size": 4864,
    "rms_norm_eps": 1e-6,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
    "vocab_size": 1,
}
IMAGE_TOKEN_ID = 128815
GLOBAL_TOKENS = 256  # 1024 px global view -> 16 x 16 queries
TILE_TOKENS = 144  # 768 px tile -> 12 x 12 queries
PROMPT_TEXT_TOKENS = 12  # "\n<|grounding|>Convert the document to markdown."


def real_config():
    """The DeepSeek-OCR-2 configuration at its published size."""
    from transformers import DeepseekOcr2Config

    return DeepseekOcr2Config(
        vision_config={"sam_config": SAM_CONFIG, "encoder_config": ENCODER_CONFIG},
        text_config=dict(TEXT_CONFIG),
        image_token_id=IMAGE_TOKEN_ID,
    )


def build_model(device: str = "cuda", dtype: Any = None, experts: str | None = None):
    """The real-size model with random weights, bf16, on `device` (weights created there directly)."""
    import torch
    from transformers import DeepseekOcr2ForConditionalGeneration

    dtype = dtype or torch.bfloat16
    config = real_config()
    kwargs: dict[str, Any] = {"dtype": dtype, "attn_implementation": "sdpa"}
    if experts:
        kwargs["experts_implementation"] = experts
    torch.manual_seed(0)
    with torch.device(device):
        model = DeepseekOcr2ForConditionalGeneration._from_config(config, **kwargs)
    if device != "meta":
        with torch.no_grad():
            # Random routers, so tokens spread over experts as in a trained model (zeros would pick 6 forever).
            for name, param in model.named_parameters():
                if name.endswith("mlp.gate.weight"):
                    param.normal_(0.0, 0.02)
    return model.eval()


def make_inputs(
    config: Any,
    batch: int,
    device: str = "cuda",
    crops: int = 6,
    seed: int = 0,
    view: tuple[int, int] = (1024, GLOBAL_TOKENS),
    tile: tuple[int, int] = (768, TILE_TOKENS),
) -> dict[str, Any]:
    """Processor-shaped inputs for `batch` pages: a global view plus `crops` tiles each, then the prompt."""
    import torch

    gen = torch.Generator(device="cpu").manual_seed(seed)
    dtype = torch.bfloat16 if device != "cpu" else torch.float32
    image_tokens = view[1] + tile[1] * crops + 1
    vocab = config.text_config.vocab_size
    text = torch.randint(2, 100000, (batch, PROMPT_TEXT_TOKENS), generator=gen)
    ids = torch.cat(
        [
            torch.full((batch, 1), config.text_config.bos_token_id),
            torch.full((batch, image_tokens), config.image_token_id),
            text.clamp(max=vocab - 1),
        ],
        dim=1,
    )
    inputs: dict[str, Any] = {
        "input_ids": ids.to(device),
        "attention_mask": torch.ones_like(ids).to(device),
        "pixel_values": torch.randn(batch, 3, view[0], view[0], generator=gen).to(device, dtype),
        "num_local_patches": torch.full((batch,), crops, dtype=torch.long).to(device),
    }
    if crops:
        locals_ = torch.randn(batch * crops, 3, tile[0], tile[0], generator=gen)
        inputs["pixel_values_local"] = locals_.to(device, dtype)
    return inputs


def parameter_counts(model: Any) -> dict[str, float]:
    """Parameter counts (millions): total, vision, decoder, one routed expert, and active per decoded token."""
    cfg = model.config.text_config
    total = vision = decoder = experts = embed = 0
    for name, param in model.named_parameters():
        n = param.numel()
        total += n
        if ".vision_tower." in name or "multi_modal_projector" in name or "view_separator" in name:
            vision += n
        else:
            decoder += n
            if ".mlp.experts." in name:
                experts += n
            if name.endswith("embed_tokens.weight"):
                embed += n
    sparse_layers = sum(1 for t in cfg.mlp_layer_types if t == "sparse")
    per_expert = experts / max(1, sparse_layers * cfg.n_routed_experts)
    # A decoded token reads every decoder weight except the embedding table (one row) and the unrouted experts.
    dense_part = decoder - embed - experts
    active = dense_part + sparse_layers * cfg.num_experts_per_tok * per_expert
    return {
        "total_m": total / 1e6,
        "vision_m": vision / 1e6,
        "decoder_m": decoder / 1e6,
        "per_expert_m": per_expert / 1e6,
        "dense_part_m": dense_part / 1e6,
        "active_per_token_m": active / 1e6,
        "sparse_layers": sparse_layers,
    }


def decode_step_bytes(counts: dict[str, float], cfg: Any, batch: int, context: float) -> float:
    """Bytes one decode step of `batch` rows reads: weights (experts touched by any row) + KV cache (bf16)."""
    experts, k = cfg.n_routed_experts, cfg.num_experts_per_tok
    touched = experts * (1 - (1 - k / experts) ** batch)  # expected distinct experts under uniform routing
    weights = (counts["dense_part_m"] + counts["sparse_layers"] * touched * counts["per_expert_m"]) * 1e6 * 2
    kv = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads)
    return weights + kv * 2 * context * batch


def measure_bandwidth(gib: float = 1.0, repeats: int = 20) -> float:
    """Device memory bandwidth in bytes/s from a device-to-device copy (read + write)."""
    import torch

    n = int(gib * 2**30) // 2
    src = torch.empty(n, dtype=torch.bfloat16, device="cuda")
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        dst.copy_(src)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n * 2 * repeats / seconds


def run_batch(model: Any, batch: int, new_tokens: int, crops: int, cache: str | None = None) -> dict[str, Any]:
    """Time one batch: first token (prefill incl. vision), then the whole forced generation."""
    import torch

    inputs = make_inputs(model.config, batch, "cuda", crops)
    prompt_len = inputs["input_ids"].shape[1]
    common = {"do_sample": False, "use_cache": True, "pad_token_id": model.config.text_config.eos_token_id}
    if cache:
        common["cache_implementation"] = cache
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        torch.cuda.synchronize()
        started = time.perf_counter()
        model.generate(**inputs, max_new_tokens=1, min_new_tokens=1, **common)
        torch.cuda.synchronize()
        ttft = time.perf_counter() - started
        started = time.perf_counter()
        out = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **common)
        torch.cuda.synchronize()
        total = time.perf_counter() - started
    generated = (out.shape[1] - prompt_len) * batch
    decode_s = max(total - ttft, 1e-9)
    return {
        "batch": batch,
        "prompt_tokens": prompt_len,
        "generated_tokens": generated,
        "seconds": round(total, 3),
        "ttft_s": round(ttft, 3),
        "pages_per_s": round(batch / total, 3),
        "tokens_per_s": round(generated / total, 1),
        "decode_tokens_per_s": round(batch * (new_tokens - 1) / decode_s, 1),
        "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
    }


def faiss_bench(n: int, dim: int = 384, queries: int = 1000, k: int = 10) -> dict[str, Any]:
    """Flat inner-product index over `n` random unit vectors: add and search time, CPU and (if present) GPU."""
    try:
        import faiss
        import numpy as np
    except ImportError as exc:
        return {"skipped": f"faiss not installed ({exc})"}
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, dim), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    query = data[rng.choice(n, queries, replace=False)]
    result: dict[str, Any] = {"n": n, "dim": dim, "queries": queries, "k": k}

    def timed(index: Any) -> dict[str, float]:
        started = time.perf_counter()
        index.add(data)
        added = time.perf_counter() - started
        index.search(query[:10], k)
        started = time.perf_counter()
        _, ids = index.search(query, k)
        searched = time.perf_counter() - started
        assert (ids[:, 0] >= 0).all()
        return {"add_s": round(added, 3), "search_s": round(searched, 4), "qps": round(queries / searched, 1)}

    result["cpu"] = timed(faiss.IndexFlatIP(dim)) | {"threads": faiss.omp_get_max_threads()}
    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if hasattr(faiss, "StandardGpuResources") and gpus > 0:
        resources = faiss.StandardGpuResources()
        result["gpu"] = timed(faiss.GpuIndexFlatIP(resources, dim))
        result["gpu_speedup_search"] = round(result["cpu"]["search_s"] / max(result["gpu"]["search_s"], 1e-9), 1)
    else:
        result["gpu"] = {"skipped": "this faiss build has no GPU support (faiss-cpu) or sees no GPU"}
    return result


def markdown_report(results: dict[str, Any]) -> str:
    """The results as the markdown kept in docs/benchmarks.md."""
    lines = [
        f"Device: {results['device']} · torch {results['torch']} · transformers {results['transformers']} · "
        f"{results['date']}",
        "",
        f"Model: DeepSeek-OCR-2 at published size, random weights, bf16, SDPA, experts "
        f"`{results['experts_implementation']}`, "
        f"cache `{results.get('cache_implementation', 'dynamic')}`; {results['params']['total_m']:.0f} M parameters "
        f"({results['params']['active_per_token_m']:.0f} M active per decoded token); {results['crops']} tiles "
        f"+ global view per page ({results['prompt_tokens']} prompt tokens); {results['new_tokens']} tokens "
        "forced per page.",
        "",
        "| batch | pages/s | gen tokens/s | decode tokens/s | TTFT s | batch s | peak GiB | bound tokens/s "
        "| of bound |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["runs"]:
        if "error" in row:
            lines.append(f"| {row['batch']} | {row['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {row['batch']} | {row['pages_per_s']} | {row['tokens_per_s']} | {row['decode_tokens_per_s']} | "
            f"{row['ttft_s']} | {row['seconds']} | {row['peak_mem_gib']} | {row['bound_tokens_per_s']} | "
            f"{row['of_bound']:.0%} |"
        )
    best = results.get("best")
    bw = results["bandwidth_gb_s"]
    lines += [
        "",
        f"Measured bandwidth (device-to-device copy): {bw:.0f} GB/s. Simple bound at batch 1: "
        f"{results['params']['active_per_token_m']:.0f} M active params x 2 bytes = "
        f"{results['params']['active_per_token_m'] * 2 / 1000:.2f} GB per step -> "
        f"{results['simple_bound_tokens_per_s']:.0f} tokens/s. The per-batch bound also counts the experts any "
        "row of the batch touches and the KV cache each step reads.",
    ]
    if best:
        lines.append(
            f"Best: batch {best['batch']}, {best['tokens_per_s']} generated tokens/s "
            f"({best['pages_per_s']} pages/s); first whole page at batch 1: {results.get('first_page_s')} s."
        )
    faiss_result = results.get("faiss")
    if faiss_result and "cpu" in faiss_result:
        gpu = faiss_result["gpu"]
        gpu_text = (
            f"GPU add {gpu['add_s']} s, search {gpu['search_s']} s ({gpu['qps']} q/s), "
            f"{faiss_result['gpu_speedup_search']}x"
            if "skipped" not in gpu
            else f"GPU skipped: {gpu['skipped']}"
        )
        cpu = faiss_result["cpu"]
        lines.append(
            f"FAISS flat IP, {faiss_result['n']:,} x {faiss_result['dim']}, {faiss_result['queries']} queries, "
            f"k={faiss_result['k']}: CPU ({cpu['threads']} threads) add {cpu['add_s']} s, search {cpu['search_s']} s "
            f"({cpu['qps']} q/s); {gpu_text}."
        )
    return "\n".join(lines) + "\n"


def out_dir(arg: str | None) -> Path:
    """Where results are written."""
    path = Path(arg or os.environ.get("OUT") or "bench-results")
    path.mkdir(parents=True, exist_ok=True)
    return path


def describe() -> int:
    """Parameter counts and the decode bound at a nominal bandwidth, from the meta device (no GPU)."""
    model = build_model(device="meta")
    counts = parameter_counts(model)
    cfg = model.config.text_config
    print(json.dumps({k: round(v, 2) for k, v in counts.items()}, indent=2))
    for bandwidth in (2.0e12, 3.35e12, 4.8e12):
        bound_1 = bandwidth / (counts["active_per_token_m"] * 1e6 * 2)
        row = ", ".join(f"b{b}: {b * bandwidth / decode_step_bytes(counts, cfg, b, 1500):.0f}" for b in (1, 4, 16, 32))
        print(f"at {bandwidth / 1e12:.2f} TB/s: simple bound {bound_1:.0f} tok/s; per-batch bound {row}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table and writes JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="1,4,16,32", help="Comma-separated batch sizes.")
    parser.add_argument("--new-tokens", type=int, default=768, help="Tokens forced per page.")
    parser.add_argument("--crops", type=int, default=6, help="768 px tiles per page (an A4 page at 2x3).")
    parser.add_argument("--experts", default=None, help="transformers experts_implementation (default: auto).")
    parser.add_argument("--cache", default=None, help="cache_implementation, e.g. 'static' (compiled decoding).")
    parser.add_argument("--faiss-n", type=int, default=1_000_000, help="Vectors in the FAISS index.")
    parser.add_argument("--skip-faiss", action="store_true")
    parser.add_argument("--quick", action="store_true", help="Batches 1,4; 128 tokens; 100k vectors.")
    parser.add_argument("--describe", action="store_true", help="Parameter counts only; no GPU needed.")
    parser.add_argument("--out", default=None, help="Results folder (default $OUT or ./bench-results).")
    args = parser.parse_args(argv)
    if args.describe:
        return describe()
    try:
        import torch
    except ImportError:
        print("gpu_deepseek: needs CUDA (torch is not installed here); skipped.")
        return 0
    if not torch.cuda.is_available():
        print(
            f"gpu_deepseek: needs CUDA: no CUDA device is visible (torch {torch.__version__}, "
            f"cuda build {torch.version.cuda}); skipped. Run `python -m bench.gpu_deepseek` on a GPU machine."
        )
        return 0
    import transformers

    if args.quick:
        args.batches, args.new_tokens, args.faiss_n = "1,4", 128, 100_000
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    dest = out_dir(args.out)
    print(f"building DeepSeek-OCR-2 (random weights, bf16) on {torch.cuda.get_device_name(0)} ...", flush=True)
    started = time.perf_counter()
    model = build_model("cuda", experts=args.experts)
    build_s = time.perf_counter() - started
    counts = parameter_counts(model)
    cfg = model.config.text_config
    bandwidth = measure_bandwidth()
    print(
        f"built in {build_s:.1f}s; {counts['total_m']:.0f} M params; bandwidth {bandwidth / 1e9:.0f} GB/s", flush=True
    )
    with torch.inference_mode():  # warm-up: kernels, allocator
        model.generate(**make_inputs(model.config, 1, "cuda", args.crops), max_new_tokens=8, min_new_tokens=8)
    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "experts_implementation": getattr(model.config, "_experts_implementation", None),
        "cache_implementation": args.cache or "dynamic",
        "params": {k: round(v, 2) for k, v in counts.items()},
        "bandwidth_gb_s": round(bandwidth / 1e9, 1),
        "simple_bound_tokens_per_s": bandwidth / (counts["active_per_token_m"] * 1e6 * 2),
        "new_tokens": args.new_tokens,
        "crops": args.crops,
        "build_s": round(build_s, 1),
        "runs": [],
    }
    for batch in batches:
        print(f"batch {batch} ...", flush=True)
        try:
            row = run_batch(model, batch, args.new_tokens, args.crops, args.cache)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            results["runs"].append({"batch": batch, "error": "out of memory"})
            continue
        context = row["prompt_tokens"] + args.new_tokens / 2
        bound = batch * bandwidth / decode_step_bytes(counts, cfg, batch, context)
        row["bound_tokens_per_s"] = round(bound, 1)
        row["of_bound"] = row["decode_tokens_per_s"] / bound
        results["prompt_tokens"] = row["prompt_tokens"]
        results["runs"].append(row)
        print(json.dumps(row), flush=True)
    ok = [r for r in results["runs"] if "error" not in r]
    if ok:
        results["best"] = max(ok, key=lambda r: r["tokens_per_s"])
        first = next((r for r in ok if r["batch"] == 1), None)
        results["first_page_s"] = first["seconds"] if first else None
    results.setdefault("prompt_tokens", GLOBAL_TOKENS + TILE_TOKENS * args.crops + 2 + PROMPT_TEXT_TOKENS)
    del model
    torch.cuda.empty_cache()
    if not args.skip_faiss:
        print(f"faiss {args.faiss_n:,} x 384 ...", flush=True)
        results["faiss"] = faiss_bench(args.faiss_n)
    report = markdown_report(results)
    (dest / "gpu_deepseek.json").write_text(json.dumps(results, indent=2, default=str))
    (dest / "gpu_deepseek.md").write_text(report)
    print()
    print(report)
    print(f"written: {dest / 'gpu_deepseek.json'}, {dest / 'gpu_deepseek.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
