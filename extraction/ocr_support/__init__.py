"""What the OCR engines use but that is not an engine: word layout, DeepSeek's grounded output, repetition
guards, remembered load failures, and how each vLLM-served model is prompted and its servers checked."""
