"""GPU figures in /metrics: a named fake of torch.cuda stands in for the GPU this machine does not have."""

from __future__ import annotations

import sys
import types

from app.api.metrics import Metrics


class FakeCuda:
    """Two GPUs: 8 of 80 GiB and 2 of 40 GiB in use, 37% and 0% busy."""

    GIB = 1 << 30

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 2

    def mem_get_info(self, index: int) -> tuple[int, int]:
        return ((72, 80), (38, 40))[index][0] * self.GIB, ((72, 80), (38, 40))[index][1] * self.GIB

    def utilization(self, index: int) -> int:
        return (37, 0)[index]


def test_gpu_memory_and_utilisation_are_exported(monkeypatch):
    fake_torch = types.ModuleType("torch")
    fake_torch.cuda = FakeCuda()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    text = Metrics().render().decode()
    assert 'invoice_ocr_gpu_memory_used_bytes{gpu="0"} 8.589934592e+09' in text
    assert 'invoice_ocr_gpu_memory_total_bytes{gpu="1"} 4.294967296e+10' in text
    assert 'invoice_ocr_gpu_utilization_ratio{gpu="0"} 0.37' in text


def test_no_gpu_figures_without_cuda(monkeypatch):
    fake_torch = types.ModuleType("torch")
    fake_torch.cuda = types.SimpleNamespace(is_available=lambda: False)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    assert "invoice_ocr_gpu" not in Metrics().render().decode()
