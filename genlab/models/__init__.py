"""The model families: one base class (base.py), one weight average (ema.py), one file or
folder per family. genlab.registry lists them."""
