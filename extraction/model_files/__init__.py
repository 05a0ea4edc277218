"""Local model folders for the GPU engines: what a folder holds (`folder`), which engine can use it
(`check`), and the offline conversion of DeepSeek-OCR-2 to transformers' native layout (`convert`);
the `invoice-ocr models check|convert` commands run these."""
