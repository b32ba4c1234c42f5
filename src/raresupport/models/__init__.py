"""Model loading: any HF id or local directory, the embedded SmolLM2, tiny test models."""
