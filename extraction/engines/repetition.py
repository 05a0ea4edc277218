"""Repetition guards for DeepSeek decoding with transformers' generate (imports torch: load lazily).

`NoRepeatNGram` is the windowed no-repeat n-gram rule of DeepSeek-OCR's own decoding (an n-gram may
not repeat within the last `window` generated tokens; whitelisted tokens such as `<td>` `</td>` may).
`LoopStop` stops a sequence whose generated tail is one unit repeated over and over, which catches the
loops the n-gram rule lets through (units longer than the window) and records why it stopped.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from transformers import LogitsProcessor, StoppingCriteria


class NoRepeatNGram(LogitsProcessor):
    """Bans the token that would repeat an n-gram seen within the last `window` generated tokens."""

    def __init__(self, prompt_len: int, ngram_size: int, window: int, whitelist: Iterable[int] = ()) -> None:
        self.prompt_len = prompt_len
        self.ngram_size = ngram_size
        self.window = window
        self.whitelist = sorted(set(whitelist))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Scores with banned tokens set to -inf."""
        n, k = self.ngram_size, self.ngram_size - 1
        generated = input_ids[:, self.prompt_len :]
        if n < 2 or generated.shape[1] < n:
            return scores
        window = generated[:, -max(self.window, n) :]
        prefix = generated[:, -k:]
        starts = window.shape[1] - k
        candidates = window.unfold(1, k, 1)[:, :starts]  # every (n-1)-gram that has a next token
        match = (candidates == prefix[:, None, :]).all(-1)
        following = window[:, k:]
        vocab = scores.shape[-1]
        index = torch.where(match, following, torch.full_like(following, vocab))
        banned = torch.zeros((scores.shape[0], vocab + 1), dtype=torch.bool, device=scores.device)
        banned.scatter_(1, index, True)
        banned = banned[:, :vocab]
        if self.whitelist:
            banned[:, [t for t in self.whitelist if t < vocab]] = False
        return scores.masked_fill(banned, float("-inf"))


class LoopStop(StoppingCriteria):
    """Stops a sequence whose generated tail is one unit repeated; `reasons[row]` says which unit."""

    def __init__(
        self,
        prompt_len: int,
        *,
        max_period: int = 256,
        min_span: int = 64,
        min_repeats: int = 3,
        check_every: int = 4,
        whitelist: Iterable[int] = (),
    ) -> None:
        self.prompt_len = prompt_len
        self.max_period = max_period
        self.min_span = min_span
        self.min_repeats = min_repeats
        self.check_every = check_every
        self.whitelist = sorted(set(whitelist))
        self.reasons: dict[int, str] = {}

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor | None, **kwargs) -> torch.BoolTensor:
        """True for rows that just fell into a loop."""
        generated = input_ids[:, self.prompt_len :]
        batch, n = generated.shape
        stop = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
        if n < self.min_span or n % self.check_every:
            return stop
        white = torch.tensor(self.whitelist, dtype=generated.dtype, device=generated.device)
        for period in range(1, min(self.max_period, n // self.min_repeats) + 1):
            span = max(self.min_span, period * self.min_repeats)
            if span > n:
                break
            periodic = (generated[:, n - span + period :] == generated[:, n - span : n - period]).all(-1)
            if not bool(periodic.any()):
                continue
            unit = generated[:, n - period :]
            exempt = torch.isin(unit, white).all(-1) if len(self.whitelist) else torch.zeros_like(periodic)
            hits = periodic & ~exempt & ~stop
            for row in hits.nonzero().flatten().tolist():
                if row not in self.reasons:
                    self.reasons[row] = (
                        f"runaway repetition: a {period}-token unit repeated {span // period} times; generation stopped"
                    )
            stop |= hits
        return stop
