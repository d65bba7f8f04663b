"""Memory in the prompt: the memory_context document as models, the system-prompt block rendered from it with a
short reference per item, explanations of suggestions from those references, and the chat path to Claude.

Every SQL call of this package is in `calls.py`, so that moving to the shared client seam is one edit."""
