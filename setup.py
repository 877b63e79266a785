from setuptools import setup

# Dataflow and other remote runners install the project on workers from this file (--setup_file ./setup.py);
# everything else is in pyproject.toml.
setup()
