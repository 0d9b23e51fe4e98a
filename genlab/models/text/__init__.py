"""Character-level language models: GPT, LSTM and their generation loop."""
