"""The model shipped with lmad lives in ``default/`` (config.json + model.safetensors)."""
