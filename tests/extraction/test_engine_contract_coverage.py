"""Every registered engine's tests inherit the engine contract."""

from __future__ import annotations

import importlib

from extraction.engines.registry import engine_names
from tests.extraction.engine_contract import EngineContract, FailedPagesContract

ENGINE_TEST_MODULES = ("test_engines_cpu", "test_deepseek", "test_vllm", "test_deepseek_legacy")


def _contract_classes() -> list[type[EngineContract]]:
    for module in ENGINE_TEST_MODULES:
        importlib.import_module(f"tests.extraction.{module}")
    found, todo = [], list(EngineContract.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__name__.startswith("Test"):
            found.append(cls)
    return found


def test_every_registered_engine_has_a_contract_class() -> None:
    assert sorted(cls.name for cls in _contract_classes()) == sorted(engine_names())


def test_engines_that_can_fail_a_page_promise_to_report_it() -> None:
    reporting = {cls.name for cls in _contract_classes() if issubclass(cls, FailedPagesContract)}
    assert reporting == {"auto", "deepseek", "vllm", "deepseek-legacy"}
