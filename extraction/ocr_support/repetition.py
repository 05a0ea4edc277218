"""Repetition guards for DeepSeek decoding with transformers' generate (imports torch: load lazily).

`NoRepeatNGram` is the windowed no-repeat n-gram rule of DeepSeek-OCR's own decoding (an n-gram may
not repeat within the last `window` generated tokens; whitelisted tokens such as `<td>` `</td>` may).
`LoopStop` stops a sequence whose generated tail is one unit repeated over and over, which catches the
loops the n-gram rule lets through (units longer than the window) and records why it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from transformers import LogitsProcessor, StoppingCriteria


class NoRepeatNGram(LogitsProcessor):
    """Bans the token that would repeat an n-gram seen within the last `window` generated tokens."""

    def __init__(self, prompt_len: int, ngram_size: int, window: int, whitelist: Iterable[int] = ()) -> None:
        self.prompt_len = prompt_len
        self.ngram_size = ngram_size
        self.window = window
        self.whitelist = sorted(set(whitelist))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
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
        exempt: Callable[[list[int]], bool] | None = None,
    ) -> None:
        self.prompt_len = prompt_len
        self.exempt = exempt  # says whether a repeated unit may repeat (e.g. it decodes to empty table cells)
        self.max_period = max_period
        self.min_span = min_span
        self.min_repeats = min_repeats
        self.check_every = check_every
        self.whitelist = sorted(set(whitelist))
        self.reasons: dict[int, str] = {}

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor | None, **kwargs: object) -> torch.Tensor:
        """True for rows that just fell into a loop (all periods checked at once: one sync per check)."""
        generated = input_ids[:, self.prompt_len :]
        batch, n = generated.shape
        device = input_ids.device
        stop = torch.zeros(batch, dtype=torch.bool, device=device)
        top = min(self.max_period, n // self.min_repeats)
        if n < self.min_span or n % self.check_every or top < 1:
            return stop
        periods = torch.arange(1, top + 1, device=device)
        # Tokens each period must repeat over: max(min_span, min_repeats * period), minus the first unit.
        need = torch.clamp(periods * self.min_repeats, min=self.min_span) - periods
        length = min(n, int(need.max()) + top)
        x = generated[:, n - length :].flip(-1).to(torch.int32)  # x[:, j] is the j-th token from the end
        back = torch.arange(length, device=device)[None, :] + periods[:, None]  # index of the token one unit back
        valid = back < length
        earlier = x[:, back.clamp(max=length - 1)]  # batch x periods x length
        same = (earlier == x[:, None, :]) & valid
        run = same.to(torch.int32).cumprod(-1).sum(-1)  # trailing positions equal to the token one unit back
        periodic = run >= need[None, :]
        if self.whitelist:
            white = torch.isin(x, torch.tensor(self.whitelist, dtype=x.dtype, device=device))
            white_run = white.to(torch.int32).cumprod(-1).sum(-1)  # trailing whitelisted tokens
            periodic &= white_run[:, None] < periods[None, :]  # a unit of only whitelisted tokens may repeat
        hits = periodic.any(-1)
        if not bool(hits.any()):
            return stop
        first = periodic.to(torch.int8).argmax(-1)
        for row in hits.nonzero().flatten().tolist():
            period = int(periods[first[row]])
            if self.exempt is not None and self.exempt(generated[row, n - period :].tolist()):
                hits[row] = False
                continue
            span = max(self.min_span, period * self.min_repeats)
            self.reasons.setdefault(
                row, f"runaway repetition: a {period}-token unit repeated {span // period} times; generation stopped"
            )
        return hits
